"""Growth-coupled knock-out designs: OptKnock (our MILP) and minimal cut sets (StrainDesign).

Literature designs, all for E. coli on glucose (10 mmol/gDW/h) without oxygen, as the original
OptKnock studies set them up, reproduced at reaction level in iJO1366 (the model gives most of
these enzymes isozymes, e.g. LDH_D is ``b2133 or b1380``, so the papers' single-gene deletions
do not remove the reactions in the model; the designs are the reactions the papers removed):

- succinate: removing lactate dehydrogenase, alcohol dehydrogenase and pyruvate formate-lyase
  (ΔldhA ΔadhE ΔpflB), the fermentation routes that compete for NADH: Burgard, Pharkya &
  Maranas 2003 (Biotechnol Bioeng 84:647, OptKnock's succinate designs) and the
  ΔadhE ΔldhA Δack-pta family of Sánchez et al. 2005 (Metab Eng 7:229);
- lactate: ΔadhE Δpta, the first of the OptKnock designs built and evolved by Fong et al. 2005
  (Biotechnol Bioeng 91:643);
- ethanol: ΔldhA Δpta ΔfrdA, the fermentative core of the minimal ethanol strain of
  Trinh, Unrean & Srienc 2008 (Appl Environ Microbiol 74:3634).

Every phenotype from ``evaluate`` is checked against COBRApy on the same knocked-out model:
maximal growth, then the product's minimum and maximum with growth held at that maximum.
"""

from __future__ import annotations

import math

import cobra
import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism import ModelSpec, load_model
from cellfoundry.metabolism.design import StrainDesign, evaluate
from cellfoundry.metabolism.design._gpr import cheapest_combinations, gene_cuts
from cellfoundry.metabolism.design.knockouts import (
    KnockoutSearch,
    knockout_candidates,
    minimal_cut_sets,
    optknock,
)

TOL = 1e-6
ANAEROBIC = {"EX_o2_e": (0.0, 1000.0)}
CENTRAL = {
    "Glycolysis/Gluconeogenesis",
    "Citric Acid Cycle",
    "Pyruvate Metabolism",
    "Anaplerotic Reactions",
    "Pentose Phosphate Pathway",
    "Glyoxylate Metabolism",
}


@pytest.fixture(scope="module")
def core_cobra() -> cobra.Model:
    model = cobra.io.load_model("textbook")
    model.reactions.EX_o2_e.lower_bound = 0.0
    return model


@pytest.fixture(scope="module")
def core(core_cobra: cobra.Model) -> ModelSpec:
    return load_model(core_cobra)


@pytest.fixture(scope="module")
def ijo_cobra() -> cobra.Model:
    model = cobra.io.load_model("iJO1366")
    model.reactions.EX_o2_e.lower_bound = 0.0
    return model


@pytest.fixture(scope="module")
def ijo(ijo_cobra: cobra.Model) -> ModelSpec:
    return load_model(ijo_cobra)


def cobra_phenotype(
    model: cobra.Model, product: str, knockouts: tuple[str, ...] | list[str]
) -> tuple[float, float, float]:
    """Maximal growth, then the product's range at it, by COBRApy alone."""
    with model:
        for rid in knockouts:
            model.reactions.get_by_id(rid).knock_out()
        growth = model.slim_optimize()
        biomass = next(iter(cobra.util.solver.linear_reaction_coefficients(model)))
        # held as evaluate holds it: within the solver tolerance (1e-7) of the optimum
        biomass.lower_bound = growth - 1e-7 * max(1.0, growth)
        model.objective = product
        model.objective_direction = "min"
        low = model.slim_optimize()
        model.objective_direction = "max"
        high = model.slim_optimize()
    return growth, low, high


def assert_matches_cobra(
    model: cobra.Model, spec: ModelSpec, product: str, knockouts: tuple[str, ...] | list[str]
) -> None:
    ours = evaluate(spec, product, "EX_glc__D_e", knockouts)
    growth, low, high = cobra_phenotype(model, product, knockouts)
    assert ours.growth == pytest.approx(growth, abs=TOL)
    # the product's range moves ~300 mmol per unit of growth near the optimum, so the two
    # solvers' 1e-7 tolerances on growth show as ~1e-5 relative differences in it
    assert ours.product_min == pytest.approx(low, rel=1e-5, abs=TOL)
    assert ours.product_max == pytest.approx(high, rel=1e-5, abs=TOL)


def genes_disable_knockouts(spec: ModelSpec, design: StrainDesign) -> None:
    """The design's gene deletions disable exactly the reactions it reports."""
    genes = [spec.gene_index(m.gene) for m in design.modifications]
    assert all(m.kind == "delete" for m in design.modifications)
    disabled = {spec.reactions[j] for j in spec.knocked_out(genes)}
    assert disabled == set(design.knockouts)


# ---------------------------------------------------------------------------------------------
# gene rules


def test_gene_cuts_follow_the_rule() -> None:
    # (a and b) or c: a complex and an isozyme; deleting c and one subunit disables it
    assert gene_cuts(("or", (("and", (0, 1)), 2))) == [frozenset({0, 2}), frozenset({1, 2})]
    assert gene_cuts(("and", (0, ("or", (1, 2))))) == [frozenset({0}), frozenset({1, 2})]
    assert gene_cuts(3) == [frozenset({3})]


def test_cheapest_combinations_skip_protected_genes() -> None:
    options = [[frozenset({0}), frozenset({1, 2})], [frozenset({0, 3})]]
    assert cheapest_combinations(options) == [frozenset({0, 3}), frozenset({0, 1, 2, 3})]
    assert cheapest_combinations(options, protected={0}) == []


def test_candidates_leave_out_exchanges_transport_and_essential(core: ModelSpec) -> None:
    found = knockout_candidates(core)
    assert found["LDH_D"] == [("b1380", "b2133")]
    assert "EX_glc__D_e" not in found  # exchange
    assert "GLCpts" not in found  # transport
    assert "ENO" not in found  # essential without oxygen
    assert "Biomass_Ecoli_core" not in found  # no gene rule


# ---------------------------------------------------------------------------------------------
# OptKnock on e_coli_core (exact: the MILP proves optimality in seconds)


@pytest.fixture(scope="module")
def core_designs(core: ModelSpec) -> list[StrainDesign]:
    report: list[KnockoutSearch] = []
    designs = optknock(core, "EX_succ_e", max_knockouts=2, k=3, time_limit=60, report=report)
    assert report[0].statuses[0] == "optimal"
    return designs


def test_optknock_core_succinate_is_growth_coupled(
    core: ModelSpec, core_designs: list[StrainDesign]
) -> None:
    assert len(core_designs) == 3
    best = core_designs[0]
    assert best.method == "optknock"
    assert best.evaluation is not None
    assert best.evaluation.growth_coupled
    # the guaranteed succinate yield of the best double knock-out (this model, this medium)
    assert best.evaluation.yield_min == pytest.approx(0.91, abs=0.01)
    assert best.evaluation.growth >= 0.1 * 0.2117 - TOL
    for design in core_designs:
        genes_disable_knockouts(core, design)
        assert design.evaluation is not None
        assert design.evaluation.growth_coupled
        assert any("growth-coupled" in note for note in design.notes)
    labels = {d.label() for d in core_designs}
    assert len(labels) == 3  # the integer cuts give distinct designs


def test_optknock_core_phenotypes_match_cobrapy(
    core_cobra: cobra.Model, core: ModelSpec, core_designs: list[StrainDesign]
) -> None:
    for design in core_designs:
        assert_matches_cobra(core_cobra, core, "EX_succ_e", design.knockouts)


def test_optimistic_optknock_flags_designs_that_do_not_couple(core: ModelSpec) -> None:
    designs = optknock(core, "EX_succ_e", max_knockouts=1, k=3, tilt=0.0, time_limit=30)
    assert designs
    for design in designs:
        assert design.evaluation is not None
        verdict = design.notes[-1]
        coupled = design.evaluation.growth_coupled
        assert verdict.startswith("growth-coupled" if coupled else "not growth-coupled")


def test_optknock_rejects_bad_arguments(core: ModelSpec) -> None:
    with pytest.raises(ValidationError, match="max_knockouts must be a whole number"):
        optknock(core, "EX_succ_e", max_knockouts=0)
    with pytest.raises(ValidationError, match="solves its MILP with HiGHS"):
        optknock(core, "EX_succ_e", solver="glpk")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="no reaction 'EX_nothing'"):
        optknock(core, "EX_nothing")
    with pytest.raises(ValidationError, match="above the wild type's maximal growth"):
        optknock(core, "EX_succ_e", min_growth=5.0)


# ---------------------------------------------------------------------------------------------
# literature designs in iJO1366 (anaerobic glucose)

SUCCINATE_LDH_ADH_PFL = ["LDH_D", "ALCD2x", "PFL"]
LACTATE_ADH_PTA = ["ALCD2x", "PTAr"]
ETHANOL_LDH_PTA_FRD = ["LDH_D", "PTAr", "FRD2", "FRD3"]


@pytest.mark.parametrize(
    ("product", "knockouts", "molar_yield"),
    [
        ("EX_succ_e", SUCCINATE_LDH_ADH_PFL, 0.91),
        ("EX_lac__D_e", LACTATE_ADH_PTA, 1.69),
        ("EX_etoh_e", ETHANOL_LDH_PTA_FRD, 1.65),
    ],
)
def test_literature_designs_are_growth_coupled_in_ijo1366(
    ijo_cobra: cobra.Model,
    ijo: ModelSpec,
    product: str,
    knockouts: list[str],
    molar_yield: float,
) -> None:
    result = evaluate(ijo, product, "EX_glc__D_e", knockouts)
    assert result.growth_coupled
    assert result.yield_min == pytest.approx(molar_yield, abs=0.01)
    # fermentation products: at most 2 mol/mol glucose (lactate, ethanol), 12/7 (succinate)
    assert result.yield_min <= result.max_yield + TOL
    assert_matches_cobra(ijo_cobra, ijo, product, knockouts)


def test_optknock_ijo1366_lactate_at_least_fong(ijo: ModelSpec) -> None:
    """Two knock-outs: the search finds ΔadhE Δpta's coupling (Fong 2005) or better."""
    reference = evaluate(ijo, "EX_lac__D_e", "EX_glc__D_e", LACTATE_ADH_PTA)
    designs = optknock(ijo, "EX_lac__D_e", max_knockouts=2, time_limit=20)
    assert designs
    best = designs[0]
    assert best.evaluation is not None
    assert best.evaluation.growth_coupled
    assert best.evaluation.product_min >= reference.product_min - 1e-4
    genes_disable_knockouts(ijo, best)


def test_optknock_ijo1366_succinate_finds_the_burgard_design(ijo: ModelSpec) -> None:
    """Three knock-outs among central metabolism, as OptKnock's own succinate study."""
    central = [r for r, s in zip(ijo.reactions, ijo.subsystems, strict=True) if s in CENTRAL]
    reference = evaluate(ijo, "EX_succ_e", "EX_glc__D_e", SUCCINATE_LDH_ADH_PFL)
    designs = optknock(ijo, "EX_succ_e", max_knockouts=3, candidates=central, time_limit=30)
    best = designs[0]
    assert best.evaluation is not None
    assert best.evaluation.growth_coupled
    assert best.evaluation.product_min >= reference.product_min - 1e-4
    # the lactate, ethanol and formate routes are what it removes
    assert {"LDH_D", "ALCD2x", "PFL"} <= set(best.knockouts)
    genes_disable_knockouts(ijo, best)


# ---------------------------------------------------------------------------------------------
# minimal cut sets through StrainDesign


@pytest.mark.parametrize("solver", ["scip", "glpk"])
def test_minimal_cut_sets_guarantee_the_yield(core: ModelSpec, solver: str) -> None:
    designs = minimal_cut_sets(
        core,
        "EX_succ_e",
        max_knockouts=4,
        k=2,
        solver=solver,
        min_yield=0.5,  # type: ignore[arg-type]
    )
    assert designs
    for design in designs:
        assert design.method == "mcs"
        assert design.size <= 4
        assert design.evaluation is not None
        # every growing state yields ≥ 0.5 mol/mol, so the maximal-growth state does
        assert design.evaluation.growth_coupled
        assert design.evaluation.yield_min >= 0.5 - TOL
        genes_disable_knockouts(core, design)
    assert not math.isnan(designs[0].evaluation.growth)  # type: ignore[union-attr]
