"""Subject-grouped, seeded cross-validation folds and the halves of each test fold.

The paper divides the scans "in five random subsets of approximately equal size, making sure
that all scans of a subject were kept in the same subset", and for Fig. 8 splits each test
subset "in two halves, ensuring that all data from the same subject is in the same half"
(the 5x2 scheme).

Both splits use scikit-learn's ``GroupKFold`` without shuffling, which assigns the largest
subjects first, each to the fold with the fewest scans so far, so fold sizes (in scans) differ
by at most the largest subject's scan count. Its own ``shuffle=True`` mode would instead deal
out equal numbers of *subjects* per fold regardless of their scan counts, so randomness is
brought in by renaming the subjects with a seeded random permutation: ``GroupKFold`` breaks
ties between equally large subjects by name, so the permutation decides which subject lands
in which fold. Seeds: ``derive_seed(seed, "folds")`` and ``derive_seed(seed, "halves", k)``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.dataset_checks import check_subject_count
from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed
from crossmodal.common.tsv_tables import read_table

log = logging.getLogger(__name__)

COLUMNS = ["scan_id", "subject_id", "fold", "half"]


def grouped_split(subject_ids: np.ndarray, n_splits: int, seed: int) -> np.ndarray:
    """Split items into ``n_splits`` size-balanced parts, all items of a subject in one part.

    Args:
        subject_ids: str ``[N]``, subject of each item.
        n_splits: number of parts (at most the number of distinct subjects).
        seed: seed of the random subject permutation.

    Returns:
        int64 ``[N]`` part index (0..n_splits-1) of each item.
    """
    subjects, inverse = np.unique(np.asarray(subject_ids, dtype=str), return_inverse=True)
    rank = np.random.default_rng(seed).permutation(len(subjects))
    groups = rank[inverse]  # a random integer name per subject
    part = np.full(len(subject_ids), -1, dtype=np.int64)
    # imported here: training and encoding read folds.tsv through this module, and
    # scikit-learn's import (~1 s) would otherwise delay each of their jobs
    from sklearn.model_selection import GroupKFold

    splitter = GroupKFold(n_splits=n_splits)
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(groups)), groups=groups)):
        part[test] = k
    return part


def assign_folds(
    scan_ids: list[str], subject_ids: list[str], n_folds: int, seed: int, name: str = "dataset"
) -> pd.DataFrame:
    """Folds and halves for a list of scans.

    Args:
        scan_ids: unique scan ids.
        subject_ids: subject of each scan.
        n_folds: K, number of folds.
        seed: the dataset's ``seed`` config.
        name: dataset key, for messages.

    Returns:
        DataFrame with columns ``scan_id, subject_id, fold, half`` in the order of ``scan_ids``.

    Raises:
        InputError: duplicate scan ids, fewer than two subjects per fold
            (:func:`check_subject_count`), or a fold with fewer than two subjects (its halves
            cannot be subject-grouped) because a subject with many scans fills it.
    """
    table = pd.DataFrame({"scan_id": list(map(str, scan_ids)), "subject_id": list(map(str, subject_ids))})
    duplicated = table["scan_id"][table["scan_id"].duplicated()].tolist()
    if duplicated:
        raise InputError(f"dataset {name}: scan ids listed twice in the manifest: {duplicated[:5]}")
    check_subject_count(table["subject_id"].nunique(), n_folds, name)
    table["fold"] = grouped_split(table["subject_id"].to_numpy(), n_folds, derive_seed(seed, "folds"))
    table["half"] = -1
    for k in range(n_folds):
        rows = table["fold"] == k
        n_in_fold = table.loc[rows, "subject_id"].nunique()
        if n_in_fold < 2:
            raise InputError(
                f"dataset {name}: fold {k} holds {n_in_fold} subject(s), but its two "
                f"subject-grouped halves (the 5x2 scheme of Fig. 8) need at least 2: folds are "
                f"balanced by scans, and a subject with many scans fills this one; use fewer "
                f"folds (datasets.{name}.folds)"
            )
        table.loc[rows, "half"] = grouped_split(
            table.loc[rows, "subject_id"].to_numpy(), 2, derive_seed(seed, "halves", k)
        )
    return table[COLUMNS]


def make_folds(
    manifest: str | Path, folds_tsv: str | Path, n_folds: int, seed: int, name: str = "dataset"
) -> pd.DataFrame:
    """Write ``folds.tsv`` for the scans of a manifest (rule ``folds``).

    Args:
        manifest: ``results/{ds}/manifest.tsv`` (uses ``scan_id``, ``subject_id``).
        folds_tsv: output path.
        n_folds: K (config ``folds``).
        seed: the dataset's ``seed`` config.
        name: dataset key, for messages.

    Returns:
        The table written (manifest order).

    Raises:
        InputError: see :func:`assign_folds`; also a manifest without the id columns.
    """
    table = read_table(manifest, ["scan_id", "subject_id"], "ingest", all_text=True)
    folds = assign_folds(table["scan_id"].tolist(), table["subject_id"].tolist(), n_folds, seed, name)
    with atomic_path(folds_tsv) as tmp:
        folds.to_csv(tmp, sep="\t", index=False)
    summary = folds.groupby("fold").agg(scans=("scan_id", "size"), subjects=("subject_id", "nunique"))
    log.info("dataset %s: %d folds (scans, subjects per fold):\n%s", name, n_folds, summary.to_string())
    return folds


def read_folds(folds_tsv: str | Path) -> pd.DataFrame:
    """Read ``folds.tsv``.

    Args:
        folds_tsv: path written by :func:`make_folds`.

    Returns:
        DataFrame ``scan_id`` (str), ``subject_id`` (str), ``fold`` (int), ``half`` (int).

    Raises:
        InputError: the file is missing, lacks a column, or a ``half`` is not 0 or 1.
    """
    table = read_table(folds_tsv, COLUMNS, "folds", text_columns=["scan_id", "subject_id"])
    if not table["half"].isin([0, 1]).all():
        raise InputError(f"{folds_tsv}: column half must be 0 or 1; rerun its folds job")
    return table
