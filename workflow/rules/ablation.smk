# The ablation (config ablation; crossmodal.studies.ablation): per dataset, a derived dataset per level of
# each method switch and data size, one at a time from the default, goes through the ordinary
# stages; fold `ablation.fold` of the four alpha = 0 networks, the plain and the dropout +
# normalization networks at each `ablation.alpha` and baseline-all, from `ablation.seeds` seeds,
# trained for `ablation.updates` updates (only the networks a level changes), evaluated with the
# Table I forests and measured for the spread of their features (rule feature_sd). Not part of
# `all`:
#   snakemake --cores all ablations

from crossmodal.studies.ablation import paper_key


rule ablation:
    input:
        accuracy=ablation_inputs("accuracy"),
        feature_sd=ablation_inputs("feature_sd"),
    output:
        table="results/ablation/{ds}.tsv",
    log:
        "logs/{ds}/ablation.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=library_code("crossmodal.studies.ablation"),
        levels=ablation_levels,
        modalities=ds_value("modalities"),
        models=ABLATION_MODELS,
        paper=lambda wc: paper_key(dcfg(wc.ds)),
        training=ablation_training,
    script:
        "../scripts/ablation.py"


rule ablation_plot:
    input:
        table="results/ablation/{ds}.tsv",
    output:
        pdf=report(
            "results/figures/ablation_{ds}.pdf",
            caption="../report/ablation_plot.rst",
            category="Ablation",
            labels={"dataset": "{ds}"},
        ),
        png="results/figures/ablation_{ds}.png",
    log:
        "logs/{ds}/ablation_plot.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=library_code("crossmodal.studies.ablation_plot"),
    script:
        "../scripts/ablation_plot.py"
