"""The app over HTTP with gradio_client: the API names, eight simultaneous users, bad input via the API."""
from __future__ import annotations

import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from propgrad.app.tabs.patch import run_patch

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402

pytestmark = pytest.mark.slow  # runs models or a server end to end: seconds each

ROOT = Path(__file__).resolve().parents[1]
CHELSEA = ROOT / "assets" / "examples" / "chelsea.jpg"
IMAGENET = "EfficientNet-Lite0 (ImageNet)"
MEAN, STD = "0.485, 0.456, 0.406", "0.229, 0.224, 0.225"


def patch_payload(x=0.5, y=0.5, steps=4, image=CHELSEA, patches=("rainbow disc",)):
    return dict(image=handle_file(str(image)), patch_names=list(patches), patch_files=[], x=x, y=y, scale=0.3,
                steps=steps, seed=0, bundled=[IMAGENET], files=[], input_size=224, mean=MEAN, std=STD,
                class_names="", outputs="", n_permutations=2000, alpha=0.01)


def call_patch(url, **payload):
    client = Client(url, verbose=False)
    values = list(payload.values())
    return client.predict(*values, api_name="/patch")


def report_of(result) -> dict:
    bundle = result[6]
    with zipfile.ZipFile(bundle) as archive:
        return json.loads(archive.read("report.json"))


def test_api_names_are_stable(server):
    info = Client(server, verbose=False).view_api(return_format="dict", print_info=False)
    assert {"/edit", "/patch", "/turntable", "/screen"} <= set(info["named_endpoints"])
    # The Screen's API answers as it did (summary, table, figure, zip); the talk view's slide is the page's alone.
    assert len(info["named_endpoints"]["/screen"]["returns"]) == 4


def test_patch_over_http_matches_a_direct_call(server, progress):
    result = call_patch(server, **patch_payload())
    summary, table = result[0], result[4]
    assert "**Reading:**" in summary and "E[\\|grad_X\u00a0F\\|]" in summary
    direct = run_patch(str(CHELSEA), ["rainbow disc"], None, 0.5, 0.5, 0.3, 4, 0, [IMAGENET], None, 224,
                                  MEAN, STD, "", "", 2000, 0.01, progress=progress)
    assert [row[:4] for row in table["data"]] == [row[:4] for row in direct[4]]


def test_eight_simultaneous_clients_each_get_their_own_result(server, progress):
    # Eight users, eight different patch positions/step counts: each must get the result for ITS input.
    settings = [dict(x=0.15 + 0.1 * i, y=0.8 - 0.08 * i, steps=3 + i % 3) for i in range(8)]
    expected = []
    for setting in settings:
        direct = run_patch(str(CHELSEA), ["rainbow disc"], None, setting["x"], setting["y"], 0.3,
                                      setting["steps"], 0, [IMAGENET], None, 224, MEAN, STD, "", "", 2000, 0.01,
                                      progress=progress)
        expected.append(direct)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(call_patch, server, **patch_payload(**setting)) for setting in settings]
        results = [future.result(timeout=300) for future in futures]
    bundles = set()
    for setting, result, direct in zip(settings, results, expected):
        report = report_of(result)
        assert report["n_steps"] == setting["steps"]
        model = report["models"][0]
        with zipfile.ZipFile(direct[6]) as archive:
            want = json.loads(archive.read("report.json"))["models"][0]
        assert model["outputs_of_interest"][0]["score"] == pytest.approx(
            want["outputs_of_interest"][0]["score"], rel=1e-5)
        assert model["outputs_of_interest"][0]["pvalue"] == pytest.approx(
            want["outputs_of_interest"][0]["pvalue"], abs=2e-3)
        bundles.add(result[6])
    assert len(bundles) == 8  # no two users were handed the same file
    scores = {round(report_of(r)["models"][0]["outputs_of_interest"][0]["score"], 6) for r in results}
    assert len(scores) == 8


def test_bad_upload_via_api_gives_message_and_server_keeps_serving(server, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    with pytest.raises(Exception) as caught:
        call_patch(server, **patch_payload(image=broken))
    assert "not a readable image" in str(caught.value)
    with pytest.raises(Exception) as caught:
        call_patch(server, **patch_payload(patches=()))
    assert "`patches` is empty" in str(caught.value)
    # Past a slider's range (only an API call can send it): the parameter the caller sent is named (gradio's own check
    # named none; the box's label, "Number of steps", was the page's word).
    with pytest.raises(Exception) as caught:
        call_patch(server, **patch_payload(steps=1000))
    assert "`steps` must be from 3 to 30, got 1000" in str(caught.value), caught.value
    with pytest.raises(Exception) as caught:
        call_patch(server, **{**patch_payload(), "outputs": "zebra crossing light"})
    assert "`outputs`: no model has an output" in str(caught.value), caught.value
    result = call_patch(server, **patch_payload(steps=3))
    assert "Reading:" in result[0]


def test_turntable_over_http_with_uploaded_frames(server):
    frames = sorted((ROOT / "assets" / "turntable").glob("*.png"))[::9]
    client = Client(server, verbose=False)
    result = client.predict(
        [handle_file(str(f)) for f in frames], 360, False, "a: x\nb: y", "ViT-B-32", "openai", 0,
        [IMAGENET], [], 224, MEAN, STD, "", "coffee mug", 2000, 0.01, api_name="/turntable",
    )
    assert result[4]["data"][0][1] == "coffee mug"
    assert report_of(result)["n_steps"] == 4


def test_readme_api_snippet_runs(server):
    text = (ROOT / "docs" / "app-api.md").read_text()  # moved from the README (issue 24)
    snippet = text.split("```python", 1)[1].split("```", 1)[0]
    snippet = snippet.replace("http://127.0.0.1:7860/", server).replace("print(summary)", "")
    namespace: dict = {}
    exec(compile(snippet.replace('"assets/', f'"{ROOT}/assets/'), "docs/app-api.md", "exec"), namespace)
    assert "**Reading:**" in namespace["summary"] and "properties compared" in namespace["summary"]
    assert len(namespace["table"]["data"]) >= 2  # the first tab's default: two regions, each model a row
    assert "Reading:" in namespace["patched"]


def test_uploads_over_the_size_limit_are_refused(server, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (26 * 2**20))  # the app accepts 25 MB per file
    with pytest.raises(Exception) as caught:
        call_patch(server, **patch_payload(image=big))
    assert "maximum file size" in str(caught.value)
    # The server enforces it too, not only the client: a raw upload is refused.
    import httpx

    with big.open("rb") as handle:
        response = httpx.post(f"{server}gradio_api/upload", files={"files": ("big.png", handle)}, timeout=60)
    assert response.status_code == 413, response.text[:200]
    assert "Reading:" in call_patch(server, **patch_payload(steps=3))[0]  # still serving


def test_every_optional_api_input_has_the_tabs_default(server):
    client = Client(server, verbose=False)
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for name in ("/edit", "/patch", "/turntable"):
        missing = [p["parameter_name"] for p in info[name]["parameters"] if not p["parameter_has_default"]]
        assert not missing, (name, missing)
    # Only the image: the tab's default example on that image.
    result = client.predict(image=handle_file(str(ROOT / "assets" / "examples" / "coffee.jpg")), api_name="/patch")
    assert "**Reading:**" in result[0] and Path(result[6]).name.startswith("propgrad-coffee-")
