# The specificity sweep (config sweeps.specificity; crossmodal.specificity): for each rho, a
# derived dataset {ds}_rho{100 rho} goes through the ordinary stages; one fold of the four
# dropout x per-feature-normalization networks and baseline-all is trained and evaluated.


rule specificity:
    input:
        accuracy=sweep_accuracy,
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
        rhos=sweep_rhos,
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
    script:
        "../scripts/specificity_plot.py"
