"""Plate-reader time series and plate maps: import with errors that name file, row and field.

Two layouts are read, from CSV or Excel (``.xlsx``):

* **wide** ("kinetic table"), as BioTek Gen5 and Tecan Magellan/SparkControl export it:
  a header row whose first cell is the time (``Time``, ``Time [s]``, ``Time (h)`` ...),
  an optional temperature column (``T° OD:600``, ``Temp. [°C]``), then one column per well
  ``A1`` .. ``H12`` (``A01`` is read as ``A1``). Metadata lines above the table (Gen5 writes
  the protocol there) are skipped; the table ends at the first row without a time. Tecan's
  transposed export (one *row* per well, ``Cycle Nr.``/``Time [s]``/``Temp. [°C]`` rows) is
  recognised and turned round.
* **long** ("tidy"): columns ``time`` (or ``time_s``, ``time_h``, ``time [min]`` ...), ``well``
  and ``value``, one measurement a row, as written by BMG MARS table exports, R/pandas
  pipelines and AMiGA.

Times are seconds, minutes or hours as the header says (``s``, ``sec``, ``min``, ``h``,
``hr``), or ``hh:mm:ss`` text (Gen5) or Excel time cells; a number without a unit, or a
unit not in that list, is refused unless ``time_unit=`` says what it is. All times are
stored in hours.

Saturated reads (``OVRFLW``, ``OVER``, ``Overflow``, ``Sat``, ``>4.0``) and empty cells
become ``NaN`` with an :class:`AssayWarning` (also kept in :attr:`PlateReading.warnings`);
any other text where a number belongs raises :class:`~cellfoundry.core.errors.ValidationError`
naming the file, the row and the well. A reading either imports whole or raises: nothing is
half-imported.

A plate map (:func:`read_plate_map`) gives each well its sample (strain), replicate and
role (``sample``, ``blank``/``medium`` or ``empty``). With a map, every well the map
promises must be in the data, and every measured well must be in the map.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import FormatError, ValidationError

__all__ = [
    "AssayWarning",
    "Layout",
    "Measurement",
    "PlateMap",
    "PlateReading",
    "TimeUnit",
    "WellInfo",
    "WellRole",
    "normalise_well",
    "parse_kinetic",
    "read_kinetic",
    "read_plate_map",
]

FloatArray = npt.NDArray[np.float64]
Layout = Literal["auto", "wide", "long"]
TimeUnit = Literal["s", "min", "h"]
WellRole = Literal["sample", "blank", "empty"]

_HOURS_PER: Final[Mapping[str, float]] = {
    "s": 1 / 3600,
    "sec": 1 / 3600,
    "secs": 1 / 3600,
    "second": 1 / 3600,
    "seconds": 1 / 3600,
    "min": 1 / 60,
    "mins": 1 / 60,
    "minute": 1 / 60,
    "minutes": 1 / 60,
    "h": 1.0,
    "hr": 1.0,
    "hrs": 1.0,
    "hour": 1.0,
    "hours": 1.0,
}
_WELL: Final = re.compile(r"^([A-Z]{1,2})0*([1-9][0-9]?)$")
_TIME_HEADER: Final = re.compile(
    r"^\s*time\s*(?:[\[\(]\s*([^\]\)]*?)\s*[\]\)]|_\s*([a-z]+))?\s*$", re.IGNORECASE
)
_TEMP_HEADER: Final = re.compile(r"^\s*(t°|temp|temperature)", re.IGNORECASE)
_HMS: Final = re.compile(
    r"^\s*(?:(\d+)\s*(?:d|day|days)\s*,?\s*)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?\s*$"
)
_SATURATED: Final = re.compile(r"^\s*(ovrflw|over|overflow|sat|saturated|>.*)\s*$", re.IGNORECASE)
_BLANK_ROLES: Final = frozenset({"blank", "medium", "media", "bkg", "background", "control_blank"})
_EMPTY_ROLES: Final = frozenset({"empty", "none", "unused"})
_SAMPLE_ROLES: Final = frozenset({"sample", "strain", "culture", ""})


class AssayWarning(UserWarning):
    """A value was kept as missing (``NaN``): a saturated read or an empty cell."""


@dataclass(frozen=True, slots=True)
class Measurement:
    """What the plate reader measured.

    ``quantity`` is ``"OD600"``, ``"absorbance"``, ``"fluorescence"`` or
    ``"luminescence"`` (free text is kept as given); wavelengths are in nm.

    Examples
    --------
    >>> Measurement("fluorescence", "RFU", excitation_nm=485, emission_nm=528).label
    'fluorescence 485/528 nm (RFU)'
    """

    quantity: str = "OD600"
    unit: str = "AU"
    wavelength_nm: float | None = None
    excitation_nm: float | None = None
    emission_nm: float | None = None

    @property
    def label(self) -> str:
        """A short human label, e.g. ``"OD600 (AU)"``."""
        optics = ""
        if self.excitation_nm is not None and self.emission_nm is not None:
            optics = f" {self.excitation_nm:g}/{self.emission_nm:g} nm"
        elif self.wavelength_nm is not None:
            optics = f" {self.wavelength_nm:g} nm"
        return f"{self.quantity}{optics} ({self.unit})"


@dataclass(frozen=True, slots=True)
class WellInfo:
    """One well of a plate map: what is in it."""

    well: str
    sample: str | None
    replicate: int | None = None
    role: WellRole = "sample"


@dataclass(frozen=True, slots=True)
class PlateMap:
    """Which sample (strain), replicate and role each well holds.

    Examples
    --------
    >>> pm = PlateMap.from_records([
    ...     {"well": "A1", "sample": "wt", "replicate": 1},
    ...     {"well": "A2", "role": "blank"},
    ... ])
    >>> pm.blanks, pm["A1"].sample
    (('A2',), 'wt')
    """

    wells: tuple[WellInfo, ...]
    source: str | None = None

    def __getitem__(self, well: str) -> WellInfo:
        key = normalise_well(well)
        for info in self.wells:
            if info.well == key:
                return info
        raise KeyError(well)

    def __contains__(self, well: object) -> bool:
        return isinstance(well, str) and any(i.well == well for i in self.wells)

    @property
    def blanks(self) -> tuple[str, ...]:
        """The blank (medium) wells."""
        return tuple(i.well for i in self.wells if i.role == "blank")

    @property
    def measured(self) -> tuple[str, ...]:
        """The wells the map promises data for: samples and blanks, not empty wells."""
        return tuple(i.well for i in self.wells if i.role != "empty")

    @property
    def samples(self) -> tuple[str, ...]:
        """The sample names, in plate order, each once."""
        return tuple(dict.fromkeys(i.sample for i in self.wells if i.role == "sample" and i.sample))

    def wells_of(self, sample: str) -> tuple[str, ...]:
        """Return the wells holding ``sample``."""
        return tuple(i.well for i in self.wells if i.role == "sample" and i.sample == sample)

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], *, source: str | None = None
    ) -> PlateMap:
        """Build a map from dicts with ``well`` and optional ``sample``, ``replicate``, ``role``.

        ``record`` numbers in errors count from 1 (the first record) or are the
        ``_row`` key where the caller supplies one (a file row).
        """
        infos: list[WellInfo] = []
        seen: set[str] = set()
        for i, rec in enumerate(records, start=1):
            row = str(rec.get("_row", i))
            raw_well = _text(rec.get("well"))
            if not raw_well:
                raise ValidationError(
                    "a plate-map row without a well",
                    source=source,
                    record=f"row {row}",
                    field="well",
                )
            well = _well_or_error(raw_well, source=source, record=f"row {row}", field="well")
            if well in seen:
                raise ValidationError(
                    f"well {well} appears twice in the plate map",
                    source=source,
                    record=f"row {row}",
                    field="well",
                )
            seen.add(well)
            role_text = _text(rec.get("role")).lower()
            sample = _text(rec.get("sample")) or None
            role: WellRole
            if role_text in _BLANK_ROLES or (
                not role_text and (sample or "").lower() in _BLANK_ROLES
            ):
                role = "blank"
            elif role_text in _EMPTY_ROLES:
                role = "empty"
            elif role_text in _SAMPLE_ROLES:
                role = "sample" if sample else "empty"
            else:
                raise ValidationError(
                    f"unknown role {role_text!r}; use sample, blank (or medium) or empty",
                    source=source,
                    record=f"row {row}",
                    field="role",
                )
            rep_text = _text(rec.get("replicate"))
            replicate: int | None = None
            if rep_text:
                try:
                    replicate = int(float(rep_text))
                except ValueError:
                    raise ValidationError(
                        f"replicate {rep_text!r} is not a whole number",
                        source=source,
                        record=f"row {row}",
                        field="replicate",
                    ) from None
            infos.append(WellInfo(well, sample if role != "empty" else None, replicate, role))
        return cls(tuple(infos), source)


@dataclass(frozen=True, slots=True, eq=False)
class PlateReading:
    """A kinetic plate read: one value per time point and well.

    ``values[i, j]`` is the reading of ``wells[j]`` at ``time_h[i]``; missing or
    saturated reads are ``NaN``. Arrays are read-only. Compare two readings with
    :meth:`equals` (``==`` is identity).
    """

    time_h: FloatArray
    wells: tuple[str, ...]
    values: FloatArray
    measurement: Measurement = field(default_factory=Measurement)
    temperature_c: FloatArray | None = None
    plate_map: PlateMap | None = None
    source: str | None = None
    warnings: tuple[str, ...] = ()
    history: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # private read-only copies: the caller's arrays stay writable and cannot alias ours
        for name in ("time_h", "values", "temperature_c"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.array(arr, dtype=float)
                arr.setflags(write=False)
                object.__setattr__(self, name, arr)
        if self.values.shape != (self.time_h.size, len(self.wells)):
            raise ValidationError(
                f"values have shape {self.values.shape}, expected "
                f"{(self.time_h.size, len(self.wells))} (times x wells)",
                source=self.source,
                field="values",
            )

    def __repr__(self) -> str:
        return (
            f"<PlateReading {self.measurement.label}: {len(self.wells)} wells x "
            f"{self.time_h.size} reads over {self.time_h[-1] - self.time_h[0]:.3g} h>"
            if self.time_h.size
            else "<PlateReading (empty)>"
        )

    def well(self, well: str) -> FloatArray:
        """Return the time series of one well."""
        return self.values[:, self.wells.index(normalise_well(well))]

    def equals(self, other: PlateReading) -> bool:
        """Whether two readings hold the same wells, times, values, measurement and map."""
        return (
            self.wells == other.wells
            and self.measurement == other.measurement
            and self.plate_map == other.plate_map
            and np.array_equal(self.time_h, other.time_h)
            and np.array_equal(self.values, other.values, equal_nan=True)
            and (
                (self.temperature_c is None and other.temperature_c is None)
                or (
                    self.temperature_c is not None
                    and other.temperature_c is not None
                    and np.array_equal(self.temperature_c, other.temperature_c, equal_nan=True)
                )
            )
        )

    def to_frame(self) -> Any:
        """Return a long :class:`pandas.DataFrame` (``time_h, well, sample, ..., value``)."""
        import pandas as pd

        n_t, n_w = self.values.shape
        info = {w: self.plate_map[w] for w in self.wells} if self.plate_map else {}
        return pd.DataFrame(
            {
                "time_h": np.repeat(self.time_h, n_w),
                "well": np.tile(np.array(self.wells, dtype=object), n_t),
                "sample": [info[w].sample if w in info else None for w in self.wells] * n_t,
                "replicate": [info[w].replicate if w in info else None for w in self.wells] * n_t,
                "role": [info[w].role if w in info else None for w in self.wells] * n_t,
                "value": self.values.reshape(-1),
                "quantity": self.measurement.quantity,
                "unit": self.measurement.unit,
            }
        )


def normalise_well(well: str) -> str:
    """Return a well name as letter(s) and number without padding.

    Examples
    --------
    >>> normalise_well("a01"), normalise_well("H12")
    ('A1', 'H12')
    """
    m = _WELL.match(well.strip().upper())
    if not m:
        raise ValueError(f"{well!r} is not a well name like A1 or H12")
    return f"{m.group(1)}{int(m.group(2))}"


def _well_or_error(text: str, *, source: str | None, record: str, field: str) -> str:
    try:
        return normalise_well(text)
    except ValueError as exc:
        raise ValidationError(str(exc), source=source, record=record, field=field) from None


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- reading cells ---------------------------------------------------------------------------

Grid = list[tuple[int, list[object]]]
"""Rows of cells, each with its 1-based row number in the file or sheet."""


def _read_grid(path: Path, sheet: str | int | None) -> Grid:
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise FormatError(f"cannot open as Excel: {exc}", source=str(path)) from None
        try:
            if sheet is None:
                ws = book.worksheets[0]
            elif isinstance(sheet, int):
                ws = book.worksheets[sheet]
            else:
                ws = book[sheet]
        except (KeyError, IndexError):
            book.close()
            raise ValidationError(
                f"no sheet {sheet!r}; the workbook has {book.sheetnames}",
                source=str(path),
                field="sheet",
            ) from None
        grid: Grid = [
            (i, list(row)) for i, row in enumerate(ws.iter_rows(values_only=True), start=1)
        ]
        book.close()
        return grid
    if suffix in {".csv", ".txt", ".tsv"}:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = path.read_text(encoding="latin-1")
        lines = text.splitlines()
        try:
            dialect: Any = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return [(i, list(row)) for i, row in enumerate(csv.reader(lines, dialect), start=1)]
    raise FormatError(
        f"unknown file type {suffix!r}; use .csv, .tsv, .txt or .xlsx", source=str(path)
    )


def _strip(row: list[object]) -> list[object]:
    out = list(row)
    while out and _text(out[-1]) == "":
        out.pop()
    return out


def _time_unit_of(header: str) -> str | None:
    """Return the unit in a time header, ``""`` if none, ``None`` if not a time header."""
    m = _TIME_HEADER.match(header)
    if not m:
        return None
    return (m.group(1) or m.group(2) or "").lower()


def _hours_per(unit: str, *, source: str | None, record: str, field: str) -> float:
    try:
        return _HOURS_PER[unit]
    except KeyError:
        raise ValidationError(
            f"unknown time unit {unit!r}; use s, min or h (or pass time_unit=)",
            source=source,
            record=record,
            field=field,
        ) from None


def _parse_time(
    cell: object, unit: str, *, source: str | None, record: str, field: str
) -> float | None:
    """Return a time cell in hours; ``None`` for an empty cell (the end of a table)."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return None
    if isinstance(cell, dt.timedelta):
        return cell.total_seconds() / 3600
    if isinstance(cell, dt.time):
        return cell.hour + cell.minute / 60 + (cell.second + cell.microsecond / 1e6) / 3600
    if isinstance(cell, dt.datetime):
        raise ValidationError(
            f"time {cell} is a date; export elapsed time instead",
            source=source,
            record=record,
            field=field,
        )
    if isinstance(cell, str):
        m = _HMS.match(cell)
        if m:
            days, h, mnt, sec = m.groups()
            return (
                24 * int(days or 0) + int(h) + int(mnt) / 60 + (float(sec) if sec else 0.0) / 3600
            )
    try:
        number = float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(
            f"time {cell!r} is neither a number nor hh:mm:ss",
            source=source,
            record=record,
            field=field,
        ) from None
    if not unit:
        raise ValidationError(
            f"time {cell!r} has no unit: name it in the header (Time [s], time_h) "
            "or pass time_unit='s', 'min' or 'h'",
            source=source,
            record=record,
            field=field,
        )
    return number * _hours_per(unit, source=source, record=record, field=field)


def _parse_value(
    cell: object, notes: list[str], *, source: str | None, record: str, field: str
) -> float:
    if isinstance(cell, bool):
        raise ValidationError(
            f"value {cell!r} is not a number", source=source, record=record, field=field
        )
    if isinstance(cell, int | float):
        return float(cell)
    text = _text(cell)
    if not text:
        notes.append(f"{record}, well {field}: empty cell kept as NaN")
        return math.nan
    try:
        return float(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
    except ValueError:
        pass
    if _SATURATED.match(text):
        notes.append(f"{record}, well {field}: saturated read {text!r} kept as NaN")
        return math.nan
    raise ValidationError(
        f"value {text!r} is not a number (saturated reads such as OVRFLW are kept as NaN)",
        source=source,
        record=record,
        field=field,
    )


# --- layouts ---------------------------------------------------------------------------------


def _is_well(cell: object) -> bool:
    return isinstance(cell, str) and bool(_WELL.match(cell.strip().upper()))


def _find_wide_header(grid: Grid, start: int) -> int | None:
    for k in range(start, len(grid)):
        row = grid[k][1]
        if (
            row
            and isinstance(row[0], str)
            and _time_unit_of(row[0]) is not None
            and any(_is_well(c) for c in row[1:])
        ):
            return k
    return None


def _transpose_tecan(grid: Grid) -> Grid | None:
    """Tecan's one-row-per-well export turned into one row per time point."""
    rows = {k: r for k, (_, r) in enumerate(grid)}
    time_k = next(
        (
            k
            for k, r in rows.items()
            if r and isinstance(r[0], str) and _time_unit_of(r[0]) is not None
        ),
        None,
    )
    if time_k is None:
        return None
    block: list[list[object]] = []
    origin: list[int] = []
    for k in range(time_k, len(grid)):
        r = _strip(grid[k][1])
        if not r:
            break
        if k == time_k or _is_well(r[0]) or (isinstance(r[0], str) and _TEMP_HEADER.match(r[0])):
            block.append(r)
            origin.append(grid[k][0])
    if len(block) < 2 or not any(_is_well(r[0]) for r in block):
        return None
    width = max(len(r) for r in block)
    padded = [r + [None] * (width - len(r)) for r in block]
    header_row = grid[time_k][0]
    out: Grid = [(header_row, [r[0] for r in padded])]
    for j in range(1, width):
        # record the column number as the "row" of a transposed table
        out.append((j + 1, [r[j] for r in padded]))
    return out


def _parse_wide(
    grid: Grid,
    *,
    source: str | None,
    time_unit: str | None,
    block: str | None,
) -> tuple[FloatArray, list[str], FloatArray, FloatArray | None, list[str], int]:
    start = 0
    if block is not None:
        found = next(
            (k for k, (_, r) in enumerate(grid) if any(block in _text(c) for c in r[:2])), None
        )
        if found is None:
            raise ValidationError(f"no read block labelled {block!r}", source=source, field="block")
        start = found
    k = _find_wide_header(grid, start)
    if k is None:
        turned = _transpose_tecan(grid[start:])
        if turned is None:
            raise FormatError(
                "no kinetic table: expected a header row 'Time, [T°], A1, A2, ...' "
                "or a long table with columns time, well, value",
                source=source,
            )
        grid, k = turned, 0
    header_rowno, header = grid[k][0], _strip(grid[k][1])
    time_header = str(header[0])
    unit = time_unit if time_unit is not None else _time_unit_of(time_header) or ""
    hrecord = f"row {header_rowno}"
    if unit:
        _hours_per(unit, source=source, record=hrecord, field=time_header)
    well_cols: list[tuple[int, str]] = []
    temp_col: int | None = None
    seen: set[str] = set()
    for j, cell in enumerate(header[1:], start=1):
        name = _text(cell)
        if not name:
            continue
        if _TEMP_HEADER.match(name):
            temp_col = j
            continue
        if not _is_well(name):
            continue  # other per-row columns (Cycle Nr., Mean) are ignored
        well = normalise_well(name)
        if well in seen:
            raise ValidationError(
                f"well {well} has two columns", source=source, record=hrecord, field=name
            )
        seen.add(well)
        well_cols.append((j, well))
    times: list[float] = []
    temps: list[float] = []
    rows: list[list[float]] = []
    notes: list[str] = []
    for rowno, row in grid[k + 1 :]:
        record = f"row {rowno}"
        t = _parse_time(
            row[0] if row else None, unit, source=source, record=record, field=time_header
        )
        if t is None:
            break
        if times and t <= times[-1]:
            raise ValidationError(
                f"time {t:g} h does not increase (previous {times[-1]:g} h)",
                source=source,
                record=record,
                field=time_header,
            )
        cells = row + [None] * (len(header) - len(row))
        rows.append(
            [
                _parse_value(cells[j], notes, source=source, record=record, field=w)
                for j, w in well_cols
            ]
        )
        if temp_col is not None:
            temps.append(
                _parse_value(
                    cells[temp_col],
                    notes,
                    source=source,
                    record=record,
                    field=_text(header[temp_col]),
                )
            )
        times.append(t)
    if not times:
        raise FormatError("the kinetic table has no rows", source=source, record=hrecord)
    return (
        np.asarray(times, dtype=float),
        [w for _, w in well_cols],
        np.asarray(rows, dtype=float).reshape(len(times), len(well_cols)),
        np.asarray(temps, dtype=float) if temp_col is not None else None,
        notes,
        header_rowno,
    )


def _parse_long(
    grid: Grid, *, source: str | None, time_unit: str | None, plate_map: PlateMap | None
) -> tuple[FloatArray, list[str], FloatArray, None, list[str], int]:
    k = next((i for i, (_, r) in enumerate(grid) if any(_text(c) for c in r)), None)
    if k is None:
        raise FormatError("the file is empty", source=source)
    header_rowno, header = grid[k][0], [_text(c) for c in _strip(grid[k][1])]
    lower = [h.lower() for h in header]
    t_col = next((j for j, h in enumerate(header) if _time_unit_of(h) is not None), None)
    missing = [
        name
        for name, ok in (
            ("time", t_col is not None),
            ("well", "well" in lower),
            ("value", "value" in lower),
        )
        if not ok
    ]
    if missing:
        raise FormatError(
            f"a long table needs columns time, well and value; missing {', '.join(missing)}",
            source=source,
            record=f"row {header_rowno}",
        )
    assert t_col is not None
    w_col, v_col = lower.index("well"), lower.index("value")
    s_col = lower.index("sample") if "sample" in lower else None
    unit = time_unit if time_unit is not None else _time_unit_of(header[t_col]) or ""
    if unit:
        _hours_per(unit, source=source, record=f"row {header_rowno}", field=header[t_col])
    cells: dict[tuple[float, str], float] = {}
    notes: list[str] = []
    for rowno, row in grid[k + 1 :]:
        if not any(_text(c) for c in row):
            continue
        record = f"row {rowno}"
        row = row + [None] * (len(header) - len(row))
        t = _parse_time(row[t_col], unit, source=source, record=record, field=header[t_col])
        if t is None:
            raise ValidationError("no time", source=source, record=record, field=header[t_col])
        well = _well_or_error(_text(row[w_col]), source=source, record=record, field="well")
        if s_col is not None and plate_map is not None:
            sample = _text(row[s_col])
            if sample and sample not in plate_map.samples and sample.lower() not in _BLANK_ROLES:
                raise ValidationError(
                    f"sample {sample!r} is not in the plate map",
                    source=source,
                    record=record,
                    field="sample",
                )
            if sample and well in plate_map and plate_map[well].sample not in (sample, None):
                raise ValidationError(
                    f"well {well} holds {plate_map[well].sample!r} in the plate map, "
                    f"not {sample!r}",
                    source=source,
                    record=record,
                    field="sample",
                )
        value = _parse_value(row[v_col], notes, source=source, record=record, field=well)
        key = (round(t, 9), well)
        if key in cells:
            raise ValidationError(
                f"well {well} has two values at {t:g} h", source=source, record=record, field="well"
            )
        cells[key] = value
    if not cells:
        raise FormatError("the long table has no rows", source=source)
    times = sorted({t for t, _ in cells})
    wells = sorted({w for _, w in cells}, key=_plate_order)
    ti = {t: i for i, t in enumerate(times)}
    wi = {w: j for j, w in enumerate(wells)}
    values = np.full((len(times), len(wells)), np.nan)
    for (t, w), v in cells.items():
        values[ti[t], wi[w]] = v
    n_missing = len(times) * len(wells) - len(cells)
    if n_missing:
        notes.append(f"{n_missing} (time, well) pairs have no row and are kept as NaN")
    return np.asarray(times), wells, values, None, notes, header_rowno


def _plate_order(well: str) -> tuple[int, str, int]:
    m = _WELL.match(well)
    assert m
    return (len(m.group(1)), m.group(1), int(m.group(2)))


def _looks_long(grid: Grid) -> bool:
    for _, row in grid:
        texts = [_text(c).lower() for c in row]
        if any(texts):
            return "well" in texts and "value" in texts
    return False


def parse_kinetic(
    grid: Sequence[Sequence[object]],
    *,
    source: str | None = None,
    layout: Layout = "auto",
    measurement: Measurement | None = None,
    plate_map: PlateMap | None = None,
    time_unit: TimeUnit | None = None,
    block: str | None = None,
) -> PlateReading:
    """Parse a kinetic plate read from rows of cells (already read from a file or upload).

    Parameters are those of :func:`read_kinetic`; ``grid`` holds the rows, the first row
    being row 1 in error messages.

    Examples
    --------
    >>> r = parse_kinetic([["Time", "T° OD:600", "A1", "A2"],
    ...                    ["0:00:00", "30.0", "0.10", "0.11"],
    ...                    ["0:30:00", "30.1", "0.12", "0.30"]], source="demo.csv")
    >>> r.time_h.tolist(), r.well("A2").tolist(), r.temperature_c.tolist()
    ([0.0, 0.5], [0.11, 0.3], [30.0, 30.1])
    """
    rows: Grid = [(i, list(r)) for i, r in enumerate(grid, start=1)]
    if layout == "auto":
        layout = "long" if _looks_long(rows) else "wide"
    if layout == "long":
        times, wells, values, temps, notes, header_row = _parse_long(
            rows, source=source, time_unit=time_unit, plate_map=plate_map
        )
    else:
        times, wells, values, temps, notes, header_row = _parse_wide(
            rows, source=source, time_unit=time_unit, block=block
        )
    if plate_map is not None:
        absent = [w for w in plate_map.measured if w not in wells]
        if absent:
            raise ValidationError(
                f"wells {', '.join(absent)} are in the plate map but not in the data",
                source=source,
                record=f"row {header_row}",
                field=absent[0],
            )
        unknown = [w for w in wells if w not in plate_map]
        if unknown:
            raise ValidationError(
                f"wells {', '.join(unknown)} have measurements but are not in the plate map; "
                "add them (role empty to ignore them)",
                source=source,
                record=f"row {header_row}",
                field=unknown[0],
            )
        keep = [j for j, w in enumerate(wells) if plate_map[w].role != "empty"]
        wells = [wells[j] for j in keep]
        values = values[:, keep]
    for note in notes:
        warnings.warn(f"{source or '<data>'}: {note}", AssayWarning, stacklevel=3)
    return PlateReading(
        time_h=times,
        wells=tuple(wells),
        values=np.ascontiguousarray(values, dtype=float),
        measurement=measurement or Measurement(),
        temperature_c=temps,
        plate_map=plate_map,
        source=source,
        warnings=tuple(notes),
    )


def read_kinetic(
    path: str | Path,
    *,
    layout: Layout = "auto",
    measurement: Measurement | None = None,
    plate_map: PlateMap | str | Path | None = None,
    time_unit: TimeUnit | None = None,
    sheet: str | int | None = None,
    block: str | None = None,
) -> PlateReading:
    """Read a kinetic plate-reader export (CSV or ``.xlsx``).

    Parameters
    ----------
    path
        The export: a wide kinetic table (Gen5, Tecan) or a long ``time, well, value`` table.
    layout
        ``"wide"``, ``"long"`` or ``"auto"`` (long when a header has ``well`` and ``value``).
    measurement
        What was measured (default OD600 in AU).
    plate_map
        A :class:`PlateMap` or the path of one (see :func:`read_plate_map`).
    time_unit
        The unit of numeric times when the header names none (``"s"``, ``"min"``, ``"h"``).
    sheet
        The Excel sheet (name or index; default the first).
    block
        For exports with several reads (Gen5 ``OD:600`` then ``GFP:485,528``): the text
        labelling the block to read; the first table after it is read.

    Returns
    -------
    PlateReading
        Times in hours, one column per measured well.

    Raises
    ------
    ValidationError
        Naming the file, row and field: unknown time unit, text where a number belongs,
        a time that does not increase, wells missing from the data or from the map.
    FormatError
        When no kinetic table is found.

    Warns
    -----
    AssayWarning
        For each saturated read or empty cell (kept as ``NaN``).
    """
    path = Path(path)
    pm = read_plate_map(plate_map) if isinstance(plate_map, str | Path) else plate_map
    grid = _read_grid(path, sheet)
    return parse_kinetic(
        [r for _, r in grid],
        source=str(path),
        layout=layout,
        measurement=measurement,
        plate_map=pm,
        time_unit=time_unit,
        block=block,
    )


def read_plate_map(path: str | Path, *, sheet: str | int | None = None) -> PlateMap:
    """Read a plate map: a table with columns ``well`` and ``sample`` (or ``strain``).

    Optional columns are ``replicate`` and ``role`` (``sample``, ``blank``/``medium``,
    ``empty``). A well whose sample is ``blank`` or ``medium`` is a blank; a well
    without a sample is empty.

    Raises
    ------
    ValidationError
        Naming the file, row and field for a bad well name, a duplicate well, an
        unknown role or a replicate that is not a whole number.
    """
    path = Path(path)
    grid = _read_grid(path, sheet)
    k = next((i for i, (_, r) in enumerate(grid) if any(_text(c) for c in r)), None)
    if k is None:
        raise FormatError("the plate map is empty", source=str(path))
    header = [_text(c).lower() for c in grid[k][1]]
    if "well" not in header:
        raise FormatError(
            "a plate map needs a column 'well'", source=str(path), record=f"row {grid[k][0]}"
        )
    names = {"strain": "sample"}
    records: list[dict[str, Any]] = []
    for rowno, row in grid[k + 1 :]:
        if not any(_text(c) for c in row):
            continue
        rec: dict[str, Any] = {"_row": rowno}
        for h, c in zip(header, row, strict=False):
            if h:
                rec.setdefault(names.get(h, h), c)
        records.append(rec)
    return PlateMap.from_records(records, source=str(path))
