"""Synthetic knee MRI: two modalities (``normal``, ``fatsup``) of a sagittally scanned knee.

A seeded procedural anatomy (no knee atlas is installable here), shaped like the OAI iMorphics
task of the paper, with the MR physics of the brain model:

* geometry (per subject, ``knee_anatomy``): femoral condyles with the notch and trochlea,
  tibial plateau and spines, the patella with its tendons, cortical bone around fatty marrow,
  femoral, tibial and patellar cartilage thinning to their edges, menisci as wedges, cruciate
  ligaments, synovial fluid, Hoffa's fat pad and posterior muscle with fat streaks. A smooth
  random displacement field makes every subject's shape different.
* sessions (per scan): the same subject with a small pose change, a small extra deformation,
  slightly thinner cartilage at follow-up, and new texture, bias and noise. So the two scans of
  a subject share anatomy: fold grouping by subject matters.
* partial volume: the tissue map is drawn on a finer grid and averaged into tissue fractions
  per voxel; labels are each voxel's dominant tissue.
* contrast (``mr_physics``, ``parameters``): the paper's N and FS pair as the OAI acquires it
  (docs/embedded-data.md): ``normal`` the sagittal 3-D DESS with water excitation (0.7 mm
  partitions, finer than the grid), ``fatsup`` the sagittal intermediate-weighted 2-D TSE with
  fat saturation (3 mm slices, resampled to the grid). Both suppress fat: fluid is the
  brightest tissue on both, cartilage above muscle, fat and marrow dark, except where the fat
  saturation fails (a region of inhomogeneous field in half of the ``fatsup`` scans,
  approximation); the DESS's fluid is far brighter than its cartilage.
* texture: as in the brain model, smooth variation of each tissue's PD, T1 and T2 seen through
  each sequence's signal equation, shared between the modalities to the degree ``rho``.

Array axes are ``[x, y, z]`` = anterior-posterior, inferior-superior (in-plane) and
medial-lateral (slice direction, coarser); the written affine maps them to RAS as a sagittal
acquisition. Geometry scales with the field of view, so a small smoke-test grid still holds a
whole joint.

Raw labels: 0 background, 1 femoral, 2 tibial, 4 patellar cartilage, 3 meniscus.
"""

from __future__ import annotations

import numpy as np

from crossmodal.common.seeds import derive_seed
from crossmodal.data.synthesize import acquisition, fields, mr_physics, parameters, sharing
from crossmodal.data.synthesize.knee_anatomy import (
    FEMORAL_CARTILAGE,
    FLUID,
    MENISCUS,
    PATELLAR_CARTILAGE,
    TIBIAL_CARTILAGE,
    TISSUES,
    draw_anatomy,
    knee_fractions,
    labels_from_fractions,
)

MODALITIES = ("normal", "fatsup")
# The modality whose image the others take as kappa -> 1 (sharing): the annotated scan, to
# which the paper's OAI scans are registered.
REFERENCE_MODALITY = "normal"
# What a class structure looks like in a modality that hides it (kappa < 0, sharing): joint fluid.
MIMIC = {t: FLUID for t in (FEMORAL_CARTILAGE, TIBIAL_CARTILAGE, PATELLAR_CARTILAGE, MENISCUS)}
DEFAULT_SHAPE = (96, 96, 40)
DEFAULT_SPACING = (0.5, 0.5, 1.0)

# Texture feature size (mm); at least 1.5 voxels.
_TEXTURE_MM = 1.5
# Approximation: a fat-saturation failure (inhomogeneous B0 at the edge of the field of view)
# occurs in this share of the fat-suppressed scans.
_FAT_SAT_FAILURE_RATE = 0.5


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


def knee_signals(
    tissues: list[mr_physics.Tissue],
    fractions: np.ndarray,
    textures: dict[str, np.ndarray],
    failure: np.ndarray,
    hidden: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Noiseless signal map of each modality: contrast, partial volume and texture.

    Args:
        tissues: the subject's tissues (``TISSUES`` order).
        fractions: float32 ``[len(TISSUES), X, Y, Z]``.
        textures: modality -> unit-SD texture field (``acquisition.mixed_textures``).
        failure: float32 ``[X, Y, Z]``, where the fat saturation fails (:func:`fat_sat_failure`).
        hidden: modality -> where it hides the class structures (``sharing.hidden_regions``);
            None: nowhere.

    Returns:
        modality -> float32 ``[X, Y, Z]``, in units of the modality's brightest tissue.
    """
    signals = {}
    for modality in MODALITIES:
        seen = fractions if hidden is None else sharing.hide(fractions, hidden[modality], MIMIC)
        seq = parameters.KNEE_PROTOCOL.sequences[modality]
        reference = np.float32(reference_signal(modality))
        parts = np.array([mr_physics.tissue_signal(t, seq, fat=parameters.FAT) for t in tissues], dtype=np.float32)
        parts /= reference
        amplitudes = np.array(
            [mr_physics.texture_amplitude(t, seq, parameters.MICROSTRUCTURE_SD, fat=parameters.FAT) for t in tissues],
            dtype=np.float32,
        ) / reference
        water = np.tensordot(parts[:, 0], seen, axes=(0, 0))
        fat = np.tensordot(parts[:, 1], seen, axes=(0, 0))
        if seq.fat_sat:
            # only a spectral saturation pulse fails in the inhomogeneous region
            failed = failure if seq.fat_suppression == "saturation" else np.float32(0.0)
            water += fat * (np.float32(1.0) - np.float32(seq.fat_sat_efficiency) * (np.float32(1.0) - failed))
        else:
            water += fat
        water += np.tensordot(amplitudes, seen, axes=(0, 0)) * textures[modality]
        signals[modality] = water
    return signals


def knee_scan(
    seed: int,
    subject: int,
    session: int,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    noise: float,
    bias: float,
    rho: float,
    kappa: float = 0.0,
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
        kappa: what the modalities share (``sharing``): 1 the reference's image, 0 each its
            own physics, -1 half of the class structures hidden in each modality.

    Returns:
        ``({modality: int16 [X, Y, Z]}, labels uint8 [X, Y, Z], fractions float32 [10, X, Y, Z])``;
        labels 0 background, 1 femoral, 2 tibial, 4 patellar cartilage, 3 meniscus; fractions
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
    hidden = sharing.hidden_regions(stream("sharing"), shape, spacing, sharing.REGION_MM["knee"], list(MODALITIES), kappa)
    signals = sharing.share_signals(knee_signals(tissues, fractions, textures, failure, hidden), REFERENCE_MODALITY, kappa)
    sequences = [parameters.KNEE_PROTOCOL.sequences[m] for m in MODALITIES]
    images = acquisition.scanner_images(
        [signals[m] for m in MODALITIES], sequences, spacing, noise, bias, (stream("bias"), stream("noise")), offsets,
        (MODALITIES.index(REFERENCE_MODALITY), kappa),
    )
    return {m: fields.to_int16(image * np.float32(g)) for m, image, g in zip(MODALITIES, images, gains)}, labels, fractions


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
