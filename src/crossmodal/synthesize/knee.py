"""Synthetic knee MRI: two modalities (``normal``, ``fatsup``) of a sagittally scanned knee.

A seeded procedural anatomy (no knee atlas is installable here), shaped like the OAI iMorphics
task of the paper, with the MR physics of the brain model:

* geometry (per subject): a femoral condyle pair (circular sagittal profile, curved coronal
  profile, an intercondylar notch with cruciate ligaments), a tibial plateau with tibial
  spines, cortical bone around fatty marrow, femoral and tibial cartilage sheets on the bone
  surfaces, meniscus wedges (a ring around each condyle's contact area that thickens outwards),
  synovial fluid in the joint space and around the femoral cartilage, the anterior fat pad and
  posterior muscle with fat streaks. A smooth random displacement field makes every subject's
  shape different.
* sessions (per scan): the same subject with a small pose change, a small extra deformation,
  slightly thinner cartilage at follow-up, and new texture, bias and noise. So the two scans of
  a subject share anatomy: fold grouping by subject matters.
* partial volume: the tissue map is drawn on a grid ``SUPERSAMPLE`` times finer per axis and
  averaged into tissue fractions per voxel; labels are each voxel's dominant tissue.
* contrast (``mr_physics``, ``parameters``): ``normal`` after the OAI coronal T1-weighted 3-D
  FLASH without its water excitation (1.5 mm coronal partitions), ``fatsup`` the OAI sagittal
  intermediate-weighted 2-D TSE with fat saturation (3 mm sagittal slices); both are resampled
  to the common grid, so each is blurred along a different axis. Fat and marrow are bright on
  ``normal`` and dark on ``fatsup``, except where the fat saturation fails (a region of
  inhomogeneous field in half of the ``fatsup`` scans, approximation); fluid is dark on
  ``normal`` and the brightest tissue on ``fatsup``.
* texture: as in the brain model, smooth variation of each tissue's PD, T1 and T2 seen through
  each sequence's signal equation, shared between the modalities to the degree ``rho``.

Array axes are ``[x, y, z]`` = anterior-posterior, inferior-superior (in-plane) and
medial-lateral (slice direction, coarser); the written affine maps them to RAS as a sagittal
acquisition. Geometry scales with the field of view, so a small smoke-test grid still holds a
whole joint.

Raw labels: 0 background, 1 femoral cartilage, 2 tibial cartilage, 3 meniscus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossmodal.seeds import derive_seed
from crossmodal.synthesize import acquisition, fields, mr_physics, parameters

MODALITIES = ("normal", "fatsup")
DEFAULT_SHAPE = (96, 96, 40)
DEFAULT_SPACING = (0.5, 0.5, 1.0)

MUSCLE, FAT, FLUID, CORTEX, MARROW, FEMORAL_CARTILAGE, TIBIAL_CARTILAGE, MENISCUS, LIGAMENT = range(9)
TISSUES = (
    "muscle", "fat", "fluid", "cortex", "marrow",
    "femoral_cartilage", "tibial_cartilage", "meniscus", "ligament",
)  # fmt: skip
LABEL_OF_TISSUE = np.array([0, 0, 0, 0, 0, 1, 2, 3, 0], dtype=np.uint8)
# The tissue map is drawn at this many points per voxel and axis and averaged into fractions.
SUPERSAMPLE = 2
# Texture feature size (mm); at least 1.5 voxels.
_TEXTURE_MM = 1.5
# Approximation: a fat-saturation failure (inhomogeneous B0 at the edge of the field of view)
# occurs in this share of the fat-suppressed scans.
_FAT_SAT_FAILURE_RATE = 0.5

# Field of view (in-plane, medial-lateral) in mm for which the anatomy constants below are given.
_REFERENCE_FOV = (48.0, 40.0)


@dataclass(frozen=True)
class KneeAnatomy:
    """Shape parameters of one subject, in mm at the reference field of view (48 x 40 mm)."""

    femur_radius: float
    coronal_radius: float
    femur_u: float
    joint_v: float
    condyle_offset: float
    notch_w: float
    notch_half_width: float
    notch_depth: float
    femoral_thickness: float
    tibial_thickness: float
    film: float
    tibia_u: float
    tibia_half_width: float
    tibial_cartilage_half_width: float
    plateau_curvature: float
    spine_height: float
    meniscus_outer: float
    meniscus_inner_ratio: float
    meniscus_half_width: float
    meniscus_height: float
    fluid_band: float
    fat_boundary: float
    cortex: float


def draw_anatomy(rng: np.random.Generator) -> KneeAnatomy:
    """Random subject shape parameters (mm at the reference field of view)."""
    u = rng.uniform
    return KneeAnatomy(
        femur_radius=u(12.0, 14.5),
        coronal_radius=u(20.0, 30.0),
        femur_u=u(-2.0, 2.0),
        joint_v=u(-4.0, -2.0),
        condyle_offset=u(9.0, 11.0),
        notch_w=u(-2.0, 2.0),
        notch_half_width=u(4.0, 5.5),
        notch_depth=u(6.0, 9.0),
        femoral_thickness=u(2.1, 2.7),
        tibial_thickness=u(1.9, 2.5),
        film=u(0.25, 0.45),
        tibia_u=u(-1.5, 1.5),
        tibia_half_width=u(19.0, 22.0),
        tibial_cartilage_half_width=u(12.0, 15.0),
        plateau_curvature=u(0.004, 0.010),
        spine_height=u(2.5, 4.0),
        meniscus_outer=u(11.0, 13.5),
        meniscus_inner_ratio=u(0.45, 0.6),
        meniscus_half_width=u(8.0, 10.0),
        meniscus_height=u(3.5, 5.0),
        fluid_band=u(0.6, 1.2),
        fat_boundary=u(4.0, 8.0),
        cortex=u(0.6, 0.9),
    )


def _rotation(angles_deg: np.ndarray) -> np.ndarray:
    ax, ay, az = np.deg2rad(angles_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _anatomy_coordinates(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    subject_rng: np.random.Generator,
    session_rng: np.random.Generator,
    scale: float,
) -> list[np.ndarray]:
    """Grid coordinates (mm) moved into the subject's anatomy frame: pose plus deformation."""
    grid = fields.grid_mm(shape, spacing)
    # Subject pose (knee flexion about medial-lateral z, small tilts) and session changes.
    angles = subject_rng.normal(0.0, [1.5, 1.5, 4.0]) + session_rng.normal(0.0, [0.7, 0.7, 1.5])
    shift = (subject_rng.normal(0.0, 1.5, 3) + session_rng.normal(0.0, 0.6, 3)) * scale
    rot = _rotation(angles).astype(np.float32)
    coords = [
        rot[i, 0] * grid[0] + rot[i, 1] * grid[1] + rot[i, 2] * grid[2] - np.float32(shift[i])
        for i in range(3)
    ]
    # Smooth displacement: shared by the subject's sessions, plus a small per-session part.
    for rng, amplitude, wavelength in ((subject_rng, 0.8, 12.0), (session_rng, 0.2, 10.0)):
        for i in range(3):
            coords[i] = coords[i] + np.float32(amplitude * scale) * fields.smooth_field(
                rng, shape, spacing, wavelength * scale
            )
    return coords


def _taper(x: np.ndarray, width: float) -> np.ndarray:
    """0 at ``x <= 0`` rising linearly to 1 at ``x >= width``."""
    return np.clip(x / np.float32(width), 0.0, 1.0)


def knee_tissues(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    anatomy: KneeAnatomy,
    subject_rng: np.random.Generator,
    session_rng: np.random.Generator,
    thickness_factor: float = 1.0,
) -> np.ndarray:
    """Tissue map of one knee scan.

    Args:
        shape: voxels ``(X, Y, Z)`` (anterior-posterior, inferior-superior, medial-lateral).
        spacing: voxel size in mm.
        anatomy: the subject's shape (from :func:`draw_anatomy`).
        subject_rng: generator seeded per subject (pose and deformation shared by sessions).
        session_rng: generator seeded per scan.
        thickness_factor: cartilage thickness multiplier (follow-up cartilage loss).

    Returns:
        uint8 ``[X, Y, Z]`` tissue codes (indices into ``TISSUES``).
    """
    fov = np.asarray(shape) * np.asarray(spacing)
    s = float(min(fov[0], fov[1]) / _REFERENCE_FOV[0])  # in-plane scale
    sw = float(fov[2] / _REFERENCE_FOV[1])  # medial-lateral scale
    a = anatomy
    f32 = np.float32
    U, V, W = _anatomy_coordinates(shape, spacing, subject_rng, session_rng, s)

    def field(scale_mm: float) -> np.ndarray:  # anatomical detail: the same in every session
        return fields.smooth_field(subject_rng, shape, spacing, scale_mm * s)

    # Femur: per medial-lateral position a circle in the sagittal plane.
    notch_w = a.notch_w * sw
    condyles = (notch_w - a.condyle_offset * sw, notch_w + a.condyle_offset * sw)
    coronal = np.minimum(*[(W - f32(c)) ** 2 for c in condyles]) / f32(2 * a.coronal_radius * s)
    notch = f32(a.notch_depth * s) * np.exp(-(((W - f32(notch_w)) / f32(a.notch_half_width * sw)) ** 4))
    radius = f32(a.femur_radius * s) - coronal - notch
    centre_v = (a.joint_v + a.film / 2 + a.femoral_thickness + a.femur_radius) * s
    du = U - f32(a.femur_u * s)
    dv = V - f32(centre_v)
    r = np.sqrt(du**2 + dv**2)
    theta = np.degrees(np.arctan2(du, -dv))  # 0 pointing down (distal), + anterior
    femur = (r < radius) | ((dv > 0) & (np.abs(du) < 0.8 * radius))

    fem_t = (
        f32(a.femoral_thickness * s * thickness_factor)
        * _taper(85.0 - theta, 15.0)
        * _taper(theta + 115.0, 15.0)
        * (notch < f32(0.35 * a.notch_depth * s))
        * (1 + f32(0.08) * field(6.0))
    )
    femoral_cartilage = ~femur & (r < radius + fem_t) & (fem_t > 0.3 * s)

    # Tibia: a plateau, slightly concave, with the tibial spines under the notch.
    dut = U - f32(a.tibia_u * s)
    spine = f32(a.spine_height * s) * np.exp(-(((W - f32(notch_w)) / f32(0.8 * a.notch_half_width * sw)) ** 2))
    top = (
        f32((a.joint_v - a.film / 2 - a.tibial_thickness) * s)
        + f32(a.plateau_curvature / s) * dut**2
        + spine
    )
    edge = np.clip(np.abs(dut) - f32((a.tibia_half_width - 3.0) * s), 0, None) ** 2 / f32(1.5 * s)
    inside_tibia_width = np.abs(dut) < f32(a.tibia_half_width * s)
    tibia = (V < top - edge) & inside_tibia_width
    tib_t = (
        f32(a.tibial_thickness * s * thickness_factor)
        * _taper(f32(a.tibial_cartilage_half_width * s) - np.abs(dut), 3.0 * s)
        * (spine < f32(0.3 * a.spine_height * s))
        * (1 + f32(0.08) * field(6.0))
    )
    cartilage_top = top + tib_t
    tibial_cartilage = ~tibia & (V < cartilage_top) & inside_tibia_width & (tib_t > 0.3 * s)

    # Joint space above the tibial surface and below the femur (with its cartilage).
    joint = (
        ~femur & ~femoral_cartilage & ~tibia & ~tibial_cartilage
        & (r >= radius) & (V >= top - edge) & inside_tibia_width
        & (V < f32((a.joint_v + 7.0) * s))
    )  # fmt: skip
    rho = np.minimum(
        *[
            np.sqrt((du / f32(a.meniscus_outer * s)) ** 2 + ((W - f32(c)) / f32(a.meniscus_half_width * sw)) ** 2)
            for c in condyles
        ]
    )
    inner = a.meniscus_inner_ratio
    wedge_height = f32(a.meniscus_height * s) * np.clip((rho - f32(inner)) / f32(1 - inner), 0.15, 1.0)
    meniscus = (
        joint & (rho >= inner) & (rho <= 1 + 0.05 * field(5.0))
        & (V - np.maximum(cartilage_top, top - edge) < wedge_height)
        & (notch < f32(0.35 * a.notch_depth * s))
    )  # fmt: skip
    fluid = (joint & ~meniscus & (rho < 1.15)) | (
        ~femur & ~femoral_cartilage & (r < radius + fem_t + f32(a.fluid_band * s)) & (fem_t > 0)
    )
    ligament = (
        ~femur & ~tibia & (np.abs(W - f32(notch_w)) < f32(0.6 * a.notch_half_width * sw))
        & (np.abs(du) < 0.5 * radius) & (V > top) & (dv < 0)
    )  # fmt: skip

    # Soft tissue: anterior fat pad, posterior muscle with fat streaks.
    fat = (du + f32(4.0 * s) * field(10.0) > f32(a.fat_boundary * s)) | (field(4.0) > 1.4)
    tissue = np.where(fat, FAT, MUSCLE).astype(np.uint8)
    tissue[fluid] = FLUID
    tissue[ligament] = LIGAMENT
    tissue[meniscus] = MENISCUS
    tissue[tibial_cartilage] = TIBIAL_CARTILAGE
    tissue[femoral_cartilage] = FEMORAL_CARTILAGE
    bone = femur | tibia
    # Depth below the bone surface from the geometry (in-plane distance to the condyle circle or
    # shaft side, to the plateau or tibial side): a Euclidean distance transform of the bone mask
    # gives nearly the same cortex but took 1 s of the 2.5 s of a scan's fine tissue map.
    femur_depth = np.maximum(radius - r, np.where(dv > 0, f32(0.8) * radius - np.abs(du), -np.inf))
    tibia_depth = np.minimum(top - edge - V, f32(a.tibia_half_width * s) - np.abs(dut))
    depth = np.where(femur, femur_depth, tibia_depth)
    # at least one voxel of cortex
    tissue[bone] = np.where(depth[bone] <= max(a.cortex * s, max(spacing)), CORTEX, MARROW)
    return tissue


def knee_fractions(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    anatomy: KneeAnatomy,
    subject_rng: np.random.Generator,
    session_rng: np.random.Generator,
    thickness_factor: float = 1.0,
) -> np.ndarray:
    """Tissue fractions of one knee scan: the tissue map on a finer grid, averaged per voxel.

    The smooth fields of the geometry are continuous B-splines in mm, so the fine grid samples
    the same anatomy as the coarse grid would, only ``SUPERSAMPLE`` times more densely.

    Args:
        shape: voxels ``(X, Y, Z)``.
        spacing: voxel size in mm.
        anatomy: the subject's shape (from :func:`draw_anatomy`).
        subject_rng: generator seeded per subject.
        session_rng: generator seeded per scan.
        thickness_factor: cartilage thickness multiplier.

    Returns:
        float32 ``[len(TISSUES), X, Y, Z]`` summing to 1 per voxel.
    """
    k = SUPERSAMPLE
    fine = knee_tissues(
        tuple(n * k for n in shape), tuple(v / k for v in spacing), anatomy, subject_rng, session_rng, thickness_factor
    )
    x, y, z = shape
    n_tissues = len(TISSUES)
    # coarse voxel index of every fine voxel, then one bincount over (voxel, tissue) pairs
    voxel = np.arange(x * y * z, dtype=np.int64).reshape(x, 1, y, 1, z, 1)
    pairs = (voxel * n_tissues + fine.reshape(x, k, y, k, z, k)).ravel()
    counts = np.bincount(pairs, minlength=x * y * z * n_tissues).reshape(x, y, z, n_tissues)
    return np.moveaxis(counts.astype(np.float32) / np.float32(k**3), -1, 0).copy()


def labels_from_fractions(fractions: np.ndarray) -> np.ndarray:
    """Raw labels of each voxel's dominant tissue.

    Args:
        fractions: float32 ``[len(TISSUES), X, Y, Z]``.

    Returns:
        uint8 ``[X, Y, Z]``: 0 background, 1 femoral cartilage, 2 tibial cartilage, 3 meniscus.
    """
    return LABEL_OF_TISSUE[np.argmax(fractions, axis=0)]


def reference_signal(modality: str) -> float:
    """Signal of the brightest tissue at the nominal protocol and fat suppression.

    Images are scaled so that this signal is intensity 1 (before the scanner gain), which is what
    the noise level refers to.

    Args:
        modality: one of ``MODALITIES``.

    Returns:
        The signal (fully relaxed water = 1).
    """
    seq = parameters.KNEE_PROTOCOL.sequences[modality]
    return max(mr_physics.total_signal(t, seq, fat=parameters.FAT) for t in parameters.KNEE_TISSUES.values())


def subject_tissues(rng: np.random.Generator) -> list[mr_physics.Tissue]:
    """The tissue parameters of one subject: the literature values varied per subject.

    Args:
        rng: the subject's tissue generator.

    Returns:
        One tissue per ``TISSUES`` entry, PD, T1 and T2 scaled by ``exp(N(0, sd^2))`` with
        ``sd = parameters.TISSUE_PARAMETER_SD``.
    """
    sd = parameters.TISSUE_PARAMETER_SD
    return [mr_physics.varied_tissue(parameters.KNEE_TISSUES[name], rng, sd) for name in TISSUES]


def fat_sat_failure(rng: np.random.Generator, shape, spacing) -> np.ndarray:
    """Where the fat saturation fails (1) or works (0), in ``[0, 1]``.

    In ``_FAT_SAT_FAILURE_RATE`` of the scans, a smooth region (about a tenth of the field of view,
    B0 inhomogeneity) where the spectral saturation pulse misses the fat resonance; elsewhere 0.
    The generator is consumed the same way whether or not the failure occurs.

    Args:
        rng: the scan's scanner generator.
        shape: voxels per axis.
        spacing: voxel size in mm.

    Returns:
        float32 ``[X, Y, Z]``: 1 where the saturation fails completely.
    """
    fov = float(min(n * s for n, s in zip(shape, spacing)))
    happens = rng.uniform() < _FAT_SAT_FAILURE_RATE
    field = fields.smooth_field(rng, shape, spacing, max(fov / 3, 1.0))
    if not happens:
        return np.zeros(shape, dtype=np.float32)
    return np.clip((field - np.float32(1.2)) * np.float32(2.5), 0.0, 1.0).astype(np.float32)


def knee_scan(
    seed: int,
    subject: int,
    session: int,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    noise: float,
    bias: float,
    rho: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Images, labels and tissue fractions of one scan (one subject, one session).

    Independent random streams per purpose (anatomy, pose, tissue parameters per subject;
    session geometry, texture, bias, noise, scanner per scan), so that e.g. ``rho`` changes
    the texture mixing only.

    Args:
        seed: dataset seed (``synthetic.seed``).
        subject: subject index (0-based).
        session: session index (0 = baseline).
        shape: voxels per axis.
        spacing: voxel size in mm.
        noise: Rician noise SD relative to the brightest tissue of each modality.
        bias: SD of the log of the multiplicative bias field.
        rho: correlation of the modalities' texture fields (see ``acquisition.mixed_textures``).

    Returns:
        ``({modality: int16 [X, Y, Z]}, labels uint8 [X, Y, Z], fractions float32 [9, X, Y, Z])``;
        labels 0 background, 1 femoral cartilage, 2 tibial cartilage, 3 meniscus; fractions
        indexed as ``TISSUES``.
    """
    subject_seed = derive_seed(seed, "knee", subject)
    anatomy = draw_anatomy(np.random.default_rng(subject_seed))
    subject_rng = np.random.default_rng(derive_seed(subject_seed, "pose"))
    session_rng = np.random.default_rng(derive_seed(seed, "knee", subject, session))
    stream = lambda name: np.random.default_rng(derive_seed(seed, "knee", subject, session, name))  # noqa: E731
    thickness = 1.0 - session * session_rng.uniform(0.0, 0.04)  # cartilage loss at follow-up
    fractions = knee_fractions(shape, spacing, anatomy, subject_rng, session_rng, thickness)
    labels = labels_from_fractions(fractions)

    tissues = subject_tissues(np.random.default_rng(derive_seed(subject_seed, "tissue")))
    scanner = stream("scanner")
    gains = scanner.uniform(0.7, 1.3, len(MODALITIES))
    offsets = scanner.uniform(0.0, 1.0, len(MODALITIES))
    failure = fat_sat_failure(scanner, shape, spacing)
    textures = acquisition.mixed_textures(
        stream("texture"), shape, spacing, max(_TEXTURE_MM, 1.5 * min(spacing)), list(MODALITIES), rho
    )
    bias_rng, noise_rng = stream("bias"), stream("noise")
    images = {}
    for index, modality in enumerate(MODALITIES):
        seq = parameters.KNEE_PROTOCOL.sequences[modality]
        reference = np.float32(reference_signal(modality))
        parts = np.array([mr_physics.tissue_signal(t, seq, fat=parameters.FAT) for t in tissues], dtype=np.float32)
        parts /= reference
        amplitudes = np.array(
            [mr_physics.texture_amplitude(t, seq, parameters.MICROSTRUCTURE_SD, fat=parameters.FAT) for t in tissues],
            dtype=np.float32,
        ) / reference
        water = np.tensordot(parts[:, 0], fractions, axes=(0, 0))
        fat = np.tensordot(parts[:, 1], fractions, axes=(0, 0))
        if seq.fat_sat:
            kept = np.float32(1.0) - np.float32(seq.fat_sat_efficiency) * (np.float32(1.0) - failure)
            signal = water + fat * kept
        else:
            signal = water + fat
        signal += np.tensordot(amplitudes, fractions, axes=(0, 0)) * textures[modality]
        signal *= fields.bias_field(bias_rng, shape, spacing, bias)
        image = acquisition.acquire(signal, spacing, noise, noise_rng, seq.slice_mm, seq.slice_axis, offsets[index])
        images[modality] = fields.to_int16(image * np.float32(gains[index]))
    return images, labels, fractions


def sagittal_affine(shape: tuple[int, int, int], spacing: tuple[float, float, float]) -> np.ndarray:
    """Voxel -> RAS affine of a sagittal knee scan, centred on the origin.

    Array axis 0 (anterior-posterior) runs along +A, axis 1 along +S, axis 2 (the slice
    direction, medial-lateral) along +R; the column norms are the voxel sizes.
    """
    affine = np.zeros((4, 4))
    affine[1, 0] = spacing[0]
    affine[2, 1] = spacing[1]
    affine[0, 2] = spacing[2]
    affine[3, 3] = 1.0
    centre = (np.asarray(shape) - 1) / 2
    affine[:3, 3] = -affine[:3, :3] @ centre
    return affine
