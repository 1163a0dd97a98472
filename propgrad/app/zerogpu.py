"""Hugging Face ZeroGPU: on a Space with ``spaces`` installed, diffusion sweeps run under ``spaces.GPU``."""
from __future__ import annotations

# Seconds of GPU a call may hold on a ZeroGPU Space when the caller does not say (the app's largest sweeps fit).
GPU_SECONDS = 120


def zero_gpu(fn, duration=GPU_SECONDS):
    """Run ``fn`` under ``spaces.GPU`` (Hugging Face ZeroGPU) when ``spaces`` is importable; else as is.

    ``duration``: seconds, or a callable taking ``fn``'s arguments that returns them (ZeroGPU then reserves
    what each call needs: steps x denoising steps x seeds).
    """
    try:
        import spaces
    except ImportError:
        return fn
    return spaces.GPU(duration=duration)(fn)


def use_zero_gpu() -> None:
    """Route the diffusion sweeps through :func:`zero_gpu` (a no-op without ``spaces``)."""
    try:
        from ..interventions import diffusion, editors
    except ImportError:  # no torch / diffusers in this build: nothing to route
        return
    diffusion.run_sweeps_with(zero_gpu)
    editors.run_sweeps_with(zero_gpu)
