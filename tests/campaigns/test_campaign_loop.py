"""One DBTL campaign end to end: design space -> worklists (Opentrons simulated) -> built
strains -> simulated measurements imported through the assay engine -> recommendations ->
the next cycle, all recorded in the bank."""

from __future__ import annotations

import csv
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cellfoundry.assay.titre import read_titres, strain_performance
from cellfoundry.bank.demo import demo_strains
from cellfoundry.bank.services import Bank
from cellfoundry.campaigns import (
    PartStock,
    build_cycle,
    design_space_of,
    first_designs,
    import_performance,
    recommend_next,
)
from cellfoundry.core.errors import ValidationError
from cellfoundry.testing.dbtl import DBTLSimulator, pathway_space

ROOT = Path(__file__).resolve().parents[2]
CHASSIS = "CF-00001"  # E. coli K-12 MG1655 in the demo catalogue
SPACE = pathway_space(4, rbs=False, knockout=True)  # promoters of 4 enzymes x a knock-out
SIMULATOR = DBTLSimulator(space=SPACE, noise_cv=0.1)
BACKBONE = PartStock("pL1-acceptor", 4_900, 30.0)
# each promoter level of each gene is one level-0 plasmid (promoter fused to the CDS)
PARTS = {
    factor.name: {
        level: PartStock(f"{level}-{factor.name[-2:]}", 3_200 + 40 * k, 18.0 + 2 * k)
        for k, level in enumerate(factor.levels)
    }
    for factor in SPACE.factors
    if factor.name.startswith("promoter")
}


def design_space_json() -> dict[str, object]:
    factors = {f.name: list(f.levels) for f in SPACE.factors}
    strengths = {
        f.name: dict(zip(f.levels, f.strengths, strict=True))
        for f in SPACE.factors
        if f.strengths is not None
    }
    return {"factors": factors, "strengths": strengths}


def opentrons_log(script: str, tmp_path: Path) -> list[str]:
    configured = os.environ.get(
        "CELLFOUNDRY_OPENTRONS_SIMULATE", ".venv-opentrons/bin/opentrons_simulate"
    )
    path = Path(configured) if Path(configured).is_absolute() else ROOT / configured
    if not (path.is_file() and os.access(path, os.X_OK)):
        reason = f"opentrons_simulate not found at {path} (make venv builds it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    (tmp_path / "cycle.py").write_text(script, encoding="utf-8")
    env = {**os.environ, "OT_API_CONFIG_DIR": str(tmp_path / "ot-config")}
    done = subprocess.run(
        [str(path), str(tmp_path / "cycle.py")],
        capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def test_a_campaign_runs_two_cycles_end_to_end(bank: Bank, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    bank.import_strains(demo_strains()[:1], actor="demo")
    campaign = bank.create_campaign(
        "pathway1",
        chassis=CHASSIS,
        goal={"product": "product", "titre_g_l": 1.0},
        design_space=design_space_json(),
    )
    assert design_space_of(campaign).size == SPACE.size

    # Design + Build: a Latin-hypercube first batch, its worklists, its planned strains
    designs = first_designs(campaign, 8, rng)
    cycle, plan = build_cycle(bank, "pathway1", designs, parts=PARTS, backbone=BACKBONE)
    assert len(cycle.strains) == 8
    assert bank.get_strain(cycle.strains[0].accession).parent_accession == CHASSIS
    worklists = cycle.worklists
    assert worklists["reactions"] == 8
    assert worklists["transfers"] == len(plan.transfers)
    # the Opentrons script runs in the simulator and moves exactly the plan's liquids
    log = opentrons_log(worklists["opentrons.py"], tmp_path)
    aspirations = [line for line in log if re.match(r"^\s*Aspirating", line)]
    assert len(aspirations) == len(plan.transfers)
    simulated = sorted(float(re.search(r"([0-9.]+) uL", a).group(1)) for a in aspirations)
    assert simulated == pytest.approx(sorted(t.volume_ul for t in plan.transfers))
    assert worklists["echo.csv"].startswith("Source Plate Name")

    # Test: the simulated pathway's titres, in triplicate, as an HPLC titre table
    titre_csv = tmp_path / "hplc.csv"
    truth = {}
    with titre_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample", "strain", "compound", "concentration", "unit", "time_h"])
        for strain in cycle.strains:
            truth[strain.accession] = float(SIMULATOR.titres([strain.design])[0])
            for replicate, titre in enumerate(SIMULATOR.measure([strain.design] * 3, rng), 1):
                writer.writerow(
                    [f"{strain.accession}-r{replicate}", strain.accession, "product",
                     f"{titre:.6f}", "g/L", 24]
                )  # fmt: skip
    performance = strain_performance(read_titres(titre_csv), product="product")
    measured = import_performance(bank, "pathway1", 1, performance, source=str(titre_csv))
    for strain in measured.strains:
        assert strain.measurements["replicates"] == 3
        assert strain.measurements["titre_g_l"] == pytest.approx(truth[strain.accession], rel=0.3)
        assert strain.measurements["rate_g_l_h"] == pytest.approx(
            strain.measurements["titre_g_l"] / 24
        )

    # Learn: recommendations from the ensemble, kept with cycle 1
    batch = recommend_next(bank, "pathway1", n=6, rng=rng)
    stored = bank.campaign("pathway1").cycles[0]
    assert len(stored.recommendations) == 6
    assert stored.model["trained_on"] == 8
    assert {i["factor"] for i in stored.model["importance"]} == set(SPACE.names)
    built = {tuple(sorted(s.design.items())) for s in cycle.strains}
    for design in batch.designs:
        assert tuple(sorted(design.items())) not in built  # no strain built twice
    # the recommended designs predict better than the first batch's median
    first_titres = [s.measurements["titre_g_l"] for s in measured.strains]
    assert float(np.median(batch.mean)) > float(np.median(first_titres))

    # the next cycle builds the recommendations
    second, _ = build_cycle(bank, "pathway1", list(batch.designs), parts=PARTS, backbone=BACKBONE)
    assert second.number == 2
    assert bank.strain_campaign(second.strains[0].accession) == ("pathway1", 2)
    assert [c.number for c in bank.campaign("pathway1").cycles] == [1, 2]


def test_bad_measurements_import_nothing(bank: Bank, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    bank.import_strains(demo_strains()[:1], actor="demo")
    campaign = bank.create_campaign(
        "pathway2", chassis=CHASSIS, goal={"product": "p"}, design_space=design_space_json()
    )
    cycle, _ = build_cycle(
        bank, "pathway2", first_designs(campaign, 4, rng), parts=PARTS, backbone=BACKBONE
    )
    rows = [{"strain": s.accession, "titre_g_l": 1.0} for s in cycle.strains]
    rows.append({"strain": "pathway9-C1-001", "titre_g_l": 2.0})
    with pytest.raises(ValidationError, match="was not built") as err:
        import_performance(bank, "pathway2", 1, rows, source="plate7.csv")
    assert (err.value.source, err.value.record, err.value.field) == ("plate7.csv", "5", "strain")
    assert all(not s.measurements for s in bank.campaign("pathway2").cycles[0].strains)
    with pytest.raises(ValidationError, match="needs at least 4"):
        recommend_next(bank, "pathway2", n=4, rng=rng)
