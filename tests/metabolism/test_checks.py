"""Model checks against COBRApy 0.32.1: mass balance, blocked reactions, loops, dead ends.

COBRApy's ``find_blocked_reactions`` takes about 46 s on iJO1366 (FVA over every zero-flux
reaction), too long for the suite. Its full answer was recorded once (cobra 0.32.1, GLPK:
878 blocked reactions, 226 with exchanges opened) and the suite checks the count plus a
sample of reactions against COBRApy's FVA at ``fraction_of_optimum=0``, its definition.
"""

from __future__ import annotations

import cobra
import numpy as np
import pytest
import scipy.sparse as sp
from cobra.flux_analysis import find_blocked_reactions as cobra_blocked
from cobra.flux_analysis import flux_variability_analysis as cobra_fva
from cobra.flux_analysis.find_cyclic_reactions import (
    find_cyclic_reactions as cobra_cyclic,
)
from cobra.manipulation import check_mass_balance as cobra_mass_balance

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism import (
    ModelCheck,
    ModelSpec,
    check_mass_balance,
    check_model,
    find_blocked_reactions,
    find_cyclic_reactions,
    find_dead_end_metabolites,
    load_model,
)

TOL = 1e-7  # COBRApy's default zero cutoff (model.tolerance)
IJO_BLOCKED = 878  # cobra 0.32.1 find_blocked_reactions(iJO1366), GLPK
IJO_BLOCKED_OPEN = 226  # the same with open_exchanges=True


@pytest.fixture(scope="module")
def ijo() -> cobra.Model:
    return cobra.io.load_model("iJO1366")


@pytest.fixture(scope="module")
def ijo_spec(ijo: cobra.Model) -> ModelSpec:
    return load_model(ijo)


@pytest.fixture(scope="module")
def ijo_report(ijo_spec: ModelSpec) -> ModelCheck:
    return check_model(ijo_spec)


@pytest.fixture(scope="module")
def pristine_core() -> cobra.Model:
    return cobra.io.load_model("textbook")


@pytest.fixture
def core(pristine_core: cobra.Model) -> cobra.Model:
    return pristine_core.copy()


def by_id(result: dict[object, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {getattr(r, "id", str(r)): dict(v) for r, v in result.items()}


def assert_same_balance(
    ours: dict[str, dict[str, float]], ref: dict[str, dict[str, float]]
) -> None:
    assert ours.keys() == ref.keys()
    for rid, imbalance in ref.items():
        assert ours[rid].keys() == imbalance.keys(), rid
        for key, value in imbalance.items():
            assert ours[rid][key] == pytest.approx(value, abs=1e-9), (rid, key)


# ---------------------------------------------------------------------------------------------
# mass balance


def test_mass_balance_of_published_models(core: cobra.Model, ijo: cobra.Model) -> None:
    assert check_mass_balance(core) == by_id(cobra_mass_balance(core)) == {}
    assert check_mass_balance(ijo) == by_id(cobra_mass_balance(ijo)) == {}


def test_mass_balance_finds_what_cobra_finds(core: cobra.Model) -> None:
    core.metabolites.get_by_id("h_c").charge = 0  # every proton-carrying reaction off by charge
    core.metabolites.get_by_id("atp_c").formula = "C10H12N5O13P2"  # one phosphorus short
    core.metabolites.get_by_id("nadh_c").formula = None  # no formula: counts as no atoms
    ours = check_mass_balance(core)
    ref = by_id(cobra_mass_balance(core))
    assert len(ref) > 20
    assert ours["PFK"]["P"] == pytest.approx(1.0)  # atp + f6p -> adp + fdp + h
    assert_same_balance(ours, ref)


def test_mass_balance_skips_boundary_and_biomass_by_structure(core: cobra.Model) -> None:
    # annotations are not compiled: the same reactions are skipped without them
    for reaction in core.reactions:
        reaction.annotation.pop("sbo", None)
    core.metabolites.get_by_id("glc__D_e").formula = "C6H12O5"
    ours = check_mass_balance(core)
    assert "EX_glc__D_e" not in ours
    assert "Biomass_Ecoli_core" not in ours
    assert ours["GLCpts"] == {"O": pytest.approx(1.0)}


def test_unreadable_formula_is_named(core: cobra.Model) -> None:
    core.metabolites.get_by_id("pi_c").formula = "HO4P(2)"
    with pytest.raises(ValidationError, match=r"formula 'HO4P\(2\)' of metabolite 'pi_c'"):
        check_mass_balance(core)
    report = check_model(core)
    assert report.unreadable_formulas == ("pi_c",)
    assert not report.ok


# ---------------------------------------------------------------------------------------------
# blocked reactions


@pytest.mark.parametrize("open_exchanges", [False, True])
def test_blocked_reactions_match_cobra_on_core(core: cobra.Model, open_exchanges: bool) -> None:
    ours = find_blocked_reactions(core, open_exchanges=open_exchanges)
    assert ours == cobra_blocked(core, open_exchanges=open_exchanges)
    assert ours == find_blocked_reactions(core, open_exchanges=open_exchanges, solver="highs")


def test_blocked_reactions_of_a_list(core: cobra.Model) -> None:
    listed = ["EX_fum_e", "PFK", "FUMt2_2", "EX_ac_e"]
    assert find_blocked_reactions(core, listed) == ["EX_fum_e", "FUMt2_2"]
    reactions = [core.reactions.get_by_id(r) for r in listed]
    assert find_blocked_reactions(core, reactions) == cobra_blocked(core, reactions)


def test_zero_cutoff_below_tolerance_is_refused(core: cobra.Model) -> None:
    with pytest.raises(ValidationError, match="zero cutoff"):
        find_blocked_reactions(core, zero_cutoff=1e-12)


def test_blocked_reactions_on_ijo1366(
    ijo: cobra.Model, ijo_spec: ModelSpec, ijo_report: ModelCheck
) -> None:
    assert ijo_report.blocked_reactions is not None
    blocked = set(ijo_report.blocked_reactions)
    assert len(blocked) == IJO_BLOCKED
    # COBRApy's definition on every 50th reaction: FVA at 0 % of the optimum, both extremes ~0
    sample = list(ijo_spec.reactions[::50])
    ranges = cobra_fva(ijo, sample, fraction_of_optimum=0.0)
    expected = set(ranges.index[ranges.abs().max(axis=1) < TOL])
    assert blocked & set(sample) == expected
    assert 0 < len(expected) < len(sample)


def test_blocked_reactions_with_open_exchanges_on_ijo1366(
    ijo: cobra.Model, ijo_spec: ModelSpec
) -> None:
    blocked = set(find_blocked_reactions(ijo_spec, open_exchanges=True))
    assert len(blocked) == IJO_BLOCKED_OPEN
    sample = list(ijo_spec.reactions[7::100])
    with ijo:
        for reaction in ijo.exchanges:
            reaction.bounds = (min(reaction.lower_bound, -1000), max(reaction.upper_bound, 1000))
        ranges = cobra_fva(ijo, sample, fraction_of_optimum=0.0)
    expected = set(ranges.index[ranges.abs().max(axis=1) < TOL])
    assert blocked & set(sample) == expected


# ---------------------------------------------------------------------------------------------
# dead ends and loops


def test_dead_ends_on_core(core: cobra.Model) -> None:
    # four nutrients the medium does not offer: their exchanges can only secrete them
    dead = find_dead_end_metabolites(core)
    assert dead == ["fru_e", "fum_e", "gln__L_e", "mal__L_e"]
    core.reactions.EX_fru_e.lower_bound = -10
    assert "fru_e" not in find_dead_end_metabolites(core)


def test_dead_end_reactions_are_blocked_on_ijo1366(
    ijo_spec: ModelSpec, ijo_report: ModelCheck
) -> None:
    dead = set(find_dead_end_metabolites(ijo_spec))
    assert dead == set(ijo_report.dead_end_metabolites)
    assert ijo_report.blocked_reactions is not None
    blocked = set(ijo_report.blocked_reactions)
    index = {m: i for i, m in enumerate(ijo_spec.metabolites)}
    csr = sp.csr_matrix(ijo_spec.S)
    for met in dead:
        i = index[met]
        for j in csr.indices[csr.indptr[i] : csr.indptr[i + 1]]:
            if ijo_spec.lb[j] != 0 or ijo_spec.ub[j] != 0:
                assert ijo_spec.reactions[j] in blocked, (met, ijo_spec.reactions[j])


def test_dead_ends_on_a_hand_made_chain() -> None:
    model = cobra.Model("chain")
    a, b, c, d = (cobra.Metabolite(x, compartment="c") for x in "abcd")
    ex = cobra.Reaction("EX_a", lower_bound=-10, upper_bound=1000)
    ex.add_metabolites({a: -1})
    r1 = cobra.Reaction("R1", lower_bound=0, upper_bound=1000)  # a -> b
    r1.add_metabolites({a: -1, b: 1})
    demand = cobra.Reaction("DM_b", lower_bound=0, upper_bound=1000)
    demand.add_metabolites({b: -1})
    r2 = cobra.Reaction("R2", lower_bound=0, upper_bound=1000)  # b -> c, c goes nowhere
    r2.add_metabolites({b: -1, c: 1})
    r3 = cobra.Reaction("R3", lower_bound=-1000, upper_bound=0)  # d <- c, backwards only
    r3.add_metabolites({c: -1, d: 1})
    model.add_reactions([ex, r1, demand, r2, r3])
    model.objective = "DM_b"
    assert find_dead_end_metabolites(model) == ["c", "d"]
    assert find_blocked_reactions(model) == ["R2", "R3"] == cobra_blocked(model)


def test_cyclic_reactions_match_cobra(
    core: cobra.Model, ijo: cobra.Model, ijo_spec: ModelSpec, ijo_report: ModelCheck
) -> None:
    assert find_cyclic_reactions(core) == cobra_cyclic(core)
    assert find_cyclic_reactions(core, solver="highs") == find_cyclic_reactions(core)
    ids, directions = cobra_cyclic(ijo)
    assert len(ids) == 76
    assert ijo_report.cyclic_reactions == tuple(ids)
    assert find_cyclic_reactions(ijo_spec)[1] == [tuple(d) for d in directions]


# ---------------------------------------------------------------------------------------------
# the summary


def test_check_model_on_core(core: cobra.Model) -> None:
    report = check_model(core)
    assert isinstance(report, ModelCheck)
    assert report.status == "optimal"
    assert report.objective_value == pytest.approx(0.8739215, abs=1e-6)
    assert (report.n_reactions, report.n_metabolites, report.n_genes) == (95, 72, 137)
    assert report.n_boundary == 20
    assert report.blocked_reactions == tuple(cobra_blocked(core))
    assert report.cyclic_reactions == ("FRD7", "SUCDi")
    assert report.n_dead_ends == 4
    assert report.mass_unbalanced == {}
    assert report.ok  # dead ends, blocked reactions and loops are reported, not failed
    data = report.to_dict()
    assert data["counts"] == {
        "reactions": 95,
        "metabolites": 72,
        "genes": 137,
        "boundary": 20,
        "mass_unbalanced": 0,
        "unreadable_formulas": 0,
        "missing_formulas": 0,
        "blocked": 8,
        "dead_ends": 4,
        "cyclic": 2,
    }
    assert "8 blocked" in repr(report)


def test_check_model_of_an_infeasible_model(core: cobra.Model) -> None:
    core.reactions.EX_glc__D_e.lower_bound = 0  # no carbon, yet maintenance (ATPM ≥ 8.39)
    report = check_model(core)
    assert report.status == "infeasible"
    assert report.objective_value is None
    assert report.blocked_reactions is None
    assert report.n_blocked is None
    assert not report.ok
    assert report.to_dict()["blocked_reactions"] is None


def test_check_model_on_ijo1366(ijo_report: ModelCheck) -> None:
    report = ijo_report
    assert report.n_blocked == IJO_BLOCKED
    assert report.n_cyclic == 76
    assert report.mass_unbalanced == {}
    assert report.missing_formulas == ()
    assert np.isfinite(report.objective_value or np.nan)
