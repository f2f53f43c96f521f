"""Patches cut out of numpy volumes or read-only memory maps: the CPU patch source.

:func:`gather_numpy` works on a list of numpy arrays or read-only memmaps
(``np.load(mmap_mode="r")``), looping only over the distinct scans of a batch;
:class:`MappedVolumes` serves it as a :class:`~crossmodal.data.gather.patch_source.PatchSource`, so
on the CPU the volumes are read in place (nothing is copied, so a fold of any size fits, and
opening costs only the file headers).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from crossmodal.common.errors import InputError
from crossmodal.data.gather.patch_source import check_centres, check_patch_size


def gather_numpy(
    volumes: Sequence[np.ndarray],
    scan_index: np.ndarray,
    centres: np.ndarray,
    patch_size: int,
) -> np.ndarray:
    """Cut patches out of numpy volumes or memmaps.

    For each distinct scan of the batch, one fancy index into a
    ``sliding_window_view`` of its volume copies all of that scan's patches at once (no
    Python loop per patch, no copy of the volume; works for any strides). Measured on a
    384x384x160 two-modality memmap, 1,024 patches of 15^3: ~20 ms, against ~40 ms for
    indexing row views of the flattened volume and ~110 ms for broadcast fancy indexing.

    Args:
        volumes: per scan a float array ``[M, X, Y, Z]``; M equal for all.
        scan_index: int ``[B]``, index into ``volumes`` of each patch.
        centres: int ``[B, 3]`` voxel indices of the patch centres (any integer dtype).
        patch_size: odd patch edge P in voxels.

    Returns:
        float32 ``[B, M, P, P, P]``, a new array.

    Raises:
        InputError: modality counts differ, or a patch would reach outside its volume
            (checked always: a negative numpy index would wrap around silently).
    """
    patch_size = check_patch_size(patch_size)
    scan_index = np.asarray(scan_index, dtype=np.int64)
    centres = np.asarray(centres, dtype=np.int64)
    if len(volumes) == 0:
        raise InputError("gather_numpy: no volumes given")
    n_modalities = {v.shape[0] for v in volumes}
    if len(n_modalities) != 1 or any(v.ndim != 4 for v in volumes):
        raise InputError(
            f"gather_numpy: volumes must all be [M, X, Y, Z] with the same M, got shapes "
            f"{sorted({tuple(v.shape) for v in volumes})}"
        )
    shapes = np.array([v.shape[1:] for v in volumes], dtype=np.int64)
    check_centres(scan_index, centres, shapes, patch_size)
    half = patch_size // 2
    (m,) = n_modalities
    out = np.empty((len(scan_index), m) + (patch_size,) * 3, dtype=np.float32)
    for s in np.unique(scan_index):
        sel = np.flatnonzero(scan_index == s)
        windows = sliding_window_view(volumes[s], (patch_size,) * 3, axis=(1, 2, 3))
        corner = centres[sel] - half
        # [M, b, P, P, P] -> [b, M, P, P, P]
        out[sel] = windows[:, corner[:, 0], corner[:, 1], corner[:, 2]].swapaxes(0, 1)
    return out


class MappedVolumes:
    """Patches gathered from memory-mapped volume files, without loading or copying them.

    The CPU :class:`PatchSource`: :func:`gather_numpy` on read-only ``np.load(mmap_mode="r")``
    maps, so only the voxels of the patches asked for are read (through the page cache).

    Attributes:
        scan_ids: the scans held, in order.
        patch_size: patch edge P in voxels.
        n_modalities: M.
        shapes: ``[S, 3]`` int64 numpy array, ``(X, Y, Z)`` per scan.
        device: always the CPU.
    """

    def __init__(self, volumes: Sequence[np.ndarray], patch_size: int, scan_ids: Sequence[str]) -> None:
        """Hold the (memory-mapped) volumes.

        Args:
            volumes: per scan a float32 array or memmap ``[M, X, Y, Z]``; M equal for all.
            patch_size: odd patch edge P in voxels.
            scan_ids: names of the volumes.

        Raises:
            InputError: no volumes, differing modality counts, or a volume smaller than a patch.
        """
        self.patch_size = check_patch_size(patch_size)
        self.scan_ids = list(scan_ids)
        self.device = torch.device("cpu")
        if not volumes:
            raise InputError("MappedVolumes: no volumes given (empty fold?)")
        for sid, volume in zip(self.scan_ids, volumes):
            if volume.ndim != 4 or volume.shape[0] != volumes[0].shape[0]:
                raise InputError(
                    f"volume of scan {sid!r} has shape {tuple(volume.shape)}; expected "
                    f"[M, X, Y, Z] with M = {volumes[0].shape[0]} like the first scan"
                )
            if min(volume.shape[1:]) < self.patch_size:
                raise InputError(
                    f"volume of scan {sid!r} (shape {tuple(volume.shape)}) is smaller than a "
                    f"{self.patch_size}^3 patch"
                )
        self.volumes = list(volumes)
        self.n_modalities = int(volumes[0].shape[0])
        self.shapes = np.array([v.shape[1:] for v in volumes], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.scan_ids)

    def gather(self, scan_index: np.ndarray | torch.Tensor, centres: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Patches ``[B, M, P, P, P]`` (float32, CPU) around ``centres`` of scans ``scan_index``."""
        return torch.from_numpy(
            gather_numpy(self.volumes, np.asarray(scan_index), np.asarray(centres), self.patch_size)
        )
