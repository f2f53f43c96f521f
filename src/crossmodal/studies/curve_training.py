"""Learning curve of one network (rule ``curve_training``): loss and Table I accuracies vs. updates.

The network of one dataset, model id and fold is trained exactly as rule ``train`` trains it
(same seed, sample order, dropout draws, learning-rate schedule and precision), but for more
updates: :class:`CurveTrainer` is a :class:`crossmodal.training.trainer.Trainer` whose step after each
update evaluates the network at the requested update counts, and which stops after the last.
At each count the network encodes the fold's train and test patches and the Table I forests
are fit and scored on them (:func:`crossmodal.evaluation.evaluate.accuracy_table`, same forest seeds),
then training goes on. The evaluation touches no random stream of the training, so the network
at update u is the one a run of u updates would give; in particular, at the default length
(the Table I run's: ``training.epochs`` epochs, or ``training.updates`` rounded up to whole
epochs; :class:`crossmodal.training.schedule.Schedule`) it is the very network of the Table I
run, with the same accuracies.

Output ``results/{ds}/curves/{model}/fold{k}.tsv``, one row per update count (columns in
:mod:`crossmodal.studies.curve_tables`). A curve job does not checkpoint: a killed job starts again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import accuracy_table
from crossmodal.reporting.cell import same_cross_means
from crossmodal.studies.curve_tables import write_curve
from crossmodal.training.features import Features
from crossmodal.training.loss import LossTerms
from crossmodal.training.trainer import Trainer
from crossmodal.training.training_job import OpenedJob, TrainingJob

log = logging.getLogger(__name__)


class CurveTrainer(Trainer):
    """A trainer that evaluates its network at given update counts and stops after the last.

    Args:
        opened: the job, its patches and device.
        updates: update counts at which to evaluate; the default length (the Table I run's
            update count) is added.
        n_trees: trees per forest (``forest.n_trees``).
        max_train_patches: the dataset's ``max_forest_train_patches``.

    Attributes:
        points: the update counts, sorted; training stops after the last.
        default: the update count of the default length.
        rows: one row per update count evaluated so far (``CURVE_COLUMNS``).

    Raises:
        InputError: a bad model id, or fewer than 2 training samples.
    """

    def __init__(self, opened: OpenedJob, updates: list[int], n_trees: int, max_train_patches: int | None) -> None:
        job = opened.job
        super().__init__(job.settings, opened.splits["train"], opened.source, opened.compute)
        self.opened, self.n_trees, self.max_train_patches = opened, n_trees, max_train_patches
        self.default = self.schedule.updates
        self.points = sorted(set(int(u) for u in updates) | {self.default})
        self.epochs = self.schedule.epochs_for(self.points[-1])
        self.rows: list[dict] = []
        self.loss_sums, self.losses_counted = np.zeros(3), 0  # since the previous point
        self.started, self.evaluating = time.monotonic(), 0.0  # wall time, and the part spent evaluating

    def after_step(self, terms: LossTerms) -> None:
        """Count the step's loss; at a requested update count, evaluate the network."""
        super().after_step(terms)
        self.loss_sums += [float(t.detach()) for t in terms]
        self.losses_counted += 1
        if self.progress.global_step in self.points:
            self.evaluate()

    def should_stop(self) -> bool:
        """Stop after the last requested update count."""
        return self.progress.global_step == self.points[-1]

    def evaluate(self) -> None:
        """Encode the fold with the network as it is now and score the Table I forests on it."""
        paused = time.monotonic()
        job, step = self.opened.job, self.progress.global_step
        arrays = self.opened.encode(self.model)
        self.model.train()
        modalities = list(job.settings.modalities)
        table = accuracy_table(
            Features(modalities=modalities, **arrays), dataset_name=job.dataset, model=job.settings.model_id,
            fold=job.fold, seed=job.dataset_seed, max_train_patches=self.max_train_patches, n_trees=self.n_trees,
            threads=job.threads,
        )  # fmt: skip
        same, cross = same_cross_means(table)
        loss, recon, sim = self.loss_sums / self.losses_counted
        self.rows.append({
            "dataset": job.dataset, "model": job.settings.model_id, "fold": job.fold, "updates": step,
            "epochs": step / len(self.bounds), "patches_seen": step * job.settings.batch_size,
            "train_loss": loss, "recon_loss": recon, "sim_loss": sim,
            "same_accuracy": same, "cross_accuracy": cross, "default_length": step == self.default,
            "seconds": paused - self.started - self.evaluating,
        })  # fmt: skip
        log.info("%s after %d updates: loss %.4f, same %.1f %%, cross %.1f %%", job.key, step, loss, same, cross)
        self.loss_sums, self.losses_counted = np.zeros(3), 0
        self.evaluating += time.monotonic() - paused


def curve_training(
    job: TrainingJob,
    *,
    updates: list[int],
    n_trees: int,
    max_train_patches: int | None,
    output_path: str | Path,
) -> pd.DataFrame:
    """Train one network past its default length, evaluating it at the given update counts.

    Args:
        job: the network, its data and settings (as for rule ``train``; ``training.epochs``
            and ``training.updates`` set only where ``default_length`` is True).
        updates: update counts at which to evaluate (the default length is added).
        n_trees: trees per forest (``forest.n_trees``).
        max_train_patches: the dataset's ``max_forest_train_patches``.
        output_path: ``results/{ds}/curves/{model}/fold{k}.tsv``.

    Returns:
        The table written (``CURVE_COLUMNS``).

    Raises:
        InputError: no update counts, a bad model id, or too few patches.
    """
    if not updates or min(updates) < 1:
        raise InputError(f"learning_curves.updates = {updates}: give positive update counts")
    with job.opened() as opened:
        trainer = CurveTrainer(opened, updates, n_trees, max_train_patches)
        trainer.run()
    return write_curve(trainer.rows, output_path)
