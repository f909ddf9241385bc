"""Labware, plates that track volumes exactly, and plate-map CSV in and out."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cellfoundry.automation.plates import (
    ECHO_384PP,
    LABWARE,
    PCR_96,
    Labware,
    Plate,
    parse_concentration,
    parse_volume_ul,
    plate_map_csv,
    read_plate_map,
    transfer,
    write_plate_map,
)
from cellfoundry.core.errors import ValidationError

HEADER = "plate,well,sample,volume_ul\n"


def test_exported_surface() -> None:
    import cellfoundry.automation as automation
    from cellfoundry.automation import opentrons, plates, worklists

    assert len(set(automation.__all__)) == len(automation.__all__)
    for name in automation.__all__:
        assert any(name in m.__all__ for m in (plates, worklists, opentrons)), name
    assert {"Plate", "plan_reactions", "dry_run", "echo_picklist", "tecan_worklist"} <= set(
        automation.__all__
    )


def test_engine_imports_no_web_database_or_robot_package() -> None:
    code = (
        "import sys, cellfoundry.automation; "
        "bad = {'fastapi', 'sqlalchemy', 'starlette', 'opentrons'} & set(sys.modules); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --------------------------------------------------------------------------- labware


def test_96_and_384_well_layouts() -> None:
    wells = PCR_96.wells()
    assert len(wells) == 96
    assert wells[:13] == (*(f"A{c}" for c in range(1, 13)), "B1")
    assert wells[-1] == "H12"
    assert PCR_96.wells("column")[:9] == ("A1", "B1", "C1", "D1", "E1", "F1", "G1", "H1", "A2")
    wells384 = ECHO_384PP.wells()
    assert len(wells384) == 384 == len(set(wells384))
    assert wells384[-1] == "P24"
    assert ECHO_384PP.wells("column")[15:17] == ("P1", "A2")
    assert sorted(PCR_96.wells()) == sorted(PCR_96.wells("column"))


def test_working_ranges_of_shipped_labware() -> None:
    assert (ECHO_384PP.dead_volume_ul, ECHO_384PP.max_volume_ul) == (12.0, 65.0)
    assert ECHO_384PP.usable_volume_ul == 53.0
    assert ECHO_384PP.echo_plate_type == "384PP_AQ_BP"
    assert PCR_96.max_volume_ul == 200.0
    assert all(lw.rows * lw.columns in (96, 384) for lw in LABWARE.values())


@pytest.mark.parametrize(
    ("name", "canonical"), [("A1", "A1"), ("h12", "H12"), ("B07", "B7"), (" c3 ", "C3")]
)
def test_well_names_are_normalised(name: str, canonical: str) -> None:
    assert PCR_96.well(name) == canonical


@pytest.mark.parametrize("bad", ["I1", "A13", "A0", "", "1A", "AA1", "P24"])
def test_unknown_wells_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match=r"is not a well of pcr_96 \(96 wells, A1 to H12\)"):
        PCR_96.well(bad)


def test_tecan_positions_count_down_columns_and_invert() -> None:
    assert PCR_96.index("A1") == 1
    assert PCR_96.index("H1") == 8
    assert PCR_96.index("A2") == 9
    assert PCR_96.index("H12") == 96
    assert ECHO_384PP.index("B1") == 2
    assert ECHO_384PP.index("A2") == 17
    for lw in (PCR_96, ECHO_384PP):
        for order in ("row", "column"):
            assert [lw.well_at(lw.index(w, order), order) for w in lw.wells()] == list(lw.wells())
    with pytest.raises(ValidationError, match="outside pcr_96"):
        PCR_96.well_at(97)


def test_labware_rejects_dead_volume_above_maximum() -> None:
    with pytest.raises(ValidationError, match="dead volume 70"):
        replace(ECHO_384PP, dead_volume_ul=70.0)


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("text", "ul"),
    [
        ("5", 5.0),
        ("5 µL", 5.0),
        ("5 μL", 5.0),
        ("5uL", 5.0),
        ("5 ul", 5.0),
        ("2.5 nL", 0.0025),
        ("0.05 mL", 50.0),
        ("1e1 uL", 10.0),
        ("0", 0.0),
    ],
)
def test_volume_units(text: str, ul: float) -> None:
    assert parse_volume_ul(text) == ul


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5 ml", "unknown volume unit 'ml'"),
        ("5 L", "unknown volume unit 'L'"),
        ("five", "is not a volume"),
        ("-5 uL", "negative volume"),
        ("nan", "is not a volume"),
    ],
)
def test_bad_volumes(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_volume_ul(text)


def test_concentrations() -> None:
    assert parse_concentration("50 ng/uL") == (50.0, "ng/µL")
    assert parse_concentration("20 nM") == (20.0, "fmol/µL")
    assert parse_concentration("20 fmol/µL") == (20.0, "fmol/µL")
    with pytest.raises(ValidationError, match="is not a concentration"):
        parse_concentration("20 mg/mL")


# --------------------------------------------------------------------------- tracking


def test_transfers_track_volumes_exactly() -> None:
    src = Plate("src", ECHO_384PP)
    src.add("A1", "water", 50.0)
    dest = Plate("dest", PCR_96)
    for well in ("A1", "B1", "C1"):
        transfer(src, "A1", dest, well, 2.5)
    assert src.volume_ul("A1") == 42.5
    assert [dest.volume_ul(w) for w in ("A1", "B1", "C1", "D1")] == [2.5, 2.5, 2.5, 0.0]
    # 0.1 ten times is exactly 1.0 here, not 0.9999999999999999
    for _ in range(10):
        transfer(src, "A1", dest, "D1", 0.1)
    assert dest.volume_ul("D1") == 1.0
    assert src.volume_ul("A1") == 41.5


def test_mixing_records_components_and_drops_concentration() -> None:
    src = Plate("src", PCR_96)
    src.add("A1", "pJ23100", 20.0, concentration=50.0, concentration_unit="ng/µL")
    src.add("A2", "water", 100.0)
    dest = Plate("dest", PCR_96)
    transfer(src, "A2", dest, "A1", 8.0)
    transfer(src, "A1", dest, "A1", 2.0)
    contents = dest["A1"]
    assert contents is not None
    assert contents.volume_ul == 10.0
    assert dict(contents.components) == {"water": 8.0, "pJ23100": 2.0}
    assert contents.concentration is None
    source = src["A1"]
    assert source is not None
    assert (source.concentration, source.concentration_unit) == (50.0, "ng/µL")
    # drawing from a mixture draws each component in proportion
    drawn = dest.aspirate("A1", 5.0)
    assert dict(drawn.components) == {"water": 4.0, "pJ23100": 1.0}


def test_overdraw_is_refused_with_plate_well_and_volumes() -> None:
    src = Plate("parts", ECHO_384PP)
    src.add("B3", "pJ23100", 20.0)
    dest = Plate("assembly", PCR_96)
    with pytest.raises(ValidationError) as caught:
        transfer(src, "B3", dest, "A1", 10.0)
    err = caught.value
    assert err.record == "parts:B3"
    assert err.field == "volume_ul"
    assert "cannot aspirate 10 µL from well B3 of plate 'parts'" in str(err)
    assert "holds 20 µL and 12 µL is dead volume, so at most 8 µL can be drawn" in str(err)
    # nothing changed on either side
    assert src.volume_ul("B3") == 20.0
    assert dest["A1"] is None
    transfer(src, "B3", dest, "A1", 8.0)  # exactly the usable volume is fine
    assert src.volume_ul("B3") == 12.0
    with pytest.raises(ValidationError, match="at most 0 µL can be drawn"):
        src.aspirate("B3", 0.0025)


def test_empty_well_cannot_be_drawn() -> None:
    src = Plate("src", PCR_96)
    with pytest.raises(ValidationError, match="holds 0 µL"):
        src.aspirate("A1", 1.0)


def test_overfill_is_refused_and_nothing_moves() -> None:
    src = Plate("reservoir", LABWARE["deep_96"])
    src.add("A1", "water", 1000.0)
    dest = Plate("pcr", PCR_96)
    transfer(src, "A1", dest, "A1", 150.0)
    with pytest.raises(ValidationError, match=r"cannot dispense 60 µL into well A1 of plate 'pcr'"):
        transfer(src, "A1", dest, "A1", 60.0)
    assert src.volume_ul("A1") == 850.0
    assert dest.volume_ul("A1") == 150.0


@pytest.mark.parametrize("volume", [0.0, -1.0, float("nan"), float("inf")])
def test_nonpositive_volumes_are_refused(volume: float) -> None:
    src = Plate("src", PCR_96)
    src.add("A1", "water", 100.0)
    with pytest.raises(ValidationError, match="must be a positive number"):
        src.aspirate("A1", volume)


def test_a_well_holds_one_loaded_sample() -> None:
    plate = Plate("src", PCR_96)
    plate.add("A1", "water", 50.0)
    plate.add("A1", "water", 50.0)
    assert plate.volume_ul("A1") == 100.0
    with pytest.raises(ValidationError, match="already holds 'water'"):
        plate.add("A1", "buffer", 5.0)


def test_copy_is_independent() -> None:
    plate = Plate("src", PCR_96)
    plate.add("A1", "water", 50.0)
    other = plate.copy()
    other.aspirate("A1", 10.0)
    assert (plate.volume_ul("A1"), other.volume_ul("A1")) == (50.0, 40.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PCR_96.wells()[:6]),
            st.sampled_from(PCR_96.wells()[:6]),
            st.integers(min_value=1, max_value=4000).map(lambda n: n * 0.0025),
        ),
        max_size=40,
    )
)
def test_volume_is_conserved_and_never_below_dead_volume(
    moves: list[tuple[str, str, float]],
) -> None:
    a, b = Plate("a", PCR_96), Plate("b", PCR_96)
    for well in PCR_96.wells()[:6]:
        a.add(well, f"s{well}", 60.0)
    total = 6 * 60.0
    for src_well, dest_well, volume in moves:
        with contextlib.suppress(ValidationError):
            transfer(a, src_well, b, dest_well, volume)
        assert a.volume_ul(src_well) >= PCR_96.dead_volume_ul
        assert b.volume_ul(dest_well) <= PCR_96.max_volume_ul
        in_plates = sum(c.volume_ul for _, c in a) + sum(c.volume_ul for _, c in b)
        assert round(in_plates, 6) == total


# --------------------------------------------------------------------------- plate maps


def test_plate_map_round_trip(tmp_path: Path) -> None:
    text = (
        "plate,well,sample,volume_ul,concentration\n"
        "parts,A1,pJ23100,40 uL,45.2 ng/µL\n"
        "parts,B01,pB0034,500 nL,\n"
        "water,A1,water,0.15 mL,\n"
    )
    labware = {"parts": ECHO_384PP, "water": PCR_96}
    plates = read_plate_map("map.csv", labware=labware, text=text)
    assert list(plates) == ["parts", "water"]
    assert plates["parts"].volume_ul("A1") == 40.0
    assert plates["parts"].volume_ul("B1") == 0.5
    assert plates["water"].volume_ul("A1") == 150.0
    a1 = plates["parts"]["A1"]
    assert a1 is not None
    assert (a1.sample, a1.concentration, a1.concentration_unit) == ("pJ23100", 45.2, "ng/µL")
    path = tmp_path / "out.csv"
    write_plate_map(plates.values(), path)
    again = read_plate_map(path, labware=labware)
    assert plate_map_csv(again.values()) == plate_map_csv(plates.values())
    assert path.read_text(encoding="utf-8").splitlines()[:3] == [
        "plate,well,sample,volume_ul,concentration",
        "parts,A1,pJ23100,40,45.2 ng/µL",
        "parts,B1,pB0034,0.5,",
    ]


@pytest.mark.parametrize(
    ("bad_row", "field", "message"),
    [
        ("P1,I1,water,5", "well", "'I1' is not a well of pcr_96"),
        ("P1,,water,5", "well", "the well is missing"),
        ("P1,A2,water,5 ml", "volume_ul", "unknown volume unit 'ml'"),
        ("P1,A2,water,-5 uL", "volume_ul", "negative volume"),
        ("P1,A2,water,", "volume_ul", "the volume is missing"),
        ("P1,A2,water,0", "volume_ul", "the volume is zero"),
        ("P1,A2,,5", "sample", "the sample is missing"),
        (",A2,water,5", "plate", "the plate is missing"),
        ("P1,A1,water,5", "well", "well A1 of plate 'P1' is already on row 2"),
        ("P1,A2,water,250 uL", "volume_ul", "takes at most 200 µL"),
    ],
)
def test_bad_rows_name_the_row_and_import_nothing(bad_row: str, field: str, message: str) -> None:
    text = HEADER + "P1,A1,water,100\nP1,B1,buffer,20\n" + bad_row + "\nP2,A1,water,10\n"
    with pytest.raises(ValidationError, match=message) as caught:
        read_plate_map("map.csv", text=text)
    err = caught.value
    assert (err.source, err.record, err.field) == ("map.csv", "row 4", field)
    assert str(err).startswith(f"file 'map.csv', record 'row 4', field '{field}': ")


def test_missing_column_and_unknown_plate_labware() -> None:
    with pytest.raises(ValidationError, match="missing column"):
        read_plate_map("map.csv", text="plate,well,sample\nP1,A1,water\n")
    with pytest.raises(ValidationError, match="no labware given for plate 'P9'") as caught:
        read_plate_map("m.csv", labware={"P1": PCR_96}, text=HEADER + "P1,A1,w,5\nP9,A1,w,5\n")
    assert caught.value.record == "row 3"


def test_blank_lines_and_bom_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_bytes(("\ufeff" + HEADER + "P1,A1,water,5\n,,,\nP1,A2,water,6\n").encode())
    plates = read_plate_map(path)
    assert [w for w, _ in plates["P1"]] == ["A1", "A2"]


def test_labware_must_be_given_a_valid_layout() -> None:
    with pytest.raises(ValidationError, match="rows must be 1-26"):
        Labware("odd", 0, 12, max_volume_ul=100.0)
