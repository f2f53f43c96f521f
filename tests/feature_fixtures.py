"""Hand-made features and folds for the evaluation and figure tests (seeded, tiny).

A plain module (not conftest.py), so that test files can import its helpers by a name that
does not clash with tests/conftest.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MODALITIES = ["normal", "fatsup"]
GRID_MODELS = [
    f"axial-md{md}-pfn{pfn}-a{a}" for md in (0, 1) for pfn in (0, 1) for a in ("0.0", "0.5")
]


def make_folds(n_subjects: int = 6, scans_per_subject: int = 2, n_folds: int = 2) -> pd.DataFrame:
    """folds.tsv rows: subjects dealt round-robin to folds, halves alternate within a fold."""
    rows = []
    for subject in range(n_subjects):
        fold = subject % n_folds
        half = (subject // n_folds) % 2
        for session in range(scans_per_subject):
            rows.append({"scan_id": f"s{subject}_{session}", "subject_id": f"subj{subject}",
                         "fold": fold, "half": half})
    return pd.DataFrame(rows)


def make_features(
    folds: pd.DataFrame, fold: int, *, seed: int, n_features: int = 8, shared: int = 4,
    patches_per_scan: int = 30, n_classes: int = 3, n_modalities: int = 2,
) -> dict[str, np.ndarray]:
    """Arrays of a features npz: the first ``shared`` features carry the same class signal in
    every modality, the others an independent signal per modality."""
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1, 1], (n_modalities, n_features))  # modality-specific meaning

    def split(scans):
        labels = np.tile(np.arange(n_classes), len(scans) * patches_per_scan // n_classes + 1)
        labels = labels[: len(scans) * patches_per_scan]
        scan_col = np.repeat(scans, patches_per_scan)
        common = labels[:, None] + rng.normal(0, 0.7, (len(labels), n_features))
        feats = []
        for m in range(n_modalities):
            own = labels[:, None] * signs[m] + rng.normal(
                0, 0.7, (len(labels), n_features))
            f = np.where(np.arange(n_features) < shared, common, own)
            feats.append(f + rng.normal(0, 0.2, f.shape))
        return np.stack(feats).astype(np.float32), labels.astype(np.int64), scan_col

    test_scans = folds.loc[folds["fold"] == fold, "scan_id"].to_numpy()
    train_scans = folds.loc[folds["fold"] != fold, "scan_id"].to_numpy()
    test, test_labels, test_scan_col = split(test_scans)
    train, train_labels, train_scan_col = split(train_scans)
    return {
        "modalities": np.array(MODALITIES[:n_modalities] if n_modalities <= 2
                               else [f"m{i}" for i in range(n_modalities)]),
        "train_features": train, "test_features": test,
        "train_labels": train_labels, "test_labels": test_labels,
        "train_scans": train_scan_col.astype(str), "test_scans": test_scan_col.astype(str),
    }
