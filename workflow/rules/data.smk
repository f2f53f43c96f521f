# Data stages: synthesize (synthetic datasets only) -> ingest -> normalize -> folds -> sample_patches.
# Cheap stages run one job per dataset (not per scan): a Python start costs ~1-2 s here, and a
# per-scan job would multiply that by hundreds of scans for seconds of work each.


rule synthesize:
    output:
        raw=directory("results/{ds}/raw"),
    params:
        synthetic=lambda wc: dcfg(wc.ds)["synthetic"],
        layout=lambda wc: dcfg(wc.ds)["layout"],
        modalities=lambda wc: dcfg(wc.ds)["modalities"],
    log:
        "logs/{ds}/synthesize.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/synthesize.py"


rule ingest:
    input:
        raw=synthesize_output,
    output:
        manifest="results/{ds}/manifest.tsv",
    params:
        root=lambda wc: raw_root(wc.ds),
        dataset=lambda wc: dcfg(wc.ds),
    log:
        "logs/{ds}/ingest.log",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/ingest.py"


rule normalize:
    input:
        manifest="results/{ds}/manifest.tsv",
    output:
        volumes=directory("results/{ds}/volumes"),
    params:
        dataset=lambda wc: dcfg(wc.ds),
    log:
        "logs/{ds}/normalize.log",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/normalize.py"


rule folds:
    input:
        manifest="results/{ds}/manifest.tsv",
    output:
        folds="results/{ds}/folds.tsv",
    params:
        n_folds=lambda wc: dcfg(wc.ds)["folds"],
        seed=lambda wc: dcfg(wc.ds)["seed"],
    log:
        "logs/{ds}/folds.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/folds.py"


rule sample_patches:
    input:
        volumes="results/{ds}/volumes",
    output:
        patches=directory("results/{ds}/patches"),
    params:
        dataset=lambda wc: dcfg(wc.ds),
    log:
        "logs/{ds}/sample_patches.log",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/sample_patches.py"
