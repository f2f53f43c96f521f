"""Modality dropout: uniform over the non-empty subsets of the modalities."""

import numpy as np
import pytest
from scipy.stats import chisquare

from crossmodal.modality_dropout import sample_present


def _subset_counts(present: np.ndarray) -> np.ndarray:
    codes = (present * (1 << np.arange(present.shape[1]))).sum(axis=1)
    return np.bincount(codes, minlength=2 ** present.shape[1])


def test_known_draws_for_a_fixed_seed():
    present = sample_present(np.random.default_rng(0), 4, 3, dropout=True)
    assert present.dtype == bool
    assert present.astype(int).tolist() == [[0, 1, 1], [1, 0, 1], [0, 0, 1], [0, 1, 0]]


def test_without_dropout_all_present_and_rng_untouched():
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    present = sample_present(rng, 3, 4, dropout=False)
    assert present.tolist() == [[True] * 4] * 3
    assert rng.bit_generator.state == before


@pytest.mark.parametrize("m, n", [(2, 3000), (4, 15000)])
def test_every_nonempty_subset_equally_often(m, n):
    counts = _subset_counts(sample_present(np.random.default_rng(1), n, m, dropout=True))
    assert counts[0] == 0  # never the empty subset
    assert (counts[1:] > 0).all()  # every non-empty subset occurs
    assert chisquare(counts[1:]).pvalue > 0.05


def test_chi_square_rejects_a_non_uniform_sampler():
    """The test above has power: 'size uniform, then a subset of that size' is not uniform."""
    rng = np.random.default_rng(1)
    sizes = rng.integers(1, 5, size=15000)
    present = np.array([np.isin(np.arange(4), rng.choice(4, k, replace=False)) for k in sizes])
    assert chisquare(_subset_counts(present)[1:]).pvalue < 1e-6
