import numpy as np
import pandas as pd
import pytest

from crossmodal.figures.fig7_data import COLUMNS, average_curves, fig7_data, sorted_ncc


def test_sorted_ncc_orders_high_to_low():
    x = np.arange(10.0)
    rng = np.random.default_rng(0)
    # features: identical (1), negated (-1), partly related
    a = np.column_stack([x, x, x + rng.normal(0, 3, 10)])
    b = np.column_stack([-x, x, x])
    curve = sorted_ncc(np.stack([a, b]))
    assert curve[0] == pytest.approx(1.0) and curve[-1] == pytest.approx(-1.0)
    assert 0 < curve[1] < 0.99


def test_curves_are_averaged_per_rank_over_folds():
    table = average_curves([np.array([0.9, 0.5, np.nan]), np.array([0.7, 0.3, 0.1])])
    np.testing.assert_allclose(table["ncc"], [0.8, 0.4, 0.1])
    np.testing.assert_allclose(table["ncc_sd"][:2], [np.sqrt(0.02), np.sqrt(0.02)])
    assert np.isnan(table["ncc_sd"][2])
    assert table["n_folds"].tolist() == [2, 2, 1]
    assert table["rank"].tolist() == [1, 2, 3]


def test_fig7_data_one_curve_per_model(feature_tree, tmp_path):
    out = tmp_path / "fig7.tsv"
    table = fig7_data(feature_tree["files"], out, dataset="demo", modalities=["normal", "fatsup"],
                      models=feature_tree["models"], folds=[0, 1])
    assert list(pd.read_csv(out, sep="\t").columns) == COLUMNS
    assert len(table) == 8 * 8
    for _, curve in table.groupby("model"):
        assert (np.diff(curve.sort_values("rank")["ncc"]) <= 1e-12).all()
    assert (table["n_folds"] == 2).all()
