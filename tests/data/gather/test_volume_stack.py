"""VolumeStack (torch) against slice-by-slice extraction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gather_fixtures import P, make_batch, make_volumes, reference, write_dir

from crossmodal.common.errors import InputError
from crossmodal.data.gather.volume_stack import VolumeStack


def test_volume_stack_equals_reference_on_mixed_scans():
    volumes = make_volumes()
    scan_index, centres = make_batch()
    stack = VolumeStack(volumes, P, "cpu")
    patches = stack.gather(scan_index, centres)
    assert patches.shape == (len(scan_index), 2, P, P, P)
    assert patches.dtype == torch.float32
    np.testing.assert_array_equal(patches.numpy(), reference(volumes, scan_index, centres))
    # tensors as indices, and writing into a given buffer, give the same
    out = torch.empty_like(patches)
    again = stack.gather(torch.from_numpy(scan_index), torch.from_numpy(centres.astype(np.int64)), out=out)
    assert again is out
    np.testing.assert_array_equal(out.numpy(), patches.numpy())


def test_from_dir_reads_patch_size_and_keeps_given_order(tmp_path):
    volumes = write_dir(tmp_path)
    stack = VolumeStack.from_dir(tmp_path, ["c", "a"], "cpu")
    assert stack.patch_size == P and stack.scan_ids == ["c", "a"] and len(stack) == 2
    patches = stack.gather(np.array([0, 1]), np.array([[3, 2, 5], [4, 3, 2]]))
    np.testing.assert_array_equal(patches[0].numpy(), volumes[2][:, 1:6, 0:5, 3:8])
    np.testing.assert_array_equal(patches[1].numpy(), volumes[0][:, 2:7, 1:6, 0:5])
    with pytest.raises(InputError, match="scan 'zz'"):
        VolumeStack.from_dir(tmp_path, ["zz"], "cpu")


def test_out_of_range_centres_are_errors_when_checked():
    stack = VolumeStack(make_volumes(), P, "cpu")
    # scan 1 is 6 voxels along x: centres 2..3 fit, 4 does not
    with pytest.raises(InputError, match="closer than 2 voxels"):
        stack.gather(np.array([1]), np.array([[4, 5, 4]]), check=True)


def test_mismatched_modalities_are_errors():
    volumes = make_volumes()
    volumes[1] = volumes[1][:1]
    with pytest.raises(InputError, match="scan '1'"):
        VolumeStack(volumes, P, "cpu")
