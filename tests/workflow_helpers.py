"""Helpers for tests that run snakemake on a copy of the workflow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

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


def write_nifti(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.full((4, 4, 4), value, dtype=np.int16)
    nib.save(nib.Nifti1Image(data, np.diag([0.36, 0.36, 0.7, 1.0])), path)


# configs/paper.yaml's 5 folds need 2 subjects each (checked at dry run)
FAKE_SUBJECTS = 10


def fake_oai(root: Path) -> None:
    """A generic manifest with ten subjects x two sessions (tiny NIfTI files)."""
    lines = ["scan_id\tsubject_id\tnormal\tfatsup\tlabel"]
    for subject in (f"{9000001 + i}" for i in range(FAKE_SUBJECTS)):
        for session in ("v00", "v12"):
            scan = f"{subject}_{session}"
            for name in ("normal", "fatsup", "label"):
                write_nifti(root / "images" / f"{scan}_{name}.nii.gz", 1)
            lines.append(
                f"{scan}\t{subject}\timages/{scan}_normal.nii.gz\timages/{scan}_fatsup.nii.gz"
                f"\timages/{scan}_label.nii.gz"
            )
    (root / "manifest.tsv").write_text("\n".join(lines) + "\n")


def fake_brats2018(root: Path) -> None:
    """Ten cases in the BraTS 2018-21 layout."""
    for i in range(FAKE_SUBJECTS):
        case = f"BraTS2021_{i:05d}"
        for suffix in ("t1", "t1ce", "t2", "flair", "seg"):
            write_nifti(root / case / f"{case}_{suffix}.nii.gz", 1)


def paper_config_on_fake_data(data: Path) -> str:
    """configs/paper.yaml with its two placeholder roots replaced by fake data written under ``data``."""
    fake_oai(data / "oai")
    fake_brats2018(data / "brats")
    text = (REPO / "configs" / "paper.yaml").read_text()
    roots = {"/path/to/OAI_iMorphics": data / "oai", "/path/to/MICCAI_BraTS_Training_Data": data / "brats"}
    for placeholder, root in roots.items():
        assert placeholder in text, placeholder
        text = text.replace(placeholder, str(root))
    return text
