"""Design searches as jobs: a pathway search on the demo chassis, its ranked designs, errors.

Acetone from glucose through acetoacetyl-CoA (thiolase, CoA-transferase, acetoacetate
decarboxylase; Bermejo et al. 1998, Appl Environ Microbiol 64:1079) makes one acetone per
glucose: glucose -> 2 acetyl-CoA -> acetoacetyl-CoA -> acetoacetate -> acetone + CO2.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cellfoundry.bank.demo import DEMO_MODEL
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ValidationError
from cellfoundry.jobs import JobService


@pytest.fixture
def jobs(sqlite_bank: Bank) -> Iterator[JobService]:
    service = JobService(sqlite_bank, processes=1)
    yield service
    service.close()


@pytest.fixture
def core(sqlite_bank: Bank) -> int:
    return sqlite_bank.add_model(DEMO_MODEL, actor="test").id


def test_acetone_pathway_job(jobs: JobService, core: int) -> None:
    job = jobs.submit("design_pathways", {"model_id": core, "target": "acetone", "k": 2})
    # the first search of a session may compile the universe (~30 s)
    view = jobs.wait(job, timeout=300)
    assert view.status == "done", view.error
    result = view.result
    assert result is not None
    best = result["pathways"][0]
    added = {r["id"] for r in best["reactions"]}
    assert {"ADCi", "OCOAT1"} <= added  # CoA-transferase and acetoacetate decarboxylase
    assert best["max_yield"]["molar"] == pytest.approx(1.0, abs=1e-6)
    designs = result["designs"]
    assert designs
    assert designs[0]["format"] == "cellfoundry.strain-design/1"
    assert designs[0]["method"] == "pathway"
    assert {m["kind"] for m in designs[0]["modifications"]} == {"insert"}
    assert designs[0]["evaluation"]["max_yield"] == pytest.approx(1.0, abs=1e-6)


def test_an_unknown_compound_fails_the_job_with_a_named_error(jobs: JobService, core: int) -> None:
    view = jobs.wait(
        jobs.submit("design_pathways", {"model_id": core, "target": "unobtainium"}), timeout=300
    )
    assert view.status == "failed"
    assert "unobtainium" in (view.error or "")


def test_a_pathway_job_needs_a_target(jobs: JobService, core: int) -> None:
    with pytest.raises(ValidationError, match="target") as err:
        jobs.submit("design_pathways", {"model_id": core})
    assert err.value.field == "target"
    with pytest.raises(ValidationError, match="from 1 to 20"):
        jobs.submit("design_pathways", {"model_id": core, "target": "acetone", "k": 0})


def test_knockout_job_finds_the_anaerobic_succinate_design(jobs: JobService, core: int) -> None:
    # anaerobic e_coli_core: removing the acetate, lactate and ethanol routes couples
    # succinate to growth (the Sánchez et al. 2005 family, Metab Eng 7:229)
    medium = {"EX_glc__D_e": 10.0, "EX_nh4_e": 1000.0, "EX_pi_e": 1000.0, "EX_h2o_e": 1000.0}
    medium |= {"EX_h_e": 1000.0, "EX_co2_e": 1000.0}
    params = {"model_id": core, "product": "EX_succ_e", "max_knockouts": 2, "k": 2}
    view = jobs.wait(
        jobs.submit("design_knockouts", {**params, "medium": medium, "time_limit": 30}),
        timeout=300,
    )
    assert view.status == "done", view.error
    designs = view.result["designs"]  # type: ignore[index]
    assert designs
    best = designs[0]
    assert best["method"] == "optknock"
    assert best["evaluation"]["growth_coupled"] is True
    assert best["evaluation"]["yield_min"] > 0.5
    assert {m["kind"] for m in best["modifications"]} == {"delete"}
    assert view.result["search"]["candidates"] > 0  # type: ignore[index]


def test_overexpression_job_lists_rising_reactions(jobs: JobService, core: int) -> None:
    params = {"model_id": core, "product": "EX_succ_e", "steps": 5}
    view = jobs.wait(jobs.submit("design_overexpress", params), timeout=300)
    assert view.status == "done", view.error
    result = view.result
    assert result is not None
    rising = {t["reaction"] for t in result["targets"] if t["kind"] == "overexpress"}
    # forcing succinate out of aerobic glucose raises the reductive branch: PEP carboxylase
    # and fumarate reductase (Choi et al. 2010, Appl Environ Microbiol 76:3097, FSEOF targets)
    assert {"PPC", "FRD7"} & rising
    assert result["designs"][0]["method"] == "fseof"
    assert result["designs"][0]["evaluation"]["growth"] > 0


def test_a_design_search_runs_on_a_dask_worker(
    jobs: JobService, core: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster, get_task_stream

    from cellfoundry.jobs._executors import SCHEDULER_ENV

    params = {"model_id": core, "product": "EX_succ_e", "steps": 4}
    local = jobs.wait(jobs.submit("design_overexpress", params), timeout=300)
    assert local.status == "done", local.error
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        monkeypatch.setenv(SCHEDULER_ENV, cluster.scheduler_address)
        with get_task_stream(client) as stream:
            remote = jobs.wait(jobs.submit("design_overexpress", params), timeout=300)
        assert remote.status == "done", remote.error
        assert any("_run_design" in str(task["key"]) for task in stream.data)
    assert remote.result == local.result
