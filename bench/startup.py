"""Start-up time, default patch example latency and resident memory of ``python app.py``.

Figures (issue: ready < 60 s on 2 cores, patch default < 5 s after warm-up, RSS after start < 1.5 GB):
1. seconds from launching ``python app.py`` until ``GET /`` answers 200, versus a minimal gradio app
   (one textbox) started the same way in the same run (ratio = app / minimal);
2. seconds until every tab's default result is ready (computed once in the background after the server
   answers; the page shows it on load), read from the server's log;
3. the first tab's default through the API (``client.predict(image=..., api_name="/edit")``, every other
   input the tab's default): the first click after start-up versus the median of three warm clicks;
4. the patch tab's default example through the API (gradio_client): one warm-up call, then the median
   of three timed calls, versus the 5 s budget;
5. resident memory (RSS) of the server process right after start and after the examples run.

And the four figures of issue 23's table, each a ratio against a baseline measured in the same run:

A. in the browser (Debian's Chromium through Playwright, skipped without it): the page opens as soon as the server
   answers; the first Run click as soon as the page shows the first tab's default answer and zip (the later tabs'
   defaults may still be computing in the background), versus the median of three warm clicks made once every
   default is ready (the click to the answer on the page);
B. a warm ``/edit`` through the API (the answer and the zip) versus the same computation in Python
   (``compare_properties`` on the same inputs and models in this process, no files written), timed in turns;
C. in the browser, the time from the answer on the page to the zip's link (median over the clicks of A);
D. the server's memory (RSS of the server and its writer process) once every tab's default has run (after the first
   browser click, as a visitor's server would be), with its anonymous part.

Run: ``python bench/startup.py`` from the repository root. Ends with ``name: value`` lines.
``--server-python PATH`` starts the two servers with another interpreter, e.g. a virtual environment with only
``requirements.txt`` installed, as a Space installs the app (the test requirements add packages that the server then
imports: ``datasets`` brings pyarrow, which pandas loads when gradio imports it, about 50 MB); the browser and the API
clients stay in this one.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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


def _start(args: list[str], port: int, log: list | None = None) -> tuple[subprocess.Popen, float]:
    """Start ``args`` and wait for ``GET /``; with ``log``, the server's stderr lines are appended to it as they come
    (with the seconds since start)."""
    # The lessons' child (propgrad/app/lesson_pages.py) runs once after the defaults, for about half a minute, at
    # low priority, and exits: left out, so that the server's figures are the server's (as measured before it came).
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1",
               GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", PROPGRAD_EXECUTE_LESSONS="0")
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE if log is not None else subprocess.DEVNULL, text=True)
    if log is not None:
        def read():
            for line in process.stderr:
                log.append((time.perf_counter() - started, line.rstrip()))

        threading.Thread(target=read, daemon=True).start()
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


def _tree(process: subprocess.Popen) -> list[psutil.Process]:
    """The server and its children (the report writer)."""
    proc = psutil.Process(process.pid)
    return [proc, *proc.children(recursive=True)]


def _rss_mb(process: subprocess.Popen) -> float:
    total = 0
    for proc in _tree(process):
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def _anonymous_mb(process: subprocess.Popen) -> float | None:
    """The anonymous part of the RSS (the server and its children; Linux only): what the processes themselves hold.

    The rest of the RSS is pages of files (torch's CUDA libraries alone map hundreds of MB), which a kernel that
    pages out cold memory (the development machines run DAMON with a pageout scheme) drops and reloads at will:
    the same server read 1,190 MB in one run and 980 MB in the next. The anonymous part does not move so.
    """
    total = 0
    for proc in _tree(process):
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            return None
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("RssAnon:")), 0)
    return total / 1024


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


# The server's log line once every default has run (before issue 23 the turntable's was the last one).
LAST_DEFAULT = ("every tab's default result ready" if "every tab's default result ready"
                in (ROOT / "propgrad" / "app" / "defaults.py").read_text() else "default result of the turntable tab ready")
CHROMIUM = os.environ.get("PROPGRAD_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
ANSWER_JS = """() => { const t = document.querySelector('#edit-summary')?.innerText || '';
    return t.includes('shuffle test with') && !t.includes('Running...'); }"""
RUNNING_JS = "() => (document.querySelector('#edit-summary')?.innerText || '').includes('Running...')"
ZIP_JS = "() => (document.querySelector('#edit-bundle')?.innerText || '').includes('.zip')"
NO_ZIP_JS = "() => !(document.querySelector('#edit-bundle')?.innerText || '').includes('.zip')"


def browser_clicks(url: str, clicks: int = 4, between=None) -> tuple[list[float], list[float]] | None:
    """Open the page, wait for the first tab's default answer and zip, then press Run ``clicks`` times: for each,
    the seconds from the click to the answer on the page, and from the answer to the zip's link. ``between()`` is
    called after the first click (the later tabs' defaults may still be computing during it, as for a visitor)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    answers, zips = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(url, wait_until="load", timeout=120_000)
            page.wait_for_function(ANSWER_JS, timeout=300_000, polling=50)
            page.wait_for_function(ZIP_JS, timeout=300_000, polling=50)
            for _ in range(clicks):
                started = time.perf_counter()
                page.locator("#edit-run").click()
                page.wait_for_function(RUNNING_JS, timeout=60_000, polling=10)
                page.wait_for_function(ANSWER_JS, timeout=300_000, polling=10)
                answered = time.perf_counter()
                page.wait_for_function(NO_ZIP_JS, timeout=60_000, polling=10)  # the old zip went with the answer
                page.wait_for_function(ZIP_JS, timeout=300_000, polling=10)
                answers.append(answered - started)
                zips.append(time.perf_counter() - answered)
                page.wait_for_function("() => !document.querySelector('#edit-run')?.disabled", timeout=60_000)
                page.wait_for_timeout(500)
                if between is not None and len(answers) == 1:
                    between()
        finally:
            browser.close()
    return answers, zips


def python_comparison():
    """The first tab's default computed in Python (no files): ``compare_properties`` with the same inputs."""
    from PIL import Image

    from propgrad.app.regions import region_interventions
    from propgrad.app.tabs.edit import edit_defaults, DEFAULT_EDIT
    from propgrad.compare import compare_properties
    from propgrad.interventions import ParametricEdit
    from propgrad.models.bundled import get_model

    d = edit_defaults()
    image = Image.open(d["image"]).convert("RGB")
    edit = ParametricEdit(DEFAULT_EDIT.removeprefix("parametric: "), stop=d["edit_end"], steps=d["steps"])
    interventions, _ = region_interventions(edit, d["regions"], None, None)
    models = [get_model(name) for name in d["models"]]

    def run():
        from propgrad import segment

        segment.clear_cache()  # the app's run segments again too (its cache is per process)
        return compare_properties(image, interventions, models, outputs_of_interest=d["outputs"],
                                  n_permutations=10_000, alpha=0.01, seed=0)

    return run


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Start-up, latency and memory of python app.py.")
    parser.add_argument("--server-python", default=sys.executable,
                        help="the interpreter that runs the servers (default: this one)")
    server_python = parser.parse_args().server_python
    print(f"servers run under {server_python}")
    # 1. Minimal gradio app: the floor any gradio app pays on this machine.
    with tempfile.TemporaryDirectory() as folder:
        minimal_script = Path(folder) / "minimal.py"
        minimal_script.write_text(MINIMAL)
        process, minimal_s = _start([server_python, str(minimal_script)], _free_port())
        _stop(process)
    print(f"minimal gradio app ready in {minimal_s:.1f} s")

    # 2. The app itself.
    port = _free_port()
    log: list = []
    process, ready_s = _start([server_python, "app.py"], port, log)
    try:
        rss_start = _rss_mb(process)
        print(f"python app.py ready in {ready_s:.1f} s ({ready_s / minimal_s:.2f} x the minimal app); "
              f"RSS after start {rss_start:.0f} MB")
        state: dict = {}

        def wait_for_defaults():
            waited = time.perf_counter()
            state["defaults_s"] = None
            while time.perf_counter() - waited < 600:
                done = [at for at, line in log if LAST_DEFAULT in line]
                if done:
                    state["defaults_s"] = done[0]
                    break
                time.sleep(0.2)
            state["rss_defaults"] = _rss_mb(process)
            state["anonymous_defaults"] = _anonymous_mb(process)

        measured = browser_clicks(f"http://127.0.0.1:{port}/", between=wait_for_defaults)
        if "rss_defaults" not in state:
            wait_for_defaults()
        defaults_s, rss_defaults = state["defaults_s"], state["rss_defaults"]
        for at, line in log:
            if "default result" in line:
                print(f"  {at:6.1f} s after launch: {line.split(':', 2)[-1].strip()}")
        print(f"every tab's default result ready {defaults_s:.1f} s after launch (in the background; the page "
              f"answered after {ready_s:.1f} s)" if defaults_s else "the default results were not ready in 600 s")
        anonymous = state.get("anonymous_defaults")
        print(f"RSS once every tab's default has run {rss_defaults:.0f} MB (target <= 1229 MB)"
              + (f", of which {anonymous:.0f} MB anonymous (the rest is pages of files, see _anonymous_mb)"
                 if anonymous is not None else ""))
        if measured:
            answers, zips = measured
            browser_first, browser_warm = answers[0], statistics.median(answers[1:])
            answer_to_zip = statistics.median(zips)
            print(f"browser: first click {browser_first:.2f} s, warm clicks {', '.join(f'{t:.2f}' for t in answers[1:])}"
                  f" s (first / warm = {browser_first / browser_warm:.2f}; target <= 1.3); answer to zip "
                  f"{', '.join(f'{t:.2f}' for t in zips)} s (median {answer_to_zip:.2f} s; target <= 1 s)")
        else:
            browser_first = browser_warm = answer_to_zip = float("nan")
            print("browser: skipped (no Playwright or no Chromium)")
        from gradio_client import Client, handle_file

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        # B. A warm /edit (answer and zip) versus the same computation in Python, in turns.
        compute = python_comparison()
        compute()  # warm-up here: models and segmenter in this process
        api_times, python_times = [], []
        for _ in range(3):
            started = time.perf_counter()
            client.predict(image=handle_file(str(ROOT / "assets" / "examples" / "chelsea.jpg")), api_name="/edit")
            api_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            compute()
            python_times.append(time.perf_counter() - started)
        api_s, python_s = statistics.median(api_times), statistics.median(python_times)
        print(f"warm /edit through the API (answer and zip) {', '.join(f'{t:.2f}' for t in api_times)} s, the same "
              f"computation in Python {', '.join(f'{t:.2f}' for t in python_times)} s (median ratio "
              f"{api_s / python_s:.2f}; target <= 2)")
        chelsea = handle_file(str(ROOT / "assets" / "examples" / "chelsea.jpg"))
        clicks = []
        for _ in range(4):
            started = time.perf_counter()
            answer = client.predict(image=chelsea, api_name="/edit")
            clicks.append(time.perf_counter() - started)
        assert "Reading" in answer[0], answer[0]
        first_click, warm_click = clicks[0], statistics.median(clicks[1:])
        print(f"first tab's default through the API: first click {first_click:.2f} s, warm clicks "
              f"{', '.join(f'{t:.2f}' for t in clicks[1:])} s (first / warm = {first_click / warm_click:.2f}; "
              f"target <= 1.3)")
        payload = patch_default_payload()
        started = time.perf_counter()
        client.predict(*payload, api_name="/patch")
        warmup_s = time.perf_counter() - started
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            result = client.predict(*payload, api_name="/patch")
            timings.append(time.perf_counter() - started)
        assert "Reading" in result[0], result[0]
        example_s = statistics.median(timings)
        rss_after = _rss_mb(process)
        print(f"patch default example: warm-up {warmup_s:.1f} s, then {', '.join(f'{t:.2f}' for t in timings)} s "
              f"(median {example_s:.2f} s = {example_s / 5.0:.2f} x the 5 s budget)")
        print(f"RSS after the example runs {rss_after:.0f} MB")
    finally:
        _stop(process)
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print("issue 23's table (figure: now; target):")
    print(f"  first click vs a warm click, browser: {browser_first:.2f} s vs {browser_warm:.2f} s "
          f"({browser_first / browser_warm:.2f}x; <= 1.3x)")
    print(f"  warm /edit through the API vs Python: {api_s:.2f} s vs {python_s:.2f} s ({api_s / python_s:.2f}x; <= 2x)")
    print(f"  answer to zip, browser: {answer_to_zip:.2f} s (<= 1 s)")
    print(f"  server memory after every tab's default: {rss_defaults:.0f} MB (<= 1229 MB)")
    print(f"startup_ready_s: {ready_s:.1f}")
    print(f"defaults_ready_s: {defaults_s:.1f}" if defaults_s else "defaults_ready_s: nan")
    print(f"first_click_s: {first_click:.2f}")
    print(f"warm_click_s: {warm_click:.2f}")
    print(f"first_vs_warm_ratio: {first_click / warm_click:.2f}")
    print(f"startup_vs_minimal_ratio: {ready_s / minimal_s:.2f}")
    print(f"patch_default_example_s: {example_s:.2f}")
    print(f"rss_after_start_mb: {rss_start:.0f}")
    print(f"rss_after_example_mb: {rss_after:.0f}")
    print(f"browser_first_click_s: {browser_first:.2f}")
    print(f"browser_warm_click_s: {browser_warm:.2f}")
    print(f"browser_answer_to_zip_s: {answer_to_zip:.2f}")
    print(f"api_edit_s: {api_s:.2f}")
    print(f"python_edit_s: {python_s:.2f}")
    print(f"api_vs_python_ratio: {api_s / python_s:.2f}")
    print(f"rss_after_defaults_mb: {rss_defaults:.0f}")
    print(f"browser_first_vs_warm_ratio: {browser_first / browser_warm:.2f}")


if __name__ == "__main__":
    main()
