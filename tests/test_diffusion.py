"""InstructPix2Pix sweep on a tiny random-weight pipeline of the real architecture: the batched sweep
equals one pipeline call per scale, seeds, progress and cancellation, the cache, offline errors."""
import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("diffusers")

from propgrad.cache import SeriesCache  # noqa: E402
from propgrad.errors import ModelUnavailableError  # noqa: E402
from propgrad.interventions import diffusion, pipelines  # noqa: E402
from propgrad.interventions.cfg_sweep import Cancelled, cfg_sweep, samples_per_call  # noqa: E402
from propgrad.interventions.diffusion import (  # noqa: E402
    InstructPix2PixSweep, fit_side, guidance_values, instruct_pix2pix_available, load_instruct_pix2pix)
from propgrad.app.zerogpu import zero_gpu  # noqa: E402
from propgrad.testing.random_pix2pix import random_instruct_pix2pix  # noqa: E402

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each

STEPS = 3  # denoising steps: enough for the ancestral noise and the scheduler state to matter


@pytest.fixture(scope="module")
def pipe():
    return random_instruct_pix2pix("tiny", seed=0)


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8))


def pipeline_call(pipe, image, scale, seed, **kwargs):
    return pipe(image=image, guidance_scale=scale, image_guidance_scale=2.5, num_inference_steps=STEPS,
                generator=torch.Generator("cpu").manual_seed(seed), output_type="np", **kwargs).images[0]


def test_batched_sweep_equals_one_pipeline_call_per_scale(pipe, image):
    scales, seeds = [1.01, 2.0, 6.5], [0, 5]
    # 4 samples per call -> one latent per UNet call: chunking is exercised too.
    out = cfg_sweep(pipe, image, scales, prompt="make it snowy", image_guidance_scale=2.5,
                    num_inference_steps=STEPS, seeds=seeds, output_type="np", max_samples_per_call=4)
    assert out.shape == (2, 3, 32, 48, 3)
    for k, seed in enumerate(seeds):
        for j, scale in enumerate(scales):
            ref = pipeline_call(pipe, image, scale, seed, prompt="make it snowy")
            assert np.abs(out[k, j] - ref).max() <= 1e-4, (seed, scale)
    # The comparison can fail: scales and seeds really change the images.
    assert np.abs(out[0, 0] - out[0, 2]).max() > 1e-2
    assert np.abs(out[0, 0] - out[1, 0]).max() > 1e-2


def test_chunk_size_does_not_change_the_images(pipe, image):
    kwargs = dict(prompt="add a hat", image_guidance_scale=2.5, num_inference_steps=STEPS, seeds=[1],
                  output_type="np")
    one_call = cfg_sweep(pipe, image, [1.5, 3.0, 9.0], max_samples_per_call=64, **kwargs)
    per_latent = cfg_sweep(pipe, image, [1.5, 3.0, 9.0], max_samples_per_call=3, **kwargs)
    assert np.abs(one_call - per_latent).max() <= 1e-4


def test_precomputed_embeddings_plug_in(pipe, image):
    # Stand-in for another instruction encoder (MGIE): arbitrary embeddings of the UNet's width.
    gen = torch.Generator().manual_seed(3)
    embeds = torch.randn(1, 77, 32, generator=gen)
    negative = torch.randn(1, 77, 32, generator=gen)
    out = cfg_sweep(pipe, image, [1.01, 4.0], prompt_embeds=embeds, negative_prompt_embeds=negative,
                    image_guidance_scale=2.5, num_inference_steps=STEPS, seeds=2, output_type="np")
    for j, scale in enumerate([1.01, 4.0]):
        ref = pipeline_call(pipe, image, scale, 2, prompt_embeds=embeds, negative_prompt_embeds=negative)
        assert np.abs(out[0, j] - ref).max() <= 1e-4
    # The same embeddings the text encoder makes give the same images as the prompt itself.
    text = pipe._encode_prompt("make it snowy", pipe.device, 1, False)
    a = cfg_sweep(pipe, image, [3.0], prompt_embeds=text, num_inference_steps=STEPS, output_type="np")
    b = cfg_sweep(pipe, image, [3.0], prompt="make it snowy", num_inference_steps=STEPS, output_type="np")
    np.testing.assert_array_equal(a, b)


def test_sweep_leaves_the_pipeline_scheduler_alone(pipe, image):
    before = pipe.scheduler.timesteps.clone() if pipe.scheduler.timesteps is not None else None
    cfg_sweep(pipe, image, [2.0], prompt="x", num_inference_steps=2)
    after = pipe.scheduler.timesteps
    assert (before is None and after is None) or torch.equal(before, after)


def test_progress_per_denoising_step_and_cancellation(pipe, image):
    seen = []
    images = cfg_sweep(pipe, image, [1.01, 5.0], prompt="x", num_inference_steps=4,
                       progress=lambda f, m: seen.append((f, m)))
    assert len(images) == 1 and len(images[0]) == 2 and images[0][0].size == (48, 32)
    assert len(seen) == 5 and seen[-1][0] == 1.0
    assert all(a < b for (a, _), (b, _) in zip(seen, seen[1:]))
    assert "denoising step 1/4" in seen[0][1]

    def cancel(fraction, message):
        if fraction > 0.3:
            raise Cancelled("stopped by the user")

    with pytest.raises(Cancelled):
        cfg_sweep(pipe, image, [2.0], prompt="x", num_inference_steps=4, progress=cancel)


@pytest.mark.parametrize("kwargs, match", [
    (dict(guidance_scales=[]), "`guidance_scales` must hold at least one"),
    (dict(guidance_scales=[2.0, float("nan")]), "`guidance_scales` must hold finite numbers"),
    (dict(seeds=[-1]), "`seeds` must be one or more non-negative integers"),
    (dict(num_inference_steps=0), "`num_inference_steps` must be a positive integer"),
    (dict(output_type="latent"), "`output_type` must be 'pil' or 'np'"),
    (dict(prompt=None), "pass exactly one of `prompt` and `prompt_embeds`"),
    (dict(max_samples_per_call=0), "`max_samples_per_call` must be a positive integer"),
])
def test_sweep_errors_name_the_argument(pipe, image, kwargs, match):
    args = dict(guidance_scales=[2.0], prompt="x", num_inference_steps=1) | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        cfg_sweep(pipe, image, **args)


def test_samples_per_call_follows_the_budget():
    cpu = torch.device("cpu")
    small = samples_per_call(64, 64, torch.float16, cpu, memory_budget=2**30)
    large = samples_per_call(64, 64, torch.float16, cpu, memory_budget=16 * 2**30)
    assert 1 <= small < large
    assert samples_per_call(64, 64, torch.float32, cpu, memory_budget=16 * 2**30) < large
    assert samples_per_call(64, 64, torch.float16, cpu, memory_budget=1) == 1


# --- the intervention ------------------------------------------------------------------------------

def test_series_per_seed_with_unedited_step_zero(pipe, image):
    original = image.copy()
    sweep = InstructPix2PixSweep("make it snowy", max_guidance=6.0, steps=4, denoising_steps=STEPS, seeds=(0, 5),
                                 max_side=40, model="tiny-test", pipeline=pipe)
    series = sweep.series(image)
    np.testing.assert_array_equal(np.asarray(image), np.asarray(original))  # input untouched
    assert [s.label for s in series] == ["seed 0", "seed 5"]
    resized = fit_side(image, 40)
    assert resized.size == (40, 24)  # longest side 40, both sides multiples of 8
    for s in series:
        assert len(s) == 4 and s.property_name == "text guidance scale"
        np.testing.assert_allclose(s.values, [1.0, 1.01, 3.505, 6.0])
        np.testing.assert_array_equal(np.asarray(s.images[0]), np.asarray(resized))
        assert all(im.size == (40, 24) for im in s.images)
    # Step k of seed 5 is the pipeline's own edit at that scale and seed.
    ref = pipeline_call(pipe, resized, 3.505, 5, prompt="make it snowy")
    np.testing.assert_allclose(np.asarray(series[1].images[2]), np.round(ref * 255), atol=1)


def test_cache_serves_repeats_and_computes_only_new_seeds(pipe, image, tmp_path, monkeypatch):
    cache = SeriesCache(tmp_path)
    calls = []
    real = diffusion._sweep_on_gpu

    def counting(*args):
        calls.append(list(args[6]))
        return real(*args)

    monkeypatch.setattr(diffusion, "_sweep_on_gpu", counting)
    kwargs = dict(max_guidance=5.0, steps=3, denoising_steps=2, max_side=32, model="tiny-test", pipeline=pipe,
                  cache=cache)
    first = InstructPix2PixSweep("add snow", seeds=(0,), **kwargs).series(image)
    seen = []
    again = InstructPix2PixSweep("add snow", seeds=(0, 1), **kwargs).series(image, lambda f, m: seen.append(m))
    assert calls == [[0], [1]]  # seed 0 came from the cache
    for a, b in zip(first[0].images, again[0].images):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    InstructPix2PixSweep("add snow", seeds=(1, 0), **kwargs).series(image, lambda f, m: seen.append(m))
    assert len(calls) == 2 and seen[-1] == "loaded from cache"
    InstructPix2PixSweep("add rain", seeds=(0,), **kwargs).series(image)  # another instruction, another key
    assert calls[-1] == [0] and len(calls) == 3
    assert cache.metadata(next(k for k, _, _ in cache.entries()))["params"]["model"] == "tiny-test"


def test_cancelled_sweep_caches_nothing(pipe, image, tmp_path):
    cache = SeriesCache(tmp_path)

    def cancel(fraction, message):
        if "denoising step 2" in message:
            raise Cancelled("stop")

    sweep = InstructPix2PixSweep("add snow", steps=3, denoising_steps=3, max_side=32, model="tiny-test",
                                 pipeline=pipe, cache=cache)
    with pytest.raises(Cancelled):
        sweep.series(image, cancel)
    assert cache.entries() == []
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith((".locks", "cache.db"))] == []


@pytest.mark.parametrize("kwargs, match", [
    (dict(instruction=" "), "`instruction` must be a non-empty string"),
    (dict(max_guidance=1.0), "`max_guidance` must be a number above 1.01"),
    (dict(steps=2), "`steps` must be an integer of at least 3"),
    (dict(denoising_steps=0), "`denoising_steps` must be an integer of at least 1"),
    (dict(max_side=4), "`max_side` must be an integer of at least 8"),
    (dict(image_guidance=0.5), "`image_guidance` must be a number of at least 1"),
    (dict(seeds=(1, 1)), "`seeds` must be distinct"),
    (dict(seeds=()), "`seeds` must be one or more non-negative integers"),
    (dict(cache="yes"), "`cache` must be a propgrad.cache.SeriesCache or None"),
])
def test_intervention_errors_name_the_argument(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        InstructPix2PixSweep(**({"instruction": "add snow"} | kwargs))


def test_values_and_name():
    sweep = InstructPix2PixSweep("add snow", max_guidance=15, steps=15)
    np.testing.assert_allclose(guidance_values(15, 15), sweep.values())
    assert sweep.values()[0] == 1.0 and sweep.values()[1] == 1.01 and sweep.values()[-1] == 15.0
    assert sweep.name == "InstructPix2Pix: add snow" and sweep.image_guidance == 2.5
    with pytest.raises(ValueError, match="needs an input image"):
        sweep.series(None)


def test_fit_side_never_enlarges_and_rounds_to_multiples_of_8():
    assert fit_side(Image.new("RGB", (1000, 600)), 512).size == (512, 304)
    assert fit_side(Image.new("RGB", (100, 50)), 512).size == (96, 48)
    assert fit_side(Image.new("L", (64, 64)), 515).mode == "RGB"


# --- loading, offline errors, ZeroGPU --------------------------------------------------------------

@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """Offline, with an empty Hugging Face cache and no loaded pipelines."""
    import huggingface_hub.constants as hub_constants

    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    import diffusers.utils.constants as diffusers_constants

    monkeypatch.setattr(diffusers_constants, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(diffusion.ENV_LOCAL, raising=False)
    monkeypatch.setattr(pipelines, "_PIPELINES", {})


def test_missing_weights_give_a_clear_error(no_hub, tmp_path):
    with pytest.raises(ModelUnavailableError) as info:
        load_instruct_pix2pix(device="cpu")
    message = str(info.value)
    assert "timbrooks/instruct-pix2pix" in message and "PROPGRAD_INSTRUCT_PIX2PIX" in message
    assert "download timbrooks/instruct-pix2pix --local-dir" in message
    # diffusers' own four sentences pointed at a stack trace nobody is shown
    assert "not in the Hugging Face cache, and cannot be downloaded here" in message and "stacktrace" not in message
    with pytest.raises(ModelUnavailableError, match="empty"):
        load_instruct_pix2pix(str(tmp_path / "empty"), device="cpu")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError):
        load_instruct_pix2pix(str(tmp_path / "empty"), device="cpu")
    assert not instruct_pix2pix_available()
    assert not instruct_pix2pix_available(str(tmp_path / "empty"))


def test_loads_from_a_local_folder_or_the_environment_variable(no_hub, pipe, image, tmp_path, monkeypatch):
    folder = tmp_path / "pix2pix"
    pipe.save_pretrained(folder)
    assert instruct_pix2pix_available(str(folder))
    loaded = load_instruct_pix2pix(str(folder), device="cpu")
    assert loaded is load_instruct_pix2pix(str(folder), device="cpu")  # one per process
    assert loaded.safety_checker is None and loaded.unet.dtype == torch.float32
    monkeypatch.setenv(diffusion.ENV_LOCAL, str(folder))
    assert instruct_pix2pix_available()
    sweep = InstructPix2PixSweep("add snow", steps=3, denoising_steps=1, max_side=32, device="cpu")
    series = sweep.series(image)
    assert len(series) == 1 and len(series[0]) == 3


def test_a_host_can_route_the_sweeps_through_its_gpu_wrapper(pipe, image, monkeypatch):
    wrapped = []

    def wrapper(sweep, duration):
        def on_gpu(*args):
            assert duration(*args) >= 60  # the host is told what the sweep needs
            wrapped.append(len(args))
            return sweep(*args)
        return on_gpu

    monkeypatch.setattr(diffusion, "_sweep_on_gpu", diffusion._sweep_on_gpu)  # restored after the test
    diffusion.run_sweeps_with(wrapper)
    series = InstructPix2PixSweep("add snow", steps=3, denoising_steps=1, max_side=32, pipeline=pipe).series(image)
    assert wrapped and len(series[0]) == 3


def test_zero_gpu_wraps_only_when_spaces_is_importable(monkeypatch):
    def fn(x):
        return x + 1

    monkeypatch.setitem(sys.modules, "spaces", None)  # import fails
    assert zero_gpu(fn) is fn
    used = {}

    def gpu(duration):
        used["duration"] = duration
        return lambda f: (lambda *a: ("on gpu", f(*a)))

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    assert zero_gpu(fn, duration=30)(1) == ("on gpu", 2) and used["duration"] == 30
