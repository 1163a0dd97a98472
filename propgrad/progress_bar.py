"""A tqdm progress bar behind the package's ``progress(fraction, message)`` callbacks (command line only)."""
from __future__ import annotations

import contextlib
import os
import sys

# huggingface_hub's switch for its bars (transformers reads it too); the package also applies it to diffusers.
HUB_BARS_ENV = "HF_HUB_DISABLE_PROGRESS_BARS"


def library_bars_disabled() -> bool:
    """Whether the libraries' own progress bars are switched off (``HF_HUB_DISABLE_PROGRESS_BARS=1``; the command
    line's ``--no-progress`` sets it)."""
    return os.environ.get(HUB_BARS_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def quiet_diffusers() -> None:
    """Apply :func:`library_bars_disabled` to diffusers ("Loading pipeline components..." and the like), which has
    no environment switch of its own. Only touches diffusers when it is imported (importing it takes seconds):
    the pipeline loaders call this right before loading."""
    if library_bars_disabled() and "diffusers" in sys.modules:
        import diffusers.utils.logging

        diffusers.utils.logging.disable_progress_bar()


@contextlib.contextmanager
def fraction_bar(description: str, enabled: bool = True):
    """Yield a ``progress(fraction, message)`` callable that draws a percentage bar on stderr.

    tqdm shows the elapsed time, the rate and the time left; the message becomes the bar's postfix.
    Disabled (or without a terminal), the callable does nothing.

    Examples
    --------
    >>> with fraction_bar("explain", enabled=False) as progress:
    ...     progress(0.5, "half way")
    """
    if not enabled:
        yield lambda fraction, message="": None
        return
    from tqdm import tqdm

    bar = tqdm(total=100, desc=description, unit="%", file=sys.stderr, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]{postfix}")  # postfix: ", message"

    def progress(fraction: float, message: str = "") -> None:
        target = int(round(100 * min(max(float(fraction), 0.0), 1.0)))
        if target > bar.n:
            bar.update(target - bar.n)
        if message:
            bar.set_postfix_str(message[:60], refresh=True)

    try:
        yield progress
    finally:
        bar.close()
