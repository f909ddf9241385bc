"""Recombineering donors: in-frame knock-outs and point mutations that escape the guide.

A donor is a homology arm, the new sequence and a second arm, read on the
forward strand of the genome (or, for single-stranded oligos, on the strand
that anneals to the lagging-strand template). Coordinates are 0-based and
half-open on the forward strand; on a circular genome an interval may run
across the origin, so its ``end`` is then smaller than its ``start``.

Arm lengths default to the standard of each method (:data:`ARM_LENGTHS`):

=================  ================  =====  ==========================================
host               method            arm    source
=================  ================  =====  ==========================================
``e_coli``         lambda_red_dsdna  50 nt  Datsenko & Wanner 2000, PNAS 97:6640 (36-50 nt
                                            primer extensions of the PCR product)
``e_coli``         lambda_red_ssdna  45 nt  Ellis et al. 2001, PNAS 98:6742; Wang et al.
                                            2009, Nature 460:894 (MAGE 90-nt oligos)
``e_coli``         crispr_hr         400 bp Jiang et al. 2015, AEM 81:2506 (300-500 bp
                                            dsDNA donor arms with Cas9 + lambda-Red)
``s_cerevisiae``   pcr_cassette      50 bp  Baudin et al. 1993, NAR 21:3329; Wach et al.
                                            1994, Yeast 10:1793 (40-60 bp PCR tails)
``s_cerevisiae``   crispr_hr         500 bp DiCarlo et al. 2013, NAR 41:4336 (Cas9 HR in
                                            yeast; long arms as a robust default)
=================  ================  =====  ==========================================

Single-stranded oligos are given as the strand that mimics an Okazaki
fragment (lagging-strand targeting, Ellis 2001; Costantino & Court 2003): on
the replichore that the fork crosses in increasing coordinates (from the
origin clockwise to the terminus) that is the reverse strand.

Guides are SpCas9-like: a 3' PAM (``NGG``), cut 3 bp from the PAM. A point
mutation donor blocks re-cutting by destroying the PAM or by putting at
least two mismatches in the 10-nt seed next to it, with changes that are
synonymous in every CDS they touch (codon table from ``/transl_table``, or
inferred from ``/translation``, else 11).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from Bio.Seq import translate as _bio_translate

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Feature, SequenceRecord, reverse_complement
from cellfoundry.dna.crispr import Guide, find_guides
from cellfoundry.dna.offtarget import OffTargetIndex

__all__ = [
    "ARM_LENGTHS",
    "BaseChange",
    "Donor",
    "GenomeInterval",
    "Host",
    "Method",
    "PointMutationDonor",
    "find_gene",
    "knockout_donor",
    "point_mutation_donor",
    "translation_table",
]

Host = Literal["e_coli", "s_cerevisiae"]
Method = Literal["lambda_red_dsdna", "lambda_red_ssdna", "crispr_hr", "pcr_cassette"]

ARM_LENGTHS: Final[dict[tuple[str, str], int]] = {
    ("e_coli", "lambda_red_dsdna"): 50,
    ("e_coli", "lambda_red_ssdna"): 45,
    ("e_coli", "crispr_hr"): 400,
    ("s_cerevisiae", "pcr_cassette"): 50,
    ("s_cerevisiae", "crispr_hr"): 500,
}
"""Default homology-arm length (each side) by ``(host, method)``; sources in the module doc."""

KEIO_KEPT_CODONS: Final = (1, 7)
"""Codons kept by an in-frame deletion: the start codon and the last 7 (6 + stop), Baba 2006."""

SEED_LENGTH: Final = 10
"""PAM-proximal spacer bases where two mismatches block SpCas9 re-cutting."""

CUT_OFFSET: Final = 3
"""SpCas9 cuts this many bases 5' of the PAM on the protospacer strand."""

_IUPAC: Final[dict[str, str]] = {
    "A": "A", "C": "C", "G": "G", "T": "T",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip
_NAME_KEYS: Final = ("locus_tag", "gene", "label", "old_locus_tag", "gene_synonym", "standard_name")
_CODONS: Final = tuple(a + b + c for a in "TCAG" for b in "TCAG" for c in "TCAG")


@dataclass(frozen=True, slots=True)
class GenomeInterval:
    """A forward-strand interval of the genome and its sequence.

    ``end`` is exclusive; it is smaller than ``start`` when the interval runs
    across the origin of a circular genome.
    """

    start: int
    end: int
    sequence: str

    def __len__(self) -> int:
        return len(self.sequence)


@dataclass(frozen=True, slots=True)
class BaseChange:
    """One base changed by a donor, on the forward strand.

    ``reason`` is ``"edit"`` for the intended change, ``"pam"`` or ``"seed"``
    for a silent change that blocks re-cutting by the guide.
    """

    position: int
    old: str
    new: str
    reason: Literal["edit", "pam", "seed"]


@dataclass(frozen=True, slots=True)
class Donor:
    """A knock-out (or ORF replacement) donor.

    ``donor`` is the molecule to order, 5'->3' on ``donor_strand``;
    ``edited_region`` is the same on the forward strand (left arm + insert +
    right arm). ``deleted`` is the genome interval removed, ``insert`` the
    forward-strand sequence put in its place. ``guides`` cut inside the
    deleted region and were checked to be absent from the edited sequence;
    their positions are genome coordinates. ``edited_protein`` is the
    translation of what is left of the ORF (start codon, insert, kept
    C-terminal codons).
    """

    gene: str
    locus_tag: str | None
    host: Host
    method: Method
    arm_length: int
    donor: str
    donor_strand: Literal[1, -1]
    left_arm: GenomeInterval
    right_arm: GenomeInterval
    deleted: GenomeInterval
    insert: str
    edited_region: str
    edited_protein: str
    translation_table: int
    guides: tuple[Guide, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PointMutationDonor:
    """A donor that makes a small substitution and blocks re-cutting by ``guide``.

    ``changes`` lists every base changed (intended and silent). ``protein_changes``
    names each amino-acid change in the CDSs overlapping the changes, as
    ``"<locus> <old><codon><new>"``; only the intended one may appear.
    ``cut_distance`` is the distance (bp) from the guide's cut to the edit.
    """

    host: Host
    method: Method
    arm_length: int
    changes: tuple[BaseChange, ...]
    guide: Guide
    cut_distance: int
    donor: str
    donor_strand: Literal[1, -1]
    left_arm: GenomeInterval
    right_arm: GenomeInterval
    edited_region: str
    protein_changes: tuple[str, ...]
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------- helpers


def _circular(genome: SequenceRecord) -> bool:
    return genome.topology == "circular"


def window(genome: SequenceRecord, start: int, end: int) -> str:
    """Forward sequence of ``start .. end``, wrapping across the origin of a circular genome.

    Raises
    ------
    ValidationError
        If the interval leaves a linear genome or is longer than the genome.

    Examples
    --------
    >>> window(SequenceRecord("c", "AACCGGTT", topology="circular"), -2, 2)
    'TTAA'
    """
    n = len(genome.sequence)
    if 0 <= start <= end <= n:
        return genome.sequence[start:end]
    if not _circular(genome):
        raise ValidationError(
            f"interval {start}..{end} runs off the ends of the linear sequence ({n} bp); "
            "use shorter arms or mark the genome circular",
            record=genome.name,
            field="arm_length",
        )
    if end - start > n:
        raise ValidationError(
            f"interval of {end - start} bp is longer than the genome ({n} bp)",
            record=genome.name,
            field="arm_length",
        )
    s = start % n
    e = s + (end - start)
    return genome.sequence[s:e] if e <= n else genome.sequence[s:] + genome.sequence[: e - n]


def _clamped(genome: SequenceRecord, start: int, end: int) -> str:
    if not _circular(genome):
        start, end = max(start, 0), min(end, len(genome.sequence))
    return window(genome, start, end)


def interval(genome: SequenceRecord, start: int, end: int) -> GenomeInterval:
    """Return the :class:`GenomeInterval` of ``start .. end`` (wrapping on a circular genome)."""
    n = len(genome.sequence)
    seq = window(genome, start, end)
    s = start % n if n else 0
    e = s + len(seq)
    return GenomeInterval(s, e if e <= n else e - n, seq)


def _names(feature: Feature) -> set[str]:
    return {v for k, v in feature.qualifiers if k in _NAME_KEYS and v}


def find_gene(genome: SequenceRecord, gene: str) -> Feature:
    """Return the CDS (or gene) feature named ``gene`` by locus_tag, gene, label or synonym.

    Raises
    ------
    ValidationError
        If no feature has that name (with close names suggested), if the name
        fits features at different places, or if the CDS is split.

    Examples
    --------
    >>> from cellfoundry.core.sequence import FeatureSpan
    >>> f = Feature("CDS", (FeatureSpan(0, 6),), (("gene", "abc"),))
    >>> find_gene(SequenceRecord("r", "ATGTAA", features=(f,)), "abc").end
    6
    """
    matches = [f for f in genome.features if f.type in ("CDS", "gene") and gene in _names(f)]
    if not matches:
        matches = [
            f
            for f in genome.features
            if f.type in ("CDS", "gene") and gene.lower() in {n.lower() for n in _names(f)}
        ]
    if not matches:
        known = sorted({n for f in genome.features if f.type in ("CDS", "gene") for n in _names(f)})
        close = difflib.get_close_matches(gene, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(
            f"no gene or CDS named {gene!r} in {genome.name!r}{hint}", record=gene, field="gene"
        )
    cds = [f for f in matches if f.type == "CDS"]
    pool = cds or matches
    places = {(f.start, f.end, f.strand) for f in pool}
    if len(places) > 1:
        where = ", ".join(
            f"{f.qualifier('locus_tag') or f.label} {f.start}..{f.end}"
            for f in sorted(pool, key=lambda f: f.start)
        )
        raise ValidationError(
            f"{gene!r} is ambiguous: it names {len(places)} features ({where}); "
            "use a locus_tag instead",
            record=gene,
            field="gene",
        )
    feature = pool[0]
    if not cds:  # a gene feature: use the CDS at the same place if one exists
        for f in genome.features:
            if f.type == "CDS" and (f.start, f.end, f.strand) == (
                feature.start,
                feature.end,
                feature.strand,
            ):
                feature = f
                break
    if len(feature.spans) != 1 or feature.strand == 0:
        raise ValidationError(
            f"{gene!r} is a split or unstranded feature; only single-span genes can be edited",
            record=gene,
            field="gene",
        )
    return feature


def _translate(seq: str, table: int) -> str:
    usable = seq[: len(seq) - len(seq) % 3]
    return str(_bio_translate(usable, table=table))  # type: ignore[no-untyped-call]


def translation_table(feature: Feature, genome: SequenceRecord, table: int | None = None) -> int:
    """Return the genetic code of a CDS: ``table``, else ``/transl_table``, else inferred, else 11.

    Without a ``/transl_table`` qualifier (on the CDS or the source feature)
    the code is inferred from ``/translation``: table 4 (TGA = Trp, as in
    *Mycoplasma*) when it, and not table 11, reproduces the annotated protein.
    """
    if table is not None:
        return table
    for f in (feature, *(s for s in genome.features if s.type == "source")):
        value = f.qualifier("transl_table")
        if value and value.strip().isdigit():
            return int(value)
    annotated = feature.qualifier("translation")
    if annotated:
        seq = _cds_sequence(genome, feature)
        body = annotated.rstrip("*")
        for candidate in (11, 4):
            protein = _translate(seq, candidate).rstrip("*")
            if protein[1:] == body[1:]:
                return candidate
    return 11


def _cds_sequence(
    genome: SequenceRecord, feature: Feature, changes: dict[int, str] | None = None
) -> str:
    seq = window(genome, feature.start, feature.end)
    if changes:
        chars = list(seq)
        n = len(genome.sequence)
        for pos, base in changes.items():
            offset = (pos - feature.start) % n
            if offset < len(chars):
                chars[offset] = base
        seq = "".join(chars)
    return seq if feature.strand == 1 else reverse_complement(seq)


def _arm_length(host: str, method: str, arm_length: int | None) -> int:
    if (host, method) not in ARM_LENGTHS:
        valid = ", ".join(m for h, m in ARM_LENGTHS if h == host)
        if not valid:
            raise ValidationError(
                f"unknown host {host!r}; use 'e_coli' or 's_cerevisiae'", field="host"
            )
        raise ValidationError(
            f"method {method!r} is not used in {host}; use one of {valid}", field="method"
        )
    length = ARM_LENGTHS[(host, method)] if arm_length is None else arm_length
    if length < 1:
        raise ValidationError(f"arm length must be positive, not {length}", field="arm_length")
    return length


def _check_dna(seq: str, field: str) -> str:
    upper = seq.upper()
    bad = set(upper) - set("ACGT")
    if bad:
        raise ValidationError(
            f"{field} holds {''.join(sorted(bad))!r}; use A, C, G, T only", field=field
        )
    return upper


def _origin(genome: SequenceRecord, origin: int | None, warnings: list[str]) -> int:
    if origin is not None:
        return origin
    for f in genome.features:
        if f.type == "rep_origin":
            return f.start
    for f in genome.features:
        if f.type in ("CDS", "gene") and f.qualifier("gene") == "dnaA":
            return f.start
    warnings.append("replication origin unknown (no rep_origin or dnaA); assumed at position 0")
    return 0


def oligo_strand(genome: SequenceRecord, position: int, origin: int) -> Literal[1, -1]:
    """Strand of an oligo that anneals to the lagging-strand template at ``position``.

    The terminus is taken opposite the origin. Between origin and terminus
    clockwise the fork moves to increasing coordinates, the lagging strand
    reads as the reverse strand, so the oligo is the reverse complement.

    Examples
    --------
    >>> oligo_strand(SequenceRecord("c", "A" * 100, topology="circular"), 10, 0)
    -1
    >>> oligo_strand(SequenceRecord("c", "A" * 100, topology="circular"), 60, 0)
    1
    """
    n = len(genome.sequence)
    return -1 if (position - origin) % n < n / 2 else 1


def _donor_molecule(
    genome: SequenceRecord,
    method: str,
    edited: str,
    position: int,
    origin: int | None,
    warnings: list[str],
) -> tuple[str, Literal[1, -1]]:
    if method != "lambda_red_ssdna":
        return edited, 1
    if not _circular(genome):
        warnings.append("linear genome: lagging strand unknown, oligo given on the forward strand")
        return edited, 1
    strand = oligo_strand(genome, position, _origin(genome, origin, warnings))
    if len(edited) > 120:
        warnings.append(f"ssDNA oligo of {len(edited)} nt is long for lambda-Red (usually 70-90)")
    return (reverse_complement(edited) if strand == -1 else edited), strand


def _cut(guide: Guide) -> int:
    """Forward coordinate of the cut (between bases ``cut - 1`` and ``cut``)."""
    width = len(guide.spacer) + len(guide.pam)
    if guide.strand == 1:
        return guide.position + len(guide.spacer) - CUT_OFFSET
    return guide.position + width - len(guide.spacer) + CUT_OFFSET


def _guides_near(
    genome: SequenceRecord, start: int, end: int, pam: str, spacer: int
) -> list[Guide]:
    """Guides overlapping ``start .. end`` with genome coordinates (mod genome length)."""
    n = len(genome.sequence)
    width = spacer + len(pam)
    lo, hi = start - width, end + width
    if not _circular(genome):
        lo, hi = max(lo, 0), min(hi, n)
    text = window(genome, lo, hi)
    if len(text) < width:
        return []
    return [replace(g, position=lo + g.position) for g in find_guides(text, pam=pam, spacer=spacer)]


def _absolute(guide: Guide, n: int) -> Guide:
    return replace(guide, position=guide.position % n)


def _guide_rank(guide: Guide) -> tuple[bool, float]:
    return (guide.poly_t, abs(guide.gc_fraction - 0.5))


def _unique(guides: Sequence[Guide], index: OffTargetIndex | None) -> dict[str, int]:
    """Sites within 2 mismatches (own target included) per spacer; empty without an index."""
    if index is None or not guides:
        return {}
    counts: dict[str, int] = {g.spacer: 0 for g in guides}
    spacers = sorted(counts)
    for hit in index.search(spacers, 2):
        counts[spacers[int(hit.guide_id)]] += 1
    return counts


# --------------------------------------------------------------------------- knock-outs


def knockout_donor(
    genome: SequenceRecord,
    gene: str,
    *,
    host: Host = "e_coli",
    method: Method | None = None,
    arm_length: int | None = None,
    insert: str = "",
    keep_start_stop: bool = True,
    kept_codons: tuple[int, int] = KEIO_KEPT_CODONS,
    table: int | None = None,
    pam: str = "NGG",
    spacer: int = 20,
    replication_origin: int | None = None,
    offtarget_index: OffTargetIndex | None = None,
) -> Donor:
    """Design a donor that deletes a gene in frame, or replaces its ORF with ``insert``.

    Parameters
    ----------
    genome
        The genome, with its CDS/gene annotations.
    gene
        A locus_tag, gene name, label or synonym naming one gene.
    host, method
        The organism and the recombineering method; ``method`` defaults to
        ``lambda_red_dsdna`` in *E. coli* and ``crispr_hr`` in yeast.
    arm_length
        Bases of homology on each side; default from :data:`ARM_LENGTHS`.
    insert
        Sequence put in place of the deleted codons, 5'->3' in the gene's
        sense (a stop cassette, a barcode); empty for a clean deletion.
    keep_start_stop
        Keep ``kept_codons`` (N-terminal, C-terminal) codons, Keio-style
        (start + last 7 codons, so downstream RBSs in operons survive); with
        ``False`` the whole ORF goes.
    table
        Genetic code; default from the CDS (see :func:`translation_table`).
    pam, spacer
        The 3'-PAM nuclease whose guides should cut inside the deletion.
    replication_origin
        Origin position, for the strand of ssDNA oligos (default: the
        ``rep_origin`` feature, else the start of *dnaA*).
    offtarget_index
        If given, guides with another site within 2 mismatches are dropped.

    Returns
    -------
    Donor
        The donor, its arms, the deletion, verified guides and warnings.

    Raises
    ------
    ValidationError
        Unknown or ambiguous gene, unknown host/method, a gene too short for
        the kept codons, arms off the end of a linear sequence, or an insert
        that is not DNA.

    References
    ----------
    Datsenko & Wanner 2000, PNAS 97:6640; Baba et al. 2006, Mol. Syst. Biol.
    2:2006.0008 (Keio in-frame deletions); Jiang et al. 2015, AEM 81:2506.

    Examples
    --------
    >>> from cellfoundry.core.sequence import FeatureSpan
    >>> seq = "TTTT" * 15 + "ATG" + "GCT" * 10 + "TAA" + "TTTT" * 15
    >>> f = Feature("CDS", (FeatureSpan(60, 96, 1),), (("gene", "abc"),))
    >>> d = knockout_donor(SequenceRecord("r", seq, features=(f,)), "abc", kept_codons=(1, 1))
    >>> d.edited_protein, len(d.left_arm), d.deleted.start, d.deleted.end
    ('M*', 50, 63, 93)
    """
    method = method or ("lambda_red_dsdna" if host == "e_coli" else "crispr_hr")
    arms = _arm_length(host, method, arm_length)
    feature = find_gene(genome, gene)
    insert_sense = _check_dna(insert, "insert")
    code = translation_table(feature, genome, table)
    warnings: list[str] = []
    n = len(genome.sequence)
    start, end, strand = feature.start, feature.end, feature.strand
    length = end - start
    if length % 3:
        warnings.append(f"{gene} is {length} bp, not a whole number of codons")
    k5, k3 = kept_codons if keep_start_stop else (0, 0)
    if k5 < 0 or k3 < 0:
        raise ValidationError(f"kept codons must be >= 0, not {kept_codons}", field="kept_codons")
    if 3 * (k5 + k3) >= length:
        raise ValidationError(
            f"{gene} ({length} bp) is too short to keep {k5} + {k3} codons; "
            "lower kept_codons or set keep_start_stop=False",
            record=gene,
            field="kept_codons",
        )
    if strand == 1:
        d0, d1 = start + 3 * k5, end - 3 * k3
    else:
        d0, d1 = start + 3 * k3, end - 3 * k5
    insert_fwd = insert_sense if strand == 1 else reverse_complement(insert_sense)
    if insert_sense and keep_start_stop and len(insert_sense) % 3:
        warnings.append(
            f"insert of {len(insert_sense)} bp shifts the frame of the kept C-terminal codons"
        )
    left = interval(genome, d0 - arms, d0)
    right = interval(genome, d1, d1 + arms)
    deleted = interval(genome, d0, d1)
    edited = left.sequence + insert_fwd + right.sequence
    gene_seq = _cds_sequence(genome, feature)
    kept = gene_seq[: 3 * k5] + insert_sense + gene_seq[length - 3 * k3 :]
    edited_protein = _translate(kept, code)

    # guides cutting inside the deletion, absent from the edited sequence
    candidates = [g for g in _guides_near(genome, d0, d1, pam, spacer) if d0 < _cut(g) < d1]
    pad = spacer + len(pam)
    context = (
        _clamped(genome, d0 - arms - pad, d0) + insert_fwd + _clamped(genome, d1, d1 + arms + pad)
    )
    remaining = (
        {g.spacer for g in find_guides(context, pam=pam, spacer=spacer)} if candidates else set()
    )
    guides = [_absolute(g, n) for g in candidates if g.spacer not in remaining]
    counts = _unique(guides, offtarget_index)
    if counts:
        dropped = sum(1 for g in guides if counts[g.spacer] > 1)
        guides = [g for g in guides if counts[g.spacer] <= 1]
        if dropped:
            warnings.append(f"{dropped} guide(s) dropped for off-targets within 2 mismatches")
    guides.sort(key=_guide_rank)
    if not guides:
        warnings.append(
            f"no {pam} guide cuts inside the deleted region; the edit cannot be counter-selected "
            "with Cas9"
        )
    molecule, donor_strand = _donor_molecule(
        genome, method, edited, d0, replication_origin, warnings
    )
    return Donor(
        gene=gene,
        locus_tag=feature.qualifier("locus_tag"),
        host=host,
        method=method,
        arm_length=arms,
        donor=molecule,
        donor_strand=donor_strand,
        left_arm=left,
        right_arm=right,
        deleted=deleted,
        insert=insert_fwd,
        edited_region=edited,
        edited_protein=edited_protein,
        translation_table=code,
        guides=tuple(guides),
        warnings=tuple(warnings),
    )


# --------------------------------------------------------------------------- point mutations


def _pam_ok(text: str, pam: str) -> bool:
    return all(b in _IUPAC[p] for b, p in zip(text, pam.upper(), strict=True))


class _Editor:
    """Forward-strand base changes over a genome, with CDS-aware synonymy checks."""

    def __init__(self, genome: SequenceRecord, cds: Iterable[tuple[Feature, int]]) -> None:
        self.genome = genome
        self.n = len(genome.sequence)
        self.cds = list(cds)
        self.changes: dict[int, str] = {}

    def base(self, position: int) -> str:
        p = position % self.n
        return self.changes.get(p, self.genome.sequence[p].upper())

    def text(self, start: int, end: int) -> str:
        return "".join(self.base(p) for p in range(start, end))

    def _codon_aa(self, feature: Feature, table: int, position: int) -> str:
        offset = (position - feature.start) % self.n
        length = feature.end - feature.start
        sense = offset if feature.strand == 1 else length - 1 - offset
        first = sense - sense % 3
        bases = []
        for i in range(first, first + 3):
            p = feature.start + (i if feature.strand == 1 else length - 1 - i)
            bases.append(self.base(p))
        codon = "".join(bases)
        return _translate(codon if feature.strand == 1 else reverse_complement(codon), table)

    def covering(self, position: int) -> list[tuple[Feature, int]]:
        p = position % self.n
        out = []
        for f, t in self.cds:
            offset = (p - f.start) % self.n
            if offset < f.end - f.start and (f.end - f.start) % 3 == 0:
                out.append((f, t))
        return out

    def silent(self, position: int, base: str) -> bool:
        """Whether changing ``position`` to ``base`` keeps every covering CDS's amino acid."""
        covering = self.covering(position)
        before = [self._codon_aa(f, t, position) for f, t in covering]
        p = position % self.n
        old = self.changes.get(p)
        self.changes[p] = base
        after = [self._codon_aa(f, t, position) for f, t in covering]
        if old is None:
            del self.changes[p]
        else:
            self.changes[p] = old
        return before == after


def _blocked(editor: _Editor, guide: Guide, pam: str) -> bool:
    width = len(guide.spacer) + len(pam)
    text = editor.text(guide.position, guide.position + width)
    if guide.strand == -1:
        text = reverse_complement(text)
    target, site_pam = text[: len(guide.spacer)], text[len(guide.spacer) :]
    if not _pam_ok(site_pam, pam):
        return True
    seed = slice(len(guide.spacer) - SEED_LENGTH, len(guide.spacer))
    mismatches = sum(a != b for a, b in zip(target[seed], guide.spacer[seed], strict=True))
    return mismatches >= 2


def _forward(guide: Guide, index: int) -> int:
    """Forward coordinate of base ``index`` of the target (protospacer + PAM) as read."""
    width = len(guide.spacer) + len(guide.pam)
    return guide.position + index if guide.strand == 1 else guide.position + width - 1 - index


def _block(editor: _Editor, guide: Guide, pam: str, protected: set[int]) -> list[BaseChange]:
    """Silent changes that stop ``guide`` re-cutting, or ``[]`` if none are found."""
    added: list[BaseChange] = []
    n = editor.n
    pam_positions = [
        _forward(guide, len(guide.spacer) + i) for i, p in enumerate(pam.upper()) if p != "N"
    ]
    for p in pam_positions:
        if p % n in protected:
            continue
        for base in "ACGT":
            if base == editor.base(p) or not editor.silent(p, base):
                continue
            old = editor.base(p)
            editor.changes[p % n] = base
            if _blocked(editor, guide, pam):
                return [BaseChange(p % n, old, base, "pam")]
            del editor.changes[p % n]
    # two mismatches in the seed, PAM-proximal first
    for i in range(len(guide.spacer) - 1, len(guide.spacer) - SEED_LENGTH - 1, -1):
        p = _forward(guide, i)
        if p % n in protected:
            continue
        for base in "ACGT":
            if base == editor.base(p) or not editor.silent(p, base):
                continue
            old = editor.base(p)
            editor.changes[p % n] = base
            added.append(BaseChange(p % n, old, base, "seed"))
            break
        if _blocked(editor, guide, pam):
            return added
    for change in added:
        del editor.changes[change.position]
    return []


def _overlaps(start: int, end: int, lo: int, hi: int, n: int) -> bool:
    """Whether ``start .. end`` and ``lo .. hi`` overlap on a circle of ``n`` (or a line)."""
    return (start - lo) % n < hi - lo or (lo - start) % n < end - start


def _display(feature: Feature, target: tuple[Feature, int, str, str] | None) -> str:
    if target is not None and target[0] is feature:
        return feature.qualifier("gene") or feature.qualifier("locus_tag") or feature.label
    return feature.qualifier("locus_tag") or feature.label


def _protein_changes(
    genome: SequenceRecord, cds: Iterable[tuple[Feature, int]], changes: dict[int, str]
) -> list[tuple[Feature, int, str, str]]:
    """(feature, 1-based codon, old aa, new aa) for every amino acid the changes alter."""
    out: list[tuple[Feature, int, str, str]] = []
    n = len(genome.sequence)
    for f, table in cds:
        if not any((p - f.start) % n < f.end - f.start for p in changes):
            continue
        before = _translate(_cds_sequence(genome, f), table)
        after = _translate(_cds_sequence(genome, f, changes), table)
        out.extend(
            (f, i + 1, a, b) for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b
        )
    return out


def point_mutation_donor(
    genome: SequenceRecord,
    edit: int | tuple[str, int, str],
    *,
    new_bases: str | None = None,
    host: Host = "e_coli",
    method: Method | None = None,
    arm_length: int | None = None,
    max_cut_distance: int = 15,
    table: int | None = None,
    pam: str = "NGG",
    spacer: int = 20,
    replication_origin: int | None = None,
    offtarget_index: OffTargetIndex | None = None,
) -> PointMutationDonor:
    """Design a donor for a substitution that also blocks re-cutting by the guide used.

    Parameters
    ----------
    genome
        The genome, with its CDS annotations.
    edit
        A 0-based forward position (with ``new_bases``, the forward-strand
        bases written from there), or ``(gene, codon_number, amino_acid)``
        with a 1-based codon number and a one-letter amino acid (``*`` for
        stop); the codon closest to the present one is chosen.
    new_bases
        The replacement bases for a positional edit (same length).
    host, method, arm_length
        As for :func:`knockout_donor`; ``method`` defaults to
        ``lambda_red_ssdna`` in *E. coli* (CRISPR-assisted oligo
        recombineering) and ``crispr_hr`` in yeast. Arms flank the block of
        changed bases.
    max_cut_distance
        Largest distance (bp) between the guide's cut and the edit; HR
        efficiency falls steeply beyond 10-20 bp.
    table, pam, spacer, replication_origin, offtarget_index
        As for :func:`knockout_donor`.

    Returns
    -------
    PointMutationDonor
        The donor with the intended and silent changes and the guide.

    Raises
    ------
    ValidationError
        Unknown gene, codon out of range, an amino acid the codon already
        codes, no guide cutting within ``max_cut_distance``, or no guide
        whose PAM/seed can be changed silently.

    References
    ----------
    Jiang et al. 2013, Nat. Biotechnol. 31:233 (Cas9 counter-selection of
    oligo recombineering); Paquet et al. 2016, Nature 533:125 (cut-to-edit
    distance, blocking mutations).

    Examples
    --------
    >>> from cellfoundry.core.sequence import FeatureSpan
    >>> seq = "ATG" + "GCTAAAGAAGGTCTGAAAGCTGAAGTT" * 3 + "TAA"
    >>> f = Feature("CDS", (FeatureSpan(80, 80 + len(seq), 1),), (("gene", "abc"),))
    >>> genome = SequenceRecord("r", "TTTA" * 20 + seq + "TTTA" * 20, features=(f,))
    >>> d = point_mutation_donor(genome, ("abc", 10, "A"), arm_length=30)
    >>> d.protein_changes, [(c.position, c.old, c.new, c.reason) for c in d.changes]
    (('abc V10A',), [(108, 'T', 'C', 'edit'), (115, 'A', 'G', 'seed')])
    """
    method = method or ("lambda_red_ssdna" if host == "e_coli" else "crispr_hr")
    arms = _arm_length(host, method, arm_length)
    warnings: list[str] = []
    n = len(genome.sequence)
    all_cds = [
        f for f in genome.features if f.type == "CDS" and len(f.spans) == 1 and f.strand != 0
    ]
    intended: dict[int, str] = {}
    target: tuple[Feature, int, str, str] | None = None
    if isinstance(edit, int):
        if new_bases is None:
            raise ValidationError("a positional edit needs new_bases", field="new_bases")
        bases = _check_dna(new_bases, "new_bases")
        if not bases or not 0 <= edit <= n - len(bases):
            raise ValidationError(
                f"edit {edit}..{edit + len(bases)} lies outside the genome (0..{n})",
                field="position",
            )
        intended = {
            edit + i: b for i, b in enumerate(bases) if genome.sequence[edit + i].upper() != b
        }
        if not intended:
            raise ValidationError(
                "new_bases equal the genome there; nothing to edit", field="new_bases"
            )
    else:
        gene_name, codon_number, amino_acid = edit
        feature = find_gene(genome, gene_name)
        code = translation_table(feature, genome, table)
        gene_seq = _cds_sequence(genome, feature)
        codons = len(gene_seq) // 3
        if not 1 <= codon_number <= codons:
            raise ValidationError(
                f"codon {codon_number} is outside {gene_name} (1..{codons})",
                record=gene_name,
                field="codon_number",
            )
        old_codon = gene_seq[3 * (codon_number - 1) : 3 * codon_number]
        old_aa = _translate(old_codon, code)
        new_aa = amino_acid.upper()
        choices = [c for c in _CODONS if _translate(c, code) == new_aa]
        if not choices:
            raise ValidationError(
                f"{amino_acid!r} is not an amino acid of table {code}", field="amino_acid"
            )
        if new_aa == old_aa:
            raise ValidationError(
                f"codon {codon_number} of {gene_name} already codes {old_aa}", field="amino_acid"
            )
        new_codon = min(
            choices, key=lambda c: (sum(a != b for a, b in zip(c, old_codon, strict=True)), c)
        )
        for i, (a, b) in enumerate(zip(old_codon, new_codon, strict=True)):
            if a == b:
                continue
            sense = 3 * (codon_number - 1) + i
            if feature.strand == 1:
                intended[(feature.start + sense) % n] = b
            else:
                intended[(feature.end - 1 - sense) % n] = reverse_complement(b)
        target = (feature, codon_number, old_aa, new_aa)
    lo = min(intended)
    hi = max(intended) + 1
    if hi - lo > max(n // 2, 3):
        raise ValidationError(
            f"the changed bases span {lo}..{hi}; edits across the origin are not supported",
            field="position",
        )
    reach = max_cut_distance + spacer + len(pam)
    near_cds = [
        (f, translation_table(f, genome, table))
        for f in all_cds
        if _overlaps(f.start, f.end, lo - reach, hi + reach, n)
    ]

    def distance(g: Guide) -> int:
        cut = _cut(g)
        return 0 if lo < cut < hi else min(abs(cut - lo), abs(cut - hi))

    guides = [
        g
        for g in _guides_near(genome, lo - max_cut_distance, hi + max_cut_distance, pam, spacer)
        if distance(g) <= max_cut_distance
    ]
    if not guides:
        raise ValidationError(
            f"no {pam} guide cuts within {max_cut_distance} bp of the edit at {lo}..{hi}; "
            "raise max_cut_distance or use a nuclease with another PAM",
            record=genome.name,
            field="position",
        )
    counts = _unique(guides, offtarget_index)
    guides.sort(key=lambda g: (counts.get(g.spacer, 1) > 1, distance(g), *_guide_rank(g)))
    for guide in guides:
        editor = _Editor(genome, near_cds)
        editor.changes.update(intended)
        if _blocked(editor, guide, pam):
            extra: list[BaseChange] = []
        else:
            extra = _block(editor, guide, pam, set(intended))
            if not extra:
                continue
        changed = sorted(editor.changes)
        block_lo = min(min(changed), lo)
        block_hi = max(max(changed) + 1, hi)
        left = interval(genome, block_lo - arms, block_lo)
        right = interval(genome, block_hi, block_hi + arms)
        edited = left.sequence + editor.text(block_lo, block_hi) + right.sequence
        # verify: the guide no longer finds its target in the edited sequence
        if guide.spacer in {g.spacer for g in find_guides(edited, pam=pam, spacer=spacer)}:
            continue
        diffs = _protein_changes(genome, near_cds, editor.changes)
        if target is not None:
            feature, codon_number, old_aa, new_aa = target
            expected = [(feature, codon_number, old_aa, new_aa)]
            if [(f.start, c, a, b) for f, c, a, b in diffs] != [
                (f.start, c, a, b) for f, c, a, b in expected
            ]:
                continue
        names = tuple(f"{_display(f, target)} {a}{c}{b}" for f, c, a, b in diffs)
        for change in extra:
            if not editor.covering(change.position):
                warnings.append(f"silent change at {change.position} lies outside any CDS")
        base_changes = [
            BaseChange(p, genome.sequence[p].upper(), b, "edit")
            for p, b in sorted(intended.items())
        ]
        molecule, donor_strand = _donor_molecule(
            genome, method, edited, block_lo, replication_origin, warnings
        )
        return PointMutationDonor(
            host=host,
            method=method,
            arm_length=arms,
            changes=tuple(sorted([*base_changes, *extra], key=lambda c: c.position)),
            guide=_absolute(guide, n),
            cut_distance=distance(guide),
            donor=molecule,
            donor_strand=donor_strand,
            left_arm=left,
            right_arm=right,
            edited_region=edited,
            protein_changes=names,
            warnings=tuple(warnings),
        )
    raise ValidationError(
        f"none of the {len(guides)} guide(s) cutting near the edit at {lo}..{hi} can be "
        "blocked by synonymous PAM or seed changes; pick another nuclease or edit",
        record=genome.name,
        field="position",
    )
