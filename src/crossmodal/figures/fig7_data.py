"""Fig. 7 data: cross-modality NCC per feature, sorted high to low, averaged over folds.

Each fold trains its own networks, so feature j of one fold has nothing to do with feature j of
another. The curves are therefore sorted within each fold first (rank 1 = the most correlated
feature of that fold; rule ``feature_ncc``, :mod:`crossmodal.evaluation.feature_ncc`, one table per
network and fold) and then averaged over folds at each rank here.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.evaluation.feature_ncc import read_feature_ncc
from crossmodal.figures.inputs import files_by_model, model_columns

log = logging.getLogger(__name__)

#: Columns of ``fig7.tsv``: ``ncc`` is the mean over folds at ``rank`` (1-based), ``ncc_sd``
#: the SD over folds (NaN for one fold), ``n_folds`` the folds with a defined NCC at that rank.
COLUMNS = [
    "dataset", "model", "modality_dropout", "per_feature_norm", "alpha",
    "rank", "ncc", "ncc_sd", "n_folds",
]


def average_curves(curves: list[np.ndarray]) -> pd.DataFrame:
    """Average sorted NCC curves of several folds at each rank.

    Args:
        curves: one sorted ``[F]`` curve per fold (same F).

    Returns:
        Columns ``rank`` (1..F), ``ncc`` (mean over the folds with a defined value),
        ``ncc_sd`` (sample SD over those folds; NaN below two), ``n_folds``.
    """
    stacked = np.stack(curves)
    n_folds = np.isfinite(stacked).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN ranks stay NaN
        mean = np.nanmean(stacked, axis=0)
        sd = np.nanstd(stacked, axis=0, ddof=1)
    sd[n_folds < 2] = np.nan
    return pd.DataFrame({
        "rank": np.arange(1, stacked.shape[1] + 1),
        "ncc": mean,
        "ncc_sd": sd,
        "n_folds": n_folds,
    })


def fig7_data(
    ncc_files: list[str],
    table: str | Path,
    *,
    dataset: str,
    modalities: list[str],
    models: list[str],
    folds: list[int],
) -> pd.DataFrame:
    """Rule ``fig7_data``: write ``results/{ds}/figdata/fig7.tsv``.

    Args:
        ncc_files: ``results/{ds}/feature_ncc/{model}/fold{k}.tsv`` (or the archive's) for every
            model and fold, model-major.
        table: output path (columns :data:`COLUMNS`).
        dataset: dataset key.
        modalities: the dataset's modalities.
        models: axial network ids (the whole grid).
        folds: fold indices.

    Returns:
        The table written.

    Raises:
        InputError: a model is not an axial id, a table is missing or malformed, or the folds of
            a model have different feature counts.
    """
    files = files_by_model(ncc_files, models, folds, ".tsv")
    frames = []
    for model in models:
        columns = model_columns(model, modalities)
        curves = [read_feature_ncc(files[model][k]) for k in folds]
        if len({len(c) for c in curves}) != 1:
            raise InputError(
                f"Fig. 7: the folds of {model} have different feature counts "
                f"{[len(c) for c in curves]}; rerun their train and feature_ncc jobs"
            )
        log.info("%s: mean NCC %.3f over %d folds", model, float(np.nanmean(curves)), len(folds))
        frames.append(average_curves(curves).assign(dataset=dataset, model=model, **columns))
    result = pd.concat(frames, ignore_index=True)[COLUMNS]
    with atomic_path(table) as tmp:
        result.to_csv(tmp, sep="\t", index=False)
    return result
