import numpy as np
import pytest

from crossmodal.evaluation.feature_stats import mean_pairwise_ncc, mutual_information, ncc, rank_by


def test_ncc_of_identical_features_is_one():
    a = np.random.default_rng(0).normal(size=(50, 3))
    np.testing.assert_allclose(ncc(a, a), [1.0, 1.0, 1.0])


def test_ncc_of_independent_features_is_near_zero():
    rng = np.random.default_rng(1)
    values = ncc(rng.normal(size=(5000, 4)), rng.normal(size=(5000, 4)))
    assert np.all(np.abs(values) < 0.1)


def test_ncc_exact_on_hand_made_values():
    a = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    b = np.array([[2.0, 3.0], [4.0, 2.0], [6.0, 1.0]])
    np.testing.assert_allclose(ncc(a, b), [1.0, -1.0])


def test_ncc_of_a_constant_feature_is_nan():
    a = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    result = ncc(a, a)
    assert result[0] == pytest.approx(1.0)
    assert np.isnan(result[1])


def test_ncc_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one shape"):
        ncc(np.zeros((3, 2)), np.zeros((4, 2)))


def test_mean_pairwise_ncc_averages_the_three_pairs():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    # modalities: x, x, -x -> pairs (0,1)=1, (0,2)=-1, (1,2)=-1 -> mean -1/3
    features = np.stack([x, x, -x])[:, :, None]
    np.testing.assert_allclose(mean_pairwise_ncc(features), [-1.0 / 3.0])


def test_feature_equal_to_label_has_highest_mutual_information():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, 300)
    features = np.column_stack([
        rng.normal(size=300),                       # noise
        labels + rng.normal(0, 1.0, 300),           # weak signal
        labels.astype(float),                       # the label itself
    ])
    mi = mutual_information(features, labels, seed=0)
    assert np.argmax(mi) == 2
    assert mi[2] > mi[1] > mi[0]


def test_rank_by_puts_highest_first_nan_last_ties_by_index():
    order = rank_by(np.array([0.5, np.nan, 0.9, 0.5, -1.0]))
    np.testing.assert_array_equal(order, [2, 0, 3, 4, 1])
