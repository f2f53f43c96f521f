"""Class-balanced sampling of patch centres per scan (rule ``sample_patches``).

For every scan, ``patches_per_class`` centres are drawn for each class from the voxels of that
class inside the sampling mask (= the normalization mask; background = mask minus foreground),
restricted to voxels at least ``patch_size // 2`` from every border of the cropped volume, so
that a full patch always fits and no padding is ever needed. Draws are without replacement and
seeded per scan with ``derive_seed(dataset seed, scan id)``, so a scan's patches do not depend
on which other scans the dataset holds.

Output per scan: ``patches/{scan}.npz`` with ``centres`` int16 ``[C*N, 3]`` (voxel indices
into the cropped volume) and ``labels`` uint8 ``[C*N]``, class by class, centres of a class in
voxel (C) order, which keeps reads of memory-mapped volumes local.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm import tqdm

from crossmodal.atomic import atomic_path
from crossmodal.errors import InputError
from crossmodal.volumes import labels_path, mask_path, read_volume_index
from crossmodal.seeds import derive_seed

log = logging.getLogger(__name__)


def patches_path(patches_dir: str | Path, scan_id: str) -> Path:
    """``{patches_dir}/{scan_id}.npz``."""
    return Path(patches_dir) / f"{scan_id}.npz"


def read_patches(patches_dir: str | Path, scan_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one scan's patch file.

    Args:
        patches_dir: ``results/{ds}/patches``.
        scan_id: the scan.

    Returns:
        ``(centres int16 [N, 3], labels uint8 [N])``.

    Raises:
        InputError: the file is missing or malformed.
    """
    path = patches_path(patches_dir, scan_id)
    if not path.is_file():
        raise InputError(f"patch file of scan {scan_id!r} not found: {path}; re-run sample_patches")
    with np.load(path) as data:
        if "centres" not in data or "labels" not in data:
            raise InputError(f"{path}: expected arrays 'centres' and 'labels'; re-run sample_patches")
        centres, labels = data["centres"], data["labels"]
    if centres.ndim != 2 or centres.shape[1] != 3 or len(labels) != len(centres):
        raise InputError(
            f"{path}: centres {centres.shape} and labels {labels.shape} do not match "
            f"([N, 3] and [N]); re-run sample_patches"
        )
    return centres, labels


def eligible_region(mask: np.ndarray, patch_size: int) -> np.ndarray:
    """Mask voxels at least ``patch_size // 2`` from every border of the volume.

    Args:
        mask: bool ``[X, Y, Z]``.
        patch_size: odd patch edge P.

    Returns:
        bool ``[X, Y, Z]``.
    """
    half = patch_size // 2
    region = np.zeros(mask.shape, dtype=bool)
    inner = tuple(slice(half, max(n - half, half)) for n in mask.shape)
    region[inner] = mask[inner]
    return region


def sample_centres(
    labels: np.ndarray,
    mask: np.ndarray,
    class_names: list[str],
    n_per_class: int,
    patch_size: int,
    seed: int,
    with_replacement: bool = False,
    where: str = "scan",
) -> tuple[np.ndarray, np.ndarray]:
    """Draw a class-balanced set of patch centres from one scan.

    Args:
        labels: uint8 ``[X, Y, Z]`` class indices.
        mask: bool ``[X, Y, Z]`` sampling mask.
        class_names: names of the C classes (class index = position).
        n_per_class: N, centres per class.
        patch_size: odd patch edge P; centres keep ``P // 2`` voxels from every border.
        seed: seed of this scan's draws.
        with_replacement: a class with fewer than N eligible voxels is drawn with replacement
            instead of raising (classes with enough voxels are still drawn without).
        where: dataset and scan, for messages.

    Returns:
        ``(centres int16 [C*N, 3], labels uint8 [C*N])``, class by class.

    Raises:
        InputError: a class has fewer than N eligible voxels (none at all, in
            ``with_replacement`` mode); the message names the scan, class and counts.
    """
    if max(labels.shape) > np.iinfo(np.int16).max:
        raise InputError(f"{where}: volume {labels.shape} too large for int16 centres")
    region = eligible_region(mask, patch_size)
    candidates = np.flatnonzero(region)
    candidate_labels = labels.reshape(-1)[candidates]
    rng = np.random.default_rng(seed)
    chosen = []
    for c, name in enumerate(class_names):
        pool = candidates[candidate_labels == c]
        short = len(pool) < n_per_class
        if short and (not with_replacement or len(pool) == 0):
            raise InputError(
                f"{where}, class {name!r}: {len(pool)} eligible voxels (in the sampling mask, "
                f"at least {patch_size // 2} voxels from the border; {int((labels == c).sum())} "
                f"voxels of the class in total) but patches_per_class is {n_per_class}; lower "
                f"patches_per_class"
                + ("" if with_replacement else ", set sample_with_replacement: true,")
                + " or exclude the scan"
            )
        if short:
            log.warning("%s, class %r: %d eligible voxels < %d, drawing with replacement",
                        where, name, len(pool), n_per_class)
        pick = rng.choice(len(pool), n_per_class, replace=bool(short))
        chosen.append(np.sort(pool[pick]))
    flat = np.concatenate(chosen)
    centres = np.stack(np.unravel_index(flat, labels.shape), axis=1).astype(np.int16)
    classes = np.repeat(np.arange(len(class_names), dtype=np.uint8), n_per_class)
    return centres, classes


def sample_dataset(volumes_dir: str | Path, patches_dir: str | Path, dataset: dict, name: str = "dataset") -> None:
    """Sample and write the patch centres of every scan of a dataset (rule ``sample_patches``).

    Args:
        volumes_dir: ``results/{ds}/volumes`` (normalize output).
        patches_dir: output directory ``results/{ds}/patches``.
        dataset: the dataset's config block with defaults filled (uses ``classes``,
            ``patches_per_class``, ``patch_size``, ``seed``, ``sample_with_replacement``).
        name: dataset key, for messages.

    Raises:
        InputError: see :func:`sample_centres`; also a volume index with another patch size.
    """
    index = read_volume_index(volumes_dir)
    patch_size = int(dataset["patch_size"])
    if "patch_size" in index.columns and (index["patch_size"] != patch_size).any():
        raise InputError(
            f"dataset {name}: volumes were cropped for patch_size {index['patch_size'].iloc[0]} "
            f"but the config says {patch_size}; re-run normalize"
        )
    class_names = [c["name"] for c in dataset["classes"]]
    n = int(dataset["patches_per_class"])
    Path(patches_dir).mkdir(parents=True, exist_ok=True)
    for scan in tqdm(index["scan_id"], desc=f"sample_patches {name}", mininterval=5):
        labels = np.load(labels_path(volumes_dir, scan))
        mask = np.load(mask_path(volumes_dir, scan))
        centres, classes = sample_centres(
            labels, mask, class_names, n, patch_size,
            seed=derive_seed(dataset["seed"], scan),
            with_replacement=bool(dataset["sample_with_replacement"]),
            where=f"dataset {name}, scan {scan!r}",
        )
        with atomic_path(patches_path(patches_dir, scan)) as tmp:
            np.savez(tmp, centres=centres, labels=classes)
    log.info("dataset %s: %d scans x %d classes x %d patches", name, len(index), len(class_names), n)
