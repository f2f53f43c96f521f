"""The archive of measured results: per-network tables that stand in for their trainings.

A long configuration (``configs/synthetic_converged.yaml``: 120 trainings, tens of CPU-hours)
does not fit one working session on a small machine, and ``results/`` does not travel with the
code. So each finished network's small tables (one network, one fold; each a *product*,
:data:`PRODUCTS`: rule ``evaluate``'s accuracy table, rule ``feature_sd``'s spread of its
features, and the per-fold units of Figs. 7 and 8, rules ``feature_ncc`` and
``feature_selection``) can be kept in the repository together with the provenance of the jobs
that produced them. A later run with config ``archive: <dir>`` reads an archived table in place of training and
evaluating that network exactly when the provenance it computes for the same jobs is the same.

The provenance key is what Snakemake's params trigger compares, for every job from the data to
the table (synthesize where synthetic, ingest, normalize, folds, sample_patches, train, then
the product's rule): each job's params evaluated for the dataset, network and fold, the hashes of the
library code each job runs among them (``crossmodal.common.code_hash``), and the content of
each rule's script. Same data settings, same network and training settings, same code: the
archived table stands in. Anything else (an edited loss, another number of updates, another
forest) and the network trains again, as it would with its files in ``results/``. The workflow
builds the key (``archive_key`` in ``workflow/rules/params.smk``); this module owns the files.

Files, per archived (product, dataset, network, fold), under
``<archive>/<dataset>/<product>/<network>/``:

* ``fold<k>.tsv``: the table, a byte copy of ``results/<dataset>/<product>/<network>/fold<k>.tsv``;
* ``fold<k>.json``: ``key_sha256`` (what is compared), ``key`` (the key itself, to see what
  differs), and ``measured``: the precision training used (``weights.pt``), its seconds and
  epochs (``history.tsv``), the CPU of the machine that archived it and when.

Raw data of real datasets enter the key as ingest's ``scans`` digest (paths, sizes and
modification times), so an archive of a real dataset matches only the copy it was made from.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import shutil
from pathlib import Path

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.tsv_tables import read_table

# the format of fold<k>.json; a reader refuses another
FORMAT = 1

#: what can be archived: ``{product: the rule that writes its table}``; the table of product p
#: is ``results/<dataset>/<p>/<network>/fold<k>.tsv``
PRODUCTS = {
    "accuracy": "evaluate",
    "feature_sd": "feature_sd",
    "feature_ncc": "feature_ncc",
    "feature_selection": "feature_selection",
}


def product_columns(product: str) -> list[str]:
    """The columns a product's table must have (its owner module's).

    Raises:
        InputError: ``product`` is not one of :data:`PRODUCTS`.
    """
    _check_product(product)
    # imported here, not at the top: building the DAG reads provenance through this module
    # without paying for the forests or torch
    if product == "accuracy":
        from crossmodal.evaluation.evaluate import ACCURACY_COLUMNS as columns
    elif product == "feature_sd":
        from crossmodal.evaluation.feature_sd import FEATURE_SD_COLUMNS as columns
    elif product == "feature_ncc":
        from crossmodal.evaluation.feature_ncc import FEATURE_NCC_COLUMNS as columns
    else:
        from crossmodal.evaluation.feature_selection import FEATURE_SELECTION_COLUMNS as columns
    return columns


def key_digest(key: dict) -> str:
    """The SHA-256 of ``key`` as canonical JSON (keys sorted, no whitespace, other types as str)."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_product(product: str) -> None:
    if product not in PRODUCTS:
        raise InputError(f"archive: no product {product!r}; one of {sorted(PRODUCTS)}")


def entry_paths(archive: str | Path, product: str, dataset: str, model: str, fold: int | str) -> tuple[Path, Path]:
    """``(table, provenance)``: where the archive keeps one network's table of one fold.

    Raises:
        InputError: ``product`` is not one of :data:`PRODUCTS`.
    """
    _check_product(product)
    folder = Path(archive) / dataset / product / model
    return folder / f"fold{fold}.tsv", folder / f"fold{fold}.json"


def read_provenance(path: str | Path) -> dict:
    """One archived entry's provenance (``fold<k>.json``).

    Raises:
        InputError: the file is not a provenance file of this format, or its table is missing.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"archive entry {path} cannot be read ({error}); remove it or restore it from git") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or "key_sha256" not in record:
        raise InputError(
            f"archive entry {path} is not a provenance file of format {FORMAT} "
            "(crossmodal.evaluation.archive); remove it or restore it from git"
        )
    table = path.with_suffix(".tsv")
    if not table.is_file():
        raise InputError(f"archive entry {path} has no table {table.name} beside it; restore it from git or remove both")
    return record


def standing_in(archive: str | Path, product: str, dataset: str, model: str, fold: int | str,
                key: dict) -> Path | None:  # fmt: skip
    """The archived table that stands in for this product of a network and fold, or None.

    Args:
        archive: the archive's root (config ``archive``).
        product: one of :data:`PRODUCTS`.
        dataset, model, fold: the table's dataset, network id and fold.
        key: the provenance the workflow computes for the jobs that would produce the table.

    Returns:
        The archived table where an entry exists and its ``key_sha256`` is that of ``key``;
        None where there is no entry or its key differs (the network then trains).
    """
    table, provenance = entry_paths(archive, product, dataset, model, fold)
    if not provenance.exists():
        return None
    return table if read_provenance(provenance)["key_sha256"] == key_digest(key) else None


def differing_keys(stored: dict, key: dict, prefix: str = "") -> list[str]:
    """The dotted paths at which two provenance keys differ (for a log line saying why)."""
    if not (isinstance(stored, dict) and isinstance(key, dict)):
        return [] if key_digest({"v": stored}) == key_digest({"v": key}) else [prefix or "."]
    paths = []
    for name in sorted(set(stored) | set(key)):
        where = f"{prefix}.{name}" if prefix else name
        if name not in stored or name not in key:
            paths.append(where)
        else:
            paths += differing_keys(stored[name], key[name], where)
    return paths


def cpu_name() -> str:
    """This machine's CPU as ``lscpu`` names it, with family and model (``platform`` elsewhere)."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            fields.setdefault(name.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    return f"{fields['model name']} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"


def write_entry(product: str, table: str | Path, weights: str | Path, history: str | Path, key: dict,
                out_table: str | Path, out_provenance: str | Path) -> dict:  # fmt: skip
    """Archive one network's table of one fold with its provenance (rule ``archive``).

    Args:
        product: one of :data:`PRODUCTS`.
        table: its table (``results/<dataset>/<product>/<network>/fold<k>.tsv``).
        weights: the network's ``weights.pt`` (rule train): the precision it trained in.
        history: its ``history.tsv``: seconds and epochs of training.
        key: the provenance key of the jobs that produced the table (the workflow's).
        out_table, out_provenance: the entry's two files (``entry_paths``), each written
            atomically.

    Returns:
        The provenance record written.

    Raises:
        InputError: an input is missing or not of its kind.
    """
    # only here: building the DAG reads provenance without paying for torch or the forests
    import torch

    _check_product(product)
    read_table(table, product_columns(product), PRODUCTS[product])
    epochs = read_table(history, ["epoch", "seconds"], "train")
    try:
        weights_record = torch.load(weights, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as error:
        raise InputError(f"{weights} cannot be read as weights.pt ({error}); rerun its train job") from None
    record = {
        "format": FORMAT,
        "key_sha256": key_digest(key),
        "key": json.loads(json.dumps(key, sort_keys=True, default=str)),
        "measured": {
            "precision": weights_record.get("precision", "not recorded"),
            "train_seconds": round(float(epochs["seconds"].sum()), 1),
            "epochs": int(len(epochs)),
            "archived_on_cpu": cpu_name(),
            "archived_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        },
    }
    with atomic_path(out_table) as tmp:
        shutil.copyfile(table, tmp)
    with atomic_path(out_provenance) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    return record
