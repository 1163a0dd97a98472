"""Start-up time, default patch example latency and resident memory of ``python app.py``.

Figures (issue: ready < 60 s on 2 cores, patch default < 5 s after warm-up, RSS after start < 1.5 GB):
1. seconds from launching ``python app.py`` until ``GET /`` answers 200, versus a minimal gradio app
   (one textbox) started the same way in the same run (ratio = app / minimal);
2. the patch tab's default example through the API (gradio_client): one warm-up call, then the median
   of three timed calls, versus the 5 s budget;
3. resident memory (RSS) of the server process right after start and after the example runs.

Run: ``python bench/startup.py`` from the repository root. Ends with ``name: value`` lines.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MINIMAL = "import gradio as gr\nwith gr.Blocks() as demo:\n    gr.Textbox()\ndemo.launch()\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(args: list[str], port: int) -> tuple[subprocess.Popen, float]:
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1",
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{args} exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                if response.status == 200:
                    return process, time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
        if time.perf_counter() - started > 300:
            process.kill()
            raise RuntimeError("no answer within 300 s")


def _rss_mb(process: subprocess.Popen) -> float:
    proc = psutil.Process(process.pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def patch_default_payload() -> list:
    """The patch tab's default inputs, exactly as the UI fills them in."""
    from gradio_client import handle_file

    from propgrad.app.tabs.patch import patch_defaults

    d = patch_defaults()
    return [handle_file(d["image"]), d["patch_names"], [], d["x"], d["y"], d["scale"], d["steps"], 0, d["models"],
            [], 224, "0.485, 0.456, 0.406", "0.229, 0.224, 0.225", "", "", 10000, 0.01]


def main() -> None:
    # 1. Minimal gradio app: the floor any gradio app pays on this machine.
    with tempfile.TemporaryDirectory() as folder:
        minimal_script = Path(folder) / "minimal.py"
        minimal_script.write_text(MINIMAL)
        process, minimal_s = _start([sys.executable, str(minimal_script)], _free_port())
        _stop(process)
    print(f"minimal gradio app ready in {minimal_s:.1f} s")

    # 2. The app itself.
    port = _free_port()
    process, ready_s = _start([sys.executable, "app.py"], port)
    try:
        rss_start = _rss_mb(process)
        print(f"python app.py ready in {ready_s:.1f} s ({ready_s / minimal_s:.2f} x the minimal app); "
              f"RSS after start {rss_start:.0f} MB")
        from gradio_client import Client

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        payload = patch_default_payload()
        started = time.perf_counter()
        client.predict(*payload, api_name="/patch")
        warmup_s = time.perf_counter() - started
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            result = client.predict(*payload, api_name="/patch")
            timings.append(time.perf_counter() - started)
        assert "p = " in result[0], result[0]
        example_s = statistics.median(timings)
        rss_after = _rss_mb(process)
        print(f"patch default example: warm-up {warmup_s:.1f} s, then {', '.join(f'{t:.2f}' for t in timings)} s "
              f"(median {example_s:.2f} s = {example_s / 5.0:.2f} x the 5 s budget)")
        print(f"RSS after the example runs {rss_after:.0f} MB")
    finally:
        _stop(process)
    print(f"startup_ready_s: {ready_s:.1f}")
    print(f"startup_vs_minimal_ratio: {ready_s / minimal_s:.2f}")
    print(f"patch_default_example_s: {example_s:.2f}")
    print(f"rss_after_start_mb: {rss_start:.0f}")
    print(f"rss_after_example_mb: {rss_after:.0f}")


if __name__ == "__main__":
    main()
