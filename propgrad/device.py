"""Pick the compute device once: CUDA, then Apple's MPS, then the CPU."""
from __future__ import annotations

import os

import torch


def pick_device(preferred: str | None = None) -> torch.device:
    """The device to run models on. ``PROPGRAD_DEVICE`` or ``preferred`` overrides the automatic choice."""
    choice = preferred or os.environ.get("PROPGRAD_DEVICE")
    if choice:
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
