"""Training loop: schedule, sample order, outputs, determinism, kill-and-resume."""

import logging

import numpy as np
import pandas as pd
import pytest
import torch

import crossmodal.train
from crossmodal.errors import InputError
from crossmodal.features import load_features
from crossmodal.gather import MappedVolumes, VolumeStack
from crossmodal.model_ids import parse_model_id
from crossmodal.patch_sets import PatchSet
from crossmodal.precision import Compute
from crossmodal.train import (
    HISTORY_COLUMNS,
    TrainingStopped,
    TrainSettings,
    batch_bounds,
    deterministic_algorithms,
    epoch_permutation,
    fit,
    learning_rate_at,
    train,
    training_samples,
    write_training_outputs,
)

MODALITIES = ("t1", "t2")
P = 9
SCANS = ["a", "b"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _volumes(nan_channel=None):
    rng = np.random.default_rng(0)
    volumes = [rng.standard_normal((2, 12, 12, 11)).astype(np.float32) for _ in SCANS]
    if nan_channel is not None:
        for v in volumes:
            v[nan_channel] = np.nan
    return volumes


def _patches(n=24):
    rng = np.random.default_rng(1)
    return rng.integers(0, 2, n), rng.integers(4, 7, (n, 3))  # centres 4..6 fit 9^3 patches


def _settings(model_id="axial-md1-pfn1-a0.1", seed=1, learning_rate=0.3, precision="fp32"):
    return TrainSettings(model_id=model_id, modalities=MODALITIES, patch_size=P, widths=(2, 2, 2),
                         features=4, epochs=2, batch_size=8, learning_rate=learning_rate,
                         lr_decay=2e-6, precision=precision, seed=seed)


def _run(directory, settings, stop=None, volumes=None, n=24, source_cls=VolumeStack):
    scan_index, centres = _patches(n)
    volumes = volumes if volumes is not None else _volumes()
    source = VolumeStack(volumes, P, "cpu", SCANS) if source_cls is VolumeStack else MappedVolumes(volumes, P, SCANS)
    train_set = PatchSet(list(SCANS), scan_index, centres, np.zeros(n, dtype=np.int64))
    compute = Compute.for_device("cpu", settings.precision)
    directory.mkdir(parents=True, exist_ok=True)
    model, history = fit(source, train_set, settings, compute, directory / "checkpoint.pt", stop_after_steps=stop)
    write_training_outputs(model, history, settings, directory / "weights.pt", directory / "history.tsv")
    (directory / "checkpoint.pt").unlink()  # what rule train does once the features are written
    return torch.load(directory / "weights.pt", weights_only=True), pd.read_csv(directory / "history.tsv", sep="\t")


def _assert_same_weights(a, b):
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for name, tensor in a["state_dict"].items():
        assert torch.equal(tensor, b["state_dict"][name]), name


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


def test_outputs_follow_the_contract(tmp_path):
    weights, history = _run(tmp_path, _settings())
    assert set(weights) == {"state_dict", "model_id", "n_modalities", "widths", "features", "patch_size"}
    assert (weights["model_id"], weights["n_modalities"], weights["widths"], weights["features"],
            weights["patch_size"]) == ("axial-md1-pfn1-a0.1", 2, [2, 2, 2], 4, 9)
    assert list(history.columns) == HISTORY_COLUMNS
    assert history["epoch"].tolist() == [1, 2]
    # 24 samples, batch 8: 3 updates per epoch; lr of the last update of each epoch
    assert history["lr"].tolist() == [0.3 / (1 + 2e-6 * 2), 0.3 / (1 + 2e-6 * 5)]
    expected_total = 0.9 * history["recon_loss"] + 0.1 * history["sim_loss"]
    np.testing.assert_allclose(history["loss"], expected_total, rtol=1e-6)
    assert (history["seconds"] > 0).all() and (history["patches_per_s"] > 0).all()
    assert not (tmp_path / "checkpoint.pt").exists()


def test_same_seed_same_weights_other_seed_different(tmp_path):
    a, history_a = _run(tmp_path / "a", _settings(seed=1))
    b, history_b = _run(tmp_path / "b", _settings(seed=1))
    c, _ = _run(tmp_path / "c", _settings(seed=2))
    _assert_same_weights(a, b)
    assert history_a["loss"].tolist() == history_b["loss"].tolist()
    assert not torch.equal(a["state_dict"]["encoders.0.layers.0.weight"], c["state_dict"]["encoders.0.layers.0.weight"])


@pytest.mark.parametrize("stop, where", [(4, "epoch 2 step 1"), (3, "epoch 1 step 3"), (1, "epoch 1 step 1")])
def test_kill_and_resume_equals_uninterrupted(tmp_path, caplog, stop, where):
    full, full_history = _run(tmp_path / "full", _settings())
    with pytest.raises(TrainingStopped):
        _run(tmp_path / "resumed", _settings(), stop=stop)
    assert (tmp_path / "resumed" / "checkpoint.pt").exists()
    assert not (tmp_path / "resumed" / "weights.pt").exists()
    torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)
    with caplog.at_level(logging.INFO, logger="crossmodal.train"):
        resumed, resumed_history = _run(tmp_path / "resumed", _settings())
    assert f"resuming from checkpoint {tmp_path / 'resumed' / 'checkpoint.pt'}: {where}" in caplog.text
    _assert_same_weights(full, resumed)
    columns = ["epoch", "loss", "recon_loss", "sim_loss", "lr"]
    assert resumed_history[columns].to_dict() == full_history[columns].to_dict()
    assert not (tmp_path / "resumed" / "checkpoint.pt").exists()


def test_checkpoint_of_other_settings_is_ignored(tmp_path, caplog):
    with pytest.raises(TrainingStopped):
        _run(tmp_path / "run", _settings(learning_rate=0.3), stop=2)
    with caplog.at_level(logging.INFO):
        changed, _ = _run(tmp_path / "run", _settings(learning_rate=0.1))
    assert "ignoring checkpoint" in caplog.text and "resuming" not in caplog.text
    fresh, _ = _run(tmp_path / "fresh", _settings(learning_rate=0.1))
    _assert_same_weights(changed, fresh)


def test_baselines_train_on_their_modalities_only(tmp_path):
    volumes = _volumes(nan_channel=1)  # t2 unusable: any use of it makes the loss NaN
    weights, history = _run(tmp_path / "t1", _settings("baseline-t1"), volumes=volumes)
    assert np.isfinite(history["loss"]).all()
    assert weights["n_modalities"] == 1 and "encoder.layers.0.weight" in weights["state_dict"]
    with pytest.raises(InputError, match="baseline-t2: the loss is nan in epoch 1"):
        _run(tmp_path / "t2", _settings("baseline-t2"), volumes=volumes)
    with pytest.raises(InputError, match="baseline-all: the loss is nan in epoch 1"):
        _run(tmp_path / "all", _settings("baseline-all"), volumes=volumes)


def test_too_few_samples_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="1 training sample"):
        _run(tmp_path, _settings(), n=1)


def write_tiny_dataset(root, nan_scans=()):
    """Three scans (subjects s0-s2) in the documented volumes/, patches/ and folds.tsv formats."""
    rng = np.random.default_rng(2)
    volumes, patches = root / "volumes", root / "patches"
    volumes.mkdir(parents=True)
    patches.mkdir()
    rows, folds = [], []
    for i, scan in enumerate(["s0", "s1", "s2"]):
        volume = rng.standard_normal((2, 11, 12, 10)).astype(np.float32)
        if scan in nan_scans:
            volume[:] = np.nan
        np.save(volumes / f"{scan}.npy", volume)
        np.savez(patches / f"{scan}.npz", centres=rng.integers(4, 6, (8, 3)).astype(np.int16),
                 labels=np.repeat(np.arange(2, dtype=np.uint8), 4))
        rows.append({"scan_id": scan, "subject_id": f"p{i}", "origin_x": 0, "origin_y": 0, "origin_z": 0,
                     "shape_x": 11, "shape_y": 12, "shape_z": 10, "patch_size": P, "mask_voxels": 100,
                     "mean_t1": 0.0, "sd_t1": 1.0, "mean_t2": 0.0, "sd_t2": 1.0})
        folds.append({"scan_id": scan, "subject_id": f"p{i}", "fold": int(i == 2), "half": 0})
    pd.DataFrame(rows).to_csv(volumes / "index.tsv", sep="\t", index=False)
    pd.DataFrame(folds).to_csv(root / "folds.tsv", sep="\t", index=False)
    return {"modalities": list(MODALITIES), "patch_size": P, "seed": 0,
            "network": {"widths": [2, 2, 2], "features": 4},
            "training": {"epochs": 2, "batch_size": 6, "learning_rate": 0.3, "lr_decay": 2e-6,
                         "precision": "fp32"}}


def _train_files(root, dataset, out, stop=None, model_id="axial-md1-pfn0-a0.2", fold=1, precision=None):
    training = dict(dataset["training"], **({"precision": precision} if precision else {}))
    train(root / "volumes", root / "patches", root / "folds.tsv", fold, model_id,
          modalities=dataset["modalities"], patch_size=dataset["patch_size"], network=dataset["network"],
          training=training, dataset_name="tiny", dataset_seed=dataset["seed"],
          weights_path=out / "weights.pt", history_path=out / "history.tsv",
          features_path=out / "features.npz", checkpoint_path=out / "checkpoint.pt",
          encode_batch_size=5, threads=1, stop_after_steps=stop)


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
    with caplog.at_level(logging.INFO, logger="crossmodal.train"), pytest.raises(InputError):
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
    from crossmodal.encode import encode_patches
    from crossmodal.network import load_network

    model, _ = load_network(out / "weights.pt")
    source = MappedVolumes([np.load(tmp_path / "volumes" / "s2.npy")], P, ["s2"])
    centres = np.load(tmp_path / "patches" / "s2.npz")["centres"].astype(np.int64)
    expected = encode_patches(model, source, np.zeros(8, dtype=np.int64), centres, 100, 2, 4)
    np.testing.assert_allclose(features.test_features, expected, rtol=1e-5, atol=1e-6)


def test_a_job_killed_while_encoding_resumes_from_the_final_checkpoint(tmp_path, monkeypatch, caplog):
    dataset = write_tiny_dataset(tmp_path)
    _train_files(tmp_path, dataset, tmp_path / "full")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed while encoding")

    monkeypatch.setattr(crossmodal.train, "encode_splits", killed)
    with pytest.raises(KeyboardInterrupt):
        _train_files(tmp_path, dataset, tmp_path / "killed")
    assert (tmp_path / "killed" / "checkpoint.pt").exists()
    assert not (tmp_path / "killed" / "features.npz").exists()
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="crossmodal.train"):
        _train_files(tmp_path, dataset, tmp_path / "killed")
    assert "epoch 3 step 0 (of 2 epochs" in caplog.text  # nothing left to train
    assert "epoch 1/2" not in caplog.text
    _assert_same_weights(torch.load(tmp_path / "full" / "weights.pt", weights_only=True),
                         torch.load(tmp_path / "killed" / "weights.pt", weights_only=True))
    full = load_features(tmp_path / "full" / "features.npz", list(MODALITIES))
    again = load_features(tmp_path / "killed" / "features.npz", list(MODALITIES))
    np.testing.assert_array_equal(full.test_features, again.test_features)
    assert not (tmp_path / "killed" / "checkpoint.pt").exists()


@pytest.mark.parametrize("precision", ["auto", "fp32", "bf16"])
def test_kill_and_resume_is_bit_identical_in_every_precision(tmp_path, precision):
    """``auto`` is the default: fp32 on this CPU unless it computes bf16 natively."""
    full, _ = _run(tmp_path / "full", _settings(precision=precision), source_cls=MappedVolumes)
    with pytest.raises(TrainingStopped):
        _run(tmp_path / "resumed", _settings(precision=precision), stop=4, source_cls=MappedVolumes)
    resumed, _ = _run(tmp_path / "resumed", _settings(precision=precision), source_cls=MappedVolumes)
    _assert_same_weights(full, resumed)


def test_bf16_and_fp32_train_different_networks_and_ignore_each_others_checkpoints(tmp_path, caplog):
    fp32, history32 = _run(tmp_path / "fp32", _settings(precision="fp32"))
    bf16, history16 = _run(tmp_path / "bf16", _settings(precision="bf16"))
    assert not torch.equal(fp32["state_dict"]["encoders.0.layers.0.weight"], bf16["state_dict"]["encoders.0.layers.0.weight"])
    np.testing.assert_allclose(history16["loss"], history32["loss"], rtol=0.05)  # same run, coarser arithmetic
    with pytest.raises(TrainingStopped):
        _run(tmp_path / "switch", _settings(precision="bf16"), stop=2)
    with caplog.at_level(logging.INFO):
        switched, _ = _run(tmp_path / "switch", _settings(precision="fp32"))
    assert "ignoring checkpoint" in caplog.text
    _assert_same_weights(switched, fp32)


def test_memory_mapped_and_stacked_volumes_train_the_same_network(tmp_path):
    stacked, _ = _run(tmp_path / "stack", _settings(), source_cls=VolumeStack)
    mapped, _ = _run(tmp_path / "mapped", _settings(), source_cls=MappedVolumes)
    _assert_same_weights(stacked, mapped)


def test_train_rejects_a_patch_size_other_than_the_volumes(tmp_path):
    dataset = write_tiny_dataset(tmp_path)
    dataset["patch_size"] = 11
    with pytest.raises(InputError, match="prepared for 9\\^3 patches but the network uses 11\\^3"):
        _train_files(tmp_path, dataset, tmp_path / "out")


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
