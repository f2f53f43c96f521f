# Input functions: the files a job of a dataset, cell, sweep or ablation reads.
from snakemake.logging import logger

from crossmodal.common.model_ids import cell_networks, curve_ids, seeded_id, variant_ids
from crossmodal.evaluation.archive import (
    differing_keys,
    entry_paths,
    read_provenance,
    standing_in,
)
from crossmodal.studies.ablation import level_networks


def ingest_inputs(wildcards):
    """Synthetic data, what rule synthesize writes; real data, none (see scan_digest)."""
    return f"results/{wildcards.ds}/raw" if is_synthetic(wildcards.ds) else []


def product_file(product, ds, model, fold):
    """A network's table of one product and fold (ARCHIVE_CHAINS): the archived one where it
    stands in (config archive, workflow/rules/archive.smk), else the one its rule writes.
    """
    archived = archived_table(product, ds, model, str(fold))
    return archived or f"results/{ds}/{product}/{model}/fold{fold}.tsv"


def accuracy_file(ds, model, fold):
    """A network's accuracy table of one fold (rule evaluate, or the archive's)."""
    return product_file("accuracy", ds, model, fold)


def dataset_accuracy(wildcards):
    """Rules pairs and claims: the accuracy table of every network, seed and fold."""
    return [
        accuracy_file(wildcards.ds, net, k)
        for net in seeded(wildcards.ds, networks(wildcards.ds))
        for k in folds(wildcards.ds)
    ]


def cell_accuracy_inputs(wildcards):
    nets = cell_networks(wildcards.cell, dcfg(wildcards.ds)["modalities"])
    return [
        accuracy_file(wildcards.ds, net, k)
        for net in seeded(wildcards.ds, nets)
        for k in folds(wildcards.ds)
    ]


def sweep_runs(ds):
    """The specificity sweep's trained networks of base dataset ``ds``: (derived, kappa, seeded id)."""
    sweep = config["sweeps"]["specificity"]
    models = variant_ids(sweep["alpha"])
    return [
        (name, kappa, seeded_id(model, seed))
        for name, (base, kappa, _) in SWEEP.items()
        if base == ds
        for model in models
        for seed in range(sweep["seeds"])
    ]


def sweep_accuracy(wildcards):
    """Rule specificity's inputs: per kappa, network and seed, the fold's accuracy table."""
    fold = config["sweeps"]["specificity"]["fold"]
    return [
        accuracy_file(name, model, fold) for name, _, model in sweep_runs(wildcards.ds)
    ]


def sweep_difficulty(wildcards):
    """Rule specificity's difficulty tables: one per kappa of the sweep."""
    return [
        f"results/{name}/difficulty.tsv"
        for name, (base, _, _) in SWEEP.items()
        if base == wildcards.ds
    ]


def curve_networks():
    """The networks of the learning curves (config learning_curves)."""
    curves = config["learning_curves"]
    return curve_ids(curves["alpha"], curves["combination_alpha"])


def ablation_rows(ds):
    """``[(level name, derived dataset, seeded network)]``: one per row of the ablation table."""
    return [
        (name, where, model)
        for name, level in ABLATION.items()
        if level.base == ds
        for where, model in level_networks(
            ABLATION, name, config["ablation"]["seeds"], ABLATION_MODELS
        )
    ]


def ablation_inputs(product):
    """Input function of the ablation rule; per row, the table of ``product`` (accuracy or
    feature_sd), the archive's where it stands in.
    """
    fold = config["ablation"]["fold"]

    def inputs(wildcards):
        return [
            product_file(product, where, model, fold)
            for _, where, model in ablation_rows(wildcards.ds)
        ]

    return inputs


@functools.cache
def archived_table(product, ds, model, fold):
    """The archived table that stands in for this product's table, or None (config archive)."""
    archive = config["archive"]
    if archive is None:
        return None
    provenance = entry_paths(archive, product, ds, model, fold)[1]
    # the key evaluates the params of seven rules (a real dataset's scan listing among them):
    # only for networks that have an entry
    if not provenance.exists():
        return None
    key = archive_key(product, ds, model, str(fold))
    with exit_on_input_error():
        table = standing_in(archive, product, ds, model, fold, key)
        if table is None:
            stored = read_provenance(provenance)["key"]
            logger.warning(
                f"archive {archive}: {ds}/{product}/{model}/fold{fold} was measured with other "
                f"settings or code ({', '.join(differing_keys(stored, key)[:5])}); it trains again"
            )
    return None if table is None else str(table)
