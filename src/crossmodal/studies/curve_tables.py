"""The learning-curve tables: their columns, their one writer and reader (rule ``curve_tables``).

Two tab-separated tables, owned here (this module imports neither the training code nor torch,
so drawing a curve loads no training code):

* ``results/{ds}/curves/{model}/fold{k}.tsv``, written by rule ``curve_training``
  (:mod:`crossmodal.studies.curve_training`) with :func:`write_curve`, one row per update count:
  ``dataset, model, fold, updates, epochs`` (updates / updates per epoch), ``patches_seen``
  (updates x batch size), ``train_loss``, ``recon_loss``, ``sim_loss`` (means over the updates
  since the previous row), ``same_accuracy``, ``cross_accuracy`` (percent; mean over the
  modality pairs as in Table I; ``cross_accuracy`` empty where a network has no cross pair),
  ``default_length`` (True at the update count of the Table I run: ``training.epochs``, or
  ``training.updates`` in whole epochs) and
  ``seconds`` (training time so far): ``CURVE_COLUMNS``.
* ``results/curves/learning_{ds}.tsv``, written by rule ``curve_tables``
  (:func:`collect_curves`): the rows of a dataset's per-network tables plus the grid
  coordinates ``kind`` (``axial`` / ``baseline``), ``modality_dropout``, ``per_feature_norm`` and
  ``alpha`` (empty for baselines), sorted by model and update count; read with
  :func:`read_curves`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import parse_model_id
from crossmodal.common.tsv_tables import read_tables

CURVE_COLUMNS = [
    "dataset", "model", "fold", "updates", "epochs", "patches_seen", "train_loss", "recon_loss",
    "sim_loss", "same_accuracy", "cross_accuracy", "default_length", "seconds",
]  # fmt: skip
GRID_COLUMNS = ["kind", "modality_dropout", "per_feature_norm", "alpha"]


def write_curve(rows: list[dict], path: str | Path) -> pd.DataFrame:
    """Write the learning curve of one network and fold atomically.

    Args:
        rows: one dict per update count, keys ``CURVE_COLUMNS``.
        path: ``results/{ds}/curves/{model}/fold{k}.tsv``.

    Returns:
        The table written.
    """
    table = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table


def read_curves(path: str | Path) -> pd.DataFrame:
    """Read a table written by :func:`collect_curves` (text columns kept as text)."""
    return pd.read_csv(path, sep="\t", dtype={"dataset": str, "model": str, "kind": str})


def collect_curves(paths: list[str | Path], output_path: str | Path, modalities: list[str]) -> pd.DataFrame:
    """Concatenate per-network learning curves and add each network's grid coordinates.

    Args:
        paths: ``results/{ds}/curves/{model}/fold{k}.tsv`` files of one dataset.
        output_path: ``results/curves/learning_{ds}.tsv``.
        modalities: the dataset's modalities (to parse baseline ids).

    Returns:
        The table written.

    Raises:
        InputError: no paths, a file lacks a column, or a model id is not a network id.
    """
    if not paths:
        raise InputError("no learning-curve tables given; check config learning_curves")
    table = read_tables(paths, CURVE_COLUMNS, ["dataset", "model"], "curve_training")
    grid = []
    for model in table["model"]:
        try:
            spec = parse_model_id(model, list(modalities))
        except ValueError as error:
            raise InputError(f"learning curves: {error}") from None
        axial = spec.kind == "axial"
        grid.append({
            "kind": spec.kind,
            "modality_dropout": int(spec.modality_dropout) if axial else pd.NA,
            "per_feature_norm": int(spec.per_feature_norm) if axial else pd.NA,
            "alpha": float(spec.alpha) if axial else pd.NA,
        })  # fmt: skip
    table = pd.concat([table, pd.DataFrame(grid, index=table.index)], axis=1)
    table = table.sort_values(["kind", "modality_dropout", "per_feature_norm", "alpha", "model", "updates"],
                              na_position="last", kind="stable").reset_index(drop=True)  # fmt: skip
    with atomic_path(output_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table
