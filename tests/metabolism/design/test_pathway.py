"""Heterologous pathway search in E. coli iJO1366 against published pathways and yields.

Published pathways (what the search must find):

- 1,3-propanediol: glycerol dehydratase (dhaB1-3, K. pneumoniae) + 1,3-propanediol
  oxidoreductase (dhaT, or E. coli's own yqhD), fed by glycerol-3-phosphate dehydrogenase and
  glycerol-3-phosphatase (Nakamura & Whited 2003, Curr Opin Biotechnol 14:454-459). iJO1366
  already carries an E. coli glycerol-3-phosphatase (G3PT, b0822) and dehydrogenase (G3PD2),
  so a stoichiometric search needs only the two Klebsiella steps.
- Isobutanol: 2-ketoisovalerate decarboxylase (KivD) + alcohol dehydrogenase from the valine
  precursor 2-ketoisovalerate (Atsumi, Hanai & Liao 2008, Nature 451:86-89).
- 1,4-butanediol: succinyl-CoA → succinate semialdehyde → 4-hydroxybutyrate →
  4-hydroxybutyryl-CoA (Cat2, 4-hydroxybutyrate CoA-transferase) → 4-hydroxybutyraldehyde →
  1,4-BDO (Yim et al. 2011, Nat Chem Biol 7:445-452). BiGG has no 1,4-BDO metabolite, so the
  search must say so; it does reach Yim's 4-hydroxybutyryl-CoA through the CoA-transferase.

Hand-computed yields (independent of any model):

- Isobutanol: C6H12O6 → C4H10O + 2 CO2 + H2O, redox neutral (2 NADH from glycolysis, one
  NADPH in the ketol-acid reductoisomerase, one NADH in the alcohol dehydrogenase): at most
  1 mol/mol, 74.12/180.16 = 0.411 g/g (Atsumi et al. 2008 quote 0.41 g/g).
- 1,3-propanediol: electrons bound the yield: glucose carries 24 e- (degree of reduction 4 per
  C), 1,3-PDO 16 e- (3·4 + 8 − 2·2), so at most 24/16 = 1.5 mol/mol with every other carbon
  leaving as CO2 (Cameron et al. 1998, Biotechnol Prog 14:116 give the same 1.5 mol/mol
  ceiling). ATP for maintenance keeps the model's figure a little below it.
"""

from __future__ import annotations

import math

import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism import ModelSpec, with_medium
from cellfoundry.metabolism.design import StrainDesign
from cellfoundry.metabolism.design.pathway import Pathway, find_pathways, resolve_target
from cellfoundry.metabolism.design.universe import Universe


@pytest.fixture(scope="module")
def pdo(ijo1366: ModelSpec, universe: Universe) -> list[Pathway]:
    return find_pathways(ijo1366, "13ppd", k=3, universe=universe)


def test_13ppd_needs_glycerol_dehydratase_and_pdo_oxidoreductase(pdo: list) -> None:  # type: ignore[type-arg]
    best = pdo[0]
    assert set(best.reaction_ids) == {"GLYCDH", "13PPDH"}
    assert not best.native
    assert best.product == "DM_13ppd_c"
    # E. coli's yqhD (13PPDH2, b3011), as Nakamura & Whited used, among the alternatives
    assert any(set(p.reaction_ids) == {"GLYCDH", "13PPDH2"} for p in pdo)
    genes = {g.gene: g for g in best.genes}
    assert {"iYL1228.KPN_03205", "iYL1228.KPN_03206", "iYL1228.KPN_03207"} <= set(genes)
    assert all(g.protein.startswith("M") for g in best.genes)
    assert genes["iYL1228.KPN_03205"].reactions == ("GLYCDH",)


def test_13ppd_yields(pdo: list) -> None:  # type: ignore[type-arg]
    best = pdo[0]
    y = best.max_yield
    assert 1.3 < y.molar_yield < 1.5  # below the 1.5 mol/mol electron ceiling
    assert math.isclose(y.mass_yield, y.molar_yield * 76.09 / 180.16, rel_tol=1e-3)
    assert math.isclose(y.carbon_yield, y.molar_yield * 3 / 6, rel_tol=1e-9)
    assert best.yield_at_90 is not None
    assert 0 < best.yield_at_90.molar_yield < y.molar_yield
    # differential: COBRApy on the extended chassis finds the same maximum
    assert best.model is not None
    model = best.model.to_cobra()
    model.objective = "DM_13ppd_c"
    model.reactions.EX_glc__D_e.bounds = (-10.0, -10.0)
    assert math.isclose(model.slim_optimize() / 10.0, y.molar_yield, rel_tol=1e-6)


def test_pathways_are_distinct_minimal_and_ordered(pdo: list) -> None:  # type: ignore[type-arg]
    # with iJN1463's miscurated lactaldehyde step left out (KNOWN_ERRORS), the universe holds
    # two 2-step routes: dhaB with dhaT (13PPDH, NADH) or with yqhD (13PPDH2, NADPH); a third
    # would have to be a superset of one of them
    sets = [set(p.reaction_ids) for p in pdo]
    assert len(pdo) == 2
    assert [p.rank for p in pdo] == [1, 2]
    assert [p.size for p in pdo] == sorted(p.size for p in pdo)
    for k, later in enumerate(sets):
        for earlier in sets[:k]:
            assert not earlier <= later  # integer cuts exclude supersets


def test_to_design(pdo: list) -> None:  # type: ignore[type-arg]
    design = pdo[0].to_design()
    assert isinstance(design, StrainDesign)
    assert design.method == "pathway"
    assert set(design.added_reactions) == {"GLYCDH", "13PPDH"}
    assert all(m.kind == "insert" for m in design.modifications)
    assert {m.gene for m in design.modifications} >= {"iYL1228.KPN_03205", "iYL1228.KPN_03491"}
    assert design.evaluation is not None
    assert design.evaluation.growth > 0.5
    assert math.isclose(design.evaluation.max_yield, pdo[0].max_yield.molar_yield, rel_tol=1e-6)
    assert StrainDesign.from_dict(design.to_dict()) == design


def test_isobutanol_is_the_ehrlich_keto_acid_pathway(
    ijo1366: ModelSpec, universe: Universe
) -> None:
    best = find_pathways(ijo1366, "Isobutyl alcohol C4H10O", k=1, universe=universe)[0]
    ids = set(best.reaction_ids)
    assert "3MOBDC" in ids  # 2-ketoisovalerate decarboxylase (KivD)
    assert ids & {"ALCD23xi", "ALCD23yi"}  # isobutyraldehyde reductase (Adh)
    assert len(ids) == 2
    assert math.isclose(best.max_yield.molar_yield, 1.0, abs_tol=1e-6)
    assert math.isclose(best.max_yield.mass_yield, 74.12 / 180.16, rel_tol=1e-3)
    assert best.yield_at_90 is not None
    assert best.yield_at_90.molar_yield > 0


def test_bdo_is_not_in_bigg_but_yims_cat2_step_is(ijo1366: ModelSpec, universe: Universe) -> None:
    with pytest.raises(ValidationError, match=r"unknown compound '1,4-butanediol'.*did you mean"):
        find_pathways(ijo1366, "1,4-butanediol", universe=universe)
    best = find_pathways(ijo1366, "4hbutcoa", k=1, universe=universe)[0]
    assert "A4HBCT" in best.reaction_ids  # 4-hydroxybutyrate CoA-transferase (Cat2)


def test_native_target_returns_the_zero_insertion_pathway(
    ijo1366: ModelSpec, universe: Universe
) -> None:
    (only,) = find_pathways(ijo1366, "succ", k=3, universe=universe)
    assert only.native
    assert only.reactions == ()
    assert only.genes == ()
    assert only.product == "EX_succ_e"
    assert "native" in only.notes[0]
    assert only.max_yield.molar_yield > 1.0
    assert only.to_design().modifications == ()


def test_target_names(universe: Universe, ijo1366: ModelSpec) -> None:
    assert resolve_target("13ppd_c", universe, ijo1366) == "13ppd_c"
    assert resolve_target("13ppd_e", universe, ijo1366) == "13ppd_c"
    assert resolve_target("1,3-propanediol", universe, ijo1366) == "13ppd_c"
    assert resolve_target("YPFDHNVEDLHUCE-UHFFFAOYSA-N", universe, ijo1366) == "13ppd_c"
    assert resolve_target("CHEBI:16109", universe, ijo1366) == "13ppd_c"
    assert resolve_target("kegg:C02457", universe, ijo1366) == "13ppd_c"
    with pytest.raises(ValidationError, match="InChI or SMILES"):
        resolve_target("InChI=1S/C3H8O2/c4-2-1-3-5/h4-5H,1-3H2", universe, ijo1366)
    with pytest.raises(ValidationError, match="InChI or SMILES"):
        resolve_target("C(CO)CO", universe, ijo1366)
    with pytest.raises(ValidationError, match=r"unknown compound 'OCCCO'.*SMILES"):
        resolve_target("OCCCO", universe, ijo1366)
    with pytest.raises(ValidationError, match=r"did you mean.*13ppd"):
        resolve_target("13ppdd", universe, ijo1366)


def test_unreachable_target_names_the_nearest_precursor(
    ijo1366: ModelSpec, universe: Universe
) -> None:
    # DAGAH_MYRS_ALNA_c needs alpha-linolenate, which nothing in E. coli or the universe makes
    with pytest.raises(ValidationError, match=r"nearest precursor.*mag140_c.*lnlnca_c"):
        find_pathways(ijo1366, "12dgr140183n3_c", universe=universe)
    # vanillin: the BiGG universe has no route from tyrosine to ferulate
    with pytest.raises(ValidationError, match=r"cannot reach Vanillin.*end at"):
        find_pathways(ijo1366, "vanln", universe=universe)
    # itaconate: BiGG has no cis-aconitate decarboxylase, only transporters
    with pytest.raises(ValidationError, match="cannot reach Itaconate"):
        find_pathways(ijo1366, "itacon", universe=universe)


def test_too_few_reactions_allowed(ijo1366: ModelSpec, universe: Universe) -> None:
    with pytest.raises(ValidationError, match="no pathway of at most 1 universe reactions"):
        find_pathways(ijo1366, "13ppd", max_reactions=1, universe=universe)


def test_infeasible_chassis_and_bad_options(ijo1366: ModelSpec, universe: Universe) -> None:
    starved = with_medium(ijo1366, {"EX_o2_e": 20.0})
    with pytest.raises(ValidationError, match=r"cannot grow|infeasible"):
        find_pathways(starved, "13ppd", universe=universe)
    forced = ijo1366.with_bounds({"ATPM": (500.0, 1000.0)})
    with pytest.raises(ValidationError, match="infeasible"):
        find_pathways(forced, "13ppd", universe=universe)
    with pytest.raises(ValidationError, match="k must be"):
        find_pathways(ijo1366, "13ppd", k=0, universe=universe)
    with pytest.raises(ValidationError, match="has no reaction 'EX_nothing_e'"):
        find_pathways(ijo1366, "13ppd", substrate="EX_nothing_e", universe=universe)


def test_progress_is_reported(ijo1366: ModelSpec, universe: Universe) -> None:
    seen: list[tuple[int, int]] = []
    find_pathways(
        ijo1366, "ibutoh", k=2, universe=universe, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]
