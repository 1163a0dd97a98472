"""A caller of the API is told about the parameters it sent, not the page's boxes (app/shared.BOX_PARAMETERS)."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

from propgrad.app import mcp_tools, shared
from propgrad.app.screen import run_screen
from propgrad.app.tabs.dynamics import run_dynamics
from propgrad.app.tabs.edit import run_edit
from propgrad.app.tabs.patch import run_patch
from propgrad.app.tabs.turntable import run_turntable

APP = Path(__file__).resolve().parents[1] / "propgrad" / "app"
HANDLERS = (run_edit, run_patch, run_turntable, run_screen, run_dynamics)


def test_every_box_the_handlers_name_has_its_parameter():
    # "patch upload", "mask file", "hub classifiers"... reached callers of the API as the page named them.
    parameters = {name for handler in HANDLERS for name in inspect.signature(inspect.unwrap(handler)).parameters}
    assert set(shared.BOX_PARAMETERS.values()) <= parameters, set(shared.BOX_PARAMETERS.values()) - parameters
    named = set()
    for path in APP.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r'\bname="([^"]+)"', text))
        named |= set(re.findall(r'in_range\([^,]+, "[^"]+", "([^"]+)"\)', text))
    internal = {name for name in named if name.startswith("propgrad-") or name == "screen"}  # threads, an accordion
    assert named - internal <= set(shared.BOX_PARAMETERS), (named - internal) - set(shared.BOX_PARAMETERS)


def test_the_tools_arguments_derive_from_the_same_table():
    tools = {name for tool in (mcp_tools.run_edit, mcp_tools.run_patch, mcp_tools.run_turntable,
                               mcp_tools.run_screen, mcp_tools.run_dynamics)
             for name in inspect.signature(inspect.unwrap(tool)).parameters}
    for box in ("editor", "mask file", "patch upload", "number of steps", "permutations", "outputs of interest"):
        assert mcp_tools.RENAMED[box] in tools, box
    assert shared.api_words("`patch upload` is empty") == "`patch_files` is empty"
    assert mcp_tools._renamed("`patch upload` is empty") == "`patches` is empty"
