"""The paper's published Table I (``table1_paper.csv`` beside this module) and Table I's row keys.

``table1_paper.csv``: ``dataset`` (``oai`` or ``brats``), ``model``, ``modality_dropout``,
``per_feature_norm``, ``alpha``, ``setting``, ``accuracy_percent``. Read by Table I
(:mod:`crossmodal.reporting.table`), the claims (:mod:`crossmodal.reporting.claims`) and the
ablation (:mod:`crossmodal.studies.ablation`), none of which imports another for it.
"""

from __future__ import annotations

import importlib.resources

import pandas as pd

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import SINGLE_BASELINE_CELL, format_alpha, parse_model_id

PAPER_COLUMNS = [
    "dataset",
    "model",
    "modality_dropout",
    "per_feature_norm",
    "alpha",
    "setting",
    "accuracy_percent",
]


def load_paper_table() -> pd.DataFrame:
    """The paper's Table I as tidy data (72 rows; ``dataset`` is ``oai`` or ``brats``).

    Returns:
        Columns ``PAPER_COLUMNS``; ``modality_dropout``/``per_feature_norm`` as nullable
        integers, ``alpha`` as text (``"0.1"``; empty for baselines).
    """
    source = importlib.resources.files("crossmodal.reporting") / "table1_paper.csv"
    with source.open("r") as handle:
        paper = pd.read_csv(handle, dtype={"alpha": str, "dataset": str})
    for column in ("modality_dropout", "per_feature_norm"):
        paper[column] = paper[column].astype("Int64")
    return paper[PAPER_COLUMNS]


def describe_cell(cell: str) -> dict:
    """Table I row keys of a cell id.

    Args:
        cell: an axial id, ``baseline-all`` or ``baseline-single``.

    Returns:
        ``model`` (``axial``, ``baseline_all`` or ``baseline_training_modality``),
        ``modality_dropout``, ``per_feature_norm`` (0/1, ``pd.NA`` for baselines) and ``alpha``
        (text like ``"0.1"``, ``pd.NA`` for baselines).

    Raises:
        InputError: not a cell id.
    """
    if cell == "baseline-all":
        return _baseline("baseline_all")
    if cell == SINGLE_BASELINE_CELL:
        return _baseline("baseline_training_modality")
    try:
        spec = parse_model_id(cell, [])
    except ValueError as error:
        raise InputError(f"cell table names an unknown cell: {error}") from error
    if spec.kind != "axial":
        raise InputError(f"cell table names an unknown cell {cell!r}")
    return {
        "model": "axial",
        "modality_dropout": int(spec.modality_dropout),
        "per_feature_norm": int(spec.per_feature_norm),
        "alpha": format_alpha(spec.alpha),
    }


def _baseline(model: str) -> dict:
    return {"model": model, "modality_dropout": pd.NA, "per_feature_norm": pd.NA, "alpha": pd.NA}
