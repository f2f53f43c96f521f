"""Train and test patch sets of a fold, assembled from the per-scan patch centres.

Patches are stored as centres (``results/{ds}/patches/{scan}.npz``), never as copies; a fold's
training set is the concatenation of the centre lists of the scans outside the fold, read
from ``folds.tsv``. Nothing is copied on disk per fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crossmodal.common.errors import InputError
from crossmodal.data.folds import read_folds
from crossmodal.data.sample_patches import read_patches
from crossmodal.data.volumes import read_volume_index


@dataclass(frozen=True)
class PatchSet:
    """Patches of one split of one fold, in a fixed order.

    Attributes:
        scan_ids: scans of the split, in ``folds.tsv`` order.
        scan_index: int64 ``[N]``, index into ``scan_ids`` of each patch.
        centres: int64 ``[N, 3]`` voxel ``(x, y, z)`` of each patch centre in the cropped
            volume of its scan.
        labels: int64 ``[N]`` class index (position in the dataset's ``classes``).
    """

    scan_ids: list[str]
    scan_index: np.ndarray
    centres: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def index_into(self, scan_ids: list[str]) -> np.ndarray:
        """``scan_index`` re-expressed as positions in another scan list (e.g. a patch source's).

        Args:
            scan_ids: a list holding every scan of this set (and possibly others).

        Returns:
            int64 ``[N]``: for each patch, the position of its scan in ``scan_ids``.

        Raises:
            InputError: a scan of this set is not in ``scan_ids``.
        """
        position = {sid: i for i, sid in enumerate(scan_ids)}
        missing = [sid for sid in self.scan_ids if sid not in position]
        if missing:
            raise InputError(f"patch set: scans {missing[:5]} are not among the {len(scan_ids)} scans held")
        to_list = np.asarray([position[sid] for sid in self.scan_ids], dtype=np.int64)
        return to_list[self.scan_index] if len(self.scan_index) else np.zeros(0, np.int64)


def load_patch_set(
    volumes_dir: str | Path,
    patches_dir: str | Path,
    folds_tsv: str | Path,
    fold: int,
    split: str,
) -> PatchSet:
    """The train or test patches of ``fold``.

    Order: scans in the order of ``folds.tsv``, then the order of each scan's patch file
    (class by class). Every centre is checked against its volume's shape and the patch size
    in ``volumes_dir/index.tsv``, so gathering never needs padding.

    Args:
        volumes_dir: ``results/{ds}/volumes`` (its ``index.tsv`` gives shapes and patch size).
        patches_dir: ``results/{ds}/patches`` (``{scan}.npz`` per scan).
        folds_tsv: ``results/{ds}/folds.tsv``.
        fold: test fold index k (0..K-1).
        split: ``"train"`` (scans not in fold k) or ``"test"`` (scans in fold k).

    Returns:
        The patch set.

    Raises:
        InputError: unknown split or fold, a scan missing from the volume index or without a
            patch file, or a centre too close to its volume's border.
    """
    if split not in ("train", "test"):
        raise InputError(f"load_patch_set: split must be 'train' or 'test', got {split!r}")
    folds = read_folds(folds_tsv)
    fold_values = sorted(folds["fold"].unique())
    if fold not in fold_values:
        raise InputError(f"{folds_tsv}: no fold {fold}; folds present are {fold_values}")
    in_fold = folds["fold"] == fold
    scan_ids = folds.loc[~in_fold if split == "train" else in_fold, "scan_id"].tolist()

    index = read_volume_index(volumes_dir).set_index("scan_id")
    missing = [s for s in scan_ids if s not in index.index]
    if missing:
        raise InputError(
            f"{Path(volumes_dir) / 'index.tsv'} has no row for scans {missing[:5]} listed in "
            f"{folds_tsv}; re-run normalize and folds from the same manifest"
        )
    patch_size = int(index["patch_size"].iloc[0])
    half = patch_size // 2

    scan_index, centres, labels = [], [], []
    for i, scan in enumerate(scan_ids):
        c, lab = read_patches(patches_dir, scan)
        shape = index.loc[scan, ["shape_x", "shape_y", "shape_z"]].to_numpy(dtype=np.int64)
        c = c.astype(np.int64)
        bad = ((c < half) | (c > shape - 1 - half)).any(axis=1)
        if bad.any():
            raise InputError(
                f"{Path(patches_dir) / (scan + '.npz')}: {int(bad.sum())} centres (e.g. "
                f"{c[bad][0].tolist()}) lie closer than {half} voxels to the border of the "
                f"volume (shape {shape.tolist()}, patch_size {patch_size}); re-run "
                f"sample_patches after normalize"
            )
        scan_index.append(np.full(len(c), i, dtype=np.int64))
        centres.append(c)
        labels.append(lab.astype(np.int64))
    if not scan_ids:
        return PatchSet([], np.zeros(0, np.int64), np.zeros((0, 3), np.int64), np.zeros(0, np.int64))
    return PatchSet(
        scan_ids=scan_ids,
        scan_index=np.concatenate(scan_index),
        centres=np.concatenate(centres),
        labels=np.concatenate(labels),
    )
