"""The region default example end to end: chelsea, fur (object) darkened vs background darkened.

Up to 85 % darker in 11 steps, the method authors' three cats-vs-dogs ConvMixers, p(cat), 10,000
permutations: ``propgrad.compare.region_comparison`` after one warm-up run (models and segmenter loaded).
Each timed run clears the segmenter's mask cache, so segmentation is included. Baseline in the same run:
the same darkening of the whole image with the same models (one property, no segmenter), so the ratio
says what the second property and the region cost; the two are timed in turns, so that both see the same
load from other jobs. Prints medians and bests; the last line is ``region_default_example_s: value``
(the median). Then the app's own handler for the same default, as the page's Run calls it: the answer
on the page (summary with the reading and the ranked table, strip, curves), timed in turns with the
computation alone, and the animation, null plot and zip that follow it; the last lines are
``computation_s``, ``app_default_example_s`` (the answer on the page) and their ratio.

Issue 23's table, in this process (``bench/startup.py`` measures the same through the server and a browser):
the handler as the API calls it (the answer and the zip in one call) versus the computation alone, timed in turns
(target <= 2x); the wait from the answer to the zip (part 2 starts in the background as soon as the answer is
drawn; target <= 1 s); this process's resident memory with the first tab's models and segmenter loaded.
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

    # What a user of the app waits for: the first tab's Run, as the page runs it (the answer at once: summary, the
    # ranked table with the reading, strip and curves), then the animation, null plot and zip, which follow while
    # the user reads. Both are timed, in turns with the computation alone (the Python API, as above).
    from propgrad.app import results as app_results
    from propgrad.app import settings as app_settings
    from propgrad.app import shared
    from propgrad.app.tabs import edit

    app_settings.configure_serving("127.0.0.1")
    shown_first = shared.shown_first(edit.run_edit)
    defaults = edit.edit_defaults()

    def app_run():
        segment.clear_cache()
        outputs = shown_first(defaults["image"], "", defaults["editor"], 15, 2.5, defaults["steps"], 20, "0",
                              defaults["edit_end"], defaults["models"], None, None, "", "", "", defaults["outputs"],
                              10_000, 0.01, "", "auto", defaults["regions"], progress=lambda *a, **k: None)
        return outputs[7]  # the run (then the form-error update)

    app_results.finish(app_run())  # warm-up: the app's model cache, fonts
    shown_times, finish_times, computation_times = [], [], []
    for _ in range(REPEATS):
        computation_times += times(comparison, 1)
        start = time.perf_counter()
        run = app_run()
        shown_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        app_results.finish(run)
        finish_times.append(time.perf_counter() - start)
    computation = statistics.median(computation_times)
    shown = statistics.median(shown_times)
    after = statistics.median(finish_times)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"computation alone (Python API): median {computation:.2f} s, best {min(computation_times):.2f} s")
    print(f"the app's Run, answer on the page (summary, table, reading, strip, curves): median {shown:.2f} s, "
          f"best {min(shown_times):.2f} s")
    print(f"then the animation, null plot and zip, while the user reads: median {after:.2f} s")
    print(f"end to end / computation: {shown / computation:.2f} (target <= 1.5); best-of ratio "
          f"{min(shown_times) / min(computation_times):.2f}")
    # Issue 23: the API's way (answer and zip in one call, nothing deferred), in turns with the computation.
    def api_run():
        segment.clear_cache()
        return edit.run_edit(defaults["image"], "", defaults["editor"], 15, 2.5, defaults["steps"], 20, "0",
                             defaults["edit_end"], defaults["models"], outputs=defaults["outputs"],
                             regions=defaults["regions"], progress=lambda *a, **k: None)

    api_times, python_times = [], []
    for _ in range(REPEATS):
        python_times += times(comparison, 1)
        api_times += times(api_run, 1)
    api, python = statistics.median(api_times), statistics.median(python_times)
    import psutil

    process = psutil.Process()
    # The report writer's process (propgrad.app.writer) belongs to the server's memory too.
    rss = (process.memory_info().rss + sum(child.memory_info().rss for child in process.children())) / 2**20
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print(f"the handler as the API calls it (answer and zip): median {api:.2f} s vs the computation {python:.2f} s "
          f"({api / python:.2f}x; target <= 2x)")
    print(f"answer to zip (part 2 started with the answer, no browser): median {after:.2f} s (target <= 1 s)")
    print(f"this process's RSS with the first tab's models and segmenter, and its report writer: {rss:.0f} MB")
    print(f"computation_s: {computation:.2f}")
    print(f"api_handler_s: {api:.2f}")
    print(f"api_handler_vs_computation_ratio: {api / python:.2f}")
    print(f"answer_to_zip_s: {after:.2f}")
    print(f"rss_mb: {rss:.0f}")
    print(f"app_default_example_s: {shown:.2f}")
    print(f"app_vs_computation_ratio: {shown / computation:.2f}")


if __name__ == "__main__":
    main()
