r"""GenBank flat files ⇄ :class:`~cellfoundry.core.sequence.SequenceRecord`.

Reading is built on Biopython's GenBank scanner, with a layer in front that
copes with the files plasmid editors really write:

* the ``LOCUS`` line is parsed here, token by token, so that Vector NTI's
  ``LOCUS pICH41388 2677 bp DNA circular UNA 30-NOV-2009`` and SnapGene's
  ``LOCUS Exported File 2332 bp ds-DNA circular SYN 12-MAR-2014`` keep their
  name, length, strandedness, molecule type, topology, division and date (a
  name with spaces becomes ``Exported_File``); Biopython is then given a
  canonical line, so none of its "malformed LOCUS" warnings arise;
* the ``ORIGIN`` block is read here as well: truncation, a length that
  disagrees with ``LOCUS`` and non-IUPAC letters are :class:`FormatError`\ s
  naming the file, the record and the field;
* files that are not UTF-8 are decoded as Windows-1252 (then Latin-1);
* qualifiers keep their file order, repeated keys and value-less keys
  (``/pseudo`` is ``("pseudo", None)``);
* Biopython's warnings never escape: :func:`parse_with_warnings` returns them.

Writing (:func:`dumps`) is done here rather than by Biopython so that what
was read is re-created: qualifier order, unusual feature keys such as
``Misc._feature``, the comment's line breaks, qualifier values that cannot be
wrapped at a space (they get a long line instead of an inserted space).

Examples
--------
>>> text = '''LOCUS       demo          12 bp    DNA     circular SYN 01-JAN-2024
... FEATURES             Location/Qualifiers
...      promoter        join(11..12,1..3)
...                      /label="pDemo"
...                      /pseudo
... ORIGIN
...         1 acgtacgtac gt
... //
... '''
>>> (record,) = parse(text)
>>> record.name, len(record), record.topology, record.features[0].spans
('demo', 12, 'circular', (10..12(+), 0..3(+)))
>>> record.features[0].qualifiers
(('label', 'pDemo'), ('pseudo', None))
>>> parse(dumps([record]))[0] == record
True
"""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from Bio.GenBank import _FeatureConsumer
from Bio.GenBank.Scanner import GenBankScanner
from Bio.SeqFeature import AfterPosition, BeforePosition, CompoundLocation, ExactPosition

from cellfoundry.bank.formats import Readable, _decode, _load
from cellfoundry.core.errors import FormatError
from cellfoundry.core.sequence import (
    Feature,
    FeatureSpan,
    SequenceRecord,
    Strand,
    Topology,
)

__all__ = ["GenBankParse", "dumps", "parse", "parse_with_warnings"]

_WIDTH = 80
_HEADER_INDENT = 12
_QUALIFIER_INDENT = 21
_IUPAC = frozenset("ACGTRYSWKMBDHVNacgtryswkmbdhvn")
_NO_QUOTE = frozenset(
    {
        "anticodon",
        "citation",
        "codon_start",
        "compare",
        "direction",
        "estimated_length",
        "mod_base",
        "number",
        "rpt_type",
        "rpt_unit_range",
        "tag_peptide",
        "transl_except",
        "transl_table",
    }
)
_MOLECULE = re.compile(r"^(?:(ss|ds|ms)-)?([A-Za-z]*(?:DNA|RNA)|NA)$", re.IGNORECASE)
_DATE = re.compile(r"^\d{1,2}-[A-Za-z]{3}-\d{4}$")
_DIVISION = re.compile(r"^[A-Z]{3}$")
_SEQUENCE_JUNK = str.maketrans("", "", "0123456789 \t\r\n")
#: Annotations that come from the LOCUS line and are stored here, not by Biopython.
_LOCUS_KEYS = frozenset({"molecule_type", "topology", "data_file_division", "date"})


@dataclass(frozen=True, slots=True)
class GenBankParse:
    """What :func:`parse_with_warnings` read: the records and what was odd about them."""

    records: tuple[SequenceRecord, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Locus:
    name: str
    raw_name: str
    length: int | None
    strandedness: str
    molecule_type: str
    topology: Topology
    division: str
    date: str


# --------------------------------------------------------------------------- reading


def parse(data: Readable, *, source: str | None = None) -> list[SequenceRecord]:
    """Read every record of a GenBank file.

    Parameters
    ----------
    data
        The file content (``str`` or ``bytes``) or an open handle.
    source
        A name for the input (usually the path), used in error messages.

    Returns
    -------
    list of SequenceRecord
        The records in file order; see :func:`parse_with_warnings` for the
        warnings raised while reading.

    Raises
    ------
    FormatError
        If the content is empty, binary, not GenBank, truncated, has a
        sequence of the wrong length or with non-IUPAC letters, or a feature
        Biopython cannot read. The error names source, record and field.
    """
    return list(parse_with_warnings(data, source=source).records)


def parse_with_warnings(data: Readable, *, source: str | None = None) -> GenBankParse:
    """Read a GenBank file and return its records with the reader's warnings.

    Warnings are plain strings prefixed by the record name, e.g. for a file
    that is not UTF-8 or a LOCUS name with spaces; repeated Biopython
    warnings are counted rather than repeated.

    Raises
    ------
    FormatError
        As for :func:`parse`.
    """
    text, encoding = _decode(_load(data), source=source, field="LOCUS")
    notes: list[str] = []
    if encoding is not None:
        notes.append(f"file is not valid UTF-8; decoded as {encoding}")
    records = [
        _read_record(lines, first_line, index, source=source, notes=notes)
        for index, (first_line, lines) in enumerate(_split_records(text, source, notes), 1)
    ]
    return GenBankParse(tuple(records), tuple(notes))


def _split_records(text: str, source: str | None, notes: list[str]) -> list[tuple[int, list[str]]]:
    """Cut the text into records (LOCUS ... //), checking each is complete."""
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise FormatError(
            "the file is empty; a GenBank record starts with a LOCUS line",
            source=source,
            record="#1",
            field="LOCUS",
        )
    records: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    start = 0
    ignored = 0
    for number, line in enumerate(lines, 1):
        if current is None:
            if line.startswith("LOCUS"):
                current, start = [line], number
            elif line.strip():
                if records:
                    ignored += 1
                    continue
                raise _not_genbank(line, number, source)
            continue
        if line.startswith("LOCUS"):
            locus = _parse_locus(current[0], source=source, index=len(records) + 1)
            raise FormatError(
                f"the record has no '//' terminator before the next LOCUS at line {number}",
                source=source,
                record=locus.name,
                field="//",
            )
        current.append(line)
        if line.startswith("//"):
            records.append((start, current))
            current = None
    if current is not None:
        raise _truncated(current, source, len(records) + 1)
    if ignored:
        notes.append(f"ignored {ignored} non-blank line(s) after the last '//'")
    return records


def _not_genbank(line: str, number: int, source: str | None) -> FormatError:
    if line.startswith(">"):
        why = "starts with '>' like a FASTA file; read it with format 'fasta'"
    elif line.lstrip().startswith(("@prefix", "<", "{")):
        why = "looks like RDF/XML/JSON (SBOL?); read it with format 'sbol3'"
    else:
        why = f"has {line[:40]!r} at line {number}"
    return FormatError(
        f"not a GenBank file: expected a LOCUS line, but the file {why}",
        source=source,
        record="#1",
        field="LOCUS",
    )


def _truncated(lines: list[str], source: str | None, index: int) -> FormatError:
    locus = _parse_locus(lines[0], source=source, index=index)
    origin = next((i for i, line in enumerate(lines) if line.startswith("ORIGIN")), None)
    if origin is None:
        return FormatError(
            "the file ends before the ORIGIN section and the '//' terminator; it looks truncated",
            source=source,
            record=locus.name,
            field="ORIGIN",
        )
    got = sum(len(line.translate(_SEQUENCE_JUNK)) for line in lines[origin + 1 :])
    expected = f" of {locus.length}" if locus.length is not None else ""
    return FormatError(
        f"the file ends inside ORIGIN after {got}{expected} bp, without the '//' terminator; "
        "it looks truncated",
        source=source,
        record=locus.name,
        field="ORIGIN",
    )


def _parse_locus(line: str, *, source: str | None, index: int) -> _Locus:
    """Parse a LOCUS line by its tokens, whatever its column layout."""
    tokens = line.split()[1:]
    unit_at = next(
        (
            i
            for i in range(1, len(tokens))
            if tokens[i].lower() in ("bp", "aa", "rc") and tokens[i - 1].isdigit()
        ),
        None,
    )
    length: int | None
    if unit_at is not None:
        name_tokens, length, rest = (
            tokens[: unit_at - 1],
            int(tokens[unit_at - 1]),
            tokens[unit_at + 1 :],
        )
    elif len(tokens) == 1:
        name_tokens, length, rest = tokens, None, []
    elif len(tokens) > 1 and tokens[1].isdigit():
        name_tokens, length, rest = tokens[:1], int(tokens[1]), tokens[2:]
    else:
        raise FormatError(
            f"cannot find the sequence length ('<n> bp') in {line.strip()!r}",
            source=source,
            record=f"#{index}",
            field="LOCUS",
        )
    if not name_tokens:
        raise FormatError(
            f"the LOCUS line has no name: {line.strip()!r}",
            source=source,
            record=f"#{index}",
            field="LOCUS",
        )
    name = "_".join(name_tokens)
    if unit_at is not None and tokens[unit_at].lower() == "aa":
        raise FormatError(
            "this is a protein record (length in 'aa'); the bank reads DNA records",
            source=source,
            record=name,
            field="LOCUS",
        )
    strandedness, molecule, division, date = "", "", "", ""
    topology: Topology = "linear"
    for token in rest:
        mol = _MOLECULE.match(token)
        if token.lower() in ("linear", "circular"):
            topology = "circular" if token.lower() == "circular" else "linear"
        elif mol is not None and not molecule:
            strandedness, molecule = (mol.group(1) or "").lower(), mol.group(2)
        elif _DATE.match(token):
            date = token.upper().zfill(11)  # 7-NOV-2012 -> 07-NOV-2012
        elif _DIVISION.match(token) and not division:
            division = token
    return _Locus(
        name,
        " ".join(name_tokens),
        length,
        strandedness,
        molecule or "DNA",
        topology,
        division,
        date,
    )


def _read_sequence(
    lines: list[str], first_line: int, locus: _Locus, source: str | None
) -> tuple[str, int]:
    """Return the ORIGIN sequence (upper case) and the index of the ORIGIN line."""
    origin = next((i for i, line in enumerate(lines) if line.startswith("ORIGIN")), None)
    if origin is None:
        raise FormatError(
            "the record has no ORIGIN section, so no sequence; the bank needs the sequence",
            source=source,
            record=locus.name,
            field="ORIGIN",
        )
    chunks = [line.translate(_SEQUENCE_JUNK) for line in lines[origin + 1 : -1]]
    sequence = "".join(chunks)
    bad = next((i for i, base in enumerate(sequence) if base not in _IUPAC), None)
    if bad is not None:
        offset = 0
        row = 0
        while offset + len(chunks[row]) <= bad:
            offset += len(chunks[row])
            row += 1
        raise FormatError(
            f"invalid base {sequence[bad]!r} at position {bad + 1} "
            f"(line {first_line + origin + 1 + row}); use IUPAC DNA letters",
            source=source,
            record=locus.name,
            field="sequence",
        )
    if locus.length is not None and len(sequence) != locus.length:
        raise FormatError(
            f"the LOCUS line declares {locus.length} bp but ORIGIN holds {len(sequence)} bp",
            source=source,
            record=locus.name,
            field="sequence",
        )
    return sequence.upper(), origin


class _OrderedQualifiers:
    """Wrap Biopython's feature consumer, keeping qualifiers in file order.

    Biopython groups qualifier values by key in a dict; the scanner however
    sees them in order, so this consumer records them as they pass.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.qualifiers: list[list[tuple[str, str | None]]] = []
        self.key = ""
        self.location_text = ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def feature_key(self, content: str) -> None:
        self.qualifiers.append([])
        self.key, self.location_text = content, ""
        self._inner.feature_key(content)

    def location(self, content: str) -> None:
        self.location_text = content
        self._inner.location(content)

    def feature_qualifier(self, key: str, value: str | None) -> None:
        if value is not None:
            if len(value) > 1 and value[0] == '"' and value[-1] == '"':
                value = value[1:-1]
            value = value.replace('""', '"')
            if key == "translation":
                value = "".join(value.split())
        self.qualifiers[-1].append((key, value))


def _canonical_locus(locus: _Locus, length: int) -> str:
    """Return a LOCUS line in the strict column layout, for Biopython's scanner only."""
    return f"LOCUS       {'X':<16}{length:>12} bp    {'DNA':<7} {locus.topology:<8} UNA 01-JAN-1980"


def _read_record(
    lines: list[str],
    first_line: int,
    index: int,
    *,
    source: str | None,
    notes: list[str],
) -> SequenceRecord:
    locus = _parse_locus(lines[0], source=source, index=index)
    if locus.raw_name != locus.name:
        notes.append(
            f"{locus.name}: LOCUS name {locus.raw_name!r} contains spaces; read as {locus.name!r}"
        )
    sequence, origin = _read_sequence(lines, first_line, locus, source)
    body = "\n".join([_canonical_locus(locus, len(sequence)), *lines[1:origin], "ORIGIN", "//", ""])
    inner = _FeatureConsumer(use_fuzziness=1, feature_cleaner=None)  # type: ignore[no-untyped-call]
    consumer = _OrderedQualifiers(inner)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scanner = GenBankScanner(debug=0)  # type: ignore[no-untyped-call]
            scanner.feed(io.StringIO(body), consumer)  # type: ignore[no-untyped-call]
        except Exception as exc:  # any failure inside Biopython is a format problem
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            field = "FEATURES" if consumer.qualifiers else "header"
            where = ""
            if consumer.qualifiers:
                where = f" feature {len(consumer.qualifiers)} ({consumer.key})"
                if consumer.location_text:
                    where += f" at location {' '.join(consumer.location_text.split())!r}"
            raise FormatError(
                f"Biopython cannot read the{where or ' record'}: {message}",
                source=source,
                record=locus.name,
                field=field,
            ) from exc
    counts = Counter(str(w.message).splitlines()[0] for w in caught)
    notes.extend(
        f"{locus.name}: {msg}" + (f" (x{n})" if n > 1 else "") for msg, n in counts.items()
    )
    data = consumer.data
    features = tuple(
        _feature(feature, qualifiers, number, locus.name, source, notes)
        for number, (feature, qualifiers) in enumerate(
            zip(data.features, consumer.qualifiers, strict=True), 1
        )
    )
    annotations: dict[str, object] = {}
    if locus.strandedness:
        annotations["strandedness"] = locus.strandedness
    if locus.division:
        annotations["data_file_division"] = locus.division
    if locus.date:
        annotations["date"] = locus.date
    for key, value in data.annotations.items():
        if key not in _LOCUS_KEYS:
            annotations[key] = _jsonable(value, key, locus.name, notes)
    if any(line.startswith("VERSION") for line in lines[1:origin]):
        annotations["version"] = str(data.id)
    if data.dbxrefs:
        annotations["dbxrefs"] = [str(x) for x in data.dbxrefs]
    accessions = annotations.get("accessions")
    accession = ""
    if isinstance(accessions, list) and accessions and accessions[0] != ".":
        accession = str(accessions[0])
    description = "" if data.description in ("<unknown description>", ".") else data.description
    return SequenceRecord(
        name=locus.name,
        sequence=sequence,
        topology=locus.topology,
        description=str(description),
        accession=accession,
        molecule_type=locus.molecule_type,
        features=features,
        annotations=annotations,
    )


def _feature(
    feature: Any,
    qualifiers: list[tuple[str, str | None]],
    number: int,
    record: str,
    source: str | None,
    notes: list[str],
) -> Feature:
    location = feature.location
    if location is None:
        raise FormatError(
            f"feature {number} ({feature.type}) has a location Biopython cannot parse",
            source=source,
            record=record,
            field="FEATURES",
        )
    operator = "join"
    if isinstance(location, CompoundLocation):
        operator = location.operator
        if operator not in ("join", "order"):
            raise FormatError(
                f"feature {number} ({feature.type}) uses {operator!r}; only join and order "
                "are DNA locations",
                source=source,
                record=record,
                field="FEATURES",
            )
    spans = []
    for part in location.parts:
        for position in (part.start, part.end):
            if not isinstance(position, ExactPosition | BeforePosition | AfterPosition):
                notes.append(
                    f"{record}: feature {number} ({feature.type}): "
                    f"{type(position).__name__} {position} stored as an exact position"
                )
        strand: Strand = 1 if part.strand == 1 else -1 if part.strand == -1 else 0
        spans.append(
            FeatureSpan(
                int(part.start),
                int(part.end),
                strand,
                partial_start=isinstance(part.start, BeforePosition | AfterPosition),
                partial_end=isinstance(part.end, AfterPosition | BeforePosition),
            )
        )
    return Feature(
        type=str(feature.type),
        spans=tuple(spans),
        qualifiers=tuple(qualifiers),
        operator="order" if operator == "order" else "join",
    )


def _jsonable(value: Any, key: str, record: str, notes: list[str]) -> object:
    """Turn a Biopython annotation into plain JSON-able values."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v, key, record, notes) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, key, record, notes) for k, v in value.items()}
    if type(value).__name__ == "Reference":
        ref: dict[str, object] = {
            "location": [[int(loc.start), int(loc.end)] for loc in value.location]
        }
        for attr in (
            "authors",
            "consrtm",
            "title",
            "journal",
            "medline_id",
            "pubmed_id",
            "comment",
        ):
            text = getattr(value, attr, "")
            if text:
                ref[attr] = str(text)
        return ref
    notes.append(f"{record}: annotation {key!r} of type {type(value).__name__} kept as text")
    return str(value)


# --------------------------------------------------------------------------- writing


def dumps(records: Iterable[SequenceRecord]) -> str:
    """Return records as GenBank text that :func:`parse` and Biopython read back.

    Parameters
    ----------
    records
        The records; their ``annotations`` re-create the header (division,
        date, accessions, version, keywords, source, organism, taxonomy,
        references, comment, structured comment, DBLINK).

    Returns
    -------
    str
        One ``LOCUS ... //`` block per record.

    Raises
    ------
    FormatError
        If a record name contains white space (a LOCUS name cannot).
    """
    out: list[str] = []
    for record in records:
        _write_record(record, out)
    return "".join(line + "\n" for line in out)


def _write_record(record: SequenceRecord, out: list[str]) -> None:
    ann = record.annotations
    out.append(_locus_line(record))
    if record.description:
        description = record.description
        out.extend(_header("DEFINITION", description + ("" if description.endswith(".") else ".")))
    accessions = ann.get("accessions")
    if not (
        isinstance(accessions, list)
        and accessions
        and (accessions[0] == record.accession or (accessions[0] == "." and not record.accession))
    ):
        accessions = [record.accession] if record.accession else None
    if accessions:
        out.extend(_header("ACCESSION", " ".join(str(a) for a in accessions)))
    version = ann.get("version")
    if version is None and "sequence_version" in ann and record.accession:
        version = f"{record.accession}.{ann['sequence_version']}"
    if version is not None:
        gi = f"  GI:{ann['gi']}" if ann.get("gi") else ""
        out.append(f"{'VERSION':<12}{version}{gi}")
    dbxrefs = ann.get("dbxrefs")
    if isinstance(dbxrefs, list) and dbxrefs:
        for i, ref in enumerate(dbxrefs):
            out.append(f"{'DBLINK' if i == 0 else '':<12}{ref}")
    keywords = ann.get("keywords")
    if isinstance(keywords, list) and keywords:  # [""] is "KEYWORDS    ."
        out.extend(_header("KEYWORDS", "; ".join(str(k) for k in keywords) + "."))
    if "source" in ann or "organism" in ann:
        out.extend(_header("SOURCE", str(ann.get("source", ""))))
        out.extend(_header("  ORGANISM", str(ann.get("organism", ""))))
        taxonomy = ann.get("taxonomy")
        if isinstance(taxonomy, list) and taxonomy:
            out.extend(_header("", "; ".join(str(t) for t in taxonomy) + "."))
    references = ann.get("references")
    if isinstance(references, list):
        for number, ref in enumerate(references, 1):
            if isinstance(ref, dict):
                _write_reference(number, ref, out)
    _write_comment(ann, out)
    out.append(f"{'FEATURES':<21}Location/Qualifiers")
    for feature in record.features:
        _write_feature(feature, out)
    out.append("ORIGIN")
    seq = record.sequence.lower()
    for i in range(0, len(seq), 60):
        chunk = seq[i : i + 60]
        out.append(f"{i + 1:>9} " + " ".join(chunk[j : j + 10] for j in range(0, len(chunk), 10)))
    out.append("//")


def _locus_line(record: SequenceRecord) -> str:
    name = record.name or "unnamed"
    if any(c.isspace() for c in name):
        raise FormatError(
            "a GenBank LOCUS name cannot contain white space; rename the record",
            record=name,
            field="name",
        )
    ann = record.annotations
    length = str(len(record.sequence))
    strand = str(ann.get("strandedness") or "")
    molecule = (f"{strand}-" if strand else "   ") + (record.molecule_type or "DNA")
    division = str(ann.get("data_file_division") or "")
    date = str(ann.get("date") or "")
    if len(name) + 1 + len(length) <= 28 and len(molecule) <= 10:
        head = f"LOCUS       {name:<{27 - len(length)}} {length} bp {molecule:<10} "
        return f"{head}{record.topology:<8} {division:<3} {date}".ljust(79)
    # Names too long for the columns: the space-separated layout Biopython also reads.
    fields = [name, length, "bp", molecule.strip(), record.topology, division, date]
    return ("LOCUS       " + " ".join(f for f in fields if f)).ljust(80)


def _wrap_words(text: str, width: int) -> list[str]:
    """Split ``text`` at single spaces into lines of at most ``width`` characters.

    Only a space with a non-space on both sides (and no ``"`` before it) is a
    break point, so a reader that strips lines and joins them with one space
    gets ``text`` back. A word longer than ``width`` gets a line of its own.
    """
    lines: list[str] = []
    rest = text
    while len(rest) > width:
        cut = -1
        for i in range(min(width, len(rest) - 1), 0, -1):
            if rest[i] == " " and rest[i - 1] not in ' "' and rest[i + 1] != " ":
                cut = i
                break
        if cut == -1:
            nxt = next(
                (
                    i
                    for i in range(width + 1, len(rest) - 1)
                    if rest[i] == " " and rest[i - 1] not in ' "' and rest[i + 1] != " "
                ),
                -1,
            )
            if nxt == -1:
                break
            cut = nxt
        lines.append(rest[:cut])
        rest = rest[cut + 1 :]
    lines.append(rest)
    return lines


def _header(tag: str, text: str) -> list[str]:
    lines = _wrap_words(text, _WIDTH - _HEADER_INDENT) if text else [""]
    return [f"{tag if i == 0 else '':<12}{line}".rstrip() or tag for i, line in enumerate(lines)]


def _write_reference(number: int, ref: dict[str, Any], out: list[str]) -> None:
    bases = "; ".join(f"{start + 1} to {end}" for start, end in ref.get("location", []))
    out.append(f"{'REFERENCE':<12}{number}" + (f"  (bases {bases})" if bases else ""))
    for tag, key in (
        ("  AUTHORS", "authors"),
        ("  CONSRTM", "consrtm"),
        ("  TITLE", "title"),
        ("  JOURNAL", "journal"),
        ("  MEDLINE", "medline_id"),
        ("   PUBMED", "pubmed_id"),
        ("  REMARK", "comment"),
    ):
        if ref.get(key):
            out.extend(_header(tag, str(ref[key])))


def _write_comment(ann: dict[str, object], out: list[str]) -> None:
    lines: list[str] = []
    structured = ann.get("structured_comment")
    if isinstance(structured, dict):
        for key, block in structured.items():
            if not isinstance(block, dict):
                continue
            pad = max((len(str(k)) for k in block), default=0)
            lines.append(f"##{key}-START##")
            lines.extend(f"{k!s:<{pad}} :: {v}" for k, v in block.items())
            lines.append(f"##{key}-END##")
    comment = ann.get("comment")
    if isinstance(comment, str):
        lines.extend(comment.split("\n"))
    for i, line in enumerate(lines):
        out.append(f"{'COMMENT' if i == 0 else '':<12}{line}".rstrip())


def _location(feature: Feature) -> str:
    spans: Sequence[FeatureSpan] = feature.spans

    def span_text(span: FeatureSpan) -> str:
        if span.start == span.end:
            return f"{span.start}^{span.start + 1}"
        left = f"{'<' if span.partial_start else ''}{span.start + 1}"
        if span.end == span.start + 1 and not (span.partial_start or span.partial_end):
            return left
        return f"{left}..{'>' if span.partial_end else ''}{span.end}"

    if len(spans) == 1:
        text = span_text(spans[0])
        return f"complement({text})" if spans[0].strand == -1 else text
    if all(s.strand == -1 for s in spans):
        inner = ",".join(span_text(s) for s in reversed(spans))
        return f"complement({feature.operator}({inner}))"
    parts = [f"complement({span_text(s)})" if s.strand == -1 else span_text(s) for s in spans]
    return f"{feature.operator}({','.join(parts)})"


def _write_feature(feature: Feature, out: list[str]) -> None:
    location = _location(feature)
    width = _WIDTH - _QUALIFIER_INDENT
    pieces: list[str] = []
    while len(location) > width and "," in location[:width]:
        cut = location.rindex(",", 0, width) + 1
        pieces.append(location[:cut])
        location = location[cut:]
    pieces.append(location)
    key = feature.type
    first = f"     {key:<15} {pieces[0]}" if len(key) < 16 else f"     {key} {pieces[0]}"
    out.append(first)
    out.extend(" " * _QUALIFIER_INDENT + piece for piece in pieces[1:])
    for qkey, value in feature.qualifiers:
        for line in _qualifier_lines(qkey, value, width):
            out.append(" " * _QUALIFIER_INDENT + line)


def _qualifier_lines(key: str, value: str | None, width: int) -> list[str]:
    if value is None:
        return [f"/{key}"]
    value = value.replace("\n", " ")
    if key in _NO_QUOTE and value and not any(c.isspace() or c == '"' for c in value):
        return [f"/{key}={value}"]
    text = f'/{key}="' + value.replace('"', '""') + '"'
    if key == "translation":
        return [text[i : i + width] for i in range(0, len(text), width)]
    return _wrap_words(text, width)
