"""Batched classifier-free-guidance sweep for InstructPix2Pix-style editors.

The authors make a series by calling the diffusers pipeline once per text-guidance scale. Those calls
share the prompt embeddings, the image latents and, with the same seed, the initial noise; only the
guidance combination differs. Here one denoising loop carries a latent per (seed, scale), and each
denoising step makes one UNet call on ``3 x (seeds x scales)`` samples (text, image and unconditional
branches), split into chunks that fit a memory budget. The images equal separate pipeline calls
with the same seed (``tests/test_diffusion.py`` checks it to 1e-4 in float32).

Any UNet that takes ``[noisy latents, image latents]`` (8 channels) with cross-attention embeddings
can be driven: pass ``prompt_embeds`` (and ``negative_prompt_embeds``) to use another instruction
encoder, e.g. MGIE's multimodal-LLM embeddings.
"""
from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image

from ..checks import is_whole_number
from .base import ProgressFn, no_progress

# Rough bytes per UNet sample per latent pixel, and per attention-matrix entry. Conservative on
# purpose: CPU attention materialises the full token x token matrix; on CUDA, SDPA does not.
_BYTES_PER_LATENT_PIXEL = 20_000
_ATTENTION_HEADS = 8


class Cancelled(Exception):
    """Raise this from a progress callback to stop a sweep; nothing is cached for a stopped sweep."""


def _check_scales(values, argument: str) -> np.ndarray:
    try:
        scales = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"`{argument}` must be a sequence of numbers, got {values!r}") from None
    if scales.size == 0:
        raise ValueError(f"`{argument}` must hold at least one guidance scale")
    if not np.all(np.isfinite(scales)):
        raise ValueError(f"`{argument}` must hold finite numbers, got {scales.tolist()}")
    return scales


def check_seeds(seeds) -> list[int]:
    """One seed or a sequence of them -> a list of non-negative ints (ValueError naming `seeds` otherwise)."""
    listed = [seeds] if isinstance(seeds, (int, np.integer)) else seeds  # a bool stays, to be refused below
    try:
        listed = list(listed)
    except TypeError:
        listed = [seeds]
    if not listed or not all(is_whole_number(s, 0) for s in listed):
        raise ValueError(f"`seeds` must be one or more non-negative integers, got {seeds!r}")
    return [int(s) for s in listed]


def samples_per_call(latent_height: int, latent_width: int, dtype: torch.dtype, device: torch.device,
                     memory_budget: int | None = None) -> int:
    """How many UNet samples one call may carry within ``memory_budget`` bytes (a rough estimate).

    Without a budget: 60% of free GPU memory on CUDA, a quarter of the available RAM otherwise.

    Examples
    --------
    >>> samples_per_call(64, 64, torch.float16, torch.device("cpu"), memory_budget=4 * 2**30)
    9
    """
    if memory_budget is None:
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            memory_budget = int(0.6 * free)
        else:
            import psutil

            memory_budget = psutil.virtual_memory().available // 4
    tokens = latent_height * latent_width
    element = torch.finfo(dtype).bits // 8
    per_sample = element * (_BYTES_PER_LATENT_PIXEL * tokens + _ATTENTION_HEADS * tokens * tokens)
    return max(1, int(memory_budget // per_sample))


def _encode(pipe, prompt, prompt_embeds, negative_prompt_embeds, device) -> tuple[torch.Tensor, torch.Tensor]:
    if (prompt is None) == (prompt_embeds is None):
        raise ValueError("pass exactly one of `prompt` and `prompt_embeds`")
    if prompt is not None and not isinstance(prompt, str):
        raise TypeError(f"`prompt` must be a string, got {type(prompt).__name__}")
    if prompt_embeds is not None and (prompt_embeds.ndim != 3 or prompt_embeds.shape[0] != 1):
        raise ValueError(f"`prompt_embeds` must have shape (1, tokens, dim), got {tuple(prompt_embeds.shape)}")
    # The pipeline's own encoder, so tokenisation, dtype and the empty negative prompt match its call.
    embeds = pipe._encode_prompt(prompt, device, 1, True, prompt_embeds=prompt_embeds,
                                 negative_prompt_embeds=negative_prompt_embeds)
    return embeds[0:1], embeds[1:2]  # pix2pix order: [text, negative, negative]


def _step_kwargs(scheduler, generators: list[torch.Generator]) -> dict:
    params = set(inspect.signature(scheduler.step).parameters)
    kwargs = {}
    if "eta" in params:
        kwargs["eta"] = 0.0
    if "generator" in params:
        # One generator per latent, each seeded like the pipeline's single generator: ancestral
        # noise for every latent then equals what its own pipeline call would have drawn.
        kwargs["generator"] = generators
    return kwargs


@torch.no_grad()
def cfg_sweep(
    pipe,
    image: Image.Image,
    guidance_scales: Sequence[float],
    *,
    prompt: str | None = None,
    prompt_embeds: torch.Tensor | None = None,
    negative_prompt_embeds: torch.Tensor | None = None,
    image_guidance_scale: float = 1.5,
    num_inference_steps: int = 100,
    seeds: int | Sequence[int] = 0,
    generator_device: str = "cpu",
    max_samples_per_call: int | None = None,
    memory_budget: int | None = None,
    progress: ProgressFn = no_progress,
    output_type: str = "pil",
):
    """Edit ``image`` at every text-guidance scale (and seed) in one batched denoising loop.

    Equals ``pipe(prompt, image=image, guidance_scale=s, image_guidance_scale=...,
    num_inference_steps=..., generator=torch.Generator(generator_device).manual_seed(seed))`` for each
    scale ``s > 1``. At ``s <= 1`` the pipeline switches guidance off (a jump in a series); the sweep
    keeps applying the guidance formula, which is continuous in ``s``.

    Parameters
    ----------
    pipe : StableDiffusionInstructPix2PixPipeline
        Any pipeline with the same components (``unet`` with 8 input channels, ``vae``, ``scheduler``,
        ``image_processor``, ``_encode_prompt``). Its scheduler is copied, never changed.
    image : PIL.Image.Image
        The input; the pipeline's image processor crops its sides down to multiples of 8.
    guidance_scales : sequence of float
        Text guidance scales, one output image each.
    prompt, prompt_embeds, negative_prompt_embeds
        The instruction, or precomputed embeddings of shape (1, tokens, dim) from another encoder.
        Without ``negative_prompt_embeds`` the empty prompt is encoded, as the pipeline does.
    image_guidance_scale : float
        Image guidance, shared by all scales.
    num_inference_steps : int
        Denoising steps.
    seeds : int or sequence of int
        One series per seed; all seeds run in the same batched loop.
    generator_device : str
        Where the random numbers are drawn ("cpu" gives the same noise on every machine).
    max_samples_per_call : int, optional
        Upper bound on UNet samples per call (3 per latent); default from ``memory_budget``.
    memory_budget : int, optional
        Bytes the UNet activations may use; see :func:`samples_per_call`.
    progress : callable(fraction, message)
        Called after every denoising step; raise (e.g. :class:`Cancelled`) to stop.
    output_type : {"pil", "np"}
        "pil": a list per seed of a list per scale of images; "np": an array
        (seeds, scales, height, width, 3) of floats in [0, 1].

    Examples
    --------
    >>> images = cfg_sweep(pipe, image, [1.01, 4.0, 7.5], prompt="make it winter",
    ...                    image_guidance_scale=2.5, num_inference_steps=20)  # doctest: +SKIP
    >>> len(images[0])  # doctest: +SKIP
    3
    """
    from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_instruct_pix2pix import retrieve_latents
    from diffusers.utils.torch_utils import randn_tensor

    # 0. Check inputs
    scales = _check_scales(guidance_scales, "guidance_scales")
    seed_list = check_seeds(seeds)
    if not isinstance(image, Image.Image):
        raise TypeError(f"`image` must be a PIL image, got {type(image).__name__}")
    if not np.isfinite(image_guidance_scale):
        raise ValueError(f"`image_guidance_scale` must be a finite number, got {image_guidance_scale!r}")
    if not is_whole_number(num_inference_steps, 1):
        raise ValueError(f"`num_inference_steps` must be a positive integer, got {num_inference_steps!r}")
    if output_type not in ("pil", "np"):
        raise ValueError(f"`output_type` must be 'pil' or 'np', got {output_type!r}")
    if max_samples_per_call is not None and (not isinstance(max_samples_per_call, (int, np.integer))
                                             or max_samples_per_call < 1):
        raise ValueError(f"`max_samples_per_call` must be a positive integer, got {max_samples_per_call!r}")
    device = pipe._execution_device

    # 1. Encode the instruction once; every scale shares it
    text_embeds, uncond_embeds = _encode(pipe, prompt, prompt_embeds, negative_prompt_embeds, device)
    dtype = text_embeds.dtype

    # 2. Encode the image once (the mode of the VAE posterior: no randomness)
    pixels = pipe.image_processor.preprocess(image).to(device=device, dtype=dtype)
    image_latents = retrieve_latents(pipe.vae.encode(pixels), sample_mode="argmax")
    if image_latents.shape[1] + pipe.vae.config.latent_channels != pipe.unet.config.in_channels:
        raise ValueError(f"the UNet expects {pipe.unet.config.in_channels} input channels, but latents and image "
                         f"latents give {pipe.vae.config.latent_channels + image_latents.shape[1]}")

    # 3. A private scheduler, so concurrent sweeps on one pipeline do not share its step counter
    scheduler = copy.deepcopy(pipe.scheduler)
    scheduler.set_timesteps(num_inference_steps, device=device)
    timesteps = scheduler.timesteps

    # 4. Initial noise: one generator per (seed, scale), so each latent sees exactly the random numbers
    # its own pipeline call would: the same initial noise and the same ancestral noise at every step
    items = [(seed, s) for seed in seed_list for s in scales]
    n = len(items)
    generators = [torch.Generator(generator_device).manual_seed(seed) for seed, _ in items]
    latent_shape = (n, pipe.vae.config.latent_channels, *image_latents.shape[-2:])
    latents = randn_tensor(latent_shape, generator=generators, device=device, dtype=dtype)
    latents = latents * scheduler.init_noise_sigma
    step_kwargs = _step_kwargs(scheduler, generators)
    scale_column = torch.tensor([s for _, s in items], device=device, dtype=torch.float32).view(n, 1, 1, 1)
    # At the first step all latents of one seed are equal: evaluate one per seed and share it.
    first_of_seed = torch.tensor([len(scales) * k for k in range(len(seed_list))], device=device)
    seed_position = torch.arange(len(seed_list), device=device).repeat_interleave(len(scales))

    per_call = max_samples_per_call or samples_per_call(*image_latents.shape[-2:], dtype, device, memory_budget)
    chunk = max(1, per_call // 3)
    zeros = torch.zeros_like(image_latents)

    def branches(x: torch.Tensor, t) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # UNet outputs of the text, image and unconditional branches for latents x, in chunks.
        nonlocal chunk
        outs, start = [], 0
        while start < len(x):
            xs = x[start:start + chunk]
            m = len(xs)
            cond = torch.cat([image_latents.expand(m, -1, -1, -1), image_latents.expand(m, -1, -1, -1),
                              zeros.expand(m, -1, -1, -1)])
            model_in = torch.cat([torch.cat([xs, xs, xs]), cond], dim=1)
            embeds = torch.cat([text_embeds.expand(m, -1, -1), uncond_embeds.expand(m, -1, -1),
                                uncond_embeds.expand(m, -1, -1)])
            try:
                out = pipe.unet(model_in, t, encoder_hidden_states=embeds, return_dict=False)[0]
            except torch.OutOfMemoryError:
                if chunk == 1:
                    raise
                # UNet calls have no side effects: halve the chunk and redo this part.
                chunk = max(1, chunk // 2)
                if device.type == "cuda":
                    torch.cuda.empty_cache()
                continue
            outs.append(out.chunk(3))
            start += m
        return tuple(torch.cat([o[b] for o in outs]) for b in range(3))

    # 5. Denoising loop: one batched UNet pass (in chunks) and one scheduler step per timestep
    for i, t in enumerate(timesteps):
        scaled = scheduler.scale_model_input(latents, t)
        if i == 0:
            # All latents of one seed are still equal: evaluate one per seed and share its outputs.
            e_text, e_image, e_uncond = (b[seed_position] for b in branches(scaled[first_of_seed], t))
        else:
            e_text, e_image, e_uncond = branches(scaled, t)
        # Same operations, in the same order and precision, as the pipeline's guidance line.
        noise = e_uncond + ((e_text - e_image) * scale_column).to(e_text.dtype)
        noise = noise + image_guidance_scale * (e_image - e_uncond)
        latents = scheduler.step(noise, t, latents, **step_kwargs, return_dict=False)[0]
        progress((i + 1) / (len(timesteps) + 1),
                 f"denoising step {i + 1}/{len(timesteps)} ({len(scales)} scales x {len(seed_list)} seeds)")

    # 6. Decode in chunks (the VAE decoder is the memory-hungry part at full size)
    decoded = []
    for start in range(0, n, chunk):
        part = pipe.vae.decode(latents[start:start + chunk] / pipe.vae.config.scaling_factor, return_dict=False)[0]
        decoded.append(pipe.image_processor.postprocess(part, output_type="np", do_denormalize=[True] * len(part)))
    progress(1.0, "decoded")
    arrays = np.concatenate(decoded).reshape(len(seed_list), len(scales), *decoded[0].shape[1:])
    if output_type == "np":
        return arrays
    return [pipe.image_processor.numpy_to_pil(per_seed) for per_seed in arrays]

