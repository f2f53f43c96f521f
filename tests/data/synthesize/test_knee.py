"""crossmodal.data.synthesize.knee: procedural knee, OAI-like contrasts, partial volume, slice axes."""

from __future__ import annotations

import numpy as np
import pytest

from crossmodal.data.synthesize import knee, knee_anatomy

K = knee.TISSUES.index


@pytest.fixture(scope="module")
def clean():
    """A demo-grid scan without noise and bias."""
    return knee.knee_scan(1, 0, 0, knee.DEFAULT_SHAPE, knee.DEFAULT_SPACING, noise=0.0, bias=0.0, rho=0.5)


def pure_mean(images, fractions, modality, tissue, threshold=0.95):
    where = fractions[K(tissue)] >= threshold
    assert where.sum() > 5, tissue
    return float(images[modality][where].mean())


def test_tissue_ordering_of_the_oai_pair_in_the_images(clean):
    # [Peterfy 2008] (Osteoarthritis Cartilage 16:1433): on the water-excited DESS and on the
    # fat-saturated IW TSE, synovial fluid is brightest, cartilage above muscle, fat and marrow
    # dark; the meniscus is darker than the cartilage and fluid around it. Both suppress fat, so
    # (unlike the FLASH without water excitation modelled before) nothing inverts between them.
    images, _, fractions = clean
    for m in knee.MODALITIES:
        mean = {t: pure_mean(images, fractions, m, t) for t in ("fluid", "femoral_cartilage", "muscle", "fat", "marrow")}
        assert mean["fluid"] > mean["femoral_cartilage"] > mean["muscle"] > max(mean["fat"], mean["marrow"]), (m, mean)
        assert pure_mean(images, fractions, m, "meniscus", 0.9) < min(
            pure_mean(images, fractions, m, "femoral_cartilage", 0.9), pure_mean(images, fractions, m, "fluid", 0.9)
        )
    # what differs: the DESS's fluid is far brighter than its cartilage
    ratio = {m: pure_mean(images, fractions, m, "fluid") / pure_mean(images, fractions, m, "femoral_cartilage") for m in knee.MODALITIES}
    assert ratio["normal"] > 1.5 * ratio["fatsup"]


def test_fractions_partial_volume_and_dominant_labels(clean):
    images, labels, fractions = clean
    np.testing.assert_allclose(fractions.sum(axis=0), 1.0, atol=1e-6)
    assert set(np.unique(fractions * 8).astype(int).tolist()) <= set(range(9))  # 2x2x2 supersampling
    assert np.array_equal(labels, knee_anatomy.LABEL_OF_TISSUE[np.argmax(fractions, axis=0)])
    assert np.unique(labels).tolist() == [0, 1, 2, 3, 4]
    cartilage = fractions[K("femoral_cartilage")]
    assert ((cartilage > 0.2) & (cartilage < 0.8)).sum() > 500
    fat, muscle = fractions[K("fat")], fractions[K("muscle")]
    mixed = (fat >= 0.375) & (fat <= 0.625) & (muscle >= 0.375)
    assert mixed.sum() > 50
    normal = images["normal"]
    assert pure_mean(images, fractions, "normal", "fat") < float(normal[mixed].mean()) < pure_mean(images, fractions, "normal", "muscle")


def test_fatsup_is_blurred_along_its_sagittal_slices(clean):
    images, _, _ = clean

    def roughness(image, axis):
        image = image.astype(np.float64)
        return float(np.abs(np.diff(image, axis=axis)).mean())

    # normal: 3-D DESS, 0.7 mm partitions, finer than the 1 mm grid; fatsup: 3 mm sagittal slices
    # (axis 2, 3 voxels): against the same anatomy, fatsup is the smoother one along axis 2
    ratio = {m: roughness(images[m], 2) / roughness(images[m], 0) for m in knee.MODALITIES}
    assert ratio["fatsup"] < 0.6 * ratio["normal"]


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
