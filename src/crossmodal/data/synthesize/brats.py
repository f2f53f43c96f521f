"""Synthetic brain tumour MRI on real anatomy: ``t1``, ``t1c``, ``t2``, ``flair`` (BraTS-like).

Per subject:

* anatomy: the ICBM 2009a template's CSF / grey / white-matter fractions
  (``crossmodal.data.synthesize.template``), moved by a random global rotation (a few degrees),
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

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from crossmodal.common.seeds import derive_seed
from crossmodal.data.synthesize import acquisition, fields, mr_physics, parameters, sharing, template

MODALITIES = ("t1", "t1c", "t2", "flair")
# The modality whose image the others take as kappa -> 1 (sharing): BRATS registers every scan
# of a subject to its T1+c [Menze 2015].
REFERENCE_MODALITY = "t1c"
# A whole brain (ICBM 2009a: 145 x 181 x 155 mm) with room for the subject's scaling and pose,
# at 2 mm: 805k voxels per modality.
DEFAULT_SHAPE = (88, 104, 88)
DEFAULT_SPACING = (2.0, 2.0, 2.0)

TISSUES = ("csf", "gm", "wm", "vessel", "choroid", "necrosis", "enhancing", "non_enhancing", "edema")
CSF, GM, WM, VESSEL, CHOROID, NECROSIS, ENHANCING, NON_ENHANCING, EDEMA = range(len(TISSUES))
# What the tumour looks like in a modality that hides it (kappa < 0, sharing): white matter.
MIMIC = {t: WM for t in (NECROSIS, ENHANCING, NON_ENHANCING, EDEMA)}
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


def _soft_inside(signed_mm: np.ndarray, width_mm: float) -> np.ndarray:
    """Fraction of a voxel inside a boundary: ``signed_mm`` > 0 inside, linear over one voxel."""
    return np.clip(np.float32(0.5) + signed_mm / np.float32(width_mm), 0.0, 1.0)


@dataclass
class BrainPose:
    """Where each output voxel samples the template: the subject's pose, shape and deformation.

    Attributes:
        world: float32 ``[3, X, Y, Z]`` world (RAS mm, centred) coordinates of the output voxels.
        to_template: ``[3, 3]`` matrix from world to template mm (rotation and inverse scale).
        shift: template point (mm) of the world origin.
        displacement: three float32 ``[X, Y, Z]`` smooth displacements (mm).
    """

    world: np.ndarray
    to_template: np.ndarray
    shift: np.ndarray
    displacement: list[np.ndarray]


def draw_pose(shape, spacing, anatomy_rng: np.random.Generator, centre_mm: np.ndarray) -> BrainPose:
    """The subject's pose and shape: template point = A @ world + centre + shift + displacement.

    Args:
        shape: voxels ``(X, Y, Z)``.
        spacing: voxel size in mm.
        anatomy_rng: the subject's anatomy generator (rotation, scale, shift, three fields).
        centre_mm: the template's centre (mm).

    Returns:
        The pose.
    """
    affine = brats_affine(shape, spacing)
    grid = np.stack(np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij"))
    world = np.einsum("ij,jxyz->ixyz", affine[:3, :3].astype(np.float32), grid)
    world += affine[:3, 3, None, None, None].astype(np.float32)
    rotation = fields.rotation(anatomy_rng.normal(0.0, _ROTATION_SD_DEG, 3))
    scale = np.exp(anatomy_rng.normal(0.0, _SCALE_SD, 3))
    to_template = rotation @ np.diag(1.0 / scale)  # a larger head maps to a smaller template region
    shift = centre_mm + anatomy_rng.normal(0.0, _SHIFT_SD_MM, 3)
    displacement = [
        np.float32(_DEFORMATION_SD_MM) * fields.smooth_field(anatomy_rng, shape, spacing, _DEFORMATION_SCALE_MM)
        for _ in range(3)
    ]
    return BrainPose(world, to_template, shift, displacement)


@dataclass(frozen=True)
class TumourShape:
    """One subject's tumour: centre (world mm), radii (mm), whether it has a necrotic core."""

    centre: np.ndarray
    core_radius: float
    rim: float
    necrotic: bool
    shell: float
    edema_reach: float
    push: float


def draw_tumour_shape(tumour_rng: np.random.Generator, pose: BrainPose) -> TumourShape:
    """A tumour centred on a deep white-matter point of the template, mapped to world mm."""
    candidates = template.tumour_seed_candidates()
    seed_mm = candidates[tumour_rng.integers(len(candidates))]
    centre = np.linalg.solve(pose.to_template, seed_mm - pose.shift)
    core_radius = tumour_rng.uniform(10.0, 22.0)
    return TumourShape(
        centre=centre,
        core_radius=core_radius,
        rim=tumour_rng.uniform(2.5, 6.0),
        necrotic=bool(tumour_rng.uniform() < 0.8),
        shell=tumour_rng.uniform(1.5, 5.0),
        edema_reach=tumour_rng.uniform(8.0, 25.0),
        push=tumour_rng.uniform(0.3, 0.7) * core_radius,
    )


def warp_with_mass_effect(pose: BrainPose, tumour: TumourShape, tpl, maps) -> tuple[np.ndarray, np.ndarray]:
    """The template maps resampled into the subject, pushed outwards around the tumour.

    Mass effect: tissue displaced radially away from the tumour centre (a monotonic map
    ``r -> r - push exp(-(r / 2R)^2)``, so nothing folds).

    Args:
        pose: the subject's pose.
        tumour: its tumour.
        tpl: the template (``template.load_template()``).
        maps: the prefiltered CSF, GM, WM and depth maps (``template.prefiltered_maps``).

    Returns:
        ``(warped float32 [4, X, Y, Z]`` CSF, GM, WM fractions and depth (mm),
        ``distance float32 [X, Y, Z]`` from the tumour centre (mm)).
    """
    f32 = np.float32
    centre = tumour.centre.astype(np.float32)[:, None, None, None]
    relative = pose.world - centre
    distance = np.sqrt((relative**2).sum(axis=0))
    source = np.maximum(distance - f32(tumour.push) * np.exp(-((distance / f32(2 * tumour.core_radius)) ** 2)), 0.0)
    factor = np.where(distance > 0, source / np.maximum(distance, f32(1e-6)), 0.0).astype(np.float32)
    points = np.einsum("ij,jxyz->ixyz", pose.to_template.astype(np.float32), centre + relative * factor)
    for i in range(3):
        points[i] += f32(pose.shift[i] - tpl.origin_mm[i]) + pose.displacement[i]  # -> template voxel index
    warped = np.stack([ndimage.map_coordinates(m, points, order=1, mode="constant", cval=0.0) for m in maps])
    return warped, distance


def draw_vessels_and_plexus(anatomy_rng, shape, spacing, csf, depth) -> tuple[np.ndarray, np.ndarray]:
    """Structures that show on T1+c only, carved out of the CSF.

    Cortical veins: thin tubes (where two smooth fields both pass zero) in superficial CSF;
    choroid plexus: blobs in the deep (ventricular) CSF.

    Returns:
        ``(vessel, choroid)`` float32 fractions ``[X, Y, Z]``.
    """
    f32 = np.float32
    vein_a = fields.smooth_field(anatomy_rng, shape, spacing, 15.0)
    vein_b = fields.smooth_field(anatomy_rng, shape, spacing, 15.0)
    tube = np.exp(-(vein_a**2 + vein_b**2) / f32(2 * 0.12**2))
    vessel = csf * tube * (depth < 6.0)
    plexus = fields.smooth_field(anatomy_rng, shape, spacing, 8.0)
    choroid = (csf - vessel) * np.clip(plexus - f32(0.8), 0.0, 1.0) * (depth > 15.0)
    return vessel, choroid


@dataclass
class TumourCompartments:
    """Fractions ``[X, Y, Z]`` of the tumour compartments (float32)."""

    tumour: np.ndarray  # everything inside the outer shell
    necrosis: np.ndarray
    enhancing: np.ndarray
    non_enhancing: np.ndarray


def draw_tumour(tumour_rng, shape, spacing, tumour: TumourShape, distance: np.ndarray) -> tuple[TumourCompartments, np.ndarray]:
    """The tumour's compartments with irregular (smooth-field-modulated) outlines.

    A necrotic core (if any), an enhancing rim partly replaced by non-enhancing tumour, and an
    outer non-enhancing shell; one-voxel soft edges.

    Returns:
        The compartments, and the edema outline's modulation (a unit-SD field, for
        :func:`draw_edema`).
    """
    f32 = np.float32
    width = float(np.mean(spacing))  # soft-edge width: one voxel
    lobes = fields.smooth_field(tumour_rng, shape, spacing, 12.0)
    patches = fields.smooth_field(tumour_rng, shape, spacing, 7.0)
    fingers = fields.smooth_field(tumour_rng, shape, spacing, 10.0)
    outline = f32(1.0) + f32(0.18) * lobes
    outer = _soft_inside((tumour.core_radius + tumour.shell) * outline - distance, width)
    core = _soft_inside(tumour.core_radius * outline - distance, width)
    necrosis = np.zeros_like(core)
    if tumour.necrotic and tumour.core_radius - tumour.rim > 2.0:
        necrosis = _soft_inside((tumour.core_radius - tumour.rim) * outline - distance, width)
    rim = core - necrosis
    enhancing = rim * np.clip(f32(0.5) + f32(1.5) * (patches + f32(0.4)), 0.0, 1.0)  # most of the rim
    non_enhancing = rim - enhancing + (outer - core)
    return TumourCompartments(outer, necrosis, enhancing, non_enhancing), fingers


def draw_edema(spacing, tumour: TumourShape, compartments: TumourCompartments, wm, distance, fingers) -> np.ndarray:
    """Edema zone around the tumour: reaches further where white matter is dense (the tracts).

    Returns:
        float32 ``[X, Y, Z]`` in [0, 1]: the share of a voxel's normal tissue in the zone.
    """
    f32 = np.float32
    wm_local = ndimage.gaussian_filter(wm, 4.0 / np.asarray(spacing), mode="constant")
    base = tumour.core_radius + tumour.shell
    reach = (base + tumour.edema_reach * (f32(0.4) + f32(0.8) * wm_local)) * (f32(1.0) + f32(0.2) * fingers)
    return np.clip(_soft_inside(reach - distance, float(np.mean(spacing))) - compartments.tumour, 0.0, 1.0)


def brain_fractions(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    anatomy_rng: np.random.Generator,
    tumour_rng: np.random.Generator,
) -> np.ndarray:
    """Tissue fractions of one subject's brain with a tumour on the demo grid.

    Steps: pose, tumour shape, mass effect (the warped template), vessels and plexus, tumour
    compartments, edema; tumour compartments replace the normal fractions, edema replaces white
    matter (and a little grey matter).

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
    pose = draw_pose(shape, spacing, anatomy_rng, tpl.centre_mm)
    tumour = draw_tumour_shape(tumour_rng, pose)
    warped, distance = warp_with_mass_effect(pose, tumour, tpl, maps)
    del pose
    csf, gm, wm, depth = (warped[i] for i in range(4))
    depth = np.maximum(depth, 0.0)
    vessel, choroid = draw_vessels_and_plexus(anatomy_rng, shape, spacing, csf, depth)
    csf = csf - vessel - choroid
    compartments, fingers = draw_tumour(tumour_rng, shape, spacing, tumour, distance)
    edema_zone = draw_edema(spacing, tumour, compartments, wm, distance, fingers)
    keep = np.float32(1.0) - compartments.tumour
    csf, gm, wm, vessel, choroid = (x * keep for x in (csf, gm, wm, vessel, choroid))
    edema_wm = edema_zone * wm
    edema_gm = edema_zone * np.float32(0.25) * gm
    fractions = np.stack([
        csf, gm - edema_gm, wm - edema_wm, vessel, choroid, compartments.necrosis,
        compartments.enhancing, compartments.non_enhancing, edema_wm + edema_gm,
    ])  # fmt: skip
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


def brain_signals(
    tissues: list[mr_physics.Tissue],
    protocol: dict[str, mr_physics.Sequence],
    fractions: np.ndarray,
    textures: dict[str, np.ndarray],
    hidden: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Noiseless signal map of each modality: contrast, partial volume and texture.

    Args:
        tissues: the subject's tissues (``TISSUES`` order).
        protocol: the subject's site protocol (:func:`site_protocol`).
        fractions: float32 ``[len(TISSUES), X, Y, Z]``.
        textures: modality -> unit-SD texture field (``acquisition.mixed_textures``).
        hidden: modality -> where it hides the tumour (``sharing.hidden_regions``); None:
            nowhere.

    Returns:
        modality -> float32 ``[X, Y, Z]``, in units of the modality's brightest normal tissue.
    """
    agent, sd = parameters.GADOBUTROL, parameters.MICROSTRUCTURE_SD
    signals = {}
    for modality in MODALITIES:
        seq = protocol[modality]
        seen = fractions if hidden is None else sharing.hide(fractions, hidden[modality], MIMIC)
        reference = np.float32(reference_signal(modality))
        contrast = np.array([mr_physics.total_signal(t, seq, agent) for t in tissues], dtype=np.float32) / reference
        amplitudes = np.array([mr_physics.texture_amplitude(t, seq, sd, agent) for t in tissues], dtype=np.float32) / reference
        signal = np.tensordot(contrast, seen, axes=(0, 0))
        signal += np.tensordot(amplitudes, seen, axes=(0, 0)) * textures[modality]
        signals[modality] = signal
    return signals


def brats_scan(
    seed: int,
    subject: int,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    noise: float,
    bias: float,
    rho: float,
    kappa: float = 0.0,
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
        kappa: what the modalities share (``sharing``): 1 the reference's image, 0 each its
            own physics, -1 half of the tumour hidden in each modality.

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
    hidden = sharing.hidden_regions(stream("sharing"), shape, spacing, sharing.REGION_MM["brats"], list(MODALITIES), kappa)
    signals = sharing.share_signals(brain_signals(tissues, protocol, fractions, textures, hidden), REFERENCE_MODALITY, kappa)
    acquired = acquisition.scanner_images(
        [signals[m] for m in MODALITIES], [protocol[m] for m in MODALITIES], spacing, noise, bias,
        (stream("bias"), stream("noise")), offsets, (MODALITIES.index(REFERENCE_MODALITY), kappa),
    )
    images = {}
    for modality, image, gain in zip(MODALITIES, acquired, gains):
        scan = fields.to_int16(image * np.float32(gain))
        scan[~brain] = 0
        scan[brain] = np.maximum(scan[brain], 1)
        images[modality] = scan
    return images, labels, fractions
