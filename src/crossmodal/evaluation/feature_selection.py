"""One network's accuracy against the number of features kept, one fold (rule ``feature_selection``).

Fig. 8's unit (:mod:`crossmodal.figures.fig8_data` collects it over networks and folds). The
paper's 5x2 scheme (Sec. IV-E): the NCC that ranks the features must come from data the
classifier is not scored on. The test fold is split in two subject-grouped halves
(``folds.tsv`` column ``half``). In turn, one half (``rank_half``) ranks the features by NCC on
its test features, and the other half (``eval_half``) is classified: for each number k of
features kept, a random forest is fit on the fold's *training* features of modality s restricted
to the k most correlated features and scored on the evaluation half's test features of every
modality t.

The forests are those of Table I's ``evaluate`` stage (``crossmodal.evaluation.evaluate``): same number of
trees, default settings, ``random_state = derive_seed(seed, seed_key(ds, model, k), s)`` and the
same stratified cap on the training set. The kept features stay in their original column order,
so with all features kept a forest is exactly the fold's Table I forest, scored on one half
(the paper: "if all features are selected, this is equivalent to the normal five-fold
cross-validation"). A forest depends only on (s, feature subset); when both halves select the
same subset (always with all features kept) it is fit once and scores both.

One small table per network and fold, like the accuracy tables, so the archive
(:mod:`crossmodal.evaluation.archive`) keeps it and Fig. 8 can be drawn over folds trained on
different machines; on a cluster each is a job of its own.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed, seed_key
from crossmodal.common.tsv_tables import read_table
from crossmodal.data.folds import read_folds
from crossmodal.evaluation.evaluate import subsample_training_set
from crossmodal.evaluation.feature_stats import mean_pairwise_ncc, rank_by
from crossmodal.training.features import Features, load_features

log = logging.getLogger(__name__)

#: Columns of ``results/{ds}/feature_selection/{model}/fold{k}.tsv``: one row per (rank_half,
#: n_features, s, t); no rows when the fold's test set cannot be split in two halves.
FEATURE_SELECTION_COLUMNS = [
    "rank_half", "eval_half", "n_features", "train_modality", "test_modality",
    "accuracy", "n_train", "n_test",
]


def capped_counts(counts: list[int], n_features: int) -> list[int]:
    """The feature counts to evaluate: capped at ``n_features``, deduplicated, ascending."""
    return sorted({min(int(c), n_features) for c in counts})


def halves_of_test_patches(
    folds: pd.DataFrame, fold: int, test_scans: np.ndarray, source: str
) -> np.ndarray:
    """The half (0/1) of each test patch of a fold.

    Args:
        folds: ``folds.tsv`` as read by :func:`crossmodal.data.folds.read_folds`.
        fold: the fold.
        test_scans: scan id per test patch ``[N]``.
        source: the features file (for messages).

    Returns:
        int64 ``[N]``.

    Raises:
        InputError: a subject has scans in both halves of the fold, or a test scan is not in
            this fold of ``folds.tsv``.
    """
    in_fold = folds[folds["fold"] == fold]
    halves_per_subject = in_fold.groupby("subject_id")["half"].nunique()
    split = halves_per_subject[halves_per_subject > 1]
    if len(split):
        raise InputError(
            f"folds.tsv: subjects {list(split.index)} of fold {fold} have scans in both halves; "
            "the halves must be subject-grouped (rerun rule folds)"
        )
    half_of = dict(zip(in_fold["scan_id"], in_fold["half"]))
    unknown = sorted(set(test_scans) - set(half_of))
    if unknown:
        raise InputError(
            f"{source}: test scans {unknown[:5]} are not in fold {fold} of folds.tsv; the "
            "features were computed for other folds: rerun the encode jobs"
        )
    return np.array([half_of[s] for s in test_scans], dtype=np.int64)


def fold_accuracy(
    features: Features,
    halves: np.ndarray,
    counts: list[int],
    *,
    n_trees: int,
    forest_seeds: dict[str, int],
    train_rows: np.ndarray,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """The 2-fold feature-selection step of Fig. 8 for one network and test fold.

    Args:
        features: the fold's features, with training features loaded.
        halves: half (0/1) of each test patch ``[N_test]``.
        counts: numbers of features to keep (each <= F).
        n_trees: trees per forest.
        forest_seeds: ``random_state`` of the forests per training modality.
        train_rows: the training patches the forests see (all, or a stratified cap).
        n_jobs: cores per forest.

    Returns:
        Columns ``rank_half, eval_half, n_features, train_modality, test_modality, accuracy,
        n_train, n_test``; empty when a half has fewer than two test patches (a fold of one
        subject cannot be split).
    """
    sizes = [int((halves == h).sum()) for h in (0, 1)]
    if min(sizes) < 2:
        log.warning("test halves of %s patches: cannot split this fold, skipped", sizes)
        return pd.DataFrame(columns=FEATURE_SELECTION_COLUMNS)
    # which (rank_half, k) need which feature subset; kept columns stay in original order
    uses: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for rank_half in (0, 1):
        order = rank_by(mean_pairwise_ncc(features.test_features[:, halves == rank_half]))
        for k in counts:
            uses.setdefault(tuple(np.sort(order[:k]).tolist()), []).append((rank_half, k))
    all_kept = len(train_rows) == len(features.train_labels)
    y_train = features.train_labels if all_kept else features.train_labels[train_rows]
    rows = []
    for i, s in enumerate(features.modalities):
        x_train = features.train_features[i] if all_kept else features.train_features[i][train_rows]
        for subset, needs in uses.items():
            columns = np.asarray(subset)
            start = time.perf_counter()
            forest = RandomForestClassifier(
                n_estimators=n_trees, random_state=forest_seeds[s], n_jobs=n_jobs
            ).fit(x_train[:, columns], y_train)
            log.debug("forest %s, %d features: %.2f s", s, len(columns),
                      time.perf_counter() - start)
            for rank_half, k in needs:
                eval_rows = halves == 1 - rank_half
                for j, t in enumerate(features.modalities):
                    accuracy = forest.score(
                        features.test_features[j][eval_rows][:, columns], features.test_labels[eval_rows]
                    )
                    rows.append({
                        "_s": i, "_t": j,
                        "rank_half": rank_half, "eval_half": 1 - rank_half, "n_features": k,
                        "train_modality": s, "test_modality": t, "accuracy": float(accuracy),
                        "n_train": len(y_train), "n_test": int(eval_rows.sum()),
                    })
            del forest
    table = pd.DataFrame(rows).sort_values(["rank_half", "n_features", "_s", "_t"])
    return table.drop(columns=["_s", "_t"]).reset_index(drop=True)


def feature_selection(
    features: str | Path,
    folds_tsv: str | Path,
    table: str | Path,
    *,
    dataset: str,
    model: str,
    fold: int,
    modalities: list[str],
    feature_counts: list[int],
    n_trees: int,
    seed: int,
    max_train_patches: int | None = None,
    threads: int = 1,
) -> pd.DataFrame:
    """Rule ``feature_selection``: write one network's table of one fold.

    Args:
        features: ``results/{ds}/features/{model}/fold{k}.npz`` (rule train).
        folds_tsv: ``results/{ds}/folds.tsv`` (its ``half`` column splits the test fold).
        table: output path (columns :data:`FEATURE_SELECTION_COLUMNS`), written atomically.
        dataset: dataset key.
        model: network id (with its seed suffix, if any: it keys the forests' seeds).
        fold: the fold.
        modalities: the dataset's modalities.
        feature_counts: numbers of most-correlated features to keep (capped at F).
        n_trees: trees per forest (config ``forest.n_trees``).
        seed: the dataset's base seed.
        max_train_patches: the dataset's ``max_forest_train_patches`` (``None``: all).
        threads: cores per forest.

    Returns:
        The table written (no rows when the fold's test set has fewer than two patches in a
        half: a fold of one subject cannot be split).

    Raises:
        InputError: malformed inputs, or halves that are not subject-grouped.
    """
    start = time.perf_counter()
    loaded = load_features(features, modalities, train=True)
    halves = halves_of_test_patches(read_folds(folds_tsv), fold, loaded.test_scans, str(features))
    train_rows = subsample_training_set(
        loaded.train_labels, max_train_patches,
        derive_seed(seed, dataset, "forest_train_subset", int(fold)),
    )
    result = fold_accuracy(
        loaded, halves, capped_counts(feature_counts, loaded.test_features.shape[2]),
        n_trees=n_trees,
        forest_seeds={s: derive_seed(seed, seed_key(dataset, model, fold), s) for s in modalities},
        train_rows=train_rows,
        n_jobs=threads,
    )
    log.info("%s fold %d: %d rows in %.1f s", model, fold, len(result), time.perf_counter() - start)
    with atomic_path(table) as tmp:
        result.to_csv(tmp, sep="\t", index=False)
    return result


def read_feature_selection(path: str | Path) -> pd.DataFrame:
    """A ``feature_selection`` table (columns :data:`FEATURE_SELECTION_COLUMNS`; may have no rows).

    Raises:
        InputError: the table is missing or lacks a column.
    """
    return read_table(path, FEATURE_SELECTION_COLUMNS, "feature_selection",
                      text_columns=["train_modality", "test_modality"])[FEATURE_SELECTION_COLUMNS]
