"""Learning curve of one network (rule ``learning_curve``): loss and Table I accuracies vs. updates.

The network of one dataset, model id and fold is trained exactly as rule ``train`` trains it
(same seed, sample order, dropout draws, learning-rate schedule and precision), but for more
updates. At each of a list of update counts the training pauses, the network encodes the
fold's train and test patches and the Table I forests are fit and scored on them
(:func:`crossmodal.evaluate.accuracy_table`, same forest seeds), then training goes on. The
evaluation touches no random stream of the training, so the network at update u is the one a
run of u updates would give; in particular, at the default length (``training.epochs``
epochs) it is the very network of the Table I run, with the same accuracies.

Output ``results/{ds}/curves/{model}/fold{k}.tsv``, one row per update count: ``dataset,
model, fold, updates, epochs`` (updates / updates per epoch), ``patches_seen`` (updates x
batch size), ``train_loss``,
``recon_loss``, ``sim_loss`` (means over the updates since the previous row),
``same_accuracy``, ``cross_accuracy`` (percent; mean over the modality pairs as in Table I;
``cross_accuracy`` empty where a network has no cross pair), ``default_length`` (True at the
update count of the config's ``training.epochs``) and ``seconds`` (training time so far).
A curve job does not checkpoint: a killed job starts again.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from crossmodal.atomic import atomic_path
from crossmodal.cell import same_cross_means
from crossmodal.devices import claimed_device
from crossmodal.encode import encode_splits
from crossmodal.errors import InputError
from crossmodal.evaluate import accuracy_table
from crossmodal.features import Features
from crossmodal.gather import open_patch_source
from crossmodal.loss import LossTerms
from crossmodal.model_ids import parse_model_id
from crossmodal.patch_sets import load_patch_set
from crossmodal.precision import Compute
from crossmodal.seeds import seed_key
from crossmodal.train import TrainSettings, batch_bounds, fit, training_samples

log = logging.getLogger(__name__)

CURVE_COLUMNS = [
    "dataset", "model", "fold", "updates", "epochs", "patches_seen", "train_loss", "recon_loss",
    "sim_loss", "same_accuracy", "cross_accuracy", "default_length", "seconds",
]  # fmt: skip


class _CurveDone(Exception):
    """Raised by the update hook after the last update count: ends training early."""


def learning_curve(
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    fold: int,
    model_id: str,
    *,
    modalities: list[str],
    patch_size: int,
    network: dict,
    training: dict,
    dataset_name: str,
    dataset_seed: int,
    updates: list[int],
    n_trees: int,
    max_train_patches: int | None,
    output_path: str | Path,
    encode_batch_size: int = 1024,
    threads: int = 1,
) -> pd.DataFrame:
    """Train one network past its default length, evaluating it at the given update counts.

    Args:
        volumes_dir, patches_dir, folds_tsv: the dataset's data stage outputs.
        fold: the fold k (its test scans are the forests' test set).
        model_id: network id.
        modalities, patch_size, network, training: the dataset's config values (as for rule
            ``train``; ``training.epochs`` sets only where ``default_length`` is True).
        dataset_name: the dataset's config key (seeds, as in rule ``train``).
        dataset_seed: config ``seed`` of the dataset.
        updates: update counts at which to evaluate (the default length is added).
        n_trees: trees per forest (``forest.n_trees``).
        max_train_patches: the dataset's ``max_forest_train_patches``.
        output_path: ``results/{ds}/curves/{model}/fold{k}.tsv``.
        encode_batch_size: patches per forward pass when encoding.
        threads: CPU threads for torch and the forests.

    Returns:
        The table written (``CURVE_COLUMNS``).

    Raises:
        InputError: no update counts, a bad model id, or too few patches.
    """
    if not updates or min(updates) < 1:
        raise InputError(f"learning_curves.updates = {updates}: give positive update counts")
    torch.set_num_threads(threads)
    key = seed_key(dataset_name, model_id, fold)
    settings = TrainSettings.from_config(model_id, modalities, patch_size, network, training, dataset_seed, key)
    splits = {split: load_patch_set(volumes_dir, patches_dir, folds_tsv, fold, split) for split in ("train", "test")}
    spec = parse_model_id(model_id, list(modalities))
    n_samples = len(training_samples(spec, len(splits["train"]), list(modalities))[0])
    per_epoch = len(batch_bounds(n_samples, settings.batch_size))
    if per_epoch == 0:
        raise InputError(f"learning curve {key}: fewer than 2 training samples")
    default = settings.epochs * per_epoch
    points = sorted(set(int(u) for u in updates) | {default})
    run_settings = dataclasses.replace(settings, epochs=math.ceil(points[-1] / per_epoch))
    rows: list[dict] = []
    sums = np.zeros(3)
    counted = 0
    started = time.monotonic()
    evaluating = 0.0

    with claimed_device() as device:
        compute = Compute.for_device(device, settings.precision)
        source = open_patch_source(volumes_dir, splits["train"].scan_ids + splits["test"].scan_ids, device, patch_size)

        def on_update(step: int, model: torch.nn.Module, terms: LossTerms) -> None:
            nonlocal sums, counted, evaluating
            sums += [float(t.detach()) for t in terms]
            counted += 1
            if step not in points:
                return
            paused = time.monotonic()
            arrays = encode_splits(model, source, splits, list(modalities), settings.features, encode_batch_size, compute)
            model.train()
            table = accuracy_table(
                Features(modalities=list(modalities), **arrays), dataset_name=dataset_name, model=model_id,
                fold=fold, seed=dataset_seed, max_train_patches=max_train_patches, n_trees=n_trees,
                threads=threads,
            )  # fmt: skip
            same, cross = same_cross_means(table)
            loss, recon, sim = sums / counted
            rows.append({
                "dataset": dataset_name, "model": model_id, "fold": int(fold), "updates": step,
                "epochs": step / per_epoch, "patches_seen": step * settings.batch_size,
                "train_loss": loss, "recon_loss": recon, "sim_loss": sim,
                "same_accuracy": same, "cross_accuracy": cross, "default_length": step == default,
                "seconds": paused - started - evaluating,
            })  # fmt: skip
            log.info("%s after %d updates: loss %.4f, same %.1f %%, cross %.1f %%", key, step, loss, same, cross)
            sums, counted = np.zeros(3), 0
            evaluating += time.monotonic() - paused
            if step == points[-1]:
                raise _CurveDone

        try:
            fit(source, splits["train"], run_settings, compute, on_update=on_update)
        except _CurveDone:
            pass
    table = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    with atomic_path(output_path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    return table
