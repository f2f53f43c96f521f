"""Fixtures of the figure tests; the helpers live in feature_fixtures.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from feature_fixtures import GRID_MODELS, make_features, make_folds


@pytest.fixture
def feature_tree(tmp_path: Path):
    """Features files of the 8-model grid over 2 folds, and folds.tsv; returns a dict."""
    folds = make_folds()
    folds_tsv = tmp_path / "folds.tsv"
    folds.to_csv(folds_tsv, sep="\t", index=False)
    files = []
    for i, model in enumerate(GRID_MODELS):
        for k in (0, 1):
            path = tmp_path / "features" / model / f"fold{k}.npz"
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, **make_features(folds, k, seed=100 * i + k, shared=2 + i % 4 * 2))
            files.append(str(path))
    return {"root": tmp_path, "folds": folds, "folds_tsv": str(folds_tsv), "files": files,
            "models": GRID_MODELS}
