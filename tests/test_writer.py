"""The app's report writer process (propgrad/app/writer.py): work done there, and done here when it cannot be."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from propgrad.app import writer


def test_a_call_runs_in_another_process_and_returns_its_result():
    assert writer.call(os.getpid) != os.getpid()
    assert writer.call(divmod, 17, 5) == (3, 2)


def test_an_exception_there_is_raised_here_with_its_type_and_message():
    with pytest.raises(ValueError, match="invalid literal"):
        writer.call(int, "seventeen")


def test_arguments_that_cannot_travel_are_worked_on_here():
    unpicklable = lambda: 0  # noqa: E731 - a lambda cannot be pickled
    assert writer.call(id, unpicklable) == id(unpicklable)  # the same object: the call ran in this process


def test_a_writer_that_died_is_replaced(monkeypatch):
    monkeypatch.setattr(writer, "_FAILURES", 0)
    first_child = writer.call(os.getpid)
    writer._CHILD.kill()
    writer._CHILD.wait()
    assert writer.call(os.getpid) not in (os.getpid(), first_child)


def test_a_writer_that_dies_during_a_call_is_given_up_on_after_two_deaths(monkeypatch):
    monkeypatch.setattr(writer, "_FAILURES", 0)
    for death in (1, 2):
        child = writer.call(os.getpid)
        # Made here (the child busy with another caller's call), the next call would kill the test run itself.
        assert child != os.getpid()
        # The child kills itself mid-call; the call is then made here, where that process is gone.
        with pytest.raises(ProcessLookupError):
            writer.call(os.kill, child, signal.SIGKILL)
        assert writer._FAILURES == death
    assert writer.call(os.getpid) == os.getpid()  # from now on the work stays in this process


def test_a_busy_writer_leaves_the_second_caller_to_work_here():
    with writer._LOCK:
        assert writer.call(os.getpid) == os.getpid()


def test_two_callers_at_once_both_get_their_answers():
    answers = {}

    def ask(number):
        answers[number] = writer.call(divmod, number, 3)

    threads = [threading.Thread(target=ask, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {number: divmod(number, 3) for number in range(8)}


def test_the_writer_finds_propgrad_from_any_working_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "_FAILURES", 0)
    if writer._CHILD is not None:
        writer._CHILD.kill()
        writer._CHILD.wait()
    monkeypatch.chdir(tmp_path)
    assert writer.call(os.getcwd) == str(tmp_path)  # a new child, started here, that answered
    assert writer._FAILURES == 0
    from propgrad import formats

    assert writer.call(formats.format_number, 0.031234) == formats.format_number(0.031234)
    assert writer._FAILURES == 0  # answered by the child, not by the fallback here
