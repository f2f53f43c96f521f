"""Fig. 5 data: input patches and their reconstructions by a trained axial network.

For a few test patches of one fold (a seeded selection, about equally many per class), the
centre slice of every modality's input and of its reconstruction g^m(f(x)) from the
representation f(x) computed from all modalities, and from each single modality (the mean over
one modality is that modality's normalized features). Pixel values are stored in a tidy table:
one row per (patch, target modality, source, row, col).

The centre slice is ``patch[:, :, P // 2]``: rows run along the volume's first axis (x), columns
along its second (y), as stored by normalize (nibabel order).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from crossmodal.common.atomic import atomic_path
from crossmodal.common.errors import InputError
from crossmodal.common.seeds import derive_seed
from crossmodal.training.network import AxialNet, load_network

log = logging.getLogger(__name__)

#: Columns of ``fig5.tsv``. ``source`` is ``input``, ``all`` (reconstructed from all
#: modalities) or ``from_<m>`` (from modality m alone); ``modality`` is the image's modality.
COLUMNS = [
    "dataset", "model", "fold", "patch", "label", "scan_id", "modality", "source",
    "row", "col", "value",
]


def select_patches(labels: np.ndarray, n_patches: int, seed: int) -> np.ndarray:
    """A seeded selection of ``n_patches`` patches, about equally many per class.

    Classes get ``n_patches // C`` patches each, the first ``n_patches % C`` classes one more
    (a class with too few patches gives all it has).

    Args:
        labels: class index per patch ``[N]``.
        n_patches: how many to select.
        seed: random seed.

    Returns:
        int64 indices into ``labels``, grouped by class (ascending), random within a class.
    """
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    chosen = []
    for i, c in enumerate(classes):
        want = n_patches // len(classes) + (1 if i < n_patches % len(classes) else 0)
        members = np.flatnonzero(labels == c)
        chosen.append(rng.choice(members, size=min(want, len(members)), replace=False))
    return np.concatenate(chosen).astype(np.int64) if chosen else np.zeros(0, np.int64)


@torch.inference_mode()
def reconstructions(model: AxialNet, patches: torch.Tensor) -> dict[str, np.ndarray]:
    """Reconstructions of every modality from all modalities and from each single one.

    Args:
        model: a trained axial network in eval mode.
        patches: ``[B, M, P, P, P]`` on the model's device.

    Returns:
        ``{"all": [B, M, P, P, P], "from_0": ..., "from_{M-1}": ...}`` float32 numpy arrays
        (``from_i``: the representation is modality i's normalized features alone).
    """
    b, m = patches.shape[:2]
    result = {"all": model(patches).reconstruction.float().cpu().numpy()}
    for i in range(m):
        present = torch.zeros(b, m, dtype=torch.bool, device=patches.device)
        present[:, i] = True
        result[f"from_{i}"] = model(patches, present).reconstruction.float().cpu().numpy()
    return result


def centre_slice_table(
    inputs: np.ndarray, recon: dict[str, np.ndarray], modalities: list[str]
) -> pd.DataFrame:
    """Tidy pixel table of the centre slices.

    Args:
        inputs: ``[B, M, P, P, P]``.
        recon: :func:`reconstructions` of those inputs.
        modalities: the M modality names.

    Returns:
        Columns ``patch, modality, source, row, col, value``; sources ``input``, ``all``, then
        ``from_<modality name>`` in modality order.
    """
    b, m, p = inputs.shape[:3]
    c = p // 2
    images = {"input": inputs} | {
        ("all" if key == "all" else f"from_{modalities[int(key[5:])]}"): value
        for key, value in recon.items()
    }
    rows, cols = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    parts = []
    for source, volume in images.items():
        for patch in range(b):
            for i, name in enumerate(modalities):
                parts.append(pd.DataFrame({
                    "patch": patch, "modality": name, "source": source,
                    "row": rows.ravel(), "col": cols.ravel(),
                    "value": volume[patch, i, :, :, c].ravel(),
                }))
    return pd.concat(parts, ignore_index=True)


def fig5_data(
    weights: str | Path,
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    table: str | Path,
    *,
    dataset: str,
    modalities: list[str],
    classes: list[str],
    model: str,
    fold: int,
    n_patches: int,
    seed: int,
) -> pd.DataFrame:
    """Rule ``fig5_data``: write ``results/{ds}/figdata/fig5.tsv``.

    Args:
        weights: ``results/{ds}/models/{model}/fold{fold}/weights.pt``.
        volumes_dir: ``results/{ds}/volumes``.
        patches_dir: ``results/{ds}/patches``.
        folds_tsv: ``results/{ds}/folds.tsv``.
        table: output path (columns :data:`COLUMNS`).
        dataset: dataset key.
        modalities: the dataset's modalities.
        classes: class names (position = class index).
        model: network id (config ``figures.fig5_model``; an axial network).
        fold: fold whose test patches are shown (the network never saw them).
        n_patches: number of patches (config ``figures.fig5_patches``).
        seed: the dataset's base seed.

    Returns:
        The table written.

    Raises:
        InputError: the weights are not those of an axial network for these modalities, or the
            fold has no test patches.
    """
    from crossmodal.data.gather import open_patch_source
    from crossmodal.data.patch_sets import load_patch_set

    net, meta = load_network(weights, "cpu")
    if not isinstance(net, AxialNet) or meta["n_modalities"] != len(modalities):
        raise InputError(
            f"{weights}: Fig. 5 needs an axial network with {len(modalities)} modality paths "
            f"(config figures.fig5_model = {model!r} gives {meta['model_id']!r} with "
            f"{meta['n_modalities']}); choose an axial-md*-pfn*-a* id of the grid"
        )
    test = load_patch_set(volumes_dir, patches_dir, folds_tsv, fold, "test")
    if len(test) == 0:
        raise InputError(f"{folds_tsv}: fold {fold} has no test patches (config figures.fold)")
    chosen = select_patches(test.labels, n_patches, derive_seed(seed, dataset, "fig5", model, fold))
    scan_index = test.scan_index[chosen]
    used = sorted(set(scan_index.tolist()))
    source = open_patch_source(volumes_dir, [test.scan_ids[i] for i in used], "cpu", meta["patch_size"])
    remap = {old: new for new, old in enumerate(used)}
    patches = source.gather(np.array([remap[i] for i in scan_index]), test.centres[chosen])
    recon = reconstructions(net, patches)
    result = centre_slice_table(patches.numpy(), recon, modalities)
    patch_labels = np.array([classes[i] for i in test.labels[chosen]])
    patch_scans = np.array([test.scan_ids[i] for i in scan_index])
    result = result.assign(
        dataset=dataset, model=model, fold=int(fold),
        label=patch_labels[result["patch"]], scan_id=patch_scans[result["patch"]],
    )[COLUMNS]
    inputs = result.loc[result["source"] == "input", "value"].to_numpy()
    for source in ["all"] + [f"from_{m}" for m in modalities]:
        error = np.abs(result.loc[result["source"] == source, "value"].to_numpy() - inputs)
        log.info("centre slices, reconstruction %s: mean absolute error %.4f", source, error.mean())
    with atomic_path(table) as tmp:
        result.to_csv(tmp, sep="\t", index=False)
    return result
