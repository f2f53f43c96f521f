"""All learning curves of a dataset in one table (rule ``learning_curves``).

Reads the per-network tables of :mod:`crossmodal.learning_curve` and writes
``results/curves/learning_{ds}.tsv``: their rows (``CURVE_COLUMNS``) plus the grid coordinates
``kind`` (``axial`` / ``baseline``), ``modality_dropout``, ``per_feature_norm`` and ``alpha``
(empty for baselines), sorted by model and update count.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.atomic import atomic_path
from crossmodal.errors import InputError
from crossmodal.learning_curve import CURVE_COLUMNS
from crossmodal.model_ids import parse_model_id
from crossmodal.tsv_tables import read_tables

GRID_COLUMNS = ["kind", "modality_dropout", "per_feature_norm", "alpha"]


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
    table = read_tables(paths, CURVE_COLUMNS, ["dataset", "model"], "learning_curve")
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
