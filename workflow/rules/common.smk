# Helpers shared by all rule files (dataset lookups, target builders and input functions).
# The Snakefile has put this checkout's src/ first on sys.path.
from pathlib import Path

from crossmodal.model_ids import (
    AXIAL_PATTERN,
    axial_model_id,
    SINGLE_BASELINE_CELL,
    axial_model_ids,
    cell_ids,
    cell_networks,
    network_ids,
    variant_ids,
)

from crossmodal.specificity import sweep_datasets

# the configured datasets (Table I, figures, difficulty)
DATASETS = list(config["datasets"])
# the specificity sweep's derived datasets: name -> (base dataset, rho, config block)
SWEEP = sweep_datasets(config["datasets"], config["sweeps"]["specificity"])
# The derived blocks join the config (after DATASETS was taken): the jobs' scripts read the
# settings that do not change results (checkpoint_minutes, ...) from snakemake.config.
config["datasets"].update({name: block for name, (_, _, block) in SWEEP.items()})
GRID = config["grid"]


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
    return list(range(dcfg(ds)["folds"]))


def networks(ds):
    return network_ids(GRID, dcfg(ds)["modalities"])


def cells(ds):
    return cell_ids(GRID)


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
    """Synthetic data, what rule synthesize writes; real data, every scan file under root.

    The layout adapter lists the files without opening them; a layout problem (say, a case
    folder without its label file) stops the DAG here, before any job, naming the file.
    """
    if is_synthetic(wildcards.ds):
        return f"results/{wildcards.ds}/raw"
    # imported here: only real datasets need it, and it imports the image readers
    from crossmodal.ingest import scan_files

    return scan_files(raw_root(wildcards.ds), ingest_settings(wildcards), wildcards.ds)


def cell_accuracy_inputs(wildcards):
    nets = cell_networks(wildcards.cell, dcfg(wildcards.ds)["modalities"])
    return [
        f"results/{wildcards.ds}/accuracy/{net}/fold{k}.tsv"
        for net in nets
        for k in folds(wildcards.ds)
    ]


def table_targets():
    return ["results/table1.csv", "results/table1.md"] + [
        f"results/{ds}/pairs.csv" for ds in DATASETS
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


def sweep_accuracy(wildcards):
    """Rule specificity's inputs: per rho of the sweep and network, the fold's accuracy table."""
    fold = config["sweeps"]["specificity"]["fold"]
    models = variant_ids(config["sweeps"]["specificity"]["alpha"])
    return [
        f"results/{name}/accuracy/{model}/fold{fold}.tsv"
        for name, (base, _, _) in SWEEP.items()
        if base == wildcards.ds
        for model in models
    ]


def sweep_rhos(wildcards):
    """The rho of each input of rule specificity, in the same order."""
    models = variant_ids(config["sweeps"]["specificity"]["alpha"])
    return [
        rho for base, rho, _ in SWEEP.values() if base == wildcards.ds for _ in models
    ]


def all_targets():
    return table_targets() + figure_targets() + difficulty_targets() + sweep_targets()


# the keys of the `training` block that change the trained network (params: a change reruns
# training); checkpoint_minutes and encode_batch_size do not, and the script reads them from
# the config
TRAINING_PARAMS = ("epochs", "batch_size", "learning_rate", "lr_decay", "precision")


def training_params(wildcards):
    """A param function: the keys of the job's `training` block that change the network."""
    training = dcfg(wildcards.ds)["training"]
    return canonical({key: training[key] for key in TRAINING_PARAMS})


def curve_targets():
    return [
        f"results/figures/learning_{ds}.{ext}"
        for ds in DATASETS
        for ext in ("pdf", "png")
    ]
