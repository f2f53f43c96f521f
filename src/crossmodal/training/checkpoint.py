"""Training checkpoints: atomic save, validated load, and the random-number-generator states.

A checkpoint is a dict of tensors and primitive containers only, so that it loads with
``torch.load(..., weights_only=True)`` (no pickled objects): the numpy bit-generator state is
stored as its plain dict of ints and strings, torch generator states as uint8 tensors.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch

from crossmodal.common.atomic import atomic_path

log = logging.getLogger(__name__)

FORMAT = 1


def settings_hash(settings: dict) -> str:
    """A stable hash of everything that determines the training trajectory.

    Args:
        settings: JSON-serializable dict (keys in any order).

    Returns:
        64 hex characters (SHA-256 of the canonical JSON text).
    """
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def capture_rng(np_rng: np.random.Generator) -> dict:
    """The states of ``np_rng`` and of torch's global CPU and CUDA generators.

    Args:
        np_rng: the numpy generator of the training loop.

    Returns:
        ``{"numpy": dict, "torch": uint8 tensor, "cuda": list of uint8 tensors}``.
    """
    return {
        "numpy": np_rng.bit_generator.state,
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(state: dict, np_rng: np.random.Generator) -> None:
    """Set ``np_rng`` and torch's global generators to a state from :func:`capture_rng`.

    Args:
        state: from :func:`capture_rng` (possibly after a save/load round trip).
        np_rng: generator to restore in place; must be of the same bit-generator type.
    """
    np_rng.bit_generator.state = state["numpy"]
    torch.set_rng_state(state["torch"].cpu())  # generator states must be CPU byte tensors
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save_checkpoint(path: str | Path, payload: dict, hash_: str) -> None:
    """Write a checkpoint atomically (a killed job leaves the previous one intact).

    Args:
        path: checkpoint file.
        payload: tensors and primitive containers only (the model state dict,
            :func:`capture_rng` output, counters, history rows).
        hash_: :func:`settings_hash` of the run's settings.
    """
    record = {"format": FORMAT, "settings_hash": hash_, **payload}
    with atomic_path(path) as tmp:
        torch.save(record, tmp)


def load_checkpoint(path: str | Path, hash_: str, device: torch.device | str = "cpu") -> dict | None:
    """Read a checkpoint if there is a usable one.

    Args:
        path: checkpoint file (need not exist).
        hash_: :func:`settings_hash` of the current settings.
        device: where to map the tensors.

    Returns:
        The checkpoint dict, or None when there is none, it cannot be read, or it was written
        with other settings (the last two are logged and the file is left to be overwritten).
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        record = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file is ignored, not fatal
        log.warning("ignoring unreadable checkpoint %s (%s); training from scratch", path, error)
        return None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        log.warning("ignoring checkpoint %s: unknown format; training from scratch", path)
        return None
    if record.get("settings_hash") != hash_:
        log.warning(
            "ignoring checkpoint %s: written with other settings (hash %.12s, now %.12s); "
            "training from scratch",
            path, record.get("settings_hash"), hash_,
        )  # fmt: skip
        return None
    return record
