"""One generated scan, as handed from a tissue model to a layout writer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SyntheticScan:
    """A generated scan.

    Attributes:
        scan_id: file-name-safe scan id.
        subject_id: subject the scan belongs to (scans of one subject share anatomy).
        images: modality -> int16 ``[X, Y, Z]``.
        labels: uint8 ``[X, Y, Z]`` raw label values.
        affine: float ``[4, 4]`` voxel -> RAS mm.
    """

    scan_id: str
    subject_id: str
    images: dict[str, np.ndarray]
    labels: np.ndarray
    affine: np.ndarray
