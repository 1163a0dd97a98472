"""What a run shows: the answer first, one table, every setting recorded, presets, shared defaults."""
from __future__ import annotations

import asyncio
import hashlib
import os
import re
import subprocess
import sys
import time

import pytest

from propgrad.models.efficientnet import weights_file

from app_cases import *  # noqa: F403  (helpers and fixtures)

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_same_inputs_same_result_in_separate_folders(progress):
    first = patch_call(progress)
    second = patch_call(progress)
    assert first[4] == second[4]
    assert Path(first[6]).parent != Path(second[6]).parent  # one private folder per request


def test_downloads_are_named_by_their_input_and_settings(progress):
    # Two runs of one tab must not download under one name (the browser would save "name (1).zip"); the same
    # settings again give the same name. Frames are named by their files' common stem, not "frames" alone.
    names = [Path(edit_call(progress, steps=steps)[6]).name for steps in (4, 4, 5)]
    assert names[0] == names[1] != names[2]
    assert re.fullmatch(r"propgrad-chelsea-brightness-edit-[0-9a-f]{6}\.zip", names[0]), names
    assert re.fullmatch(r"propgrad-mug-frames-[0-9a-f]{6}\.zip", Path(turntable_call(progress)[6]).name)


def test_no_report_names_a_folder_of_the_server(progress, tiny_torchscript):
    """The turntable's report.html and report.json listed /work/main/assets/turntable/mug_000.png 36 times (with
    uploads, gradio's temp paths); an uploaded model's path too. Files are named by name and SHA-256 only."""
    import hashlib
    import json
    import tempfile
    import zipfile

    from propgrad.paths import ASSETS

    for outputs in (turntable_call(progress), edit_call(progress, **model_args(files=[str(tiny_torchscript)],
                                                                                 input_size=32))):
        with zipfile.ZipFile(outputs[6]) as archive:
            for name in archive.namelist():
                if name.endswith((".json", ".html", ".csv", ".md")):
                    text = archive.read(name).decode()
                    assert str(ASSETS) not in text and tempfile.gettempdir() + "/" not in text, name
                    assert str(Path(tiny_torchscript).parent) not in text, name
    # The uploaded model by its name and content: two files called model.pt must not read alike.
    with zipfile.ZipFile(outputs[6]) as archive:
        settings = json.loads(archive.read(next(n for n in archive.namelist() if n.endswith(".json"))))["settings"]
    assert {"file": Path(tiny_torchscript).name, "sha256": hashlib.sha256(Path(tiny_torchscript).read_bytes())
            .hexdigest()} in [model.get("source") for model in settings["models"]]


def test_building_the_app_imports_no_editor_or_clip_packages():
    # Start-up stays fast because diffusers, open_clip and transformers load only when used.
    import subprocess
    import sys

    code = ("import sys, app; app.build_demo(); "
            "print(sorted(m for m in ('diffusers', 'open_clip', 'transformers') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_review_cases_that_must_work(progress):
    """A large hue rotation wraps around; several seeds with a parametric edit give one series and a note;
    a patch ticked twice is one series; the exact ImageNet name picks the dog, not the sweater."""
    hue = edit_call(progress, editor="parametric: hue", edit_end=5000, steps=3)
    assert len(hue[4]) == 1
    seeds = edit_call(progress, seeds="0, 1, 2", steps=3)
    assert "same for every seed" in seeds[0]
    twice = patch_call(progress, patch_names=["rainbow disc", "rainbow disc"])
    assert "series" not in str(twice[4][0][-1])
    dog = edit_call(progress, steps=3, **model_args(outputs="Cardigan"))
    assert dog[4][0][1] == "Cardigan"


def test_flips_name_the_classes_for_one_series_and_count_series_for_several():
    from propgrad.reading import flips_text
    from propgrad.score import prediction_flips

    names = ["tabby", "Egyptian cat", "lynx"]
    walk = np.array([[0.5, 0.3, 0.2], [0.3, 0.5, 0.2], [0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.2, 0.6, 0.2],
                     [0.6, 0.2, 0.2]])
    assert flips_text([prediction_flips(walk)], names) == (
        "step 1: tabby -> Egyptian cat; step 2: Egyptian cat -> lynx; step 3: lynx -> tabby; 2 more")
    still = prediction_flips(np.tile([0.7, 0.2, 0.1], (6, 1)))
    assert flips_text([still], names) == "no flip"
    assert flips_text([still, still], names) == "no flip in 2 series"
    # The first series need not be the one that flips: steps come from every series.
    assert flips_text([still, prediction_flips(walk[:3]), prediction_flips(walk[2:5])], names) == (
        "in 2/3 series, at steps 1, 2")


def test_the_scores_table_says_yes_or_no_and_the_summary_gives_alpha(progress):
    outputs = patch_call(progress, alpha=0.05)
    assert {row[4] for row in outputs[4]} <= {"yes", "no"}
    assert "alpha = 0.05" in outputs[0]
    # The tier, as a comparison's table and report.html give it; on a phone its card names it "tier", not "adjusted p"
    # (the comparison's ninth column).
    assert "| signif. | tier |" in outputs[0] and 'class="ranked-table single-run' in outputs[0]
    assert "tier a: the output really moved" in outputs[0]


def test_a_comparisons_signif_column_judges_the_adjusted_p_as_its_readings_do(progress):
    """At alpha 0.02, "signif.: yes" (p <= alpha) sat beside a reading's "adjusted p = 0.037 does not reach alpha":
    the column judged p, the readings the adjusted p."""
    summary = edit_call(progress, editor="parametric: darken", edit_end=0.6, steps=6,
                        regions=["object (segmenter)", "background (segmenter)"],
                        alpha=0.02, n_permutations=1000)[0]
    import re

    def cells(line):
        return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]

    header = next(line for line in summary.splitlines() if line.startswith("| property |"))
    assert cells(header)[6:] == ["p", "adjusted p", "signif.", "tier"], cells(header)
    rows = [cells(line) for line in summary.splitlines()
            if line.startswith("| ") and not line.startswith(("| property", "| ---"))]
    assert rows
    for row in rows:
        adjusted, signif = float(row[7]), row[8]
        assert signif == ("yes" if adjusted <= 0.02 else "no"), row
        assert ("not significant" in row[2]) == (signif == "no") or "no measurable effect" in row[2], row
    assert "signif.: adjusted p <= alpha, as the readings judge it" in summary


def test_a_comparison_of_several_models_says_where_they_differ_as_its_report_does(progress):
    # The zip's report.html had "Where the models differ" and the page did not; it subtracted the others' change from
    # the first model's, and the app's list starts with the unbiased model.
    models = ["ConvMixer cats vs dogs, unbiased (authors)", "ConvMixer cats vs dogs, dark-cats bias (authors)"]
    summary = edit_call(progress, editor="parametric: darken", edit_end=0.6, steps=4, bundled=models, outputs="cat",
                        regions=["object (segmenter)", "background (segmenter)"], n_permutations=1000)[0]
    differ = next(line for line in summary.splitlines() if line.startswith("**Where the models differ**"))
    assert "moved most" in differ and "the first in the list" not in differ and "difference" not in differ, differ
    assert "object: darken: unbiased " in differ and "background: darken: unbiased " in differ, differ


def test_the_run_button_shows_the_answer_first_and_the_rest_follows(progress):
    outputs = shared.shown_first(patch_tab.run_patch)(CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0,
                                                       [IMAGENET], progress=progress)
    summary, strip, animation, curves, table, null, bundle, run, error = outputs
    assert "**Reading:**" in summary and strip and curves and len(table) == 1
    assert animation is None and null is None and bundle is None  # not drawn yet: the answer is on the page first
    animation, null, bundle, state = shared.finish_run(run)
    assert state is None
    with Image.open(animation) as gif:
        assert gif.n_frames == 4
    assert Image.open(null).format == "PNG" and re.fullmatch(r"propgrad-chelsea-patch-blend-[0-9a-f]{6}\.zip", Path(bundle).name)
    assert error == gr.update(value="", visible=False)
    # A bad box: the message once, beside the form; the old result cleared.
    failed = shared.shown_first(patch_tab.run_patch)(CHELSEA, [], None, progress=progress)
    assert failed[0] == shared.FAILED and failed[1:8] == (None,) * 7
    assert failed[8]["visible"] and "`patches` is empty" in failed[8]["value"]
    # A study answers in one go: nothing follows.
    assert shared.finish_run(None) == (gr.skip(), gr.skip(), gr.skip(), None)


def test_progress_is_told_between_the_answer_and_the_files(monkeypatch):
    """The background defaults wait at that call while a visitor runs; the Run button's way (part 2 later) is not
    told, as its files follow in another event."""
    events = []
    finish = results.finish
    monkeypatch.setattr(results, "finish", lambda run: (events.append("finish"), finish(run))[1])

    def recording(fraction, desc=""):
        events.append((fraction, desc))

    patch_tab.run_patch(CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0, [IMAGENET], progress=recording)
    assert events.index((1.0, "writing the files")) == events.index("finish") - 1
    events.clear()
    shared.shown_first(patch_tab.run_patch)(CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0, [IMAGENET],
                                            progress=recording)
    assert (1.0, "writing the files") not in events and "finish" not in events


def test_a_late_zip_never_lands_after_a_preset_was_loaded(progress):
    from types import SimpleNamespace

    outputs = shared.shown_first(patch_tab.run_patch)(CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0,
                                                       [IMAGENET], progress=progress)
    run = outputs[7]
    assert run.finishing is not None  # part 2 started with the answer
    mine, other = SimpleNamespace(session_hash="preset-test-a"), SimpleNamespace(session_hash="preset-test-b")
    shared._preset_loaded_now(mine)  # this session loads a preset while the run's zip is being written
    assert shared.finish_run(run, mine) == (gr.skip(), gr.skip(), gr.skip(), None)
    animation, null, bundle, state = shared.finish_run(run, other)  # another session's preset changes nothing
    assert Path(bundle).suffix == ".zip" and state is None
    # A run started after the preset shows its files.
    later = shared.shown_first(patch_tab.run_patch)(CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0,
                                                     [IMAGENET], progress=progress)[7]
    assert Path(shared.finish_run(later, mine)[2]).suffix == ".zip"


def test_a_preset_on_another_tab_leaves_a_run_alone(progress):
    """A preset clicked on the Patch tab dropped a run still going on the first tab: its answer never came, and the
    page kept "Running..." under the new form values."""
    from types import SimpleNamespace

    run_patch = shared.shown_first(patch_tab.run_patch, tab="patch")
    run = run_patch(CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0, [IMAGENET], progress=progress)[7]
    assert run.tab == "patch"
    mine = SimpleNamespace(session_hash="preset-test-tabs")
    shared._preset_loaded_now(mine, "edit")  # the same session, another tab's preset
    assert Path(shared.finish_run(run, mine)[2]).suffix == ".zip"
    assert not shared._superseded(run.started, mine, "patch") and shared._superseded(run.started, mine, "edit")
    shared._preset_loaded_now(mine, "patch")  # its own tab's preset: its late files stay off the page
    assert shared.finish_run(run, mine) == (gr.skip(), gr.skip(), gr.skip(), None)


def test_an_animation_that_cannot_be_drawn_leaves_the_rest_of_the_run(progress, monkeypatch, caplog):
    """A GIF that failed to draw took the null plots, the reports and the zip down with it."""
    from propgrad import plots
    from propgrad.app import writer

    def broken(*args, **kwargs):
        raise OSError("no room for the frames")

    monkeypatch.setattr(writer, "_FAILURES", writer._MAX_FAILURES)  # drawn in this process, where the patch holds
    monkeypatch.setattr(plots, "save_animation", broken)
    summary, strip, animation, curves, table, null, bundle = patch_tab.run_patch(
        CHELSEA, ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0, [IMAGENET], progress=progress)
    assert animation is None and Path(null).is_file() and Path(bundle).suffix == ".zip"
    with zipfile.ZipFile(bundle) as archive:
        assert "report.json" in archive.namelist() and "animation.gif" not in archive.namelist()
    assert "no room for the frames" in caplog.text


def test_report_json_records_every_setting_of_the_run(progress, tiny_torchscript):
    outputs = edit_call(progress, editor="parametric: darken", edit_end=0.6, regions=["painted or uploaded mask"],
                        painted=_painted(True), **model_args(files=[str(tiny_torchscript)], input_size=32,
                                                              permutations=300, alpha=0.05))
    assert re.fullmatch(r"propgrad-chelsea-darken-edit-in-the-painted-region-[0-9a-f]{6}\.zip", Path(outputs[6]).name)
    with zipfile.ZipFile(outputs[6]) as archive:
        report = json.loads(archive.read("report.json"))
        page = archive.read("report.html").decode()
    # One run's report.html shows the strip and the curves the app drew, not only step 0 and the table, and the null
    # plots drawn while the page was written (null.png was in the zip, not on the page).
    assert ">Steps of the intervention</h2>" in page and ">Model outputs along the property</h2>" in page
    assert page.count(">Shuffle-test null distributions</h2>") == 1 and "go here -->" not in page
    recorded = report["settings"]
    assert recorded["input"]["file"] == "chelsea.jpg" and len(recorded["input"]["sha256"]) == 64
    (name, intervention), = recorded["interventions"].items()
    assert intervention["type"] == "Region" and intervention["intervention"]["kind"] == "darken"
    assert intervention["intervention"]["stop"] == 0.6 and 0 < intervention["mask"]["mean"] < 1
    assert [model["name"] for model in recorded["models"]] == [IMAGENET, "tiny.pt (uploaded)"]
    # Every model's weights by their file and SHA-256, the bundled one's too (a reader could not tell which ran).
    bundled = recorded["models"][0]["source"]
    weights = Path(weights_file())
    assert bundled == {"file": weights.name, "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}
    assert f"{weights.name} (SHA-256 {bundled['sha256']})" in page  # the page's Settings name them too
    assert recorded["models"][1]["source"]["sha256"] == hashlib.sha256(Path(tiny_torchscript).read_bytes()).hexdigest()
    uploaded = recorded["models"][1]
    assert uploaded["preprocessing"]["size"] == [32, 32] and uploaded["preprocessing"]["mean"] == [0.485, 0.456, 0.406]
    assert "output_handling" in uploaded
    assert (recorded["n_permutations"], recorded["alpha"], recorded["seed"]) == (300, 0.05, 0)
    assert {"propgrad", "numpy", "torch", "gradio"} <= set(recorded["packages"])
    assert report["models"][0]["reading"]["label"] in outputs[0]


def test_a_comparison_zip_has_every_propertys_curves_and_gif(progress):
    outputs = edit_call(progress, editor="parametric: lighten", edit_end=0.8, regions=["whole image",
                        "painted or uploaded mask"], painted=_painted(True), **model_args(permutations=300))
    assert re.fullmatch(r"propgrad-chelsea-lighten-whole-image-vs-painted-region-[0-9a-f]{6}\.zip", Path(outputs[6]).name)
    with zipfile.ZipFile(outputs[6]) as archive:
        names = set(archive.namelist())
        comparison = json.loads(archive.read("comparison.json"))
        page = archive.read("report.html").decode()
    assert page.count(">Shuffle-test null distributions</h2>") == 1 and "go here -->" not in page
    for folder in comparison["folders"].values():
        assert {f"{folder}/curves.png", f"{folder}/animation.gif", f"{folder}/report.json",
                f"{folder}/gradualness.png"} <= names
    assert comparison["reading"].startswith("Reading: ") and comparison["settings"]["input"]["file"] == "chelsea.jpg"
    assert all("reading" in row for row in comparison["table"])


def test_each_tab_default_is_computed_once_and_shared(monkeypatch):
    from propgrad.app import defaults

    calls = []
    monkeypatch.setattr(defaults, "_STATE", defaults._Defaults())
    defaults.register("demo", lambda: calls.append(1) or ("answer",))
    thread = defaults.start(lambda: True)
    thread.join(30)
    assert [asyncio.run(defaults.result("demo", ("press Run",))) for _ in range(3)] == [("answer",)] * 3
    assert calls == [1] and asyncio.run(defaults.result("no such tab", ("press Run",))) == ("press Run",)


def test_a_tests_own_defaults_leave_a_servers_computation_alone(monkeypatch):
    # The defaults' state was module globals that these tests swapped: stopping "the exit's" threads in one stopped
    # a server's background computation started by an earlier test, which then failed on the swapped dicts, and
    # every later page load in that process waited 300 s for an answer that never came (a browser test's 240 s).
    import threading

    from propgrad.app import defaults

    server, gate = defaults._Defaults(), threading.Event()
    monkeypatch.setattr(defaults, "_STATE", server)

    def slow(progress):
        assert gate.wait(30)
        progress(0.5)
        return ("answer",)

    defaults.register("edit", slow)
    computing = defaults.start(lambda: True)
    mine = defaults._Defaults()
    monkeypatch.setattr(defaults, "_STATE", mine)  # what another test does meanwhile
    defaults.register("demo", lambda: ("mine",))
    defaults.start(lambda: True).join(30)
    defaults._stop_at_exit(mine)
    gate.set()
    computing.join(30)
    assert server.ready["edit"].is_set() and server.results["edit"] == ("answer",)
    assert mine.results["demo"] == ("mine",) and "edit" not in mine.results


@pytest.mark.parametrize("tab", [edit_tab, patch_tab])
def test_examples_are_whole_presets(tab):
    rows, labels = (tab.edit_examples() if tab is edit_tab else tab.patch_examples())
    assert len(rows) == len(labels) and len({len(row) for row in rows}) == 1
    if tab is edit_tab:
        coffee = next(row for row in rows if row[0].endswith("coffee.jpg"))
        assert coffee[5] == [IMAGENET] and coffee[6] == ""  # the ImageNet classifier on its predicted class
        assert all(row[5] for row in rows)  # every preset names its models


def test_the_background_defaults_wait_while_a_visitor_runs(monkeypatch):
    import threading
    import time

    from propgrad.app import defaults

    order = []

    def compute(progress=None):
        progress(0.5)
        order.append("default")
        return ("answer",)

    monkeypatch.setattr(defaults, "_STATE", defaults._Defaults())
    defaults.register("demo", compute)
    with defaults.user_run():
        thread = defaults.start(lambda: True)
        time.sleep(0.5)
        order.append("visitor")
    thread.join(30)
    assert order == ["visitor", "default"] and asyncio.run(defaults.result("demo", ("press Run",))) == ("answer",)


def test_a_process_that_exits_stops_the_background_defaults_first(tmp_path):
    # A default still computing when the process exited ran on in a daemon thread while the interpreter was torn
    # down: with torch that aborted the process (exit status 134, "terminate called without an active exception")
    # and logged tracebacks from the thread pools already shut down. Now the exit stops it at its next progress step
    # and waits: its own clean-up runs, and the process ends with status 0 and nothing on stderr.
    marker = tmp_path / "stopped"
    script = (f"import time\nfrom propgrad.app import defaults\n"
              f"def compute(progress):\n"
              f"    try:\n"
              f"        for _ in range(400):\n"
              f"            progress(0.5)\n"
              f"            time.sleep(0.05)\n"
              f"    finally:\n"
              f"        open({str(marker)!r}, 'w').close()\n"
              f"    return ('answer',)\n"
              f"defaults.register('slow', compute)\n"
              f"defaults.start(lambda: True)\n"
              f"time.sleep(0.5)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert marker.exists(), "the default was left running when the process exited"


def test_exiting_while_a_visitor_runs_does_not_wait_for_the_visitor(monkeypatch):
    # The defaults freeze memory only once no visitor's run is under way; an exit meanwhile must not wait for that
    # (exit waited its whole limit, 30 s, when someone's run was computing), nor freeze anything.
    import threading

    from propgrad.app import defaults, memory

    frozen = []
    monkeypatch.setattr(memory, "freeze", lambda: frozen.append(1))
    monkeypatch.setattr(defaults, "YIELD_TIMEOUT_S", 600.0)
    state = defaults._Defaults()
    monkeypatch.setattr(defaults, "_STATE", state)

    def compute():
        state.active_runs = 1  # a visitor's run starts while the last default is computed, and goes on
        return ("answer",)

    defaults.register("demo", compute)
    thread = threading.Thread(target=defaults.compute_all, args=(state,), daemon=True)
    thread.start()
    assert state.ready["demo"].wait(30)
    defaults._stop_at_exit(state)  # what the exit does, the visitor's run still under way
    thread.join(30)
    assert not thread.is_alive(), "the defaults waited for the visitor's run after the exit began"
    assert frozen == []


def test_a_servers_folder_goes_when_it_exits(tmp_path):
    # Every server start and test run used to leave its folder of results in the temp directory for good.
    script = ("from propgrad.app.folders import request_dir\n"
              "folder = request_dir()\n(folder / 'answer.json').write_text('{}')\nprint(folder.parent)\n")
    env = dict(os.environ, TMPDIR=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    root = Path(done.stdout.strip())
    assert root.parent == tmp_path and not root.exists()


def test_a_server_stopped_with_sigterm_removes_its_folder(tmp_path):
    # docker stop, kill or a Space restart send SIGTERM, which skipped the exit handlers: each stopped server left its
    # folder behind. A blocking launch now ends on SIGTERM as on Ctrl+C.
    import signal
    import socket
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = ("import threading, time\nimport gradio as gr\nfrom propgrad.app import demo\n"
              "from propgrad.app.folders import request_dir\n"
              "print(request_dir().parent, flush=True)\n"
              "with gr.Blocks() as blocks:\n    gr.Textbox()\n"
              "def announce():\n    while not getattr(blocks, 'is_running', False):\n        time.sleep(0.01)\n"
              "    print('propgrad-test-serving', flush=True)\n"
              "threading.Thread(target=announce, daemon=True).start()\n"
              f"demo.launch(blocks, debug=True, server_name='127.0.0.1', server_port={port}, mcp_server=False)\n")
    env = dict(os.environ, TMPDIR=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[1]),
               PROPGRAD_WARM_START="0", GRADIO_ANALYTICS_ENABLED="False")
    errors = tmp_path / "stderr.txt"
    # Its own session, so that a watchdog can stop it with the writer process it starts, which holds its stdout too:
    # a test that waits for a line that never comes must fail, not hang CI.
    with errors.open("w") as stderr:
        server = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, stderr=stderr,
                                  text=True, start_new_session=True)
    watchdog = threading.Timer(240, os.killpg, (server.pid, signal.SIGKILL))
    watchdog.start()
    try:
        root = Path(server.stdout.readline().strip())
        assert root.parent == tmp_path and root.is_dir()
        # gradio prints its own lines too, from another thread: a line of theirs may run into the token (the test
        # waited forever for a line that was only "serving")
        assert any("propgrad-test-serving" in line for line in server.stdout), errors.read_text()[-2000:]
        server.send_signal(signal.SIGTERM)  # at once: the handler is there before the server answers
        # 0 once gradio blocks; a stop during the rest of the launch ends as Ctrl+C would there (by SIGINT).
        assert server.wait(timeout=60) in (0, -signal.SIGINT), errors.read_text()[-2000:]
    finally:
        watchdog.cancel()
        server.kill()
    assert not root.exists()



def test_the_tabs_default_results_outlive_the_hour_a_visitors_run_is_kept(monkeypatch):
    # After an hour the sweep removed the default results' folders too: every new visitor's page showed "Error" in
    # every tab (FileNotFoundError for the default's zip), until the server was restarted.
    from propgrad.app import defaults
    from propgrad.app.folders import RESULT_TTL_S, check_room, request_dir

    def compute():
        folder = request_dir()
        (folder / "answer.zip").write_bytes(b"zip")
        return (str(folder / "answer.zip"),)

    monkeypatch.setattr(defaults, "_STATE", defaults._Defaults())
    defaults.register("hour-test", compute)
    defaults._compute("hour-test")
    default_zip = Path(defaults._STATE.results["hour-test"][0])
    visitor = request_dir()
    long_ago = time.time() - RESULT_TTL_S - 60
    for folder in (default_zip.parent, visitor):
        os.utime(folder, (long_ago, long_ago))
    check_room()  # the next run's check sweeps
    assert default_zip.is_file(), "a default result's files were swept"
    assert not visitor.exists(), "a visitor's hour-old folder was kept"



def test_a_default_whose_files_were_removed_is_computed_again(monkeypatch):
    # A cleaner of old temporary files (or an administrator) removed the default results' folders: every new
    # visitor's page said "Error" in every tab (FileNotFoundError for the default's zip) until the server restarted.
    import shutil

    from propgrad.app import defaults
    from propgrad.app.folders import request_dir

    made = []

    def compute():
        folder = request_dir()
        (folder / "answer.zip").write_bytes(b"zip")
        made.append(folder / "answer.zip")
        return ("summary", str(folder / "answer.zip"), {"__type__": "update", "value": str(folder / "answer.zip")})

    monkeypatch.setattr(defaults, "_STATE", defaults._Defaults())
    defaults.register("removed-test", compute)
    defaults.start(lambda: True).join(30)
    first = asyncio.run(defaults.result("removed-test", ("press Run",)))
    assert first[1] == str(made[0]) and len(made) == 1
    shutil.rmtree(made[0].parent)
    again = asyncio.run(defaults.result("removed-test", ("press Run",)))
    assert len(made) == 2 and again[1] == str(made[1]) and Path(again[1]).is_file()
    assert asyncio.run(defaults.result("removed-test", ("press Run",))) == again and len(made) == 2


def test_a_default_computed_again_that_fails_is_tried_again_later_not_at_every_page_load(monkeypatch):
    # Its files gone and its folder unwritable meanwhile: the tab said "Press Run" until a restart, even once the
    # folder could be written again. Now it is tried again after a wait (a minute, doubling), not at every page load.
    import shutil

    from propgrad.app import defaults
    from propgrad.app.folders import request_dir

    made, broken = [], []

    def compute():
        if broken:
            raise OSError(28, "No space left on device")
        folder = request_dir()
        (folder / "answer.zip").write_bytes(b"zip")
        made.append(folder / "answer.zip")
        return ("summary", str(folder / "answer.zip"))

    state = defaults._Defaults()
    monkeypatch.setattr(defaults, "_STATE", state)
    defaults.register("retry-test", compute)
    defaults.start(lambda: True).join(30)
    shutil.rmtree(made[0].parent)
    broken.append(True)
    assert asyncio.run(defaults.result("retry-test", ("press Run",))) == ("press Run",)
    assert state.retries["retry-test"].failures == 1 and state.retries["retry-test"].at > time.monotonic() + 50
    defaults.compute_again_where_gone()  # the upkeep's check, within the wait: nothing is tried
    assert asyncio.run(defaults.result("retry-test", ("press Run",))) == ("press Run",) and len(made) == 1
    state.retries["retry-test"].at = time.monotonic()  # the wait is over, and it fails again: the wait doubles
    assert asyncio.run(defaults.result("retry-test", ("press Run",))) == ("press Run",)
    assert state.retries["retry-test"].failures == 2 and state.retries["retry-test"].at > time.monotonic() + 110
    broken.clear()
    state.retries["retry-test"].at = time.monotonic()
    defaults.compute_again_where_gone()
    answer = asyncio.run(defaults.result("retry-test", ("press Run",)))
    assert len(made) == 2 and answer[1] == str(made[1]) and "retry-test" not in state.retries


def test_a_single_run_whose_edit_hardly_changes_the_image_says_so_first(progress, tmp_path):
    # Hue on a grey photo: "no measurable effect", with the reason in a note under the table.
    import numpy as np
    from PIL import Image

    from propgrad.app.tabs import edit as edit_tab

    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((64, 64, 3), 128, dtype=np.uint8)).save(grey)
    outputs = edit_tab.run_edit(str(grey), "", "parametric: hue", 15, 2.5, 5, 20, "0", None, [IMAGENET], outputs="",
                                regions=["whole image"], n_permutations=200, progress=progress)
    summary = outputs[0]
    check = summary.index("**Check the edits before this answer:**")
    assert "the images hardly change under 'hue rotation (degrees)'" in summary and check < summary.index("| model |")
    # In the talk view, whose summary shows its first two blocks only, it is in the reading's block.
    reading_block = summary[summary.index('<div class="summary-reading">'):summary.index("</div>")]
    assert "Check the edits before this answer" in reading_block


def test_a_single_runs_rows_keep_the_words_its_reading_does_not_spell_out():
    # The page's reading spells out the rows that moved; a row gave its label alone, and where the paragraph stopped
    # at eight ("... and 4 more") the others' words were nowhere on the page.
    from PIL import Image

    from propgrad.app import results
    from propgrad.explain import explain
    from propgrad.interventions import ParametricEdit
    from propgrad.reading import LISTED
    from toy_models import Constant, Flip

    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    edit = ParametricEdit("darken", stop=0.8, steps=8)
    few = explain(image, edit, [Flip(), Constant()], outputs_of_interest="a", n_permutations=100, seed=0)
    page = results.summary_markdown(results.new_run(few, {}, []))
    table = page[page.index("| model |"):]
    assert "**Reading:** flip (abrupt, not significant: p(a) 0.90 \u2192 0.10 in one step" in page
    # Said once, above; the row keeps where the output went (two models' "strong and systematic", one falling, one
    # rising, read as one effect).
    assert "| **abrupt, not significant**: p(a) 0.90 \u2192 0.10. *One step" in table
    assert "**no measurable effect**: p(a) 0.70 \u2192 0.70" in table  # a still row keeps its words
    many = explain(image, edit, [type(f"Flip{k}", (Flip,), {"name": f"flip {k}"})() for k in range(LISTED + 1)],
                   outputs_of_interest="a", n_permutations=100, seed=0)
    page = results.summary_markdown(results.new_run(many, {}, []))
    # The paragraph names eight and "1 more"; the table gives that one its words, the eight their labels and ends.
    assert "and 1 more." in page[:page.index("| model |")]
    table = page[page.index("| model |"):]
    assert table.count("0.90 \u2192 0.10 in one step, flips") == 1 and table.count("0.90 \u2192 0.10") == LISTED + 1


def test_a_comparisons_strip_shows_the_step_where_each_model_first_flips(monkeypatch):
    # Six pictures of eleven steps (0, 17, 34, 51, 68, 85 % darker) left "flips to cat at 43 % darker" between two
    # of them: the strip puts each model's first flip among its pictures.
    from propgrad import plots
    from propgrad.app.tabs import edit

    drawn, original = [], plots.strip_indices

    def recording(n_steps, max_images, keep=()):
        indices = original(n_steps, max_images, keep)
        drawn.append(indices)
        return indices

    monkeypatch.setattr(plots, "strip_indices", recording)
    summary = edit.default_result()[0]
    places = re.findall(r"flips to \w+ at (\d+)\s% darker", summary)  # a no-break space before the %
    assert places, summary  # the default has flips, else this test shows nothing
    # Each flip's place is among the pictures drawn (steps of 8.5 % darker each, to 85 %).
    shown = {int(index * 8.5 + 0.5) for indices in drawn for index in indices}  # 42.5 % reads "43 %"
    assert {int(place) for place in places} <= shown, (places, drawn)


def test_a_legend_says_when_a_row_sits_at_the_smallest_p_the_permutations_give():
    # "p 0.00010" beside "p 0.0024" read as two exact values; the first is all 10,000 shuffles can say.
    from PIL import Image

    from propgrad.app import results
    from propgrad.explain import explain
    from propgrad.interventions import ParametricEdit
    from toy_models import Constant, Drift

    image = Image.fromarray(np.full((32, 32, 3), 200, dtype=np.uint8))
    edit = ParametricEdit("darken", stop=0.8, steps=11)
    steady = explain(image, edit, [Drift()], outputs_of_interest=[0], n_permutations=200, seed=0)
    assert min(score.pvalue for model in steady.models for score in model.scores) == pytest.approx(1 / 201)
    page = results.summary_markdown(results.new_run(steady, {}, []))
    assert "p = 0.0050 is the smallest p 200 permutations can give: a row at it could be stronger still." in page
    still = explain(image, edit, [Constant()], outputs_of_interest=[0], n_permutations=200, seed=0)
    assert "is the smallest p" not in results.summary_markdown(results.new_run(still, {}, []))

