"""The app's tabs as Model Context Protocol tools: listed with a description of every argument, callable.

Talks to the app launched in this process (conftest's ``server``) through the ``mcp`` client library
over streamable HTTP, as an MCP client such as Claude Desktop or Cursor would.
"""
from __future__ import annotations

import asyncio
import base64
import re

import pytest

from propgrad.paths import ASSETS

mcp = pytest.importorskip("mcp")
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each

TOOLS = {"run_edit", "run_patch", "run_turntable"}  # run_dynamics too where the lesion checkpoints ship


def with_session(server: str, work):
    async def main():
        async with streamablehttp_client(f"{server}gradio_api/mcp/") as (read, write, _):
            async with mcp.ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    return asyncio.run(main())


def cat_uri() -> str:
    return "data:image/jpeg;base64," + base64.b64encode((ASSETS / "examples" / "chelsea.jpg").read_bytes()).decode()


def test_every_tab_is_a_tool_that_describes_each_argument(server):
    async def work(session):
        return (await session.list_tools()).tools

    tools = {tool.name: tool for tool in with_session(server, work)}
    assert TOOLS <= set(tools)
    for name, tool in tools.items():
        assert tool.description.startswith(("Explain", "Follow")), (name, tool.description)
        assert "Returns:" in tool.description, name
        undescribed = [arg for arg, schema in tool.inputSchema["properties"].items() if not schema.get("description")]
        assert not undescribed, f"{name}: arguments without a description: {undescribed}"
    assert "E[|grad_X F|]" in tools["run_edit"].description


def test_the_edit_tool_explains_the_bundled_cat(server):
    arguments = {"image": cat_uri(), "editor": "parametric: darken", "steps": 4, "regions": ["whole image"],
                 "n_permutations": 1000, "files": [], "input_size": 0, "class_names": ""}

    async def work(session):
        return await session.call_tool("run_edit", arguments)

    result = with_session(server, work)
    text = "\n".join(getattr(part, "text", "") for part in result.content)
    assert not result.isError, text
    # The summary: what ran, the reading in plain words, and the table with the score and p-value columns.
    assert "darken edit" in text and "Reading:" in text and "grad_X F" in text and "| p |" in text
    assert "report.json" not in text and re.search(r"propgrad-[\w-]+\.zip", text)  # the download link, not its contents


def test_a_bad_argument_comes_back_named(server):
    arguments = {"image": cat_uri(), "editor": "parametric: darken", "steps": 4, "seeds": "x",
                 "regions": ["whole image"], "files": [], "input_size": 0, "class_names": ""}

    async def work(session):
        return await session.call_tool("run_edit", arguments)

    result = with_session(server, work)
    assert result.isError
    assert "`seeds`: 'x' is not a whole number" in result.content[0].text


def test_the_environment_switches_mcp(monkeypatch):
    from propgrad.app.demo import launch_kwargs

    monkeypatch.setenv("PROPGRAD_MCP", "0")
    assert launch_kwargs()["mcp_server"] is False
    monkeypatch.setenv("PROPGRAD_MCP", "1")
    assert launch_kwargs()["mcp_server"] is True
    monkeypatch.delenv("PROPGRAD_MCP")
    assert launch_kwargs()["mcp_server"] is True  # gradio[mcp] is in the requirements
    monkeypatch.setenv("PROPGRAD_MCP", "maybe")
    with pytest.raises(ValueError, match="PROPGRAD_MCP='maybe': use 1"):
        launch_kwargs()
