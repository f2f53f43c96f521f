"""Helpers for tests that run snakemake on a copy of the workflow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE_ITEMS = ["Snakefile", "config.yaml", "configs", "workflow", "src", "envs", "profiles"]


def copy_code(dest: Path) -> Path:
    """Copy the workflow and library (not results) to ``dest``; tests may edit the copy."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in CODE_ITEMS:
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, dest / item, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, dest / item)
    return dest


def snakemake(code: Path, workdir: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run snakemake on the copied ``code`` in ``workdir``; output is kept for the assertion message."""
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(code / "Snakefile"),
        "--directory", str(workdir),
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def describe(run: subprocess.CompletedProcess) -> str:
    return f"exit {run.returncode}\n--- stdout\n{run.stdout[-6000:]}\n--- stderr\n{run.stderr[-6000:]}"


