"""Per-scan intensity normalization within the dataset's mask (writes the ``volumes/`` format).

For each scan of ``manifest.tsv`` (one job per dataset):

1. read every modality and the label map, map raw label values to class indices (position in
   the config ``classes``);
2. build the normalization (= sampling) mask by the dataset's rule:
   ``dilated_labels`` -- all non-background labels dilated by ``dilation_voxels`` (OAI: 10),
   ``nonzero`` -- voxels non-zero in any modality (skull-stripped brain),
   ``file`` -- the per-scan mask file of the manifest (non-zero voxels);
3. scale each modality to zero mean and unit SD (population SD) over the mask voxels;
4. crop everything to the mask's bounding box grown by ``patch_size // 2`` (clipped to the
   image), so that every mask voxel far enough from the image border can centre a patch;
5. write ``{scan}.npy`` float32 ``[M, X, Y, Z]``, ``{scan}.labels.npy`` uint8,
   ``{scan}.mask.npy`` bool, and finally ``index.tsv``.

Dilation is Euclidean, in voxel units (the paper dilates in voxels also for its anisotropic
0.36 x 0.36 x 0.7 mm OAI scans): a voxel is in the mask when its distance to the nearest
foreground voxel is at most ``dilation_voxels``. This equals ``scipy.ndimage.binary_dilation``
with a ball structuring element of that radius, but is computed with
``scipy.ndimage.distance_transform_edt`` inside the foreground bounding box grown by the radius:
on a 384x384x160 knee-like label map with radius 10 that takes 1.1 s against 187 s for
``binary_dilation`` with the 21^3 ball (same result, measured).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage
from tqdm import tqdm

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.tsv_tables import read_table
from crossmodal.data.sample_patches import check_patch_fits
from crossmodal.data.volumes import INDEX_NAME, labels_path, mask_path, volume_path

log = logging.getLogger(__name__)

def dilate(foreground: np.ndarray, radius: int) -> np.ndarray:
    """Euclidean dilation of a binary volume by ``radius`` voxels.

    Args:
        foreground: bool ``[X, Y, Z]``.
        radius: dilation radius in voxels (0 returns a copy).

    Returns:
        bool ``[X, Y, Z]``: voxels within Euclidean distance ``radius`` (voxel units) of a
        foreground voxel; empty if the foreground is empty.
    """
    foreground = np.asarray(foreground, dtype=bool)
    out = np.zeros_like(foreground)
    box = bounding_box(foreground, radius)
    if box is None:
        return out
    inside = foreground[box]
    out[box] = ndimage.distance_transform_edt(~inside) <= radius if radius > 0 else inside
    return out


def bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[slice, ...] | None:
    """Bounding box of the true voxels grown by ``margin`` on every side, clipped to the array.

    Args:
        mask: bool array of any dimension.
        margin: voxels added on each side.

    Returns:
        One slice per axis, or None when ``mask`` has no true voxel.
    """
    slices = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hits = np.flatnonzero(mask.any(axis=other))
        if hits.size == 0:
            return None
        slices.append(slice(max(int(hits[0]) - margin, 0), min(int(hits[-1]) + margin + 1, mask.shape[axis])))
    return tuple(slices)


def map_labels(raw: np.ndarray, classes: list[dict], where: str) -> np.ndarray:
    """Map raw label values to class indices (position in ``classes``).

    Args:
        raw: label image ``[X, Y, Z]`` (any numeric dtype; values must be integers).
        classes: the dataset's ``classes`` config (``[{"name", "values"}, ...]``).
        where: scan and file, for messages.

    Returns:
        uint8 ``[X, Y, Z]`` class indices.

    Raises:
        InputError: a value is not an integer or not listed in any class.
    """
    values = np.rint(raw)
    if not np.array_equal(values, raw):
        raise InputError(f"{where}: label image holds non-integer values; labels must be integers")
    values = values.astype(np.int64)
    known = [v for c in classes for v in c["values"]]
    if values.min() < 0:
        raise InputError(f"{where}: label image holds negative values; labels must be >= 0")
    lookup = np.full(max(int(values.max()), max(known)) + 1, 255, dtype=np.uint8)
    for index, cls in enumerate(classes):
        lookup[cls["values"]] = index
    mapped = lookup[values]
    unmapped = mapped == 255
    if unmapped.any():
        raise InputError(
            f"{where}: label values {np.unique(values[unmapped])[:10].tolist()} are not in any "
            f"class of the config key `classes` ({[(c['name'], c['values']) for c in classes]}); "
            f"add them to a class"
        )
    return mapped


def normalization_mask(
    images: np.ndarray,
    labels: np.ndarray,
    rule: str,
    dilation_voxels: int = 0,
    mask_file: np.ndarray | None = None,
) -> np.ndarray:
    """The normalization and sampling mask of one scan.

    Args:
        images: float ``[M, X, Y, Z]`` raw intensities.
        labels: uint8 ``[X, Y, Z]`` class indices (0 = background).
        rule: ``"dilated_labels"``, ``"nonzero"`` or ``"file"``.
        dilation_voxels: Euclidean dilation radius in voxels (``dilated_labels`` only).
        mask_file: the mask image ``[X, Y, Z]`` (``file`` only); non-zero voxels are in.

    Returns:
        bool ``[X, Y, Z]``.

    Raises:
        InputError: unknown rule, or ``file`` without a mask image.
    """
    if rule == "dilated_labels":
        return dilate(labels > 0, dilation_voxels)
    if rule == "nonzero":
        return np.any(images != 0, axis=0)
    if rule == "file":
        if mask_file is None:
            raise InputError("mask rule 'file' needs the mask image (manifest column `mask`)")
        return np.asarray(mask_file) != 0
    raise InputError(f"unknown mask rule {rule!r}; use dilated_labels, nonzero or file")


def mask_statistics(image: np.ndarray, mask: np.ndarray, what: str) -> tuple[float, float]:
    """Mean and population SD of one modality over the normalization mask, which must vary.

    Ingest asks this of every scan before the manifest is written; normalize uses the values.

    Args:
        image: float ``[X, Y, Z]``.
        mask: bool ``[X, Y, Z]`` with at least one true voxel.
        what: the scan and modality (and file), for messages.

    Returns:
        ``(mean, sd)``, accumulated in float64.

    Raises:
        InputError: the modality is constant inside the mask (all zero, say), so it cannot be
            scaled to unit SD.
    """
    values = image[mask].astype(np.float64)
    mean, sd = float(values.mean()), float(values.std())
    if not sd > 1e-7 * max(abs(mean), 1e-30):
        raise InputError(
            f"{what}: intensity is constant ({mean:g}) inside the normalization mask "
            f"({int(mask.sum())} voxels), so it cannot be scaled to unit SD; check the image "
            f"file and the mask rule"
        )
    return mean, sd


def normalize_within(
    images: np.ndarray, mask: np.ndarray, modalities: list[str], where: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale each modality to zero mean, unit population SD over the mask voxels.

    Statistics are accumulated in float64; the result is float32.

    Args:
        images: float ``[M, X, Y, Z]``.
        mask: bool ``[X, Y, Z]`` with at least one true voxel.
        modalities: M names, for messages.
        where: the scan, for messages.

    Returns:
        ``(normalized float32 [M, X, Y, Z], means float64 [M], sds float64 [M])``.

    Raises:
        InputError: a modality is constant inside the mask, or the result is not finite.
    """
    out = np.empty(images.shape, dtype=np.float32)
    means = np.zeros(len(images))
    sds = np.zeros(len(images))
    for m, name in enumerate(modalities):
        means[m], sds[m] = mask_statistics(images[m], mask, f"{where}, modality {name!r}")
        out[m] = (images[m] - means[m]) / sds[m]
        if not np.isfinite(out[m]).all():
            raise InputError(
                f"{where}, modality {name!r}: non-finite values after normalization; the image "
                f"holds NaN or infinite voxels -- fix or exclude the scan"
            )
    return out, means, sds


def _save(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        np.save(tmp, array)


def _read_scan(row: pd.Series, modalities: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read the modalities ``[M, X, Y, Z]`` float32, raw labels and (for file masks) the mask.

    A 4-D file holding several modalities (e.g. the Medical Segmentation Decathlon) is read once.
    """
    from crossmodal.data.io import read_image, read_volume, select_channel

    cache: dict[str, object] = {}
    images = []
    for m in modalities:
        path, channel = row[f"image_{m}"], int(row[f"channel_{m}"])
        if channel < 0:
            images.append(read_image(path).data)
        else:
            if path not in cache:
                cache[path] = read_volume(path)
            images.append(select_channel(cache[path], channel, path).data)
    labels = read_image(row["label"]).data
    mask = None
    if not str(row["mask"]).startswith("rule:"):
        mask = read_image(row["mask"]).data
    shapes = {tuple(a.shape) for a in images + [labels] + ([mask] if mask is not None else [])}
    if len(shapes) != 1:
        raise InputError(
            f"scan {row['scan_id']!r}: images, label and mask shapes differ ({sorted(shapes)}); "
            f"re-run ingest, which checks this"
        )
    return np.stack(images).astype(np.float32, copy=False), labels, mask


def _normalize_scan(
    row: pd.Series, volumes_dir: Path, modalities: list[str], classes: list[dict], mask: dict, patch_size: int,
    name: str,
) -> dict:
    """Normalize and crop one scan of the manifest, write its volumes; returns its ``index.tsv`` row.

    Args:
        row: the scan's manifest row.
        volumes_dir, modalities, classes, mask, patch_size, name: see :func:`normalize_dataset`.

    Raises:
        InputError: the patch is larger than the scan, a label value is unmapped, the mask is
            empty, or a modality is constant in it.
    """
    rule = mask["rule"]
    radius = int(mask["dilation_voxels"]) if rule == "dilated_labels" else 0
    scan = row["scan_id"]
    where = f"dataset {name}, scan {scan!r}"
    images, raw_labels, mask_file = _read_scan(row, modalities)
    check_patch_fits(images.shape[1:], patch_size, where, f"datasets.{name}.patch_size")
    labels = map_labels(raw_labels, classes, f"{where}, label file {row['label']}")
    region = normalization_mask(images, labels, rule, radius, mask_file)
    box = bounding_box(region, patch_size // 2)
    if box is None:
        raise InputError(
            f"{where}: the normalization mask (rule {rule!r}) is empty"
            + (" -- the label map has no foreground" if rule == "dilated_labels" else "")
        )
    # The box holds the whole mask, so cropping first changes no statistic and saves work.
    # ascontiguousarray: saved .npy files must be C-ordered for memory mapping and gathering.
    images = np.ascontiguousarray(images[(slice(None),) + box])
    labels, region = np.ascontiguousarray(labels[box]), np.ascontiguousarray(region[box])
    normalized, means, sds = normalize_within(images, region, modalities, where)
    _save(volume_path(volumes_dir, scan), normalized)
    _save(labels_path(volumes_dir, scan), labels)
    _save(mask_path(volumes_dir, scan), region)
    record = {"scan_id": scan, "subject_id": row["subject_id"]}
    record.update({f"origin_{a}": s.start for a, s in zip("xyz", box)})
    record.update({f"shape_{a}": s.stop - s.start for a, s in zip("xyz", box)})
    record.update({"patch_size": patch_size, "mask_voxels": int(region.sum())})
    for m, mod in enumerate(modalities):
        record[f"mean_{mod}"] = means[m]
        record[f"sd_{mod}"] = sds[m]
    log.info(
        "%s: image %s -> cropped %s, %d mask voxels, mean/SD %s",
        scan, raw_labels.shape, tuple(record[f"shape_{a}"] for a in "xyz"), record["mask_voxels"],
        ", ".join(f"{mod} {means[m]:.4g}/{sds[m]:.4g}" for m, mod in enumerate(modalities)),
    )
    return record


def normalize_dataset(
    manifest: str | Path,
    volumes_dir: str | Path,
    *,
    modalities: list[str],
    classes: list[dict],
    mask: dict,
    patch_size: int,
    name: str = "dataset",
) -> pd.DataFrame:
    """Normalize and crop every scan of a manifest (rule ``normalize``).

    Args:
        manifest: ``results/{ds}/manifest.tsv`` (columns in docs/architecture.md).
        volumes_dir: output directory ``results/{ds}/volumes``.
        modalities: the dataset's ``modalities`` (config order).
        classes: the dataset's ``classes`` (``[{"name", "values"}, ...]``).
        mask: the dataset's ``mask`` block: ``rule``, and ``dilation_voxels`` for rule
            ``dilated_labels``.
        patch_size: odd patch edge P; the crop keeps ``P // 2`` voxels around the mask.
        name: dataset key, for messages.

    Returns:
        The index table written to ``volumes_dir/index.tsv``.

    Raises:
        InputError: a manifest column is missing, a label value is unmapped, a mask is empty,
            a modality is constant in its mask, the patch is larger than a scan (ingest checks
            that too, but does not rerun when ``patch_size`` changes). Messages name the
            dataset and scan.
    """
    volumes_dir = Path(volumes_dir)
    modalities = list(modalities)
    patch_size = int(patch_size)
    needed = ["scan_id", "subject_id", "label", "mask"] + [
        f"{k}_{m}" for m in modalities for k in ("image", "channel")
    ]
    table = read_table(manifest, needed, "ingest", all_text=True)
    if table.empty:
        raise InputError(f"dataset {name}: {manifest} lists no scans")
    volumes_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for _, row in tqdm(table.iterrows(), total=len(table), desc=f"normalize {name}", mininterval=5):
        rows.append(_normalize_scan(row, volumes_dir, modalities, classes, mask, patch_size, name))
    index = pd.DataFrame(rows)
    with atomic_path(volumes_dir / INDEX_NAME) as tmp:
        index.to_csv(tmp, sep="\t", index=False, float_format="%.9g")
    return index
