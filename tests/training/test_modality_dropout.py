"""Modality dropout: every mode of method.dropout_mode; the default uniform over the non-empty subsets."""

import numpy as np
import pytest
from scipy.stats import chisquare

from crossmodal.training.modality_dropout import independent_weights, sample_present


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


def test_per_sample_draws_one_subset_code_per_sample_bit_for_bit():
    """The default mode: one ``integers(1, 2**M)`` call of size B, modality m present where bit m is set."""
    rng, reference = np.random.default_rng(3), np.random.default_rng(3)
    for batch, m in [(64, 2), (17, 4)]:
        codes = reference.integers(1, 2**m, size=batch)
        expected = ((codes[:, None] >> np.arange(m)) & 1).astype(bool)
        np.testing.assert_array_equal(sample_present(rng, batch, m, dropout=True), expected)
    assert rng.bit_generator.state == reference.bit_generator.state


def test_per_batch_gives_one_subset_per_batch():
    rng = np.random.default_rng(4)
    batches = [sample_present(rng, 8, 4, dropout=True, mode="per_batch") for _ in range(3000)]
    for present in batches:
        assert (present == present[0]).all() and present[0].any()
    counts = _subset_counts(np.stack([b[0] for b in batches]))
    assert counts[0] == 0 and chisquare(counts[1:]).pvalue > 0.05  # uniform across batches
    assert sample_present(np.random.default_rng(0), 3, 2, True, "per_batch").astype(int).tolist() == [[1, 1]] * 3


def test_independent_weights():
    np.testing.assert_allclose(independent_weights(2, 0.25), np.array([0.1875, 0.1875, 0.5625]) / 0.9375)
    np.testing.assert_allclose(independent_weights(3, 0.5), np.full(7, 1 / 7))  # p = 1/2: uniform


@pytest.mark.parametrize("m, p", [(2, 0.25), (4, 0.5), (4, 0.8)])
def test_independent_never_drops_all_and_drops_each_with_probability_p(m, p):
    present = sample_present(np.random.default_rng(5), 20000, m, dropout=True, mode="independent", p=p)
    assert present.any(axis=1).all()
    counts = _subset_counts(present)
    assert counts[0] == 0
    expected = independent_weights(m, p) * len(present)
    assert chisquare(counts[1:], expected).pvalue > 0.01
    # before excluding the empty subset, each modality is kept with probability 1 - p
    kept = (1 - p) / (1 - p**m)
    np.testing.assert_allclose(present.mean(axis=0), kept, atol=0.015)


def test_per_sample_count_draws_the_count_uniformly():
    present = sample_present(np.random.default_rng(6), 12000, 4, dropout=True, mode="per_sample_count")
    sizes = present.sum(axis=1)
    assert sizes.min() == 1 and sizes.max() == 4
    assert chisquare(np.bincount(sizes)[1:]).pvalue > 0.05
    pairs = _subset_counts(present[sizes == 2])  # within a count, every subset alike
    assert chisquare(pairs[pairs > 0]).pvalue > 0.05 and (pairs > 0).sum() == 6


def test_unknown_mode_is_an_input_error():
    from crossmodal.common.errors import InputError

    with pytest.raises(InputError, match="dropout_mode = 'sometimes'"):
        sample_present(np.random.default_rng(0), 2, 2, dropout=True, mode="sometimes")
    # without dropout the mode is not looked at
    assert sample_present(np.random.default_rng(0), 2, 2, dropout=False, mode="sometimes").all()
