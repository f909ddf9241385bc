"""`cellfoundry campaign|worklist|plate|assay|learn`: the foundry's Build-Test-Learn.

Each command's ``--json`` is checked against the engine or service run on the same input and
seed; the worklists it writes are read back with the engine's readers; bad input exits 2 with
one line naming the file and field.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from cellfoundry.assay import (
    analyse_growth,
    gompertz,
    read_kinetic,
    read_titres,
    strain_performance,
)
from cellfoundry.automation import (
    ECHO_384PP,
    Reaction,
    ReactionPart,
    dry_run,
    plan_reactions,
    read_echo_picklist,
    read_liquid_handler_csv,
    read_plate_map,
    read_tecan_worklist,
)
from cellfoundry.bank.demo import demo_strains
from cellfoundry.bank.services import Bank
from cellfoundry.campaigns import PartStock, cycle_reactions, first_designs, recommend_next
from cellfoundry.cli.main import app
from cellfoundry.learn import Recommender
from cellfoundry.testing.dbtl import pathway_space

CHASSIS = "CF-00001"
SPACE = pathway_space(2, rbs=False, knockout=True)  # 2 promoters x a knock-out: 50 designs
BACKBONE = PartStock("pL1-acceptor", 4_900, 30.0)
PARTS = {
    f.name: {
        level: PartStock(f"{level}-{f.name[-2:]}", 3_200 + 40 * k, 18.0 + 2 * k)
        for k, level in enumerate(f.levels)
    }
    for f in SPACE.factors
    if f.name.startswith("promoter")
}

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def run_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fails(*args: str) -> str:
    """Run a command that must refuse its input: exit 2, one error line."""
    out = run(*args, code=2)
    assert len([line for line in out.splitlines() if line.startswith("error:")]) == 1, out
    return " ".join(out.split())


def expect(out: str, *parts: str) -> None:
    """Check that the output names every part."""
    for part in parts:
        assert part in out, out


def as_json(value: Any) -> Any:
    """Data as the CLI prints it: NaN becomes null, tuples lists."""

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, float) and math.isnan(v):
            return None
        return v

    return json.loads(json.dumps(clean(value)))


def titre_of(design: dict[str, Any]) -> float:
    """A smooth made-up titre landscape (g/L): strong E1, medium E2, knock-out helps."""
    strength = {
        lv: s
        for f in SPACE.factors
        if f.strengths
        for lv, s in zip(f.levels, f.strengths, strict=True)
    }
    e1, e2 = strength[design["promoter_E1"]], strength[design["promoter_E2"]]
    return 0.2 + e1 / (1 + e1) * math.exp(-((math.log(e2) - 0.0) ** 2) / 4) * (
        1.5 if design["knockout_branch"] == "on" else 1.0
    )


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def space_json(path: Path) -> Path:
    data = {
        "factors": {f.name: list(f.levels) for f in SPACE.factors},
        "strengths": {
            f.name: dict(zip(f.levels, f.strengths, strict=True))
            for f in SPACE.factors
            if f.strengths is not None
        },
    }
    path.write_text(json.dumps(data))
    return path


# -- a campaign ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def foundry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A bank with the chassis, the campaign's files, and the campaign after one cycle."""
    folder = tmp_path_factory.mktemp("foundry")
    url = f"sqlite:///{folder / 'foundry.db'}"
    bank = Bank.open(url)
    bank.import_strains(demo_strains()[:1], actor="demo")
    bank.close()
    parts = write_csv(
        folder / "parts.csv",
        ["factor", "level", "name", "length_bp", "stock_ng_per_ul"],
        [
            [factor, level, s.name, s.length_bp, s.stock_ng_per_ul]
            for factor, levels in PARTS.items()
            for level, s in levels.items()
        ],
    )
    files = {"url": url, "folder": folder, "space": space_json(folder / "space.json")}
    files["parts"] = parts
    created = run_json(
        "--db", url, "campaign", "create", "pw", "--chassis", CHASSIS, "--product", "product",
        "--space", str(files["space"]), "--goal-titre", "2.5",
    )  # fmt: skip
    files["created"] = created
    cycle = run_json(
        "--db", url, "campaign", "cycle", "pw", "--first", "8", "--seed", "3",
        "--parts", str(parts), "--backbone", "pL1-acceptor,4900,30",
        "--out-dir", str(folder / "c1"),
    )  # fmt: skip
    files["cycle"] = cycle
    return files


def test_create_stores_goal_and_space(foundry: dict[str, Any]) -> None:
    created = foundry["created"]
    assert created["goal"] == {"product": "product", "titre_g_l": 2.5}
    assert created["chassis"] == CHASSIS
    bank = Bank.open(foundry["url"])
    try:
        assert created["design_space"] == bank.campaign("pw").design_space
    finally:
        bank.close()
    assert "pw" in run("--db", foundry["url"], "campaign", "list")


def test_cycle_builds_the_services_designs_and_worklists(foundry: dict[str, Any]) -> None:
    url, folder, cycle = foundry["url"], foundry["folder"], foundry["cycle"]
    bank = Bank.open(url)
    try:
        view = bank.campaign("pw")
    finally:
        bank.close()
    stored = view.cycles[0]
    assert cycle["cycle"] == 1
    assert cycle["strains"] == [s.to_dict() for s in stored.strains]
    designs = first_designs(view, 8, np.random.default_rng(3))
    assert [s["design"] for s in cycle["strains"]] == designs
    # the written worklists are the plan of the same reactions, read back
    names = [s.accession for s in stored.strains]
    reactions = cycle_reactions(designs, PARTS, BACKBONE, names=names)
    plan = plan_reactions(reactions, min_volume_ul=1.0)
    assert cycle["transfers"] == len(plan.transfers)
    gwl = (folder / "c1" / "tecan.gwl").read_text()
    read = read_tecan_worklist(gwl, plan.labware)
    assert [t.key() for t in read] == [t.key() for t in plan.transfers]
    echo_plan = plan_reactions(reactions, source_labware=ECHO_384PP, step_ul=0.0025)
    picks = read_echo_picklist((folder / "c1" / "echo.csv").read_text())
    assert [t.key()[:4] for t in picks] == [t.key()[:4] for t in echo_plan.transfers]
    assert [t.volume_ul for t in picks] == pytest.approx([t.volume_ul for t in echo_plan.transfers])
    assert "def run(" in (folder / "c1" / "opentrons.py").read_text()
    assert (folder / "c1" / "dry_run.txt").read_text() == stored.worklists["dry_run"]


def test_cycle_refuses_an_unknown_level_in_designs(foundry: dict[str, Any]) -> None:
    bad = write_csv(
        foundry["folder"] / "designs.csv",
        ["promoter_E1", "promoter_E2", "knockout_branch"],
        [["P1", "P2", "off"], ["P1", "P99", "on"]],
    )
    out = fails(
        "--db", foundry["url"], "campaign", "cycle", "pw", "--designs", str(bad),
        "--parts", str(foundry["parts"]), "--backbone", "pL1-acceptor,4900,30",
        "--out-dir", str(foundry["folder"] / "bad"),
    )  # fmt: skip
    expect(out, "designs.csv", "row 3", "field 'promoter_E2'")
    assert "P99" in out
    out = fails(
        "--db", foundry["url"], "campaign", "cycle", "pw", "--designs", str(bad),
        "--parts", str(foundry["parts"]), "--backbone", "pL1-acceptor,lots,30",
    )  # fmt: skip
    assert "field 'backbone'" in out
    bank = Bank.open(foundry["url"])
    try:
        assert len(bank.campaign("pw").cycles) == 1  # nothing stored
    finally:
        bank.close()


def test_measure_then_recommend_is_the_services_answer(
    foundry: dict[str, Any], tmp_path: Path
) -> None:
    url, folder, cycle = foundry["url"], foundry["folder"], foundry["cycle"]
    rng = np.random.default_rng(11)
    rows = []
    for strain in cycle["strains"]:
        for rep in (1, 2, 3):
            titre = titre_of(strain["design"]) * float(rng.lognormal(0, 0.05))
            rows.append([f"{strain['accession']}-r{rep}", strain["accession"], "product",
                         f"{titre:.6f}", "g/L", 24])  # fmt: skip
    header = ["sample", "strain", "compound", "concentration", "unit", "time_h"]
    # a titre of a strain the cycle did not build: exit 2, nothing imported
    bad = write_csv(
        tmp_path / "bad.csv", header, [*rows, ["x-r1", "pw-C9-001", "product", 1, "g/L", 24]]
    )
    out = fails("--db", url, "campaign", "measure", "pw", "1", str(bad))
    expect(out, "bad.csv", "field 'strain'", "pw-C9-001")
    assert all(
        s["measurements"] == {}
        for s in run_json("--db", url, "campaign", "show", "pw")["cycles"][0]["strains"]
    )

    titres = write_csv(folder / "hplc.csv", header, rows)
    measured = run_json("--db", url, "campaign", "measure", "pw", "1", str(titres))
    expected = strain_performance(read_titres(titres), product="product")
    by_strain = {s["accession"]: s["measurements"] for s in measured["strains"]}
    for p in expected.strains:
        assert by_strain[p.strain]["titre_g_l"] == pytest.approx(p.titre_g_per_l.mean)
        assert by_strain[p.strain]["titre_g_l_sd"] == pytest.approx(p.titre_g_per_l.sd)
        assert by_strain[p.strain]["rate_g_l_h"] == pytest.approx(p.rate_g_per_l_h.mean)
        assert by_strain[p.strain]["replicates"] == 3
    assert measured["best_titre_g_l"] == pytest.approx(
        max(p.titre_g_per_l.mean for p in expected.strains)
    )

    # the service on a copy of the bank, same seed: the same recommendations and model
    copy = tmp_path / "copy.db"
    shutil.copy(folder / "foundry.db", copy)
    service = Bank.open(f"sqlite:///{copy}")
    try:
        recommend_next(service, "pw", n=4, rng=np.random.default_rng(5), acquisition="ucb")
        expected_cycle = service.campaign("pw").cycles[0]
    finally:
        service.close()
    data = run_json("--db", url, "campaign", "recommend", "pw", "--n", "4", "--seed", "5",
                    "--acquisition", "ucb")  # fmt: skip
    assert data["recommendations"] == list(expected_cycle.recommendations)
    assert data["model"] == expected_cycle.model
    assert {i["factor"] for i in data["model"]["importance"]} == set(SPACE.names)
    table = run("--db", url, "campaign", "show", "pw")
    expect(table, "±", "recommended next")
    shown = run_json("--db", url, "campaign", "show", "pw")
    assert shown["cycles"][0]["recommendations"] == data["recommendations"]
    assert "factor importance" in run(
        "--db", url, "campaign", "recommend", "pw", "--n", "2", "--seed", "1"
    )
    assert "field 'acquisition'" in fails(
        "--db", url, "campaign", "recommend", "pw", "--acquisition", "greedy"
    )


# -- worklists ----------------------------------------------------------------------------------

REACTIONS_HEADER = ["reaction", "part", "amount", "stock", "length_bp", "role"]


def reactions_csv(path: Path, promoter_stock: str = "18 ng/uL") -> Path:
    rows = []
    for k, cds in enumerate(("gfp", "rfp", "lacZ"), 1):
        rows += [
            [f"TU{k}", "pAcceptor", "20 fmol", "30 ng/uL", 4900, "backbone"],
            [f"TU{k}", "pPromoter", "20 fmol", promoter_stock, 3200, ""],
            [f"TU{k}", f"p{cds}", "40 ng", "20 nM", 2500, "part"],
        ]
    return write_csv(path, REACTIONS_HEADER, rows)


def engine_reactions(promoter_ng_per_ul: float = 18.0) -> list[Reaction]:
    out = []
    for k, cds in enumerate(("gfp", "rfp", "lacZ"), 1):
        out.append(
            Reaction(
                f"TU{k}",
                parts=(
                    ReactionPart("pPromoter", fmol=20, stock_ng_per_ul=promoter_ng_per_ul,
                                 length_bp=3200),
                    ReactionPart(f"p{cds}", ng=40, stock_fmol_per_ul=20, length_bp=2500),
                ),
                backbone=ReactionPart("pAcceptor", fmol=20, stock_ng_per_ul=30, length_bp=4900),
                master_mix_ul=2.0,
                total_ul=20.0,
            )
        )  # fmt: skip
    return out


def test_worklists_read_back_as_the_engines_plan(tmp_path: Path) -> None:
    path = reactions_csv(tmp_path / "reactions.csv")
    plan = plan_reactions(engine_reactions(), min_volume_ul=1.0)
    gwl = tmp_path / "plan.gwl"
    run("worklist", str(path), "--format", "tecan", "--out", str(gwl))
    assert [t.key() for t in read_tecan_worklist(gwl.read_text(), plan.labware)] == [
        t.key() for t in plan.transfers
    ]
    ham = tmp_path / "plan.csv"
    run("worklist", str(path), "--format", "hamilton", "--out", str(ham))
    assert [t.key() for t in read_liquid_handler_csv(ham.read_text())] == [
        t.key() for t in plan.transfers
    ]
    echo = tmp_path / "echo.csv"
    run("worklist", str(path), "--format", "echo", "--out", str(echo))
    echo_plan = plan_reactions(engine_reactions(), source_labware=ECHO_384PP, step_ul=0.0025)
    picks = read_echo_picklist(echo.read_text())
    assert [t.key()[:4] for t in picks] == [t.key()[:4] for t in echo_plan.transfers]
    assert [t.volume_ul for t in picks] == pytest.approx([t.volume_ul for t in echo_plan.transfers])
    assert "def run(" in run("worklist", str(path), "--format", "opentrons")
    # the dry run: reagent totals and tips of the engine's dry run
    report = dry_run(plan)
    data = run_json("worklist", str(path), "--format", "tecan", "--dry-run")
    assert data["reagent_totals_ul"] == dict(report.reagent_totals_ul)
    assert data["tips"] == dict(report.tips)
    assert data["transfers"] == report.transfer_count
    text = run("worklist", str(path), "--format", "tecan", "--dry-run")
    expect(text, "reagent totals", "p20_single_gen2")


def test_worklist_refuses_too_small_volumes_and_overdraws(tmp_path: Path) -> None:
    # 20 fmol of a 3.2 kb plasmid at 200 ng/µL is 0.2 µL: below the 1 µL smallest transfer
    strong = reactions_csv(tmp_path / "strong.csv", promoter_stock="200 ng/uL")
    out = fails("worklist", str(strong), "--format", "tecan")
    expect(out, "strong.csv", "field 'volume_ul'", "pPromoter")
    # the source plate as loaded holds too little water for three reactions
    path = reactions_csv(tmp_path / "reactions.csv")
    plan = plan_reactions(engine_reactions(), min_volume_ul=1.0)
    rows = [[s.plate, s.well, s.sample, s.volume_ul] for s in plan.sources]
    rows[0][3] = 10.0
    sources = write_csv(tmp_path / "loaded.csv", ["plate", "well", "sample", "volume_ul"], rows)
    out = fails("worklist", str(path), "--format", "tecan", "--sources", str(sources))
    expect(out, "overdraw", "field 'volume_ul'", "loaded.csv")
    # a stock that is no concentration names the column
    bad = write_csv(
        tmp_path / "bad.csv", REACTIONS_HEADER, [["TU1", "pA", "20 fmol", "lots", "", ""]]
    )
    out = fails("worklist", str(bad), "--format", "echo")
    expect(out, "bad.csv", "row 2", "field 'stock'")
    assert "field 'format'" in fails("worklist", str(path), "--format", "gilson")


# -- plates -------------------------------------------------------------------------------------


def test_plate_show_prints_the_grid(tmp_path: Path) -> None:
    rows = [
        ["src", "A1", "water", "150 uL"],
        ["src", "B3", "pGFP", "20"],
        ["src", "H12", "mix", "8.5"],
    ]
    path = write_csv(tmp_path / "map.csv", ["plate", "well", "sample", "volume_ul"], rows)
    data = run_json("plate", "show", str(path))
    plates = read_plate_map(path)
    assert data == {
        name: {
            "labware": p.labware.name,
            "wells": {w: {"sample": c.sample, "volume_ul": c.volume_ul} for w, c in p},
        }
        for name, p in plates.items()
    }
    assert data["src"]["labware"] == "pcr_96"
    table = run("plate", "show", str(path))
    expect(table, "pGFP", "150 µL", "12")
    big = write_csv(
        tmp_path / "big.csv",
        ["plate", "well", "sample", "volume_ul"],
        [*rows[1:], ["src", "P24", "x", "5"]],
    )
    assert run_json("plate", "show", str(big))["src"]["labware"] == "pcr_384"
    bad = write_csv(
        tmp_path / "bad.csv", ["plate", "well", "sample", "volume_ul"], [["src", "A1", "w", "much"]]
    )
    assert "field 'volume_ul'" in fails("plate", "show", str(bad))


# -- assays -------------------------------------------------------------------------------------


def test_assay_growth_and_titre_are_the_engines(tmp_path: Path) -> None:
    time_h = np.arange(0, 12.01, 0.5)
    wells = {
        "A1": ("wt", 1, 0.8),
        "A2": ("wt", 2, 0.85),
        "A3": ("mut", 1, 0.5),
        "A4": ("mut", 2, 0.55),
    }
    rng = np.random.default_rng(2)
    rows = []
    for t in time_h:
        for well, (_, _, mu) in wells.items():
            od = 0.05 * math.exp(float(gompertz(np.array([t]), 3.0, mu, 2.0)[0]))
            rows.append([f"{t:g}", well, f"{od + 0.04 + rng.normal(0, 0.002):.5f}"])
        rows.append([f"{t:g}", "H12", f"{0.04 + rng.normal(0, 0.002):.5f}"])
    reads = write_csv(tmp_path / "reads.csv", ["time_h", "well", "value"], rows)
    pmap = write_csv(
        tmp_path / "pmap.csv",
        ["well", "sample", "replicate", "role"],
        [[w, s, r, "sample"] for w, (s, r, _) in wells.items()] + [["H12", "", "", "blank"]],
    )
    fits = tmp_path / "fits.csv"
    data = run_json("assay", "growth", str(reads), "--map", str(pmap), "--model", "logistic",
                    "--out", str(fits))  # fmt: skip
    analysis = analyse_growth(read_kinetic(reads, plate_map=pmap), model="logistic")
    assert data["curves"] == as_json([c.to_record() for c in analysis.curves])
    assert data["replicates"] == as_json([r.to_record() for r in analysis.replicates])
    assert [r["well"] for r in csv.DictReader(fits.read_text().splitlines())] == [
        "A1",
        "A2",
        "A3",
        "A4",
    ]
    assert "wt" in run("assay", "growth", str(reads), "--map", str(pmap))
    assert "field 'model'" in fails(
        "assay", "growth", str(reads), "--map", str(pmap), "--model", "monod"
    )

    titres = write_csv(
        tmp_path / "titres.csv",
        ["sample", "strain", "compound", "concentration", "unit", "time_h"],
        [["s1", "A", "lim", "1.2", "g/L", 24], ["s2", "A", "lim", "1400", "mg/L", 24],
         ["s3", "B", "lim", "0.4", "g/L", 24]],
    )  # fmt: skip
    data = run_json("assay", "titre", str(titres), "--product", "lim")
    expected = strain_performance(read_titres(titres), product="lim")
    assert data["strains"] == as_json([s.to_record() for s in expected.strains])
    assert "field 'compound'" in fails("assay", "titre", str(titres), "--product", "ethanol")


# -- learning -----------------------------------------------------------------------------------


def test_learn_recommend_is_the_recommenders_answer(tmp_path: Path) -> None:
    designs = SPACE.sample(12, np.random.default_rng(4), method="lhs")
    rows = [[d[f] for f in SPACE.names] + [f"{titre_of(d):.6f}"] for d in designs]
    data_csv = write_csv(tmp_path / "data.csv", [*SPACE.names, "titre"], rows)
    space = space_json(tmp_path / "space.json")
    data = run_json(
        "learn", "recommend", str(data_csv), "--space", str(space), "--n", "3", "--seed", "9"
    )
    rng = np.random.default_rng(9)
    titres = [float(r[-1]) for r in rows]
    rec = Recommender(SPACE, log_target=True).fit(designs, titres, rng)
    batch = rec.recommend(3, rng, acquisition="ei")
    importance = rec.explain(rng)
    assert [{f: r[f] for f in SPACE.names} for r in data["recommendations"]] == list(batch.designs)
    assert [r["predicted"] for r in data["recommendations"]] == pytest.approx(list(batch.mean))
    assert [r["sd"] for r in data["recommendations"]] == pytest.approx(list(batch.std))
    assert [i["factor"] for i in data["importance"]] == [i.factor for i in importance]
    bad = write_csv(
        tmp_path / "bad.csv", [*SPACE.names, "titre"], [*rows, ["P1", "P2", "maybe", "1.0"]]
    )
    out = fails("learn", "recommend", str(bad), "--space", str(space))
    expect(out, "bad.csv", "row 14", "field 'knockout_branch'")
