"""Shared fixtures: one real run of the workflow on configs/smoke.yaml, reused by the workflow tests."""

from __future__ import annotations

import sys
import time

import pytest
import torch
import yaml
from workflow_helpers import REPO, copy_code, describe, snakemake


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke workflow run once to the end (`all`: Table I and every figure)."""
    root = tmp_path_factory.mktemp("smoke")
    code = copy_code(root / "code")
    workdir = root / "work"
    workdir.mkdir()
    start = time.monotonic()
    # targets before --configfile, which takes several values and would swallow them
    run = snakemake(code, workdir, "all", "--cores", "2", "--configfile", str(code / "configs" / "smoke.yaml"))
    seconds = time.monotonic() - start
    assert run.returncode == 0, describe(run)
    print(f"\nsmoke workflow: {seconds:.0f} s", file=sys.stderr)
    return {"code": code, "workdir": workdir, "seconds": seconds, "run": run}


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny convolutions: one thread is fastest, and steady on a busy machine.

    Used by the network, training, encoding and learning-curve tests (``pytestmark``).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def smoke_brats_raw(tmp_path_factory):
    """The scans of configs/smoke.yaml's ``smoke_brats``, synthesized once (brats2018 layout).

    Shared by the tests that break a dataset: copy it before changing anything.
    """
    from crossmodal.common.config_checks import validated_block
    from crossmodal.data.synthesize import synthesize

    block = yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text())["datasets"]["smoke_brats"]
    raw = tmp_path_factory.mktemp("smoke_brats") / "raw"
    synthesize(raw, validated_block(block["synthetic"], "synthetic"), block["layout"], block["modalities"])
    return raw
