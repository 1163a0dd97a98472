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
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import diskcache
import numpy as np
from PIL import Image

from .checks import is_whole_number
from .interventions.base import InterventionSeries

try:  # POSIX; elsewhere diskcache's atomic writes alone keep entries whole
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

ENV_DIR = "PROPGRAD_CACHE_DIR"
DEFAULT_MAX_BYTES = 2 * 2**30
_FORMAT = 2  # 1: a folder per entry (before diskcache)


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

    def __repr__(self) -> str:
        return f"SeriesCache({str(self.directory)!r}, max_bytes={self.max_bytes})"

    @property
    def store(self) -> diskcache.Cache:
        """The underlying :class:`diskcache.Cache`, opened (and its folder made) on first use."""
        if self._store is None:
            # Every value goes to a file of its own (min file size 0), so that the index stays small
            # and each entry's ``size`` is its real byte count, which the size limit adds up.
            # diskcache culls up to ``cull_limit`` least recently used entries per write whenever the
            # cache is over its limit, however little it is over: 1 keeps it from dropping ten.
            self._store = diskcache.Cache(str(self.directory), size_limit=self.max_bytes,
                                          eviction_policy="least-recently-used", disk_min_file_size=0,
                                          cull_limit=1)
        return self._store

    def close(self) -> None:
        """Close the index's connections (reopened on next use)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __contains__(self, key: str) -> bool:
        return _check_key(key) in self.store

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the per-key lock (across processes) while checking for and making one entry."""
        lock_dir = self.directory / ".locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / f"{_check_key(key)}.lock", "a+b") as f:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _open(self, key: str) -> zipfile.ZipFile | None:
        # A miss, an entry evicted while being opened, or one of another format all read as None.
        handle = self.store.get(_check_key(key), read=True)  # marks the entry as recently used
        if handle is None:
            return None
        try:
            return zipfile.ZipFile(io.BytesIO(handle.read()))
        except (OSError, zipfile.BadZipFile):
            return None
        finally:
            handle.close()

    def get(self, key: str) -> list[InterventionSeries] | None:
        """The cached series, or None (also for an entry removed while being read)."""
        archive = self._open(key)
        if archive is None:
            return None
        try:
            with archive:
                meta = json.loads(archive.read("meta.json"))
                if meta.get("format") != _FORMAT:
                    return None
                result = []
                for s in meta["series"]:
                    images = []
                    for name in s["images"]:
                        with Image.open(io.BytesIO(archive.read(name))) as im:
                            images.append(im.convert("RGB") if im.mode != "RGB" else im.copy())
                    result.append(InterventionSeries(images, np.asarray(s["values"], dtype=np.float64),
                                                     s["property_name"], label=s["label"]))
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
            return None
        return result

    def metadata(self, key: str) -> dict | None:
        """The entry's ``meta.json`` (parameters, sizes, creation time), or None."""
        archive = self._open(key)
        if archive is None:
            return None
        try:
            with archive:
                return json.loads(archive.read("meta.json"))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None

    def put(self, key: str, series: list[InterventionSeries], params: Mapping | None = None) -> bool:
        """Store ``series`` under ``key`` atomically; False if it alone exceeds ``max_bytes``.

        An entry already present is kept (same key, same content) and marked as used.
        """
        _check_key(key)
        if not isinstance(series, (list, tuple)) or not all(isinstance(s, InterventionSeries) for s in series):
            raise TypeError("`series` must be a list of InterventionSeries")
        handle = self.store.get(key, read=True)  # a hit marks the entry as recently used
        if handle is not None:
            handle.close()
            return True
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
        # add, not set: of two processes storing the same key, the first one's entry stays.
        self.store.add(key, blob)
        # One eviction per write does not suffice after a large entry or a lowered limit.
        while self.store.volume() > self.max_bytes:
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
        rows = self.store._sql("SELECT key, access_time, size FROM Cache ORDER BY access_time").fetchall()
        return [(str(k), float(t), int(s)) for k, t, s in rows]

    def size_bytes(self) -> int:
        """Bytes on disk: the entries and their index (what the size limit bounds)."""
        return int(self.store.volume()) if self.directory.is_dir() else 0

    def remove(self, key: str) -> None:
        """Remove one entry (readers in other processes then see a miss, never a partial entry)."""
        self.store.delete(_check_key(key))

    def clear(self) -> None:
        """Remove every entry."""
        self.store.clear()
