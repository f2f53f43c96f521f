"""Volumes and batches of the gather tests, and the slow reference extraction they are checked against."""

from __future__ import annotations

import numpy as np
import pandas as pd

P = 5
H = P // 2
SHAPES = [(9, 7, 6), (6, 11, 8), (7, 5, 12)]  # different shapes: different strides per scan


def make_volumes(m: int = 2) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.standard_normal((m,) + s).astype(np.float32) for s in SHAPES]


def make_batch(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    scan_index = rng.integers(0, len(SHAPES), n)
    centres = np.stack(
        [rng.integers(H, np.array(SHAPES)[scan_index, d] - H) for d in range(3)], axis=1
    )
    # the extreme corners of every volume are legal centres too
    for s, shape in enumerate(SHAPES):
        scan_index = np.append(scan_index, [s, s])
        centres = np.vstack([centres, [H, H, H], [n_ - 1 - H for n_ in shape]])
    return scan_index, centres.astype(np.int16)


def reference(volumes, scan_index, centres) -> np.ndarray:
    """Slow extraction, one patch at a time with plain slices."""
    out = []
    for s, (x, y, z) in zip(scan_index, centres.astype(int)):
        out.append(volumes[s][:, x - H : x + H + 1, y - H : y + H + 1, z - H : z + H + 1])
    return np.stack(out)


def write_dir(tmp_path, patch_size=P) -> list[np.ndarray]:
    """Volumes of scans a, b, c in the volumes/ format (``{scan}.npy`` and ``index.tsv``)."""
    volumes = make_volumes()
    for name, v in zip(["a", "b", "c"], volumes):
        np.save(tmp_path / f"{name}.npy", v)
    pd.DataFrame({"scan_id": ["a", "b", "c"], "patch_size": [patch_size] * 3}).to_csv(
        tmp_path / "index.tsv", sep="\t", index=False
    )
    return volumes
