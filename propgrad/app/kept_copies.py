"""The copies of bundled files that gradio serves the page from, put back where something else removed them.

gradio copies every file a page shows before anyone asks (the examples' pictures, the first tab's cat, the turntable's
frames) into its temp folder once, when the app is built, and the page names those copies for as long as the server
runs. A cleaner of old temporary files (systemd-tmpfiles ages /tmp by ten days on some systems), or an administrator,
may remove them: the boxes then showed a broken picture, and Run on an example failed with "the server could not
read one of the inputs" for every visitor, picking the example again included, until the server was restarted.

:func:`remember` finds, once the app is built, which bundled file (under :data:`propgrad.paths.ASSETS`) each kept copy
is; :func:`put_back` copies back those that are gone. The server's upkeep does it every few seconds
(:mod:`propgrad.app.upkeep`), and a run that failed on an input at once.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path

from ..errors import in_words
from .failing import Failing

log = logging.getLogger("propgrad.app")

_LOCK = threading.Lock()
_COPIES: dict[Path, Path] = {}  # gradio's copy -> the bundled file it was made from
_FAILING = Failing()  # copies that could not be put back, each said once while it stays so


def remember(demo) -> dict[Path, Path]:
    """Note which bundled file each of ``demo``'s kept copies was made from (gradio names a copy's folder after a hash
    of the file's bytes, and keeps its name); returns them, copy -> bundled file. Copies of anything else (a file a
    visitor uploaded) are not gradio's to keep for good, nor ours to put back."""
    from gradio.processing_utils import hash_file

    from ..paths import ASSETS

    kept = {Path(path) for block in demo.blocks.values() for path in getattr(block, "keep_in_cache", ())}
    by_name: dict[str, list[Path]] = {}
    for source in ASSETS.rglob("*"):
        if source.is_file():
            by_name.setdefault(source.name, []).append(source)
    found = {}
    for copy in kept:
        for source in by_name.get(copy.name, ()):
            if hash_file(source) == copy.parent.name:
                found[copy] = source
                break
    with _LOCK:
        _COPIES.update(found)
    return found


def put_back() -> list[str]:
    """Copy back every remembered file whose copy is gone; the names of those put back, sorted."""
    with _LOCK:
        restored = []
        for copy, source in _COPIES.items():
            if copy.exists():
                continue
            try:
                if copy.parent.is_symlink():  # not gradio's folder any more: nothing is written through it
                    raise OSError(f"{copy.parent} is a symbolic link")
                copy.parent.mkdir(parents=True, exist_ok=True)
                # Written under another name and renamed: a page asking for it meanwhile never gets half a file.
                handle, staging = tempfile.mkstemp(dir=copy.parent, prefix=f".{copy.name}.")
                os.close(handle)
                try:
                    shutil.copy2(source, staging)
                    os.replace(staging, copy)
                finally:
                    Path(staging).unlink(missing_ok=True)
                restored.append(copy.name)
                _FAILING.worked(copy)
            except OSError as error:
                if _FAILING.first(copy):
                    log.warning("could not put back gradio's copy of %s (%s): %s", source.name, copy, error)
    restored.sort()
    if restored:
        log.warning("gradio's copies of %s were gone (removed by something else, such as a cleaner of old temporary "
                    "files): put back", in_words(restored, most=5, quote=str))
    return restored
