"""Procedural knee anatomy: the tissue map and tissue fractions of one scan (no knee atlas is
installable here).

A sagittally scanned right knee, in steps that each draw one structure:

* pose: the subject's flexion and tilt, a session's small change, and a smooth deformation
  (:func:`posed_frame`);
* femur (:func:`draw_femur`): per medial-lateral position a circular condyle profile in the
  sagittal plane, two condyles (curved coronal profile) with the intercondylar notch between them
  distally and posteriorly, the trochlear groove anteriorly and the shaft above; femoral
  cartilage over the distal, posterior and trochlear surface, thickest on the weight-bearing
  condyles and thinning to nothing at its edges and towards the notch;
* tibia (:func:`draw_tibia`): a slightly concave plateau with the tibial spines under the notch,
  rounded edges, a metaphysis that narrows downwards; tibial cartilage thickest at the centre
  of each plateau, thinning to its edges;
* patella (:func:`draw_patella`): an ellipsoid anterior to the trochlea (where the field of view
  includes it) with a cartilage crescent on its posterior surface, the quadriceps tendon above
  and the patellar tendon below it, and the suprapatellar fluid pouch behind the quadriceps
  tendon;
* joint (:func:`draw_joint`): menisci as wedges (a ring around each plateau's contact area whose
  height grows outwards: in a sagittal slice through a condyle the anterior and posterior horns
  are triangles pointing into the joint), synovial fluid in the joint space, around the femoral
  cartilage and between patella and trochlea, the cruciate ligaments crossing in the notch;
* soft tissue: Hoffa's fat pad and subcutaneous fat anteriorly, muscle with fat streaks
  posteriorly.

Array axes are ``[x, y, z]`` = anterior-posterior (+ anterior), inferior-superior (+ superior)
and medial-lateral. Lengths are given for a 48 x 48 x 40 mm field of view and scale with the
field of view (in-plane and medial-lateral separately), so a small smoke-test grid still holds a
whole joint. The tissue map is drawn on a grid ``SUPERSAMPLE`` times finer per axis and averaged
into fractions (partial volume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from crossmodal.data.synthesize import fields

TISSUES = (
    "muscle", "fat", "fluid", "cortex", "marrow",
    "femoral_cartilage", "tibial_cartilage", "meniscus", "ligament", "patellar_cartilage",
)  # fmt: skip
(
    MUSCLE, FAT, FLUID, CORTEX, MARROW, FEMORAL_CARTILAGE, TIBIAL_CARTILAGE, MENISCUS, LIGAMENT,
    PATELLAR_CARTILAGE,
) = range(len(TISSUES))  # fmt: skip
# raw labels: 1 femoral, 2 tibial, 4 patellar cartilage, 3 meniscus (as the iMorphics subset
# segments them; the paper merges the cartilage plates into one class)
LABEL_OF_TISSUE = np.array([0, 0, 0, 0, 0, 1, 2, 3, 0, 4], dtype=np.uint8)
# The tissue map is drawn at this many points per voxel and axis and averaged into fractions.
SUPERSAMPLE = 2

# Field of view (in-plane, medial-lateral) in mm for which the anatomy constants are given.
REFERENCE_FOV = (48.0, 40.0)

f32 = np.float32


@dataclass(frozen=True)
class KneeAnatomy:
    """Shape parameters of one subject, in mm at the reference field of view (48 x 48 x 40 mm).

    ``u`` is anterior-posterior (+ anterior), ``v`` inferior-superior, ``w`` medial-lateral,
    all relative to the centre of the field of view before the pose.
    """

    femur_radius: float  # sagittal radius of a condyle
    coronal_radius: float  # curvature of a condyle across medial-lateral
    femur_u: float  # anterior-posterior centre of the condyle circles
    joint_v: float  # height of the joint line
    condyle_offset: float  # medial-lateral distance of each condyle from the notch
    notch_w: float  # medial-lateral position of the notch
    notch_half_width: float
    notch_depth: float
    trochlea_depth: float
    femoral_thickness: float  # cartilage, at its thickest
    tibial_thickness: float
    patellar_thickness: float
    film: float  # joint space between the cartilage plates
    tibia_u: float
    tibia_half_width: float  # anterior-posterior half width of the plateau
    tibial_cartilage_half_width: float
    plateau_curvature: float  # 1/mm
    spine_height: float
    meniscus_outer: float  # anterior-posterior outer radius
    meniscus_inner_ratio: float
    meniscus_half_width: float  # medial-lateral outer radius
    meniscus_height: float
    patella_height: float  # half axes of the patella ellipsoid
    patella_half_thickness: float
    patella_half_width: float
    patella_rise: float  # height of the patella's centre above the condyle centre
    pouch: float  # thickness of the suprapatellar fluid pouch
    fluid_band: float
    fat_boundary: float  # anterior limit of the posterior muscle, from the condyle centre
    cortex: float


def draw_anatomy(rng: np.random.Generator) -> KneeAnatomy:
    """Random subject shape parameters (mm at the reference field of view)."""
    uniform = rng.uniform
    return KneeAnatomy(
        femur_radius=uniform(11.5, 13.5),
        coronal_radius=uniform(20.0, 30.0),
        femur_u=uniform(-6.0, -3.5),
        joint_v=uniform(-6.0, -4.0),
        condyle_offset=uniform(9.0, 11.0),
        notch_w=uniform(-2.0, 2.0),
        notch_half_width=uniform(4.0, 5.5),
        notch_depth=uniform(6.0, 9.0),
        trochlea_depth=uniform(1.0, 2.0),
        femoral_thickness=uniform(2.1, 2.7),
        tibial_thickness=uniform(1.9, 2.5),
        patellar_thickness=uniform(2.6, 3.4),
        film=uniform(0.25, 0.45),
        tibia_u=uniform(-3.0, 0.0),
        tibia_half_width=uniform(17.0, 20.0),
        tibial_cartilage_half_width=uniform(11.0, 14.0),
        plateau_curvature=uniform(0.004, 0.010),
        spine_height=uniform(2.5, 4.0),
        meniscus_outer=uniform(11.0, 13.5),
        meniscus_inner_ratio=uniform(0.45, 0.6),
        meniscus_half_width=uniform(8.0, 10.0),
        meniscus_height=uniform(3.5, 5.0),
        patella_height=uniform(8.0, 10.0),
        patella_half_thickness=uniform(3.5, 4.3),
        patella_half_width=uniform(9.0, 11.0),
        patella_rise=uniform(0.0, 4.0),
        pouch=uniform(0.3, 1.5),
        fluid_band=uniform(0.6, 1.2),
        fat_boundary=uniform(2.0, 6.0),
        cortex=uniform(0.6, 0.9),
    )


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """0 at ``x <= 0``, 1 at ``x >= 1``, smooth (3x^2 - 2x^3) between."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (f32(3.0) - f32(2.0) * x)


@dataclass
class KneeFrame:
    """The grid's points in the subject's anatomy frame, and how lengths scale.

    Attributes:
        u, v, w: float32 coordinates (mm) of every grid point, anterior-posterior,
            inferior-superior, medial-lateral (after pose and deformation).
        in_plane: in-plane lengths are multiplied by this (field of view / 48 mm).
        across: medial-lateral lengths are multiplied by this (field of view / 40 mm).
        detail: draws a smooth unit-SD field of the subject's anatomy with features a given
            length apart (reference mm); the same in every session.
    """

    u: np.ndarray
    v: np.ndarray
    w: np.ndarray
    in_plane: float
    across: float
    detail: Callable[[float], np.ndarray]

    def mm(self, length: float) -> np.float32:
        """An in-plane length (reference mm) on this grid."""
        return f32(length * self.in_plane)

    def mm_across(self, length: float) -> np.float32:
        """A medial-lateral length (reference mm) on this grid."""
        return f32(length * self.across)


def posed_frame(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    subject_rng: np.random.Generator,
    session_rng: np.random.Generator,
) -> KneeFrame:
    """Grid coordinates moved into the subject's anatomy frame: pose plus deformation.

    The subject's flexion (about the medial-lateral axis) and tilts, with a smaller change per
    session, a shift, and a smooth displacement (mostly the subject's, a little the session's).

    Args:
        shape: voxels ``(X, Y, Z)``.
        spacing: voxel size in mm.
        subject_rng: the subject's generator (pose, deformation, anatomical detail).
        session_rng: the scan's generator.

    Returns:
        The frame; its ``detail`` draws further fields from ``subject_rng``.
    """
    fov = np.asarray(shape) * np.asarray(spacing)
    in_plane = float(min(fov[0], fov[1]) / REFERENCE_FOV[0])
    across = float(fov[2] / REFERENCE_FOV[1])
    grid = fields.grid_mm(shape, spacing)
    angles = subject_rng.normal(0.0, [1.5, 1.5, 4.0]) + session_rng.normal(0.0, [0.7, 0.7, 1.5])
    shift = (subject_rng.normal(0.0, 1.5, 3) + session_rng.normal(0.0, 0.6, 3)) * in_plane
    rotation = fields.rotation(angles).astype(np.float32)
    coords = [
        rotation[i, 0] * grid[0] + rotation[i, 1] * grid[1] + rotation[i, 2] * grid[2] - f32(shift[i])
        for i in range(3)
    ]
    for rng, amplitude, wavelength in ((subject_rng, 0.8, 12.0), (session_rng, 0.2, 10.0)):
        for i in range(3):
            coords[i] = coords[i] + f32(amplitude * in_plane) * fields.smooth_field(
                rng, shape, spacing, wavelength * in_plane
            )

    def detail(length_mm: float) -> np.ndarray:
        return fields.smooth_field(subject_rng, shape, spacing, length_mm * in_plane)

    return KneeFrame(coords[0], coords[1], coords[2], in_plane, across, detail)


@dataclass
class Femur:
    """The distal femur of one scan (arrays over the grid).

    Attributes:
        bone: bool, inside the femur.
        depth: mm below the bone surface (negative outside: about the distance to the surface
            near it).
        cartilage: bool, femoral cartilage.
        thickness: cartilage thickness (mm; 0 where there is none).
        du: anterior-posterior position relative to the condyle circle's centre.
        notch: how deep the notch cuts the condyle profile here (mm).
        condyles: medial-lateral positions of the two condyles.
        notch_w: medial-lateral position of the notch.
    """

    bone: np.ndarray
    depth: np.ndarray
    cartilage: np.ndarray
    thickness: np.ndarray
    du: np.ndarray
    notch: np.ndarray
    condyles: tuple[np.float32, np.float32]
    notch_w: np.float32


def draw_femur(frame: KneeFrame, anatomy: KneeAnatomy, thickness_factor: float) -> Femur:
    """The distal femur and its cartilage.

    Args:
        frame: the posed grid.
        anatomy: the subject's shape.
        thickness_factor: cartilage thickness multiplier (follow-up cartilage loss).

    Returns:
        The femur's masks and geometry.
    """
    mm, across = frame.mm, frame.mm_across
    notch_w = across(anatomy.notch_w)
    condyles = (notch_w - across(anatomy.condyle_offset), notch_w + across(anatomy.condyle_offset))
    centre_v = mm(anatomy.joint_v + anatomy.film / 2 + anatomy.femoral_thickness + anatomy.femur_radius)
    du, dv = frame.u - mm(anatomy.femur_u), frame.v - centre_v
    distance = np.sqrt(du**2 + dv**2)
    angle = np.degrees(np.arctan2(du, -dv))  # 0 pointing down (distal), + anterior
    coronal = np.minimum(*[(frame.w - c) ** 2 for c in condyles]) / mm(2 * anatomy.coronal_radius)
    central = np.exp(-(((frame.w - notch_w) / across(anatomy.notch_half_width)) ** 4))
    # the notch cuts the distal and posterior profile only; anteriorly the trochlear groove
    notch = mm(anatomy.notch_depth) * central * _smoothstep((f32(45.0) - angle) / f32(30.0))
    groove = mm(anatomy.trochlea_depth) * central * _smoothstep((angle - f32(40.0)) / f32(30.0))
    radius = mm(anatomy.femur_radius) - coronal - notch - groove
    shaft_u, shaft_half = mm(0.25 * anatomy.femur_radius), mm(0.7 * anatomy.femur_radius)
    shaft_depth = np.where(dv > 0, shaft_half - np.abs(du - shaft_u), -np.inf)
    depth = np.maximum(radius - distance, shaft_depth)
    bone = depth > 0
    # cartilage: thickest on the condyles, thinning to nothing at its angular edges (posterior,
    # and anteriorly up the trochlea), towards the notch and the condyles' outer edges
    front = f32(80.0) + f32(50.0) * central
    along = _smoothstep((angle + f32(120.0)) / f32(35.0)) * _smoothstep((front - angle) / f32(30.0))
    sides = np.sqrt(np.clip(1 - notch / mm(0.3 * anatomy.notch_depth), 0, 1))
    sides *= np.sqrt(np.clip(1 - coronal / mm(0.25 * anatomy.femur_radius), 0, 1))
    thickness = mm(anatomy.femoral_thickness * thickness_factor) * along * sides * (1 + f32(0.08) * frame.detail(6.0))
    thickness = np.where(thickness > mm(0.25), thickness, f32(0.0))
    cartilage = ~bone & (-depth < thickness) & (thickness > 0)
    return Femur(bone, depth, cartilage, thickness, du, notch, condyles, notch_w)


@dataclass
class Tibia:
    """The proximal tibia of one scan.

    Attributes:
        bone: bool, inside the tibia.
        depth: mm below the bone surface.
        cartilage: bool, tibial cartilage.
        surface: height of the bone surface (plateau, spines, rounded edges).
        cartilage_top: height of the cartilage surface (the bone surface where there is none).
        du: anterior-posterior position relative to the plateau's centre.
        inside: bool, within the plateau's anterior-posterior extent.
    """

    bone: np.ndarray
    depth: np.ndarray
    cartilage: np.ndarray
    surface: np.ndarray
    cartilage_top: np.ndarray
    du: np.ndarray
    inside: np.ndarray


def draw_tibia(frame: KneeFrame, anatomy: KneeAnatomy, femur: Femur, thickness_factor: float) -> Tibia:
    """The tibial plateau, its spines and metaphysis, and the tibial cartilage.

    Args:
        frame: the posed grid.
        anatomy: the subject's shape.
        femur: the femur of the same scan (notch and condyle positions).
        thickness_factor: cartilage thickness multiplier.

    Returns:
        The tibia's masks and geometry.
    """
    mm, across = frame.mm, frame.mm_across
    du = frame.u - mm(anatomy.tibia_u)
    spine = mm(anatomy.spine_height) * np.exp(-(((frame.w - femur.notch_w) / across(0.8 * anatomy.notch_half_width)) ** 2))
    plateau = mm(anatomy.joint_v - anatomy.film / 2 - anatomy.tibial_thickness) + f32(anatomy.plateau_curvature / frame.in_plane) * du**2
    half_width = mm(anatomy.tibia_half_width)
    rounding = np.clip(np.abs(du) - (half_width - mm(3.0)), 0, None) ** 2 / mm(1.5)
    surface = plateau + spine - rounding
    # the metaphysis narrows over the first ~12 mm below the plateau
    below = np.clip((plateau - frame.v) / mm(12.0), 0, 1)
    half = half_width * (1 - f32(0.22) * below)
    inside = np.abs(du) < half
    bone = (frame.v < surface) & inside
    # cartilage: thickest at the centre of each plateau, thinning to its edges
    profile = np.zeros_like(du)
    for condyle in femur.condyles:
        ellipse = (du / mm(anatomy.tibial_cartilage_half_width)) ** 2 + ((frame.w - condyle) / across(0.8 * anatomy.condyle_offset)) ** 2
        profile = np.maximum(profile, np.sqrt(np.clip(1 - ellipse, 0, 1)))
    thickness = mm(anatomy.tibial_thickness * thickness_factor) * profile * (1 + f32(0.08) * frame.detail(6.0))
    thickness = np.where(thickness > mm(0.25), thickness, f32(0.0))
    cartilage_top = surface + thickness
    cartilage = ~bone & (frame.v < cartilage_top) & inside & (thickness > 0)
    depth = np.minimum(surface - frame.v, half - np.abs(du))
    return Tibia(bone, depth, cartilage, surface, cartilage_top, du, inside)


@dataclass
class Patella:
    """The patella, its cartilage, tendons and the suprapatellar pouch.

    Attributes:
        bone: bool; depth: mm below its surface (approximation from the ellipsoid).
        cartilage: bool, patellar cartilage; tendon: bool, quadriceps and patellar tendons;
        fluid: bool, patellofemoral joint space and suprapatellar pouch; centre_v: height of
        its centre.
    """

    bone: np.ndarray
    depth: np.ndarray
    cartilage: np.ndarray
    tendon: np.ndarray
    fluid: np.ndarray
    centre_v: np.float32


def _segment_distance(u: np.ndarray, v: np.ndarray, start: tuple, end: tuple) -> np.ndarray:
    """In-plane distance of every point from the segment ``start`` -> ``end`` (mm)."""
    du, dv = f32(end[0] - start[0]), f32(end[1] - start[1])
    t = np.clip(((u - f32(start[0])) * du + (v - f32(start[1])) * dv) / (du * du + dv * dv), 0, 1)
    return np.sqrt((u - f32(start[0]) - t * du) ** 2 + (v - f32(start[1]) - t * dv) ** 2)


def draw_patella(frame: KneeFrame, anatomy: KneeAnatomy, femur: Femur, tibia: Tibia) -> Patella:
    """The patella anterior to the trochlea, with cartilage, tendons and the suprapatellar pouch.

    Its posterior cartilage is a crescent (the ellipsoid shifted posteriorly by the cartilage
    thickness, minus the bone): thickest at the centre, thinning to nothing at its edges. It
    faces the trochlear cartilage across the joint film.

    Args:
        frame: the posed grid.
        anatomy: the subject's shape.
        femur: the femur of the same scan.
        tibia: the tibia of the same scan (where the patellar tendon inserts).

    Returns:
        The patella's masks.
    """
    mm, across = frame.mm, frame.mm_across
    half_u, half_v, half_w = mm(anatomy.patella_half_thickness), mm(anatomy.patella_height), across(anatomy.patella_half_width)
    cartilage_mm = mm(anatomy.patellar_thickness)
    # seated on the trochlea: the shaft's front, the trochlear cartilage and the joint film
    shaft_front = mm(anatomy.femur_u + 0.95 * anatomy.femur_radius)
    centre_u = shaft_front + mm(0.7 * anatomy.femoral_thickness + anatomy.film) + cartilage_mm + half_u
    centre_v = mm(anatomy.joint_v + anatomy.femoral_thickness + anatomy.femur_radius + anatomy.patella_rise)
    du, dv, dw = frame.u - centre_u, frame.v - centre_v, frame.w - femur.notch_w
    ellipsoid = (du / half_u) ** 2 + (dv / half_v) ** 2 + (dw / half_w) ** 2
    bone = ellipsoid < 1
    shifted = ((du + cartilage_mm) / half_u) ** 2 + (dv / half_v) ** 2 + (dw / half_w) ** 2
    cartilage = (shifted < 1) & ~bone & (du < 0)
    depth = (1 - np.sqrt(ellipsoid)) * np.minimum(half_u, half_v)
    within = np.abs(dw) < f32(0.8) * half_w
    tendon_mm = mm(1.3)
    quadriceps = _segment_distance(frame.u, frame.v, (centre_u - 0.2 * half_u, centre_v + 0.9 * half_v), (centre_u - 0.8 * half_u, centre_v + 4 * half_v))
    tibial_u = mm(anatomy.tibia_u) + f32(0.9) * mm(anatomy.tibia_half_width)
    patellar = _segment_distance(frame.u, frame.v, (centre_u + 0.1 * half_u, centre_v - 0.9 * half_v), (tibial_u, mm(anatomy.joint_v - 10.0)))
    tendon = within & ((quadriceps < tendon_mm) | (patellar < tendon_mm)) & ~bone
    # the suprapatellar pouch: fluid between the quadriceps tendon and the femoral shaft
    # (a lens, thickest half-way up)
    along = np.clip(1 - ((frame.v - centre_v - f32(1.1) * half_v) / (f32(0.6) * half_v)) ** 2, 0, 1)
    pouch = within & (frame.u > shaft_front) & (frame.u < shaft_front + mm(anatomy.pouch) * along)
    pouch &= quadriceps >= tendon_mm
    # patellofemoral joint space: between the trochlear cartilage and the patellar cartilage
    joint = within & (np.abs(dv) < half_v) & (frame.u < centre_u) & (shifted >= 1) & ~femur.bone & ~femur.cartilage
    joint &= -femur.depth < femur.thickness + mm(anatomy.film + 1.0)
    return Patella(bone, depth, cartilage, tendon, pouch | joint, centre_v)


@dataclass
class Joint:
    """What fills the tibiofemoral joint: menisci, synovial fluid, cruciate ligaments (bool)."""

    meniscus: np.ndarray
    fluid: np.ndarray
    ligament: np.ndarray


def draw_joint(frame: KneeFrame, anatomy: KneeAnatomy, femur: Femur, tibia: Tibia) -> Joint:
    """Menisci (wedges), synovial fluid and the cruciate ligaments.

    Args:
        frame: the posed grid.
        anatomy: the subject's shape.
        femur, tibia: the bones and cartilage of the same scan.

    Returns:
        The joint's masks.
    """
    mm, across = frame.mm, frame.mm_across
    space = (
        ~femur.bone & ~femur.cartilage & ~tibia.bone & ~tibia.cartilage & tibia.inside
        & (frame.v >= tibia.surface) & (frame.v < mm(anatomy.joint_v + 7.0))
    )  # fmt: skip
    ring = np.minimum(
        *[
            np.sqrt((tibia.du / mm(anatomy.meniscus_outer)) ** 2 + ((frame.w - c) / across(anatomy.meniscus_half_width)) ** 2)
            for c in femur.condyles
        ]
    )
    inner = anatomy.meniscus_inner_ratio
    # a wedge: thin at the inner edge, tallest at the outer rim
    height = mm(anatomy.meniscus_height) * np.clip((ring - f32(inner)) / f32(1 - inner), 0.1, 1.0)
    meniscus = (
        space & (ring >= inner) & (ring <= 1 + f32(0.05) * frame.detail(5.0))
        & (frame.v - np.maximum(tibia.cartilage_top, tibia.surface) < height)
        & (femur.notch < f32(0.35) * mm(anatomy.notch_depth))
    )  # fmt: skip
    around_cartilage = ~femur.bone & ~femur.cartilage & (femur.thickness > 0)
    around_cartilage &= -femur.depth < femur.thickness + mm(anatomy.fluid_band)
    # synovial fluid: a film on the tibial cartilage out to just past the menisci, and around
    # the femoral cartilage (elsewhere the space is Hoffa's fat pad or the capsule)
    film = frame.v - tibia.cartilage_top < mm(anatomy.film + anatomy.fluid_band)
    fluid = (space & ~meniscus & (ring < 1.15) & film) | around_cartilage
    # cruciates: the ACL from the anterior spine up and back to the lateral condyle, the PCL
    # from the back of the plateau up and forwards to the medial condyle
    top = float(mm(anatomy.joint_v))
    tibia_u, femur_u, radius = float(mm(anatomy.tibia_u)), float(mm(anatomy.femur_u)), float(mm(anatomy.femur_radius))
    acl = _segment_distance(frame.u, frame.v, (tibia_u + 0.3 * radius, top), (femur_u - 0.45 * radius, top + 0.55 * radius))
    pcl = _segment_distance(frame.u, frame.v, (tibia_u - 0.75 * radius, top - 0.15 * radius), (femur_u + 0.1 * radius, top + 0.45 * radius))
    offset = frame.w - femur.notch_w
    half = across(0.45 * anatomy.notch_half_width)
    ligament = ((acl < mm(1.4)) & (np.abs(offset - half) < half)) | ((pcl < mm(1.6)) & (np.abs(offset + half) < half))
    ligament &= ~femur.bone & ~tibia.bone & ~femur.cartilage & ~tibia.cartilage
    return Joint(meniscus, fluid, ligament)


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
        subject_rng: generator seeded per subject (pose, deformation and detail shared by the
            subject's sessions).
        session_rng: generator seeded per scan.
        thickness_factor: cartilage thickness multiplier (follow-up cartilage loss).

    Returns:
        uint8 ``[X, Y, Z]`` tissue codes (indices into ``TISSUES``).
    """
    frame = posed_frame(shape, spacing, subject_rng, session_rng)
    femur = draw_femur(frame, anatomy, thickness_factor)
    tibia = draw_tibia(frame, anatomy, femur, thickness_factor)
    patella = draw_patella(frame, anatomy, femur, tibia)
    joint = draw_joint(frame, anatomy, femur, tibia)
    # soft tissue: fat anteriorly (Hoffa's pad, subcutaneous), muscle with fat streaks behind
    anterior = femur.du + frame.mm(4.0) * frame.detail(10.0) > frame.mm(anatomy.fat_boundary)
    fat = anterior | (frame.detail(4.0) > 1.4)
    tissue = np.where(fat, FAT, MUSCLE).astype(np.uint8)
    for mask, code in (
        (joint.fluid | patella.fluid, FLUID), (joint.ligament | patella.tendon, LIGAMENT),
        (joint.meniscus, MENISCUS), (tibia.cartilage, TIBIAL_CARTILAGE),
        (femur.cartilage, FEMORAL_CARTILAGE), (patella.cartilage, PATELLAR_CARTILAGE),
    ):  # fmt: skip
        tissue[mask] = code
    bone = femur.bone | tibia.bone | patella.bone
    depth = np.where(femur.bone, femur.depth, np.where(tibia.bone, tibia.depth, patella.depth))
    # at least one voxel of cortex
    tissue[bone] = np.where(depth[bone] <= max(anatomy.cortex * frame.in_plane, max(spacing)), CORTEX, MARROW)
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
        uint8 ``[X, Y, Z]``: 0 background, 1 femoral, 2 tibial, 4 patellar cartilage, 3 meniscus.
    """
    return LABEL_OF_TISSUE[np.argmax(fractions, axis=0)]
