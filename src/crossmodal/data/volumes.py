"""The ``volumes/`` format written by :mod:`crossmodal.data.normalize`: file names and ``index.tsv``.

Kept apart from the normalization itself so that readers (patch sampling, training, encoding)
do not import ``scipy.ndimage``: every training and encoding job is a fresh Python process, and
on the demo's 240 such jobs the import cost adds up.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from crossmodal.common.tsv_tables import read_table

INDEX_NAME = "index.tsv"


def volume_path(volumes_dir: str | Path, scan_id: str) -> Path:
    """``{volumes_dir}/{scan_id}.npy``: float32 ``[M, X, Y, Z]`` normalized modalities."""
    return Path(volumes_dir) / f"{scan_id}.npy"


def labels_path(volumes_dir: str | Path, scan_id: str) -> Path:
    """``{volumes_dir}/{scan_id}.labels.npy``: uint8 ``[X, Y, Z]`` class indices."""
    return Path(volumes_dir) / f"{scan_id}.labels.npy"


def mask_path(volumes_dir: str | Path, scan_id: str) -> Path:
    """``{volumes_dir}/{scan_id}.mask.npy``: bool ``[X, Y, Z]`` normalization/sampling mask."""
    return Path(volumes_dir) / f"{scan_id}.mask.npy"


def read_volume_index(volumes_dir: str | Path) -> pd.DataFrame:
    """Read ``index.tsv`` of a normalize output directory.

    Columns: ``scan_id``, ``subject_id`` (str), ``origin_x/y/z`` (crop origin in the original
    image, voxels), ``shape_x/y/z`` (cropped shape), ``patch_size``, ``mask_voxels``, then per
    modality ``mean_<m>`` and ``sd_<m>`` (statistics inside the mask before normalization).

    Args:
        volumes_dir: ``results/{ds}/volumes``.

    Returns:
        One row per scan, in manifest order.

    Raises:
        InputError: the index is missing, or has no ``scan_id`` column.
    """
    return read_table(Path(volumes_dir) / INDEX_NAME, ["scan_id"], "normalize", text_columns=["scan_id", "subject_id"])
