"""Random-forest evaluation of one network's features for one fold (Table I's classifiers).

For each training modality s a scikit-learn ``RandomForestClassifier`` (``n_trees`` trees,
otherwise the default settings, as in the paper) is fit on the training-set features of s and
scored on the test-set features of every modality t. Same-modality pairs are s = t,
cross-modality pairs s != t. Each forest is fit once and scores every t.

For a ``baseline-{m}`` network only s = m is evaluated: in the "training modality only"
baseline, pair (s, t) uses the network trained on s (see ``crossmodal.reporting.cell``).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import single_baseline_modality
from crossmodal.common.seeds import derive_seed, seed_key
from crossmodal.common.tsv_tables import read_tables
from crossmodal.training.features import Features, load_features

log = logging.getLogger(__name__)

ACCURACY_COLUMNS = [
    "dataset",
    "model",
    "fold",
    "train_modality",
    "test_modality",
    "accuracy",
    "n_train",
    "n_test",
    "max_train_patches",
]

def training_modalities(model: str, modalities: list[str]) -> list[str]:
    """The modalities s whose features train a forest for network ``model``.

    Args:
        model: a network id (see ``crossmodal.common.model_ids``).
        modalities: the dataset's modalities.

    Returns:
        ``[m]`` for ``baseline-{m}``, otherwise every modality.

    Raises:
        InputError: ``model`` is not a network id for these modalities.
    """
    single = single_baseline_modality(model, modalities)
    return [single] if single is not None else list(modalities)


def subsample_training_set(
    labels: np.ndarray, max_patches: int | None, seed: int
) -> np.ndarray:
    """Indices of a stratified, seeded subset of at most ``max_patches`` training patches.

    Args:
        labels: int ``[N]`` class per training patch.
        max_patches: the cap (``max_forest_train_patches``); ``None`` keeps every patch, as the
            paper does. A cap that would leave out fewer patches than there are classes also
            keeps every patch (a stratified split needs one left-out patch per class).
        seed: random state of the split.

    Returns:
        int64 ``[n]`` sorted indices into ``labels`` (class proportions kept within one patch).

    Raises:
        InputError: the cap is smaller than the number of classes, or a class has one patch.
    """
    from sklearn.model_selection import train_test_split  # lazy: see evaluate_features

    n = len(labels)
    indices = np.arange(n, dtype=np.int64)
    n_classes = len(np.unique(labels))
    if max_patches is None or n - max_patches < n_classes:
        return indices
    if max_patches < n_classes:
        raise InputError(
            f"config max_forest_train_patches = {max_patches} is smaller than the number of "
            f"classes ({n_classes}); raise it or set it to null"
        )
    try:
        kept, _ = train_test_split(
            indices, train_size=max_patches, stratify=labels, random_state=seed
        )
    except ValueError as error:
        raise InputError(
            f"cannot take a stratified subset of {max_patches} of {n} training patches "
            f"(max_forest_train_patches): {error}"
        ) from error
    return np.sort(kept)


def evaluate_features(
    features: Features,
    train_modalities: list[str],
    *,
    n_trees: int,
    forest_seeds: dict[str, int],
    max_train_patches: int | None = None,
    subsample_seed: int = 0,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Fit one forest per training modality and score it on every test modality.

    Args:
        features: the fold's features.
        train_modalities: the modalities s to train forests on (subset of
            ``features.modalities``).
        n_trees: trees per forest (the paper: 30).
        forest_seeds: ``random_state`` of the forest per training modality.
        max_train_patches: stratified cap on the forest's training set (``None``: all).
        subsample_seed: random state of that subsample; the same patch subset serves every s.
        n_jobs: cores per forest (results do not depend on it).

    Returns:
        One row per (s, t), s in ``train_modalities`` order then t in ``features.modalities``
        order, columns ``train_modality, test_modality, accuracy`` (fraction in [0, 1]),
        ``n_train, n_test, max_train_patches``.
    """
    # Imported here, not at module level: scikit-learn takes ~1 s of a job's start-up (4 s of
    # 5 s measured with `python -X importtime -c "import crossmodal.reporting.cell"` on a busy 2-core
    # machine), and the cell/pairs/table jobs import this module only for read_accuracy.
    from sklearn.ensemble import RandomForestClassifier

    keep = subsample_training_set(features.train_labels, max_train_patches, subsample_seed)
    all_kept = len(keep) == len(features.train_labels)
    y_train = features.train_labels if all_kept else features.train_labels[keep]
    rows = []
    for s in train_modalities:
        i = features.modalities.index(s)
        x_train = features.train_features[i] if all_kept else features.train_features[i][keep]
        start = time.perf_counter()
        forest = RandomForestClassifier(
            n_estimators=n_trees, random_state=forest_seeds[s], n_jobs=n_jobs
        )
        forest.fit(x_train, y_train)
        log.info(
            "forest on %s: %d patches x %d features, %.1f s",
            s,
            x_train.shape[0],
            x_train.shape[1],
            time.perf_counter() - start,
        )
        for j, t in enumerate(features.modalities):
            accuracy = float(forest.score(features.test_features[j], features.test_labels))
            log.info("train %s -> test %s: accuracy %.4f", s, t, accuracy)
            rows.append(
                {
                    "train_modality": s,
                    "test_modality": t,
                    "accuracy": accuracy,
                    "n_train": int(x_train.shape[0]),
                    "n_test": int(features.test_labels.shape[0]),
                    "max_train_patches": max_train_patches,
                }
            )
        del forest  # a paper-scale forest holds gigabytes; free it before the next one
    table = pd.DataFrame(rows)
    table["max_train_patches"] = table["max_train_patches"].astype("Int64")
    return table


def evaluate(
    features_path: str | Path,
    output_path: str | Path,
    *,
    dataset_name: str,
    model: str,
    fold: int,
    modalities: list[str],
    seed: int,
    max_train_patches: int | None,
    n_trees: int,
    threads: int = 1,
) -> pd.DataFrame:
    """Rule ``evaluate``: accuracy of every (train, test) modality pair for one network and fold.

    The forest for training modality s has ``random_state = derive_seed(seed, seed_key(
    dataset_name, model, fold), s)`` (:func:`crossmodal.common.seeds.seed_key`). With
    ``max_train_patches`` set, the forests train on a stratified subset drawn with
    ``derive_seed(seed, dataset_name, "forest_train_subset", fold)``: the same patches for every
    network and modality of the fold, so that cells differ by their features and not by the
    subsample.

    Args:
        features_path: ``results/{ds}/features/{model}/fold{k}.npz``.
        output_path: ``results/{ds}/accuracy/{model}/fold{k}.tsv`` (columns
            ``ACCURACY_COLUMNS``; ``max_train_patches`` empty when there is no cap).
        dataset_name: the dataset's config key.
        model: network id.
        fold: fold index.
        modalities: the dataset's ``modalities`` (config order).
        seed: the dataset's ``seed``.
        max_train_patches: the dataset's ``max_forest_train_patches`` (``None``: every patch).
        n_trees: trees per forest (``forest.n_trees``).
        threads: cores for each forest.

    Returns:
        The table written.

    Raises:
        InputError: the features file is malformed or does not match the config.
    """
    features = load_features(features_path, list(modalities))
    table = accuracy_table(
        features, dataset_name=dataset_name, model=model, fold=fold, seed=seed,
        max_train_patches=max_train_patches, n_trees=n_trees, threads=threads,
    )  # fmt: skip
    with atomic_path(output_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table


def accuracy_table(
    features: Features,
    *,
    dataset_name: str,
    model: str,
    fold: int,
    seed: int,
    max_train_patches: int | None,
    n_trees: int,
    threads: int = 1,
) -> pd.DataFrame:
    """The accuracy table of :func:`evaluate` for features in memory, seeded as described there.

    Also used by :mod:`crossmodal.studies.curve_training`, so that a learning curve's point at the
    default training length is exactly the Table I evaluation of that network.

    Args:
        features: the fold's features (its ``modalities`` in config order).
        dataset_name, model, fold, seed, max_train_patches, n_trees, threads: see
            :func:`evaluate`.

    Returns:
        One row per (s, t), columns ``ACCURACY_COLUMNS``.
    """
    train_mods = training_modalities(model, features.modalities)
    key = seed_key(dataset_name, model, fold)
    table = evaluate_features(
        features,
        train_mods,
        n_trees=n_trees,
        forest_seeds={s: derive_seed(seed, key, s) for s in train_mods},
        max_train_patches=max_train_patches,
        subsample_seed=derive_seed(seed, dataset_name, "forest_train_subset", int(fold)),
        n_jobs=threads,
    )
    table.insert(0, "dataset", dataset_name)
    table.insert(1, "model", model)
    table.insert(2, "fold", int(fold))
    return table[ACCURACY_COLUMNS]


def read_accuracy(paths: list[str | Path]) -> pd.DataFrame:
    """Concatenate accuracy tables written by ``evaluate``.

    Args:
        paths: ``results/{ds}/accuracy/{model}/fold{k}.tsv`` files.

    Returns:
        All rows, columns ``ACCURACY_COLUMNS``.

    Raises:
        InputError: no paths, or a file lacks a column.
    """
    if not paths:
        raise InputError("no accuracy files given; check the dataset's networks and folds")
    return read_tables(
        paths, ACCURACY_COLUMNS, ["dataset", "model", "train_modality", "test_modality"], "evaluate"
    )
