# Figures 5-8. Each figure is a compute rule (writes a tidy table under results/{ds}/figdata/) and
# a plot rule that draws only from that table.
# Like every computing rule, each has a `code` param (params.smk, library_code): editing
# fig7_plot.py reruns only the fig7 plot jobs; editing fig7_data.py reruns fig7_data and its plot.
import os

from crossmodal.common.model_ids import axial_model_id, axial_model_ids

FIG_ALPHA = config["figures"]["alpha"]
FIG_FOLD = config["figures"]["fold"]
# the four dropout x per-feature-normalization panels (a)-(d) of Fig. 6: as in the paper, (a) is
# the basic model at alpha = 0 (Sec. V-B compares its feature SDs with the alpha > 0 models),
# (b)-(d) are at figures.alpha
FIG6_MODELS = [axial_model_id(0, 0, 0.0)] + [
    axial_model_id(md, pfn, FIG_ALPHA) for md, pfn in ((0, 1), (1, 0), (1, 1))
]
# the whole axial grid (Figs. 7 and 8)
GRID_MODELS = axial_model_ids(GRID)


rule fig5_data:
    input:
        weights=lambda wc: f"results/{wc.ds}/models/{config['figures']['fig5_model']}/fold{FIG_FOLD}/weights.pt",
        volumes="results/{ds}/volumes",
        patches="results/{ds}/patches",
        folds="results/{ds}/folds.tsv",
    output:
        table="results/{ds}/figdata/fig5.tsv",
    log:
        "logs/{ds}/fig5_data.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        code=library_code("crossmodal.figures.fig5_data"),
        modalities=ds_value("modalities"),
        classes=class_names,
        seed=ds_value("seed"),
        model=config["figures"]["fig5_model"],
        fold=FIG_FOLD,
        n_patches=config["figures"]["fig5_patches"],
    script:
        "../scripts/fig5_data.py"


rule fig6_data:
    input:
        # model-major, the order fig6_data expects
        features=lambda wc: [
            f"results/{wc.ds}/features/{m}/fold{FIG_FOLD}.npz" for m in FIG6_MODELS
        ],
    output:
        table="results/{ds}/figdata/fig6.tsv",
    log:
        "logs/{ds}/fig6_data.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        code=library_code("crossmodal.figures.fig6_data"),
        modalities=ds_value("modalities"),
        seed=ds_value("seed"),
        models=FIG6_MODELS,
        fold=FIG_FOLD,
        mi_samples=config["figures"]["mi_samples"],
    script:
        "../scripts/fig6_data.py"


rule fig7_data:
    input:
        # model-major, the order the figure-data functions expect
        ncc=lambda wc: [
            product_file("feature_ncc", wc.ds, m, k)
            for m in GRID_MODELS
            for k in folds(wc.ds)
        ],
    output:
        table="results/{ds}/figdata/fig7.tsv",
    log:
        "logs/{ds}/fig7_data.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.figures.fig7_data"),
        modalities=ds_value("modalities"),
        models=GRID_MODELS,
        folds=lambda wc: folds(wc.ds),
    script:
        "../scripts/fig7_data.py"


rule fig8_data:
    input:
        # model-major, the order the figure-data functions expect
        selection=lambda wc: [
            product_file("feature_selection", wc.ds, m, k)
            for m in GRID_MODELS
            for k in folds(wc.ds)
        ],
    output:
        table="results/{ds}/figdata/fig8.tsv",
    log:
        "logs/{ds}/fig8_data.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=library_code("crossmodal.figures.fig8_data"),
        modalities=ds_value("modalities"),
        models=GRID_MODELS,
        folds=lambda wc: folds(wc.ds),
    script:
        "../scripts/fig8_data.py"


rule fig_plot:
    input:
        table="results/{ds}/figdata/fig{fig}.tsv",
    output:
        # in the report: the vector PDF; fig_plot.rst includes the caption fig{fig}.rst (a
        # caption path cannot contain wildcards)
        pdf=report(
            "results/figures/fig{fig}_{ds}.pdf",
            caption="../report/fig_plot.rst",
            category="Figures",
            subcategory="{ds}",
            labels={"figure": "Fig. {fig}", "dataset": "{ds}"},
        ),
        png="results/figures/fig{fig}_{ds}.png",
    log:
        "logs/{ds}/fig{fig}_plot.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        # fig_plot imports every figure's drawing module; a job runs its own figure's only
        code=library_code(
            "crossmodal.figures.fig_plot",
            "crossmodal.figures.fig{fig}_plot",
            skip=[f"crossmodal.figures.fig{n}_plot" for n in (5, 6, 7, 8)],
        ),
        modalities=ds_value("modalities"),
        fig=lambda wc: int(wc.fig),
        caption=lambda wc: os.path.relpath(
            Path(workflow.basedir) / "workflow" / "report" / f"fig{wc.fig}.rst"
        ),
    script:
        "../scripts/fig_plot.py"
