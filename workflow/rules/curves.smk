# Learning curves (not part of `all`: about an hour of CPU for the default datasets): one fold
# of a dataset, the four dropout x per-feature-normalization networks at each alpha of
# config learning_curves.alpha and baseline-all, trained past the default length and
# evaluated with the Table I forests at log-spaced update counts.
#   snakemake --cores all curves


rule learning_curve:
    input:
        volumes="results/{ds}/volumes",
        patches="results/{ds}/patches",
        folds="results/{ds}/folds.tsv",
    output:
        curve="results/{ds}/curves/{model}/fold{fold}.tsv",
    log:
        "logs/{ds}/learning_curve/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/{ds}/learning_curve/{model}/fold{fold}.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=6000,
        runtime=24 * 60,
        gpu=1,
    params:
        modalities=ds_value("modalities"),
        patch_size=ds_value("patch_size"),
        network=ds_value("network"),
        training=training_params,
        seed=ds_value("seed"),
        updates=config["learning_curves"]["updates"],
        n_trees=config["forest"]["n_trees"],
        max_train_patches=ds_value("max_forest_train_patches"),
    script:
        "../scripts/learning_curve.py"


rule learning_curves:
    input:
        curves=lambda wc: [
            f"results/{wc.ds}/curves/{m}/fold{config['learning_curves']['fold']}.tsv"
            for m in variant_ids(config["learning_curves"]["alpha"])
        ],
    output:
        table="results/curves/learning_{ds}.tsv",
    log:
        "logs/{ds}/learning_curves.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        modalities=ds_value("modalities"),
    script:
        "../scripts/learning_curves.py"


rule learning_plot:
    input:
        table="results/curves/learning_{ds}.tsv",
    output:
        pdf=report(
            "results/figures/learning_{ds}.pdf",
            caption="../report/learning_plot.rst",
            category="Learning curves",
            labels={"dataset": "{ds}"},
        ),
        png="results/figures/learning_{ds}.png",
    log:
        "logs/{ds}/learning_plot.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/learning_plot.py"
