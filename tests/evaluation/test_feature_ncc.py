import numpy as np
import pytest
from feature_fixtures import make_features, make_folds

from crossmodal.common.errors import InputError
from crossmodal.evaluation.feature_ncc import FEATURE_NCC_COLUMNS, feature_ncc, read_feature_ncc, sorted_ncc
from crossmodal.evaluation.feature_stats import mean_pairwise_ncc

MODS = ["normal", "fatsup"]


def test_sorted_ncc_orders_high_to_low():
    x = np.arange(10.0)
    rng = np.random.default_rng(0)
    # features: identical (1), negated (-1), partly related
    a = np.column_stack([x, x, x + rng.normal(0, 3, 10)])
    b = np.column_stack([-x, x, x])
    curve = sorted_ncc(np.stack([a, b]))
    assert curve[0] == pytest.approx(1.0) and curve[-1] == pytest.approx(-1.0)
    assert 0 < curve[1] < 0.99


def test_a_constant_feature_sorts_last_as_undefined():
    x = np.arange(6.0)
    a = np.column_stack([x, np.ones(6), -x])
    b = np.column_stack([x, np.ones(6), x])
    curve = sorted_ncc(np.stack([a, b]))
    assert curve[:2] == pytest.approx([1.0, -1.0]) and np.isnan(curve[2])


def test_the_table_is_the_sorted_curve_of_the_test_features(tmp_path):
    folds = make_folds()
    features = tmp_path / "fold0.npz"
    arrays = make_features(folds, 0, seed=5)
    np.savez(features, **arrays)
    out = tmp_path / "out" / "fold0.tsv"
    table = feature_ncc(features, out, modalities=MODS)
    assert list(table.columns) == FEATURE_NCC_COLUMNS
    assert table["rank"].tolist() == list(range(1, 9))
    expected = np.sort(mean_pairwise_ncc(arrays["test_features"].astype(np.float64)))[::-1]
    np.testing.assert_allclose(table["ncc"].to_numpy(), expected, rtol=1e-12)
    # the file keeps every digit: Fig. 7 from the tables is Fig. 7 from the features
    np.testing.assert_array_equal(read_feature_ncc(out), table["ncc"].to_numpy())


def test_a_missing_table_says_which_rule_writes_it(tmp_path):
    with pytest.raises(InputError, match="run the feature_ncc job"):
        read_feature_ncc(tmp_path / "fold0.tsv")
