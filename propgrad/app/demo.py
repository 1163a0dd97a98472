"""The whole app: the tabs in order, the queue, and the launch settings every launch shares."""
from __future__ import annotations

import importlib.util
import logging
import os

import gradio as gr

from .. import paths
from .settings import CONCURRENCY, MAX_FILE_SIZE, QUEUE_SIZE, configure_serving
from .tabs import dynamics, edit, patch, turntable
from .zerogpu import use_zero_gpu

log = logging.getLogger("propgrad.app")

INTRO = """# propgrad: local interventional explanations
Change one property of one image step by step, run every model on every step, and measure how strongly and how
systematically each output follows: the expected property gradient magnitude
**E[|grad_X F|] = mean over steps of |dF/dX|** (numpy's `np.gradient`, unit spacing), its shuffle-test p-value
(two-sided, 10,000 permutations by default) and where the prediction flips.
Method: Penzel & Denzler, *Locally Explaining Prediction Behavior via Gradual Interventions and Measuring
Property Gradients*, WACV 2026."""


def build_demo() -> gr.Blocks:
    """The whole app: one tab per intervention source (training dynamics when its checkpoints ship)."""
    use_zero_gpu()
    ip2p = edit.instruct_pix2pix_status()
    variants = dynamics.dynamics_variants()
    with gr.Blocks(title="propgrad: local interventional explanations", analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Diffusion & region edits"):
            edit.build_edit_tab(ip2p)
        with gr.Tab("Patch blending"):
            patch.build_patch_tab()
        with gr.Tab("Turntable frames (CLIP)"):
            turntable.build_turntable_tab()
        if variants:
            with gr.Tab("Training dynamics"):
                dynamics.build_dynamics_tab(variants)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


# Wide Markdown tables (the ranked comparison, a study's Table 3) scroll sideways on a phone instead of
# squeezing every cell to one letter per line.
CSS = ".prose table { display: block; overflow-x: auto; } .prose th, .prose td { white-space: nowrap; }"


MCP_ENV = "PROPGRAD_MCP"


def mcp_enabled() -> bool:
    """Whether the tabs' handlers are also served as MCP tools (``PROPGRAD_MCP=0`` turns it off).

    On by default where ``gradio[mcp]`` is installed; without the ``mcp`` package the app still serves
    (with a log line), unless ``PROPGRAD_MCP=1`` asks for it explicitly, when gradio's ImportError says
    what to install.
    """
    setting = os.environ.get(MCP_ENV, "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    if setting:
        raise ValueError(f"{MCP_ENV}={setting!r}: use 1 (serve the tabs as MCP tools) or 0 (do not)")
    if importlib.util.find_spec("mcp") is None:
        log.warning("the mcp package is missing: serving without MCP tools (pip install 'gradio[mcp]')")
        return False
    return True


def launch_kwargs(**overrides) -> dict:
    """Settings every launch shares (the tests launch with these too)."""
    kwargs = dict(max_file_size=MAX_FILE_SIZE, show_error=True, footer_links=["api"],
                  allowed_paths=[str(paths.ASSETS)], css=CSS, mcp_server=mcp_enabled())
    kwargs.update(overrides)
    return kwargs


def launch(demo: gr.Blocks, **overrides):
    """Launch ``demo`` with :func:`launch_kwargs`, first recording where it serves: visitors may name
    folders on the server only when it serves on a loopback address without a share link."""
    kwargs = launch_kwargs(**overrides)
    host = kwargs.get("server_name") or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    share = kwargs.get("share")
    if share is None:  # gradio's own default: GRADIO_SHARE
        share = os.environ.get("GRADIO_SHARE", "").strip().lower() in ("1", "true", "yes")
    configure_serving(host, share=bool(share))
    return demo.launch(**kwargs)
