# Random-forest evaluation per network and fold, Table I cells, Table I, per-pair accuracies and
# the paper's claims. With training.seeds > 1 every network is trained and evaluated per seed
# ({id}_seed{n}); the cells, pairs and claims average over folds x seeds.


rule evaluate:
    input:
        features="results/{ds}/features/{model}/fold{fold}.npz",
    output:
        accuracy="results/{ds}/accuracy/{model}/fold{fold}.tsv",
    log:
        "logs/{ds}/evaluate/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/{ds}/evaluate/{model}/fold{fold}.tsv"
    # a trained network is evaluated before the next training starts, so a run stopped part-way
    # (a killed session, a wall-time limit) leaves an accuracy for every network it trained;
    # without it Snakemake started the queued trainings first
    priority: 1
    conda:
        "../../envs/crossmodal.yaml"
    # forests use n_jobs = threads. One by default: at demo scale a job is mostly Python
    # start-up, and with two reserved cores no evaluation could start beside a training on a
    # 2-core machine, so all of them waited for the end. The profiles raise it for
    # paper-scale forests (local 4, slurm 8).
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        code=library_code("crossmodal.evaluation.evaluate"),
        modalities=ds_value("modalities"),
        seed=ds_value("seed"),
        max_train_patches=ds_value("max_forest_train_patches"),
        n_trees=config["forest"]["n_trees"],
    script:
        "../scripts/evaluate.py"


# The features' SD across test patches per modality (crossmodal.evaluation.feature_sd): the
# mechanism of Sec. V-B / Fig. 6 as a few numbers per network, read by the ablation and archived
# like the accuracy tables.
rule feature_sd:
    input:
        features="results/{ds}/features/{model}/fold{fold}.npz",
    output:
        table="results/{ds}/feature_sd/{model}/fold{fold}.tsv",
    log:
        "logs/{ds}/feature_sd/{model}/fold{fold}.log",
    priority: 1
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=library_code("crossmodal.evaluation.feature_sd"),
        modalities=ds_value("modalities"),
    script:
        "../scripts/feature_sd.py"


# Figs. 7 and 8 per network and fold (crossmodal.evaluation.feature_ncc / feature_selection):
# small tables, archived like the accuracy tables (archive.smk), that fig7_data and fig8_data
# (report.smk) collect over the grid and the folds; so the figures of a run in pieces cover
# folds trained elsewhere.
rule feature_ncc:
    input:
        features="results/{ds}/features/{model}/fold{fold}.npz",
    output:
        table="results/{ds}/feature_ncc/{model}/fold{fold}.tsv",
    log:
        "logs/{ds}/feature_ncc/{model}/fold{fold}.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        code=library_code("crossmodal.evaluation.feature_ncc"),
        modalities=ds_value("modalities"),
    script:
        "../scripts/feature_ncc.py"


rule feature_selection:
    input:
        features="results/{ds}/features/{model}/fold{fold}.npz",
        folds="results/{ds}/folds.tsv",
    output:
        table="results/{ds}/feature_selection/{model}/fold{fold}.tsv",
    log:
        "logs/{ds}/feature_selection/{model}/fold{fold}.log",
    benchmark:
        "results/benchmarks/{ds}/feature_selection/{model}/fold{fold}.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    # forests use n_jobs = threads; one by default as rule evaluate (its comment), the profiles
    # raise it for paper-scale forests
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        code=library_code("crossmodal.evaluation.feature_selection"),
        modalities=ds_value("modalities"),
        seed=ds_value("seed"),
        max_train_patches=ds_value("max_forest_train_patches"),
        feature_counts=config["figures"]["feature_counts"],
        n_trees=config["forest"]["n_trees"],
    script:
        "../scripts/feature_selection.py"


rule cell:
    input:
        accuracy=cell_accuracy_inputs,
    output:
        cell="results/{ds}/cells/{cell}.tsv",
    log:
        "logs/{ds}/cell/{cell}.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.reporting.cell"),
        modalities=ds_value("modalities"),
    script:
        "../scripts/cell.py"


rule pairs:
    input:
        accuracy=dataset_accuracy,
    output:
        pairs="results/{ds}/pairs.csv",
    log:
        "logs/{ds}/pairs.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.reporting.pairs"),
        modalities=ds_value("modalities"),
        cells=CELLS,
    script:
        "../scripts/pairs.py"


rule claims:
    input:
        accuracy=dataset_accuracy,
    output:
        claims="results/{ds}/claims.tsv",
    log:
        "logs/{ds}/claims.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.reporting.claims"),
        modalities=ds_value("modalities"),
        cells=CELLS,
        paper=lambda wc: dcfg(wc.ds).get("paper"),
    script:
        "../scripts/claims.py"


rule table:
    input:
        cells=[f"results/{ds}/cells/{c}.tsv" for ds in DATASETS for c in CELLS],
        # table1.md ends with the claims in words
        claims=[f"results/{ds}/claims.tsv" for ds in DATASETS],
    output:
        csv=report(
            "results/table1.csv", caption="../report/table1.rst", category="Table I"
        ),
        md="results/table1.md",
    log:
        "logs/table.log",
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        code=library_code("crossmodal.reporting.table"),
        # dataset key -> "oai" / "brats" for datasets that reproduce the paper's experiments
        paper={ds: dcfg(ds).get("paper") for ds in DATASETS},
        modalities={ds: dcfg(ds)["modalities"] for ds in DATASETS},
    script:
        "../scripts/table.py"
