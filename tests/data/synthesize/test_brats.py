"""crossmodal.data.synthesize.brats: the ICBM brain with a tumour, its contrasts, partial volume, labels."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.data.synthesize import brats

B = brats.TISSUES.index


@pytest.fixture(scope="module")
def clean():
    """One demo-grid subject without noise and bias (the contrasts themselves)."""
    return brats.brats_scan(2, 0, brats.DEFAULT_SHAPE, brats.DEFAULT_SPACING, noise=0.0, bias=0.0, rho=0.5)


def pure_mean(images, fractions, modality, tissue, threshold=0.9):
    where = fractions[B(tissue)] >= threshold
    assert where.sum() > 5, tissue
    return float(images[modality][where].mean())


def test_csf_dark_on_t1_and_flair_bright_on_t2(clean):
    images, _, fractions = clean
    for m in ("t1", "flair"):
        assert pure_mean(images, fractions, m, "csf") < 0.6 * pure_mean(images, fractions, m, "wm")
    assert pure_mean(images, fractions, "t2", "csf") > 1.8 * pure_mean(images, fractions, "t2", "wm")
    assert pure_mean(images, fractions, "t1", "wm") > pure_mean(images, fractions, "t1", "gm")


def test_enhancing_tumour_and_vessels_bright_on_t1c_only(clean):
    images, _, fractions = clean
    ratio = {m: pure_mean(images, fractions, m, "enhancing", 0.6) / pure_mean(images, fractions, m, "wm") for m in ("t1", "t1c")}
    assert ratio["t1c"] > 1.4 and ratio["t1"] < 1.0 and ratio["t1c"] > 1.5 * ratio["t1"]
    # choroid plexus (in the ventricles) shows on T1+c only
    plexus = {m: pure_mean(images, fractions, m, "choroid", 0.3) / pure_mean(images, fractions, m, "csf") for m in ("t1", "t1c")}
    assert plexus["t1c"] > 1.3 * plexus["t1"]


def test_edema_nearly_isointense_on_t1_and_bright_on_flair(clean):
    images, _, fractions = clean
    wm = {m: pure_mean(images, fractions, m, "wm") for m in brats.MODALITIES}
    edema = {m: pure_mean(images, fractions, m, "edema", 0.8) for m in brats.MODALITIES}
    assert 0.8 < edema["t1"] / wm["t1"] < 1.05
    assert edema["flair"] / wm["flair"] > 1.4 and edema["t2"] / wm["t2"] > 1.4


def test_partial_volume_fractions_and_intermediate_signal(clean):
    images, labels, fractions = clean
    total = fractions.sum(axis=0)
    assert fractions.min() >= 0 and total.max() <= 1 + 1e-5
    gm, wm = fractions[B("gm")], fractions[B("wm")]
    mixed = (gm > 0.4) & (wm > 0.4)
    assert mixed.sum() > 1000  # boundary voxels hold two tissues
    t1 = images["t1"]
    pure_gm, pure_wm = pure_mean(images, fractions, "t1", "gm"), pure_mean(images, fractions, "t1", "wm")
    assert pure_gm < float(t1[mixed].mean()) < pure_wm
    edge = (total > 0.2) & (total < 0.8)  # the brain's outline
    assert edge.sum() > 1000


def test_labels_and_skull_stripping(clean):
    images, labels, fractions = clean
    assert np.unique(labels).tolist() == [0, 1, 2, 4]
    brain = fractions.sum(axis=0) >= 0.5
    for image in images.values():
        assert image.dtype == np.int16 and (image[~brain] == 0).all() and (image[brain] >= 1).all()
    assert not labels[~brain].any()
    assert 0.25 < brain.mean() < 0.5  # a whole brain in the default field of view
    assert (fractions[B("enhancing")][labels == 4] > 0.3).all()


def test_labels_come_from_the_dominant_compartment():
    voxels = [
        {"wm": 0.9},  # normal
        {"gm": 0.3, "edema": 0.6},
        {"wm": 0.2, "enhancing": 0.45, "necrosis": 0.35},
        {"csf": 0.2, "necrosis": 0.7},
        {"wm": 0.4, "non_enhancing": 0.6},
        {"edema": 0.4},  # less than half a voxel of brain: background
    ]
    f = np.zeros((len(brats.TISSUES), len(voxels), 1, 1), dtype=np.float32)
    for i, voxel in enumerate(voxels):
        for tissue, value in voxel.items():
            f[B(tissue), i] = value
    assert brats.labels_from_fractions(f).ravel().tolist() == [0, 2, 4, 1, 1, 0]


def test_seeded_streams_rho_changes_texture_only():
    shape, spacing = (40, 40, 32), (4.4, 5.2, 5.5)  # the smoke grid
    a = brats.brats_scan(5, 1, shape, spacing, 0.04, 0.15, 0.3)
    b = brats.brats_scan(5, 1, shape, spacing, 0.04, 0.15, 0.3)
    c = brats.brats_scan(5, 1, shape, spacing, 0.04, 0.15, 0.9)
    for m in brats.MODALITIES:
        assert np.array_equal(a[0][m], b[0][m]) and not np.array_equal(a[0][m], c[0][m])
    assert np.array_equal(a[1], c[1]) and np.array_equal(a[2], c[2])
    other = brats.brats_scan(5, 2, shape, spacing, 0.04, 0.15, 0.3)
    assert not np.array_equal(a[2], other[2])
    assert np.unique(a[1]).tolist() == [0, 1, 2, 4]


def test_site_protocols_vary_timing_and_2d_geometry():
    protocols = [brats.site_protocol(np.random.default_rng(s)) for s in range(20)]
    assert {p["flair"].slice_axis for p in protocols} == {0, 1, 2}
    assert all(3.0 <= p[m].slice_mm <= 6.0 for p in protocols for m in ("t2", "flair"))
    assert all(p["t1"].slice_mm is None and p["t1c"].tr_ms == p["t1"].tr_ms for p in protocols)
    assert len({round(p["t2"].te_ms, 3) for p in protocols}) == 20
