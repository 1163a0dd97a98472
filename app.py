"""propgrad's Gradio app: the entry point. The UI lives in ``propgrad.app`` (one module per tab).

Run ``python app.py``. ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` choose where it serves (a Space
sets them), ``GRADIO_SHARE=1`` adds a public link, ``PROPGRAD_CONCURRENCY`` sets the jobs per tab,
``PROPGRAD_ALLOW_LOCAL_PATHS=1`` lets visitors name model folders on the server even when others can reach it,
and ``PROPGRAD_MCP=0`` stops serving the tabs as MCP tools (``/gradio_api/mcp/``).
"""
from __future__ import annotations

import logging
import os

# Before gradio is imported: no telemetry from a Space, a talk or a classroom.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from propgrad.app.demo import build_demo, launch  # noqa: E402 - after the telemetry switch

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    # Host, port and share link come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT / GRADIO_SHARE (a Space sets them).
    launch(build_demo())
