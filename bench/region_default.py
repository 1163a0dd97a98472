"""The region default example end to end: chelsea, fur (object) darkened vs background darkened.

Up to 85 % darker in 11 steps, the method authors' three cats-vs-dogs ConvMixers, p(cat), 10,000
permutations: ``propgrad.compare.region_comparison`` after one warm-up run (models and segmenter loaded).
Each timed run clears the segmenter's mask cache, so segmentation is included. Baseline in the same run:
the same darkening of the whole image with the same models (one property, no segmenter), so the ratio
says what the second property and the region cost; the two are timed in turns, so that both see the same
load from other jobs. Prints medians and bests; the last line is ``region_default_example_s: value``
(the median). Then the app's own handler for the same default (the first tab's Run: also the figures,
the GIF and the zip a user downloads), whose median is the last line, ``app_default_example_s``.
"""
from __future__ import annotations

import os
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


def times(function, repeats: int = REPEATS) -> list[float]:
    measured = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        measured.append(time.perf_counter() - start)
    return measured


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
    # Interleaved, so that both see the same load from other jobs on a shared machine.
    whole_times, region_times = [], []
    for _ in range(REPEATS):
        whole_times += times(lambda: explain(image, darken, models, **settings), 1)
        region_times += times(comparison, 1)
    whole, regions = statistics.median(whole_times), statistics.median(region_times)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"whole image darkened, 3 models (baseline): median {whole:.2f} s, best {min(whole_times):.2f} s")
    print(f"object vs background darkened, 3 models: median {regions:.2f} s, best {min(region_times):.2f} s "
          f"({regions / TARGET_S:.2f} x the {TARGET_S:.0f} s target)")
    print(f"region_vs_whole_image_ratio: {regions / whole:.2f}")
    print(f"region_default_example_s: {regions:.2f}")

    # What a user of the app waits for: the handler, with every figure and the zip.
    from propgrad.app import settings as app_settings
    from propgrad.app.tabs import edit

    app_settings.configure_serving("127.0.0.1")
    defaults = edit.edit_defaults()

    def app_run():
        segment.clear_cache()
        return edit.run_edit(defaults["image"], "", defaults["editor"], 15, 2.5, defaults["steps"], 20, "0",
                             defaults["edit_end"], defaults["models"], None, None, "", "", "", defaults["outputs"],
                             10_000, 0.01, "", "auto", defaults["regions"], progress=lambda *a, **k: None)

    app_run()  # warm-up: the app's model cache
    app_times = times(app_run)
    app = statistics.median(app_times)
    print(f"the app's handler, same default with figures and zip: median {app:.2f} s, best {min(app_times):.2f} s "
          f"({app / regions:.2f} x the computation alone; {app / TARGET_S:.2f} x the {TARGET_S:.0f} s target)")
    print(f"app_default_example_s: {app:.2f}")


if __name__ == "__main__":
    main()
