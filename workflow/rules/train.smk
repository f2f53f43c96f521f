# Training (one job per dataset, network and fold: what a cluster schedules on one GPU each)
# and encoding of every patch of the fold with the trained network.


rule train:
    input:
        volumes="results/{ds}/volumes",
        patches="results/{ds}/patches",
        folds="results/{ds}/folds.tsv",
    output:
        weights="results/{ds}/models/{model}/fold{fold}/weights.pt",
        history="results/{ds}/models/{model}/fold{fold}/history.tsv",
    log:
        "logs/{ds}/train/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/{ds}/train/{model}/fold{fold}.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=24 * 60,
        gpu=1,
    params:
        dataset=lambda wc: dcfg(wc.ds),
        # not an output: it must survive a killed job so that the rerun resumes from it
        checkpoint=lambda wc: f"results/{wc.ds}/models/{wc.model}/fold{wc.fold}/checkpoint.pt",
        seed_key=lambda wc: f"{wc.ds}/{wc.model}/fold{wc.fold}",
    script:
        "../scripts/train.py"


rule encode:
    input:
        weights="results/{ds}/models/{model}/fold{fold}/weights.pt",
        volumes="results/{ds}/volumes",
        patches="results/{ds}/patches",
        folds="results/{ds}/folds.tsv",
    output:
        features="results/{ds}/features/{model}/fold{fold}.npz",
    log:
        "logs/{ds}/encode/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/{ds}/encode/{model}/fold{fold}.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=120,
    params:
        dataset=lambda wc: dcfg(wc.ds),
    script:
        "../scripts/encode.py"
