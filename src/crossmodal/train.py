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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from crossmodal.atomic import atomic_path
from crossmodal.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint, settings_hash
from crossmodal.devices import claimed_device
from crossmodal.errors import InputError
from crossmodal.gather import VolumeStack
from crossmodal.loss import LossTerms, combined_loss
from crossmodal.modality_dropout import sample_present
from crossmodal.model_ids import ModelSpec, parse_model_id
from crossmodal.network import build_network, weights_record
from crossmodal.patch_sets import load_patch_set
from crossmodal.seeds import derive_seed

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ["epoch", "loss", "recon_loss", "sim_loss", "lr", "seconds", "patches_per_s"]
PROGRESS_SECONDS = 30  # tqdm refresh interval: keeps the logs of day-long jobs small


class TrainingStopped(RuntimeError):
    """Raised by the ``stop_after_steps`` test hook after it has written a checkpoint."""


class PatchSource(Protocol):
    """What training needs from :class:`crossmodal.gather.VolumeStack`."""

    def gather(self, scan_index: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        """``[B]`` scan indices and ``[B, 3]`` centres to patches ``[B, M, P, P, P]``."""


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
        epochs, batch_size, learning_rate, lr_decay, bf16: config block ``training``.
        seed: base seed of this run (derived from dataset seed and the run's seed key).
        checkpoint_minutes: checkpoint interval within an epoch (does not enter the hash).
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
    bf16: bool
    seed: int
    checkpoint_minutes: float = 5.0

    @classmethod
    def from_dataset(cls, model_id: str, dataset: dict, seed_key: str) -> "TrainSettings":
        """Settings from a validated dataset config block (defaults filled by the schema).

        Args:
            model_id: network id.
            dataset: ``config["datasets"][ds]``.
            seed_key: e.g. ``"synthetic_knee/axial-md1-pfn1-a0.1/fold0"``.

        Raises:
            InputError: a key is missing (the block was not validated against the schema).
        """
        try:
            training, network = dataset["training"], dataset["network"]
            return cls(
                model_id=model_id,
                modalities=tuple(dataset["modalities"]),
                patch_size=int(dataset["patch_size"]),
                widths=tuple(int(w) for w in network["widths"]),
                features=int(network["features"]),
                epochs=int(training["epochs"]),
                batch_size=int(training["batch_size"]),
                learning_rate=float(training["learning_rate"]),
                lr_decay=float(training["lr_decay"]),
                bf16=bool(training["bf16"]),
                seed=derive_seed(dataset["seed"], seed_key),
                checkpoint_minutes=float(training["checkpoint_minutes"]),
            )
        except KeyError as error:
            raise InputError(
                f"training {seed_key}: dataset config has no key {error}; validate the config "
                "against workflow/schemas/config.schema.yaml (it fills the defaults)"
            ) from None

    def hashed(self) -> dict:
        """The fields that must match for a checkpoint to be resumed."""
        fields = asdict(self)
        del fields["checkpoint_minutes"]
        return fields


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
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    present: torch.Tensor,
    alpha: float,
    lr: float,
    autocast: contextlib.AbstractContextManager,
) -> LossTerms:
    """One SGD update on one minibatch.

    Args:
        model: network in training mode.
        optimizer: its optimizer.
        x: patches ``[B, M, P, P, P]`` (``[B, 1, P, P, P]`` for baselines).
        present: bool ``[B, M]``, modalities entering the mean.
        alpha: similarity weight.
        lr: learning rate of this update.
        autocast: ``torch.autocast`` context (possibly disabled) for the forward pass.

    Returns:
        The loss terms of the batch (before the update).
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    with autocast:
        out = model(x, present)
    terms = combined_loss(x, out, alpha)
    optimizer.zero_grad(set_to_none=True)
    terms.total.backward()
    optimizer.step()
    return terms


def fit(
    source: PatchSource,
    scan_ids: list[str],
    scan_index: np.ndarray,
    centres: np.ndarray,
    settings: TrainSettings,
    weights_path: str | Path,
    history_path: str | Path,
    checkpoint_path: str | Path,
    device: torch.device,
    stop_after_steps: int | None = None,
) -> None:
    """Train a network on the given patches and write ``weights.pt`` and ``history.tsv``.

    Resumes from ``checkpoint_path`` when it holds a checkpoint of the same settings and data;
    deletes it after the final weights are written.

    Args:
        source: gathers patches ``[B, M, P, P, P]`` on ``device``.
        scan_ids: the scans ``scan_index`` refers to (for the checkpoint fingerprint).
        scan_index: int ``[N]``, scan of each training patch.
        centres: int ``[N, 3]``, patch centres.
        settings: the run's settings.
        weights_path, history_path: outputs (docs/architecture.md).
        checkpoint_path: checkpoint file (not an output).
        device: where the network trains (``source`` must gather there).
        stop_after_steps: test hook: after this many updates in total, write a checkpoint and
            raise :class:`TrainingStopped`, as if the job had been killed.

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
    patch_of, channel_of = training_samples(spec, len(scan_index), modalities)
    bounds = batch_bounds(len(patch_of), settings.batch_size)
    if not bounds:
        raise InputError(
            f"training {settings.model_id}: {len(patch_of)} training sample(s), need at least 2; "
            "check the fold's training scans and patches_per_class"
        )
    n_used = bounds[-1][1]
    run_hash = settings_hash({**settings.hashed(), "data": data_fingerprint(scan_ids, scan_index, centres)})

    init = torch.Generator().manual_seed(derive_seed(settings.seed, "init"))
    model = build_network(spec, n_mod, settings.patch_size, settings.widths, settings.features, init).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.learning_rate, momentum=0.0)
    scan_t = torch.as_tensor(np.asarray(scan_index), dtype=torch.int64, device=device)
    centres_t = torch.as_tensor(np.asarray(centres), dtype=torch.int64, device=device)
    patch_t = torch.as_tensor(patch_of, device=device)
    channel_t = None if channel_of is None else torch.as_tensor(channel_of, device=device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=settings.bf16 and device.type == "cuda")

    epoch, step, global_step = 0, 0, 0
    history: list[dict] = []
    sums = torch.zeros(3, dtype=torch.float64, device=device)  # loss, recon, sim x samples
    epoch_seconds = 0.0
    resumed = load_checkpoint(checkpoint_path, run_hash, device)
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        optimizer.load_state_dict(resumed["optimizer"])
        epoch, step, global_step = resumed["epoch"], resumed["step"], resumed["global_step"]
        history = list(resumed["history"])
        sums = resumed["sums"].to(device)
        epoch_seconds = resumed["epoch_seconds"]
        log.info(
            "resuming from checkpoint %s: epoch %d step %d (of %d epochs x %d steps)",
            checkpoint_path, epoch + 1, step, settings.epochs, len(bounds),
        )  # fmt: skip

    def checkpoint(rng: np.random.Generator, seconds: float) -> None:
        save_checkpoint(
            checkpoint_path,
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
                "step": step,
                "global_step": global_step,
                "rng": capture_rng(rng),
                "sums": sums.cpu(),
                "epoch_seconds": seconds,
                "history": history,
            },
            run_hash,
        )

    bar = tqdm(
        total=settings.epochs * len(bounds), initial=global_step, file=sys.stderr,
        mininterval=PROGRESS_SECONDS, unit="step", desc=settings.model_id,
    )  # fmt: skip
    last_save = time.monotonic()
    while epoch < settings.epochs:
        order = torch.as_tensor(epoch_permutation(settings.seed, epoch, len(patch_of)), device=device)
        rng = epoch_rng(settings.seed, epoch)
        if resumed is not None:
            restore_rng(resumed["rng"], rng)
            resumed = None
        model.train()
        start = time.monotonic()
        while step < len(bounds):
            a, b = bounds[step]
            samples = order[a:b]
            present = torch.from_numpy(sample_present(rng, b - a, n_mod, spec.modality_dropout)).to(device)
            patches = patch_t[samples]
            x = source.gather(scan_t[patches], centres_t[patches])
            if channel_t is not None:
                x = x[torch.arange(b - a, device=device), channel_t[samples]][:, None]
            lr = learning_rate_at(global_step, settings.learning_rate, settings.lr_decay)
            terms = train_step(model, optimizer, x, present, spec.alpha, lr, autocast)
            sums += torch.stack([t.detach() for t in terms]).double() * (b - a)
            step += 1
            global_step += 1
            bar.update()
            stop = stop_after_steps is not None and global_step == stop_after_steps
            if stop or time.monotonic() - last_save >= settings.checkpoint_minutes * 60:
                checkpoint(rng, epoch_seconds + time.monotonic() - start)
                last_save = time.monotonic()
            if stop:
                bar.close()
                raise TrainingStopped(f"stopped after {global_step} steps (test hook)")
        epoch_seconds += time.monotonic() - start
        loss, recon, sim = (sums / n_used).tolist()
        if not math.isfinite(loss):
            bar.close()
            raise InputError(
                f"training {settings.model_id}: the loss is {loss} in epoch {epoch + 1}: training "
                "diverged or the volumes hold NaN/inf values. Lower training.learning_rate in the "
                "dataset's config, or check the normalize output"
            )
        row = {
            "epoch": epoch + 1, "loss": loss, "recon_loss": recon, "sim_loss": sim,
            "lr": learning_rate_at(global_step - 1, settings.learning_rate, settings.lr_decay),
            "seconds": epoch_seconds, "patches_per_s": n_used / max(epoch_seconds, 1e-9),
        }  # fmt: skip
        history.append(row)
        log.info(
            "epoch %d/%d: loss %.5f (reconstruction %.5f, similarity %.5f), lr %.6f, %.1f s, %.0f patches/s",
            epoch + 1, settings.epochs, loss, recon, sim, row["lr"], epoch_seconds, row["patches_per_s"],
        )  # fmt: skip
        epoch, step, epoch_seconds = epoch + 1, 0, 0.0
        sums.zero_()
        checkpoint(epoch_rng(settings.seed, epoch), 0.0)
        last_save = time.monotonic()
    bar.close()

    record = weights_record(model, settings.model_id, settings.patch_size, settings.widths, settings.features)
    with atomic_path(weights_path) as tmp:
        torch.save(record, tmp)
    with atomic_path(history_path) as tmp:
        pd.DataFrame(history, columns=HISTORY_COLUMNS).to_csv(tmp, sep="\t", index=False)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("wrote %s and %s; removed the checkpoint", weights_path, history_path)


def train(
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    fold: int,
    model_id: str,
    dataset: dict,
    weights_path: str | Path,
    history_path: str | Path,
    checkpoint_path: str | Path,
    seed_key: str,
    threads: int = 1,
    stop_after_steps: int | None = None,
) -> None:
    """Train network ``model_id`` on the training scans of ``fold`` (rule ``train``).

    Args:
        volumes_dir: ``results/{ds}/volumes``.
        patches_dir: ``results/{ds}/patches``.
        folds_tsv: ``results/{ds}/folds.tsv``.
        fold: test fold k; the network trains on the scans of the other folds.
        model_id: ``axial-md{0|1}-pfn{0|1}-a{alpha}``, ``baseline-all`` or ``baseline-{m}``.
        dataset: the validated config block of the dataset.
        weights_path, history_path: outputs.
        checkpoint_path: checkpoint file in the same directory (survives a killed job).
        seed_key: ``"{ds}/{model}/fold{k}"``; with the dataset seed it seeds the run.
        threads: CPU threads for torch.
        stop_after_steps: test hook, see :func:`fit`.

    Raises:
        InputError: bad model id or configuration, or no training patches.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (CUDA only)
    torch.set_num_threads(threads)
    settings = TrainSettings.from_dataset(model_id, dataset, seed_key)
    patch_set = load_patch_set(volumes_dir, patches_dir, folds_tsv, fold, "train")
    log.info("%s: %d training patches from %d scans", seed_key, len(patch_set.scan_index), len(patch_set.scan_ids))
    with claimed_device() as device, deterministic_algorithms(device):
        log.info("training on %s with %d thread(s)", device, threads)
        stack = VolumeStack.from_dir(volumes_dir, patch_set.scan_ids, device)
        if stack.patch_size != settings.patch_size:
            raise InputError(
                f"training {seed_key}: config patch_size is {settings.patch_size} but "
                f"{volumes_dir} was prepared for {stack.patch_size}^3 patches; re-run normalize"
            )
        fit(
            stack, list(patch_set.scan_ids), patch_set.scan_index, patch_set.centres, settings,
            weights_path, history_path, checkpoint_path, device, stop_after_steps,
        )  # fmt: skip
