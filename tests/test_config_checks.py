"""Config validation: the schema (keys, types, values, defaults) and the cross-key checks."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from crossmodal.config_checks import check_config
from crossmodal.errors import InputError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def load(name):
    return yaml.safe_load((REPO / name).read_text())


def validated(cfg):
    cfg = copy.deepcopy(cfg)
    validate(cfg, SCHEMA)
    return cfg


@pytest.mark.parametrize("name", ["config.yaml", "configs/smoke.yaml", "configs/paper.yaml"])
def test_shipped_configs_are_valid(name):
    if not (REPO / name).exists():
        pytest.skip(f"{name} not written yet")
    check_config(validated(load(name)))


def test_defaults_come_from_the_schema():
    cfg = validated(load("configs/smoke.yaml"))
    knee = cfg["datasets"]["smoke_knee"]
    assert knee["training"]["learning_rate"] == 0.3
    assert knee["training"]["lr_decay"] == 2e-6
    assert knee["seed"] == 0
    assert knee["max_forest_train_patches"] is None
    assert cfg["forest"]["n_trees"] == 30
    assert cfg["figures"]["fold"] == 0


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["datasets"]["smoke_knee"].update(pach_size=15), "pach_size"),
        (lambda c: c["datasets"]["smoke_knee"].update(patch_size=12), "12"),
        (lambda c: c["datasets"]["smoke_knee"].update(folds="five"), "five"),
        (lambda c: c["datasets"]["smoke_knee"].update(layout="nifti"), "nifti"),
        (lambda c: c["datasets"]["smoke_knee"]["training"].update(epoch=3), "epoch"),
        (lambda c: c.update(grid={"alpha": [2.0]}), "2.0"),
    ],
)
def test_schema_rejects_bad_keys_types_and_values(edit, message):
    cfg = load("configs/smoke.yaml")
    edit(cfg)
    with pytest.raises(WorkflowError, match=message):
        validate(cfg, SCHEMA)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["datasets"]["smoke_knee"].pop("synthetic"), r"datasets\.smoke_knee\.root"),
        (lambda c: c["datasets"]["smoke_knee"].update(modalities=["normal", "t2"]), "t2"),
        (
            lambda c: c["datasets"]["smoke_knee"]["classes"][1].update(values=[1, 3]),
            "raw label 3",
        ),
        (lambda c: c["datasets"]["smoke_knee"]["classes"][0].update(values=[5]), "raw label 0"),
        (lambda c: c["figures"].update(fold=2), "figures.fold"),
        (lambda c: c["figures"].update(fig5_model="axial-md1-pfn1-a0.3"), "fig5_model"),
        (lambda c: c["figures"].update(alpha=0.3), "figures.alpha"),
        (lambda c: c["grid"].update(modality_dropout=[1]), "grid.modality_dropout"),
    ],
)
def test_cross_key_checks_name_the_key(edit, message):
    cfg = validated(load("configs/smoke.yaml"))
    edit(cfg)
    with pytest.raises(InputError, match=message):
        check_config(cfg)


def test_snakemake_stops_before_any_job_naming_the_key(tmp_path):
    cfg = load("configs/smoke.yaml")
    cfg["datasets"]["smoke_knee"]["patches_per_clas"] = 10
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode != 0
    assert "patches_per_clas" in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()
