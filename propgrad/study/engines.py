"""Who runs the items: this process (the default), a pool of local processes, or Ray (see ray_engine).

Every engine takes a *worker factory* (a picklable callable that builds an object with
``run(item) -> ItemResult``, normally ``functools.partial(StudyWorker, definition)``) and yields item
results as they finish, in any order; the results store puts them in canonical order. Workers are
built once per process, so models load once per worker, not once per item.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass

from .items import StudyItem
from .worker import FAILED, ItemResult

WorkerFactory = Callable[[], object]
log = logging.getLogger("propgrad.study")


@dataclass(frozen=True)
class InProcess:
    """Run every item here, one after the other: nothing to start, nothing to ship."""

    name = "in-process"

    def run(self, factory: WorkerFactory, items: Iterable[StudyItem]) -> Iterator[ItemResult]:
        worker = factory()
        for item in items:
            yield worker.run(item)


# -- local processes -----------------------------------------------------------------------------


@contextmanager
def _ctrl_c_held():
    """Processes started inside begin with SIGINT blocked (POSIX: a signal mask is inherited across exec).

    Ctrl-C reaches every process of the terminal's group. A worker still importing torch would print a traceback,
    and one that ignored it would run on with the queued items: held pending instead, it ends the worker as soon as
    :func:`_start_worker` has its handler in place. The parent's own Ctrl-C waits the microseconds of the submit
    and then arrives as usual. Elsewhere (Windows) a worker may still print a traceback."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    # The caller stopped (Ctrl-C, or it closed the generator): the running items are not wanted, and the
    # interpreter's exit would wait for them. ProcessPoolExecutor has no public way to do this before Python 3.14.
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


_WORKER = None


def _start_worker(factory: WorkerFactory, threads: int) -> None:
    # Each process gets its share of the cores: N processes x all cores each would oversubscribe them.
    import torch

    # Started with Ctrl-C held (see _ctrl_c_held); from here on it ends the worker at once and quietly, so that the
    # parent, which says "interrupted" in one line, is not left waiting for a long item.
    signal.signal(signal.SIGINT, lambda *_: os._exit(128 + signal.SIGINT))
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # a Ctrl-C pressed meanwhile arrives now
    torch.set_num_threads(threads)
    # stdout is the parent's (a --json run's document): whatever a worker prints goes to stderr.
    sys.stdout = sys.stderr
    global _WORKER
    _WORKER = factory()


def _run_item(item: StudyItem) -> ItemResult:
    return _WORKER.run(item)


@dataclass(frozen=True)
class Processes:
    """``workers`` local processes (spawned, so no parent state such as torch threads leaks in).

    A process that dies (out of memory, a crash in native code) breaks the pool; the items that had
    not finished are run again in a fresh pool, at most ``retries`` times each, then reported FAILED.
    """

    workers: int = 2
    retries: int = 2

    def __post_init__(self):
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"`workers` must be a positive integer, got {self.workers!r}")

    @property
    def name(self) -> str:
        return f"{self.workers} processes"

    def run(self, factory: WorkerFactory, items: Iterable[StudyItem]) -> Iterator[ItemResult]:
        pending = {item.key: item for item in items}
        attempts: Counter = Counter()
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        while pending:
            pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_worker, initargs=(factory, threads))
            # Items that were running when a worker died go first, and each runs alone: a crash is then
            # charged to the item that caused it, not to its neighbours or to items still queued.
            queue = sorted(pending.values(), key=lambda item: attempts[item.key] == 0)
            running: dict = {}
            try:
                while queue or running:
                    while queue and len(running) < self.workers and not (running and attempts[queue[0].key]):
                        item = queue.pop(0)
                        with _ctrl_c_held():  # a submit may start a worker process
                            running[pool.submit(_run_item, item)] = item
                        if attempts[item.key]:
                            break
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        result = future.result()
                        del pending[running.pop(future).key]
                        yield result
            except BrokenProcessPool as error:
                error_words = str(error) or type(error).__name__
                reason = f"worker process died ({error_words})"
            except BaseException:
                _terminate_workers(pool)
                raise
            else:
                continue
            finally:
                # Also when the caller stops early (Ctrl-C): drop queued items instead of running them all.
                pool.shutdown(wait=False, cancel_futures=True)
            # Results that arrived before the pool broke are kept; the items that were running are charged.
            again = given_up = 0
            for future, item in running.items():
                if future.done() and not future.cancelled() and future.exception() is None:
                    del pending[item.key]
                    yield future.result()
                    continue
                attempts[item.key] += 1
                if attempts[item.key] > self.retries:
                    del pending[item.key]
                    given_up += 1
                    yield ItemResult(item.index, item.key, FAILED, f"{reason}; gave up after {self.retries} retries")
                else:
                    again += 1
            # Said as the Ray engine says a lost worker (the retry was silent).
            runs = "runs" if again == 1 else "run"
            said = ([f"{again} of the items that were running {runs} again, alone"] * bool(again)
                    + [f"{given_up} failed after {self.retries} retries"] * bool(given_up))
            log.warning("a worker process died (%s): %s", error_words, " and ".join(said) or "no item was running")
