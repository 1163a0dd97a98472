"""The same tiny study on every engine gives identical files; dead workers and dead addresses are reported."""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from propgrad.study import InProcess, Processes, run_study
from propgrad.study.items import StudyItem
from propgrad.study.inputs import ImageRef
from propgrad.study.worker import FAILED, OK, ItemResult

from test_study import STICKER, lesion_folder, tiny_definition

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not STICKER.is_file(), reason="the lesion scenario's assets are not shipped here")]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return lesion_folder(tmp_path_factory.mktemp("engine-lesions"), 4, seed=9)


@pytest.fixture(scope="module")
def reference(images, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("engines") / "in-process"
    run_study(tiny_definition(images), out, engine=InProcess())
    return out


def same_files(out: Path, reference: Path) -> None:
    for name in ("results.csv", "curves.csv", "summary.csv"):
        assert (out / name).read_text() == (reference / name).read_text(), name


def test_two_processes_give_identical_results(images, reference, tmp_path):
    run_study(tiny_definition(images), tmp_path / "processes", engine=Processes(2))
    same_files(tmp_path / "processes", reference)


def test_local_ray_gives_identical_results(images, reference, tmp_path):
    ray = pytest.importorskip("ray")
    from propgrad.study import RayEngine

    # A local Ray with 2 CPUs and no dashboard, started by the engine and stopped after the study.
    assert not ray.is_initialized()
    run_study(tiny_definition(images), tmp_path / "ray", engine=RayEngine(num_cpus=2))
    assert not ray.is_initialized()
    same_files(tmp_path / "ray", reference)


def test_unreachable_ray_address_fails_fast(images, tmp_path):
    pytest.importorskip("ray")
    from propgrad.cli import main

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(ConnectionError, match=f"nothing answers at 127.0.0.1:{port}"):
        from propgrad.study import RayEngine

        run_study(tiny_definition(images), tmp_path / "nowhere", engine=RayEngine(address=f"127.0.0.1:{port}"))
    assert main(["study", "--images", str(images), "--ray", f"127.0.0.1:{port}", "--out", str(tmp_path / "cli"),
                 "--no-progress"]) == 2
    assert time.perf_counter() - started < 30  # seconds, not a hang (generous for a loaded machine)


class _DiesOnPoison:
    """A worker whose process exits abruptly on the item named 'poison' (as an out-of-memory kill would)."""

    def run(self, item):
        if item.key == "poison":
            os._exit(1)
        return ItemResult(item.index, item.key, OK)


def dies_on_poison():
    return _DiesOnPoison()


def test_dead_worker_items_are_retried_or_reported(caplog):
    items = [StudyItem(i, key, ImageRef(key), 0, "x", 0) for i, key in enumerate(["a", "poison", "b", "c"])]
    with caplog.at_level("WARNING", logger="propgrad.study"):
        results = {r.key: r for r in Processes(2, retries=1).run(dies_on_poison, items)}
    assert set(results) == {"a", "poison", "b", "c"}  # none silently lost
    assert results["poison"].status == FAILED and "worker process died" in results["poison"].message
    assert all(results[key].status in (OK, FAILED) for key in "abc")
    # Each retry is said, as the Ray engine says a lost worker (it was silent).
    said = [record.getMessage() for record in caplog.records if record.getMessage().startswith("a worker process died")]
    assert said and "again, alone" in said[0] and said[-1].endswith("1 failed after 1 retries"), said


def test_dead_ray_worker_items_are_retried_then_reported(monkeypatch):
    pytest.importorskip("ray")
    from propgrad.study import RayEngine

    # Ray's workers import this test module to rebuild the worker factory.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent))
    items = [StudyItem(i, key, ImageRef(key), 0, "x", 0) for i, key in enumerate(["a", "poison", "b"])]
    results = {r.key: r for r in RayEngine(num_cpus=2, workers=1, retries=1).run(dies_on_poison, items)}
    assert set(results) == {"a", "poison", "b"}  # none silently lost
    assert results["poison"].status == FAILED and "Ray worker failed after 1 retries" in results["poison"].message
    # An item that shared the actor with the poison item is charged for the crash too, but its retry runs alone
    # (as the poison item's does), so it ends ok: only the item that fails on every try is FAILED.
    assert results["a"].status == OK and results["b"].status == OK


def test_a_dying_item_is_charged_alone_and_its_neighbours_succeed():
    keys = ["a", "b", "poison", "c", "d", "e", "f"]
    items = [StudyItem(i, key, ImageRef(key), 0, "x", 0) for i, key in enumerate(keys)]
    results = {r.key: r for r in Processes(2, retries=2).run(dies_on_poison, items)}
    assert results["poison"].status == FAILED and "gave up after 2 retries" in results["poison"].message
    assert {key: results[key].status for key in keys if key != "poison"} == {key: OK for key in keys if key != "poison"}


@pytest.fixture(scope="module")
def eight_images(tmp_path_factory) -> Path:
    return lesion_folder(tmp_path_factory.mktemp("node-loss-lesions"), 8, seed=11)


def test_a_lost_ray_node_moves_its_items_to_the_nodes_that_remain(eight_images, tmp_path, monkeypatch):
    """Two nodes of one CPU each; the worker node is removed after 3 of 8 items: every item still ends ok, and
    the files equal an in-process run's byte for byte. The study connects by address as ``--ray HOST:PORT`` does,
    shipping this checkout to the workers (with only the package shipped, its bundled models were unknown there
    and every item failed)."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    from propgrad.study import RayEngine

    reference = tmp_path / "in-process"
    run_study(tiny_definition(eight_images), reference, engine=InProcess())
    monkeypatch.delenv("PROPGRAD_ASSETS", raising=False)  # the workers learn where the assets are from the study
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker_node = cluster.add_node(num_cpus=1)
    lines: list[str] = []
    try:
        cluster.wait_for_nodes()

        def on_item(result, done, total):
            if done == 3:
                cluster.remove_node(worker_node)

        run_study(tiny_definition(eight_images), tmp_path / "ray",
                  engine=RayEngine(address=cluster.address, notify=lines.append), on_item=on_item)
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert any(" lost: " in line and "moved to other workers" in line for line in lines), lines
    journal = [json.loads(line) for line in (tmp_path / "ray" / "items.jsonl").read_text().splitlines()]
    assert {entry["status"] for entry in journal} == {OK}
    for name in ("results.csv", "curves.csv"):
        assert (tmp_path / "ray" / name).read_bytes() == (reference / name).read_bytes(), name


def test_rays_default_token_notice_is_not_printed_for_a_ray_of_its_own(caplog):
    """"Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out" was printed on
    every --ray run, of a Ray the study starts and stops itself; Ray's other warnings stay."""
    import logging

    from propgrad.study import ray_engine

    logger = logging.getLogger(ray_engine._TOKEN_LOGGER)
    with caplog.at_level(logging.WARNING), ray_engine._without_default_token_notice():
        logger.warning("Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to opt out.")
        logger.warning("Token authentication is disabled for this Ray cluster. Anyone with network access ...")
    logger.warning("Token authentication is enabled for this Ray cluster (after the start: said again)")
    said = [record.getMessage().split(" for ")[0] for record in caplog.records
            if record.name == ray_engine._TOKEN_LOGGER]
    assert said == ["Token authentication is disabled", "Token authentication is enabled"], said
    # Ray still says it so, from that logger: a Ray that moved or reworded it would bring the notice back unseen.
    import importlib
    import inspect

    pytest.importorskip("ray")
    setup = importlib.import_module(ray_engine._TOKEN_LOGGER)
    assert ray_engine._TOKEN_NOTICE in inspect.getsource(setup._warn_token_auth_enabled)


def test_a_cluster_by_address_is_told_where_the_bundled_assets_are(monkeypatch):
    """``--ray HOST:PORT`` from a checkout shipped the package alone: on the workers it looked for the assets beside
    its shipped copy, found none, and every item failed with "`model` must be one of 'EfficientNet-Lite0 (ImageNet)',
    got 'Lesion CNN (biased)'" (run from the repository itself, the workers found the checkout on their path)."""
    from types import SimpleNamespace

    from propgrad.paths import assets_dir
    from propgrad.study import RayEngine, ray_engine

    asked = {}
    monkeypatch.setattr(ray_engine, "check_address", lambda address: None)
    RayEngine(address="10.0.0.1:6379")._connect(SimpleNamespace(init=lambda **kwargs: asked.update(kwargs)))
    shipped = asked["runtime_env"]
    assert shipped["env_vars"]["PROPGRAD_ASSETS"] == str(assets_dir().resolve())
    assert (Path(shipped["env_vars"]["PROPGRAD_ASSETS"]) / "lesions").is_dir()
    assert [Path(module).name for module in shipped["py_modules"]] == ["propgrad"]
    # An installed package ships its own copy (propgrad/_assets): the nodes find it beside the package, wherever the
    # driver's copy lies.
    inside = Path(shipped["py_modules"][0]) / "_assets"
    monkeypatch.setattr(ray_engine, "assets_dir", lambda: inside)
    asked.clear()
    RayEngine(address="10.0.0.1:6379")._connect(SimpleNamespace(init=lambda **kwargs: asked.update(kwargs)))
    assert "env_vars" not in asked["runtime_env"]
