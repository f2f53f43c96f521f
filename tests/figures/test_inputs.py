import numpy as np
import pandas as pd
import pytest

from crossmodal.errors import InputError
from crossmodal.figures.inputs import (
    feature_files_by_model,
    load_features,
    model_columns,
    read_folds,
)

from figure_fixtures import make_features, make_folds


def write(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_load_features_reads_test_arrays_and_optionally_train(tmp_path):
    arrays = make_features(make_folds(), 0, seed=0)
    path = write(tmp_path / "fold0.npz", **arrays)
    features = load_features(path, ["normal", "fatsup"])
    assert features.train is None and features.test.shape == (2, 180, 8)
    np.testing.assert_array_equal(features.test_scans[:2], ["s0_0", "s0_0"])
    with_train = load_features(path, ["normal", "fatsup"], train=True)
    assert with_train.train.shape == (2, 180, 8)


def test_load_features_rejects_other_modalities_and_missing_keys(tmp_path):
    arrays = make_features(make_folds(), 0, seed=0)
    path = write(tmp_path / "fold0.npz", **arrays)
    with pytest.raises(InputError, match=r"modalities \['normal', 'fatsup'\] differ"):
        load_features(path, ["fatsup", "normal"])
    del arrays["test_scans"]
    bad = write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError, match="missing arrays \\['test_scans'\\]"):
        load_features(bad, ["normal", "fatsup"])


def test_load_features_rejects_non_finite_values(tmp_path):
    arrays = make_features(make_folds(), 0, seed=0)
    arrays["test_features"][1, 3, 2] = np.nan
    path = write(tmp_path / "fold0.npz", **arrays)
    with pytest.raises(InputError, match="non-finite test features"):
        load_features(path, ["normal", "fatsup"])


def test_feature_files_must_be_model_major():
    files = ["r/f/m1/fold0.npz", "r/f/m1/fold1.npz", "r/f/m2/fold0.npz", "r/f/m2/fold1.npz"]
    assert feature_files_by_model(files, ["m1", "m2"], [0, 1])["m2"][1] == "r/f/m2/fold1.npz"
    with pytest.raises(InputError, match="expected the features of m1 fold 1"):
        feature_files_by_model([files[0], files[2], files[1], files[3]], ["m1", "m2"], [0, 1])


def test_model_columns_parse_axial_ids_and_refuse_baselines():
    assert model_columns("axial-md1-pfn0-a0.2", ["a", "b"]) == {
        "modality_dropout": 1, "per_feature_norm": 0, "alpha": 0.2}
    with pytest.raises(InputError, match="not an axial network"):
        model_columns("baseline-all", ["a", "b"])


def test_read_folds_checks_columns(tmp_path):
    path = tmp_path / "folds.tsv"
    pd.DataFrame({"scan_id": ["a"], "subject_id": ["1"], "fold": [0]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match="lacks columns \\['half'\\]"):
        read_folds(path)


def test_read_folds_checks_halves(tmp_path):
    path = tmp_path / "folds.tsv"
    pd.DataFrame({"scan_id": ["a"], "subject_id": ["1"], "fold": [0], "half": [2]}).to_csv(
        path, sep="\t", index=False)
    with pytest.raises(InputError, match="half must be 0 or 1"):
        read_folds(path)
