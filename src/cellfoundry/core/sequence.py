"""Sequences and their annotations, as plain immutable values.

A :class:`SequenceRecord` is the interchange value between the formats
(GenBank, FASTA, SBOL3), the bank and the engines. Coordinates are 0-based and
half-open, as in Biopython; strands are ``1``, ``-1`` or ``0`` (unknown).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

Topology = Literal["linear", "circular"]
Strand = Literal[1, -1, 0]

_COMPLEMENT = str.maketrans("ACGTRYSWKMBDHVNacgtryswkmbdhvn-", "TGCAYRSWMKVHDBNtgcayrswmkvhdbn-")
_IUPAC_DNA = re.compile(r"[^ACGTRYSWKMBDHVNacgtryswkmbdhvn]")


def reverse_complement(seq: str) -> str:
    """Return the reverse complement of a DNA sequence (IUPAC codes kept).

    Examples
    --------
    >>> reverse_complement("GAATTC")
    'GAATTC'
    >>> reverse_complement("AAGN")
    'NCTT'
    """
    return seq.translate(_COMPLEMENT)[::-1]


def validate_dna(seq: str, *, record: str | None = None) -> str:
    """Return ``seq`` in upper case, or raise if it holds a non-IUPAC symbol.

    Raises
    ------
    InvalidSequenceError
        Naming the first bad symbol and its 1-based position.

    Examples
    --------
    >>> validate_dna("acgtn")
    'ACGTN'
    >>> validate_dna("ACGU")
    Traceback (most recent call last):
    ...
    cellfoundry.core.errors.InvalidSequenceError: field 'sequence': invalid base 'U' ...
    """
    from cellfoundry.core.errors import InvalidSequenceError

    bad = _IUPAC_DNA.search(seq)
    if bad is not None:
        raise InvalidSequenceError(bad.group(), bad.start() + 1, record=record)
    return seq.upper()


def _min_rotation(seq: str) -> str:
    """Return the lexicographically smallest rotation of ``seq`` (Booth's algorithm)."""
    n = len(seq)
    if n == 0:
        return seq
    doubled = seq + seq
    failure = [-1] * (2 * n)
    k = 0
    for j in range(1, 2 * n):
        c = doubled[j]
        i = failure[j - k - 1]
        while i != -1 and c != doubled[k + i + 1]:
            if c < doubled[k + i + 1]:
                k = j - i - 1
            i = failure[i]
        if i == -1 and c != doubled[k + i + 1]:
            if c < doubled[k + i + 1]:
                k = j
            failure[j - k] = -1
        else:
            failure[j - k] = i + 1
    return doubled[k : k + n]


def _b64sha1(text: str) -> str:
    digest = hashlib.sha1(text.encode("ascii"), usedforsecurity=False).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def seguid(seq: str, topology: Topology = "linear") -> str:
    """Return the SEGUID v2 checksum of a double-stranded DNA sequence.

    Linear molecules get ``ldseguid``, circular ones ``cdseguid`` (the same
    for every rotation and for either strand), so the checksum finds exact
    duplicates however a plasmid was opened or oriented.

    References
    ----------
    Pereira et al. (2024), "SEGUID v2: Extending SEGUID checksums for circular,
    linear, single- and double-stranded biological sequences", bioRxiv.

    Examples
    --------
    >>> seguid("ACGTT")
    'ldseguid=5fHMG19IbYxn7Yr7_sOCkvaaw7U'
    >>> seguid("GTTAC", "circular") == seguid("GTAAC", "circular")
    True
    """
    watson = seq.upper()
    if topology == "circular":
        w_min = _min_rotation(watson)
        c_min = _min_rotation(reverse_complement(watson))
        w = min(w_min, c_min)
        return "cdseguid=" + _ldseguid_body(w, reverse_complement(w))
    return "ldseguid=" + _ldseguid_body(watson, reverse_complement(watson))


def _ldseguid_body(watson: str, crick: str) -> str:
    spec = f"{watson};{crick}" if watson < crick else f"{crick};{watson}"
    return _b64sha1(spec)


@dataclass(frozen=True, slots=True)
class FeatureSpan:
    """One contiguous span of a feature's location, 0-based and half-open.

    ``partial_start``/``partial_end`` mark fuzzy ends (GenBank ``<`` and ``>``).
    """

    start: int
    end: int
    strand: Strand = 1
    partial_start: bool = False
    partial_end: bool = False

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"span {self.start}..{self.end} is not a valid 0-based interval")

    def __repr__(self) -> str:
        sign = {1: "+", -1: "-", 0: "?"}[self.strand]
        left = "<" if self.partial_start else ""
        right = ">" if self.partial_end else ""
        return f"{left}{self.start}..{self.end}{right}({sign})"


@dataclass(frozen=True, slots=True)
class Feature:
    """An annotated region: a Sequence Ontology-like type, its spans and qualifiers.

    Qualifiers keep their order and may repeat a key (GenBank allows ``/label``
    twice), so they are a tuple of ``(key, value)`` pairs. A value of ``None``
    is a qualifier without a value (``/pseudo``).
    """

    type: str
    spans: tuple[FeatureSpan, ...]
    qualifiers: tuple[tuple[str, str | None], ...] = ()
    operator: Literal["join", "order"] = "join"

    @property
    def start(self) -> int:
        """Leftmost 0-based position covered."""
        return min(s.start for s in self.spans)

    @property
    def end(self) -> int:
        """Rightmost 0-based (exclusive) position covered."""
        return max(s.end for s in self.spans)

    @property
    def strand(self) -> Strand:
        """The strand if all spans agree, else 0."""
        strands = {s.strand for s in self.spans}
        return strands.pop() if len(strands) == 1 else 0

    def qualifier(self, key: str) -> str | None:
        """Return the first value of qualifier ``key``, or ``None``."""
        for k, v in self.qualifiers:
            if k == key:
                return v
        return None

    @property
    def label(self) -> str:
        """A human name: the first of label, gene, product, locus_tag, note, or the type."""
        for key in ("label", "gene", "product", "locus_tag", "standard_name", "note"):
            value = self.qualifier(key)
            if value:
                return value
        return self.type

    def __repr__(self) -> str:
        spans = ",".join(repr(s) for s in self.spans)
        return f"Feature({self.type} {self.label!r} {spans})"


@dataclass(frozen=True, slots=True)
class SequenceRecord:
    """A named DNA sequence with its features, as read from or written to a file.

    ``annotations`` keeps record-level fields the formats carry (organism,
    date, division, keywords, comment, references...) as JSON-able values, so a
    round trip through the bank loses nothing.
    """

    name: str
    sequence: str
    topology: Topology = "linear"
    description: str = ""
    accession: str = ""
    molecule_type: str = "DNA"
    features: tuple[Feature, ...] = ()
    annotations: dict[str, object] = field(default_factory=dict, hash=False, compare=True)

    def __len__(self) -> int:
        return len(self.sequence)

    @property
    def checksum(self) -> str:
        """SEGUID v2 checksum of the sequence, rotation- and strand-independent if circular."""
        return seguid(self.sequence, self.topology)

    def __repr__(self) -> str:
        shape = "o" if self.topology == "circular" else "-"
        return (
            f"SequenceRecord({self.name!r}, {len(self.sequence)} bp {shape}, "
            f"{len(self.features)} features)"
        )
