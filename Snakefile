# Reproduces van Tulder & de Bruijne, "Learning Cross-Modality Representations from Multi-Modal
# Images" (IEEE TMI 2019). See README.md; stage contracts in docs/architecture.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        all_targets(),
    default_target: True
