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
