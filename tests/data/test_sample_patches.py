"""Class-balanced centre sampling: counts, regions, borders, seeding, errors, replacement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed
from crossmodal.data.sample_patches import check_patch_fits, eligible_region, read_patches, sample_centres, sample_dataset

NAMES = ["background", "cartilage", "meniscus"]


def tiny_scan():
    """12^3 volume: mask = a slab, class 1 a plane inside it, class 2 a short rod, both partly at the border."""
    labels = np.zeros((12, 12, 12), np.uint8)
    mask = np.zeros((12, 12, 12), bool)
    mask[:, :, 2:10] = True
    labels[:, :, 5] = 1
    labels[0:4, 6, 7] = 2  # x = 0, 1 are too close to the border for patch size 5
    return labels, mask


def test_balanced_centres_in_the_right_region():
    labels, mask = tiny_scan()
    centres, classes = sample_centres(labels, mask, NAMES, 2, 5, seed=7, where="scan s1")
    assert centres.dtype == np.int16 and classes.dtype == np.uint8
    assert centres.shape == (6, 3)
    np.testing.assert_array_equal(classes, [0, 0, 1, 1, 2, 2])
    x, y, z = centres.T.astype(int)
    np.testing.assert_array_equal(labels[x, y, z], classes)  # label of the centre voxel
    assert mask[x, y, z].all()
    assert ((centres >= 2) & (centres <= 9)).all()  # a 5^3 patch always fits in 12^3
    np.testing.assert_array_equal(centres[4:], [[2, 6, 7], [3, 6, 7]])  # the only eligible rod voxels
    assert len({tuple(c) for c in centres}) == 6  # without replacement
    again = sample_centres(labels, mask, NAMES, 2, 5, seed=7)
    np.testing.assert_array_equal(again[0], centres)
    other = sample_centres(labels, mask, NAMES, 2, 5, seed=8)
    assert not np.array_equal(other[0][:4], centres[:4])


def test_eligible_region_keeps_half_a_patch_from_borders():
    region = eligible_region(np.ones((7, 8, 9), bool), 5)
    assert region.sum() == 3 * 4 * 5 and region[2, 2, 2] and region[4, 5, 6] and not region[1, 4, 4]


def test_a_patch_larger_than_the_scan_gives_both_sizes_and_the_largest_that_fits():
    check_patch_fits((40, 40, 32), 31, "scan a", "datasets.d.patch_size")
    check_patch_fits((9, 9, 9), 9, "scan a", "datasets.d.patch_size")
    with pytest.raises(InputError, match=r"^scan a: the patch \(35 voxels a side, datasets\.d\.patch_size\) is "
                       r"larger than the scan, whose grid is \(40, 34, 32\) voxels \(y 34, z 32\); lower "
                       r"datasets\.d\.patch_size to at most 31 \(odd\), or leave the scan out$"):
        check_patch_fits((40, 34, 32), 35, "scan a", "datasets.d.patch_size")
    with pytest.raises(InputError, match=r"at most 11 \(odd\)"):
        check_patch_fits((12, 30, 30), 13, "scan a", "datasets.d.patch_size")


def test_too_few_voxels_names_scan_class_and_counts():
    labels, mask = tiny_scan()
    with pytest.raises(InputError, match=r"scan s1, class 'meniscus': 2 eligible voxels .*4 voxels of the class.* "
                       r"is 3; lower patches_per_class to at most 2, set sample_with_replacement: true"):
        sample_centres(labels, mask, NAMES, 3, 5, seed=0, where="scan s1")


def test_eligible_counts_on_the_raw_grid_equal_those_after_the_crop():
    """Ingest counts on the raw image what sampling counts on the cropped volume."""
    from crossmodal.data.normalize import bounding_box
    from crossmodal.data.sample_patches import eligible_counts

    labels, mask = tiny_scan()
    raw = eligible_counts(labels, mask, 3, 5)
    assert raw.tolist() == [8 * 8 * 8 - 64 - 2, 64, 2]  # x, y, z in 2..9 (the slab is z 2..9)
    box = bounding_box(mask, 5 // 2)
    assert eligible_counts(labels[box], mask[box], 3, 5).tolist() == raw.tolist()


def test_with_replacement_resamples_only_the_short_class():
    labels, mask = tiny_scan()
    centres, classes = sample_centres(labels, mask, NAMES, 5, 5, seed=0, with_replacement=True)
    np.testing.assert_array_equal(np.bincount(classes), [5, 5, 5])
    assert {tuple(c) for c in centres[10:]} == {(2, 6, 7), (3, 6, 7)}
    assert len({tuple(c) for c in centres[:10]}) == 10
    border_only = np.where((labels == 2) & (np.arange(12)[:, None, None] >= 2), 0, labels)
    with pytest.raises(InputError, match=r"class 'meniscus': 2 voxels of the class, but none of them in the "
                       r"sampling mask at least 2 voxels from the image border .*exclude the scan$"):
        sample_centres(border_only, mask, NAMES, 5, 5, seed=0, with_replacement=True)
    absent = np.where(labels == 2, 0, labels)
    with pytest.raises(InputError, match=r"class 'meniscus': no voxel of the class in this scan.*exclude the "
                       r"scan from the dataset or fix its label file$"):
        sample_centres(absent, mask, NAMES, 5, 5, seed=0, with_replacement=True)


def test_sample_dataset_writes_one_file_per_scan(tmp_path):
    labels, mask = tiny_scan()
    vol = tmp_path / "volumes"
    vol.mkdir()
    for scan in ["s1", "s2"]:
        np.save(vol / f"{scan}.labels.npy", labels)
        np.save(vol / f"{scan}.mask.npy", mask)
    pd.DataFrame({"scan_id": ["s1", "s2"], "patch_size": [5, 5]}).to_csv(vol / "index.tsv", sep="\t", index=False)
    dataset = {"class_names": NAMES, "patches_per_class": 2, "patch_size": 5, "seed": 3,
               "with_replacement": False}
    sample_dataset(vol, tmp_path / "patches", **dataset, name="demo")
    for scan in ["s1", "s2"]:
        centres, classes = read_patches(tmp_path / "patches", scan)
        expected = sample_centres(labels, mask, NAMES, 2, 5, seed=derive_seed(3, scan))
        np.testing.assert_array_equal(centres, expected[0])
        np.testing.assert_array_equal(classes, expected[1])
    with np.load(tmp_path / "patches" / "s1.npz") as data:
        assert sorted(data.files) == ["centres", "labels"]
    dataset["patch_size"] = 7
    with pytest.raises(InputError, match="re-run normalize"):
        sample_dataset(vol, tmp_path / "p2", **dataset, name="demo")
