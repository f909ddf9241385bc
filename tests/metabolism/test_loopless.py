"""Loopless FVA against COBRApy 0.32.1 (``loopless="cycleFreeFlux"``, its default method).

CycleFreeFlux cleans the one optimal flux distribution the solver returns at each extreme, so
where an extreme has several optimal distributions the answer depends on the vertex the solver
lands on: on e_coli_core below about 90 % of the optimum, COBRApy itself answers differently
with GLPK and with HiGHS (``SUCDi`` maximum 0 against 13.36 at 50 %). The comparison is
therefore made at the fractions where COBRApy's two solvers agree (95 % and above), and at
50 % only GLPK against GLPK, which land on the same vertices there (at 0 % they do not: FRD7's
loopless maximum is 15.04 from our GLPK, 0 from COBRApy's).
"""

from __future__ import annotations

import cobra
import pandas as pd
import pytest
from cobra.flux_analysis import flux_variability_analysis as cobra_fva

from cellfoundry.metabolism import (
    ModelSpec,
    flux_variability_analysis,
    load_model,
)
from cellfoundry.metabolism.loopless import loopless_ranges
from cellfoundry.metabolism.lp import SolverName

TOL = 1e-6


@pytest.fixture(scope="module")
def core_spec() -> ModelSpec:
    return load_model(cobra.io.load_model("textbook"))


def cobra_loopless(fraction: float) -> pd.DataFrame:
    # a fresh model each time: COBRApy's loopless FVA starts from the solver's last basis, and
    # from some bases it stops on a bound rounding error (8.39 <= 8.389999999999654)
    model = cobra.io.load_model("textbook")
    return cobra_fva(model, loopless="cycleFreeFlux", fraction_of_optimum=fraction)


def max_difference(ours: pd.DataFrame, ref: pd.DataFrame) -> float:
    assert list(ours.index) == list(ref.index)
    assert list(ours.columns) == list(ref.columns)
    return float((ours - ref).abs().to_numpy().max())


@pytest.mark.parametrize("fraction", [1.0, 0.99, 0.95])
@pytest.mark.parametrize("solver", ["glpk", "highs"])
def test_loopless_fva_matches_cobra(
    core_spec: ModelSpec, fraction: float, solver: SolverName
) -> None:
    ours = flux_variability_analysis(
        core_spec, loopless=True, fraction_of_optimum=fraction, solver=solver
    )
    assert max_difference(ours, cobra_loopless(fraction)) <= TOL


def test_loopless_fva_below_the_optimum_from_the_same_vertex(core_spec: ModelSpec) -> None:
    # GLPK against GLPK: both land on the same optimal vertices here, so the answers agree
    # even where CycleFreeFlux depends on the vertex (SUCDi's maximum: 0 from this vertex)
    ours = flux_variability_analysis(core_spec, loopless=True, fraction_of_optimum=0.5)
    assert max_difference(ours, cobra_loopless(0.5)) <= TOL


def test_loopless_fva_is_within_plain_fva(core_spec: ModelSpec) -> None:
    for fraction in (0.0, 0.5):
        plain = flux_variability_analysis(core_spec, fraction_of_optimum=fraction)
        solvers: tuple[SolverName, ...] = ("glpk", "highs")
        for solver in solvers:
            loopless = flux_variability_analysis(
                core_spec, loopless=True, fraction_of_optimum=fraction, solver=solver
            )
            assert (loopless["minimum"] >= plain["minimum"] - TOL).all()
            assert (loopless["maximum"] <= plain["maximum"] + TOL).all()
            assert (loopless["minimum"] <= loopless["maximum"] + TOL).all()


def test_loopless_narrows_only_the_loop(core_spec: ModelSpec) -> None:
    plain = flux_variability_analysis(core_spec, fraction_of_optimum=0.95)
    loopless = flux_variability_analysis(core_spec, loopless=True, fraction_of_optimum=0.95)
    # FRD7 and SUCDi drive each other round at up to 1000; without the loop FRD7 is idle
    assert plain.at["FRD7", "maximum"] > 990
    assert loopless.at["FRD7", "maximum"] == pytest.approx(0.0, abs=TOL)
    assert loopless.at["SUCDi", "maximum"] == pytest.approx(7.3818188, abs=1e-6)
    rest = plain.index.difference(["FRD7", "SUCDi"])
    assert (plain.loc[rest] - loopless.loc[rest]).abs().to_numpy().max() <= 1e-9


def test_loopless_fva_of_a_reaction_list(core_spec: ModelSpec) -> None:
    frame = flux_variability_analysis(
        core_spec, ["SUCDi", "PFK"], loopless=True, fraction_of_optimum=0.95
    )
    assert list(frame.index) == ["SUCDi", "PFK"]
    full = flux_variability_analysis(core_spec, loopless=True, fraction_of_optimum=0.95)
    assert max_difference(frame, full.loc[["SUCDi", "PFK"]]) <= 1e-9


def futile_cycle() -> cobra.Model:
    """Uptake of A, A -> B, B -> biomass, and a futile pair A -> C -> A."""
    model = cobra.Model("futile")
    a, b, c = (cobra.Metabolite(x, compartment="c") for x in "ABC")
    reactions = {
        "EX_A": ({a: -1}, -10, 1000),
        "R1": ({a: -1, b: 1}, 0, 1000),
        "GROW": ({b: -1}, 0, 1000),
        "LOOP1": ({a: -1, c: 1}, 0, 1000),
        "LOOP2": ({c: -1, a: 1}, 0, 1000),
        "SIDE": ({c: -1, b: 1}, 0, 1000),  # a real route through C: A -> C -> B
    }
    for rid, (mets, lo, up) in reactions.items():
        r = cobra.Reaction(rid, lower_bound=lo, upper_bound=up)
        r.add_metabolites(mets)
        model.add_reactions([r])
    model.objective = "GROW"
    return model


@pytest.mark.parametrize("solver", ["glpk", "highs"])
def test_futile_loop_is_removed(solver: SolverName) -> None:
    model = futile_cycle()
    spec = load_model(model)
    plain = flux_variability_analysis(spec, fraction_of_optimum=0.0, solver=solver)
    loopless = flux_variability_analysis(
        spec, loopless=True, fraction_of_optimum=0.0, solver=solver
    )
    assert plain.at["LOOP2", "maximum"] == pytest.approx(1000.0)
    assert loopless.at["LOOP2", "maximum"] == pytest.approx(0.0, abs=TOL)
    assert plain.at["LOOP1", "maximum"] == pytest.approx(1000.0)
    # LOOP1 also feeds the real route A -> C -> B, at most the 10 taken up
    assert loopless.at["LOOP1", "maximum"] == pytest.approx(10.0, abs=TOL)
    width = loopless["maximum"] - loopless["minimum"]
    assert (width <= plain["maximum"] - plain["minimum"] + TOL).all()
    ref = cobra_fva(model, loopless="cycleFreeFlux", fraction_of_optimum=0.0)
    assert max_difference(loopless, ref) <= TOL


def test_loopless_ranges_leave_loop_free_models_alone() -> None:
    model = futile_cycle()
    model.remove_reactions(["LOOP2"])
    spec = load_model(model)
    plain = flux_variability_analysis(spec)
    assert loopless_ranges(spec, plain, 10.0).equals(plain)
