"""gather_numpy and MappedVolumes (memory maps) against slice-by-slice extraction and VolumeStack."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gather_fixtures import P, make_batch, make_volumes, reference

from crossmodal.common.errors import InputError
from crossmodal.data.gather.mapped_volumes import MappedVolumes, gather_numpy
from crossmodal.data.gather.volume_stack import VolumeStack


def test_gather_numpy_on_memmaps_equals_reference(tmp_path):
    volumes = make_volumes(m=3)
    for i, v in enumerate(volumes):
        np.save(tmp_path / f"s{i}.npy", v)
    memmaps = [np.load(tmp_path / f"s{i}.npy", mmap_mode="r") for i in range(len(volumes))]
    scan_index, centres = make_batch()
    patches = gather_numpy(memmaps, scan_index, centres, P)
    assert patches.dtype == np.float32 and patches.shape == (len(scan_index), 3, P, P, P)
    np.testing.assert_array_equal(patches, reference(volumes, scan_index, centres))


def test_mapped_volumes_and_volume_stack_gather_the_same_patches():
    volumes = make_volumes(m=3)
    scan_index, centres = make_batch()
    mapped = MappedVolumes(volumes, P, ["a", "b", "c"]).gather(scan_index, centres)
    stacked = VolumeStack(volumes, P, "cpu", ["a", "b", "c"]).gather(scan_index, centres)
    assert torch.equal(mapped, stacked)


def test_out_of_range_centres_are_errors():
    volumes = make_volumes()
    with pytest.raises(InputError, match="closer than 2 voxels"):
        gather_numpy(volumes, np.array([0]), np.array([[1, 3, 3]]), P)
    with pytest.raises(InputError, match="outside the 3 volumes"):
        gather_numpy(volumes, np.array([3]), np.array([[3, 3, 3]]), P)


def test_mismatched_modalities_and_small_volumes_are_errors():
    volumes = make_volumes()
    with pytest.raises(InputError, match="smaller than a 11\\^3 patch"):
        MappedVolumes(volumes, 11, ["a", "b", "c"])
    volumes[1] = volumes[1][:1]
    with pytest.raises(InputError, match="same M"):
        gather_numpy(volumes, np.array([0]), np.array([[3, 3, 3]]), P)
