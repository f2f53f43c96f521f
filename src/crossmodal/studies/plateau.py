"""Where a learning curve flattens (rule ``plateau``): the training length a converged run needs.

A curve (:mod:`crossmodal.studies.curve_tables`) is one seed of one fold, so neighbouring points differ
by training noise as well as by training: a plateau is read as a stretch of points that all lie
within ``tolerance`` accuracy points of the curve's final level, not as a zero slope. For each
network and measure (same- and cross-modality accuracy, percent):

* ``final_level``: the mean of the last ``final_points`` points;
* ``plateau_updates`` / ``plateau_epochs``: the first update count from which every point lies
  within ``tolerance`` of ``final_level``;
* ``reached``: that flat stretch holds at least ``final_points + 1`` points (with the
  log-spaced ``curve_updates``, about two doublings; less where the default length adds a point
  between two of them); otherwise the curve may still be rising and the measured range is too
  short to say where it flattens;
* ``default_value`` / ``gap_at_default``: the point at the config's default length and how far
  below the final level it lies;
* ``seconds_per_update``: training seconds per update over the whole curve (evaluation time
  excluded), to cost a run of ``plateau_updates``.

Output ``results/curves/plateau_{ds}.tsv`` (``PLATEAU_COLUMNS``), one row per network and
measure, written atomically by :func:`write_plateaus`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.studies.curve_tables import GRID_COLUMNS, read_curves

log = logging.getLogger(__name__)

MEASURES = ["same_accuracy", "cross_accuracy"]
PLATEAU_COLUMNS = [
    "dataset", "model", "fold", *GRID_COLUMNS, "measure", "tolerance", "final_level", "plateau_updates",
    "plateau_epochs", "plateau_value", "reached", "last_updates", "default_updates", "default_value",
    "gap_at_default", "seconds_per_update",
]  # fmt: skip


def plateau_index(values: np.ndarray, tolerance: float, final_points: int = 2) -> tuple[int, float, bool]:
    """The first point of a curve's flat end.

    Args:
        values: shape ``(n,)``, the curve's values (percent) in order of update count, no NaN.
        tolerance: how far (percentage points) a point may lie from the final level and still
            count as flat.
        final_points: how many last points make the final level.

    Returns:
        ``(index, final_level, reached)``: the first index from which every value lies within
        ``tolerance`` of ``final_level`` (the mean of the last ``final_points`` values; the last
        index where even the last value does not), and whether at least ``final_points + 1``
        values lie in that stretch.

    Raises:
        ValueError: fewer than ``final_points`` values, or ``final_points`` < 1.
    """
    values = np.asarray(values, dtype=float)
    if final_points < 1 or len(values) < final_points:
        raise ValueError(f"a plateau needs at least final_points = {final_points} >= 1 values, got {len(values)}")
    level = float(values[-final_points:].mean())
    outside = np.flatnonzero(np.abs(values - level) > tolerance)
    index = int(outside[-1]) + 1 if len(outside) else 0
    if index == len(values):  # the final points themselves spread wider than the tolerance
        return index - 1, level, False
    return index, level, len(values) - index >= final_points + 1


def plateau_table(curves: pd.DataFrame, tolerance: float, final_points: int = 2) -> pd.DataFrame:
    """The plateau of every network and measure of a learning-curve table.

    Args:
        curves: a table of :func:`crossmodal.studies.curve_tables.collect_curves` (one dataset and fold).
        tolerance: percentage points (see :func:`plateau_index`).
        final_points: points averaged into the final level.

    Returns:
        One row per network and measure with a value (a network without a cross-modality pair
        has no cross row), columns ``PLATEAU_COLUMNS``.

    Raises:
        InputError: a curve has fewer than ``final_points + 1`` points of a measure, or no point
            at the default length.
    """
    rows = []
    for model, curve in curves.groupby("model", sort=False):
        curve = curve.sort_values("updates")
        default = curve[curve["default_length"].astype(bool)]
        if default.empty:
            raise InputError(f"learning curve of {model}: no point at the default length; rerun its curve_training job")
        last = curve.iloc[-1]
        for measure in MEASURES:
            points = curve[curve[measure].notna()]
            if points.empty:
                continue
            if len(points) < final_points + 1:
                raise InputError(
                    f"learning curve of {model}: {len(points)} points of {measure}, a plateau needs at least "
                    f"{final_points + 1}; add update counts to the dataset's curve_updates"
                )
            index, level, reached = plateau_index(points[measure].to_numpy(), tolerance, final_points)
            at = points.iloc[index]
            rows.append({
                "dataset": last["dataset"], "model": model, "fold": int(last["fold"]),
                **{c: last[c] for c in GRID_COLUMNS}, "measure": measure, "tolerance": float(tolerance),
                "final_level": level, "plateau_updates": int(at["updates"]), "plateau_epochs": float(at["epochs"]),
                "plateau_value": float(at[measure]), "reached": bool(reached), "last_updates": int(last["updates"]),
                "default_updates": int(default["updates"].iloc[0]), "default_value": float(default[measure].iloc[0]),
                "gap_at_default": level - float(default[measure].iloc[0]),
                "seconds_per_update": float(last["seconds"]) / float(last["updates"]),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=PLATEAU_COLUMNS)


def write_plateaus(curves_path: str | Path, output_path: str | Path, tolerance: float) -> pd.DataFrame:
    """Find the plateau of every curve of ``results/curves/learning_{ds}.tsv`` and write the table.

    Logs the update count from which every cross-modality curve is flat (the training length a
    converged run of this dataset needs), or the networks whose curves are not yet flat.

    Args:
        curves_path: ``results/curves/learning_{ds}.tsv``.
        output_path: ``results/curves/plateau_{ds}.tsv``.
        tolerance: percentage points (config ``learning_curves.plateau_tolerance``).

    Returns:
        The table written.

    Raises:
        InputError: as :func:`plateau_table`.
    """
    table = plateau_table(read_curves(curves_path), tolerance)
    cross = table[table["measure"] == "cross_accuracy"]
    open_ = cross.loc[~cross["reached"], "model"].tolist()
    if open_:
        log.info("cross-modality curves not flat within %.1f points by their last point: %s", tolerance, open_)
    elif not cross.empty:
        # epochs, not updates: training.epochs sizes a run, and networks differ in updates per epoch
        flat = cross.loc[cross["plateau_epochs"].idxmax()]
        log.info("every cross-modality curve is flat within %.1f points from %.1f epochs (%d updates of %s) on",
                 tolerance, flat["plateau_epochs"], flat["plateau_updates"], flat["model"])  # fmt: skip
    with atomic_path(output_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table
