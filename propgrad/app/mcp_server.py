"""Gradio's MCP server, shaped for agents: only the agent tools, JSON answers, images, named argument errors.

Gradio (6.31, pinned in requirements.txt) serves every public endpoint as a tool and answers with one text
block per output holding ``str(value)`` (a Python repr). :func:`adapt` changes three things on the server a
launch created, and nothing else:

1. the tool list: only :mod:`.mcp_tools`' endpoints (the tabs' own endpoints stay for gradio_client), and the
   largest request it reads, to fit an inline image at the tools' own limit (:func:`request_body_limit`);
2. each answer: the JSON document as text (parseable), also as ``structuredContent``, with ``links`` to the
   figures and the zip filled in with the URLs gradio serves them at; the figures as image content;
3. arguments are checked against the tool's schema first, so a wrong type or an unknown value comes back
   naming the argument ("`steps`: 5.5 is not of type 'integer'"), as the tools' own checks do.

``tests/test_mcp.py`` talks to it with the ``mcp`` client over streamable HTTP; a gradio upgrade that moves
these hooks fails there.
"""
from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

log = logging.getLogger("propgrad.app")

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
               ".webp": "image/webp"}


def _link_name(file_name: str) -> str:
    """The key of a file in ``links``: "download" for the zip (or a study's CSV), else the file's stem."""
    return "download" if file_name.endswith((".zip", ".csv")) else Path(file_name).stem


def render(data: list, root_url: str, types) -> list:
    """One tool's outputs (the JSON text, then files as gradio's FileData dicts) -> MCP content blocks."""
    from gradio import processing_utils
    from gradio_client import utils as client_utils

    data = processing_utils.add_root_url(data, root_url, None)
    doc = json.loads(data[0])
    images = []
    for item in data[1:]:
        if not client_utils.is_file_obj_with_meta(item):
            continue
        name = item.get("orig_name") or Path(item["path"]).name
        doc["links"][_link_name(name)] = item.get("url") or item["path"]
        mime = IMAGE_TYPES.get(Path(name).suffix.lower())
        if mime and Path(item["path"]).is_file():
            images.append(types.ImageContent(type="image", mimeType=mime,
                                             data=base64.b64encode(Path(item["path"]).read_bytes()).decode()))
    return [types.TextContent(type="text", text=json.dumps(doc, ensure_ascii=False)), *images]


def argument_problem(schema: dict, arguments: dict, tool: str) -> str | None:
    """The first way ``arguments`` break ``schema``, worded with the argument's name; None when they fit."""
    import jsonschema

    unknown = sorted(set(arguments) - set(schema.get("properties", {})))
    if unknown:
        return (f"`{unknown[0]}` is not an argument of {tool}; it takes: "
                + ", ".join(schema.get("properties", {})))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(arguments),
                    key=lambda error: list(map(str, error.absolute_path)))
    if not errors:
        return None
    error = errors[0]
    if error.validator == "required":
        return f"`{error.message.split(chr(39))[1]}` is required"
    if error.validator in ("minimum", "maximum") and {"minimum", "maximum"} <= set(error.schema):
        entry = error.schema  # worded as the tools' own range checks
        kind = "a whole number" if entry.get("type") == "integer" else "a number"
        return (f"`{error.absolute_path[0]}` must be {kind} between {entry['minimum']} and {entry['maximum']}, "
                f"got {error.instance!r}")
    # The value as the message quotes it, cut short: a 26 KB data URI sent as a string came back whole, into the
    # agent's context.
    message = error.message.replace(repr(error.instance), _shortened(error.instance))
    return f"`{error.absolute_path[0]}`: {message}" if error.absolute_path else message


def _shortened(value, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters with its length said where it is longer.

    Examples
    --------
    >>> _shortened("data:image/png;base64," + "A" * 1000, limit=30)
    "'data:image/png;base64,AAAAAAA... (1,024 characters)"
    >>> _shortened(5.5)
    '5.5'
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def completed_schema(schema: dict, endpoint: dict | None) -> dict:
    """``schema`` with what gradio leaves out: defaults that are falsy (a seed of 0, "", [], false: gradio states a
    default only where it is truthy) and each number argument's range (:data:`.parsing.RANGES`), which the tools
    check, so that an agent reads them from the schema and a value out of range is refused naming the argument."""
    from .parsing import RANGES

    properties = schema.get("properties", {})
    for parameter in (endpoint or {}).get("parameters", ()):
        entry = properties.get(parameter["parameter_name"])
        if entry is None:
            continue
        if parameter.get("parameter_has_default") and "default" not in entry \
                and parameter.get("parameter_default") is not None:
            entry["default"] = parameter["parameter_default"]
        if parameter["parameter_name"] in RANGES and entry.get("type") in ("integer", "number"):
            entry["minimum"], entry["maximum"] = RANGES[parameter["parameter_name"]]
    return schema


def request_body_limit() -> int:
    """The largest MCP request the server reads: an inline image at the tools' limit, base64, with room for the rest
    of the call and for an image somewhat over the limit, which the tool then names (only a larger one gets the
    transport's bare HTTP 413)."""
    from .mcp_tools import MAX_IMAGE_BYTES

    return -(-MAX_IMAGE_BYTES // 3) * 4 + 8 * 2**20


def sse_transports(app, depth: int = 0) -> list:
    """The SSE transports mounted in ``app`` (gradio mounts one at ``<mcp path>/messages/``, its own limit of 4 MiB
    not the streamable HTTP one's): found by their ``handle_post_message``, in mounted apps too."""
    found = []
    for route in getattr(app, "routes", []) if depth < 4 else []:
        inner = getattr(route, "app", None)
        owner = getattr(inner, "__self__", None)
        if getattr(inner, "__name__", "") == "handle_post_message" and hasattr(owner, "_post_message_app"):
            found.append(owner)
        elif inner is not None and inner is not app:
            found += sse_transports(inner, depth + 1)
    return found


def adapt(demo, tools: dict[str, str]) -> bool:
    """Shape the MCP server of a launched ``demo`` (see the module docstring); ``tools``: {tool name: api name}.

    Returns whether there was a server to shape (none when MCP is off).
    """
    server = getattr(demo, "mcp_server_obj", None)
    if server is None:
        return False
    from mcp import types

    from .._version import __version__

    # An agent's `initialize` reported the mcp library's version (1.30.0) as this server's.
    server.mcp_server.version = __version__
    # The transport refused any request over 4 MiB (its default) with a bare HTTP 413: a 3 MB photo sent inline
    # never reached the tools' own limit of 25 MB, which names the argument. A request holding the largest image the
    # tools take (base64: four characters per three bytes) and its arguments gets through.
    body = request_body_limit()
    server.manager.max_request_body_size = body
    server.manager.asgi_app.max_body_size = body
    for transport in sse_transports(getattr(demo, "server_app", None)):  # the SSE endpoint mcp-remote connects to
        transport._post_message_app.max_body_size = body
    named = server.api_info["named_endpoints"]
    # On a Space gradio prefixes every tool with the Space's name (propgrad_run_edit); kept.
    server.tool_to_endpoint = {server.tool_prefix + name: f"/{api}" for name, api in tools.items()
                               if f"/{api}" in named}
    original_schema = server.get_input_schema

    def input_schema(tool_name, parameters=None):
        schema, files = original_schema(tool_name, parameters)
        return completed_schema(schema, server.api_info["named_endpoints"].get(server.tool_to_endpoint[tool_name])), files

    server.get_input_schema = input_schema
    original_render = server.postprocess_output_data

    def postprocess(data, root_url):
        # Without a progress token gradio hands over [all outputs]; with one, the outputs themselves.
        if len(data) == 1 and isinstance(data[0], (list, tuple)):
            data = list(data[0])
        if data and isinstance(data[0], str) and data[0].startswith("{"):
            return render(list(data), root_url, types)
        return original_render(data, root_url)

    server.postprocess_output_data = postprocess
    handlers = server.mcp_server.request_handlers
    call = handlers[types.CallToolRequest]

    async def call_tool(request):
        name, arguments = request.params.name, request.params.arguments or {}
        if name in server.tool_to_endpoint:
            problem = argument_problem(server.get_input_schema(name)[0], arguments, name)
            if problem:
                return types.ServerResult(types.CallToolResult(
                    content=[types.TextContent(type="text", text=problem)], isError=True))
        result = await call(request)
        answer = result.root
        if isinstance(answer, types.CallToolResult) and not answer.isError and answer.content \
                and answer.content[0].type == "text":
            try:
                document = json.loads(answer.content[0].text)
            except ValueError:
                document = None
            if isinstance(document, dict):
                answer.structuredContent = document
        return result

    handlers[types.CallToolRequest] = call_tool
    return True
