# Helpers shared by all rule files (dataset lookups, target builders and input functions).
# The Snakefile has put this checkout's src/ first on sys.path.
from pathlib import Path

from crossmodal.common.model_ids import (
    AXIAL_PATTERN,
    axial_model_id,
    SEED_PATTERN,
    SINGLE_BASELINE_CELL,
    axial_model_ids,
    cell_ids,
    cell_networks,
    curve_ids,
    network_ids,
    seeded_id,
    variant_ids,
)

from crossmodal.common.code_hash import LibraryCode
from crossmodal.common.config_checks import run_folds
from crossmodal.common.logs import exit_on_input_error
from crossmodal.studies.ablation import ablation_datasets, level_networks, paper_key
from crossmodal.training.method import network_method
from crossmodal.studies.specificity import sweep_datasets

# the configured datasets (Table I, figures, difficulty)
DATASETS = list(config["datasets"])
# the specificity sweep's derived datasets: name -> (base dataset, kappa, config block)
with exit_on_input_error():
    SWEEP = sweep_datasets(config["datasets"], config["sweeps"]["specificity"])
    # the ablation's derived datasets: name -> Level(base, factor, level, config block)
    ABLATION = ablation_datasets(config["datasets"], config["ablation"])
# The derived blocks join the config (after DATASETS was taken): the jobs' scripts read the
# settings that do not change results (checkpoint_minutes, ...) from snakemake.config.
config["datasets"].update({name: block for name, (_, _, block) in SWEEP.items()})
config["datasets"].update({name: level.block for name, level in ABLATION.items()})
GRID = config["grid"]
# the library this checkout's jobs run (the Snakefile put its src/ first on sys.path)
LIBRARY = LibraryCode(Path(workflow.basedir) / "src")


def library_code(*modules, skip=()):
    """A param: the hash of the library code a job runs (crossmodal.common.code_hash).

    ``code=library_code("crossmodal.training.train")`` is the hash of the source of crossmodal/training/train.py
    and of every crossmodal module it imports: an edit of their content reruns the job
    (Snakemake's params trigger), a ``touch`` does not. Every computing rule has one, naming the
    module of the function its script calls (a second module, with wildcards, may name one
    imported at run time). ``skip`` names modules followed only where they are entries: of the
    four drawing modules ``crossmodal.figures.fig_plot`` imports, the job of Fig. 7 hashes
    ``fig7_plot`` only (``LibraryCode.modules``). Computed when a job of the rule is in the DAG
    (a cluster job reads only its own modules), each module read once.
    """

    def code(wildcards):
        names = dict(wildcards.items())
        return LIBRARY.digest(
            *(module.format(**names) for module in modules), skip=skip
        )

    return code


def dcfg(ds):
    """The validated (defaults filled) config block of dataset ``ds`` (configured or derived)."""
    return config["datasets"][ds]


def canonical(value):
    """``value`` with every dict's keys sorted, recursively (lists keep their order).

    Snakemake's params trigger compares params including the order of dict keys: without this,
    writing a config block's keys in another order would rerun the jobs that read it.
    """
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def ds_value(key):
    """A param function: the value at dotted ``key`` of the job's dataset block.

    ``params: epochs=ds_value("training.epochs")`` gives the job ``datasets.{ds}.training.epochs``
    (defaults filled by the schema; a block comes with its keys sorted, see :func:`canonical`).
    Params hold only what a job reads, so that Snakemake's params trigger reruns a job exactly
    when a key it uses changes.
    """

    def value(wildcards):
        block = dcfg(wildcards.ds)
        for part in key.split("."):
            block = block[part]
        return canonical(block)

    return value


def ds_subset(*keys):
    """A param function: the job's dataset block restricted to ``keys`` (top-level keys).

    For library functions that take a block, e.g. ``ds_subset("network", "patch_size")``; a key
    absent from the block (an optional one without a default, such as ``root`` of a synthetic
    dataset) is left out. Keys sorted, see :func:`canonical`.
    """

    def subset(wildcards):
        block = dcfg(wildcards.ds)
        return canonical({key: block[key] for key in keys if key in block})

    return subset


def is_synthetic(ds):
    return "synthetic" in dcfg(ds)


def raw_root(ds):
    """Where the raw scans of ``ds`` are: generated under results/ for synthetic datasets."""
    if is_synthetic(ds):
        return f"results/{ds}/raw"
    if "root" not in dcfg(ds):
        raise ValueError(
            f"config: datasets.{ds}.root is required for a non-synthetic dataset"
        )
    return dcfg(ds)["root"]


def folds(ds):
    """The folds whose networks Table I, pairs, claims and Figs. 7-8 use (config run_folds)."""
    return run_folds(config) or list(range(dcfg(ds)["folds"]))


def networks(ds):
    return network_ids(GRID, dcfg(ds)["modalities"])


def cells(ds):
    return cell_ids(GRID)


def seeds(ds):
    """The initialisation seeds of the dataset's networks (seed 0: the bare network id)."""
    return list(range(dcfg(ds)["training"]["seeds"]))


def seeded(ds, nets):
    """Every seed of each network of ``nets`` (network-major: seed 0, 1, ... of each)."""
    return [seeded_id(net, seed) for net in nets for seed in seeds(ds)]


def dataset_accuracy(wildcards):
    """Rules pairs and claims: the accuracy table of every network, seed and fold."""
    return [
        f"results/{wildcards.ds}/accuracy/{net}/fold{k}.tsv"
        for net in seeded(wildcards.ds, networks(wildcards.ds))
        for k in folds(wildcards.ds)
    ]


def class_names(wildcards):
    """A param function: the names of the job's dataset's classes (not their raw values)."""
    return [c["name"] for c in dcfg(wildcards.ds)["classes"]]


def mask_settings(wildcards):
    """A param function: the mask keys a job uses (``dilation_voxels`` only where dilated)."""
    mask = dcfg(wildcards.ds)["mask"]
    if mask["rule"] == "dilated_labels":
        return {"rule": mask["rule"], "dilation_voxels": mask["dilation_voxels"]}
    return {"rule": mask["rule"]}


def ingest_settings(wildcards):
    """A param function: the keys of the dataset block that the manifest and scan checks read."""
    block = dcfg(wildcards.ds)
    keys = ["layout", "modalities", "classes", "affine_tolerance"]
    keys += ["manifest"] if block["layout"] == "generic" else []
    return canonical(
        {**{key: block[key] for key in keys}, "mask": mask_settings(wildcards)}
    )


def ingest_inputs(wildcards):
    """Synthetic data, what rule synthesize writes; real data, none (see scan_digest)."""
    return f"results/{wildcards.ds}/raw" if is_synthetic(wildcards.ds) else []


def scan_digest(wildcards):
    """A param function: a real dataset's scan files, checked, as a digest (None if synthetic).

    The layout adapter lists the files without opening them; a layout problem (say, a case
    folder without its label file), a file that cannot be read or too few subjects for the
    folds stops the DAG here, before any job, in a few lines naming the cause.
    """
    if is_synthetic(wildcards.ds):
        return None
    # imported here: only real datasets need it, and it imports the image readers
    from crossmodal.data.ingest import scan_listing

    with exit_on_input_error():
        return scan_listing(
            raw_root(wildcards.ds),
            ingest_settings(wildcards),
            wildcards.ds,
            dcfg(wildcards.ds)["folds"],
        )


def cell_accuracy_inputs(wildcards):
    nets = cell_networks(wildcards.cell, dcfg(wildcards.ds)["modalities"])
    return [
        f"results/{wildcards.ds}/accuracy/{net}/fold{k}.tsv"
        for net in seeded(wildcards.ds, nets)
        for k in folds(wildcards.ds)
    ]


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
        f"results/{name}/accuracy/{model}/fold{fold}.tsv"
        for name, _, model in sweep_runs(wildcards.ds)
    ]


def sweep_values(wildcards):
    """The kappa of each accuracy input of rule specificity, in the same order."""
    return [kappa for _, kappa, _ in sweep_runs(wildcards.ds)]


def sweep_difficulty(wildcards):
    """Rule specificity's difficulty tables: one per kappa of the sweep."""
    return [
        f"results/{name}/difficulty.tsv"
        for name, (base, _, _) in SWEEP.items()
        if base == wildcards.ds
    ]


def sweep_difficulty_values(wildcards):
    """The kappa of each difficulty input of rule specificity, in the same order."""
    return [kappa for base, kappa, _ in SWEEP.values() if base == wildcards.ds]


def all_targets():
    return table_targets() + figure_targets() + difficulty_targets() + sweep_targets()


# the keys of the `training` block that change the trained network (params: a change reruns
# training); checkpoint_minutes and encode_batch_size do not, and the script reads them from
# the config
TRAINING_PARAMS = ("epochs", "batch_size", "learning_rate", "lr_decay", "precision")


def training_params(wildcards):
    """A param function: the keys of the job's `training` block that change the network.

    ``updates`` where set, and under ``method`` the keys of the dataset's `method` block that
    change this network and differ from today's readings (crossmodal.training.method.network_method):
    a switch reruns exactly the networks it changes, and a config at today's readings keeps the
    params its trainings were recorded with.
    """
    block = dcfg(wildcards.ds)
    training = block["training"]
    params = {key: training[key] for key in TRAINING_PARAMS}
    if training.get("updates") is not None:
        params["updates"] = training["updates"]
    method = network_method(block.get("method"), wildcards.model, block["modalities"])
    if method:
        params["method"] = method
    return canonical(params)


def curve_networks():
    """The networks of the learning curves (config learning_curves)."""
    curves = config["learning_curves"]
    return curve_ids(curves["alpha"], curves["combination_alpha"])


def curve_updates(wildcards):
    """A param function: the dataset's curve update counts (else learning_curves.updates)."""
    return dcfg(wildcards.ds).get("curve_updates", config["learning_curves"]["updates"])


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


def ablation_levels(wildcards):
    """A param function of the ablation rule; per row, its factor and level."""
    return [
        {"factor": ABLATION[name].factor, "level": ABLATION[name].level}
        for name, _, _ in ablation_rows(wildcards.ds)
    ]
