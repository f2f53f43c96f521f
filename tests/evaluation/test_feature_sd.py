"""Tests of crossmodal.evaluation.feature_sd on tiny hand-made features."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.common.errors import InputError
from crossmodal.evaluation.feature_sd import FEATURE_SD_COLUMNS, LOW_SD, feature_sd, read_feature_sd, sd_summary
from crossmodal.training.features import write_features


def test_sd_summary_per_modality():
    # [M=2, N=4, F=3]: modality a's features have SDs 1, 0 and 0.05; modality b's 2, 0.5 and 0
    a = np.array([[1, 5, 0.05], [-1, 5, -0.05], [1, 5, 0.05], [-1, 5, -0.05]])
    b = np.array([[2, 0.5, 3], [-2, -0.5, 3], [2, 0.5, 3], [-2, -0.5, 3]])
    table = sd_summary(np.stack([a, b]), ["a", "b"])
    assert table["modality"].tolist() == ["a", "b"]
    np.testing.assert_allclose(table["sd_mean"], [1.05 / 3, 2.5 / 3])
    np.testing.assert_allclose(table["sd_median"], [0.05, 0.5])
    # below LOW_SD = 0.1: two of a's features, one of b's
    assert LOW_SD == 0.1
    np.testing.assert_allclose(table["low_sd_share"], [2 / 3, 1 / 3])
    with pytest.raises(ValueError, match="for 3 modalities"):
        sd_summary(np.stack([a, b]), ["a", "b", "c"])


def test_feature_sd_writes_one_row_per_modality(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "fold1.npz"
    test = rng.standard_normal((2, 6, 4)).astype(np.float32)
    write_features(path, ["t1", "t2"], train_features=rng.standard_normal((2, 9, 4)), test_features=test,
                   train_labels=np.zeros(9), test_labels=np.zeros(6), train_scans=np.array(["s"] * 9),
                   test_scans=np.array(["u"] * 6))  # fmt: skip
    out = tmp_path / "feature_sd" / "fold1.tsv"
    written = feature_sd(path, out, dataset="knee", model="axial-md0-pfn0-a0.1", fold=1, modalities=["t1", "t2"])
    table = read_feature_sd(out)
    assert list(table.columns) == FEATURE_SD_COLUMNS
    assert table[["dataset", "model", "fold", "modality", "train_patches", "test_patches"]].values.tolist() == [
        ["knee", "axial-md0-pfn0-a0.1", 1, "t1", 9, 6], ["knee", "axial-md0-pfn0-a0.1", 1, "t2", 9, 6]]
    np.testing.assert_allclose(table["sd_median"], np.median(test.astype(np.float64).std(axis=1), axis=1), rtol=1e-6)
    np.testing.assert_allclose(written["sd_mean"], table["sd_mean"])
    with pytest.raises(InputError, match="modalities .* differ from the configured"):
        feature_sd(path, tmp_path / "x.tsv", dataset="knee", model="m", fold=1, modalities=["t2", "t1"])
    assert not (tmp_path / "x.tsv").exists()
    with pytest.raises(InputError, match="x.tsv not found; run the feature_sd job"):
        read_feature_sd(tmp_path / "x.tsv")
