import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier

from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import evaluate_features
from crossmodal.figures import fig8_data as fig8
from crossmodal.training.features import Features, load_features

from figure_fixtures import make_features, make_folds

MODS = ["normal", "fatsup"]


def fold_inputs(tmp_path, fold=0, **kwargs):
    folds = make_folds()
    path = tmp_path / "fold.npz"
    np.savez(path, **make_features(folds, fold, seed=3, **kwargs))
    features = load_features(path, MODS, train=True)
    return folds, features, fig8.halves_of_test_patches(folds, fold, features.test_scans, str(path))


def test_capped_counts():
    assert fig8.capped_counts([8, 1, 2, 4, 16, 32], 8) == [1, 2, 4, 8]


def test_halves_never_share_a_subject(tmp_path):
    folds, features, halves = fold_inputs(tmp_path)
    subject_of = dict(zip(folds["scan_id"], folds["subject_id"]))
    subjects = [{subject_of[s] for s in features.test_scans[halves == h]} for h in (0, 1)]
    assert subjects[0] and subjects[1] and not subjects[0] & subjects[1]


def test_halves_that_split_a_subject_are_refused(tmp_path):
    folds = make_folds()
    first = folds.loc[folds["scan_id"] == "s0_0", "half"].item()
    folds.loc[folds["scan_id"] == "s0_1", "half"] = 1 - first
    with pytest.raises(InputError, match=r"subjects \['subj0'\] of fold 0 have scans in both halves"):
        fig8.halves_of_test_patches(folds, 0, np.array(["s0_0"]), "f.npz")


def test_test_scans_outside_the_fold_are_refused():
    with pytest.raises(InputError, match="not in fold 0"):
        fig8.halves_of_test_patches(make_folds(), 0, np.array(["s1_0"]), "f.npz")


@pytest.mark.parametrize("cap", [None, 100])
def test_all_features_kept_equals_the_ordinary_evaluation_on_each_half(tmp_path, cap):
    _, features, halves = fold_inputs(tmp_path)
    seeds = {"normal": 11, "fatsup": 12}
    rows = fig8.subsample_training_set(features.train_labels, cap, 7)
    result = fig8.fold_accuracy(features, halves, [2, 8], n_trees=5, forest_seeds=seeds,
                                train_rows=rows)
    for eval_half in (0, 1):
        sel = halves == eval_half
        ordinary = evaluate_features(
            Features(MODS, features.train_features, features.test_features[:, sel],
                     features.train_labels, features.test_labels[sel], features.train_scans,
                     features.test_scans[sel]),
            MODS, n_trees=5, forest_seeds=seeds, max_train_patches=cap, subsample_seed=7,
        )
        ours = result[(result["eval_half"] == eval_half) & (result["n_features"] == 8)]
        np.testing.assert_array_equal(ours["accuracy"].to_numpy(), ordinary["accuracy"].to_numpy())
        assert ours["train_modality"].tolist() == ordinary["train_modality"].tolist()
        assert ours["test_modality"].tolist() == ordinary["test_modality"].tolist()
        assert (ours["n_test"] == sel.sum()).all()


def test_each_forest_is_fit_once_per_distinct_feature_subset(tmp_path, monkeypatch):
    _, features, halves = fold_inputs(tmp_path)
    fits = []
    original = RandomForestClassifier.fit
    monkeypatch.setattr(RandomForestClassifier, "fit",
                        lambda self, x, y: fits.append(x.shape[1]) or original(self, x, y))
    result = fig8.fold_accuracy(features, halves, [1, 8], n_trees=2,
                                forest_seeds={"normal": 1, "fatsup": 2},
                                train_rows=np.arange(len(features.train_labels)))
    # per modality: all 8 features once (shared by both halves), and 1 feature per half
    # (one fit if both halves pick the same feature)
    assert fits.count(8) == 2
    assert 2 <= fits.count(1) <= 4
    assert len(result) == 2 * 2 * 2 * 2  # rank halves x counts x s x t


def test_a_fold_of_one_subject_is_skipped_and_no_usable_fold_is_an_error(tmp_path):
    folds = make_folds(n_subjects=2, n_folds=2)  # one subject per fold: one half empty
    folds_tsv = tmp_path / "folds.tsv"
    folds.to_csv(folds_tsv, sep="\t", index=False)
    files = []
    for k in (0, 1):
        path = tmp_path / "axial-md1-pfn1-a0.5" / f"fold{k}.npz"
        path.parent.mkdir(exist_ok=True)
        np.savez(path, **make_features(folds, k, seed=k))
        files.append(str(path))
    with pytest.raises(InputError, match="no test fold has two non-empty halves"):
        fig8.fig8_data(files, folds_tsv, tmp_path / "fig8.tsv", dataset="demo", modalities=MODS,
                       models=["axial-md1-pfn1-a0.5"], folds=[0, 1], feature_counts=[1],
                       n_trees=2, seed=0)


def test_fig8_data_table(feature_tree, tmp_path):
    models = feature_tree["models"][:2]
    files = [f for f in feature_tree["files"] if any(f"/{m}/" in f for m in models)]
    out = tmp_path / "fig8.tsv"
    table = fig8.fig8_data(files, feature_tree["folds_tsv"], out, dataset="demo",
                           modalities=MODS, models=models, folds=[0, 1],
                           feature_counts=[1, 4, 64], n_trees=3, seed=0)
    assert list(pd.read_csv(out, sep="\t").columns) == fig8.COLUMNS
    # models x folds x rank halves x counts (1, 4, 8) x s x t
    assert len(table) == 2 * 2 * 2 * 3 * 2 * 2
    assert sorted(table["n_features"].unique()) == [1, 4, 8]
    same = table["train_modality"] == table["test_modality"]
    assert (table.loc[same, "setting"] == "same").all()
    assert (table.loc[~same, "setting"] == "cross").all()
    assert ((table["accuracy"] >= 0) & (table["accuracy"] <= 1)).all()
    again = fig8.fig8_data(files, feature_tree["folds_tsv"], tmp_path / "again.tsv",
                           dataset="demo", modalities=MODS, models=models, folds=[0, 1],
                           feature_counts=[1, 4, 64], n_trees=3, seed=0, threads=2)
    pd.testing.assert_frame_equal(table, again)
