"""How this server is run: limits from the environment, and whether visitors may name the server's files.

Limits are read once at import. Where the app serves is recorded by ``propgrad.app.demo.launch``
(``configure_serving``); until then nobody may name the server's files, so an app launched some other way
(a notebook, a container on 0.0.0.0) is safe by default.
"""
from __future__ import annotations

import ipaddress
import os

CONCURRENCY = int(os.environ.get("PROPGRAD_CONCURRENCY", "2"))
# Per uploaded file: a hosted Space's default; who runs the app on their own machine may raise it (a ResNet-18
# exported as .pt2 is 45 MB). The command line's --model-file reads any size.
MAX_UPLOAD_ENV = "PROPGRAD_MAX_UPLOAD_MB"
MAX_UPLOAD_MB = int(os.environ.get(MAX_UPLOAD_ENV, "25"))
MAX_FILE_SIZE = f"{MAX_UPLOAD_MB}mb"
QUEUE_SIZE = 64
# The visitors' runs of the last hour (:mod:`.folders`): the oldest go first while they hold more than this, or while
# the disk has less than MIN_FREE_MB free.
RESULTS_MAX_MB = int(os.environ.get("PROPGRAD_RESULTS_MAX_MB", "2048"))
MIN_FREE_MB = int(os.environ.get("PROPGRAD_MIN_FREE_MB", "512"))
# Longest side fed to InstructPix2Pix (its training resolution); edits at 512 px take minutes on a CPU.
IP2P_MAX_SIDE = int(os.environ.get("PROPGRAD_IP2P_MAX_SIDE", "512"))
# The operator's opt-in to local model folders and checkpoint paths on a server others can reach.
ALLOW_LOCAL_PATHS_ENV = "PROPGRAD_ALLOW_LOCAL_PATHS"

_serving: dict = {"host": None, "share": False}


def configure_serving(host: str | None, share: bool = False) -> None:
    """Record where the app serves (None: not known, so nobody may name server paths).

    A loopback address without a share link is this machine only.
    """
    _serving.update(host=host, share=bool(share))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def local_paths_allowed() -> bool:
    """Whether hub-model folders and CLIP checkpoint paths on the server's disk may be named.

    Only when nobody else can reach the app (a loopback address, no share link, not a Space), or when
    the operator sets ``PROPGRAD_ALLOW_LOCAL_PATHS=1``: otherwise typing '/etc' would tell a visitor
    which of the server's paths exist.
    """
    if os.environ.get(ALLOW_LOCAL_PATHS_ENV, "").strip().lower() in ("1", "true", "yes"):
        return True
    if os.environ.get("SPACE_ID"):
        return False
    return _serving["host"] is not None and _is_loopback(_serving["host"]) and not _serving["share"]
