"""Studies in the app: several images or zips through the edit and patch tabs, and every bad upload."""
from __future__ import annotations

import re
import uuid
import zipfile

import pytest

from app_cases import *  # noqa: F403  (helpers and fixtures)
from propgrad.formats import format_output

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_a_patch_study_over_several_images_aggregates_them(progress):
    images = [CHELSEA, str(ASSETS / "examples" / "coffee.jpg"), str(ASSETS / "examples" / "rocket.jpg")]
    summary, sheet, animation, curves, table, scatter, bundle = patch_call(
        progress, study_files=images, patch_names=["rainbow disc", "rings"], **model_args(permutations=500))
    assert "3 images" in summary and "mean \u00b1 std" in summary
    assert len(table) == 1 and table.iloc[0]["images (series)"] == "3 (6)"
    # What the mean output did comes first (its tier, change, flips, start and end), the statistic and its test
    # after: summary.md's columns, in the one number format, and no ASCII arrow on the page.
    assert list(table.columns)[:7] == ["model", "intervention", "output", "tier", "change of the mean curve (ranked)",
                                       "series with a flip", "mean output, step 0 \u2192 last"]
    assert table.columns[7] == "E[|grad_X F|] mean \u00b1 std" and table.columns[8].startswith("significant")
    start, end = table.iloc[0]["mean output, step 0 \u2192 last"].split(" \u2192 ")
    assert start == format_output(float(start)) and end == format_output(float(end))  # as the readings say them
    # The page: the reading in words first, then the table that wraps (summary.md's wide table is in the zip).
    assert summary.index("**Reading:**") < summary.index('<div class="study-table">') and " -> " not in summary
    assert "| tier |" in summary and "Does the score predict flips?" in summary
    assert Image.open(curves).format == "PNG" and Image.open(sheet).format == "PNG" and animation is None
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        rows = archive.read("results.csv").decode().strip().splitlines()
    assert {"results.csv", "curves.csv", "summary.csv", "summary.md", "report.html"} <= names
    assert len(rows) == 1 + 3  # one row per image x model x output
    # Named by what it was made with: another patch size is another download (it shared the name: the study's
    # own settings name each intervention by its label only).
    assert re.fullmatch(r"propgrad-study-of-3-images-[0-9a-f]{6}\.zip", Path(bundle).name)
    other = patch_call(progress, study_files=images, patch_names=["rainbow disc", "rings"], scale=0.2,
                       **model_args(permutations=500))[6]
    assert Path(other).name != Path(bundle).name


def test_a_study_zip_cannot_write_outside_its_folder(progress, tmp_path):
    archive_path = tmp_path / "images.zip"
    absolute = f"/tmp/propgrad-escaped-{uuid.uuid4().hex}.jpg"  # a fixed name left by another run failed the test
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.write(CHELSEA, "../../escaped_chelsea.jpg")
        archive.write(ASSETS / "examples" / "coffee.jpg", absolute)
        archive.writestr("notes.txt", "not an image")
    outputs = edit_call(progress, study_files=[str(archive_path)], regions=["whole image"],
                        **model_args(permutations=500))
    assert "2 images" in outputs[0]
    assert not Path(absolute).exists() and not (tmp_path.parent.parent / "escaped_chelsea.jpg").exists()


def _cut_short_jpeg(tmp_path) -> str:
    data = Path(CHELSEA).read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    return str(tmp_path / "cut.jpg")


@pytest.mark.parametrize("files, words", [
    (lambda t: [CHELSEA], "at least 2 images"),
    (lambda t: [CHELSEA] * 25, "at most 24"),
    (lambda t: [_text_file(t), CHELSEA], "accepted: .png"),
    (lambda t: [str(_broken_zip(t)), CHELSEA], "not a readable zip"),
    # one readable image and a broken one: a "study" of one image (the broken file counted toward the two)
    (lambda t: [_corrupt_png(t), CHELSEA], r"at least 2 readable images, got 1 \('.*' could not be read\)"),
    # a cut-short JPEG passes Pillow's verify(); the study's own loader refuses it
    (lambda t: [_cut_short_jpeg(t), CHELSEA], r"at least 2 readable images, got 1 \('cut.jpg' could not be read\)"),
])
def test_bad_study_uploads_are_named(progress, tmp_path, files, words):
    with pytest.raises(gr.Error, match=words):
        patch_call(progress, study_files=files(tmp_path))


def test_an_unreadable_study_image_is_skipped_and_listed(progress, tmp_path):
    outputs = patch_call(progress, study_files=[CHELSEA, str(ASSETS / "examples" / "coffee.jpg"), _corrupt_png(tmp_path)],
                         **model_args(permutations=500))
    assert "skipped (unreadable): `" in outputs[0] and outputs[4].iloc[0]["images (series)"] == "2 (2)"


def test_a_painted_mask_cannot_be_used_for_a_study(progress):
    with pytest.raises(gr.Error, match="belongs to one image"):
        edit_call(progress, study_files=[CHELSEA, CHELSEA], regions=["painted or uploaded mask"], painted=_painted(True))


def test_two_study_zips_with_the_same_names_keep_every_image(tmp_path):
    from propgrad.app.study import study_images

    archives = []
    for number, grey in enumerate((10, 200)):
        archive_path = tmp_path / f"images{number}.zip"
        with zipfile.ZipFile(archive_path, "w") as archive:
            for name, shade in (("a.png", grey), ("b.png", grey + 20)):
                buffer = __import__("io").BytesIO()
                Image.new("RGB", (20, 20), (shade,) * 3).save(buffer, "PNG")
                archive.writestr(name, buffer.getvalue())
        archives.append(str(archive_path))
    out = tmp_path / "out"
    out.mkdir()
    paths = study_images(archives, out)
    assert sorted(Image.open(p).getpixel((0, 0))[0] for p in paths) == [10, 30, 200, 220]


def test_many_study_zips_are_refused_before_anything_is_unpacked(tmp_path):
    from propgrad.app.study import study_images

    archives = []
    for number in range(2):
        archive_path = tmp_path / f"zeros{number}.zip"
        with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member in range(20):
                archive.writestr(f"{number}_{member}.png", b"\0" * 2**20)
        archives.append(str(archive_path))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="at most 24"):
        study_images(archives, out)
    assert not any(out.iterdir())


def test_a_damaged_zip_entry_names_the_box(tmp_path, progress):
    archive_path = tmp_path / "crc.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.write(CHELSEA, "a.jpg")
        archive.write(CHELSEA, "b.jpg")
    data = bytearray(archive_path.read_bytes())
    data[200] ^= 0xFF  # inside the first member's compressed bytes: its CRC no longer matches
    archive_path.write_bytes(bytes(data))
    with pytest.raises(gr.Error, match="`study images`.*cannot be unpacked"):
        patch_call(progress, study_files=[str(archive_path)])


def test_an_unticked_painted_region_does_not_block_a_study(progress):
    outputs = edit_call(progress, study_files=[CHELSEA, str(ASSETS / "examples" / "coffee.jpg")],
                        regions=["whole image"], painted=_painted(True), **model_args(permutations=300))
    assert "2 images" in outputs[0]
