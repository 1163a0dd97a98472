"""Disk cache of intervention series: round trip, keys, LRU bound, atomic entries, several processes."""
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.cache import SeriesCache, cache_key, default_cache_dir, image_digest
from propgrad.interventions.base import InterventionSeries


def make_series(seed: int, n: int = 4, side: int = 24, label: str = "seed 0") -> InterventionSeries:
    rng = np.random.default_rng(seed)
    images = [Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)) for _ in range(n)]
    return InterventionSeries(images, np.concatenate([[1.0], np.linspace(1.01, 7.3, n - 1)]), "text guidance scale",
                              label=label)


def key_for(i: int) -> str:
    return cache_key(Image.new("RGB", (4, 4), (i % 256, 0, 0)), {"seed": i})


def test_round_trip_is_exact(tmp_path):
    cache = SeriesCache(tmp_path)
    key = key_for(0)
    assert cache.get(key) is None and key not in cache
    stored = [make_series(1), make_series(2, n=3, label="seed 7")]
    assert cache.put(key, stored, {"model": "m", "seed": 0})
    loaded = cache.get(key)
    assert key in cache and len(loaded) == 2
    for a, b in zip(stored, loaded):
        assert a.label == b.label and a.property_name == b.property_name
        np.testing.assert_array_equal(a.values, b.values)  # floats survive JSON exactly
        for x, y in zip(a.images, b.images):
            assert y.mode == "RGB"
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert cache.metadata(key)["params"] == {"model": "m", "seed": 0}


def test_key_depends_on_pixels_and_every_parameter():
    image = Image.new("RGB", (8, 8), (10, 20, 30))
    params = {"model": "timbrooks/instruct-pix2pix", "instruction": "make it red", "seed": 0, "scales": [1.01, 2.0]}
    key = cache_key(image, params)
    assert key == cache_key(image.copy(), dict(reversed(list(params.items()))))
    for change in ({"seed": 1}, {"instruction": "make it blue"}, {"scales": [1.01, 2.5]}, {"model": "other"}):
        assert cache_key(image, {**params, **change}) != key
    other = image.copy()
    other.putpixel((0, 0), (11, 20, 30))
    assert cache_key(other, params) != key
    assert image_digest(image) != image_digest(image.resize((8, 7)))


@pytest.mark.parametrize("call, match", [
    (lambda c: c.get("not-a-key"), "`key` must be a sha256 hex digest"),
    (lambda c: c.put(key_for(0), "images"), "`series` must be a list of InterventionSeries"),
    (lambda c: cache_key(Image.new("RGB", (2, 2)), {"x": object()}), "`params` must be JSON-serialisable"),
    (lambda c: cache_key(Image.new("RGB", (2, 2)), [1]), "`params` must be a mapping"),
    (lambda c: SeriesCache(c.directory, max_bytes=0), "`max_bytes` must be a positive integer"),
])
def test_errors_name_the_argument(tmp_path, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(SeriesCache(tmp_path))


def stored_files(directory: Path) -> list[str]:
    """Entry files in a cache folder (not its index or lock files)."""
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*")
                  if p.is_file() and not p.name.startswith("cache.db") and ".locks" not in p.parts)


def test_least_recently_used_entries_go_beyond_the_bound(tmp_path):
    # Entries of ~0.8 MB, so that the SQLite index (tens of kB, counted in the bound) stays small beside them.
    cache = SeriesCache(tmp_path)
    cache.put(key_for(0), [make_series(0, side=256)])
    entry_bytes = cache.size_bytes()
    cache.close()
    cache = SeriesCache(tmp_path, max_bytes=int(3.5 * entry_bytes))
    for i in (1, 2):
        time.sleep(0.02)
        cache.put(key_for(i), [make_series(i, side=256)])
    time.sleep(0.02)
    assert cache.get(key_for(0)) is not None  # used again: now the most recent
    time.sleep(0.02)
    cache.put(key_for(3), [make_series(3, side=256)])
    assert key_for(1) not in cache
    assert all(key_for(i) in cache for i in (0, 2, 3))
    assert cache.size_bytes() <= cache.max_bytes


def test_a_lowered_bound_drops_as_many_old_entries_as_needed(tmp_path):
    cache = SeriesCache(tmp_path)
    for i in range(4):
        time.sleep(0.02)
        cache.put(key_for(i), [make_series(i, side=256)])
    entry_bytes = cache.size_bytes() // 4
    cache.close()
    cache = SeriesCache(tmp_path, max_bytes=int(2.5 * entry_bytes))
    cache.put(key_for(4), [make_series(4, side=256)])
    assert [k for k, _, _ in cache.entries()] == [key_for(3), key_for(4)]
    assert cache.size_bytes() <= cache.max_bytes


def test_an_entry_larger_than_the_bound_is_not_stored(tmp_path):
    cache = SeriesCache(tmp_path, max_bytes=100)
    assert cache.put(key_for(0), [make_series(0)]) is False
    assert key_for(0) not in cache
    assert stored_files(tmp_path) == []


def test_failed_writes_leave_nothing(tmp_path, monkeypatch):
    cache = SeriesCache(tmp_path)
    key = key_for(0)
    assert cache.put(key, [make_series(0)])
    before = stored_files(tmp_path)
    calls = []
    real_save = Image.Image.save

    def failing_save(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        cache.put(key_for(1), [make_series(1)])
    assert key_for(1) not in cache and cache.get(key) is not None
    assert stored_files(tmp_path) == before and len(before) == 1


def test_a_damaged_entry_reads_as_a_miss(tmp_path):
    cache = SeriesCache(tmp_path)
    key = key_for(0)
    cache.put(key, [make_series(0)])
    (entry,) = stored_files(tmp_path)
    (tmp_path / entry).write_bytes(b"not a zip")
    assert cache.get(key) is None and cache.metadata(key) is None


def test_remove_and_clear(tmp_path):
    cache = SeriesCache(tmp_path)
    for i in range(3):
        cache.put(key_for(i), [make_series(i)])
    cache.remove(key_for(1))
    cache.remove(key_for(1))  # twice is fine
    assert {k for k, _, _ in cache.entries()} == {key_for(0), key_for(2)}
    cache.clear()
    assert cache.entries() == [] and stored_files(tmp_path) == []


def test_default_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PROPGRAD_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert SeriesCache().directory == tmp_path / "c"
    monkeypatch.delenv("PROPGRAD_CACHE_DIR")
    assert default_cache_dir().parts[-2:] == (".cache", "propgrad")


def _worker(directory: str, log: str) -> str:
    # Each process: take the key's lock, generate only on a miss, then read.
    cache = SeriesCache(directory)
    key = key_for(42)
    with cache.lock(key):
        if cache.get(key) is None:
            with open(log, "a") as f:
                f.write(f"{os.getpid()}\n")
            time.sleep(0.3)  # a slow generation, so the others queue on the lock
            cache.put(key, [make_series(42)])
    series = cache.get(key)[0]
    return image_digest(series.images[-1])


def test_several_processes_generate_once_and_read_the_same(tmp_path):
    log = tmp_path / "made.log"
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        digests = pool.starmap(_worker, [(str(tmp_path / "cache"), str(log))] * 4)
    assert len(log.read_text().split()) == 1
    assert len(set(digests)) == 1 and digests[0] == image_digest(make_series(42).images[-1])
