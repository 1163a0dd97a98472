"""The region default example end to end: chelsea, fur (object) darkened vs background darkened.

Up to 85 % darker in 11 steps, the method authors' three cats-vs-dogs ConvMixers, p(cat), 10,000
permutations: ``propgrad.compare.region_comparison`` after one warm-up run (models and segmenter loaded).
Each timed run clears the segmenter's mask cache, so segmentation is included. Baseline in the same run:
the same darkening of the whole image with the same models (one property, no segmenter), so the ratio
says what the second property and the region cost. The last line is ``region_default_example_s: value``.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from a checkout
from propgrad import segment  # noqa: E402
from propgrad.compare import region_comparison  # noqa: E402
from propgrad.explain import explain  # noqa: E402
from propgrad.interventions import ParametricEdit  # noqa: E402
from propgrad.models.authors import VARIANTS, load_authors_model  # noqa: E402
from propgrad.paths import ASSETS  # noqa: E402

REPEATS = 5
TARGET_S = 3.0


def median_time(function, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import torch

    image = Image.open(ASSETS / "examples" / "chelsea.jpg").convert("RGB")
    darken = ParametricEdit("darken", stop=0.85, steps=11)
    start = time.perf_counter()
    models = [load_authors_model(stem) for stem in VARIANTS]
    settings = dict(outputs_of_interest="cat", n_permutations=10_000, seed=0)

    def comparison():
        segment.clear_cache()
        return region_comparison(image, darken, models, property_label="darken", **settings)

    comparison()  # warm-up: loads the segmenter and the networks
    print(f"warm-up (load segmenter and 3 models, one run) {time.perf_counter() - start:.2f} s; "
          f"torch threads {torch.get_num_threads()}")
    whole = median_time(lambda: explain(image, darken, models, **settings))
    regions = median_time(comparison)
    print(f"whole image darkened, 3 models (baseline): {whole:.2f} s")
    print(f"object vs background darkened, 3 models: {regions:.2f} s ({regions / TARGET_S:.2f} x the {TARGET_S:.0f} s "
          f"target)")
    print(f"region_vs_whole_image_ratio: {regions / whole:.2f}")
    print(f"region_default_example_s: {regions:.2f}")


if __name__ == "__main__":
    main()
