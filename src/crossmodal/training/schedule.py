"""The schedule of one training: its samples, minibatches, length, learning rate and random orders.

The one place that computes a network's updates per epoch and the length of its training
(``training.epochs``, or ``training.updates`` rounded up to whole epochs): the trainer, the
learning curves and the ablation's table all ask :class:`Schedule`. Imports numpy only (no
torch), so that a table that reports update counts does not load the training code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crossmodal.common.model_ids import ModelSpec
from crossmodal.common.seeds import derive_seed


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


@dataclass(frozen=True)
class Schedule:
    """The minibatches of an epoch and the number of epochs of one network's training.

    Attributes:
        bounds: ``(start, stop)`` of each minibatch of an epoch (:func:`batch_bounds`); empty
            when there are fewer than 2 training samples.
        epochs: epochs to train: ``training.epochs``, or where ``training.updates`` is set the
            whole epochs that give at least that many updates.
    """

    bounds: list[tuple[int, int]]
    epochs: int

    @classmethod
    def of(cls, spec: ModelSpec, n_patches: int, modalities: list[str], batch_size: int, epochs: int | None,
           updates: int | None = None) -> "Schedule":  # fmt: skip
        """The schedule of a network with ``n_patches`` training patches.

        Args:
            spec: parsed model id (baselines of all modalities have M samples per patch).
            n_patches: N, patches of the fold's training scans.
            modalities: the dataset's modalities.
            batch_size: config ``training.batch_size``.
            epochs: config ``training.epochs`` (not read where ``updates`` is given).
            updates: config ``training.updates`` (None: train ``epochs`` epochs).
        """
        n_samples = len(training_samples(spec, n_patches, list(modalities))[0])
        bounds = batch_bounds(n_samples, batch_size)
        if updates is None:
            return cls(bounds, int(epochs))
        return cls(bounds, cls(bounds, 0).epochs_for(updates))

    @property
    def updates_per_epoch(self) -> int:
        return len(self.bounds)

    @property
    def updates(self) -> int:
        """SGD updates of the whole training."""
        return self.epochs * self.updates_per_epoch

    def epochs_for(self, updates: int) -> int:
        """Whole epochs that give at least ``updates`` SGD updates: ``ceil(updates / per epoch)``, at least 1."""
        return max(1, math.ceil(updates / max(self.updates_per_epoch, 1)))
