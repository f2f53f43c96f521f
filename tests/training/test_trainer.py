"""The training loop: schedule, sample order, outputs, determinism, kill-and-resume, stopping."""

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_training import TrainingStopped, stopping_after

from crossmodal.common.errors import InputError
from crossmodal.data.gather.mapped_volumes import MappedVolumes
from crossmodal.data.gather.volume_stack import VolumeStack
from crossmodal.data.patch_sets import PatchSet
from crossmodal.training.precision import Compute
from crossmodal.training.train import write_training_outputs
from crossmodal.training.settings import TrainSettings
from crossmodal.training.trainer import HISTORY_COLUMNS, Checkpoints, Trainer

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
    checkpoints = Checkpoints(directory / "checkpoint.pt", 5.0)
    trainer_class = Trainer if stop is None else stopping_after(stop)
    model, history = trainer_class(settings, train_set, source, compute, checkpoints).run()
    write_training_outputs(model, history, settings, directory / "weights.pt", directory / "history.tsv")
    (directory / "checkpoint.pt").unlink()  # what rule train does once the features are written
    return torch.load(directory / "weights.pt", weights_only=True), pd.read_csv(directory / "history.tsv", sep="\t")


def _assert_same_weights(a, b):
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for name, tensor in a["state_dict"].items():
        assert torch.equal(tensor, b["state_dict"][name]), name


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
    with caplog.at_level(logging.INFO, logger="crossmodal.training.trainer"):
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


def test_a_stop_condition_ends_the_run_where_a_shorter_run_ends(tmp_path):
    class StopAfterThree(Trainer):
        def should_stop(self):
            return self.progress.global_step == 3

    scan_index, centres = _patches()
    train_set = PatchSet(list(SCANS), scan_index, centres, np.zeros(24, dtype=np.int64))
    source = VolumeStack(_volumes(), P, "cpu", SCANS)
    compute = Compute.for_device("cpu", "fp32")
    stopped, stopped_history = StopAfterThree(_settings(), train_set, source, compute).run()
    one_epoch = dataclasses.replace(_settings(), epochs=1)  # 3 updates per epoch
    full, full_history = Trainer(one_epoch, train_set, source, compute).run()
    assert not stopped.training and stopped_history == []  # no history row: epoch 1 never ended
    assert len(full_history) == 1
    for (name, a), b in zip(stopped.state_dict().items(), full.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_method_switch_trains_another_network_and_the_defaults_change_nothing(tmp_path):
    from crossmodal.training.method import MethodSettings

    base = _settings(model_id="axial-md1-pfn0-a0.0")
    weights, _ = _run(tmp_path / "plain", base)
    explicit, _ = _run(tmp_path / "explicit", dataclasses.replace(base, method=MethodSettings.from_config({})))
    _assert_same_weights(weights, explicit)
    assert "method" not in weights
    for method in [MethodSettings(dropout_mode="per_batch"), MethodSettings(bn_momentum=0.01),
                   MethodSettings(global_norm="none")]:  # fmt: skip
        other, _ = _run(tmp_path / method.dropout_mode / str(method.bn_momentum), dataclasses.replace(base, method=method))
        assert other["method"] == dataclasses.asdict(method)
        changed = [k for k, v in weights["state_dict"].items() if not torch.equal(v, other["state_dict"][k])]
        assert changed, method


def test_training_updates_sets_the_number_of_epochs(tmp_path):
    # 24 patches, batch 8: 3 updates per epoch -> 7 updates take 3 epochs
    _, history = _run(tmp_path / "updates", dataclasses.replace(_settings(), updates=7))
    assert history["epoch"].tolist() == [1, 2, 3]
