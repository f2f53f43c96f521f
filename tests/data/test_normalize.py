"""Normalization within the mask, mask rules, label mapping, cropping and the volumes/ output."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from crossmodal.common.errors import InputError
from crossmodal.data.normalize import (
    bounding_box,
    dilate,
    map_labels,
    normalization_mask,
    normalize_dataset,
    normalize_within,
)
from crossmodal.data.volumes import read_volume_index

CLASSES = [
    {"name": "background", "values": [0]},
    {"name": "cartilage", "values": [1, 2]},
    {"name": "meniscus", "values": [3]},
]


def test_dilation_is_a_euclidean_ball_in_voxels():
    fg = np.zeros((11, 11, 11), bool)
    fg[5, 5, 5] = True
    mask = dilate(fg, 3)
    assert mask.sum() == 123  # lattice points with x^2 + y^2 + z^2 <= 9
    assert mask[8, 5, 5] and mask[7, 7, 4] and not mask[9, 5, 5] and not mask[7, 7, 7]
    ball = np.sum(np.square(np.mgrid[-3:4, -3:4, -3:4]), axis=0) <= 9
    np.testing.assert_array_equal(mask, ndimage.binary_dilation(fg, structure=ball))
    # a foreground at the border: the ball is clipped, nothing wraps around
    fg2 = np.zeros((6, 6, 6), bool)
    fg2[0, 0, 0] = True
    assert dilate(fg2, 2).sum() == 11 and not dilate(fg2, 2)[5, 0, 0]
    np.testing.assert_array_equal(dilate(fg, 0), fg)
    assert not dilate(np.zeros((4, 4, 4), bool), 3).any()


def test_bounding_box_grows_and_clips():
    mask = np.zeros((10, 8, 6), bool)
    mask[1, 3:5, 4] = True
    assert bounding_box(mask, 2) == (slice(0, 4), slice(1, 7), slice(2, 6))
    assert bounding_box(np.zeros((3, 3, 3), bool)) is None


def test_map_labels_maps_raw_values_and_rejects_unknown_ones():
    raw = np.array([[[0.0, 1.0, 2.0, 3.0]]], dtype=np.float32)
    out = map_labels(raw, CLASSES, "scan k1")
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[[0, 1, 1, 2]]])
    with pytest.raises(InputError, match=r"scan k1: label values \[5\]"):
        map_labels(np.array([[[0.0, 5.0]]]), CLASSES, "scan k1")


def test_mask_rules():
    images = np.zeros((2, 5, 5, 5), np.float32)
    images[0, 1, 1, 1] = 3.0
    images[1, 2, 2, 2] = -1.0
    labels = np.zeros((5, 5, 5), np.uint8)
    labels[2, 2, 2] = 2
    nonzero = normalization_mask(images, labels, "nonzero")
    assert nonzero.sum() == 2 and nonzero[1, 1, 1] and nonzero[2, 2, 2]
    dilated = normalization_mask(images, labels, "dilated_labels", 1)
    assert dilated.sum() == 7  # the voxel and its 6 face neighbours
    given = np.zeros((5, 5, 5), np.int16)
    given[0, :2, :] = 1
    np.testing.assert_array_equal(normalization_mask(images, labels, "file", mask_file=given), given == 1)


def test_normalize_within_gives_zero_mean_unit_sd_inside_mask():
    rng = np.random.default_rng(0)
    images = (rng.standard_normal((2, 6, 7, 8)) * [[[[5.0]]], [[[0.2]]]] + [[[[100.0]]], [[[-3.0]]]]).astype(np.float32)
    mask = rng.random((6, 7, 8)) > 0.5
    out, means, sds = normalize_within(images, mask, ["a", "b"], "scan x")
    assert out.dtype == np.float32
    for m in range(2):
        assert abs(out[m][mask].astype(np.float64).mean()) < 1e-5
        assert abs(out[m][mask].astype(np.float64).std() - 1) < 1e-5
        assert means[m] == pytest.approx(images[m][mask].astype(np.float64).mean(), rel=1e-12)
    images[1][mask] = 7.0
    with pytest.raises(InputError, match="scan x, modality 'b': intensity is constant"):
        normalize_within(images, mask, ["a", "b"], "scan x")


def _nifti(path, data):
    nib.save(nib.Nifti1Image(np.asarray(data), np.diag([0.5, 0.5, 1.0, 1.0])), str(path))
    return str(path)


def _manifest(tmp_path, rows):
    table = pd.DataFrame(rows)
    table["shape"] = "20,18,16"
    table["spacing"] = "0.5,0.5,1"
    path = tmp_path / "manifest.tsv"
    table.to_csv(path, sep="\t", index=False)
    return path


def test_normalize_dataset_knee_like(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for scan, centre in [("k1", (6, 7, 8)), ("k2", (1, 16, 8))]:
        raw = np.zeros((20, 18, 16), np.int16)
        raw[centre] = 1
        raw[centre[0], centre[1] - 1, centre[2]] = 3
        row = {"scan_id": scan, "subject_id": "p" + scan}
        for m, scale in [("normal", 10.0), ("fatsup", 2.0)]:
            row[f"image_{m}"] = _nifti(tmp_path / f"{scan}_{m}.nii.gz", (rng.random((20, 18, 16)) * scale).astype(np.float32))
            row[f"channel_{m}"] = -1
        row["label"] = _nifti(tmp_path / f"{scan}_label.nii.gz", raw)
        row["mask"] = "rule:dilated_labels"
        rows.append(row)
    dataset = {"modalities": ["normal", "fatsup"], "classes": CLASSES,
               "mask": {"rule": "dilated_labels", "dilation_voxels": 2}, "patch_size": 5}
    out = tmp_path / "volumes"
    normalize_dataset(_manifest(tmp_path, rows), out, **dataset, name="knee")

    index = read_volume_index(out)
    assert index["scan_id"].tolist() == ["k1", "k2"]
    # k1: mask box x 4..8, y 4..9, z 6..10, grown by 2 -> origin (2, 2, 4), shape (9, 10, 9)
    # k2: x -1..3 -> 0..5 clipped, y 13..18 -> 11..18 clipped, z 4..12
    assert index[["origin_x", "origin_y", "origin_z"]].values.tolist() == [[2, 2, 4], [0, 11, 4]]
    assert index[["shape_x", "shape_y", "shape_z"]].values.tolist() == [[9, 10, 9], [6, 7, 9]]
    assert index["patch_size"].tolist() == [5, 5]
    # two radius-2 balls (33 voxels each) one voxel apart share 20 voxels: 33 + 33 - 20
    assert index["mask_voxels"].tolist()[0] == 46

    volume = np.load(out / "k1.npy", mmap_mode="r")
    labels = np.load(out / "k1.labels.npy")
    mask = np.load(out / "k1.mask.npy")
    assert volume.dtype == np.float32 and volume.shape == (2, 9, 10, 9)
    assert labels.dtype == np.uint8 and mask.dtype == bool and labels.shape == mask.shape == (9, 10, 9)
    assert labels[4, 5, 4] == 1 and labels[4, 4, 4] == 2 and labels.sum() == 3
    assert np.isfinite(volume).all()
    for m in range(2):
        inside = volume[m][mask].astype(np.float64)
        assert abs(inside.mean()) < 1e-5 and abs(inside.std() - 1) < 1e-5
    original = nib.load(rows[0]["image_normal"]).get_fdata()[2:11, 2:12, 4:13]
    expected = (original - index["mean_normal"][0]) / index["sd_normal"][0]
    np.testing.assert_allclose(volume[0], expected, atol=1e-5)


def test_normalize_dataset_brain_like_4d_file_and_errors(tmp_path):
    rng = np.random.default_rng(2)
    data = np.zeros((20, 18, 16, 2), np.float32)
    data[3:15, 4:12, 2:10] = rng.random((12, 8, 8, 2)) + 1
    row = {"scan_id": "b1", "subject_id": "b1"}
    path = _nifti(tmp_path / "b1.nii.gz", data)
    for c, m in enumerate(["t1", "t2"]):
        row[f"image_{m}"] = path
        row[f"channel_{m}"] = c
    labels = np.zeros((20, 18, 16), np.uint8)
    labels[5:7, 5:7, 5:7] = 4
    row["label"] = _nifti(tmp_path / "b1_label.nii.gz", labels)
    row["mask"] = "rule:nonzero"
    classes = [{"name": "brain", "values": [0]}, {"name": "tumour", "values": [1, 2, 4]}]
    dataset = {"modalities": ["t1", "t2"], "classes": classes, "mask": {"rule": "nonzero"}, "patch_size": 3}
    normalize_dataset(_manifest(tmp_path, [row]), tmp_path / "v", **dataset, name="brain")
    index = read_volume_index(tmp_path / "v")
    assert index.loc[0, ["origin_x", "origin_y", "origin_z", "shape_x", "shape_y", "shape_z"]].tolist() == [2, 3, 1, 14, 10, 10]
    assert index.loc[0, "mask_voxels"] == 12 * 8 * 8
    volume = np.load(tmp_path / "v" / "b1.npy")
    np.testing.assert_allclose(volume[1, 1:13, 1:9, 1:9].mean(), 0, atol=1e-5)
    assert np.load(tmp_path / "v" / "b1.labels.npy").sum() == 8
    # patch_size is not read by ingest, so normalize checks again that the patch fits the scan
    with pytest.raises(InputError, match=r"^dataset brain, scan 'b1': the patch \(17 voxels a side, "
                       r"datasets\.brain\.patch_size\) is larger than the scan, whose grid is \(20, 18, 16\) voxels "
                       r"\(z 16\); lower datasets\.brain\.patch_size to at most 15"):
        normalize_dataset(_manifest(tmp_path, [row]), tmp_path / "v17", **{**dataset, "patch_size": 17}, name="brain")

    data[3:15, 4:12, 2:10, 1] = 5.0  # constant second modality inside the mask
    _nifti(tmp_path / "b1.nii.gz", data)
    with pytest.raises(InputError, match="dataset brain, scan 'b1', modality 't2'"):
        normalize_dataset(_manifest(tmp_path, [row]), tmp_path / "v2", **dataset, name="brain")
