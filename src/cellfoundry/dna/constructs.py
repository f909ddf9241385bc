"""Transcription units and MoClo level-0 parts, as annotated sequence records.

:func:`transcription_unit` joins a promoter, a ribosome binding site, a coding
sequence and a terminator into one :class:`~cellfoundry.core.sequence.SequenceRecord`
annotated with GenBank feature keys (``promoter``, ``RBS``, ``CDS`` with
``/translation``, ``/codon_start`` and ``/transl_table``, ``terminator``),
after checking the CDS: a start codon ATG, GTG or TTG, a final stop codon (a
run of final stops such as TAATAA is allowed), no internal stop, a length that
is a multiple of 3. Errors name the part.

MoClo standard
--------------
``standard="moclo"`` and :func:`moclo_level0` follow **CIDAR MoClo**, the
bacterial (*E. coli*) MoClo standard of Iverson, Haddock, Beal & Densmore
(2016), "CIDAR MoClo: Improved MoClo Assembly Standard and New E. coli Part
Library Enable Rapid Combinatorial Design for Synthetic and Traditional
Biology", ACS Synth. Biol. 5:99-103, doi:10.1021/acssynbio.5b00124, itself
built on the MoClo system of Weber, Engler, Gruetzner, Werner & Marillonnet
(2011), PLOS ONE 6:e16765, doi:10.1371/journal.pone.0016765. Its four
transcription-unit positions and fusion sites (read 5'->3' on the top strand)
are

==========  =====  =====  ==========================================
part        5'     3'     note
==========  =====  =====  ==========================================
promoter    GGAG   TACT   fusion sites A and B
RBS         TACT   AATG   B and C; AATG's ATG is the CDS start codon
CDS         AATG   AGGT   C and D; the part holds codon 2 .. stop
terminator  AGGT   GCTT   D and E
==========  =====  =====  ==========================================

A level-0 part is ``GGTCTC A <5' site> <part> <3' site> A GAGACC``: BsaI
(``GGTCTC``, cutting N1/N5) on each side, facing inwards, so that BsaI
releases the part with the two 4-nt overhangs for the level-1 Golden Gate
reaction (as in the CIDAR kit's GenBank files distributed with the ``moclo``
Python library, e.g. ``E0040m_CD``). Because level-0 parts are cloned with
BpiI (BbsI) and assembled with BsaI, a part must hold no internal BsaI or BpiI
site on either strand; these are reported as errors naming the part and the
1-based position in the part. The Golden Gate reaction itself is simulated
elsewhere; this module only writes the parts and the expected level-1
transcription unit. The plant Phytobrick syntax (Patron et al. 2015, New
Phytol. 208:13-19, doi:10.1111/nph.13532) shares GGAG and GCTT but splits the
positions differently and is not implemented here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from Bio.Data import CodonTable

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import (
    Feature,
    FeatureSpan,
    SequenceRecord,
    reverse_complement,
    validate_dna,
)
from cellfoundry.dna.codon import translate

__all__ = [
    "BPII_SITE",
    "BSAI_SITE",
    "MOCLO_FUSION_SITES",
    "MOCLO_STANDARD",
    "MocloPartType",
    "Part",
    "SiteHit",
    "find_type_iis_sites",
    "moclo_level0",
    "transcription_unit",
]

MocloPartType = Literal["promoter", "rbs", "cds", "terminator"]

Part = SequenceRecord | tuple[str, str]
"""A part: a record, or a ``(name, sequence)`` pair."""

MOCLO_STANDARD: Final = "CIDAR MoClo (Iverson et al. 2016, doi:10.1021/acssynbio.5b00124)"

MOCLO_FUSION_SITES: Final[Mapping[MocloPartType, tuple[str, str]]] = {
    "promoter": ("GGAG", "TACT"),
    "rbs": ("TACT", "AATG"),
    "cds": ("AATG", "AGGT"),
    "terminator": ("AGGT", "GCTT"),
}
"""CIDAR MoClo fusion sites (5', 3') of each transcription-unit position."""

BSAI_SITE: Final = "GGTCTC"
BPII_SITE: Final = "GAAGAC"
_TYPE_IIS: Final[Mapping[str, str]] = {"BsaI": BSAI_SITE, "BpiI": BPII_SITE}
_SPACER: Final = "A"  # the N between a BsaI site and its cut, as in the CIDAR kit files
_STARTS: Final = ("ATG", "GTG", "TTG")
_FEATURE_KEYS: Final[Mapping[MocloPartType, str]] = {
    "promoter": "promoter",
    "rbs": "RBS",
    "cds": "CDS",
    "terminator": "terminator",
}
_ALIASES: Final[Mapping[str, MocloPartType]] = {
    "promoter": "promoter",
    "rbs": "rbs",
    "5utr": "rbs",
    "ribosome_entry_site": "rbs",
    "cds": "cds",
    "terminator": "terminator",
}


@dataclass(frozen=True, slots=True)
class SiteHit:
    """A Type IIS recognition site found in a sequence (``position`` 1-based, forward strand)."""

    enzyme: str
    position: int
    strand: Literal[1, -1]


def find_type_iis_sites(sequence: str) -> tuple[SiteHit, ...]:
    """Return every BsaI and BpiI recognition site on either strand, by position.

    Examples
    --------
    >>> find_type_iis_sites("AAGGTCTCAAGTCTTC")
    (SiteHit(enzyme='BsaI', position=3, strand=1), SiteHit(enzyme='BpiI', position=11, strand=-1))
    """
    seq = sequence.upper()
    hits: list[SiteHit] = []
    for enzyme, site in _TYPE_IIS.items():
        for motif, strand in ((site, 1), (reverse_complement(site), -1)):
            start = seq.find(motif)
            while start >= 0:
                hits.append(SiteHit(enzyme, start + 1, strand))  # type: ignore[arg-type]
                start = seq.find(motif, start + 1)
    return tuple(sorted(hits, key=lambda h: (h.position, h.enzyme)))


def _part(part: Part, role: str) -> tuple[str, str]:
    """Return (name, upper-case sequence) of a part, or raise naming it."""
    if isinstance(part, SequenceRecord):
        name, seq = part.name, part.sequence
    else:
        name, seq = part
    name = name or role
    seq = "".join(seq.split())
    if not seq:
        raise ValidationError(f"{role} part is empty", record=name, field="sequence")
    return name, validate_dna(seq, record=name)


def _check_cds(seq: str, name: str, table: int) -> str:
    """Check a complete CDS and return its protein without the stop (GenBank /translation)."""
    if len(seq) % 3:
        raise ValidationError(
            f"CDS of {len(seq)} nt is not a multiple of 3", record=name, field="sequence"
        )
    if len(seq) < 6:
        raise ValidationError(
            "CDS needs at least a start and a stop codon", record=name, field="sequence"
        )
    if any(base not in "ACGT" for base in seq):
        raise ValidationError(
            "CDS holds ambiguous bases; it cannot be translated", record=name, field="sequence"
        )
    code = CodonTable.unambiguous_dna_by_id[table]
    if seq[:3] not in _STARTS or seq[:3] not in code.start_codons:
        raise ValidationError(
            f"CDS starts with {seq[:3]}, not a start codon (ATG, GTG or TTG)",
            record=name,
            field="sequence",
        )
    protein = translate(seq, table)
    if not protein.endswith("*"):
        raise ValidationError(
            f"CDS ends with {seq[-3:]}, not a stop codon", record=name, field="sequence"
        )
    body = protein.rstrip("*")  # a run of final stops (TAATAA) is allowed
    stop = body.find("*")
    if stop >= 0:
        raise ValidationError(
            f"internal stop codon {seq[3 * stop : 3 * stop + 3]} at codon {stop + 1} "
            f"(nt {3 * stop + 1})",
            record=name,
            field="sequence",
        )
    return body


def _part_feature(
    kind: MocloPartType, name: str, start: int, end: int, *, translation: str = "", table: int = 11
) -> Feature:
    qualifiers: list[tuple[str, str | None]] = [("label", name)]
    if kind == "cds":
        qualifiers += [
            ("codon_start", "1"),
            ("transl_table", str(table)),
            ("translation", translation),
        ]
    elif kind == "rbs":
        qualifiers.append(("note", "SO:0000139 ribosome_entry_site"))
    return Feature(_FEATURE_KEYS[kind], (FeatureSpan(start, end, 1),), tuple(qualifiers))


def _site_feature(start: int, note: str) -> Feature:
    return Feature("misc_feature", (FeatureSpan(start, start + 4, 1),), (("note", note),))


def _moclo_inner(kind: MocloPartType, name: str, seq: str) -> tuple[str, int]:
    """Return the part sequence between the fusion sites, and the offset of part nt 1 in it."""
    if kind != "cds":
        return seq, 0
    if not seq.startswith("ATG"):
        raise ValidationError(
            f"CDS starts with {seq[:3]}; in CIDAR MoClo the AATG fusion site supplies "
            "the start codon ATG, so the CDS must start with ATG",
            record=name,
            field="sequence",
        )
    return seq[3:], -3


def _internal_sites(kind: MocloPartType, name: str, seq: str) -> list[str]:
    """Describe BsaI/BpiI sites in the part, including those it makes with its fusion sites."""
    five, three = MOCLO_FUSION_SITES[kind]
    inner, shift = _moclo_inner(kind, name, seq)
    context = _SPACER + five + inner + three + _SPACER
    problems = []
    for hit in find_type_iis_sites(context):
        position = hit.position - len(_SPACER + five) - shift  # 1-based position in the part
        motif = _TYPE_IIS[hit.enzyme]
        motif = motif if hit.strand == 1 else reverse_complement(motif)
        if position < 1 or position + 5 > len(seq):
            where = "across the fusion site junction"
        else:
            where = f"at nt {position}"
        strand = "+" if hit.strand == 1 else "-"
        problems.append(f"part {name!r} ({kind}): {hit.enzyme} site {motif} ({strand}) {where}")
    return problems


def _part_type(part_type: str) -> MocloPartType:
    kind = _ALIASES.get(part_type.lower().replace("'", "").replace(" ", "_"))
    if kind is None:
        raise ValidationError(
            f"unknown MoClo part type {part_type!r}; use promoter, rbs, cds or terminator",
            field="part_type",
        )
    return kind


def moclo_level0(
    part_sequence: Part | str, part_type: str, *, name: str | None = None, table: int = 11
) -> SequenceRecord:
    """Return the CIDAR MoClo level-0 part of a promoter, RBS, CDS or terminator.

    The result is ``GGTCTC A <5' site> <part> <3' site> A GAGACC`` (a CDS
    loses its ATG to the AATG site), annotated with the BsaI sites, the fusion
    sites and the part itself.

    Raises
    ------
    ValidationError
        For an unknown part type, an invalid CDS, or an internal BsaI or BpiI
        site (each named with the part and its 1-based position).

    Examples
    --------
    >>> moclo_level0("TTGACAGCTAGCTCAGTCCTAGG", "promoter", name="J23").sequence
    'GGTCTCAGGAGTTGACAGCTAGCTCAGTCCTAGGTACTAGAGACC'
    """
    kind = _part_type(part_type)
    if isinstance(part_sequence, str):
        part_sequence = (name or kind, part_sequence)
    part_name, seq = _part(part_sequence, kind)
    part_name = name or part_name
    translation = _check_cds(seq, part_name, table) if kind == "cds" else ""
    problems = _internal_sites(kind, part_name, seq)
    if problems:
        raise ValidationError("; ".join(problems), record=part_name, field="sequence")
    five, three = MOCLO_FUSION_SITES[kind]
    inner, shift = _moclo_inner(kind, part_name, seq)
    left = BSAI_SITE + _SPACER
    sequence = left + five + inner + three + _SPACER + reverse_complement(BSAI_SITE)
    part_start = len(left) + len(five) + shift
    features = (
        Feature("misc_feature", (FeatureSpan(0, 6, 1),), (("note", "BsaI site"),)),
        _site_feature(len(left), f"fusion site {five}"),
        _part_feature(
            kind, part_name, part_start, part_start + len(seq), translation=translation, table=table
        ),
        _site_feature(len(left) + len(five) + len(inner), f"fusion site {three}"),
        Feature(
            "misc_feature",
            (FeatureSpan(len(sequence) - 6, len(sequence), -1),),
            (("note", "BsaI site"),),
        ),
    )
    return SequenceRecord(
        name=part_name,
        sequence=sequence,
        description=f"MoClo level-0 {kind} part {part_name} ({five}-{three})",
        features=features,
        annotations={
            "standard": MOCLO_STANDARD,
            "part_type": kind,
            "fusion_sites": [five, three],
        },
    )


def transcription_unit(
    promoter: Part,
    rbs: Part,
    cds: Part,
    terminator: Part,
    *,
    name: str,
    standard: Literal["moclo"] | None = None,
    table: int = 11,
) -> SequenceRecord:
    """Join promoter, RBS, CDS and terminator into an annotated transcription unit.

    Parameters
    ----------
    promoter, rbs, cds, terminator
        The parts, as records or ``(name, sequence)`` pairs, 5'->3'.
    name
        Name of the transcription unit.
    standard
        ``None`` joins the parts directly. ``"moclo"`` returns the CIDAR MoClo
        level-1 unit that Golden Gate assembly of the level-0 parts yields
        (``GGAG promoter TACT RBS AATG CDS AGGT terminator GCTT``), annotated
        with the fusion sites, and keeps the level-0 part sequences in
        ``annotations["moclo_level0"]`` (part name -> sequence).
    table
        NCBI genetic code of the CDS (11, bacterial, by default).

    Raises
    ------
    ValidationError
        For an empty or non-DNA part, a CDS that lacks a start or a stop
        codon, holds an internal stop or is not a multiple of 3, and (MoClo) a
        CDS not starting with ATG or any internal BsaI/BpiI site; the error's
        ``record`` names the part.

    Examples
    --------
    >>> tu = transcription_unit(
    ...     ("J23100", "TTGACGGCTAGCTCAGTCCTAGG"), ("B0034", "AAAGAGGAGAAA"),
    ...     ("pep", "ATGAAATAA"), ("T1", "CCAGGCATCAAATAAAACGAAAGGCTCAGTCGAAAG"), name="tu1")
    >>> [(f.type, f.start, f.end) for f in tu.features]
    [('promoter', 0, 23), ('RBS', 23, 35), ('CDS', 35, 44), ('terminator', 44, 80)]
    """
    parts: list[tuple[MocloPartType, str, str]] = []
    for kind, part in (
        ("promoter", promoter),
        ("rbs", rbs),
        ("cds", cds),
        ("terminator", terminator),
    ):
        part_name, seq = _part(part, kind)
        parts.append((kind, part_name, seq))  # type: ignore[arg-type]
    cds_name, cds_seq = parts[2][1], parts[2][2]
    translation = _check_cds(cds_seq, cds_name, table)

    if standard is None:
        features = []
        position = 0
        for kind, part_name, seq in parts:
            features.append(
                _part_feature(
                    kind,
                    part_name,
                    position,
                    position + len(seq),
                    translation=translation,
                    table=table,
                )
            )
            position += len(seq)
        return SequenceRecord(
            name=name,
            sequence="".join(seq for _, _, seq in parts),
            description=f"transcription unit {name}",
            features=tuple(features),
        )
    if standard != "moclo":
        raise ValidationError(
            f"unknown assembly standard {standard!r}; use None or 'moclo'",
            record=name,
            field="standard",
        )
    return _moclo_unit(parts, name=name, translation=translation, table=table)


def _moclo_unit(
    parts: list[tuple[MocloPartType, str, str]], *, name: str, translation: str, table: int
) -> SequenceRecord:
    problems: list[str] = []
    offenders: list[str] = []
    for kind, part_name, seq in parts:
        _moclo_inner(kind, part_name, seq)  # a CDS must start with ATG
        found = _internal_sites(kind, part_name, seq)
        problems += found
        offenders += [part_name] if found else []
    if problems:
        record = offenders[0] if len(offenders) == 1 else name
        raise ValidationError("; ".join(problems), record=record, field="sequence")

    level0 = {
        part_name: moclo_level0((part_name, seq), kind, table=table).sequence
        for kind, part_name, seq in parts
    }
    pieces: list[str] = []
    features: list[Feature] = []
    position = 0
    for kind, part_name, seq in parts:
        five, _ = MOCLO_FUSION_SITES[kind]
        features.append(_site_feature(position, f"fusion site {five}"))
        pieces.append(five)
        position += len(five)
        inner, shift = _moclo_inner(kind, part_name, seq)
        features.append(
            _part_feature(
                kind,
                part_name,
                position + shift,
                position + len(inner),
                translation=translation,
                table=table,
            )
        )
        pieces.append(inner)
        position += len(inner)
    last = MOCLO_FUSION_SITES["terminator"][1]
    features.append(_site_feature(position, f"fusion site {last}"))
    pieces.append(last)
    return SequenceRecord(
        name=name,
        sequence="".join(pieces),
        description=f"transcription unit {name}, MoClo level 1",
        features=tuple(features),
        annotations={"standard": MOCLO_STANDARD, "moclo_level0": level0},
    )
