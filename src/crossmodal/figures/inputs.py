"""Reading and checking the inputs of the figure-data stages: features files and folds.tsv."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import crossmodal.folds
from crossmodal.errors import InputError
from crossmodal.model_ids import parse_model_id

@dataclass(frozen=True)
class Features:
    """The features of one network and fold (one ``fold{k}.npz`` of the encode stage).

    Attributes:
        modalities: modality names, config order, ``[M]``.
        train: float32 ``[M, N_train, F]`` (``None`` when not loaded).
        test: float32 ``[M, N_test, F]``.
        train_labels: int64 ``[N_train]`` (``None`` when not loaded).
        test_labels: int64 ``[N_test]``.
        test_scans: scan id per test patch, ``[N_test]``.
    """

    modalities: list[str]
    train: np.ndarray | None
    test: np.ndarray
    train_labels: np.ndarray | None
    test_labels: np.ndarray
    test_scans: np.ndarray


def load_features(path: str | Path, modalities: list[str], train: bool = False) -> Features:
    """Load and check a features file.

    Args:
        path: ``results/{ds}/features/{model}/fold{k}.npz``.
        modalities: the dataset's modalities (config order); the file must list the same.
        train: also load the training features (large: skip when only test features are used).

    Returns:
        The file's arrays.

    Raises:
        InputError: a key is missing, the modalities differ from the config, or the shapes of
            features, labels and scans disagree.
    """
    keys = ["modalities", "test_features", "test_labels", "test_scans"]
    if train:
        keys += ["train_features", "train_labels"]
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in keys if k not in npz.files]
        if missing:
            raise InputError(
                f"features file {path}: missing arrays {missing}; rerun the encode job that "
                "writes it (snakemake deletes and rebuilds it when you remove the file)"
            )
        data = {k: npz[k] for k in keys}
    found = [str(m) for m in data["modalities"]]
    if found != list(modalities):
        raise InputError(
            f"features file {path}: modalities {found} differ from the config's {list(modalities)}; "
            "the file was written for another configuration: delete it and rerun"
        )
    splits = ["test"] + (["train"] if train else [])
    for split in splits:
        feats, labels = data[f"{split}_features"], data[f"{split}_labels"]
        if feats.ndim != 3 or feats.shape[0] != len(found) or feats.shape[1] != labels.shape[0]:
            raise InputError(
                f"features file {path}: {split}_features has shape {feats.shape}, expected "
                f"[{len(found)}, {labels.shape[0]}, F] to match modalities and {split}_labels"
            )
    if data["test_scans"].shape != data["test_labels"].shape:
        raise InputError(
            f"features file {path}: test_scans has shape {data['test_scans'].shape}, "
            f"test_labels {data['test_labels'].shape}; they must agree"
        )
    if train and data["train_features"].shape[2] != data["test_features"].shape[2]:
        raise InputError(f"features file {path}: train and test features differ in size F")
    for split in splits:
        if not np.isfinite(data[f"{split}_features"]).all():
            raise InputError(
                f"features file {path}: non-finite {split} features; check the training "
                "history of this network (diverged?) and rerun its train and encode jobs"
            )
    return Features(
        modalities=found,
        train=data["train_features"] if train else None,
        test=data["test_features"],
        train_labels=data["train_labels"].astype(np.int64) if train else None,
        test_labels=data["test_labels"].astype(np.int64),
        test_scans=data["test_scans"].astype(str),
    )


def read_folds(path: str | Path) -> pd.DataFrame:
    """Read ``folds.tsv`` (scan_id, subject_id, fold, half) and check the halves.

    Raises:
        InputError: the file or a column is missing, or a half is not 0/1.
    """
    folds = crossmodal.folds.read_folds(path)
    if not folds["half"].isin([0, 1]).all():
        raise InputError(f"{path}: column half must be 0 or 1; rerun rule folds")
    return folds


def model_columns(model: str, modalities: list[str]) -> dict[str, float | int]:
    """The grid coordinates of an axial network id, as table columns.

    Returns:
        ``{"modality_dropout": 0|1, "per_feature_norm": 0|1, "alpha": float}``.

    Raises:
        InputError: ``model`` is not an axial network id (Figs. 6-8 show axial networks only).
    """
    try:
        spec = parse_model_id(model, modalities)
    except ValueError as error:
        raise InputError(f"figure models: {error}") from None
    if spec.kind != "axial":
        raise InputError(
            f"figure models: {model!r} is not an axial network; Figs. 6-8 compare the "
            "axial-md{0|1}-pfn{0|1}-a{alpha} networks of the grid"
        )
    return {
        "modality_dropout": int(spec.modality_dropout),
        "per_feature_norm": int(spec.per_feature_norm),
        "alpha": float(spec.alpha),
    }


def feature_files_by_model(
    files: list[str], models: list[str], folds: list[int]
) -> dict[str, dict[int, str]]:
    """Match the features files of a figure rule to its networks and folds.

    Args:
        files: ``results/{ds}/features/{model}/fold{k}.npz`` for every model, then every fold
            (model-major order, as the rules list them).
        models: network ids.
        folds: fold indices.

    Returns:
        ``{model: {fold: path}}``.

    Raises:
        InputError: the files do not follow that order and naming.
    """
    expected = [(m, k) for m in models for k in folds]
    if len(files) != len(expected):
        raise InputError(
            f"figure inputs: {len(files)} features files for {len(models)} models x "
            f"{len(folds)} folds; the rule must list one file per model and fold"
        )
    result: dict[str, dict[int, str]] = {m: {} for m in models}
    for path, (model, fold) in zip(files, expected):
        p = Path(path)
        if p.parent.name != model or p.name != f"fold{fold}.npz":
            raise InputError(
                f"figure inputs: expected the features of {model} fold {fold} "
                f"(.../{model}/fold{fold}.npz), got {path}; list them model-major"
            )
        result[model][fold] = str(path)
    return result
