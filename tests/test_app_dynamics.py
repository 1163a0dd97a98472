"""The training-dynamics tab's handler."""
from __future__ import annotations

import pytest

from app_cases import *  # noqa: F403  (helpers and fixtures)

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each


def test_training_dynamics_handler(progress):
    variants = dynamics_tab.dynamics_variants()
    if not variants:
        pytest.skip("the lesion scenario's per-epoch checkpoints are not in this build")
    image = str(lesion_examples()[0])
    plot, table, csv_path = dynamics_tab.run_dynamics(image, variants[:1], 4, 0, 500, 0.01, progress=progress)
    assert Image.open(plot).format == "PNG" and len(table) >= 2 and Path(csv_path).read_text().count("\n") == len(table) + 1
    with pytest.raises(gr.Error, match="`variants`: tick at least one"):
        dynamics_tab.run_dynamics(image, [], 4, 0, 500, 0.01, progress=progress)
    with pytest.raises(gr.Error, match="no per-epoch checkpoints"):
        dynamics_tab.run_dynamics(image, ["no such variant"], 4, 0, 500, 0.01, progress=progress)
