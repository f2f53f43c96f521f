"""The ICBM 2009a (nonlinear symmetric) brain template that nilearn ships, as tissue fractions.

nilearn installs the skull-stripped 1-mm template with its grey- and white-matter probability
maps (``nilearn/datasets/data/mni_icbm152_*_tal_nlin_sym_09a_converted.nii.gz``); loading them
needs no download. CSF is the brain region (nilearn's brain mask: template T1 above 0.2 of its
maximum) minus grey and white matter, clipped to [0, 1]: the ventricles and the sulci.

Loading, cropping and the per-spacing prefiltering are cached per process: a synthesize job
builds every subject from one copy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# Margin (mm) kept around the brain when cropping the 197 x 233 x 189 template.
_MARGIN_MM = 8


@dataclass(frozen=True)
class BrainTemplate:
    """The template cropped to the brain.

    Attributes:
        maps: float32 ``[4, X, Y, Z]`` at 1 mm: CSF, GM and WM fractions (each in [0, 1], summing
            to at most 1; 0 outside the brain) and the depth below the brain surface (mm, 0
            outside).
        origin_mm: MNI coordinates (RAS, mm) of voxel ``[0, 0, 0]`` of ``maps``; axes are MNI's
            (+x right, +y anterior, +z superior), 1 mm apart.
        centre_mm: MNI coordinates of the centre of the brain's bounding box.
        extent_mm: size of the brain's bounding box.
    """

    maps: np.ndarray
    origin_mm: np.ndarray
    centre_mm: np.ndarray
    extent_mm: np.ndarray


CSF, GM, WM, DEPTH = range(4)


@functools.lru_cache(maxsize=1)
def load_template() -> BrainTemplate:
    """The ICBM 2009a template as tissue fractions (cached; about 1 s on first use).

    Returns:
        The cropped template.
    """
    # Imported here: nilearn's import pulls in much of its stack (~2 s), which only the
    # synthesize job needs.
    from nilearn.datasets import load_mni152_brain_mask, load_mni152_gm_template, load_mni152_wm_template

    mask_img = load_mni152_brain_mask(resolution=1)
    affine = mask_img.affine
    if not np.allclose(affine[:3, :3], np.eye(3)):
        # nilearn's ICBM files are 1 mm, axis-aligned, RAS; the code below relies on it
        raise RuntimeError(f"unexpected ICBM template affine from nilearn (expected 1 mm RAS):\n{affine}")
    mask = np.asarray(mask_img.dataobj) > 0
    gm = np.asarray(load_mni152_gm_template(resolution=1).get_fdata(dtype=np.float32)) * mask
    wm = np.asarray(load_mni152_wm_template(resolution=1).get_fdata(dtype=np.float32)) * mask
    gm, wm = np.clip(gm, 0, 1), np.clip(wm, 0, 1)
    total = gm + wm
    over = total > 1  # a few hundred voxels where the two maps overlap by rounding
    gm[over] /= total[over]
    wm[over] /= total[over]
    csf = np.clip(mask.astype(np.float32) - gm - wm, 0, 1)

    hits = np.argwhere(mask)
    low = np.maximum(hits.min(axis=0) - _MARGIN_MM, 0)
    high = np.minimum(hits.max(axis=0) + _MARGIN_MM + 1, mask.shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(low, high))
    # Depth below the surface on a 2 mm grid (8x fewer voxels: 0.2 s instead of 2 s for the
    # Euclidean distance transform); it only places vessels, choroid plexus and tumour seeds,
    # for which 1-2 mm of error does not matter.
    inside = mask[box]
    coarse = ndimage.distance_transform_edt(inside[::2, ::2, ::2], sampling=2.0)
    depth = coarse.repeat(2, 0).repeat(2, 1).repeat(2, 2)[: inside.shape[0], : inside.shape[1], : inside.shape[2]]
    depth = (depth * inside).astype(np.float32)
    maps = np.stack([csf[box], gm[box], wm[box], depth]).astype(np.float32)
    origin = affine[:3, 3] + low
    lo, hi = affine[:3, 3] + hits.min(axis=0), affine[:3, 3] + hits.max(axis=0)
    return BrainTemplate(maps=maps, origin_mm=origin, centre_mm=(lo + hi) / 2, extent_mm=hi - lo + 1)


@functools.lru_cache(maxsize=4)
def prefiltered_maps(spacing: tuple[float, float, float]) -> np.ndarray:
    """The template maps low-pass filtered for resampling to voxels of ``spacing`` mm (cached).

    Averaging the 1 mm fractions over a box of ``s`` mm per axis is what a voxel of that size
    holds (partial volume). A Gaussian of the same variance, ``(s^2 - 1) / 12`` beyond the 1 mm
    voxel's own, followed by linear interpolation, approximates that box average.

    Args:
        spacing: target voxel size (mm) along MNI x, y, z.

    Returns:
        float32 ``[4, X, Y, Z]`` like :attr:`BrainTemplate.maps`.
    """
    maps = load_template().maps
    sigma = [float(np.sqrt(max(s * s - 1.0, 0.0) / 12.0)) for s in spacing]
    if max(sigma) == 0:
        return maps
    return np.stack([ndimage.gaussian_filter(m, sigma, mode="constant") for m in maps]).astype(np.float32)


@functools.lru_cache(maxsize=1)
def tumour_seed_candidates(min_depth_mm: float = 25.0, min_wm: float = 0.9, min_abs_x_mm: float = 12.0) -> np.ndarray:
    """MNI coordinates (mm) of deep white-matter voxels where a tumour may be centred.

    Args:
        min_depth_mm: distance below the brain surface.
        min_wm: white-matter fraction.
        min_abs_x_mm: distance from the midline (tumours in one hemisphere).

    Returns:
        float64 ``[N, 3]``.
    """
    t = load_template()
    ok = (t.maps[WM] >= min_wm) & (t.maps[DEPTH] >= min_depth_mm)
    points = np.argwhere(ok).astype(np.float64) + t.origin_mm
    return points[np.abs(points[:, 0]) >= min_abs_x_mm]
