"""InstructPix2Pix as a source of gradual interventions: one edit at rising text-guidance scales.

The same instruction, image guidance and seed at every step, so the text-guidance scale is the only
thing that changes along the series (Penzel & Denzler, WACV 2026). The scales are swept by
:func:`~propgrad.interventions.cfg_sweep.cfg_sweep` in one batched denoising loop; finished series can
be cached on disk (:class:`~propgrad.cache.SeriesCache`) so other models reuse them for free.

Weights: ``timbrooks/instruct-pix2pix`` by hub id, or a local folder given as ``model`` or in
``$PROPGRAD_INSTRUCT_PIX2PIX``. The safety checker is switched off: the series must show the edit
itself, and a blacked-out step would read as a property change.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from ..checks import check_steps, is_real_number, is_whole_number
from .base import InterventionSeries, ProgressFn, no_progress
from .cfg_sweep import Cancelled, cfg_sweep, check_seeds
from .pipelines import load_pipeline, weights_on_disk

__all__ = [
    "Cancelled", "DEFAULT_MODEL", "ENV_LOCAL", "InstructPix2PixSweep", "guidance_values",
    "instruct_pix2pix_available", "load_instruct_pix2pix", "run_sweeps_with",
]

DEFAULT_MODEL = "timbrooks/instruct-pix2pix"
ENV_LOCAL = "PROPGRAD_INSTRUCT_PIX2PIX"
PROPERTY = "text guidance scale"
# diffusers switches text guidance off at s <= 1; the authors start the sweep just above it.
FIRST_SCALE = 1.01
# Value shown for step 0, the unedited input: guidance 1 means "no pull towards the instruction".
UNEDITED_VALUE = 1.0


def _source(model: str) -> str:
    """Where to load ``model`` from: ``$PROPGRAD_INSTRUCT_PIX2PIX`` overrides the default hub id."""
    local = os.environ.get(ENV_LOCAL)
    if local and model == DEFAULT_MODEL:
        return local
    return model


def _how_to_provide(model: str, failure: str = "") -> str:
    # Ends with what to do: the download command, then where the folder goes (the same order as every
    # missing-weights message of the package).
    return (f"InstructPix2Pix weights '{model}' are neither in a local folder nor downloadable here{failure}. "
            f"On a machine with a hub: `hf download {DEFAULT_MODEL} --local-dir /path/to/instruct-pix2pix` "
            f"(older huggingface_hub: `huggingface-cli download`), then set "
            f"{ENV_LOCAL}=/path/to/instruct-pix2pix or pass that folder as the model "
            f"(command line: --editor instruct-pix2pix --editor-model /path/to/instruct-pix2pix).")


def instruct_pix2pix_available(model: str = DEFAULT_MODEL) -> bool:
    """Whether the weights can be loaded without a download (a local folder or the Hugging Face cache).

    Cheap: looks at files only, never at the network.

    Examples
    --------
    >>> instruct_pix2pix_available("/nonexistent")
    False
    """
    if not isinstance(model, str) or not model:
        raise TypeError(f"`model` must be a hub id or a folder path, got {model!r}")
    return weights_on_disk(_source(model), files=("model_index.json", "unet/config.json", "vae/config.json"))


def load_instruct_pix2pix(model: str = DEFAULT_MODEL, device: str | torch.device | None = None,
                          dtype: torch.dtype | None = None):
    """The InstructPix2Pix pipeline, loaded once per process per (model, device, dtype).

    float16 on CUDA, float32 elsewhere unless ``dtype`` says otherwise; safety checker off.

    Raises
    ------
    ModelUnavailableError
        The weights are neither local nor downloadable; the message names the model id, the
        environment variable and the download command.

    Examples
    --------
    >>> pipe = load_instruct_pix2pix()  # doctest: +SKIP
    """
    from ..device import pick_device

    device = torch.device(device) if device is not None else pick_device()
    dtype = dtype or (torch.float16 if device.type == "cuda" else torch.float32)
    return load_pipeline("StableDiffusionInstructPix2PixPipeline", _source(model), device, dtype,
                         lambda failure: _how_to_provide(model, failure),
                         safety_checker=None, requires_safety_checker=False)


def _sweep(pipe, image, scales, instruction, image_guidance, denoising_steps, seeds, progress):
    # ZeroGPU runs this in a forked worker and ships its arguments across: a loaded pipeline travels
    # as its (model, device) key and is found again in the fork's copy of the per-process cache.
    if isinstance(pipe, tuple):
        pipe = load_instruct_pix2pix(*pipe)
    return cfg_sweep(pipe, image, scales, prompt=instruction, image_guidance_scale=image_guidance,
                     num_inference_steps=denoising_steps, seeds=seeds, progress=progress)


# GPU seconds per denoising step of one image on a ZeroGPU Space: a rough figure, not measured here.
SECONDS_PER_STEP = 0.03


def gpu_seconds(seconds_per_step: float, steps: int, denoising_steps: int, seeds: int, *, inversion: bool = False,
                margin: float = 30.0) -> int:
    """GPU seconds to ask ZeroGPU for: edited steps x denoising steps x seeds x the time per step (plus one
    inversion per seed where the editor inverts first), and a margin for loading and decoding; at least 60 s.

    Examples
    --------
    >>> gpu_seconds(0.06, steps=10, denoising_steps=50, seeds=2, inversion=True)
    90
    """
    per_series = (steps - 1 + (1 if inversion else 0)) * denoising_steps * seconds_per_step
    return int(max(60, round(margin + seeds * per_series)))


def _gpu_duration(pipe, image, scales, instruction, image_guidance, denoising_steps, seeds, progress) -> int:
    # What this sweep needs (scales x denoising steps x seeds), not a fixed guess.
    return gpu_seconds(SECONDS_PER_STEP, len(scales) + 1, denoising_steps, len(seeds))


# Where the sweep runs: here, as is, unless a host wraps it for its GPU (the app does on a ZeroGPU Space).
_sweep_on_gpu = _sweep


def run_sweeps_with(wrapper) -> None:
    """Run every later sweep through ``wrapper(sweep, duration=...)`` (e.g. ZeroGPU's ``spaces.GPU``), where
    ``duration`` takes the sweep's arguments and returns the GPU seconds it needs. The sweep must be wrapped
    in the main process before the first request, as ZeroGPU requires."""
    global _sweep_on_gpu
    _sweep_on_gpu = wrapper(_sweep, duration=_gpu_duration)


def guidance_values(max_guidance: float, steps: int) -> np.ndarray:
    """Property values of a series: 1.0 for the unedited step 0, then ``linspace(1.01, max, steps - 1)``.

    Examples
    --------
    >>> guidance_values(10.0, 4).round(2).tolist()
    [1.0, 1.01, 5.5, 10.0]
    """
    return np.concatenate([[UNEDITED_VALUE], np.linspace(FIRST_SCALE, float(max_guidance), steps - 1)])


def fit_side(image: Image.Image, max_side: int) -> Image.Image:
    """The image as the editor sees it: RGB, longer side at most ``max_side`` (rounded down to a
    multiple of 8), both sides resized down to multiples of 8 (what the VAE needs); never enlarged.

    Step 0 of a series is this image, so that steps 0 and 1 differ by the edit, not by a resize.

    Examples
    --------
    >>> fit_side(Image.new("RGB", (1000, 600)), 512).size
    (512, 304)
    """
    limit = max_side - max_side % 8
    w, h = image.size
    scale = min(1.0, limit / max(w, h))
    size = (max(8, int(w * scale) // 8 * 8), max(8, int(h * scale) // 8 * 8))
    rgb = image.convert("RGB")
    return rgb.copy() if size == rgb.size else rgb.resize(size, Image.Resampling.LANCZOS)


@dataclass(frozen=True)
class InstructPix2PixSweep:
    """Edit an image with InstructPix2Pix at rising text-guidance scales, one series per seed.

    Each series has ``steps`` images: step 0 is the unedited input (resized like the edits, value
    1.0), steps 1.. are edits at ``linspace(1.01, max_guidance, steps - 1)``. All scales and seeds
    run in one batched denoising loop.

    Parameters
    ----------
    instruction : str
        The edit, e.g. "make the cat's fur white".
    max_guidance : float
        Largest text-guidance scale (the paper sweeps up to 15).
    steps : int
        Images per series, the unedited input included (at least 3).
    image_guidance : float
        Image guidance scale (2.5 in the authors' code).
    denoising_steps : int
        Denoising steps per edit.
    seeds : tuple of int
        One series per seed (a mean curve with a spread downstream).
    max_side : int
        Longest side fed to the editor, rounded down to a multiple of 8.
    model : str
        Hub id or local folder; ``$PROPGRAD_INSTRUCT_PIX2PIX`` replaces the default id.
    device : str, optional
        Default: CUDA, then MPS, then CPU (``propgrad.device.pick_device``).
    cache : SeriesCache, optional
        Where finished series are kept; None caches nothing.
    pipeline : optional
        A ready pipeline to use instead of loading ``model`` (tests inject a tiny one).

    Examples
    --------
    >>> sweep = InstructPix2PixSweep("make it winter", max_guidance=10, steps=8)
    >>> sweep.values().round(2).tolist()[:3]
    [1.0, 1.01, 2.51]
    >>> series = sweep.series(image)  # doctest: +SKIP
    """

    instruction: str
    max_guidance: float = 10.0
    steps: int = 10
    image_guidance: float = 2.5
    denoising_steps: int = 20
    seeds: tuple[int, ...] = (0,)
    max_side: int = 512
    model: str = DEFAULT_MODEL
    device: str | None = None
    cache: object | None = None
    pipeline: object | None = field(default=None, repr=False)

    def __post_init__(self):
        if not isinstance(self.instruction, str) or not self.instruction.strip():
            raise ValueError("`instruction` must be a non-empty string, e.g. 'make the fur white'")
        if not is_real_number(self.max_guidance) or self.max_guidance <= FIRST_SCALE:
            raise ValueError(f"`max_guidance` must be a number above {FIRST_SCALE}, got {self.max_guidance!r}")
        check_steps(self.steps)
        for name, low in (("denoising_steps", 1), ("max_side", 8)):
            value = getattr(self, name)
            if not is_whole_number(value, low):
                raise ValueError(f"`{name}` must be an integer of at least {low}, got {value!r}")
        if not is_real_number(self.image_guidance) or self.image_guidance < 1:
            raise ValueError(f"`image_guidance` must be a number of at least 1, got {self.image_guidance!r}")
        seeds = check_seeds(self.seeds)
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"`seeds` must be distinct (a repeated seed repeats its series), got {seeds}")
        object.__setattr__(self, "seeds", tuple(seeds))
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(f"`model` must be a hub id or a folder path, got {self.model!r}")
        if self.cache is not None and not all(hasattr(self.cache, a) for a in ("get", "put", "lock")):
            raise TypeError("`cache` must be a propgrad.cache.SeriesCache or None")

    @property
    def name(self) -> str:
        return f"InstructPix2Pix: {self.instruction}"

    def values(self) -> np.ndarray:
        """Property values of every series (see :func:`guidance_values`)."""
        return guidance_values(self.max_guidance, self.steps)

    def _pipe(self):
        # An injected pipeline is used as is; otherwise the per-process one (loaded here, in the
        # main process, so that ZeroGPU workers inherit it).
        return self.pipeline if self.pipeline is not None else load_instruct_pix2pix(self.model, self.device)

    def _params(self, seed: int, device: torch.device, dtype: torch.dtype) -> dict:
        import diffusers

        return {"editor": "instruct-pix2pix", "model": self.model, "instruction": self.instruction,
                "scales": [float(v) for v in self.values()[1:]], "image_guidance": float(self.image_guidance),
                "denoising_steps": int(self.denoising_steps), "seed": seed, "max_side": int(self.max_side),
                "device": device.type, "dtype": str(dtype), "diffusers": diffusers.__version__,
                "sweep": "cfg_sweep/1"}

    def series(self, image: Image.Image | None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        """One series per seed, in the order of ``seeds``.

        ``progress`` is called after every denoising step; an exception it raises (e.g.
        :class:`Cancelled`) stops the sweep, and nothing is cached.
        """
        if not isinstance(image, Image.Image):
            raise ValueError("InstructPix2Pix needs an input image (a PIL image)")
        from ..cache import cached_series

        start = fit_side(image, self.max_side)
        values = self.values()
        progress(0.0, "loading InstructPix2Pix")
        pipe = self._pipe()
        device, dtype = pipe._execution_device, pipe.unet.dtype

        def make(missing: list[int]) -> list[InterventionSeries]:
            handle = pipe if self.pipeline is not None else (self.model, self.device)
            edits = _sweep_on_gpu(handle, start, values[1:], self.instruction, float(self.image_guidance),
                                  int(self.denoising_steps), missing, progress)
            return [InterventionSeries([start.copy(), *images], values.copy(), PROPERTY, label=f"seed {seed}")
                    for seed, images in zip(missing, edits)]

        return cached_series(self.cache, image, self.seeds, lambda seed: self._params(seed, device, dtype), make,
                             progress)
