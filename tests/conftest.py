"""Shared fixtures for the app tests: progress, tiny uploaded models, a running server."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The servers the tests start keep the lessons unexecuted (a child running them would slow every browser test);
# tests/test_lesson_pages.py runs that step itself.
os.environ.setdefault("PROPGRAD_EXECUTE_LESSONS", "0")
# Series computed by tiny random editors must never land in the user's real cache.
if "PROPGRAD_CACHE_DIR" not in os.environ:
    os.environ["PROPGRAD_CACHE_DIR"] = tempfile.mkdtemp(prefix="propgrad-test-cache-")
    atexit.register(shutil.rmtree, os.environ["PROPGRAD_CACHE_DIR"], ignore_errors=True)  # 241 had piled up
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class NoProgress:
    """Stands in for gr.Progress when handlers are called directly."""

    def __init__(self):
        self.calls = []

    def __call__(self, fraction, desc=""):
        self.calls.append((fraction, desc))


@pytest.fixture()
def progress():
    return NoProgress()


@pytest.fixture(scope="session")
def tiny_torchscript(tmp_path_factory) -> Path:
    """A small random-weight CNN with 3 classes, saved with torch.jit.save (seeded, so reproducible)."""
    import torch
    from torch import nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 6, 3, stride=2)
            self.fc = nn.Linear(6, 3)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("models") / "tiny.pt"
    torch.jit.script(Tiny().eval()).save(str(path))
    return path


@pytest.fixture(scope="session")
def save_tiny_vit():
    """Writes a random-weight ViT classifier (cat/dog/fox) as `save_pretrained` does: a hub model's folder."""

    def save(folder: Path, **config_extra) -> Path:
        import torch
        from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

        labels = {0: "cat", 1: "dog", 2: "fox"}
        torch.manual_seed(0)
        heads = dict(id2label=labels, label2id={v: k for k, v in labels.items()})
        if {"num_labels", "id2label"} & set(config_extra):
            heads = {}
        config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=32, **heads, **config_extra)
        ViTForImageClassification(config).eval().save_pretrained(folder)
        ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
        return folder

    return save


@pytest.fixture(scope="session")
def tiny_vit_folder(save_tiny_vit, tmp_path_factory) -> Path:
    return save_tiny_vit(tmp_path_factory.mktemp("hub") / "tiny-vit")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The app launched on 127.0.0.1 in this process (shared model cache); a fresh one per test module."""
    from propgrad.app.demo import build_demo, launch

    demo = build_demo()
    port = _free_port()
    launch(demo, server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, one per test module (the browser tests skip without them)."""
    from propgrad.testing.browser import MISSING, MISSING_REASON, launch

    playwright_sync = pytest.importorskip("playwright.sync_api")
    if MISSING:
        pytest.skip(MISSING_REASON)
    with playwright_sync.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()
