# Figures 5-8. Each figure is a compute rule (writes a tidy table under results/{ds}/figdata/) and
# a plot rule that draws only from that table.
#
# Rerunning only what changed: Snakemake's mtime trigger sees library code only when it is an
# input. Every figure rule therefore lists, as `code` inputs, its library module and every module
# of crossmodal.figures that module imports (read from its import statements by
# crossmodal.figures.code_deps, so a shared helper such as style.py or feature_stats.py cannot be
# forgotten). Editing fig7_plot.py reruns only the fig7 plot jobs; editing fig7_data.py reruns
# fig7_data and its plot; nothing upstream (training, encoding, Table I forests) depends on them.
# The paths are relative to the working directory, so moving the checkout does not change the
# jobs' input lists (which would rerun them). Snakemake 9 compares the checksum of a small input
# that is newer than the outputs: `touch` alone reruns nothing, an edit of the content does.
# Params hold only what a job uses: a param change reruns the job.
import os

from crossmodal.figures.code_deps import code_inputs

FIG_ALPHA = config["figures"]["alpha"]
FIG_FOLD = config["figures"]["fold"]
FIG_PACKAGE = Path(workflow.basedir) / "src" / "crossmodal" / "figures"
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
        code=code_inputs(["fig5_data"], FIG_PACKAGE),
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
        code=code_inputs(["fig6_data"], FIG_PACKAGE),
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
        features=lambda wc: [
            f"results/{wc.ds}/features/{m}/fold{k}.npz"
            for m in GRID_MODELS
            for k in folds(wc.ds)
        ],
        code=code_inputs(["fig7_data"], FIG_PACKAGE),
    output:
        table="results/{ds}/figdata/fig7.tsv",
    log:
        "logs/{ds}/fig7_data.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        modalities=ds_value("modalities"),
        models=GRID_MODELS,
        folds=lambda wc: folds(wc.ds),
    script:
        "../scripts/fig7_data.py"


rule fig8_data:
    input:
        # model-major, the order the figure-data functions expect
        features=lambda wc: [
            f"results/{wc.ds}/features/{m}/fold{k}.npz"
            for m in GRID_MODELS
            for k in folds(wc.ds)
        ],
        folds="results/{ds}/folds.tsv",
        code=code_inputs(["fig8_data"], FIG_PACKAGE),
    output:
        table="results/{ds}/figdata/fig8.tsv",
    log:
        "logs/{ds}/fig8_data.log",
    benchmark:
        "results/benchmarks/{ds}/fig8_data.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    # the forests use every thread given (n_jobs); Snakemake lowers this to --cores locally
    threads: 8
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        modalities=ds_value("modalities"),
        seed=ds_value("seed"),
        max_train_patches=ds_value("max_forest_train_patches"),
        models=GRID_MODELS,
        folds=lambda wc: folds(wc.ds),
        feature_counts=config["figures"]["feature_counts"],
        n_trees=config["forest"]["n_trees"],
    script:
        "../scripts/fig8_data.py"


rule fig_plot:
    input:
        table="results/{ds}/figdata/fig{fig}.tsv",
        # the dispatcher, the figure's drawing module and what it imports (style.py)
        code=lambda wc: code_inputs(["fig_plot", f"fig{wc.fig}_plot"], FIG_PACKAGE),
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
        modalities=ds_value("modalities"),
        fig=lambda wc: int(wc.fig),
        caption=lambda wc: os.path.relpath(
            Path(workflow.basedir) / "workflow" / "report" / f"fig{wc.fig}.rst"
        ),
    script:
        "../scripts/fig_plot.py"
