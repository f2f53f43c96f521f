# Method-independent difficulty of a dataset: raw-intensity forests (the Table I protocol without a
# network) and how well each modality's patch centre is predicted from another modality's patch.


rule difficulty:
    input:
        volumes="results/{ds}/volumes",
        patches="results/{ds}/patches",
        folds="results/{ds}/folds.tsv",
    output:
        difficulty="results/{ds}/difficulty.tsv",
    log:
        "logs/{ds}/difficulty.log",
    benchmark:
        "results/benchmarks/{ds}/difficulty.tsv"
    conda:
        "../../envs/crossmodal.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        code=library_code("crossmodal.studies.difficulty"),
        modalities=ds_value("modalities"),
        seed=ds_value("seed"),
        n_trees=config["forest"]["n_trees"],
    script:
        "../scripts/difficulty.py"
