r"""The bank's file formats: one module per format behind SeqIO-like verbs.

========  ===========================================  ===============================
format    extensions                                   module
========  ===========================================  ===============================
genbank   ``.gb .gbk .genbank .gbff``                  :mod:`~.genbank` (Biopython)
fasta     ``.fa .fasta .fna .fas``                     :mod:`~.fasta`
sbol3     ``.ttl .nt .rdf .xml .jsonld .json-ld``      :mod:`~.sbol3` (rdflib, pySBOL3
          ``.jsonld_expanded .rj``                     vocabulary)
========  ===========================================  ===============================

:func:`parse` reads text (or bytes, or an open handle), :func:`read` reads a
file and guesses the format from its extension, :func:`write` writes records.
Every failure to read is a :class:`~cellfoundry.core.errors.FormatError` that
names the file, the record and the field. The strain catalogue (CSV) has its
own pair of verbs, :func:`read_catalogue` and :func:`write_catalogue`.

Examples
--------
>>> records = parse(">p1 demo topology=circular\nACGT\n", "fasta")
>>> records[0].name, records[0].topology
('p1', 'circular')
>>> print(write(records, None, "fasta"), end="")
>p1 demo topology=circular
ACGT
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cellfoundry.core.errors import FormatError

if TYPE_CHECKING:
    from cellfoundry.bank.models import StrainRecord
    from cellfoundry.core.sequence import SequenceRecord

__all__ = [
    "FORMATS",
    "FormatInfo",
    "guess_format",
    "parse",
    "read",
    "read_catalogue",
    "write",
    "write_catalogue",
]

#: Text, bytes or an open handle holding the content of a file.
Readable = str | bytes | IO[str] | IO[bytes]


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """A registered sequence format: its name and the file extensions it claims."""

    name: str
    extensions: tuple[str, ...]
    description: str


_REGISTRY: dict[str, FormatInfo] = {
    info.name: info
    for info in (
        FormatInfo(
            "genbank", (".gb", ".gbk", ".genbank", ".gbff"), "GenBank flat file (NCBI/INSDC)"
        ),
        FormatInfo("fasta", (".fa", ".fasta", ".fna", ".fas"), "FASTA"),
        FormatInfo(
            "sbol3",
            (".ttl", ".nt", ".rdf", ".xml", ".jsonld", ".json-ld", ".jsonld_expanded", ".rj"),
            "SBOL3 in any RDF serialisation",
        ),
    )
}

#: Names of the registered sequence formats.
FORMATS: tuple[str, ...] = tuple(_REGISTRY)


def _suffix(path: str | os.PathLike[str]) -> str:
    """Return the registered extension that ``path`` ends with, lower case ('' if none)."""
    name = Path(path).name.lower()
    matches = [ext for info in _REGISTRY.values() for ext in info.extensions if name.endswith(ext)]
    return max(matches, key=len) if matches else ""


def guess_format(path: str | os.PathLike[str]) -> str:
    """Return the format name for a file, judged by its extension.

    Raises
    ------
    FormatError
        If the extension belongs to no registered format; the message lists them.

    Examples
    --------
    >>> guess_format("pICH41388.gb"), guess_format("toggle_switch.jsonld_expanded")
    ('genbank', 'sbol3')
    >>> guess_format("notes.docx")
    Traceback (most recent call last):
    ...
    cellfoundry.core.errors.FormatError: file 'notes.docx': unknown file extension...
    """
    ext = _suffix(path)
    for info in _REGISTRY.values():
        if ext and ext in info.extensions:
            return info.name
    known = "; ".join(f"{i.name} ({' '.join(i.extensions)})" for i in _REGISTRY.values())
    raise FormatError(
        f"unknown file extension {Path(path).suffix or '(none)'!r}; known formats: {known}. "
        "Rename the file or pass format=...",
        source=str(path),
    )


def _check_format(format: str, source: str | None) -> str:
    if format in _REGISTRY:
        return format
    hint = " (format names are lower case)" if format.lower() in _REGISTRY else ""
    raise FormatError(
        f"unknown format {format!r}{hint}; known formats: {', '.join(FORMATS)}", source=source
    )


def _load(data: Readable) -> str | bytes:
    """Return the whole content of text, bytes or an open handle."""
    if isinstance(data, str | bytes):
        return data
    return data.read()


def _decode(
    data: str | bytes, *, source: str | None, field: str, record: str = "#1"
) -> tuple[str, str | None]:
    """Decode file content, refusing binary data.

    Returns the text and the name of the encoding used when it was not
    UTF-8, else ``None``. UTF-16 is recognised by its byte-order mark; other
    files that are not UTF-8 are read as Windows-1252 (what Vector NTI and
    SnapGene on Windows write), which only fails on five unused bytes, then
    as Latin-1.
    """
    if isinstance(data, str):
        text, encoding = data, None
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a byte-order mark (Windows tools)
        try:
            text, encoding = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise FormatError(
                "the content starts with a UTF-16 byte-order mark but is not UTF-16 text",
                source=source,
                record=record,
                field=field,
            ) from None
    else:
        if b"\x00" in data:
            kind = "gzip-compressed" if data[:2] == b"\x1f\x8b" else "binary"
            raise FormatError(
                f"the content is {kind} (NUL bytes), not text; give the uncompressed text file",
                source=source,
                record=record,
                field=field,
            )
        try:
            text, encoding = data.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, encoding = data.decode("latin-1"), "latin-1"
    if "\x00" in text:
        raise FormatError(
            "the content is binary (NUL characters), not text",
            source=source,
            record=record,
            field=field,
        )
    return text, encoding


def parse(
    handle_or_text: Readable, format: str, *, source: str | None = None
) -> list[SequenceRecord]:
    r"""Read sequence records from text, bytes or an open handle.

    Parameters
    ----------
    handle_or_text
        The content itself (``str`` or ``bytes``) or an open file handle.
    format
        One of :data:`FORMATS`. For ``sbol3`` the RDF serialisation is
        recognised from the content.
    source
        A name for the input, used in error messages (usually the file name).

    Returns
    -------
    list of SequenceRecord
        The records in file order.

    Raises
    ------
    FormatError
        If the content is not valid ``format``; names source, record and field.

    Examples
    --------
    >>> [r.name for r in parse(">a\nAC\n>b\nGT\n", "fasta")]
    ['a', 'b']
    """
    fmt = _check_format(format, source)
    data = _load(handle_or_text)
    if fmt == "genbank":
        from cellfoundry.bank.formats import genbank

        return genbank.parse(data, source=source)
    if fmt == "fasta":
        from cellfoundry.bank.formats import fasta

        return fasta.parse(data, source=source)
    from cellfoundry.bank.formats import sbol3

    return sbol3.parse_document(data, source=source).records


def read(path: str | os.PathLike[str], format: str | None = None) -> list[SequenceRecord]:
    """Read all sequence records of a file.

    Parameters
    ----------
    path
        The file. Its extension picks the format unless ``format`` is given.
    format
        One of :data:`FORMATS`, to override the extension.

    Returns
    -------
    list of SequenceRecord
        For SBOL3, one record per DNA component with a sequence; use
        :func:`cellfoundry.bank.formats.sbol3.read_document` to also get the
        rest of the document.

    Raises
    ------
    FormatError
        Unknown extension, or content that is not valid for the format.
    """
    source = str(path)
    fmt = guess_format(path) if format is None else _check_format(format, source)
    if fmt == "sbol3":
        from cellfoundry.bank.formats import sbol3

        return sbol3.read_document(path).records
    return parse(Path(path).read_bytes(), fmt, source=source)


def write(
    records: Iterable[SequenceRecord],
    path_or_handle: str | os.PathLike[str] | IO[str] | None,
    format: str,
) -> str:
    """Write sequence records to a file or handle, and return the text written.

    Parameters
    ----------
    records
        The records to write.
    path_or_handle
        A path, an open text handle, or ``None`` to only return the text.
    format
        One of :data:`FORMATS`. For ``sbol3`` the serialisation follows the
        path's extension (Turtle for handles and ``None``).

    Returns
    -------
    str
        The text that was written.
    """
    fmt = _check_format(format, None if path_or_handle is None else str(path_or_handle))
    records = list(records)
    if fmt == "genbank":
        from cellfoundry.bank.formats import genbank

        text = genbank.dumps(records)
    elif fmt == "fasta":
        from cellfoundry.bank.formats import fasta

        text = fasta.dumps(records)
    else:
        from cellfoundry.bank.formats import sbol3

        serialisation = (
            sbol3.guess_serialisation(path_or_handle)
            if isinstance(path_or_handle, str | os.PathLike)
            else "turtle"
        )
        text = sbol3.dumps_document(records, "", serialisation)
    if isinstance(path_or_handle, str | os.PathLike):
        Path(path_or_handle).write_text(text, encoding="utf-8")
    elif path_or_handle is not None:
        path_or_handle.write(text)
    return text


def read_catalogue(path: str | os.PathLike[str]) -> list[StrainRecord]:
    """Read a strain catalogue CSV; see :mod:`cellfoundry.bank.formats.catalogue`.

    Raises
    ------
    FormatError
        For a bad header (unknown or missing columns).
    CatalogueErrors
        Listing every bad cell and duplicate accession at once.
    """
    from cellfoundry.bank.formats import catalogue

    return catalogue.read_catalogue(path)


def write_catalogue(records: Iterable[StrainRecord], path: str | os.PathLike[str]) -> None:
    """Write strains as a catalogue CSV that :func:`read_catalogue` reads back."""
    from cellfoundry.bank.formats import catalogue

    catalogue.write_catalogue(records, path)
