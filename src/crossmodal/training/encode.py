"""Features of every train and test patch of a fold, per modality (the last step of rule ``train``).

For an axial network the features of modality m are f^m(x^m) after its representation
normalization; for a baseline, the shared encoder (and its global normalization) applied to the
patches of each modality. The network is in evaluation mode, so a patch's features do not depend
on the batch it is encoded in. Its batch normalizations use the running statistics of training
(config ``method.encode_bn_stats: running``, the default) or, with ``set``, statistics computed
over the encoded set: for each modality m, every batch normalization on m's path is given, layer
by layer, the mean and (population) variance of its input over all patches of the set in
modality m, so that the set is normalized as one batch would be in training mode.

Encoding runs in the job that trained the network, on the same device and patch source: the
weights need not be written and read back, and the fold's volumes are opened once.
"""

from __future__ import annotations

import copy
import logging
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from crossmodal.data.gather.patch_source import PatchSource
from crossmodal.data.patch_sets import PatchSet
from crossmodal.training.method import DEFAULT as DEFAULT_METHOD
from crossmodal.training.precision import Compute

log = logging.getLogger(__name__)


class _Captured(Exception):
    """Raised by a forward hook once it has the input it wanted: ends that forward pass."""


def set_batch_norm_statistics(path: nn.Module, batches: Callable[[], Iterator[torch.Tensor]]) -> None:
    """Give every batch normalization of ``path`` the statistics of its input over a whole set.

    Layer by layer in forward order, each batch normalization's running mean and variance become
    the mean and population variance of its input over every batch (the earlier layers already
    normalizing with the set's statistics), accumulated in float64. In evaluation mode the path
    then normalizes the set as one batch would be normalized in training mode.

    Args:
        path: a module in evaluation mode, e.g. :meth:`crossmodal.training.network.AxialNet.modality_path`
            (changed in place: give it a copy).
        batches: called once per batch-normalization layer; yields the set's inputs to ``path``
            batch by batch, the same every time.
    """
    norms = [module for module in path.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        sums = {}

        def capture(module: nn.Module, args: tuple) -> None:
            x = args[0].detach().double().transpose(0, 1).flatten(1)  # [C, everything else]
            sums["n"] = sums.get("n", 0) + x.shape[1]
            sums["s"] = sums.get("s", 0) + x.sum(dim=1)
            sums["ss"] = sums.get("ss", 0) + (x * x).sum(dim=1)
            raise _Captured

        handle = norm.register_forward_pre_hook(capture)
        try:
            for x in batches():
                try:
                    path(x)
                except _Captured:
                    pass
        finally:
            handle.remove()
        mean = sums["s"] / sums["n"]
        var = (sums["ss"] / sums["n"] - mean * mean).clamp_min(0)
        norm.running_mean.copy_(mean.to(norm.running_mean.dtype))
        norm.running_var.copy_(var.to(norm.running_var.dtype))


@torch.inference_mode()
def encode_patches(
    model: torch.nn.Module,
    source: PatchSource,
    scan_index: np.ndarray,
    centres: np.ndarray,
    batch_size: int,
    n_modalities: int,
    features: int,
    compute: Compute | None = None,
) -> np.ndarray:
    """Encode patches batch by batch.

    Args:
        model: :class:`~crossmodal.training.network.AxialNet` or
            :class:`~crossmodal.training.network.SharedAutoencoder`, in eval mode, on the source's device.
        source: gathers ``[B, M, P, P, P]`` patches.
        scan_index: int ``[N]``, index into ``source.scan_ids``.
        centres: int ``[N, 3]``.
        batch_size: patches per forward pass.
        n_modalities: M.
        features: F.
        compute: precision of the forward pass (None: float32).

    Returns:
        float32 ``[M, N, F]``: row ``[m, i]`` holds the features of modality m of patch i.
    """
    n = len(scan_index)
    out = np.empty((n_modalities, n, features), dtype=np.float32)
    device = next(model.parameters()).device
    scan_t = torch.as_tensor(np.asarray(scan_index), dtype=torch.int64, device=device)
    centres_t = torch.as_tensor(np.asarray(centres), dtype=torch.int64, device=device)
    autocast = compute.autocast() if compute is not None else torch.autocast(device.type, enabled=False)

    def batches(m: int | None = None) -> Iterator[tuple[int, int, torch.Tensor]]:
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            x = source.gather(scan_t[start:stop], centres_t[start:stop])
            yield start, stop, (x if m is None else x[:, m : m + 1])

    if getattr(model, "method", DEFAULT_METHOD).encode_bn_stats == "set":
        for m in range(n_modalities):
            path = copy.deepcopy(model.modality_path(m)).eval()
            with autocast:
                set_batch_norm_statistics(path, lambda: (x for _, _, x in batches(m)))
                for start, stop, x in batches(m):
                    out[m, start:stop] = path(x).float().cpu().numpy()
        return out
    for start, stop, x in batches():
        with autocast:
            h = model.encode(x)
        out[:, start:stop] = h.float().cpu().numpy().transpose(1, 0, 2)
    return out


def encode_splits(
    model: torch.nn.Module,
    source: PatchSource,
    splits: dict[str, PatchSet],
    modalities: list[str],
    features: int,
    batch_size: int,
    compute: Compute | None = None,
) -> dict[str, np.ndarray]:
    """Features, labels and scan ids of several patch sets, all gathered from one source.

    Args:
        model: the trained network (set to eval mode here).
        source: holds every scan of every split (``source.scan_ids``).
        splits: e.g. ``{"train": PatchSet, "test": PatchSet}``; each set's ``scan_index``
            refers to its own ``scan_ids``, which must all be in ``source.scan_ids``.
        modalities: the dataset's modalities (M).
        features: F.
        batch_size: patches per forward pass.
        compute: precision of the forward pass.

    Returns:
        Per split ``s``: ``{s}_features`` float32 ``[M, N, F]``, ``{s}_labels`` int64 ``[N]``,
        ``{s}_scans`` str ``[N]`` (the arrays of :func:`crossmodal.training.features.write_features`).
    """
    model.eval()
    arrays: dict[str, np.ndarray] = {}
    for name, patch_set in splits.items():
        arrays[f"{name}_features"] = encode_patches(
            model, source, patch_set.index_into(source.scan_ids), patch_set.centres, batch_size,
            len(modalities), features, compute,
        )  # fmt: skip
        arrays[f"{name}_labels"] = patch_set.labels.astype(np.int64)
        arrays[f"{name}_scans"] = np.asarray(patch_set.scan_ids, dtype=str)[patch_set.scan_index]
        log.info("encoded %d %s patches x %d modalities", len(patch_set), name, len(modalities))
    return arrays
