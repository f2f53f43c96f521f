"""One network's cross-modality NCC curve of one fold (rule ``feature_ncc``): Fig. 7's unit.

Fig. 7 (:mod:`crossmodal.figures.fig7_data`) averages, over folds, each network's features
sorted by how well they correlate between modalities. This module computes one fold's curve:
the NCC of every feature on the fold's test features (for more than two modalities the mean
over modality pairs), sorted from high to low. One small table per network and fold, like the
accuracy tables, so the archive (:mod:`crossmodal.evaluation.archive`) can keep it and Fig. 7
can be drawn over folds trained on different machines.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.tsv_tables import read_table
from crossmodal.evaluation.feature_stats import mean_pairwise_ncc, rank_by
from crossmodal.training.features import load_features

log = logging.getLogger(__name__)

#: Columns of ``results/{ds}/feature_ncc/{model}/fold{k}.tsv``: ``rank`` 1..F (1 = the feature
#: most correlated between modalities), ``ncc`` its NCC (empty where undefined: a constant feature).
FEATURE_NCC_COLUMNS = ["rank", "ncc"]


def sorted_ncc(test: np.ndarray) -> np.ndarray:
    """NCC of every feature, sorted from high to low (undefined NCC last).

    Args:
        test: test features ``[M, N, F]``.

    Returns:
        float64 ``[F]``.
    """
    values = mean_pairwise_ncc(test)
    return values[rank_by(values)]


def feature_ncc(features: str | Path, table: str | Path, *, modalities: list[str]) -> pd.DataFrame:
    """Rule ``feature_ncc``: write one network's sorted NCC curve of one fold.

    Args:
        features: ``results/{ds}/features/{model}/fold{k}.npz`` (rule train).
        table: output path (columns :data:`FEATURE_NCC_COLUMNS`), written atomically.
        modalities: the dataset's modalities.

    Returns:
        The table written: F rows.

    Raises:
        InputError: the features file is missing or malformed.
    """
    curve = sorted_ncc(load_features(features, modalities, train=False).test_features)
    result = pd.DataFrame({"rank": np.arange(1, len(curve) + 1), "ncc": curve})
    log.info("%s: %d features, median NCC %.3f", features, len(curve), float(np.nanmedian(curve)))
    with atomic_path(table) as tmp:
        result.to_csv(tmp, sep="\t", index=False)
    return result


def read_feature_ncc(path: str | Path) -> np.ndarray:
    """The sorted NCC curve ``[F]`` (float64, NaN where undefined) of a ``feature_ncc`` table.

    Raises:
        InputError: the table is missing or lacks a column.
    """
    frame = read_table(path, FEATURE_NCC_COLUMNS, "feature_ncc")
    return frame.sort_values("rank")["ncc"].to_numpy(dtype=np.float64)
