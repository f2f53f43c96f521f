"""crossmodal.data.synthesize.template: the ICBM 2009a template that nilearn ships, as tissue fractions."""

from __future__ import annotations

import numpy as np

from crossmodal.data.synthesize import template


def test_template_fractions_depth_and_extent():
    t = template.load_template()
    assert t is template.load_template()  # cached per process
    csf, gm, wm, depth = t.maps
    assert t.maps.dtype == np.float32 and t.maps.shape[0] == 4
    for fraction in (csf, gm, wm):
        assert fraction.min() >= 0.0 and fraction.max() <= 1.0
    total = csf + gm + wm
    assert total.max() <= 1.0 + 1e-5
    # whole brain of the ICBM 2009a template (1 mm voxels), about 1.9 L with ~0.2 L of CSF
    np.testing.assert_allclose(t.extent_mm, [145, 181, 155])
    assert 1.8e6 < total.sum() < 2.0e6 and 1.5e5 < csf.sum() < 3e5 and gm.sum() > wm.sum()
    # depth comes from a 2 mm distance transform: zero only within ~2 mm of the surface
    assert depth.min() == 0.0 and 35 < depth.max() < 50 and (depth[total > 0.99] > 0).mean() > 0.98
    # ventricles: deep voxels that are CSF
    assert ((csf > 0.9) & (depth > 15)).sum() > 5000


def test_prefiltered_maps_keep_the_volumes_and_are_cached():
    raw = template.load_template().maps
    assert template.prefiltered_maps((1.0, 1.0, 1.0)) is raw  # nothing to average at 1 mm
    coarse = template.prefiltered_maps((4.0, 4.0, 4.0))
    assert coarse is template.prefiltered_maps((4.0, 4.0, 4.0))
    np.testing.assert_allclose(coarse[:3].sum(axis=(1, 2, 3)), raw[:3].sum(axis=(1, 2, 3)), rtol=1e-3)
    assert coarse[2].max() < raw[2].max()  # edges smoothed


def test_tumour_seeds_lie_in_deep_white_matter_of_one_hemisphere():
    t = template.load_template()
    seeds = template.tumour_seed_candidates()
    assert len(seeds) > 10000
    index = np.rint(seeds - t.origin_mm).astype(int)
    assert (t.maps[template.WM][tuple(index.T)] >= 0.9).all()
    assert (t.maps[template.DEPTH][tuple(index.T)] >= 25).all()
    assert (np.abs(seeds[:, 0]) >= 12).all()
