from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest

from cellfoundry.assay import read_titres, strain_performance, to_g_per_l
from cellfoundry.core.errors import FormatError, ValidationError

GLUCOSE = 180.156
SUCCINATE = 118.088
MASSES = {"glucose": GLUCOSE, "succinate": SUCCINATE}

HEADER = ["sample", "strain", "replicate", "time_h", "compound", "concentration", "unit"]
# two strains, three replicate flasks each, sampled at 0 h and 48 h; glucose in mM, product in g/L
ROWS = [
    [f"{strain}-{rep}", strain, rep, t, compound, conc, unit]
    for strain, finals in {"S1": (4.0, 4.4, 3.6), "S2": (1.0, 1.2, 0.8)}.items()
    for rep, final in enumerate(finals, start=1)
    for t, compound, conc, unit in (
        (0, "succinate", 0.0, "g/L"),
        (0, "glucose", 111.0, "mM"),
        (48, "succinate", final * 1000, "mg/L"),
        (48, "glucose", 11.1, "mM"),
    )
]


def _write(path: Path, rows: Sequence[Any]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_unit_conversions() -> None:
    assert to_g_per_l(2.5, "g/L") == 2.5
    assert to_g_per_l(2.5, "mg/mL") == 2.5
    assert to_g_per_l(250.0, "mg/L") == pytest.approx(0.25)
    assert to_g_per_l(250.0, "µg/mL") == pytest.approx(0.25)
    assert to_g_per_l(10.0, "mM", molar_mass_g_per_mol=GLUCOSE) == pytest.approx(1.80156)
    assert to_g_per_l(500.0, "uM", molar_mass_g_per_mol=GLUCOSE) == pytest.approx(0.0900780)
    assert to_g_per_l(0.1, "mol/L", molar_mass_g_per_mol=SUCCINATE) == pytest.approx(11.8088)


def test_titre_rate_and_yield_per_strain(tmp_path: Path) -> None:
    table = read_titres(_write(tmp_path / "hplc.csv", [HEADER, *ROWS]), molar_mass_g_per_mol=MASSES)
    assert table.compounds == ("succinate", "glucose")
    perf = strain_performance(table, product="succinate", substrate="glucose")
    s1, s2 = perf.strains
    assert (s1.strain, s2.strain) == ("S1", "S2")
    consumed = (111.0 - 11.1) * GLUCOSE / 1000  # g/L glucose
    titres = np.array([4.0, 4.4, 3.6])
    np.testing.assert_allclose([s.titre_g_per_l for s in s1.samples], titres)
    np.testing.assert_allclose([s.rate_g_per_l_h for s in s1.samples], titres / 48)
    np.testing.assert_allclose([s.yield_g_per_g for s in s1.samples], titres / consumed)
    assert s1.titre_g_per_l.n == 3
    assert s1.titre_g_per_l.mean == pytest.approx(4.0)
    assert s1.titre_g_per_l.sd == pytest.approx(np.std(titres, ddof=1))
    assert s1.titre_g_per_l.cv == pytest.approx(np.std(titres, ddof=1) / 4.0)
    assert s1.rate_g_per_l_h.mean == pytest.approx(4.0 / 48)
    assert s2.yield_g_per_g.mean == pytest.approx(1.0 / consumed)
    frame = perf.to_frame()
    assert frame.set_index("strain").loc["S2", "titre_g_per_l_mean"] == pytest.approx(1.0)
    assert len(perf.samples_frame()) == 6
    assert len(table.to_frame()) == len(ROWS)


def test_xlsx_reads_like_csv(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    for row in [HEADER, *ROWS]:
        ws.append(row)
    book.save(tmp_path / "hplc.xlsx")
    from_xlsx = read_titres(tmp_path / "hplc.xlsx", molar_mass_g_per_mol=MASSES)
    from_csv = read_titres(
        _write(tmp_path / "hplc.csv", [HEADER, *ROWS]), molar_mass_g_per_mol=MASSES
    )
    assert [(r.sample, r.compound, r.time_h) for r in from_xlsx.rows] == [
        (r.sample, r.compound, r.time_h) for r in from_csv.rows
    ]
    np.testing.assert_allclose(
        [r.concentration_g_per_l for r in from_xlsx.rows],
        [r.concentration_g_per_l for r in from_csv.rows],
    )


def test_single_time_point_with_given_initial_substrate() -> None:
    table = read_titres(
        [
            {"sample": "a", "strain": "S1", "compound": "P", "concentration": 3.0, "unit": "g/L"},
            {"sample": "a", "strain": "S1", "compound": "glc", "concentration": 5.0, "unit": "g/L"},
            {"sample": "b", "strain": "S1", "compound": "P", "concentration": 2.0, "unit": "g/L"},
        ]
    )
    perf = strain_performance(
        table, product="P", substrate="glc", initial_substrate_g_per_l=20.0, time_h=24.0
    )
    a, b = perf.strains[0].samples
    assert a.rate_g_per_l_h == pytest.approx(3.0 / 24)
    assert a.yield_g_per_g == pytest.approx(3.0 / 15.0)
    assert np.isnan(b.yield_g_per_g)  # no substrate measured in b
    assert perf.strains[0].yield_g_per_g.n == 1


def test_molar_unit_without_molar_mass_names_row_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", [HEADER, *ROWS])
    with pytest.raises(
        ValidationError, match=r"t\.csv', record 'row 3', field 'unit'.*glucose has no molar mass"
    ):
        read_titres(path, molar_mass_g_per_mol={"succinate": SUCCINATE})


def test_unknown_unit_names_row_and_field(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["a", "S1", 1, 48, "succinate", 1.0, "g/L"],
        ["b", "S1", 2, 48, "succinate", 1.0, "ppm"],
    ]
    with pytest.raises(
        ValidationError, match=r"record 'row 3', field 'unit'.*unknown concentration unit 'ppm'"
    ):
        read_titres(_write(tmp_path / "u.csv", rows))


def test_bad_concentration_and_missing_columns(tmp_path: Path) -> None:
    rows = [HEADER, ["a", "S1", 1, 48, "succinate", "n.d.", "g/L"]]
    with pytest.raises(
        ValidationError, match=r"row 2', field 'concentration'.*'n.d.' is not a number"
    ):
        read_titres(_write(tmp_path / "c.csv", rows))
    rows = [HEADER, ["a", "S1", 1, 48, "succinate", "-1", "g/L"]]
    with pytest.raises(ValidationError, match=r"field 'concentration'.*>= 0"):
        read_titres(_write(tmp_path / "n.csv", rows))
    with pytest.raises(FormatError, match="lacks columns unit"):
        read_titres(
            _write(tmp_path / "m.csv", [["sample", "compound", "concentration"], ["a", "x", 1]])
        )


def test_performance_errors() -> None:
    table = read_titres([{"sample": "a", "compound": "P", "concentration": 1, "unit": "g/L"}])
    with pytest.raises(ValidationError, match="no measurement of the product 'Q'"):
        strain_performance(table, product="Q")
    with pytest.raises(ValidationError, match=r"field 'time_h'.*no time"):
        strain_performance(table, product="P")
