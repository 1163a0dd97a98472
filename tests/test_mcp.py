"""The app's agent tools over the Model Context Protocol, as an agent's client sees them.

Talks to the app launched in this process (conftest's ``server``) with the official ``mcp`` client over
streamable HTTP: the tool list (small, every argument described, no server paths), each tool called with its
minimal arguments (a JSON document that parses, the same as structuredContent, and PNG images), and bad
arguments answered with the argument's name as the schema spells it.
"""
from __future__ import annotations

import asyncio
import base64
import json
import tempfile

import pytest

from propgrad.lesions.dynamics import ROW_FIELDS
from propgrad.paths import ASSETS

mcp = pytest.importorskip("mcp")
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402

pytestmark = pytest.mark.slow  # a server end to end: seconds each

TOOLS = {"run_edit", "run_patch", "run_turntable", "run_screen"}  # run_dynamics too where the lesion checkpoints ship
FAST = {"n_permutations": 200}  # the shuffle test's size does not change what comes back


def with_session(server: str, work):
    async def main():
        async with streamablehttp_client(f"{server}gradio_api/mcp/") as (read, write, _):
            async with mcp.ClientSession(read, write) as session:
                await session.initialize()
                return await work(session)

    return asyncio.run(main())


def call(server: str, tool: str, arguments: dict):
    async def work(session):
        return await session.call_tool(tool, arguments)

    return with_session(server, work)


def uri(path) -> str:
    kind = "jpeg" if str(path).endswith(".jpg") else "png"
    return f"data:image/{kind};base64," + base64.b64encode(path.read_bytes()).decode()


CAT = ASSETS / "examples" / "chelsea.jpg"


@pytest.fixture(scope="module")
def tools(server) -> dict:
    async def work(session):
        return (await session.list_tools()).tools

    return {tool.name: tool for tool in with_session(server, work)}


def test_the_server_names_propgrads_version(server):
    from propgrad import __version__

    async def main():
        async with streamablehttp_client(f"{server}gradio_api/mcp/") as (read, write, _):
            async with mcp.ClientSession(read, write) as session:
                return await session.initialize()

    assert asyncio.run(main()).serverInfo.version == __version__  # it was the mcp library's


def test_the_tool_list_is_small_and_describes_every_argument(tools):
    assert TOOLS <= set(tools) <= TOOLS | {"run_dynamics"}
    listed = json.dumps([tool.model_dump(exclude_none=True) for tool in tools.values()])
    assert len(listed) < 15_000, len(listed)  # was 48.6k: about 12k tokens of an agent's context
    # No server paths as defaults or in descriptions (the turntable's 36 frame paths were 19k characters).
    assert str(ASSETS) not in listed and tempfile.gettempdir() + "/" not in listed
    assert "upload_file_to_gradio" not in listed  # a tool this server does not offer
    for name, tool in tools.items():
        properties = tool.inputSchema["properties"]
        undescribed = [arg for arg, schema in properties.items() if not schema.get("description")]
        assert not undescribed, f"{name}: arguments without a description: {undescribed}"
        assert "Returns:" in tool.description and "JSON" in tool.description, name
    for name in ("run_edit", "run_patch", "run_screen"):
        assert tools[name].inputSchema["required"] == ["image"], name  # everything else has a default
        assert "data: URI" in tools[name].inputSchema["properties"]["image"]["description"]
    assert tools["run_edit"].inputSchema["properties"]["steps"]["type"] == "integer"
    # Every default and every number's range, falsy defaults too (gradio states only truthy ones).
    edit = tools["run_edit"].inputSchema["properties"]
    assert (edit["seed"]["default"], edit["outputs"]["default"], edit["models"]["default"]) == (0, "", [])
    assert (edit["steps"]["minimum"], edit["steps"]["maximum"]) == (3, 30)
    assert (edit["alpha"]["minimum"], edit["alpha"]["maximum"]) == (1e-4, 0.2)
    for name, tool in tools.items():
        for arg, schema in tool.inputSchema["properties"].items():
            assert arg == "image" or arg == "edit_end" or "default" in schema, (name, arg)


def _answer(result) -> tuple[dict, list[bytes]]:
    """The JSON document (checked against structuredContent) and the images of a tool's answer."""
    text = result.content[0].text
    assert not result.isError, text
    document = json.loads(text)
    assert result.structuredContent == document
    images = [base64.b64decode(part.data) for part in result.content[1:] if part.type == "image"]
    assert all(image.startswith(b"\x89PNG") for image in images)
    return document, images


@pytest.mark.parametrize("tool, arguments, kind, n_images", [
    ("run_edit", {"image": uri(CAT), "steps": 4}, "explanation", 2),
    ("run_edit", {"image": uri(CAT), "steps": 4, "regions": ["object", "background"]}, "comparison", 2),
    ("run_patch", {"image": uri(CAT), "steps": 4}, "explanation", 2),
    ("run_turntable", {}, "explanation", 2),
    ("run_screen", {"image": uri(CAT), "edits": ["darken", "hue"], "regions": ["whole image"], "steps": 4, "seed": 3},
     "screen", 1),
])
def test_each_tool_answers_json_and_images(server, tool, arguments, kind, n_images):
    document, images = _answer(call(server, tool, {**arguments, **FAST}))
    assert document["kind"] == kind and len(images) == n_images
    # The first fields, in order, the same for every tool (docs/mcp.md).
    assert list(document)[:5] == ["kind", "reading", "rows", "links", "omitted"]
    assert document["reading"] and document["rows"]
    for row in document["rows"]:
        assert isinstance(row["score"], float) and 0 < row["pvalue"] <= 1 and row["model"] and row["output"]
    assert document["n_permutations"] == 200 and document["statistic"] == "gradient"
    assert document["seed"] == arguments.get("seed", 0)  # every tool takes the shuffle test's seed, the screen too
    assert document["links"]["download"].startswith(server) and document["links"]["download"].endswith(".zip")
    if kind != "screen":
        assert {"strip", "curves"} <= set(document["links"])
        assert document["rows"][0]["reading"]  # the row's reading in words, with its evidence
        assert document["settings"]["models"]  # what reproduces the run
    else:  # the settings the zip's screen.json holds, each model's preprocessing with them
        assert all("preprocessing" in model for model in document["settings"]["models"])
    if kind == "explanation":
        assert "models[].output_names" in document["omitted"]  # ImageNet's 1000 names stay in the zip


def test_screen_runs_with_only_an_image(tools):
    assert tools["run_screen"].inputSchema["required"] == ["image"]


def test_dynamics_answers_a_reading_per_variant(server, tools):
    if "run_dynamics" not in tools:
        pytest.skip("the lesion checkpoints are not in this build")
    document, images = _answer(call(server, "run_dynamics", {"steps": 3, **FAST}))
    assert document["kind"] == "dynamics" and len(images) == 1
    assert "biased:" in document["reading"] and list(document["rows"][0]) == [*ROW_FIELDS, "statistic"]
    assert document["settings"]["input"]["sha256"] and document["links"]["download"].endswith(".zip")


def test_a_server_path_is_an_image_where_local_paths_are_allowed(server):
    # The test server serves on 127.0.0.1 without a share link: its own files may be named.
    document, _ = _answer(call(server, "run_edit", {"image": str(CAT), "steps": 3, **FAST}))
    assert document["settings"]["input"]["file"] == "chelsea.jpg"


@pytest.mark.parametrize("arguments, message", [
    ({"steps": 2}, "`steps` must be a whole number between 3 and 30, got 2"),
    ({"steps": 5.5}, "`steps`: 5.5 is not of type 'integer'"),
    ({"edit": "sparkle"}, "`edit`: 'sparkle' is not one of"),
    ({"regions": ["sky"]}, "`regions`"),
    ({"n_permutations": 10}, "`n_permutations` must be a whole number between 100 and 100000"),
    ({"outputs": "zebra crossing light"}, "`outputs`: no model has an output"),
    ({"colour": "red"}, "`colour` is not an argument of run_edit"),
    # Not left unused: an agent reported a darkening as its test of the instruction.
    ({"instruction": "make it night"}, "`instruction` is for an instruction editor, and edit 'darken' is a parametric"),
    ({"image": "data:image/png;base64,@@@"}, "`image`: the data: URI is not valid base64"),
    # Named as sent: the file it was written to ('image.png') is not one the agent knows of.
    ({"image": "data:image/png;base64,aGVsbG8="}, "`image`: the data: URI's 5 bytes are not an image"),
    ({"image": "https://example.org/cat.png"}, "`image`: URLs are not fetched"),
    ({"image": "/no/such/cat.png"}, "`image`: no such file on the server"),
    ({"image": None}, "`image`"),
    # The package's name for it, and the page's hint about its number box, were an agent's to puzzle over.
    ({"outputs": "vector", "statistic": "correlation"}, "`outputs`: 'vector' is scored with statistic='gradient'"),
    ({"edit_end": 5000}, "`edit_end` for darken must lie in"),
])
def test_a_bad_argument_comes_back_named(server, arguments, message):
    result = call(server, "run_edit", {"image": uri(CAT), **arguments})
    assert result.isError
    assert message in result.content[0].text, result.content[0].text
    assert "Traceback" not in result.content[0].text
    assert "the box" not in result.content[0].text and "outputs_of_interest" not in result.content[0].text


def test_clip_without_weights_names_the_tools_argument(server):
    """The tab's message told an agent to "untick 'Add CLIP zero-shot'" and type a path into a box."""
    from propgrad.models.clip import default_weights_here

    if default_weights_here():
        pytest.skip("CLIP's weights are on this machine")
    result = call(server, "run_turntable", {"use_clip": True})
    assert result.isError and result.content[0].text.startswith("`use_clip`: CLIP cannot run on this server"), \
        result.content[0].text
    assert "untick" not in result.content[0].text


def test_an_inline_image_past_the_transports_default_reaches_the_tool(server):
    """The mcp library refuses requests over 4 MiB with a bare HTTP 413 unless told otherwise: a 3 MB photo sent inline
    never reached the tools, whose own limit (25 MB) names the argument. 5 MB of bytes that are no image are read
    and named; 26 MB are named as over the limit."""
    import base64

    five = "data:image/png;base64," + base64.b64encode(bytes(5 * 2**20)).decode()
    result = call(server, "run_edit", {"image": five})
    assert result.isError and "`image`: the data: URI's 5,242,880 bytes are not an image" in result.content[0].text
    # Over SSE too, the endpoint mcp-remote connects to (its transport has a limit of its own).
    from mcp.client.sse import sse_client

    async def over_sse():
        async with sse_client(f"{server}gradio_api/mcp/sse") as (read, write):
            async with mcp.ClientSession(read, write) as session:
                await session.initialize()
                return await session.call_tool("run_edit", {"image": five})

    result = asyncio.run(over_sse())
    assert result.isError and "`image`: the data: URI's 5,242,880 bytes are not an image" in result.content[0].text
    over = "data:image/png;base64," + base64.b64encode(bytes(26 * 2**20)).decode()
    result = call(server, "run_edit", {"image": over})
    assert result.isError and "`image`: 26 MB is over the 25 MB limit" in result.content[0].text


def test_a_missing_image_is_named(server):
    result = call(server, "run_screen", {})
    assert result.isError and "`image` is required" in result.content[0].text


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


def test_a_long_bad_value_is_quoted_short():
    # Frames sent as one 26 KB data URI instead of a list came back whole in the error, into the agent's context.
    from propgrad.app.mcp_server import argument_problem

    schema = {"type": "object", "properties": {"frames": {"type": "array"}}}
    said = argument_problem(schema, {"frames": "data:image/png;base64," + "A" * 26_000}, "run_turntable")
    assert said.startswith("`frames`: 'data:image/png;base64,AAA") and "is not of type 'array'" in said, said
    assert len(said) < 200 and "(26,024 characters)" in said
