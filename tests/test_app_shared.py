"""The Run button's wiring (propgrad.app.shared) with stand-in handlers: no model runs, no server."""
from __future__ import annotations

import shutil

import gradio as gr

from propgrad.app import results, shared


def _single_run(*_args, **_kwargs):
    results.DEFER.get().append(type("Run", (), {})())  # what a single run leaves for finish_run
    return ("summary", "strip.png", None, "curves.png", [], None, None)


def _study(*_args, **_kwargs):
    return ("summary", "images.png", None, "mean_curves.png", [], "score_vs_flips.png", "study.zip")


def test_a_study_hides_the_empty_animation_and_names_the_figure_in_the_null_plots_place():
    """A study answered into the single run's layout: its score-against-flips plot sat under "Null distributions:
    how the shuffle test decided", and "Animation" opened on nothing."""
    *_, animation_fold, null_fold = shared.shown_first(_study, folds=True)()
    assert animation_fold == gr.update(visible=False)
    assert null_fold == gr.update(label=shared.STUDY_FOLD, visible=True)
    # A study without that figure (no series to place) leaves the accordion out rather than open it on nothing.
    no_figure = lambda: (*_study()[:5], None, "study.zip")  # noqa: E731
    assert shared.shown_first(no_figure, folds=True)()[-1] == gr.update(label=shared.STUDY_FOLD, visible=False)


def test_a_single_run_after_a_study_gets_the_accordions_back():
    *_, animation_fold, null_fold = shared.shown_first(_single_run, folds=True)()
    assert animation_fold == gr.update(visible=True)
    assert null_fold == gr.update(label=shared.NULL_FOLD, visible=True)


def test_a_failed_run_gives_the_accordions_back_too():
    def refused(*_args, **_kwargs):
        raise gr.Error("`steps` must be at least 3")

    outputs = shared.shown_first(refused, folds=True)()
    assert outputs[0] == shared.FAILED and outputs[-2:] == shared.fold_titles()


def test_a_tab_without_accordions_gets_no_updates_for_them():
    assert len(shared.shown_first(_single_run)()) == 7 + 2  # the answer, the run, the form's error box


def test_a_number_past_a_sliders_range_is_refused_by_the_boxs_label():
    with gr.Blocks() as demo:
        steps = gr.Slider(3, 30, value=10, label="steps")
        seed = gr.Number(0, minimum=0, label="seed")
        free = gr.Number(0.5, label="anything")
    shared.named_bounds(demo)
    for component, value, words in ((steps, 1000, "`steps` must be from 3 to 30, got 1000"),
                                    (steps, 2, "`steps` must be from 3 to 30, got 2"),
                                    (seed, -1, "`seed` must be at least 0, got -1")):
        try:
            component.preprocess(value)
        except gr.Error as error:
            assert error.message == words and not error.print_exception
        else:
            raise AssertionError(f"{value} passed")
    assert steps.preprocess(12) == 12 and free.preprocess(-1e9) == -1e9


def test_page_loads_skip_the_queue_and_every_tab_has_one_queue():
    """A class opening the link at once filled the queue with the page's four default-answer events a visitor (64
    places): students found "Error" where the default answer goes. And the agents' tool of a tab ran in a queue of
    its own, so a tab ran twice its limit at once."""
    from propgrad.app.demo import build_demo

    demo = build_demo()
    loads = [fn for fn in demo.fns.values() if any(target[1] == "load" for target in fn.targets)]
    assert loads and all(not fn.queue for fn in loads)
    from propgrad.app.mcp_tools import TAB_OF_TOOL

    queues = {fn.api_name: fn.concurrency_id for fn in demo.fns.values() if fn.api_name}
    tools = [name for name in queues if name in TAB_OF_TOOL]
    assert len(tools) >= 4, queues
    for tool in tools:
        assert queues[tool] == queues[TAB_OF_TOOL[tool]], (tool, queues)


def test_bundled_pictures_whose_copies_were_removed_are_put_back(tmp_path, monkeypatch):
    """gradio serves the page's bundled pictures (an example's cat, the first tab's image, the turntable's frames) from
    copies it makes once, at start-up. A cleaner of old temporary files removed one: Run on that example failed with
    "could not read one of the inputs", picking it again included, for every visitor until a restart."""
    from propgrad.app import kept_copies
    from propgrad.paths import ASSETS

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setattr(kept_copies, "_COPIES", {})
    cat, cup = ASSETS / "examples" / "chelsea.jpg", ASSETS / "examples" / "coffee.jpg"
    elsewhere = tmp_path / "not-bundled.txt"
    elsewhere.write_text("not ours to put back")
    with gr.Blocks() as demo:
        image = gr.Image(str(cat), type="filepath")
        gr.Examples([[str(cup)]], [image])
        gr.File(str(elsewhere))
    copies = kept_copies.remember(demo)
    assert sorted(source.name for source in copies.values()) == ["chelsea.jpg", "coffee.jpg"]
    assert all(copy.is_file() and copy.is_relative_to(tmp_path / "gradio") for copy in copies)
    assert kept_copies.put_back() == []  # nothing gone, nothing done

    gone = next(copy for copy, source in copies.items() if source == cup)
    gone.unlink()
    message = shared.unread_input()
    assert "(coffee.jpg)" in message and "Pick the example again" in message
    assert gone.read_bytes() == cup.read_bytes()
    assert shared.unread_input() == shared.UNREAD_INPUT  # an input that was not ours: the general message
    # Its whole folder gone (rm -rf of gradio's temp folder) is put back too.
    shutil.rmtree(tmp_path / "gradio")
    assert kept_copies.put_back() == ["chelsea.jpg", "coffee.jpg"] and all(copy.is_file() for copy in copies)
    # The server's upkeep does it every few seconds, with the lesson pages and the tabs' defaults.
    from propgrad.app import defaults, lesson_pages, upkeep

    monkeypatch.setattr(defaults, "_STATE", defaults._Defaults())  # the others' own state, not this process's
    monkeypatch.setattr(lesson_pages, "_FOLDER", [])
    gone.unlink()
    upkeep.check()
    assert gone.is_file()
