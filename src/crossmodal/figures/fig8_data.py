"""Fig. 8 data: accuracy against the number of most cross-modality-correlated features kept.

The paper's 5x2 scheme (Sec. IV-E), one network and fold at a time, is rule
``feature_selection`` (:mod:`crossmodal.evaluation.feature_selection`); this module collects its
tables over the grid's networks and folds into ``fig8.tsv``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.evaluation.feature_selection import read_feature_selection
from crossmodal.figures.inputs import files_by_model, model_columns

log = logging.getLogger(__name__)

#: Columns of ``fig8.tsv``: one row per (model, fold, rank_half, n_features, s, t).
COLUMNS = [
    "dataset", "model", "modality_dropout", "per_feature_norm", "alpha",
    "fold", "rank_half", "eval_half", "n_features", "train_modality", "test_modality",
    "setting", "accuracy", "n_train", "n_test",
]


def fig8_data(
    selection_files: list[str],
    table: str | Path,
    *,
    dataset: str,
    modalities: list[str],
    models: list[str],
    folds: list[int],
) -> pd.DataFrame:
    """Rule ``fig8_data``: write ``results/{ds}/figdata/fig8.tsv``.

    Args:
        selection_files: ``results/{ds}/feature_selection/{model}/fold{k}.tsv`` (or the
            archive's) for every model and fold, model-major.
        table: output path (columns :data:`COLUMNS`; ``setting`` is ``same`` for s = t).
        dataset: dataset key.
        modalities: the dataset's modalities.
        models: axial network ids (the whole grid).
        folds: fold indices.

    Returns:
        The table written.

    Raises:
        InputError: a model is not an axial id, a table is missing or malformed, or no fold's
            test set could be split in two halves.
    """
    files = files_by_model(selection_files, models, folds, ".tsv")
    frames = []
    for model in models:
        columns = model_columns(model, modalities)
        for k in folds:
            result = read_feature_selection(files[model][k])
            if len(result):
                frames.append(result.assign(dataset=dataset, model=model, fold=int(k), **columns))
            else:
                log.warning("%s fold %d: its test set has no two halves; not in Fig. 8", model, k)
    if not frames:
        raise InputError(
            f"Fig. 8 of {dataset}: no test fold has two non-empty halves; the 5x2 scheme needs "
            "at least two subjects per test fold (more subjects or fewer folds)"
        )
    result = pd.concat(frames, ignore_index=True)
    same = result["train_modality"] == result["test_modality"]
    result["setting"] = np.where(same, "same", "cross")
    result = result[COLUMNS]
    with atomic_path(table) as tmp:
        result.to_csv(tmp, sep="\t", index=False)
    return result
