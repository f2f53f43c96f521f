import numpy as np
import pandas as pd
import pytest
from feature_fixtures import make_features, make_folds
from sklearn.ensemble import RandomForestClassifier

from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed, seed_key
from crossmodal.evaluation import feature_selection as fs
from crossmodal.evaluation.evaluate import evaluate_features, subsample_training_set
from crossmodal.training.features import Features, load_features

MODS = ["normal", "fatsup"]


def fold_inputs(tmp_path, fold=0, **kwargs):
    folds = make_folds()
    path = tmp_path / "fold.npz"
    np.savez(path, **make_features(folds, fold, seed=3, **kwargs))
    features = load_features(path, MODS, train=True)
    return folds, features, fs.halves_of_test_patches(folds, fold, features.test_scans, str(path))


def test_capped_counts():
    assert fs.capped_counts([8, 1, 2, 4, 16, 32], 8) == [1, 2, 4, 8]


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
        fs.halves_of_test_patches(folds, 0, np.array(["s0_0"]), "f.npz")


def test_test_scans_outside_the_fold_are_refused():
    with pytest.raises(InputError, match="not in fold 0"):
        fs.halves_of_test_patches(make_folds(), 0, np.array(["s1_0"]), "f.npz")


@pytest.mark.parametrize("cap", [None, 100])
def test_all_features_kept_equals_the_ordinary_evaluation_on_each_half(tmp_path, cap):
    _, features, halves = fold_inputs(tmp_path)
    seeds = {"normal": 11, "fatsup": 12}
    rows = subsample_training_set(features.train_labels, cap, 7)
    result = fs.fold_accuracy(features, halves, [2, 8], n_trees=5, forest_seeds=seeds,
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
    result = fs.fold_accuracy(features, halves, [1, 8], n_trees=2,
                                forest_seeds={"normal": 1, "fatsup": 2},
                                train_rows=np.arange(len(features.train_labels)))
    # per modality: all 8 features once (shared by both halves), and 1 feature per half
    # (one fit if both halves pick the same feature)
    assert fits.count(8) == 2
    assert 2 <= fits.count(1) <= 4
    assert len(result) == 2 * 2 * 2 * 2  # rank halves x counts x s x t


def write_inputs(tmp_path, folds, fold=0, seed=3):
    folds_tsv = tmp_path / "folds.tsv"
    folds.to_csv(folds_tsv, sep="\t", index=False)
    features = tmp_path / "axial-md1-pfn1-a0.5" / f"fold{fold}.npz"
    features.parent.mkdir(exist_ok=True)
    np.savez(features, **make_features(folds, fold, seed=seed))
    return features, folds_tsv


def test_the_table_is_the_fold_step_with_the_forests_seeded_as_table_one(tmp_path):
    features, folds_tsv = write_inputs(tmp_path, make_folds())
    out = tmp_path / "out" / "fold0.tsv"
    table = fs.feature_selection(features, folds_tsv, out, dataset="demo", model="axial-md1-pfn1-a0.5",
                                 fold=0, modalities=MODS, feature_counts=[1, 4, 64], n_trees=3,
                                 seed=0, max_train_patches=100)
    # rank halves x counts (1, 4, 8) x s x t
    assert len(table) == 2 * 3 * 2 * 2
    read = fs.read_feature_selection(out)
    assert list(read.columns) == fs.FEATURE_SELECTION_COLUMNS
    pd.testing.assert_frame_equal(read, table, check_dtype=False)
    loaded = load_features(features, MODS, train=True)
    halves = fs.halves_of_test_patches(make_folds(), 0, loaded.test_scans, str(features))
    rows = subsample_training_set(loaded.train_labels, 100,
                                     derive_seed(0, "demo", "forest_train_subset", 0))
    seeds = {s: derive_seed(0, seed_key("demo", "axial-md1-pfn1-a0.5", 0), s) for s in MODS}
    direct = fs.fold_accuracy(loaded, halves, [1, 4, 8], n_trees=3, forest_seeds=seeds, train_rows=rows)
    np.testing.assert_array_equal(read["accuracy"].to_numpy(), direct["accuracy"].to_numpy())
    again = fs.feature_selection(features, folds_tsv, tmp_path / "again.tsv", dataset="demo",
                                 model="axial-md1-pfn1-a0.5", fold=0, modalities=MODS,
                                 feature_counts=[1, 4, 64], n_trees=3, seed=0, max_train_patches=100,
                                 threads=2)
    pd.testing.assert_frame_equal(again, table)


def test_a_fold_of_one_subject_gives_a_table_without_rows(tmp_path):
    folds = make_folds(n_subjects=2, n_folds=2)  # one subject per fold: one half empty
    features, folds_tsv = write_inputs(tmp_path, folds)
    out = tmp_path / "fold0.tsv"
    table = fs.feature_selection(features, folds_tsv, out, dataset="demo", model="axial-md1-pfn1-a0.5",
                                 fold=0, modalities=MODS, feature_counts=[1], n_trees=2, seed=0)
    assert table.empty
    read = fs.read_feature_selection(out)
    assert read.empty and list(read.columns) == fs.FEATURE_SELECTION_COLUMNS
