"""The training loop of one network, as named steps (rules ``train`` and ``curve_training``).

SGD without momentum, Keras-style learning-rate decay per update, minibatches gathered on the
fly from the fold's training scans (on the training device), modality dropout per sample and
use, checkpoints every epoch and every ``Checkpoints.minutes`` within an epoch, exact resume.

:meth:`Trainer.run` reads as its steps: :meth:`~Trainer.prepare` (build the network, or resume
it from a checkpoint), then per epoch :meth:`~Trainer.start_epoch` and, per minibatch,
:meth:`~Trainer.next_batch`, :meth:`~Trainer.train_step` and :meth:`~Trainer.after_step`
(progress, timed checkpoints), :meth:`~Trainer.end_epoch` (history row, checkpoint) and
:meth:`~Trainer.finish`. A subclass changes what happens after a step and when to stop
(:meth:`~Trainer.should_stop`), as :class:`crossmodal.studies.curve_training.CurveTrainer` does.

Reproducibility: every random stream is derived from ``derive_seed(dataset seed, seed_key)``:
the weight initialization, the shuffle of epoch e (a function of (seed, e) only, so a resume
mid-epoch replays the same order) and the modality-dropout draws of epoch e (a numpy generator
seeded from (seed, e) whose state is checkpointed). On the CPU, with the same thread count, a
rerun and a killed-and-resumed run give bit-identical weights; on CUDA deterministic kernels
are switched on for the same purpose (:func:`crossmodal.training.training_job.deterministic_algorithms`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from crossmodal.common.errors import InputError
from crossmodal.common.model_ids import parse_model_id
from crossmodal.common.seeds import derive_seed
from crossmodal.data.gather.patch_source import PatchSource
from crossmodal.data.patch_sets import PatchSet
from crossmodal.training.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint, settings_hash
from crossmodal.training.loss import LossTerms, combined_loss
from crossmodal.training.modality_dropout import sample_present
from crossmodal.training.network import build_network
from crossmodal.training.precision import Compute
from crossmodal.training.schedule import Schedule, epoch_permutation, epoch_rng, learning_rate_at, training_samples
from crossmodal.training.settings import TrainSettings
from crossmodal.training.sgd import sgd_update

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ["epoch", "loss", "recon_loss", "sim_loss", "lr", "seconds", "patches_per_s"]
PROGRESS_SECONDS = 30  # tqdm refresh interval: keeps the logs of day-long jobs small


def data_fingerprint(scan_ids: list[str], scan_index: np.ndarray, centres: np.ndarray) -> str:
    """SHA-256 of the training patches (scan ids and centres), so new patches void a checkpoint."""
    digest = hashlib.sha256("\n".join(scan_ids).encode())
    digest.update(np.ascontiguousarray(scan_index, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(centres, dtype=np.int64).tobytes())
    return digest.hexdigest()


def sgd_step(
    model: torch.nn.Module,
    x: torch.Tensor,
    present: torch.Tensor,
    alpha: float,
    lr: float,
    compute: Compute,
) -> LossTerms:
    """One SGD update on one minibatch.

    Args:
        model: network in training mode.
        x: patches ``[B, M, P, P, P]`` (``[B, 1, P, P, P]`` for baselines).
        present: bool ``[B, M]``, modalities entering the mean.
        alpha: similarity weight.
        lr: learning rate of this update.
        compute: precision of the forward pass (the loss is always computed in float32).

    Returns:
        The loss terms of the batch (before the update).
    """
    with compute.autocast():
        out = model(x, present)
    terms = combined_loss(x, out, alpha)
    model.zero_grad(set_to_none=True)
    terms.total.backward()
    sgd_update(model.parameters(), lr)
    return terms


@dataclass(frozen=True)
class Checkpoints:
    """Where and how often a trainer checkpoints.

    Attributes:
        path: the checkpoint file (not an output: it survives a killed job so that the rerun
            resumes from it).
        minutes: also checkpoint within an epoch this often (config
            ``training.checkpoint_minutes``).
    """

    path: Path
    minutes: float


@dataclass
class Progress:
    """Where a run stands; what a checkpoint stores besides the weights (plain SGD has no state)."""

    epoch: int = 0  # 0-based epoch in progress
    step: int = 0  # updates done in that epoch
    global_step: int = 0  # updates done in total
    epoch_seconds: float = 0.0  # time spent in the epoch so far (across resumes)
    history: list[dict] = field(default_factory=list)
    sums: torch.Tensor | None = None  # loss, reconstruction, similarity x samples, this epoch


@dataclass(frozen=True)
class Batch:
    """One minibatch: patches ``x`` ``[B, M, P, P, P]`` and the modalities ``present`` ``[B, M]``."""

    x: torch.Tensor
    present: torch.Tensor

    def __len__(self) -> int:
        return int(self.x.shape[0])


class Trainer:
    """Trains one network on the patches of a fold's training set.

    Args:
        settings: the run's settings.
        train_set: the training patches of the fold.
        source: gathers patches ``[B, M, P, P, P]`` on ``compute.device``; holds every scan of
            ``train_set`` (and possibly others).
        compute: device, precision and memory layout.
        checkpoints: where and how often to checkpoint, or None for no checkpoints. The run
            resumes from a checkpoint of the same settings, precision and data; the checkpoint
            of the finished run stays until the caller removes it (rule ``train`` removes it
            once the features are written, so a job killed while encoding resumes there).

    Attributes:
        schedule: the minibatches of an epoch and the length of the training
            (:class:`crossmodal.training.schedule.Schedule`).
        epochs: epochs to train at most (``schedule.epochs``; a subclass may train longer).
        bounds: ``(start, stop)`` of each minibatch of an epoch (``schedule.bounds``).
        model: the network (after :meth:`prepare`).
        progress: where the run stands.

    Raises:
        InputError: the model id is unknown, or there are fewer than 2 training samples.
    """

    def __init__(
        self,
        settings: TrainSettings,
        train_set: PatchSet,
        source: PatchSource,
        compute: Compute,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self.settings, self.source, self.compute = settings, source, compute
        self.checkpoints = checkpoints
        modalities = list(settings.modalities)
        try:
            self.spec = parse_model_id(settings.model_id, modalities)
        except ValueError as error:
            raise InputError(str(error)) from None
        n_patches = len(train_set.scan_index)
        patch_of, channel_of = training_samples(self.spec, n_patches, modalities)
        self.schedule = Schedule.of(self.spec, n_patches, modalities, settings.batch_size, settings.epochs,
                                    settings.updates)  # fmt: skip
        self.bounds = self.schedule.bounds
        if not self.bounds:
            raise InputError(
                f"training {settings.model_id}: {len(patch_of)} training sample(s), need at least 2; "
                "check the fold's training scans and patches_per_class"
            )
        self.epochs = self.schedule.epochs
        if settings.updates is not None:
            log.info("training.updates = %d: %d epochs", settings.updates, self.epochs)
        self.n_samples = len(patch_of)
        device = compute.device
        self.scan_t = torch.as_tensor(train_set.index_into(source.scan_ids), device=device)
        self.centres_t = torch.as_tensor(train_set.centres, dtype=torch.int64, device=device)
        self.patch_t = torch.as_tensor(patch_of, device=device)
        self.channel_t = None if channel_of is None else torch.as_tensor(channel_of, device=device)
        fingerprint = data_fingerprint(train_set.scan_ids, train_set.scan_index, train_set.centres)
        self.run_hash = settings_hash({**asdict(settings), "precision": compute.precision, "data": fingerprint})
        self.model: torch.nn.Module | None = None
        self.progress = Progress()
        self.resumed_rng: dict | None = None  # the dropout stream of a resumed epoch, until it starts
        self.order: torch.Tensor | None = None  # the epoch's sample order
        self.rng: np.random.Generator | None = None  # the epoch's modality-dropout stream
        self.bar: tqdm | None = None
        self.epoch_started = self.last_save = 0.0  # time.monotonic() of the epoch's start, last save

    @property
    def samples_per_epoch(self) -> int:
        """Samples trained on per epoch (the one left over by :func:`batch_bounds` excluded)."""
        return self.bounds[-1][1]

    def run(self) -> tuple[torch.nn.Module, list[dict]]:
        """Train; returns the network on the device in eval mode and one history row per epoch.

        Raises:
            InputError: the loss of an epoch is not finite (diverged, or NaN in the data).
        """
        self.prepare()
        self.bar = tqdm(
            total=self.epochs * len(self.bounds), initial=self.progress.global_step, file=sys.stderr,
            mininterval=PROGRESS_SECONDS, unit="step", desc=self.settings.model_id,
        )  # fmt: skip
        try:
            while self.progress.epoch < self.epochs:
                self.start_epoch()
                while self.progress.step < len(self.bounds):
                    self.after_step(self.train_step(self.next_batch()))
                    if self.should_stop():
                        return self.finish()
                self.end_epoch()
            return self.finish()
        finally:
            self.bar.close()

    def prepare(self) -> None:
        """Build the seeded network, or resume network and progress from a checkpoint."""
        settings, device = self.settings, self.compute.device
        init = torch.Generator().manual_seed(derive_seed(settings.seed, "init"))
        net = build_network(self.spec, len(settings.modalities), settings.patch_size, settings.widths,
                            settings.features, init, settings.method)  # fmt: skip
        self.model = self.compute.prepare_model(net)
        self.progress = Progress(sums=torch.zeros(3, dtype=torch.float64, device=device))
        resumed = load_checkpoint(self.checkpoints.path, self.run_hash, device) if self.checkpoints else None
        if resumed is not None:
            self.model.load_state_dict(resumed["model"])
            self.progress = Progress(
                resumed["epoch"], resumed["step"], resumed["global_step"], resumed["epoch_seconds"],
                list(resumed["history"]), resumed["sums"].to(device),
            )  # fmt: skip
            self.resumed_rng = resumed["rng"]
            log.info(
                "resuming from checkpoint %s: epoch %d step %d (of %d epochs x %d steps)",
                self.checkpoints.path, self.progress.epoch + 1, self.progress.step, self.epochs, len(self.bounds),
            )  # fmt: skip
        log.info("training %s on %s in %s", settings.model_id, device, self.compute.precision)
        self.last_save = time.monotonic()

    def start_epoch(self) -> None:
        """The epoch's sample order and modality-dropout stream (restored when resuming)."""
        epoch, seed = self.progress.epoch, self.settings.seed
        self.order = torch.as_tensor(epoch_permutation(seed, epoch, self.n_samples), device=self.compute.device)
        self.rng = epoch_rng(seed, epoch)
        if self.resumed_rng is not None:
            restore_rng(self.resumed_rng, self.rng)
            self.resumed_rng = None
        self.model.train()
        self.epoch_started = time.monotonic()

    def next_batch(self) -> Batch:
        """The epoch's next minibatch: its patches, gathered on the device, and dropout draws."""
        start, stop = self.bounds[self.progress.step]
        device, size = self.compute.device, stop - start
        samples = self.order[start:stop]
        method = self.settings.method
        dropout = sample_present(
            self.rng, size, len(self.settings.modalities), self.spec.modality_dropout, method.dropout_mode, method.dropout_p
        )
        present = torch.from_numpy(dropout).to(device)
        patches = self.patch_t[samples]
        x = self.source.gather(self.scan_t[patches], self.centres_t[patches])
        if self.channel_t is not None:
            x = x[torch.arange(size, device=device), self.channel_t[samples]][:, None]
        return Batch(x, present)

    def train_step(self, batch: Batch) -> LossTerms:
        """One SGD update at the scheduled learning rate; adds the batch's loss to the epoch's sums."""
        progress, settings = self.progress, self.settings
        lr = learning_rate_at(progress.global_step, settings.learning_rate, settings.lr_decay)
        terms = sgd_step(self.model, batch.x, batch.present, self.spec.alpha, lr, self.compute)
        progress.sums += torch.stack([t.detach() for t in terms]).double() * len(batch)
        progress.step += 1
        progress.global_step += 1
        return terms

    def after_step(self, terms: LossTerms) -> None:
        """Progress bar (of :meth:`run`) and a checkpoint every ``checkpoints.minutes``.

        Args:
            terms: the loss terms of the step (unused here; for subclasses).
        """
        self.bar.update()
        if self.checkpoints is not None and time.monotonic() - self.last_save >= self.checkpoints.minutes * 60:
            self.checkpoint_now()

    def checkpoint_now(self) -> None:
        """Checkpoint within the epoch: the network, the progress and the epoch's dropout stream."""
        self.save_checkpoint(self.rng, self.progress.epoch_seconds + time.monotonic() - self.epoch_started)
        self.last_save = time.monotonic()

    def should_stop(self) -> bool:
        """Whether to end training after this step, before ``epochs`` epochs (never, here)."""
        return False

    def end_epoch(self) -> None:
        """Append the epoch's history row and checkpoint the start of the next epoch.

        Raises:
            InputError: the epoch's loss is not finite.
        """
        progress = self.progress
        progress.epoch_seconds += time.monotonic() - self.epoch_started
        row = self.history_row()
        progress.history.append(row)
        log.info(
            "epoch %d/%d: loss %.5f (reconstruction %.5f, similarity %.5f), lr %.6f, %.1f s, %.0f patches/s",
            progress.epoch + 1, self.epochs, row["loss"], row["recon_loss"], row["sim_loss"], row["lr"],
            progress.epoch_seconds, row["patches_per_s"],
        )  # fmt: skip
        progress.epoch, progress.step, progress.epoch_seconds = progress.epoch + 1, 0, 0.0
        progress.sums.zero_()
        self.save_checkpoint(epoch_rng(self.settings.seed, progress.epoch), 0.0)
        self.last_save = time.monotonic()

    def history_row(self) -> dict:
        """The epoch's row of ``history.tsv`` (``HISTORY_COLUMNS``).

        Raises:
            InputError: the epoch's loss is not finite.
        """
        progress, settings = self.progress, self.settings
        loss, recon, sim = (progress.sums / self.samples_per_epoch).tolist()
        if not math.isfinite(loss):
            raise InputError(
                f"training {settings.model_id}: the loss is {loss} in epoch {progress.epoch + 1}: "
                "training diverged or the volumes hold NaN/inf values. Lower "
                "training.learning_rate in the dataset's config, or check the normalize output"
            )
        return {
            "epoch": progress.epoch + 1, "loss": loss, "recon_loss": recon, "sim_loss": sim,
            "lr": learning_rate_at(progress.global_step - 1, settings.learning_rate, settings.lr_decay),
            "seconds": progress.epoch_seconds,
            "patches_per_s": self.samples_per_epoch / max(progress.epoch_seconds, 1e-9),
        }  # fmt: skip

    def save_checkpoint(self, rng: np.random.Generator, epoch_seconds: float) -> None:
        """Write the network, the progress and the dropout stream ``rng`` (if checkpointing)."""
        if self.checkpoints is None:
            return
        progress = self.progress
        payload = {
            "model": self.model.state_dict(),
            "epoch": progress.epoch, "step": progress.step, "global_step": progress.global_step,
            "rng": capture_rng(rng), "sums": progress.sums.cpu(), "epoch_seconds": epoch_seconds,
            "history": progress.history,
        }  # fmt: skip
        save_checkpoint(self.checkpoints.path, payload, self.run_hash)

    def finish(self) -> tuple[torch.nn.Module, list[dict]]:
        """The trained network in eval mode and the history rows."""
        self.model.eval()
        return self.model, self.progress.history
