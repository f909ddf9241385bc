"""Fan chunks of an analysis out over processes or any ``concurrent.futures`` executor.

An analysis that splits (FVA over reactions, deletion screens over genes) gives a picklable
top-level function and a list of argument tuples. Without an executor and with one process it
runs in this process; with ``processes > 1`` it uses a local process pool (fork where the
platform has it: workers start in milliseconds and share the loaded libraries); with an
``executor`` (a ``ProcessPoolExecutor``, or ``distributed.Client.get_executor()`` for a Dask
cluster) it submits there. Progress is reported as chunks finish; results come back in chunk
order whatever order the workers finish in.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from cellfoundry.core.progress import NullProgress, Progress

T = TypeVar("T")

__all__ = ["default_processes", "run_chunks", "useful_processes"]

# Below this much work (LPs × reactions) a local pool costs more than it saves: forking and
# starting two workers takes ~50 ms, and e_coli_core's whole FVA (190 LPs × 95 reactions)
# takes 10 ms in this process. iJO1366's single gene deletions are 182 LPs × 2,583.
SMALL_WORK = 200_000


def useful_processes(processes: int | None, n_lps: int, n_reactions: int) -> int | None:
    """Return ``processes``, or 1 when the work is too small for worker processes to pay."""
    if (processes is None or processes > 1) and n_lps * n_reactions < SMALL_WORK:
        return 1
    return processes


def default_processes() -> int:
    """Return the number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_chunks(
    fn: Callable[..., T],
    chunks: Sequence[tuple[Any, ...]],
    *,
    processes: int | None = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
    weights: Sequence[int] | None = None,
) -> list[T]:
    """``[fn(*chunk) for chunk in chunks]``, possibly in parallel, reporting progress.

    ``weights`` gives each chunk's share of the work for the progress report (default 1 each).
    """
    report = progress or NullProgress()
    sizes = list(weights) if weights is not None else [1] * len(chunks)
    total = sum(sizes)
    done = 0
    report(0, total)
    if executor is None and (processes or 1) <= 1:
        out: list[T] = []
        for chunk, size in zip(chunks, sizes, strict=True):
            out.append(fn(*chunk))
            done += size
            report(done, total)
        return out
    own = executor is None
    forked = False
    if executor is None:
        workers = min(processes or default_processes(), len(chunks)) or 1
        forked = "fork" in multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if forked else None)
        executor = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    futures: dict[Future[T], int] = {}
    token = -1
    try:
        if forked:
            # forked workers inherit the arguments (and this process's solved problems, see
            # flux.solved_lp): only the chunk's number crosses the pipe, not the model
            # (pickling iJO1366's 0.6 MB there and back cost ~50 ms a call)
            token = next(_TOKENS)
            _INHERITED[token] = (fn, chunks)
            for k in range(len(chunks)):
                futures[executor.submit(_run_inherited, token, k)] = k
        else:
            for k, chunk in enumerate(chunks):
                futures[executor.submit(fn, *chunk)] = k
        results: list[Any] = [None] * len(chunks)
        for future in as_completed(futures):
            k = futures[future]
            results[k] = future.result()
            done += sizes[k]
            report(done, total)
        return results
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        if own:
            # the results are in; the workers exit on their own (joining them costs ~20 ms)
            executor.shutdown(wait=False, cancel_futures=True)
            if forked:
                _INHERITED.pop(token, None)


# what forked workers find in their copy of this module: each running call's function and
# arguments, under a number of its own (calls from several threads do not mix)
_INHERITED: dict[int, tuple[Callable[..., Any], Sequence[tuple[Any, ...]]]] = {}
_TOKENS = itertools.count()


def _run_inherited(token: int, k: int) -> Any:
    fn, chunks = _INHERITED[token]
    return fn(*chunks[k])
