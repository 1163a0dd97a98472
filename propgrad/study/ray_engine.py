"""Run a study's items on Ray: a local instance, or a cluster at an address.

Items go to a pool of Ray actors, each holding one :class:`~propgrad.study.worker.StudyWorker` (its
models load once per actor). Each actor gets at most two items at a time and a new one whenever it
returns one, so fast and slow workers share the load and results stream back as they finish. When an
actor dies, with its process or with its whole node, the items it held move to the actors that remain
(and to a replacement where the cluster has room), one line says so, and an item is reported FAILED
only after every attempt failed; none is dropped. ``ray`` is an optional dependency
(``pip install propgrad[ray]``) and is imported only here.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import in_one_line
from ..paths import ASSETS_ENV, assets_dir
from .items import StudyItem
from .worker import FAILED, ItemResult

GCS_PORT, CLIENT_PORT = 6379, 10001  # Ray's defaults for a head node and for ray:// clients
CONNECT_TIMEOUT_S = 3.0
IN_FLIGHT_PER_ACTOR = 2
# How long a replacement for the last actor may take to start before the items left are FAILED.
PLACEMENT_TIMEOUT_S = 60.0
log = logging.getLogger("propgrad.study")


# Ray's notice that a cluster it starts has token authentication on by default: for the Ray a study starts for itself
# (local, stopped with the study) it is a default the user never chose and need not act on, and it was printed on
# every --ray run. Ray's other warnings stay.
_TOKEN_LOGGER = "ray._private.authentication.authentication_token_setup"
_TOKEN_NOTICE = "Token authentication is enabled for this Ray cluster"


@contextlib.contextmanager
def _without_default_token_notice() -> Iterator[None]:
    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_TOKEN_NOTICE)

    logger = logging.getLogger(_TOKEN_LOGGER)
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError("`--ray` needs Ray, an optional extra: pip install 'propgrad[ray]' "
                          "(or pip install 'ray[default]')") from None
    return ray


@contextlib.contextmanager
def _sigterm_kept():
    """ray.init puts its own SIGTERM handler in place (``sys.exit(15)``): a command stopped by ``kill`` then ended
    with status 15, a bare "error" and its local Ray cluster left running. A handler that was there (the command
    line's, which stops a study as Ctrl-C does and shuts Ray down) is put back; where there was none (a script),
    Ray's stays."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main and previous not in (None, signal.SIG_DFL):
            signal.signal(signal.SIGTERM, previous)


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

    def node(self) -> dict:
        """Where this actor runs (for the line that says which node was lost)."""
        import ray

        return {"id": ray.get_runtime_context().get_node_id(), "ip": ray.util.get_node_ip_address()}


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
        Further attempts of an item whose actor died (its process or its node), on the actors that remain,
        before it is reported FAILED.
    notify : callable(str), optional
        Gets one line per lost worker ("Ray node 1a2b3c4d (10.0.0.5) lost: 2 items moved to other
        workers"); default: a warning on the ``propgrad.study`` logger (stderr when logging is not set up).
    """

    address: str | None = None
    workers: int | None = None
    num_cpus: int | None = None
    gpu: bool = False
    retries: int = 2
    notify: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return f"Ray ({self.address or 'local'})"

    def _init(self, ray) -> bool:
        """Connect or start Ray; True when this engine started it (and should stop it)."""
        if ray.is_initialized():
            return False
        with _sigterm_kept():
            self._connect(ray)
        return True

    def _connect(self, ray) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        if self.address:
            check_address(self.address)
            # The cluster's workers get this checkout of propgrad shipped to them; models and images
            # they read must be at the same paths on every node (a shared file system). So must the bundled
            # assets: shipped alone, a checkout's package looked for them beside its copy on the worker, found
            # none, and every item failed with "`model` must be one of 'EfficientNet-Lite0 (ImageNet)'".
            shipped = Path(package_root) / "propgrad"
            assets = assets_dir().resolve()
            # An installed package ships its own copy (propgrad/_assets), found beside it on every node.
            told = {} if assets.is_relative_to(shipped.resolve()) else {"env_vars": {ASSETS_ENV: str(assets)}}
            ray.init(address=self.address, runtime_env={"py_modules": [str(shipped)], **told},
                     logging_level="WARNING", log_to_driver=False)
        else:
            path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
            # "local": a Ray of its own, also where another is running on this machine (ray.init would connect to
            # it, and refuse num_cpus: "When connecting to an existing cluster, num_cpus ... must not be provided").
            with _without_default_token_notice():
                ray.init(address="local", num_cpus=self.num_cpus or os.cpu_count(), include_dashboard=False,
                         logging_level="WARNING", log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})

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
        # No restarts and no task retries by Ray itself: a restarted actor that cannot be placed (its node
        # is gone, the survivors' CPUs are held by their own actors) leaves the retries waiting on a dead
        # actor. The pool below moves a dead actor's items to the actors that remain instead.
        actor_class = ray.remote(_Actor).options(num_cpus=1, num_gpus=1 if gpus else 0, max_restarts=0,
                                                 max_task_retries=0)
        pool = _Pool(ray, lambda: actor_class.remote(factory, threads), needs={"CPU": 1, "GPU": 1 if gpus else 0},
                     retries=self.retries, notify=self.notify or _log)
        yield from pool.run(items, count)


def _log(line: str) -> None:
    log.warning("%s", line)


class _Pool:
    """Actors, the items each holds, and what happens when one dies.

    Each actor holds at most :data:`IN_FLIGHT_PER_ACTOR` items and gets a new one whenever it returns
    one. When an actor dies (its process, or its whole node), every item it held goes back to the queue,
    charged one attempt, and runs on the actors that remain; a replacement actor is started only where
    the cluster has room for it now, or when no actor is left (then it must start within
    :data:`PLACEMENT_TIMEOUT_S`). An item is FAILED only after ``1 + retries`` attempts.
    """

    def __init__(self, ray, make, needs: dict, retries: int, notify):
        self.ray, self.make, self.needs, self.retries, self.notify = ray, make, needs, retries, notify
        self.actors: dict = {}  # actor -> ObjectRef of its node id (resolved once it has started)
        self.holding: dict = {}  # actor -> set of ObjectRefs of its items in flight
        self.in_flight: dict = {}  # ObjectRef -> (item, actor)
        self.queue: list[StudyItem] = []
        self.attempts: Counter = Counter()
        self.alone: dict = {}  # actor -> whether it runs a retried item alone

    def start(self):
        actor = self.make()
        self.actors[actor] = actor.node.remote()
        self.holding[actor] = set()
        return actor

    def submit(self) -> None:
        """Fill the least busy actors first, so that moved items spread over every survivor.

        An item on its second or later try runs alone on an idle actor (as the process pool does): if it is what
        kills its worker, the crash is then charged to it, not to a neighbour that happened to share the actor.
        """
        while self.queue:
            retried = self.attempts[self.queue[0].key] > 0
            if retried:
                open_actors = [one for one in self.actors if not self.holding[one]]
            else:
                open_actors = [one for one in self.actors
                               if not self.alone.get(one) and len(self.holding[one]) < IN_FLIGHT_PER_ACTOR]
            if not open_actors:
                return
            actor = min(open_actors, key=lambda one: len(self.holding[one]))
            item = self.queue.pop(0)
            ref = actor.run.remote(item)
            self.in_flight[ref] = (item, actor)
            self.holding[actor].add(ref)
            self.alone[actor] = retried

    def run(self, items: list[StudyItem], count: int) -> Iterator[ItemResult]:
        self.queue = list(items)
        for _ in range(count):
            self.start()
        self.submit()
        while self.in_flight:
            done, _ = self.ray.wait(list(self.in_flight), num_returns=1)
            item, actor = self.in_flight[done[0]]
            try:
                result = self.ray.get(done[0])
            except self.ray.exceptions.RayActorError as error:
                yield from self._lost(actor, error)  # this item and every other one the actor held
            except self.ray.exceptions.RayError as error:  # the call itself failed; the actor lives on
                self._forget(done[0])
                yield from self._charge([item], error)
            else:
                self._forget(done[0])
                yield result
            self.submit()

    def _forget(self, ref) -> None:
        _, actor = self.in_flight.pop(ref)
        self.holding[actor].discard(ref)
        if not self.holding[actor]:
            self.alone[actor] = False

    def _charge(self, items: list[StudyItem], error) -> Iterator[ItemResult]:
        """One more attempt for each of ``items``: back to the queue's front, or FAILED after the last."""
        again = []
        for item in items:
            self.attempts[item.key] += 1
            if self.attempts[item.key] > self.retries:
                yield ItemResult(item.index, item.key, FAILED, f"Ray worker failed after {self.retries} retries: "
                                 f"{in_one_line(error)}")
            else:
                again.append(item)
        self.queue[:0] = again

    def _lost(self, actor, error) -> Iterator[ItemResult]:
        refs = self.holding.pop(actor)
        node_ref = self.actors.pop(actor)
        self.alone.pop(actor, None)
        held = [self.in_flight.pop(ref)[0] for ref in refs]
        self.ray.kill(actor, no_restart=True)
        where = self._where(node_ref)
        results = list(self._charge(sorted(held, key=lambda item: item.index), error))
        moved = len(held) - len(results)
        self.notify(f"{where} lost: {moved} item{'s' if moved != 1 else ''} moved to other workers"
                    + (f", {len(results)} FAILED after {self.retries} retries" if results else "")
                    + f" ({type(error).__name__})")
        yield from results
        if self._has_room() or (not self.actors and self.queue):
            replacement = self.start()
            if not self.actors.keys() - {replacement}:
                # The only actor: wait for it to start, so that a cluster without room fails instead of hanging.
                ready, _ = self.ray.wait([self.actors[replacement]], timeout=PLACEMENT_TIMEOUT_S)
                if not ready:
                    self.ray.kill(replacement, no_restart=True)
                    del self.actors[replacement], self.holding[replacement]
                    self.alone.pop(replacement, None)
                    for item in self.queue:
                        yield ItemResult(item.index, item.key, FAILED, f"no Ray worker could be placed within "
                                         f"{PLACEMENT_TIMEOUT_S:g} s after {where} was lost")
                    self.queue = []

    def _where(self, node_ref) -> str:
        """'Ray node 1a2b3c4d (10.0.0.5)' when the node is gone, else 'a Ray worker on node ...'."""
        try:
            node = self.ray.get(node_ref, timeout=0)
        except Exception:  # never started, or gone with its node before it said where it was
            return "a Ray worker"
        alive = {one["NodeID"]: one for one in self.ray.nodes() if one.get("Alive")}
        if node["id"] in alive:
            return f"a Ray worker on node {node['id'][:8]} ({node['ip']})"
        return f"Ray node {node['id'][:8]} ({node['ip']})"

    def _has_room(self) -> bool:
        available = self.ray.available_resources()
        return all(available.get(name, 0) >= amount for name, amount in self.needs.items() if amount)
