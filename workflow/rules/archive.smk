# The archive of measured results (crossmodal.evaluation.archive; docs/architecture.md). A long
# configuration is run in pieces, on machines that do not keep results/: rule archive copies a
# finished network's table of one product (its accuracy, the spread of its features, its units
# of Figs. 7 and 8) with the provenance of the jobs that made it to results/archive/, which is
# committed under the directory config `archive` names. With that key set, archived_table (inputs.smk) reads an
# archived table in place of training where the provenance (archive_key, params.smk) matches the
# jobs this workflow would run for it; target `archives` (archive_targets, targets.smk) archives
# every such table under results/.
rule archive:
    input:
        table="results/{ds}/{product}/{model}/fold{fold}.tsv",
        weights="results/{ds}/models/{model}/fold{fold}/weights.pt",
        history="results/{ds}/models/{model}/fold{fold}/history.tsv",
    output:
        table="results/archive/{ds}/{product}/{model}/fold{fold}.tsv",
        provenance="results/archive/{ds}/{product}/{model}/fold{fold}.json",
    log:
        "logs/{ds}/archive/{product}/{model}/fold{fold}.log",
    wildcard_constraints:
        product="|".join(ARCHIVE_CHAINS),
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.evaluation.archive"),
        key=archive_key_param,
    script:
        "../scripts/archive.py"
