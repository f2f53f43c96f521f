"""Vectorized extraction of cubic patches around given centres from normalized volumes.

Patches are never stored: training and encoding cut them out of the volumes of
``results/{ds}/volumes/`` (``[M, X, Y, Z]`` float32 per scan) batch by batch. Two
implementations share one contract -- a batch of ``(scan_index, centre)`` pairs gives a
``[B, M, P, P, P]`` float32 array whose ``[b, m]`` entry is
``volume[scan_index[b]][m, cx-h:cx+h+1, cy-h:cy+h+1, cz-h:cz+h+1]`` with ``h = P // 2``:

* :mod:`~crossmodal.data.gather.patch_source`: the contract (:class:`PatchSource`) and the checks
  of a batch;
* :mod:`~crossmodal.data.gather.volume_stack`: :class:`VolumeStack` keeps all volumes of a fold
  resident on one torch device (CPU or GPU) as a single flat tensor and serves a batch of
  mixed scans with one index computation and one ``torch.index_select``;
* :mod:`~crossmodal.data.gather.mapped_volumes`: :func:`gather_numpy` works on a list of numpy
  arrays or read-only memmaps (``np.load(mmap_mode="r")``), looping only over the distinct
  scans of a batch; :class:`MappedVolumes` serves it as a :class:`PatchSource`.

:func:`open_patch_source` picks one for a device: on the CPU the memory-mapped volumes are read
in place (nothing is copied, so a fold of any size fits, and opening costs only the file
headers); on a GPU every volume of the fold is copied once into a :class:`VolumeStack` in GPU
memory, where gathering is cheapest. ``benchmarks/patch_sampling.py`` compares the two.

Centres must lie at least ``h`` voxels from every border (sample_patches guarantees it); no
padding is ever applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from crossmodal.common.errors import InputError
from crossmodal.data.gather.mapped_volumes import MappedVolumes
from crossmodal.data.gather.volume_stack import VolumeStack
from crossmodal.data.volumes import read_volume_index, volume_path


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
