"""crossmodal.data.synthesize.sharing: the knob kappa (what the modalities of a scan share)."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.data.synthesize import brats, knee, sharing
from crossmodal.data.synthesize.mr_physics import Sequence

SHAPE, SPACING = (24, 20, 16), (1.0, 1.0, 1.0)


def test_signals_and_bias_blend_towards_the_reference():
    rng = np.random.default_rng(0)
    signals = {m: rng.random(SHAPE, dtype=np.float32) for m in ("a", "b")}
    assert sharing.share_signals(signals, "a", 0.0) is signals
    assert sharing.share_signals(signals, "a", -0.5) is signals  # negative kappa hides instead
    half = sharing.share_signals(signals, "a", 0.5)
    np.testing.assert_allclose(half["b"], 0.5 * signals["a"] + 0.5 * signals["b"], rtol=1e-6)
    np.testing.assert_array_equal(half["a"], signals["a"])
    full = sharing.share_signals(signals, "a", 1.0)
    np.testing.assert_array_equal(full["b"], full["a"])
    biases = [np.full(SHAPE, 2.0, np.float32), np.full(SHAPE, 0.5, np.float32)]
    np.testing.assert_allclose(sharing.share_bias(biases, 0, 0.5)[1], 1.0, rtol=1e-6)  # 0.5^0.5 * 2^0.5
    np.testing.assert_allclose(sharing.share_bias(biases, 0, 1.0)[1], 2.0, rtol=1e-6)
    thick = [Sequence("a", "spgr", 10.0, 3.0), Sequence("b", "spin_echo", 3000.0, 30.0, slice_mm=3.0)]
    assert sharing.share_slices(thick, 0, 0.0) is thick
    assert [s.slice_mm for s in sharing.share_slices(thick, 0, 0.5)] == [None, 1.5]
    assert [s.slice_mm for s in sharing.share_slices(thick, 1, 0.5)] == [1.5, 3.0]
    with pytest.raises(ValueError, match=r"kappa = 1.5: must lie in \[-1, 1\]"):
        sharing.share_signals(signals, "a", 1.5)


def test_hidden_regions_cover_their_share_and_hiding_keeps_each_voxel_whole():
    assert sharing.hidden_regions(np.random.default_rng(1), SHAPE, SPACING, 3.0, ["a", "b"], 0.0) is None
    shares = []
    for seed in range(8):
        regions = sharing.hidden_regions(np.random.default_rng(seed), (40, 40, 40), SPACING, 4.0, ["a", "b"], -1.0)
        shares += [float((r > 0.5).mean()) for r in regions.values()]
        assert not np.array_equal(regions["a"], regions["b"])  # each modality its own regions
    assert np.mean(shares) == pytest.approx(sharing.MAX_HIDDEN, abs=0.06)
    fractions = np.random.default_rng(2).dirichlet(np.ones(3), size=SHAPE).astype(np.float32)
    fractions = np.moveaxis(fractions, -1, 0)
    hidden = np.random.default_rng(3).random(SHAPE, dtype=np.float32)
    seen = sharing.hide(fractions, hidden, {1: 0})
    np.testing.assert_allclose(seen.sum(axis=0), fractions.sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(seen[1], fractions[1] * (1 - hidden), atol=1e-7)
    np.testing.assert_array_equal(seen[2], fractions[2])


def test_kappa_zero_is_the_default_data_and_kappa_changes_images_only():
    shape, spacing = (48, 48, 24), (0.5, 0.5, 1.0)
    default = knee.knee_scan(5, 0, 0, shape, spacing, 0.04, 0.15, 0.8)
    zero = knee.knee_scan(5, 0, 0, shape, spacing, 0.04, 0.15, 0.8, kappa=0.0)
    for m in knee.MODALITIES:
        np.testing.assert_array_equal(default[0][m], zero[0][m])
    for kappa in (1.0, -1.0):
        other = knee.knee_scan(5, 0, 0, shape, spacing, 0.04, 0.15, 0.8, kappa=kappa)
        assert np.array_equal(other[1], default[1]) and np.array_equal(other[2], default[2])
        assert not np.array_equal(other[0]["fatsup"], default[0]["fatsup"])
        again = knee.knee_scan(5, 0, 0, shape, spacing, 0.04, 0.15, 0.8, kappa=kappa)  # determinism
        for m in knee.MODALITIES:
            np.testing.assert_array_equal(again[0][m], other[0][m])


def test_shared_end_is_the_reference_image_and_the_specific_end_hides_the_tumour():
    shape, spacing = (40, 40, 32), (4.4, 5.2, 5.5)
    noiseless = {k: brats.brats_scan(4, 0, shape, spacing, 0.0, 0.15, 0.5, kappa=k) for k in (1.0, 0.0, -1.0)}
    images, labels, _ = noiseless[1.0]
    # kappa 1, no noise: every modality is the reference's (T1+c) image up to its scanner gain
    brain = labels >= 0
    for modality in ("t1", "flair"):  # flair: a 2-D acquisition at kappa 0
        ratio = images[modality][brain & (images["t1c"] > 100)] / images["t1c"][brain & (images["t1c"] > 100)]
        assert ratio.std() / ratio.mean() < 0.01
    # kappa -1: in each modality part of the tumour looks like white matter: the tumour's
    # intensity spread rises against kappa 0 in the modality where it is brightest (FLAIR)
    tumour = labels > 0
    spread = {k: noiseless[k][0]["flair"][tumour].std() for k in (0.0, -1.0)}
    assert spread[-1.0] > spread[0.0]
