"""Guided image editors as sources of gradual interventions: one edit, one knob swept, the rest fixed.

The paper makes a series by running an instruction-based editor at rising guidance strength with the
same seed. InstructPix2Pix is one such editor; this module describes several in one table
(:data:`EDITORS`: pipeline class, knob and its default range, fixed arguments, licence) and sweeps any
of them with :class:`GuidedEditorSweep`:

- step 0 is the input as the editor sees it (resized to the editor's multiple), steps 1.. are edits at
  ``linspace(low, high, steps - 1)`` of the knob;
- every knob value of one series uses the same seed, so the same initial latents (and, for LEDITS++,
  the same inversion): the knob is the only thing that changes between steps;
- several seeds give several series (a mean curve downstream);
- finished series are cached on disk (:class:`~propgrad.cache.SeriesCache`), keyed by the image and
  every setting;
- weights by hub id or local folder (or the editor's environment variable), always with
  ``trust_remote_code=False``; missing weights raise :class:`~propgrad.errors.ModelUnavailableError`
  saying how to get them.

InstructPix2Pix keeps its batched sweep (:func:`~propgrad.interventions.cfg_sweep.cfg_sweep`, every
knob value and seed in one denoising loop). The other editors run one pipeline call per knob value:
their guidance is computed inside the pipeline's loop (LEDITS++'s semantic guidance with its masks,
Qwen-Image-Edit's norm-rescaled true CFG, FLUX.1-Kontext's distilled guidance input), so a batched
loop would have to re-implement each pipeline. ``batched`` in the table says which is which.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import torch
from PIL import Image

from ..checks import is_real_number, is_whole_number
from .base import InterventionSeries, ProgressFn, no_progress
from .cfg_sweep import check_seeds
from .pipelines import load_pipeline, weights_on_disk

# An instruction longer than this is refused before any weights load (the token limit is checked
# again with the editor's own tokenizer).
MAX_INSTRUCTION_CHARS = 1000


@dataclass(frozen=True)
class Editor:
    """One guided editor: which diffusers pipeline, which knob it sweeps, and what stays fixed.

    ``knob_range`` is the default (low, high) of the knob for steps 1..; ``unedited_value`` the value
    shown for step 0 (the input); ``knob_min`` the lowest value the knob accepts. ``negative_prompt``
    is the default negative prompt, or None when the editor takes none. ``seconds_per_step`` is a
    rough GPU time per denoising step and image (with its guidance branches), used to ask ZeroGPU for
    a duration; it is an estimate, not a measurement.
    """

    name: str
    title: str
    pipeline_class: str
    default_model: str
    env: str
    knob: str
    knob_range: tuple[float, float]
    unedited_value: float
    knob_min: float
    runner: str  # "cfg" (batched InstructPix2Pix), "invert" (LEDITS++), "call" (one call per knob value)
    licence: str
    fixed: Mapping = field(default_factory=dict)
    negative_prompt: str | None = None
    max_prompt_tokens: int = 77
    multiple_of: int = 8
    max_side: int = 512
    cuda_dtype: str = "float16"
    load_kwargs: Mapping = field(default_factory=dict)
    seconds_per_step: float = 0.05
    batched: bool = False
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "fixed", MappingProxyType(dict(self.fixed)))
        object.__setattr__(self, "load_kwargs", MappingProxyType(dict(self.load_kwargs)))

    def how_to_get(self, model: str | None = None, failure: str = "") -> str:
        """Why the weights are missing, then the download command and where the folder goes (in that order)."""
        model = model or self.default_model
        return (f"{self.title} weights '{model}' (licence: {self.licence}) are neither in a local folder nor "
                f"downloadable here{failure}. On a machine with a hub: `hf download {self.default_model} --local-dir "
                f"/path/to/{self.name}`, then set {self.env}=/path/to/{self.name} or pass that folder as the model "
                f"(command line: --editor {self.name} --editor-model /path/to/{self.name}).")


_SD_LOAD = {"safety_checker": None, "requires_safety_checker": False}

EDITORS: dict[str, Editor] = {editor.name: editor for editor in (
    Editor("instruct-pix2pix", "InstructPix2Pix", "StableDiffusionInstructPix2PixPipeline",
           "timbrooks/instruct-pix2pix", "PROPGRAD_INSTRUCT_PIX2PIX", "guidance_scale", (1.01, 10.0), 1.0, 1.01,
           "cfg", "CreativeML OpenRAIL-M", fixed={"image_guidance_scale": 2.5}, seconds_per_step=0.03,
           batched=True, load_kwargs=_SD_LOAD,
           note="the paper's setting: text guidance from 1.01 (diffusers switches guidance off at 1)"),
    Editor("ledits++", "LEDITS++ (Stable Diffusion 1.5)", "LEditsPPPipelineStableDiffusion",
           "stable-diffusion-v1-5/stable-diffusion-v1-5", "PROPGRAD_LEDITS_PP", "edit_guidance_scale", (1.0, 10.0),
           0.0, 0.0, "invert", "CreativeML OpenRAIL-M",
           fixed={"edit_threshold": 0.9, "reverse_editing_direction": False}, seconds_per_step=0.06,
           multiple_of=32, load_kwargs=_SD_LOAD,
           note="the input is inverted once per seed; 0 reproduces the inversion; reverse_editing_direction=True "
           "removes the concept instead"),
    Editor("ledits++-sdxl", "LEDITS++ (SDXL)", "LEditsPPPipelineStableDiffusionXL",
           "stabilityai/stable-diffusion-xl-base-1.0", "PROPGRAD_LEDITS_PP_SDXL", "edit_guidance_scale",
           (1.0, 10.0), 0.0, 0.0, "invert", "CreativeML OpenRAIL++-M",
           fixed={"edit_threshold": 0.9, "reverse_editing_direction": False}, max_side=1024, seconds_per_step=0.15,
           multiple_of=32,
           load_kwargs={"add_watermarker": False}),
    Editor("qwen-image-edit", "Qwen-Image-Edit", "QwenImageEditPipeline", "Qwen/Qwen-Image-Edit",
           "PROPGRAD_QWEN_IMAGE_EDIT", "true_cfg_scale", (1.0, 8.0), 1.0, 1.0, "call", "Apache-2.0",
           negative_prompt=" ", max_prompt_tokens=512, multiple_of=16, max_side=1024, cuda_dtype="bfloat16",
           seconds_per_step=1.0,
           note="true CFG needs a negative prompt (default ' '); at 1 guidance is off, which the formula meets "
           "continuously. The pipeline encodes the input at about 1 megapixel whatever its size"),
    Editor("qwen-image-edit-plus", "Qwen-Image-Edit-2509", "QwenImageEditPlusPipeline", "Qwen/Qwen-Image-Edit-2509",
           "PROPGRAD_QWEN_IMAGE_EDIT_PLUS", "true_cfg_scale", (1.0, 8.0), 1.0, 1.0, "call", "Apache-2.0",
           negative_prompt=" ", max_prompt_tokens=512, multiple_of=16, max_side=1024, cuda_dtype="bfloat16",
           seconds_per_step=1.0),
    Editor("instruct-pix2pix-sdxl", "InstructPix2Pix (SDXL)", "StableDiffusionXLInstructPix2PixPipeline",
           "diffusers/sdxl-instructpix2pix-768", "PROPGRAD_INSTRUCT_PIX2PIX_SDXL", "guidance_scale", (1.01, 10.0),
           1.0, 1.01, "call", "CreativeML OpenRAIL++-M", fixed={"image_guidance_scale": 1.5}, max_side=768,
           seconds_per_step=0.12, load_kwargs={"add_watermarker": False}),
    Editor("flux-kontext", "FLUX.1-Kontext [dev]", "FluxKontextPipeline", "black-forest-labs/FLUX.1-Kontext-dev",
           "PROPGRAD_FLUX_KONTEXT", "guidance_scale", (1.0, 5.0), 1.0, 0.0, "call",
           "FLUX.1 [dev] Non-Commercial License (gated on the hub)", fixed={"_auto_resize": False},
           max_prompt_tokens=512, multiple_of=16, max_side=1024, cuda_dtype="bfloat16", seconds_per_step=0.5,
           note="guidance is a distilled input to the transformer, not a CFG strength: it may not act smoothly; "
           "check the gradualness verdict"),
)}
# MGIE and FlowEdit have no diffusers pipeline; OmniGen's call takes its image through a placeholder
# in the prompt and a list of input images, which the generic call here does not build.


def editor_names() -> list[str]:
    """Every known editor, in the table's order.

    Examples
    --------
    >>> editor_names()[:3]
    ['instruct-pix2pix', 'ledits++', 'ledits++-sdxl']
    """
    return list(EDITORS)


def get_editor(name: str) -> Editor:
    """The editor called ``name``; a ValueError lists the known ones.

    Examples
    --------
    >>> get_editor("ledits++").knob
    'edit_guidance_scale'
    """
    if name not in EDITORS:
        raise ValueError(f"`editor`: unknown editor {name!r}; known editors: {', '.join(EDITORS)}")
    return EDITORS[name]


def _source(editor: Editor, model: str | None) -> str:
    model = model or editor.default_model
    local = os.environ.get(editor.env)
    return local if local and model == editor.default_model else model


def editor_available(name: str, model: str | None = None) -> bool:
    """Whether the editor's weights load without a download (a local folder or the hub cache); looks at files only.

    Examples
    --------
    >>> editor_available("ledits++", "/nonexistent")
    False
    """
    return weights_on_disk(_source(get_editor(name), model))


def load_editor(name: str, model: str | None = None, device: str | torch.device | None = None,
                dtype: torch.dtype | None = None):
    """The editor's diffusers pipeline, loaded once per process per (editor, source, device, dtype).

    Never runs the repository's own code (``trust_remote_code=False``); float16 or bfloat16 on CUDA (as
    the table says), float32 elsewhere.

    Raises
    ------
    ModelUnavailableError
        The weights are neither local nor downloadable; the message says how to get them.

    Examples
    --------
    >>> pipe = load_editor("ledits++")  # doctest: +SKIP
    """
    from ..device import pick_device

    editor = get_editor(name)
    if editor.runner == "cfg":
        from .diffusion import load_instruct_pix2pix

        return load_instruct_pix2pix(model or editor.default_model, device, dtype)
    device = torch.device(device) if device is not None else pick_device()
    dtype = dtype or (getattr(torch, editor.cuda_dtype) if device.type == "cuda" else torch.float32)
    return load_pipeline(editor.pipeline_class, _source(editor, model), device, dtype,
                         lambda failure: editor.how_to_get(model, failure),
                         trust_remote_code=False, **editor.load_kwargs)


def knob_values(low: float, high: float, steps: int, unedited: float) -> np.ndarray:
    """Property values of a series: ``unedited`` for step 0, then ``linspace(low, high, steps - 1)``.

    Examples
    --------
    >>> knob_values(1.0, 10.0, 4, 0.0).tolist()
    [0.0, 1.0, 5.5, 10.0]
    """
    return np.concatenate([[float(unedited)], np.linspace(float(low), float(high), steps - 1)])


def editor_input(image: Image.Image, max_side: int, multiple_of: int) -> Image.Image:
    """The image as the editor sees it: RGB, longer side at most ``max_side``, both sides multiples of
    ``multiple_of`` (never enlarged). Step 0 is this image, so steps 0 and 1 differ by the edit only.

    Examples
    --------
    >>> editor_input(Image.new("RGB", (1000, 600)), 512, 16).size
    (512, 304)
    """
    w, h = image.size
    scale = min(1.0, (max_side - max_side % multiple_of) / max(w, h))
    size = (max(multiple_of, int(w * scale) // multiple_of * multiple_of),
            max(multiple_of, int(h * scale) // multiple_of * multiple_of))
    rgb = image.convert("RGB")
    return rgb.copy() if size == rgb.size else rgb.resize(size, Image.Resampling.LANCZOS)


def gpu_seconds(name: str, steps: int, denoising_steps: int, seeds: int, margin: float = 30.0) -> int:
    """GPU seconds to ask ZeroGPU for: knob values x denoising steps x seeds x the editor's time per step,
    plus a margin for loading onto the GPU and decoding; at least 60 s.

    Examples
    --------
    >>> gpu_seconds("ledits++", steps=10, denoising_steps=50, seeds=2)
    90
    """
    from .diffusion import gpu_seconds as seconds

    editor = get_editor(name)
    return seconds(editor.seconds_per_step, steps, denoising_steps, seeds, inversion=editor.runner == "invert",
                   margin=margin)


def _generator(seed: int) -> torch.Generator:
    # Drawn on the CPU: the same initial noise on every machine.
    return torch.Generator("cpu").manual_seed(int(seed))


def _run_invert(pipe, editor: Editor, start, values, instruction, fixed, denoising_steps, seed, progress, done,
                total):
    # One inversion per seed; every knob value edits the same inverted latents and noise maps.
    pipe.invert(image=start, source_prompt="", num_inversion_steps=denoising_steps, generator=_generator(seed))
    images = []
    for value in values:
        out = pipe(editing_prompt=[instruction], **{editor.knob: [float(value)]},
                   **{k: [v] if k in ("edit_threshold", "reverse_editing_direction") else v for k, v in fixed.items()},
                   generator=_generator(seed), output_type="pil")
        images.append(out.images[0].resize(start.size) if out.images[0].size != start.size else out.images[0])
        done[0] += 1
        progress(done[0] / total, f"{editor.title}: {editor.knob} = {value:.3g} (seed {seed})")
    return images


def _run_call(pipe, editor: Editor, start, values, instruction, fixed, denoising_steps, seed, progress, done,
              total, negative_prompt):
    images = []
    extra = {} if negative_prompt is None else {"negative_prompt": negative_prompt}
    for value in values:
        out = pipe(prompt=instruction, image=start, **{editor.knob: float(value)}, **fixed, **extra,
                   num_inference_steps=denoising_steps, height=start.size[1], width=start.size[0],
                   generator=_generator(seed), output_type="pil")
        images.append(out.images[0])
        done[0] += 1
        progress(done[0] / total, f"{editor.title}: {editor.knob} = {value:.3g} (seed {seed})")
    return images


def _sweep(handle, name, start, values, instruction, fixed, denoising_steps, seeds, negative_prompt, progress):
    # A loaded pipeline travels to a ZeroGPU worker as its key and is found again in the fork's cache.
    pipe = load_editor(*handle) if isinstance(handle, tuple) else handle
    editor = get_editor(name)
    done, total = [0], len(values) * len(seeds)
    out = []
    for seed in seeds:
        if editor.runner == "invert":
            out.append(_run_invert(pipe, editor, start, values, instruction, fixed, denoising_steps, seed, progress,
                                   done, total))
        else:
            out.append(_run_call(pipe, editor, start, values, instruction, fixed, denoising_steps, seed, progress,
                                 done, total, negative_prompt))
    return out


def _zero_gpu_duration(handle, name, start, values, instruction, fixed, denoising_steps, seeds, negative_prompt,
                       progress):
    return gpu_seconds(name, len(values) + 1, denoising_steps, len(seeds))


# Where the sweep runs: here, as is, unless a host wraps it for its GPU (the app does on a ZeroGPU Space).
_sweep_on_gpu = _sweep


def run_sweeps_with(wrapper) -> None:
    """As :func:`propgrad.interventions.diffusion.run_sweeps_with`, for the guided editors' sweeps."""
    global _sweep_on_gpu
    _sweep_on_gpu = wrapper(_sweep, duration=_zero_gpu_duration)


@dataclass(frozen=True)
class GuidedEditorSweep:
    """Edit an image with a guided editor at rising knob values, one series per seed.

    Parameters
    ----------
    instruction : str
        The edit, e.g. "make the fur white" (LEDITS++: the concept to add, e.g. "white fur").
    editor : str
        One of :func:`editor_names`.
    knob_range : (float, float), optional
        (low, high) of the knob for steps 1..; default the editor's range.
    steps : int
        Images per series, the unedited input included (at least 3).
    denoising_steps : int
        Denoising (LEDITS++: inversion) steps per edit.
    seeds : tuple of int
        One series per seed.
    negative_prompt : str, optional
        For editors that take one (Qwen-Image-Edit: default " "); an error for the others.
    max_side : int, optional
        Longest side fed to the editor; default the editor's.
    model : str, optional
        Hub id or local folder; default the editor's id, or the folder in its environment variable.
    device : str, optional
        Default: CUDA, then MPS, then CPU.
    cache : SeriesCache, optional
        Where finished series are kept; None caches nothing.
    pipeline : optional
        A ready pipeline to use instead of loading (tests inject a tiny one).

    Examples
    --------
    >>> sweep = GuidedEditorSweep("white fur", editor="ledits++", steps=4)
    >>> sweep.values().tolist()
    [0.0, 1.0, 5.5, 10.0]
    >>> series = sweep.series(image)  # doctest: +SKIP
    """

    instruction: str
    editor: str = "ledits++"
    knob_range: tuple[float, float] | None = None
    steps: int = 10
    denoising_steps: int = 20
    seeds: tuple[int, ...] = (0,)
    negative_prompt: str | None = None
    max_side: int | None = None
    model: str | None = None
    device: str | None = None
    cache: object | None = None
    pipeline: object | None = field(default=None, repr=False)

    def __post_init__(self):
        spec = get_editor(self.editor)
        if not isinstance(self.instruction, str) or not self.instruction.strip():
            raise ValueError("`instruction` must be a non-empty string, e.g. 'make the fur white'")
        if len(self.instruction) > MAX_INSTRUCTION_CHARS:
            raise ValueError(f"`instruction` is {len(self.instruction)} characters long; at most "
                             f"{MAX_INSTRUCTION_CHARS} (the editor reads at most {spec.max_prompt_tokens} tokens)")
        low, high = spec.knob_range if self.knob_range is None else _pair(self.knob_range)
        if not low < high:
            raise ValueError(f"`knob_range` must rise: (low, high) with low < high, got ({low}, {high}); an empty or "
                             f"reversed range gives no gradual series (default for {spec.name}: {spec.knob_range})")
        if low < spec.knob_min:
            raise ValueError(f"`knob_range`: {spec.knob} must be at least {spec.knob_min} for {spec.name}, got {low}")
        object.__setattr__(self, "knob_range", (low, high))
        for name, least in (("steps", 3), ("denoising_steps", 1)):
            if not is_whole_number(getattr(self, name), least):
                raise ValueError(f"`{name}` must be an integer of at least {least}, got {getattr(self, name)!r}")
        if self.max_side is not None and not is_whole_number(self.max_side, spec.multiple_of):
            raise ValueError(f"`max_side` must be an integer of at least {spec.multiple_of}, got {self.max_side!r}")
        seeds = check_seeds(self.seeds)
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"`seeds` must be distinct (a repeated seed repeats its series), got {seeds}")
        object.__setattr__(self, "seeds", tuple(seeds))
        if self.negative_prompt is not None:
            if spec.negative_prompt is None:
                taking = ", ".join(e.name for e in EDITORS.values() if e.negative_prompt is not None)
                raise ValueError(f"`negative_prompt`: editor {spec.name!r} takes no negative prompt; leave it empty "
                                 f"(editors that take one: {taking})")
            if not isinstance(self.negative_prompt, str) or len(self.negative_prompt) > MAX_INSTRUCTION_CHARS:
                raise ValueError(f"`negative_prompt` must be a string of at most {MAX_INSTRUCTION_CHARS} characters")
        if self.model is not None and (not isinstance(self.model, str) or not self.model):
            raise ValueError(f"`model` must be a hub id or a folder path, got {self.model!r}")
        if self.cache is not None and not all(hasattr(self.cache, a) for a in ("get", "put", "lock")):
            raise TypeError("`cache` must be a propgrad.cache.SeriesCache or None")

    @property
    def spec(self) -> Editor:
        return EDITORS[self.editor]

    @property
    def name(self) -> str:
        return f"{self.spec.title}: {self.instruction}"

    @property
    def property_name(self) -> str:
        return self.spec.knob.replace("_", " ")

    def values(self) -> np.ndarray:
        """Property values of every series (see :func:`knob_values`)."""
        return knob_values(*self.knob_range, self.steps, self.spec.unedited_value)

    def _negative(self) -> str | None:
        return self.negative_prompt if self.negative_prompt is not None else self.spec.negative_prompt

    def _params(self, seed: int, device, dtype) -> dict:
        import diffusers

        return {"editor": self.editor, "model": self.model or self.spec.default_model, "instruction": self.instruction,
                "knob": self.spec.knob, "values": [float(v) for v in self.values()[1:]], "fixed": dict(self.spec.fixed),
                "negative_prompt": self._negative(), "denoising_steps": int(self.denoising_steps), "seed": seed,
                "max_side": self._max_side(), "device": device.type, "dtype": str(dtype),
                "diffusers": diffusers.__version__, "sweep": "editors/1"}

    def _max_side(self) -> int:
        return int(self.max_side or self.spec.max_side)

    def _check_tokens(self, pipe) -> None:
        tokenizer = getattr(pipe, "tokenizer", None)
        if tokenizer is None:
            return
        n = len(tokenizer(self.instruction).input_ids)
        limit = min(self.spec.max_prompt_tokens, getattr(tokenizer, "model_max_length", 10**9))
        if n > limit:
            raise ValueError(f"`instruction` is {n} tokens long; {self.spec.title} reads at most {limit}: shorten it")

    def series(self, image: Image.Image | None, progress: ProgressFn = no_progress) -> list[InterventionSeries]:
        """One series per seed, in the order of ``seeds``; an exception from ``progress`` stops the sweep
        and nothing is cached."""
        if not isinstance(image, Image.Image):
            raise ValueError(f"{self.spec.title} needs an input image (a PIL image)")
        if self.spec.runner == "cfg":
            return self._pix2pix(image, progress)
        from ..cache import cached_series

        start = editor_input(image, self._max_side(), self.spec.multiple_of)
        values = self.values()
        progress(0.0, f"loading {self.spec.title}")
        pipe = self.pipeline if self.pipeline is not None else load_editor(self.editor, self.model, self.device)
        self._check_tokens(pipe)
        device = pipe._execution_device
        dtype = next(c.dtype for c in (getattr(pipe, n, None) for n in ("transformer", "unet")) if c is not None)

        def make(missing: list[int]) -> list[InterventionSeries]:
            handle = pipe if self.pipeline is not None else (self.editor, self.model, self.device)
            edits = _sweep_on_gpu(handle, self.editor, start, values[1:], self.instruction, dict(self.spec.fixed),
                                  int(self.denoising_steps), missing, self._negative(), progress)
            return [InterventionSeries([start.copy(), *images], values.copy(), self.property_name,
                                       label=f"seed {seed}") for seed, images in zip(missing, edits)]

        return cached_series(self.cache, image, self.seeds, lambda seed: self._params(seed, device, dtype), make,
                             progress)

    def _pix2pix(self, image, progress):
        from .diffusion import InstructPix2PixSweep

        low, high = self.knob_range
        if low != self.spec.knob_range[0]:
            raise ValueError(f"`knob_range`: InstructPix2Pix's batched sweep starts at {self.spec.knob_range[0]} "
                             f"(the paper's setting); set only the high end, got low = {low}")
        return InstructPix2PixSweep(self.instruction, max_guidance=high, steps=self.steps,
                                    image_guidance=self.spec.fixed["image_guidance_scale"],
                                    denoising_steps=self.denoising_steps, seeds=self.seeds,
                                    max_side=self._max_side(), model=self.model or self.spec.default_model,
                                    device=self.device, cache=self.cache,
                                    pipeline=self.pipeline).series(image, progress)


def _pair(value) -> tuple[float, float]:
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"`knob_range` must be two numbers (low, high), got {value!r}") from None
    if not (is_real_number(low) and is_real_number(high)):
        raise ValueError(f"`knob_range` must be two finite numbers (low, high), got {value!r}")
    return float(low), float(high)
