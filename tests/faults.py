"""Run a shell script inside a private mount namespace with a small tmpfs, for disk-full and read-only tests.

CI runs as root, so ``chmod`` blocks nothing; a tmpfs of a few kilobytes (ENOSPC) or one remounted read-only
(EROFS) inside ``unshare -m`` does, and disappears with the namespace. Tests skip with the reason where
``unshare`` or ``mount`` is not allowed.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def tmpfs_unavailable() -> str | None:
    """Why a tmpfs cannot be mounted in a private namespace here, or None when it can."""
    if shutil.which("unshare") is None:
        return "no `unshare` on this machine"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
                           capture_output=True, text=True)
    if probe.returncode:
        return f"cannot mount a tmpfs in a private mount namespace: {probe.stderr.strip() or probe.returncode}"
    return None


def needs_tmpfs():
    reason = tmpfs_unavailable()
    if reason:
        pytest.skip(reason)


def in_tmpfs(folder: Path, script: str, *, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) with ``$DIR`` a fresh tmpfs mounted over ``folder``, ``$PY`` this Python, the
    repository as the working folder; the mount is private to the script. The script mounts it itself
    (``mount -t tmpfs -o size=16k tmpfs "$DIR"``), so that it may remount it larger or read-only."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {"DIR": str(folder), "PY": sys.executable, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}",
           "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
           "HOME": str(folder.parent)}
    return subprocess.run(["unshare", "-m", "sh", "-c", f"set -e\n{script}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
