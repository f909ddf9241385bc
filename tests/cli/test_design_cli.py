"""`cellfoundry design rank|save`: designs from JSON files ranked, evaluated, kept in the bank."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.cli.main import app
from cellfoundry.metabolism.design import GeneticModification, StrainDesign

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def design(*knockouts: tuple[str, str]) -> StrainDesign:
    return StrainDesign(
        chassis="e_coli_core",
        product="EX_succ_e",
        substrate="EX_glc__D_e",
        method="manual",
        modifications=tuple(GeneticModification("delete", g, (r,)) for g, r in knockouts),
        knockouts=tuple(r for _, r in knockouts),
    )


@pytest.fixture(scope="module")
def core_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cobra.io

    path = tmp_path_factory.mktemp("models") / "e_coli_core.json"
    model = cobra.io.load_model("textbook")
    model.reactions.EX_o2_e.lower_bound = 0.0  # anaerobic: fermentation products
    cobra.io.save_json_model(model, str(path))
    return path


@pytest.fixture
def designs_file(tmp_path: Path) -> Path:
    plain = design(("b2297", "PTAr"))
    coupled = design(("b2297", "PTAr"), ("b1380", "LDH_D"), ("b1241", "ALCD2x"), ("b0903", "PFL"))
    path = tmp_path / "designs.json"
    path.write_text(json.dumps({"designs": [plain.to_dict(), coupled.to_dict()]}))
    return path


def test_rank_evaluates_on_the_model_and_puts_the_coupled_design_first(
    designs_file: Path, core_json: Path
) -> None:
    data = json.loads(run("design", "rank", str(designs_file), "--model", str(core_json), "--json"))
    ranked = data["designs"]
    assert [len(d["modifications"]) for d in ranked] == [4, 1]
    best = ranked[0]["evaluation"]
    # anaerobic e_coli_core without acetate, lactate, ethanol and formate routes must secrete
    # succinate to grow (the classic fermentation knock-out family, Sánchez et al. 2005)
    assert best["growth_coupled"] is True
    assert best["yield_min"] > 0.1
    assert ranked[1]["evaluation"]["growth_coupled"] is False
    table = run("design", "rank", str(designs_file), "--model", str(core_json))
    assert "2 designs, best first" in table
    assert "★" in table  # the coupled design is on the Pareto front


def test_rank_without_evaluations_or_model_names_the_problem(designs_file: Path) -> None:
    out = run("design", "rank", str(designs_file), code=2)
    assert "give --model" in out
    bad = designs_file.with_name("bad.json")
    bad.write_text('{"designs": [{"chassis": "x"}]}')
    out = run("design", "rank", str(bad), code=2)
    assert "design 1 is not a strain design" in out
    assert "bad.json" in out


def test_save_keeps_the_design_as_a_planned_strain(designs_file: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    bank = Bank.open(url)
    bank.import_strains([StrainRecord("CF-7", "Escherichia coli K-12 MG1655")], actor="t")
    bank.close()
    out = run("--db", url, "design", "save", str(designs_file), "--parent", "CF-7", "--index", "2")
    assert "CF-7-D1" in out
    bank = Bank.open(url)
    try:
        strain = bank.get_strain("CF-7-D1")
        assert strain.record.status == "planned"
        saved = bank.strain_design("CF-7-D1")
        assert saved is not None
        assert saved.design["knockouts"] == ["PTAr", "LDH_D", "ALCD2x", "PFL"]
    finally:
        bank.close()
    out = run(
        "--db", url, "design", "save", str(designs_file), "--parent", "CF-7", "--index", "3", code=2
    )
    assert "holds 2 designs" in out


def test_pathway_search_writes_designs_that_rank_reads(core_json: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "acetone.json"
    out = run("design", "pathway", str(core_json), "acetone", "--k", "1", "--out", str(out_file))
    assert "ADCi" in out  # acetoacetate decarboxylase (Bermejo et al. 1998)
    data = json.loads(out_file.read_text())
    assert data["designs"][0]["method"] == "pathway"
    again = json.loads(run("design", "rank", str(out_file), "--json"))
    assert again == data


def test_knockouts_couple_succinate_on_anaerobic_core(core_json: Path) -> None:
    data = json.loads(
        run(
            "design",
            "knockouts",
            str(core_json),
            "EX_succ_e",
            "--max-knockouts",
            "2",
            "--k",
            "1",
            "--time-limit",
            "20",
            "--json",
        )
    )
    best = data["designs"][0]
    # ΔPTAr/ΔACKr-type plus ΔLDH_D/ΔALCD2x-type cuts force anaerobic succinate (e_coli_core)
    assert best["evaluation"]["growth_coupled"] is True
    assert best["evaluation"]["yield_min"] > 0.5


def test_overexpress_lists_targets_and_refuses_unknown_products(core_json: Path) -> None:
    out = run("design", "overexpress", str(core_json), "EX_succ_e", "--steps", "4")
    assert "overexpress" in out
    out = run("design", "overexpress", str(core_json), "EX_nothing_e", code=2)
    assert "EX_nothing_e" in out
    out = run("design", "knockouts", str(core_json), "EX_succ_e", "--method", "magic", code=2)
    assert "optknock or mcs" in out


def test_pathway_with_knockouts_adds_combined_designs(core_json: Path) -> None:
    data = json.loads(
        run(
            "design", "pathway", str(core_json), "acetone", "--k", "1", "--knockouts", "2", "--json"
        )
    )
    methods = [d["method"] for d in data["designs"]]
    assert set(methods) == {"pathway", "combined"}
    # on anaerobic e_coli_core the pathway alone is not coupled; the combined design is, so it
    # ranks first (guaranteed yield)
    assert methods[0] == "combined"
    assert data["designs"][0]["evaluation"]["growth_coupled"] is True
