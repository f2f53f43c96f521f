# Targets: what `all`, `curves` and `ablations` (the Snakefile) build.


def table_targets():
    return ["results/table1.csv", "results/table1.md"] + [
        f"results/{ds}/{name}"
        for ds in DATASETS
        for name in ("pairs.csv", "claims.tsv")
    ]


def figure_targets():
    return [
        f"results/figures/fig{n}_{ds}.{ext}"
        for ds in DATASETS
        for n in (5, 6, 7, 8)
        for ext in ("pdf", "png")
    ]


def difficulty_targets():
    return [f"results/{ds}/difficulty.tsv" for ds in DATASETS]


def sweep_bases():
    """The datasets of the specificity sweep, in config order."""
    return list(dict.fromkeys(base for base, _, _ in SWEEP.values()))


def sweep_targets():
    return [
        target
        for ds in sweep_bases()
        for target in (
            f"results/sweeps/specificity_{ds}.tsv",
            f"results/figures/specificity_{ds}.pdf",
            f"results/figures/specificity_{ds}.png",
        )
    ]


def all_targets():
    return table_targets() + figure_targets() + difficulty_targets() + sweep_targets()


def curve_targets():
    return [
        path
        for ds in DATASETS
        for path in (
            f"results/figures/learning_{ds}.pdf",
            f"results/figures/learning_{ds}.png",
            f"results/curves/plateau_{ds}.tsv",
        )
    ]


def ablation_bases():
    """The ablated datasets, in config order."""
    return list(dict.fromkeys(level.base for level in ABLATION.values()))


def ablation_targets():
    return [
        target
        for ds in ablation_bases()
        for target in (
            f"results/ablation/{ds}.tsv",
            f"results/figures/ablation_{ds}.pdf",
            f"results/figures/ablation_{ds}.png",
        )
    ]


def archive_targets():
    """Rule archives' inputs: every table of an archived product (ARCHIVE_CHAINS) of every network
    trained under results/ (its weights.pt), unless the archive's stands in. Every product of a
    network, so a later piece on another machine needs none of its training again, whichever
    of its tables the piece that trained it had asked for.
    """
    trained = glob_wildcards("results/{ds}/models/{model}/fold{fold}/weights.pt")
    return [
        f"results/archive/{ds}/{product}/{model}/fold{fold}.tsv"
        for ds, model, fold in zip(*trained)
        if ds in config["datasets"] and fold.isdigit()
        for product in ARCHIVE_CHAINS
        if archived_table(product, ds, model, fold) is None
    ]
