# Learning curves (not part of `all`: hours of CPU for the default datasets): one fold of a
# dataset, the four dropout x per-feature-normalization networks at each alpha of config
# learning_curves.alpha, the dropout + normalization network at each of
# learning_curves.combination_alpha and baseline-all, trained past the default length and
# evaluated with the Table I forests at log-spaced update counts (the dataset's curve_updates,
# else learning_curves.updates); rule plateau reads where each curve flattens.
#   snakemake --cores all curves


rule curve_training:
    input:
        **TRAINING_JOB_INPUT,
    output:
        curve="results/{ds}/curves/{model}/fold{fold}.tsv",
    log:
        "logs/{ds}/curve_training/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/{ds}/curve_training/{model}/fold{fold}.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        **TRAINING_JOB_RESOURCES,
    params:
        **training_job_params("crossmodal.studies.curve_training"),
        updates=curve_updates,
        n_trees=config["forest"]["n_trees"],
        max_train_patches=ds_value("max_forest_train_patches"),
    script:
        "../scripts/curve_training.py"


rule curve_tables:
    input:
        curves=lambda wc: [
            f"results/{wc.ds}/curves/{m}/fold{config['learning_curves']['fold']}.tsv"
            for m in curve_networks()
        ],
    output:
        table="results/curves/learning_{ds}.tsv",
    log:
        "logs/{ds}/curve_tables.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.studies.curve_tables"),
        modalities=ds_value("modalities"),
    script:
        "../scripts/curve_tables.py"


rule plateau:
    input:
        table="results/curves/learning_{ds}.tsv",
    output:
        table="results/curves/plateau_{ds}.tsv",
    log:
        "logs/{ds}/plateau.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.studies.plateau"),
        tolerance=config["learning_curves"]["plateau_tolerance"],
    script:
        "../scripts/plateau.py"


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
    params:
        code=library_code("crossmodal.studies.learning_plot"),
    script:
        "../scripts/learning_plot.py"
