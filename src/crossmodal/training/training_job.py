"""One training job: the network of one dataset, model id and fold, its data and its device.

Rule ``train`` and rule ``curve_training`` train the same network from the same config values;
:class:`TrainingJob` holds those values once (built by :meth:`TrainingJob.from_rule` in the
job's script). :meth:`TrainingJob.opened` then loads the fold's patch sets, claims a device,
resolves the precision and opens the fold's volumes there: the :class:`OpenedJob` that
:class:`crossmodal.training.trainer.Trainer` trains on and whose patches the trained network encodes.
What determines the weights is :class:`crossmodal.training.settings.TrainSettings`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from crossmodal.common.errors import InputError
from crossmodal.common.seeds import seed_key
from crossmodal.data.gather import open_patch_source
from crossmodal.data.gather.patch_source import PatchSource
from crossmodal.data.patch_sets import PatchSet, load_patch_set
from crossmodal.training.allocator import retain_freed_memory
from crossmodal.training.devices import claimed_device
from crossmodal.training.encode import encode_splits
from crossmodal.training.precision import Compute
from crossmodal.training.settings import TrainSettings

log = logging.getLogger(__name__)

SPLITS = ("train", "test")


@contextlib.contextmanager
def deterministic_algorithms(device: torch.device) -> Iterator[None]:
    """On CUDA, use deterministic kernels for the block, then restore the previous settings.

    ``warn_only``: an operation without a deterministic kernel warns instead of failing.

    On the CPU this does nothing: every operation used here is deterministic there already
    (``tests/training/test_trainer.py`` checks bit-identical weights across runs and across a resume), and
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


@dataclass(frozen=True)
class TrainingJob:
    """The network of one dataset, model id and fold: its data, its settings, how it runs.

    Attributes:
        dataset: the dataset's config key (with model id and fold it names the run's seed).
        fold: test fold k; the network trains on the scans of the other folds.
        dataset_seed: config ``seed`` of the dataset (also the forests' seed of a curve).
        volumes_dir, patches_dir, folds_tsv: the dataset's data stage outputs
            (``results/{ds}/volumes``, ``results/{ds}/patches``, ``results/{ds}/folds.tsv``).
        settings: what determines the weights.
        encode_batch_size: patches per forward pass when encoding (does not change results).
        threads: CPU threads for torch (and a curve's forests).
    """

    dataset: str
    fold: int
    dataset_seed: int
    volumes_dir: Path
    patches_dir: Path
    folds_tsv: Path
    settings: TrainSettings
    encode_batch_size: int
    threads: int

    @classmethod
    def from_config(
        cls,
        volumes_dir: str | Path,
        patches_dir: str | Path,
        folds_tsv: str | Path,
        fold: int,
        model_id: str,
        *,
        dataset_name: str,
        dataset_seed: int,
        modalities: list[str],
        patch_size: int,
        network: dict,
        training: dict,
        encode_batch_size: int,
        threads: int,
    ) -> "TrainingJob":
        """The job from a rule's inputs, wildcards and the dataset's config values.

        Args:
            volumes_dir, patches_dir, folds_tsv: the dataset's data stage outputs.
            fold: the test fold k.
            model_id: ``axial-md{0|1}-pfn{0|1}-a{alpha}``, ``baseline-all`` or ``baseline-{m}``.
            dataset_name: the dataset's config key.
            dataset_seed: config ``seed`` of the dataset.
            modalities, patch_size, network, training: the dataset's config values (see
                :meth:`TrainSettings.from_config`).
            encode_batch_size: config ``training.encode_batch_size``.
            threads: CPU threads for torch.

        Raises:
            InputError: a key of ``network`` or ``training`` is missing.
        """
        key = seed_key(dataset_name, model_id, fold)
        return cls(
            dataset=dataset_name, fold=int(fold), dataset_seed=int(dataset_seed),
            volumes_dir=Path(volumes_dir), patches_dir=Path(patches_dir), folds_tsv=Path(folds_tsv),
            settings=TrainSettings.from_config(model_id, modalities, patch_size, network, training, dataset_seed, key),
            encode_batch_size=int(encode_batch_size), threads=int(threads),
        )  # fmt: skip

    @classmethod
    def from_rule(cls, inputs, wildcards, params, *, encode_batch_size: int, threads: int) -> "TrainingJob":
        """The job of a rule ``train`` or ``curve_training`` job, from what its script is given.

        The two rules share their inputs and these params (``training_job_params`` in
        workflow/rules/train.smk), so their scripts build the job with this one call.

        Args:
            inputs: ``snakemake.input``: ``volumes``, ``patches``, ``folds``.
            wildcards: ``snakemake.wildcards``: ``ds``, ``model``, ``fold``.
            params: ``snakemake.params``: ``seed``, ``modalities``, ``patch_size``, ``network``,
                ``training``.
            encode_batch_size: config ``training.encode_batch_size``.
            threads: ``snakemake.threads``.

        Raises:
            InputError: a key of ``network`` or ``training`` is missing.
        """
        return cls.from_config(
            inputs.volumes, inputs.patches, inputs.folds, int(wildcards.fold), wildcards.model,
            dataset_name=wildcards.ds, dataset_seed=params.seed, modalities=params.modalities,
            patch_size=params.patch_size, network=params.network, training=params.training,
            encode_batch_size=encode_batch_size, threads=threads,
        )  # fmt: skip

    @property
    def key(self) -> str:
        """The run's seed key, e.g. ``"synthetic_knee/axial-md1-pfn1-a0.1/fold0"`` (also in log lines)."""
        return seed_key(self.dataset, self.settings.model_id, self.fold)

    def load_splits(self) -> dict[str, PatchSet]:
        """The fold's ``train`` and ``test`` patch sets.

        Raises:
            InputError: a split has no patches, or the data stage outputs are inconsistent.
        """
        splits = {
            split: load_patch_set(self.volumes_dir, self.patches_dir, self.folds_tsv, self.fold, split)
            for split in SPLITS
        }
        for split, patch_set in splits.items():
            if len(patch_set) == 0:
                raise InputError(f"{self.folds_tsv}: fold {self.fold} has no {split} patches")
        log.info("%s: %d training patches from %d scans", self.key, len(splits["train"]), len(splits["train"].scan_ids))
        return splits

    @contextlib.contextmanager
    def opened(self) -> Iterator["OpenedJob"]:
        """Load the fold's patches, claim a device and open the fold's volumes on it.

        Sets torch's CPU threads; on CUDA, deterministic kernels for the block
        (:func:`deterministic_algorithms`, and cuBLAS' workspace setting they need).

        Yields:
            The job's :class:`OpenedJob`; the device is released when the block ends.

        Raises:
            InputError: no patches in a split, or volumes prepared for another patch size.
        """
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS (CUDA only)
        torch.set_num_threads(self.threads)
        splits = self.load_splits()
        with claimed_device() as device, deterministic_algorithms(device):
            compute = Compute.for_device(device, self.settings.precision)
            if device.type == "cpu":
                retain_freed_memory()  # no page faults on the step's activations (allocator.py)
            log.info("on %s with %d thread(s), precision %s", device, self.threads, compute.precision)
            scan_ids = splits["train"].scan_ids + splits["test"].scan_ids
            source = open_patch_source(self.volumes_dir, scan_ids, device, self.settings.patch_size)
            yield OpenedJob(self, splits, source, compute)


@dataclass(frozen=True)
class OpenedJob:
    """A training job with its patches loaded and its volumes open on its device.

    Attributes:
        job: the job.
        splits: the fold's ``train`` and ``test`` patch sets.
        source: gathers patches of every scan of both splits on ``compute.device``.
        compute: device, precision and memory layout.
    """

    job: TrainingJob
    splits: dict[str, PatchSet]
    source: PatchSource
    compute: Compute

    def encode(self, model: torch.nn.Module) -> dict[str, np.ndarray]:
        """Features of every train and test patch of the fold (:func:`crossmodal.training.encode.encode_splits`)."""
        settings = self.job.settings
        return encode_splits(
            model, self.source, self.splits, list(settings.modalities), settings.features,
            self.job.encode_batch_size, self.compute,
        )  # fmt: skip
