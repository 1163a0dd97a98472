"""A full disk during a study or an explain: one clear line (which folder, how much), exit status 4, a journal that
stays valid, and the same command completes the work once there is room, with files equal to a run that never
ran out of space. A tmpfs of a few pages inside ``unshare -m`` gives a real ENOSPC (tests/faults.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from faults import ROOT, in_tmpfs, needs_tmpfs

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (ROOT / "assets" / "lesions").is_dir(), reason="the lesion models are not here")]
MODEL = "Lesion CNN (biased)"
STICKER = ROOT / "assets" / "lesions" / "patches" / "sticker_1.png"


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    from propgrad.lesions.generator import make_dataset

    folder = tmp_path_factory.mktemp("full-disk-lesions")
    for number, image in enumerate(make_dataset(8, seed=4, size=64).images):
        image.save(folder / f"lesion_{number}.png")
    return folder


def study_argv(images: Path, out: str) -> list[str]:
    return ["-m", "propgrad", "study", "--images", str(images), "--patch", str(STICKER), "--steps", "4",
            "--position", "0.8", "0.2", "--model", MODEL, "--permutations", "100", "--seed", "3", "--out", out,
            "--no-progress"]


def test_a_study_stopped_by_a_full_disk_resumes_to_the_same_files(images, tmp_path):
    needs_tmpfs()
    reference = tmp_path / "reference"
    done = subprocess.run([sys.executable, *study_argv(images, str(reference))], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    command = " ".join(f"'{part}'" for part in study_argv(images, str(tmp_path / "disk" / "study")))
    # 16 KB, four pages: study.json, results.csv, curves.csv and the journal fill it after a few items.
    script = f"""
mount -t tmpfs -o size=16k tmpfs "$DIR"
status=0; "$PY" {command} >"$DIR/../first.out" 2>"$DIR/../first.err" || status=$?
echo "first=$status"
cp "$DIR/study/items.jsonl" "$DIR/../journal-when-full.jsonl"
mount -o remount,size=4m "$DIR"
status=0; "$PY" {command} >"$DIR/../second.out" 2>"$DIR/../second.err" || status=$?
echo "second=$status"
cp "$DIR/study/results.csv" "$DIR/study/curves.csv" "$DIR/study/items.jsonl" "$DIR/.."
"""
    done = in_tmpfs(tmp_path / "disk", script)
    assert done.returncode == 0, done.stderr
    assert "first=4" in done.stdout and "second=0" in done.stdout, (done.stdout, (tmp_path / "second.err").read_text())
    first_err = [line for line in (tmp_path / "first.err").read_text().splitlines() if line.strip()]
    assert first_err[-1].startswith(f"error: no space left to write in {tmp_path / 'disk' / 'study'}"), first_err
    assert "were being written" in first_err[-1] and "run the same command again" in first_err[-1]
    # The journal the full disk left is valid JSON lines: each finished item once, none of them failed.
    journal = [json.loads(line) for line in (tmp_path / "journal-when-full.jsonl").read_text().splitlines()]
    assert 0 < len(journal) < 8 and all(entry["status"] == "ok" for entry in journal)
    for name in ("results.csv", "curves.csv"):
        assert (tmp_path / name).read_bytes() == (reference / name).read_bytes(), name
    assert len((tmp_path / "items.jsonl").read_text().splitlines()) == 8


@pytest.mark.parametrize("size", ["4k", "16k"])  # 4k: the disk fills while report.json is written (it was cut off)
def test_an_explain_that_cannot_write_says_where_and_runs_again(images, tmp_path, size):
    needs_tmpfs()
    image = images / "lesion_0.png"
    argv = ["-m", "propgrad", "explain", str(image), "--edit", "darken", "--steps", "4", "--model", MODEL,
            "--permutations", "100", "--no-progress", "--out", str(tmp_path / "disk" / "report")]
    command = " ".join(f"'{part}'" for part in argv)
    script = f"""
mount -t tmpfs -o size={size} tmpfs "$DIR"
status=0; "$PY" {command} >/dev/null 2>"$DIR/../first.err" || status=$?
echo "first=$status"
for f in "$DIR"/report/*; do [ -e "$f" ] || continue
  "$PY" -c "import sys; from pathlib import Path; p = Path(sys.argv[1]); assert p.stat().st_size > 0
if p.suffix == '.png':
    from PIL import Image; Image.open(p).load()
if p.suffix == '.json':
    import json; json.loads(p.read_text())" "$f" 2>/dev/null || echo "cut-off=$f"; done
mount -o remount,size=8m "$DIR"
status=0; "$PY" {command} >/dev/null 2>"$DIR/../second.err" || status=$?
echo "second=$status"
ls "$DIR/report"
"""
    done = in_tmpfs(tmp_path / "disk", script)
    assert done.returncode == 0, done.stderr
    assert "first=4" in done.stdout and "second=0" in done.stdout, (done.stdout, (tmp_path / "first.err").read_text())
    first_err = [line for line in (tmp_path / "first.err").read_text().splitlines() if line.strip()]
    assert first_err[-1].startswith("error: no space left to write in ") and str(tmp_path / "disk") in first_err[-1]
    # No file cut off by the full disk passes for a finished one (a truncated PNG, an empty report.html were left),
    # and the full disk is not reported as a figure that failed to draw (a raw UserWarning).
    assert "cut-off=" not in done.stdout, done.stdout
    assert "Warning" not in "\n".join(first_err), first_err
    assert "report.json" in done.stdout
