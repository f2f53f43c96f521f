"""Checkpoint save/load, settings hash and random-generator states."""

import logging

import numpy as np
import torch

from crossmodal.training.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint, settings_hash


def test_settings_hash_is_order_independent_and_sensitive():
    a = settings_hash({"lr": 0.3, "epochs": 2, "widths": [2, 3, 4]})
    assert a == settings_hash({"widths": [2, 3, 4], "epochs": 2, "lr": 0.3})
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != settings_hash({"lr": 0.3, "epochs": 3, "widths": [2, 3, 4]})
    assert settings_hash({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_round_trip_with_weights_only(tmp_path):
    path = tmp_path / "checkpoint.pt"
    rng = np.random.default_rng(3)
    rng.random(5)
    payload = {"model": {"w": torch.arange(4.0)}, "epoch": 2, "step": 7, "history": [{"loss": 0.5}],
               "rng": capture_rng(rng)}
    save_checkpoint(path, payload, "abc")
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary left over
    record = torch.load(path, weights_only=True)  # primitives and tensors only
    assert record["format"] == 1 and record["settings_hash"] == "abc"
    loaded = load_checkpoint(path, "abc")
    assert loaded["epoch"] == 2 and loaded["step"] == 7 and loaded["history"] == [{"loss": 0.5}]
    assert torch.equal(loaded["model"]["w"], torch.arange(4.0))


def test_missing_mismatching_or_broken_checkpoints_are_ignored(tmp_path, caplog):
    path = tmp_path / "checkpoint.pt"
    assert load_checkpoint(path, "abc") is None
    save_checkpoint(path, {"epoch": 1}, "abc")
    with caplog.at_level(logging.INFO):
        assert load_checkpoint(path, "other") is None
    assert "ignoring checkpoint" in caplog.text and "other settings" in caplog.text
    path.write_bytes(b"not a checkpoint")
    assert load_checkpoint(path, "abc") is None
    assert "unreadable" in caplog.text


def test_rng_states_restore_exactly(tmp_path):
    rng = np.random.default_rng(11)
    rng.integers(0, 10, 3)
    torch.manual_seed(4)
    save_checkpoint(tmp_path / "c.pt", {"rng": capture_rng(rng)}, "h")
    expected_np, expected_torch = rng.integers(0, 1000, 5), torch.rand(3)
    fresh = np.random.default_rng(999)
    restore_rng(load_checkpoint(tmp_path / "c.pt", "h")["rng"], fresh)
    assert fresh.integers(0, 1000, 5).tolist() == expected_np.tolist()
    assert torch.equal(torch.rand(3), expected_torch)
