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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed
from crossmodal.data.volumes import labels_path, mask_path, read_volume_index

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


def check_patch_fits(shape: tuple[int, ...], patch_size: int, where: str, key: str) -> None:
    """A patch must fit inside the scan's voxel grid (ingest and normalize ask).

    Args:
        shape: the scan's grid ``(X, Y, Z)`` in voxels.
        patch_size: odd patch edge P.
        where: dataset and scan, for messages.
        key: the config key, ``datasets.<name>.patch_size``.

    Raises:
        InputError: P exceeds an axis of the grid; gives both sizes and the largest odd
            ``patch_size`` that fits.
    """
    if min(shape) >= patch_size:
        return
    axes = ", ".join(f"{a} {n}" for a, n in zip("xyz", shape) if n < patch_size)
    largest = min(shape) if min(shape) % 2 else min(shape) - 1
    raise InputError(
        f"{where}: the patch ({patch_size} voxels a side, {key}) is larger than the scan, whose "
        f"grid is {tuple(shape)} voxels ({axes}); lower {key} to at most {largest} (odd), or "
        f"leave the scan out"
    )


@dataclass(frozen=True)
class PatchBudget:
    """What patch sampling asks of every scan (the dataset's sampling keys).

    Attributes:
        patch_size: odd patch edge P; centres keep ``P // 2`` voxels from every border.
        patches_per_class: N, centres drawn per class and scan.
        with_replacement: ``sample_with_replacement``: a class with fewer than N (but at least
            one) eligible voxels is drawn with replacement instead of being an error.
    """

    patch_size: int
    patches_per_class: int
    with_replacement: bool


def eligible_counts(labels: np.ndarray, mask: np.ndarray, n_classes: int, patch_size: int) -> np.ndarray:
    """Voxels per class that can centre a patch (in the mask, ``P // 2`` from every border).

    The same on the raw grid (ingest) and on the cropped volume (sampling): normalize crops to
    the mask's bounding box grown by ``P // 2``, clipped to the image, which removes no eligible
    voxel and adds none.

    Args:
        labels: uint8 ``[X, Y, Z]`` class indices.
        mask: bool ``[X, Y, Z]`` sampling mask.
        n_classes: C.
        patch_size: odd patch edge P.

    Returns:
        int64 ``[C]``.
    """
    region = eligible_region(mask, patch_size)
    return np.bincount(labels[region].ravel(), minlength=n_classes)[:n_classes].astype(np.int64)


def check_class_budget(
    eligible: np.ndarray, totals: np.ndarray, class_names: list[str], budget: PatchBudget, where: str
) -> list[int]:
    """Can every class of a scan give ``patches_per_class`` centres? (ingest and sampling ask)

    Args:
        eligible: int ``[C]`` eligible voxels per class (:func:`eligible_counts`).
        totals: int ``[C]`` voxels per class in the whole scan.
        class_names: the C class names.
        budget: the dataset's sampling keys.
        where: dataset and scan, for messages.

    Returns:
        The classes to draw with replacement (fewer eligible voxels than N, ``with_replacement``).

    Raises:
        InputError: naming the scan, class and counts, with the advice that fits: a class
            absent from the scan or without any eligible voxel cannot be helped by drawing with
            replacement; a class with some is, or by fewer patches per class.
    """
    n = budget.patches_per_class
    half = budget.patch_size // 2
    short = []
    for c, name in enumerate(class_names):
        have, total = int(eligible[c]), int(totals[c])
        if have >= n:
            continue
        head = f"{where}, class {name!r}: "
        if total == 0:
            raise InputError(
                head + f"no voxel of the class in this scan, so none of its {n} patches per class "
                f"can be drawn; exclude the scan from the dataset or fix its label file"
            )
        if have == 0:
            raise InputError(
                head + f"{total} voxels of the class, but none of them in the sampling mask at "
                f"least {half} voxels from the image border (patch_size {budget.patch_size}), so "
                f"no patch of it can be drawn; exclude the scan"
            )
        if not budget.with_replacement:
            raise InputError(
                head + f"{have} eligible voxels (in the sampling mask, at least {half} voxels from "
                f"the border; {total} voxels of the class in total) but patches_per_class is {n}; "
                f"lower patches_per_class to at most {have}, set sample_with_replacement: true, "
                f"or exclude the scan"
            )
        short.append(c)
    return short


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
        InputError: see :func:`check_class_budget`.
    """
    if max(labels.shape) > np.iinfo(np.int16).max:
        raise InputError(f"{where}: volume {labels.shape} too large for int16 centres")
    budget = PatchBudget(patch_size, n_per_class, with_replacement)
    region = eligible_region(mask, patch_size)
    candidates = np.flatnonzero(region)
    candidate_labels = labels.reshape(-1)[candidates]
    n_classes = len(class_names)
    eligible = np.bincount(candidate_labels, minlength=n_classes)[:n_classes]
    totals = np.bincount(labels.ravel(), minlength=n_classes)[:n_classes]
    short = check_class_budget(eligible, totals, class_names, budget, where)
    rng = np.random.default_rng(seed)
    chosen = []
    for c, name in enumerate(class_names):
        pool = candidates[candidate_labels == c]
        if c in short:
            log.warning("%s, class %r: %d eligible voxels < %d, drawing with replacement",
                        where, name, len(pool), n_per_class)
        pick = rng.choice(len(pool), n_per_class, replace=c in short)
        chosen.append(np.sort(pool[pick]))
    flat = np.concatenate(chosen)
    centres = np.stack(np.unravel_index(flat, labels.shape), axis=1).astype(np.int16)
    classes = np.repeat(np.arange(len(class_names), dtype=np.uint8), n_per_class)
    return centres, classes


def sample_dataset(
    volumes_dir: str | Path,
    patches_dir: str | Path,
    *,
    class_names: list[str],
    patches_per_class: int,
    patch_size: int,
    seed: int,
    with_replacement: bool,
    name: str = "dataset",
) -> None:
    """Sample and write the patch centres of every scan of a dataset (rule ``sample_patches``).

    Args:
        volumes_dir: ``results/{ds}/volumes`` (normalize output).
        patches_dir: output directory ``results/{ds}/patches``.
        class_names: the dataset's class names (config ``classes``, in order).
        patches_per_class: N, centres per class and scan.
        patch_size: odd patch edge P.
        seed: the dataset's ``seed``; scan s is drawn with ``derive_seed(seed, s)``.
        with_replacement: ``sample_with_replacement`` (see :func:`sample_centres`).
        name: dataset key, for messages.

    Raises:
        InputError: see :func:`sample_centres`; also a volume index with another patch size.
    """
    index = read_volume_index(volumes_dir)
    patch_size = int(patch_size)
    if "patch_size" in index.columns and (index["patch_size"] != patch_size).any():
        raise InputError(
            f"dataset {name}: volumes were cropped for patch_size {index['patch_size'].iloc[0]} "
            f"but the config says {patch_size}; re-run normalize"
        )
    n = int(patches_per_class)
    Path(patches_dir).mkdir(parents=True, exist_ok=True)
    for scan in tqdm(index["scan_id"], desc=f"sample_patches {name}", mininterval=5):
        labels = np.load(labels_path(volumes_dir, scan))
        mask = np.load(mask_path(volumes_dir, scan))
        centres, classes = sample_centres(
            labels, mask, list(class_names), n, patch_size,
            seed=derive_seed(seed, scan),
            with_replacement=bool(with_replacement),
            where=f"dataset {name}, scan {scan!r}",
        )
        with atomic_path(patches_path(patches_dir, scan)) as tmp:
            np.savez(tmp, centres=centres, labels=classes)
    log.info("dataset %s: %d scans x %d classes x %d patches", name, len(index), len(class_names), n)
