"""Choosing the compute device for training and encoding."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


def select_device() -> torch.device:
    """CUDA device 0 when PyTorch sees a GPU, else the CPU."""
    return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def claimed_device() -> Iterator[torch.device]:
    """The device a training or encoding job should use, held for the duration of the block."""
    yield select_device()
