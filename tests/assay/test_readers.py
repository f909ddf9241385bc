from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from cellfoundry.assay import (
    AssayWarning,
    Measurement,
    PlateMap,
    PlateReading,
    normalise_well,
    parse_kinetic,
    read_kinetic,
    read_plate_map,
)
from cellfoundry.core.errors import FormatError, ValidationError

DATA = Path(__file__).parent / "data"
GEN5_CSV = DATA / "gen5_kinetic.csv"
GEN5_XLSX = DATA / "gen5_kinetic.xlsx"
PLATE_MAP = DATA / "plate_map.csv"


def _write_csv(path: Path, rows: Sequence[Any]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _read_quietly(path: Path, **kw: Any) -> PlateReading:
    with pytest.warns(AssayWarning, match="OVRFLW"):
        return read_kinetic(path, **kw)


def test_gen5_csv_reads_times_temperature_wells_and_overflow() -> None:
    r = _read_quietly(GEN5_CSV)
    assert r.wells == ("A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2", "B3", "B4", "B5", "B6")
    assert r.time_h.size == 49
    np.testing.assert_allclose(r.time_h, np.arange(0, 24.01, 0.5))
    assert r.temperature_c is not None
    assert np.all(np.abs(r.temperature_c - 30) < 0.5)
    a2 = r.well("A2")
    assert np.isnan(a2[30])
    assert np.isfinite(np.delete(a2, 30)).all()
    assert r.warnings == ("row 47, well A2: saturated read 'OVRFLW' kept as NaN",)
    assert r.values.flags.writeable is False
    assert r.measurement == Measurement()


def test_gen5_csv_and_xlsx_import_to_identical_datasets() -> None:
    pm = read_plate_map(PLATE_MAP)
    from_csv = _read_quietly(GEN5_CSV, plate_map=pm)
    from_xlsx = _read_quietly(GEN5_XLSX, plate_map=pm)
    assert from_csv.equals(from_xlsx)
    assert from_csv.to_frame().equals(from_xlsx.to_frame())


def test_plate_map_roles_samples_and_replicates() -> None:
    pm = read_plate_map(PLATE_MAP)
    assert pm.blanks == ("B4", "B5", "B6")
    assert pm.samples == ("wt", "mutX", "slow")
    assert pm.wells_of("mutX") == ("A4", "A5", "A6")
    assert pm["a06"].replicate == 3
    frame = _read_quietly(GEN5_CSV, plate_map=pm).to_frame()
    assert set(frame.columns) >= {"time_h", "well", "sample", "replicate", "role", "value"}
    assert len(frame) == 49 * 12
    assert frame.loc[frame.well == "B5", "role"].unique().tolist() == ["blank"]


def test_long_table_matches_wide(tmp_path: Path) -> None:
    wide = _read_quietly(GEN5_CSV)
    rows: list[list[object]] = [["time_s", "well", "value"]]
    for i, t in enumerate(wide.time_h):
        for j, w in enumerate(wide.wells):
            v = wide.values[i, j]
            rows.append([round(t * 3600), w, "OVRFLW" if np.isnan(v) else repr(float(v))])
    with pytest.warns(AssayWarning):
        long = read_kinetic(_write_csv(tmp_path / "long.csv", rows))
    assert long.wells == wide.wells
    np.testing.assert_allclose(long.time_h, wide.time_h)
    np.testing.assert_array_equal(long.values, wide.values)


def test_long_table_hms_times_and_units_from_header(tmp_path: Path) -> None:
    rows = [
        ["Time [min]", "Well", "Value"],
        [0, "A01", 0.1],
        [30, "A01", 0.2],
        [0, "B2", 0.3],
        [30, "B2", 0.4],
    ]
    r = read_kinetic(
        _write_csv(tmp_path / "t.csv", rows),
        measurement=Measurement("fluorescence", "RFU", excitation_nm=485, emission_nm=528),
    )
    assert r.wells == ("A1", "B2")
    assert r.time_h.tolist() == [0.0, 0.5]
    assert r.measurement.label == "fluorescence 485/528 nm (RFU)"


def test_tecan_transposed_export(tmp_path: Path) -> None:
    rows = [
        ["Application: Tecan i-control"],
        [],
        ["Cycle Nr.", 1, 2, 3],
        ["Time [s]", 0, 600, 1200],
        ["Temp. [°C]", 30.1, 30.0, 30.2],
        ["A1", 0.1, 0.11, 0.12],
        ["A2", 0.2, 0.21, 0.22],
        [],
        ["End Time:", "2026-11-27"],
    ]
    r = read_kinetic(_write_csv(tmp_path / "tecan.csv", rows))
    assert r.wells == ("A1", "A2")
    np.testing.assert_allclose(r.time_h, [0, 1 / 6, 1 / 3])
    np.testing.assert_allclose(r.well("A2"), [0.2, 0.21, 0.22])
    assert r.temperature_c is not None
    assert r.temperature_c.tolist() == [30.1, 30.0, 30.2]


def test_numeric_times_need_a_unit(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "nounit.csv", [["Time", "A1"], [0, 0.1], [600, 0.2]])
    with pytest.raises(ValidationError, match=r"nounit\.csv.*row 2.*field 'Time'.*no unit"):
        read_kinetic(path)
    assert read_kinetic(path, time_unit="s").time_h.tolist() == [0.0, 600 / 3600]


def test_unknown_time_unit_names_file_row_and_field(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "fortnight.csv", [["meta"], ["Time [fortnights]", "A1"], [0, 0.1]])
    with pytest.raises(
        ValidationError,
        match=r"file '.*fortnight\.csv', record 'row 2', field 'Time \[fortnights\]'.*unknown time unit 'fortnights'",
    ):
        read_kinetic(path)


def test_non_numeric_value_names_row_and_well_and_imports_nothing(tmp_path: Path) -> None:
    rows = [["Time [h]", "A1", "A2"], [0, "OVRFLW", 0.1], [1, 0.2, "n/a"], [2, 0.3, 0.4]]
    path = _write_csv(tmp_path / "bad.csv", rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(
            ValidationError, match=r"bad\.csv', record 'row 3', field 'A2'.*'n/a' is not a number"
        ) as info:
            read_kinetic(path)
    # the OVRFLW before the bad cell was not reported: nothing of the file was imported
    assert caught == []
    assert (info.value.record, info.value.field) == ("row 3", "A2")


def test_times_must_increase(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "t.csv", [["Time", "A1"], ["0:00:00", 0.1], ["0:30:00", 0.2], ["0:20:00", 0.3]]
    )
    with pytest.raises(ValidationError, match=r"row 4.*does not increase"):
        read_kinetic(path)


def test_missing_wells_promised_by_the_map(tmp_path: Path) -> None:
    pm = PlateMap.from_records([{"well": "A1", "sample": "wt"}, {"well": "C7", "sample": "wt"}])
    path = _write_csv(tmp_path / "m.csv", [["Time [h]", "A1"], [0, 0.1], [1, 0.2]])
    with pytest.raises(
        ValidationError,
        match=r"m\.csv', record 'row 1', field 'C7'.*C7 are in the plate map but not in the data",
    ):
        read_kinetic(path, plate_map=pm)


def test_measured_well_not_in_the_map(tmp_path: Path) -> None:
    pm = PlateMap.from_records([{"well": "A1", "sample": "wt"}])
    path = _write_csv(tmp_path / "m.csv", [["Time [h]", "A1", "H12"], [0, 0.1, 0.1], [1, 0.2, 0.2]])
    with pytest.raises(ValidationError, match=r"field 'H12'.*not in the plate map"):
        read_kinetic(path, plate_map=pm)
    # an empty well in the map is accepted and dropped
    pm2 = PlateMap.from_records([{"well": "A1", "sample": "wt"}, {"well": "H12", "role": "empty"}])
    assert read_kinetic(path, plate_map=pm2).wells == ("A1",)


def test_long_table_sample_not_in_the_map(tmp_path: Path) -> None:
    pm = PlateMap.from_records([{"well": "A1", "sample": "wt"}, {"well": "A2", "sample": "wt"}])
    rows = [["time_h", "well", "sample", "value"], [0, "A1", "wt", 0.1], [0, "A2", "ghost", 0.1]]
    with pytest.raises(
        ValidationError, match=r"record 'row 3', field 'sample'.*'ghost' is not in the plate map"
    ):
        read_kinetic(_write_csv(tmp_path / "l.csv", rows), plate_map=pm)


def test_long_table_duplicate_and_bad_well(tmp_path: Path) -> None:
    dup = [["time_h", "well", "value"], [0, "A1", 0.1], [0, "A1", 0.2]]
    with pytest.raises(ValidationError, match=r"row 3.*two values"):
        read_kinetic(_write_csv(tmp_path / "d.csv", dup))
    bad = [["time_h", "well", "value"], [0, "Z99x", 0.1]]
    with pytest.raises(ValidationError, match=r"row 2', field 'well'"):
        read_kinetic(_write_csv(tmp_path / "b.csv", bad))


def test_xlsx_errors_name_sheet_rows(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Time [s]", "A1"])
    ws.append([0, 0.1])
    ws.append([60, "oops"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with pytest.raises(ValidationError, match=r"bad\.xlsx', record 'row 3', field 'A1'"):
        read_kinetic(path)
    with pytest.raises(ValidationError, match="no sheet 'Nope'"):
        read_kinetic(path, sheet="Nope")


def test_no_table_and_unknown_file_type(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no kinetic table"):
        read_kinetic(_write_csv(tmp_path / "x.csv", [["hello", "world"]]))
    (tmp_path / "x.docx").write_text("")
    with pytest.raises(FormatError, match="unknown file type"):
        read_kinetic(tmp_path / "x.docx")


def test_plate_map_errors(tmp_path: Path) -> None:
    dup = _write_csv(tmp_path / "pm.csv", [["well", "sample"], ["A1", "wt"], ["A01", "wt"]])
    with pytest.raises(ValidationError, match=r"pm\.csv', record 'row 3', field 'well'.*twice"):
        read_plate_map(dup)
    role = _write_csv(tmp_path / "pm2.csv", [["well", "sample", "role"], ["A1", "wt", "standard"]])
    with pytest.raises(ValidationError, match=r"row 2', field 'role'.*unknown role"):
        read_plate_map(role)


def test_block_selects_a_read_of_a_multi_read_export() -> None:
    rows = [
        ["OD:600"],
        ["Time", "A1"],
        ["0:00:00", "0.1"],
        ["1:00:00", "0.2"],
        [],
        ["GFP:485,528"],
        ["Time", "A1"],
        ["0:00:00", "100"],
        ["1:00:00", "250"],
    ]
    od = parse_kinetic(rows)
    gfp = parse_kinetic(
        rows,
        block="GFP",
        measurement=Measurement("fluorescence", "RFU", excitation_nm=485, emission_nm=528),
    )
    assert od.well("A1").tolist() == [0.1, 0.2]
    assert gfp.well("A1").tolist() == [100.0, 250.0]


def test_normalise_well() -> None:
    assert normalise_well(" b07 ") == "B7"
    with pytest.raises(ValueError, match="not a well"):
        normalise_well("7B")


def test_long_table_with_a_missing_pair_keeps_nan_and_warns(tmp_path: Path) -> None:
    rows = [["time_h", "well", "value"], [0, "A1", 0.1], [1, "A1", 0.2], [0, "A2", 0.3]]
    with pytest.warns(AssayWarning, match="1 \\(time, well\\) pairs have no row"):
        r = read_kinetic(_write_csv(tmp_path / "gap.csv", rows))
    assert np.isnan(r.well("A2")[1])


def test_a_reading_copies_the_callers_arrays() -> None:
    values = np.array([[0.1], [0.2]])
    r = PlateReading(np.array([0.0, 1.0]), ("A1",), values)
    values[0, 0] = 9.0
    assert r.values[0, 0] == 0.1
    assert values.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        r.values[0, 0] = 1.0
