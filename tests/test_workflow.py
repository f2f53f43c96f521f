"""One real run of the whole workflow on configs/smoke.yaml (fixture `smoke_run` in conftest.py),
then checks of every stage's outputs, of rerun granularity and of the report."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import REPO, describe, snakemake

from crossmodal.model_ids import axial_model_ids, network_ids

pytestmark = pytest.mark.workflow


def smoke_config(smoke_run):
    from snakemake.utils import validate

    cfg = yaml.safe_load((smoke_run["code"] / "configs" / "smoke.yaml").read_text())
    validate(cfg, str(smoke_run["code"] / "workflow" / "schemas" / "config.schema.yaml"))
    return cfg


def test_manifest_stage(smoke_run):
    cfg = smoke_config(smoke_run)
    for ds, dcfg in cfg["datasets"].items():
        manifest = pd.read_csv(smoke_run["workdir"] / f"results/{ds}/manifest.tsv", sep="\t")
        expected_scans = dcfg["synthetic"]["n_subjects"] * (
            dcfg["synthetic"]["sessions_per_subject"] if dcfg["synthetic"]["kind"] == "knee" else 1
        )
        assert len(manifest) == expected_scans
        assert manifest["scan_id"].is_unique
        for m in dcfg["modalities"]:
            assert manifest[f"image_{m}"].map(lambda p: (smoke_run["workdir"] / p).exists()).all()


def test_patch_stage(smoke_run):
    cfg = smoke_config(smoke_run)
    for ds, dcfg in cfg["datasets"].items():
        folds = pd.read_csv(smoke_run["workdir"] / f"results/{ds}/folds.tsv", sep="\t")
        assert set(folds["fold"]) == set(range(dcfg["folds"]))
        assert (folds.groupby("subject_id")["fold"].nunique() == 1).all()
        n_classes = len(dcfg["classes"])
        for scan in folds["scan_id"]:
            volume = np.load(smoke_run["workdir"] / f"results/{ds}/volumes/{scan}.npy", mmap_mode="r")
            assert volume.dtype == np.float32 and volume.shape[0] == len(dcfg["modalities"])
            patches = np.load(smoke_run["workdir"] / f"results/{ds}/patches/{scan}.npz")
            counts = np.bincount(patches["labels"], minlength=n_classes)
            assert (counts == dcfg["patches_per_class"]).all()


def test_every_network_trained_and_encoded(smoke_run):
    cfg = smoke_config(smoke_run)
    for ds, dcfg in cfg["datasets"].items():
        for model in network_ids(cfg["grid"], dcfg["modalities"]):
            for k in range(dcfg["folds"]):
                folder = smoke_run["workdir"] / f"results/{ds}/models/{model}/fold{k}"
                history = pd.read_csv(folder / "history.tsv", sep="\t")
                assert len(history) == dcfg["training"]["epochs"]
                assert np.isfinite(history["loss"]).all()
                assert not (folder / "checkpoint.pt").exists()
                features = np.load(smoke_run["workdir"] / f"results/{ds}/features/{model}/fold{k}.npz")
                assert features["train_features"].shape[:1] == (len(dcfg["modalities"]),)
                assert features["test_features"].shape[2] == dcfg["network"]["features"]


def test_table1_has_every_cell(smoke_run):
    cfg = smoke_config(smoke_run)
    table = pd.read_csv(smoke_run["workdir"] / "results/table1.csv")
    n_axial = len(axial_model_ids(cfg["grid"]))
    assert len(table) == len(cfg["datasets"]) * (n_axial + 2) * 2
    assert table["accuracy_percent"].between(0, 100).all()
    assert table["accuracy_percent"].notna().all()
    for ds in cfg["datasets"]:
        assert (smoke_run["workdir"] / f"results/{ds}/pairs.csv").exists()
    assert "modality dropout" in (smoke_run["workdir"] / "results/table1.md").read_text().lower()


def test_every_figure_drawn(smoke_run):
    cfg = smoke_config(smoke_run)
    for ds in cfg["datasets"]:
        for n in (5, 6, 7, 8):
            for ext in ("pdf", "png"):
                path = smoke_run["workdir"] / f"results/figures/fig{n}_{ds}.{ext}"
                assert path.stat().st_size > 1000, path


def test_nothing_left_to_do_after_the_run(smoke_run):
    run = snakemake(
        smoke_run["code"], smoke_run["workdir"], "all", "-n", "--configfile",
        str(smoke_run["code"] / "configs/smoke.yaml"),
    )
    assert run.returncode == 0, describe(run)
    assert "Nothing to be done" in run.stdout + run.stderr, describe(run)


def test_workflow_profile_is_read_and_reevaluates_rarely(smoke_run):
    # profiles/default works around Snakemake's per-finished-job timer chains (see the file).
    # Snakemake looks for it relative to the working directory first, then beside the Snakefile.
    from snakemake.settings.types import MaxJobsPerTimespan

    output = smoke_run["run"].stdout + smoke_run["run"].stderr
    used = re.search(r"Using workflow specific profile (\S+) for setting", output)
    assert used, describe(smoke_run["run"])
    profile = Path(used.group(1))
    assert profile.resolve() in {(smoke_run["code"] / "profiles" / "default").resolve(),
                                 (REPO / "profiles" / "default").resolve()}  # fmt: skip
    setting = yaml.safe_load((profile / "config.yaml").read_text())["max-jobs-per-timespan"]
    limit = MaxJobsPerTimespan.parse_choice(setting)
    # rarer passes than Snakemake's 1 s, but a run may end up to one timespan late: keep it short
    assert 1 < limit.timespan <= 10 and limit.max_jobs >= 1000


def test_one_cell_builds_only_its_own_dag(smoke_run, tmp_path):
    """`snakemake results/{ds}/cells/{cell}.tsv` from nothing schedules that cell's networks only."""
    run = snakemake(
        smoke_run["code"], tmp_path, "results/smoke_knee/cells/axial-md1-pfn1-a0.5.tsv",
        "-n", "--quiet", "rules", "--configfile", str(smoke_run["code"] / "configs/smoke.yaml"),
    )
    assert run.returncode == 0, describe(run)
    text = run.stdout + run.stderr
    jobs = {line.split()[0]: int(line.split()[1]) for line in text.splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()}
    cfg = smoke_config(smoke_run)
    n_folds = cfg["datasets"]["smoke_knee"]["folds"]
    assert jobs.get("train") == n_folds, text
    assert "encode" not in jobs and jobs.get("evaluate") == n_folds, text
    assert jobs.get("cell") == 1, text


def test_report_bundles_table_and_figures(smoke_run):
    run = snakemake(
        smoke_run["code"], smoke_run["workdir"], "--configfile",
        str(smoke_run["code"] / "configs/smoke.yaml"), "--report", "results/report.html",
        timeout=300,
    )
    assert run.returncode == 0, describe(run)
    html = (smoke_run["workdir"] / "results/report.html").read_text(errors="replace")
    assert "table1.csv" in html and "fig7_smoke_knee.pdf" in html


def test_editing_fig7_drawing_code_reruns_only_that_plot(smoke_run):
    code = smoke_run["code"]
    plot_module = code / "src/crossmodal/figures/fig7_plot.py"
    plot_module.write_text(plot_module.read_text() + "\n# edited by the rerun test\n")
    target = "results/figures/fig7_smoke_knee.pdf"
    config = ["--configfile", str(code / "configs/smoke.yaml")]
    dry = snakemake(code, smoke_run["workdir"], target, "-n", "--quiet", "rules", *config)
    assert dry.returncode == 0, describe(dry)
    text = dry.stdout + dry.stderr
    jobs = {line.split()[0]: int(line.split()[1]) for line in text.splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert jobs == {"fig_plot": 1, "total": 1}, text
    start = time.monotonic()
    run = snakemake(code, smoke_run["workdir"], target, "--cores", "1", *config)
    assert run.returncode == 0, describe(run)
    assert time.monotonic() - start < 120
