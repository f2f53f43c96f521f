"""What a patch source is: the contract of :mod:`crossmodal.data.gather` and the checks of a batch.

A batch of ``(scan_index, centre)`` pairs gives a ``[B, M, P, P, P]`` float32 array whose
``[b, m]`` entry is ``volume[scan_index[b]][m, cx-h:cx+h+1, cy-h:cy+h+1, cz-h:cz+h+1]`` with
``h = P // 2``. Both implementations (:mod:`crossmodal.data.gather.volume_stack`,
:mod:`crossmodal.data.gather.mapped_volumes`) check their patch size and centres here.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from crossmodal.common.errors import InputError


class PatchSource(Protocol):
    """What training and encoding need: patches of a fixed set of scans on one device.

    Attributes:
        scan_ids: the scans held, in order (``scan_index`` refers to this list).
        patch_size: patch edge P in voxels.
        device: where gathered patches are returned.
    """

    scan_ids: list[str]
    patch_size: int
    device: torch.device

    def gather(self, scan_index: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        """``[B]`` scan indices and ``[B, 3]`` centres to float32 patches ``[B, M, P, P, P]``."""


def check_centres(
    scan_index: np.ndarray, centres: np.ndarray, spatial_shapes: np.ndarray, patch_size: int
) -> None:
    """Raise InputError unless every patch fits inside its scan's volume.

    Args:
        scan_index: int ``[B]`` index into the list of volumes.
        centres: int ``[B, 3]`` voxel indices ``(x, y, z)``.
        spatial_shapes: int ``[S, 3]`` ``(X, Y, Z)`` of each volume.
        patch_size: odd patch edge P in voxels.

    Raises:
        InputError: a scan index is out of range or a patch would reach outside its volume.
    """
    n_scans = len(spatial_shapes)
    if scan_index.ndim != 1 or centres.shape != (len(scan_index), 3):
        raise InputError(
            f"patch batch: expected scan_index [B] and centres [B, 3], got shapes "
            f"{scan_index.shape} and {centres.shape}"
        )
    bad = (scan_index < 0) | (scan_index >= n_scans)
    if bad.any():
        raise InputError(
            f"patch batch: scan index {int(scan_index[bad][0])} is outside the {n_scans} "
            f"volumes held; scan indices must come from the same PatchSet as the volumes"
        )
    half = patch_size // 2
    limits = spatial_shapes[scan_index] - 1 - half
    outside = ((centres < half) | (centres > limits)).any(axis=1)
    if outside.any():
        b = int(np.flatnonzero(outside)[0])
        raise InputError(
            f"patch batch: centre {centres[b].tolist()} of volume {int(scan_index[b])} "
            f"(shape {spatial_shapes[scan_index[b]].tolist()}) is closer than {half} voxels to "
            f"a border, so a {patch_size}^3 patch does not fit; {int(outside.sum())} of "
            f"{len(centres)} centres are affected. Re-run sample_patches with the same "
            f"patch_size as normalize"
        )


def check_patch_size(patch_size: int) -> int:
    """``patch_size`` as an int; raise InputError unless it is a positive odd number of voxels."""
    patch_size = int(patch_size)
    if patch_size < 1 or patch_size % 2 == 0:
        raise InputError(f"patch_size must be a positive odd number of voxels, got {patch_size}")
    return patch_size
