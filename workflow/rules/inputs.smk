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


def accuracy_file(ds, model, fold):
    """A network's accuracy table of one fold: the archived one where it stands in (config
    archive, workflow/rules/archive.smk), else the one rule evaluate writes.
    """
    archived = archived_accuracy(ds, model, str(fold))
    return archived or f"results/{ds}/accuracy/{model}/fold{fold}.tsv"


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
        for where, model in level_networks(ABLATION, name, config["ablation"]["seeds"])
    ]


def ablation_inputs(kind):
    """Input function of the ablation rule; per row, the accuracy table or the features file."""
    fold = config["ablation"]["fold"]
    pattern = {
        "accuracy": "results/{where}/accuracy/{model}/fold{fold}.tsv",
        "features": "results/{where}/features/{model}/fold{fold}.npz",
    }[kind]

    def inputs(wildcards):
        return [
            pattern.format(where=where, model=model, fold=fold)
            for _, where, model in ablation_rows(wildcards.ds)
        ]

    return inputs


@functools.cache
def archived_accuracy(ds, model, fold):
    """The archived table that stands in for this accuracy table, or None (config archive)."""
    archive = config["archive"]
    if archive is None:
        return None
    provenance = entry_paths(archive, ds, model, fold)[1]
    # the key evaluates the params of seven rules (a real dataset's scan listing among them):
    # only for networks that have an entry
    if not provenance.exists():
        return None
    key = archive_key(ds, model, str(fold))
    with exit_on_input_error():
        table = standing_in(archive, ds, model, fold, key)
        if table is None:
            stored = read_provenance(provenance)["key"]
            logger.warning(
                f"archive {archive}: {ds}/{model}/fold{fold} was measured with other "
                f"settings or code ({', '.join(differing_keys(stored, key)[:5])}); it trains again"
            )
    return None if table is None else str(table)
