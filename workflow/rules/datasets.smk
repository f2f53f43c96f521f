# The datasets of a run and their networks: the configured datasets, the derived datasets of the
# specificity sweep and of the ablation, and what the rules look up per dataset (its block, raw
# data, folds, networks, seeds). Included first by the Snakefile, which adds the derived blocks
# to config["datasets"]; nothing here changes the config.
from crossmodal.common.config_checks import run_folds
from crossmodal.common.logs import exit_on_input_error
from crossmodal.common.model_ids import cell_ids, network_ids, seeded_id
from crossmodal.studies.ablation import ablation_datasets, ablation_models
from crossmodal.studies.specificity import sweep_datasets

# the configured datasets (Table I, figures, difficulty), in config order
DATASETS = list(config["datasets"])
with exit_on_input_error():
    # the specificity sweep's derived datasets: name -> (base dataset, kappa, config block)
    SWEEP = sweep_datasets(config["datasets"], config["sweeps"]["specificity"])
    # the ablation's derived datasets: name -> Level(base, factor, level, config block)
    ABLATION = ablation_datasets(config["datasets"], config["ablation"])
# the ablation's networks of every level
ABLATION_MODELS = ablation_models(config["ablation"]["alpha"])
# the config block of every derived dataset (the Snakefile adds them to config["datasets"])
DERIVED_BLOCKS = {
    **{name: block for name, (_, _, block) in SWEEP.items()},
    **{name: level.block for name, level in ABLATION.items()},
}
GRID = config["grid"]
# the cells of Table I: the same for every dataset (they depend on the grid only)
CELLS = cell_ids(GRID)


def dcfg(ds):
    """The validated (defaults filled) config block of dataset ``ds`` (configured or derived)."""
    return config["datasets"][ds]


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


def seeds(ds):
    """The initialisation seeds of the dataset's networks (seed 0: the bare network id)."""
    return list(range(dcfg(ds)["training"]["seeds"]))


def seeded(ds, nets):
    """Every seed of each network of ``nets`` (network-major: seed 0, 1, ... of each)."""
    return [seeded_id(net, seed) for net in nets for seed in seeds(ds)]
