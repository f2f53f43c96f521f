"""Patch gathering: VolumeStack (torch) and gather_numpy (memmaps) against slice-by-slice extraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from crossmodal.errors import InputError
from crossmodal.gather import MappedVolumes, VolumeStack, gather_numpy, open_patch_source

P = 5
H = P // 2
SHAPES = [(9, 7, 6), (6, 11, 8), (7, 5, 12)]  # different shapes: different strides per scan


def make_volumes(m: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.standard_normal((m,) + s).astype(np.float32) for s in SHAPES]


def make_batch(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    scan_index = rng.integers(0, len(SHAPES), n)
    centres = np.stack(
        [rng.integers(H, np.array(SHAPES)[scan_index, d] - H) for d in range(3)], axis=1
    )
    # the extreme corners of every volume are legal centres too
    for s, shape in enumerate(SHAPES):
        scan_index = np.append(scan_index, [s, s])
        centres = np.vstack([centres, [H, H, H], [n_ - 1 - H for n_ in shape]])
    return scan_index, centres.astype(np.int16)


def reference(volumes, scan_index, centres) -> np.ndarray:
    """Slow extraction, one patch at a time with plain slices."""
    out = []
    for s, (x, y, z) in zip(scan_index, centres.astype(int)):
        out.append(volumes[s][:, x - H : x + H + 1, y - H : y + H + 1, z - H : z + H + 1])
    return np.stack(out)


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


def test_gather_numpy_on_memmaps_equals_reference(tmp_path):
    volumes = make_volumes(m=3)
    for i, v in enumerate(volumes):
        np.save(tmp_path / f"s{i}.npy", v)
    memmaps = [np.load(tmp_path / f"s{i}.npy", mmap_mode="r") for i in range(len(volumes))]
    scan_index, centres = make_batch()
    patches = gather_numpy(memmaps, scan_index, centres, P)
    assert patches.dtype == np.float32 and patches.shape == (len(scan_index), 3, P, P, P)
    np.testing.assert_array_equal(patches, reference(volumes, scan_index, centres))


def test_from_dir_reads_patch_size_and_keeps_given_order(tmp_path):
    volumes = make_volumes()
    for name, v in zip(["a", "b", "c"], volumes):
        np.save(tmp_path / f"{name}.npy", v)
    pd.DataFrame({"scan_id": ["a", "b", "c"], "patch_size": [P] * 3}).to_csv(
        tmp_path / "index.tsv", sep="\t", index=False
    )
    stack = VolumeStack.from_dir(tmp_path, ["c", "a"], "cpu")
    assert stack.patch_size == P and stack.scan_ids == ["c", "a"] and len(stack) == 2
    patches = stack.gather(np.array([0, 1]), np.array([[3, 2, 5], [4, 3, 2]]))
    np.testing.assert_array_equal(patches[0].numpy(), volumes[2][:, 1:6, 0:5, 3:8])
    np.testing.assert_array_equal(patches[1].numpy(), volumes[0][:, 2:7, 1:6, 0:5])
    with pytest.raises(InputError, match="scan 'zz'"):
        VolumeStack.from_dir(tmp_path, ["zz"], "cpu")


def _write_dir(tmp_path, patch_size=P):
    volumes = make_volumes()
    for name, v in zip(["a", "b", "c"], volumes):
        np.save(tmp_path / f"{name}.npy", v)
    pd.DataFrame({"scan_id": ["a", "b", "c"], "patch_size": [patch_size] * 3}).to_csv(
        tmp_path / "index.tsv", sep="\t", index=False
    )
    return volumes


def test_open_patch_source_memory_maps_on_the_cpu_without_copying(tmp_path):
    volumes = _write_dir(tmp_path)
    source = open_patch_source(tmp_path, ["c", "a"], "cpu", P)
    assert isinstance(source, MappedVolumes) and source.scan_ids == ["c", "a"] and len(source) == 2
    assert all(isinstance(v, np.memmap) for v in source.volumes)  # read in place, nothing loaded
    patches = source.gather(torch.tensor([0, 1]), torch.tensor([[3, 2, 5], [4, 3, 2]]))
    assert isinstance(patches, torch.Tensor) and patches.dtype == torch.float32
    np.testing.assert_array_equal(patches[0].numpy(), volumes[2][:, 1:6, 0:5, 3:8])
    np.testing.assert_array_equal(patches[1].numpy(), volumes[0][:, 2:7, 1:6, 0:5])


def test_mapped_volumes_and_volume_stack_gather_the_same_patches():
    volumes = make_volumes(m=3)
    scan_index, centres = make_batch()
    mapped = MappedVolumes(volumes, P, ["a", "b", "c"]).gather(scan_index, centres)
    stacked = VolumeStack(volumes, P, "cpu", ["a", "b", "c"]).gather(scan_index, centres)
    assert torch.equal(mapped, stacked)


def test_open_patch_source_checks_the_patch_size_and_the_files(tmp_path):
    _write_dir(tmp_path, patch_size=7)
    with pytest.raises(InputError, match=r"prepared for 7\^3 patches but the network uses 5\^3"):
        open_patch_source(tmp_path, ["a"], "cpu", P)
    with pytest.raises(InputError, match="scan 'zz' not found"):
        open_patch_source(tmp_path, ["zz"], "cpu", 7)
    with pytest.raises(InputError, match="smaller than a 11\\^3 patch"):
        MappedVolumes(make_volumes(), 11, ["a", "b", "c"])


def test_out_of_range_centres_are_errors():
    volumes = make_volumes()
    stack = VolumeStack(volumes, P, "cpu")
    # scan 1 is 6 voxels along x: centres 2..3 fit, 4 does not
    with pytest.raises(InputError, match="closer than 2 voxels"):
        stack.gather(np.array([1]), np.array([[4, 5, 4]]), check=True)
    with pytest.raises(InputError, match="closer than 2 voxels"):
        gather_numpy(volumes, np.array([0]), np.array([[1, 3, 3]]), P)
    with pytest.raises(InputError, match="outside the 3 volumes"):
        gather_numpy(volumes, np.array([3]), np.array([[3, 3, 3]]), P)


def test_mismatched_modalities_are_errors():
    volumes = make_volumes()
    volumes[1] = volumes[1][:1]
    with pytest.raises(InputError, match="scan '1'"):
        VolumeStack(volumes, P, "cpu")
    with pytest.raises(InputError, match="same M"):
        gather_numpy(volumes, np.array([0]), np.array([[3, 3, 3]]), P)
