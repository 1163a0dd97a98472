"""The course: every lesson runs top to bottom within its budget, has the parts a lesson needs, and its checking
cells really check (the student copy, without the solutions, fails them with a message).

The executed notebooks are kept for this module's documentation build (tests/test_docs.py reads them through
``PROPGRAD_EXECUTED_LESSONS`` when it runs in the same session), so CI executes each lesson once.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from propgrad import lessons

ROOT = Path(__file__).resolve().parents[1]
PATHS = lessons.lesson_paths(ROOT / "lessons")

# Figures each lesson shows (a matplotlib Figure made before pyplot's backend is loaded shows as text only).
FIGURES = {"01": 2, "02": 3, "03": 3, "04": 0, "05": 0}
needs_extra = pytest.mark.skipif(bool(lessons.missing_packages()),
                                 reason=f"the lessons extra is missing: {lessons.missing_packages()}")


def test_there_are_five_lessons():
    assert [p.name[:2] for p in PATHS] == ["01", "02", "03", "04", "05"]


def _cells(path):
    return lessons.read(path).cells


@needs_extra
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_lesson_has_goals_exercises_checks_and_notes(path):
    cells = _cells(path)
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "**Learning goals.**" in markdown
    assert "## Teacher's notes" in markdown
    exercises = re.findall(r"^### Exercise (\d)", markdown, flags=re.M)
    assert 2 <= len(exercises) <= 3 and exercises == [str(i + 1) for i in range(len(exercises))]
    checks = [c for c in cells if c.cell_type == "code" and c.source.startswith("# Checking cell")]
    solutions = [c for c in cells if "solution" in c.metadata.get("tags", [])]
    assert len(checks) == len(exercises) == len(solutions), (len(checks), len(exercises), len(solutions))
    for check in checks:
        assert "assert " in check.source and re.search(r"assert .*,\s*\(?\s*f?\"", check.source), (
            f"a checking cell in {path.name} has no assert with a message")


@needs_extra
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_lesson_links_name_real_presets(path):
    """Every link into the app names a tab and preset (or a slug) that the app has."""
    from propgrad.app import links

    text = path.read_text(encoding="utf-8")
    found = re.findall(r"\]\((/\?[^)]+)\)", text)
    assert found, f"{path.name} links no preset of the app"
    for link in found:
        assert links.resolve_query(link) is not None, f"{path.name}: {link} opens nothing in the app"


@pytest.fixture(scope="session")
def executed_lessons(tmp_path_factory):
    """name -> Executed, filled as the lessons run; the notebooks are written for the docs build too."""
    return {}, tmp_path_factory.mktemp("executed-lessons")


@needs_extra
@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.stem)
def test_lesson_runs_within_its_budget(path, executed_lessons):
    import nbformat

    store, folder = executed_lessons
    lesson = lessons.execute(path)  # raises CellExecutionError naming the failing cell
    assert lesson.seconds < lessons.BUDGET_S, f"{path.name} took {lesson.seconds:.0f} s (budget {lessons.BUDGET_S:.0f} s)"
    print(f"{path.name}: {lesson.seconds:.1f} s")
    outputs = "".join(str(o.get("text", "")) for c in lesson.notebook.cells if c.cell_type == "code"
                      for o in c.get("outputs", []))
    assert outputs.count("correct") >= 2, "the checking cells did not report their exercises as correct"
    figures = sum("image/png" in o.get("data", {}) for c in lesson.notebook.cells if c.cell_type == "code"
                  for o in c.get("outputs", []))
    assert figures >= FIGURES[path.name[:2]], f"{path.name} showed {figures} figures, expected {FIGURES[path.name[:2]]}"
    nbformat.write(lesson.notebook, str(folder / f"{path.stem}.ipynb"))
    store[path.stem] = lesson


@needs_extra
@pytest.mark.slow
@pytest.mark.parametrize("path", [PATHS[0], PATHS[-1]], ids=lambda p: p.stem)
def test_checking_cells_fail_without_the_solutions(path):
    lesson = lessons.execute(path, student=True)
    checks = [c for c in lesson.notebook.cells if c.cell_type == "code" and c.source.startswith("# Checking cell")]
    for check in checks:
        errors = [o for o in check.outputs if o.get("output_type") == "error"]
        assert errors and errors[0]["ename"] == "AssertionError" and errors[0]["evalue"], (
            f"a checking cell of {path.name} passed (or crashed otherwise) without its solution: {check.source[:200]}")


def test_a_lesson_runs_without_the_kernels_eavesdropping_warning(tmp_path, capfd, monkeypatch):
    """Over TCP the kernel printed "Kernel is running over TCP without encryption ... susceptible to eavesdropping"
    to every teacher's terminal; it talks over Unix sockets, and leaves no socket folder behind."""
    pytest.importorskip("nbclient")
    import tempfile

    lesson = tmp_path / "tiny_lesson.py"
    lesson.write_text("# %% [markdown]\n# # A tiny lesson\n\n# %%\nprint(6 * 7)\n")
    made = []  # this run's own socket folder (a glob of /tmp/pgk-* saw other runs' come and go)

    class Recorded(tempfile.TemporaryDirectory):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(Path(self.name))

    monkeypatch.setattr(tempfile, "TemporaryDirectory", Recorded)
    executed = lessons.execute(lesson)
    assert executed.notebook.cells[1].outputs[0]["text"] == "42\n"
    printed = capfd.readouterr()
    assert "without encryption" not in printed.err + printed.out and "Parent appears" not in printed.err
    sockets = [folder for folder in made if folder.name.startswith("pgk-")]
    assert len(sockets) == 1 and not sockets[0].exists()


def test_html_page_is_self_contained(tmp_path):
    pytest.importorskip("markdown")
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A title\n\nSome *text*, a [link to a preset](/?example=fur-vs-background)."),
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n"),
                                                       nbformat.v4.new_output("display_data",
                                                                              data={"image/png": "iVBORw0KGgo="})]),
    ])
    page = lessons.to_html(notebook)
    assert "<h1>A title</h1>" in page and 'src="data:image/png;base64,iVBORw0KGgo="' in page
    assert "default-src 'none'" in page
    assert not re.search(r"<(script|link)\b", page) and "http" not in page.replace("http-equiv", "")


def test_cli_lists_and_names_the_extra(capsys, monkeypatch):
    from propgrad.cli import main

    assert main(["lessons", "--list"]) == 0
    assert "screening many properties" in capsys.readouterr().out
    monkeypatch.setattr(lessons, "missing_packages", lambda: ["nbclient"])
    assert main(["lessons", "--html", "unused"]) == 2
    assert "pip install 'propgrad[lessons]'" in capsys.readouterr().err


@needs_extra
def test_an_output_folder_that_cannot_be_one_is_refused_before_any_lesson_runs(tmp_path, capsys, monkeypatch):
    # "[Errno 17] File exists: 'bad.jpg'", and --html into /proc failed only after lesson 1 had run.
    from propgrad.cli import main

    ran = []
    monkeypatch.setattr(lessons, "execute", lambda path: ran.append(path))
    a_file = tmp_path / "bad.jpg"
    a_file.write_bytes(b"")
    assert main(["lessons", "--notebooks", str(a_file), "--only", "1"]) == 2
    assert "`--notebooks` " in capsys.readouterr().err
    assert main(["lessons", "--html", str(a_file / "inside"), "--only", "1"]) == 2 and not ran  # a name that cannot be
    assert "`--html`" in capsys.readouterr().err
    if Path("/proc").is_dir():  # a folder nobody can make, root included: no room there (status 4)
        assert main(["lessons", "--html", "/proc/propgrad-lessons", "--only", "1"]) == 4 and not ran


@needs_extra
def test_student_notebooks_leave_the_solutions_out(tmp_path):
    from propgrad.cli import main

    assert main(["lessons", "--notebooks", str(tmp_path), "--student", "--only", "1"]) == 0
    text = (tmp_path / "01_property_gradient_by_hand.ipynb").read_text()
    assert "answer_1 = 0.6 / 30" not in text and "# Checking cell" in text


@needs_extra
def test_handed_out_lessons_link_the_app_where_it_serves(tmp_path):
    # A page opened offline led its relative link to file:///?example=... (a listing of the disk), and on a learning
    # platform to the platform's own root.
    from propgrad.cli import main

    assert main(["lessons", "--notebooks", str(tmp_path / "local"), "--only", "2"]) == 0
    local = (tmp_path / "local" / "02_which_cat_model_is_biased.ipynb").read_text()
    assert "](http://127.0.0.1:7860/?example=fur-vs-background)" in local and "](/?" not in local
    assert main(["lessons", "--notebooks", str(tmp_path / "hosted"), "--only", "2",
                 "--app-url", "https://you-propgrad.hf.space/"]) == 0
    hosted = (tmp_path / "hosted" / "02_which_cat_model_is_biased.ipynb").read_text()
    assert "](https://you-propgrad.hf.space/?example=fur-vs-background)" in hosted
    assert main(["lessons", "--notebooks", str(tmp_path / "bad"), "--app-url", "you-propgrad.hf.space"]) == 2


def test_the_apps_own_lesson_pages_keep_their_links_relative(tmp_path):
    from propgrad import lessons

    pages = "".join(page.read_text() for page in lessons.write_source_pages(lessons.lesson_paths(), tmp_path))
    assert 'href="/?example=fur-vs-background"' in pages and "127.0.0.1" not in pages


@needs_extra
@pytest.mark.slow
def test_cli_writes_offline_html_pages(tmp_path):
    from propgrad.cli import main

    assert main(["lessons", "--html", str(tmp_path), "--only", "1"]) == 0
    index = (tmp_path / "index.html").read_text()
    page = (tmp_path / "01-property-gradient-by-hand.html").read_text()
    assert 'href="01-property-gradient-by-hand.html"' in index and "http://127.0.0.1:7860" in index
    assert 'href="http://127.0.0.1:7860/?example=fur-vs-background"' in page
    assert "Exercise 3: correct." in page and page.count('src="data:image/png;base64,') >= 2
    assert "default-src 'none'" in page and not re.search(r"<(script|link)\b", page)


def test_the_pages_the_app_links_leave_the_teachers_solutions_out(tmp_path):
    """A student following the app's lesson link found each exercise's answer in the very next cell."""
    from propgrad import lessons

    sources = "".join(path.read_text() for path in lessons.lesson_paths())
    assert "Teacher's solution" in sources  # the lessons have them (CI runs them)
    pages = lessons.write_source_pages(lessons.lesson_paths(), tmp_path)
    assert "Teacher's solution" not in "".join(page.read_text() for page in pages)
    # Nor the closing notes that work the exercises out ("Exercise 1: 0.6 / 30 = 0.02").
    assert "Teacher's notes" in sources and "Teacher's notes" not in "".join(page.read_text() for page in pages)
