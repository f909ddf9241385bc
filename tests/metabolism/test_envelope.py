"""Production envelopes and theoretical yields against COBRApy 0.32.1 (GLPK).

The envelope must give COBRApy's frame: same columns, same grid, same NaNs, and the same
numbers within 1e-6 (measured: about 1e-10 on e_coli_core and iJO1366).
"""

from __future__ import annotations

import cobra
import numpy as np
import pandas as pd
import pytest
from cobra.flux_analysis import production_envelope as cobra_envelope

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism import (
    InfeasibleError,
    ModelSpec,
    TheoreticalYield,
    load_model,
    production_envelope,
    theoretical_yield,
)
from cellfoundry.metabolism.envelope import formula_elements, formula_weight

TOL = 1e-6
COLUMNS = [
    "carbon_source",
    "flux_minimum",
    "carbon_yield_minimum",
    "mass_yield_minimum",
    "flux_maximum",
    "carbon_yield_maximum",
    "mass_yield_maximum",
]


@pytest.fixture(scope="module")
def core() -> cobra.Model:
    return cobra.io.load_model("textbook")


@pytest.fixture(scope="module")
def core_spec(core: cobra.Model) -> ModelSpec:
    return load_model(core)


@pytest.fixture(scope="module")
def ijo() -> cobra.Model:
    return cobra.io.load_model("iJO1366")


def assert_same_frame(ours: pd.DataFrame, ref: pd.DataFrame) -> float:
    assert list(ours.columns) == list(ref.columns)
    assert len(ours) == len(ref)
    assert (ours["carbon_source"] == ref["carbon_source"]).all()
    numeric = [c for c in ref.columns if c != "carbon_source"]
    a = ours[numeric].to_numpy(float)
    b = ref[numeric].to_numpy(float)
    assert (np.isnan(a) == np.isnan(b)).all(), "NaN at different points"
    both = ~np.isnan(a)
    diff = float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0
    assert diff <= TOL
    return diff


@pytest.mark.parametrize(
    ("reactions", "objective"),
    [
        (["EX_glc__D_e"], "EX_ac_e"),
        (["EX_o2_e"], "EX_ac_e"),
        (["EX_o2_e", "EX_glc__D_e"], "EX_ac_e"),
        (["EX_o2_e"], None),  # the model's own objective (growth)
    ],
)
def test_envelope_matches_cobra_on_core(
    core: cobra.Model, core_spec: ModelSpec, reactions: list[str], objective: str | None
) -> None:
    ours = production_envelope(core_spec, reactions, objective=objective)
    ref = cobra_envelope(core, reactions, objective=objective)
    assert list(ours.columns) == [*COLUMNS, *reactions]
    assert len(ours) == 20 ** len(reactions)
    assert_same_frame(ours, ref)


def test_envelope_grid_spans_the_feasible_range(core_spec: ModelSpec) -> None:
    frame = production_envelope(core_spec, ["EX_glc__D_e"], objective="EX_ac_e", points=5)
    glucose = frame["EX_glc__D_e"].to_numpy()
    # from full uptake to the least that pays for maintenance (ATPM 8.39), evenly
    assert glucose[0] == -10.0
    assert glucose[-1] == pytest.approx(-0.4794286, abs=1e-6)
    assert np.allclose(np.diff(glucose), (glucose[-1] - glucose[0]) / 4)
    assert (frame["carbon_source"] == "EX_glc__D_e").all()
    # at least uptake every glucose goes to maintenance: no acetate to speak of
    assert frame["flux_maximum"].iloc[-1] == pytest.approx(0.0, abs=TOL)
    # at full uptake, 2 acetate per glucose at best: 4 of 6 carbons
    assert frame["carbon_yield_maximum"].iloc[0] == pytest.approx(2 / 3, abs=TOL)


def test_envelope_with_given_carbon_sources(core: cobra.Model, core_spec: ModelSpec) -> None:
    sources = ["EX_glc__D_e"]
    ours = production_envelope(
        core_spec, ["EX_o2_e"], objective="EX_ac_e", carbon_sources=sources, points=7
    )
    ref = cobra_envelope(core, ["EX_o2_e"], objective="EX_ac_e", carbon_sources=sources, points=7)
    assert_same_frame(ours, ref)


def test_envelope_on_highs_agrees(core_spec: ModelSpec) -> None:
    a = production_envelope(core_spec, ["EX_o2_e"], objective="EX_etoh_e", points=9)
    b = production_envelope(core_spec, ["EX_o2_e"], objective="EX_etoh_e", points=9, solver="highs")
    numeric = ["flux_minimum", "flux_maximum", "EX_o2_e"]
    assert np.allclose(a[numeric], b[numeric], atol=TOL, equal_nan=True)


def test_envelope_growth_against_succinate_on_ijo1366(ijo: cobra.Model) -> None:
    spec = load_model(ijo)
    (growth,) = [spec.reactions[j] for j in np.flatnonzero(spec.objective)]
    ours = production_envelope(spec, [growth], objective="EX_succ_e")
    ref = cobra_envelope(ijo, [growth], objective="EX_succ_e")
    assert_same_frame(ours, ref)
    # the classic trade-off: most succinate at no growth, none at the optimum
    assert ours["flux_maximum"].iloc[0] > 15
    assert ours["flux_maximum"].iloc[-1] == pytest.approx(0.0, abs=TOL)


def test_envelope_rejects_a_multi_reaction_objective(core: cobra.Model) -> None:
    with core:
        core.objective = {core.reactions.EX_ac_e: 1, core.reactions.EX_etoh_e: 1}
        spec = load_model(core)
    with pytest.raises(ValidationError, match="multiple reactions"):
        production_envelope(spec, ["EX_o2_e"])


def test_envelope_names_an_unknown_reaction(core_spec: ModelSpec) -> None:
    with pytest.raises(ValidationError, match="no reaction 'EX_nothing'"):
        production_envelope(core_spec, ["EX_nothing"], objective="EX_ac_e")


# ---------------------------------------------------------------------------------------------
# theoretical yields


def cobra_best(
    model: cobra.Model, product: str, *, anaerobic: bool, fraction: float | None
) -> float:
    with model:
        if anaerobic:
            model.reactions.EX_o2_e.lower_bound = 0
        model.reactions.EX_glc__D_e.bounds = (-10, -10)
        if fraction is not None:
            model.reactions.Biomass_Ecoli_core.lower_bound = fraction * model.slim_optimize()
        model.objective = product
        return float(model.slim_optimize())


@pytest.mark.parametrize("product", ["EX_ac_e", "EX_etoh_e", "EX_succ_e", "EX_lac__D_e"])
@pytest.mark.parametrize("anaerobic", [False, True])
@pytest.mark.parametrize("fraction", [None, 0.5])
def test_theoretical_yield_matches_cobra_lp(
    core: cobra.Model, product: str, anaerobic: bool, fraction: float | None
) -> None:
    spec = load_model(core)
    if anaerobic:
        spec = spec.with_bounds({"EX_o2_e": (0.0, 1000.0)})
    result = theoretical_yield(spec, product, "EX_glc__D_e", growth_fraction=fraction)
    best = cobra_best(core, product, anaerobic=anaerobic, fraction=fraction)
    assert result.product_flux == pytest.approx(best, abs=TOL)
    assert result.substrate_uptake == 10.0
    assert result.molar_yield == pytest.approx(best / 10.0, abs=TOL)
    if fraction is not None:
        assert result.growth > 0


def test_published_fermentation_yields(core_spec: ModelSpec) -> None:
    anaerobic = core_spec.with_bounds({"EX_o2_e": (0.0, 1000.0)})
    # glucose -> 2 ethanol + 2 CO2: 2 mol/mol, 0.511 g/g (Gay-Lussac), 2/3 of the carbon
    etoh = theoretical_yield(anaerobic, "EX_etoh_e", "EX_glc__D_e")
    assert etoh.molar_yield == pytest.approx(2.0, abs=TOL)
    assert etoh.mass_yield == pytest.approx(2 * 46.068 / 180.156, abs=1e-3)
    assert etoh.carbon_yield == pytest.approx(2 / 3, abs=TOL)
    # glucose -> 2 lactate: every carbon
    lac = theoretical_yield(anaerobic, "EX_lac__D_e", "EX_glc__D_e")
    assert lac.carbon_yield == pytest.approx(1.0, abs=TOL)
    # aerobic acetate: 2 mol/mol (acetyl-CoA route; the third C2 would need CO2 fixation)
    ac = theoretical_yield(core_spec, "EX_ac_e", "EX_glc__D_e")
    assert ac.molar_yield == pytest.approx(2.0, abs=TOL)
    assert "EX_ac_e on EX_glc__D_e" in repr(ac)


def test_growth_fraction_trades_product_for_growth(core_spec: ModelSpec) -> None:
    free = theoretical_yield(core_spec, "EX_ac_e", "EX_glc__D_e")
    half = theoretical_yield(core_spec, "EX_ac_e", "EX_glc__D_e", growth_fraction=0.5)
    full = theoretical_yield(core_spec, "EX_ac_e", "EX_glc__D_e", growth_fraction=1.0)
    assert free.molar_yield > half.molar_yield > full.molar_yield - TOL
    assert half.growth == pytest.approx(0.5 * 0.8739215, rel=1e-4)


def test_theoretical_yield_at_a_given_uptake(core_spec: ModelSpec) -> None:
    result = theoretical_yield(core_spec, "EX_ac_e", "EX_glc__D_e", uptake=5.0)
    assert isinstance(result, TheoreticalYield)
    assert result.substrate_uptake == 5.0
    assert result.product_flux == pytest.approx(10.0, abs=TOL)


def test_theoretical_yield_errors(core_spec: ModelSpec) -> None:
    with pytest.raises(ValidationError, match="must be an exchange"):
        theoretical_yield(core_spec, "PFK", "EX_glc__D_e")
    with pytest.raises(ValidationError, match="uptake must be a finite rate"):
        theoretical_yield(core_spec, "EX_ac_e", "EX_fru_e")  # fructose is not in the medium
    with pytest.raises(ValidationError, match="growth fraction"):
        theoretical_yield(core_spec, "EX_ac_e", "EX_glc__D_e", growth_fraction=1.5)
    with pytest.raises(InfeasibleError):
        # far below maintenance (ATPM 8.39): no steady state takes up only this much
        theoretical_yield(
            core_spec.with_bounds({"EX_o2_e": (0.0, 0.0)}), "EX_ac_e", "EX_glc__D_e", uptake=0.1
        )


def test_formula_parsing_matches_cobra() -> None:
    for formula in ["C6H12O6", "C10H12N5O13P3", "CO2", "H", "C21H26N7O17P3", "FeS2"]:
        met = cobra.Metabolite("x", formula=formula)
        assert formula_elements(formula) == met.elements
        assert formula_weight(formula) == pytest.approx(met.formula_weight)
    with pytest.warns(UserWarning, match="not an integer"):
        fractional = cobra.Metabolite("x", formula="C2.5H4").elements
    assert formula_elements("C2.5H4") == fractional == {"C": 2.5, "H": 4}
    assert formula_elements("C6(H2O)6") is None
    assert formula_elements(None) == {}
    assert formula_weight("Xx2") is None
