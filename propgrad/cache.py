"""A disk cache of generated intervention series, shared by processes and sessions.

Diffusion series are slow to make and cheap to keep: explaining the same edit with other models
should cost no diffusion. An entry is a folder of PNG images (lossless for 8-bit RGB) and a
``meta.json`` with the property values and the parameters that made it, under a key that hashes the
input image's pixels and every parameter.

Concurrency: an entry is written into a temporary folder next to the cache and renamed into place,
so readers see a whole entry or none; :meth:`SeriesCache.lock` (``flock`` on a per-key lock file)
lets the second of two processes asking for the same series wait for the first instead of
generating it again. The cache is bounded: after each write the least recently used entries go
(``meta.json``'s modification time is touched on every read).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from .checks import is_whole_number
from .interventions.base import InterventionSeries

try:  # POSIX; elsewhere the atomic rename alone keeps entries whole
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

ENV_DIR = "PROPGRAD_CACHE_DIR"
DEFAULT_MAX_BYTES = 2 * 2**30
_FORMAT = 1


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


def _check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise ValueError(f"`key` must be a sha256 hex digest from cache_key(), got {key!r}")
    return key


class SeriesCache:
    """Intervention series on disk, keyed by :func:`cache_key`, at most ``max_bytes`` in all.

    Parameters
    ----------
    directory : str or Path, optional
        Where entries live; default :func:`default_cache_dir`.
    max_bytes : int
        Total size kept; least recently used entries are removed beyond it.

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

    def __repr__(self) -> str:
        return f"SeriesCache({str(self.directory)!r}, max_bytes={self.max_bytes})"

    def _entry(self, key: str) -> Path:
        return self.directory / _check_key(key)

    def __contains__(self, key: str) -> bool:
        return (self._entry(key) / "meta.json").is_file()

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

    def get(self, key: str) -> list[InterventionSeries] | None:
        """The cached series, or None (also for an entry removed while being read)."""
        entry = self._entry(key)
        try:
            meta = json.loads((entry / "meta.json").read_text())
            if meta.get("format") != _FORMAT:
                return None
            result = []
            for s in meta["series"]:
                images = []
                for name in s["images"]:
                    with Image.open(entry / name) as im:
                        images.append(im.convert("RGB") if im.mode != "RGB" else im.copy())
                result.append(InterventionSeries(images, np.asarray(s["values"], dtype=np.float64),
                                                 s["property_name"], label=s["label"]))
            os.utime(entry / "meta.json")  # mark as recently used
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return result

    def metadata(self, key: str) -> dict | None:
        """The entry's ``meta.json`` (parameters, sizes, creation time), or None."""
        try:
            return json.loads((self._entry(key) / "meta.json").read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, series: list[InterventionSeries], params: Mapping | None = None) -> bool:
        """Store ``series`` under ``key`` atomically; False if it alone exceeds ``max_bytes``.

        An entry already present is kept (same key, same content) and marked as used.
        """
        entry = self._entry(key)
        if not isinstance(series, (list, tuple)) or not all(isinstance(s, InterventionSeries) for s in series):
            raise TypeError("`series` must be a list of InterventionSeries")
        if key in self:
            os.utime(entry / "meta.json")
            return True
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".tmp-{key}-{os.getpid()}-{uuid.uuid4().hex}"
        try:
            tmp.mkdir()
            meta_series, total = [], 0
            for i, s in enumerate(series):
                names = []
                for j, image in enumerate(s.images):
                    name = f"{i:02d}_{j:03d}.png"
                    image.convert("RGB").save(tmp / name, format="PNG", compress_level=1)
                    total += (tmp / name).stat().st_size
                    names.append(name)
                meta_series.append({"label": s.label, "property_name": s.property_name,
                                    "values": [float(v) for v in np.asarray(s.values, dtype=np.float64)],
                                    "images": names})
            meta = {"format": _FORMAT, "key": key, "created": time.time(), "bytes": total,
                    "params": dict(params) if params is not None else None, "series": meta_series}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
            if total > self.max_bytes:
                return False
            try:
                os.rename(tmp, entry)  # atomic; fails if another process stored the same key first
            except OSError:
                if key not in self:
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.evict()
        return True

    def entries(self) -> list[tuple[str, float, int]]:
        """(key, last used time, bytes) of every entry, least recently used first."""
        found = []
        if not self.directory.is_dir():
            return found
        for path in self.directory.iterdir():
            if len(path.name) != 64 or path.name.startswith("."):
                continue
            try:
                meta_file = path / "meta.json"
                used = meta_file.stat().st_mtime
                size = int(json.loads(meta_file.read_text())["bytes"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            found.append((path.name, used, size))
        return sorted(found, key=lambda e: e[1])

    def size_bytes(self) -> int:
        """Total image bytes of all entries."""
        return sum(size for _, _, size in self.entries())

    def remove(self, key: str) -> None:
        """Remove one entry (readers in other processes then see a miss, never a partial entry)."""
        entry = self._entry(key)
        trash = self.directory / f".trash-{key}-{uuid.uuid4().hex}"
        try:
            os.rename(entry, trash)  # atomic: the entry disappears whole
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def evict(self) -> None:
        """Remove least recently used entries until the total is at most ``max_bytes``."""
        entries = self.entries()
        total = sum(size for _, _, size in entries)
        for key, _, size in entries:
            if total <= self.max_bytes:
                break
            self.remove(key)
            total -= size

    def clear(self) -> None:
        """Remove every entry."""
        for key, _, _ in self.entries():
            self.remove(key)
