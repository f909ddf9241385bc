r"""The strain catalogue CSV: bulk import and export of :class:`StrainRecord`.

One row per strain, one column per field of
:class:`~cellfoundry.bank.models.StrainRecord` (the MIRRI-IS mandatory fields
and the WFCC minimum data set). Header names are matched ignoring case and
surrounding spaces; columns may come in any order and optional ones may be
left out. The delimiter (``,`` ``;`` or tab) is taken from the header line,
the encoding is UTF-8 (with or without BOM), falling back to Windows-1252.

========================  =========  ==============================================
column                    required   content
========================  =========  ==============================================
``accession``             yes        the collection's accession number, unique
``other_accessions``                 ``;``-separated numbers in other collections
``taxon_name``            yes        organism / taxon name
``ncbi_taxid``                       NCBI taxonomy id, a positive integer
``organism_type``         yes        bacterium, archaeon, yeast, filamentous
                                     fungus, alga, phage, other
``risk_group``            yes        1, 2, 3 or 4
``type_strain``                      yes / no (also true/false, y/n, 1/0)
``isolation_source``                 substrate or host of isolation
``country``                          country of origin
``locality``                         place of sampling
``latitude``                         decimal degrees, -90 to 90
``longitude``                        decimal degrees, -180 to 180
``growth_medium``                    recommended medium
``growth_temperature_c``             recommended temperature, °C (-20 to 130)
``atmosphere``                       aerobic, anaerobic, microaerophilic,
                                     facultative, CO2-enriched
``supply_forms``                     ``;``-separated: agar, freeze-dried, frozen,
                                     liquid, DNA
``restrictions``                     restrictions on use
``nagoya``                           no known restrictions, documents available,
                                     within scope, PIC and MAT required, outside
                                     scope, unknown (default)
``genotype``                         genotype
``history``                          history of deposit (``<- depositor <- isolator``)
``status``                           available (default), restricted, planned,
                                     not available
``parent_accession``                 accession of the strain this one derives from
``modifications``                    ``;``-separated ``kind:target:description``,
                                     kind one of deletion, insertion, point
                                     mutation, plasmid transformation, adaptive
                                     evolution, replacement, other
``plasmid_names``                    ``;``-separated plasmid names
``remarks``                          free text
========================  =========  ==============================================

Vocabulary cells match case-insensitively and are stored in the spelling
above. A header with an unknown or a missing mandatory column is a
:class:`~cellfoundry.core.errors.FormatError`. Bad cells are collected over
the whole file and raised together as one :class:`CatalogueErrors`, each
naming the file, the record (accession, or ``line N``) and the field.

Examples
--------
>>> text = "accession,taxon_name,organism_type,risk_group,supply_forms\n"
>>> text += "CF-1,Escherichia coli K-12,bacterium,1,frozen; DNA\n"
>>> (strain,) = parse_catalogue(text)
>>> strain.accession, strain.risk_group, strain.supply_forms
('CF-1', 1, ('frozen', 'DNA'))
>>> parse_catalogue(text.replace(",1,", ",5,"), source="strains.csv")
Traceback (most recent call last):
...
cellfoundry.bank.formats.catalogue.CatalogueErrors: file 'strains.csv': 1 problem in...
>>> try:
...     parse_catalogue(text.replace(",1,", ",5,"), source="strains.csv")
... except CatalogueErrors as exc:
...     print(exc.errors[0])
file 'strains.csv', record 'CF-1', field 'risk_group': risk group must be 1, 2, 3 or 4, not '5'...
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from cellfoundry.bank.formats import Readable, _decode, _load
from cellfoundry.bank.models import (
    ATMOSPHERES,
    MODIFICATION_KINDS,
    NAGOYA_STATUSES,
    ORGANISM_TYPES,
    RISK_GROUPS,
    STRAIN_STATUSES,
    SUPPLY_FORMS,
    Modification,
    ModificationKind,
    StrainRecord,
)
from cellfoundry.core.errors import FormatError, ValidationError

__all__ = [
    "COLUMNS",
    "MANDATORY_COLUMNS",
    "CatalogueErrors",
    "iter_catalogue",
    "parse_catalogue",
    "read_catalogue",
    "write_catalogue",
]

#: The catalogue columns, in the order :func:`write_catalogue` writes them.
COLUMNS: tuple[str, ...] = (
    "accession",
    "other_accessions",
    "taxon_name",
    "ncbi_taxid",
    "organism_type",
    "risk_group",
    "type_strain",
    "isolation_source",
    "country",
    "locality",
    "latitude",
    "longitude",
    "growth_medium",
    "growth_temperature_c",
    "atmosphere",
    "supply_forms",
    "restrictions",
    "nagoya",
    "genotype",
    "history",
    "status",
    "parent_accession",
    "modifications",
    "plasmid_names",
    "remarks",
)
#: Columns every catalogue must have, with a value in every row.
MANDATORY_COLUMNS: tuple[str, ...] = ("accession", "taxon_name", "organism_type", "risk_group")

_SHOWN_ERRORS = 5
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0", ""})


class CatalogueErrors(ValidationError):
    """Every bad cell and duplicate of a catalogue, raised together.

    Attributes
    ----------
    errors
        One :class:`~cellfoundry.core.errors.ValidationError` per problem, in
        file order, each with ``source``, ``record`` and ``field``.
    """

    def __init__(self, errors: Sequence[ValidationError], *, source: str | None) -> None:
        self.errors = list(errors)
        shown = "; ".join(_describe(e) for e in self.errors[:_SHOWN_ERRORS])
        more = len(self.errors) - _SHOWN_ERRORS
        count = f"{len(self.errors)} problem{'s' if len(self.errors) != 1 else ''}"
        single = self.errors[0] if len(self.errors) == 1 else None
        super().__init__(
            f"{count} in the catalogue: {shown}" + (f"; and {more} more" if more > 0 else ""),
            source=source,
            record=None if single is None else single.record,
            field=None if single is None else single.field,
        )

    def _render(self) -> str:
        return f"file {self.source!r}: {self.message}" if self.source else self.message


def _describe(error: ValidationError) -> str:
    where = [
        f"{name} {value!r}"
        for name, value in (("record", error.record), ("field", error.field))
        if value
    ]
    return f"{', '.join(where)}: {error.message}" if where else error.message


class _CellError(ValueError):
    """A cell's value is invalid; the caller adds file, record and field."""


def _text(value: str) -> str:
    return value


def _items(value: str) -> tuple[str, ...]:
    if ";" not in value:
        return (value,)
    return tuple(item for item in [part.strip() for part in value.split(";")] if item)


def _vocabulary(name: str, words: Sequence[str]) -> Callable[[str], str]:
    canonical = {w.lower(): w for w in words}

    def parse(value: str) -> str:
        try:
            return canonical[value.lower()]
        except KeyError:
            raise _CellError(
                f"{value!r} is not a valid {name}; use one of: {', '.join(words)}"
            ) from None

    return parse


_organism_type = _vocabulary("organism type", ORGANISM_TYPES)
_atmosphere = _vocabulary("atmosphere", ATMOSPHERES)
_supply_form = _vocabulary("supply form", SUPPLY_FORMS)
_nagoya = _vocabulary("Nagoya status", NAGOYA_STATUSES)
_status = _vocabulary("status", STRAIN_STATUSES)
_modification_kind = _vocabulary("modification kind", MODIFICATION_KINDS)


def _taxid(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) == 0:
        raise _CellError(f"NCBI taxonomy id must be a positive integer, not {value!r}")
    return int(value)


def _risk_group(value: str) -> int:
    if not value.isdigit() or int(value) not in RISK_GROUPS:
        raise _CellError(f"risk group must be 1, 2, 3 or 4, not {value!r}")
    return int(value)


def _yes_no(value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise _CellError(f"type_strain must be yes or no, not {value!r}")


def _bounded(what: str, low: float, high: float, unit: str) -> Callable[[str], float | None]:
    def parse(value: str) -> float | None:
        if not value:
            return None
        try:
            number = float(
                value.replace(",", ".") if value.count(",") == 1 and "." not in value else value
            )
        except ValueError:
            raise _CellError(f"{what} must be a number, not {value!r}") from None
        if not math.isfinite(number) or not low <= number <= high:
            raise _CellError(f"{what} must be between {low:g} and {high:g}{unit}, not {value!r}")
        return number

    return parse


_latitude = _bounded("latitude", -90, 90, "°")
_longitude = _bounded("longitude", -180, 180, "°")
_temperature = _bounded("growth temperature", -20, 130, " °C")


def _atmosphere_or_none(value: str) -> str | None:
    return _atmosphere(value) if value else None


def _supply_forms(value: str) -> tuple[str, ...]:
    return tuple(_supply_form(item) for item in _items(value))


def _nagoya_or_default(value: str) -> str:
    return _nagoya(value) if value else "unknown"


def _status_or_default(value: str) -> str:
    return _status(value) if value else "available"


def _parent(value: str) -> str | None:
    return value or None


def _modifications(value: str) -> tuple[Modification, ...]:
    mods = []
    for item in _items(value):
        kind, _, rest = item.partition(":")
        target, _, description = rest.partition(":")
        mods.append(
            Modification(
                kind=cast(ModificationKind, _modification_kind(kind.strip())),
                target=target.strip(),
                description=description.strip(),
            )
        )
    return tuple(mods)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "accession": _text,
    "other_accessions": _items,
    "taxon_name": _text,
    "ncbi_taxid": _taxid,
    "organism_type": _organism_type,
    "risk_group": _risk_group,
    "type_strain": _yes_no,
    "isolation_source": _text,
    "country": _text,
    "locality": _text,
    "latitude": _latitude,
    "longitude": _longitude,
    "growth_medium": _text,
    "growth_temperature_c": _temperature,
    "atmosphere": _atmosphere_or_none,
    "supply_forms": _supply_forms,
    "restrictions": _text,
    "nagoya": _nagoya_or_default,
    "genotype": _text,
    "history": _text,
    "status": _status_or_default,
    "parent_accession": _parent,
    "modifications": _modifications,
    "plasmid_names": _items,
    "remarks": _text,
}


def _header(row: list[str], source: str | None) -> list[str]:
    names = [cell.strip().lower().replace(" ", "_") for cell in row]
    unknown = [n for n in names if n not in _PARSERS]
    if unknown:
        raise FormatError(
            f"unknown column(s) {', '.join(repr(n) for n in unknown)}; "
            f"the catalogue columns are: {', '.join(COLUMNS)}",
            source=source,
            record="line 1",
            field=unknown[0],
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FormatError(
            f"column(s) {', '.join(repeated)} appear more than once",
            source=source,
            record="line 1",
            field=repeated[0],
        )
    missing = [n for n in MANDATORY_COLUMNS if n not in names]
    if missing:
        raise FormatError(
            f"missing mandatory column(s) {', '.join(missing)}; "
            f"every catalogue needs {', '.join(MANDATORY_COLUMNS)}",
            source=source,
            record="line 1",
            field=missing[0],
        )
    return names


def _rows(data: Readable, source: str | None) -> Iterator[StrainRecord]:
    text, _ = _decode(_load(data), source=source, field="header", record="line 1")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header_row = next(reader, None)
    while header_row is not None and not any(cell.strip() for cell in header_row):
        header_row = next(reader, None)
    if header_row is None:
        raise FormatError(
            "the catalogue is empty; it needs a header line with the column names",
            source=source,
            record="line 1",
            field="header",
        )
    names = _header(header_row, source)
    text_columns = [(i, n) for i, n in enumerate(names) if _PARSERS[n] is _text]
    # Parsers are pure and catalogues repeat values (vocabularies, supply forms ...): cache them.
    typed_columns = [
        (i, n, functools.lru_cache(maxsize=4096)(_PARSERS[n]))
        for i, n in enumerate(names)
        if _PARSERS[n] is not _text
    ]
    mandatory = [(names.index(n), n) for n in MANDATORY_COLUMNS]
    width = len(names)
    accession_at = names.index("accession")
    errors: list[ValidationError] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        accession = cells[accession_at] if len(cells) > accession_at else ""
        record = accession or f"line {line}"
        if len(cells) != width:
            errors.append(
                ValidationError(
                    f"line {line} has {len(cells)} cells but the header has {width} columns",
                    source=source,
                    record=record,
                    field="row",
                )
            )
            continue
        bad = False
        for i, name in mandatory:
            if not cells[i]:
                errors.append(
                    ValidationError(
                        f"{name} is mandatory (line {line})",
                        source=source,
                        record=record,
                        field=name,
                    )
                )
                bad = True
        # An empty optional cell keeps the StrainRecord default.
        values: dict[str, Any] = {name: cells[i] for i, name in text_columns if cells[i]}
        for i, name, parse in typed_columns:
            cell = cells[i]
            if cell:
                try:
                    values[name] = parse(cell)
                except _CellError as exc:
                    errors.append(
                        ValidationError(
                            f"{exc} (line {line})", source=source, record=record, field=name
                        )
                    )
                    bad = True
        if accession:
            if accession in seen:
                errors.append(
                    ValidationError(
                        f"duplicate accession {accession!r} on lines {seen[accession]} and {line}",
                        source=source,
                        record=accession,
                        field="accession",
                    )
                )
                bad = True
            else:
                seen[accession] = line
            if values.get("parent_accession") == accession:
                errors.append(
                    ValidationError(
                        f"a strain cannot be its own parent (line {line})",
                        source=source,
                        record=accession,
                        field="parent_accession",
                    )
                )
                bad = True
        if not bad:
            yield StrainRecord(**values)
    if errors:
        raise CatalogueErrors(errors, source=source)


def iter_catalogue(path: str | os.PathLike[str]) -> Iterator[StrainRecord]:
    """Yield the strains of a catalogue CSV one by one.

    Good rows are yielded as they are read and bad rows skipped; when the
    file is exhausted, all problems are raised together. Import inside a
    transaction and roll back on :class:`CatalogueErrors` to stay all-or-nothing.

    Raises
    ------
    FormatError
        For an empty file or a bad header (unknown, repeated or missing
        mandatory columns), before any record is yielded.
    CatalogueErrors
        After the last record, listing every bad cell, short row, self-parent
        and duplicate accession (naming both lines).
    """
    return _rows(Path(path).read_bytes(), str(path))


def parse_catalogue(data: Readable, *, source: str | None = None) -> list[StrainRecord]:
    """Read a catalogue from text, bytes or a handle; see :func:`read_catalogue`."""
    return list(_rows(data, source))


def read_catalogue(path: str | os.PathLike[str]) -> list[StrainRecord]:
    """Read all strains of a catalogue CSV, or report every problem at once.

    Parameters
    ----------
    path
        The CSV file (columns documented in this module).

    Returns
    -------
    list of StrainRecord
        In file order.

    Raises
    ------
    FormatError
        For an empty file or a bad header.
    CatalogueErrors
        Listing every bad cell and duplicate accession; ``.errors`` holds them.
    """
    return list(iter_catalogue(path))


def _join(items: Iterable[str], record: str, field: str) -> str:
    items = list(items)
    for item in items:
        if ";" in item or item != item.strip():
            raise ValidationError(
                f"{item!r} contains ';' or surrounding spaces and would not read back",
                record=record,
                field=field,
            )
    return "; ".join(items)


def _cells(strain: StrainRecord) -> list[str]:
    acc = strain.accession
    mods = []
    for mod in strain.modifications:
        if ":" in mod.target or ";" in mod.target + mod.description:
            raise ValidationError(
                f"modification target {mod.target!r} / description {mod.description!r} may not "
                "contain ':' (target) or ';'",
                record=acc,
                field="modifications",
            )
        parts = [mod.kind, mod.target, mod.description]
        mods.append(":".join(parts if mod.description else parts[:2] if mod.target else parts[:1]))

    def number(value: float | int | None) -> str:
        return "" if value is None else str(value)

    return [
        strain.accession,
        _join(strain.other_accessions, acc, "other_accessions"),
        strain.taxon_name,
        number(strain.ncbi_taxid),
        strain.organism_type,
        str(strain.risk_group),
        "yes" if strain.type_strain else "no",
        strain.isolation_source,
        strain.country,
        strain.locality,
        number(strain.latitude),
        number(strain.longitude),
        strain.growth_medium,
        number(strain.growth_temperature_c),
        strain.atmosphere or "",
        _join(strain.supply_forms, acc, "supply_forms"),
        strain.restrictions,
        strain.nagoya,
        strain.genotype,
        strain.history,
        strain.status,
        strain.parent_accession or "",
        _join(mods, acc, "modifications"),
        _join(strain.plasmid_names, acc, "plasmid_names"),
        strain.remarks,
    ]


def write_catalogue(records: Iterable[StrainRecord], path: str | os.PathLike[str]) -> None:
    """Write strains as a catalogue CSV (UTF-8, all columns) that reads back equal.

    Raises
    ------
    ValidationError
        If a list item holds ``;`` or a modification target holds ``:``,
        which the format cannot represent.
    """
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for strain in records:
            writer.writerow(_cells(strain))
