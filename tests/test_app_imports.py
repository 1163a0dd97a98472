"""The app's start-up imports only what its default tabs use (issue 23: the server's memory).

torchvision (sympy, triton: about 170 MB), diffusers, transformers and open_clip are imported when a run needs
them (an InstructPix2Pix edit, a hub classifier, CLIP), never at start-up.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torchvision", "diffusers", "transformers", "open_clip")


def test_building_the_app_imports_no_heavy_package_the_default_tabs_do_not_use():
    script = ("import json, sys\nfrom propgrad.app.demo import build_demo\nbuild_demo()\n"
              f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))\n")
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
