# Figures 5-8. Each figure is a compute rule (writes a tidy table under results/{ds}/figdata/) and
# a plot rule that draws only from that table. Plot and data rules list their library module as
# an input, so that editing the drawing code reruns only that plot job (Snakemake's mtime trigger
# sees library files only when they are inputs).

FIG_ALPHA = config["figures"]["alpha"]
FIG_FOLD = config["figures"]["fold"]


def library_file(name):
    return str(Path(workflow.basedir) / "src" / "crossmodal" / "figures" / name)


def axial_grid_panels():
    """The four dropout x per-feature-normalization panels (a)-(d) at the Fig. 6 alpha."""
    return [axial_model_id(md, pfn, FIG_ALPHA) for md in (0, 1) for pfn in (0, 1)]


def features_of(ds, models, fold_list):
    return [f"results/{ds}/features/{m}/fold{k}.npz" for m in models for k in fold_list]


rule fig5_data:
    input:
        weights=lambda wc: f"results/{wc.ds}/models/{config['figures']['fig5_model']}/fold{FIG_FOLD}/weights.pt",
        volumes="results/{ds}/volumes",
        patches="results/{ds}/patches",
        folds="results/{ds}/folds.tsv",
        code=library_file("fig5_data.py"),
    output:
        table="results/{ds}/figdata/fig5.tsv",
    params:
        dataset=lambda wc: dcfg(wc.ds),
        model=config["figures"]["fig5_model"],
        fold=FIG_FOLD,
        n_patches=config["figures"]["fig5_patches"],
    log:
        "logs/{ds}/fig5_data.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/fig5_data.py"


rule fig6_data:
    input:
        features=lambda wc: features_of(wc.ds, axial_grid_panels(), [FIG_FOLD]),
        code=library_file("fig6_data.py"),
    output:
        table="results/{ds}/figdata/fig6.tsv",
    params:
        dataset=lambda wc: dcfg(wc.ds),
        models=axial_grid_panels(),
        mi_samples=config["figures"]["mi_samples"],
    log:
        "logs/{ds}/fig6_data.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/fig6_data.py"


rule fig7_data:
    input:
        features=lambda wc: features_of(wc.ds, axial_model_ids(GRID), folds(wc.ds)),
        code=library_file("fig7_data.py"),
    output:
        table="results/{ds}/figdata/fig7.tsv",
    params:
        dataset=lambda wc: dcfg(wc.ds),
        models=axial_model_ids(GRID),
    log:
        "logs/{ds}/fig7_data.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/fig7_data.py"


rule fig8_data:
    input:
        features=lambda wc: features_of(wc.ds, axial_model_ids(GRID), folds(wc.ds)),
        folds="results/{ds}/folds.tsv",
        code=library_file("fig8_data.py"),
    output:
        table="results/{ds}/figdata/fig8.tsv",
    params:
        dataset=lambda wc: dcfg(wc.ds),
        models=axial_model_ids(GRID),
        feature_counts=config["figures"]["feature_counts"],
        n_trees=config["forest"]["n_trees"],
    log:
        "logs/{ds}/fig8_data.log",
    benchmark:
        "benchmarks/{ds}/fig8_data.tsv"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/fig8_data.py"


rule fig_plot:
    input:
        table="results/{ds}/figdata/fig{fig}.tsv",
        code=lambda wc: library_file(f"fig{wc.fig}_plot.py"),
        style=library_file("style.py"),
    output:
        pdf=report(
            "results/figures/fig{fig}_{ds}.pdf",
            caption="../report/fig{fig}.rst",
            category="Figures",
            subcategory="{ds}",
        ),
        png="results/figures/fig{fig}_{ds}.png",
    params:
        dataset=lambda wc: dcfg(wc.ds),
        fig=lambda wc: int(wc.fig),
    log:
        "logs/{ds}/fig{fig}_plot.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../../envs/crossmodal.yaml"
    script:
        "../scripts/fig_plot.py"
