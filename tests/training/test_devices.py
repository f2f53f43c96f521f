"""GPU claiming with a faked device count: exclusive per-device locks among threads and processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

from crossmodal.training import devices
from crossmodal.common.errors import InputError
from crossmodal.training.devices import DeviceBusyError, claimed_device, physical_device_names

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def fake_gpus(monkeypatch, tmp_path):
    """Pretend PyTorch sees ``n`` GPUs; record set_device calls; isolate env and lock dir."""
    calls: list[int] = []

    def install(n: int) -> list[int]:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "set_device", lambda i: calls.append(int(i)))
        return calls

    for name in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID", devices.WAIT_ENV, devices.LOCKS_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(devices.LOCK_DIR_ENV, str(tmp_path / "locks"))
    return install


def test_cpu_only_machine_takes_no_lock(fake_gpus, tmp_path):
    fake_gpus(0)
    with claimed_device() as device:
        assert device == torch.device("cpu")
    assert not (tmp_path / "locks").exists()


def test_two_claims_get_different_gpus_and_a_third_fails_naming_the_holders(
    fake_gpus, tmp_path, monkeypatch
):
    calls = fake_gpus(2)
    monkeypatch.setenv(devices.WAIT_ENV, "0")  # fail at once instead of waiting
    with claimed_device() as first, claimed_device() as second:
        assert (first, second) == (torch.device("cuda:0"), torch.device("cuda:1"))
        assert calls == [0, 1]
        assert sorted(p.name for p in (tmp_path / "locks").iterdir()) == [
            "gpu-0.lock",
            "gpu-1.lock",
        ]
        with pytest.raises(DeviceBusyError) as caught:
            with claimed_device():
                pass
    message = str(caught.value)
    assert "all 2 visible GPU(s) are claimed" in message
    assert f"gpu-0.lock: pid {os.getpid()}" in message
    assert "--resources gpu=2" in message
    assert "raise CROSSMODAL_GPU_WAIT_SECONDS" in message
    assert isinstance(caught.value, InputError)


def test_released_gpu_is_claimable_again(fake_gpus):
    calls = fake_gpus(2)
    with claimed_device() as first:
        with claimed_device() as second:
            assert second == torch.device("cuda:1")
        with claimed_device() as again:  # cuda:1 was released when its block ended
            assert again == torch.device("cuda:1")
    assert first == torch.device("cuda:0")
    with claimed_device() as after_all:
        assert after_all == torch.device("cuda:0")
    assert calls == [0, 1, 1, 0]


def test_lock_is_released_when_the_block_raises(fake_gpus):
    fake_gpus(1)
    with pytest.raises(RuntimeError, match="training diverged"):
        with claimed_device():
            raise RuntimeError("training diverged")
    with claimed_device() as device:
        assert device == torch.device("cuda:0")


def test_competing_threads_each_get_their_own_gpu(fake_gpus):
    fake_gpus(3)
    barrier = threading.Barrier(3)
    got: list[str] = []
    hold = threading.Event()

    def job():
        barrier.wait()
        with claimed_device() as device:
            got.append(str(device))
            hold.wait(5)

    threads = [threading.Thread(target=job) for _ in range(3)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    hold.set()
    for t in threads:
        t.join(5)
    assert sorted(got) == ["cuda:0", "cuda:1", "cuda:2"]


def test_by_default_a_claim_waits_and_gets_the_gpu_when_it_is_released(fake_gpus, caplog):
    fake_gpus(1)
    released = threading.Event()
    got: list[torch.device] = []

    def waiter():
        with claimed_device(poll_seconds=0.02) as device:
            got.append(device)
            assert released.is_set()

    with claimed_device():
        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.2)
        assert got == []  # still waiting
        released.set()
    thread.join(5)
    assert got == [torch.device("cuda:0")]
    waits = [r.getMessage() for r in caplog.records if "waiting for one" in r.getMessage()]
    assert len(waits) == 1 and "gpu-0.lock: pid" in waits[0]


def test_wait_that_expires_raises(fake_gpus):
    fake_gpus(1)
    with claimed_device():
        start = time.monotonic()
        with pytest.raises(DeviceBusyError):
            with claimed_device(wait_seconds=0.2, poll_seconds=0.05):
                pass
        assert 0.2 <= time.monotonic() - start < 2


def test_bad_wait_setting_is_an_input_error(fake_gpus, monkeypatch):
    fake_gpus(1)
    monkeypatch.setenv(devices.WAIT_ENV, "ten minutes")
    with pytest.raises(InputError, match="CROSSMODAL_GPU_WAIT_SECONDS='ten minutes'"):
        with claimed_device():
            pass


def test_locks_are_named_after_physical_devices(fake_gpus, monkeypatch, tmp_path):
    calls = fake_gpus(2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,GPU-1a2b")
    assert physical_device_names(2) == ["3", "GPU-1a2b"]
    with claimed_device() as first, claimed_device() as second:
        assert (str(first), str(second)) == ("cuda:0", "cuda:1")
        assert sorted(p.name for p in (tmp_path / "locks").iterdir()) == [
            "gpu-3.lock",
            "gpu-GPU-1a2b.lock",
        ]
    assert calls == [0, 1]
    # another job seeing only physical GPU 3 as its cuda:0 must wait for the same lock
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert physical_device_names(1) == ["3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert physical_device_names(2) == ["0", "visible1"]


def test_slurm_job_uses_its_allocation_without_locks(fake_gpus, monkeypatch, tmp_path):
    calls = fake_gpus(1)
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    with claimed_device() as first, claimed_device() as second:
        assert first == second == torch.device("cuda:0")
    assert calls == [0, 0]
    assert not (tmp_path / "locks").exists()


def test_default_lock_dir(monkeypatch):
    monkeypatch.delenv(devices.LOCK_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert devices.gpu_lock_dir() == Path("/run/user/1000/crossmodal-gpu-locks")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert devices.gpu_lock_dir() == Path(f"/tmp/crossmodal-gpu-locks-{os.getuid()}")


def test_lock_of_a_killed_job_is_free_at_once(fake_gpus, tmp_path):
    """A training job killed with SIGKILL runs no cleanup; its lock must still be released."""
    fake_gpus(1)
    # a stand-in torch module: importing the real one takes seconds
    holder = textwrap.dedent(
        """
        import sys, time, types
        cuda = types.SimpleNamespace(
            is_available=lambda: True, device_count=lambda: 1, set_device=lambda i: None
        )
        sys.modules["torch"] = types.SimpleNamespace(cuda=cuda, device=lambda name: name)
        from crossmodal.training.devices import claimed_device
        with claimed_device() as device:
            print(device, flush=True)
            time.sleep(60)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout.readline().strip() == "cuda:0"
        with pytest.raises(DeviceBusyError, match=f"gpu-0.lock: pid {proc.pid}"):
            with claimed_device(wait_seconds=0):
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with claimed_device() as device:
            assert device == torch.device("cuda:0")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
