"""The lesson pages the app's header links: unexecuted at once, then replaced by executed ones (without the teacher's
solutions) in the same folder, so that the link stays the same (propgrad/app/lesson_pages.py)."""
from __future__ import annotations

import os

import pytest

from propgrad import lessons
from propgrad.app import lesson_pages
from propgrad.app.failing import Failing

LESSON = '''# %% [markdown]
# # Lesson 1: a tiny lesson
#
# One cell that prints, one exercise, the teacher's solution.

# %%
print("the answer is", 6 * 7)

# %% [markdown]
# **Exercise 1.** Set `x` to 3.

# %%
x = None  # your answer

# %% tags=["solution"]
# (Teacher's solution)
x = 3

# %%
print("Exercise 1:", "correct." if x == 3 else "not yet.", "The answer is x =", 3)

# %% [markdown]
# ## In the app
#
# Open [the first tab's preset](/?example=fur-vs-background).
#
# ## Teacher's notes
#
# Exercise 1: x = 3 because three.
'''


def _one_lesson_course(tmp_path, monkeypatch) -> None:
    """The app's lesson pages made from :data:`LESSON` alone, into a folder of this process's own."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "01_a_tiny_lesson.py").write_text(LESSON)
    monkeypatch.setenv(lessons.LESSONS_ENV, str(course))
    monkeypatch.delenv(lesson_pages.PAGES_ENV, raising=False)


@pytest.mark.slow
@pytest.mark.skipif(bool(lessons.missing_packages()), reason="the lessons extra is not installed")
def test_the_linked_pages_are_replaced_by_executed_ones_without_the_solutions(tmp_path, monkeypatch):
    _one_lesson_course(tmp_path, monkeypatch)
    monkeypatch.setattr(lesson_pages, "_FOLDER", [])
    link = lesson_pages.link()
    folder = lesson_pages.folder()
    assert link.endswith(f"{folder}/index.html")
    page = folder / "01-a-tiny-lesson.html"
    assert "not executed here" in (folder / "index.html").read_text() and "the answer is 42" not in page.read_text()

    assert lesson_pages.execute_into_folder(timeout_s=300)
    assert lesson_pages.link() == link  # the same link, now to the executed pages
    text = page.read_text()
    assert "the answer is 42" in text and "In the app" in text  # outputs (the solution ran)
    # Served by this app wherever it runs: its links stay relative (they named http://127.0.0.1:7860, the visitor's own
    # machine, once the executed pages replaced these).
    assert 'href="/?example=fur-vs-background"' in text and "127.0.0.1" not in text
    # But nothing of the solution reaches students: the cell, the checking cell's "correct" and answer, the notes.
    assert "Teacher's solution" not in text and "Exercise 1: correct." not in text and "x = 3" not in text
    assert "Teacher's notes" not in text and "because three" not in text
    assert "Executed top to bottom" in (folder / "index.html").read_text()
    assert not list(folder.glob(".*.new"))


def test_no_child_where_the_pages_were_given_or_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv(lesson_pages.EXECUTE_ENV, "0")
    assert lesson_pages.execute_later(None) is None
    monkeypatch.setenv(lesson_pages.EXECUTE_ENV, "1")
    monkeypatch.setenv(lesson_pages.PAGES_ENV, str(tmp_path))
    assert lesson_pages.execute_later(None) is None and lesson_pages.folder() == tmp_path.resolve()
    assert lesson_pages.execute_into_folder() is False


@pytest.mark.skipif(os.name != "posix", reason="the folders' locks are POSIX flocks")
def test_a_killed_servers_lesson_folder_goes_at_the_next_start(tmp_path, monkeypatch):
    """Each start made a folder that only an exit handler removed: 213 had piled up in /tmp."""
    import fcntl
    import time

    monkeypatch.setattr(lesson_pages.tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv(lesson_pages.PAGES_ENV, raising=False)
    monkeypatch.setattr(lesson_pages, "_FOLDER", [])
    orphan, alive = tmp_path / "propgrad-lessons-killed", tmp_path / "propgrad-lessons-running"
    scratch, old = tmp_path / "propgrad-lessons-run-xyz", tmp_path / "propgrad-lessons-older-version"
    for folder in (orphan, alive, scratch, old):
        folder.mkdir()
    (orphan / ".owner.lock").touch()  # its server was killed: nobody holds the lock
    held = open(alive / ".owner.lock", "w")
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another server, running
    os.utime(old, (time.time() - 2 * 86_400,) * 2)  # no lock file, two days old
    try:
        made = lesson_pages.folder()
    finally:
        held.close()
    assert made.parent == tmp_path and (made / ".owner.lock").is_file()
    assert not orphan.exists() and not old.exists() and alive.exists() and scratch.exists()
    # And this server's own folder is held: the next start leaves it alone.
    monkeypatch.setattr(lesson_pages, "_FOLDER", [])
    assert lesson_pages.folder() != made and made.exists()


def test_lesson_pages_removed_by_something_else_are_written_again_at_the_same_link(tmp_path, monkeypatch):
    # A cleaner of old temporary files emptied the folder the header's link names for the server's life: the link
    # answered "File not found" until a restart. A page load writes them again, where the link expects them.
    import shutil

    _one_lesson_course(tmp_path, monkeypatch)
    monkeypatch.setenv(lesson_pages.EXECUTE_ENV, "0")  # executed again in the background elsewhere; not here
    monkeypatch.setattr(lesson_pages.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(lesson_pages, "_FOLDER", [])
    link = lesson_pages.link()
    assert lesson_pages.put_back() is False  # nothing gone
    shutil.rmtree(lesson_pages.folder())
    assert lesson_pages.put_back() is True
    assert lesson_pages.link() == link and (lesson_pages.folder() / "01-a-tiny-lesson.html").is_file()
    assert (lesson_pages.folder() / "index.html").is_file() and lesson_pages.put_back() is False


@pytest.mark.skipif(os.name != "posix", reason="a folder's owner and mode")
def test_lesson_pages_are_not_written_into_a_folder_someone_else_made_at_their_path(tmp_path, monkeypatch):
    # The folder's path is public (the page's own link), and /tmp is shared: one made there by someone else after a
    # cleaner ran could hold links to files the server would overwrite, or pages it would serve as its own.
    import shutil

    _one_lesson_course(tmp_path, monkeypatch)
    monkeypatch.setenv(lesson_pages.EXECUTE_ENV, "0")
    monkeypatch.setattr(lesson_pages.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(lesson_pages, "_FOLDER", [])
    monkeypatch.setattr(lesson_pages, "_FAILING", Failing())
    folder = lesson_pages.folder()
    (folder / "01-a-tiny-lesson.html").unlink()  # one page alone gone: written again too
    assert lesson_pages.put_back() is True and (folder / "01-a-tiny-lesson.html").is_file()
    assert len(lesson_pages._HELD) == 1  # the old lock's handle let go, not one more kept open per put-back
    shutil.rmtree(folder)
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)  # made by someone else, for anyone to write into
    assert lesson_pages.put_back() is False and list(folder.iterdir()) == []
    folder.chmod(0o700)
    assert lesson_pages.put_back() is True and (folder / "index.html").is_file()
