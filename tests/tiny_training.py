"""Training test helpers: a tiny dataset on disk, its training job, a trainer stopped as if killed."""

import numpy as np
import pandas as pd

from crossmodal.training.trainer import Trainer
from crossmodal.training.training_job import TrainingJob

MODALITIES = ("t1", "t2")
P = 9


def write_tiny_dataset(root, nan_scans=()):
    """Three scans (subjects s0-s2) in the documented volumes/, patches/ and folds.tsv formats."""
    rng = np.random.default_rng(2)
    volumes, patches = root / "volumes", root / "patches"
    volumes.mkdir(parents=True)
    patches.mkdir()
    rows, folds = [], []
    for i, scan in enumerate(["s0", "s1", "s2"]):
        volume = rng.standard_normal((2, 11, 12, 10)).astype(np.float32)
        if scan in nan_scans:
            volume[:] = np.nan
        np.save(volumes / f"{scan}.npy", volume)
        np.savez(patches / f"{scan}.npz", centres=rng.integers(4, 6, (8, 3)).astype(np.int16),
                 labels=np.repeat(np.arange(2, dtype=np.uint8), 4))
        rows.append({"scan_id": scan, "subject_id": f"p{i}", "origin_x": 0, "origin_y": 0, "origin_z": 0,
                     "shape_x": 11, "shape_y": 12, "shape_z": 10, "patch_size": P, "mask_voxels": 100,
                     "mean_t1": 0.0, "sd_t1": 1.0, "mean_t2": 0.0, "sd_t2": 1.0})
        folds.append({"scan_id": scan, "subject_id": f"p{i}", "fold": int(i == 2), "half": 0})
    pd.DataFrame(rows).to_csv(volumes / "index.tsv", sep="\t", index=False)
    pd.DataFrame(folds).to_csv(root / "folds.tsv", sep="\t", index=False)
    return {"modalities": list(MODALITIES), "patch_size": P, "seed": 0,
            "network": {"widths": [2, 2, 2], "features": 4},
            "training": {"epochs": 2, "batch_size": 6, "learning_rate": 0.3, "lr_decay": 2e-6,
                         "precision": "fp32"}}


def tiny_job(root, dataset, model_id="axial-md1-pfn0-a0.2", fold=1, precision=None):
    """The training job of ``model_id`` on fold ``fold`` of :func:`write_tiny_dataset`'s data."""
    training = dict(dataset["training"], **({"precision": precision} if precision else {}))
    return TrainingJob.from_config(
        root / "volumes", root / "patches", root / "folds.tsv", fold, model_id, dataset_name="tiny",
        dataset_seed=dataset["seed"], modalities=dataset["modalities"], patch_size=dataset["patch_size"],
        network=dataset["network"], training=training, encode_batch_size=5, threads=1,
    )  # fmt: skip


class TrainingStopped(RuntimeError):
    """Raised by a trainer of :func:`stopping_after` once it has written its checkpoint."""


def stopping_after(steps: int) -> type[Trainer]:
    """A :class:`Trainer` that checkpoints after ``steps`` updates in total and raises
    :class:`TrainingStopped`: a job killed there, for the resume tests."""

    class StoppingTrainer(Trainer):
        def after_step(self, terms):
            super().after_step(terms)
            if self.progress.global_step == steps:
                self.checkpoint_now()
                raise TrainingStopped(f"stopped after {steps} steps")

    return StoppingTrainer
