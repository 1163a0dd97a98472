"""Hugging Face ZeroGPU: on a Space with ``spaces`` installed, diffusion sweeps run under ``spaces.GPU``."""
from __future__ import annotations

# Seconds of GPU a sweep may hold on a ZeroGPU Space (the app's largest sweeps fit).
GPU_SECONDS = 120


def zero_gpu(fn, duration: int = GPU_SECONDS):
    """Run ``fn`` under ``spaces.GPU`` (Hugging Face ZeroGPU) when ``spaces`` is importable; else as is."""
    try:
        import spaces
    except ImportError:
        return fn
    return spaces.GPU(duration=duration)(fn)


def use_zero_gpu() -> None:
    """Route the diffusion sweeps through :func:`zero_gpu` (a no-op without ``spaces``)."""
    try:
        from ..interventions import diffusion
    except ImportError:  # no torch / diffusers in this build: nothing to route
        return
    diffusion.run_sweeps_with(zero_gpu)
