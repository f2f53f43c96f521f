"""crossmodal.synthesize.mr_physics: signal equations, contrast agent, fat, texture sensitivity."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.synthesize import mr_physics as mr
from crossmodal.synthesize import parameters as p

WATER = mr.Tissue("water-like", pd=1.0, t1_ms=1000.0, t2_ms=50.0)


def test_signal_equations_against_hand_computed_values():
    # flip 90 deg: sin 1, cos 0 -> (1 - E1) exp(-TE/T2)
    assert mr.spoiled_gradient_echo(1.0, 1000.0, 50.0, 10.0, 5.0, 90.0) == pytest.approx((1 - np.exp(-0.01)) * np.exp(-0.1))
    assert mr.spoiled_gradient_echo(0.5, 1000.0, 50.0, 10.0, 0.0, 30.0) == pytest.approx(
        0.5 * 0.5 * (1 - np.exp(-0.01)) / (1 - np.cos(np.pi / 6) * np.exp(-0.01))
    )
    assert mr.spin_echo(0.8, 1000.0, 50.0, 2000.0, 100.0) == pytest.approx(0.8 * (1 - np.exp(-2)) * np.exp(-2))
    assert mr.inversion_recovery(1.0, 1000.0, 50.0, 9000.0, 500.0, 0.0) == pytest.approx(
        abs(1 - 2 * np.exp(-0.5) + np.exp(-9))
    )
    ti = mr.null_inversion_time(4300.0, 9000.0)
    assert ti == pytest.approx(4300 * np.log(2 / (1 + np.exp(-9000 / 4300))))
    assert mr.inversion_recovery(1.0, 4300.0, 500.0, 9000.0, ti, 0.0) == pytest.approx(0.0, abs=1e-12)
    # arrays broadcast
    np.testing.assert_allclose(mr.spin_echo(np.ones(2), [500.0, 1000.0], 50.0, 1000.0, 0.0), [1 - np.exp(-2), 1 - np.exp(-1)])


def test_gadolinium_shortens_relaxation():
    # 1/T1 = 1/1000 ms + 4 L/(mmol s) * 0.5 mmol/L = 0.001 + 0.002 per ms
    assert mr.relaxation_with_gadolinium(1000.0, 0.5, 4.0) == pytest.approx(1000.0 / 3)
    assert mr.relaxation_with_gadolinium(1000.0, 0.0, 4.0) == pytest.approx(1000.0)
    agent = mr.ContrastAgent("a", r1=4.0, r2=5.0, r1_blood=2.0)
    t1w = mr.Sequence("t1", "spgr", tr_ms=10.0, te_ms=3.0, flip_deg=20.0)
    t1c = mr.Sequence("t1c", "spgr", tr_ms=10.0, te_ms=3.0, flip_deg=20.0, contrast=True)
    leaky = mr.Tissue("leaky", 0.8, 1600.0, 150.0, gd_mM=0.3)
    assert mr.total_signal(leaky, t1c, agent) > 1.5 * mr.total_signal(leaky, t1w, agent)
    expected = mr.spoiled_gradient_echo(0.8, 1 / (1 / 1600 + 4 * 0.3 / 1000), 1 / (1 / 150 + 5 * 0.3 / 1000), 10, 3, 20)
    assert mr.total_signal(leaky, t1c, agent) == pytest.approx(expected)
    blood = mr.Tissue("blood", 0.87, 1660.0, 150.0, gd_mM=0.3, flow_void=True)
    expected = mr.spoiled_gradient_echo(0.87, 1 / (1 / 1660 + 2 * 0.3 / 1000), 1 / (1 / 150 + 5 * 0.3 / 1000), 10, 3, 20)
    assert mr.total_signal(blood, t1c, agent) == pytest.approx(expected)  # blood relaxivity
    with pytest.raises(ValueError, match="post-contrast"):
        mr.total_signal(leaky, t1c)


def test_flow_void_and_fat_saturation():
    se = mr.Sequence("t2", "spin_echo", tr_ms=5000.0, te_ms=100.0)
    gre = mr.Sequence("t1", "spgr", tr_ms=10.0, te_ms=3.0, flip_deg=20.0)
    blood = mr.Tissue("blood", 0.87, 1660.0, 150.0, flow_void=True)
    assert mr.total_signal(blood, se) == 0.0 and mr.total_signal(blood, gre) > 0
    fatty = mr.Tissue("fatty", pd=1.0, t1_ms=1000.0, t2_ms=40.0, fat_fraction=0.8)
    fat = mr.FatPool(t1_ms=371.0, t2_ms=133.0)
    fs = mr.Sequence("fs", "spin_echo", tr_ms=3000.0, te_ms=30.0, fat_sat=True, fat_sat_efficiency=0.9)
    water, fat_part = mr.tissue_signal(fatty, fs, fat=fat)
    assert water == pytest.approx(mr.spin_echo(0.2, 1000.0, 40.0, 3000.0, 30.0))
    assert fat_part == pytest.approx(mr.spin_echo(0.8, 371.0, 133.0, 3000.0, 30.0))
    assert mr.total_signal(fatty, fs, fat=fat) == pytest.approx(water + 0.1 * fat_part)
    with pytest.raises(ValueError, match="fat pool"):
        mr.total_signal(fatty, fs)
    with pytest.raises(ValueError, match="unknown kind"):
        mr.total_signal(WATER, mr.Sequence("x", "epi", 1.0, 1.0))


def test_sensitivity_matches_the_analytic_derivatives():
    gre = mr.Sequence("t1", "spgr", tr_ms=10.0, te_ms=5.0, flip_deg=20.0)
    s = mr.total_signal(WATER, gre)
    d_pd, d_t1, d_t2 = mr.signal_sensitivity(WATER, gre)
    assert d_pd == pytest.approx(s)  # S is proportional to PD
    assert d_t2 == pytest.approx(s * 5.0 / 50.0, rel=1e-6)  # d exp(-TE/T2) / d ln T2 = TE/T2 exp(...)
    assert d_t1 < 0  # longer T1, darker T1-weighted image
    sd = (0.03, 0.08, 0.08)
    assert mr.texture_amplitude(WATER, gre, sd) == pytest.approx(np.linalg.norm(np.array(sd) * [d_pd, d_t1, d_t2]))
    se = mr.Sequence("t2", "spin_echo", tr_ms=5000.0, te_ms=100.0)
    assert mr.texture_correlation(WATER, gre, gre, sd) == pytest.approx(1.0)
    assert 0.0 < mr.texture_correlation(WATER, gre, se, sd) < 0.9
    blood = mr.Tissue("blood", 0.87, 1660.0, 150.0, flow_void=True)
    assert mr.texture_correlation(blood, gre, se, sd) == 0.0  # no signal on the spin echo


def nominal(tissue: str, modality: str) -> float:
    if modality in p.BRAIN_PROTOCOL.sequences:
        return mr.total_signal(p.BRAIN_TISSUES[tissue], p.BRAIN_PROTOCOL.sequences[modality], p.GADOBUTROL)
    return mr.total_signal(p.KNEE_TISSUES[tissue], p.KNEE_PROTOCOL.sequences[modality], fat=p.FAT)


def test_literature_parameters_give_the_known_contrasts():
    for m in ("t1", "flair"):
        assert nominal("csf", m) < nominal("gm", m) and nominal("csf", m) < nominal("wm", m)
    assert nominal("wm", "t1") > nominal("gm", "t1")
    assert nominal("csf", "t2") > nominal("gm", "t2") > nominal("wm", "t2")
    assert nominal("csf", "flair") < 0.01 * nominal("gm", "flair")  # CSF nulled
    assert nominal("enhancing", "t1c") > 1.5 * nominal("enhancing", "t1")
    assert nominal("enhancing", "t1c") > 1.5 * nominal("wm", "t1c")
    assert nominal("vessel", "t1c") > 2 * nominal("vessel", "t1") and nominal("vessel", "t2") == 0.0
    assert nominal("choroid", "t1c") > 2 * nominal("csf", "t1c")
    assert 0.85 < nominal("edema", "t1") / nominal("wm", "t1") < 1.0  # nearly isointense on T1
    assert nominal("edema", "flair") > 1.3 * nominal("gm", "flair") and nominal("edema", "t2") > nominal("gm", "t2")
    # knee: fat and marrow bright without, dark with fat saturation; fluid the reverse
    ref = {m: max(nominal(t, m) for t in p.KNEE_TISSUES) for m in ("normal", "fatsup")}
    rel = {m: {t: nominal(t, m) / ref[m] for t in p.KNEE_TISSUES} for m in ref}
    assert rel["normal"]["fat"] == 1.0 and rel["fatsup"]["fat"] < 0.2
    assert rel["normal"]["marrow"] > 0.9 and rel["fatsup"]["marrow"] < 0.2
    assert rel["fatsup"]["fluid"] == 1.0 and rel["normal"]["fluid"] < 0.4
    for m in ref:
        assert rel[m]["meniscus"] < min(rel[m]["femoral_cartilage"], rel[m]["fluid"])
        assert rel[m]["cortex"] < 1e-6


def test_default_flair_nulls_the_nominal_csf():
    flair = p.BRAIN_PROTOCOL.sequences["flair"]
    assert flair.ti_ms == round(mr.null_inversion_time(p.BRAIN_TISSUES["csf"].t1_ms, flair.tr_ms)) == 2481


def test_mean_texture_correlation_of_the_default_protocols():
    brain = mr.mean_texture_correlation([p.BRAIN_TISSUES["gm"], p.BRAIN_TISSUES["wm"]], p.BRAIN_PROTOCOL, p.MICROSTRUCTURE_SD)
    knee = mr.mean_texture_correlation(
        [p.KNEE_TISSUES["femoral_cartilage"], p.KNEE_TISSUES["meniscus"]], p.KNEE_PROTOCOL, p.MICROSTRUCTURE_SD
    )
    assert brain == pytest.approx(0.555, abs=0.001) and knee == pytest.approx(0.643, abs=0.001)
