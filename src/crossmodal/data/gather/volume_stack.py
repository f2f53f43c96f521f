"""All volumes of a fold resident on one torch device as one flat tensor: the GPU patch source.

:class:`VolumeStack` serves a batch of mixed scans with one index computation and one
``torch.index_select``; on a GPU every volume of the fold is copied once into GPU memory,
where gathering is cheapest.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from crossmodal.common.errors import InputError
from crossmodal.data.gather.patch_source import check_centres, check_patch_size
from crossmodal.data.volumes import read_volume_index, volume_path

log = logging.getLogger(__name__)


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
        self.patch_size = check_patch_size(patch_size)
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
            check_centres(
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
