"""The whole workflow killed with SIGKILL in the middle of a training, then resumed.

Issue 7: start the smoke workflow, wait until a training job is running and has written its
checkpoint, kill Snakemake and all its jobs at once (SIGKILL to the process group: no cleanup
runs, as with a power cut or the OOM killer), unlock, rerun with --rerun-incomplete, and check
that the training resumed from its checkpoint, that Table I equals the one of an uninterrupted
run (fixture `smoke_run`), and that the raw input files were never modified.

To have a checkpoint on disk for most of a training (and not only between its two epochs), this
run checkpoints after every step (training.checkpoint_minutes = 0.0005): that setting is left
out of the checkpoint's settings hash and does not change the results, which is checked here
too, since the uninterrupted run checkpoints only once per epoch.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from workflow_helpers import copy_code, describe, snakemake

pytestmark = pytest.mark.workflow

TARGET = "results/table1.csv"


def checksums(root: Path) -> dict[str, str]:
    """sha256 of every file under results/*/raw (the synthetic datasets' raw scans)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.glob("results/*/raw/**/*"))
        if path.is_file()
    }


def live_group_members(pgid: int) -> list[int]:
    """PIDs of processes of group ``pgid`` that are not zombies (from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # exited meanwhile
            continue
        # fields after the command name (which may hold spaces): state ppid pgrp ...
        state, _ppid, pgrp = text.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def start_and_kill_at_checkpoint(command: list[str], log: Path, timeout: float = 900) -> list[Path]:
    """Run ``command`` in its own process group; SIGKILL the group as soon as a training has
    written a checkpoint. Returns the checkpoints on disk after the kill."""
    workdir = Path(command[command.index("--directory") + 1])
    with open(log, "w") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if any(workdir.glob("results/*/models/*/fold*/checkpoint.pt")):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        else:
            raise AssertionError(
                f"no checkpoint appeared (exit {proc.poll()}):\n{log.read_text()[-4000:]}"
            )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(60)
    # nothing of the killed run may still be running (killed jobs may linger as zombies until
    # their new parent reaps them: those write nothing)
    gone_by = time.monotonic() + 30
    while live_group_members(proc.pid) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not live_group_members(proc.pid), "processes outlived SIGKILL by 30 s"
    return sorted(workdir.glob("results/*/models/*/fold*/checkpoint.pt"))


def test_killed_workflow_resumes_training_and_gives_the_same_table(smoke_run, tmp_path):
    code = copy_code(tmp_path / "code")
    config = yaml.safe_load((code / "configs" / "smoke.yaml").read_text())
    for dataset in config["datasets"].values():
        dataset.setdefault("training", {})["checkpoint_minutes"] = 0.0005
    config_file = tmp_path / "smoke_checkpoint_every_step.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))  # keep the datasets order
    workdir = tmp_path / "work"
    workdir.mkdir()
    # `--configfile=`: a bare --configfile would take the target for a second config file
    args = ["--cores", "2", f"--configfile={config_file}", TARGET]
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(code / "Snakefile"),
        "--directory", str(workdir),
        *args,
    ]  # fmt: skip

    start = time.monotonic()
    # a training that finished in the milliseconds between the check and the kill leaves no
    # checkpoint; then run again (as a user would) until one is killed mid-training
    for attempt in range(3):
        killed = start_and_kill_at_checkpoint(
            command + ["--rerun-incomplete"], tmp_path / f"killed{attempt}.log"
        )
        if killed:
            break
        assert snakemake(code, workdir, "--unlock", *args).returncode == 0
    assert killed, "three runs were all killed between a checkpoint's removal and the next"
    raw_before = checksums(workdir)
    assert raw_before, "the raw inputs were not written before the first training"
    for checkpoint in killed:  # results/{ds}/models/{model}/fold{k}/checkpoint.pt: an unfinished job
        ds, model, fold = checkpoint.parts[-4], checkpoint.parts[-2], checkpoint.parent.name
        assert not (workdir / "results" / ds / "features" / model / f"{fold}.npz").exists()

    # the lock of the killed run stays: Snakemake asks for --unlock, as it would a user
    unlock = snakemake(code, workdir, "--unlock", *args)
    assert unlock.returncode == 0, describe(unlock)
    resumed = snakemake(code, workdir, "--rerun-incomplete", *args)
    seconds = time.monotonic() - start
    print(f"\nkill-and-resume run: {seconds:.0f} s, killed with {len(killed)} checkpoint(s)", file=sys.stderr)
    assert resumed.returncode == 0, describe(resumed)

    for checkpoint in killed:
        folder = checkpoint.parent  # results/{ds}/models/{model}/fold{k}
        ds, model, fold = folder.parts[-4], folder.parts[-2], folder.name
        train_log = (workdir / "logs" / ds / "train" / model / f"{fold}.log").read_text()
        assert "resuming from checkpoint" in train_log, train_log
        assert (folder / "weights.pt").exists() and not checkpoint.exists()
    assert not list(workdir.glob("results/*/models/*/fold*/checkpoint.pt"))

    assert checksums(workdir) == raw_before
    expected = (smoke_run["workdir"] / TARGET).read_bytes()
    assert (workdir / TARGET).read_bytes() == expected
