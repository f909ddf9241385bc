"""`cellfoundry model ...` on e_coli_core: files run directly, stored models, named errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cellfoundry.cli.main import app

runner = CliRunner()
OBJECTIVE = 0.8739215069684306


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.fixture(scope="module")
def core_sbml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cobra.io

    path = tmp_path_factory.mktemp("models") / "e_coli_core.xml"
    cobra.io.write_sbml_model(cobra.io.load_model("textbook"), str(path))
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_fba_prints_the_growth_rate_and_largest_fluxes(core_sbml: Path) -> None:
    out = run("model", "fba", str(core_sbml), "--top", "5")
    assert "objective value: 0.874" in out
    assert "ATPS4r" in out  # the largest flux of e_coli_core on glucose


def test_fba_json_gives_cobras_objective(core_sbml: Path) -> None:
    data = json.loads(run("model", "fba", str(core_sbml), "--json"))
    assert data["status"] == "optimal"
    assert data["objective_value"] == pytest.approx(OBJECTIVE, abs=1e-9)
    assert data["fluxes"]["EX_glc__D_e"] == pytest.approx(-10.0)
    assert len(data["fluxes"]) == 95


def test_fba_medium_changes_one_uptake_and_keeps_the_rest(core_sbml: Path) -> None:
    import cobra.io

    model = cobra.io.read_sbml_model(str(core_sbml))
    model.reactions.EX_glc__D_e.lower_bound = -5
    expected = model.slim_optimize()
    data = json.loads(run("model", "fba", str(core_sbml), "--medium", "EX_glc__D_e=5", "--json"))
    assert data["objective_value"] == pytest.approx(expected, abs=1e-9)


def test_pfba_reports_growth_and_total_flux(core_sbml: Path) -> None:
    import cobra.flux_analysis
    import cobra.io

    model = cobra.io.read_sbml_model(str(core_sbml))
    expected = cobra.flux_analysis.pfba(model).objective_value
    data = json.loads(run("model", "fba", str(core_sbml), "--pfba", "--json"))
    assert data["objective_value"] == pytest.approx(expected, rel=1e-6)
    assert data["objective_flux"] == pytest.approx(OBJECTIVE, abs=1e-6)


def test_fva_csv_matches_the_engine(core_sbml: Path, tmp_path: Path) -> None:
    from cellfoundry.metabolism import fva

    out = tmp_path / "fva.csv"
    text = run(
        "model", "fva", str(core_sbml), "--fraction", "0.9", "--processes", "2", "--out", str(out)
    )
    assert "wrote the flux ranges of 95 reactions" in text
    got = pd.read_csv(out, index_col="reaction")
    assert list(got.columns) == ["minimum", "maximum"]
    expected = fva(core_sbml, fraction_of_optimum=0.9)
    pd.testing.assert_frame_equal(
        got.sort_index(), expected.sort_index(), check_names=False, atol=1e-6, rtol=0
    )


def test_fva_of_some_reactions_prints_a_table(core_sbml: Path) -> None:
    out = run("model", "fva", str(core_sbml), "--reactions", "PGI,PFK", "--fraction", "0.9")
    assert "PGI" in out
    assert "PFK" in out
    assert "ACONTa" not in out


def test_gene_deletions_find_the_essential_genes(core_sbml: Path, tmp_path: Path) -> None:
    import cobra.flux_analysis
    import cobra.io

    model = cobra.io.read_sbml_model(str(core_sbml))
    essential = {g.id for g in cobra.flux_analysis.find_essential_genes(model)}
    assert len(essential) == 7
    out = tmp_path / "genes.csv"
    data = json.loads(
        run("model", "delete", str(core_sbml), "--genes", "--out", str(out), "--json")
    )
    assert set(data["lethal"]) == essential
    table = pd.read_csv(out)
    assert list(table.columns) == ["ids", "growth", "status"]
    assert len(table) == 137
    text = run("model", "delete", str(core_sbml), "--genes")
    assert "7 of 137 genes are lethal" in text
    for gene in essential:
        assert gene in text


def test_reaction_deletions_and_double_deletions(core_sbml: Path, tmp_path: Path) -> None:
    data = json.loads(run("model", "delete", str(core_sbml), "--reactions", "--json"))
    assert len(data["results"]) == 95
    assert "Biomass_Ecoli_core" in data["lethal"]
    out = tmp_path / "pairs.csv"
    run("model", "delete", str(core_sbml), "--genes", "--double", "--out", str(out))
    pairs = pd.read_csv(out)
    assert len(pairs) == 137 * 138 // 2  # every unordered pair, and each gene alone


def test_delete_needs_genes_or_reactions(core_sbml: Path) -> None:
    out = run("model", "delete", str(core_sbml), code=2)
    assert "--genes or --reactions" in out


def test_envelope_writes_cobras_frame(core_sbml: Path, tmp_path: Path) -> None:
    out = tmp_path / "envelope.csv"
    run(
        "model",
        "envelope",
        str(core_sbml),
        "--product",
        "EX_ac_e",
        "--points",
        "5",
        "--out",
        str(out),
    )
    frame = pd.read_csv(out)
    assert len(frame) == 5
    assert {"flux_minimum", "flux_maximum", "Biomass_Ecoli_core"} <= set(frame.columns)
    top = frame.sort_values("Biomass_Ecoli_core").iloc[0]
    assert top["flux_maximum"] == pytest.approx(20.0, abs=1e-6)  # all glucose to acetate


def test_check_summarises_the_model(core_sbml: Path) -> None:
    out = run("model", "check", str(core_sbml))
    assert "95 reactions" in out
    assert "blocked reactions: 8" in out
    data = json.loads(run("model", "check", str(core_sbml), "--json"))
    assert data["counts"]["blocked"] == 8


def test_a_bad_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken_model.xml"
    bad.write_text("<sbml><model id='x'><listOfReactions>", encoding="utf-8")
    result = runner.invoke(app, ["model", "fba", str(bad)])
    assert result.exit_code == 2
    assert "broken_model.xml" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_missing_file_and_an_unknown_reaction_exit_2(core_sbml: Path, tmp_path: Path) -> None:
    out = run("model", "fba", str(tmp_path / "nowhere.json"), code=2)
    assert "nowhere.json" in out
    out = run("model", "fva", str(core_sbml), "--reactions", "NOPE", code=2)
    assert "NOPE" in out
    out = run("model", "fba", str(core_sbml), "--medium", "EX_glc__D_e", code=2)
    assert "EXCHANGE=UPTAKE" in out


def test_an_infeasible_medium_names_the_problem(core_sbml: Path) -> None:
    out = run(
        "model", "fba", str(core_sbml), "--medium", "EX_glc__D_e=0", "--medium", "EX_o2_e=0", code=2
    )
    assert "infeasible" in out
    assert "e_coli_core.xml" in out


def test_load_stores_the_model_and_analyses_run_on_it(core_sbml: Path, db: str) -> None:
    out = run("--db", db, "model", "load", str(core_sbml), "--name", "core")
    assert "95 reactions, 72 metabolites, 137 genes" in out
    listed = json.loads(run("--db", db, "model", "list", "--json"))
    assert [m["name"] for m in listed] == ["core"]
    model_id = str(listed[0]["id"])
    for key in (model_id, "core"):
        data = json.loads(run("--db", db, "model", "fba", key, "--json"))
        assert data["objective_value"] == pytest.approx(OBJECTIVE, abs=1e-9)
    out = run("--db", db, "model", "fba", "999", code=2)
    assert "999" in out


def test_load_refuses_a_bad_file_and_stores_nothing(tmp_path: Path, db: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"reactions": [{"id": "R1", "gene_reaction_rule": "g1 and"}]}', "utf-8")
    out = run("--db", db, "model", "load", str(bad), code=2)
    assert "bad.json" in out
    assert "R1" in out
    assert json.loads(run("--db", db, "model", "list", "--json")) == []
