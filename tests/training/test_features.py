"""The features file format: crossmodal.training.features writes it, reads it and refuses bad files."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.common.errors import InputError
from crossmodal.training.features import load_features, write_features

MODS = ["normal", "fatsup"]


def arrays(n_train=3, n_test=2, n_features=4):
    """Features whose value encodes (modality, patch, feature), labels and scans per patch."""
    def split(n, offset):
        m, i, f = np.meshgrid(np.arange(len(MODS)), np.arange(n), np.arange(n_features), indexing="ij")
        return (100 * m + 10 * (i + offset) + f).astype(np.float64)

    return {
        "train_features": split(n_train, 0),
        "test_features": split(n_test, 5),
        "train_labels": np.arange(n_train) % 2,
        "test_labels": np.array([1, 0][:n_test]),
        "train_scans": np.array([f"a{i}" for i in range(n_train)]),
        "test_scans": np.array([f"b{i}" for i in range(n_test)]),
    }


def test_written_file_reads_back_with_types_and_values(tmp_path):
    path = tmp_path / "fold0.npz"
    write_features(path, MODS, **arrays())
    features = load_features(path, MODS)
    assert features.modalities == MODS
    assert features.train_features.dtype == np.float32 and features.train_features.shape == (2, 3, 4)
    assert features.train_features[1, 2, 3] == 123.0
    assert features.test_features[0, 1, 0] == 60.0
    assert features.train_labels.dtype == np.int64 and features.train_labels.tolist() == [0, 1, 0]
    assert features.test_labels.tolist() == [1, 0]
    assert features.train_scans.tolist() == ["a0", "a1", "a2"]
    assert features.test_scans.tolist() == ["b0", "b1"]
    with np.load(path, allow_pickle=False) as npz:  # no pickled object arrays
        assert sorted(npz.files) == sorted(["modalities", *arrays()])


def test_test_split_alone_leaves_the_training_split_unread(tmp_path):
    path = tmp_path / "fold0.npz"
    write_features(path, MODS, **arrays())
    features = load_features(path, MODS, train=False)
    assert features.train_features is None and features.train_labels is None
    assert features.train_scans is None and features.test_features.shape == (2, 2, 4)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a: a.update(train_labels=np.zeros(2)), r"train_labels has shape \(2,\) but train_features holds 3"),
        (lambda a: a.update(test_scans=np.array(["b0"])), r"test_scans has shape \(1,\)"),
        (lambda a: a.update(test_features=np.zeros((2, 2, 5))), "differ in size F"),
        (lambda a: a.update(train_features=np.zeros((1, 3, 4))), r"expected \[2, N, F\]"),
        (lambda a: a["test_features"].__setitem__((1, 0, 2), np.nan), "test features for modality 'fatsup'"),
    ],
)
def test_writer_refuses_inconsistent_arrays_and_writes_nothing(tmp_path, edit, message):
    given = arrays()
    edit(given)
    path = tmp_path / "fold0.npz"
    with pytest.raises(InputError, match=message):
        write_features(path, MODS, **given)
    assert list(tmp_path.iterdir()) == []


def test_reader_names_the_file_and_the_problem(tmp_path):
    good = arrays()
    path = tmp_path / "w.npz"
    write_features(path, MODS, **good)
    with pytest.raises(InputError, match=r"w\.npz: modalities \['normal', 'fatsup'\] differ"):
        load_features(path, ["fatsup", "normal"])
    nan = dict(good)
    nan["train_features"] = good["train_features"].astype(np.float32)
    nan["train_features"][0, 1, 1] = np.inf
    np.savez(tmp_path / "n.npz", modalities=np.array(MODS), **nan)
    with pytest.raises(InputError, match="non-finite train features for modality 'normal'"):
        load_features(tmp_path / "n.npz", MODS)
    load_features(tmp_path / "n.npz", MODS, train=False)  # the test split alone is fine
    short = dict(good, train_labels=good["train_labels"][:-1])
    np.savez(tmp_path / "s.npz", modalities=np.array(MODS), **short)
    with pytest.raises(InputError, match="train_labels has shape"):
        load_features(tmp_path / "s.npz", MODS)
    np.savez(tmp_path / "k.npz", modalities=np.array(MODS))
    with pytest.raises(InputError, match=r"k\.npz: missing arrays \['test_features'"):
        load_features(tmp_path / "k.npz", MODS, train=False)
