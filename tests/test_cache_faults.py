"""The series cache heals: a broken index, a broken value, orphaned files, a read-only or full disk, two
processes at once. Every fault ends in a working cache (or none) and one line, never a crash."""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import time

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from propgrad.cache import INDEX, ORPHAN_AGE_S, SeriesCache, cached_series

from faults import in_tmpfs, needs_tmpfs
from test_cache import key_for, make_series, stored_files


def warnings_of(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "propgrad.cache"
            and record.levelno >= logging.WARNING]


def test_a_truncated_index_is_moved_aside_and_rebuilt(tmp_path, caplog):
    cache = SeriesCache(tmp_path)
    cache.put(key_for(0), [make_series(0)])
    cache.close()
    index = tmp_path / INDEX
    index.write_bytes(index.read_bytes()[:100])  # what `explain` used to die on: "database disk image is malformed"
    cache = SeriesCache(tmp_path)
    assert cache.get(key_for(0)) is None  # a miss: the series is made again
    (line,) = warnings_of(caplog)
    assert str(tmp_path) in line and "moved aside" in line and "rebuilt" in line
    # Its write-ahead log goes with it: left behind, SQLite would replay it into the new index.
    assert [path.name.rsplit("-", 1)[-1] for path in tmp_path.glob(f"{INDEX}.broken-*")
            if path.name.endswith(("-wal", "-shm"))] in ([], ["shm", "wal"], ["wal", "shm"])
    assert not (tmp_path / f"{INDEX}-wal").exists() or (tmp_path / INDEX).exists()
    assert cache.put(key_for(0), [make_series(0)]) and cache.get(key_for(0)) is not None


def test_a_value_that_fails_to_load_is_removed_and_made_again_once(tmp_path, caplog):
    cache = SeriesCache(tmp_path)
    key = key_for(0)
    cache.put(key, [make_series(0)])
    (entry,) = stored_files(tmp_path)
    data = (tmp_path / entry).read_bytes()
    (tmp_path / entry).write_bytes(data[: len(data) // 2])  # a value file cut in half
    assert cache.get(key) is None
    assert key not in cache and stored_files(tmp_path) == []  # removed, not kept to fail on every run
    assert "could not be read" in warnings_of(caplog)[0] and str(tmp_path) in warnings_of(caplog)[0]
    assert cache.put(key, [make_series(0)])  # made again once: stored this time, not skipped as present
    np.testing.assert_array_equal(np.asarray(cache.get(key)[0].images[-1]), np.asarray(make_series(0).images[-1]))


def test_an_entry_that_holds_another_keys_series_is_removed_and_made_again(tmp_path, caplog):
    cache = SeriesCache(tmp_path)
    cache.put(key_for(0), [make_series(0)])
    (first,) = stored_files(tmp_path)
    cache.put(key_for(1), [make_series(1)])
    (second,) = set(stored_files(tmp_path)) - {first}
    (tmp_path / second).write_bytes((tmp_path / first).read_bytes())  # one entry's value file copied over another's
    assert cache.metadata(key_for(1)) is None
    assert cache.get(key_for(1)) is None and key_for(1) not in cache  # a miss, not seed 0's series
    (line,) = warnings_of(caplog)
    assert "could not be read" in line and key_for(0)[:12] in line and str(tmp_path) in line
    assert cache.get(key_for(0)) is not None


def test_value_files_an_emptied_index_no_longer_lists_are_removed(tmp_path, caplog):
    cache = SeriesCache(tmp_path)
    for i in range(3):
        cache.put(key_for(i), [make_series(i)])
    cache.close()
    old = time.time() - 2 * ORPHAN_AGE_S
    for name in stored_files(tmp_path)[:2]:
        os.utime(tmp_path / name, (old, old))
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"{INDEX}{suffix}").unlink(missing_ok=True)  # the index emptied
    cache = SeriesCache(tmp_path)
    assert cache.entries() == []
    # The two old files are removed; the young one may be another process's entry being written: counted.
    assert len(stored_files(tmp_path)) == 1 and cache.orphans == 1
    assert any("removed 2 value files" in line for line in warnings_of(caplog))


def test_a_hit_and_a_wait_are_each_said_in_one_line(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="propgrad.cache")
    cache = SeriesCache(tmp_path)
    key = key_for(0)
    held, release = threading.Event(), threading.Event()

    def other():  # another opener of the same lock file (flock locks are per open file, as across processes)
        with SeriesCache(tmp_path).lock(key):
            held.set()
            release.wait(5)
            SeriesCache(tmp_path).put(key, [make_series(0)])

    thread = threading.Thread(target=other)
    thread.start()
    assert held.wait(60)
    threading.Timer(0.3, release.set).start()
    with cache.lock(key):
        assert cache.get(key) is not None
    thread.join()
    lines = [record.getMessage() for record in caplog.records if record.name == "propgrad.cache"]
    assert any("waiting for another process making the same series" in line for line in lines), lines
    assert any("from the cache" in line for line in lines), lines


SCRIPT = """
from propgrad.cache import SeriesCache
from test_cache import key_for, make_series
import logging, sys
logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
cache = SeriesCache(sys.argv[1])
stored = [cache.put(key_for(i), [make_series(i, side=128)]) for i in range(int(sys.argv[2]))]
print("stored", stored)
print("read", [cache.get(key_for(i)) is not None for i in range(int(sys.argv[2]))])
with cache.lock(key_for(99)):
    print("locked")
"""


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_read_only_or_full_folder_turns_the_cache_off_with_one_line(tmp_path, fault):
    needs_tmpfs()
    (tmp_path / "script.py").write_text(SCRIPT)
    mount = ("mount -t tmpfs -o size=1m tmpfs \"$DIR\"; mount -o remount,ro \"$DIR\"" if fault == "read-only"
             else "mount -t tmpfs -o size=1m tmpfs \"$DIR\"")
    done = in_tmpfs(tmp_path / "cache", f"{mount}\n\"$PY\" {tmp_path / 'script.py'} \"$DIR\" 8")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    warnings = [line for line in out if line.startswith("series cache ")]
    assert len(warnings) == 1 and str(tmp_path / "cache") in warnings[0], out
    assert ("no space left" if fault == "full" else "cannot write") in warnings[0]
    assert "locked" in out  # the work goes on, without the cache
    if fault == "full":
        stored = eval(out[out.index(warnings[0]) + 1].removeprefix("stored "))
        assert stored[0] and not stored[-1], out  # the first series fit, a later one did not


@pytest.mark.parametrize("folder", ["a file", "under a file", "under /proc"])
def test_a_folder_that_cannot_be_made_turns_the_cache_off_with_one_line(tmp_path, caplog, folder):
    """What `explain` did with PROPGRAD_CACHE_DIR a file: exited 2 with a bare "[Errno 20] Not a directory"."""
    (tmp_path / "file").write_text("x")
    directory = {"a file": tmp_path / "file", "under a file": tmp_path / "file" / "cache",
                 "under /proc": Path("/proc/propgrad-cache")}[folder]
    if folder == "under /proc" and not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    cache = SeriesCache(directory)
    made = cached_series(cache, Image.new("RGB", (4, 4)), [0, 1], lambda seed: {"seed": seed},
                         lambda seeds: [make_series(seed) for seed in seeds])
    assert [s.label for s in made] == [make_series(seed).label for seed in (0, 1)]
    assert cache.get(key_for(0)) is None and not cache.put(key_for(0), [make_series(0)])
    SeriesCache(directory).get(key_for(0))  # a study's next intervention: said once per process, not again
    (line,) = warnings_of(caplog)
    assert str(directory) in line and "cannot be made" in line and "PROPGRAD_CACHE_DIR" in line


def test_an_index_that_is_a_folder_is_named_as_the_fault(tmp_path, caplog):
    """cache.db a folder: the line said to "set PROPGRAD_CACHE_DIR to a folder you may write", of a writable folder."""
    (tmp_path / INDEX).mkdir()
    cache = SeriesCache(tmp_path)
    made = cached_series(cache, Image.new("RGB", (4, 4)), [0], lambda seed: {"seed": seed},
                         lambda seeds: [make_series(seed) for seed in seeds])
    assert [s.label for s in made] == [make_series(0).label]  # the work goes on without the cache
    (line,) = warnings_of(caplog)
    assert f"its index {INDEX} is a folder" in line and "move that folder out of the way" in line
    assert "a folder you may write" not in line


def test_a_folder_that_may_not_be_written_still_serves_the_series_it_holds(tmp_path, monkeypatch, caplog):
    cache = SeriesCache(tmp_path)
    cache.put(key_for(0), [make_series(0)])
    cache.close()

    def may_not_write(self):  # what diskcache meets opening an index in a folder the user may not write
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(SeriesCache, "_open", may_not_write)
    cache = SeriesCache(tmp_path)
    np.testing.assert_array_equal(np.asarray(cache.get(key_for(0))[0].images[-1]),
                                  np.asarray(make_series(0).images[-1]))
    assert cache.get(key_for(1)) is None and not cache.put(key_for(1), [make_series(1)])
    (line,) = warnings_of(caplog)
    assert "cannot write" in line and "still read" in line


def test_a_read_only_folder_still_serves_the_series_it_holds(tmp_path):
    needs_tmpfs()
    (tmp_path / "script.py").write_text(SCRIPT)
    run = f"\"$PY\" {tmp_path / 'script.py'} \"$DIR\" 2"
    done = in_tmpfs(tmp_path / "cache", f"mount -t tmpfs -o size=1m tmpfs \"$DIR\"\n{run}\n"
                                        f"mount -o remount,ro \"$DIR\"\necho read-only\n{run}")
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    read_only = out[out.index("read-only"):]
    assert "read [True, True]" in read_only, out  # before: [False, False], the series made again
    assert len([line for line in read_only if line.startswith("series cache ")]) == 1, out


def test_a_folder_removed_during_a_run_gets_the_next_entry_with_an_index(tmp_path):
    cache = SeriesCache(tmp_path)
    cache.put(key_for(0), [make_series(0)])
    shutil.rmtree(tmp_path)  # `rm -rf` of the cache while a run uses it
    assert cache.put(key_for(1), [make_series(1)])
    assert SeriesCache(tmp_path).get(key_for(1)) is not None  # before: a value file no index listed, lost


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["index", "value"])
def test_a_diffusion_sweep_over_a_damaged_cache_makes_its_series_and_stores_it_again(tmp_path, caplog, damage):
    """What `explain` did with a cache.db cut to 100 bytes: crashed. Now: one warning, the series, a working cache."""
    pytest.importorskip("diffusers")
    from PIL import Image

    from propgrad.interventions.diffusion import InstructPix2PixSweep
    from propgrad.testing.random_pix2pix import random_instruct_pix2pix

    caplog.set_level(logging.INFO, logger="propgrad.cache")
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8))
    kwargs = dict(max_guidance=5.0, steps=3, denoising_steps=2, max_side=32, model="tiny-test",
                  pipeline=random_instruct_pix2pix("tiny", seed=0))
    first = InstructPix2PixSweep("add snow", seeds=(0,), cache=SeriesCache(tmp_path), **kwargs).series(image)
    if damage == "index":
        (tmp_path / INDEX).write_bytes((tmp_path / INDEX).read_bytes()[:100])
    else:
        (entry,) = stored_files(tmp_path)
        data = (tmp_path / entry).read_bytes()
        (tmp_path / entry).write_bytes(data[: len(data) // 2])
    cache = SeriesCache(tmp_path)
    again = InstructPix2PixSweep("add snow", seeds=(0,), cache=cache, **kwargs).series(image)
    for a, b in zip(first[0].images, again[0].images):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert len(warnings_of(caplog)) == 1 and str(tmp_path) in warnings_of(caplog)[0]
    caplog.clear()
    InstructPix2PixSweep("add snow", seeds=(0,), cache=cache, **kwargs).series(image)  # now from the cache
    assert any("from the cache" in record.getMessage() for record in caplog.records)


def test_a_broken_entry_a_read_only_cache_cannot_remove_is_not_said_removed(tmp_path, monkeypatch, caplog):
    """A cache that may not be written said "removed, it is made again" of a broken entry it could not remove."""
    cache = SeriesCache(tmp_path)
    cache.put(key_for(0), [make_series(0)])
    (value,) = [path for path in tmp_path.rglob("*.val")]
    value.write_bytes(b"not a zip")
    cache.close()

    def may_not_write(self):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(SeriesCache, "_open", may_not_write)
    assert SeriesCache(tmp_path).get(key_for(0)) is None
    said = [line for line in warnings_of(caplog) if "could not be read" in line]
    assert len(said) == 1 and "removed" not in said[0].replace("cannot be removed", ""), said
    assert "cannot be removed" in said[0] and value.is_file()


def test_a_folder_off_is_said_again_an_hour_later(tmp_path, caplog):
    """Said once per process, the warning of a cache turned off was never said again in an app that runs for weeks:
    a disk freed and full again passed in silence."""
    from propgrad import cache as cache_module

    (tmp_path / "file").write_text("x")
    directory = tmp_path / "file" / "cache"
    SeriesCache(directory).put(key_for(0), [make_series(0)])
    SeriesCache(directory).put(key_for(0), [make_series(0)])  # the next run: not said again
    assert len(warnings_of(caplog)) == 1
    cache_module._folders_off[directory] -= cache_module.SAID_AGAIN_AFTER_S  # an hour has passed since it was said
    SeriesCache(directory).put(key_for(0), [make_series(0)])
    assert len(warnings_of(caplog)) == 2
