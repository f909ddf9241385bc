"""The job service: submit, run on background threads, follow, cancel, recover.

State lives in the bank's ``jobs`` table; this process keeps only what it needs to run its
own jobs (a queue, the threads, each running job's cancel flag and executor). Every change
of status is a conditional ``UPDATE ... WHERE status = ...``, so a job cancelled by one
process or thread can never be marked done by another.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Self, cast, get_args

from sqlalchemy import ColumnElement, CursorResult, false, select, true, update
from sqlalchemy.orm import Session, sessionmaker

from cellfoundry.bank.db import Job, User, utcnow
from cellfoundry.bank.policy import SYSTEM, Viewer, require_writer
from cellfoundry.bank.services import Bank
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import (
    CellfoundryError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from cellfoundry.jobs._executors import (
    SCHEDULER_ENV,
    JobCancelledError,
    JobExecutor,
    Unavailable,
    cpu_count,
    local_pool,
)
from cellfoundry.jobs._kinds import KINDS, Context, check_params

__all__ = ["JOB_STATUSES", "JobService", "JobStatus", "JobView"]

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
_ACTIVE = ("queued", "running")
_FINISHED = ("done", "failed", "cancelled")
#: Progress is written to the database at most this often (seconds).
PROGRESS_INTERVAL_S = 0.5
#: How often a process shows that its jobs are alive (seconds).
HEARTBEAT_INTERVAL_S = 10.0
#: A job whose process has not shown a sign of life for this long is taken as interrupted.
STALE_AFTER = dt.timedelta(minutes=2)
#: How often the monitor looks for jobs cancelled elsewhere (seconds).
_POLL_S = 0.5
#: How long to try reaching a Dask scheduler before the job fails (seconds).
DASK_CONNECT_TIMEOUT_S = 10.0
INTERRUPTED = "interrupted: the process running this job stopped before it finished"

_log = logging.getLogger("cellfoundry.jobs")


def _changed(s: Session, stmt: Any) -> int:
    """Run an UPDATE and return how many rows it changed."""
    result = cast("CursorResult[Any]", s.execute(stmt))
    return int(result.rowcount)


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    """Attach UTC to a time SQLite handed back without its offset."""
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class JobView(_View):
    """A job as callers see it; ``result`` is the parsed JSON (``None`` until done)."""

    id: str
    kind: str
    status: str
    done: int
    total: int
    params: dict[str, Any]
    result: Any
    error: str | None
    owner: str | None
    model_id: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @property
    def finished(self) -> bool:
        """Whether the job is done, failed or cancelled."""
        return self.status in _FINISHED


@dataclass
class _Local:
    """A job this process runs: its cancel flag, its executor, a flag set when it ends."""

    id: str
    cancel: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    executor: JobExecutor | None = None


class _Reporter:
    """The engine's progress callback for one job.

    It records progress, at most every 0.5 s, and stops a cancelled job by raising inside
    the engine (which then cancels its pending chunks).
    """

    def __init__(self, runner: _Runner, local: _Local) -> None:
        self._runner = runner
        self._local = local
        self._last = -1.0
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int, /) -> None:
        if self._local.cancel.is_set():
            raise JobCancelledError
        self.done, self.total = done, total
        now = time.monotonic()
        if self._last >= 0 and now - self._last < PROGRESS_INTERVAL_S and done < total:
            return
        self._last = now
        with self._runner.tx() as s:
            changed = _changed(
                s,
                update(Job)
                .where(Job.id == self._local.id, Job.status == "running")
                .values(progress_done=done, progress_total=total, heartbeat_at=utcnow()),
            )
        if not changed:  # cancelled (or stopped) from elsewhere
            self._local.cancel.set()
            raise JobCancelledError


class _Runner:
    """What one process shares between its :class:`JobService` handles."""

    def __init__(self, bank: Bank, processes: int | None, max_running: int) -> None:
        self.bank = bank
        self.sessions = sessionmaker(bank.engine, expire_on_commit=False)
        self.processes = processes or cpu_count()
        self.max_running = max(1, max_running)
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.local: dict[str, _Local] = {}
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.closed = threading.Event()
        self.clients: dict[str, Any] = {}
        self.pool: ProcessPoolExecutor | None = None

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    # -- threads -------------------------------------------------------------------------------

    def enqueue(self, job_id: str) -> None:
        with self.lock:
            if self.closed.is_set():
                raise ConflictError("the job service is closed", record=job_id)
            self.local[job_id] = _Local(job_id)
            if not self.threads:
                for k in range(self.max_running):
                    thread = threading.Thread(
                        target=self._work, name=f"cellfoundry-job-{k}", daemon=True
                    )
                    thread.start()
                    self.threads.append(thread)
                monitor = threading.Thread(
                    target=self._monitor, name="cellfoundry-job-monitor", daemon=True
                )
                monitor.start()
                self.threads.append(monitor)
        self.queue.put(job_id)

    def _work(self) -> None:
        while True:
            job_id = self.queue.get()
            if job_id is None:
                return
            local = self.local.get(job_id)
            if local is None:
                continue
            try:
                self._run(local)
            except Exception:  # never let one job take a worker thread down
                _log.exception("job %s: unexpected error in the job runner", job_id)
            finally:
                local.ended.set()
                with self.lock:
                    self.local.pop(job_id, None)

    def _monitor(self) -> None:
        """Stop jobs cancelled by other processes; keep this process's jobs marked alive."""
        last_beat = time.monotonic()
        while not self.closed.wait(_POLL_S):
            with self.lock:
                ids = list(self.local)
            if not ids:
                continue
            try:
                with self.tx() as s:
                    statuses: dict[str, str] = dict(
                        s.execute(select(Job.id, Job.status).where(Job.id.in_(ids))).all()
                    )
                    if time.monotonic() - last_beat >= HEARTBEAT_INTERVAL_S:
                        last_beat = time.monotonic()
                        s.execute(
                            update(Job)
                            .where(Job.id.in_(ids), Job.status.in_(_ACTIVE))
                            .values(heartbeat_at=utcnow())
                        )
            except Exception:  # the database may be briefly unavailable; try again
                _log.exception("job monitor: cannot read the jobs")
                continue
            for job_id in ids:
                if statuses.get(job_id, "cancelled") in _FINISHED:
                    self.stop(job_id)

    def stop(self, job_id: str) -> None:
        """Make a job of this process stop: flag it and cancel its pending work."""
        local = self.local.get(job_id)
        if local is None:
            return
        local.cancel.set()
        if local.executor is not None:
            local.executor.cancel_all()

    # -- running one job -------------------------------------------------------------------------

    def _run(self, local: _Local) -> None:
        now = utcnow()
        with self.tx() as s:
            started = _changed(
                s,
                update(Job)
                .where(Job.id == local.id, Job.status == "queued")
                .values(status="running", started_at=now, heartbeat_at=now, runner=self.identity),
            )
            if not started:  # cancelled while queued
                return
            kind_name, params_text = s.execute(
                select(Job.kind, Job.params).where(Job.id == local.id)
            ).one()
        reporter = _Reporter(self, local)
        try:
            kind = KINDS[kind_name]
            params = json.loads(params_text)
            spec = self.bank.model_spec(params["model_id"])
            if params.get("medium") is not None:
                from cellfoundry.metabolism import with_medium

                spec = with_medium(spec, params["medium"])
            executor: Executor | None = None
            processes = 1
            if kind.parallel:
                inner, processes = self._executor()
                local.executor = JobExecutor(inner)
                if local.cancel.is_set():
                    local.executor.cancel_all()
                executor = local.executor
            result = kind.run(spec, params, Context(executor, processes, reporter))
            if local.cancel.is_set():
                raise JobCancelledError
            text = json.dumps(result, allow_nan=False, separators=(",", ":"))
            total = reporter.total or 1
            self._finish(local.id, "done", result=text, done=total, total=total)
        except Exception as exc:
            if local.cancel.is_set() or isinstance(exc, JobCancelledError):
                return  # the job is already marked cancelled (or stopped)
            if isinstance(exc, CellfoundryError | Unavailable):
                message = str(exc)
            elif isinstance(exc, BrokenProcessPool):
                self._drop_pool()
                message = f"a worker process stopped abruptly (out of memory?): {exc}"
            else:
                _log.exception("job %s failed", local.id)
                message = f"{type(exc).__name__}: {exc}"
            self._finish(
                local.id, "failed", error=message, done=reporter.done, total=reporter.total
            )
        finally:
            if local.executor is not None:
                local.executor.shutdown()

    def _finish(
        self,
        job_id: str,
        status: str,
        *,
        result: str | None = None,
        error: str | None = None,
        done: int,
        total: int,
    ) -> None:
        with self.tx() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(
                    status=status,
                    result=result,
                    error=error,
                    progress_done=done,
                    progress_total=total,
                    finished_at=utcnow(),
                )
            )

    def _executor(self) -> tuple[Executor, int]:
        """Return the executor for a job's chunks and how many workers it has."""
        address = os.environ.get(SCHEDULER_ENV, "").strip()
        if not address:
            with self.lock:
                if self.pool is None:
                    self.pool = local_pool(self.processes)
                return self.pool, self.processes
        client = self._client(address)
        try:
            workers = max(1, sum(client.nthreads().values()))
        except Exception as exc:
            raise Unavailable(f"the Dask scheduler at {address} does not answer: {exc}") from None
        return client.get_executor(pure=False), workers

    def _drop_pool(self) -> None:
        """Forget a broken pool; the next job starts a fresh one."""
        with self.lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _client(self, address: str) -> Any:
        with self.lock:
            client = self.clients.get(address)
            if client is not None and client.status == "running":
                return client
            try:
                from distributed import Client

                client = Client(  # type: ignore[no-untyped-call]
                    address, timeout=DASK_CONNECT_TIMEOUT_S, set_as_default=False
                )
            except Exception as exc:
                raise Unavailable(
                    f"cannot reach the Dask scheduler at {address} (${SCHEDULER_ENV}): {exc}"
                ) from None
            self.clients[address] = client
            return client

    # -- start and stop --------------------------------------------------------------------------

    def recover(self) -> int:
        """Mark as failed the jobs whose process died before finishing them; return how many."""
        host = socket.gethostname()
        now = utcnow()
        with self.tx() as s:
            rows = s.execute(
                select(Job.id, Job.runner, Job.heartbeat_at, Job.created_at).where(
                    Job.status.in_(_ACTIVE)
                )
            ).all()
            dead = []
            for job_id, runner, heartbeat, created in rows:
                seen = _aware(heartbeat) or _aware(created)
                stale = seen is None or now - seen > STALE_AFTER
                if stale or _process_gone(runner, host):
                    dead.append(job_id)
            if dead:
                s.execute(
                    update(Job)
                    .where(Job.id.in_(dead), Job.status.in_(_ACTIVE))
                    .values(status="failed", error=INTERRUPTED, finished_at=now)
                )
        return len(dead)

    def close(self) -> None:
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
            ids = list(self.local)
            threads = list(self.threads)
        for job_id in ids:
            self.stop(job_id)
        if ids:
            with self.tx() as s:
                s.execute(
                    update(Job)
                    .where(Job.id.in_(ids), Job.status.in_(_ACTIVE))
                    .values(
                        status="failed",
                        error="interrupted: the job service stopped",
                        finished_at=utcnow(),
                    )
                )
        for _ in threads:
            self.queue.put(None)
        for thread in threads:
            thread.join(timeout=30)
        self._drop_pool()
        for client in self.clients.values():
            try:
                client.close()
            except Exception:  # pragma: no cover - closing a lost connection
                _log.exception("closing the Dask client")
        self.clients.clear()


def _process_gone(runner: str | None, host: str) -> bool:
    """Whether the runner (``host:pid``) is a process of this host that no longer exists."""
    if not runner:
        return False
    runner_host, _, pid_text = runner.rpartition(":")
    if runner_host != host or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class JobService:
    """Run analyses of stored models as jobs; follow and cancel them.

    Parameters
    ----------
    bank
        The bank holding the models and the jobs table; the service acts for its viewer.
    processes
        Worker processes of a job's local pool (default: the cores this process may use).
    max_running
        How many jobs run at once in this process; the others wait in the queue.
    """

    def __init__(self, bank: Bank, *, processes: int | None = None, max_running: int = 2) -> None:
        self.viewer: Viewer = bank.viewer
        self._runner = _Runner(bank.as_viewer(SYSTEM), processes, max_running)
        self._runner.recover()

    def as_viewer(self, viewer: Viewer) -> Self:
        """Return a handle on the same service that acts for ``viewer``."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.viewer = viewer
        return other

    @staticmethod
    def kinds() -> tuple[str, ...]:
        """Return the kinds of job the engine can run here."""
        return tuple(name for name, kind in KINDS.items() if kind.available)

    # -- submit ----------------------------------------------------------------------------------

    def submit(self, kind: str, params: Mapping[str, Any], owner: Viewer | None = None) -> str:
        """Queue an analysis of a stored model; return the job's id.

        Raises
        ------
        ValidationError
            Unknown kind, or a parameter that is unknown, missing or out of range
            (the error's ``field`` names it).
        NotFoundError
            The model does not exist or ``owner`` may not see it.
        ForbiddenError
            ``owner`` may not start jobs (visitors and guests).
        """
        owner = owner or self.viewer
        require_writer(owner, "run analyses")
        spec = KINDS.get(kind)
        if spec is None or not spec.available:
            raise ValidationError(
                f"unknown kind of job {kind!r}; use one of {', '.join(self.kinds())}",
                field="kind",
            )
        checked = check_params(spec, params)
        self._runner.bank.as_viewer(owner).get_model(checked["model_id"])
        job_id = str(uuid.uuid4())
        now = utcnow()
        with self._runner.tx() as s:
            s.add(
                Job(
                    id=job_id,
                    kind=kind,
                    params=json.dumps(checked, allow_nan=False, sort_keys=True),
                    status="queued",
                    progress_done=0,
                    progress_total=0,
                    model_id=checked["model_id"],
                    owner_id=owner.user_id,
                    runner=self._runner.identity,
                    heartbeat_at=now,
                    created_at=now,
                )
            )
        self._runner.enqueue(job_id)
        return job_id

    # -- read ------------------------------------------------------------------------------------

    def get(self, job_id: str, *, viewer: Viewer | None = None, result: bool = True) -> JobView:
        """Return a job with its progress and, once done, its result (``result=False``: not).

        Raises
        ------
        NotFoundError
            No such job, or the viewer is neither its owner nor a curator.
        """
        who = viewer or self.viewer
        with self._runner.tx() as s:
            row = s.scalars(select(Job).where(Job.id == str(job_id)[:64], _visible(who))).first()
            if row is None:
                raise NotFoundError("job", str(job_id))
            text = (
                s.scalars(select(Job.result).where(Job.id == row.id)).one()
                if result and row.status == "done"
                else None
            )
            return _view(s, row, text)

    def list(
        self,
        owner: Viewer | str | None = None,
        limit: int = 50,
        *,
        viewer: Viewer | None = None,
        model_id: int | None = None,
    ) -> tuple[JobView, ...]:
        """Return the newest jobs the viewer may see (without results), optionally one owner's.

        ``owner`` is a viewer or a user name; ``model_id`` keeps the jobs of one model.
        """
        who = viewer or self.viewer
        stmt = select(Job).where(_visible(who))
        if owner is not None:
            name = owner.username if isinstance(owner, Viewer) else owner
            stmt = stmt.join(User, User.id == Job.owner_id).where(User.username == name)
        if model_id is not None:
            stmt = stmt.where(Job.model_id == model_id)
        stmt = stmt.order_by(Job.created_at.desc(), Job.id).limit(max(1, min(limit, 1000)))
        with self._runner.tx() as s:
            return tuple(_view(s, row, None) for row in s.scalars(stmt))

    def wait(
        self, job_id: str, timeout: float | None = None, *, viewer: Viewer | None = None
    ) -> JobView:
        """Wait until the job is done, failed or cancelled; return it with its result.

        Raises
        ------
        TimeoutError
            The job has not finished after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            view = self.get(job_id, viewer=viewer, result=False)
            if view.finished:
                return self.get(job_id, viewer=viewer)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"job {job_id} is still {view.status} after {timeout} s")
            local = self._runner.local.get(job_id)
            pause = 0.1 if left is None else min(0.1, left)
            if local is not None:
                local.ended.wait(pause)
            else:
                time.sleep(pause)

    # -- cancel ----------------------------------------------------------------------------------

    def cancel(self, job_id: str, *, viewer: Viewer | None = None) -> JobView:
        """Cancel a queued or running job; its pending work stops and it never becomes done.

        Cancelling a cancelled job changes nothing.

        Raises
        ------
        NotFoundError
            No such job, or the viewer is neither its owner nor a curator.
        ConflictError
            The job has already finished (done or failed).
        """
        who = viewer or self.viewer
        current = self.get(job_id, viewer=who, result=False)
        with self._runner.tx() as s:
            changed = _changed(
                s,
                update(Job)
                .where(Job.id == current.id, Job.status.in_(_ACTIVE))
                .values(status="cancelled", finished_at=utcnow()),
            )
        self._runner.stop(current.id)
        view = self.get(current.id, viewer=who, result=False)
        if not changed and view.status != "cancelled":
            raise ConflictError(
                f"job {view.id} has already finished ({view.status})",
                record=view.id,
                field="status",
            )
        return view

    def close(self) -> None:
        """Stop this process's jobs (marked failed, interrupted) and its threads."""
        self._runner.close()


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.privileged:
        return true()
    if not viewer.signed_in:
        return false()
    return Job.owner_id == viewer.user_id


def _view(s: Session, row: Job, result: str | None) -> JobView:
    owner = (
        s.scalars(select(User.username).where(User.id == row.owner_id)).first()
        if row.owner_id is not None
        else None
    )
    created = _aware(row.created_at)
    assert created is not None
    return JobView(
        id=row.id,
        kind=row.kind,
        status=row.status,
        done=row.progress_done,
        total=row.progress_total,
        params=json.loads(row.params),
        result=None if result is None else json.loads(result),
        error=row.error,
        owner=owner,
        model_id=row.model_id,
        created_at=created,
        started_at=_aware(row.started_at),
        finished_at=_aware(row.finished_at),
    )
