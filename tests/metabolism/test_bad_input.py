"""Bad models get a named error that says what is wrong and where: never a traceback, never 0."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pytest

cobra = pytest.importorskip("cobra")

from cellfoundry.core.errors import FormatError, ValidationError  # noqa: E402
from cellfoundry.metabolism import (  # noqa: E402
    InfeasibleError,
    UnboundedError,
    fba,
    fva,
    load_model,
    single_gene_deletion,
    with_medium,
)

logging.getLogger("cobra").setLevel(logging.ERROR)


@pytest.fixture(scope="module")
def core_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "core.json"
    cobra.io.save_json_model(cobra.io.load_model("textbook"), str(path))
    return path


@pytest.fixture(scope="module")
def core_sbml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("models") / "core.xml"
    cobra.io.write_sbml_model(cobra.io.load_model("textbook"), str(path))
    return path


def test_truncated_sbml_names_the_file_and_line(core_sbml: Path, tmp_path: Path) -> None:
    bad = tmp_path / "truncated.xml"
    text = core_sbml.read_text()
    bad.write_text(text[: len(text) // 2])
    with pytest.raises(FormatError) as err:
        load_model(bad)
    assert err.value.source == str(bad)
    assert err.value.record is not None
    assert err.value.record.startswith("line ")
    assert "SBML does not parse" in str(err.value)


def test_sbml_without_fbc_or_cobra_bounds_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "plain.xml"
    bad.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">\n'
        '  <model id="plain">\n'
        '    <listOfCompartments><compartment id="c" constant="true"/></listOfCompartments>\n'
        "    <listOfSpecies>\n"
        '      <species id="A" compartment="c" hasOnlySubstanceUnits="false"'
        ' boundaryCondition="false" constant="false"/>\n'
        "    </listOfSpecies>\n"
        "    <listOfReactions>\n"
        '      <reaction id="R1" reversible="false" fast="false">\n'
        '        <listOfProducts><speciesReference species="A" stoichiometry="1"'
        ' constant="true"/></listOfProducts>\n'
        "      </reaction>\n"
        "    </listOfReactions>\n"
        "  </model>\n"
        "</sbml>\n"
    )
    with pytest.raises(FormatError) as err:
        load_model(bad)
    assert err.value.field == "fbc"
    assert "FBC" in str(err.value)
    assert str(bad) in str(err.value)


def test_legacy_cobra_sbml_is_read(shared_data: Path) -> None:
    # BiGG's iMM904 predates FBC: bounds as kinetic-law parameters, rules in notes
    spec = load_model(shared_data / "models" / "iMM904.xml")
    assert spec.n_reactions == 1741
    assert fba(spec).objective_value > 0.1


def test_unbalanced_gene_rule_names_the_reaction(core_json: Path, tmp_path: Path) -> None:
    data = json.loads(core_json.read_text())
    target = next(r for r in data["reactions"] if r["id"] == "PGI")
    target["gene_reaction_rule"] = "(b4025 and b0001"
    bad = tmp_path / "unbalanced.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as err:
        load_model(bad)
    assert err.value.record == "PGI"
    assert err.value.field == "gene_reaction_rule"
    assert "never closed" in str(err.value)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("b4025 and or b0001", "where a gene was expected"),
        ("b4025 b0001", "where 'and' or 'or' was expected"),
        ("b4025 and", "ends in an operator"),
        ("b4025) or (b0001", r"without its '\('"),
    ],
)
def test_malformed_gene_rules(core_json: Path, tmp_path: Path, rule: str, problem: str) -> None:
    data = json.loads(core_json.read_text())
    next(r for r in data["reactions"] if r["id"] == "PGK")["gene_reaction_rule"] = rule
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValidationError, match=problem) as err:
        load_model(bad)
    assert err.value.record == "PGK"


def test_unknown_gene_in_a_rule_names_gene_and_reaction(core_json: Path, tmp_path: Path) -> None:
    data = json.loads(core_json.read_text())
    next(r for r in data["reactions"] if r["id"] == "ENO")["gene_reaction_rule"] = "b9999"
    bad = tmp_path / "unknown.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as err:
        load_model(bad)
    assert err.value.record == "ENO"
    assert "b9999" in str(err.value)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"reactions": [\n  {"id": "R1",\n')
    with pytest.raises(FormatError) as err:
        load_model(bad)
    assert err.value.record == "line 3"


def test_a_bound_that_is_not_a_number(core_json: Path, tmp_path: Path) -> None:
    data = json.loads(core_json.read_text())
    next(r for r in data["reactions"] if r["id"] == "ATPM")["lower_bound"] = "eight"
    bad = tmp_path / "bound.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as err:
        load_model(bad)
    assert (err.value.record, err.value.field) == ("ATPM", "lower_bound")


def test_infeasible_medium_is_an_error_naming_the_forced_reaction(core_json: Path) -> None:
    spec = with_medium(load_model(core_json), {})  # nothing to eat, ATPM must still run
    with pytest.raises(InfeasibleError) as err:
        fba(spec)
    assert "ATPM [8.39, 1000]" in str(err.value)
    assert "Medium (uptake rates): nothing" in str(err.value)
    with pytest.raises(InfeasibleError):
        fva(spec)
    with pytest.raises(InfeasibleError):
        single_gene_deletion(spec)


def test_unbounded_objective_names_the_reaction(core_json: Path) -> None:
    # glucose taken up without limit, and the objective asks for as much uptake as possible
    # (a model written with infinite bounds where e_coli_core has ±1000)
    core = load_model(core_json)
    spec = core.with_bounds(
        {
            rid: (-math.inf if lo <= -1000 else lo, math.inf if up >= 1000 else up)
            for rid, lo, up in zip(core.reactions, core.lb, core.ub, strict=True)
        }
        | {"EX_glc__D_e": (-math.inf, math.inf)}
    ).with_objective("EX_glc__D_e", maximize=False)
    with pytest.raises(UnboundedError) as err:
        fba(spec)
    assert "is unbounded" in str(err.value)
    culprit = err.value.record
    assert culprit is not None
    assert culprit in str(err.value)
    j = spec.reaction_index(culprit)
    assert math.isinf(spec.lb[j]) or math.isinf(spec.ub[j])


def test_unknown_ids_and_bad_parameters(core_json: Path) -> None:
    spec = load_model(core_json)
    with pytest.raises(ValidationError, match="no reaction 'NOPE'"):
        fva(spec, reaction_list=["NOPE"])
    with pytest.raises(ValidationError, match="no gene 'b0000'"):
        single_gene_deletion(spec, ["b0000"])
    with pytest.raises(ValidationError, match="between 0 and 1"):
        fva(spec, fraction_of_optimum=1.5)
    with pytest.raises(ValidationError, match="not an exchange reaction"):
        with_medium(spec, {"PGI": 10})
    with pytest.raises(ValidationError, match="finite number"):
        with_medium(spec, {"EX_glc__D_e": -1})
    with pytest.raises(ValidationError, match="above upper bound"):
        spec.with_bounds({"PGI": (5, 1)})


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such model file"):
        load_model(tmp_path / "absent.xml")
    odd = tmp_path / "model.txt"
    odd.write_text("hello")
    with pytest.raises(FormatError, match="unknown model format"):
        load_model(odd)
