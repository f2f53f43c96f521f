"""configs/paper.yaml: it validates, and a dry run on fake data in the real layouts schedules the
paper's whole grid (16 axial networks + baselines per dataset, 5 folds each)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from crossmodal.common.model_ids import cell_networks, network_ids
from workflow_helpers import paper_config_on_fake_data

REPO = Path(__file__).resolve().parents[1]
PAPER = REPO / "configs" / "paper.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("paper")
    (tmp / "paper.yaml").write_text(paper_config_on_fake_data(tmp))
    return tmp


def dry_run(workdir: Path, target: str, quiet: bool) -> str:
    cmd = [sys.executable, "-m", "snakemake", "-n", "--configfile", str(workdir / "paper.yaml"),
           "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), target]
    if quiet:
        cmd[3:3] = ["--quiet", "rules"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def job_counts(output: str) -> dict[str, int]:
    stats = output[output.index("Job stats:"):]
    counts = {}
    for line in stats.splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def test_paper_config_validates_with_the_papers_settings(workdir):
    config = yaml.safe_load((workdir / "paper.yaml").read_text())
    validate(config, str(SCHEMA))  # fills defaults
    oai, brats = config["datasets"]["oai"], config["datasets"]["brats"]
    assert (oai["paper"], brats["paper"]) == ("oai", "brats")
    assert (oai["layout"], brats["layout"]) == ("generic", "brats2018")
    assert oai["modalities"] == ["normal", "fatsup"]
    assert brats["modalities"] == ["t1", "t1c", "t2", "flair"]
    assert [c["name"] for c in oai["classes"]] == ["background", "cartilage", "meniscus"]
    assert brats["classes"][1]["values"] == [1, 2, 4]
    assert oai["mask"] == {"rule": "dilated_labels", "dilation_voxels": 10}
    for ds in (oai, brats):
        assert (ds["patch_size"], ds["patches_per_class"], ds["folds"]) == (15, 5000, 5)
        assert ds["network"] == {"widths": [32, 64, 64], "features": 128}
        assert ds["max_forest_train_patches"] is None
        assert (ds["training"]["batch_size"], ds["training"]["learning_rate"]) == (64, 0.3)
        assert ds["training"]["lr_decay"] == 2e-6
    assert (oai["training"]["epochs"], brats["training"]["epochs"]) == (100, 50)
    assert config["grid"] == {"modality_dropout": [0, 1], "per_feature_norm": [0, 1],
                              "alpha": [0.0, 0.1, 0.2, 0.5]}
    assert config["forest"]["n_trees"] == 30


def test_dry_run_schedules_the_whole_grid(workdir):
    output = dry_run(workdir, "results/table1.csv", quiet=False)
    config = yaml.safe_load((workdir / "paper.yaml").read_text())
    expected = {
        (ds, net, fold)
        for ds in ("oai", "brats")
        for net in network_ids(config["grid"], config["datasets"][ds]["modalities"])
        for fold in range(5)
    }
    assert len(expected) == (16 + 1 + 2) * 5 + (16 + 1 + 4) * 5
    trained = set(re.findall(
        r"rule train:\n(?:    .*\n)*?    wildcards: ds=(\w+), model=([\w.-]+), fold=(\d+)", output
    ))
    assert {(ds, net, int(k)) for ds, net, k in trained} == expected
    assert job_counts(output) == {
        "ingest": 2, "folds": 2, "normalize": 2, "sample_patches": 2, "train": 200,
        "evaluate": 200, "cell": 36, "claims": 2, "table": 1,
    }


def test_one_cell_builds_only_its_networks(workdir):
    output = dry_run(workdir, "results/brats/cells/baseline-single.tsv", quiet=True)
    n = len(cell_networks("baseline-single", ["t1", "t1c", "t2", "flair"])) * 5
    assert job_counts(output) == {
        "ingest": 1, "folds": 1, "normalize": 1, "sample_patches": 1, "train": n,
        "evaluate": n, "cell": 1,
    }
