"""Every bad input is stopped at the earliest stage, in a few console lines naming the cause.

Each test breaks a copy of the smoke data (the ``smoke_brats`` scans of configs/smoke.yaml, as a
real dataset in the brats2018, brats2015 or msd layout) and runs Snakemake on it: a dry run where
the cause is known before any job, else the run that would ingest and normalize it. It asserts
the exit status, the stage that stops, that the first error line names the culprit, and that
the error takes at most 12 console lines (from its first line to Snakemake's report of the
failed job, which ends with the job's log; Snakemake then prints the same 6 closing lines after
any failed job).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from workflow_helpers import REPO

DS = "smoke_brats"
TARGETS = [f"results/{DS}/volumes", f"results/{DS}/folds.tsv"]
MAX_LINES = 12
SUFFIXES = {"t1": "t1", "t1c": "t1ce", "t2": "t2", "flair": "flair"}


def real_dataset(tmp_path: Path, root: str | Path, **changes) -> Path:
    """configs/smoke.yaml with ``smoke_brats`` as a real dataset at ``root`` (and ``changes``)."""
    cfg = yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text())
    block = cfg["datasets"][DS]
    del block["synthetic"]
    block.update(root=str(root), **changes)
    cfg["datasets"] = {DS: block}
    cfg["sweeps"]["specificity"]["datasets"] = []  # the sweep needs a synthetic dataset
    cfg.pop("ablation", None)  # the smoke ablation names smoke_knee, which this config lacks
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def snakemake(tmp_path: Path, config: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Snakemake on ``config`` in ``tmp_path/work``; stdout and stderr interleaved as shown."""
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    command = [
        *prefix, sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), *TARGETS, "--configfile", str(config), *args,
    ]  # fmt: skip
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)


def dry_run(tmp_path: Path, config: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return snakemake(tmp_path, config, "-n", prefix=prefix)


def full_run(tmp_path: Path, config: Path) -> subprocess.CompletedProcess:
    return snakemake(tmp_path, config, "--cores", "1")


def error_report(run: subprocess.CompletedProcess) -> list[str]:
    """The console lines of the error: from its first line to the failed job's log line."""
    lines = run.stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("InputError: ")]
    assert starts, run.stdout
    before = lines[: starts[0]]
    assert not [line for line in before if re.search(r"error|exception|traceback", line, re.IGNORECASE)], run.stdout
    report = lines[starts[0] :]
    ends = [i for i, line in enumerate(report) if line.endswith("(check log file(s) for error details)")]
    return report[: ends[0] + 1] if ends else report


def assert_stopped_at_dry_run(run: subprocess.CompletedProcess, *culprits: str) -> list[str]:
    assert run.returncode == 1, run.stdout
    report = error_report(run)
    assert all(c in report[0] for c in culprits), (culprits, run.stdout)
    assert len(report) <= MAX_LINES, run.stdout
    assert "Job stats" not in run.stdout and "Traceback" not in run.stdout
    return report


def assert_stopped_at_ingest(run: subprocess.CompletedProcess, tmp_path: Path, root: Path, *culprits: str) -> list[str]:
    """Ingest failed with the culprits named; nothing written; no raw file listed after the message."""
    assert run.returncode == 1, run.stdout
    report = error_report(run)
    assert all(c in report[0] for c in culprits), (culprits, run.stdout)
    assert report[1] == f"(details in logs/{DS}/ingest.log)"
    assert "Error in rule ingest:" in report and "Traceback" not in run.stdout, run.stdout
    assert not [line for line in report[1:] if str(root) in line], run.stdout  # the job lists no raw file
    assert len(report) <= MAX_LINES, run.stdout
    assert not (tmp_path / "work" / "results" / DS / "manifest.tsv").exists()
    assert "rule normalize:" not in run.stdout
    assert "Traceback (most recent call last)" in (tmp_path / "work" / "logs" / DS / "ingest.log").read_text()
    return report


def copy_brats2018(smoke_brats_raw: Path, root: Path) -> Path:
    shutil.copytree(smoke_brats_raw, root, ignore=shutil.ignore_patterns(".*"))
    return root


def cases(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def case_file(root: Path, case: str, suffix: str) -> Path:
    return root / case / f"{case}_{suffix}.nii.gz"


def write_brats2015(smoke_brats_raw: Path, root: Path) -> None:
    """The smoke scans in the BRATS 2015 layout (uncompressed MetaImage, as SimpleITK writes it)."""
    sequences = {"flair": "Flair", "t1": "T1", "t1c": "T1c", "t2": "T2"}
    for n, case in enumerate(cases(smoke_brats_raw)):
        files = {f"MR_{s}": case_file(smoke_brats_raw, case, SUFFIXES[m]) for m, s in sequences.items()}
        files["OT"] = case_file(smoke_brats_raw, case, "seg")
        for i, (kind, source) in enumerate(files.items()):
            image = nib.load(source)
            name = f"VSD.Brain{'_3more' if kind == 'OT' else ''}.XX.O.{kind}.{100 * n + i}"
            itk = sitk.GetImageFromArray(np.transpose(np.asanyarray(image.dataobj), (2, 1, 0)))
            itk.SetSpacing([float(s) for s in image.header.get_zooms()[:3]])
            (root / "HGG" / case / name).mkdir(parents=True)
            sitk.WriteImage(itk, str(root / "HGG" / case / name / f"{name}.mha"))


def write_msd(smoke_brats_raw: Path, root: Path, channels: dict[str, int]) -> None:
    """The smoke scans in the MSD Task01 layout; ``channels``: scan -> channels written (4 normally)."""
    for case in cases(smoke_brats_raw):
        stem = f"BRATS_{case[-3:]}"
        images = [nib.load(case_file(smoke_brats_raw, case, SUFFIXES[m])) for m in ("flair", "t1", "t1c", "t2")]
        data = np.stack([np.asanyarray(i.dataobj) for i in images[: channels.get(stem, 4)]], axis=-1)
        (root / "imagesTr").mkdir(parents=True, exist_ok=True)
        (root / "labelsTr").mkdir(exist_ok=True)
        nib.save(nib.Nifti1Image(data, images[0].affine), root / "imagesTr" / f"{stem}.nii.gz")
        shutil.copyfile(case_file(smoke_brats_raw, case, "seg"), root / "labelsTr" / f"{stem}.nii.gz")


# --- 1: a constant modality is refused by ingest, not by normalize after the manifest ---------------


def test_an_all_zero_modality_stops_ingest_naming_scan_modality_and_file(tmp_path, smoke_brats_raw):
    root = copy_brats2018(smoke_brats_raw, tmp_path / "brats")
    flair = case_file(root, "SynBraTS_002", "flair")
    image = nib.load(flair)
    nib.save(nib.Nifti1Image(np.zeros(image.shape, np.float32), image.affine), flair)
    run = full_run(tmp_path, real_dataset(tmp_path, root))
    report = assert_stopped_at_ingest(run, tmp_path, root, "scan 'SynBraTS_002'", "modality 'flair'", str(flair))
    assert re.match(r"InputError: .*: intensity is constant \(0\) inside the normalization mask \(\d+ voxels\)", report[0])


# --- 2: more folds than the subjects allow stops the dry run ---------------------------------------


def test_more_folds_than_subjects_stops_the_dry_run_naming_folds_and_the_subject_count(tmp_path, smoke_brats_raw):
    root = copy_brats2018(smoke_brats_raw, tmp_path / "brats")
    run = dry_run(tmp_path, real_dataset(tmp_path, root, folds=6))
    report = assert_stopped_at_dry_run(run, f"datasets.{DS}.folds = 6", "4 subjects")
    assert report == [
        f"InputError: config datasets.{DS}.folds = 6, but the dataset has 4 subjects: each fold needs at "
        f"least 2 (its two subject-grouped halves), so 6 folds need 12; set it to at most 2 or add subjects"
    ]


# --- 3: a failing job shows its message and log, no traceback, no list of raw files --------------------
# (asserted by every ingest test here: assert_stopped_at_ingest; the traceback of an unexpected
# exception is kept: tests/common/test_logs.py)


# --- 4: an empty or relative root that is not a directory stops the dry run naming root ---------------


def test_an_empty_or_missing_relative_root_stops_the_dry_run_and_a_relative_root_is_read_from_the_run_directory(
    tmp_path, smoke_brats_raw
):
    run = dry_run(tmp_path, real_dataset(tmp_path, ""))
    assert assert_stopped_at_dry_run(run, f"config datasets.{DS}.root is empty") == [
        f"InputError: config datasets.{DS}.root is empty; set it to the directory holding the brats2018 "
        f"data (a relative path is taken relative to the directory Snakemake runs in)"
    ]
    run = dry_run(tmp_path, real_dataset(tmp_path, "data/brats"))
    assert_stopped_at_dry_run(
        run, f"config datasets.{DS}.root = 'data/brats': no such directory (relative to the working "
        f"directory {tmp_path / 'work'})"
    )  # fmt: skip
    copy_brats2018(smoke_brats_raw, tmp_path / "work" / "data" / "brats")
    run = dry_run(tmp_path, real_dataset(tmp_path, "data/brats"))
    assert run.returncode == 0, run.stdout


# --- 5: the real cause: the OS error, the header field ---------------------------------------------


def test_an_unreadable_scan_file_stops_the_dry_run_with_permission_denied(tmp_path, smoke_brats_raw):
    root = copy_brats2018(smoke_brats_raw, tmp_path / "brats")
    t1 = case_file(root, "SynBraTS_003", "t1")
    t1.chmod(0)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root reads any file: run Snakemake without that capability
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv (util-linux) to drop CAP_DAC_OVERRIDE")
        prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")
    run = dry_run(tmp_path, real_dataset(tmp_path, root), prefix=prefix)
    report = assert_stopped_at_dry_run(run, "scan 'SynBraTS_003'", "modality 't1'", str(t1), "Permission denied")
    assert "(mode ----------" in report[0]


def test_a_scan_file_linked_to_itself_stops_the_dry_run_with_the_link_loop(tmp_path, smoke_brats_raw):
    root = copy_brats2018(smoke_brats_raw, tmp_path / "brats")
    t2 = case_file(root, "SynBraTS_004", "t2")
    t2.unlink()
    t2.symlink_to(t2.name)
    run = dry_run(tmp_path, real_dataset(tmp_path, root))
    assert_stopped_at_dry_run(run, "scan 'SynBraTS_004'", "modality 't2'", str(t2), "Too many levels of symbolic links")


def test_a_metaimage_with_a_wrong_dimsize_stops_ingest_naming_the_header_field(tmp_path, smoke_brats_raw):
    root = tmp_path / "brats2015"
    write_brats2015(smoke_brats_raw, root)
    [mha] = (root / "HGG" / "SynBraTS_002").glob("VSD.Brain.XX.O.MR_T1c.*/*.mha")
    mha.write_bytes(mha.read_bytes().replace(b"DimSize = 40 40 32", b"DimSize = 40 40 33", 1))
    run = full_run(tmp_path, real_dataset(tmp_path, root, layout="brats2015"))
    report = assert_stopped_at_ingest(run, tmp_path, root, "scan 'SynBraTS_002'", str(mha))
    assert (
        f"{mha}: header field DimSize = 40 40 33 (MET_SHORT) needs 105600 bytes of voxel data, but the data "
        f"in {mha.name} holds 102400 bytes; the header does not describe the data" in report[0]
    )


# --- 6: an MSD image with a channel too few names the file, the modality and the channels -------------


def test_an_msd_image_with_three_channels_stops_ingest_naming_file_modality_and_the_four_channels(
    tmp_path, smoke_brats_raw
):
    root = tmp_path / "Task01_BrainTumour"
    write_msd(smoke_brats_raw, root, {"BRATS_002": 3})
    run = full_run(tmp_path, real_dataset(tmp_path, root, layout="msd"))
    image = root / "imagesTr" / "BRATS_002.nii.gz"
    report = assert_stopped_at_ingest(run, tmp_path, root, "scan 'BRATS_002'")
    assert report[0] == (
        f"InputError: dataset '{DS}', scan 'BRATS_002': modality 't2' is channel 3 of {image}, but the file "
        f"has 3 channels (shape (40, 40, 32, 3)); the modalities expect 4 channels: 0 flair, 1 t1, 2 t1c, 3 t2"
    )


# --- 7: a patch larger than the scans says so, with both sizes ------------------------------------


def test_a_patch_larger_than_the_scans_stops_ingest_giving_both_sizes(tmp_path, smoke_brats_raw):
    root = copy_brats2018(smoke_brats_raw, tmp_path / "brats")
    run = full_run(tmp_path, real_dataset(tmp_path, root, patch_size=33))
    report = assert_stopped_at_ingest(run, tmp_path, root, "scan 'SynBraTS_001'", "patch_size")
    assert report[0] == (
        f"InputError: dataset '{DS}', scan 'SynBraTS_001': the patch (33 voxels a side, datasets.{DS}.patch_size) "
        f"is larger than the scan, whose grid is (40, 40, 32) voxels (z 32); lower datasets.{DS}.patch_size "
        f"to at most 31 (odd), or leave the scan out"
    )


# --- 8: an even patch_size is refused at the dry run as not odd -------------------------------------


def test_an_even_patch_size_stops_the_dry_run_saying_it_must_be_odd(tmp_path, smoke_brats_raw):
    run = dry_run(tmp_path, real_dataset(tmp_path, smoke_brats_raw, patch_size=10))
    assert assert_stopped_at_dry_run(run, f"datasets.{DS}.patch_size") == [
        f"InputError: config datasets.{DS}.patch_size: 10 is not allowed: edge length of the cubic patches "
        f"in voxels; it must be odd (a patch is centred on a voxel)",
        "  (every key, its type and default: config.schema.yaml)",
    ]
