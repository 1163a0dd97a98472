"""The package's own one-line messages on stderr: a series from the cache, a wait for another process, a lost Ray
node. They are INFO and WARNING records on the ``propgrad`` loggers; the package never configures logging, the
command line does, here, for its own loggers only (a library's INFO chatter stays off)."""
from __future__ import annotations

import logging
import sys


def show_package_messages(level: int = logging.INFO) -> None:
    """Print ``propgrad.*`` log records as plain lines on stderr (once per process)."""
    logger = logging.getLogger("propgrad")
    if any(getattr(handler, "_propgrad_cli", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._propgrad_cli = True
    logger.addHandler(handler)
    logger.setLevel(level)
    # Records still propagate (pytest's caplog listens on the root logger); with no root handler, Python's
    # last-resort handler stays silent because this one exists, so each line is printed once.
