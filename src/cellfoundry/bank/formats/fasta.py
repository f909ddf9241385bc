r"""FASTA ⇄ :class:`~cellfoundry.core.sequence.SequenceRecord`.

The header's first word is the record name and the rest its description. A
``topology=circular`` (or ``topology=linear``) token anywhere in the
description sets the topology and is taken out of the description; the
writer puts it back for circular records. Sequences are checked against the
IUPAC DNA alphabet with :func:`~cellfoundry.core.sequence.validate_dna`.

Examples
--------
>>> (record,) = parse(">pUC19 cloning vector topology=circular\nACGT\nacgt\n")
>>> record.name, record.description, record.topology, record.sequence
('pUC19', 'cloning vector', 'circular', 'ACGTACGT')
>>> print(dumps([record]), end="")
>pUC19 cloning vector topology=circular
ACGTACGT
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cellfoundry.bank.formats import Readable, _decode, _load
from cellfoundry.core.errors import FormatError, InvalidSequenceError
from cellfoundry.core.sequence import SequenceRecord, Topology, validate_dna

__all__ = ["LINE_WIDTH", "dumps", "parse"]

#: Bases per sequence line when writing.
LINE_WIDTH = 60

_TOPOLOGY = re.compile(r"(?:^|\s)topology=(circular|linear)(?=\s|$)", re.IGNORECASE)


def parse(data: Readable, *, source: str | None = None) -> list[SequenceRecord]:
    r"""Read every record of a FASTA file.

    Parameters
    ----------
    data
        The file content (``str`` or ``bytes``) or an open handle.
    source
        A name for the input (usually the path), used in error messages.

    Returns
    -------
    list of SequenceRecord
        The records in file order, sequences in upper case.

    Raises
    ------
    FormatError
        If the content is empty, binary, does not start with ``>``, or a
        record has no name or no sequence.
    InvalidSequenceError
        If a sequence holds a non-IUPAC letter; names the record and the
        1-based position within its sequence.

    Examples
    --------
    >>> parse(">bad\nACGU\n", source="x.fa")
    Traceback (most recent call last):
    ...
    cellfoundry.core.errors.InvalidSequenceError: ...'bad', field 'sequence': invalid base 'U' at...
    """
    text, _ = _decode(_load(data), source=source, field="header")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise FormatError(
            "the file is empty; a FASTA record starts with a '>' header line",
            source=source,
            record="#1",
            field="header",
        )
    records: list[SequenceRecord] = []
    header: str | None = None
    header_line = 0
    chunks: list[str] = []
    for number, line in enumerate(lines, 1):
        if line.startswith(">"):
            if header is not None:
                records.append(_record(header, header_line, chunks, len(records) + 1, source))
            header, header_line, chunks = line[1:], number, []
        elif header is None:
            if not line.strip() or line.startswith(";"):
                continue
            raise _not_fasta(line, number, source)
        else:
            chunks.append(line)
    if header is not None:
        records.append(_record(header, header_line, chunks, len(records) + 1, source))
    return records


def _not_fasta(line: str, number: int, source: str | None) -> FormatError:
    if line.startswith("LOCUS"):
        why = "starts with LOCUS like a GenBank file; read it with format 'genbank'"
    elif line.lstrip().startswith(("@prefix", "<", "{")):
        why = "looks like RDF/XML/JSON (SBOL?); read it with format 'sbol3'"
    else:
        why = f"has {line[:40]!r} at line {number}"
    return FormatError(
        f"not a FASTA file: expected a '>' header line, but the file {why}",
        source=source,
        record="#1",
        field="header",
    )


def _record(
    header: str, line: int, chunks: list[str], index: int, source: str | None
) -> SequenceRecord:
    words = header.strip().split(None, 1)
    if not words:
        raise FormatError(
            f"the header at line {line} has no name after '>'",
            source=source,
            record=f"#{index}",
            field="header",
        )
    name = words[0]
    description = words[1] if len(words) > 1 else ""
    topology: Topology = "linear"
    found = _TOPOLOGY.search(description)
    if found is not None:
        topology = "circular" if found.group(1).lower() == "circular" else "linear"
        description = (description[: found.start()] + description[found.end() :]).strip()
    raw = "".join("".join(chunk.split()) for chunk in chunks)
    if not raw:
        raise FormatError(
            f"the record (header at line {line}) has no sequence",
            source=source,
            record=name,
            field="sequence",
        )
    try:
        sequence = validate_dna(raw, record=name)
    except InvalidSequenceError as exc:
        raise exc.located(source=source) from None
    return SequenceRecord(name=name, sequence=sequence, topology=topology, description=description)


def dumps(records: Iterable[SequenceRecord], *, line_width: int = LINE_WIDTH) -> str:
    """Return records as FASTA text that :func:`parse` reads back.

    Parameters
    ----------
    records
        The records. Features and annotations have no place in FASTA and are
        dropped; the topology is kept as a ``topology=circular`` token.
    line_width
        Bases per sequence line.

    Returns
    -------
    str
        The FASTA text.

    Raises
    ------
    FormatError
        If a record name is empty or holds white space (it would not read back).
    """
    out: list[str] = []
    for record in records:
        if not record.name or any(c.isspace() for c in record.name):
            raise FormatError(
                "a FASTA record name must be one word; rename the record",
                record=record.name,
                field="name",
            )
        words = [record.name]
        if record.description:
            words.append(" ".join(record.description.split()))
        if record.topology == "circular":
            words.append("topology=circular")
        out.append(">" + " ".join(words))
        seq = record.sequence
        out.extend(seq[i : i + line_width] for i in range(0, len(seq), line_width))
    return "".join(line + "\n" for line in out)
