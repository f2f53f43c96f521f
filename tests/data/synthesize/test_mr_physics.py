"""crossmodal.data.synthesize.mr_physics: signal equations, contrast agent, fat, texture sensitivity."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.data.synthesize import mr_physics as mr
from crossmodal.data.synthesize import parameters as p

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
    for m in ("normal", "fatsup"):  # cortical bone: no signal (T2* < 1 ms)
        assert nominal("cortex", m) < 1e-4 * nominal("fluid", m)


def knee_order(modality: str) -> list[str]:
    """The knee tissues from brightest to darkest at the nominal protocol."""
    tissues = ("fluid", "femoral_cartilage", "muscle", "meniscus", "marrow", "fat", "ligament")
    return sorted(tissues, key=lambda t: -nominal(t, modality))


def test_oai_protocol_tissue_ordering_on_each_modality():
    # Appearance of the two OAI sequences [Peterfy 2008] (Osteoarthritis Cartilage 16:1433): the
    # sagittal 3-D DESS with water excitation shows synovial fluid brightest, cartilage bright
    # against dark fat-suppressed marrow and fat, meniscus and ligaments dark (also Eckstein et
    # al., Ann Rheum Dis 2006;65:433, DESS WE at 3 T for the OAI); the intermediate-weighted
    # TSE with fat saturation shows fluid brightest, cartilage intermediate, muscle below it,
    # fat and marrow dark. Both suppress fat, so the two orders agree except for the ranks
    # of the dark tissues; what differs is fluid against cartilage and muscle.
    for modality in ("normal", "fatsup"):
        order = knee_order(modality)
        assert order[:3] == ["fluid", "femoral_cartilage", "muscle"], (modality, order)
        assert set(order[3:6]) == {"meniscus", "marrow", "fat"} and order[6] == "ligament", (modality, order)
    rel = {m: {t: nominal(t, m) / nominal("fluid", m) for t in ("femoral_cartilage", "muscle", "fat")} for m in ("normal", "fatsup")}
    # the DESS's PSIF echo makes fluid far brighter than cartilage (T2 767 against 37 ms)
    assert rel["normal"]["femoral_cartilage"] < 0.6 * rel["fatsup"]["femoral_cartilage"]
    assert rel["normal"]["fat"] < 0.15 and rel["fatsup"]["fat"] < 0.15


def test_dess_closed_form_matches_a_bloch_simulation():
    # isochromats spread uniformly over one dephasing cycle per TR (the spoiler gradient), run to
    # the steady state: the mean transverse magnetization just after the pulse is FISP's S+, at
    # the end of the TR the refocused PSIF echo S-
    def bloch(t1, t2, tr, flip, n_iso=1024):
        a, phase = np.deg2rad(flip), 2 * np.pi * (np.arange(n_iso) + 0.5) / n_iso
        mx, my, mz = np.zeros(n_iso), np.zeros(n_iso), np.ones(n_iso)
        e1, e2 = np.exp(-tr / t1), np.exp(-tr / t2)
        for _ in range(int(8 * t1 / tr) + 100):
            my, mz = np.cos(a) * my - np.sin(a) * mz, np.sin(a) * my + np.cos(a) * mz
            fid = np.hypot(mx.mean(), my.mean())
            mx, my, mz = mx * e2, my * e2, mz * e1 + 1 - e1
            mx, my = np.cos(phase) * mx - np.sin(phase) * my, np.sin(phase) * mx + np.cos(phase) * my
            echo = np.hypot(mx.mean(), my.mean())
        return fid, echo

    for t1, t2 in ((1240.0, 36.9), (3620.0, 767.0), (371.0, 133.0)):
        fid, echo = bloch(t1, t2, 16.3, 25.0)
        # TE 0: S = S+ + S-; the PSIF echo read TE before the pulse has relaxed TE less
        assert mr.dual_echo_steady_state(1.0, t1, t2, 16.3, 0.0, 25.0) == pytest.approx(fid + echo, rel=1e-5)
        expected = fid * np.exp(-4.7 / t2) + echo * np.exp(4.7 / t2)
        assert mr.dual_echo_steady_state(0.8, t1, t2, 16.3, 4.7, 25.0) == pytest.approx(0.8 * expected, rel=1e-5)


def test_default_flair_nulls_the_nominal_csf():
    flair = p.BRAIN_PROTOCOL.sequences["flair"]
    assert flair.ti_ms == round(mr.null_inversion_time(p.BRAIN_TISSUES["csf"].t1_ms, flair.tr_ms)) == 2481


def test_mean_texture_correlation_of_the_default_protocols():
    brain = mr.mean_texture_correlation([p.BRAIN_TISSUES["gm"], p.BRAIN_TISSUES["wm"]], p.BRAIN_PROTOCOL, p.MICROSTRUCTURE_SD)
    knee = mr.mean_texture_correlation(
        [p.KNEE_TISSUES["femoral_cartilage"], p.KNEE_TISSUES["meniscus"]], p.KNEE_PROTOCOL, p.MICROSTRUCTURE_SD
    )
    assert brain == pytest.approx(0.555, abs=0.001) and knee == pytest.approx(0.814, abs=0.001)
