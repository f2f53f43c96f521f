"""Accuracy per modality pair (s, t) of every Table I cell, over folds and seeds.

Table I averages over pairs; the paper notes that accuracy depends on which modalities are
combined (e.g. T2 and FLAIR do better than T1 and T1+c on BraTS). This table keeps the pairs
apart: per cell and pair, the mean and SD (``ddof=1``; 0 for one unit) over the units
(fold, seed) of :mod:`crossmodal.reporting.cell`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import SINGLE_BASELINE_CELL, single_baseline_modality
from crossmodal.evaluation.evaluate import read_accuracy
from crossmodal.reporting.cell import pair_setting, with_seeds

PAIR_COLUMNS = [
    "dataset",
    "cell",
    "network",
    "train_modality",
    "test_modality",
    "setting",
    "accuracy_percent",
    "sd_percent",
    "n_folds",
    "n_seeds",
]


def network_cell(model: str, modalities: list[str]) -> str:
    """The Table I cell a network belongs to: ``baseline-{m}`` -> ``baseline-single``.

    Raises:
        InputError: ``model`` is not a network id for these modalities.
    """
    if single_baseline_modality(model, modalities) is not None:
        return SINGLE_BASELINE_CELL
    return model


def pair_summary(
    accuracy: pd.DataFrame, *, dataset: str, modalities: list[str], cells: list[str]
) -> pd.DataFrame:
    """Mean and SD over folds and seeds of the accuracy of every (cell, s, t).

    Args:
        accuracy: ``evaluate`` rows of the dataset's networks over all folds and seeds.
        dataset: dataset key.
        modalities: the dataset's modalities (the order of s and t in the output).
        cells: cell ids in output order; every network's cell must be listed.

    Returns:
        Columns ``PAIR_COLUMNS``, one row per cell and pair present, ordered by ``cells``, then
        s, then t (modality order). ``network`` is the network that encoded the features
        (``baseline-{s}`` in the ``baseline-single`` cell; without a seed suffix); accuracies
        in percent; ``n_folds`` and ``n_seeds`` count the units averaged.

    Raises:
        InputError: a network outside ``cells``, or a pair repeated within a fold and seed.
    """
    if accuracy.empty:
        raise InputError(f"dataset {dataset!r}: no accuracy rows for the pair table")
    frame = with_seeds(accuracy)
    frame["cell"] = [network_cell(m, modalities) for m in frame["network"]]
    unknown = sorted(set(frame["cell"]) - set(cells))
    if unknown:
        raise InputError(f"dataset {dataset!r}: accuracy rows of cells {unknown} not configured")
    keys = ["cell", "train_modality", "test_modality", "fold", "seed"]
    repeated = frame[frame.duplicated(keys)]
    if len(repeated):
        row = repeated.iloc[0]
        seed = f" seed {row['seed']}" if row["seed"] else ""
        raise InputError(
            f"dataset {dataset!r}: pair ({row['train_modality']}, {row['test_modality']}) of "
            f"cell {row['cell']} fold {row['fold']}{seed} appears twice; check the accuracy files"
        )
    frame["accuracy_percent"] = 100.0 * frame["accuracy"]
    grouped = frame.groupby(["cell", "network", "train_modality", "test_modality"], sort=False)
    table = grouped.agg(
        accuracy_percent=("accuracy_percent", "mean"),
        sd_percent=("accuracy_percent", lambda a: a.std(ddof=1) if len(a) > 1 else 0.0),
        n_folds=("fold", "nunique"),
        n_seeds=("seed", "nunique"),
    )
    table = table.reset_index()
    table.insert(0, "dataset", dataset)
    table["setting"] = pair_setting(table["train_modality"], table["test_modality"])
    rank = {
        "cell": {c: i for i, c in enumerate(cells)},
        "train_modality": {m: i for i, m in enumerate(modalities)},
        "test_modality": {m: i for i, m in enumerate(modalities)},
    }
    table = table.sort_values(list(rank), key=lambda col: col.map(rank[col.name]))
    return table[PAIR_COLUMNS].reset_index(drop=True)


def write_pairs(
    accuracy_paths: list[str | Path],
    output_path: str | Path,
    *,
    dataset: str,
    modalities: list[str],
    cells: list[str],
) -> pd.DataFrame:
    """Rule ``pairs``: write ``results/{ds}/pairs.csv``.

    Args:
        accuracy_paths: the ``evaluate`` tables of every network and fold of the dataset.
        output_path: the csv (columns ``PAIR_COLUMNS``; percentages rounded to 2 decimals).
        dataset: dataset key.
        modalities: the dataset's modalities.
        cells: the dataset's cell ids in Table I order.

    Returns:
        The table written.

    Raises:
        InputError: see ``pair_summary``.
    """
    table = pair_summary(
        read_accuracy(accuracy_paths), dataset=dataset, modalities=modalities, cells=cells
    )
    rounded = table.copy()
    for column in ("accuracy_percent", "sd_percent"):
        rounded[column] = rounded[column].round(2)
    with atomic_path(output_path) as tmp:
        rounded.to_csv(tmp, index=False)
    return table
