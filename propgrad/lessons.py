"""The course: five lessons kept as jupytext percent scripts, executed and rendered.

The lessons' reviewed source is ``lessons/NN_name.py`` (a notebook in jupytext's percent format); a built
wheel carries a copy as ``propgrad/_lessons`` (``setup.py``, like the assets). This module finds them,
executes them top to bottom in a fresh Jupyter kernel (nbclient) and writes each as one self-contained
HTML page (the same offline rules as report.html: every image inlined, no script, style sheet, font or link
fetched from anywhere) or as a Markdown page for the documentation site.

What it needs beyond the package (jupytext, nbclient, nbformat, ipykernel, markdown) is the optional extra
``propgrad[lessons]``; :func:`require` names it when something is missing.

Why nbclient and not nbmake: nbclient is the library that executes a notebook (nbmake is a pytest plugin
built on it). The test, ``python -m propgrad lessons`` and the documentation build call the same
:func:`execute`, with a time budget per lesson, without a plugin in every pytest run.
"""
from __future__ import annotations

import base64
import html
import importlib.util
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .disk import write_whole

_PACKAGE = Path(__file__).resolve().parent
LESSONS_ENV = "PROPGRAD_LESSONS"
# Each lesson must run top to bottom in this many seconds on a 2-core CPU (kernel start included).
BUDGET_S = 120.0
EXTRA = "lessons"
REQUIRED = ("jupytext", "nbclient", "nbformat", "ipykernel", "markdown")


def lessons_dir() -> Path:
    """``$PROPGRAD_LESSONS`` when set, else the installed package's ``_lessons``, else the checkout's ``lessons/``.

    Examples
    --------
    >>> sorted(p.name for p in lesson_paths())[0]
    '01_property_gradient_by_hand.py'
    """
    from .paths import shipped_folder

    return shipped_folder("lessons", LESSONS_ENV)


def lesson_paths(folder: str | Path | None = None) -> list[Path]:
    """The lessons' percent scripts (``NN_name.py``), in course order."""
    root = Path(folder) if folder is not None else lessons_dir()
    return sorted(p for p in root.glob("[0-9][0-9]_*.py") if p.is_file())


def missing_packages() -> list[str]:
    """The packages of the ``lessons`` extra that are not installed."""
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def require() -> None:
    """Raise ImportError naming the extra when a package the lessons need is missing."""
    missing = missing_packages()
    if missing:
        raise ImportError(f"executing the lessons needs {', '.join(missing)}: pip install 'propgrad[{EXTRA}]' "
                          "(or pip install jupytext nbclient nbformat ipykernel markdown)")


def read(path: str | Path):
    """The lesson as a notebook (nbformat), from its percent script."""
    require()
    import jupytext

    return jupytext.read(str(path))


SOLUTION_TAG = "solution"


# The section that closes each lesson, for the teacher: it works the exercises out.
TEACHER_NOTES = re.compile(r"^#+ Teacher's notes\b.*", re.S | re.M)


def student_copy(notebook, *, keep_outputs: bool = False):
    """A copy for students: without the cells tagged ``solution`` (the teacher's answers) and the closing
    "Teacher's notes" (which work the exercises out). The code cells' outputs go too, unless ``keep_outputs`` (an
    executed lesson shown to students: its figures stay), but never those of the cells that check an exercise
    (from its solution to the next text): run with the solution they said "correct", or printed the answer."""
    import copy

    copied = copy.deepcopy(notebook)
    cells, checking = [], False
    for cell in copied.cells:
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            checking = True
            continue
        if cell["cell_type"] == "markdown":
            checking = False
            text = TEACHER_NOTES.sub("", cell["source"]).rstrip()
            if not text:
                continue
            cell["source"] = text
        elif not keep_outputs or checking:
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    copied.cells = cells
    return copied


# Where `python app.py` serves by default: the lessons' links into the app (`/?example=...`) name it in files a
# teacher hands out. Relative, they led from a page opened offline to file:///?example=... (a listing of the disk)
# and from a learning platform to the platform's own root; only the app's own copy of the pages keeps them relative.
LOCAL_APP = "http://127.0.0.1:7860"


_APP_LINK = "](/?"  # how a lesson's Markdown links into the app: relative, to a query of its page


def with_app_links(text: str, app_url: str | None) -> str:
    """Markdown ``text`` whose links into the app (``](/?...)``) name ``app_url`` (None: left relative).

    Examples
    --------
    >>> with_app_links("[the preset](/?example=fur-vs-background)", "https://example.org/app/")
    '[the preset](https://example.org/app/?example=fur-vs-background)'
    """
    return text if not app_url else text.replace(_APP_LINK, f"]({app_url.rstrip('/')}/?")


def links_into_app(notebook) -> bool:
    """Whether a lesson's text links into the app (:func:`with_app_links` names where those links lead)."""
    return any(cell.cell_type == "markdown" and _APP_LINK in cell.source for cell in notebook.cells)


def write_notebooks(paths, out: str | Path, *, student: bool = False, app_url: str | None = LOCAL_APP) -> list[Path]:
    """Each lesson as an ``.ipynb`` in ``out`` (not executed); ``student`` leaves the solutions out; the links into
    the app name ``app_url`` (:func:`with_app_links`)."""
    import nbformat

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        notebook = read(path)
        if student:
            notebook = student_copy(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = with_app_links(cell.source, app_url)
        target = out / f"{Path(path).stem}.ipynb"
        write_whole(target, nbformat.writes(notebook) + "\n")  # whole: a full disk cut one at 12,288 bytes
        written.append(target)
    return written


@dataclass
class Executed:
    """One lesson run top to bottom: the notebook with its outputs, and how long it took."""

    path: Path
    notebook: object
    seconds: float

    @property
    def title(self) -> str:
        return title_of(self.notebook, self.path)


def _package_root() -> str:
    return str(_PACKAGE.parent)


def execute(path: str | Path, *, timeout_s: float = BUDGET_S, cwd: str | Path | None = None,
            student: bool = False) -> Executed:
    """Run the lesson at ``path`` in a fresh python3 kernel; raise on the first failing cell.

    ``timeout_s`` bounds every cell (nbclient's ``timeout``); the caller compares :attr:`Executed.seconds`
    with the lesson's budget. The kernel runs in ``cwd`` (default: a fresh temporary folder, so that a lesson
    writes nothing beside its source) and imports this very copy of propgrad (its folder goes first on
    ``PYTHONPATH``), offline (``HF_HUB_OFFLINE=1``). ``student=True`` runs the student copy (no solutions)
    and keeps going after errors: every checking cell should then fail with its message.
    """
    require()
    import tempfile

    from nbclient import NotebookClient

    path = Path(path)
    notebook = read(path)
    if student:
        notebook = student_copy(notebook)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    scratch = tempfile.TemporaryDirectory(prefix=f"propgrad-{path.stem}-") if cwd is None else None
    # A short folder of its own: a Unix socket's path may not exceed 107 bytes, and the app's lesson folders run deep.
    sockets = tempfile.TemporaryDirectory(prefix="pgk-", dir="/tmp") if _unix_sockets() else None
    folder = Path(cwd) if cwd is not None else Path(scratch.name)  # what the lesson writes goes with it
    saved = {key: os.environ.get(key) for key in ("PYTHONPATH", "HF_HUB_OFFLINE", "MPLBACKEND", "TQDM_DISABLE")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), saved["PYTHONPATH"]) if p)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["TQDM_DISABLE"] = "1"  # no progress bars in the pages
    started = time.perf_counter()
    try:
        NotebookClient(notebook, config=_kernel_sockets(sockets), timeout=int(timeout_s), kernel_name="python3",
                       allow_errors=student, resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for folder_made in (scratch, sockets):
            if folder_made is not None:
                folder_made.cleanup()
    return Executed(path, notebook, time.perf_counter() - started)


def _unix_sockets() -> bool:
    return os.name == "posix" and os.path.isdir("/tmp")


def _kernel_sockets(sockets):
    """The kernel's transport: Unix sockets in ``sockets`` where there are any, else jupyter's TCP on localhost. Over
    TCP the kernel printed to every teacher's terminal that all communication "is susceptible to eavesdropping".
    Configuration, not a kernel manager of our own, so that the client still owns the kernel and ends it."""
    from traitlets.config import Config

    if sockets is None:
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets.name) / "k")}})


def title_of(notebook, path: str | Path | None = None) -> str:
    """The first Markdown heading of the notebook (else the file's stem)."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if match:
                return match.group(1).strip()
    return Path(path).stem if path else "lesson"


def slug(path: str | Path) -> str:
    """``01_property_gradient_by_hand.py`` -> ``01-property-gradient-by-hand``."""
    return Path(path).stem.replace("_", "-")


# -- writing -------------------------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5;
       color: #1a1a1a; }
pre { background: #f5f5f5; padding: 0.6rem 0.8rem; overflow-x: auto; border-radius: 4px; font-size: 0.85rem; }
pre.output { background: #fff; border-left: 3px solid #ccc; white-space: pre-wrap; }  /* printed sentences wrap */
pre.error { background: #fff1f0; border-left: 3px solid #b42318; }
img { max-width: 100%; }
table { border-collapse: collapse; } th, td { border: 1px solid #ddd; padding: 0.2rem 0.5rem; }
nav { margin-bottom: 1.5rem; }
"""


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _outputs(cell) -> list[tuple[str, str]]:
    """(kind, payload) per output: ("text", ...), ("png", base64), ("html", ...), ("error", ...)."""
    shown = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            shown.append(("text", _text(output.get("text", ""))))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "image/png" in data:
                shown.append(("png", _text(data["image/png"]).replace("\n", "")))
            elif "text/markdown" in data:
                shown.append(("markdown", _text(data["text/markdown"])))
            elif "text/plain" in data:
                shown.append(("text", _text(data["text/plain"])))
        elif kind == "error":
            shown.append(("error", _strip_ansi("\n".join(output.get("traceback", [])))))
    return shown


def _markdown(text: str) -> str:
    """Markdown to HTML: Python-Markdown (the lessons extra) where installed, else markdown-it-py (gradio brings it
    through rich), else the text as it is."""
    try:
        import markdown
    except ImportError:
        try:
            from markdown_it import MarkdownIt
        except ImportError:
            return f"<pre>{html.escape(text)}</pre>"
        return MarkdownIt("commonmark").enable("table").render(text)
    return markdown.markdown(text, extensions=["tables", "fenced_code"])


def to_html(notebook, title: str | None = None, links: str = "", app_url: str | None = None) -> str:
    """One self-contained page: Markdown cells rendered, code and its outputs, every figure inlined; the links into
    the app name ``app_url`` (None: relative, for the app's own copy)."""
    title = title or title_of(notebook)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(_markdown(with_app_links(cell.source, app_url)))
        elif cell.cell_type == "code":
            parts.append(f"<pre><code>{html.escape(cell.source)}</code></pre>")
            for kind, payload in _outputs(cell):
                if kind == "png":
                    parts.append(f'<img alt="figure" src="data:image/png;base64,{payload}">')
                elif kind == "markdown":
                    parts.append(_markdown(with_app_links(payload, app_url)))
                else:
                    css = "error" if kind == "error" else "output"
                    parts.append(f'<pre class="{css}">{html.escape(payload)}</pre>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{links}"
            + "\n".join(parts) + "\n</body></html>\n")


def to_markdown(notebook, images: str | Path, prefix: str, app_url: str | None = LOCAL_APP) -> str:
    """The lesson as a Markdown page (for MkDocs): figures written as PNG files into ``images``, linked by name; the
    links into the app name ``app_url``."""
    images = Path(images)
    images.mkdir(parents=True, exist_ok=True)
    parts, count = [], 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(with_app_links(cell.source, app_url))
        elif cell.cell_type == "code":
            parts.append(f"```python\n{cell.source}\n```")
            for kind, payload in _outputs(cell):
                if kind == "png":
                    count += 1
                    name = f"{prefix}-{count}.png"
                    write_whole(images / name, base64.b64decode(payload))
                    parts.append(f"![figure {count}]({images.name}/{name})")
                elif kind == "markdown":
                    parts.append(with_app_links(payload, app_url))
                else:
                    parts.append("```text\n" + payload.rstrip("\n") + "\n```")
    return "\n\n".join(parts) + "\n"


class _Cell(dict):
    """A notebook cell read without nbformat (attribute access like nbformat's)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class _Notebook:
    def __init__(self, cells):
        self.cells = cells


def source_notebook(path: str | Path) -> _Notebook:
    """The lesson's cells read from its percent script without jupytext (no outputs): for the app's pages."""
    cells, kind, lines = [], None, []

    def flush():
        if kind is not None:
            text = "\n".join(lines).strip("\n")
            if kind == "markdown":
                text = "\n".join(re.sub(r"^# ?", "", line) for line in text.splitlines())
            if text.strip():
                cells.append(_Cell(cell_type=kind, source=text, outputs=[]))

    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    return _Notebook(cells)


def write_source_pages(paths, out: str | Path) -> list[Path]:
    """The lessons as pages without running them (their code and text, no outputs): what the app links when no
    executed pages were written, for students: the teacher's solution cells are left out (one sat right under
    each exercise). Needs no extra."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pages = [Executed(Path(path), student_copy(source_notebook(path)), 0.0) for path in paths]
    return write_html(pages, out, executed=False, app_url=None)


def write_html(pages: list[Executed], out: str | Path, *, executed: bool = True, student: bool = False,
               app_url: str | None = LOCAL_APP) -> list[Path]:
    """``index.html`` and one page per lesson in ``out``; returns the pages written. ``student`` leaves the
    teacher's solution cells out and the teacher's notes (the lessons ran with them: every other output stays); the
    links into the app name ``app_url`` (None: relative, for the app's own copy)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    items = []
    for lesson in pages:
        name = f"{slug(lesson.path)}.html"
        back = '<nav><a href="index.html">All lessons</a></nav>'
        notebook = student_copy(lesson.notebook, keep_outputs=True) if student and executed else lesson.notebook
        write_whole(out / name, to_html(notebook, lesson.title, back, app_url))
        written.append(out / name)
        timing = f" ({lesson.seconds:.0f} s to run)" if executed else ""
        items.append(f'<li><a href="{name}">{html.escape(lesson.title)}</a>{timing}</li>')
    index = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
             f"<title>propgrad lessons</title><style>{_STYLE}</style></head>\n<body>\n<h1>propgrad: the lessons</h1>\n"
             + ("<p>Executed top to bottom on the bundled models" + (" (the teacher's solutions are left out)."
                                                                       if student else ".") if executed else
                "<p>The lessons' text and code (not executed here: <code>python -m propgrad lessons --html OUT/</code> "
                "writes the pages with every output and figure; <code>--notebooks OUT/</code> the notebooks; the "
                "teacher's solutions are left out here).")
             + (f" The links into the app open presets on the app at {html.escape(app_url)}"
                + (" (<code>python app.py</code> on this machine)." if app_url == LOCAL_APP else ".")
                if app_url else " The links into the app open presets on the running app.")
             + "</p>\n<ol>"
             + "".join(items) + "</ol>\n</body></html>\n")
    write_whole(out / "index.html", index)
    return [out / "index.html", *written]


__all__ = ["BUDGET_S", "LOCAL_APP", "Executed", "execute", "student_copy", "with_app_links", "write_notebooks",
           "lesson_paths", "lessons_dir", "missing_packages", "require", "slug", "title_of", "to_html", "to_markdown",
           "write_html"]
