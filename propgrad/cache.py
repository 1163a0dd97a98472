"""A disk cache of generated intervention series, shared by processes and sessions.

Diffusion series are slow to make and cheap to keep: explaining the same edit with other models
should cost no diffusion. An entry is one uncompressed zip of PNG images (lossless for 8-bit RGB)
and a ``meta.json`` with the property values and the parameters that made it, under a key that
hashes the input image's pixels and every parameter.

Storage, size bound and eviction are :mod:`diskcache`'s (SQLite index, values in files, writes
atomic and safe across threads and processes, least recently used entries culled beyond the size
limit). What stays here: the key, the entry's format (zip and JSON, so that opening a cache never
unpickles anything) and :meth:`SeriesCache.lock`, an ``flock`` per key that lets the second of two
processes asking for the same series wait for the first instead of generating it again; the kernel
drops it when its holder dies, which diskcache's own lock (an entry with an expiry) cannot promise.

The cache heals rather than fails, since everything in it can be made again:

- an index (``cache.db``) SQLite cannot read is moved aside (``cache.db.broken-<time>``) and rebuilt, with one
  warning naming the folder;
- an entry that fails to load, or that holds another key's series (a value file copied over another), is removed,
  so the caller makes it again once (instead of on every run);
- value files the index no longer lists (after a rebuilt or emptied index) are removed once they are older than
  :data:`ORPHAN_AGE_S` (a younger one may be another process's entry being written);
- a full disk, a read-only folder or one that cannot be made (a file in its way) stops the cache's writes for this
  process with one warning: the series is still made and explained, just not kept. Entries already there are
  still read, through a read-only connection to the index that records no use;
- a folder removed during a run is made again, with a new index, before the next entry is stored.

One line (INFO on the ``propgrad.cache`` logger; the command line shows it) says when a series came from the
cache and when this process waits for another one that is making the same series.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import logging
import os
import sqlite3
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import diskcache
import numpy as np
from PIL import Image

from .checks import is_whole_number
from .disk import READ_ONLY, no_room
from .interventions.base import InterventionSeries

try:  # POSIX; elsewhere diskcache's atomic writes alone keep entries whole
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

ENV_DIR = "PROPGRAD_CACHE_DIR"
DEFAULT_MAX_BYTES = 2 * 2**30
_FORMAT = 2  # 1: a folder per entry (before diskcache)
INDEX = "cache.db"
# A value file the index does not list is removed only when older than this: a younger one may be an entry another
# process has written and not yet indexed (diskcache writes the file first, then the row).
ORPHAN_AGE_S = 600.0
# Where the folder (or its lock folder) cannot be made: a file in its way, a parent that is a file, /proc.
FOLDER_FAULTS = {errno.ENOTDIR, errno.ENOENT, errno.EEXIST}
log = logging.getLogger("propgrad.cache")
# When each folder's warning was last said: once, not per SeriesCache (a study builds one per intervention), and
# again an hour later (the app lives for weeks: a disk freed and full again was never said again).
_folders_off: dict[Path, float] = {}
SAID_AGAIN_AFTER_S = 3600.0


def default_cache_dir() -> Path:
    """``$PROPGRAD_CACHE_DIR``, else ``~/.cache/propgrad``."""
    env = os.environ.get(ENV_DIR)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "propgrad"


def image_digest(image: Image.Image) -> str:
    """sha256 of an image's pixels, mode and size (not of a file, so re-encoding does not matter).

    Examples
    --------
    >>> image_digest(Image.new("RGB", (2, 2)))[:12]
    '86a6a18ed5e7'
    """
    if not isinstance(image, Image.Image):
        raise TypeError(f"`image` must be a PIL image, got {type(image).__name__}")
    h = hashlib.sha256()
    h.update(f"{image.mode}:{image.size[0]}x{image.size[1]}:".encode())
    h.update(image.tobytes())
    return h.hexdigest()


def cache_key(image: Image.Image, params: Mapping) -> str:
    """Key of the series made from ``image`` with ``params`` (model id, instruction, scales, seed...).

    ``params`` must be JSON-serialisable; key order does not matter.

    Examples
    --------
    >>> k = cache_key(Image.new("RGB", (2, 2)), {"model": "m", "seed": 0})
    >>> len(k), k == cache_key(Image.new("RGB", (2, 2)), {"seed": 0, "model": "m"})
    (64, True)
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"`params` must be a mapping, got {type(params).__name__}")
    try:
        blob = json.dumps({"image": image_digest(image), "params": params}, sort_keys=True)
    except TypeError as e:
        raise TypeError(f"`params` must be JSON-serialisable: {e}") from None
    return hashlib.sha256(blob.encode()).hexdigest()


def cached_series(cache: SeriesCache | None, image: Image.Image, seeds, params, make, progress=None
                  ) -> list[InterventionSeries]:
    """One series per seed, in the order of ``seeds``: from ``cache`` where it has them, the rest made by
    ``make(missing_seeds)`` (one call, a series per missing seed, in order) and stored.

    The cache-and-lock loop every generated intervention shares (InstructPix2Pix's guidance sweep, the guided
    editors): ``params(seed)`` describes how a series is made (JSON-able; with ``image`` it is the key, and it is
    stored with the entry). Every key is locked, in a fixed order so that two processes never wait on each other's
    keys, while the cache is read and the missing series are made, so that a second process asking for the same
    series waits for the first instead of making it again. ``cache=None`` makes everything and keeps nothing; an
    exception from ``make`` (a cancelled run) stores nothing. ``progress(1.0, "loaded from cache")`` when nothing
    was made.
    """
    seeds = list(seeds)
    keys = {seed: cache_key(image, params(seed)) for seed in seeds}
    found: dict[int, InterventionSeries] = {}
    with contextlib.ExitStack() as stack:
        if cache is not None:
            for seed in sorted(seeds, key=keys.get):
                stack.enter_context(cache.lock(keys[seed]))
            for seed in seeds:
                hit = cache.get(keys[seed])
                if hit:
                    found[seed] = hit[0]
        missing = [seed for seed in seeds if seed not in found]
        if missing:
            for seed, series in zip(missing, make(missing)):
                found[seed] = series
                if cache is not None:
                    cache.put(keys[seed], [series], params(seed))
        elif progress is not None:
            progress(1.0, "loaded from cache")
    return [found[seed] for seed in seeds]


def _check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise ValueError(f"`key` must be a sha256 hex digest from cache_key(), got {key!r}")
    return key


class SeriesCache:
    """Intervention series on disk, keyed by :func:`cache_key`, at most about ``max_bytes`` in all.

    Parameters
    ----------
    directory : str or Path, optional
        Where entries live; default :func:`default_cache_dir`.
    max_bytes : int
        Size limit of the whole cache (entries and their SQLite index); least recently used entries
        are removed beyond it.

    Examples
    --------
    >>> cache = SeriesCache("/tmp/propgrad-cache")  # doctest: +SKIP
    >>> key = cache_key(image, {"model": "timbrooks/instruct-pix2pix", "seed": 0})  # doctest: +SKIP
    >>> with cache.lock(key):  # doctest: +SKIP
    ...     series = cache.get(key) or make_series()
    ...     cache.put(key, series)
    """

    def __init__(self, directory: str | os.PathLike | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        if not is_whole_number(max_bytes, 1):
            raise ValueError(f"`max_bytes` must be a positive integer, got {max_bytes!r}")
        self.directory = Path(directory).expanduser() if directory is not None else default_cache_dir()
        self.max_bytes = int(max_bytes)
        self._store: diskcache.Cache | None = None
        self._index_stat: os.stat_result | None = None
        self._disabled = False
        self.orphans = 0  # value files not in the index and too young to remove (see ORPHAN_AGE_S)

    def __repr__(self) -> str:
        return f"SeriesCache({str(self.directory)!r}, max_bytes={self.max_bytes})"

    @property
    def store(self) -> diskcache.Cache:
        """The underlying :class:`diskcache.Cache`, opened (and its folder made) on first use.

        An index SQLite cannot read is moved aside and rebuilt here; value files it no longer lists are swept.
        """
        if self._store is None:
            try:
                self._store = self._open()
            except sqlite3.DatabaseError as error:
                if not _malformed(error):
                    raise
                self._move_index_aside(error)
                self._store = self._open()
            self._index_stat = _stat_or_none(self.directory / INDEX)
            self._sweep_orphans()
        return self._store

    def _index_replaced(self) -> bool:
        """Whether the open index is no longer the folder's (the folder removed, ``rm -rf``): an entry stored through
        it would be lost, its value file in a new folder that no index lists."""
        return self._store is not None and not _same_file(self._index_stat, _stat_or_none(self.directory / INDEX))

    def _open(self) -> diskcache.Cache:
        # Every value goes to a file of its own (min file size 0), so that the index stays small
        # and each entry's ``size`` is its real byte count, which the size limit adds up.
        # diskcache culls up to ``cull_limit`` least recently used entries per write whenever the
        # cache is over its limit, however little it is over: 1 keeps it from dropping ten.
        return diskcache.Cache(str(self.directory), size_limit=self.max_bytes, eviction_policy="least-recently-used",
                               disk_min_file_size=0, cull_limit=1)

    def _move_index_aside(self, error: Exception) -> None:
        aside = self.directory / f"{INDEX}.broken-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
        for suffix in ("", "-wal", "-shm"):
            source = self.directory / f"{INDEX}{suffix}"
            if source.exists():
                os.replace(source, aside.with_name(aside.name + suffix))
        log.warning("series cache %s: the index could not be read (%s); moved aside to %s and rebuilt, so cached "
                    "series are made again as they are needed", self.directory, error, aside.name)

    def _sweep_orphans(self) -> None:
        """Remove value files the index does not list (and that no writer can still be indexing)."""
        listed = {str(name) for (name,) in self._store._sql("SELECT filename FROM Cache WHERE filename IS NOT NULL")}
        cutoff, removed, kept = time.time() - ORPHAN_AGE_S, 0, 0
        for path in self.directory.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*.val"):
            if str(path.relative_to(self.directory)) in listed:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
                else:
                    kept += 1
            except OSError:  # removed by another process meanwhile, or a read-only folder
                continue
        if removed:
            log.warning("series cache %s: removed %d value file%s the index no longer listed", self.directory,
                        removed, "s" if removed != 1 else "")
        self.orphans = kept

    def _off(self, error: Exception, what: str) -> None:
        """Turn the cache's writes off for this process: a full disk, a read-only folder or one that cannot be made
        must not stop the work."""
        said = _folders_off.get(self.directory)
        if not self._disabled and (said is None or time.monotonic() - said >= SAID_AGAIN_AFTER_S):
            if getattr(error, "errno", None) in FOLDER_FAULTS or not self.directory.is_dir():
                reason, what = f"the folder cannot be made ({error})", "series are made without it"
                advice = f"set {ENV_DIR} to a folder that can be made and written"
            elif getattr(error, "errno", None) == errno.ENOSPC or "full" in str(error):
                reason, advice = "no space left", f"free some space or set {ENV_DIR} to another folder"
            elif (self.directory / INDEX).is_dir():  # the folder may be written: "a folder you may write" misled
                reason = f"its index {INDEX} is a folder, which the cache cannot open ({error})"
                advice = f"move that folder out of the way (or set {ENV_DIR} to another folder)"
            else:
                reason, advice = f"cannot write ({error})", f"set {ENV_DIR} to a folder you may write"
            log.warning("series cache %s: %s; %s, and nothing more is stored in this run. To keep series, %s",
                        self.directory, reason, what, advice)
            _folders_off[self.directory] = time.monotonic()
        self._disabled = True

    def _safely(self, action, default, what: str, writes: bool = False):
        """Run one index operation: heal a malformed index once; on a full or read-only disk, return ``default`` and
        write nothing more in this process (reads are still tried: a read-only index may come back)."""
        if self._disabled and writes:
            return default
        for attempt in (1, 2):
            try:
                return action()
            except sqlite3.DatabaseError as error:
                if _malformed(error) and attempt == 1:
                    self.close()
                    self._move_index_aside(error)
                    continue
                if no_room(error) or _cannot_write(error):
                    self._off(error, what)
                    return default
                raise
            except OSError as error:
                if _turns_off(error):
                    self._off(error, what)
                    return default
                raise
        return default

    def close(self) -> None:
        """Close the index's connections (reopened on next use)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __contains__(self, key: str) -> bool:
        _check_key(key)
        return bool(self._safely(lambda: key in self.store, False, "nothing is read from it"))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the per-key lock (across processes) while checking for and making one entry.

        Waiting for another process is said in one line; where no lock file can be made (a full disk, a
        read-only folder) the work goes on without the lock and without the cache.
        """
        _check_key(key)
        try:
            lock_dir = self.directory / ".locks"
            lock_dir.mkdir(parents=True, exist_ok=True)
            handle = open(lock_dir / f"{key}.lock", "a+b")
        except OSError as error:
            if not _turns_off(error):
                raise
            self._off(error, "series it holds are still read")
            yield
            return
        with handle:
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    log.info("series cache %s: waiting for another process making the same series (%s)",
                             self.directory, key[:12])
                    started = time.perf_counter()
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                    log.info("series cache %s: waited %.1f s for series %s", self.directory,
                             time.perf_counter() - started, key[:12])
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _read(self, key: str) -> bytes | None:
        # A miss, or an entry evicted while being opened, reads as None.
        def read():
            handle = self.store.get(_check_key(key), read=True)  # marks the entry as recently used
            if handle is None:
                return None
            with handle:
                return handle.read()

        blob = None if self._disabled else self._safely(read, None, "series it holds are still read")
        # Recording the use is a write: where writes fail (now or before), the entry is read without it.
        return self._read_without_writing(key) if blob is None and self._disabled else blob

    def _read_without_writing(self, key: str) -> bytes | None:
        """An entry's value, found through a read-only connection to the index (None where there is none)."""
        index = (self.directory / INDEX).absolute().as_uri()
        # mode=ro sees other processes' writes but needs the write-ahead log's shared memory file, which a read-only
        # folder may lack; immutable=1 needs nothing (a stale row reads as a miss or fails the key check in get()).
        for options in ("mode=ro", "immutable=1"):
            try:
                with contextlib.closing(sqlite3.connect(f"{index}?{options}", uri=True)) as connection:
                    row = connection.execute("SELECT filename FROM Cache WHERE key = ? AND raw = 1", (key,)).fetchone()
                break
            except sqlite3.Error:
                continue
        else:
            return None
        try:
            return (self.directory / row[0]).read_bytes() if row and row[0] else None
        except OSError:
            return None

    def _archive(self, key: str) -> zipfile.ZipFile | None:
        blob = self._read(key)
        if blob is None:
            return None
        try:
            return zipfile.ZipFile(io.BytesIO(blob))
        except (OSError, zipfile.BadZipFile) as error:
            self._drop(key, error)
            return None

    def _drop(self, key: str, error: Exception) -> None:
        """Remove an entry that fails to load, so that it is made again once, not on every run."""
        # Removed first, then said: a cache that may not be written keeps the entry (it said "removed" of it).
        removed = self._safely(lambda: self.store.delete(key) or True, False, "the broken entry stays", writes=True)
        log.warning("series cache %s: entry %s could not be read (%s: %s); %s", self.directory, key[:12],
                    type(error).__name__, error, "removed, it is made again" if removed else
                    "it cannot be removed (nothing is written to this cache now), and its series is made without it")

    def get(self, key: str) -> list[InterventionSeries] | None:
        """The cached series, or None (a miss, an entry removed while being read, or a broken entry, removed)."""
        archive = self._archive(key)
        if archive is None:
            return None
        try:
            with archive:
                meta = json.loads(archive.read("meta.json"))
                if meta.get("format") != _FORMAT:
                    return None
                _check_holds(meta, key)
                result = []
                for s in meta["series"]:
                    images = []
                    for name in s["images"]:
                        with Image.open(io.BytesIO(archive.read(name))) as im:
                            images.append(im.convert("RGB") if im.mode != "RGB" else im.copy())
                    result.append(InterventionSeries(images, np.asarray(s["values"], dtype=np.float64),
                                                     s["property_name"], label=s["label"]))
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            self._drop(key, error)
            return None
        log.info("series cache %s: series %s from the cache", self.directory, key[:12])
        return result

    def metadata(self, key: str) -> dict | None:
        """The entry's ``meta.json`` (parameters, sizes, creation time), or None."""
        archive = self._archive(key)
        if archive is None:
            return None
        try:
            with archive:
                meta = json.loads(archive.read("meta.json"))
                _check_holds(meta, key)
                return meta
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None

    def put(self, key: str, series: list[InterventionSeries], params: Mapping | None = None) -> bool:
        """Store ``series`` under ``key`` atomically; False if it alone exceeds ``max_bytes``.

        An entry already present is kept (same key, same content) and marked as used.
        """
        _check_key(key)
        if not isinstance(series, (list, tuple)) or not all(isinstance(s, InterventionSeries) for s in series):
            raise TypeError("`series` must be a list of InterventionSeries")
        if self._read(key) is not None:  # a hit marks the entry as recently used
            return True
        if self._disabled:
            return False
        # The whole entry is built in memory first: a failed encoding stores nothing.
        buffer, meta_series, total = io.BytesIO(), [], 0
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for i, s in enumerate(series):
                names = []
                for j, image in enumerate(s.images):
                    name = f"{i:02d}_{j:03d}.png"
                    png = io.BytesIO()
                    image.convert("RGB").save(png, format="PNG", compress_level=1)
                    archive.writestr(name, png.getvalue())
                    total += png.tell()
                    names.append(name)
                meta_series.append({"label": s.label, "property_name": s.property_name,
                                    "values": [float(v) for v in np.asarray(s.values, dtype=np.float64)],
                                    "images": names})
            meta = {"format": _FORMAT, "key": key, "created": time.time(), "bytes": total,
                    "params": dict(params) if params is not None else None, "series": meta_series}
            archive.writestr("meta.json", json.dumps(meta, indent=1, default=str))
        blob = buffer.getvalue()
        if len(blob) > self.max_bytes:
            return False
        if self._index_replaced():
            self.close()  # reopened below: the folder and an index made again
        # add, not set: of two processes storing the same key, the first one's entry stays.
        if not self._safely(lambda: self.store.add(key, blob) or True, False, "this series is not kept", writes=True):
            return False
        # One eviction per write does not suffice after a large entry or a lowered limit.
        while self._safely(lambda: self.store.volume(), 0, "nothing is evicted") > self.max_bytes:
            older = [k for k, _, _ in self.entries() if k != key]
            if not older:
                break
            self.remove(older[0])
        return True

    def entries(self) -> list[tuple[str, float, int]]:
        """(key, last used time, bytes) of every entry, least recently used first."""
        if not self.directory.is_dir():
            return []
        # diskcache keeps these columns for its own eviction but has no public call that lists them.
        rows = self._safely(lambda: self.store._sql("SELECT key, access_time, size FROM Cache ORDER BY access_time"
                                                    ).fetchall(), [], "nothing is listed")
        return [(str(k), float(t), int(s)) for k, t, s in rows]

    def size_bytes(self) -> int:
        """Bytes on disk: the entries and their index (what the size limit bounds)."""
        return int(self._safely(lambda: self.store.volume(), 0, "nothing is counted")) if self.directory.is_dir() \
            else 0

    def remove(self, key: str) -> None:
        """Remove one entry (readers in other processes then see a miss, never a partial entry)."""
        _check_key(key)
        self._safely(lambda: self.store.delete(key), None, "nothing is removed")

    def clear(self) -> None:
        """Remove every entry."""
        self._safely(lambda: self.store.clear(), None, "nothing is removed")


def _malformed(error: Exception) -> bool:
    """SQLite's words for an index file it cannot read (cut short, overwritten, not a database)."""
    text = str(error).lower()
    return "malformed" in text or "not a database" in text or "file is encrypted" in text


def _check_holds(meta: dict, key: str) -> None:
    # A value file copied over another's (by hand, a partial restore) must not pass for that entry.
    if meta.get("key") != key:
        raise ValueError(f"it holds series {str(meta.get('key'))[:12]}, not this one")


def _turns_off(error: OSError) -> bool:
    """A full disk, a read-only folder, or a folder that cannot be made: the cache is turned off, the work goes on."""
    return no_room(error) or error.errno in READ_ONLY | FOLDER_FAULTS


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _same_file(a: os.stat_result | None, b: os.stat_result | None) -> bool:
    return a is not None and b is not None and os.path.samestat(a, b)


def _cannot_write(error: Exception) -> bool:
    text = str(error).lower()
    return "readonly" in text or "read-only" in text or "unable to open database" in text
