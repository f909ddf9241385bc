"""The job service on SQLite and PostgreSQL: results equal the engine's, progress, cancel,
failures, permissions, recovery after a crash, and a Dask cluster in place of the local pool."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import multiprocessing
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cellfoundry.bank.db import Job
from cellfoundry.bank.demo import DEMO_MODEL
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from cellfoundry.jobs import JOB_STATUSES, KINDS, JobService, JobView
from cellfoundry.jobs import _service as job_service
from cellfoundry.jobs._executors import SCHEDULER_ENV
from cellfoundry.metabolism import (
    double_gene_deletion,
    fba,
    find_essential_genes,
    fva,
    pfba,
    single_gene_deletion,
    single_reaction_deletion,
    with_medium,
)

CORE_OPTIMUM = 0.8739215069684306
PASSWORD = "a long enough password"


@pytest.fixture
def jobs(bank: Bank) -> Iterator[JobService]:
    service = JobService(bank, processes=2)
    yield service
    service.close()


@pytest.fixture
def core(bank: Bank) -> int:
    return bank.add_model(DEMO_MODEL, actor="test").id


@pytest.fixture
def big(bank: Bank, shared_data: Path) -> int:
    """iML1515 (1,516 genes): its double deletion screen runs for minutes on 2 cores."""
    path = shared_data / "models" / "iML1515.json"
    return bank.add_model(path, actor="test").id


def run(jobs: JobService, kind: str, **params: Any) -> JobView:
    view = jobs.wait(jobs.submit(kind, params), timeout=60)
    assert view.status == "done", view.error
    return view


def wait_for(condition: Any, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")


def rows_of(frame: Any) -> list[dict[str, Any]]:
    return [
        {"ids": sorted(ids), "growth": None if math.isnan(g) else g, "status": s}
        for ids, g, s in zip(frame["ids"], frame["growth"], frame["status"], strict=True)
    ]


def assert_rows_close(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Rows equal but for the last bits of LP optima (the service cuts the work in chunks)."""
    assert [(r["ids"], r["status"]) for r in got] == [(r["ids"], r["status"]) for r in expected]
    for a, b in zip(got, expected, strict=True):
        if b["growth"] is None:
            assert a["growth"] is None
        else:
            assert a["growth"] == pytest.approx(b["growth"], abs=1e-9)


def same_pool() -> ProcessPoolExecutor:
    """A pool cut like the service's, so chunked results compare bit for bit."""
    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"))


# -- results ------------------------------------------------------------------------------------


def test_fba_job_gives_the_optimum(bank: Bank, jobs: JobService, core: int) -> None:
    job_id = jobs.submit("fba", {"model_id": core})
    uuid.UUID(job_id)
    view = jobs.wait(job_id, timeout=60)
    assert view.status == "done", view.error
    assert view.result["objective_value"] == pytest.approx(CORE_OPTIMUM, abs=1e-6)
    assert view.result["status"] == "optimal"
    assert view.result["fluxes"]["Biomass_Ecoli_core"] == pytest.approx(CORE_OPTIMUM, abs=1e-6)
    assert len(view.result["fluxes"]) == 95
    assert view.done == view.total == 1
    assert (view.kind, view.model_id, view.params) == ("fba", core, {"model_id": core})
    assert view.error is None
    assert view.created_at <= view.started_at <= view.finished_at  # type: ignore[operator]
    assert view.finished
    assert view.to_dict()["result"]["status"] == "optimal"


def test_fva_job_equals_the_engine(bank: Bank, jobs: JobService, core: int) -> None:
    view = run(jobs, "fva", model_id=core, fraction_of_optimum=0.9)
    spec = bank.model_spec(core)
    with same_pool() as pool:
        same = fva(spec, fraction_of_optimum=0.9, processes=2, executor=pool)
    assert view.result == {
        "minimum": same["minimum"].to_dict(),
        "maximum": same["maximum"].to_dict(),
    }
    serial = fva(spec, fraction_of_optimum=0.9)
    for column in ("minimum", "maximum"):
        for rid, value in serial[column].items():
            assert view.result[column][rid] == pytest.approx(value, abs=1e-9)
    assert view.done == view.total > 0


def test_every_kind_matches_the_engine(bank: Bank, jobs: JobService, core: int) -> None:
    spec = bank.model_spec(core)
    anaerobic = {k: v for k, v in spec.medium.items() if k != "EX_o2_e"}

    view = run(jobs, "fba", model_id=core, medium=anaerobic, solver="highs")
    expected = fba(with_medium(spec, anaerobic), solver="highs").objective_value
    assert view.result["objective_value"] == pytest.approx(expected, abs=1e-9)
    assert view.result["objective_value"] == pytest.approx(0.2117, abs=1e-4)

    view = run(jobs, "pfba", model_id=core, fraction_of_optimum=0.95)
    sol = pfba(spec, fraction_of_optimum=0.95)
    assert view.result["objective_value"] == pytest.approx(sol.objective_value, rel=1e-9)
    assert view.result["fluxes"] == pytest.approx(sol.fluxes.to_dict(), abs=1e-9)

    genes = ["b0008", "b0114", "b0115", "b0116", "b0118", "b1136", "b2415"]
    view = run(jobs, "single_gene_deletion", model_id=core, gene_list=genes)
    assert_rows_close(view.result["rows"], rows_of(single_gene_deletion(spec, genes)))
    assert view.done == view.total

    view = run(jobs, "single_reaction_deletion", model_id=core)
    assert_rows_close(view.result["rows"], rows_of(single_reaction_deletion(spec)))
    assert len(view.result["rows"]) == 95

    view = run(jobs, "essential_genes", model_id=core)
    assert view.result["genes"] == sorted(find_essential_genes(spec))
    assert view.result["threshold"] == pytest.approx(CORE_OPTIMUM * 1e-6)

    view = run(jobs, "double_gene_deletion", model_id=core, gene_list1=genes)
    screen = double_gene_deletion(spec, genes, as_screen=True)
    assert view.result["genes"] == view.result["columns"] == genes
    growth = screen.growth  # type: ignore[union-attr]
    for got_row, row in zip(view.result["growth"], growth.tolist(), strict=True):
        assert [g is None for g in got_row] == [math.isnan(v) for v in row]
        assert [g for g in got_row if g is not None] == pytest.approx(
            [v for v in row if not math.isnan(v)], abs=1e-9
        )
    assert view.done == view.total > 0


def test_whole_genome_double_deletion_as_a_matrix(bank: Bank, jobs: JobService, core: int) -> None:
    view = run(jobs, "double_gene_deletion", model_id=core)
    spec = bank.model_spec(core)
    with same_pool() as pool:
        screen = double_gene_deletion(spec, as_screen=True, processes=2, executor=pool)
    growth = screen.growth  # type: ignore[union-attr]
    assert view.result["genes"] == list(spec.genes)
    assert view.result["growth"] == [
        [None if math.isnan(v) else v for v in row] for row in growth.tolist()
    ]
    assert view.result["lp_count"] == screen.lp_count  # type: ignore[union-attr]
    assert view.result["pair_count"] == 137 * 138 // 2 - 137
    assert view.done == view.total > 0


# -- failures -----------------------------------------------------------------------------------


def test_engine_errors_fail_the_job_with_their_message(jobs: JobService, core: int) -> None:
    view = jobs.wait(jobs.submit("fva", {"model_id": core, "reaction_list": ["PFK", "NOPE"]}), 60)
    assert view.status == "failed"
    assert view.result is None
    assert "has no reaction 'NOPE'" in str(view.error)
    assert "e_coli_core.json" in str(view.error)

    view = jobs.wait(jobs.submit("fba", {"model_id": core, "medium": {}}), 60)
    assert view.status == "failed"
    assert "infeasible" in str(view.error)

    view = jobs.wait(jobs.submit("fba", {"model_id": core, "medium": {"PFK": 10}}), 60)
    assert view.status == "failed"
    assert "'PFK' is not an exchange reaction" in str(view.error)

    view = jobs.wait(jobs.submit("single_gene_deletion", {"model_id": core, "gene_list": ["x"]}))
    assert view.status == "failed"
    assert "has no gene 'x'" in str(view.error)


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("flux_sampling_by_magic", {}, "kind"),
        ("fba", {}, "model_id"),
        ("fba", {"model_id": "1"}, "model_id"),
        ("fba", {"fraction_of_optimum": 0.5}, "fraction_of_optimum"),
        ("pfba", {"fraction_of_optimum": 1.5}, "fraction_of_optimum"),
        ("fva", {"reaction_list": "PFK"}, "reaction_list"),
        ("fva", {"loopless": "yes"}, "loopless"),
        ("fba", {"solver": "cplex"}, "solver"),
        ("fba", {"medium": {"EX_glc__D_e": -1}}, "medium"),
        ("fba", {"medium": {"EX_glc__D_e": float("nan")}}, "medium"),
        ("fba", {"medium": ["EX_glc__D_e"]}, "medium"),
        ("double_gene_deletion", {"gene_list1": [1, 2]}, "gene_list1"),
        ("essential_genes", {"threshold": -1}, "threshold"),
    ],
)
def test_bad_parameters_are_refused_at_submit(
    bank: Bank, jobs: JobService, core: int, kind: str, params: dict[str, Any], field: str
) -> None:
    full = dict(params)
    if field != "model_id":
        full.setdefault("model_id", core)
    with pytest.raises(ValidationError) as caught:
        jobs.submit(kind, full)
    assert caught.value.field == field
    assert jobs.list() == ()


def test_jobs_on_models_the_owner_cannot_see_are_refused(bank: Bank, core: int) -> None:
    bank.create_user("ana", PASSWORD, role="member", organisation="Lab A", actor="test")
    bank.create_user("bo", PASSWORD, role="member", organisation="Lab B", actor="test")
    bank.create_user("gus", PASSWORD, role="guest", actor="test")
    ana, bo, gus = (bank.viewer_for(n) for n in ("ana", "bo", "gus"))
    private = bank.as_viewer(ana).add_model(DEMO_MODEL, visibility="private").id
    service = JobService(bank)
    try:
        with pytest.raises(NotFoundError, match=f"no model '{private}'"):
            service.submit("fba", {"model_id": private}, owner=bo)
        with pytest.raises(NotFoundError):
            service.submit("fba", {"model_id": 999_999}, owner=ana)
        with pytest.raises(ForbiddenError, match="guests cannot run analyses"):
            service.submit("fba", {"model_id": core}, owner=gus)
        # ana's job: hers and the curators' to see; bo and anonymous get "not found"
        job_id = service.as_viewer(ana).submit("fba", {"model_id": private})
        assert service.as_viewer(ana).wait(job_id, 60).owner == "ana"
        with pytest.raises(NotFoundError, match="no job"):
            service.as_viewer(bo).get(job_id)
        with pytest.raises(NotFoundError):
            service.as_viewer(bo).cancel(job_id)
        assert service.as_viewer(bo).list() == ()
        assert [j.id for j in service.as_viewer(ana).list()] == [job_id]
        assert [j.id for j in service.list(owner="ana")] == [job_id]  # the system sees all
        assert service.list(owner=bo) == ()
        assert [j.id for j in service.list(model_id=private)] == [job_id]
        assert service.get(job_id, viewer=ana, result=False).result is None
    finally:
        service.close()


# -- progress and cancel -------------------------------------------------------------------------


def test_cancel_a_long_job(bank: Bank, jobs: JobService, big: int) -> None:
    # 300 of iML1515's genes against each other: about 30 s on 2 cores
    genes = list(bank.model_spec(big).genes[:300])
    job_id = jobs.submit(
        "double_gene_deletion", {"model_id": big, "gene_list1": genes, "gene_list2": genes}
    )
    # progress is written while it runs: after the single deletions, each chunk that finishes
    running = wait_for(
        lambda: (v := jobs.get(job_id, result=False)).done > 0 and v, 40, "some progress"
    )
    assert running.status == "running"
    assert 0 < running.done < running.total
    started = time.monotonic()
    cancelled = jobs.cancel(job_id)
    assert cancelled.status == "cancelled"
    assert cancelled.finished_at is not None
    # the job's thread lets go at once; pending chunks never start
    wait_for(lambda: not jobs._runner.local, 10, "the job thread to stop")
    assert time.monotonic() - started < 10
    time.sleep(1.0)
    final = jobs.get(job_id)
    assert (final.status, final.result, final.error) == ("cancelled", None, None)
    assert jobs.cancel(job_id).status == "cancelled"  # again: nothing changes
    # the service goes on with the next job
    assert run(jobs, "fba", model_id=big).result["objective_value"] > 0.8


def test_cancel_a_queued_job_and_a_finished_one(bank: Bank, core: int, big: int) -> None:
    service = JobService(bank, processes=2, max_running=1)
    try:
        first = service.submit("double_gene_deletion", {"model_id": big})
        second = service.submit("fba", {"model_id": core})
        assert service.get(second).status == "queued"
        assert service.cancel(second).status == "cancelled"
        service.cancel(first)
        done = service.wait(second, 30)
        assert (done.status, done.started_at) == ("cancelled", None)
        third = service.wait(service.submit("fba", {"model_id": core}), 60)
        assert third.status == "done"
        with pytest.raises(ConflictError, match="already finished"):
            service.cancel(third.id)
    finally:
        service.close()


def test_a_job_cancelled_by_another_process_stops(bank: Bank, jobs: JobService, big: int) -> None:
    job_id = jobs.submit("double_gene_deletion", {"model_id": big})
    wait_for(lambda: jobs.get(job_id, result=False).status == "running", 30, "running")
    other = JobService(bank)  # another process's service on the same database
    try:
        assert other.cancel(job_id).status == "cancelled"
    finally:
        other.close()
    wait_for(lambda: not jobs._runner.local, 10, "the running process to notice")
    assert jobs.get(job_id).status == "cancelled"


def test_closing_the_service_interrupts_its_jobs(bank: Bank, big: int) -> None:
    service = JobService(bank, processes=2)
    job_id = service.submit("double_gene_deletion", {"model_id": big})
    wait_for(lambda: service.get(job_id, result=False).status == "running", 30, "running")
    service.close()
    view = JobService(bank).get(job_id)
    assert view.status == "failed"
    assert str(view.error).startswith("interrupted")
    with pytest.raises(ConflictError, match="closed"):
        service.submit("fba", {"model_id": big})


# -- recovery -----------------------------------------------------------------------------------


def insert_job(bank: Bank, status: str, runner: str, heartbeat: dt.datetime) -> str:
    job_id = str(uuid.uuid4())
    with sa.orm.Session(bank.engine) as s, s.begin():
        s.add(
            Job(
                id=job_id,
                kind="fba",
                params="{}",
                status=status,
                progress_done=0,
                progress_total=0,
                runner=runner,
                heartbeat_at=heartbeat,
                created_at=heartbeat,
            )
        )
    return job_id


def test_start_up_fails_jobs_whose_process_died(bank: Bank) -> None:
    import socket

    now = dt.datetime.now(dt.UTC)
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(finished.stdout)
    here = socket.gethostname()
    dead_here = insert_job(bank, "running", f"{here}:{dead_pid}", now)
    queued_dead = insert_job(bank, "queued", f"{here}:{dead_pid}", now)
    silent_elsewhere = insert_job(bank, "running", "far-away-host:1", now - dt.timedelta(hours=1))
    alive_elsewhere = insert_job(bank, "running", "far-away-host:1", now)
    done = insert_job(bank, "done", f"{here}:{dead_pid}", now)
    service = JobService(bank)
    try:
        status = {
            j: service.get(j, result=False)
            for j in (dead_here, queued_dead, silent_elsewhere, alive_elsewhere, done)
        }
    finally:
        service.close()
    for job_id in (dead_here, queued_dead, silent_elsewhere):
        assert status[job_id].status == "failed"
        assert str(status[job_id].error).startswith("interrupted")
    assert status[alive_elsewhere].status == "running"
    assert status[done].status == "done"


def test_a_killed_process_leaves_its_job_interrupted(bank: Bank, big: int, tmp_path: Path) -> None:
    import psutil

    script = tmp_path / "worker.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from cellfoundry.bank.services import Bank
            from cellfoundry.jobs import JobService

            if __name__ == "__main__":
                jobs = JobService(Bank.open(sys.argv[1], migrate=False), processes=1)
                job_id = jobs.submit("double_gene_deletion", {"model_id": int(sys.argv[2])})
                while jobs.get(job_id, result=False).status != "running":
                    time.sleep(0.05)
                print(job_id, flush=True)
                time.sleep(600)
            """
        )
    )
    url = bank.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, str(script), url, str(big)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        job_id = child.stdout.readline().strip()
        assert JobService(bank).get(job_id, result=False).status == "running"
    finally:
        family = [psutil.Process(child.pid), *psutil.Process(child.pid).children(recursive=True)]
        for process in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    service = JobService(bank)
    try:
        view = service.get(job_id)
    finally:
        service.close()
    assert view.status == "failed"
    assert str(view.error).startswith("interrupted")


# -- Dask ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield cluster, client


def test_a_dask_cluster_runs_the_screen(
    bank: Bank, jobs: JobService, core: int, dask_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import get_task_stream

    cluster, client = dask_cluster
    local = run(jobs, "double_gene_deletion", model_id=core)
    monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
    with get_task_stream(client) as stream:
        remote = run(jobs, "double_gene_deletion", model_id=core)
    assert remote.result == local.result
    keys = [str(task["key"]) for task in stream.data]
    assert any("_solve_pairs" in k for k in keys), keys[:5]
    assert any("_solve_knockouts" in k for k in keys)
    assert remote.done == remote.total > 0


def test_an_unreachable_scheduler_fails_the_job(
    jobs: JobService, core: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://127.0.0.1:9")
    monkeypatch.setattr(job_service, "DASK_CONNECT_TIMEOUT_S", 1.0)
    view = jobs.wait(jobs.submit("fva", {"model_id": core}), timeout=60)
    assert view.status == "failed"
    assert "Dask scheduler at tcp://127.0.0.1:9" in str(view.error)
    # the serial kinds do not need the cluster
    assert run(jobs, "fba", model_id=core).result["status"] == "optimal"


# -- the surface ---------------------------------------------------------------------------------


def test_kinds_and_statuses() -> None:
    assert set(JobService.kinds()) >= {
        "fba",
        "pfba",
        "fva",
        "single_gene_deletion",
        "single_reaction_deletion",
        "double_gene_deletion",
        "essential_genes",
    }
    assert set(JobService.kinds()) <= set(KINDS)
    assert JOB_STATUSES == ("queued", "running", "done", "failed", "cancelled")
    import cellfoundry.jobs

    assert cellfoundry.jobs.__all__ == ["JOB_STATUSES", "KINDS", "JobService", "JobView"]


def test_production_envelope_and_check_when_the_engine_has_them(
    bank: Bank, jobs: JobService, core: int
) -> None:
    kinds = JobService.kinds()
    if "production_envelope" not in kinds or "check" not in kinds:
        pytest.skip("the engine has no production_envelope or check_model yet")
    from cellfoundry.metabolism.checks import check_model
    from cellfoundry.metabolism.envelope import production_envelope

    spec = bank.model_spec(core)
    view = run(
        jobs,
        "production_envelope",
        model_id=core,
        reactions=["EX_o2_e"],
        objective="EX_ac_e",
        points=3,
    )
    frame = production_envelope(spec, ["EX_o2_e"], objective="EX_ac_e", points=3)
    assert [r["EX_o2_e"] for r in view.result["rows"]] == pytest.approx(frame["EX_o2_e"].tolist())
    assert [r["flux_maximum"] for r in view.result["rows"]] == pytest.approx(
        frame["flux_maximum"].tolist()
    )
    with pytest.raises(ValidationError) as caught:
        jobs.submit("production_envelope", {"model_id": core})
    assert caught.value.field == "reactions"
    view = run(jobs, "check", model_id=core)
    assert view.result == json.loads(json.dumps(check_model(spec).to_dict()))
