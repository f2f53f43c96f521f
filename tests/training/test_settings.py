"""A training's settings from the config values: what determines the weights."""

import pytest

from crossmodal.common.errors import InputError
from crossmodal.training.method import MethodSettings
from crossmodal.training.settings import TrainSettings


def test_settings_from_config_values():
    training = {"epochs": 2, "batch_size": 16, "learning_rate": 0.3, "lr_decay": 2e-6, "precision": "auto",
                "checkpoint_minutes": 5, "encode_batch_size": 1024}
    network = {"widths": [4, 8, 8], "features": 8}
    s = TrainSettings.from_config("baseline-all", ["t1", "t2"], 11, network, training, 3, "ds/baseline-all/fold0")
    assert (s.patch_size, s.widths, s.features, s.epochs, s.batch_size, s.precision) == (11, (4, 8, 8), 8, 2, 16, "auto")
    other = TrainSettings.from_config("baseline-all", ["t1", "t2"], 11, network, training, 3, "ds/baseline-all/fold1")
    assert s.seed != other.seed
    del training["epochs"]
    with pytest.raises(InputError, match="epochs"):
        TrainSettings.from_config("baseline-all", ["t1", "t2"], 11, network, training, 3, "ds/baseline-all/fold0")


def test_settings_read_the_networks_method_keys_and_updates_from_training():
    training = {"epochs": 2, "batch_size": 16, "learning_rate": 0.3, "lr_decay": 2e-6, "precision": "auto"}
    network = {"widths": [4, 8, 8], "features": 8}
    plain = TrainSettings.from_config("axial-md1-pfn1-a0.0", ["t1", "t2"], 11, network, training, 3, "k")
    assert plain.method == MethodSettings() and plain.updates is None
    switched = TrainSettings.from_config("axial-md1-pfn1-a0.0", ["t1", "t2"], 11, network,
                                         {**training, "method": {"dropout_mode": "per_batch"}, "updates": 9}, 3, "k")  # fmt: skip
    assert switched.method == MethodSettings(dropout_mode="per_batch") and switched.updates == 9
