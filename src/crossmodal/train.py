"""Training one network: one dataset, one model id, one cross-validation fold (rule ``train``).

SGD without momentum, Keras-style learning-rate decay per update, minibatches gathered on the
fly from the fold's training scans (on the training device), modality dropout per sample and
use, checkpoints every epoch and every ``checkpoint_minutes`` within an epoch, exact resume.

Reproducibility: every random stream is derived from ``derive_seed(dataset seed, seed_key)``:
the weight initialization, the shuffle of epoch e (a function of (seed, e) only, so a resume
mid-epoch replays the same order) and the modality-dropout draws of epoch e (a numpy generator
seeded from (seed, e) whose state is checkpointed). On the CPU, with the same thread count, a
rerun and a killed-and-resumed run give bit-identical weights; on CUDA deterministic kernels
are switched on for the same purpose (:func:`deterministic_algorithms`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from crossmodal.atomic import atomic_path
from crossmodal.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint, settings_hash
from crossmodal.devices import claimed_device
from crossmodal.encode import encode_splits
from crossmodal.errors import InputError
from crossmodal.features import write_features
from crossmodal.gather import PatchSource, open_patch_source
from crossmodal.loss import LossTerms, combined_loss
from crossmodal.modality_dropout import sample_present
from crossmodal.model_ids import ModelSpec, parse_model_id
from crossmodal.network import build_network, weights_record
from crossmodal.patch_sets import PatchSet, load_patch_set
from crossmodal.precision import Compute
from crossmodal.seeds import derive_seed, seed_key
from crossmodal.sgd import sgd_update

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ["epoch", "loss", "recon_loss", "sim_loss", "lr", "seconds", "patches_per_s"]
PROGRESS_SECONDS = 30  # tqdm refresh interval: keeps the logs of day-long jobs small


class TrainingStopped(RuntimeError):
    """Raised by the ``stop_after_steps`` test hook after it has written a checkpoint."""


def learning_rate_at(step: int, learning_rate: float, decay: float) -> float:
    """Keras' SGD decay: ``lr_t = lr / (1 + decay * t)``, t = number of updates already done.

    Args:
        step: t (0 for the first update).
        learning_rate: initial learning rate.
        decay: decay per update.

    Returns:
        The learning rate of update t.
    """
    return learning_rate / (1.0 + decay * step)


@dataclass(frozen=True)
class TrainSettings:
    """Everything that determines a training run.

    Attributes:
        model_id: network id (see :mod:`crossmodal.model_ids`).
        modalities: the dataset's modalities, in channel order.
        patch_size: P.
        widths: encoder widths (w1, w2, w3).
        features: F.
        epochs, batch_size, learning_rate, lr_decay: config block ``training``.
        precision: config ``training.precision`` (``auto``, ``fp32``, ``bf16``); what it
            resolves to on the training device is part of the checkpoint hash.
        seed: base seed of this run (derived from dataset seed and the run's seed key).
    """

    model_id: str
    modalities: tuple[str, ...]
    patch_size: int
    widths: tuple[int, int, int]
    features: int
    epochs: int
    batch_size: int
    learning_rate: float
    lr_decay: float
    precision: str
    seed: int

    @classmethod
    def from_config(
        cls,
        model_id: str,
        modalities: list[str],
        patch_size: int,
        network: dict,
        training: dict,
        dataset_seed: int,
        run_key: str,
    ) -> "TrainSettings":
        """Settings from the validated config values a training uses (defaults filled by the schema).

        Args:
            model_id: network id.
            modalities: config ``modalities``.
            patch_size: config ``patch_size``.
            network: config block ``network`` (``widths``, ``features``).
            training: config block ``training`` (``epochs``, ``batch_size``,
                ``learning_rate``, ``lr_decay``, ``precision``; other keys are ignored).
            dataset_seed: config ``seed`` of the dataset.
            run_key: :func:`crossmodal.seeds.seed_key` of the run, e.g.
                ``"synthetic_knee/axial-md1-pfn1-a0.1/fold0"``.

        Raises:
            InputError: a key is missing (the block was not validated against the schema).
        """
        try:
            return cls(
                model_id=model_id,
                modalities=tuple(modalities),
                patch_size=int(patch_size),
                widths=tuple(int(w) for w in network["widths"]),
                features=int(network["features"]),
                epochs=int(training["epochs"]),
                batch_size=int(training["batch_size"]),
                learning_rate=float(training["learning_rate"]),
                lr_decay=float(training["lr_decay"]),
                precision=str(training["precision"]),
                seed=derive_seed(dataset_seed, run_key),
            )
        except KeyError as error:
            raise InputError(
                f"training {run_key}: config has no key {error}; validate the config "
                "against workflow/schemas/config.schema.yaml (it fills the defaults)"
            ) from None


def training_samples(spec: ModelSpec, n_patches: int, modalities: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """What one epoch iterates over.

    Args:
        spec: parsed model id.
        n_patches: N, patches of the fold's training scans.
        modalities: the dataset's modalities.

    Returns:
        ``(patch, channel)``: for sample j the patch index ``patch[j]`` and, for baselines, the
        modality channel ``channel[j]`` it is trained on (None for axial networks, which see all
        modalities). ``baseline-all`` has N * M samples: every (patch, modality) pair once.
    """
    patches = np.arange(n_patches, dtype=np.int64)
    if spec.kind == "axial":
        return patches, None
    channels = [modalities.index(m) for m in spec.train_modalities]
    patch = np.tile(patches, len(channels))
    channel = np.repeat(np.asarray(channels, dtype=np.int64), n_patches)
    return patch, channel


def batch_bounds(n_samples: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each minibatch of an epoch over ``n_samples`` shuffled samples.

    The last, smaller batch is kept (as Keras does) unless it would hold a single sample, which
    batch normalization cannot train on; that sample (a different one each epoch) is skipped.
    """
    bounds = [(a, min(a + batch_size, n_samples)) for a in range(0, n_samples, batch_size)]
    if bounds and bounds[-1][1] - bounds[-1][0] < 2:
        bounds.pop()
    return bounds


def epoch_permutation(seed: int, epoch: int, n_samples: int) -> np.ndarray:
    """The sample order of epoch ``epoch`` (0-based): a function of (seed, epoch) only."""
    return np.random.default_rng(derive_seed(seed, "shuffle", epoch)).permutation(n_samples)


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The modality-dropout generator at the start of epoch ``epoch`` (0-based)."""
    return np.random.default_rng(derive_seed(seed, "dropout", epoch))


def data_fingerprint(scan_ids: list[str], scan_index: np.ndarray, centres: np.ndarray) -> str:
    """SHA-256 of the training patches (scan ids and centres), so new patches void a checkpoint."""
    digest = hashlib.sha256("\n".join(scan_ids).encode())
    digest.update(np.ascontiguousarray(scan_index, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(centres, dtype=np.int64).tobytes())
    return digest.hexdigest()


@contextlib.contextmanager
def deterministic_algorithms(device: torch.device) -> Iterator[None]:
    """On CUDA, use deterministic kernels for the block, then restore the previous settings.

    ``warn_only``: an operation without a deterministic kernel warns instead of failing.

    On the CPU this does nothing: every operation used here is deterministic there already
    (``tests/test_train.py`` checks bit-identical weights across runs and across a resume), and
    ``torch.use_deterministic_algorithms`` imports ``torch._inductor`` and ``torch._dynamo``,
    measured at 2.1 s per call on an idle core: a sixth of the CPU time of a demo-scale
    training job (about 13 s).

    Args:
        device: the training device.
    """
    if device.type != "cuda":
        yield
        return
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
    )
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]
        torch.backends.cudnn.deterministic = previous[3]


def train_step(
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


UpdateHook = Callable[[int, torch.nn.Module, LossTerms], None]


@dataclass
class _Progress:
    """Where a run stands; what a checkpoint stores besides the weights (plain SGD has no state)."""

    epoch: int = 0  # 0-based epoch in progress
    step: int = 0  # updates done in that epoch
    global_step: int = 0  # updates done in total
    epoch_seconds: float = 0.0  # time spent in the epoch so far (across resumes)
    history: list[dict] = field(default_factory=list)
    sums: torch.Tensor | None = None  # loss, reconstruction, similarity x samples, this epoch


def fit(
    source: PatchSource,
    train_set: PatchSet,
    settings: TrainSettings,
    compute: Compute,
    checkpoint_path: str | Path | None = None,
    checkpoint_minutes: float = 5.0,
    stop_after_steps: int | None = None,
    on_update: UpdateHook | None = None,
) -> tuple[torch.nn.Module, list[dict]]:
    """Train a network on the patches of ``train_set``.

    The loop reads as three named steps per epoch: :func:`epoch_start` (sample order and
    modality-dropout stream), :func:`train_step` per minibatch, and the epoch's end (history
    row, checkpoint). With ``checkpoint_path``, the run resumes from a checkpoint of the same
    settings, precision and data, and writes one every epoch and every ``checkpoint_minutes``;
    the checkpoint of the finished run stays until the caller removes it (rule ``train``
    removes it once the features are written, so a job killed while encoding resumes there).

    Args:
        source: gathers patches ``[B, M, P, P, P]`` on ``compute.device``; holds every scan of
            ``train_set`` (and possibly others).
        train_set: the training patches of the fold.
        settings: the run's settings.
        compute: device, precision and memory layout.
        checkpoint_path: checkpoint file (not an output), or None for no checkpoints.
        checkpoint_minutes: also checkpoint within an epoch this often.
        stop_after_steps: test hook: after this many updates in total, write a checkpoint and
            raise :class:`TrainingStopped`, as if the job had been killed.
        on_update: called after every update with the number of updates done, the network (in
            training mode; a hook that evaluates it must restore that) and the batch's loss.

    Returns:
        ``(model, history)``: the trained network on ``compute.device`` in eval mode, and one
        row per epoch (``HISTORY_COLUMNS``).

    Raises:
        InputError: the model id is unknown, there are fewer than 2 training samples, or the
            loss of an epoch is not finite (diverged, or NaN in the data).
        TrainingStopped: from the test hook.
    """
    modalities = list(settings.modalities)
    try:
        spec = parse_model_id(settings.model_id, modalities)
    except ValueError as error:
        raise InputError(str(error)) from None
    n_mod = len(modalities)
    device = compute.device
    patch_of, channel_of = training_samples(spec, len(train_set.scan_index), modalities)
    bounds = batch_bounds(len(patch_of), settings.batch_size)
    if not bounds:
        raise InputError(
            f"training {settings.model_id}: {len(patch_of)} training sample(s), need at least 2; "
            "check the fold's training scans and patches_per_class"
        )
    n_used = bounds[-1][1]
    fingerprint = data_fingerprint(train_set.scan_ids, train_set.scan_index, train_set.centres)
    run_hash = settings_hash({**asdict(settings), "precision": compute.precision, "data": fingerprint})

    init = torch.Generator().manual_seed(derive_seed(settings.seed, "init"))
    net = build_network(spec, n_mod, settings.patch_size, settings.widths, settings.features, init)
    model = compute.prepare_model(net)
    scan_t = torch.as_tensor(train_set.index_into(source.scan_ids), device=device)
    centres_t = torch.as_tensor(train_set.centres, dtype=torch.int64, device=device)
    patch_t = torch.as_tensor(patch_of, device=device)
    channel_t = None if channel_of is None else torch.as_tensor(channel_of, device=device)

    run = _Progress(sums=torch.zeros(3, dtype=torch.float64, device=device))
    resumed = load_checkpoint(checkpoint_path, run_hash, device) if checkpoint_path else None
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        run = _Progress(
            resumed["epoch"], resumed["step"], resumed["global_step"], resumed["epoch_seconds"],
            list(resumed["history"]), resumed["sums"].to(device),
        )  # fmt: skip
        log.info(
            "resuming from checkpoint %s: epoch %d step %d (of %d epochs x %d steps)",
            checkpoint_path, run.epoch + 1, run.step, settings.epochs, len(bounds),
        )  # fmt: skip

    def checkpoint(rng: np.random.Generator, seconds: float) -> None:
        if checkpoint_path is None:
            return
        save_checkpoint(
            checkpoint_path,
            {
                "model": model.state_dict(),
                "epoch": run.epoch, "step": run.step, "global_step": run.global_step,
                "rng": capture_rng(rng), "sums": run.sums.cpu(), "epoch_seconds": seconds,
                "history": run.history,
            },
            run_hash,
        )  # fmt: skip

    def epoch_start() -> tuple[torch.Tensor, np.random.Generator]:
        """The epoch's sample order and modality-dropout stream (restored when resuming)."""
        nonlocal resumed
        order = torch.as_tensor(epoch_permutation(settings.seed, run.epoch, len(patch_of)), device=device)
        rng = epoch_rng(settings.seed, run.epoch)
        if resumed is not None:
            restore_rng(resumed["rng"], rng)
            resumed = None
        model.train()
        return order, rng

    def epoch_end() -> None:
        """Append the epoch's history row and checkpoint the start of the next epoch."""
        loss, recon, sim = (run.sums / n_used).tolist()
        if not math.isfinite(loss):
            raise InputError(
                f"training {settings.model_id}: the loss is {loss} in epoch {run.epoch + 1}: "
                "training diverged or the volumes hold NaN/inf values. Lower "
                "training.learning_rate in the dataset's config, or check the normalize output"
            )
        row = {
            "epoch": run.epoch + 1, "loss": loss, "recon_loss": recon, "sim_loss": sim,
            "lr": learning_rate_at(run.global_step - 1, settings.learning_rate, settings.lr_decay),
            "seconds": run.epoch_seconds, "patches_per_s": n_used / max(run.epoch_seconds, 1e-9),
        }  # fmt: skip
        run.history.append(row)
        log.info(
            "epoch %d/%d: loss %.5f (reconstruction %.5f, similarity %.5f), lr %.6f, %.1f s, %.0f patches/s",
            run.epoch + 1, settings.epochs, loss, recon, sim, row["lr"], run.epoch_seconds, row["patches_per_s"],
        )  # fmt: skip
        run.epoch, run.step, run.epoch_seconds = run.epoch + 1, 0, 0.0
        run.sums.zero_()
        checkpoint(epoch_rng(settings.seed, run.epoch), 0.0)

    log.info("training %s on %s in %s", settings.model_id, device, compute.precision)
    bar = tqdm(
        total=settings.epochs * len(bounds), initial=run.global_step, file=sys.stderr,
        mininterval=PROGRESS_SECONDS, unit="step", desc=settings.model_id,
    )  # fmt: skip
    last_save = time.monotonic()
    try:
        while run.epoch < settings.epochs:
            order, rng = epoch_start()
            start = time.monotonic()
            while run.step < len(bounds):
                a, b = bounds[run.step]
                samples = order[a:b]
                present = torch.from_numpy(sample_present(rng, b - a, n_mod, spec.modality_dropout)).to(device)
                patches = patch_t[samples]
                x = source.gather(scan_t[patches], centres_t[patches])
                if channel_t is not None:
                    x = x[torch.arange(b - a, device=device), channel_t[samples]][:, None]
                lr = learning_rate_at(run.global_step, settings.learning_rate, settings.lr_decay)
                terms = train_step(model, x, present, spec.alpha, lr, compute)
                run.sums += torch.stack([t.detach() for t in terms]).double() * (b - a)
                run.step += 1
                run.global_step += 1
                bar.update()
                if on_update is not None:
                    on_update(run.global_step, model, terms)
                stop = stop_after_steps is not None and run.global_step == stop_after_steps
                if stop or time.monotonic() - last_save >= checkpoint_minutes * 60:
                    checkpoint(rng, run.epoch_seconds + time.monotonic() - start)
                    last_save = time.monotonic()
                if stop:
                    raise TrainingStopped(f"stopped after {run.global_step} steps (test hook)")
            run.epoch_seconds += time.monotonic() - start
            epoch_end()
            last_save = time.monotonic()
    finally:
        bar.close()
    model.eval()
    return model, run.history


def write_training_outputs(
    model: torch.nn.Module,
    history: list[dict],
    settings: TrainSettings,
    weights_path: str | Path,
    history_path: str | Path,
) -> None:
    """Write ``weights.pt`` and ``history.tsv`` (docs/architecture.md), each atomically."""
    record = weights_record(model, settings.model_id, settings.patch_size, settings.widths, settings.features)
    with atomic_path(weights_path) as tmp:
        torch.save(record, tmp)
    with atomic_path(history_path) as tmp:
        pd.DataFrame(history, columns=HISTORY_COLUMNS).to_csv(tmp, sep="\t", index=False)


def train(
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
    weights_path: str | Path,
    history_path: str | Path,
    features_path: str | Path,
    checkpoint_path: str | Path,
    checkpoint_minutes: float = 5.0,
    encode_batch_size: int = 1024,
    threads: int = 1,
    stop_after_steps: int | None = None,
) -> None:
    """Rule ``train``: train network ``model_id`` on fold ``fold``, then encode the fold's patches.

    One job per network and fold: the fold's volumes are opened once (memory-mapped on the CPU,
    copied once to a GPU) and serve both training and the encoding of every train and test
    patch, so the network is never written and read back and no second process starts.

    Args:
        volumes_dir: ``results/{ds}/volumes``.
        patches_dir: ``results/{ds}/patches``.
        folds_tsv: ``results/{ds}/folds.tsv``.
        fold: test fold k; the network trains on the scans of the other folds.
        model_id: ``axial-md{0|1}-pfn{0|1}-a{alpha}``, ``baseline-all`` or ``baseline-{m}``.
        modalities, patch_size, network, training: the dataset's config values (see
            :meth:`TrainSettings.from_config`).
        dataset_name: the dataset's config key; with model id and fold it names the run's
            seed (:func:`crossmodal.seeds.seed_key`).
        dataset_seed: config ``seed`` of the dataset.
        weights_path, history_path, features_path: outputs (docs/architecture.md).
        checkpoint_path: checkpoint file in the weights' directory (survives a killed job).
        checkpoint_minutes: also checkpoint within an epoch this often.
        encode_batch_size: patches per forward pass when encoding.
        threads: CPU threads for torch.
        stop_after_steps: test hook, see :func:`fit`.

    Raises:
        InputError: bad model id or configuration, no training patches, or volumes prepared for
            another patch size.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (CUDA only)
    torch.set_num_threads(threads)
    key = seed_key(dataset_name, model_id, fold)
    settings = TrainSettings.from_config(model_id, modalities, patch_size, network, training, dataset_seed, key)
    splits = {split: load_patch_set(volumes_dir, patches_dir, folds_tsv, fold, split) for split in ("train", "test")}
    for split, patch_set in splits.items():
        if len(patch_set) == 0:
            raise InputError(f"{folds_tsv}: fold {fold} has no {split} patches")
    log.info("%s: %d training patches from %d scans", key, len(splits["train"]), len(splits["train"].scan_ids))
    with claimed_device() as device, deterministic_algorithms(device):
        compute = Compute.for_device(device, settings.precision)
        log.info("on %s with %d thread(s), precision %s", device, threads, compute.precision)
        scan_ids = splits["train"].scan_ids + splits["test"].scan_ids
        source = open_patch_source(volumes_dir, scan_ids, device, settings.patch_size)
        model, history = fit(
            source, splits["train"], settings, compute, checkpoint_path, checkpoint_minutes, stop_after_steps
        )
        write_training_outputs(model, history, settings, weights_path, history_path)
        arrays = encode_splits(model, source, splits, modalities, settings.features, encode_batch_size, compute)
    write_features(features_path, modalities, **arrays)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("wrote %s, %s and %s; removed the checkpoint", weights_path, history_path, features_path)
