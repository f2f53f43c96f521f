"""One Table I cell group: same- and cross-modality accuracy of one network setting.

A cell's unit is one (fold, seed): the network trained on that fold from that initialisation
seed (``crossmodal.common.model_ids.seeded_id``; seed 0 is the bare id). A unit's value is the mean
over its modality pairs (s, t): same-modality pairs have s = t (M per unit), cross-modality pairs
s != t (M(M-1) per unit). A cell is the mean over units (folds x seeds) of those values; the
spread is the sample SD over the units (``ddof=1``); with a single unit it is reported as 0.
:func:`unit_means` gives the per-unit values that :mod:`crossmodal.reporting.claims` pairs between cells.

The ``baseline-single`` cell ("features from the training modality only") pools the
``baseline-{m}`` networks: pair (s, t) of a unit comes from the network trained on s from the
unit's seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import SINGLE_BASELINE_CELL, cell_networks, split_seed
from crossmodal.common.tsv_tables import read_tables
from crossmodal.evaluation.evaluate import read_accuracy

CELL_COLUMNS = [
    "dataset",
    "cell",
    "setting",
    "accuracy_percent",
    "sd_percent",
    "n_folds",
    "n_seeds",
    "n_pairs",
]
UNIT_COLUMNS = ["setting", "fold", "seed", "accuracy_percent", "n_pairs"]
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


def _unit_name(fold, seed) -> str:
    """``fold 1`` (seed 0) or ``fold 1, seed 2``: where a unit is named in messages."""
    return f"fold {fold}" + (f", seed {seed}" if int(seed) else "")


def with_seeds(accuracy: pd.DataFrame) -> pd.DataFrame:
    """``accuracy`` with the columns ``network`` (the id without its seed suffix) and ``seed``.

    Args:
        accuracy: rows of ``evaluate`` tables (column ``model``: a network id, seeded or not).

    Returns:
        A copy with ``network`` (text) and ``seed`` (int) added.
    """
    split = [split_seed(model) for model in accuracy["model"]]
    frame = accuracy.copy()
    frame["network"] = [network for network, _ in split]
    frame["seed"] = [seed for _, seed in split]
    return frame


def check_cell_rows(
    accuracy: pd.DataFrame, *, dataset: str, cell: str, modalities: list[str]
) -> None:
    """Check that the accuracy rows of a cell hold every pair exactly once per (fold, seed).

    Args:
        accuracy: rows of the ``evaluate`` tables of the cell's networks (any seeds).
        dataset: dataset key (for messages).
        cell: cell id.
        modalities: the dataset's modalities.

    Raises:
        InputError: rows from a network outside the cell, a ``baseline-{m}`` row with another
            training modality, a (fold, seed) with a missing or repeated pair, or a fold
            trained from other seeds than the others.
    """
    networks = cell_networks(cell, modalities)
    where = f"dataset {dataset!r}, cell {cell!r}"
    frame = with_seeds(accuracy)
    stray = sorted(set(frame.loc[~frame["network"].isin(networks), "model"]))
    if stray:
        raise InputError(f"{where}: accuracy rows of networks {stray} do not belong to it")
    if cell == SINGLE_BASELINE_CELL:
        wrong = frame[frame["network"] != "baseline-" + frame["train_modality"]]
        if len(wrong):
            row = wrong.iloc[0]
            raise InputError(
                f"{where}: network {row['model']} fold {row['fold']} has a forest trained on "
                f"{row['train_modality']!r}; rerun its evaluate job"
            )
    expected = {(s, t) for s in modalities for t in modalities}
    for (fold, seed), rows in frame.groupby(["fold", "seed"]):
        pairs = list(zip(rows["train_modality"], rows["test_modality"]))
        repeated = sorted({p for p in pairs if pairs.count(p) > 1})
        missing = sorted(expected - set(pairs))
        extra = sorted(set(pairs) - expected)
        if repeated or missing or extra:
            raise InputError(
                f"{where}, {_unit_name(fold, seed)}: modality pairs missing {missing}, "
                f"repeated {repeated}, unknown {extra}; rerun the evaluate jobs of {networks} "
                "for this fold"
            )
    seeds = frame.groupby("fold")["seed"].agg(lambda s: tuple(sorted(set(s))))
    if seeds.nunique() > 1:
        raise InputError(
            f"{where}: the folds were trained from different seeds "
            f"({dict(seeds.map(list))}); run every seed of every fold"
        )


def unit_means(
    accuracy: pd.DataFrame, *, dataset: str, cell: str, modalities: list[str]
) -> pd.DataFrame:
    """Same- and cross-modality accuracy of one cell per unit (fold, seed).

    Args:
        accuracy: the ``evaluate`` rows of the cell's networks over all folds and seeds
            (columns ``model, fold, train_modality, test_modality, accuracy``).
        dataset: dataset key.
        cell: cell id (an axial id, ``baseline-all`` or ``baseline-single``).
        modalities: the dataset's modalities.

    Returns:
        Columns ``UNIT_COLUMNS``, one row per setting (``same`` first), fold and seed:
        ``accuracy_percent`` = 100 x mean over the unit's pairs of that setting, ``n_pairs`` the
        number of those pairs.

    Raises:
        InputError: no rows; see also ``check_cell_rows``.
    """
    if accuracy.empty:
        raise InputError(f"dataset {dataset!r}, cell {cell!r}: no accuracy rows")
    check_cell_rows(accuracy, dataset=dataset, cell=cell, modalities=modalities)
    frame = with_seeds(accuracy)
    frame["setting"] = pair_setting(frame["train_modality"], frame["test_modality"])
    units = frame.groupby(["setting", "fold", "seed"])["accuracy"].agg(["mean", "size"])
    units = units.reset_index().rename(columns={"size": "n_pairs"})
    units["accuracy_percent"] = 100.0 * units["mean"]
    units["_order"] = units["setting"].map({name: i for i, name in enumerate(SETTINGS)})
    units = units.sort_values(["_order", "fold", "seed"])
    return units[UNIT_COLUMNS].reset_index(drop=True)


def cell_summary(
    accuracy: pd.DataFrame, *, dataset: str, cell: str, modalities: list[str]
) -> pd.DataFrame:
    """Same- and cross-modality accuracy of one cell.

    Args:
        accuracy: the ``evaluate`` rows of the cell's networks over all folds and seeds
            (columns ``model, fold, train_modality, test_modality, accuracy``).
        dataset: dataset key.
        cell: cell id (an axial id, ``baseline-all`` or ``baseline-single``).
        modalities: the dataset's modalities.

    Returns:
        Two rows (``same``, ``cross``), columns ``CELL_COLUMNS``: ``accuracy_percent`` = mean
        over units (folds x seeds) of :func:`unit_means`, ``sd_percent`` = SD over the units
        (``ddof=1``; 0 for one unit), ``n_folds``, ``n_seeds``, ``n_pairs`` (pairs per unit).

    Raises:
        InputError: see ``unit_means``.
    """
    units = unit_means(accuracy, dataset=dataset, cell=cell, modalities=modalities)
    rows = []
    for name in SETTINGS:
        values = units.loc[units["setting"] == name]
        sd = float(values["accuracy_percent"].std(ddof=1)) if len(values) > 1 else 0.0
        rows.append(
            {
                "dataset": dataset,
                "cell": cell,
                "setting": name,
                "accuracy_percent": float(values["accuracy_percent"].mean()),
                "sd_percent": sd,
                "n_folds": values["fold"].nunique(),
                "n_seeds": values["seed"].nunique(),
                "n_pairs": int(values["n_pairs"].iloc[0]),
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
