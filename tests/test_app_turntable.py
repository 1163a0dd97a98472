"""The turntable tab's handler: uploaded frames, CLIP zero-shot and its missing weights."""
from __future__ import annotations

import pytest

from app_cases import *  # noqa: F403  (helpers and fixtures)

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_turntable_default_frames_score_the_mug(progress):
    outputs = turntable_call(progress)
    report = check_outputs(outputs, 1)
    assert outputs[4][0][1] == "coffee mug"
    assert report["property_name"] == "turntable angle (degrees)"
    assert report["values"][:2] == [0.0, 60.0]


def test_a_series_that_is_not_gradual_says_so_beside_its_reading(progress):
    # The talk view shows a single run's reading and no notes: the preset of every third frame, which the
    # gradualness check refuses, read "the flip at step 2 is the evidence" on a projector with no word of it.
    summary = turntable_call(progress, frames=turntable_tab.turntable_frames()[::3])[0]
    reading_block = summary.split('<div class="summary-reading">', 1)[1].split("</div>", 1)[0]
    assert "**Not gradual**: a series that is not gradual measures the intervention as much as the model" in reading_block
    gradual = turntable_call(progress, frames=turntable_tab.turntable_frames())[0]
    assert "Not gradual" not in gradual.split('<div class="summary-reading">', 1)[1].split("</div>", 1)[0]


def test_clip_without_weights_says_how_to_get_them(progress, monkeypatch, tmp_path):
    # A local checkpoint path that does not exist: no download is tried, the message names the problem.
    with pytest.raises(gr.Error) as caught:
        turntable_call(progress, use_clip=True, clip_pretrained=str(tmp_path / "missing.bin"))
    assert "clip" in caught.value.message.lower()
    assert shared.GENERIC_ERROR != caught.value.message


def test_clip_tag_without_weights_says_first_what_a_student_can_do(progress):
    # The hub tag on a server without its weights: untick the box comes first, the operator's details after.
    with pytest.raises(gr.Error) as caught:
        turntable_call(progress, use_clip=True)
    message = caught.value.message
    assert message.startswith("CLIP cannot run here: untick 'Add CLIP zero-shot' to use the other models")
    assert "What is missing: " in message and "openai" in message


def test_an_upload_over_the_example_replaces_its_frames(tmp_path):
    # gradio's multiple-file box adds an upload to the example's 36 mug frames; the tab keeps only the user's own.
    import shutil

    from PIL import Image

    from propgrad.app.tabs.turntable import turntable_frames, without_example_frames

    example = [shutil.copy(path, tmp_path / f"copy_{i}.png") for i, path in enumerate(turntable_frames())]
    own = []
    for i, colour in enumerate(("red", "green", "blue")):
        own.append(str(tmp_path / f"mine_{i}.png"))
        Image.new("RGB", (64, 64), colour).save(own[-1])
    assert without_example_frames([*map(str, example), *own]) == own
    # The example alone, or the user's frames added to their own, stay as they are.
    assert without_example_frames(list(map(str, example))) == list(map(str, example))
    assert without_example_frames(own) == own
    # Frames of one's own cover an unknown turn: numbered, not read as the mug's 360 degrees ("90 degrees" a step of
    # four); a turn the visitor typed, or the example's frames, keep their rotation.
    from propgrad.app.tabs.turntable import frames_uploaded

    assert frames_uploaded([*map(str, example), *own], 360) == (own, 0)
    assert frames_uploaded(own, 90) == (own, 90)
    assert frames_uploaded([*map(str, example), *own], 360, typed=True) == (own, 360)  # a full turn, typed
    assert frames_uploaded(list(map(str, example)), 360) == (list(map(str, example)), 360)
