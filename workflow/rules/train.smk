# Training, one job per dataset, network and fold (what a cluster schedules on one GPU each).
# The same job then encodes every train and test patch of the fold with the trained network:
# the fold's volumes are opened once, and no second process starts per network.


rule train:
    input:
        volumes="results/{ds}/volumes",
        patches="results/{ds}/patches",
        folds="results/{ds}/folds.tsv",
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
        mem_mb=6000,
        runtime=24 * 60,
        gpu=1,
    params:
        code=library_code(
            "crossmodal.training.train", "crossmodal.training.training_job"
        ),
        modalities=ds_value("modalities"),
        patch_size=ds_value("patch_size"),
        network=ds_value("network"),
        training=training_params,
        seed=ds_value("seed"),
        # not an output: it must survive a killed job so that the rerun resumes from it
        checkpoint=lambda wc: f"results/{wc.ds}/models/{wc.model}/fold{wc.fold}/checkpoint.pt",
    script:
        "../scripts/train.py"
