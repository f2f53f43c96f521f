"""The schedule of a training: learning rate, minibatches, samples, orders, updates per epoch."""

import pytest

from crossmodal.common.model_ids import parse_model_id
from crossmodal.training.schedule import Schedule, batch_bounds, epoch_permutation, learning_rate_at, training_samples


def test_learning_rate_schedule():
    assert learning_rate_at(0, 0.3, 2e-6) == 0.3
    assert learning_rate_at(500_000, 0.3, 2e-6) == pytest.approx(0.15)
    assert learning_rate_at(1_000_000, 0.3, 2e-6) == pytest.approx(0.1)
    assert learning_rate_at(7, 0.3, 0.0) == 0.3


def test_batch_bounds_keep_a_partial_batch_but_not_a_single_sample():
    assert batch_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert batch_bounds(9, 4) == [(0, 4), (4, 8)]
    assert batch_bounds(8, 4) == [(0, 4), (4, 8)]
    assert batch_bounds(1, 4) == []


def test_training_samples_per_model_kind():
    patch, channel = training_samples(parse_model_id("axial-md0-pfn0-a0.0", ["t1", "t2"]), 3, ["t1", "t2"])
    assert patch.tolist() == [0, 1, 2] and channel is None
    patch, channel = training_samples(parse_model_id("baseline-t2", ["t1", "t2"]), 3, ["t1", "t2"])
    assert patch.tolist() == [0, 1, 2] and channel.tolist() == [1, 1, 1]
    patch, channel = training_samples(parse_model_id("baseline-all", ["t1", "t2"]), 3, ["t1", "t2"])
    assert patch.tolist() == [0, 1, 2, 0, 1, 2] and channel.tolist() == [0, 0, 0, 1, 1, 1]


def test_epoch_permutation_depends_on_seed_and_epoch_only():
    assert epoch_permutation(1, 0, 10).tolist() == epoch_permutation(1, 0, 10).tolist()
    assert sorted(epoch_permutation(1, 3, 10).tolist()) == list(range(10))
    assert epoch_permutation(1, 0, 10).tolist() != epoch_permutation(1, 1, 10).tolist()
    assert epoch_permutation(1, 0, 10).tolist() != epoch_permutation(2, 0, 10).tolist()


def test_training_updates_round_up_to_whole_epochs():
    def schedule(model_id, updates, epochs=5):
        spec = parse_model_id(model_id, ["t1", "t2"])
        return Schedule.of(spec, 24, ["t1", "t2"], 8, epochs, updates)

    # 24 patches, batch 8: 3 updates per epoch (axial); baseline-all: 48 samples, 6 per epoch
    assert schedule("axial-md1-pfn1-a0.0", 7).epochs == 3 and schedule("axial-md1-pfn1-a0.0", 7).updates == 9
    assert schedule("axial-md1-pfn1-a0.0", 6).epochs == 2
    assert schedule("baseline-all", 7).epochs == 2 and schedule("baseline-all", 7).updates_per_epoch == 6
    assert schedule("baseline-t1", 1).epochs == 1
    assert schedule("axial-md1-pfn1-a0.0", None).epochs == 5  # no training.updates: training.epochs
    assert schedule("axial-md1-pfn1-a0.0", None).epochs_for(10) == 4
