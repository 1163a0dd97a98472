"""Series cache: the diskcache-based SeriesCache against the hand-written one it replaced.

The old implementation (a folder of PNGs per entry, its own LRU scan) is read from git history
(commit 45af07b) and loaded as a module, so both run here on the same data: 20 entries of one
diffusion-like series (16 steps of 256x256 noise), written, then read back, then 20 more written
into a cache bounded at 12 entries (every write evicts). Prints the best time of several repeats.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script from a checkout
from propgrad.cache import SeriesCache, cache_key  # noqa: E402
from propgrad.interventions.base import InterventionSeries  # noqa: E402

OLD_COMMIT, ENTRIES, STEPS, SIDE, REPEATS = "45af07b", 20, 16, 256, 3


def old_cache_class():
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:propgrad/cache.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("old_cache")
    exec(compile(source.replace("from .", "from propgrad."), "old_cache.py", "exec"), module.__dict__)
    return module.SeriesCache


def series(seed: int) -> list[InterventionSeries]:
    rng = np.random.default_rng(seed)
    images = [Image.fromarray(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)) for _ in range(STEPS)]
    return [InterventionSeries(images, np.linspace(1.0, 7.0, STEPS), "text guidance scale", label="seed 0")]


def run(cls, data, keys) -> dict[str, float]:
    times = {"write": [], "read": [], "evicting write": []}
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as folder:
            cache = cls(folder)
            start = time.perf_counter()
            for key, s in zip(keys[:ENTRIES], data):
                cache.put(key, s)
            times["write"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for key in keys[:ENTRIES]:
                assert cache.get(key) is not None
            times["read"].append(time.perf_counter() - start)
            one = cache.size_bytes() / ENTRIES
            cache = cls(folder, max_bytes=int(12.5 * one))
            start = time.perf_counter()
            for key, s in zip(keys[ENTRIES:], data):
                cache.put(key, s)
            times["evicting write"].append(time.perf_counter() - start)
            assert cache.size_bytes() <= cache.max_bytes
    return {name: min(t) / ENTRIES * 1000 for name, t in times.items()}


def main() -> None:
    data = [series(i) for i in range(ENTRIES)]
    keys = [cache_key(Image.new("RGB", (2, 2)), {"i": i}) for i in range(2 * ENTRIES)]
    old, new = run(old_cache_class(), data, keys), run(SeriesCache, data, keys)
    print(f"{ENTRIES} entries of {STEPS} {SIDE}x{SIDE} images, ms per entry (best of {REPEATS})")
    for name in old:
        print(f"  {name:15s} old {old[name]:7.2f}  diskcache {new[name]:7.2f}  ratio {new[name] / old[name]:.2f}")
    total_old, total_new = sum(old.values()), sum(new.values())
    print(f"cache_diskcache_over_old_time: {total_new / total_old:.2f}")


if __name__ == "__main__":
    main()
