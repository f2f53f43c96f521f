"""crossmodal.synthesize.knee: procedural knee, OAI-like contrasts, partial volume, slice axes."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.synthesize import knee

K = knee.TISSUES.index


@pytest.fixture(scope="module")
def clean():
    """A demo-grid scan without noise and bias."""
    return knee.knee_scan(1, 0, 0, knee.DEFAULT_SHAPE, knee.DEFAULT_SPACING, noise=0.0, bias=0.0, rho=0.5)


def pure_mean(images, fractions, modality, tissue, threshold=0.95):
    where = fractions[K(tissue)] >= threshold
    assert where.sum() > 5, tissue
    return float(images[modality][where].mean())


def test_fat_bright_on_normal_and_dark_on_fatsup_fluid_the_reverse(clean):
    images, _, fractions = clean
    rel = {m: {t: pure_mean(images, fractions, m, t) / pure_mean(images, fractions, m, "muscle") for t in ("fat", "marrow", "fluid", "femoral_cartilage")} for m in knee.MODALITIES}
    assert rel["normal"]["fat"] > 2 and rel["fatsup"]["fat"] < 0.5
    assert rel["normal"]["marrow"] > 2 and rel["fatsup"]["marrow"] < 0.5
    assert rel["normal"]["fluid"] < 1 and rel["fatsup"]["fluid"] > 1.5
    for m in knee.MODALITIES:  # meniscus darker than the cartilage and fluid around it
        assert pure_mean(images, fractions, m, "meniscus", 0.9) < min(
            pure_mean(images, fractions, m, "femoral_cartilage", 0.9), pure_mean(images, fractions, m, "fluid", 0.9)
        )


def test_fractions_partial_volume_and_dominant_labels(clean):
    images, labels, fractions = clean
    np.testing.assert_allclose(fractions.sum(axis=0), 1.0, atol=1e-6)
    assert set(np.unique(fractions * 8).astype(int).tolist()) <= set(range(9))  # 2x2x2 supersampling
    assert np.array_equal(labels, knee.LABEL_OF_TISSUE[np.argmax(fractions, axis=0)])
    assert np.unique(labels).tolist() == [0, 1, 2, 3]
    cartilage = fractions[K("femoral_cartilage")]
    assert ((cartilage > 0.2) & (cartilage < 0.8)).sum() > 500
    fat, muscle = fractions[K("fat")], fractions[K("muscle")]
    mixed = (fat >= 0.375) & (fat <= 0.625) & (muscle >= 0.375)
    assert mixed.sum() > 50
    normal = images["normal"]
    assert pure_mean(images, fractions, "normal", "muscle") < float(normal[mixed].mean()) < pure_mean(images, fractions, "normal", "fat")


def test_each_modality_is_blurred_along_its_own_slice_axis(clean):
    images, _, _ = clean

    def roughness(image, axis):
        image = image.astype(np.float64)
        return float(np.abs(np.diff(image, axis=axis)).mean())

    # normal: 1.5 mm coronal partitions (axis 0, 3 voxels); fatsup: 3 mm sagittal slices (axis 2,
    # 3 voxels): against the same anatomy, each is the smoother one along its own slice axis
    ratio = {m: roughness(images[m], 0) / roughness(images[m], 2) for m in knee.MODALITIES}
    assert ratio["normal"] < 0.6 * ratio["fatsup"]


def test_fat_saturation_failure_shows_fat_on_fatsup():
    rates = [knee.fat_sat_failure(np.random.default_rng(s), (32, 32, 16), (1.0, 1.0, 1.0)) for s in range(20)]
    failed = [r for r in rates if r.max() > 0]
    assert 4 <= len(failed) <= 16  # in about half the scans
    assert all(0 < (r > 0.5).mean() < 0.4 for r in failed)
    assert all(r.min() >= 0 and r.max() <= 1 for r in rates)


def test_sessions_of_a_subject_share_anatomy():
    shape, spacing = (48, 48, 24), (0.5, 0.5, 1.0)
    labels = {(s, v): knee.knee_scan(1, s, v, shape, spacing, 0.04, 0.15, 0.5)[1] > 0 for s in (0, 1) for v in (0, 1)}

    def dice(a, b):
        return 2 * (a & b).sum() / (a.sum() + b.sum())

    same = [dice(labels[(s, 0)], labels[(s, 1)]) for s in (0, 1)]
    different = [dice(labels[(0, v)], labels[(1, v)]) for v in (0, 1)]
    assert min(same) > max(different) + 0.2
    assert not np.array_equal(labels[(0, 0)], labels[(0, 1)])


def test_rho_changes_the_images_not_the_anatomy():
    shape, spacing = (48, 48, 24), (0.5, 0.5, 1.0)
    a = knee.knee_scan(3, 0, 1, shape, spacing, 0.04, 0.15, 1.0)
    b = knee.knee_scan(3, 0, 1, shape, spacing, 0.04, 0.15, 0.0)
    assert np.array_equal(a[1], b[1]) and np.array_equal(a[2], b[2])
    assert not np.array_equal(a[0]["normal"], b[0]["normal"])
