"""Run a study's items on Ray: a local instance, or a cluster at an address.

Items go to a pool of Ray actors, each holding one :class:`~propgrad.study.worker.StudyWorker` (its
models load once per actor). Each actor gets at most two items at a time and a new one whenever it
returns one, so fast and slow workers share the load and results stream back as they finish. An actor
that dies is restarted by Ray and its item retried (``max_restarts``, ``max_task_retries``); an item
that still fails is reported FAILED, never dropped. ``ray`` is an optional dependency
(``pip install propgrad[ray]``) and is imported only here.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .items import StudyItem
from .worker import FAILED, ItemResult

GCS_PORT, CLIENT_PORT = 6379, 10001  # Ray's defaults for a head node and for ray:// clients
CONNECT_TIMEOUT_S = 3.0
IN_FLIGHT_PER_ACTOR = 2


def import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError("`--ray` needs Ray, an optional extra: pip install 'propgrad[ray]' "
                          "(or pip install 'ray[default]')") from None
    return ray


def check_address(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail within ``timeout`` seconds when nothing listens at ``address`` (ray.init may wait far longer).

    Examples
    --------
    >>> check_address("127.0.0.1:1")  # doctest: +SKIP
    ConnectionError: `--ray` 127.0.0.1:1: nothing answers at 127.0.0.1:1 ...
    """
    if address == "auto":
        return  # Ray looks for a running local instance itself and says so quickly if there is none
    text = address.removeprefix("ray://")
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    try:
        port_number = int(port) if port else (CLIENT_PORT if address.startswith("ray://") else GCS_PORT)
    except ValueError:
        raise ValueError(f"`--ray` {address!r}: expected HOST:PORT or ray://HOST:PORT") from None
    try:
        with socket.create_connection((host or "127.0.0.1", port_number), timeout=timeout):
            pass
    except OSError as error:
        raise ConnectionError(
            f"`--ray` {address}: nothing answers at {host or '127.0.0.1'}:{port_number} within {timeout:g} s "
            f"({error.__class__.__name__}); start the cluster (`ray start --head`) or check the address, "
            f"or leave out the address to start a local Ray") from None


class _Actor:
    """One Ray worker: builds its StudyWorker once, then runs items."""

    def __init__(self, factory, threads: int):
        import torch

        torch.set_num_threads(threads)
        self.worker = factory()

    def run(self, item: StudyItem) -> ItemResult:
        return self.worker.run(item)


@dataclass(frozen=True)
class RayEngine:
    """Items as Ray actor calls.

    Parameters
    ----------
    address : str or None
        None starts a local Ray (``num_cpus`` CPUs, no dashboard); "auto" joins a running local one;
        "HOST:PORT" or "ray://HOST:PORT" a cluster (checked for an answer first). When this process
        is already connected to Ray (``ray.init`` was called), that connection is used as it is.
    workers : int or None
        Actors; default one per CPU of the cluster (one per GPU when ``gpu`` and the cluster has GPUs).
    gpu : bool
        Ask one GPU per actor where the cluster has GPUs (diffusion sweeps).
    retries : int
        Actor restarts and task retries before an item is reported FAILED.
    """

    address: str | None = None
    workers: int | None = None
    num_cpus: int | None = None
    gpu: bool = False
    retries: int = 2

    @property
    def name(self) -> str:
        return f"Ray ({self.address or 'local'})"

    def _init(self, ray) -> bool:
        """Connect or start Ray; True when this engine started it (and should stop it)."""
        if ray.is_initialized():
            return False
        package_root = str(Path(__file__).resolve().parents[2])
        if self.address:
            check_address(self.address)
            # The cluster's workers get this checkout of propgrad shipped to them; models and images
            # they read must be at the same paths on every node (a shared file system).
            ray.init(address=self.address, runtime_env={"py_modules": [str(Path(package_root) / "propgrad")]},
                     logging_level="WARNING", log_to_driver=False)
        else:
            path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
            ray.init(num_cpus=self.num_cpus or os.cpu_count(), include_dashboard=False, logging_level="WARNING",
                     log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
        return True

    def run(self, factory, items: Iterable[StudyItem]) -> Iterator[ItemResult]:
        ray = import_ray()
        started = self._init(ray)
        try:
            yield from self._run(ray, factory, list(items))
        finally:
            if started:
                ray.shutdown()

    def _run(self, ray, factory, items: list[StudyItem]) -> Iterator[ItemResult]:
        if not items:
            return
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0)) if self.gpu else 0
        count = self.workers or (gpus or max(1, int(resources.get("CPU", 1))))
        count = min(count, len(items))
        threads = max(1, int(resources.get("CPU", 1)) // count) if not self.address else 1
        actor_class = ray.remote(_Actor).options(num_cpus=1, num_gpus=1 if gpus else 0,
                                                 max_restarts=self.retries, max_task_retries=self.retries)
        # The factory (a study definition) is small: passed by value, so a restarted actor can rebuild it.
        actors = [actor_class.remote(factory, threads) for _ in range(count)]
        queue = list(reversed(items))
        in_flight: dict = {}

        def submit(actor) -> None:
            if queue:
                item = queue.pop()
                in_flight[actor.run.remote(item)] = (item, actor)

        for actor in actors:
            for _ in range(IN_FLIGHT_PER_ACTOR):
                submit(actor)
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            item, actor = in_flight.pop(done[0])
            try:
                yield ray.get(done[0])
            except ray.exceptions.RayError as error:
                # Ray already restarted the actor and retried the call; report the item, keep going
                # with a fresh actor in the dead one's place.
                yield ItemResult(item.index, item.key, FAILED,
                                 f"Ray worker failed after {self.retries} retries: {type(error).__name__}: "
                                 f"{str(error).splitlines()[0] if str(error) else ''}")
                actor = actor_class.remote(factory, threads)
            submit(actor)
