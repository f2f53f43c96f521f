"""A method-independent difficulty table of a dataset (rule ``difficulty``): how hard the task is
on raw intensities, and how much of one modality another one predicts.

For every (training modality s, test modality t) pair, averaged over the folds:

* ``raw_rf_accuracy_percent``: the Table I forest protocol (a ``n_trees``-tree random forest per
  training modality s, default settings, trained on the training-fold patches of s and tested on
  the test-fold patches of t) on the raw normalized patch intensities instead of network
  features. Same-modality (s = t) and cross-modality (s != t) accuracy without any learned
  representation: the closest method-free counterpart of the paper's baseline rows.
* ``predictability_r2``: R^2 on the test fold of a nonlinear regression (scikit-learn
  ``HistGradientBoostingRegressor``) fitted on the training fold, predicting modality t's patch
  centre voxel from modality s's patch. 1 means that t's content at a voxel is fully determined by
  s's neighbourhood (fully shared content); 0 means no better than t's mean. s = t rows give the
  ceiling set by noise. The patch enters as its central 3x3x3 voxels plus its first 32 principal
  components (fitted on the training patches of s): on fold 0 of the default brain data this
  gave the R^2 of a regression on all P^3 voxels within 0.02 for the 8 pairs checked, at a
  twentieth of the cost (docs/embedded-data.md).

Folds with more than ``MAX_PATCHES`` patches in a split (paper scale) use a stratified, seeded
subset of that size; the demo's folds are used whole, as Table I uses them.

Patches are the dataset's own sampled patch sets (``crossmodal.data.patch_sets``), gathered from the
memory-mapped normalized volumes; the file ``results/{ds}/difficulty.tsv`` is read and written
only here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed
from crossmodal.common.tsv_tables import read_table
from crossmodal.data.folds import read_folds
from crossmodal.data.gather.mapped_volumes import gather_numpy
from crossmodal.data.patch_sets import load_patch_set
from crossmodal.data.volumes import read_volume_index, volume_path
from crossmodal.evaluation.evaluate import evaluate_features, subsample_training_set
from crossmodal.training.features import Features

log = logging.getLogger(__name__)

COLUMNS = ["train_modality", "test_modality", "raw_rf_accuracy_percent", "predictability_r2"]
# At most this many patches per split and fold (a stratified, seeded subset): the demo's folds
# are smaller (all patches are used), a paper-scale fold (millions of patches of 15^3 voxels)
# would not fit in memory as raw patches.
MAX_PATCHES = 6000
# Principal components of a patch used by the regression (besides its central 3x3x3 voxels).
N_COMPONENTS = 32


def gather_split(
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    fold: int,
    split: str,
    n_modalities: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw patches, labels and scan ids of one split of a fold (at most ``MAX_PATCHES``).

    Args:
        volumes_dir: ``results/{ds}/volumes``.
        patches_dir: ``results/{ds}/patches``.
        folds_tsv: ``results/{ds}/folds.tsv``.
        fold: fold index.
        split: ``train`` or ``test``.
        n_modalities: modalities the volumes must hold.
        seed: random state of the stratified subset drawn when the split holds more than
            ``MAX_PATCHES`` patches.

    Returns:
        ``(patches float32 [N, M, P, P, P], labels int64 [N], scan ids str [N])``.

    Raises:
        InputError: a volume is missing or holds another number of modalities.
    """
    patch_set = load_patch_set(volumes_dir, patches_dir, folds_tsv, fold, split)
    if len(patch_set) == 0:
        raise InputError(f"{folds_tsv}: fold {fold} has no {split} patches; check the folds and patch sampling")
    patch_size = int(read_volume_index(volumes_dir)["patch_size"].iloc[0])
    volumes = []
    for scan in patch_set.scan_ids:
        path = volume_path(volumes_dir, scan)
        if not path.is_file():
            raise InputError(f"volume of scan {scan!r} not found: {path}; re-run normalize for this dataset")
        volume = np.load(path, mmap_mode="r")
        if volume.ndim != 4 or volume.shape[0] != n_modalities:
            raise InputError(
                f"{path}: shape {volume.shape}, expected [{n_modalities}, X, Y, Z] for the configured "
                f"modalities; re-run normalize with the current config"
            )
        volumes.append(volume)
    keep = subsample_training_set(patch_set.labels, MAX_PATCHES, seed)
    scan_index, centres, labels = patch_set.scan_index[keep], patch_set.centres[keep], patch_set.labels[keep]
    patches = gather_numpy(volumes, scan_index, centres, patch_size)
    return patches, labels, np.asarray(patch_set.scan_ids)[scan_index]


def regression_features(patches: np.ndarray, components: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """A patch as its central 3x3x3 voxels and its principal-component scores.

    Args:
        patches: float32 ``[N, P, P, P]`` (one modality).
        components: ``[K, P^3]`` principal axes.
        mean: ``[P^3]`` mean patch of the data the axes were fitted on.

    Returns:
        float32 ``[N, 27 + K]``.
    """
    n, p = len(patches), patches.shape[-1]
    c = p // 2
    centre = patches[:, c - 1 : c + 2, c - 1 : c + 2, c - 1 : c + 2].reshape(n, -1)
    scores = (patches.reshape(n, -1) - mean) @ components.T
    return np.hstack([centre, scores]).astype(np.float32)


def predictability(
    train: np.ndarray, test: np.ndarray, modalities: list[str], seed: int
) -> dict[tuple[str, str], float]:
    """Held-out R^2 of predicting modality t's patch centre from modality s's patch.

    Args:
        train: float32 ``[N_train, M, P, P, P]`` training patches.
        test: float32 ``[N_test, M, P, P, P]`` test patches (same modality order).
        modalities: the M modality names.
        seed: base seed of the PCA and the regressors.

    Returns:
        ``{(s, t): R^2}`` for every pair.
    """
    from sklearn.decomposition import PCA
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    c = train.shape[-1] // 2
    out = {}
    for i, s in enumerate(modalities):
        flat = train[:, i].reshape(len(train), -1)
        k = min(N_COMPONENTS, flat.shape[0] - 1, flat.shape[1])
        pca = PCA(k, svd_solver="randomized", random_state=derive_seed(seed, "pca", s)).fit(flat)
        x_train = regression_features(train[:, i], pca.components_, pca.mean_)
        x_test = regression_features(test[:, i], pca.components_, pca.mean_)
        for j, t in enumerate(modalities):
            model = HistGradientBoostingRegressor(max_iter=100, random_state=derive_seed(seed, "regression", s, t))
            model.fit(x_train, train[:, j, c, c, c])
            out[(s, t)] = float(r2_score(test[:, j, c, c, c], model.predict(x_test)))
            log.info("predict %s centre from %s patch: R^2 %.3f", t, s, out[(s, t)])
    return out


def difficulty(
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    output_path: str | Path,
    *,
    dataset_name: str,
    modalities: list[str],
    seed: int,
    n_trees: int,
    threads: int = 1,
) -> pd.DataFrame:
    """Rule ``difficulty``: write ``results/{ds}/difficulty.tsv``.

    The forest for training modality s in fold k has ``random_state = derive_seed(seed,
    dataset_name, "difficulty", k, s)``; the regressions, the PCA and (for folds larger than
    ``MAX_PATCHES``) the patch subsets derive theirs from ``derive_seed(seed, dataset_name,
    "difficulty", k)``.

    Args:
        volumes_dir: ``results/{ds}/volumes``.
        patches_dir: ``results/{ds}/patches``.
        folds_tsv: ``results/{ds}/folds.tsv``.
        output_path: ``results/{ds}/difficulty.tsv`` (columns ``COLUMNS``, one row per (s, t),
            s then t in ``modalities`` order).
        dataset_name: the dataset's config key.
        modalities: the dataset's modalities, in the volumes' channel order.
        seed: the dataset's base seed.
        n_trees: trees per forest (config ``forest.n_trees``; the paper: 30).
        threads: cores for the forests and regressions (results do not depend on it).

    Returns:
        The table written.

    Raises:
        InputError: missing or inconsistent volumes, patches or folds.
    """
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    modalities = list(modalities)
    folds = sorted(int(k) for k in read_folds(folds_tsv)["fold"].unique())
    rows = []
    with threadpool_limits(limits=threads):
        for k in folds:
            rows += fold_rows(volumes_dir, patches_dir, folds_tsv, k, dataset_name=dataset_name,
                              modalities=modalities, seed=seed, n_trees=n_trees, threads=threads)  # fmt: skip
    table = mean_over_folds(pd.DataFrame(rows), modalities)
    write_difficulty(table, output_path)
    return table


def fold_rows(
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    k: int,
    *,
    dataset_name: str,
    modalities: list[str],
    seed: int,
    n_trees: int,
    threads: int,
) -> list[dict]:
    """Raw-patch forest accuracy and predictability of fold ``k``, seeded as :func:`difficulty` says.

    Args:
        volumes_dir, patches_dir, folds_tsv, dataset_name, modalities, seed, n_trees, threads:
            see :func:`difficulty`.
        k: the test fold.

    Returns:
        One dict per (s, t): ``fold``, ``train_modality``, ``test_modality``, ``accuracy``
        (fraction), ``r2``.
    """
    fold_seed = derive_seed(seed, dataset_name, "difficulty", k)
    x_train, y_train, scans_train = gather_split(
        volumes_dir, patches_dir, folds_tsv, k, "train", len(modalities), derive_seed(fold_seed, "train")
    )
    x_test, y_test, scans_test = gather_split(
        volumes_dir, patches_dir, folds_tsv, k, "test", len(modalities), derive_seed(fold_seed, "test")
    )
    features = Features(
        modalities=modalities,
        train_features=np.ascontiguousarray(x_train.reshape(len(x_train), len(modalities), -1).swapaxes(0, 1)),
        test_features=np.ascontiguousarray(x_test.reshape(len(x_test), len(modalities), -1).swapaxes(0, 1)),
        train_labels=y_train,
        test_labels=y_test,
        train_scans=scans_train,
        test_scans=scans_test,
    )
    accuracy = evaluate_features(
        features,
        modalities,
        n_trees=n_trees,
        forest_seeds={s: derive_seed(seed, dataset_name, "difficulty", k, s) for s in modalities},
        n_jobs=threads,
    )
    r2 = predictability(x_train, x_test, modalities, fold_seed)
    log.info("fold %d: %d training and %d test patches", k, len(y_train), len(y_test))
    return [
        {
            "fold": k,
            "train_modality": row.train_modality,
            "test_modality": row.test_modality,
            "accuracy": row.accuracy,
            "r2": r2[(row.train_modality, row.test_modality)],
        }
        for row in accuracy.itertuples()
    ]


def mean_over_folds(per_fold: pd.DataFrame, modalities: list[str]) -> pd.DataFrame:
    """The difficulty table (``COLUMNS``) from the rows of :func:`fold_rows` of every fold.

    Returns:
        One row per (s, t), s then t in ``modalities`` order; the accuracy in percent.
    """
    order = {m: i for i, m in enumerate(modalities)}
    table = (
        per_fold.groupby(["train_modality", "test_modality"], sort=False)
        .agg(raw_rf_accuracy_percent=("accuracy", "mean"), predictability_r2=("r2", "mean"))
        .reset_index()
    )
    table["raw_rf_accuracy_percent"] *= 100.0
    return table.sort_values(
        ["train_modality", "test_modality"], key=lambda col: col.map(order), kind="stable"
    ).reset_index(drop=True)[COLUMNS]


def write_difficulty(table: pd.DataFrame, path: str | Path) -> None:
    """Write a difficulty table (columns ``COLUMNS``) atomically as TSV, 4 decimals."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"difficulty table lacks columns {missing}")
    with atomic_path(path) as tmp:
        table[COLUMNS].to_csv(tmp, sep="\t", index=False, float_format="%.4f")


def read_difficulty(path: str | Path) -> pd.DataFrame:
    """Read ``results/{ds}/difficulty.tsv``.

    Raises:
        InputError: the file is missing or lacks a column.
    """
    return read_table(path, COLUMNS, "difficulty", text_columns=["train_modality", "test_modality"])
