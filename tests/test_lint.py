"""The workflow passes Snakemake's linter and snakefmt's formatting check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workflow_helpers import copy_code, describe

REPO = Path(__file__).resolve().parents[1]


def test_snakemake_lint_reports_nothing(tmp_path):
    # on a copy: the linter must not leave a .snakemake folder in the checkout
    # (the lints are about the rules' code, the same for every config: the default one is used)
    code = copy_code(tmp_path / "code")
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"],
        cwd=code,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and "Lints for" not in run.stdout + run.stderr, (
        "snakemake --lint: " + describe(run)
    )


def test_snakefmt_check_passes():
    snakefmt = shutil.which("snakefmt")
    if snakefmt is None:
        pytest.skip("snakefmt is not installed (pip install -e '.[test]')")
    run = subprocess.run(
        [snakefmt, "--check", "--diff", "."], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, "snakefmt --check . (run `snakefmt .` to fix):\n" + describe(run)
