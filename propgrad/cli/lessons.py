"""``python -m propgrad lessons``: execute the course's lessons and write them as offline HTML pages or notebooks."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ..disk import check_writable, writing_to
from . import console


def build_parser() -> argparse.ArgumentParser:
    parser = console.Parser(
        prog="python -m propgrad lessons",
        description="The five lessons (jupytext percent scripts): execute each top to bottom on the bundled models "
        "and write it as one self-contained HTML page (every figure inlined, nothing fetched), or write them as "
        "notebooks for a class. Needs the optional extra: pip install 'propgrad[lessons]'.")
    parser.add_argument("--html", metavar="OUT", help="execute the lessons and write index.html and one page each")
    parser.add_argument("--notebooks", metavar="OUT", help="write the lessons as .ipynb notebooks (not executed)")
    parser.add_argument("--student", action="store_true",
                        help="leave the teacher's solution cells and notes out: the copy to hand out or publish "
                             "(with --html the lessons still run with them; the cells that check an exercise keep no "
                             "output, which would give the answer away)")
    parser.add_argument("--app-url", metavar="URL", default=None,
                        help="where the lessons' links into the app point, e.g. a Space's address (default: "
                             "http://127.0.0.1:7860, where `python app.py` serves; `/`: relative, for pages the app "
                             "serves itself)")
    parser.add_argument("--only", metavar="N[,N]", help="lesson numbers, e.g. 1,3 (default: all)")
    parser.add_argument("--list", action="store_true", help="list the lessons and exit")
    console.add_flags(parser, json_output=True)
    return parser


def run(argv: list[str]) -> int:
    from .. import lessons

    args = build_parser().parse_args(argv)
    console.configure(args)
    for flag, given in (("--student", args.student), ("--app-url", args.app_url)):
        if given and not (args.notebooks or args.html):
            print(f"error: `{flag}` applies to --html and --notebooks", file=sys.stderr)
            return 2
    app_url = args.app_url or lessons.LOCAL_APP
    if app_url != "/" and not re.match(r"https?://[^/\s]+", app_url):
        print(f"error: --app-url takes the app's address, such as https://you-propgrad.hf.space or "
              f"http://127.0.0.1:7860; got {app_url!r}", file=sys.stderr)
        return 2
    links = None if app_url == "/" else app_url
    paths = lessons.lesson_paths()
    if not paths:
        print(f"error: no lessons found in {lessons.lessons_dir()}", file=sys.stderr)
        return 2
    if args.only:
        try:
            wanted = {int(part) for part in args.only.split(",") if part.strip()}
        except ValueError:
            print(f"error: `--only` takes lesson numbers such as 1,3, got {args.only!r}", file=sys.stderr)
            return 2
        paths = [p for p in paths if int(p.name[:2]) in wanted]
        if not paths:
            print(f"error: `--only` {args.only}: no such lesson (--list lists them)", file=sys.stderr)
            return 2
    if args.list or not (args.html or args.notebooks):
        if console.json_wanted():
            console.emit([{"number": int(path.name[:2]), "title": path.stem[3:].replace("_", " ")} for path in paths])
            return 0
        for path in paths:
            console.say(f"{path.name[:2]}  {path.stem[3:].replace('_', ' ')}")
        if not (args.list or args.html or args.notebooks):
            console.say("(--html OUT/ executes and writes them; --notebooks OUT/ writes .ipynb files)")
        return 0
    try:
        lessons.require()
    except ImportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Before a lesson runs (minutes), as the other commands do: a file or /proc named as the folder raised a bare OS
    # error after lesson 1 had run.
    for flag, folder in (("--notebooks", args.notebooks), ("--html", args.html)):
        if folder:
            check_writable(folder, flag)
    written = []
    if args.notebooks:
        with writing_to(args.notebooks, "--notebooks"):  # a full disk names the folder, as for the other commands
            written += lessons.write_notebooks(paths, args.notebooks, student=args.student, app_url=links)
    if args.html:
        executed = []
        for path in paths:
            if not args.quiet:
                print(f"running {path.name} ...", file=sys.stderr, flush=True)
            lesson = lessons.execute(path)
            if not args.quiet:
                print(f"  {lesson.seconds:.0f} s", file=sys.stderr)
            executed.append(lesson)
        with writing_to(args.html, "--html"):
            written += lessons.write_html(executed, Path(args.html), student=args.student, app_url=links)
    if console.json_wanted():
        console.emit({"written": [str(path) for path in written]})
    else:
        console.say(*map(str, written))
    return 0


__all__ = ["build_parser", "run"]
