"""A pathway plus knock-outs: acetone in anaerobic e_coli_core, coupled to growth.

Acetone from acetyl-CoA (thiolase, CoA-transferase, acetoacetate decarboxylase; Bermejo et al.
1998, Appl Environ Microbiol 64:1079) is a sink for acetyl-CoA but not for electrons; with the
pathway alone an anaerobic cell can grow on ethanol/acetate fermentation and make none. The
combined design must make acetone at maximal growth, and its numbers are checked against
COBRApy on the same extended, knocked-out model.
"""

from __future__ import annotations

from typing import Any

import pytest

cobra = pytest.importorskip("cobra")
from cobra.flux_analysis import flux_variability_analysis  # noqa: E402

from cellfoundry.bank.demo import DEMO_MODEL  # noqa: E402
from cellfoundry.core.errors import ValidationError  # noqa: E402
from cellfoundry.metabolism import load_model  # noqa: E402
from cellfoundry.metabolism.design import (  # noqa: E402
    Universe,
    combined_designs,
    find_pathways,
)


@pytest.fixture(scope="module")
def acetone(universe: Universe) -> Any:
    spec = load_model(DEMO_MODEL).with_bounds({"EX_o2_e": (0.0, 1000.0)})
    return find_pathways(spec, "acetone", k=1, universe=universe)[0]


def test_pathway_alone_is_not_coupled_but_combined_is(acetone: Any) -> None:
    alone = acetone.to_design(points=3)
    assert alone.evaluation is not None
    assert not alone.evaluation.growth_coupled
    designs = combined_designs(acetone, max_knockouts=2, k=1, time_limit=30)
    assert designs
    best = designs[0]
    assert best.method == "combined"
    kinds = [m.kind for m in best.modifications]
    assert "insert" in kinds
    assert "delete" in kinds
    assert kinds.index("delete") > kinds.index("insert")  # insertions first
    assert set(acetone.reaction_ids) == set(best.added_reactions)
    ev = best.evaluation
    assert ev is not None
    assert ev.growth_coupled
    # COBRApy on the extended chassis with the design's knock-outs
    model = acetone.model.to_cobra()
    with model:
        for rid in best.knockouts:
            model.reactions.get_by_id(rid).knock_out()
        growth = model.slim_optimize()
        ranges = flux_variability_analysis(model, [best.product], fraction_of_optimum=1.0)
    assert ev.growth == pytest.approx(growth, abs=1e-6)
    assert ev.product_min == pytest.approx(float(ranges.at[best.product, "minimum"]), abs=1e-5)


def test_unknown_method_is_named(acetone: Any) -> None:
    with pytest.raises(ValidationError, match="unknown knock-out method") as err:
        combined_designs(acetone, method="guess")
    assert err.value.field == "method"
