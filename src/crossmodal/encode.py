"""Features of every train and test patch of a fold, per modality (rule ``encode``).

For an axial network the features of modality m are f^m(x^m) after its representation
normalization; for a baseline, the shared encoder (and its global normalization) applied to the
patches of each modality. The network is in evaluation mode (batch normalization uses its
running statistics), so a patch's features do not depend on the batch it is encoded in.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from crossmodal.atomic import atomic_path
from crossmodal.devices import claimed_device
from crossmodal.errors import InputError
from crossmodal.gather import VolumeStack
from crossmodal.network import AxialNet, load_network
from crossmodal.patch_sets import load_patch_set
from crossmodal.train import PatchSource

log = logging.getLogger(__name__)


@torch.inference_mode()
def encode_patches(
    model: torch.nn.Module,
    source: PatchSource,
    scan_index: np.ndarray,
    centres: np.ndarray,
    batch_size: int,
    n_modalities: int,
    features: int,
) -> np.ndarray:
    """Encode patches batch by batch.

    Args:
        model: :class:`~crossmodal.network.AxialNet` or
            :class:`~crossmodal.network.SharedAutoencoder`, in eval mode, on the source's device.
        source: gathers ``[B, M, P, P, P]`` patches (a :class:`crossmodal.gather.VolumeStack`).
        scan_index: int ``[N]``.
        centres: int ``[N, 3]``.
        batch_size: patches per forward pass.
        n_modalities: M.
        features: F.

    Returns:
        float32 ``[M, N, F]``: row ``[m, i]`` holds the features of modality m of patch i.
    """
    n = len(scan_index)
    out = np.empty((n_modalities, n, features), dtype=np.float32)
    device = next(model.parameters()).device
    scan_t = torch.as_tensor(np.asarray(scan_index), dtype=torch.int64, device=device)
    centres_t = torch.as_tensor(np.asarray(centres), dtype=torch.int64, device=device)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        x = source.gather(scan_t[start:stop], centres_t[start:stop])
        out[:, start:stop] = model.encode(x).float().cpu().numpy().transpose(1, 0, 2)
    return out


def encode(
    weights_path: str | Path,
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    fold: int,
    dataset: dict,
    features_path: str | Path,
    threads: int = 1,
) -> None:
    """Write ``fold{k}.npz``: features of the fold's train and test patches, per modality.

    Args:
        weights_path: ``weights.pt`` of the trained network.
        volumes_dir, patches_dir, folds_tsv: data stage outputs of the dataset.
        fold: fold k the network was trained for.
        dataset: the validated config block of the dataset (``modalities``,
            ``training.encode_batch_size``).
        features_path: output ``.npz`` (docs/architecture.md, "features").
        threads: CPU threads for torch.

    Raises:
        InputError: the network does not match the dataset (modality count, patch size).
    """
    torch.set_num_threads(threads)
    modalities = list(dataset["modalities"])
    batch_size = int(dataset["training"]["encode_batch_size"])
    arrays: dict[str, np.ndarray] = {"modalities": np.asarray(modalities, dtype=str)}
    with claimed_device() as device:
        model, meta = load_network(weights_path, device)
        if isinstance(model, AxialNet) and meta["n_modalities"] != len(modalities):
            raise InputError(
                f"{weights_path}: network has {meta['n_modalities']} modality paths but the "
                f"dataset has {len(modalities)} modalities {modalities}; retrain it"
            )
        for split in ("train", "test"):
            patch_set = load_patch_set(volumes_dir, patches_dir, folds_tsv, fold, split)
            if len(patch_set) == 0:
                raise InputError(f"{folds_tsv}: fold {fold} has no {split} patches")
            stack = VolumeStack.from_dir(volumes_dir, patch_set.scan_ids, device)
            if stack.patch_size != meta["patch_size"]:
                raise InputError(
                    f"{weights_path}: network trained on {meta['patch_size']}^3 patches but "
                    f"{volumes_dir} holds {stack.patch_size}^3; retrain or re-run normalize"
                )
            arrays[f"{split}_features"] = encode_patches(
                model, stack, patch_set.scan_index, patch_set.centres, batch_size,
                len(modalities), meta["features"],
            )  # fmt: skip
            arrays[f"{split}_labels"] = patch_set.labels.astype(np.int64)
            arrays[f"{split}_scans"] = np.asarray(patch_set.scan_ids, dtype=str)[patch_set.scan_index]
            log.info("%s: encoded %d %s patches x %d modalities", meta["model_id"], len(patch_set), split, len(modalities))
            del stack
    with atomic_path(features_path) as tmp:
        np.savez(tmp, **arrays)
