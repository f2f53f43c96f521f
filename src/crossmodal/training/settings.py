"""What determines a training run's weights: :class:`TrainSettings`, from the config values.

Rule ``train`` and rule ``curve_training`` build it through
:meth:`crossmodal.training.training_job.TrainingJob.from_config`; the trainer
(:mod:`crossmodal.training.trainer`) trains from it, and a checkpoint's hash covers every field.
A new network or training setting goes here.
"""

from __future__ import annotations

from dataclasses import dataclass

from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed
from crossmodal.training.method import DEFAULT as DEFAULT_METHOD
from crossmodal.training.method import MethodSettings


@dataclass(frozen=True)
class TrainSettings:
    """Everything that determines a training run.

    Attributes:
        model_id: network id (see :mod:`crossmodal.common.model_ids`).
        modalities: the dataset's modalities, in channel order.
        patch_size: P.
        widths: encoder widths (w1, w2, w3).
        features: F.
        epochs, batch_size, learning_rate, lr_decay: config block ``training``.
        precision: config ``training.precision`` (``auto``, ``fp32``, ``bf16``); what it
            resolves to on the training device is part of the checkpoint hash.
        seed: base seed of this run (derived from dataset seed and the run's seed key).
        method: the readings of the method's open points (config ``method``).
        updates: config ``training.updates``: where set, the whole epochs that give at least
            that many SGD updates replace ``epochs`` (:class:`crossmodal.training.schedule.Schedule`).
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
    method: MethodSettings = DEFAULT_METHOD
    updates: int | None = None

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
                ``learning_rate``, ``lr_decay``, ``precision``, optional ``updates``; other keys
                are ignored), and under ``method`` the network's keys of the ``method`` block
                that differ from the defaults (:func:`crossmodal.training.method.network_method`;
                absent: the defaults).
            dataset_seed: config ``seed`` of the dataset.
            run_key: :func:`crossmodal.common.seeds.seed_key` of the run, e.g.
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
                method=MethodSettings.from_config(training.get("method")),
                updates=None if training.get("updates") is None else int(training["updates"]),
            )
        except KeyError as error:
            raise InputError(
                f"training {run_key}: config has no key {error}; validate the config "
                "against workflow/schemas/config.schema.yaml (it fills the defaults)"
            ) from None
