"""Fig. 6 data: per-feature mutual information, SD and cross-modality NCC for one fold.

For each of the four modality-dropout x per-feature-normalization networks (panel (a), the basic
model, at alpha = 0 as in the paper; (b)-(d) at config ``figures.alpha``), and each feature of
its representation, on the test-set features of one fold:

* ``mi``: mutual information (nats) between the feature computed from modality m and the class
  label, on a seeded subsample of ``mi_samples`` test patches (the same patches for every
  modality; the k-NN estimator costs O(N log N) per feature);
* ``sd``: standard deviation of the feature from modality m over all test patches;
* ``ncc``: Pearson correlation of the feature between modalities over all test patches (for
  more than two modalities the mean over modality pairs), stored with ``modality = "all"``.

Features are ranked by decreasing MI in the first modality (``rank`` 0 = most informative).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed
from crossmodal.evaluation.feature_stats import mean_pairwise_ncc, mutual_information, rank_by
from crossmodal.figures.inputs import files_by_model, model_columns
from crossmodal.training.features import load_features

log = logging.getLogger(__name__)

#: Columns of ``fig6.tsv``.
COLUMNS = [
    "dataset", "model", "modality_dropout", "per_feature_norm", "alpha", "fold",
    "feature", "rank", "statistic", "modality", "value",
]

#: ``modality`` of the NCC rows (a config modality may never be called "all").
ALL_MODALITIES = "all"


def feature_statistics(
    test: np.ndarray, labels: np.ndarray, modalities: list[str], mi_samples: int, seed: int
) -> pd.DataFrame:
    """MI, SD and NCC of every feature of one network.

    Args:
        test: test features ``[M, N, F]``.
        labels: class per test patch ``[N]``.
        modalities: names of the M modalities.
        mi_samples: size of the seeded subsample for MI (all patches when N is smaller).
        seed: seed of the subsample and of the MI estimator.

    Returns:
        Columns ``feature, rank, statistic, modality, value``: for each feature ``M`` rows
        ``mi``, ``M`` rows ``sd`` and one row ``ncc`` (modality ``"all"``); ``rank`` orders the
        features by decreasing MI in ``modalities[0]``.

    Raises:
        InputError: fewer than two test patches or two modalities.
    """
    n_mod, n, n_feat = test.shape
    if n < 2 or n_mod < 2:
        raise InputError(
            f"Fig. 6 needs at least 2 test patches and 2 modalities, got {n} and {n_mod}"
        )
    rng = np.random.default_rng(derive_seed(seed, "subsample"))
    rows = np.sort(rng.choice(n, size=min(mi_samples, n), replace=False))
    mi = np.stack(
        [mutual_information(test[i, rows], labels[rows], derive_seed(seed, "mi", m))
         for i, m in enumerate(modalities)]
    )
    sd = test.astype(np.float64).std(axis=1)
    ncc = mean_pairwise_ncc(test)
    rank = np.empty(n_feat, dtype=np.int64)
    rank[rank_by(mi[0])] = np.arange(n_feat)
    feature = np.arange(n_feat)
    parts = []
    for name, values in (("mi", mi), ("sd", sd)):
        for i, m in enumerate(modalities):
            parts.append(pd.DataFrame({
                "feature": feature, "rank": rank, "statistic": name, "modality": m,
                "value": values[i],
            }))
    parts.append(pd.DataFrame({
        "feature": feature, "rank": rank, "statistic": "ncc", "modality": ALL_MODALITIES,
        "value": ncc,
    }))
    return pd.concat(parts, ignore_index=True)


def fig6_data(
    feature_files: list[str],
    table: str | Path,
    *,
    dataset: str,
    modalities: list[str],
    models: list[str],
    fold: int,
    mi_samples: int,
    seed: int,
) -> pd.DataFrame:
    """Rule ``fig6_data``: write ``results/{ds}/figdata/fig6.tsv``.

    Args:
        feature_files: ``results/{ds}/features/{model}/fold{fold}.npz``, one per model, in the
            order of ``models``.
        table: output path (columns :data:`COLUMNS`).
        dataset: dataset key.
        modalities: the dataset's modalities (config order; the first one ranks the features).
        models: axial network ids of the panels (normally the four dropout x normalization
            combinations at config ``figures.alpha``).
        fold: the fold shown.
        mi_samples: subsample size for the mutual information.
        seed: the dataset's base seed.

    Returns:
        The table written.

    Raises:
        InputError: a model is not an axial id or a features file is malformed.
    """
    files = files_by_model(feature_files, models, [fold], ".npz")
    frames = []
    for model in models:
        columns = model_columns(model, modalities)
        features = load_features(files[model][fold], modalities, train=False)
        stats = feature_statistics(
            features.test_features, features.test_labels, modalities, mi_samples,
            derive_seed(seed, dataset, "fig6", model, fold),
        )
        n_nan = int(stats.loc[stats["statistic"] == "ncc", "value"].isna().sum())
        if n_nan:
            log.warning("%s fold %d: %d features constant in a modality (NCC undefined)",
                        model, fold, n_nan)
        log.info("%s fold %d: %d features, %d test patches", model, fold,
                 features.test_features.shape[2], features.test_features.shape[1])
        frames.append(stats.assign(dataset=dataset, model=model, fold=int(fold), **columns))
    result = pd.concat(frames, ignore_index=True)[COLUMNS]
    with atomic_path(table) as tmp:
        result.to_csv(tmp, sep="\t", index=False)
    return result
