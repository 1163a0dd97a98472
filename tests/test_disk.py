"""Files written whole (propgrad.disk.replacing) and the line a write's failure gets (disk.describe)."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from propgrad import disk


def test_a_replaced_file_keeps_its_mode_and_a_link_keeps_pointing_at_it(tmp_path):
    """A 0640 report became 0644 (world-readable) when renamed over; a link became a file, its target left stale."""
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    disk.write_whole(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(path.name for path in tmp_path.iterdir()) == ["latest.json", "report.json"]


def test_two_writers_never_share_a_temporary(tmp_path):
    """A fixed temporary name let two writers of one file truncate each other's text."""
    target = tmp_path / "summary.md"
    with disk.replacing(target) as first, disk.replacing(target) as second:
        first.write("first")
        second.write("second")
        names = [path.name for path in tmp_path.iterdir()]
        assert len(names) == 2 and all(disk.is_partial(Path(name)) for name in names), names
    assert target.read_text() == "first" and [path.name for path in tmp_path.iterdir()] == ["summary.md"]


def test_a_folder_that_takes_no_new_file_still_has_its_file_rewritten(tmp_path, monkeypatch):
    """A shared results folder the user may not add files to, holding a report the user may write: written in place,
    as before the temporaries (run as root, no folder refuses; the refusal is made here)."""
    target = tmp_path / "summary.md"
    target.write_text("old")
    real_open = os.open

    def no_new_files(name, flags, *args):
        if flags & os.O_CREAT and disk.is_partial(Path(name)):
            raise PermissionError(errno.EACCES, "Permission denied", str(name))
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", no_new_files)
    assert disk.write_whole(target, "new").read_text() == "new"
    with pytest.raises(PermissionError):  # a new file in that folder: refused, as the folder says
        disk.write_whole(tmp_path / "other.md", "text")


def test_a_study_folder_holding_only_a_cut_temporary_is_a_new_study(tmp_path):
    """A power cut while study.json was written left only its temporary: the folder was refused as "not empty and
    holds no study" while `ls` showed it empty."""
    from propgrad.study.store import ResultsStore

    (tmp_path / f".study.json.4242-0a1b2c3d{disk.PARTIAL_SUFFIX}").write_text('{"fingerp')
    store = ResultsStore(tmp_path, {"fingerprint": "abc", "definition": None})
    assert store.finished() == set()


def test_an_out_folder_removed_during_the_run_is_said_so(tmp_path, monkeypatch):
    """`rm -rf` of --out while a study ran said "the folder cannot be made there; choose another folder" (and a
    relative --out, as typed, was not recognised as the folder of the file that failed)."""
    monkeypatch.chdir(tmp_path)
    gone = Path("gone-out")
    with pytest.raises(disk.NoRoomError) as caught, disk.writing_to(gone):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory",
                                str(gone / f".results.csv.4242-0a1b2c3d{disk.PARTIAL_SUFFIX}"))
    assert disk.describe(caught.value) == (f"cannot write results.csv: the folder {tmp_path / 'gone-out'} was removed "
                                           f"while the command ran; run the same command again")
    # A folder that could not be made at the start is still said so; an error naming no folder claims no removal.
    made = FileNotFoundError(errno.ENOENT, "No such file or directory", str(tmp_path / "never" / "made"))
    assert "cannot be made there" in disk.describe(made)
