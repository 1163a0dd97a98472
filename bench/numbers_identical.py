"""Are the numbers the same? The documented examples and a two-image study, run in two checkouts and compared.

Issue 23 (item 6) asked that every number in report.json and the CSVs of the documented examples and a two-image
study stay the same across its restructuring; fields may be added or renamed for words. This script runs the
same commands in a ``--before`` checkout and in this one (each as ``python -m propgrad`` with the checkout as
working directory, so each runs its own code), then walks every JSON file (keys matched by path) and every CSV
(rows matched by position, cells by column name) of each output folder and compares the numbers exactly. Where the
files rounded before 2026-12-07 (the ranked CSVs to six significant digits, a report's curves.csv to six and seven,
report.json's outputs and readings to seven decimals, the gradualness figures to five and six: ``ROUNDED_CSVS``,
``ROUNDED_JSON``),
a value counts as the same number when it rounds to the before side's: they keep every digit since (issue 23, item 3).

It prints every number that differs (with the largest absolute difference), the fields only one side has
(a renamed field shows as one removed and one added) and the files only one side wrote.

Run: ``python bench/numbers_identical.py --before /path/to/old/checkout`` (e.g. ``git worktree add --detach
/tmp/before 28fe818``). Ends with ``name: value`` lines.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CHELSEA = "assets/examples/chelsea.jpg"
AUTHORS = ["--model", "ConvMixer cats vs dogs, unbiased (authors)",
           "--model", "ConvMixer cats vs dogs, dark-cats bias (authors)",
           "--model", "ConvMixer cats vs dogs, dark-dogs bias (authors)"]

# The documented commands (docs/python.md, docs/regions.md, docs/screen.md, docs/studies.md), with fewer
# permutations so that the whole comparison runs in a few minutes; the same arguments on both sides.
EXAMPLES = {
    "explain-brightness": ["explain", CHELSEA, "--edit", "brightness", "--stop", "0.1", "--steps", "12",
                           "--permutations", "2000"],
    "compare-regions": ["explain", CHELSEA, "--edit", "darken", "--stop", "0.85", "--steps", "11", "--compare-region",
                        *AUTHORS, "--outputs", "cat", "--permutations", "2000"],
    "screen": ["screen", CHELSEA, "--model", "ConvMixer cats vs dogs, dark-cats bias (authors)", "--outputs", "cat",
               "--permutations", "500"],
    "study": ["study", "--images", "{images}", "--edit", "hue", "--stop", "180", "--steps", "6",
              "--model", "EfficientNet-Lite0 (ImageNet)", "--permutations", "500"],
}
STUDY_IMAGES = ["assets/examples/chelsea.jpg", "assets/examples/coffee.jpg"]


def run(checkout: Path, name: str, arguments: list[str], out: Path, images: Path) -> float:
    command = [sys.executable, "-m", "propgrad", *[a.replace("{images}", str(images)) for a in arguments],
               "--out", str(out)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(checkout)}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed in {checkout} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def _number(value):
    """A JSON value or a CSV cell as a float, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# Where the files rounded numbers before 2026-12-07 (issue 23, item 3: every digit kept since), and how: a value
# written more fully now is the same number where it rounds to the old one, in these places only.
ROUNDED_CSVS = {"comparison.csv": (6,), "comparison_contrast.csv": (6,), "screen.csv": (6,),
                "screen_contrast.csv": (6,), "dynamics.csv": (6,), "curves.csv": (6, 7)}  # significant digits
ROUNDED_JSON = {"outputs": 7, "series_outputs": 7, "coverage": 6}  # decimals
ROUNDED_READING = {"change": 7, "start": 7, "end": 7, "low": 7, "high": 7, "jump": 7}
ROUNDED_GRADUALNESS = {"rho": 6, "jump_share": 6, "still_share": 6, "order_ratio": 6, "outside_change": 6,
                       "change": 5, "step_change": 5}


def _rounded_to(relative: Path, key: str, study: bool, after: float):
    """``after`` as the before side wrote it, where that side rounded this value; None elsewhere."""
    if not math.isfinite(after):
        return None
    if relative.suffix == ".csv":
        # A study's curves.csv (beside its results.csv) always kept every digit.
        digits = () if study and relative.name == "curves.csv" else ROUNDED_CSVS.get(relative.name, ())
        return [float(f"{after:.{d}g}") for d in digits] or None
    field = re.sub(r"(\[[^\]]*\])+$", "", key).rsplit(".", 1)[-1]
    if "gradualness" in key:
        decimals = ROUNDED_GRADUALNESS.get(field)
    elif key.rsplit(".", 1)[0].endswith("reading"):  # a reading's own numbers, not the row's beside it
        decimals = ROUNDED_READING.get(field)
    else:
        decimals = ROUNDED_JSON.get(field)
    return None if decimals is None else [round(after, decimals)]


ROW_KEYS = ("property", "intervention", "model", "output")


def _row_name(row, index: int) -> str:
    """A ranked row by what it is about (its property, model and output), anything else by its position: an order
    that changed on purpose must not read as changed numbers."""
    if isinstance(row, dict):
        key = [str(row[column]) for column in ROW_KEYS if isinstance(row.get(column), str)]
        if len(key) >= 2:
            return " | ".join(key)
    return str(index)


def _row_names(rows: list) -> list[str]:
    """Each row's name; positions where the names would not tell rows apart (a curve's steps, a study's items)."""
    names = [_row_name(row, index) for index, row in enumerate(rows)]
    return names if len(set(names)) == len(names) else [str(index) for index in range(len(rows))]


def _walk(value, path: str, found: dict) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}", found)
    elif isinstance(value, list):
        for name, item in zip(_row_names(value), value):
            _walk(item, f"{path}[{name}]", found)
    else:
        found[path] = value


def _values(path: Path) -> dict:
    """path-in-file -> value, for a JSON file or a CSV file."""
    found: dict = {}
    if path.suffix == ".json":
        _walk(json.loads(path.read_text()), "", found)
    else:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        for name, row in zip(_row_names(rows), rows):
            for column, cell in row.items():
                found[f"[{name}].{column}"] = cell
    return found


def _collapsed(fields: set[str]) -> list[str]:
    """Fields, with each settings block shown once (``... settings.* (n fields)``)."""
    blocks: dict[str, int] = {}
    rest = []
    for field in fields:
        if "settings." in field:
            head = field[: field.index("settings.")] + "settings.*"
            blocks[head] = blocks.get(head, 0) + 1
        else:
            rest.append(field)
    return sorted(rest) + [f"{head} ({count} fields)" for head, count in sorted(blocks.items())]


def _field(key: str) -> str:
    """The field a value belongs to, without list positions: the unit in which fields are added or removed."""
    parts = []
    for part in key.replace("[", ".[").split("."):
        if part and not part.startswith("["):
            parts.append(part)
    return ".".join(parts)


def compare(before: Path, after: Path) -> dict:
    files = {p.relative_to(before) for p in before.rglob("*") if p.suffix in (".json", ".csv")}
    files_after = {p.relative_to(after) for p in after.rglob("*") if p.suffix in (".json", ".csv")}
    report = {"files": 0, "numbers": 0, "differing": [], "moved": [], "largest": 0.0, "added": set(), "removed": set(),
              "files_only_before": sorted(map(str, files - files_after)),
              "files_only_after": sorted(map(str, files_after - files))}
    for relative in sorted(files & files_after):
        old, new = _values(before / relative), _values(after / relative)
        study = (before / relative).with_name("results.csv").is_file()
        report["files"] += 1
        old_fields, new_fields = {_field(k) for k in old}, {_field(k) for k in new}
        report["removed"] |= {f"{relative}: {f}" for f in old_fields - new_fields}
        report["added"] |= {f"{relative}: {f}" for f in new_fields - old_fields}
        for key in old.keys() & new.keys():
            a, b = _number(old[key]), _number(new[key])
            if a is None or b is None:
                continue
            if key.endswith(".rank"):  # a row's place, not a number it computed: reported apart
                if a != b:
                    report["moved"].append(f"{relative}{key}: {old[key]} -> {new[key]}")
                continue
            report["numbers"] += 1
            same = (a == b) or (math.isnan(a) and math.isnan(b)) or a in (_rounded_to(relative, key, study, b) or ())
            if not same:
                report["differing"].append(f"{relative}{key}: {old[key]} -> {new[key]}")
                if math.isfinite(a) and math.isfinite(b):
                    report["largest"] = max(report["largest"], abs(a - b))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the checkout to compare against")
    parser.add_argument("--after", type=Path, default=HERE, help="default: this checkout")
    parser.add_argument("--only", action="append", choices=list(EXAMPLES), help="run only these examples")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="propgrad-numbers-"))
    images = work / "images"
    images.mkdir()
    for image in STUDY_IMAGES:
        shutil.copy(HERE / image, images / Path(image).name)
    print(f"load average: {os.getloadavg()[0]:.1f}")
    totals = {"files": 0, "numbers": 0, "differing": 0, "moved": 0}
    for name in args.only or list(EXAMPLES):
        seconds = {}
        for side, checkout in (("before", args.before.resolve()), ("after", args.after.resolve())):
            seconds[side] = run(checkout, name, EXAMPLES[name], work / side / name, images)
        found = compare(work / "before" / name, work / "after" / name)
        print(f"\n## {name}: {found['files']} files, {found['numbers']} numbers compared, "
              f"{len(found['differing'])} differ (largest difference {found['largest']:.3g}); "
              f"{seconds['before']:.0f} s before, {seconds['after']:.0f} s after")
        for line in found["differing"][:40]:
            print(f"  differs: {line}")
        if len(found["differing"]) > 40:
            print(f"  ... and {len(found['differing']) - 40} more")
        for line in found["moved"]:
            print(f"  row moved: {line}")
        for label in ("removed", "added"):
            for field in _collapsed(found[label]):
                print(f"  {label}: {field}")
        for label in ("files_only_before", "files_only_after"):
            for file in found[label]:
                print(f"  {label.replace('_', ' ')}: {file}")
        totals["files"] += found["files"]
        totals["numbers"] += found["numbers"]
        totals["differing"] += len(found["differing"])
        totals["moved"] += len(found["moved"])
    print(f"\noutputs kept in {work}")
    print(f"files_compared: {totals['files']}")
    print(f"numbers_compared: {totals['numbers']}")
    print(f"ranks_changed: {totals['moved']}")
    print(f"numbers_differing: {totals['differing']}")


if __name__ == "__main__":
    main()
