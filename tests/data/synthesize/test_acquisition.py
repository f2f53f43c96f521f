"""crossmodal.data.synthesize.acquisition: texture mixing, 2-D slices resampled to the grid, noise."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.data.synthesize import acquisition

SHAPE, SPACING = (40, 40, 40), (1.0, 1.0, 1.0)


def textures(rho, seed=0):
    return acquisition.mixed_textures(np.random.default_rng(seed), SHAPE, SPACING, 3.0, ["a", "b", "c"], rho)


def corr(x, y):
    return float(np.corrcoef(x.ravel(), y.ravel())[0, 1])


def test_rho_one_gives_one_texture_for_all_modalities():
    t = textures(1.0)
    assert np.array_equal(t["a"], t["b"]) and np.array_equal(t["a"], t["c"])
    assert t["a"].dtype == np.float32 and t["a"].shape == SHAPE
    assert t["a"].std() == pytest.approx(1.0, abs=1e-5)


def test_rho_is_the_correlation_of_two_modalities_textures():
    for rho in (0.0, 0.25, 0.5, 0.75):
        t = textures(rho)
        assert corr(t["a"], t["b"]) == pytest.approx(rho, abs=0.12), rho
        assert corr(t["b"], t["c"]) == pytest.approx(rho, abs=0.12), rho


def test_rho_changes_the_mixing_only_never_the_fields():
    shared, own = textures(1.0)["a"], textures(0.0)
    t = textures(0.3)
    for m in "abc":
        np.testing.assert_allclose(t[m], np.sqrt(0.3) * shared + np.sqrt(0.7) * own[m], atol=1e-5)
    with pytest.raises(ValueError, match="rho = 1.5"):
        textures(1.5)


def test_slice_positions():
    np.testing.assert_allclose(acquisition.slice_positions(10, 1.0, 3.0, 0.0), [0, 3, 6, 9])
    np.testing.assert_allclose(acquisition.slice_positions(10, 0.5, 3.0, 0.5), [3, 9])
    np.testing.assert_allclose(acquisition.slice_positions(4, 1.0, 6.0, 0.5), [0, 3])  # at least two


def test_3d_acquisition_is_the_signal_plus_rician_noise():
    signal = np.random.default_rng(1).uniform(0.5, 1.0, SHAPE).astype(np.float32)
    out = acquisition.acquire(signal, SPACING, 0.0, np.random.default_rng(2))
    np.testing.assert_allclose(out, signal, rtol=1e-6)
    noisy = acquisition.acquire(signal, SPACING, 0.05, np.random.default_rng(2))
    assert 0.04 < float((noisy - signal).std()) < 0.06


def test_2d_acquisition_blurs_and_correlates_noise_along_its_slice_axis_only():
    signal = np.zeros(SHAPE, dtype=np.float32)
    signal[:, :, 20] = 1.0  # a thin sheet across the slice axis z
    out = acquisition.acquire(signal, SPACING, 0.0, np.random.default_rng(0), slice_mm=4.0, slice_axis=2, slice_offset=0.0)
    profile = out[20, 20]
    assert profile.sum() == pytest.approx(1.0, rel=0.15)  # the sheet's signal is kept, spread out
    assert profile.max() < 0.35 and (profile > 0.05).sum() >= 4  # over about one slice thickness
    np.testing.assert_allclose(out[:, :, 20], out[0, 0, 20])  # nothing happens in-plane
    flat = np.ones(SHAPE, dtype=np.float32)
    noisy = acquisition.acquire(flat, SPACING, 0.1, np.random.default_rng(3), slice_mm=4.0, slice_axis=2)
    residual = noisy - noisy.mean()
    along = corr(residual[:, :, :-1], residual[:, :, 1:])
    across = corr(residual[:-1], residual[1:])
    assert along > 0.5 and abs(across) < 0.05
    same = acquisition.acquire(flat, SPACING, 0.1, np.random.default_rng(3), slice_mm=1.0, slice_axis=2)
    assert abs(corr((same - 1)[:, :, :-1], (same - 1)[:, :, 1:])) < 0.05  # not thicker than a voxel: 3-D
