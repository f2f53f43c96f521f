import numpy as np
import pandas as pd
import pytest
from feature_fixtures import make_features, make_folds

from crossmodal.common.errors import InputError
from crossmodal.evaluation.feature_selection import feature_selection
from crossmodal.figures import fig8_data as fig8

MODS = ["normal", "fatsup"]


def selection_tables(feature_tree, models, folds=(0, 1)):
    """The feature_selection table of every model and fold, model-major."""
    root = feature_tree["root"] / "feature_selection"
    tables = []
    for model in models:
        for k in folds:
            out = root / model / f"fold{k}.tsv"
            feature_selection(feature_tree["root"] / "features" / model / f"fold{k}.npz",
                              feature_tree["folds_tsv"], out, dataset="demo", model=model, fold=k,
                              modalities=MODS, feature_counts=[1, 4, 64], n_trees=3, seed=0)
            tables.append(str(out))
    return tables


def test_fig8_data_collects_the_tables_of_every_model_and_fold(feature_tree, tmp_path):
    models = feature_tree["models"][:2]
    tables = selection_tables(feature_tree, models)
    out = tmp_path / "fig8.tsv"
    table = fig8.fig8_data(tables, out, dataset="demo", modalities=MODS, models=models, folds=[0, 1])
    assert list(pd.read_csv(out, sep="\t").columns) == fig8.COLUMNS
    # models x folds x rank halves x counts (1, 4, 8) x s x t
    assert len(table) == 2 * 2 * 2 * 3 * 2 * 2
    assert sorted(table["n_features"].unique()) == [1, 4, 8]
    same = table["train_modality"] == table["test_modality"]
    assert (table.loc[same, "setting"] == "same").all()
    assert (table.loc[~same, "setting"] == "cross").all()
    second = table[(table["model"] == models[1]) & (table["fold"] == 1)]
    unit = pd.read_csv(tables[3], sep="\t")
    np.testing.assert_array_equal(second["accuracy"].to_numpy(), unit["accuracy"].to_numpy())
    assert (second["per_feature_norm"] == 0).all() and (second["alpha"] == 0.5).all()


def test_tables_out_of_model_major_order_are_refused(feature_tree, tmp_path):
    models = feature_tree["models"][:2]
    tables = selection_tables(feature_tree, models)
    with pytest.raises(InputError, match="list them model-major"):
        fig8.fig8_data([tables[1], tables[0]] + tables[2:], tmp_path / "fig8.tsv", dataset="demo",
                       modalities=MODS, models=models, folds=[0, 1])


def test_no_fold_with_two_halves_is_an_error(tmp_path):
    folds = make_folds(n_subjects=2, n_folds=2)  # one subject per fold: one half empty
    folds_tsv = tmp_path / "folds.tsv"
    folds.to_csv(folds_tsv, sep="\t", index=False)
    tables = []
    for k in (0, 1):
        features = tmp_path / "features" / "axial-md1-pfn1-a0.5" / f"fold{k}.npz"
        features.parent.mkdir(parents=True, exist_ok=True)
        np.savez(features, **make_features(folds, k, seed=k))
        out = tmp_path / "feature_selection" / "axial-md1-pfn1-a0.5" / f"fold{k}.tsv"
        feature_selection(features, folds_tsv, out, dataset="demo", model="axial-md1-pfn1-a0.5",
                          fold=k, modalities=MODS, feature_counts=[1], n_trees=2, seed=0)
        tables.append(str(out))
    with pytest.raises(InputError, match="no test fold has two non-empty halves"):
        fig8.fig8_data(tables, tmp_path / "fig8.tsv", dataset="demo", modalities=MODS,
                       models=["axial-md1-pfn1-a0.5"], folds=[0, 1])
    assert not (tmp_path / "fig8.tsv").exists()
