"""The gradualness check in the app: its plot under the image strip, and a warning line (issue 17).

A hook, not a layout: :func:`strip_with_plot` returns the strip with the change-per-step plot under it
(one image, so the seven result components keep their number), :func:`notes` the lines the summary
shows. Gradio-free.
"""
from __future__ import annotations

from pathlib import Path

from ..gradualness import summary_line


def notes(explanation, name: str = "") -> list[str]:
    """The verdict, and a warning when a series is not gradual ("name: ..." for one property of several)."""
    prefix = f"{name}: " if name else ""
    lines = [f"{prefix}{summary_line(explanation.gradualness)}"]
    if not explanation.gradual:
        lines.append(f"{prefix}**warning**: a series that is not gradual measures the intervention as much as the "
                     "model (see the change per step under the strip)")
    return lines


def strip_with_plot(strip: str | Path, explanation, out: str | Path) -> Path:
    """``strip`` with the change-per-step plot (:func:`propgrad.plots.gradualness_plot`) stacked under it."""
    from PIL import Image

    from .. import plots

    out = Path(out)
    figure = plots.gradualness_plot(explanation)
    plot_path = plots.save_figure(figure, out.with_name(out.stem + "-gradualness.png"))
    top, bottom = Image.open(strip).convert("RGB"), Image.open(plot_path).convert("RGB")
    if bottom.width != top.width:
        bottom = bottom.resize((top.width, max(1, round(bottom.height * top.width / bottom.width))),
                               Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (top.width, top.height + bottom.height), "white")
    canvas.paste(top, (0, 0))
    canvas.paste(bottom, (0, top.height))
    canvas.save(out)
    return out
