import numpy as np
import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.evaluation.feature_ncc import feature_ncc
from crossmodal.figures.fig7_data import COLUMNS, average_curves, fig7_data

MODS = ["normal", "fatsup"]


def ncc_tables(feature_tree):
    """The feature_ncc table of every model and fold of the tree, model-major."""
    tables = []
    for model in feature_tree["models"]:
        for k in (0, 1):
            out = feature_tree["root"] / "feature_ncc" / model / f"fold{k}.tsv"
            feature_ncc(feature_tree["root"] / "features" / model / f"fold{k}.npz", out, modalities=MODS)
            tables.append(str(out))
    return tables


def test_curves_are_averaged_per_rank_over_folds():
    table = average_curves([np.array([0.9, 0.5, np.nan]), np.array([0.7, 0.3, 0.1])])
    np.testing.assert_allclose(table["ncc"], [0.8, 0.4, 0.1])
    np.testing.assert_allclose(table["ncc_sd"][:2], [np.sqrt(0.02), np.sqrt(0.02)])
    assert np.isnan(table["ncc_sd"][2])
    assert table["n_folds"].tolist() == [2, 2, 1]
    assert table["rank"].tolist() == [1, 2, 3]


def test_fig7_data_one_curve_per_model(feature_tree, tmp_path):
    tables = ncc_tables(feature_tree)
    out = tmp_path / "fig7.tsv"
    table = fig7_data(tables, out, dataset="demo", modalities=MODS,
                      models=feature_tree["models"], folds=[0, 1])
    assert list(pd.read_csv(out, sep="\t").columns) == COLUMNS
    assert len(table) == 8 * 8
    for _, curve in table.groupby("model"):
        assert (np.diff(curve.sort_values("rank")["ncc"]) <= 1e-12).all()
    assert (table["n_folds"] == 2).all()
    first = table[table["model"] == feature_tree["models"][0]]
    folds = [pd.read_csv(t, sep="\t")["ncc"].to_numpy() for t in tables[:2]]
    np.testing.assert_allclose(first["ncc"].to_numpy(), (folds[0] + folds[1]) / 2, rtol=1e-12)


def test_folds_with_different_feature_counts_are_refused(feature_tree, tmp_path):
    tables = ncc_tables(feature_tree)
    short = pd.read_csv(tables[1], sep="\t").iloc[:4]
    short.to_csv(tables[1], sep="\t", index=False)
    with pytest.raises(InputError, match="different feature counts"):
        fig7_data(tables, tmp_path / "fig7.tsv", dataset="demo", modalities=MODS,
                  models=feature_tree["models"], folds=[0, 1])
