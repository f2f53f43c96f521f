"""Vectorized extraction of cubic patches around given centres from normalized volumes.

Patches are never stored: training and encoding cut them out of the volumes of
``results/{ds}/volumes/`` (``[M, X, Y, Z]`` float32 per scan) batch by batch. Two
implementations share one contract -- a batch of ``(scan_index, centre)`` pairs gives a
``[B, M, P, P, P]`` float32 array whose ``[b, m]`` entry is
``volume[scan_index[b]][m, cx-h:cx+h+1, cy-h:cy+h+1, cz-h:cz+h+1]`` with ``h = P // 2``:

* :class:`VolumeStack` keeps all volumes of a fold resident on one torch device (CPU or GPU)
  as a single flat tensor and serves a batch of mixed scans with one index computation and
  one ``torch.index_select``;
* :func:`gather_numpy` works on a list of numpy arrays or read-only memmaps
  (``np.load(mmap_mode="r")``), looping only over the distinct scans of a batch;
  :class:`MappedVolumes` serves it as a :class:`PatchSource`.

:func:`open_patch_source` picks one for a device: on the CPU the memory-mapped volumes are read
in place (nothing is copied, so a fold of any size fits, and opening costs only the file
headers); on a GPU every volume of the fold is copied once into a :class:`VolumeStack` in GPU
memory, where gathering is cheapest. ``benchmarks/patch_sampling.py`` compares the two.

Centres must lie at least ``h`` voxels from every border (sample_patches guarantees it); no
padding is ever applied.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from crossmodal.errors import InputError
from crossmodal.volumes import read_volume_index, volume_path

log = logging.getLogger(__name__)


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


def _check_centres(
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


def _check_patch_size(patch_size: int) -> int:
    patch_size = int(patch_size)
    if patch_size < 1 or patch_size % 2 == 0:
        raise InputError(f"patch_size must be a positive odd number of voxels, got {patch_size}")
    return patch_size


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
    patch_size = _check_patch_size(patch_size)
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
    _check_centres(scan_index, centres, shapes, patch_size)
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


class VolumeStack:
    """All volumes of a fold resident on one torch device, for fast patch gathering.

    The volumes (each ``[M, X, Y, Z]``) are flattened and concatenated into one float32
    tensor; scan ``s`` starts at ``base[s]`` with strides ``(X*Y*Z, Y*Z, Z, 1)``. A patch is
    ``M * P * P`` runs of ``P`` consecutive values, so :meth:`gather` computes the start of
    every run for the whole batch (mixed scans and shapes) in one broadcast expression and
    copies the runs with a single ``torch.index_select`` on ``flat.unfold(0, P, 1)`` (a
    view, no copy). Measured on CPU (30 scans ~200x180x90, M=2, P=15): 0.44 ms per batch of 64
    against 1.3 ms for ``torch.take`` with one index per voxel (2 threads, idle machine);
    0.46 ms median per 64 and 25-45 ms per 1,024 with 1 thread on a loaded 2-core machine.
    On a CPU shared with other jobs, use ``torch.set_num_threads(<the job's threads>)``: with
    more threads than free cores the same batch of 64 took 8-23 ms.

    Attributes:
        scan_ids: the scans held, in order (``scan_index`` refers to this list).
        patch_size: patch edge P in voxels.
        n_modalities: M.
        shapes: ``[S, 3]`` int64 numpy array, ``(X, Y, Z)`` per scan.
        device: where the volumes and the gathered patches live.
    """

    def __init__(
        self,
        volumes: Sequence[np.ndarray | torch.Tensor],
        patch_size: int,
        device: str | torch.device = "cpu",
        scan_ids: Sequence[str] | None = None,
    ) -> None:
        """Copy ``volumes`` onto ``device``.

        Args:
            volumes: per scan a float array or tensor ``[M, X, Y, Z]``; M equal for all.
            patch_size: odd patch edge P in voxels.
            device: torch device for the volumes and the gathered patches.
            scan_ids: names of the volumes (default ``"0"``, ``"1"``, ...).

        Raises:
            InputError: no volumes, differing modality counts, or a volume smaller than a patch.
        """
        self.patch_size = _check_patch_size(patch_size)
        self.device = torch.device(device)
        if len(volumes) == 0:
            raise InputError("VolumeStack: no volumes given (empty fold?)")
        self.scan_ids = list(scan_ids) if scan_ids is not None else [str(i) for i in range(len(volumes))]
        if len(self.scan_ids) != len(volumes):
            raise InputError(f"VolumeStack: {len(volumes)} volumes but {len(self.scan_ids)} scan ids")
        shapes = [tuple(int(n) for n in v.shape) for v in volumes]
        for sid, shape in zip(self.scan_ids, shapes):
            if len(shape) != 4 or shape[0] != shapes[0][0]:
                raise InputError(
                    f"VolumeStack: volume of scan {sid!r} has shape {shape}; expected "
                    f"[M, X, Y, Z] with M = {shapes[0][0]} like the first scan"
                )
            if min(shape[1:]) < self.patch_size:
                raise InputError(
                    f"VolumeStack: volume of scan {sid!r} (shape {shape}) is smaller than a "
                    f"{self.patch_size}^3 patch"
                )
        self.n_modalities = shapes[0][0]
        self.shapes = np.array([s[1:] for s in shapes], dtype=np.int64)
        sizes = [int(np.prod(s)) for s in shapes]
        self.flat = torch.empty(sum(sizes), dtype=torch.float32, device=self.device)
        offset = 0
        for volume, size in zip(volumes, sizes):
            target = self.flat[offset : offset + size]
            if isinstance(volume, torch.Tensor):
                target.copy_(volume.reshape(-1))
            elif self.device.type == "cpu":  # straight from the (memory-mapped) file, no extra copy
                target.numpy()[:] = np.asarray(volume).reshape(-1)
            else:  # one volume in host memory at a time
                target.copy_(torch.from_numpy(np.array(volume, dtype=np.float32).reshape(-1)))
            offset += size
        # Row starts are computed in int64: a fold of OAI volumes exceeds 2**31 values.
        x, y, z = self.shapes[:, 0], self.shapes[:, 1], self.shapes[:, 2]
        as_long = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64), device=self.device)  # noqa: E731
        self._base = as_long(np.concatenate([[0], np.cumsum(sizes)[:-1]]))
        self._stride_m = as_long(x * y * z)
        self._stride_x = as_long(y * z)
        self._stride_y = as_long(z)
        self._arange_p = torch.arange(self.patch_size, device=self.device)
        self._arange_m = torch.arange(self.n_modalities, device=self.device)
        self._runs = self.flat.unfold(0, self.patch_size, 1)  # [L-P+1, P] view
        log.info(
            "VolumeStack: %d scans, %d modalities, %.2f GB on %s",
            len(self.scan_ids), self.n_modalities, self.flat.numel() * 4 / 1e9, self.device,
        )

    @classmethod
    def from_dir(
        cls,
        volumes_dir: str | Path,
        scan_ids: Sequence[str],
        device: str | torch.device = "cpu",
        patch_size: int | None = None,
    ) -> "VolumeStack":
        """Load the volumes of ``scan_ids`` from a normalize output directory.

        Args:
            volumes_dir: ``results/{ds}/volumes`` (``{scan}.npy`` float32 ``[M, X, Y, Z]``).
            scan_ids: scans to hold, in the order ``scan_index`` will refer to
                (``PatchSet.scan_ids``).
            device: torch device.
            patch_size: patch edge; default the ``patch_size`` column of ``index.tsv``.

        Returns:
            The stack; peak host memory is one volume beyond the stack itself.

        Raises:
            InputError: a volume file is missing, or the patch size is neither given nor in
                ``index.tsv``.
        """
        volumes_dir = Path(volumes_dir)
        if patch_size is None:
            index = read_volume_index(volumes_dir)
            if "patch_size" not in index.columns:
                raise InputError(
                    f"{volumes_dir / 'index.tsv'} has no patch_size column; pass patch_size= "
                    f"or re-run normalize"
                )
            patch_size = int(index["patch_size"].iloc[0])
        paths = [volume_path(volumes_dir, sid) for sid in scan_ids]
        for sid, path in zip(scan_ids, paths):
            if not path.is_file():
                raise InputError(
                    f"volume of scan {sid!r} not found: {path}; re-run normalize for this dataset"
                )
        # Memmaps: only the header is read here; __init__ copies one scan at a time.
        volumes = [np.load(path, mmap_mode="r") for path in paths]
        return cls(volumes, patch_size, device, scan_ids)

    def __len__(self) -> int:
        return len(self.scan_ids)

    def gather(
        self,
        scan_index: np.ndarray | torch.Tensor,
        centres: np.ndarray | torch.Tensor,
        check: bool = False,
        out: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Patches around ``centres`` of the scans ``scan_index``, all on ``self.device``.

        Args:
            scan_index: int ``[B]`` index into ``self.scan_ids`` (numpy or tensor, any device).
            centres: int ``[B, 3]`` voxel indices ``(x, y, z)`` (any integer dtype).
            check: verify first that every patch fits inside its volume (costs a host sync on
                GPU; load_patch_set already validates every centre of a patch set). Without
                it an out-of-range centre silently reads neighbouring voxels or scans.
            out: optional float32 tensor ``[B, M, P, P, P]`` (contiguous) to write into.

        Returns:
            float32 ``[B, M, P, P, P]`` on ``self.device``.

        Raises:
            InputError: only with ``check=True``: a scan index or centre is out of range.
        """
        if check:
            _check_centres(
                np.asarray(torch.as_tensor(scan_index).cpu(), dtype=np.int64),
                np.asarray(torch.as_tensor(centres).cpu(), dtype=np.int64),
                self.shapes,
                self.patch_size,
            )
        si = torch.as_tensor(scan_index, device=self.device).long()
        c = torch.as_tensor(centres, device=self.device).long()
        b = si.shape[0]
        half = self.patch_size // 2
        sm, sx, sy = self._stride_m[si], self._stride_x[si], self._stride_y[si]
        corner = self._base[si] + (c[:, 0] - half) * sx + (c[:, 1] - half) * sy + (c[:, 2] - half)
        p = self._arange_p
        runs = (
            corner.view(b, 1, 1, 1)
            + self._arange_m.view(1, -1, 1, 1) * sm.view(b, 1, 1, 1)
            + p.view(1, 1, -1, 1) * sx.view(b, 1, 1, 1)
            + p.view(1, 1, 1, -1) * sy.view(b, 1, 1, 1)
        )  # [B, M, P(x), P(y)]: start of each run of P values along z
        shape = (b, self.n_modalities) + (self.patch_size,) * 3
        if out is not None:
            torch.index_select(self._runs, 0, runs.reshape(-1), out=out.view(-1, self.patch_size))
            return out
        return torch.index_select(self._runs, 0, runs.reshape(-1)).view(shape)


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
        self.patch_size = _check_patch_size(patch_size)
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


def open_patch_source(
    volumes_dir: str | Path,
    scan_ids: Sequence[str],
    device: str | torch.device,
    patch_size: int,
) -> MappedVolumes | VolumeStack:
    """The patch source of ``scan_ids`` for ``device``: memory maps on the CPU, a stack on a GPU.

    This is the one place where the patch size a network expects is checked against the one the
    volumes were prepared for (``normalize`` records it in ``index.tsv``).

    Args:
        volumes_dir: ``results/{ds}/volumes``.
        scan_ids: the scans, in the order ``scan_index`` will refer to.
        device: where patches are needed.
        patch_size: the patch edge of the network (config ``patch_size``, or the one a trained
            network was built for).

    Returns:
        A :class:`MappedVolumes` on the CPU, a :class:`VolumeStack` on any other device.

    Raises:
        InputError: a volume file is missing, or ``patch_size`` differs from the volumes'.
    """
    volumes_dir = Path(volumes_dir)
    index = read_volume_index(volumes_dir)
    if "patch_size" in index.columns and int(index["patch_size"].iloc[0]) != int(patch_size):
        raise InputError(
            f"{volumes_dir} was prepared for {int(index['patch_size'].iloc[0])}^3 patches but the "
            f"network uses {int(patch_size)}^3 (config patch_size); re-run normalize and "
            "sample_patches, or retrain the network"
        )
    device = torch.device(device)
    if device.type != "cpu":
        return VolumeStack.from_dir(volumes_dir, scan_ids, device, patch_size)
    paths = [volume_path(volumes_dir, sid) for sid in scan_ids]
    for sid, path in zip(scan_ids, paths):
        if not path.is_file():
            raise InputError(f"volume of scan {sid!r} not found: {path}; re-run normalize for this dataset")
    return MappedVolumes([np.load(path, mmap_mode="r") for path in paths], patch_size, scan_ids)
