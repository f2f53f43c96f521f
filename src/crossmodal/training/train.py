"""Training one network: one dataset, one model id, one cross-validation fold (rule ``train``).

The job (:class:`crossmodal.training.training_job.TrainingJob`) is trained by
:class:`crossmodal.training.trainer.Trainer` with checkpoints, its outputs are written, and the trained
network encodes every train and test patch of the fold: one job per network and fold, so the
fold's volumes are opened once (memory-mapped on the CPU, copied once to a GPU) and serve both
training and encoding, the network is never written and read back and no second process starts.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import torch

from crossmodal.common.atomic import atomic_path
from crossmodal.training.features import write_features
from crossmodal.training.network import weights_record
from crossmodal.training.trainer import HISTORY_COLUMNS, Checkpoints, Trainer
from crossmodal.training.settings import TrainSettings
from crossmodal.training.training_job import TrainingJob

log = logging.getLogger(__name__)


def write_training_outputs(
    model: torch.nn.Module,
    history: list[dict],
    settings: TrainSettings,
    weights_path: str | Path,
    history_path: str | Path,
    precision: str | None = None,
) -> None:
    """Write ``weights.pt`` and ``history.tsv`` (docs/architecture.md), each atomically;
    ``precision`` is what the network was trained in (recorded in ``weights.pt``)."""
    record = weights_record(
        model, settings.model_id, settings.patch_size, settings.widths, settings.features, precision
    )
    with atomic_path(weights_path) as tmp:
        torch.save(record, tmp)
    with atomic_path(history_path) as tmp:
        pd.DataFrame(history, columns=HISTORY_COLUMNS).to_csv(tmp, sep="\t", index=False)


def train(
    job: TrainingJob,
    *,
    weights_path: str | Path,
    history_path: str | Path,
    features_path: str | Path,
    checkpoint_path: str | Path,
    checkpoint_minutes: float,
) -> None:
    """Rule ``train``: train the job's network on its fold, then encode the fold's patches.

    Args:
        job: the network, its data and settings.
        weights_path, history_path, features_path: outputs (docs/architecture.md).
        checkpoint_path: checkpoint file in the weights' directory (survives a killed job).
        checkpoint_minutes: also checkpoint within an epoch this often (config
            ``training.checkpoint_minutes``).

    Raises:
        InputError: bad model id or configuration, no training patches, or volumes prepared for
            another patch size.
    """
    checkpoints = Checkpoints(Path(checkpoint_path), float(checkpoint_minutes))
    with job.opened() as opened:
        trainer = Trainer(job.settings, opened.splits["train"], opened.source, opened.compute, checkpoints)
        model, history = trainer.run()
        write_training_outputs(model, history, job.settings, weights_path, history_path, opened.compute.precision)
        arrays = opened.encode(model)
    write_features(features_path, list(job.settings.modalities), **arrays)
    Path(checkpoint_path).unlink(missing_ok=True)
    log.info("wrote %s, %s and %s; removed the checkpoint", weights_path, history_path, features_path)
