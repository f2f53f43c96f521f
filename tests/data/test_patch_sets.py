"""load_patch_set: per-fold train/test patch lists assembled from folds.tsv and per-scan centres."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.data.patch_sets import PatchSet, load_patch_set

SCANS = {  # scan -> (subject, fold, cropped shape)
    "s1": ("p1", 1, (10, 10, 10)),
    "s2": ("p2", 0, (12, 10, 9)),
    "s3": ("p1", 1, (10, 11, 10)),
    "s4": ("p3", 0, (9, 9, 9)),
}


def write_inputs(tmp_path, patch_size: int = 5):
    vol, pat = tmp_path / "volumes", tmp_path / "patches"
    vol.mkdir()
    pat.mkdir()
    rows = []
    for i, (scan, (subject, fold, shape)) in enumerate(SCANS.items()):
        rows.append({"scan_id": scan, "subject_id": subject, "shape_x": shape[0],
                     "shape_y": shape[1], "shape_z": shape[2], "patch_size": patch_size})
        centres = np.array([[2, 2, 2 + i], [shape[0] - 3, 4, 5], [3, 3, 3]], dtype=np.int16)
        np.savez(pat / f"{scan}.npz", centres=centres, labels=np.array([0, 1, 2 - i % 2], np.uint8))
    pd.DataFrame(rows).to_csv(vol / "index.tsv", sep="\t", index=False)
    folds = pd.DataFrame(
        [(s, sub, f, 0) for s, (sub, f, _) in SCANS.items()],
        columns=["scan_id", "subject_id", "fold", "half"],
    )
    folds.to_csv(tmp_path / "folds.tsv", sep="\t", index=False)
    return vol, pat, tmp_path / "folds.tsv"


def test_train_and_test_sets_follow_folds_order(tmp_path):
    vol, pat, folds = write_inputs(tmp_path)
    train = load_patch_set(vol, pat, folds, 0, "train")
    assert isinstance(train, PatchSet)
    assert train.scan_ids == ["s1", "s3"]
    assert len(train) == 6
    np.testing.assert_array_equal(train.scan_index, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(
        train.centres, [[2, 2, 2], [7, 4, 5], [3, 3, 3], [2, 2, 4], [7, 4, 5], [3, 3, 3]]
    )
    np.testing.assert_array_equal(train.labels, [0, 1, 2, 0, 1, 2])
    assert train.centres.dtype == np.int64 and train.labels.dtype == np.int64
    assert train.scan_index.dtype == np.int64

    test = load_patch_set(vol, pat, folds, 0, "test")
    assert test.scan_ids == ["s2", "s4"]
    np.testing.assert_array_equal(test.centres[:3], [[2, 2, 3], [9, 4, 5], [3, 3, 3]])
    np.testing.assert_array_equal(test.labels, [0, 1, 1, 0, 1, 1])
    # the two splits of a fold partition all scans
    assert sorted(train.scan_ids + test.scan_ids) == sorted(SCANS)


def test_bad_arguments_and_inputs_are_errors(tmp_path):
    vol, pat, folds = write_inputs(tmp_path)
    with pytest.raises(InputError, match="split"):
        load_patch_set(vol, pat, folds, 0, "validation")
    with pytest.raises(InputError, match="no fold 2"):
        load_patch_set(vol, pat, folds, 2, "test")
    (pat / "s4.npz").unlink()
    with pytest.raises(InputError, match="scan 's4'"):
        load_patch_set(vol, pat, folds, 0, "test")


def test_centre_too_close_to_border_is_an_error(tmp_path):
    # with patch size 7 the centre [2, 2, 2] of s1 leaves no room for a 3-voxel half patch
    vol, pat, folds = write_inputs(tmp_path, patch_size=7)
    with pytest.raises(InputError, match=r"s1\.npz: .*closer than 3 voxels"):
        load_patch_set(vol, pat, folds, 0, "train")
