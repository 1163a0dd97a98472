"""The visitors' folders kept within a size and the disk's free space, and a full disk said as such
(propgrad.app.folders)."""
from __future__ import annotations

import errno
import os
import time
from collections import namedtuple
from pathlib import Path

import gradio as gr
import pytest

from propgrad.app import folders, shared
from propgrad.disk import NoRoomError

from faults import in_tmpfs, needs_tmpfs

MB = 2**20
Usage = namedtuple("Usage", "total used free")


def made_run(root: Path, name: str, size: int, age: float) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "answer.zip").write_bytes(b"z" * size)
    made = time.time() - age
    os.utime(folder, (made, made))
    return folder


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(folders, "_SIZES", {})
    monkeypatch.setattr(folders.shutil, "disk_usage", lambda _: Usage(100 * MB, 0, 100 * MB))
    return tmp_path


def test_the_oldest_runs_go_first_while_the_runs_hold_more_than_the_cap(root):
    oldest = made_run(root, "run-a", 3 * MB, age=1800)
    older = made_run(root, "run-b", 3 * MB, age=1200)
    recent = made_run(root, "run-c", 3 * MB, age=600)
    default = made_run(root, "default-x", 3 * MB, age=1800)
    removed = folders.make_room(root, max_bytes=5 * MB, min_free=0)
    assert removed == [oldest, older]
    assert recent.is_dir() and default.is_dir(), "a newer run or a tab's default result was removed"


def test_a_run_that_may_still_be_writing_is_never_removed(root):
    # Ten seconds old: its zip may be being written, or its page about to ask for it.
    writing = made_run(root, "run-a", 9 * MB, age=10)
    assert folders.make_room(root, max_bytes=1 * MB, min_free=0) == []
    assert writing.is_dir()


def test_runs_go_while_the_disk_has_less_than_the_free_space_asked_for(root, monkeypatch):
    first = made_run(root, "run-a", 2 * MB, age=900)
    second = made_run(root, "run-b", 2 * MB, age=800)
    monkeypatch.setattr(folders.shutil, "disk_usage", lambda _: Usage(100 * MB, 97 * MB, 3 * MB))
    # Under the size cap, but 3 MB free where 4 are asked for: one run of 2 MB is enough.
    assert folders.make_room(root, max_bytes=100 * MB, min_free=4 * MB) == [first]
    assert second.is_dir()


def test_runs_older_than_an_hour_go_whatever_the_room(root):
    stale = made_run(root, "run-a", 10, age=folders.RESULT_TTL_S + 60)
    fresh = made_run(root, "run-b", 10, age=folders.IN_USE_S + 60)
    assert folders.make_room(root, max_bytes=100 * MB, min_free=0) == [stale]
    assert fresh.is_dir()


def test_expired_runs_go_first_and_the_room_they_leave_is_counted(root, monkeypatch):
    # The free space was measured before the hour-old runs went: recent runs were removed for room those had left.
    def disk(_):
        held = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
        return Usage(100 * MB, held, 10 * MB - held)

    monkeypatch.setattr(folders.shutil, "disk_usage", disk)
    expired = made_run(root, "run-a", 4 * MB, age=folders.RESULT_TTL_S + 60)
    recent = made_run(root, "run-b", 4 * MB, age=600)
    # 2 MB free, 5 asked for: the expired run's 4 MB are enough.
    assert folders.make_room(root, max_bytes=100 * MB, min_free=5 * MB) == [expired]
    assert recent.is_dir()


def test_a_run_whose_handler_still_runs_is_never_removed(root, monkeypatch):
    # A study writes only inside its subfolders for minutes: its own folder's time stood still, and another visitor's
    # request removed it mid-run.
    monkeypatch.setattr(folders, "_ROOT", root)
    with folders.in_use():
        study = folders.request_dir()
        (study / "results.csv").write_bytes(b"r" * (2 * MB))
        long_ago = time.time() - folders.RESULT_TTL_S - 60
        os.utime(study, (long_ago, long_ago))
        assert folders.make_room(root, max_bytes=0, min_free=0) == []
        assert study.is_dir()
    # Once its handler has answered, its time starts again: the page's zip is still to come.
    assert time.time() - study.stat().st_mtime < 5
    assert folders.make_room(root, max_bytes=0, min_free=0) == [] and study.is_dir()
    assert folders.make_room(root, max_bytes=0, min_free=0, now=time.time() + folders.IN_USE_S + 1) == [study]


def test_a_handler_on_a_full_disk_is_refused_before_it_computes_and_says_why(monkeypatch):
    # It said "Something went wrong ... Try smaller images or fewer steps", after computing the whole run.
    monkeypatch.setattr(folders.shutil, "disk_usage", lambda _: Usage(100 * MB, 100 * MB, 1 * MB))
    calls = []
    guarded = shared.friendly_errors(lambda: calls.append(1))
    with pytest.raises(gr.Error) as refused:
        guarded()
    assert calls == [], "the run was computed although its files could not be written"
    assert refused.value.message == shared.NO_ROOM_ERROR and "disk is full" in refused.value.message


def test_a_write_that_finds_the_disk_full_mid_run_says_so():
    def writes():
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(gr.Error) as refused:
        shared.friendly_errors(writes)()
    assert refused.value.message == shared.NO_ROOM_ERROR
    # Any other OSError of the server's stays the generic message (and is logged with its traceback).
    with pytest.raises(gr.Error) as other:
        shared.friendly_errors(lambda: open("/nonexistent/propgrad-test"))()
    assert other.value.message == shared.GENERIC_ERROR


def test_a_no_room_error_from_the_writer_process_arrives_whole_and_is_said_as_such():
    # The writer process sends its errors back pickled: a NoRoomError came back as an AttributeError, and the visitor
    # read "something went wrong" instead of "the disk is full".
    import pickle
    import sqlite3

    error = NoRoomError(OSError(errno.ENOSPC, "No space left on device", "/srv/run/report.json"), "/srv/run", 2048)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is NoRoomError and str(again) == str(error) and again.needed == 2048
    for raised in (again, sqlite3.OperationalError("database or disk is full")):
        def failing(raised=raised):
            raise raised

        with pytest.raises(gr.Error) as refused:
            shared.friendly_errors(failing)()
        assert refused.value.message == shared.NO_ROOM_ERROR


def test_check_room_raises_no_room_naming_the_folder(monkeypatch):
    monkeypatch.setattr(folders.shutil, "disk_usage", lambda _: Usage(100 * MB, 100 * MB, 0))
    with pytest.raises(NoRoomError) as refused:
        folders.check_room()
    assert "no space left to write in" in str(refused.value)


@pytest.mark.slow
def test_the_first_tab_on_a_really_full_disk_says_the_disk_is_full(tmp_path):
    needs_tmpfs()
    script = ("from propgrad.app.shared import friendly_errors\nfrom propgrad.app.tabs import edit\n"
              "try:\n    friendly_errors(edit.default_result)()\n"
              "except Exception as error:\n    print('refused:', getattr(error, 'message', error))\n")
    done = in_tmpfs(tmp_path / "disk", f"""
mount -t tmpfs -o size=8m tmpfs "$DIR"
dd if=/dev/zero of="$DIR/fill" bs=1M count=7 2>/dev/null
TMPDIR="$DIR" GRADIO_TEMP_DIR="$DIR/gradio" "$PY" -c "{script}"
""")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"refused: {shared.NO_ROOM_ERROR}" in done.stdout, (done.stdout, done.stderr[-2000:])
