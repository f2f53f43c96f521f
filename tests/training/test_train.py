"""Rule train from files: training scans only, resume, the features of the trained network."""

import logging
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_training import MODALITIES, P, TrainingStopped, stopping_after, tiny_job, write_tiny_dataset

import crossmodal.training.train
import crossmodal.training.training_job
from crossmodal.common.errors import InputError
from crossmodal.data.gather.mapped_volumes import MappedVolumes
from crossmodal.training.features import load_features
from crossmodal.training.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _assert_same_weights(a, b):
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for name, tensor in a["state_dict"].items():
        assert torch.equal(tensor, b["state_dict"][name]), name


def _train_files(root, dataset, out, stop=None, model_id="axial-md1-pfn0-a0.2", fold=1, precision=None):
    """Rule train's function on the tiny dataset; ``stop``: killed after that many updates."""
    trainer_class = crossmodal.training.train.Trainer if stop is None else stopping_after(stop)
    with mock.patch.object(crossmodal.training.train, "Trainer", trainer_class):
        train(tiny_job(root, dataset, model_id, fold, precision), weights_path=out / "weights.pt",
              history_path=out / "history.tsv", features_path=out / "features.npz",
              checkpoint_path=out / "checkpoint.pt", checkpoint_minutes=5)  # fmt: skip


def test_train_from_files_uses_training_scans_only_and_resumes(tmp_path, caplog):
    # fold 1 holds scan s2; NaN in s2 would make the loss NaN if training touched it
    dataset = write_tiny_dataset(tmp_path, nan_scans=("s2",))
    (tmp_path / "full").mkdir()
    with pytest.raises(InputError, match="non-finite test features"):  # encoding does read s2
        _train_files(tmp_path, dataset, tmp_path / "full")
    history = pd.read_csv(tmp_path / "full" / "history.tsv", sep="\t")
    assert np.isfinite(history["loss"]).all() and len(history) == 2
    with pytest.raises(TrainingStopped):
        _train_files(tmp_path, dataset, tmp_path / "resumed", stop=4)  # 16 patches, batch 6: 3 steps/epoch
    with caplog.at_level(logging.INFO, logger="crossmodal.training.trainer"), pytest.raises(InputError):
        _train_files(tmp_path, dataset, tmp_path / "resumed")
    assert "epoch 2 step 1" in caplog.text
    _assert_same_weights(torch.load(tmp_path / "full" / "weights.pt", weights_only=True),
                         torch.load(tmp_path / "resumed" / "weights.pt", weights_only=True))
    assert torch.are_deterministic_algorithms_enabled() is False  # untouched on the CPU


def test_train_writes_weights_history_and_the_features_of_the_trained_network(tmp_path):
    dataset = write_tiny_dataset(tmp_path)
    _train_files(tmp_path, dataset, tmp_path / "out")
    out = tmp_path / "out"
    assert not (out / "checkpoint.pt").exists()
    features = load_features(out / "features.npz", list(MODALITIES))
    assert features.train_features.shape == (2, 16, 4) and features.test_features.shape == (2, 8, 4)
    assert features.train_scans.tolist() == ["s0"] * 8 + ["s1"] * 8 and features.test_scans.tolist() == ["s2"] * 8
    assert features.test_labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    # the features are those of the written weights, patch by patch
    from crossmodal.training.encode import encode_patches
    from crossmodal.training.network import load_network

    model, record = load_network(out / "weights.pt")
    assert record["precision"] == "fp32"  # tiny_job's precision on this CPU, written with the network
    source = MappedVolumes([np.load(tmp_path / "volumes" / "s2.npy")], P, ["s2"])
    centres = np.load(tmp_path / "patches" / "s2.npz")["centres"].astype(np.int64)
    expected = encode_patches(model, source, np.zeros(8, dtype=np.int64), centres, 100, 2, 4)
    np.testing.assert_allclose(features.test_features, expected, rtol=1e-5, atol=1e-6)


def test_a_job_killed_while_encoding_resumes_from_the_final_checkpoint(tmp_path, monkeypatch, caplog):
    dataset = write_tiny_dataset(tmp_path)
    _train_files(tmp_path, dataset, tmp_path / "full")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed while encoding")

    monkeypatch.setattr(crossmodal.training.training_job, "encode_splits", killed)
    with pytest.raises(KeyboardInterrupt):
        _train_files(tmp_path, dataset, tmp_path / "killed")
    assert (tmp_path / "killed" / "checkpoint.pt").exists()
    assert not (tmp_path / "killed" / "features.npz").exists()
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="crossmodal.training.trainer"):
        _train_files(tmp_path, dataset, tmp_path / "killed")
    assert "epoch 3 step 0 (of 2 epochs" in caplog.text  # nothing left to train
    assert "epoch 1/2" not in caplog.text
    _assert_same_weights(torch.load(tmp_path / "full" / "weights.pt", weights_only=True),
                         torch.load(tmp_path / "killed" / "weights.pt", weights_only=True))
    full = load_features(tmp_path / "full" / "features.npz", list(MODALITIES))
    again = load_features(tmp_path / "killed" / "features.npz", list(MODALITIES))
    np.testing.assert_array_equal(full.test_features, again.test_features)
    assert not (tmp_path / "killed" / "checkpoint.pt").exists()


def test_train_rejects_a_patch_size_other_than_the_volumes(tmp_path):
    dataset = write_tiny_dataset(tmp_path)
    dataset["patch_size"] = 11
    with pytest.raises(InputError, match="prepared for 9\\^3 patches but the network uses 11\\^3"):
        _train_files(tmp_path, dataset, tmp_path / "out")
