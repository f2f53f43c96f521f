"""Numerical precision and memory layout of training and encoding (config ``training.precision``).

``bf16`` runs the network's forward pass under ``torch.autocast(dtype=torch.bfloat16)``: the
convolutions compute in bfloat16 while the weights, their gradients, the optimizer and the loss
stay in float32 (the loss casts the network's outputs back to float32, see
:func:`crossmodal.training.loss.combined_loss`). ``fp32`` computes everything in float32. ``auto`` picks
the precision that trains faster on the device, from what was measured on each kind
(docs/performance.md, "The training step"):

* CUDA: bf16 when ``torch.cuda.is_bf16_supported()`` (Ampere and newer);
* CPU: bf16 only with AMX tiles, whose bf16 matrix units made the step 1.5-1.9x faster. With
  AVX-512-BF16 but no AMX the bf16 step ran at 0.8-0.9x the fp32 step, and without either
  oneDNN emulates bfloat16 at a fraction of the fp32 speed: fp32 there.

``auto`` can therefore resolve differently on two machines. The precision a network was trained
in is written with it (``weights.pt``'s ``precision``, the job's log), and docs/method.md says how
much Table I moves between the two.

Networks use the ``channels_last_3d`` memory layout (oneDNN's 3-D convolutions and cuDNN's
bf16 tensor-core kernels prefer it). The patches stay as gathered, ``[B, M, P, P, P]``
contiguous: each encoder reads one modality ``[B, 1, P, P, P]``, for which both layouts are the
same bytes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from crossmodal.common.errors import InputError

PRECISIONS = ("auto", "fp32", "bf16")


def cpu_bf16_instructions() -> str:
    """The bfloat16 instructions of this CPU: ``"amx"``, ``"avx512_bf16"`` or ``""`` (none).

    Uses PyTorch's own CPU-feature probes (private helpers of ``torch.cpu``); where they are
    missing (other PyTorch versions) the answer is ``""``, which only costs speed.
    """
    for name, probe in (("amx", "_is_amx_tile_supported"), ("avx512_bf16", "_is_avx512_bf16_supported")):
        try:
            if hasattr(torch.cpu, probe) and getattr(torch.cpu, probe)():
                return name
        except RuntimeError:
            continue
    return ""


def resolve_precision(setting: str, device: torch.device | str) -> str:
    """The precision a run uses on ``device``: ``"fp32"`` or ``"bf16"``.

    Args:
        setting: config ``training.precision``: ``"auto"``, ``"fp32"`` or ``"bf16"``.
        device: the training device.

    Returns:
        ``setting`` itself unless it is ``"auto"``; then ``"bf16"`` where it trains faster on the
        device (a CUDA GPU with bfloat16, a CPU with AMX; see the module docstring), else ``"fp32"``.

    Raises:
        InputError: an unknown setting, or ``"bf16"`` on a CUDA device without bfloat16.
    """
    device = torch.device(device)
    if setting not in PRECISIONS:
        raise InputError(f"training.precision = {setting!r}: choose one of {list(PRECISIONS)}")
    if setting == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise InputError(
            f"training.precision = 'bf16' but {torch.cuda.get_device_name(device)} has no "
            "bfloat16 support; set it to 'auto' or 'fp32'"
        )
    if setting != "auto":
        return setting
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_bf16_instructions() == "amx" else "fp32"
    return "fp32"


@dataclass(frozen=True)
class Compute:
    """How a network computes on one device: precision and memory layout.

    Attributes:
        device: where the network and the patches live.
        precision: ``"fp32"`` or ``"bf16"`` (already resolved, see :func:`resolve_precision`).
        channels_last: keep the network's weights and its input in ``channels_last_3d``.
    """

    device: torch.device
    precision: str
    channels_last: bool = True

    @classmethod
    def for_device(cls, device: torch.device | str, setting: str) -> "Compute":
        """The compute settings for ``device`` and the config's ``training.precision``."""
        device = torch.device(device)
        return cls(device, resolve_precision(setting, device))

    def autocast(self) -> contextlib.AbstractContextManager:
        """The context a forward pass runs in: bf16 autocast, or nothing for fp32."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        """Move ``model`` to the device (and to channels-last); returns it."""
        model = model.to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last_3d)
        return model
