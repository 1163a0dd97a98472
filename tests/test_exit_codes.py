"""Every command's exit status tells the truth (issue 26): 0 all ran, 2 bad arguments or over a limit, 3 some work
failed (the count on stderr's last line), 4 no room to write; and the table of limits is enforced before any work,
by the command line, the app (its MCP tools) and, for memory, the Python API."""
from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pytest
from PIL import Image

from propgrad.cli import main
from propgrad.cli import exit_codes
from propgrad.limits import LIMITS, LimitError

ROOT = Path(__file__).resolve().parents[1]
MODEL = "Lesion CNN (biased)"
needs_lesions = pytest.mark.skipif(not (ROOT / "assets" / "lesions").is_dir(),
                                   reason="the lesion scenario's models are not shipped here")


@pytest.fixture(scope="module")
def lesion(tmp_path_factory) -> Path:
    from propgrad.lesions.generator import make_dataset

    path = tmp_path_factory.mktemp("lesion") / "lesion.png"
    make_dataset(2, seed=2, size=64).images[0].save(path)
    return path


def stderr_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


# -- 2: bad arguments and the table of limits, before any work --------------------------------------------------


@pytest.mark.parametrize("argv, flag, limit", [
    (["screen", "IMAGE", "--permutations", "1000000000"], "--permutations", "1,000,000"),
    (["explain", "IMAGE", "--edit", "darken", "--steps", "5000"], "--steps", "1,000"),
    (["screen", "IMAGE", "--edits", ",".join(["darken"] * 10_000)], "--edits", "64"),
    (["explain", "IMAGE", "--instruction", "make it red", "--seeds", *map(str, range(300))], "--seeds", "256"),
    (["screen", "IMAGE", "--limit", "5000"], "--limit", "1,000"),
    (["study", "--images", "IMAGE", "--permutations", "2000000"], "--permutations", "1,000,000"),
])
def test_a_request_over_a_limit_is_refused_in_one_line_before_any_work(argv, flag, limit, capsys, tmp_path):
    started = time.perf_counter()
    argv = [str(tmp_path / "missing.png") if part == "IMAGE" else part for part in argv]
    assert main([*argv, "--out", str(tmp_path / "out")]) == exit_codes.USAGE
    (line,) = stderr_lines(capsys)
    assert line.startswith(f"error: `{flag}`") and f"the limit is {limit}" in line and len(line) < 200, line
    assert time.perf_counter() - started < 5 and not (tmp_path / "out").exists()  # nothing ran, nothing written


@pytest.mark.parametrize("argv, line", [
    (["screen", "x.png", "--edits", "darken,hue,darken"], "error: `--edits` names 'darken' more than once"),
    # It ran "object" and "object (2)": one test twice in the p-value adjustment.
    (["explain", "x.png", "--edit", "darken", "--region", "object", "--region", "object"],
     "error: `--region` names 'object' more than once"),
])
def test_repeated_names_are_refused_naming_the_argument_they_came_in(argv, line, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path)]) == exit_codes.USAGE
    assert stderr_lines(capsys) == [line]


def test_the_mcp_tools_refuse_a_region_named_twice():
    """run_edit quietly ran one explanation for ["object", "object"], where the command line ran two."""
    from propgrad.app.mcp_tools import choices_argument

    with pytest.raises(ValueError, match="`regions` names 'object' more than once"):
        choices_argument(["object", "object"], {"object": 1, "background": 2}, "regions")


@needs_lesions
def test_the_screen_api_blames_edits_for_repeated_edit_names():
    from PIL import Image

    from propgrad.models.bundled import get_model
    from propgrad.screen import screen

    with pytest.raises(ValueError) as error:
        screen(Image.new("RGB", (8, 8)), get_model(MODEL), edits=["darken"] * 10_000)
    message = str(error.value)
    assert message.startswith("`edits` names 'darken' more than once") and len(message) < 200  # was 688 KB, on `add`


def test_the_app_and_its_mcp_tools_share_the_table(tmp_path):
    from propgrad.app import parsing, run, study

    assert parsing.MAX_STEPS == LIMITS["steps"].app and parsing.MAX_SEEDS == LIMITS["seeds"].app
    assert parsing.MAX_FRAMES == LIMITS["frames"].app and study.MAX_STUDY_IMAGES == LIMITS["images"].app
    with pytest.raises(ValueError, match="`permutations` must be a whole number between 100 and 100000"):
        run.shuffle_test_settings(LIMITS["permutations"].app + 1, 0.01)
    from propgrad.screen import APP_LIMIT

    assert APP_LIMIT == LIMITS["properties"].app


def test_the_app_screen_refuses_a_long_or_repeated_edit_list_in_one_line():
    gr = pytest.importorskip("gradio")
    from propgrad.app import screen as screen_tab

    chelsea = str(ROOT / "assets" / "examples" / "chelsea.jpg")
    for edits, expected in ((["darken"] * 10_000, "`screen edits` names 10,000 edits; the limit is 64"),
                            (["darken", "darken"], "`screen edits` names 'darken' more than once")):
        with pytest.raises(gr.Error) as error:
            screen_tab.run_screen(chelsea, [], None, None, "", "", "", "", 1000, 0.01, "", "auto", 6, edits,
                                  list(screen_tab.REGIONS), "gradient", next(iter(screen_tab.ADJUSTMENT_CHOICES)),
                                  progress=lambda *a, **k: None)
        assert expected in str(error.value) and len(str(error.value)) < 200


@needs_lesions
def test_the_python_api_refuses_work_that_cannot_fit_in_memory_before_allocating(monkeypatch):
    from PIL import Image

    from propgrad import explain, limits
    from propgrad.interventions import ParametricEdit
    from propgrad.models.bundled import get_model

    image, model = Image.new("RGB", (32, 32), (120, 60, 30)), get_model(MODEL)
    started = time.perf_counter()
    with pytest.raises(LimitError, match=r"`n_permutations` needs about 21\.8 TB for the shuffle test of 1 output"):
        explain(image, ParametricEdit("darken", steps=3), model, n_permutations=10**12)
    monkeypatch.setattr(limits, "available_memory", lambda: 10 * 2**20)  # a machine with 10 MB free
    with pytest.raises(LimitError, match=r"`steps` needs about .* for 100,000 steps x 1 series of 32x32 images"):
        explain(image, ParametricEdit("darken", steps=100_000), model, n_permutations=9)
    assert time.perf_counter() - started < 2  # refused, not attempted
    # No size limit unless asked: 9 permutations (what tests use) and more than the command line allows both pass
    # the check; only memory bounds the API.
    limits.check_shuffle_memory(9)
    monkeypatch.setattr(limits, "available_memory", lambda: 64 * 2**30)
    limits.check_shuffle_memory(LIMITS["permutations"].cli * 10)


# -- 3: some work failed ------------------------------------------------------------------------------------------


@needs_lesions
def test_explain_exits_3_when_the_run_fails_after_it_started(lesion, tmp_path, capsys, monkeypatch):
    import importlib

    def broken(model, series):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(importlib.import_module("propgrad.explain"), "_predict", broken)
    status = main(["explain", str(lesion), "--edit", "darken", "--steps", "3", "--permutations", "50", "--model",
                   MODEL, "--out", str(tmp_path / "out"), "--no-progress"])
    lines = stderr_lines(capsys)
    assert status == exit_codes.PARTIAL
    assert lines[-2] == "error: RuntimeError: CUDA error: an illegal memory access was encountered"
    assert lines[-1] == "failed: 1 of 1 explanation"
    assert not (tmp_path / "out").exists()  # made for the run, which wrote nothing: not left behind empty


def test_a_wrong_call_inside_the_code_is_a_failed_run_not_a_usage_error(lesion, tmp_path, capsys, monkeypatch):
    """A TypeError the interpreter raises (a bug) exited 2 ("usage: fix your flags"); it is a failed run, like any
    other error of the code; a TypeError a check raises still exits 2 with its line."""
    import importlib

    def miscalled(model, series):
        return len(model, series)

    monkeypatch.setattr(importlib.import_module("propgrad.explain"), "_predict", miscalled)
    argv = ["explain", str(lesion), "--edit", "darken", "--steps", "3", "--permutations", "50", "--model", MODEL,
            "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == exit_codes.PARTIAL
    assert stderr_lines(capsys)[-1] == "failed: 1 of 1 explanation"

    def refused(model, series):
        raise TypeError("`series` must be a list of images")

    monkeypatch.setattr(importlib.import_module("propgrad.explain"), "_predict", refused)
    assert main(argv) == exit_codes.USAGE
    assert stderr_lines(capsys)[-1] == "error: `series` must be a list of images"


def test_raised_on_purpose_tells_a_check_from_a_failing_expression():
    from propgrad.errors import raised_on_purpose

    def caught(function):
        try:
            function()
        except TypeError as error:
            return raised_on_purpose(error)
        raise AssertionError("no TypeError")

    def check():
        raise TypeError(
            "`x` must be an int"
            ", got a list")

    def message_fails(x=None):
        raise ValueError(f"`x` holds {len(x)} values")  # the TypeError comes from len(None), not from the check

    assert caught(check)
    assert not caught(lambda: len(1, 2)) and not caught(lambda: None + 1) and not caught(message_fails)


@needs_lesions
def test_screen_exits_3_when_a_property_is_dropped_for_an_error_and_writes_the_rest(lesion, tmp_path, capsys,
                                                                                     monkeypatch):
    from propgrad.cli import screen as screen_cli
    from propgrad.interventions.base import Intervention

    class Broken(Intervention):
        name = "broken"

        def series(self, image, progress=None):
            raise RuntimeError("the editor crashed")

    monkeypatch.setattr(screen_cli, "_additions", lambda args: {"broken": Broken()})
    status = main(["screen", str(lesion), "--edits", "darken", "--regions", "whole image", "--steps", "3",
                   "--permutations", "50", "--model", MODEL, "--out", str(tmp_path / "out"), "--no-progress"])
    lines = stderr_lines(capsys)
    assert status == exit_codes.PARTIAL
    assert "error: broken: failed (RuntimeError: the editor crashed)" in lines
    assert lines[-1] == "failed: 1 of 2 properties"
    assert (tmp_path / "out" / "screen.csv").is_file()  # what ran is written


@needs_lesions
def test_screen_exits_0_when_a_property_is_left_out_by_design(lesion, tmp_path, capsys):
    # InstructPix2Pix without its weights (nothing is downloaded here) is skipped with a note, not a failure.
    status = main(["screen", str(lesion), "--edits", "darken", "--regions", "whole image", "--steps", "3",
                   "--instruction", "make it red", "--permutations", "50", "--model", MODEL,
                   "--out", str(tmp_path / "out"), "--no-progress"])
    out = capsys.readouterr().out
    assert status == exit_codes.OK and "note: instruction: make it red: skipped" in out


@pytest.mark.slow
@needs_lesions
def test_a_study_whose_items_fail_exits_3_with_the_count_and_the_retry_command(lesion, tmp_path, capsys):
    # An editor whose weights are missing fails every item (this used to exit 0).
    argv = ["study", "--images", str(lesion.parent), "--instruction", "make it red", "--model", MODEL,
            "--permutations", "50", "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == exit_codes.PARTIAL
    lines = stderr_lines(capsys)
    assert lines[-1] == "failed: 1 of 1 items (summary.md says why)"
    assert re.fullmatch(r"retry the failed items with: python -m propgrad study --images .* --no-progress", lines[-2])
    assert main(argv) == exit_codes.PARTIAL  # the retry runs the failed item again (and fails again here)


def test_a_study_list_naming_a_file_that_is_not_there_exits_2_before_it_runs(tmp_path, capsys):
    """A typo in the list was filed under "unreadable, skipped" and the study exited 0: a script could not tell."""
    Image.new("RGB", (32, 32), "white").save(tmp_path / "here.png")
    listed = tmp_path / "list.csv"
    listed.write_text("path\nhere.png\nmisspelt.png\n")
    assert main(["study", "--images", str(listed), "--steps", "3", "--out", str(tmp_path / "out"),
                 "--no-progress"]) == exit_codes.USAGE
    assert stderr_lines(capsys) == [f"error: `--images` list list.csv names 1 file that does not exist: 'misspelt.png' "
                                    f"(relative paths are read from the list's folder, {str(tmp_path)!r}); correct "
                                    f"the list or remove them"]
    assert not (tmp_path / "out").exists()


@needs_lesions
def test_a_misspelt_output_stops_a_study_before_any_item(lesion, tmp_path, capsys):
    """`--outputs zebrax` ran every item, then said "every item failed the same way" with status 3; explain refuses it
    with status 2."""
    assert main(["study", "--images", str(lesion.parent), "--model", MODEL, "--outputs", "zebrax", "--edit", "darken",
                 "--steps", "4", "--permutations", "50", "--out", str(tmp_path / "out"),
                 "--no-progress"]) == exit_codes.USAGE
    assert stderr_lines(capsys) == [f"error: `--outputs`: 'zebrax' is not an output of model {MODEL!r}; its outputs "
                                    "include 'nevus' and 'melanoma'; an index works too"]
    assert not (tmp_path / "out").exists()


def test_a_study_none_of_whose_images_can_be_read_exits_2(tmp_path, capsys):
    """It printed "No item finished" and exited 0, so a script could not tell that nothing ran."""
    listed = tmp_path / "list.txt"
    (tmp_path / "broken.png").write_text("not an image")
    listed.write_text("broken.png\n")
    argv = ["study", "--images", str(listed), "--steps", "3", "--permutations", "100", "--out",
            str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == exit_codes.USAGE
    # With the first reason ("could be read" over a 1x1 PNG, which reads but is too small, sent the user astray).
    assert stderr_lines(capsys)[-1].startswith("error: none of the study's 1 images could be used; the first, "
                                               "broken.png: 'broken.png' is not a readable image")
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "1 unreadable, skipped" in summary and "`broken.png`: 'broken.png'" in summary
    # What was to run is counted from the definition (no row counts it): not "0 interventions, 0 models".
    assert summary.startswith("# Study: 1 image (1 unreadable, skipped), 1 intervention, 1 model\n"), summary[:80]
    # With --json the document says the error too ("rows": [] beside exit status 2 said nothing).
    assert main([*argv[:-3], "--out", str(tmp_path / "out2"), "--no-progress", "--json"]) == exit_codes.USAGE
    document = json.loads(capsys.readouterr().out)
    assert document["rows"] == [] and document["error"]["kind"] == "usage"
    assert document["error"]["message"].startswith("none of the study's 1 images could be used")
    assert "`broken.png`: `broken.png`" not in summary


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no folder can be made")
def test_a_folder_made_for_a_run_that_stopped_early_goes_and_one_that_was_there_stays(tmp_path):
    from propgrad.disk import check_writable, forget_made_folders

    there = tmp_path / "there"
    there.mkdir()
    check_writable(there)
    check_writable(tmp_path / "new" / "deeper")
    assert forget_made_folders(remove_empty=True) == [tmp_path / "new" / "deeper", tmp_path / "new"]
    assert there.is_dir() and not (tmp_path / "new").exists()
    check_writable(tmp_path / "kept")
    (tmp_path / "kept" / "report.json").write_text("{}")
    assert forget_made_folders(remove_empty=True) == [] and (tmp_path / "kept" / "report.json").is_file()
    check_writable(tmp_path / "done")
    assert forget_made_folders(remove_empty=False) == [] and (tmp_path / "done").is_dir()  # a finished run's stays


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_run(lesion, capsys, monkeypatch, tmp_path):
    """It ran the whole explanation, then printed a bare "[Errno 2] No such file or directory" with status 2."""
    import sys

    # First --plot, unpatched: the dynamics module binds explain when it is imported.
    assert main(["dynamics", "--plot", "/proc/propgrad-nowhere/plot.png", "--steps", "3"]) == exit_codes.NO_ROOM
    assert "(`--plot`)" in stderr_lines(capsys)[-1]

    def never(*args, **kwargs):
        raise AssertionError("the run started before the folder was tried")

    argv = ["explain", str(lesion), "--edit", "darken", "--steps", "4", "--model", MODEL, "--permutations", "50",
            "--out", "/proc/propgrad-nowhere", "--no-progress"]
    with monkeypatch.context() as patched:
        patched.setattr(sys.modules["propgrad.explain"], "explain", never)
        assert main(argv) == exit_codes.NO_ROOM
    assert stderr_lines(capsys)[-1] == ("error: cannot write in /proc/propgrad-nowhere (the folder cannot be made "
                                        "there); choose another folder (`--out`) and run the same command again")
    # An unset shell variable ($OUT) must not write into the current folder.
    assert main([*argv[:-3], "--out", "", "--no-progress"]) == exit_codes.USAGE
    assert stderr_lines(capsys)[-1].startswith("error: `--out` is empty")
    # A file on the way: a bad argument, named (it was "error: [Errno 20] Not a directory: ..." with status 2).
    a_file = tmp_path / "report.html"
    a_file.write_text("")
    assert main([*argv[:-3], "--out", str(a_file / "out"), "--no-progress"]) == exit_codes.USAGE
    assert stderr_lines(capsys)[-1] == (f"error: `--out` {str(a_file / 'out')!r} lies under {str(a_file)!r}, which is "
                                        "a file; give a folder whose parents are folders (it is created if missing)")


@needs_lesions
def test_a_folder_in_the_way_of_a_result_file_is_status_4_and_named(lesion, tmp_path, capsys):
    """Everything else was written, then "[Errno 21] Is a directory: '.../report.html'" ended it with status 2,
    which says nothing ran."""
    (tmp_path / "out" / "report.html").mkdir(parents=True)
    (tmp_path / "out" / "report.json").write_text("{}")  # an older run's: it must not pass for this one's
    argv = ["explain", str(lesion), "--edit", "darken", "--steps", "4", "--model", MODEL, "--permutations", "50",
            "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == exit_codes.NO_ROOM
    assert stderr_lines(capsys)[-1] == (f"error: cannot write report.html in {tmp_path / 'out'}: a folder of that "
                                        "name is in the way; remove it (or choose another folder, `--out`) and run "
                                        "the same command again")
    assert not (tmp_path / "out" / "report.json").exists()  # written last: no document of a run that did not end


def test_the_documented_table_of_limits_is_the_one_enforced():
    text = (ROOT / "docs" / "faults-and-limits.md").read_text()
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in LIMITS:
            rows[cells[0]] = (int(cells[1].replace(",", "")), int(cells[2].replace(",", "")), cells[3])
    assert rows == {name: (one.app, one.cli, one.why) for name, one in LIMITS.items()}


def _error_document(capsys) -> dict:
    import json

    return json.loads(capsys.readouterr().out)["error"]


@needs_lesions
def test_a_json_run_that_fails_says_why_on_stdout_too(lesion, tmp_path, capsys, monkeypatch):
    """A script reading `--json` from stdout got nothing but the exit status when the run failed."""
    assert main(["explain", str(tmp_path / "gone.png"), "--edit", "darken", "--json"]) == exit_codes.USAGE
    error = _error_document(capsys)
    assert (error["status"], error["kind"]) == (2, "usage") and "no such file" in error["message"]
    # An argument argparse refuses: the same document, and argparse's own exit.
    with pytest.raises(SystemExit) as stop:
        main(["explain", str(lesion), "--steps", "abc", "--json"])
    assert stop.value.code == 2 and "invalid int value: 'abc'" in _error_document(capsys)["message"]
    # A run that failed after it started: the count, and the error before it.
    import importlib

    def broken(model, series):
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    monkeypatch.setattr(importlib.import_module("propgrad.explain"), "_predict", broken)
    assert main(["explain", str(lesion), "--edit", "darken", "--steps", "3", "--permutations", "50", "--model",
                 MODEL, "--out", str(tmp_path / "out"), "--json", "--no-progress"]) == exit_codes.PARTIAL
    error = _error_document(capsys)
    assert (error["status"], error["kind"], error["message"]) == (3, "partial", "failed: 1 of 1 explanation")
    assert error["lines"][0] == "RuntimeError: CUDA error: an illegal memory access was encountered"
    # Without --json, stdout stays empty.
    assert main(["explain", str(tmp_path / "gone.png"), "--edit", "darken"]) == exit_codes.USAGE
    assert capsys.readouterr().out == ""


def test_what_a_library_prints_during_a_json_run_goes_to_stderr(capsys, monkeypatch):
    """Ray's "(raylet) A worker died ..." lines (printed to stdout) came before the document, which then did not
    parse."""
    import json

    from propgrad.cli import console, models

    def noisy():
        print("\x1b[33m(raylet)\x1b[0m A worker died or was killed while executing a task")
        console.emit([{"name": "a model"}])
        return exit_codes.OK

    monkeypatch.setattr(models, "run_models", noisy)
    assert main(["models", "--json"]) == exit_codes.OK
    out, err = capsys.readouterr()
    assert json.loads(out) == [{"name": "a model"}] and "A worker died" in err
    assert main(["models"]) == exit_codes.OK  # without --json, stdout is the printout's
    assert "A worker died" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # a help asked for is stdout's, --json or not
        main(["explain", "--help", "--json"])
    assert "usage:" in capsys.readouterr().out


def test_the_documented_exit_codes_are_the_ones_returned():
    text = (ROOT / "docs" / "faults-and-limits.md").read_text()
    for code in (exit_codes.OK, exit_codes.ERROR, exit_codes.USAGE, exit_codes.PARTIAL, exit_codes.NO_ROOM,
                 exit_codes.INTERRUPTED, exit_codes.TERMINATED):
        assert re.search(rf"^\| {code} \|", text, re.MULTILINE), code


def _interrupted(argv: list[str], started_when: str, stop: int = signal.SIGINT) -> tuple[int, str, list[int]]:
    """Run ``python -m propgrad argv`` in a process group of its own and, once stderr shows ``started_when``, press
    Ctrl-C as a terminal does (SIGINT to the whole group), or send ``stop`` to the command alone as ``kill`` or a
    batch system does; (status, stderr, the children it had then)."""
    import os
    import subprocess
    import sys
    import threading

    # As from a terminal: a test run started in the background (``pytest &``) hands its children Ctrl-C ignored, and
    # a program keeps a signal ignored that it was started with, so the child gets the default back first.
    process = subprocess.Popen([sys.executable, "-m", "propgrad", *argv, "--progress"], cwd=ROOT, text=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                               env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen, started = [], threading.Event()

    def read():
        for chunk in iter(lambda: process.stderr.read(1), ""):
            seen.append(chunk)
            if started_when in "".join(seen[-400:]):
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert started.wait(120), "".join(seen)[-2000:]
    children = [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    if stop == signal.SIGINT:
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, stop)
    status = process.wait(120)
    reader.join(10)
    return status, "".join(seen), children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@needs_lesions
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads a process's children from Linux's /proc")
def test_ctrl_c_exits_130_with_one_line_not_a_traceback(lesion, tmp_path):
    status, stderr, _ = _interrupted(["explain", str(lesion), "--edit", "darken", "--model", MODEL, "--steps", "60",
                                      "--permutations", "1000000", "--out", str(tmp_path / "out")], "step")
    assert status == exit_codes.INTERRUPTED, stderr[-2000:]
    assert "Traceback" not in stderr and stderr.rstrip().endswith("interrupted: nothing more was written")
    assert not (tmp_path / "out").exists()  # the --out folder made for it is not left behind empty


@pytest.mark.slow
@needs_lesions
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads a process's children from Linux's /proc")
@pytest.mark.parametrize("stop, status, words", [
    (signal.SIGINT, exit_codes.INTERRUPTED, "interrupted"),
    # SIGTERM killed the command outright: status -15, no line, and its two worker processes ran on, orphaned
    # (620 MB each, 70 s later).
    (signal.SIGTERM, exit_codes.TERMINATED, "terminated (SIGTERM)")])
def test_ctrl_c_or_sigterm_stops_a_study_on_processes_in_one_line(lesion, tmp_path, stop, status, words):
    images = tmp_path / "images"
    images.mkdir()
    from propgrad.lesions.generator import make_dataset

    for number, image in enumerate(make_dataset(6, seed=3, size=64).images):
        image.save(images / f"lesion_{number}.png")
    argv = ["study", "--images", str(images), "--edit", "darken", "--model", MODEL, "--steps", "40",
            "--permutations", "1000000", "--workers", "2", "--out", str(tmp_path / "out")]
    returned, stderr, children = _interrupted(argv, "study:", stop)  # the bar shows before the workers have started
    assert returned == status, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    # No worker runs on with its items (one that ignored Ctrl-C did, and kept the parent waiting at exit).
    time.sleep(2)
    assert not [pid for pid in children if _alive(pid)], children
    assert stderr.rstrip().endswith(f"{words}: the finished items are kept; run the same command to resume the study")


@pytest.fixture
def python_ctrl_c():
    """Python's own Ctrl-C handler for the test, as a command line starts with (a library imported by other tests
    may have put its own in place), and whatever was there back after it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_caught_inside_exec_still_exits_130(tmp_path):
    # CPython marks a KeyboardInterrupt that ends an exec of source text (a dataclass built on import) as unhandled
    # even once caught, and killed the process with SIGINT at exit: a CI run's interrupted explain ended -2.
    import os
    import subprocess
    import sys

    # Run with -m, as `python -m propgrad` is: only that way does the mark decide the exit (-c exits inside).
    (tmp_path / "interrupted_inside_exec.py").write_text(
        "import sys, propgrad.cli as cli\n"
        "cli.build_parser = lambda: exec('import os, signal; os.kill(os.getpid(), signal.SIGINT); "
        "[0 for _ in range(10 ** 6)]')\n"
        "sys.exit(cli.main(['models']))\n")
    environment = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False",
                   "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    finished = subprocess.run([sys.executable, "-m", "interrupted_inside_exec"], cwd=tmp_path, env=environment,
                              capture_output=True, text=True, timeout=120,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert finished.returncode == exit_codes.INTERRUPTED, finished.stderr[-2000:]
    assert finished.stderr.rstrip().endswith("interrupted: nothing more was written")


def test_an_error_that_follows_ctrl_c_is_the_interrupt(python_ctrl_c):
    # Arriving inside an import, CPython turned a Ctrl-C into "TypeError: expected a message argument": an
    # interrupted explain ended with status 3 and "failed: 1 of 1 explanation" (seen once in three CI runs).
    with pytest.raises(KeyboardInterrupt):
        with exit_codes.noting_interrupts():
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass  # swallowed, as the import did, and another error raised in its place
            with exit_codes.failures("explanation"):
                raise TypeError("expected a message argument")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # Without a Ctrl-C a failure is the run's: status 3, as before.
    with exit_codes.noting_interrupts():
        with exit_codes.failures("explanation") as failed:
            raise RuntimeError("a model failed")
    assert failed.status == exit_codes.PARTIAL


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_stdout_is_named_as_the_place_that_is_full():
    """`propgrad models > /dev/full` said "no space left to write ... (the files written so far are whole)": no file
    was written, stdout was full."""
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "propgrad", "models"], cwd=ROOT, stdout=full, text=True,
                              stderr=subprocess.PIPE, timeout=300)
    assert done.returncode == exit_codes.NO_ROOM, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: no space left to write the output to stdout (where it was sent is full); free some space or send it "
        "elsewhere, and run the same command again"]



def test_ctrl_c_after_the_output_is_written_leaves_the_status_done(python_ctrl_c, monkeypatch, capsys):
    """A Ctrl-C as the handlers were put back, after the whole --json document was on stdout, ended with status 130
    over a complete run (seen once with `timeout -s INT` at the end of a dynamics run)."""
    import contextlib

    noting = exit_codes.noting_interrupts

    @contextlib.contextmanager
    def interrupted_on_the_way_out():
        with noting():
            yield
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(exit_codes, "noting_interrupts", interrupted_on_the_way_out)
    assert main(["models", "--json"]) == exit_codes.OK
    assert json.loads(capsys.readouterr().out)  # the document, whole, and no error document after it

    # Before the output is out, the same Ctrl-C is the command's: 130.
    @contextlib.contextmanager
    def interrupted_inside():
        with noting():
            signal.raise_signal(signal.SIGINT)
            yield

    monkeypatch.setattr(exit_codes, "noting_interrupts", interrupted_inside)
    assert main(["models", "--json"]) == exit_codes.INTERRUPTED


def test_ctrl_c_while_a_report_is_written_says_the_folder_is_a_mix(python_ctrl_c, lesion, tmp_path, monkeypatch,
                                                                     capsys):
    """Ctrl-C after the new run's tables were written over an earlier run's folder, before its report.html: the
    line said "nothing more was written" over new CSVs beside the old page."""
    import sys

    from propgrad.export import html as html_report

    out = tmp_path / "out"
    argv = ["explain", str(lesion), "--edit", "darken", "--model", MODEL, "--steps", "4", "--permutations", "100",
            "--out", str(out)]
    assert main(argv) == exit_codes.OK
    capsys.readouterr()

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(html_report, "write", stopped)
    assert main([*argv, "--steps", "5"]) == exit_codes.INTERRUPTED  # the last --steps counts
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (f"interrupted while writing {out}: its report.json, written last, is missing, and the "
                    "folder holds this run's first files beside any earlier run's; run the same command again")
    assert not (out / "report.json").exists()
    # Stopped before writing, the earlier run's folder is whole: "nothing more was written" is then true.
    monkeypatch.undo()
    assert main(argv) == exit_codes.OK
    monkeypatch.setattr(sys.modules["propgrad.explain"], "explain", stopped)
    assert main(argv) == exit_codes.INTERRUPTED
    assert capsys.readouterr().err.strip().endswith("interrupted: nothing more was written")
    assert (out / "report.json").exists()


def test_lessons_past_the_room_leave_no_cut_off_notebook(tmp_path):
    """`lessons --notebooks` on a 12 KB disk left a notebook cut at 12,288 bytes (no JSON reader takes it) under
    "(the files written so far are whole, none is cut off)", and named no folder. A file-size limit stands in for
    the full disk."""
    import resource
    import subprocess
    import sys

    out = tmp_path / "notebooks"

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (12_288, 12_288))

    done = subprocess.run([sys.executable, "-m", "propgrad", "lessons", "--notebooks", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, preexec_fn=small_files)
    assert done.returncode == exit_codes.NO_ROOM, done.stderr
    assert str(out) in done.stderr and "none is cut off" in done.stderr
    for notebook in out.glob("*.ipynb"):
        json.loads(notebook.read_text())  # whole, or not there
    assert not list(out.glob(".*"))  # and no temporary left beside them


def test_dynamics_plot_is_checked_before_the_run_and_a_full_one_is_status_4(capsys, tmp_path, monkeypatch):
    """`--plot out.txt` failed after the whole run with matplotlib's "Format 'txt' is not supported" (status 2, which
    says nothing ran); `--plot /dev/full` ended with status 0 (matplotlib's PNG writer let the full disk pass); `--plot
    dir/` printed "plot: dir" and wrote dir.png."""
    import propgrad.lesions.dynamics

    def never(*args, **kwargs):
        raise AssertionError("the run started before --plot was checked")

    monkeypatch.setattr(propgrad.lesions.dynamics, "follow_training", never)
    assert main(["dynamics", "--plot", str(tmp_path / "out.txt"), "--steps", "3"]) == exit_codes.USAGE
    assert "`--plot` names a '.txt' file, a kind of figure matplotlib cannot write; end it in '.png', '.pdf' or " \
           "'.svg'" in stderr_lines(capsys)[-1]
    monkeypatch.undo()
    if Path("/dev/full").exists():
        assert main(["dynamics", "--plot", "/dev/full", "--steps", "3", "--permutations", "50"]) == exit_codes.NO_ROOM
        assert stderr_lines(capsys)[-1].startswith("error: no space left to write in /dev")
        assert Path("/dev/full").is_char_device()  # written in place, not renamed over
    folder = tmp_path / "plots"
    assert main(["dynamics", "--plot", f"{folder}/", "--steps", "3", "--permutations", "50"]) == exit_codes.OK
    assert f"plot: {folder / 'dynamics.png'}" in capsys.readouterr().out and (folder / "dynamics.png").is_file()
    assert main(["dynamics", "--plot", "", "--steps", "3"]) == exit_codes.USAGE  # an unset shell variable
    assert "`--plot` is empty" in stderr_lines(capsys)[-1]


def test_dynamics_plot_to_stdout_writes_the_png_into_the_pipe():
    """`--plot /dev/stdout | ...` worked, then failed after the run with status 2: the figure was written beside the
    pipe's real path (/proc/PID/fd/pipe:[...]), which cannot be opened by name."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "propgrad", "dynamics", "--steps", "3", "--permutations", "50",
                           "--plot", "/dev/stdout", "-q"], cwd=ROOT, capture_output=True, timeout=300)
    assert done.returncode == exit_codes.OK, done.stderr
    assert done.stdout.startswith(b"\x89PNG\r\n")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["dynamics", "--help"]])
def test_help_and_version_to_a_full_stdout_are_status_4(argv):
    """argparse drops a failed write: they ended with status 0, the text lost."""
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "propgrad", *argv], cwd=ROOT, stdout=full, text=True,
                              stderr=subprocess.PIPE, timeout=300)
    assert done.returncode == exit_codes.NO_ROOM, done.stderr
    assert done.stderr.startswith("error: no space left to write the output to stdout")
