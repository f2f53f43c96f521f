"""Validation of the scans a layout adapter found: every file read, every check with a clear error.

Checks per scan: files exist and are readable 3-D images (or the channel of a 4-D image that
has it); the modalities, label and mask share one voxel grid (shape equal, affines within
``affine_tolerance`` mm); voxels are finite; label values are integers inside the ``classes``
mapping; the label has a foreground voxel; the normalization mask is not empty (``file``: the
mask file has a non-zero voxel; ``nonzero``: some image voxel is non-zero); no modality is
constant inside that mask (normalize could not scale it); and, given the dataset's patch
sampling keys, the patch fits in the grid and every class has ``patches_per_class`` voxels that
can centre a patch (at least one with ``sample_with_replacement``), so that a scan that
normalize or sampling would refuse is refused before anything is written. Errors name the
modality (and channel of a 4-D file), the class and the counts. Across scans: no scan id listed
twice with conflicting data and no image file shared by two scans."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crossmodal.common.errors import InputError
from crossmodal.data.ingest.records import ScanRecord
from crossmodal.data.io import Image, read_image, read_volume, select_channel
from crossmodal.data.normalize import map_labels, mask_statistics, normalization_mask
from crossmodal.data.sample_patches import PatchBudget, check_class_budget, check_patch_fits, eligible_counts

log = logging.getLogger(__name__)

SCAN_ID_CHARACTERS = "letters, digits, '.', '_' and '-'"


@dataclass(frozen=True)
class ScanSummary:
    """What validation learnt about a scan.

    Attributes:
        shape: voxels ``(X, Y, Z)``.
        spacing: voxel size in mm per axis.
        class_voxels: voxels per class (config ``classes`` order).
    """

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    class_voxels: tuple[int, ...]


def check_scan_id(scan_id: str, where: str) -> None:
    """Scan ids become file names (``volumes/{scan}.npy``): allow only safe characters.

    Raises:
        InputError: empty id or other characters than letters, digits, ``.``, ``_``, ``-``.
    """
    ok = scan_id and scan_id[0] != "." and all(c.isascii() and (c.isalnum() or c in "._-") for c in scan_id)
    if not ok:
        raise InputError(f"{where}: scan id {scan_id!r} may only contain {SCAN_ID_CHARACTERS} (not starting with '.')")


def check_modalities(layout: str, provided: dict[str, str], requested: list[str], dataset: str) -> None:
    """Every configured modality must be one the layout provides.

    Args:
        layout: layout name, for the message.
        provided: modality -> its name in the layout's files.
        requested: the dataset's ``modalities``.
        dataset: dataset key.

    Raises:
        InputError: naming the missing modalities and the available ones.
    """
    missing = [m for m in requested if m not in provided]
    if missing:
        names = ", ".join(f"{m!r} (files: {f})" for m, f in provided.items())
        raise InputError(
            f"config datasets.{dataset}.modalities: {missing} not provided by the {layout!r} "
            f"layout, which has {names}; use these names"
        )


def check_unique(records: list[ScanRecord], dataset: str) -> list[ScanRecord]:
    """Drop exact repeats of a scan; reject conflicting repeats and shared image files.

    Args:
        records: scans in listing order.
        dataset: dataset key.

    Returns:
        ``records`` without exact repeats (a warning is logged for each).

    Raises:
        InputError: a scan id listed under two subject ids or with different files; one image
            file used by two scan ids.
    """
    seen: dict[str, ScanRecord] = {}
    owner: dict[str, str] = {}
    out = []
    for record in records:
        first = seen.get(record.scan_id)
        if first is not None:
            where = f"dataset {dataset!r}: scan {record.scan_id!r} is listed twice ({first.source} and {record.source})"
            if first.subject_id != record.subject_id:
                raise InputError(
                    f"{where} under different subjects {first.subject_id!r} and "
                    f"{record.subject_id!r}; a scan belongs to one subject: fix the subject_id"
                )
            if first != record:
                raise InputError(
                    f"{where} with different files ({first.files()} vs {record.files()}); keep one "
                    f"row per scan or give the scans distinct ids"
                )
            log.warning("%s with identical data; using it once", where)
            continue
        for path, _ in record.images.values():
            other = owner.setdefault(path, record.scan_id)
            if other != record.scan_id:
                raise InputError(
                    f"dataset {dataset!r}: image file {path} is used by scans {other!r} and "
                    f"{record.scan_id!r} ({record.source}); each scan needs its own images"
                )
        seen[record.scan_id] = record
        out.append(record)
    return out


def max_corner_distance(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> float:
    """Largest distance (mm) between where two affines put the same voxel of a grid.

    The difference of two affine maps is affine, so its largest norm over the volume is at one
    of the 8 corners of the voxel grid.

    Args:
        a, b: ``[4, 4]`` voxel -> mm affines.
        shape: the grid ``(X, Y, Z)``.
    """
    corners = np.array(np.meshgrid(*[[-0.5, n - 0.5] for n in shape[:3]], indexing="ij")).reshape(3, -1)
    corners = np.vstack([corners, np.ones(corners.shape[1])])
    return float(np.max(np.linalg.norm((a - b)[:3] @ corners, axis=0)))


def _require_finite(image: Image, where: str, what: str) -> None:
    """``what`` names the image: ``modality 't1' (path, channel 1)``, ``label path``, ..."""
    if not np.issubdtype(image.data.dtype, np.floating):
        return  # integer voxels are always finite
    bad = ~np.isfinite(image.data)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            f"{where}: {what} has {int(bad.sum())} NaN or infinite voxels (first at {first}); "
            f"fix or replace the file"
        )


def _require_same_grid(
    image: Image, reference: Image, what: str, ref_what: str, where: str, tolerance: float, key: str
) -> None:
    if image.data.shape != reference.data.shape:
        raise InputError(
            f"{where}: {what} has shape {image.data.shape} but {ref_what} has "
            f"{reference.data.shape}; all modalities, label and mask must share one voxel grid "
            f"(resample them to one grid)"
        )
    distance = max_corner_distance(image.affine, reference.affine, image.data.shape)
    if distance > tolerance:
        raise InputError(
            f"{where}: {what} and {ref_what} are not aligned: their voxel grids differ by up to "
            f"{distance:.4g} mm (affine_tolerance {tolerance:g} mm). Register and resample the "
            f"scans to one grid, or raise {key} if the difference is "
            f"only header rounding"
        )


def _read(where: str, read, *args) -> Image:
    try:
        return read(*args)
    except InputError as error:
        raise InputError(f"{where}: {error}") from error


def validate_scan(
    record: ScanRecord, dataset_cfg: dict, dataset: str, budget: PatchBudget | None = None
) -> ScanSummary:
    """Read every file of a scan and check it (see the module docstring).

    Args:
        record: the scan.
        dataset_cfg: the dataset's config block (``classes``, ``mask``, ``affine_tolerance``).
        dataset: dataset key, for messages.
        budget: the dataset's patch sampling keys; when given, the patch must fit in the scan
            (:func:`crossmodal.data.sample_patches.check_patch_fits`) and every class must have
            enough voxels that can centre a patch
            (:func:`crossmodal.data.sample_patches.check_class_budget`), counted in the sampling
            mask of the mask rule, as sampling will count them.

    Returns:
        The scan's grid and class voxel counts.

    Raises:
        InputError: naming the dataset, scan, file and problem.
    """
    where = f"dataset {dataset!r}, scan {record.scan_id!r}"
    grid = _GridCheck(where, float(dataset_cfg["affine_tolerance"]), f"datasets.{dataset}.affine_tolerance")
    images = _read_modalities(record, where, grid)
    if budget is not None:
        shape = next(iter(images.values()))[1].data.shape
        check_patch_fits(shape, budget.patch_size, where, f"datasets.{dataset}.patch_size")
    label = _read(where, read_image, record.label, -1, None)
    _require_finite(label, where, f"label file {record.label}")
    grid.check(label, f"label {record.label}")
    classes = dataset_cfg["classes"]
    class_voxels = _class_voxels(label.data, classes, where, record.label, f"datasets.{dataset}.classes")
    nonzero = np.zeros(label.data.shape, dtype=bool)
    for _, image in images.values():
        nonzero |= image.data != 0
    rule = dataset_cfg["mask"]["rule"]
    mask_data = _mask_data(record, rule, where, grid, nonzero, dataset)
    labels = map_labels(label.data, classes, f"{where}, label file {record.label}")
    radius = int(dataset_cfg["mask"]["dilation_voxels"]) if rule == "dilated_labels" else 0
    # the nonzero rule reads "non-zero in any modality": that is `nonzero`, as one channel
    region = normalization_mask(nonzero[np.newaxis], labels, rule, radius, mask_data)
    for what, image in images.values():
        mask_statistics(image.data, region, f"{where}, {what}")
    if budget is not None:
        eligible = eligible_counts(labels, region, len(classes), budget.patch_size)
        check_class_budget(
            eligible, np.asarray(class_voxels), [c["name"] for c in classes], budget,
            f"{where} (label file {record.label})",
        )
    else:
        absent = [c["name"] for c, n in zip(classes, class_voxels) if n == 0]
        if absent:
            log.warning("%s: no voxel of class(es) %s in %s", where, absent, record.label)
    return ScanSummary(grid.reference.data.shape, grid.reference.spacing, class_voxels)


class _GridCheck:
    """Every image of a scan on the grid of the first modality read (shape, affine tolerance)."""

    def __init__(self, where: str, tolerance: float, key: str):
        self.where, self.tolerance, self.key = where, tolerance, key
        self.reference: Image | None = None
        self.ref_what = ""

    def check(self, image: Image, what: str) -> None:
        if self.reference is None:
            self.reference, self.ref_what = image, what
        else:
            _require_same_grid(image, self.reference, what, self.ref_what, self.where, self.tolerance, self.key)


def _read_modalities(record: ScanRecord, where: str, grid: _GridCheck) -> dict[str, tuple[str, Image]]:
    """Modality -> (its description for messages, its 3-D image), each file read once."""
    files: dict[str, Image] = {}
    images = {}
    for modality, (path, channel) in record.images.items():
        if path not in files:
            files[path] = _read(where, read_volume, path, None)
        image = _select_channel(files[path], modality, path, channel, record, where)
        what = f"modality {modality!r} ({path}{'' if channel < 0 else f', channel {channel}'})"
        _require_finite(image, where, what)
        grid.check(image, what)
        images[modality] = (what, image)
    return images


def _select_channel(image: Image, modality: str, path: str, channel: int, record: ScanRecord, where: str) -> Image:
    """The modality's channel of a file; a channel the file lacks is named with the channels
    that the scan's modalities expect of that file."""
    n_channels = image.data.shape[3] if image.data.ndim == 4 else 0
    if channel >= max(n_channels, 1):
        expected = sorted((c, m) for m, (p, c) in record.images.items() if p == path)
        raise InputError(
            f"{where}: modality {modality!r} is channel {channel} of {path}, but the file has "
            f"{n_channels or 'no'} channels (shape {image.data.shape}); the modalities expect "
            f"{max(c for c, _ in expected) + 1} channels: {', '.join(f'{c} {m}' for c, m in expected)}"
        )
    return _read(where, select_channel, image, channel, path)


def _class_voxels(data: np.ndarray, classes: list[dict], where: str, path: str, key: str) -> tuple[int, ...]:
    """Voxels per class of a label image; every value mapped, some foreground."""
    counts = _label_counts(data, where, path)
    allowed = {v for c in classes for v in c["values"]}
    unknown = [int(v) for v in np.flatnonzero(counts) if v not in allowed]
    if unknown:
        raise InputError(
            f"{where}: label file {path} has values {unknown} that no class of config "
            f"{key} maps (mapped: {sorted(allowed)}); add them to a class or fix the label file"
        )
    class_voxels = tuple(int(sum(counts[v] for v in c["values"] if v < len(counts))) for c in classes)
    if sum(class_voxels[1:]) == 0:
        raise InputError(
            f"{where}: label file {path} has no foreground voxel ("
            + ", ".join(f"{c['name']} 0" for c in classes[1:])
            + f" voxels; {classes[0]['name']} {class_voxels[0]}), so no patch of a foreground class "
            f"can be drawn from it; fix the label file or leave the scan out"
        )
    return class_voxels


def _mask_data(
    record: ScanRecord, rule: str, where: str, grid: _GridCheck, nonzero: np.ndarray, dataset: str
) -> np.ndarray | None:
    """The mask file's voxels (rule ``file``), after checking that the rule's mask is not empty."""
    if rule == "file":
        if not record.mask:
            raise InputError(f"{where}: mask rule 'file' but no mask file is listed ({record.source})")
        mask = _read(where, read_image, record.mask, -1, None)
        _require_finite(mask, where, f"mask file {record.mask}")
        grid.check(mask, f"mask {record.mask}")
        if not np.any(mask.data):
            raise InputError(f"{where}: mask file {record.mask} is empty (no non-zero voxel); fix the mask")
        return mask.data
    if rule == "nonzero":
        if not nonzero.any():
            raise InputError(
                f"{where}: every image voxel is zero, so the nonzero mask is empty: "
                f"{[p for p, _ in record.images.values()]}"
            )
    elif rule != "dilated_labels":
        raise InputError(f"config datasets.{dataset}.mask.rule = {rule!r} is unknown")
    return None


def _label_counts(data: np.ndarray, where: str, path: str) -> np.ndarray:
    """Voxels per integer label value (``np.bincount``; index = value)."""
    if np.issubdtype(data.dtype, np.floating):
        values = np.rint(data)
        if not np.array_equal(values, data):
            bad = data[values != data]
            raise InputError(
                f"{where}: label file {path} has non-integer values (e.g. {bad[:3].tolist()}); a "
                f"label image holds integer class values (was it resampled with interpolation?)"
            )
        data = values
    elif not np.issubdtype(data.dtype, np.integer):
        raise InputError(f"{where}: label file {path} has voxels of type {data.dtype}, not integers")
    if data.size and data.min() < 0:
        negative = np.unique(data[data < 0])[:5]
        raise InputError(f"{where}: label file {path} has negative values {negative.tolist()}; labels are >= 0")
    if data.size and data.max() > 65535:
        raise InputError(f"{where}: label file {path} has values up to {data.max():g}; is it a label image?")
    if data.dtype.kind == "f" or data.dtype.itemsize > 4:
        data = data.astype(np.int64)
    return np.bincount(data.ravel(order="K"))


def describe_files(paths: list[str | Path]) -> str:
    """Short listing of up to 6 file names, for 'found instead' hints."""
    names = sorted(Path(p).name for p in paths)
    return ", ".join(names[:6]) + (f", ... ({len(names)} files)" if len(names) > 6 else "") if names else "nothing"
