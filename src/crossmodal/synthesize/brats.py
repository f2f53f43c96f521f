"""Synthetic brain tumour MRI on real anatomy: ``t1``, ``t1c``, ``t2``, ``flair`` (BraTS-like).

Per subject:

* anatomy: the ICBM 2009a template's CSF / grey / white-matter fractions
  (``crossmodal.synthesize.template``), moved by a random global rotation (a few degrees),
  anisotropic scaling (a few percent), shift and a smooth random deformation (a few mm), and
  resampled to the demo grid as *fractions* (partial volume), not labels;
* structures that show on one modality only: cortical veins in the superficial CSF and choroid
  plexus in the ventricles, both bright on T1+c only (and dark flow voids on T2 / FLAIR for the
  veins);
* a tumour centred in deep white matter of one hemisphere, with an irregular outline (radii
  modulated by smooth random fields) and mass effect (the tissue around it pushed outwards): a
  necrotic core (absent in some subjects), an enhancing rim partly replaced by non-enhancing
  tumour, an outer non-enhancing shell, and edema that spreads through white matter and only
  little into grey matter. Tumour compartments replace the normal tissue fractions, with a
  one-voxel soft edge (partial volume);
* contrast from the signal equations (``mr_physics``) with the tissue parameters and protocol
  of ``parameters``, varied per subject (scanner / site): each voxel's signal is the
  fraction-weighted sum of its tissues' signals;
* texture: each tissue's PD, T1 and T2 vary smoothly within the tissue
  (``parameters.MICROSTRUCTURE_SD``); a modality sees this as a texture field of the amplitude
  its signal equation gives each tissue (``mr_physics.texture_amplitude``), shared with the
  other modalities to the degree ``rho`` (``acquisition.mixed_textures``);
* acquisition (``acquisition``): bias field, 2-D thick slices for T2 and FLAIR (thickness and
  FLAIR orientation vary per site), Rician noise; skull-stripped (0 outside the brain).

Array axes ``[x, y, z]`` = left-right, posterior-anterior, inferior-superior, written with a
BraTS-like affine (x and y flipped). Raw labels as in BraTS 2018-2021 from each voxel's dominant
compartment: 0 background, 1 necrotic / non-enhancing tumour core, 2 edema, 4 enhancing tumour.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import ndimage

from crossmodal.seeds import derive_seed
from crossmodal.synthesize import acquisition, fields, mr_physics, parameters, template

MODALITIES = ("t1", "t1c", "t2", "flair")
# A whole brain (ICBM 2009a: 145 x 181 x 155 mm) with room for the subject's scaling and pose,
# at 2 mm: 805k voxels per modality.
DEFAULT_SHAPE = (88, 104, 88)
DEFAULT_SPACING = (2.0, 2.0, 2.0)

TISSUES = ("csf", "gm", "wm", "vessel", "choroid", "necrosis", "enhancing", "non_enhancing", "edema")
CSF, GM, WM, VESSEL, CHOROID, NECROSIS, ENHANCING, NON_ENHANCING, EDEMA = range(len(TISSUES))
# Compartments for the dominant-compartment label: normal brain, necrosis, non-enhancing,
# enhancing, edema -> BraTS labels.
_COMPARTMENT_LABELS = np.array([0, 1, 1, 4, 2], dtype=np.uint8)

# Subject variability of the anatomy (approximations of normal adult head-size and pose spread).
_ROTATION_SD_DEG = 3.0
_SCALE_SD = 0.03
_SHIFT_SD_MM = 3.0
_DEFORMATION_SD_MM = 2.0
_DEFORMATION_SCALE_MM = 30.0
# Texture feature size (mm); at least 1.5 voxels so that it is resolved.
_TEXTURE_MM = 3.0


def brats_affine(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> np.ndarray:
    """Voxel -> RAS affine like the BraTS releases (x and y flipped), centred on the origin."""
    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    centre = (np.asarray(shape) - 1) / 2
    affine[:3, 3] = -affine[:3, :3] @ centre
    return affine


def _rotation(angles_deg: np.ndarray) -> np.ndarray:
    ax, ay, az = np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _soft_inside(signed_mm: np.ndarray, width_mm: float) -> np.ndarray:
    """Fraction of a voxel inside a boundary: ``signed_mm`` > 0 inside, linear over one voxel."""
    return np.clip(np.float32(0.5) + signed_mm / np.float32(width_mm), 0.0, 1.0)


def brain_fractions(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    anatomy_rng: np.random.Generator,
    tumour_rng: np.random.Generator,
) -> np.ndarray:
    """Tissue fractions of one subject's brain with a tumour on the demo grid.

    Args:
        shape: voxels ``(X, Y, Z)``.
        spacing: voxel size in mm.
        anatomy_rng: generator of the subject's anatomy (pose, deformation, vessels, plexus).
        tumour_rng: generator of the tumour.

    Returns:
        float32 ``[len(TISSUES), X, Y, Z]``: per voxel the fraction of each tissue; the sum is
        at most 1 (the rest is outside the brain).
    """
    tpl = template.load_template()
    maps = template.prefiltered_maps(tuple(float(s) for s in spacing))
    f32 = np.float32
    width = float(np.mean(spacing))  # soft-edge width: one voxel

    # World (RAS mm, centred) coordinates of the output voxels.
    affine = brats_affine(shape, spacing)
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij"))
    world = np.einsum("ij,jxyz->ixyz", affine[:3, :3].astype(np.float32), grid) + affine[:3, 3, None, None, None].astype(np.float32)
    del grid

    # Subject pose and shape: template point = A @ world + centre + shift + displacement.
    rotation = _rotation(anatomy_rng.normal(0.0, _ROTATION_SD_DEG, 3))
    scale = np.exp(anatomy_rng.normal(0.0, _SCALE_SD, 3))
    a_matrix = rotation @ np.diag(1.0 / scale)  # a larger head maps to a smaller template region
    shift = tpl.centre_mm + anatomy_rng.normal(0.0, _SHIFT_SD_MM, 3)
    displacement = [f32(_DEFORMATION_SD_MM) * fields.smooth_field(anatomy_rng, shape, spacing, _DEFORMATION_SCALE_MM) for _ in range(3)]

    # Tumour centre: a deep white-matter point of the template, mapped to world coordinates.
    candidates = template.tumour_seed_candidates()
    seed_mm = candidates[tumour_rng.integers(len(candidates))]
    centre_world = np.linalg.solve(a_matrix, seed_mm - shift)
    core_radius = tumour_rng.uniform(10.0, 22.0)
    rim = tumour_rng.uniform(2.5, 6.0)
    necrotic = tumour_rng.uniform() < 0.8
    shell = tumour_rng.uniform(1.5, 5.0)
    edema_reach = tumour_rng.uniform(8.0, 25.0)
    push = tumour_rng.uniform(0.3, 0.7) * core_radius

    # Mass effect: tissue displaced radially away from the tumour centre (a monotonic map
    # r -> r - push * exp(-(r / 2R)^2), so nothing folds).
    rel = world - centre_world.astype(np.float32)[:, None, None, None]
    r = np.sqrt((rel**2).sum(axis=0))
    r_source = np.maximum(r - f32(push) * np.exp(-((r / f32(2 * core_radius)) ** 2)), 0.0)
    factor = np.where(r > 0, r_source / np.maximum(r, f32(1e-6)), 0.0).astype(np.float32)
    source_world = centre_world.astype(np.float32)[:, None, None, None] + rel * factor
    del factor
    points = np.einsum("ij,jxyz->ixyz", a_matrix.astype(np.float32), source_world)
    for i in range(3):
        points[i] += f32(shift[i] - tpl.origin_mm[i]) + displacement[i]  # -> template voxel index
    del source_world, displacement
    warped = np.stack([ndimage.map_coordinates(m, points, order=1, mode="constant", cval=0.0) for m in maps])
    del points
    csf, gm, wm, depth = (warped[i] for i in range(4))
    depth = np.maximum(depth, 0.0)

    # Cortical veins: thin tubes (where two smooth fields both pass zero) in superficial CSF.
    vein_a = fields.smooth_field(anatomy_rng, shape, spacing, 15.0)
    vein_b = fields.smooth_field(anatomy_rng, shape, spacing, 15.0)
    tube = np.exp(-(vein_a**2 + vein_b**2) / f32(2 * 0.12**2))
    vessel = csf * tube * (depth < 6.0)
    # Choroid plexus: blobs in the deep (ventricular) CSF.
    plexus = fields.smooth_field(anatomy_rng, shape, spacing, 8.0)
    choroid = (csf - vessel) * np.clip(plexus - f32(0.8), 0.0, 1.0) * (depth > 15.0)
    csf = csf - vessel - choroid

    # Tumour: irregular radii from smooth fields.
    lobes = fields.smooth_field(tumour_rng, shape, spacing, 12.0)
    patches = fields.smooth_field(tumour_rng, shape, spacing, 7.0)
    fingers = fields.smooth_field(tumour_rng, shape, spacing, 10.0)
    outline = f32(1.0) + f32(0.18) * lobes
    outer = _soft_inside((core_radius + shell) * outline - r, width)
    core = _soft_inside(core_radius * outline - r, width)
    necrosis = _soft_inside((core_radius - rim) * outline - r, width) if necrotic and core_radius - rim > 2.0 else np.zeros_like(core)
    rim_part = core - necrosis
    enhancing_share = np.clip(f32(0.5) + f32(1.5) * (patches + f32(0.4)), 0.0, 1.0)  # most of the rim
    enhancing = rim_part * enhancing_share
    non_enhancing = rim_part - enhancing + (outer - core)
    tumour = outer
    # Edema: reaches further where white matter is dense (spread along the tracts).
    wm_local = ndimage.gaussian_filter(wm, 4.0 / np.asarray(spacing), mode="constant")
    reach = (core_radius + shell + edema_reach * (f32(0.4) + f32(0.8) * wm_local)) * (f32(1.0) + f32(0.2) * fingers)
    edema_zone = np.clip(_soft_inside(reach - r, width) - tumour, 0.0, 1.0)

    keep = f32(1.0) - tumour
    csf, gm, wm, vessel, choroid = (x * keep for x in (csf, gm, wm, vessel, choroid))
    edema_wm = edema_zone * wm
    edema_gm = edema_zone * f32(0.25) * gm
    wm = wm - edema_wm
    gm = gm - edema_gm
    fractions = np.stack([csf, gm, wm, vessel, choroid, necrosis, enhancing, non_enhancing, edema_wm + edema_gm])
    return np.clip(fractions, 0.0, 1.0).astype(np.float32)


def labels_from_fractions(fractions: np.ndarray) -> np.ndarray:
    """BraTS labels from the dominant compartment (0 where less than half a voxel is brain).

    Args:
        fractions: float32 ``[len(TISSUES), X, Y, Z]``.

    Returns:
        uint8 ``[X, Y, Z]``: 0, 1 (necrotic / non-enhancing), 2 (edema), 4 (enhancing).
    """
    normal = fractions[[CSF, GM, WM, VESSEL, CHOROID]].sum(axis=0)
    compartments = np.stack([normal, fractions[NECROSIS], fractions[NON_ENHANCING], fractions[ENHANCING], fractions[EDEMA]])
    labels = _COMPARTMENT_LABELS[np.argmax(compartments, axis=0)]
    labels[fractions.sum(axis=0) < 0.5] = 0
    return labels


def subject_tissues(rng: np.random.Generator) -> list[mr_physics.Tissue]:
    """The tissue parameters of one subject: the literature values varied per subject and site.

    Args:
        rng: the subject's scanner generator.

    Returns:
        One tissue per ``TISSUES`` entry, PD, T1 and T2 scaled by ``exp(N(0, sd^2))`` with
        ``sd = parameters.TISSUE_PARAMETER_SD``.
    """
    sd = parameters.TISSUE_PARAMETER_SD
    return [mr_physics.varied_tissue(parameters.BRAIN_TISSUES[name], rng, sd) for name in TISSUES]


def site_protocol(rng: np.random.Generator) -> dict[str, mr_physics.Sequence]:
    """The sequences of one subject's site: the protocol with varied timing and 2-D geometry.

    TR and TE vary by ``SEQUENCE_TIMING_SD`` (log-normal), flip angles by ``FLIP_SD_DEG``; the
    FLAIR inversion time nulls the scanner's nominal CSF T1 at the site's TR; T2 slices are
    3-6 mm, FLAIR slices 3-6 mm in an axial, coronal or sagittal orientation ([Menze 2015]).

    Args:
        rng: the subject's scanner generator.

    Returns:
        modality -> sequence.
    """
    sequences = parameters.BRAIN_PROTOCOL.sequences
    timing = lambda: float(np.exp(rng.normal(0.0, parameters.SEQUENCE_TIMING_SD)))  # noqa: E731
    t1_tr, t1_te, flip = sequences["t1"].tr_ms * timing(), sequences["t1"].te_ms * timing(), sequences["t1"].flip_deg + rng.normal(0.0, parameters.FLIP_SD_DEG)
    t2_tr, t2_te, t2_slice = sequences["t2"].tr_ms * timing(), sequences["t2"].te_ms * timing(), rng.uniform(3.0, 6.0)
    fl_tr, fl_te, fl_slice = sequences["flair"].tr_ms * timing(), sequences["flair"].te_ms * timing(), rng.uniform(3.0, 6.0)
    fl_axis = int(rng.integers(3))
    nominal_csf_t1 = parameters.BRAIN_TISSUES["csf"].t1_ms
    return {
        "t1": replace(sequences["t1"], tr_ms=t1_tr, te_ms=t1_te, flip_deg=flip),
        "t1c": replace(sequences["t1c"], tr_ms=t1_tr, te_ms=t1_te, flip_deg=flip),
        "t2": replace(sequences["t2"], tr_ms=t2_tr, te_ms=t2_te, slice_mm=t2_slice),
        "flair": replace(sequences["flair"], tr_ms=fl_tr, te_ms=fl_te, slice_mm=fl_slice, slice_axis=fl_axis,
                         ti_ms=mr_physics.null_inversion_time(nominal_csf_t1, fl_tr)),
    }


def reference_signal(modality: str) -> float:
    """Signal of the brightest normal tissue (CSF, GM, WM) at the nominal protocol.

    Images are scaled so that this signal is intensity 1 (before the scanner gain), which is what
    the noise level refers to.

    Args:
        modality: one of ``MODALITIES``.

    Returns:
        The signal (fully relaxed water = 1).
    """
    seq = parameters.BRAIN_PROTOCOL.sequences[modality]
    return max(mr_physics.total_signal(parameters.BRAIN_TISSUES[t], seq, parameters.GADOBUTROL) for t in ("csf", "gm", "wm"))


def brats_scan(
    seed: int,
    subject: int,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    noise: float,
    bias: float,
    rho: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Images, labels and tissue fractions of one synthetic BraTS subject.

    Independent random streams (anatomy, tumour, scanner, texture, bias, noise) are derived from
    ``(seed, subject)``, so that e.g. changing ``rho`` changes the texture mixing only.

    Args:
        seed: dataset seed (``synthetic.seed``).
        subject: subject index (0-based).
        shape: voxels per axis.
        spacing: voxel size in mm.
        noise: Rician noise SD relative to the brightest normal tissue of each modality.
        bias: SD of the log of the multiplicative bias field.
        rho: correlation of the modalities' texture fields (see ``acquisition.mixed_textures``).

    Returns:
        ``({modality: int16 [X, Y, Z]}, labels uint8 [X, Y, Z], fractions float32 [9, X, Y, Z])``:
        images zero outside the brain and at least 1 inside it; labels 0, 1, 2, 4; fractions
        indexed as ``TISSUES``.
    """
    stream = lambda name: np.random.default_rng(derive_seed(seed, "brats", subject, name))  # noqa: E731
    fractions = brain_fractions(shape, spacing, stream("anatomy"), stream("tumour"))
    labels = labels_from_fractions(fractions)
    brain = fractions.sum(axis=0) >= 0.5

    scanner = stream("scanner")
    tissues = subject_tissues(scanner)
    protocol = site_protocol(scanner)
    gains = scanner.uniform(0.7, 1.3, len(MODALITIES))
    offsets = scanner.uniform(0.0, 1.0, len(MODALITIES))
    textures = acquisition.mixed_textures(
        stream("texture"), shape, spacing, max(_TEXTURE_MM, 1.5 * min(spacing)), list(MODALITIES), rho
    )
    bias_rng, noise_rng = stream("bias"), stream("noise")
    images = {}
    for index, modality in enumerate(MODALITIES):
        seq = protocol[modality]
        reference = np.float32(reference_signal(modality))
        agent, sd = parameters.GADOBUTROL, parameters.MICROSTRUCTURE_SD
        signals = np.array([mr_physics.total_signal(t, seq, agent) for t in tissues], dtype=np.float32) / reference
        amplitudes = np.array([mr_physics.texture_amplitude(t, seq, sd, agent) for t in tissues], dtype=np.float32) / reference
        signal = np.tensordot(signals, fractions, axes=(0, 0))
        signal += np.tensordot(amplitudes, fractions, axes=(0, 0)) * textures[modality]
        signal *= fields.bias_field(bias_rng, shape, spacing, bias)
        image = acquisition.acquire(signal, spacing, noise, noise_rng, seq.slice_mm, seq.slice_axis, offsets[index])
        scan = fields.to_int16(image * np.float32(gains[index]))
        scan[~brain] = 0
        scan[brain] = np.maximum(scan[brain], 1)
        images[modality] = scan
    return images, labels, fractions
