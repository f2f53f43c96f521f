"""MR signal equations: the contrast of the synthetic scans, computed from tissue parameters.

Every synthetic image is the fraction-weighted sum of its tissues' signals (partial volume), and
every tissue signal comes from one of the steady-state signal equations below, evaluated with
literature relaxation times and proton densities (``crossmodal.data.synthesize.parameters``). Units:
times in ms, angles in degrees, proton density relative to pure water, concentrations in mmol/L,
relaxivities in L/(mmol s).

The equations are the textbook forms (e.g. Bernstein, King & Zhou, *Handbook of MRI Pulse
Sequences*, 2004); their approximations are stated where they are used:

* spoiled gradient echo: perfect spoiling, T2 in place of T2* at the short echo times used;
* dual-echo steady state (DESS): unspoiled gradient echo with a spoiler gradient that dephases
  every voxel by whole cycles per TR; the two steady-state echoes (FISP after the pulse, PSIF
  before the next one) in the closed forms of Gyngell (Magn Reson Imaging 1988;6:415), checked
  against a Bloch simulation of isochromats in the tests; the image is their sum, T2 in place
  of T2*;
* spin echo / turbo spin echo: ``TR >> TE``, the echo train reduced to one effective echo time,
  no stimulated echoes;
* inversion recovery: ideal 180-degree inversion, magnitude reconstruction.

Fat (knee): a tissue's proton density is split into a water pool with the tissue's own relaxation
times and a fat pool with the relaxation times of fat; a spectral fat-saturation pulse of
efficiency ``eta`` keeps ``1 - eta`` of the fat pool. Echo times are chosen in phase, so the
water-fat chemical-shift phase is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Tissue:
    """Intrinsic MR parameters of one tissue (at 3 T).

    Attributes:
        name: tissue name.
        pd: proton density relative to pure water (MR-visible protons at the echo times used).
        t1_ms: longitudinal relaxation time of the water pool.
        t2_ms: transverse relaxation time of the water pool.
        fat_fraction: share of ``pd`` in fat protons (relaxing with the fat pool's times).
        gd_mM: gadolinium concentration after contrast injection (mmol/L of tissue).
        flow_void: flowing blood: no signal in spin-echo sequences (the excited spins leave the
            slice before the refocusing pulse).
        source: where the values come from.
    """

    name: str
    pd: float
    t1_ms: float
    t2_ms: float
    fat_fraction: float = 0.0
    gd_mM: float = 0.0
    flow_void: bool = False
    source: str = ""


def varied_tissue(tissue: Tissue, rng: np.random.Generator, sd: float) -> Tissue:
    """One subject's copy of a tissue: PD, T1 and T2 each scaled by ``exp(N(0, sd^2))``.

    Args:
        tissue: the literature values.
        rng: the subject's generator (three normal draws, in the order PD, T1, T2).
        sd: SD of the log-scale factors.

    Returns:
        The tissue with the scaled values; every other attribute unchanged.
    """
    g = np.exp(rng.normal(0.0, sd, 3))
    return replace(tissue, pd=tissue.pd * g[0], t1_ms=tissue.t1_ms * g[1], t2_ms=tissue.t2_ms * g[2])


@dataclass(frozen=True)
class Sequence:
    """An MR sequence and its parameters.

    Attributes:
        name: modality name (``t1``, ``flair``, ``fatsup``, ...).
        kind: ``spgr`` (spoiled gradient echo), ``dess`` (dual-echo steady state, the sum of its
            two echoes), ``spin_echo`` (spin echo / turbo spin echo at the effective echo time) or
            ``inversion_recovery`` (inversion-recovery turbo spin echo).
        tr_ms: repetition time.
        te_ms: (effective) echo time.
        flip_deg: excitation flip angle (``spgr`` only).
        ti_ms: inversion time (``inversion_recovery`` only).
        contrast: acquired after gadolinium injection (uses each tissue's ``gd_mM``).
        fat_sat: fat suppression (spectral saturation or water excitation) with efficiency
            ``fat_sat_efficiency``.
        fat_sat_efficiency: fraction of the fat signal removed where the suppression works.
        fat_suppression: how fat is suppressed when ``fat_sat``: ``saturation`` (a spectral
            saturation pulse before each excitation; it fails where B0 is inhomogeneous) or
            ``water_excitation`` (a spectrally selective excitation of water only).
        slice_mm: slice thickness of a 2-D acquisition (None: 3-D, sampled on the grid).
        slice_axis: array axis along which the 2-D slices are stacked.
        source: where the protocol comes from.
    """

    name: str
    kind: str
    tr_ms: float
    te_ms: float
    flip_deg: float = 90.0
    ti_ms: float | None = None
    contrast: bool = False
    fat_sat: bool = False
    fat_sat_efficiency: float = 0.0
    fat_suppression: str = "saturation"
    slice_mm: float | None = None
    slice_axis: int = 2
    source: str = ""


@dataclass(frozen=True)
class ContrastAgent:
    """Relaxivities of a gadolinium agent at 3 T (L/(mmol s)).

    Attributes:
        name: agent.
        r1, r2: relaxivities in tissue (plasma values).
        r1_blood: r1 in whole blood (used for flowing blood, ``Tissue.flow_void``); None: ``r1``.
        source: where the values come from.
    """

    name: str
    r1: float
    r2: float
    r1_blood: float | None = None
    source: str = ""


@dataclass(frozen=True)
class FatPool:
    """Relaxation times of the fat protons (3 T)."""

    t1_ms: float
    t2_ms: float
    source: str = ""


def spoiled_gradient_echo(pd, t1_ms, t2_ms, tr_ms: float, te_ms: float, flip_deg: float):
    """Steady-state spoiled gradient echo (FLASH / SPGR).

    ``S = PD sin(a) (1 - E1) / (1 - cos(a) E1) exp(-TE / T2)``, ``E1 = exp(-TR / T1)``.

    Args:
        pd, t1_ms, t2_ms: tissue parameters (scalars or arrays of one shape).
        tr_ms, te_ms, flip_deg: sequence parameters.

    Returns:
        Signal (same shape as the tissue parameters), in units of a fully relaxed water signal.
    """
    a = np.deg2rad(flip_deg)
    e1 = np.exp(-tr_ms / np.asarray(t1_ms, dtype=np.float64))
    return pd * np.sin(a) * (1 - e1) / (1 - np.cos(a) * e1) * np.exp(-te_ms / np.asarray(t2_ms, dtype=np.float64))


def dual_echo_steady_state(pd, t1_ms, t2_ms, tr_ms: float, te_ms: float, flip_deg: float):
    """Dual-echo steady state (DESS): the sum of its FISP and PSIF echoes.

    Steady state of an unspoiled gradient echo whose spoiler gradient dephases each voxel by
    whole cycles per TR (Gyngell 1988): just after a pulse the free-induction signal is
    ``S+ = PD tan(a/2) [1 - (E1 - cos a) r]``, and the echo that refocuses at the end of the TR
    is ``S- = PD tan(a/2) [1 - (1 - E1 cos a) r]``, with
    ``r = sqrt((1 - E2^2) / ((1 - E1 cos a)^2 - E2^2 (E1 - cos a)^2))``, ``E1 = exp(-TR/T1)``,
    ``E2 = exp(-TR/T2)``. DESS reads the FISP echo ``TE`` after the pulse and the PSIF echo
    ``TE`` before the next one: ``S = S+ exp(-TE/T2) + S- exp(+TE/T2)``.

    Args:
        pd, t1_ms, t2_ms: tissue parameters (scalars or arrays of one shape).
        tr_ms, te_ms, flip_deg: sequence parameters.

    Returns:
        Signal, in units of a fully relaxed water signal.
    """
    a = np.deg2rad(flip_deg)
    e1 = np.exp(-tr_ms / np.asarray(t1_ms, dtype=np.float64))
    t2 = np.asarray(t2_ms, dtype=np.float64)
    e2 = np.exp(-tr_ms / t2)
    r = np.sqrt((1 - e2**2) / ((1 - e1 * np.cos(a)) ** 2 - e2**2 * (e1 - np.cos(a)) ** 2))
    fisp = pd * np.tan(a / 2) * (1 - (e1 - np.cos(a)) * r)
    psif = pd * np.tan(a / 2) * (1 - (1 - e1 * np.cos(a)) * r)
    return fisp * np.exp(-te_ms / t2) + psif * np.exp(te_ms / t2)


def spin_echo(pd, t1_ms, t2_ms, tr_ms: float, te_ms: float):
    """Spin echo (turbo spin echo at its effective echo time): ``PD (1 - exp(-TR/T1)) exp(-TE/T2)``.

    Args:
        pd, t1_ms, t2_ms: tissue parameters.
        tr_ms, te_ms: sequence parameters.

    Returns:
        Signal, in units of a fully relaxed water signal.
    """
    t1 = np.asarray(t1_ms, dtype=np.float64)
    return pd * (1 - np.exp(-tr_ms / t1)) * np.exp(-te_ms / np.asarray(t2_ms, dtype=np.float64))


def inversion_recovery(pd, t1_ms, t2_ms, tr_ms: float, ti_ms: float, te_ms: float):
    """Inversion recovery, magnitude image: ``PD |1 - 2 exp(-TI/T1) + exp(-TR/T1)| exp(-TE/T2)``.

    Args:
        pd, t1_ms, t2_ms: tissue parameters.
        tr_ms, ti_ms, te_ms: sequence parameters.

    Returns:
        Signal, in units of a fully relaxed water signal.
    """
    t1 = np.asarray(t1_ms, dtype=np.float64)
    mz = 1 - 2 * np.exp(-ti_ms / t1) + np.exp(-tr_ms / t1)
    return pd * np.abs(mz) * np.exp(-te_ms / np.asarray(t2_ms, dtype=np.float64))


def null_inversion_time(t1_ms: float, tr_ms: float) -> float:
    """Inversion time that nulls a tissue of longitudinal relaxation time ``t1_ms``.

    ``TI = T1 ln(2 / (1 + exp(-TR / T1)))`` (zero of the inversion-recovery magnetization).
    """
    return float(t1_ms * np.log(2.0 / (1.0 + np.exp(-tr_ms / t1_ms))))


def relaxation_with_gadolinium(t_ms, concentration_mM, relaxivity: float):
    """Relaxation time shortened by a contrast agent: ``1/T = 1/T0 + r C``.

    Args:
        t_ms: native T1 or T2 (ms).
        concentration_mM: agent concentration (mmol/L).
        relaxivity: r1 or r2 (L/(mmol s)).

    Returns:
        The shortened relaxation time (ms).
    """
    rate_per_ms = 1.0 / np.asarray(t_ms, dtype=np.float64) + relaxivity * np.asarray(concentration_mM) / 1000.0
    return 1.0 / rate_per_ms


def _pool_signal(sequence: Sequence, pd, t1_ms, t2_ms):
    if sequence.kind == "spgr":
        return spoiled_gradient_echo(pd, t1_ms, t2_ms, sequence.tr_ms, sequence.te_ms, sequence.flip_deg)
    if sequence.kind == "dess":
        return dual_echo_steady_state(pd, t1_ms, t2_ms, sequence.tr_ms, sequence.te_ms, sequence.flip_deg)
    if sequence.kind == "spin_echo":
        return spin_echo(pd, t1_ms, t2_ms, sequence.tr_ms, sequence.te_ms)
    if sequence.kind == "inversion_recovery":
        if sequence.ti_ms is None:
            raise ValueError(f"sequence {sequence.name!r}: inversion_recovery needs ti_ms")
        return inversion_recovery(pd, t1_ms, t2_ms, sequence.tr_ms, sequence.ti_ms, sequence.te_ms)
    raise ValueError(f"sequence {sequence.name!r}: unknown kind {sequence.kind!r}")


def tissue_signal(
    tissue: Tissue,
    sequence: Sequence,
    agent: ContrastAgent | None = None,
    fat: FatPool | None = None,
    fat_suppression: float | None = None,
) -> tuple[float, float]:
    """Signal of one tissue in one sequence, split into its water and fat parts.

    Args:
        tissue: the tissue.
        sequence: the sequence (with contrast agent when ``sequence.contrast``).
        agent: the gadolinium agent (needed when ``sequence.contrast`` and ``tissue.gd_mM > 0``).
        fat: the fat pool (needed when ``tissue.fat_fraction > 0``).
        fat_suppression: fraction of the fat signal removed; default
            ``sequence.fat_sat_efficiency`` if ``sequence.fat_sat`` else 0. The fat part returned
            is *before* suppression, so that a spatially varying suppression can be applied later.

    Returns:
        ``(water, fat)`` signals (fully relaxed water = 1); the total is
        ``water + (1 - suppression) * fat``.
    """
    t1, t2 = tissue.t1_ms, tissue.t2_ms
    if sequence.contrast and tissue.gd_mM > 0:
        if agent is None:
            raise ValueError(f"sequence {sequence.name!r} is post-contrast: give the contrast agent")
        r1 = agent.r1_blood if tissue.flow_void and agent.r1_blood is not None else agent.r1
        t1 = float(relaxation_with_gadolinium(t1, tissue.gd_mM, r1))
        t2 = float(relaxation_with_gadolinium(t2, tissue.gd_mM, agent.r2))
    if tissue.flow_void and sequence.kind in ("spin_echo", "inversion_recovery"):
        water = 0.0
    else:
        water = float(_pool_signal(sequence, tissue.pd * (1 - tissue.fat_fraction), t1, t2))
    fat_signal = 0.0
    if tissue.fat_fraction > 0:
        if fat is None:
            raise ValueError(f"tissue {tissue.name!r} has fat: give the fat pool")
        fat_signal = float(_pool_signal(sequence, tissue.pd * tissue.fat_fraction, fat.t1_ms, fat.t2_ms))
    return water, fat_signal


def total_signal(tissue: Tissue, sequence: Sequence, agent=None, fat=None) -> float:
    """Signal of a tissue with the sequence's nominal fat suppression applied."""
    water, fat_signal = tissue_signal(tissue, sequence, agent, fat)
    suppression = sequence.fat_sat_efficiency if sequence.fat_sat else 0.0
    return water + (1 - suppression) * fat_signal


def signal_sensitivity(
    tissue: Tissue,
    sequence: Sequence,
    agent: ContrastAgent | None = None,
    fat: FatPool | None = None,
    step: float = 1e-4,
) -> np.ndarray:
    """``dS / d ln (PD, T1, T2)`` of a tissue's signal (central differences).

    A small relative change of a tissue's proton density or water-pool relaxation times changes a
    sequence's signal by the dot product of the change with this vector: this is how
    microstructural variation of the tissue parameters becomes each sequence's texture. (Near an
    inversion-recovery null the signal is small but this derivative is not: imperfectly nulled
    CSF on FLAIR keeps some texture.)

    Returns:
        float64 ``[3]``, in signal units (fully relaxed water = 1).
    """
    out = np.zeros(3)
    for i, key in enumerate(("pd", "t1_ms", "t2_ms")):
        up = replace(tissue, **{key: getattr(tissue, key) * np.exp(step)})
        down = replace(tissue, **{key: getattr(tissue, key) * np.exp(-step)})
        out[i] = (total_signal(up, sequence, agent, fat) - total_signal(down, sequence, agent, fat)) / (2 * step)
    return out


def texture_amplitude(tissue: Tissue, sequence: Sequence, relative_sd, agent=None, fat=None) -> float:
    """SD of a tissue's signal when its (PD, T1, T2) vary independently by ``relative_sd``.

    Args:
        tissue: the tissue.
        sequence: the sequence.
        relative_sd: ``(sd_pd, sd_t1, sd_t2)``, SDs of the logs of the three parameters.
        agent, fat: as for :func:`tissue_signal`.

    Returns:
        ``|| relative_sd * dS/dln(PD, T1, T2) ||`` in signal units (linear approximation).
    """
    return float(np.linalg.norm(np.asarray(relative_sd) * signal_sensitivity(tissue, sequence, agent, fat)))


def texture_correlation(tissue: Tissue, a: Sequence, b: Sequence, relative_sd, agent=None, fat=None) -> float:
    """Correlation of the textures that two sequences see in one tissue, from physics alone.

    If a tissue's proton density, T1 and T2 vary from place to place independently with relative
    SDs ``relative_sd``, each sequence's signal varies by the dot product of that variation with
    its :func:`signal_sensitivity`; the correlation between two sequences' textures is the cosine
    between their sensitivity vectors scaled by ``relative_sd``. It is 1 for sequences with the
    same weighting and falls as their weightings differ.

    Returns:
        The absolute cosine (a texture that inverts between sequences is as shared as one that
        does not); 0 if either sequence sees no signal change.
    """
    sd = np.asarray(relative_sd)
    va, vb = sd * signal_sensitivity(tissue, a, agent, fat), sd * signal_sensitivity(tissue, b, agent, fat)
    norm = np.linalg.norm(va) * np.linalg.norm(vb)
    return float(abs(va @ vb) / norm) if norm > 0 else 0.0


def mean_texture_correlation(tissues: list[Tissue], protocol: "Protocol", relative_sd) -> float:
    """Mean of :func:`texture_correlation` over ``tissues`` and all pairs of the protocol's sequences.

    Returns:
        The mean absolute correlation, in [0, 1].
    """
    names = list(protocol.sequences)
    values = [
        texture_correlation(t, protocol.sequences[a], protocol.sequences[b], relative_sd, protocol.agent, protocol.fat)
        for t in tissues
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]
    return float(np.mean(values))


@dataclass(frozen=True)
class Protocol:
    """The sequences of a dataset, its contrast agent and fat pool."""

    sequences: dict[str, Sequence]
    agent: ContrastAgent | None = None
    fat: FatPool | None = None
    notes: dict[str, str] = field(default_factory=dict)
