"""One real run of the whole workflow on configs/smoke.yaml (fixture `smoke_run` in conftest.py),
then checks of every stage's outputs, of rerun granularity and of the report."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_helpers import REPO, describe, snakemake

from crossmodal.common.model_ids import axial_model_ids, network_ids
from crossmodal.reporting.claims import CLAIM_COLUMNS, CLAIMS
from crossmodal.studies.specificity import derived_name

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
    assert (table["n_seeds"] == 1).all()
    for ds in cfg["datasets"]:
        assert (smoke_run["workdir"] / f"results/{ds}/pairs.csv").exists()
        claims = pd.read_csv(smoke_run["workdir"] / f"results/{ds}/claims.tsv", sep="\t")
        assert list(claims.columns) == CLAIM_COLUMNS and claims["key"].tolist() == [c.key for c in CLAIMS]
        # every claim's cells are in the smoke grid; one unit per fold; no paper key
        assert (claims["n"] == cfg["datasets"][ds]["folds"]).all()
        assert (claims["n_folds"] == cfg["datasets"][ds]["folds"]).all()
        assert claims["verdict"].isin(["holds", "contradicted", "undecided"]).all()
        assert claims["paper_difference"].isna().all()
    text = (smoke_run["workdir"] / "results/table1.md").read_text()
    assert "modality dropout" in text.lower()
    assert "## Which of the paper's claims hold" in text
    assert text.splitlines()[-1].startswith("- ")


def test_every_figure_drawn(smoke_run):
    cfg = smoke_config(smoke_run)
    for ds in cfg["datasets"]:
        for n in (5, 6, 7, 8):
            for ext in ("pdf", "png"):
                path = smoke_run["workdir"] / f"results/figures/fig{n}_{ds}.{ext}"
                assert path.stat().st_size > 1000, path


def test_difficulty_tables_and_the_specificity_sweep_built(smoke_run):
    cfg = smoke_config(smoke_run)
    work = smoke_run["workdir"]
    for ds in cfg["datasets"]:
        table = pd.read_csv(work / f"results/{ds}/difficulty.tsv", sep="\t")
        assert {"raw_rf_accuracy_percent", "predictability_r2"} <= set(table.columns), ds
        assert len(table) == len(cfg["datasets"][ds]["modalities"]) ** 2, ds
    sweep = pd.read_csv(work / "results/sweeps/specificity_smoke_brats.tsv", sep="\t")
    assert sorted(sweep["value"].unique()) == [-1.0, 0.0, 1.0] and set(sweep["knob"]) == {"kappa"}
    assert set(sweep["seed"]) == {0} and len(sweep) == 3 * 9  # 3 kappa x 9 networks x 1 seed
    assert sweep["cross_accuracy"].between(0, 100).all()
    for kappa, r2 in sweep.groupby("value")["predictability_r2"].first().items():  # from each difficulty table
        table = pd.read_csv(work / f"results/{derived_name('smoke_brats', kappa)}/difficulty.tsv", sep="\t")
        assert r2 == pytest.approx(table.loc[table["train_modality"] != table["test_modality"], "predictability_r2"].mean())
    for ext in ("pdf", "png"):
        assert (work / f"results/figures/specificity_smoke_brats.{ext}").stat().st_size > 1000


def job_events(log: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Snakemake's log as (``start``/``finish``, rule, wildcard values) in log order."""
    events, rule, jobs = [], None, {}
    for line in log.splitlines():
        if match := re.fullmatch(r"(?:local)?rule (\w+):", line):
            rule, jobid = match.group(1), None
        elif rule and (match := re.fullmatch(r"    jobid: (\d+)", line)):
            jobid = match.group(1)
        elif rule and line.startswith("    wildcards: "):
            wildcards = tuple(item.split("=", 1)[1] for item in line[len("    wildcards: "):].split(", "))
            jobs[jobid] = (rule, wildcards)
            events.append(("start", rule, wildcards))
            rule = None
        elif match := re.fullmatch(r"Finished jobid: (\d+) \(Rule: (\w+)\)", line):
            if match.group(1) in jobs:
                events.append(("finish", *jobs[match.group(1)]))
    return events


def test_each_network_is_evaluated_before_the_next_training_starts(smoke_run):
    """Rule evaluate's priority: a run stopped part-way has evaluated every network it trained."""
    events = job_events(smoke_run["run"].stderr)
    evaluated_anywhere = {key for event, rule, key in events if rule == "evaluate"}
    trained, evaluated, starts = set(), set(), 0
    for event, rule, key in events:
        if (event, rule) == ("finish", "train"):
            trained.add(key)
        elif (event, rule) == ("start", "evaluate"):
            evaluated.add(key)
        elif (event, rule) == ("start", "train"):
            starts += 1
            waiting = (trained & evaluated_anywhere) - evaluated
            assert not waiting, f"training {key} started while trained {sorted(waiting)} waited for evaluation"
    # `snakemake all -n --configfile configs/smoke.yaml`: 75 train jobs (Table I's grid and the
    # specificity sweep), each evaluated
    assert starts == len(trained) == len(evaluated_anywhere) == 75


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
    assert job_counts(dry) == {"fig_plot": 1, "total": 1}, dry.stdout + dry.stderr
    # of all the figures (fig_plot imports every figure's drawing module), Fig. 7 of each dataset
    dry = snakemake(code, smoke_run["workdir"], "all", "-n", "--quiet", "rules", *config)
    assert dry.returncode == 0, describe(dry)
    assert job_counts(dry) == {"fig_plot": 2, "all": 1, "total": 3}, dry.stdout + dry.stderr
    start = time.monotonic()
    run = snakemake(code, smoke_run["workdir"], target, "--cores", "1", *config)
    assert run.returncode == 0, describe(run)
    assert time.monotonic() - start < 120


def job_counts(run) -> dict[str, int]:
    """``{rule: jobs}`` of a ``-n --quiet rules`` run (``total`` included)."""
    text = run.stdout + run.stderr
    return {line.split()[0]: int(line.split()[1]) for line in text.splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()}


def test_jobs_import_the_library_of_their_own_checkout(smoke_run, tmp_path):
    """The copy's library differs from the installed one (this checkout): the copy's runs."""
    import crossmodal

    code = smoke_run["code"]
    assert Path(crossmodal.__file__).resolve().parents[1] != (code / "src").resolve()
    marker = tmp_path / "imported_from"
    module = code / "src/crossmodal/figures/fig6_plot.py"
    module.write_text(module.read_text() + f"\nfrom pathlib import Path as _P\n_P({str(marker)!r}).write_text(__file__)\n")
    # both datasets' Fig. 6 plots, which the edit outdates, and smoke_brats's Fig. 7 plot, which
    # the test above outdated: the run is complete again for the tests below
    targets = ["results/figures/fig6_smoke_knee.pdf", "results/figures/fig6_smoke_brats.pdf",
               "results/figures/fig7_smoke_brats.pdf"]
    run = snakemake(code, smoke_run["workdir"], *targets, "--cores", "1", "--configfile",
                    str(code / "configs/smoke.yaml"))
    assert run.returncode == 0, describe(run)
    assert marker.read_text() == str(module.resolve())


@pytest.fixture(scope="module")
def jobs_from_nothing(smoke_run, tmp_path_factory):
    """``{rule: jobs}`` of a dry run of `all` in an empty directory: every job of the smoke run."""
    run = snakemake(smoke_run["code"], tmp_path_factory.mktemp("nothing"), "all", "-n", "--quiet", "rules",
                    "--configfile", str(smoke_run["code"] / "configs/smoke.yaml"))
    assert run.returncode == 0, describe(run)
    return job_counts(run)


def dry_run_of_all(smoke_run) -> dict[str, int]:
    run = snakemake(smoke_run["code"], smoke_run["workdir"], "all", "-n", "--quiet", "rules",
                    "--configfile", str(smoke_run["code"] / "configs/smoke.yaml"))
    assert run.returncode == 0, describe(run)
    return job_counts(run)


# An edit of a library module reruns the jobs whose code imports it and what follows from them.
# training/loss.py: training (`crossmodal.training.train` imports it) and everything downstream, no
# data stage and no difficulty table (neither reads a network). evaluation/evaluate.py: the forests (evaluate, and the
# difficulty and Fig. 8 forests, which import it), the cells, pairs, claims, Table I and the
# sweep's table (they read its accuracy format), Fig. 8 and what follows, no training.
UPSTREAM_OF_TRAINING = {"synthesize", "ingest", "normalize", "folds", "sample_patches", "difficulty"}
LIBRARY_EDITS = {
    "training/loss.py": lambda fresh: {rule: n for rule, n in fresh.items() if rule not in UPSTREAM_OF_TRAINING},
    "evaluation/evaluate.py": lambda fresh: {
        **{rule: fresh[rule] for rule in ("evaluate", "difficulty", "feature_selection", "fig8_data", "cell",
                                          "pairs", "claims", "table", "specificity", "specificity_plot", "all")},
        "fig_plot": fresh["fig8_data"],  # Fig. 8 of each dataset
    },
}


def library_file(smoke_run, name: str) -> Path:
    return smoke_run["code"] / "src" / "crossmodal" / name


@pytest.mark.parametrize("module", list(LIBRARY_EDITS))
def test_an_edited_library_module_reruns_the_jobs_that_run_it_and_what_follows(
        smoke_run, jobs_from_nothing, module):
    assert dry_run_of_all(smoke_run) == {}
    path = library_file(smoke_run, module)
    original = path.read_text()
    try:
        path.write_text(original + "\n_EDITED_BY_THE_RERUN_TEST = True\n")
        jobs = dry_run_of_all(smoke_run)
    finally:
        path.write_text(original)
    expected = LIBRARY_EDITS[module](jobs_from_nothing)
    expected["total"] = sum(n for rule, n in expected.items() if rule != "total")
    assert jobs == expected, (module, jobs)
    assert "train" in jobs if module == "training/loss.py" else "train" not in jobs
    # the same content again: nothing to do, though the file is newer than every result
    assert dry_run_of_all(smoke_run) == {}


def test_a_touched_library_module_reruns_nothing(smoke_run):
    for module in LIBRARY_EDITS:
        os.utime(library_file(smoke_run, module))
    assert dry_run_of_all(smoke_run) == {}


def test_every_computing_rule_hashes_the_module_its_script_calls():
    """Each rule with a script has a `code` param naming the module its script imports from."""
    rules = "".join(path.read_text() for path in sorted((REPO / "workflow/rules").glob("*.smk")))
    checked = 0
    for name, body in re.findall(r"(?ms)^rule (\w+):\n(.*?)(?=^\S|\Z)", rules):
        script = re.search(r'^    script:\n\s+"\.\./scripts/(\S+)"', body, re.M)
        if script is None:
            continue
        source = (REPO / "workflow/scripts" / script.group(1)).read_text()
        entry = [m for m in re.findall(r"^from (crossmodal\S*) import", source, re.M) if m != "crossmodal.common.logs"]
        code = re.search(r"code=library_code\(([^)]*)\)", body)
        job = re.search(r"\*\*training_job_params\(([^)]*)\)", body)  # train.smk: + the job module
        assert code or job, f"rule {name} has no code=library_code(...) param"
        hashed = re.findall(r'"([^"]+)"', (code or job).group(1))
        hashed += ["crossmodal.training.training_job"] if job else []
        # every library module the script imports is hashed (with what it imports in turn)
        assert entry and set(entry) <= set(hashed), (name, hashed, entry)
        checked += 1
    assert checked >= 20


# One key per stage; the dry run of `all` on the finished smoke run must schedule the stages that
# read it and what depends on their outputs, nothing upstream. smoke_knee has 11 networks x 2 folds,
# 8 of them in the grid that Figs. 7-8 show.
DATA_STAGES = {"synthesize", "ingest", "normalize", "folds", "sample_patches"}
KNEE_NETWORKS = 22
KNEE_GRID = 16
STAGE_EDITS = {
    "synthesis": (("datasets", "smoke_knee", "synthetic", "seed"), 13,
                  {"synthesize": 1, "ingest": 1, "normalize": 1, "folds": 1, "sample_patches": 1,
                   "train": KNEE_NETWORKS}, set()),
    "ingest/mask": (("datasets", "smoke_knee", "mask", "dilation_voxels"), 4,
                    {"ingest": 1, "normalize": 1, "folds": 1, "sample_patches": 1,
                     "train": KNEE_NETWORKS}, {"synthesize"}),
    "patches": (("datasets", "smoke_knee", "patches_per_class"), 12,
                {"sample_patches": 1, "train": KNEE_NETWORKS}, {"synthesize", "ingest", "normalize", "folds"}),
    "network": (("datasets", "smoke_knee", "network", "features"), 6,
                {"train": KNEE_NETWORKS, "evaluate": KNEE_NETWORKS}, DATA_STAGES),
    "training length": (("datasets", "smoke_knee", "training", "epochs"), 3,
                        {"train": KNEE_NETWORKS, "evaluate": KNEE_NETWORKS}, DATA_STAGES),
    "forest": (("datasets", "smoke_knee", "max_forest_train_patches"), 40,
               {"evaluate": KNEE_NETWORKS, "feature_selection": KNEE_GRID, "fig8_data": 1},
               DATA_STAGES | {"train", "encode", "feature_ncc", "fig7_data"}),
    "figures": (("figures", "mi_samples"), 150, {"fig6_data": 2, "fig_plot": 2},
                DATA_STAGES | {"train", "encode", "evaluate", "cell", "table", "feature_ncc",
                               "feature_selection", "fig7_data", "fig8_data"}),
}


def test_writing_the_config_in_another_key_order_reruns_nothing(smoke_run, tmp_path):
    """Snakemake compares params with their dicts' key order; the rules' params do not have one.

    The datasets keep their order (Table I lists them in config order), and top-level blocks
    and every dataset's keys are written in reverse order.
    """
    def reverse(value):
        if isinstance(value, dict):
            return {key: reverse(value[key]) for key in reversed(list(value))}
        if isinstance(value, list):
            return [reverse(item) for item in value]
        return value

    code = smoke_run["code"]
    cfg = yaml.safe_load((code / "configs" / "smoke.yaml").read_text())
    datasets = {name: reverse(block) for name, block in cfg.pop("datasets").items()}
    reordered = tmp_path / "reordered.yaml"
    reordered.write_text(yaml.safe_dump({**reverse(cfg), "datasets": datasets}, sort_keys=False))
    assert list(yaml.safe_load(reordered.read_text())["datasets"]["smoke_knee"])[0] == "training"
    dry = snakemake(code, smoke_run["workdir"], "all", "-n", "--quiet", "rules", "--configfile", str(reordered))
    assert dry.returncode == 0, describe(dry)
    assert job_counts(dry) == {}, dry.stdout + dry.stderr


@pytest.mark.parametrize("stage", list(STAGE_EDITS))
def test_an_edited_key_reruns_the_stages_that_read_it_and_nothing_upstream(smoke_run, tmp_path, stage):
    path, value, scheduled, not_scheduled = STAGE_EDITS[stage]
    code = smoke_run["code"]
    cfg = yaml.safe_load((code / "configs" / "smoke.yaml").read_text())
    block = cfg
    for key in path[:-1]:
        block = block[key]
    assert block.get(path[-1]) != value
    block[path[-1]] = value
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(cfg, sort_keys=False))
    dry = snakemake(code, smoke_run["workdir"], "all", "-n", "--quiet", "rules", "--configfile", str(edited))
    assert dry.returncode == 0, describe(dry)
    jobs = job_counts(dry)
    for rule, n in scheduled.items():
        assert jobs.get(rule) == n, (stage, rule, jobs)
    assert not not_scheduled & set(jobs), (stage, jobs)


# A method switch reruns exactly the networks it changes (smoke_knee's grid: alpha 0 and 0.5, 2 folds).
METHOD_EDITS = {
    "dropout_mode": ("per_batch", 8),  # the 4 networks with modality dropout
    "global_norm": ("none_at_alpha0", 4),  # without per-feature normalization, at alpha = 0
    "bn_momentum": (0.01, KNEE_NETWORKS),  # every network, baselines included
}


@pytest.mark.parametrize("key", list(METHOD_EDITS))
def test_a_method_switch_retrains_exactly_the_networks_it_changes(smoke_run, tmp_path, key):
    value, trainings = METHOD_EDITS[key]
    code = smoke_run["code"]
    cfg = yaml.safe_load((code / "configs" / "smoke.yaml").read_text())
    cfg["datasets"]["smoke_knee"].setdefault("method", {})[key] = value
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(cfg, sort_keys=False))
    dry = snakemake(code, smoke_run["workdir"], "all", "-n", "--quiet", "rules", "--configfile", str(edited))
    assert dry.returncode == 0, describe(dry)
    jobs = job_counts(dry)
    assert jobs.get("train") == trainings and jobs.get("evaluate") == trainings, (key, jobs)
    assert not DATA_STAGES & set(jobs), (key, jobs)


def write_brats2018_case(root: Path, case: str, seed: int) -> None:
    """A 24^3 BraTS 2018-21 case: a noisy brain block 4..19 holding a tumour cube 8..12."""
    import nibabel as nib

    rng = np.random.default_rng(seed)
    brain = np.zeros((24, 24, 24), np.float32)
    brain[4:20, 4:20, 4:20] = 1 + rng.random((16, 16, 16), np.float32)
    labels = np.zeros((24, 24, 24), np.uint8)
    labels[8:12, 8:12, 8:12] = 2
    (root / case).mkdir(parents=True)
    for i, suffix in enumerate(("t1", "t1ce", "t2", "flair")):
        nib.save(nib.Nifti1Image(brain * (i + 1), np.eye(4)), root / case / f"{case}_{suffix}.nii.gz")
    nib.save(nib.Nifti1Image(labels, np.eye(4)), root / case / f"{case}_seg.nii.gz")


def test_a_new_or_changed_scan_in_a_real_layout_root_reruns_ingest(tmp_path):
    """Ingest of a real dataset reruns when a scan file the layout finds under root changes its
    path, size or modification time (older too: param `scans`, crossmodal.data.ingest.scan_listing)."""
    root = tmp_path / "brats"
    for i in range(4):
        write_brats2018_case(root, f"Case{i}", seed=i)
    cfg = yaml.safe_load((REPO / "configs" / "smoke.yaml").read_text())
    brats = cfg["datasets"]["smoke_brats"]
    del brats["synthetic"]
    brats["root"] = str(root)
    cfg["datasets"] = {"smoke_brats": brats}
    cfg["sweeps"]["specificity"]["datasets"] = []  # the sweep needs a synthetic dataset
    cfg.pop("ablation", None)  # the smoke ablation names smoke_knee, which this config lacks
    config = tmp_path / "real.yaml"
    config.write_text(yaml.safe_dump(cfg))
    workdir = tmp_path / "work"
    workdir.mkdir()
    target = ["results/smoke_brats/manifest.tsv", "--configfile", str(config)]

    def dry_jobs():
        dry = snakemake(REPO, workdir, *target, "-n", "--quiet", "rules")
        assert dry.returncode == 0, describe(dry)
        return job_counts(dry)

    def ingest():
        run = snakemake(REPO, workdir, *target, "--cores", "1")
        assert run.returncode == 0, describe(run)
        return pd.read_csv(workdir / "results/smoke_brats/manifest.tsv", sep="\t")["scan_id"].tolist()

    assert ingest() == ["Case0", "Case1", "Case2", "Case3"]
    assert dry_jobs() == {}
    write_brats2018_case(root, "Case4", seed=4)  # a new scan
    assert dry_jobs() == {"ingest": 1, "total": 1}
    assert ingest()[-1] == "Case4"
    # a file replaced by other content
    time.sleep(1)
    shutil.copyfile(root / "Case0" / "Case0_t1.nii.gz", root / "Case4" / "Case4_t1.nii.gz")
    assert dry_jobs() == {"ingest": 1, "total": 1}
    assert ingest()[-1] == "Case4"
    # ... and by a copy that keeps its older modification time (cp -p, rsync -a, tar x), which
    # an input file's mtime would not show
    shutil.copy2(root / "Case1" / "Case1_t2.nii.gz", root / "Case4" / "Case4_t2.nii.gz")
    assert (root / "Case4" / "Case4_t2.nii.gz").stat().st_mtime < (workdir / "results/smoke_brats/manifest.tsv").stat().st_mtime
    assert dry_jobs() == {"ingest": 1, "total": 1}
    assert ingest()[-1] == "Case4"
    shutil.rmtree(root / "Case4")  # a removed scan
    assert dry_jobs() == {"ingest": 1, "total": 1}


def seeds_config(code: Path, tmp_path: Path, seeds: int) -> str:
    """configs/smoke.yaml with ``training.seeds`` set for every dataset; returns its path."""
    cfg = yaml.safe_load((code / "configs" / "smoke.yaml").read_text())
    for block in cfg["datasets"].values():
        block["training"]["seeds"] = seeds
    path = tmp_path / f"seeds{seeds}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(path)


def test_more_seeds_train_only_the_new_networks(smoke_run, tmp_path):
    """training.seeds: 3 schedules 3x the trainings; on the finished one-seed run only seeds 1
    and 2; a network of seed 1 trained under 3 seeds is not retrained under 4."""
    code, work = smoke_run["code"], smoke_run["workdir"]
    cfg = smoke_config(smoke_run)
    per_seed = sum(len(network_ids(cfg["grid"], d["modalities"])) * d["folds"]
                   for d in cfg["datasets"].values())
    n_cells = len(cfg["datasets"]) * (len(axial_model_ids(cfg["grid"])) + 2)

    def dry(workdir, seeds, target="all"):
        run = snakemake(code, workdir, target, "-n", "--quiet", "rules", "--configfile",
                        seeds_config(code, tmp_path, seeds))
        assert run.returncode == 0, describe(run)
        return job_counts(run)

    empty = tmp_path / "empty"
    empty.mkdir()
    assert dry(empty, 1, "results/table1.csv")["train"] == per_seed
    assert dry(empty, 3, "results/table1.csv")["train"] == 3 * per_seed
    three = dry(work, 3)
    assert three["train"] == three["evaluate"] == 2 * per_seed, three
    assert three["cell"] == n_cells and three["claims"] == three["pairs"] == len(cfg["datasets"])
    # seed 0 is the one-seed run's network; the figures and the sweep use seed 0 only
    assert not (DATA_STAGES | {"fig5_data", "fig6_data", "feature_ncc", "feature_selection", "fig7_data", "fig8_data",
                            "specificity"}) & set(three)
    network = "axial-md1-pfn1-a0.5"
    target = f"results/smoke_knee/accuracy/{network}_seed1/fold0.tsv"
    run = snakemake(code, work, target, "--cores", "1", "--configfile", seeds_config(code, tmp_path, 3))
    assert run.returncode == 0, describe(run)
    seed0 = np.load(work / f"results/smoke_knee/features/{network}/fold0.npz")
    seed1 = np.load(work / f"results/smoke_knee/features/{network}_seed1/fold0.npz")
    assert seed0["test_features"].shape == seed1["test_features"].shape
    assert not np.allclose(seed0["test_features"], seed1["test_features"])
    four = dry(work, 4)
    assert four["train"] == four["evaluate"] == 3 * per_seed - 1, four


def test_run_folds_trains_and_averages_only_those_folds(smoke_run, tmp_path):
    """run_folds=1 schedules one fold's trainings; on the finished two-fold run, 0 rebuilds
    the cells and claims from fold 0 and trains, evaluates and re-splits nothing."""
    code, work = smoke_run["code"], smoke_run["workdir"]
    cfg = smoke_config(smoke_run)
    per_fold = sum(len(network_ids(cfg["grid"], d["modalities"])) for d in cfg["datasets"].values())
    n_cells = len(cfg["datasets"]) * (len(axial_model_ids(cfg["grid"])) + 2)

    def dry(workdir, run_folds):
        run = snakemake(code, workdir, "results/table1.csv", "-n", "--quiet", "rules",
                        "--configfile", str(code / "configs" / "smoke.yaml"),
                        "--config", f"run_folds={run_folds}")
        assert run.returncode == 0, describe(run)
        return job_counts(run)

    empty = tmp_path / "empty"
    empty.mkdir()
    counts = dry(empty, "1")
    assert counts["train"] == counts["evaluate"] == per_fold, counts
    counts = dry(work, "0")
    assert "train" not in counts and "evaluate" not in counts and "folds" not in counts, counts
    assert counts["cell"] == n_cells and counts["claims"] == len(cfg["datasets"]), counts
    run = snakemake(code, work, "-n", "--configfile", str(code / "configs" / "smoke.yaml"),
                    "--config", "run_folds=2")
    assert run.returncode != 0
    assert "run_folds = 2 names fold 2 but datasets.smoke_knee.folds = 2" in run.stdout + run.stderr


def test_archived_accuracy_tables_stand_in_for_their_trainings(smoke_run, tmp_path):
    """`snakemake archives` on the finished run archives every product of every trained network
    (its accuracy table, its feature_sd table, which the run had not asked for, and its units of
    Figs. 7-8, which the run had asked for only for the grid's networks); its entries as config
    `archive` in a directory without results/: Table I and Figs. 7-8's tables train and evaluate
    nothing and are the run's own; a changed training setting of one dataset trains that
    dataset's networks again, and only those."""
    code, work = smoke_run["code"], smoke_run["workdir"]
    config = ["--configfile", str(code / "configs" / "smoke.yaml")]
    run = snakemake(code, work, "archives", "--cores", "2", *config)
    assert run.returncode == 0, describe(run)
    measured = sorted(p.relative_to(work / "results") for p in (work / "results").glob("*/accuracy/*/fold*.tsv"))
    archive = work / "results/archive"
    for product in ("accuracy", "feature_sd", "feature_ncc", "feature_selection"):
        archived = sorted(p.relative_to(archive) for p in archive.glob(f"*/{product}/*/fold*.tsv"))
        assert archived == [Path(str(p).replace("/accuracy/", f"/{product}/", 1)) for p in measured]
        assert len(archived) > 0
        for path in archived:
            assert (archive / path).read_bytes() == (work / "results" / path).read_bytes()
            assert (archive / path).with_suffix(".json").is_file()

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(work / "results/archive", elsewhere / "kept")
    tables = ["results/table1.csv", "results/smoke_knee/figdata/fig7.tsv", "results/smoke_knee/figdata/fig8.tsv"]
    dry = snakemake(code, elsewhere, *tables, "-n", "--quiet", "rules", *config, "--config", "archive=kept")
    assert dry.returncode == 0, describe(dry)
    counts = job_counts(dry)
    assert not {"synthesize", "train", "evaluate", "feature_ncc", "feature_selection"} & set(counts), counts
    run = snakemake(code, elsewhere, *tables, "--cores", "2", *config, "--config", "archive=kept")
    assert run.returncode == 0, describe(run)
    for table in tables:
        assert (elsewhere / table).read_bytes() == (work / table).read_bytes(), table
    # nothing left to archive where every table comes from the archive
    dry = snakemake(code, elsewhere, "archives", "-n", "--quiet", "rules", *config, "--config", "archive=kept")
    assert job_counts(dry) == {"archives": 1, "total": 1}, dry.stdout + dry.stderr

    cfg = yaml.safe_load((code / "configs" / "smoke.yaml").read_text())
    cfg["archive"] = "kept"
    cfg["datasets"]["smoke_knee"]["training"]["epochs"] += 1
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    dry = snakemake(code, elsewhere, "results/table1.csv", "-n", "--quiet", "rules", "--configfile", str(changed))
    assert dry.returncode == 0, describe(dry)
    knee = cfg["datasets"]["smoke_knee"]
    expected = len(network_ids(cfg["grid"], knee["modalities"])) * knee["folds"]
    assert job_counts(dry)["train"] == job_counts(dry)["evaluate"] == expected, dry.stdout
    assert "smoke_knee/accuracy/axial-md0-pfn0-a0.0/fold0 was measured with other settings or code" in (
        dry.stdout + dry.stderr
    )
