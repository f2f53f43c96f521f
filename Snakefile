# Reproduces van Tulder & de Bruijne, "Learning Cross-Modality Representations from Multi-Modal
# Images" (IEEE TMI 2019). See README.md; stage contracts in docs/architecture.md.
import sys

from snakemake.utils import min_version, validate

min_version("9.27.1")

# This checkout's library, ahead of any installed crossmodal (the jobs' scripts do the same).
sys.path.insert(0, f"{workflow.basedir}/src")

from crossmodal.common.config_checks import check_config, check_schema
from crossmodal.common.logs import exit_on_input_error
from crossmodal.common.model_ids import AXIAL_PATTERN, SEED_PATTERN

# config.yaml next to this file is the default; a --configfile replaces it (Snakemake would
# otherwise merge the two, mixing the default datasets into e.g. the smoke run).
if not workflow.config_settings.configfiles:

    configfile: f"{workflow.basedir}/config.yaml"


SCHEMA = f"{workflow.basedir}/workflow/schemas/config.schema.yaml"
# a short message naming the key at fault first; then Snakemake's validation fills the defaults
with exit_on_input_error():
    check_schema(config, SCHEMA)
validate(config, SCHEMA)


report: "workflow/report/workflow.rst"


# the datasets and their networks (DATASETS, the derived SWEEP and ABLATION, dcfg, ...)
include: "workflow/rules/datasets.smk"


# The derived datasets of the specificity sweep and the ablation join the config's datasets
# here, so that every rule (dcfg) and every job's script (snakemake.config, for the settings that
# do not change results, such as training.checkpoint_minutes) finds a derived block where it
# finds a configured one. DATASETS keeps the configured ones only.
config["datasets"].update(DERIVED_BLOCKS)
with exit_on_input_error():
    check_config(config)


# the functions the rules call: params, inputs, targets
include: "workflow/rules/params.smk"
include: "workflow/rules/inputs.smk"
include: "workflow/rules/targets.smk"


wildcard_constraints:
    ds="|".join(DATASETS + list(SWEEP) + list(ABLATION)),
    fold=r"\d+",
    model=rf"(?:{AXIAL_PATTERN}|baseline-[A-Za-z0-9]+){SEED_PATTERN}",
    cell=rf"{AXIAL_PATTERN}|baseline-[A-Za-z0-9]+",
    fig=r"[5678]",


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/curves.smk"
include: "workflow/rules/sweeps.smk"
include: "workflow/rules/difficulty.smk"
include: "workflow/rules/ablation.smk"
include: "workflow/rules/archive.smk"


rule all:
    default_target: True
    input:
        all_targets(),


# learning curves of every dataset (workflow/rules/curves.smk; not part of `all`)
rule curves:
    input:
        curve_targets(),


# the ablation of the method's open points and the data's size (workflow/rules/ablation.smk;
# not part of `all`)
rule ablations:
    input:
        ablation_targets(),


# every accuracy table under results/ with its provenance, to commit under config `archive`
# (workflow/rules/archive.smk; not part of `all`)
rule archives:
    input:
        archive_targets(),
