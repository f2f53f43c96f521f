"""Cost of Fig. 8's feature-subset forests for one network and fold, and a paper-scale estimate.

Fig. 8 fits, per network, fold, ranking half, training modality s and feature count k, one
random forest on the fold's training features restricted to the k most correlated features
(``crossmodal.evaluation.feature_selection.fold_accuracy``, one job of rule
``feature_selection`` per network and fold). Forests whose feature subset is the same for both
halves (always when all features are kept) are fit once. This script times
``fold_accuracy`` on synthetic features shaped like the real ones and prints:

* the number of forests fit, against the naive 2 halves x M x len(counts);
* seconds per (network, fold) and the time of one Table I forest set (all features, once per s)
  for comparison;
* an extrapolation to the paper's grid (16 networks x 5 folds) at the measured size.

Usage (about a minute on 2 cores)::

    python benchmarks/fig8_forest_cost.py [--train 20000] [--test 5000] [--features 128] \
        [--modalities 2] [--trees 30] [--threads 2]

Forest time grows roughly as N log N in the training patches; with the paper's ~2 M training
patches per OAI fold, set ``max_forest_train_patches`` to bound it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from crossmodal.evaluation.feature_selection import capped_counts, fold_accuracy
from crossmodal.training.features import Features


def synthetic(n_train: int, n_test: int, n_features: int, n_modalities: int, seed: int = 0):
    """Features with half shared and half modality-specific class signal, 3 classes."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], (n_modalities, n_features))

    def split(n):
        labels = rng.integers(0, 3, n)
        common = labels[:, None] + rng.normal(0, 1.0, (n, n_features))
        feats = []
        for m in range(n_modalities):
            own = labels[:, None] * signs[m] + rng.normal(0, 1.0, (n, n_features))
            feats.append(np.where(np.arange(n_features) < n_features // 2, common, own))
        return np.stack(feats).astype(np.float32), labels.astype(np.int64)

    train, train_labels = split(n_train)
    test, test_labels = split(n_test)
    halves = (np.arange(n_test) >= n_test // 2).astype(np.int64)
    modalities = [f"m{i}" for i in range(n_modalities)]
    return Features(modalities, train, test, train_labels, test_labels,
                    np.array(["s"] * n_train), np.array(["s"] * n_test)), halves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=20000)
    parser.add_argument("--test", type=int, default=5000)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--modalities", type=int, default=2)
    parser.add_argument("--trees", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--counts", type=int, nargs="+",
                        default=[1, 2, 4, 8, 16, 32, 64, 96, 128])
    args = parser.parse_args()

    features, halves = synthetic(args.train, args.test, args.features, args.modalities)
    counts = capped_counts(args.counts, args.features)
    seeds = {m: i for i, m in enumerate(features.modalities)}
    rows = np.arange(args.train)

    fits = []
    original = RandomForestClassifier.fit

    def counting_fit(self, x, y, *rest, **kw):
        fits.append(x.shape[1])
        return original(self, x, y, *rest, **kw)

    RandomForestClassifier.fit = counting_fit
    start = time.perf_counter()
    fold_accuracy(features, halves, counts, n_trees=args.trees, forest_seeds=seeds,
                  train_rows=rows, n_jobs=args.threads)
    fig8_seconds = time.perf_counter() - start
    RandomForestClassifier.fit = original

    start = time.perf_counter()
    for i in range(args.modalities):
        forest = RandomForestClassifier(n_estimators=args.trees, random_state=i,
                                        n_jobs=args.threads).fit(features.train_features[i], features.train_labels)
        for j in range(args.modalities):
            forest.score(features.test_features[j], features.test_labels)
    table1_seconds = time.perf_counter() - start

    naive = 2 * args.modalities * len(counts)
    print(f"size: {args.train} train / {args.test} test patches, F = {args.features}, "
          f"M = {args.modalities}, {args.trees} trees, {args.threads} threads")
    print(f"feature counts: {counts}")
    print(f"forests fit: {len(fits)} (naive: {naive}; saved {naive - len(fits)})")
    print(f"Fig. 8, one network and fold: {fig8_seconds:.1f} s")
    print(f"Table I forests (all features), one network and fold: {table1_seconds:.1f} s "
          f"(Fig. 8 costs {fig8_seconds / table1_seconds:.1f}x)")
    print(f"paper grid (16 networks x 5 folds) at this size: "
          f"{16 * 5 * fig8_seconds / 3600:.2f} h")


if __name__ == "__main__":
    main()
