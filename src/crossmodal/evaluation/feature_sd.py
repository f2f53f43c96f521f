"""The spread of a network's features across samples, per modality (rule ``feature_sd``).

The paper (Sec. V-B, Fig. 6) explains why the similarity term alone does not give a useful
shared representation: it can be met by features that are constant, or nearly so, in every
modality, and it lowers the features' standard deviation across samples even under the global
normalization; per-feature normalization brings that SD back to about 1. This module measures
that mechanism for one network and fold, on the same test-set features and with the same SD as
Fig. 6's data (:mod:`crossmodal.figures.fig6_data`), but as a few numbers per modality, small
enough to archive (:mod:`crossmodal.evaluation.archive`) and to set beside the accuracies of the
ablation (:mod:`crossmodal.studies.ablation`):

* ``sd_mean`` / ``sd_median``: of the F features' SDs (over the N test patches, ``ddof = 0``);
* ``low_sd_share``: the share of features whose SD is below :data:`LOW_SD`, a tenth of the unit
  SD that per-feature normalization gives a feature over a training batch;
* ``train_patches`` / ``test_patches``: N of each split (the update count of a network trained
  for whole epochs follows from ``train_patches``, :class:`crossmodal.training.schedule.Schedule`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.tsv_tables import read_table
from crossmodal.training.features import load_features

#: a feature whose SD across the test patches is below this is "nearly constant"
LOW_SD = 0.1

FEATURE_SD_COLUMNS = [
    "dataset", "model", "fold", "modality", "train_patches", "test_patches",
    "sd_mean", "sd_median", "low_sd_share",
]  # fmt: skip


def sd_summary(test: np.ndarray, modalities: list[str]) -> pd.DataFrame:
    """SD of every feature across patches, summarized per modality.

    Args:
        test: test features ``[M, N, F]``.
        modalities: names of the M modalities.

    Returns:
        One row per modality: ``modality, sd_mean, sd_median, low_sd_share`` (float64).

    Raises:
        ValueError: ``test`` is not ``[M, N, F]`` with one name per modality.
    """
    test = np.asarray(test, dtype=np.float64)
    if test.ndim != 3 or test.shape[0] != len(modalities):
        raise ValueError(f"sd_summary needs [M, N, F] features for {len(modalities)} modalities, got {test.shape}")
    sd = test.std(axis=1)  # [M, F]
    return pd.DataFrame({
        "modality": list(modalities),
        "sd_mean": sd.mean(axis=1),
        "sd_median": np.median(sd, axis=1),
        "low_sd_share": (sd < LOW_SD).mean(axis=1),
    })  # fmt: skip


def feature_sd(features_path: str | Path, output_path: str | Path, *, dataset: str, model: str, fold: int,
               modalities: list[str]) -> pd.DataFrame:  # fmt: skip
    """Write ``results/{ds}/feature_sd/{model}/fold{k}.tsv`` for one network's features file.

    Args:
        features_path: ``results/{ds}/features/{model}/fold{k}.npz`` (rule train).
        output_path: the table (:data:`FEATURE_SD_COLUMNS`, one row per modality), written
            atomically.
        dataset, model, fold: the table's identity columns.
        modalities: the dataset's modalities, config order.

    Returns:
        The table written.

    Raises:
        InputError: the features file is missing arrays, is of another configuration or holds
            a non-finite feature (:func:`crossmodal.training.features.load_features`).
    """
    features = load_features(features_path, modalities)
    table = sd_summary(features.test_features, features.modalities)
    table.insert(0, "dataset", dataset)
    table.insert(1, "model", model)
    table.insert(2, "fold", int(fold))
    table.insert(4, "train_patches", len(features.train_labels))
    table.insert(5, "test_patches", len(features.test_labels))
    with atomic_path(output_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table


def read_feature_sd(path: str | Path) -> pd.DataFrame:
    """A table written by :func:`feature_sd`, checked to have :data:`FEATURE_SD_COLUMNS`.

    Raises:
        InputError: the file is missing or lacks a column; the message names it.
    """
    return read_table(path, FEATURE_SD_COLUMNS, "feature_sd", text_columns=["dataset", "model", "modality"])
