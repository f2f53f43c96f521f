# The specificity sweep (config sweeps.specificity; crossmodal.studies.specificity): for each kappa, a
# derived dataset {ds}_kappa{p|m}{100 |kappa|} goes through the ordinary stages and its
# difficulty table; one fold of the four dropout x per-feature-normalization networks and
# baseline-all is trained from every seed and evaluated.


rule specificity:
    input:
        accuracy=sweep_accuracy,
        difficulty=sweep_difficulty,
    output:
        table="results/sweeps/specificity_{ds}.tsv",
    log:
        "logs/{ds}/specificity.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.studies.specificity"),
        kappas=sweep_values,
        difficulty_kappas=sweep_difficulty_values,
        modalities=ds_value("modalities"),
    script:
        "../scripts/specificity.py"


rule specificity_plot:
    input:
        table="results/sweeps/specificity_{ds}.tsv",
    output:
        pdf=report(
            "results/figures/specificity_{ds}.pdf",
            caption="../report/specificity_plot.rst",
            category="Specificity sweep",
            labels={"dataset": "{ds}"},
        ),
        png="results/figures/specificity_{ds}.png",
    log:
        "logs/{ds}/specificity_plot.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=library_code("crossmodal.studies.specificity_plot"),
    script:
        "../scripts/specificity_plot.py"
