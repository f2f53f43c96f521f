# Param functions: the config values a job reads, and the hash of the library code it runs.
# A rule's params hold only what its job reads (Snakemake reruns a job when a param changes),
# each dict with its keys sorted (canonical).
import functools
import hashlib
import types
from pathlib import Path

from crossmodal.common.code_hash import LibraryCode
from crossmodal.common.logs import exit_on_input_error
from crossmodal.training.method import network_method

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


# the keys of the `training` block that change the trained network (params: a change reruns
# training); checkpoint_minutes and encode_batch_size do not, and the script reads them from
# the config
TRAINING_PARAMS = ("epochs", "batch_size", "learning_rate", "lr_decay", "precision")


def training_params(wildcards):
    """A param function: the keys of the job's `training` block that change the network.

    ``updates`` where set, and under ``method`` the keys of the dataset's `method` block that
    change this network and differ from the defaults (crossmodal.training.method.network_method):
    a switch reruns exactly the networks it changes, and a config that spells out a default
    has the params of one that leaves it out.
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


def training_job_params(entry):
    """The params of a training job: the hash of the code it runs (module ``entry`` and the job's
    module) and the config values of its network, by the names TrainingJob.from_rule reads.
    """
    return {
        "code": library_code(entry, "crossmodal.training.training_job"),
        "modalities": ds_value("modalities"),
        "patch_size": ds_value("patch_size"),
        "network": ds_value("network"),
        "training": training_params,
        "seed": ds_value("seed"),
    }


def curve_updates(wildcards):
    """A param function: the dataset's curve update counts (else learning_curves.updates)."""
    return dcfg(wildcards.ds).get("curve_updates", config["learning_curves"]["updates"])


def sweep_values(wildcards):
    """The kappa of each accuracy input of rule specificity, in the same order."""
    return [kappa for _, kappa, _ in sweep_runs(wildcards.ds)]


def sweep_difficulty_values(wildcards):
    """The kappa of each difficulty input of rule specificity, in the same order."""
    return [kappa for base, kappa, _ in SWEEP.values() if base == wildcards.ds]


def ablation_training(wildcards):
    """A param function of the ablation rule: the training length of its derived datasets."""
    training = dcfg(f"{wildcards.ds}_abl_default")["training"]
    return {k: training[k] for k in ("batch_size", "epochs", "updates")}


def ablation_levels(wildcards):
    """A param function of the ablation rule; per row, its factor and level."""
    return [
        {"factor": ABLATION[name].factor, "level": ABLATION[name].level}
        for name, _, _ in ablation_rows(wildcards.ds)
    ]


# The provenance key of an archived table (rule archive, archive.smk;
# crossmodal.evaluation.archive): per product, the rules from the data to its table
# (synthesize only for synthetic data), each with its script workflow/scripts/<rule>.py.
_TO_TRAINING = ("synthesize", "ingest", "normalize", "folds", "sample_patches", "train")
ARCHIVE_CHAINS = {
    "accuracy": _TO_TRAINING + ("evaluate",),
    "feature_sd": _TO_TRAINING + ("feature_sd",),
    "feature_ncc": _TO_TRAINING + ("feature_ncc",),
    "feature_selection": _TO_TRAINING + ("feature_selection",),
}


class JobWildcards(types.SimpleNamespace):
    """The wildcards of one job, as param functions read them (attributes and ``items()``)."""

    def items(self):
        return vars(self).items()


@functools.cache
def script_digest(name):
    return hashlib.sha256(
        Path(workflow.basedir, "workflow", "scripts", f"{name}.py").read_bytes()
    ).hexdigest()


@functools.cache
def archive_key(product, ds, model, fold):
    """The provenance of a network's table of one product: per rule of its chain
    (ARCHIVE_CHAINS), its params evaluated for (ds, model, fold) (the library code hashes among
    them) and its script's hash. The product is not a field: the chains differ in their last rule.
    """
    wildcards = JobWildcards(ds=ds, model=model, fold=str(fold))
    key = {"dataset": ds, "model": model, "fold": int(fold)}
    for name in ARCHIVE_CHAINS[product]:
        if name == "synthesize" and not is_synthetic(ds):
            continue
        params = {
            param: value(wildcards) if callable(value) else value
            for param, value in workflow.get_rule(name).params.items()
        }
        key[name] = {"params": canonical(params), "script": script_digest(name)}
    return key


def archive_key_param(wildcards):
    """A param function: rule archive's key (archive_key)."""
    return archive_key(wildcards.product, wildcards.ds, wildcards.model, wildcards.fold)
