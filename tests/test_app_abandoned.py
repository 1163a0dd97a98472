"""A run whose page was closed stops at its next progress report (propgrad.app.abandoned), through gradio's own queue:
before, it ran to its end for nobody while the visitors still there waited for its place in the queue."""
from __future__ import annotations

import json
import socket
import threading
import time

import gradio as gr
import httpx
import pytest

from propgrad.app.abandoned import RunAbandoned, caller_left
from propgrad.app.run import package_progress
from propgrad.app.shared import friendly_errors

STEPS = 100


@pytest.fixture(scope="module")
def slow_server():
    """A tab of one slow handler, wrapped as the app's are: 100 progress reports 30 ms apart (3 s)."""
    state = {"reached": 0, "ended": threading.Event(), "stopped": []}

    def slow(progress=gr.Progress()):
        report = package_progress(progress)
        state["reached"] = 0
        try:
            for step in range(STEPS):
                report(step / STEPS, f"step {step}")
                time.sleep(0.03)
                state["reached"] = step + 1
            return "done"
        except RunAbandoned:
            state["stopped"].append(state["reached"])
            raise
        finally:
            state["ended"].set()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with gr.Blocks() as demo:
        answer = gr.Textbox()
        gr.Button().click(friendly_errors(slow), None, answer, api_name="slow")
    demo.queue().launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/gradio_api", state
    finally:
        demo.close()


def start(client: httpx.Client, url: str, session: str) -> None:
    joined = client.post(f"{url}/queue/join", json={"data": [], "fn_index": 0, "session_hash": session,
                                                    "event_data": None, "trigger_id": None})
    assert joined.status_code == 200, joined.text


def messages(client: httpx.Client, url: str, session: str):
    with client.stream("GET", f"{url}/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                yield json.loads(line[5:])


def test_a_run_whose_page_closes_stops_at_its_next_progress_report(slow_server):
    url, state = slow_server
    state["ended"].clear()
    with httpx.Client(timeout=60) as client:
        start(client, url, "propgrad-left")
        for message in messages(client, url, "propgrad-left"):
            if message.get("msg") == "progress":
                break  # the page closes: its stream ends mid-run
    assert state["ended"].wait(5), "the run went on after its page closed"
    assert state["stopped"] and state["reached"] < STEPS // 2


def test_a_run_whose_page_stays_runs_to_its_end(slow_server):
    url, state = slow_server
    state["ended"].clear()
    with httpx.Client(timeout=60) as client:
        start(client, url, "propgrad-stays")
        completed = next(message for message in messages(client, url, "propgrad-stays")
                         if message.get("msg") == "process_completed")
    assert completed["success"] and completed["output"]["data"] == ["done"]
    assert state["reached"] == STEPS


def test_nobody_leaves_outside_gradios_queue():
    # The command line, the tests, the background defaults and an agent's tool call have no page to close.
    assert caller_left() is False
    seen = []
    package_progress(lambda fraction, desc="": seen.append((fraction, desc)))(0.5, "half")
    assert seen == [(0.5, "half")]
