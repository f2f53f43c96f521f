"""Per-feature statistics of learned representations (Figs. 6-8).

Features are arrays ``[N, F]`` (N patches, F features) or ``[M, N, F]`` (one slice per modality,
row i of every slice the same patch), as in the features files of the encode stage.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import scipy.stats
from sklearn.feature_selection import mutual_info_classif


def ncc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Normalized cross-correlation of each feature between two modalities.

    The Pearson correlation, across patches, of feature j computed from one modality with
    feature j computed from the other.

    Args:
        a: features of one modality, ``[N, F]``.
        b: features of another modality for the same N patches, ``[N, F]``.

    Returns:
        float64 ``[F]`` in [-1, 1]; NaN for a feature that is constant over the patches in ``a``
        or ``b`` (its correlation is undefined).

    Raises:
        ValueError: the shapes differ or N < 2.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ncc needs two [N, F] arrays of one shape, got {a.shape} and {b.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"ncc needs at least 2 patches, got {a.shape[0]}")
    with warnings.catch_warnings():
        # a constant feature gives NaN, as documented; the caller decides what that means
        warnings.simplefilter("ignore", scipy.stats.ConstantInputWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(scipy.stats.pearsonr(a, b, axis=0).statistic, dtype=np.float64)


def mean_pairwise_ncc(features: np.ndarray) -> np.ndarray:
    """NCC of each feature averaged over all unordered modality pairs.

    For two modalities this is :func:`ncc` of the pair.

    Args:
        features: ``[M, N, F]`` with M >= 2.

    Returns:
        float64 ``[F]``; NaN where the feature is constant in any modality.

    Raises:
        ValueError: fewer than two modalities.
    """
    features = np.asarray(features)
    if features.ndim != 3 or features.shape[0] < 2:
        raise ValueError(f"mean_pairwise_ncc needs [M, N, F] with M >= 2, got {features.shape}")
    pairs = itertools.combinations(range(features.shape[0]), 2)
    return np.mean([ncc(features[i], features[j]) for i, j in pairs], axis=0)


def mutual_information(features: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """Mutual information between each feature and the class label.

    scikit-learn's k-nearest-neighbour estimator for a continuous feature and a discrete label
    (``mutual_info_classif``, 3 neighbours; it adds seeded jitter to break ties).

    Args:
        features: ``[N, F]``.
        labels: class index per patch, ``[N]``.
        seed: random state of the estimator.

    Returns:
        float64 ``[F]`` in nats (>= 0).
    """
    return mutual_info_classif(
        np.asarray(features, dtype=np.float64),
        np.asarray(labels),
        discrete_features=False,
        random_state=seed,
    )


def rank_by(values: np.ndarray) -> np.ndarray:
    """Feature indices sorted by decreasing value; NaN last, ties by feature index.

    Args:
        values: ``[F]``.

    Returns:
        int64 ``[F]``: ``order[0]`` is the feature with the highest value.
    """
    values = np.asarray(values, dtype=np.float64)
    key = np.where(np.isnan(values), np.inf, -values)
    return np.argsort(key, kind="stable").astype(np.int64)
