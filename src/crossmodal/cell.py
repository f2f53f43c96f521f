"""One Table I cell group: same- and cross-modality accuracy of one network setting.

A cell is the mean over folds of the per-fold mean over modality pairs (s, t): same-modality
pairs have s = t (M per fold), cross-modality pairs s != t (M(M-1) per fold). The spread is the
sample SD over folds (``ddof=1``); with a single fold it is reported as 0.

The ``baseline-single`` cell ("features from the training modality only") pools the
``baseline-{m}`` networks: pair (s, t) comes from the network trained on s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.atomic import atomic_path
from crossmodal.errors import InputError
from crossmodal.evaluate import read_accuracy
from crossmodal.model_ids import SINGLE_BASELINE_CELL, cell_networks
from crossmodal.tsv_tables import read_tables

CELL_COLUMNS = [
    "dataset",
    "cell",
    "setting",
    "accuracy_percent",
    "sd_percent",
    "n_folds",
    "n_pairs",
]
SETTINGS = ("same", "cross")


def pair_setting(train_modality: pd.Series, test_modality: pd.Series) -> pd.Series:
    """``"same"`` where s = t, else ``"cross"`` (element-wise)."""
    return pd.Series(
        np.where(train_modality.to_numpy() == test_modality.to_numpy(), "same", "cross"),
        index=train_modality.index,
    )


def same_cross_means(accuracy: pd.DataFrame) -> tuple[float, float]:
    """Same- and cross-modality accuracy (percent) of one network and fold: means over the pairs.

    Args:
        accuracy: the rows of one ``evaluate`` table (columns ``train_modality``,
            ``test_modality``, ``accuracy`` as a fraction).

    Returns:
        ``(same, cross)``: the means over the pairs s = t and s != t, in percent; ``nan`` where
        there is no such pair.
    """
    setting = pair_setting(accuracy["train_modality"], accuracy["test_modality"])
    means = {k: float(100 * accuracy.loc[setting == k, "accuracy"].mean()) if (setting == k).any() else np.nan
             for k in SETTINGS}  # fmt: skip
    return means["same"], means["cross"]


def check_cell_rows(
    accuracy: pd.DataFrame, *, dataset: str, cell: str, modalities: list[str]
) -> None:
    """Check that the accuracy rows of a cell hold every pair exactly once per fold.

    Args:
        accuracy: rows of the ``evaluate`` tables of the cell's networks.
        dataset: dataset key (for messages).
        cell: cell id.
        modalities: the dataset's modalities.

    Raises:
        InputError: rows from a network outside the cell, a ``baseline-{m}`` row with another
            training modality, or a fold with a missing or repeated pair.
    """
    networks = cell_networks(cell, modalities)
    where = f"dataset {dataset!r}, cell {cell!r}"
    stray = sorted(set(accuracy["model"]) - set(networks))
    if stray:
        raise InputError(f"{where}: accuracy rows of networks {stray} do not belong to it")
    if cell == SINGLE_BASELINE_CELL:
        wrong = accuracy[accuracy["model"] != "baseline-" + accuracy["train_modality"]]
        if len(wrong):
            row = wrong.iloc[0]
            raise InputError(
                f"{where}: network {row['model']} fold {row['fold']} has a forest trained on "
                f"{row['train_modality']!r}; rerun its evaluate job"
            )
    expected = {(s, t) for s in modalities for t in modalities}
    for fold, rows in accuracy.groupby("fold"):
        pairs = list(zip(rows["train_modality"], rows["test_modality"]))
        repeated = sorted({p for p in pairs if pairs.count(p) > 1})
        missing = sorted(expected - set(pairs))
        extra = sorted(set(pairs) - expected)
        if repeated or missing or extra:
            raise InputError(
                f"{where}, fold {fold}: modality pairs missing {missing}, repeated {repeated}, "
                f"unknown {extra}; rerun the evaluate jobs of {networks} for this fold"
            )


def cell_summary(
    accuracy: pd.DataFrame, *, dataset: str, cell: str, modalities: list[str]
) -> pd.DataFrame:
    """Same- and cross-modality accuracy of one cell.

    Args:
        accuracy: the ``evaluate`` rows of the cell's networks over all folds (columns
            ``model, fold, train_modality, test_modality, accuracy``).
        dataset: dataset key.
        cell: cell id (an axial id, ``baseline-all`` or ``baseline-single``).
        modalities: the dataset's modalities.

    Returns:
        Two rows (``same``, ``cross``), columns ``CELL_COLUMNS``: ``accuracy_percent`` = 100 x
        mean over folds of the mean over pairs, ``sd_percent`` = 100 x SD over folds of the
        per-fold means (``ddof=1``; 0 for one fold), ``n_folds``, ``n_pairs`` (pairs per fold).

    Raises:
        InputError: see ``check_cell_rows``.
    """
    if accuracy.empty:
        raise InputError(f"dataset {dataset!r}, cell {cell!r}: no accuracy rows")
    check_cell_rows(accuracy, dataset=dataset, cell=cell, modalities=modalities)
    setting = pair_setting(accuracy["train_modality"], accuracy["test_modality"])
    per_fold = accuracy.groupby([setting.rename("setting"), "fold"])["accuracy"].agg(
        ["mean", "size"]
    )
    rows = []
    for name in SETTINGS:
        folds = per_fold.loc[name]
        n_folds = len(folds)
        sd = float(folds["mean"].std(ddof=1)) if n_folds > 1 else 0.0
        rows.append(
            {
                "dataset": dataset,
                "cell": cell,
                "setting": name,
                "accuracy_percent": 100.0 * float(folds["mean"].mean()),
                "sd_percent": 100.0 * sd,
                "n_folds": n_folds,
                "n_pairs": int(folds["size"].iloc[0]),
            }
        )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def write_cell(
    accuracy_paths: list[str | Path],
    output_path: str | Path,
    *,
    dataset: str,
    cell: str,
    modalities: list[str],
) -> pd.DataFrame:
    """Rule ``cell``: write ``results/{ds}/cells/{cell}.tsv``.

    Args:
        accuracy_paths: the ``evaluate`` tables of every network of the cell and every fold.
        output_path: the cell table (tab-separated, columns ``CELL_COLUMNS``).
        dataset: dataset key.
        cell: cell id.
        modalities: the dataset's modalities.

    Returns:
        The table written.

    Raises:
        InputError: see ``cell_summary``.
    """
    table = cell_summary(
        read_accuracy(accuracy_paths), dataset=dataset, cell=cell, modalities=modalities
    )
    with atomic_path(output_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table


def read_cells(paths: list[str | Path]) -> pd.DataFrame:
    """Concatenate cell tables written by ``cell``.

    Raises:
        InputError: no paths, or a file lacks a column.
    """
    if not paths:
        raise InputError("no cell files given; check the configured datasets and grid")
    return read_tables(paths, CELL_COLUMNS, ["dataset", "cell", "setting"], "cell")
