# Data stages: synthesize (synthetic datasets only) -> ingest -> normalize -> folds -> sample_patches.
# Cheap stages run one job per dataset (not per scan): a Python start costs ~1-2 s here, and a
# per-scan job would multiply that by hundreds of scans for seconds of work each.


rule synthesize:
    output:
        raw=directory("results/{ds}/raw"),
    log:
        "logs/{ds}/synthesize.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        synthetic=lambda wc: dcfg(wc.ds)["synthetic"],
        layout=lambda wc: dcfg(wc.ds)["layout"],
        modalities=lambda wc: dcfg(wc.ds)["modalities"],
    script:
        "../scripts/synthesize.py"


rule ingest:
    input:
        raw=synthesize_output,
    output:
        manifest="results/{ds}/manifest.tsv",
    log:
        "logs/{ds}/ingest.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        root=lambda wc: raw_root(wc.ds),
        dataset=lambda wc: dcfg(wc.ds),
    script:
        "../scripts/ingest.py"


rule normalize:
    input:
        manifest="results/{ds}/manifest.tsv",
    output:
        volumes=directory("results/{ds}/volumes"),
    log:
        "logs/{ds}/normalize.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        dataset=lambda wc: dcfg(wc.ds),
        name=lambda wc: wc.ds,
    script:
        "../scripts/normalize.py"


rule folds:
    input:
        manifest="results/{ds}/manifest.tsv",
    output:
        folds="results/{ds}/folds.tsv",
    log:
        "logs/{ds}/folds.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        n_folds=lambda wc: dcfg(wc.ds)["folds"],
        seed=lambda wc: dcfg(wc.ds)["seed"],
        name=lambda wc: wc.ds,
    script:
        "../scripts/folds.py"


rule sample_patches:
    input:
        volumes="results/{ds}/volumes",
    output:
        patches=directory("results/{ds}/patches"),
    log:
        "logs/{ds}/sample_patches.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        dataset=lambda wc: dcfg(wc.ds),
        name=lambda wc: wc.ds,
    script:
        "../scripts/sample_patches.py"
