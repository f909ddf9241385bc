"""Reactions to transfer plans, the dry run, and Echo / Tecan / Hamilton worklists read back."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from cellfoundry.automation.plates import ECHO_384PP, PCR_96, RESERVOIR_96_DEEP, read_plate_map
from cellfoundry.automation.worklists import (
    ECHO_COLUMNS,
    LIQUID_HANDLER_COLUMNS,
    P20_SINGLE_GEN2,
    P300_SINGLE_GEN2,
    Reaction,
    ReactionPart,
    Transfer,
    TransferPlan,
    choose_pipette,
    dry_run,
    echo_picklist,
    liquid_handler_csv,
    plan_reactions,
    read_echo_picklist,
    read_liquid_handler_csv,
    read_tecan_worklist,
    tecan_worklist,
    tips_for,
    write_worklist,
)
from cellfoundry.core.errors import ValidationError

# MoClo plant-kit level-0 plasmids from ../shared/data/sbol-test-suite/GenBank (sizes from their
# LOCUS lines; BsaI overhangs GGAG-AATG promoter, AATG-GCTT CDS, GCTT-CGCT terminator) in a
# 2 x 2 x 2 combinatorial level-1 design; the acceptor's size is assumed (it is not in the data).
PROMOTERS = (("pICH51277", 45.0, 2763), ("pICH51266", 60.0, 3675))
CDSS = (("pICSL80014", 55.0, 2968), ("pICSL80005", 50.0, 2962))
TERMINATORS = (("pICH41421", 42.0, 2514), ("pICH72400", 40.0, 2467))
BACKBONE = ReactionPart("pICH47732", fmol=20, stock_ng_per_ul=50.0, length_bp=5000)


def golden_gate_reactions(*, fmol: float = 40.0) -> list[Reaction]:
    """Eight 20 µL Golden Gate reactions: 40 fmol per part, 20 fmol acceptor, 4 µL mix."""
    reactions = []
    for p in PROMOTERS:
        for c in CDSS:
            for t in TERMINATORS:
                parts = tuple(
                    ReactionPart(name, fmol=fmol, stock_ng_per_ul=ng, length_bp=bp)
                    for name, ng, bp in (p, c, t)
                )
                reactions.append(
                    Reaction(
                        f"{p[0]}-{c[0]}-{t[0]}",
                        parts,
                        backbone=BACKBONE,
                        master_mix_ul=4.0,
                        total_ul=20.0,
                        master_mix="BsaI-T4 ligase mix",
                    )
                )
    return reactions


# --------------------------------------------------------------------------- reactions


def test_part_volumes_follow_the_neb_mass_to_moles_formula() -> None:
    # 1 µg of a 1,000 bp dsDNA is 1e-6 / (1000 x 617.96 + 36.04) mol = 1.61813 pmol
    fmol = 1e-6 / (1000 * 617.96 + 36.04) * 1e15
    assert ReactionPart("x", fmol=fmol, stock_ng_per_ul=1000, length_bp=1000).volume_ul() == (
        pytest.approx(1.0, rel=1e-12)
    )
    assert ReactionPart("x", ng=1000, stock_fmol_per_ul=fmol, length_bp=1000).volume_ul() == (
        pytest.approx(1.0, rel=1e-12)
    )
    assert ReactionPart("x", ng=75, stock_ng_per_ul=50).volume_ul() == 1.5
    assert ReactionPart("x", fmol=30, stock_fmol_per_ul=20).volume_ul() == 1.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmol": 40, "ng": 5, "stock_ng_per_ul": 50}, "exactly one of fmol or ng"),
        ({"fmol": 40}, "exactly one of stock_fmol_per_ul or stock_ng_per_ul"),
        ({"fmol": 40, "stock_ng_per_ul": 50}, "give length_bp"),
        ({"fmol": -4, "stock_fmol_per_ul": 50}, "fmol must be positive"),
    ],
)
def test_bad_parts(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        ReactionPart("pX", **kwargs)  # type: ignore[arg-type]
    assert caught.value.record == "pX"


def test_water_makes_up_the_total() -> None:
    for rx in golden_gate_reactions():
        additions = rx.additions(step_ul=0.1)
        assert math.isclose(sum(v for _, v, _ in additions), 20.0, abs_tol=1e-9)
        assert [s for _, _, s in additions] == ["water", *["dna"] * 4, "master mix"]


def test_overfull_reaction_is_refused_naming_it() -> None:
    rx = Reaction("too-much", (ReactionPart("p", fmol=400, stock_fmol_per_ul=20),), total_ul=10)
    with pytest.raises(ValidationError, match="need 20 µL, more than the total of 10 µL") as c:
        rx.additions()
    assert c.value.record == "too-much"


# --------------------------------------------------------------------------- planning


def test_eight_reaction_plan_lays_out_sources_and_destinations() -> None:
    reactions = golden_gate_reactions()
    plan = plan_reactions(reactions, step_ul=0.1, min_volume_ul=1.0)
    # 8 reactions x (water, acceptor, 3 parts, master mix)
    assert len(plan.transfers) == 48
    # destinations filled in column order, one per reaction
    assert [(d.plate, d.well) for d in plan.destinations] == [
        ("destination_1", w) for w in PCR_96.wells("column")[:8]
    ]
    assert [d.reaction for d in plan.destinations] == [r.name for r in reactions]
    # each sample has one source well (de-duplicated), placed in order of first use
    samples = [s.sample for s in plan.sources]
    assert len(samples) == len(set(samples)) == 9
    assert samples[0] == "water"
    assert samples[1] == "pICH47732"
    assert samples[-1] == "BsaI-T4 ligase mix"
    assert [s.well for s in plan.sources] == list(PCR_96.wells("column")[:9])
    # every destination receives exactly its total
    per_dest: dict[str, float] = {}
    for t in plan.transfers:
        per_dest[t.destination_well] = per_dest.get(t.destination_well, 0) + t.volume_ul
    assert all(math.isclose(v, 20.0, abs_tol=1e-9) for v in per_dest.values())
    # volumes are on the 0.1 µL grid and at least 1 µL
    assert all(t.volume_ul >= 1.0 for t in plan.transfers)
    assert all(abs(t.volume_ul * 10 - round(t.volume_ul * 10)) < 1e-9 for t in plan.transfers)
    # the source wells are loaded with their draws plus the dead volume
    draws = plan.draws_ul()
    for s in plan.sources:
        assert s.volume_ul == pytest.approx(draws[s.plate, s.well] + PCR_96.dead_volume_ul)
    # stage order: all water, then DNA, then master mix last
    stages = [t.sample for t in plan.transfers]
    assert stages[:8] == ["water"] * 8
    assert stages[-8:] == ["BsaI-T4 ligase mix"] * 8


def test_dry_run_reports_totals_tips_and_source_needs() -> None:
    plan = plan_reactions(golden_gate_reactions(), step_ul=0.1, min_volume_ul=1.0)
    run = dry_run(plan)
    assert run.transfer_count == 48
    assert run.reagent_totals_ul["BsaI-T4 ligase mix"] == 32.0
    # the acceptor: 20 fmol of 5,000 bp at 50 ng/µL = 1.236 µL -> 1.2 µL on the 0.1 µL grid
    assert run.reagent_totals_ul["pICH47732"] == 9.6
    assert sum(run.reagent_totals_ul.values()) == pytest.approx(8 * 20.0)
    # every step is at most 20 µL, so the P20 takes one tip per transfer and the P300 none
    assert run.tips == {"p20_single_gen2": 48, "p300_single_gen2": 0}
    for need in run.source_needs:
        assert need.dead_volume_ul == PCR_96.dead_volume_ul
        assert need.required_ul == pytest.approx(need.draw_ul + 5.0)
        assert need.loaded_ul == pytest.approx(need.required_ul)
        assert need.shortfall_ul == 0.0
    # after the run, each source well is down to its dead volume, each reaction at 20 µL
    for s in plan.sources:
        assert run.plates[s.plate].volume_ul(s.well) == pytest.approx(5.0)
    for d in plan.destinations:
        contents = run.plates[d.plate][d.well]
        assert contents is not None
        assert contents.sample == d.reaction
        assert contents.volume_ul == pytest.approx(20.0)
        assert len(contents.components) == 6
    # the plan's own plates are untouched
    assert plan.source_plates()["source_1"].volume_ul("A1") == plan.sources[0].volume_ul
    assert "48 transfers" in run.report()


def test_dry_run_refuses_a_plan_that_would_overdraw() -> None:
    plan = plan_reactions(golden_gate_reactions(), step_ul=0.1, min_volume_ul=1.0)
    need = {(s.plate, s.well): s for s in plan.sources}
    water = need["source_1", "A1"]
    # the bench plate map: everything as planned, but the water well is 10 µL short
    lines = ["plate,well,sample,volume_ul"]
    for (plate, well), s in need.items():
        volume = s.volume_ul - (10 if (plate, well) == ("source_1", "A1") else 0)
        lines.append(f"{plate},{well},{s.sample},{volume:.6f}")
    bench = read_plate_map("bench.csv", text="\n".join(lines))
    with pytest.raises(ValidationError) as caught:
        dry_run(plan, sources=bench)
    err = caught.value
    assert err.record == "source_1:A1"
    message = str(err)
    assert "overdraw well A1 of plate 'source_1' (water)" in message
    draw = water.volume_ul - 5.0
    assert f"({draw:g} µL drawn + 5 µL dead volume)" in message
    assert f"holds {water.volume_ul - 10:g} µL" in message
    # the bench plates were not changed by the refused run
    assert bench["source_1"].volume_ul("A1") == pytest.approx(water.volume_ul - 10)


def test_dry_run_refuses_a_well_holding_the_wrong_sample() -> None:
    plan = plan_reactions(golden_gate_reactions(), step_ul=0.1, min_volume_ul=1.0)
    lines = ["plate,well,sample,volume_ul"]
    for s in plan.sources:
        sample = "pICH51266" if s.sample == "pICH51277" else s.sample  # swapped tube
        lines.append(f"{s.plate},{s.well},{sample},{s.volume_ul:.6f}")
    bench = read_plate_map("bench.csv", text="\n".join(lines))
    with pytest.raises(ValidationError, match="holds 'pICH51266' but the plan draws 'pICH51277'"):
        dry_run(plan, sources=bench)


def test_dry_run_refuses_missing_source_plate() -> None:
    plan = plan_reactions(golden_gate_reactions(), step_ul=0.1)
    with pytest.raises(ValidationError, match="source plate 'source_1' is not among"):
        dry_run(plan, sources={})


def test_large_demand_continues_in_new_wells_without_splitting_transfers() -> None:
    part = ReactionPart("pICH51277", fmol=40, stock_fmol_per_ul=20)
    reactions = [Reaction(f"r{i}", (part,), master_mix_ul=5, total_ul=20) for i in range(40)]
    plan = plan_reactions(reactions, source_labware=ECHO_384PP, step_ul=0.0025)
    water_wells = [s for s in plan.sources if s.sample == "water"]
    # 40 x 13 µL water = 520 µL; 53 µL usable per 384PP well -> 4 transfers (52 µL) per well
    assert len(water_wells) == 10
    assert all(s.volume_ul <= ECHO_384PP.max_volume_ul for s in plan.sources)
    run = dry_run(plan, pipettes=None)
    assert run.tips == {}
    assert run.reagent_totals_ul["water"] == 520.0
    assert all(n.loaded_ul == pytest.approx(n.required_ul) for n in run.source_needs)
    assert len({t.destination_plate for t in plan.transfers}) == 1


def test_destinations_spill_onto_a_second_plate() -> None:
    part = ReactionPart("p", fmol=40, stock_fmol_per_ul=20)
    reactions = [Reaction(f"r{i}", (part,), total_ul=10) for i in range(100)]
    plan = plan_reactions(reactions, source_labware=RESERVOIR_96_DEEP, destination_order="row")
    assert plan.destinations[95].plate == "destination_1"
    assert plan.destinations[95].well == "H12"
    assert (plan.destinations[96].plate, plan.destinations[96].well) == ("destination_2", "A1")
    assert plan.destinations[1].well == "A2"


@pytest.mark.parametrize(
    ("reactions", "kwargs", "message"),
    [
        ([], {}, "no reactions"),
        (
            [Reaction("a", ()), Reaction("a", ())],
            {},
            "reaction name 'a' is used twice",
        ),
        (
            [Reaction("a", (ReactionPart("p", fmol=10, stock_fmol_per_ul=20),))],
            {"min_volume_ul": 1.0},
            r"0.5 µL of 'p' is below the smallest transfer, 1 µL",
        ),
        (
            [
                Reaction("a", (ReactionPart("p", fmol=40, stock_fmol_per_ul=20),)),
                Reaction("b", (ReactionPart("p", fmol=40, stock_fmol_per_ul=10),)),
            ],
            {},
            "part 'p' has a different stock concentration here than in reaction 'a'",
        ),
        (
            [Reaction("a", (ReactionPart("p", fmol=1, stock_fmol_per_ul=2000),))],
            {"step_ul": 0.0025},
            "rounds to nothing",
        ),
        (
            [Reaction("a", (), total_ul=100)],
            {"source_labware": ECHO_384PP},
            "more than one echo_384pp well can give",
        ),
    ],
)
def test_planning_errors(
    reactions: list[Reaction], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        plan_reactions(reactions, **kwargs)  # type: ignore[arg-type]


def test_plan_rejects_unknown_plates_and_wells() -> None:
    with pytest.raises(ValidationError, match="has no labware"):
        TransferPlan((Transfer("s", "A1", "d", "A1", 1.0),), {"s": PCR_96})
    with pytest.raises(ValidationError, match="'Z9' is not a well"):
        TransferPlan((Transfer("s", "Z9", "d", "A1", 1.0),), {"s": PCR_96, "d": PCR_96})


# --------------------------------------------------------------------------- pipettes


def test_pipette_choice_and_tip_counts() -> None:
    assert choose_pipette(1.0) == P20_SINGLE_GEN2
    assert choose_pipette(20.0) == P20_SINGLE_GEN2
    assert choose_pipette(20.1) == P300_SINGLE_GEN2
    assert choose_pipette(350.0) == P300_SINGLE_GEN2
    assert tips_for(350.0, P300_SINGLE_GEN2) == 2
    assert tips_for(300.0, P300_SINGLE_GEN2) == 1
    with pytest.raises(ValidationError, match=r"no pipette can move 0.5 µL"):
        choose_pipette(0.5)


# --------------------------------------------------------------------------- Echo


def echo_plan() -> TransferPlan:
    return plan_reactions(golden_gate_reactions(), source_labware=ECHO_384PP, step_ul=0.0025)


def test_echo_picklist_volumes_are_plan_volumes_in_droplets() -> None:
    plan = echo_plan()
    text = echo_picklist(plan)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(next(csv.reader(io.StringIO(text)))) == ECHO_COLUMNS
    assert len(rows) == len(plan.transfers) == 48
    for row, t in zip(rows, plan.transfers, strict=True):
        nl = float(row["Transfer Volume"])
        assert nl == round(t.volume_ul * 1000 / 2.5) * 2.5
        assert (nl / 2.5).is_integer()
        assert row["Source Plate Type"] == "384PP_AQ_BP"
        assert (row["Source Plate Name"], row["Source Well"]) == (t.source_plate, t.source_well)
        assert (row["Destination Plate Name"], row["Destination Well"]) == (
            t.destination_plate,
            t.destination_well,
        )
        assert row["Sample Name"] == t.sample
    back = read_echo_picklist(text)
    assert [b.key() for b in back] == [t.key() for t in plan.transfers]


def test_echo_rounds_unaligned_volumes_to_the_nearest_droplet() -> None:
    plan = TransferPlan(
        (
            Transfer("src", "A1", "dst", "A1", 0.0137),  # 13.7 nL = 5.48 droplets -> 12.5 nL
            Transfer("src", "A1", "dst", "A2", 0.0011),  # 1.1 nL -> 0: refused
        ),
        {"src": ECHO_384PP, "dst": PCR_96},
    )
    with pytest.raises(ValidationError, match=r"less than one 2\.5 nL droplet"):
        echo_picklist(plan)
    one = TransferPlan(plan.transfers[:1], plan.labware)
    row = next(csv.DictReader(io.StringIO(echo_picklist(one))))
    assert row["Transfer Volume"] == "12.5"


def test_echo_needs_an_echo_source_plate() -> None:
    plan = plan_reactions(golden_gate_reactions(), step_ul=0.1)
    with pytest.raises(ValidationError, match="not an Echo source plate") as caught:
        echo_picklist(plan)
    assert caught.value.record == "source_1"


# --------------------------------------------------------------------------- Tecan


def test_tecan_gwl_records_and_parse_back() -> None:
    plan = plan_reactions(golden_gate_reactions(), step_ul=0.1, min_volume_ul=1.0)
    text = tecan_worklist(plan, liquid_class="Water free dispense")
    lines = text.split("\r\n")
    assert lines[0].startswith("C;")
    first = plan.transfers[0]
    assert lines[1] == f"A;source_1;;;1;;{first.volume_ul:g};Water free dispense;;;"
    assert lines[2] == f"D;destination_1;;;1;;{first.volume_ul:g};Water free dispense;;;"
    assert lines[3] == "W;"
    # the second water transfer goes to B1 = position 2 (positions count down columns)
    assert lines[5].split(";")[4] == "2"
    assert sum(1 for line in lines if line.startswith("A;")) == 48
    assert sum(1 for line in lines if line == "W;") == 48
    back = read_tecan_worklist(text, plan.labware)
    assert [b.key() for b in back] == [t.key() for t in plan.transfers]


def test_tecan_384_positions_and_rack_types() -> None:
    plan = TransferPlan(
        (Transfer("src", "P24", "dst", "B2", 2.5),), {"src": ECHO_384PP, "dst": PCR_96}
    )
    text = tecan_worklist(plan, rack_types={"src": "384 Well, landscape"})
    assert "A;src;;384 Well, landscape;384;;2.5;;;;" in text
    assert "D;dst;;;10;;2.5;;;;" in text
    assert read_tecan_worklist(text, plan.labware)[0].key() == ("src", "P24", "dst", "B2", 2.5)


def test_tecan_refuses_bad_labels_and_reader_checks_records() -> None:
    plan = TransferPlan((Transfer("a;b", "A1", "d", "A1", 2.0),), {"a;b": PCR_96, "d": PCR_96})
    with pytest.raises(ValidationError, match="cannot go in a worklist"):
        tecan_worklist(plan)
    with pytest.raises(ValidationError, match="a dispense without an aspirate") as caught:
        read_tecan_worklist("C;x\nD;d;;;1;;2;;;;\n", {"d": PCR_96}, source="run.gwl")
    assert (caught.value.source, caught.value.record) == ("run.gwl", "line 2")
    with pytest.raises(ValidationError, match=r"dispenses 3\.0 µL after aspirating 2\.0 µL"):
        read_tecan_worklist("A;d;;;1;;2;;;;\nD;d;;;2;;3;;;;\n", {"d": PCR_96})


# --------------------------------------------------------------------------- Hamilton / Biomek


def test_liquid_handler_csv_round_trip() -> None:
    plan = plan_reactions(golden_gate_reactions(), step_ul=0.1, min_volume_ul=1.0)
    text = liquid_handler_csv(plan)
    assert text.splitlines()[0] == ",".join(LIQUID_HANDLER_COLUMNS)
    assert text.splitlines()[1] == (f"source_1,A1,destination_1,A1,{plan.transfers[0].volume_ul:g}")
    back = read_liquid_handler_csv(text)
    assert [b.key() for b in back] == [t.key() for t in plan.transfers]
    with pytest.raises(ValidationError, match="'lots' is not a number") as caught:
        read_liquid_handler_csv(text.splitlines()[0] + "\ns,A1,d,A1,lots\n")
    assert caught.value.record == "row 2"


def test_write_worklist_files(tmp_path: Path) -> None:
    plan = echo_plan()
    for kind, name in [("echo", "p.csv"), ("tecan", "p.gwl"), ("hamilton", "h.csv")]:
        path = write_worklist(plan, tmp_path / name, kind)  # type: ignore[arg-type]
        assert path.read_bytes().endswith(b"\r\n")
    assert read_echo_picklist((tmp_path / "p.csv").read_text())[0].key() == (
        plan.transfers[0].key()
    )
    with pytest.raises(ValidationError, match="unknown worklist kind"):
        write_worklist(plan, tmp_path / "x", "gilson")  # type: ignore[arg-type]
