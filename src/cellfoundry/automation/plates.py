"""Labware, plates and sample tracking: what is in each well, and how much.

A :class:`Labware` describes a plate type on the SBS footprint (96 wells in
8 rows x 12 columns, 384 in 16 x 24) with the working range of its wells: the
most a well holds and the dead volume an instrument cannot draw from it. A
:class:`Plate` is one physical plate of that type; it records the liquid in
each well and refuses an aspiration that would draw into the dead volume
(an *overdraw*) and a dispense that would overfill a well, so a plan that
passes through it cannot ask a robot for liquid that is not there.

Volumes are in microlitres (µL) throughout and are kept to the picolitre
(six decimals of a µL), so that 50 - 3 x 2.5 is exactly 42.5.

Plate maps are CSV files with the columns ``plate,well,sample,volume_ul``
(optionally ``concentration``, e.g. ``20 fmol/µL`` or ``50 ng/uL``). Volumes
may carry a unit (``µL``, ``uL``, ``ul``, ``nL``, ``mL``); a bare number is µL.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Literal

from cellfoundry.core.errors import ValidationError

__all__ = [
    "ECHO_384LDV",
    "ECHO_384PP",
    "LABWARE",
    "PCR_96",
    "PCR_384",
    "PLATE_MAP_COLUMNS",
    "RESERVOIR_96_DEEP",
    "Labware",
    "Plate",
    "WellContents",
    "format_ul",
    "parse_concentration",
    "parse_volume_ul",
    "plate_map_csv",
    "read_plate_map",
    "transfer",
    "write_plate_map",
]

WellOrder = Literal["row", "column"]
"""``"row"``: A1, A2, ... A12, B1 ...; ``"column"``: A1, B1, ... H1, A2 ..."""

_ROW_LETTERS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_WELL: Final = re.compile(r"^\s*([A-Za-z])0*([1-9][0-9]*)\s*$")
_DECIMALS: Final = 6
"""Volumes are rounded to 1e-6 µL (1 pL) after each operation."""


def _round(volume_ul: float) -> float:
    return round(volume_ul, _DECIMALS) + 0.0  # "+ 0.0" turns -0.0 into 0.0


def format_ul(volume_ul: float) -> str:
    """Return a volume in µL as text without trailing zeros, to the picolitre.

    Examples
    --------
    >>> format_ul(2.5), format_ul(10.0), format_ul(0.1 + 0.2)
    ('2.5', '10', '0.3')
    """
    return f"{_round(volume_ul):.{_DECIMALS}f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- labware


@dataclass(frozen=True, slots=True)
class Labware:
    """A plate type: SBS layout and the working volume range of its wells.

    Parameters
    ----------
    name
        Short identifier (``"echo_384pp"``).
    rows, columns
        8 x 12 for 96 wells, 16 x 24 for 384.
    max_volume_ul
        The most liquid a well may hold (its working maximum, not its brim).
    dead_volume_ul
        Liquid that stays in a well because the instrument cannot draw it.
    description
        What the plate is, for people.
    opentrons_load_name
        The Opentrons labware definition with the same geometry, if any.
    echo_plate_type
        The Labcyte Echo plate type, if the plate is an Echo source plate.
    """

    name: str
    rows: int
    columns: int
    max_volume_ul: float
    dead_volume_ul: float = 0.0
    description: str = ""
    opentrons_load_name: str | None = None
    echo_plate_type: str | None = None

    def __post_init__(self) -> None:
        if not (1 <= self.rows <= len(_ROW_LETTERS) and self.columns >= 1):
            raise ValidationError(
                f"labware {self.name!r} has {self.rows} x {self.columns} wells; "
                "rows must be 1-26 and columns at least 1",
                record=self.name,
                field="rows",
            )
        if not 0 <= self.dead_volume_ul < self.max_volume_ul:
            raise ValidationError(
                f"labware {self.name!r}: dead volume {self.dead_volume_ul} µL must be "
                f"at least 0 and below the maximum {self.max_volume_ul} µL",
                record=self.name,
                field="dead_volume_ul",
            )

    @property
    def well_count(self) -> int:
        """Number of wells."""
        return self.rows * self.columns

    @property
    def usable_volume_ul(self) -> float:
        """What one well can give: maximum minus dead volume."""
        return _round(self.max_volume_ul - self.dead_volume_ul)

    def wells(self, order: WellOrder = "row") -> tuple[str, ...]:
        """Return every well name in row order (A1, A2, ...) or column order (A1, B1, ...).

        Examples
        --------
        >>> PCR_96.wells()[:3], PCR_96.wells("column")[:3], PCR_96.wells()[-1]
        (('A1', 'A2', 'A3'), ('A1', 'B1', 'C1'), 'H12')
        """
        letters = _ROW_LETTERS[: self.rows]
        if order == "row":
            return tuple(f"{r}{c}" for r in letters for c in range(1, self.columns + 1))
        return tuple(f"{r}{c}" for c in range(1, self.columns + 1) for r in letters)

    def well(self, name: str) -> str:
        """Return the canonical name of a well (``"a01"`` -> ``"A1"``), or raise.

        Raises
        ------
        ValidationError
            If ``name`` is not a well of this labware (``I1`` or ``A13`` on 96 wells).

        Examples
        --------
        >>> PCR_96.well("b07")
        'B7'
        """
        row, column = self.position(name)
        return f"{_ROW_LETTERS[row]}{column + 1}"

    def position(self, name: str) -> tuple[int, int]:
        """Return the 0-based ``(row, column)`` of a well."""
        match = _WELL.match(name)
        if match is not None:
            row = _ROW_LETTERS.index(match.group(1).upper())
            column = int(match.group(2)) - 1
            if row < self.rows and column < self.columns:
                return row, column
        last = f"{_ROW_LETTERS[self.rows - 1]}{self.columns}"
        raise ValidationError(
            f"{name!r} is not a well of {self.name} ({self.well_count} wells, A1 to {last})",
            field="well",
        )

    def index(self, name: str, order: WellOrder = "column") -> int:
        """Return the 1-based number of a well counted in ``order``.

        Column order is how Tecan EVOware numbers positions (A1 = 1, B1 = 2).

        Examples
        --------
        >>> PCR_96.index("B1"), PCR_96.index("A2"), PCR_96.index("A2", "row")
        (2, 9, 2)
        """
        row, column = self.position(name)
        if order == "column":
            return column * self.rows + row + 1
        return row * self.columns + column + 1

    def well_at(self, index: int, order: WellOrder = "column") -> str:
        """Return the well with 1-based number ``index`` in ``order`` (inverse of :meth:`index`)."""
        if not 1 <= index <= self.well_count:
            raise ValidationError(
                f"position {index} is outside {self.name} (1 to {self.well_count})",
                field="position",
            )
        i = index - 1
        row, column = (
            (i % self.rows, i // self.rows) if order == "column" else divmod(i, self.columns)
        )
        return f"{_ROW_LETTERS[row]}{column + 1}"


ECHO_384PP: Final = Labware(
    "echo_384pp",
    16,
    24,
    max_volume_ul=65.0,
    dead_volume_ul=12.0,
    description="Labcyte Echo Qualified 384-well polypropylene source plate (384PP), 12-65 µL",
    echo_plate_type="384PP_AQ_BP",
)
ECHO_384LDV: Final = Labware(
    "echo_384ldv",
    16,
    24,
    max_volume_ul=12.0,
    dead_volume_ul=2.5,
    description="Labcyte Echo Qualified 384-well low dead volume source plate (384LDV), 2.5-12 µL",
    echo_plate_type="384LDV_AQ_B",
)
PCR_96: Final = Labware(
    "pcr_96",
    8,
    12,
    max_volume_ul=200.0,
    dead_volume_ul=5.0,
    description="96-well skirted PCR plate, 200 µL wells",
    opentrons_load_name="biorad_96_wellplate_200ul_pcr",
)
PCR_384: Final = Labware(
    "pcr_384",
    16,
    24,
    max_volume_ul=40.0,
    dead_volume_ul=3.0,
    description="384-well PCR plate, 40 µL working volume",
    opentrons_load_name="biorad_384_wellplate_50ul",
)
RESERVOIR_96_DEEP: Final = Labware(
    "deep_96",
    8,
    12,
    max_volume_ul=2000.0,
    dead_volume_ul=50.0,
    description="96-well 2 mL deep-well plate",
    opentrons_load_name="nest_96_wellplate_2ml_deep",
)

LABWARE: Final[dict[str, Labware]] = {
    lw.name: lw for lw in (ECHO_384PP, ECHO_384LDV, PCR_96, PCR_384, RESERVOIR_96_DEEP)
}
"""The shipped labware by name; make others with :class:`Labware` or ``dataclasses.replace``."""


# --------------------------------------------------------------------------- units

_VOLUME_UNITS: Final[dict[str, float]] = {
    "µL": 1.0,  # micro sign U+00B5
    "μL": 1.0,  # Greek mu U+03BC, which some keyboards give
    "uL": 1.0,
    "ul": 1.0,
    "nL": 1e-3,
    "mL": 1e3,
}
_QUANTITY: Final = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")


def parse_volume_ul(text: str, *, default_unit: str = "µL") -> float:
    """Return a volume in µL from text such as ``"2.5 µL"``, ``"500 nL"`` or ``"5"``.

    Parameters
    ----------
    text
        A number, optionally followed by one of ``µL``, ``uL``, ``ul``, ``nL`` or ``mL``
        (units are case-sensitive: ``ml`` is refused rather than guessed).
    default_unit
        The unit of a bare number.

    Raises
    ------
    ValidationError
        If the text is not a number with a known unit, or the volume is negative.

    Examples
    --------
    >>> parse_volume_ul("500 nL"), parse_volume_ul("2.5uL"), parse_volume_ul("0.02 mL")
    (0.5, 2.5, 20.0)
    """
    match = _QUANTITY.match(text)
    if match is None:
        raise ValidationError(f"{text!r} is not a volume; write e.g. '2.5 µL'", field="volume")
    unit = match.group(2) or default_unit
    if unit not in _VOLUME_UNITS:
        known = ", ".join(_VOLUME_UNITS)
        raise ValidationError(
            f"unknown volume unit {unit!r} in {text!r}; use one of {known}", field="volume"
        )
    value = float(match.group(1)) * _VOLUME_UNITS[unit]
    if not math.isfinite(value):
        raise ValidationError(f"{text!r} is not a finite volume", field="volume")
    if value < 0:
        raise ValidationError(f"negative volume {text!r}", field="volume")
    return _round(value)


ConcentrationUnit = Literal["ng/µL", "fmol/µL"]

_CONCENTRATION_UNITS: Final[dict[str, tuple[ConcentrationUnit, float]]] = {
    "ng/µL": ("ng/µL", 1.0),
    "ng/μL": ("ng/µL", 1.0),
    "ng/uL": ("ng/µL", 1.0),
    "ng/ul": ("ng/µL", 1.0),
    "fmol/µL": ("fmol/µL", 1.0),
    "fmol/μL": ("fmol/µL", 1.0),
    "fmol/uL": ("fmol/µL", 1.0),
    "fmol/ul": ("fmol/µL", 1.0),
    "nM": ("fmol/µL", 1.0),  # 1 nM = 1 fmol/µL
}


def parse_concentration(text: str) -> tuple[float, ConcentrationUnit]:
    """Return ``(value, unit)`` from ``"50 ng/µL"``, ``"20 fmol/uL"`` or ``"20 nM"``.

    Examples
    --------
    >>> parse_concentration("20 nM")
    (20.0, 'fmol/µL')
    """
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in _CONCENTRATION_UNITS:
        raise ValidationError(
            f"{text!r} is not a concentration; write e.g. '50 ng/µL', '20 fmol/µL' or '20 nM'",
            field="concentration",
        )
    unit, factor = _CONCENTRATION_UNITS[match.group(2)]
    value = float(match.group(1)) * factor
    if not (math.isfinite(value) and value > 0):
        raise ValidationError(f"concentration {text!r} must be positive", field="concentration")
    return value, unit


# --------------------------------------------------------------------------- plates


@dataclass(frozen=True, slots=True)
class WellContents:
    """The liquid in a well (or in a tip): a sample name, its volume and what it holds.

    ``components`` lists ``(sample, µL)`` of every liquid mixed in, so a
    reaction well records its parts; a well holding one sample has one
    component. ``concentration`` (with ``concentration_unit``) is the stock
    concentration of a single-sample well and ``None`` once liquids are mixed.
    """

    sample: str
    volume_ul: float
    concentration: float | None = None
    concentration_unit: ConcentrationUnit | None = None
    components: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if not self.components:
            object.__setattr__(self, "components", ((self.sample, self.volume_ul),))


class Plate:
    """One physical plate: its labware and the contents of each well.

    A plate is the mutable record of a run in progress: :meth:`aspirate`,
    :meth:`dispense` and :func:`transfer` change it, and refuse an overdraw or
    an overfill before changing anything. Copy it with :meth:`copy` to try a
    plan without touching the original.

    Parameters
    ----------
    name
        The plate's name (its label on the deck, its barcode).
    labware
        The plate type.

    Examples
    --------
    >>> src = Plate("src", ECHO_384PP)
    >>> src.add("A1", "pUC19", 20.0)
    >>> dest = Plate("dest", PCR_96)
    >>> transfer(src, "A1", dest, "A1", 2.5)
    >>> src.volume_ul("A1"), dest.volume_ul("A1")
    (17.5, 2.5)
    >>> transfer(src, "A1", dest, "A1", 6.0)
    Traceback (most recent call last):
    ...
    cellfoundry.core.errors.ValidationError: record 'src:A1', field 'volume_ul': cannot ...
    """

    __slots__ = ("_wells", "labware", "name")

    def __init__(self, name: str, labware: Labware) -> None:
        if not name.strip():
            raise ValidationError("a plate needs a name", field="plate")
        self.name = name
        self.labware = labware
        self._wells: dict[str, WellContents] = {}

    def __repr__(self) -> str:
        return f"Plate({self.name!r}, {self.labware.name}, {len(self._wells)} wells filled)"

    def copy(self) -> Plate:
        """Return an independent copy (contents are immutable values, so a shallow copy)."""
        other = Plate(self.name, self.labware)
        other._wells = dict(self._wells)
        return other

    def __getitem__(self, well: str) -> WellContents | None:
        return self._wells.get(self.labware.well(well))

    def __iter__(self) -> Iterator[tuple[str, WellContents]]:
        """Yield ``(well, contents)`` of the filled wells in row order."""
        for well in self.labware.wells("row"):
            if well in self._wells:
                yield well, self._wells[well]

    def volume_ul(self, well: str) -> float:
        """Return the volume in a well (0.0 when empty)."""
        contents = self[well]
        return 0.0 if contents is None else contents.volume_ul

    def available_ul(self, well: str) -> float:
        """Return what can be drawn from a well: its volume above the dead volume."""
        return max(0.0, _round(self.volume_ul(well) - self.labware.dead_volume_ul))

    def _where(self, well: str) -> str:
        return f"{self.name}:{well}"

    def _check_volume(self, well: str, volume_ul: float) -> None:
        if not (math.isfinite(volume_ul) and volume_ul > 0):
            raise ValidationError(
                f"volume {volume_ul!r} µL must be a positive number",
                record=self._where(well),
                field="volume_ul",
            )

    def check_aspirate(self, well: str, volume_ul: float) -> str:
        """Raise unless ``volume_ul`` can be drawn from ``well``; return the canonical well."""
        name = self.labware.well(well)
        self._check_volume(name, volume_ul)
        have = self.volume_ul(name)
        dead = self.labware.dead_volume_ul
        if _round(have - volume_ul) < dead:
            raise ValidationError(
                f"cannot aspirate {volume_ul:g} µL from well {name} of plate {self.name!r}: "
                f"it holds {have:g} µL and {dead:g} µL is dead volume, so at most "
                f"{self.available_ul(name):g} µL can be drawn; load more or split the draw",
                record=self._where(name),
                field="volume_ul",
            )
        return name

    def check_dispense(self, well: str, volume_ul: float) -> str:
        """Raise unless ``volume_ul`` fits in ``well``; return the canonical well."""
        name = self.labware.well(well)
        self._check_volume(name, volume_ul)
        have = self.volume_ul(name)
        if _round(have + volume_ul) > self.labware.max_volume_ul:
            raise ValidationError(
                f"cannot dispense {volume_ul:g} µL into well {name} of plate {self.name!r}: "
                f"it holds {have:g} µL and takes at most {self.labware.max_volume_ul:g} µL "
                f"({self.labware.name})",
                record=self._where(name),
                field="volume_ul",
            )
        return name

    def add(
        self,
        well: str,
        sample: str,
        volume_ul: float,
        *,
        concentration: float | None = None,
        concentration_unit: ConcentrationUnit | None = None,
    ) -> None:
        """Load ``volume_ul`` of a fresh sample into a well (empty, or holding the same sample)."""
        name = self.labware.well(well)
        current = self._wells.get(name)
        if current is not None and current.sample != sample:
            raise ValidationError(
                f"well {name} of plate {self.name!r} already holds {current.sample!r}; "
                f"load {sample!r} into an empty well",
                record=self._where(name),
                field="sample",
            )
        if not sample.strip():
            raise ValidationError("a sample needs a name", record=self._where(name), field="sample")
        self.dispense(name, WellContents(sample, volume_ul, concentration, concentration_unit))

    def aspirate(self, well: str, volume_ul: float) -> WellContents:
        """Draw ``volume_ul`` from a well and return the liquid drawn.

        Raises
        ------
        ValidationError
            If the well would fall below its dead volume (an overdraw); nothing changes.
        """
        name = self.check_aspirate(well, volume_ul)
        contents = self._wells[name]
        left = _round(contents.volume_ul - volume_ul)
        fraction_left = left / contents.volume_ul
        drawn = WellContents(
            contents.sample,
            _round(volume_ul),
            contents.concentration,
            contents.concentration_unit,
            tuple(
                (sample, _round(v * (1 - fraction_left)))
                for sample, v in contents.components
                if _round(v * (1 - fraction_left)) > 0
            ),
        )
        if left <= 0:
            del self._wells[name]
        else:
            self._wells[name] = replace(
                contents,
                volume_ul=left,
                components=tuple(
                    (sample, _round(v * fraction_left)) for sample, v in contents.components
                ),
            )
        return drawn

    def dispense(self, well: str, liquid: WellContents) -> None:
        """Add ``liquid`` to a well, mixing it with what is there.

        Raises
        ------
        ValidationError
            If the well would hold more than the labware's maximum; nothing changes.
        """
        name = self.check_dispense(well, liquid.volume_ul)
        current = self._wells.get(name)
        if current is None:
            self._wells[name] = replace(liquid, volume_ul=_round(liquid.volume_ul))
            return
        merged: dict[str, float] = dict(current.components)
        for sample, v in liquid.components:
            merged[sample] = _round(merged.get(sample, 0.0) + v)
        same = current.sample == liquid.sample and (
            current.concentration,
            current.concentration_unit,
        ) == (liquid.concentration, liquid.concentration_unit)
        self._wells[name] = WellContents(
            current.sample,
            _round(current.volume_ul + liquid.volume_ul),
            current.concentration if same else None,
            current.concentration_unit if same else None,
            tuple(merged.items()),
        )

    def label(self, well: str, sample: str) -> None:
        """Rename the contents of a filled well (a reaction well takes the reaction's name)."""
        name = self.labware.well(well)
        if name not in self._wells:
            raise ValidationError(
                f"well {name} of plate {self.name!r} is empty", record=self._where(name)
            )
        self._wells[name] = replace(self._wells[name], sample=sample)


def transfer(
    source: Plate, source_well: str, destination: Plate, destination_well: str, volume_ul: float
) -> None:
    """Move ``volume_ul`` from one well to another, checking both ends first.

    Raises
    ------
    ValidationError
        On an overdraw of the source or an overfill of the destination; neither
        plate changes.
    """
    source.check_aspirate(source_well, volume_ul)
    if source is destination and source.labware.well(source_well) == destination.labware.well(
        destination_well
    ):
        return
    destination.check_dispense(destination_well, volume_ul)
    destination.dispense(destination_well, source.aspirate(source_well, volume_ul))


# --------------------------------------------------------------------------- plate maps

PLATE_MAP_COLUMNS: Final = ("plate", "well", "sample", "volume_ul")
"""The required columns of a plate map; ``concentration`` is optional."""


def read_plate_map(
    source: str | Path,
    *,
    labware: Labware | Mapping[str, Labware] = PCR_96,
    text: str | None = None,
) -> dict[str, Plate]:
    r"""Read a plate map CSV (``plate,well,sample,volume_ul[,concentration]``) into plates.

    Every row is checked before any plate is returned, so a bad file gives
    an error and no plates, never half of them.

    Parameters
    ----------
    source
        The file to read, or its name when ``text`` is given.
    labware
        The labware of every plate, or a mapping from plate name to labware.
    text
        The file's content, when it is already in memory (an upload).

    Returns
    -------
    dict of str to Plate
        By plate name, in the order the plates first appear.

    Raises
    ------
    ValidationError
        Naming the file, the row (``row 3`` is the third line, the header being
        row 1) and the field: a missing column, an unknown or missing well, a
        volume that is not a number with a known unit, a negative volume, a
        well listed twice, a well overfilled or a plate without labware.

    Examples
    --------
    >>> header = "plate,well,sample,volume_ul"
    >>> plates = read_plate_map("map.csv", text=f"{header}\n" + "P1,A1,water,50 uL")
    >>> plates["P1"].volume_ul("A1")
    50.0
    >>> read_plate_map("map.csv", text=f"{header}\n" + "P1,A1,water,5 ml")
    Traceback (most recent call last):
    ...
    cellfoundry.core.errors.ValidationError: file 'map.csv', record 'row 2', field 'volume_ul': ...
    """
    name = str(source)
    content = Path(source).read_text(encoding="utf-8-sig") if text is None else text
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in PLATE_MAP_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            f"missing column(s) {', '.join(missing)}; a plate map needs "
            f"{','.join(PLATE_MAP_COLUMNS)}",
            source=name,
            record="row 1",
        )
    reader.fieldnames = header
    plates: dict[str, Plate] = {}
    seen: dict[tuple[str, str], int] = {}
    for raw in reader:
        row = f"row {reader.line_num}"
        cells = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}

        def fail(message: str, field: str, *, row: str = row) -> ValidationError:
            return ValidationError(message, source=name, record=row, field=field)

        if not any(cells.values()):
            continue
        plate_name = cells["plate"]
        if not plate_name:
            raise fail("the plate is missing", "plate")
        if isinstance(labware, Labware):
            plate_labware = labware
        elif plate_name in labware:
            plate_labware = labware[plate_name]
        else:
            raise fail(f"no labware given for plate {plate_name!r}", "plate")
        if not cells["well"]:
            raise fail("the well is missing", "well")
        try:
            well = plate_labware.well(cells["well"])
        except ValidationError as err:
            raise fail(err.message, "well") from None
        if (plate_name, well) in seen:
            raise fail(
                f"well {well} of plate {plate_name!r} is already on row {seen[plate_name, well]}",
                "well",
            )
        seen[plate_name, well] = reader.line_num
        sample = cells["sample"]
        if not sample:
            raise fail("the sample is missing", "sample")
        if not cells["volume_ul"]:
            raise fail("the volume is missing", "volume_ul")
        try:
            volume = parse_volume_ul(cells["volume_ul"])
        except ValidationError as err:
            raise fail(err.message, "volume_ul") from None
        concentration: tuple[float, ConcentrationUnit] | None = None
        if cells.get("concentration"):
            try:
                concentration = parse_concentration(cells["concentration"])
            except ValidationError as err:
                raise fail(err.message, "concentration") from None
        if volume == 0:
            raise fail("the volume is zero; leave empty wells out of the map", "volume_ul")
        plate = plates.setdefault(plate_name, Plate(plate_name, plate_labware))
        try:
            plate.add(
                well,
                sample,
                volume,
                concentration=None if concentration is None else concentration[0],
                concentration_unit=None if concentration is None else concentration[1],
            )
        except ValidationError as err:
            raise fail(err.message, err.field or "volume_ul") from None
    return plates


def plate_map_csv(plates: Iterable[Plate]) -> str:
    """Return plates as plate map CSV text, wells in row order.

    A ``concentration`` column is written when any well has one.
    """
    plates = list(plates)
    with_conc = any(c.concentration is not None for p in plates for _, c in p)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*PLATE_MAP_COLUMNS, *(["concentration"] if with_conc else [])])
    for plate in plates:
        for well, contents in plate:
            row = [plate.name, well, contents.sample, format_ul(contents.volume_ul)]
            if with_conc:
                row.append(
                    ""
                    if contents.concentration is None
                    else f"{contents.concentration:g} {contents.concentration_unit}"
                )
            writer.writerow(row)
    return out.getvalue()


def write_plate_map(plates: Iterable[Plate], path: str | Path) -> None:
    """Write plates to a plate map CSV file (UTF-8); see :func:`plate_map_csv`."""
    Path(path).write_text(plate_map_csv(plates), encoding="utf-8")
