"""Design evaluation against COBRApy, and the design's JSON round trip.

The reference for each number is COBRApy 0.32.1 on the same knocked-out model: maximal growth
by ``slim_optimize``, then the product's range with growth held at that maximum by
``flux_variability_analysis(fraction_of_optimum=1.0)``. Yields are checked against the
stoichiometric maximum of anaerobic ethanol fermentation: glucose -> 2 ethanol + 2 CO2,
2 mol/mol (0.511 g/g), the textbook value (e.g. Nelson & Cox, Lehninger Principles of
Biochemistry, ch. 14).
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import pytest

cobra = pytest.importorskip("cobra")
from cobra.flux_analysis import flux_variability_analysis  # noqa: E402

from cellfoundry.core.errors import ValidationError  # noqa: E402
from cellfoundry.metabolism import load_model  # noqa: E402
from cellfoundry.metabolism.design import (  # noqa: E402
    GeneticModification,
    StrainDesign,
    evaluate,
    evaluate_design,
)


@pytest.fixture(scope="module")
def core() -> Any:
    model = cobra.io.load_model("textbook")
    return model, load_model(model)


def cobra_reference(model: Any, product: str, knockouts: list[str]) -> tuple[float, float, float]:
    with model:
        for rid in knockouts:
            model.reactions.get_by_id(rid).knock_out()
        growth = model.slim_optimize()
        ranges = flux_variability_analysis(model, [product], fraction_of_optimum=1.0)
    return growth, float(ranges.at[product, "minimum"]), float(ranges.at[product, "maximum"])


@pytest.mark.parametrize(
    ("product", "knockouts", "anaerobic"),
    [
        ("EX_ac_e", [], False),
        ("EX_succ_e", ["ACKr", "LDH_D", "ALCD2x", "PFL"], True),
        ("EX_etoh_e", ["LDH_D", "ACKr", "PFL"], True),
        ("EX_lac__D_e", ["PFL", "ALCD2x", "ACKr"], True),
    ],
)
def test_evaluation_matches_cobra(
    core: tuple[Any, Any], product: str, knockouts: list[str], anaerobic: bool
) -> None:
    model, spec = core
    if anaerobic:
        spec = spec.with_bounds({"EX_o2_e": (0.0, 1000.0)})
    with model:
        if anaerobic:
            model.reactions.EX_o2_e.lower_bound = 0.0
        growth, low, high = cobra_reference(model, product, knockouts)
    ours = evaluate(spec, product, "EX_glc__D_e", knockouts, points=5)
    assert ours.growth == pytest.approx(growth, abs=1e-6)
    assert ours.product_min == pytest.approx(low, abs=1e-5)
    assert ours.product_max == pytest.approx(high, abs=1e-5)
    assert ours.substrate_uptake == pytest.approx(10.0)  # the textbook medium's glucose bound
    assert ours.yield_min == pytest.approx(low / 10.0, abs=1e-6)
    assert ours.growth_coupled == (low > 1e-6)
    # the envelope runs from no growth to maximal growth, and its last point is the FVA above
    assert ours.envelope[0][0] == 0.0
    assert ours.envelope[-1][0] == pytest.approx(growth, abs=1e-9)
    assert ours.envelope[-1][1] == pytest.approx(low, abs=1e-5)
    # more growth can only narrow what the product may be: the maximum falls with growth
    highs = [p[2] for p in ours.envelope]
    assert all(a >= b - 1e-6 for a, b in itertools.pairwise(highs))


def test_anaerobic_ethanol_yield_is_the_fermentation_maximum(core: tuple[Any, Any]) -> None:
    _, spec = core
    spec = spec.with_bounds({"EX_o2_e": (0.0, 1000.0)})
    ours = evaluate(spec, "EX_etoh_e", "EX_glc__D_e", ["LDH_D", "ACKr", "PFL"])
    assert ours.max_yield == pytest.approx(2.0, abs=1e-6)
    # an ethanol strain that must grow fast makes less than the maximum, but still some
    assert 0.0 < ours.yield_at_90 < ours.max_yield
    assert ours.growth_coupled


def test_a_lethal_design_is_evaluated_not_refused(core: tuple[Any, Any]) -> None:
    _, spec = core
    ours = evaluate(spec, "EX_ac_e", "EX_glc__D_e", ["GLCpts"])  # no glucose uptake
    # e_coli_core must carry ATP maintenance; without glucose no steady state exists
    assert ours.growth == 0.0
    assert math.isnan(ours.product_min)


def test_unknown_reactions_are_named(core: tuple[Any, Any]) -> None:
    _, spec = core
    with pytest.raises(ValidationError, match="no reaction 'NOPE'") as err:
        evaluate(spec, "EX_ac_e", "EX_glc__D_e", ["NOPE"])
    assert err.value.field == "reaction"
    with pytest.raises(ValidationError, match="product"):
        evaluate(spec, "PFK", "EX_glc__D_e")  # not an exchange


def test_design_json_round_trip(core: tuple[Any, Any]) -> None:
    _, spec = core
    design = StrainDesign(
        chassis="e_coli_core",
        product="EX_succ_e",
        substrate="EX_glc__D_e",
        method="manual",
        modifications=(
            GeneticModification("delete", "b2297", ("PTAr",)),
            GeneticModification("overexpress", "b3956", ("PPC",), factor=2.0),
            GeneticModification("insert", "", ("MCOATA",), organism="iMM904", note="orphan"),
        ),
        knockouts=("PTAr",),
    )
    assert design.label() == "Δb2297 ↑b3956 +MCOATA"
    evaluated = evaluate_design(spec, design, points=3)
    data = json.loads(json.dumps(evaluated.to_dict()))
    assert data["format"] == "cellfoundry.strain-design/1"
    back = StrainDesign.from_dict(data)
    assert back.to_dict() == data
    assert back.evaluation is not None
    assert back.evaluation.growth == pytest.approx(evaluated.evaluation.growth)  # type: ignore[union-attr]


def _evaluated(label: str, yield_min: float, growth: float, size: int) -> StrainDesign:
    from cellfoundry.metabolism.design import DesignEvaluation

    nan = math.nan
    ev = DesignEvaluation(growth, 10.0, yield_min * 10, nan, yield_min, nan, nan, nan, nan, nan)
    mods = tuple(GeneticModification("delete", f"{label}{k}", ("R",)) for k in range(size))
    return StrainDesign("c", "EX_p_e", "EX_glc__D_e", "manual", mods, evaluation=ev)


def test_rank_orders_by_guaranteed_yield_growth_then_size() -> None:
    from cellfoundry.metabolism.design import compare, pareto, rank

    a = _evaluated("a", 0.5, 0.2, 3)
    b = _evaluated("b", 0.5, 0.2, 2)  # same yield and growth, fewer changes: before a
    c = _evaluated("c", 0.8, 0.1, 4)  # best guaranteed yield: first
    d = _evaluated("d", 0.5, 0.3, 5)  # same yield, faster growth: before a and b
    dead = _evaluated("e", 1.0, 0.0, 1)  # does not grow: last, whatever its yield
    assert [x.modifications[0].gene[0] for x in rank([a, b, c, d, dead])] == list("cdbae")
    # a is dominated by b (same yield and growth, more changes); the rest are not
    assert pareto([a, b, c, d]) == [False, True, True, True]
    table = compare([c, d])
    assert list(table["yield_min"]) == [0.8, 0.5]
    assert list(table["modifications"]) == [4, 5]
    unevaluated = StrainDesign("c", "p", "s", "manual", ())
    with pytest.raises(ValidationError, match="has not been evaluated") as err:
        rank([a, unevaluated])
    assert err.value.record == "2"
