"""What the ablation (`snakemake ablations`, config ``ablation``) costs: trainings and CPU time.

Counts the trainings of the ablation from a config exactly as the workflow derives them
(:func:`crossmodal.studies.ablation.ablation_datasets`, :func:`crossmodal.studies.ablation.level_networks`: a
method level trains only the networks it changes), and times the training loop of each
dataset's networks on this machine: :class:`crossmodal.training.trainer.Trainer` on random volumes (memory-mapped,
as rule ``train`` reads them) with the dataset's patch size, widths, features and batch size,
for the axial network with dropout and per-feature normalization and for ``baseline-all``
(one path, one modality per sample). The time per update is the median over epochs of the
epoch's seconds (``history.tsv``'s ``seconds``, without start-up) per update.

Prints per dataset the number of trainings of each kind, the measured seconds per update, and
the CPU time of the trainings at ``ablation.updates`` updates each (one thread per training, as
rule ``train`` runs them). Not counted: the data stages of the derived datasets, encoding, the
forests and each job's start-up (about 3 s per network; README, "Training speed").

Usage: ``python benchmarks/ablation_cost.py [--config config.yaml] [--updates-timed 60]``
(about a minute per dataset on a 2-core CPU).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
from pathlib import Path

import numpy as np
import torch
import yaml
from snakemake.utils import validate

from crossmodal.common.model_ids import parse_model_id, split_seed
from crossmodal.data.gather.mapped_volumes import MappedVolumes
from crossmodal.data.patch_sets import PatchSet
from crossmodal.studies.ablation import ablation_datasets, ablation_models, level_networks
from crossmodal.training.allocator import retain_freed_memory
from crossmodal.training.precision import Compute
from crossmodal.training.settings import TrainSettings
from crossmodal.training.trainer import Trainer

REPO = Path(__file__).resolve().parents[1]


def load_config(path: Path) -> dict:
    """The config with the schema's defaults filled, as the Snakefile validates it."""
    config = yaml.safe_load(path.read_text())
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
    return config


def trainings(config: dict) -> dict[str, dict[str, int]]:
    """Per ablated dataset: ``{"axial": n, "baseline": n}``, each training counted once."""
    derived = ablation_datasets(config["datasets"], config["ablation"])
    models = ablation_models(config["ablation"]["alpha"])
    counts: dict[str, dict[str, int]] = {}
    for name, level in derived.items():
        for where, model in level_networks(derived, name, config["ablation"]["seeds"], models):
            if where != name:
                continue  # the default level's network, counted there
            kind = parse_model_id(split_seed(model)[0], level.block["modalities"]).kind
            counts.setdefault(level.base, {"axial": 0, "baseline": 0})[kind] += 1
    return counts


def seconds_per_update(block: dict, model_id: str, updates: int) -> float:
    """Median seconds per SGD update of the :class:`~crossmodal.training.trainer.Trainer` for one network of a dataset block."""
    modalities = list(block["modalities"])
    p = int(block["patch_size"])
    rng = np.random.default_rng(0)
    scans = [f"s{i}" for i in range(4)]
    volumes = [rng.standard_normal((len(modalities), 3 * p, 3 * p, 2 * p)).astype(np.float32) for _ in scans]
    n = 8 * int(block["training"]["batch_size"])  # 8 updates per epoch (axial)
    centres = rng.integers(p // 2, 2 * p - p // 2, (n, 3))
    train_set = PatchSet(scans, rng.integers(0, len(scans), n), centres, np.zeros(n, dtype=np.int64))
    source = MappedVolumes(volumes, p, scans)
    settings = TrainSettings.from_config(
        model_id, modalities, p, block["network"], {**block["training"], "epochs": 1}, 0, "timing"
    )
    per_epoch = 8 if parse_model_id(model_id, modalities).kind == "axial" else 8 * len(modalities)
    epochs = max(2, -(-updates // per_epoch))
    settings = dataclasses.replace(settings, epochs=epochs)
    _, history = Trainer(settings, train_set, source, Compute.for_device("cpu", settings.precision)).run()
    return statistics.median(row["seconds"] / per_epoch for row in history[1:])  # epoch 1 warms up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--updates-timed", type=int, default=60, help="updates timed per network")
    args = parser.parse_args()
    torch.set_num_threads(1)
    retain_freed_memory()  # as rule train's job does on the CPU
    config = load_config(args.config)
    print(f"CPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread")
    derived = ablation_datasets(config["datasets"], config["ablation"])
    total_h = 0.0
    for ds, counts in trainings(config).items():
        block = config["datasets"][ds]
        # ablation.updates, or (null) the dataset's own training.updates
        updates = derived[f"{ds}_abl_default"].block["training"].get("updates")
        if updates is None:
            raise SystemExit(f"{ds} trains for epochs, not updates: set ablation.updates to count its cost")
        updates = int(updates)
        step = {
            "axial": seconds_per_update(block, "axial-md1-pfn1-a0.0", args.updates_timed),
            "baseline": seconds_per_update(block, "baseline-all", args.updates_timed),
        }
        hours = sum(counts[k] * updates * step[k] for k in counts) / 3600
        total_h += hours
        print(
            f"{ds}: {counts['axial']} axial + {counts['baseline']} baseline-all trainings x {updates} updates; "
            f"{1000 * step['axial']:.1f} ms (axial) / {1000 * step['baseline']:.1f} ms (baseline-all) per update; "
            f"{hours:.1f} CPU-hours"
        )
    print(f"ablation trainings, all datasets: {total_h:.1f} CPU-hours")


if __name__ == "__main__":
    main()
