"""The BiGG universe as CarveMe 1.6.6 ships it: compiled, cached, mapped onto iJO1366.

Reference values:

- CarveMe's ``bigg_universe.xml.gz`` holds 25,348 reactions and 15,638 metabolites (counted by
  COBRApy 0.32.1 ``read_sbml_model``, which is what the compiled form must reproduce);
  ``bigg_proteins.faa`` 26,727 protein records (``grep -c '>'``).
- Glycerol dehydratase of Klebsiella pneumoniae is the three-subunit enzyme DhaB1-3
  (``dhaB``, ``dhaC``, ``dhaE``; KPN_03205-03207 in iYL1228), the enzyme Nakamura & Whited
  (2003, Curr Opin Biotechnol 14:454) put into E. coli for 1,3-propanediol.
- Glycerol-3-phosphatase (G3PT) hydrolyses a phosphate ester (irreversible); 2-ketoisovalerate
  decarboxylase (3MOBDC, KivD in Atsumi et al. 2008, Nature 451:86) releases CO2
  (irreversible).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from Bio import SeqIO

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism import ModelSpec, fba
from cellfoundry.metabolism.design import universe as universe_module
from cellfoundry.metabolism.design.universe import (
    DIRECTION_BASES,
    Universe,
    default_universe_files,
    equation,
    extend_chassis,
    heterologous_reactions,
    load_universe,
)


def test_universe_matches_cobrapy_counts(universe: Universe) -> None:
    assert universe.spec.n_reactions == 25_348
    assert universe.spec.n_metabolites == 15_638
    assert len(universe.protein_offsets) == 26_727


def test_ids_follow_cobrapy_and_map_onto_ijo1366(universe: Universe, ijo1366: ModelSpec) -> None:
    index = universe.metabolite_index()
    glc = index["glc__D_c"]
    assert universe.spec.compartments[glc] == "c"
    assert universe.spec.formulas[glc] == "C6H12O6"
    shared = sum(m in index for m in ijo1366.metabolites)
    assert shared / ijo1366.n_metabolites > 0.95
    assert "PGI" in universe.spec.reactions


def test_second_load_comes_from_the_disk_cache(
    universe: Universe, universe_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(universe_module, "_LOADED", {})

    def no_compile(*args: object) -> None:
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(universe_module, "_compile", no_compile)
    again = load_universe(cache_dir=universe_cache)
    assert again.digest == universe.digest
    assert again.spec.reactions == universe.spec.reactions
    assert (again.spec.S != universe.spec.S).nnz == 0
    assert np.array_equal(again.spec.lb, universe.spec.lb)
    assert list(universe_cache.glob("universe-*.npz"))
    assert not list(universe_cache.glob(".universe-*"))  # no temporary file left behind


def test_a_damaged_cache_file_is_ignored(tmp_path: Path) -> None:
    bad = tmp_path / "universe-x.npz"
    bad.write_bytes(b"not a zip archive")
    assert universe_module._read_cache(bad, "key", tmp_path / "none.faa") is None


def test_missing_file_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such universe file"):
        load_universe(sbml=tmp_path / "missing.xml.gz")


def test_directions(universe: Universe) -> None:
    spec = universe.spec
    for rid in ("G3PT", "3MOBDC", "GLYCDH"):
        j = spec.reaction_index(rid)
        assert spec.lb[j] == 0.0, rid
        assert spec.ub[j] > 0, rid
    assert DIRECTION_BASES[universe.direction_basis[spec.reaction_index("3MOBDC")]] == "rule"
    assert DIRECTION_BASES[universe.direction_basis[spec.reaction_index("G3PT")]] == "curated"
    assert equation(spec, spec.reaction_index("GLYCDH")) == "glyc_c --> 3hppnl_c + h2o_c"


def test_enzymes_and_proteins_against_biopython(universe: Universe) -> None:
    enzymes = universe.enzymes("GLYCDH")
    best = enzymes[0]
    assert best.model == "iYL1228"
    assert best.organism.startswith("Klebsiella pneumoniae")
    assert best.genes == ("iYL1228.KPN_03205", "iYL1228.KPN_03206", "iYL1228.KPN_03207")
    wanted = {g for e in enzymes[:3] for g in e.genes} | {"iMM904.YGR087C", "iML1515.b3011"}
    fasta = default_universe_files()[2]
    with open(fasta) as fh:
        records = list(SeqIO.parse(fh, "fasta"))  # type: ignore[no-untyped-call]
    reference = {r.id: str(r.seq) for r in records if r.id in wanted}
    assert reference
    for gene, sequence in reference.items():
        assert universe.protein(gene) == sequence
    # DhaB large subunit: 555 residues (UniProt Q59476 family), starting with Met
    large = universe.protein("iYL1228.KPN_03205")
    assert large.startswith("M")
    assert 540 <= len(large) <= 570
    assert universe.protein("no.such_gene") == ""
    assert universe.enzymes("no_such_reaction") == ()


def test_heterologous_reactions_for_ijo1366(universe: Universe, ijo1366: ModelSpec) -> None:
    ids = {universe.spec.reactions[j] for j in heterologous_reactions(ijo1366, universe)}
    assert {"GLYCDH", "13PPDH", "3MOBDC"} <= ids
    assert "PGI" not in ids  # the chassis has it
    assert "G3PT" not in ids
    # GLYK1 (atp + glyc -> adp + glyc3p, no proton) does not balance hydrogen
    assert "GLYK1" not in ids


def test_extend_chassis(universe: Universe, ijo1366: ModelSpec) -> None:
    ext = extend_chassis(ijo1366, ["GLYCDH", "13PPDH"], universe, demands=["13ppd_c"])
    assert ext.n_reactions == ijo1366.n_reactions + 3
    assert {"3hppnl_c", "13ppd_c"} <= set(ext.metabolites) - set(ijo1366.metabolites)
    assert ext.reactions[-1] == "DM_13ppd_c"
    j = ext.reaction_index("GLYCDH")
    assert ext.rule_texts[j] == "(iYL1228.KPN_03205 and iYL1228.KPN_03206 and iYL1228.KPN_03207)"
    assert ext.lb[j] == 0.0
    assert math.isclose(fba(ext).objective_value, fba(ijo1366).objective_value, rel_tol=1e-9)
    # differential: the same model through COBRApy
    model = ext.to_cobra()
    model.objective = "DM_13ppd_c"
    assert model.slim_optimize() > 10.0


def test_extend_chassis_bad_input(universe: Universe, ijo1366: ModelSpec) -> None:
    with pytest.raises(ValidationError, match="has no reaction 'NOPE'"):
        extend_chassis(ijo1366, ["NOPE"], universe)
    with pytest.raises(ValidationError, match="already has a reaction 'PGI'"):
        extend_chassis(ijo1366, ["PGI"], universe)
    with pytest.raises(ValidationError, match="has a metabolite 'nothing_c'"):
        extend_chassis(ijo1366, [], universe, demands=["nothing_c"])
