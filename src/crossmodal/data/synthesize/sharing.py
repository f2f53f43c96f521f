"""How much the modalities of a synthetic scan have in common: the knob ``kappa`` (meant as
the specificity sweep's knob; not yet a config key: the generators take it as an argument and
the sweep still varies ``synthetic.rho``), from +1 "the same image up to noise" through
0 (each modality its own physics: the embedded default) to -1 "little in common".

* ``kappa`` in (0, 1]: sharing. Each modality's noiseless signal map (contrast, partial volume,
  texture) is blended with the reference modality's, ``(1 - kappa) own + kappa reference``, and
  so are its bias field (``bias_own^(1 - kappa) bias_reference^kappa``) and its slice thickness
  (``(1 - kappa) own + kappa reference``, a 3-D acquisition counting as 0: the grid). At
  ``kappa = 1`` every modality is the reference's image up to its own noise and gain.
* ``kappa`` in [-1, 0): class-relevant structure visible in one modality only. In each modality,
  its own random smooth regions covering a share ``-kappa * MAX_HIDDEN`` of the volume hide the
  class structures (cartilage and menisci; tumour compartments and edema): there they take the
  signal of a tissue that makes them invisible (``kind``'s ``MIMIC``). The regions of different
  modalities are independent, so what one modality hides another shows.

The reference modality is the scan the others are registered to (knee: the annotated DESS;
brain: T1+c [Menze 2015]). ``kappa = 0`` changes nothing, byte for byte. The knob is a synthetic
device, not physics: it makes the sweep's axis, not the default data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import ndtri

from crossmodal.data.synthesize import fields

# Share of the volume in which a modality hides the class structures at kappa = -1.
MAX_HIDDEN = 0.5
# Feature size (mm) of the hiding regions, per kind: a few cartilage thicknesses; a tumour lobe.
REGION_MM = {"knee": 4.0, "brats": 10.0}


def check_kappa(kappa: float) -> float:
    """``kappa`` as a float in [-1, 1].

    Raises:
        ValueError: outside [-1, 1].
    """
    kappa = float(kappa)
    if not -1.0 <= kappa <= 1.0:
        raise ValueError(f"kappa = {kappa}: must lie in [-1, 1]")
    return kappa


def hidden_regions(
    rng: np.random.Generator,
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    scale_mm: float,
    modalities: list[str],
    kappa: float,
) -> dict[str, np.ndarray] | None:
    """Where each modality hides the class structures (1 hidden, 0 shown, soft edge between).

    A unit-SD smooth field per modality (always drawn, in ``modalities`` order, so that kappa
    changes the threshold only), above the threshold that leaves a share ``-kappa * MAX_HIDDEN``
    of a Gaussian field above it, with a linear edge 0.2 SD wide.

    Args:
        rng: the scan's generator of the regions.
        shape: voxels per axis.
        spacing: voxel size in mm.
        scale_mm: feature size of the regions.
        modalities: modality names.
        kappa: the knob; at or above 0 nothing is hidden.

    Returns:
        modality -> float32 ``[X, Y, Z]`` in [0, 1], or None where nothing is hidden.
    """
    share = -check_kappa(kappa) * MAX_HIDDEN
    regions = {m: fields.smooth_field(rng, shape, spacing, scale_mm) for m in modalities}
    if share <= 0:
        return None
    threshold = np.float32(ndtri(1.0 - share))
    return {m: np.clip((field - threshold) / np.float32(0.2) + np.float32(0.5), 0, 1) for m, field in regions.items()}


def hide(fractions: np.ndarray, hidden: np.ndarray, mimic: dict[int, int]) -> np.ndarray:
    """Tissue fractions as one modality sees them: hidden class tissues become their mimics.

    Args:
        fractions: float32 ``[K, X, Y, Z]``.
        hidden: float32 ``[X, Y, Z]`` in [0, 1] (:func:`hidden_regions`).
        mimic: class tissue index -> the tissue index it looks like where hidden.

    Returns:
        float32 ``[K, X, Y, Z]``, same sums per voxel.
    """
    out = fractions.copy()
    for tissue, look_alike in mimic.items():
        moved = fractions[tissue] * hidden
        out[tissue] -= moved
        out[look_alike] += moved
    return out


def share_signals(signals: dict[str, np.ndarray], reference: str, kappa: float) -> dict[str, np.ndarray]:
    """Noiseless signal maps blended towards the reference modality's: ``(1-k) own + k ref``.

    Args:
        signals: modality -> float32 ``[X, Y, Z]``.
        reference: the reference modality (one of ``signals``).
        kappa: the knob; at or below 0 the maps are returned unchanged.

    Returns:
        modality -> float32 ``[X, Y, Z]``.
    """
    weight = max(check_kappa(kappa), 0.0)
    if weight == 0:
        return signals
    ref = signals[reference]
    return {m: (np.float32(1 - weight) * s + np.float32(weight) * ref).astype(np.float32) for m, s in signals.items()}


def share_bias(biases: list[np.ndarray], reference_index: int, kappa: float) -> list[np.ndarray]:
    """Multiplicative bias fields blended towards the reference's (geometric mean, weight ``kappa``).

    Args:
        biases: float32 ``[X, Y, Z]`` per modality (positive).
        reference_index: position of the reference modality.
        kappa: the knob; at or below 0 the fields are returned unchanged.

    Returns:
        The fields, ``own^(1 - k) * reference^k``.
    """
    weight = max(check_kappa(kappa), 0.0)
    if weight == 0:
        return biases
    ref = biases[reference_index]
    return [(b ** np.float32(1 - weight) * ref ** np.float32(weight)).astype(np.float32) for b in biases]


def share_slices(sequences: list, reference_index: int, kappa: float) -> list:
    """Slice thicknesses blended towards the reference's: ``(1 - k) own + k reference``.

    A 3-D acquisition (``slice_mm`` None) counts as thickness 0; a blended thickness at or below
    the grid spacing is acquired as 3-D by ``acquisition.acquire``. Slice axes are kept.

    Args:
        sequences: ``mr_physics.Sequence`` per modality.
        reference_index: position of the reference modality.
        kappa: the knob; at or below 0 the sequences are returned unchanged.

    Returns:
        The sequences with the blended ``slice_mm``.
    """
    weight = max(check_kappa(kappa), 0.0)
    if weight == 0:
        return sequences
    ref = sequences[reference_index].slice_mm or 0.0
    return [
        seq if seq.slice_mm is None and ref == 0.0 else replace(seq, slice_mm=(1 - weight) * (seq.slice_mm or 0.0) + weight * ref)
        for seq in sequences
    ]
