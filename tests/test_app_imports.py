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


def _answer_of(script: str):
    """Run ``script`` in a fresh interpreter (what it imports is its own) and return the JSON of its last line."""
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_building_the_app_imports_no_heavy_package_the_default_tabs_do_not_use():
    assert _answer_of("import json, sys\nfrom propgrad.app.demo import build_demo\nbuild_demo()\n"
                      f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))\n") == []


def test_the_first_tabs_default_run_imports_no_scipy_stats():
    """scipy.stats held 49 MB once imported; the Benjamini-Hochberg adjustment and the gradualness check's rank
    correlation are computed without it (tests/test_statistics.py compares their numbers with scipy's)."""
    assert _answer_of("import json, sys\nfrom propgrad.app.tabs import edit\nedit.default_result()\n"
                      "print(json.dumps([name for name in ('scipy.stats',) if name in sys.modules]))\n") == []


def test_the_server_caps_mallocs_arenas_and_freezes_what_start_up_made():
    tuned, before, not_yet, frozen, tracked = _answer_of(
        "import gc, json\nfrom propgrad.app import memory\n"
        "tuned = memory.tune_allocator()\nbefore = gc.get_freeze_count()\nnot_yet = memory.freeze()\n"
        "frozen = memory.freeze_start_up()\n"
        "print(json.dumps([tuned, before, not_yet, frozen, len(gc.get_objects())]))\n")
    assert not_yet == 0  # only a server's launch turns freezing on
    import platform

    assert tuned is (platform.libc_ver()[0] == "glibc" and "MALLOC_ARENA_MAX" not in os.environ)  # glibc's mallopt; elsewhere nothing to tune
    assert before == 0 and frozen > 1000
    assert tracked < frozen  # later collections walk only what was made after the freeze


def test_a_launch_that_does_not_block_tunes_malloc_but_freezes_nothing():
    """A test session or a notebook launches without blocking: what it frees must stay collectable. (A blocking
    launch, ``python app.py``, freezes before the defaults start; the script cannot observe it from outside.)"""
    tuned, frozen = _answer_of(
        "import gc, json\nimport gradio as gr\nfrom propgrad.app import demo, memory\n"
        "calls = []\noriginal = memory.tune_allocator\n"
        "memory.tune_allocator = lambda: calls.append(1) or original()\n"
        "with gr.Blocks() as blocks:\n    gr.Textbox()\n"
        "demo.launch(blocks, prevent_thread_lock=True, server_name='127.0.0.1', mcp_server=False)\n"
        "blocks.close()\nprint(json.dumps([len(calls), gc.get_freeze_count()]))\n")
    assert tuned == 1 and frozen == 0


def test_the_report_writer_process_does_not_import_torch():
    """The app's second process only draws: asking whether a result was a TrainingDynamics imported the lesion
    models, and with them torch (the writer held 580 MB instead of about 100)."""
    assert _answer_of(
        "import json, tempfile\nfrom pathlib import Path\nimport numpy as np\nfrom PIL import Image\n"
        "import propgrad as pg\nfrom propgrad.app import results, writer\n"
        "class Mean:\n    name, output_names, output_kind = 'mean', ['dark', 'bright'], 'probability'\n"
        "    def predict(self, images):\n"
        "        m = np.array([np.asarray(i, dtype=float).mean() / 255 for i in images])\n"
        "        return np.stack([1 - m, m], axis=1)\n"
        "image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8))\n"
        "result = pg.explain(image, pg.ParametricEdit('darken', steps=5), [Mean()], n_permutations=50, seed=0)\n"
        "with tempfile.TemporaryDirectory() as folder:\n"  # a folder of its own, gone after (one was left each run)
        "    paths = writer.call(results.write_reports, result, Path(folder) / 'run', {}, {})\n"
        "print(json.dumps([sorted(paths), writer.call(eval, \"'torch' in __import__('sys').modules\")]))\n"
    ) == [["csv", "gradualness", "html", "json", "table"], False]
