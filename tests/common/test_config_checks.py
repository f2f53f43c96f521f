"""Config validation: the schema (keys, types, values, defaults) and the cross-key checks."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from crossmodal.common.config_checks import check_config, check_root, check_schema, validated_block
from crossmodal.common.errors import InputError

REPO = Path(__file__).resolve().parents[2]
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def load(name):
    return yaml.safe_load((REPO / name).read_text())


def validated(cfg):
    cfg = copy.deepcopy(cfg)
    validate(cfg, SCHEMA)
    return cfg


@pytest.mark.parametrize("name", ["config.yaml", "configs/smoke.yaml"])
def test_shipped_configs_are_valid(name):
    check_schema(load(name), SCHEMA)
    check_config(validated(load(name)))


def test_paper_config_is_valid_once_its_roots_are_set(tmp_path):
    cfg = validated(load("configs/paper.yaml"))
    check_schema(load("configs/paper.yaml"), SCHEMA)
    # as shipped, the roots are placeholders to replace: the run stops before any job
    with pytest.raises(InputError, match=r"config datasets\.oai\.root = '/path/to/OAI_iMorphics': no such directory"):
        check_config(cfg)
    for ds in cfg["datasets"].values():
        ds["root"] = str(tmp_path)
    check_config(cfg)


def test_defaults_come_from_the_schema():
    cfg = validated(load("configs/smoke.yaml"))
    knee = cfg["datasets"]["smoke_knee"]
    assert knee["training"]["learning_rate"] == 0.3
    assert knee["training"]["lr_decay"] == 2e-6
    assert knee["seed"] == 0
    assert knee["max_forest_train_patches"] is None
    assert cfg["forest"]["n_trees"] == 30
    assert cfg["figures"]["fold"] == 0
    assert (knee["synthetic"]["shape"], knee["synthetic"]["spacing"]) == ([48, 48, 24], [0.5, 0.5, 1.0])
    assert knee["synthetic"]["noise"] == 0.04 and knee["synthetic"]["rho"] is None
    default = validated(load("config.yaml"))["datasets"]
    assert default["synthetic_knee"]["synthetic"]["shape"] == [96, 96, 40]
    assert default["synthetic_brats"]["synthetic"]["shape"] == [88, 104, 88]
    assert default["synthetic_brats"]["synthetic"]["spacing"] == [2.0, 2.0, 2.0]


def test_a_block_validated_alone_gets_the_defaults_snakemake_fills():
    block = {"kind": "brats", "shape": [40, 40, 32]}
    filled = validated_block(block, "synthetic")
    assert filled == {"kind": "brats", "shape": [40, 40, 32], "spacing": [2.0, 2.0, 2.0], "seed": 0, "n_subjects": 6,
                      "sessions_per_subject": 2, "noise": 0.04, "bias": 0.15, "rho": None, "kappa": 0}
    assert block == {"kind": "brats", "shape": [40, 40, 32]}  # not changed
    whole = validated({"datasets": {"b": {"layout": "brats2018", "synthetic": block, "modalities": ["t1", "t2"],
                                          "classes": [{"name": "a", "values": [0]}, {"name": "b", "values": [1]}],
                                          "mask": {"rule": "nonzero"}}}})
    assert whole["datasets"]["b"]["synthetic"] == filled
    assert validated_block({}, "training")["epochs"] == 50
    with pytest.raises(InputError, match=r"config synthetic\.rho: 1\.5 is greater than the maximum of 1"):
        validated_block({"kind": "knee", "rho": 1.5}, "synthetic")
    with pytest.raises(InputError, match=r"config synthetic\.kind: 'lung' is not one of \['knee', 'brats'\]"):
        validated_block({"kind": "lung"}, "synthetic")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["datasets"]["smoke_knee"].update(pach_size=15), "pach_size"),
        (lambda c: c["datasets"]["smoke_knee"].update(patch_size=12), "12"),
        (lambda c: c["datasets"]["smoke_knee"].update(folds="five"), "five"),
        (lambda c: c["datasets"]["smoke_knee"].update(layout="nifti"), "nifti"),
        (lambda c: c["datasets"]["smoke_knee"]["training"].update(epoch=3), "epoch"),
        (lambda c: c.update(grid={"alpha": [2.0]}), "2.0"),
        (lambda c: c.update(run_folds=[0, 0]), "run_folds"),
        (lambda c: c.update(run_folds=-1), "run_folds"),
        (lambda c: c.update(run_folds=["0"]), "run_folds"),
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
        (lambda c: c.update(run_folds=[0, 2]),
         r"^config run_folds = \[0, 2\] names fold 2 but datasets\.smoke_knee\.folds = 2"),
        (lambda c: c.update(run_folds=2), r"^config run_folds = 2 names fold 2 but"),
        (lambda c: c["figures"].update(fig5_model="axial-md1-pfn1-a0.3"), "fig5_model"),
        (lambda c: c["figures"].update(alpha=0.3), "figures.alpha"),
        (lambda c: c["grid"].update(modality_dropout=[1]), "grid.modality_dropout"),
        (lambda c: c["datasets"]["smoke_knee"].update(folds=3),
         r"^config datasets\.smoke_knee\.folds = 3, but the dataset has 4 subjects: .* set it to at most 2"),
    ],
)
def test_cross_key_checks_name_the_key(edit, message):
    cfg = validated(load("configs/smoke.yaml"))
    edit(cfg)
    with pytest.raises(InputError, match=message):
        check_config(cfg)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["datasets"]["smoke_knee"].update(pach_size=15),
         r"^config datasets\.smoke_knee: unknown key 'pach_size'; did you mean 'patch_size'\?\n  keys allowed in "
         r"datasets\.smoke_knee: affine_tolerance, classes, "),
        (lambda c: c["datasets"]["smoke_knee"]["training"].update(epoch=3),
         r"^config datasets\.smoke_knee\.training: unknown key 'epoch'; did you mean 'epochs'\?"),
        # a misspelled required key is reported as the misspelling, not as the missing key
        (lambda c: c["datasets"]["smoke_knee"].update(modalites=c["datasets"]["smoke_knee"].pop("modalities")),
         r"^config datasets\.smoke_knee: unknown key 'modalites'; did you mean 'modalities'\?"),
        (lambda c: c.update(figurs={}), r"^config \(top level\): unknown key 'figurs'; did you mean 'figures'\?"),
        (lambda c: c.update(zzz=1), r"^config \(top level\): unknown key 'zzz'\n"),
        (lambda c: c["datasets"]["smoke_knee"].update(folds="five"),
         r"^config datasets\.smoke_knee\.folds: 'five' is not of type 'integer'\n"),
        (lambda c: c["datasets"]["smoke_knee"]["classes"][1].update(values=[-1]),
         r"^config datasets\.smoke_knee\.classes\.1\.values\.0: -1 is less than the minimum of 0"),
        (lambda c: c["datasets"]["smoke_knee"].update(patch_size=10),
         r"^config datasets\.smoke_knee\.patch_size: 10 is not allowed: edge length of the cubic patches in "
         r"voxels; it must be odd \(a patch is centred on a voxel\)\n"),
        (lambda c: c.update(ablation={"method": [{"dropout_mode": "sometimes"}]}),
         r"^config ablation\.method\.0\.dropout_mode: 'sometimes' is not one of"),
        (lambda c: c["datasets"]["smoke_knee"].update(modalities=["normal", "all"]),
         r"^config datasets\.smoke_knee\.modalities\.1: 'all' is not allowed: a modality name; 'all' and "
         r"'single' are reserved"),
    ],
)
def test_schema_problems_are_a_few_lines_naming_the_key(edit, message):
    cfg = load("configs/smoke.yaml")
    edit(cfg)
    with pytest.raises(InputError, match=message) as caught:
        check_schema(cfg, SCHEMA)
    assert len(str(caught.value).splitlines()) <= 2


def test_root_must_be_an_existing_directory(tmp_path, monkeypatch):
    check_root(str(tmp_path), "brats2018", "datasets.brats")
    for empty in ("", "  "):  # Path("") is the working directory
        with pytest.raises(InputError, match=r"^config datasets\.brats\.root is empty; set it to the directory "
                           r"holding the brats2018 data \(a relative path is taken relative to the directory"):
            check_root(empty, "brats2018", "datasets.brats")
    with pytest.raises(InputError, match=r"^config datasets\.brats\.root = '/no/such/dir': no such directory; set"):
        check_root("/no/such/dir", "brats2018", "datasets.brats")
    (tmp_path / "manifest.tsv").write_text("scan_id\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=rf"^config datasets\.oai\.root = 'manifest\.tsv' is a file, not a directory "
                       rf"\(relative to the working directory {tmp_path}\); set it to the directory holding the "
                       rf"generic data \(datasets\.oai\.manifest names the manifest inside it\)$"):
        check_root("manifest.tsv", "generic", "datasets.oai")


def real_root(root):
    def edit(cfg):
        cfg["datasets"]["smoke_knee"].pop("synthetic")
        cfg["datasets"]["smoke_knee"]["root"] = root
    return edit


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["datasets"]["smoke_knee"].update(patches_per_clas=10),
         "unknown key 'patches_per_clas'; did you mean 'patches_per_class'?"),
        (real_root("/path/to/nowhere"), "datasets.smoke_knee.root"),
        (real_root("configs/smoke.yaml"), "datasets.smoke_knee.root"),
    ],
)
def test_snakemake_stops_before_any_job_in_a_few_lines_naming_the_key(tmp_path, edit, key):
    cfg = load("configs/smoke.yaml")
    edit(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "smoke.yaml").write_text("a file, not a directory")
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(REPO / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(path)],
        capture_output=True, text=True, timeout=120,
    )
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert key in output
    assert len(output.splitlines()) <= 20, output
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "name, deltas",
    [
        ("configs/synthetic_seeds.yaml", {"synthetic_knee": {"seeds": 3}, "synthetic_brats": {"seeds": 3}}),
        # the lengths where the learning curves flatten (docs/results.md, Learning curves), in
        # fp32 on every machine, its accuracy tables archived (the run goes in pieces), the
        # ablation at the same lengths
        ("configs/synthetic_converged.yaml",
         {"synthetic_knee": {"updates": 16384, "precision": "fp32"},
          "synthetic_brats": {"updates": 8192, "precision": "fp32"},
          "archive": "archive/synthetic_converged", "ablation": {"updates": None}}),
    ],
)
def test_derived_configs_are_the_default_but_for_their_one_change(name, deltas):
    # A --configfile replaces config.yaml (Snakefile), so these configs copy it whole; a copy that
    # drifts from it (the seeds config once lacked the knee's label 4) silently reruns everything
    # from ingest in the default's directory. The learning-curve lengths are the default's only.
    expected = load("config.yaml")
    for name_, block in expected["datasets"].items():
        block.pop("curve_updates")
        block["training"].update(deltas[name_])
    for key in ("archive", "ablation"):
        if key in deltas:
            expected[key] = deltas[key]
    assert load(name) == expected
