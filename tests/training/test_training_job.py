"""A training job: settings from the config, its patches, its device."""

import numpy as np
import pytest
import torch
from tiny_training import MODALITIES, tiny_job, write_tiny_dataset

from crossmodal.common.errors import InputError
from crossmodal.training.training_job import TrainSettings, deterministic_algorithms


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


def test_deterministic_algorithms_on_cuda_only_and_restored():
    # a device object needs no GPU; the context only sets and restores global flags
    with deterministic_algorithms(torch.device("cpu")):
        assert torch.are_deterministic_algorithms_enabled() is False
    with deterministic_algorithms(torch.device("cuda", 0)):
        assert torch.are_deterministic_algorithms_enabled() is True
        assert torch.is_deterministic_algorithms_warn_only_enabled() is True
        assert torch.backends.cudnn.deterministic is True
        assert torch.backends.cudnn.benchmark is False
    assert torch.are_deterministic_algorithms_enabled() is False
    assert torch.backends.cudnn.deterministic is False


def test_a_job_names_its_run_and_opens_its_fold_on_the_cpu(tmp_path):
    dataset = write_tiny_dataset(tmp_path)
    job = tiny_job(tmp_path, dataset, "baseline-t1", fold=1)
    assert job.key == "tiny/baseline-t1/fold1"
    expected = TrainSettings.from_config("baseline-t1", list(MODALITIES), 9, dataset["network"], dataset["training"], 0,
                                         "tiny/baseline-t1/fold1")  # fmt: skip
    assert job.settings == expected
    with job.opened() as opened:
        assert (opened.compute.device, opened.compute.precision) == (torch.device("cpu"), "fp32")
        assert opened.source.scan_ids == ["s0", "s1", "s2"]  # the training scans, then the test scan
        assert (len(opened.splits["train"]), len(opened.splits["test"])) == (16, 8)
        assert torch.get_num_threads() == 1


def test_a_fold_without_test_patches_is_an_input_error(tmp_path):
    dataset = write_tiny_dataset(tmp_path)
    # s2, the scan of fold 1, without patches
    np.savez(tmp_path / "patches" / "s2.npz", centres=np.zeros((0, 3), np.int16), labels=np.zeros(0, np.uint8))
    with pytest.raises(InputError, match="fold 1 has no test patches"):
        tiny_job(tmp_path, dataset, fold=1).load_splits()
