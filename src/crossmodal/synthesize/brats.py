"""Synthetic brain tumour MRI: four modalities (``t1``, ``t1c``, ``t2``, ``flair``).

A seeded tissue model shaped like the BraTS task of the paper:

* a skull-stripped brain (an irregular ellipsoid; zero outside in every modality) with cortical
  grey matter whose thickness and sulci (CSF folds) come from smooth random fields, white
  matter inside, deep grey nuclei and two lateral ventricles;
* a tumour at a random place in one hemisphere: a necrotic core, an enhancing rim (partly
  replaced by non-enhancing tumour), a non-enhancing shell and surrounding edema spreading
  through white matter, all with irregular (field-perturbed) boundaries;
* MR contrasts as in real scans: WM > GM > CSF on T1 and T1+c, the reverse on T2; CSF dark on
  FLAIR; edema bright on T2 and FLAIR and only slightly darker than white matter on T1; the
  enhancing rim bright only on T1+c. So some tumour parts are visible in some modalities only,
  and the tissue intensity order inverts between T1 and T2. T2 and FLAIR are blurrier across
  slices (thick-slice acquisitions resampled to the common grid).

Array axes ``[x, y, z]`` = left-right, posterior-anterior, inferior-superior, written with a
BraTS-like affine (x and y flipped). Raw labels as in BraTS 2018-2021: 0 background,
1 necrotic / non-enhancing tumour core, 2 edema, 4 enhancing tumour.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from crossmodal.seeds import derive_seed
from crossmodal.synthesize import fields

MODALITIES = ("t1", "t1c", "t2", "flair")
DEFAULT_SHAPE = (64, 64, 48)
DEFAULT_SPACING = (1.5, 1.5, 1.5)

OUTSIDE, CSF, GM, WM, NECROSIS, ENHANCING, NON_ENHANCING, EDEMA = range(8)
TISSUES = ("outside", "csf", "gm", "wm", "necrosis", "enhancing", "non_enhancing", "edema")
# Mean intensity of each tissue (row) per modality (column: t1, t1c, t2, flair).
INTENSITY = np.array(
    [
        [0.00, 0.00, 0.00, 0.00],  # outside the brain (skull-stripped)
        [0.22, 0.22, 1.00, 0.12],  # CSF: dark on T1 and FLAIR, bright on T2
        [0.55, 0.55, 0.62, 0.62],  # grey matter
        [0.80, 0.80, 0.40, 0.48],  # white matter
        [0.25, 0.28, 0.85, 0.55],  # necrotic core
        [0.50, 1.10, 0.62, 0.68],  # enhancing rim: bright on T1+c only
        [0.45, 0.45, 0.75, 0.80],  # non-enhancing tumour
        [0.66, 0.67, 0.88, 0.95],  # edema: bright on T2 and FLAIR, faint on T1
    ],
    dtype=np.float32,
)
LABEL_OF_TISSUE = np.array([0, 0, 0, 0, 1, 4, 1, 2], dtype=np.uint8)
PSF_SIGMA_VOXELS = {
    "t1": (0.5, 0.5, 0.5),
    "t1c": (0.5, 0.5, 0.5),
    "t2": (0.5, 0.5, 1.0),
    "flair": (0.6, 0.6, 1.2),
}

# Field of view (mean over axes) in mm for which the lengths below are given.
_REFERENCE_FOV = 96.0


def brain_tissues(
    shape: tuple[int, int, int], spacing: tuple[float, float, float], rng: np.random.Generator
) -> np.ndarray:
    """Tissue map of one synthetic brain with a tumour.

    Args:
        shape: voxels ``(X, Y, Z)``.
        spacing: voxel size in mm.
        rng: generator seeded per subject.

    Returns:
        uint8 ``[X, Y, Z]`` tissue codes (indices into ``TISSUES``).
    """
    fov = np.asarray(shape) * np.asarray(spacing)
    s = float(fov.mean() / _REFERENCE_FOV)
    f32 = np.float32
    x, y, z = fields.grid_mm(shape, spacing)
    radii = fov * np.array([0.40, 0.43, 0.40]) * rng.uniform(0.93, 1.0, 3)

    def field(scale_mm: float) -> np.ndarray:
        return fields.smooth_field(rng, shape, spacing, scale_mm * s)

    ellipsoid = np.sqrt((x / f32(radii[0])) ** 2 + (y / f32(radii[1])) ** 2 + (z / f32(radii[2])) ** 2)
    brain = ellipsoid * (1 + f32(0.04) * field(25.0)) < 1
    depth = ndimage.distance_transform_edt(brain, sampling=spacing).astype(np.float32)

    tissue = np.full(shape, WM, dtype=np.uint8)
    cortex = depth < f32(5.0 * s) + f32(1.5 * s) * field(8.0)
    tissue[cortex] = GM
    for side in (-1, 1):  # deep grey nuclei
        centre = np.array([0.25 * side, 0.0, -0.1]) * radii
        r = np.sqrt(sum(((c - f32(m)) / f32(0.16 * rad)) ** 2 for c, m, rad in zip((x, y, z), centre, radii)))
        tissue[r < 1] = GM
    sulci = (depth < f32(1.0 * s)) | ((depth < f32(7.0 * s)) & (np.abs(field(6.0)) < 0.12))
    tissue[sulci] = CSF
    for side in (-1, 1):  # lateral ventricles
        centre = np.array([0.11 * side, 0.05, 0.12]) * radii
        half = np.array([0.06, 0.32, 0.12]) * radii
        r = np.sqrt(sum(((c - f32(m)) / f32(h)) ** 2 for c, m, h in zip((x, y, z), centre, half)))
        tissue[r * (1 + f32(0.1) * field(10.0)) < 1] = CSF

    # Tumour: in one hemisphere, away from the midline.
    side = rng.choice([-1.0, 1.0])
    centre = np.array([side * rng.uniform(0.3, 0.5), rng.uniform(-0.4, 0.4), rng.uniform(-0.15, 0.35)]) * radii
    radius = rng.uniform(0.22, 0.32) * float(np.mean(radii))
    dist = np.sqrt((x - f32(centre[0])) ** 2 + (y - f32(centre[1])) ** 2 + (z - f32(centre[2])) ** 2)
    d = dist / f32(radius) * (1 + f32(0.15) * field(8.0))
    patchy = field(5.0)
    edema_extent = rng.uniform(1.4, 1.9) * (1 + 0.2 * field(10.0))
    edema = (d < edema_extent) & ((tissue == WM) | ((tissue == GM) & (d < 1.3)))
    tissue[edema] = EDEMA
    tissue[d < 1.0] = NON_ENHANCING
    tissue[(d < 0.75) & (patchy < 0.6)] = ENHANCING
    tissue[d < 0.5] = NECROSIS
    tissue[~brain] = OUTSIDE
    return tissue


def brats_scan(
    seed: int,
    subject: int,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    noise: float,
    bias: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Images, labels and tissue map of one synthetic BraTS subject.

    Args:
        seed: dataset seed (``synthetic.seed``).
        subject: subject index (0-based).
        shape: voxels per axis.
        spacing: voxel size in mm.
        noise: Rician noise SD relative to the brightest tissue.
        bias: amplitude of the multiplicative bias field.

    Returns:
        ``({modality: int16 [X, Y, Z]}, labels uint8 [X, Y, Z], tissue uint8 [X, Y, Z])``:
        images zero outside the brain and at least 1 inside it; labels 0 background,
        1 necrotic / non-enhancing core, 2 edema, 4 enhancing tumour; tissue codes index
        ``TISSUES``.
    """
    rng = np.random.default_rng(derive_seed(seed, "brats", subject))
    tissue = brain_tissues(shape, spacing, rng)
    brain = tissue != OUTSIDE
    labels = LABEL_OF_TISSUE[tissue]
    table = INTENSITY * (1 + 0.04 * rng.standard_normal(INTENSITY.shape)).astype(np.float32)
    texture = 1 + 0.04 * fields.smooth_field(rng, shape, spacing, 3.0 * float(np.mean(spacing)))
    images = {}
    for index, modality in enumerate(MODALITIES):
        image = fields.blur(table[tissue, index] * texture, PSF_SIGMA_VOXELS[modality])
        image = image * fields.bias_field(rng, shape, spacing, bias)
        image = fields.rician_noise(rng, image, noise)
        gain = rng.uniform(0.7, 1.3)  # scanner scaling differs per subject and sequence
        scan = fields.to_int16(image * gain)
        scan[~brain] = 0
        scan[brain] = np.maximum(scan[brain], 1)
        images[modality] = scan
    return images, labels, tissue


def brats_affine(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> np.ndarray:
    """Voxel -> RAS affine like the BraTS releases (x and y flipped), centred on the origin."""
    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    centre = (np.asarray(shape) - 1) / 2
    affine[:3, 3] = -affine[:3, :3] @ centre
    return affine
