"""Choosing the compute device for training and encoding, one GPU per job on a workstation.

On a workstation, ``snakemake --profile profiles/local --resources gpu=N`` lets Snakemake run N
GPU jobs at once; Snakemake counts the jobs but does not say *which* GPU each one gets. A job
therefore claims a free device itself: it takes an exclusive lock on one lock file per device
in a lock directory and keeps it for as long as it computes. The lock belongs to the open file,
so it disappears with the process, also when the process is killed (SIGKILL, out of memory):
no stale lock can survive its job.

Rules, in the order they apply:

- No CUDA device visible (``torch.cuda.is_available()`` is false, e.g. a CPU-only machine or
  ``CUDA_VISIBLE_DEVICES=""``): the CPU, no lock.
- Inside a SLURM job (``SLURM_JOB_ID`` is set): the scheduler already gave the job its GPUs
  exclusively and made only them visible, so the job takes ``cuda:0`` without a lock (with
  device cgroups every job on a node sees its GPU as index 0; a shared lock name would make two
  jobs on different GPUs wait for each other).
- ``CROSSMODAL_GPU_LOCKS=0``: no locks, ``cuda:0`` (for a user who assigns GPUs by hand with
  ``CUDA_VISIBLE_DEVICES``).
- Otherwise the first visible device whose lock is free. Lock files are named after the
  *physical* device (the entry of ``CUDA_VISIBLE_DEVICES`` when it is set, else the index), so
  jobs started with different ``CUDA_VISIBLE_DEVICES`` still coordinate.
- All visible devices taken: wait for one to be released (the log says so and names the
  holders), at most ``CROSSMODAL_GPU_WAIT_SECONDS`` (default: no limit), then raise
  :class:`DeviceBusyError`. Within one Snakemake run started with ``--resources gpu=N`` (N at
  most the number of GPUs) this never happens; it happens when Snakemake runs more GPU jobs
  than there are GPUs (no ``--resources gpu=N``, or N too large) or when another run uses the
  same GPUs. Waiting makes those jobs take turns instead of failing; set the variable to 0 to
  fail at once instead.

The lock directory is ``CROSSMODAL_GPU_LOCK_DIR`` if set, else
``$XDG_RUNTIME_DIR/crossmodal-gpu-locks``, else ``/tmp/crossmodal-gpu-locks-<uid>``. Users who
share GPUs point ``CROSSMODAL_GPU_LOCK_DIR`` at one directory all of them can write to.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import time
from pathlib import Path
from typing import Iterator

import torch

from crossmodal.common.errors import InputError

LOCK_DIR_ENV = "CROSSMODAL_GPU_LOCK_DIR"
WAIT_ENV = "CROSSMODAL_GPU_WAIT_SECONDS"
LOCKS_ENV = "CROSSMODAL_GPU_LOCKS"

log = logging.getLogger(__name__)


class DeviceBusyError(InputError):
    """Every visible GPU is claimed by another job (too many GPU jobs for the GPUs there are)."""


def gpu_lock_dir() -> Path:
    """The directory holding one lock file per GPU (see the module docstring for the order).

    Returns:
        The lock directory (not created here).
    """
    if os.environ.get(LOCK_DIR_ENV):
        return Path(os.environ[LOCK_DIR_ENV])
    if os.environ.get("XDG_RUNTIME_DIR"):
        return Path(os.environ["XDG_RUNTIME_DIR"]) / "crossmodal-gpu-locks"
    return Path(f"/tmp/crossmodal-gpu-locks-{os.getuid()}")


def physical_device_names(n_devices: int) -> list[str]:
    """Names of the visible CUDA devices 0..n_devices-1 as the machine knows them.

    Args:
        n_devices: number of devices PyTorch sees (``torch.cuda.device_count()``).

    Returns:
        One name per visible index, usable in a file name: the ``CUDA_VISIBLE_DEVICES`` entry
        (a physical index such as ``"2"`` or a ``GPU-<uuid>``/``MIG-<uuid>``) when that variable
        is set, else the index itself.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        names = [str(i) for i in range(n_devices)]
    else:
        names = [entry.strip() for entry in visible.split(",") if entry.strip()][:n_devices]
        if len(names) < n_devices:  # CUDA counted more than the list says: keep indices unique
            names += [f"visible{i}" for i in range(len(names), n_devices)]
    return [re.sub(r"[^A-Za-z0-9_.-]", "_", name) for name in names]


def _try_lock(path: Path) -> int | None:
    """Open ``path`` and take an exclusive, non-blocking lock on it.

    ``fcntl.flock`` rather than ``fcntl.lockf``: POSIX record locks belong to the process (a
    second claim in the same process would succeed, and closing any descriptor of the file drops
    them), while flock locks belong to the open file, so threads and processes exclude each
    other alike and the lock goes away when its holder exits or is killed.

    Returns:
        The open descriptor holding the lock, or None when another holder has it.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:  # a lock file another user created in a shared directory
        fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(fd)
        if error.errno in (errno.EWOULDBLOCK, errno.EACCES):
            return None
        raise
    with contextlib.suppress(OSError):  # best effort: who holds it, for error messages
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {os.uname().nodename}\n".encode(), 0)
    return fd


def _holders(paths: list[Path]) -> str:
    parts = []
    for path in paths:
        try:
            holder = path.read_text().strip() or "unknown"
        except OSError:
            holder = "unknown"
        parts.append(f"{path.name}: pid {holder}")
    return "; ".join(parts)


@contextlib.contextmanager
def claimed_device(
    lock_dir: str | Path | None = None,
    wait_seconds: float | None = None,
    poll_seconds: float = 0.5,
) -> Iterator[torch.device]:
    """Claim a compute device for the duration of the block, exclusively among jobs.

    Usage: ``with claimed_device() as device: model.to(device)``. See the module docstring for
    which device is chosen and when locks are taken.

    Args:
        lock_dir: directory of the lock files; default :func:`gpu_lock_dir`.
        wait_seconds: how long to wait for a GPU to become free when all are claimed; default
            the ``CROSSMODAL_GPU_WAIT_SECONDS`` environment variable, else no limit.
        poll_seconds: interval between attempts while waiting.

    Yields:
        ``torch.device("cpu")`` or ``torch.device("cuda:i")``; for CUDA,
        ``torch.cuda.set_device(i)`` has been called.

    Raises:
        DeviceBusyError: every visible GPU stayed claimed for ``wait_seconds``.
        InputError: ``CROSSMODAL_GPU_WAIT_SECONDS`` is not a number.
    """
    if not torch.cuda.is_available():
        yield torch.device("cpu")
        return
    n_devices = torch.cuda.device_count()
    if "SLURM_JOB_ID" in os.environ or os.environ.get(LOCKS_ENV) == "0":
        torch.cuda.set_device(0)
        log.info("using cuda:0 without a lock (SLURM allocation or %s=0)", LOCKS_ENV)
        yield torch.device("cuda:0")
        return

    if wait_seconds is None:
        text = os.environ.get(WAIT_ENV, "inf")
        try:
            wait_seconds = float(text)
        except ValueError:
            raise InputError(
                f"environment variable {WAIT_ENV}={text!r} is not a number of seconds; "
                "set it to 0 to fail at once when every GPU is claimed, or unset it to wait"
            ) from None
    directory = Path(lock_dir) if lock_dir is not None else gpu_lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / f"gpu-{name}.lock" for name in physical_device_names(n_devices)]

    deadline = time.monotonic() + wait_seconds
    waiting = False
    while True:
        for index, path in enumerate(paths):
            fd = _try_lock(path)
            if fd is None:
                continue
            try:
                torch.cuda.set_device(index)
                log.info("claimed cuda:%d (lock %s)", index, path)
                yield torch.device(f"cuda:{index}")
            finally:
                os.close(fd)  # releases the lock
            return
        busy = (
            f"all {n_devices} visible GPU(s) are claimed by other jobs ({_holders(paths)}; "
            f"lock directory {directory})"
        )
        if time.monotonic() >= deadline:
            raise DeviceBusyError(
                f"{busy}. Run at most as many GPU jobs as there are GPUs "
                f"(snakemake --resources gpu={n_devices}), or raise {WAIT_ENV} to wait longer"
            )
        if not waiting:
            log.warning("%s; waiting for one to be released", busy)
            waiting = True
        time.sleep(poll_seconds)
