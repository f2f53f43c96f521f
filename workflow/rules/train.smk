# Training, one job per dataset, network and fold (what a cluster schedules on one GPU each).
# The same job then encodes every train and test patch of the fold with the trained network:
# the fold's volumes are opened once, and no second process starts per network.

# What rule train and rule curve_training (curves.smk) share: a training job of one network
# and fold, trained from the same config values (crossmodal.training.training_job): these
# inputs and resources, and the params of training_job_params (params.smk). Shared as values:
# `use rule train as curve_training with:` cannot replace a rule's script.
TRAINING_JOB_INPUT = {
    "volumes": "results/{ds}/volumes",
    "patches": "results/{ds}/patches",
    "folds": "results/{ds}/folds.tsv",
}
TRAINING_JOB_RESOURCES = {"mem_mb": 6000, "runtime": 24 * 60, "gpu": 1}


rule train:
    input:
        **TRAINING_JOB_INPUT,
    output:
        weights="results/{ds}/models/{model}/fold{fold}/weights.pt",
        history="results/{ds}/models/{model}/fold{fold}/history.tsv",
        features="results/{ds}/features/{model}/fold{fold}.npz",
    log:
        "logs/{ds}/train/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/{ds}/train/{model}/fold{fold}.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        **TRAINING_JOB_RESOURCES,
    params:
        **training_job_params("crossmodal.training.train"),
        # not an output: it must survive a killed job so that the rerun resumes from it
        checkpoint=lambda wc: f"results/{wc.ds}/models/{wc.model}/fold{wc.fold}/checkpoint.pt",
    script:
        "../scripts/train.py"
