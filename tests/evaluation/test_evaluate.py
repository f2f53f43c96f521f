"""Tests of crossmodal.evaluation.evaluate on hand-made feature files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import (
    ACCURACY_COLUMNS,
    evaluate,
    read_accuracy,
    subsample_training_set,
    training_modalities,
)
from crossmodal.common.seeds import derive_seed

MODS = ["normal", "fatsup"]
# class c -> feature level in each modality; "fatsup" swaps the levels of classes 1 and 2
LEVELS = {"normal": [0.0, 10.0, 20.0], "fatsup": [0.0, 20.0, 10.0]}


def separable_features(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """[M, N, 3] features: each = level of the class in that modality + noise in [0, 1)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n_per_class).astype(np.int64)
    feats = rng.random((len(MODS), len(labels), 3)).astype(np.float32)
    for i, m in enumerate(MODS):
        feats[i] += np.asarray(LEVELS[m], dtype=np.float32)[labels][:, None]
    return feats, labels


def write_npz(path, train, train_labels, test, test_labels, modalities=MODS):
    np.savez(
        path,
        modalities=np.array(modalities),
        train_features=train,
        test_features=test,
        train_labels=train_labels,
        test_labels=test_labels,
        train_scans=np.array(["a"] * len(train_labels)),
        test_scans=np.array(["b"] * len(test_labels)),
    )
    return path


@pytest.fixture
def separable(tmp_path):
    train, ytrain = separable_features(30, seed=1)
    test, ytest = separable_features(20, seed=2)
    return write_npz(tmp_path / "fold0.npz", train, ytrain, test, ytest)


def run(npz, out, model="axial-md1-pfn1-a0.1", max_forest_train_patches=None):
    return evaluate(
        npz,
        out,
        dataset_name="knee",
        model=model,
        fold=0,
        modalities=MODS,
        seed=3,
        max_train_patches=max_forest_train_patches,
        n_trees=5,
    )


def test_separable_same_is_one_and_swapped_cross_is_one_third(separable, tmp_path):
    out = tmp_path / "acc.tsv"
    table = run(separable, out)
    assert list(table.columns) == ACCURACY_COLUMNS
    assert list(zip(table.train_modality, table.test_modality)) == [
        ("normal", "normal"),
        ("normal", "fatsup"),
        ("fatsup", "normal"),
        ("fatsup", "fatsup"),
    ]
    # class 0 keeps its level in both modalities, classes 1 and 2 swap: 1/3 right across
    assert table.accuracy.tolist() == [1.0, 1 / 3, 1 / 3, 1.0]
    assert table.n_train.tolist() == [90] * 4
    assert table.n_test.tolist() == [60] * 4
    assert table.max_train_patches.isna().all()
    assert set(table.dataset) == {"knee"} and set(table.fold) == {0}
    back = read_accuracy([out])
    assert back.accuracy.tolist() == table.accuracy.tolist()
    assert back.model.tolist() == ["axial-md1-pfn1-a0.1"] * 4


def test_single_modality_baseline_trains_only_on_its_modality(separable, tmp_path):
    table = run(separable, tmp_path / "acc.tsv", model="baseline-fatsup")
    assert table.train_modality.tolist() == ["fatsup", "fatsup"]
    assert table.test_modality.tolist() == ["normal", "fatsup"]
    assert table.accuracy.tolist() == [1 / 3, 1.0]


def test_training_modalities():
    assert training_modalities("baseline-all", MODS) == MODS
    assert training_modalities("baseline-normal", MODS) == ["normal"]
    assert training_modalities("axial-md0-pfn1-a0.5", MODS) == MODS
    with pytest.raises(InputError, match="baseline-t1"):
        training_modalities("baseline-t1", MODS)


def test_seeded_determinism_on_noisy_features(tmp_path):
    rng = np.random.default_rng(5)
    train = rng.normal(size=(2, 60, 4)).astype(np.float32)
    test = rng.normal(size=(2, 40, 4)).astype(np.float32)
    ytrain, ytest = rng.integers(0, 2, 60), rng.integers(0, 2, 40)
    npz = write_npz(tmp_path / "noisy.npz", train, ytrain, test, ytest)
    first = run(npz, tmp_path / "a.tsv").accuracy.tolist()
    again = run(npz, tmp_path / "b.tsv").accuracy.tolist()
    assert first == again
    two_cores = evaluate(
        npz,
        tmp_path / "c.tsv",
        dataset_name="knee",
        model="axial-md1-pfn1-a0.1",
        fold=0,
        modalities=MODS,
        seed=3,
        max_train_patches=None,
        n_trees=5,
        threads=2,
    )
    assert two_cores.accuracy.tolist() == first
    assert (tmp_path / "a.tsv").read_text() == (tmp_path / "b.tsv").read_text()


def test_cap_subsamples_stratified_and_is_recorded(separable, tmp_path):
    table = run(separable, tmp_path / "acc.tsv", max_forest_train_patches=30)
    assert table.n_train.tolist() == [30] * 4
    assert table.max_train_patches.tolist() == [30] * 4
    assert table.accuracy.tolist() == [1.0, 1 / 3, 1 / 3, 1.0]
    text = (tmp_path / "acc.tsv").read_text().splitlines()
    assert text[1].endswith("\t30\t60\t30")


def test_subsample_training_set():
    labels = np.repeat(np.arange(3), [40, 40, 20])
    kept = subsample_training_set(labels, 50, seed=7)
    assert len(kept) == 50
    assert np.bincount(labels[kept]).tolist() == [20, 20, 10]
    assert np.all(np.diff(kept) > 0)
    assert np.array_equal(kept, subsample_training_set(labels, 50, seed=7))
    assert not np.array_equal(kept, subsample_training_set(labels, 50, seed=8))
    assert np.array_equal(subsample_training_set(labels, None, 0), np.arange(100))
    assert np.array_equal(subsample_training_set(labels, 100, 0), np.arange(100))
    assert np.array_equal(subsample_training_set(labels, 98, 0), np.arange(100))
    with pytest.raises(InputError, match="max_forest_train_patches = 2"):
        subsample_training_set(labels, 2, 0)


def test_forest_seed_is_derived_from_dataset_seed_key_and_modality(tmp_path, monkeypatch):
    import sklearn.ensemble

    seen = []
    real = sklearn.ensemble.RandomForestClassifier

    def spy(**kwargs):
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(sklearn.ensemble, "RandomForestClassifier", spy)
    train, ytrain = separable_features(5, seed=1)
    npz = write_npz(tmp_path / "f.npz", train, ytrain, train, ytrain)
    run(npz, tmp_path / "acc.tsv")
    key = "knee/axial-md1-pfn1-a0.1/fold0"
    assert seen == [
        {"n_estimators": 5, "random_state": derive_seed(3, key, "normal"), "n_jobs": 1},
        {"n_estimators": 5, "random_state": derive_seed(3, key, "fatsup"), "n_jobs": 1},
    ]


def test_read_accuracy_needs_files_and_columns(tmp_path):
    with pytest.raises(InputError, match="no accuracy files"):
        read_accuracy([])
    pd.DataFrame({"dataset": ["x"]}).to_csv(tmp_path / "x.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="x.tsv: missing columns"):
        read_accuracy([tmp_path / "x.tsv"])
