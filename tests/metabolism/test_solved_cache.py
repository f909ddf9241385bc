"""The per-process cache of solved wild-type problems (``flux.solved_lp``).

A compiled model keeps its solved GLPK problem between analyses, as a cobra.Model keeps its
solver. What callers get must be theirs to change, must equal a fresh solve, and must follow the
model's bounds (a changed medium is another model).
"""

from __future__ import annotations

import math
import os
from typing import Any

import pytest

cobra = pytest.importorskip("cobra")

from cellfoundry.metabolism import (  # noqa: E402
    _parallel,
    fba,
    load_model,
    single_gene_deletion,
    with_medium,
)
from cellfoundry.metabolism import flux as flux_module  # noqa: E402
from cellfoundry.metabolism.flux import base_lp, solved_lp  # noqa: E402


@pytest.fixture(scope="module")
def core() -> Any:
    return load_model(cobra.io.load_model("textbook"))


def test_cached_problem_is_a_private_copy(core: Any) -> None:
    first, status, value = solved_lp(core, "glpk")
    assert status == "optimal"
    # wreck the caller's copy: without glucose e_coli_core cannot carry its ATP maintenance
    j = core.reaction_index("EX_glc__D_e")
    first.set_col_bounds(j, 0.0, 0.0)
    assert first.solve(dual=True)[0] == "infeasible"
    second, _, again = solved_lp(core, "glpk")
    assert again == value
    assert second.solve(dual=True)[1] == pytest.approx(0.8739215069684303, abs=1e-9)


def test_cached_solution_equals_a_fresh_solve(core: Any) -> None:
    fresh = base_lp(core, "glpk")
    _, value = fresh.solve()
    cached = fba(core)
    # e_coli_core's published optimum (COBRApy's textbook model on its default medium)
    assert cached.objective_value == pytest.approx(0.8739215069684303, abs=1e-9)
    assert abs(cached.objective_value - value) < 1e-9
    assert (cached.fluxes - fresh.values()).abs().max() < 1e-6


def test_a_changed_medium_is_not_served_from_the_cache(core: Any) -> None:
    fba(core)
    anaerobic = with_medium(core, {**core.medium, "EX_o2_e": 0.0})
    # anaerobic e_coli_core grows at 0.2117 (COBRApy's value for the textbook model)
    assert fba(anaerobic).objective_value == pytest.approx(0.21166294973531055, abs=1e-7)
    assert anaerobic.digest != core.digest


def test_cache_keeps_a_few_models_only(core: Any) -> None:
    for k in range(flux_module._SOLVED_KEEP + 2):
        spec = with_medium(core, {**core.medium, "EX_glc__D_e": 1.0 + k})
        fba(spec)
    assert len(flux_module._SOLVED) == flux_module._SOLVED_KEEP


def test_small_work_stays_in_this_process() -> None:
    assert _parallel.useful_processes(2, 190, 95) == 1  # e_coli_core's FVA
    assert _parallel.useful_processes(None, 190, 95) == 1
    assert _parallel.useful_processes(2, 182, 2583) == 2  # iJO1366's single gene deletions
    assert _parallel.useful_processes(1, 10**6, 10**4) == 1


@pytest.mark.skipif(os.cpu_count() == 1, reason="needs a second core for a worker")
def test_forked_workers_use_the_inherited_problem_and_agree(
    core: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_parallel, "SMALL_WORK", 0)  # e_coli_core would stay in-process
    one = single_gene_deletion(core, processes=1)
    two = single_gene_deletion(core, processes=2)
    for a, b in zip(one["growth"], two["growth"], strict=True):
        assert (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-9
