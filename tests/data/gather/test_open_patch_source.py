"""open_patch_source (crossmodal.data.gather): memory maps on the CPU, and the checks of the volumes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gather_fixtures import P, write_dir

from crossmodal.common.errors import InputError
from crossmodal.data.gather import open_patch_source
from crossmodal.data.gather.mapped_volumes import MappedVolumes


def test_open_patch_source_memory_maps_on_the_cpu_without_copying(tmp_path):
    volumes = write_dir(tmp_path)
    source = open_patch_source(tmp_path, ["c", "a"], "cpu", P)
    assert isinstance(source, MappedVolumes) and source.scan_ids == ["c", "a"] and len(source) == 2
    assert all(isinstance(v, np.memmap) for v in source.volumes)  # read in place, nothing loaded
    patches = source.gather(torch.tensor([0, 1]), torch.tensor([[3, 2, 5], [4, 3, 2]]))
    assert isinstance(patches, torch.Tensor) and patches.dtype == torch.float32
    np.testing.assert_array_equal(patches[0].numpy(), volumes[2][:, 1:6, 0:5, 3:8])
    np.testing.assert_array_equal(patches[1].numpy(), volumes[0][:, 2:7, 1:6, 0:5])


def test_open_patch_source_checks_the_patch_size_and_the_files(tmp_path):
    write_dir(tmp_path, patch_size=7)
    with pytest.raises(InputError, match=r"prepared for 7\^3 patches but the network uses 5\^3"):
        open_patch_source(tmp_path, ["a"], "cpu", P)
    with pytest.raises(InputError, match="scan 'zz' not found"):
        open_patch_source(tmp_path, ["zz"], "cpu", 7)
