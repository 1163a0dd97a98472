"""A run whose visitor has gone: stopped at its next progress report instead of computed to the end for nobody.

Gradio marks a queued event dead when the connection of its page closes (the tab closed, the laptop shut), but it
cannot stop a function running in a thread: on a shared Space such a run kept one of its tab's places in the queue
for its whole length (minutes for an InstructPix2Pix sweep on a CPU) while the visitors still there waited. The
package reports its progress often (each edit, each model, each statistic), and :func:`~.run.package_progress` asks
:func:`caller_left` before each report.

Gradio-free to import: outside gradio's queue (the command line, the tests, the background defaults, an agent's
tool call) nobody can leave, and a gradio whose queue is laid out otherwise runs every run to its end, as before.
"""
from __future__ import annotations


class RunAbandoned(Exception):
    """The visitor whose run this was has left; raised from a progress report, said in the log only."""


def caller_left() -> bool:
    """Whether gradio has marked the event this thread computes for as no longer alive."""
    try:
        from gradio.context import LocalContext

        blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
        if blocks is None or event_id is None:
            return False
        for job in blocks._queue.active_jobs:
            for event in job or ():
                if event._id == event_id:
                    return not event.alive
    except (ImportError, AttributeError, LookupError, TypeError):  # gradio's internals have moved
        return False
    return False
