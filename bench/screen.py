"""A property screen against the same properties explained one by one.

chelsea, the method authors' three cats-vs-dogs ConvMixers, p(cat), the default candidates (every edit x
whole image / object / background where it makes sense: 34 properties), 10 steps each, 10,000
permutations. ``propgrad.screen`` against N separate ``propgrad.explain`` runs of the same properties
(``Region(edit, "object")`` and so on, as a user would write them; the segmenter's mask cache is cleared
before each side, so both pay the segmentation). A warm-up on one property loads the models and the
segmenter; the timed runs alternate, so both see the same load from other jobs on a shared machine.
Also checks that both give the same scores and p-values. Last line ``screen_vs_separate_ratio: value``
(median screen time / median separate time; the issue's target is <= 0.8).

Options: ``--repeats R`` (default 1: about ten minutes on two shared cores), ``--permutations K``,
``--model NAME`` (instead of the authors' three).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from a checkout
from propgrad import segment  # noqa: E402
from propgrad.explain import explain  # noqa: E402
from propgrad.interventions import ParametricEdit, Region  # noqa: E402
from propgrad.paths import ASSETS  # noqa: E402
from propgrad.screen import WHOLE, _candidates, screen  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--permutations", type=int, default=10_000)
    parser.add_argument("--model", action="append")
    args = parser.parse_args()
    import torch

    image = Image.open(ASSETS / "examples" / "chelsea.jpg").convert("RGB")
    if args.model:
        from propgrad.models.bundled import get_model

        models, outputs = [get_model(name) for name in args.model], "predicted"
    else:
        from propgrad.models.authors import VARIANTS, load_authors_model

        models, outputs = [load_authors_model(stem) for stem in VARIANTS], "cat"
    candidates = _candidates(None, None, None, None)
    interventions = {c.name: ParametricEdit(c.edit) if c.region == WHOLE else Region(ParametricEdit(c.edit), c.region)
                     for c in candidates}
    settings = dict(outputs_of_interest=outputs, n_permutations=args.permutations, seed=0)

    def screened():
        segment.clear_cache()
        return screen(image, models, **settings)

    def separate():
        segment.clear_cache()
        return {name: explain(image, one, models, **settings) for name, one in interventions.items()}

    start = time.perf_counter()
    # Warm-up on one property: loads the networks and the segmenter, so neither side pays for that.
    screen(image, models, edits=["darken"], regions=["object"], **settings)
    explain(image, Region(ParametricEdit("darken"), "object"), models, **settings)
    print(f"{len(interventions)} properties x {len(models)} models, {args.permutations} permutations; warm-up "
          f"{time.perf_counter() - start:.1f} s; torch threads {torch.get_num_threads()}")
    screen_times, separate_times = [], []
    for _ in range(args.repeats):
        for function, store, keep in ((screened, screen_times, "first"), (separate, separate_times, "reference")):
            begin = time.perf_counter()
            result = function()
            store.append(time.perf_counter() - begin)
            if keep == "first":
                first = result
            else:
                reference = result
    worst = max(abs(row.pvalue - reference[row.property].model(row.model).scores[0].pvalue)
                + abs(row.score - reference[row.property].model(row.model).scores[0].score) for row in first.rows)
    print(f"largest difference in score + p between the screen and separate runs: {worst:.3g}")
    screen_s, separate_s = statistics.median(screen_times), statistics.median(separate_times)
    print(f"screen: median {screen_s:.2f} s (best {min(screen_times):.2f} s)")
    print(f"{len(interventions)} separate explain runs: median {separate_s:.2f} s (best {min(separate_times):.2f} s)")
    print(f"screen_vs_separate_ratio: {screen_s / separate_s:.3f}")


if __name__ == "__main__":
    main()
