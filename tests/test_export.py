"""One way out: export.write, rows, to_dict and zip_files answer for every result kind alike."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image

from propgrad import export
from propgrad.compare import compare_properties
from propgrad.explain import explain
from propgrad.interventions import ParametricEdit
from propgrad.screen import screen
from propgrad.study import run_images


class Redness:
    name, output_names, output_kind = "redness", ["not red", "red"], "probability"

    def predict(self, images):
        p = np.array([np.asarray(image, dtype=float)[..., 0].mean() / 255 for image in images])
        return np.stack([1 - p, p], axis=1)


IMAGE = Image.new("RGB", (32, 24), (200, 90, 90))


def results(tmp_path):
    edit = ParametricEdit("darken", steps=4)
    study = run_images([IMAGE, Image.new("RGB", (32, 24), (120, 90, 90))], edit, [Redness()], out=tmp_path / "study",
                       n_permutations=50)
    return {
        "explanation": explain(IMAGE, edit, [Redness()], n_permutations=50),
        "comparison": compare_properties(IMAGE, {"darker": edit, "bluer": ParametricEdit("hue", stop=120, steps=4)},
                                         [Redness()], n_permutations=50),
        "screen": screen(IMAGE, [Redness()], edits=["darken", "hue"], regions=["whole image"], steps=4,
                         n_permutations=50),
        "study": study.folder,
    }


def test_every_kind_goes_out_the_same_way(tmp_path):
    for kind, result in results(tmp_path).items():
        paths = export.write(result, tmp_path / kind)
        assert any(name.endswith("html") for name in paths), kind
        rows = export.rows(result)
        assert rows, kind
        if kind != "study":
            assert all(row["reading"] and row["statistic"] == "gradient" and "change" in row for row in rows), kind
            assert export.to_dict(result)["input"]["pixels_sha256"], kind
        else:
            assert {"tier", "statistic", "tier_a_share"} <= set(rows[0])
        bundle = export.zip_files(paths, tmp_path / f"{kind}.zip")
        with zipfile.ZipFile(bundle) as archive:
            assert "report.html" in {name.rsplit("/", 1)[-1] for name in archive.namelist()}


def test_something_else_is_refused():
    with pytest.raises(TypeError, match="must be an Explanation, a PropertyComparison, a Screen or a study folder"):
        export.write(42, "out")
