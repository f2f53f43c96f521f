"""A training job: its settings from the config, its patches, its device."""

import numpy as np
import pytest
import torch
from tiny_training import MODALITIES, tiny_job, write_tiny_dataset

from crossmodal.common.errors import InputError
from crossmodal.training.settings import TrainSettings
from crossmodal.training.training_job import deterministic_algorithms


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
