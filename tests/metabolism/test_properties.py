"""Invariants of constraint-based analysis on e_coli_core, over Hypothesis-chosen cases.

* relaxing a reaction's bounds never lowers the FBA optimum (and tightening never raises it);
* every FVA range contains the FBA flux, at any fraction of the optimum and any medium;
* deleting a gene never raises growth, and deleting a second one never raises it further.
"""

from __future__ import annotations

import functools
import math

import cobra
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cellfoundry.metabolism import (
    InfeasibleError,
    ModelSpec,
    fba,
    flux_variability_analysis,
    load_model,
    single_gene_deletion,
)
from cellfoundry.metabolism.lp import SolverName

TOL = 1e-6
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def core() -> ModelSpec:
    return load_model(cobra.io.load_model("textbook"))


@functools.cache
def wild_type_growth() -> float:
    return fba(core()).objective_value


def growth(spec: ModelSpec) -> float:
    """The optimum, or 0 when the model has no steady state (no growth)."""
    try:
        return fba(spec).objective_value
    except InfeasibleError:
        return 0.0


reactions = st.integers(min_value=0, max_value=94)
genes = st.integers(min_value=0, max_value=136)


@SETTINGS
@given(
    j=reactions,
    widen_lower=st.floats(min_value=0.0, max_value=500.0),
    widen_upper=st.floats(min_value=0.0, max_value=500.0),
)
def test_relaxing_bounds_never_lowers_the_optimum(
    j: int, widen_lower: float, widen_upper: float
) -> None:
    spec = core()
    rid = spec.reactions[j]
    relaxed = spec.with_bounds({rid: (spec.lb[j] - widen_lower, spec.ub[j] + widen_upper)})
    assert fba(relaxed).objective_value >= wild_type_growth() - TOL


@SETTINGS
@given(j=reactions, cut=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)).map(sorted))
def test_tightening_bounds_never_raises_the_optimum(j: int, cut: list[float]) -> None:
    spec = core()
    lo, up = float(spec.lb[j]), float(spec.ub[j])
    tight = spec.with_bounds(
        {spec.reactions[j]: (lo + cut[0] * (up - lo), lo + cut[1] * (up - lo))}
    )
    assert growth(tight) <= wild_type_growth() + TOL


@SETTINGS
@given(
    glucose=st.floats(min_value=1.0, max_value=20.0),
    oxygen=st.floats(min_value=0.0, max_value=40.0),
    fraction=st.floats(min_value=0.0, max_value=1.0),
    solver=st.sampled_from(["glpk", "highs"]),
)
def test_fva_ranges_contain_the_fba_flux(
    glucose: float, oxygen: float, fraction: float, solver: SolverName
) -> None:
    spec = core().with_bounds({"EX_glc__D_e": (-glucose, 1000.0), "EX_o2_e": (-oxygen, 1000.0)})
    try:
        solution = fba(spec, solver=solver)
    except InfeasibleError:
        assume(False)
        return
    ranges = flux_variability_analysis(
        spec,
        fraction_of_optimum=fraction,
        solver=solver,
    )
    v = solution.fluxes.loc[ranges.index]
    scale = np.maximum(1.0, np.abs(v))
    assert (ranges["minimum"] <= v + TOL * scale).all()
    assert (v <= ranges["maximum"] + TOL * scale).all()
    assert (ranges["minimum"] <= ranges["maximum"] + TOL).all()


@SETTINGS
@given(first=genes, second=genes)
def test_deleting_genes_never_raises_growth(first: int, second: int) -> None:
    spec = core()
    one = growth(_knock_out(spec, [first]))
    two = growth(_knock_out(spec, [first, second]))
    assert one <= wild_type_growth() + TOL
    assert two <= one + TOL
    # the engine's deletion screen gives the same growth
    (screened,) = single_gene_deletion(spec, [spec.genes[first]])["growth"]
    assert (0.0 if math.isnan(screened) else screened) == pytest.approx(one, abs=TOL)


def _knock_out(spec: ModelSpec, genes: list[int]) -> ModelSpec:
    dead = spec.knocked_out(genes)
    return spec.with_bounds({spec.reactions[j]: (0.0, 0.0) for j in dead})
