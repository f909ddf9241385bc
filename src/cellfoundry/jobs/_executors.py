"""Where a job's chunks run: a local process pool of its own, or a Dask cluster.

A job gets a :class:`JobExecutor`, which passes submissions on to the real executor and
remembers them, so that cancelling the job cancels every pending chunk at once. The
engine's ``run_chunks`` then sees its futures cancelled and returns at once; a chunk
already running finishes on its worker (one chunk is a small share of the job: deletion
screens are cut into up to 64) and its result is dropped.

The local pool starts its workers with ``forkserver`` (``spawn`` where there is none), never
``fork``: the process runs a threaded web server, and forking a threaded process can copy
a lock some other thread holds. The fork server preloads the metabolism engine. As with
``spawn``, a worker imports the program's main module, so a script that uses the service
must guard its own work with ``if __name__ == "__main__":``. The pool lives as long as the
service, so workers start once.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "SCHEDULER_ENV",
    "JobCancelledError",
    "JobExecutor",
    "Unavailable",
    "cpu_count",
    "local_pool",
]

#: The environment variable naming a Dask scheduler (``tcp://host:8786``).
SCHEDULER_ENV = "CELLFOUNDRY_DASK_SCHEDULER"

P = ParamSpec("P")
T = TypeVar("T")

_preload_lock = threading.Lock()


class JobCancelledError(Exception):
    """The job was cancelled: raised inside the engine to make it stop (never escapes)."""


class Unavailable(Exception):
    """The computing resource (a Dask scheduler) cannot be reached; the message says which."""


def cpu_count() -> int:
    """Return the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def local_pool(processes: int) -> ProcessPoolExecutor:
    """Return a process pool whose workers are safe to start from a threaded process."""
    ctx: BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        with _preload_lock:
            # takes effect when the fork server starts (once per process)
            server.set_forkserver_preload(["cellfoundry.metabolism"])
        ctx = server
    else:  # pragma: no cover - Windows
        ctx = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max(1, processes), mp_context=ctx)


class JobExecutor(Executor):
    """One job's view of an executor: remembers what it submitted, cancels it all at once.

    Parameters
    ----------
    inner
        The executor that runs the chunks (shared with other jobs).
    """

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel_all` was called."""
        return self._cancelled

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Submit to the inner executor, unless the job was cancelled."""
        with self._lock:
            if self._cancelled:
                raise JobCancelledError
            future = self._inner.submit(fn, *args, **kwargs)
            self._futures.append(future)
            return future

    def cancel_all(self) -> None:
        """Cancel every chunk not yet running, and take no more."""
        with self._lock:
            self._cancelled = True
            futures = list(self._futures)
        for future in futures:
            future.cancel()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Forget the submitted chunks; the service owns the inner executor and shuts it down."""
        with self._lock:
            self._futures.clear()
