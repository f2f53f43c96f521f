"""The features file format (``results/{ds}/features/{model}/fold{k}.npz``): its one writer and reader.

A features file holds the features of every training and test patch of one fold, per modality,
as computed by one trained network (docs/architecture.md, "features"). Arrays, no pickled
objects:

* ``modalities`` str ``[M]`` -- the dataset's modalities, in config order;
* ``train_features`` float32 ``[M, N_train, F]``, ``test_features`` float32 ``[M, N_test, F]``
  -- row ``[m, i]`` holds the features of modality m of patch i, so row i of every array is
  the same patch;
* ``train_labels`` / ``test_labels`` int64 ``[N]`` -- class index per patch;
* ``train_scans`` / ``test_scans`` str ``[N]`` -- scan id per patch.

The random forests of Table I (:mod:`crossmodal.evaluation.evaluate`) and the figure-data stages
(:mod:`crossmodal.figures`) read it with :func:`load_features`; the job that trains the
network writes it with :func:`write_features`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError

SPLITS = ("train", "test")


@dataclass(frozen=True)
class Features:
    """The features of one network and fold.

    Attributes:
        modalities: modality names ``[M]``, config order (the order of the feature arrays).
        train_features: float32 ``[M, N_train, F]`` (``None`` when not loaded).
        test_features: float32 ``[M, N_test, F]``.
        train_labels: int64 ``[N_train]`` class index per training patch (``None`` when not
            loaded).
        test_labels: int64 ``[N_test]``.
        train_scans: str ``[N_train]`` scan id per training patch (``None`` when not loaded).
        test_scans: str ``[N_test]``.
    """

    modalities: list[str]
    train_features: np.ndarray | None
    test_features: np.ndarray
    train_labels: np.ndarray | None
    test_labels: np.ndarray
    train_scans: np.ndarray | None
    test_scans: np.ndarray


def _check_split(
    where: str, split: str, features: np.ndarray, labels: np.ndarray, scans: np.ndarray, n_modalities: int
) -> None:
    """Shapes of one split: features ``[M, N, F]`` with N > 0, labels and scans ``[N]``."""
    if features.ndim != 3 or features.shape[0] != n_modalities or features.shape[1] == 0:
        raise InputError(
            f"{where}: {split}_features has shape {features.shape}; expected [{n_modalities}, N, F] "
            f"with N > 0 patches (check the folds and patch sampling)"
        )
    n = features.shape[1]
    for name, array in ((f"{split}_labels", labels), (f"{split}_scans", scans)):
        if array.shape != (n,):
            raise InputError(
                f"{where}: {name} has shape {array.shape} but {split}_features holds {n} patches"
            )


def _check_finite(where: str, split: str, features: np.ndarray, modalities: list[str]) -> None:
    # scikit-learn's trees take NaN as a missing value without a word; a NaN here is a bug
    # upstream (a diverged network), so refuse it, naming the modality.
    for i, name in enumerate(modalities):
        if not np.isfinite(features[i]).all():
            raise InputError(
                f"{where}: non-finite {split} features for modality {name!r}; check the training "
                f"history of this network (diverged?) and rerun its training"
            )


def write_features(
    path: str | Path,
    modalities: list[str],
    *,
    train_features: np.ndarray,
    test_features: np.ndarray,
    train_labels: np.ndarray,
    test_labels: np.ndarray,
    train_scans: np.ndarray,
    test_scans: np.ndarray,
) -> None:
    """Write a features file atomically (nothing half-written if the job is killed).

    Args:
        path: ``results/{ds}/features/{model}/fold{k}.npz``.
        modalities: M names, config order.
        train_features: float ``[M, N_train, F]``; stored as float32.
        test_features: float ``[M, N_test, F]``; stored as float32.
        train_labels: int ``[N_train]`` class index per patch; stored as int64.
        test_labels: int ``[N_test]``.
        train_scans: str ``[N_train]`` scan id per patch.
        test_scans: str ``[N_test]``.

    Raises:
        InputError: shapes disagree (see the module docstring), the two splits differ in F, or a
            feature is not finite; nothing is written then.
    """
    where = f"features file {path}"
    modalities = [str(m) for m in modalities]
    arrays: dict[str, np.ndarray] = {"modalities": np.asarray(modalities, dtype=str)}
    given = {
        "train": (train_features, train_labels, train_scans),
        "test": (test_features, test_labels, test_scans),
    }
    for split, (features, labels, scans) in given.items():
        features = np.asarray(features, dtype=np.float32)
        labels = np.asarray(labels, dtype=np.int64)
        scans = np.asarray(scans, dtype=str)
        _check_split(where, split, features, labels, scans, len(modalities))
        _check_finite(where, split, features, modalities)
        arrays.update({f"{split}_features": features, f"{split}_labels": labels, f"{split}_scans": scans})
    if arrays["train_features"].shape[2] != arrays["test_features"].shape[2]:
        raise InputError(
            f"{where}: train and test features differ in size F "
            f"({arrays['train_features'].shape[2]} vs {arrays['test_features'].shape[2]})"
        )
    with atomic_path(path) as tmp:
        np.savez(tmp, **arrays)


def load_features(path: str | Path, modalities: list[str], *, train: bool = True) -> Features:
    """Read and check a features file.

    Args:
        path: ``results/{ds}/features/{model}/fold{k}.npz``.
        modalities: the dataset's modalities, config order; the file must list the same.
        train: also read the training split (the largest arrays; figure stages that look at
            test features only skip it).

    Returns:
        The file's arrays: features float32, labels int64, scans str; the training split is
        ``None`` when ``train`` is false.

    Raises:
        InputError: an array is missing, the modalities differ from the config, shapes disagree,
            a split has no patch, or a feature is not finite. The message names the file.
    """
    where = f"features file {path}"
    splits = SPLITS if train else ("test",)
    keys = ["modalities"] + [f"{s}_{k}" for s in splits for k in ("features", "labels", "scans")]
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise InputError(
                f"{where}: missing arrays {missing}; delete it and rerun the job that writes it "
                f"(the network's training)"
            )
        data = {k: npz[k] for k in keys}
    found = [str(m) for m in data["modalities"]]
    if found != [str(m) for m in modalities]:
        raise InputError(
            f"{where}: modalities {found} differ from the configured {list(modalities)}; the file "
            f"was written for another configuration: delete it and rerun"
        )
    out: dict[str, np.ndarray | None] = {f"train_{k}": None for k in ("features", "labels", "scans")}
    for split in splits:
        features = data[f"{split}_features"].astype(np.float32, copy=False)
        labels = data[f"{split}_labels"].astype(np.int64, copy=False)
        scans = data[f"{split}_scans"].astype(str, copy=False)
        _check_split(where, split, features, labels, scans, len(found))
        _check_finite(where, split, features, found)
        out.update({f"{split}_features": features, f"{split}_labels": labels, f"{split}_scans": scans})
    if train and out["train_features"].shape[2] != out["test_features"].shape[2]:
        raise InputError(
            f"{where}: train and test features differ in size F "
            f"({out['train_features'].shape[2]} vs {out['test_features'].shape[2]})"
        )
    return Features(modalities=found, **out)
