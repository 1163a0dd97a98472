# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 5: your own model and your own intervention
#
# **Learning goals.** After this lesson you can
#
# 1. explain a model of your own: a Hugging Face image classifier saved to a folder (`save_pretrained`), or any
#    PyTorch module exported as a `.pt2` file (`torch.export`);
# 2. add a new intervention kind in about a dozen lines, registered once so that Python, the command line and
#    study files all take it;
# 3. check a model you built with a known answer: if you know what the model uses, the explanation must find it.
#
# Nothing is downloaded: the Hugging Face model is a tiny one with random weights made here, and the `.pt2`
# model is written by hand so that we know exactly what it looks at.

# %%
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import propgrad
from propgrad.paths import ASSETS

warnings.filterwarnings("ignore", message=".*IProgress not found.*")  # tqdm in a notebook without widgets
work = Path("lesson5-files")  # the models this lesson makes, beside the notebook
work.mkdir(exist_ok=True)
image = propgrad.load_image(ASSETS / "examples" / "coffee.jpg")

# %% [markdown]
# ## 1. A Hugging Face classifier from a folder
# Any `AutoModelForImageClassification` (ViT, ConvNeXt, ResNet, Swin...) saved with `save_pretrained`, together
# with its image processor, loads with `load_hub_classifier(folder)`; a hub id works the same where the hub is
# reachable. Here a tiny ConvNeXt with random weights and our own labels:

# %%
from transformers import ConvNextConfig, ConvNextForImageClassification, ConvNextImageProcessor

from transformers.utils import logging as transformers_logging

from propgrad.models import load_hub_classifier

transformers_logging.disable_progress_bar()

torch.manual_seed(0)
config = ConvNextConfig(hidden_sizes=[8, 16], depths=[1, 1], num_stages=2, num_labels=3,
                        id2label={0: "mug", 1: "cup", 2: "bowl"}, label2id={"mug": 0, "cup": 1, "bowl": 2})
ConvNextForImageClassification(config).eval().save_pretrained(work / "tiny-convnext")
ConvNextImageProcessor(size={"shortest_edge": 64}, crop_pct=0.875).save_pretrained(work / "tiny-convnext")

tiny = load_hub_classifier(work / "tiny-convnext")
print(tiny.name, tiny.output_names)
result = propgrad.explain(image, propgrad.ParametricEdit("hue", steps=8), [tiny], n_permutations=1000, seed=0)
score = result.models[0].output_of_interest
print(f"{score.output}: E[|grad_X F|] {score.score:.4f}, p {score.pvalue:.3f}")

# %% [markdown]
# Random weights, so the answer means nothing about coffee cups; the point is the path: your folder in,
# the same explanation out. With a real model, put its hub id or its folder here.
#
# ## 2. A model whose answer we know, exported as `.pt2`
# This "redness detector" predicts "red" from the mean of the red channel minus the others, nothing else. A hue
# rotation must move it strongly; a blur (which keeps the mean colour) must not.

# %%
class Redness(torch.nn.Module):
    def forward(self, x):                      # x: (n, 3, h, w), scaled to [0, 1]
        red = x[:, 0].mean(dim=(1, 2)) - x[:, 1:].mean(dim=(1, 2, 3))
        logit = 12 * (red - 0.1)
        return torch.stack([-logit, logit], dim=1)   # two logits: "not red", "red"


program = torch.export.export(Redness().eval(), (torch.rand(1, 3, 64, 64),))
torch.export.save(program, work / "redness.pt2")

from propgrad.models.files import load_model_file

redness = load_model_file(work / "redness.pt2", class_names=["not red", "red"], mean=(0, 0, 0), std=(1, 1, 1),
                          name="redness detector")
print(redness.name, redness.output_names, redness.predict([image]).round(3))

# %% [markdown]
# ### Exercise 1
# Explain the redness detector's p(red) under a hue rotation (`ParametricEdit("hue", steps=10)`) and under a blur
# (`ParametricEdit("blur", steps=10)`) of the coffee cup. Put the two `Explanation` objects in `hue_result` and
# `blur_result`.

# %%
hue_result, blur_result = None, None

# %% tags=["solution"]
hue_result = propgrad.explain(image, propgrad.ParametricEdit("hue", steps=10), [redness], outputs_of_interest="red",
                              n_permutations=1000, seed=0)
blur_result = propgrad.explain(image, propgrad.ParametricEdit("blur", steps=10), [redness],
                               outputs_of_interest="red", n_permutations=1000, seed=0)

# %%
# Checking cell
assert hue_result is not None and blur_result is not None, "run explain for both edits"
hue_score = hue_result.models[0].output_of_interest
blur_score = blur_result.models[0].output_of_interest
assert hue_score.output == "red" and blur_score.output == "red", (
    f"score the output 'red' (outputs_of_interest='red'), not {hue_score.output!r}")
assert hue_score.score > 10 * blur_score.score, (
    f"hue {hue_score.score:.4f} vs blur {blur_score.score:.4f}: the redness detector only sees the mean colour; "
    "is the hue edit really a hue rotation, and the blur a blur?")
print(f"Exercise 1: correct: hue {hue_score.score:.4f} (p {hue_score.pvalue:.3f}) vs blur {blur_score.score:.5f}.")

# %% [markdown]
# ## 3. A new intervention kind in a dozen lines
# An intervention is anything with `series(image, progress)` returning `InterventionSeries` (step 0 = the input).
# Registered with a spec (`propgrad.kinds`), it gets flags on the command line and keys in study files too.
# Here: Gaussian pixel noise of rising strength (the docs' "Adding an intervention" example).

# %%
from propgrad.interventions import InterventionSeries
from propgrad.kinds import InterventionSpec, option, register_kind, steps_option, unregister_kind


@dataclass(frozen=True)
class AddNoise:
    sigma: float
    steps: int
    seed: int = 0
    name = "noise"

    def series(self, image, progress=lambda fraction, message="": None):
        levels = np.linspace(0.0, self.sigma, self.steps)
        noise = np.random.default_rng(self.seed).standard_normal((image.height, image.width, 3))
        pixels = np.asarray(image, dtype=np.float64)
        images = [image.copy()] + [Image.fromarray(np.clip(pixels + level * noise, 0, 255).astype(np.uint8))
                                   for level in levels[1:]]
        return [InterventionSeries(images, levels, "noise standard deviation", label="noise")]


@register_kind
@dataclass(frozen=True, kw_only=True)
class NoiseSpec(InterventionSpec):
    kind = "noise"
    selector = "noise"
    summary = "Gaussian pixel noise of rising strength"

    noise: float = option(40.0, "largest noise standard deviation (grey levels)", above=0, high=255)
    noise_seed: int = option(0, "seed of the noise pattern", low=0)
    steps: int = steps_option()

    def describe(self) -> str:
        return f"noise up to {self.noise:g}"

    def make(self):
        return AddNoise(self.noise, self.steps, self.noise_seed)

# %% [markdown]
# Now "noise" is a kind like the others: a study file can say `kind = "noise"`, and from Python:

# %%
from propgrad.kinds import spec_from_dict

noise = spec_from_dict({"kind": "noise", "noise": 60, "steps": 8}).make()
noisy = propgrad.explain(image, noise, [redness], outputs_of_interest="red", n_permutations=1000, seed=0)
noise_score = noisy.models[0].output_of_interest
print(f"{noisy.property_name}: p(red) E[|grad_X F|] {noise_score.score:.4f}, p {noise_score.pvalue:.3f}")

# %% [markdown]
# ### Exercise 2
# A bad value must be refused with a message that names the field. Try `spec_from_dict({"kind": "noise",
# "noise": 300})` and put the error message (a string) in `message`.

# %%
message = None

# %% tags=["solution"]
try:
    spec_from_dict({"kind": "noise", "noise": 300})
except Exception as error:  # propgrad.errors.ArgumentError
    message = str(error)

# %%
# Checking cell
assert isinstance(message, str), "catch the exception and keep str(error)"
assert "noise" in message and "300" in message, f"the message should name the field and the value: {message!r}"
print(f"Exercise 2: correct: {message}")

# %% [markdown]
# ### Exercise 3
# Noise of mean zero leaves the mean colour almost unchanged (up to clipping at 0 and 255). Should the redness
# detector's reading under noise be a *large* change? Put the reading class (`reading.kind`) you expect in
# `noise_kind_expected`, then check it against propgrad's reading.

# %%
noise_kind_expected = None  # e.g. "strong", "systematic", "negligible", "abrupt", "erratic", "none"

# %% tags=["solution"]
from propgrad.reading import read_explanation

noise_kind_expected = read_explanation(noisy)[0].kind

# %%
# Checking cell
from propgrad.reading import read_explanation

reading = read_explanation(noisy)[0]
assert noise_kind_expected == reading.kind, (
    f"propgrad reads {reading.kind!r} ({reading.sentence}); you expected {noise_kind_expected!r}. Look at the size "
    "of the change (start -> end) and at the score")
print(f"Exercise 3: correct: {reading.sentence} (E[|grad_X F|] {noisy.models[0].output_of_interest.score:.4f}).")
unregister_kind("noise")  # leave the registry as it was (only matters when this runs inside a larger session)

# %% [markdown]
# ## In the app
# The edit tab's "Your own model" section takes a `.pt2`, TorchScript or ConvMixer file, and a hub id or folder;
# e.g. [the ImageNet classifier on a hue-rotated cup](/?example=coffee-cup-hue-rotated-imagenet-classifier) on a
# running app (`python app.py`) shows the same kind of run with a bundled model.
#
# ## Teacher's notes
# - **Solutions** are the cells tagged `solution`. Exercise 1: hue rotation moves p(red) strongly (the cup's
#   colours rotate through red), blur barely (it keeps the mean colour). Exercise 2: the message reads
#   "`noise` must be a number in (0, 255], got 300.0". Exercise 3: the mean colour hardly moves (p(red) from
#   0.998 to 0.994: clipping at 0 and 255 shifts it a little), so the reading is "none" (no measurable effect,
#   under the 0.01 a change needs to count); the checking cell accepts propgrad's reading, the discussion is why noise is not a null
#   intervention (it changes the image's statistics at the edges of the range).
# - A known-answer model is the best test of an explanation method: students can build their own (a "blue
#   sky" detector, a brightness detector) and check that the method finds what they built in.
# - The `.pt2` path is also how to bring a model from another framework: export it to PyTorch first.
# - Timing: about 30 minutes.
