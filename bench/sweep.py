"""Guidance sweep speed: one pipeline call per scale (the authors' approach) against the batched sweep.

Same scales, denoising steps, seed and image in the same run; prints both times, their ratio and the
largest difference between the two sets of images. Random weights of the real architecture (speed
does not depend on weight values): the tiny test model by default, or with ``--full-size`` the
Stable Diffusion 1.5 UNet/VAE of timbrooks/instruct-pix2pix built from its config (no download).

    python bench/sweep.py                                    # tiny model, CPU
    python bench/sweep.py --full-size --device cuda --dtype float16   # 512x512, 10 scales, 20 steps
    python bench/sweep.py --editor ledits++                  # another editor (tiny model only), see editor_bench

The other editors (``--editor ledits++`` or ``qwen-image-edit``) run one pipeline call per knob value;
their figure is the time of a whole series against one pipeline call measured in the same run, and the
peak memory. Only tiny random weights are built for them here (full-size Qwen-Image-Edit is a 20B
transformer): GPU figures for them were not measured.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from a checkout
from propgrad.interventions.cfg_sweep import cfg_sweep  # noqa: E402
from propgrad.testing.random_pix2pix import random_instruct_pix2pix  # noqa: E402

PROMPT = "turn the fur white"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def one_call_per_scale(pipe, image, scales, steps, seed, image_guidance):
    """What the authors do: a full pipeline call per guidance scale, each with the same seed."""
    return np.stack([
        pipe(PROMPT, image=image, guidance_scale=float(s), image_guidance_scale=image_guidance,
             num_inference_steps=steps, generator=torch.Generator("cpu").manual_seed(seed),
             output_type="np").images[0]
        for s in scales
    ])


def batched(pipe, image, scales, steps, seed, image_guidance):
    return cfg_sweep(pipe, image, scales, prompt=PROMPT, image_guidance_scale=image_guidance,
                     num_inference_steps=steps, seeds=seed, output_type="np")[0]


def timed(fn, device, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-size", action="store_true", help="SD 1.5 UNet/VAE (default: the tiny test model)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.add_argument("--side", type=int, default=None, help="image side (default 512 full size, 64 tiny)")
    parser.add_argument("--scales", type=int, default=10)
    parser.add_argument("--steps", type=int, default=20, help="denoising steps")
    parser.add_argument("--max-guidance", type=float, default=10.0)
    parser.add_argument("--image-guidance", type=float, default=2.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1, help="best of this many timed runs")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")
    parser.add_argument("--editor", default="instruct-pix2pix",
                        choices=["instruct-pix2pix", "ledits++", "qwen-image-edit"])
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.editor != "instruct-pix2pix":
        editor_bench(args)
        return

    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    size = "sd15" if args.full_size else "tiny"
    side = args.side or (512 if args.full_size else 64)
    pipe = random_instruct_pix2pix(size, device=device, dtype=dtype)
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    scales = np.linspace(1.01, args.max_guidance, args.scales)
    run = (pipe, image, scales, args.steps, args.seed, args.image_guidance)

    # Warm-up (lazy initialisation, kernel selection) outside the timings.
    one_call_per_scale(pipe, image, scales[:1], 1, args.seed, args.image_guidance)
    batched(pipe, image, scales, 1, args.seed, args.image_guidance)

    t_loop, loop_images = timed(lambda: one_call_per_scale(*run), device, args.repeats)
    t_batch, batch_images = timed(lambda: batched(*run), device, args.repeats)
    diff = float(np.nanmax(np.abs(loop_images - batch_images))) if np.isfinite(batch_images).any() else float("nan")

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"model: {size} (random weights), {args.dtype} on {name}")
    print(f"sweep: {args.scales} scales {scales[0]:.2f}..{scales[-1]:.2f}, {args.steps} denoising steps, "
          f"{side}x{side} px, image guidance {args.image_guidance}, seed {args.seed}")
    print(f"one pipeline call per scale: {t_loop:8.2f} s")
    print(f"batched sweep:               {t_batch:8.2f} s")
    print(f"max abs image difference:    {diff:.2e} (images in [0, 1])")
    print(f"sweep_speedup: {t_loop / t_batch:.2f}")


def _peak_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def editor_bench(args) -> None:
    """A whole series of a per-call editor against one pipeline call, tiny random weights."""
    from propgrad.testing import random_editors
    from propgrad.interventions.editors import GuidedEditorSweep, get_editor

    if args.full_size:
        raise SystemExit("--full-size is built for InstructPix2Pix only; the other editors run tiny weights here")
    device = torch.device(args.device)
    editor = get_editor(args.editor)
    if args.editor == "ledits++":
        pipe, side = random_editors.random_ledits_pp(device=device), args.side or 64
    else:
        # Tiny weights only: the pipeline's one-megapixel working size is shrunk as in the tests.
        import diffusers.pipelines.qwenimage.pipeline_qwenimage_edit as module

        original = module.calculate_dimensions
        module.calculate_dimensions = lambda area, ratio: original(64 * 64, ratio)
        pipe, side = random_editors.random_qwen_image_edit(device=device), args.side or 64
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    sweep = GuidedEditorSweep(PROMPT, editor=args.editor, steps=args.scales + 1, denoising_steps=args.steps,
                              seeds=(args.seed,), pipeline=pipe)
    one = GuidedEditorSweep(PROMPT, editor=args.editor, steps=3, denoising_steps=args.steps, seeds=(args.seed,),
                            pipeline=pipe, knob_range=(editor.knob_range[1] - 1, editor.knob_range[1]))
    one.series(image)  # warm-up
    t_two, _ = timed(lambda: one.series(image), device, args.repeats)  # two calls (and one inversion)
    t_series, _ = timed(lambda: sweep.series(image), device, args.repeats)
    print(f"model: {args.editor} tiny (random weights), float32 on {device}, {torch.get_num_threads()} threads")
    print(f"series: {args.scales} knob values, {args.steps} denoising steps, {side}x{side} px, one call per value")
    print(f"two knob values:            {t_two:8.2f} s")
    print(f"whole series:               {t_series:8.2f} s")
    print(f"peak memory:                {_peak_bytes(device) / 2**20:8.0f} MiB")
    print(f"series_over_two_values: {t_series / t_two:.2f}")


if __name__ == "__main__":
    main()
