"""Large-fragment integration: neutral loci from the annotations, and integration donors.

A *neutral locus* is an intergenic region between two convergent genes
(``-> <-``, so both terminators face each other and an insertion reads
into neither promoter), long enough to leave ``terminator_margin`` bp next
to each gene untouched, far from essential-looking annotations (RNA genes,
ribosomal proteins, replication, transcription and translation machinery,
cell division) and from mobile elements (transposases, repeat regions,
where recombination is unpredictable), and holding a guide whose cut lies
inside it and which has no other site within 2 mismatches in the genome.

Loci are computed from the annotations; well-known *E. coli* sites that
such a search rediscovers or that users often choose by name are the
attTn7 site downstream of *glmS* (McKenzie & Craig 2006, BMC Microbiol.
6:39), *lacZ*, SS9 and the intergenic "safe sites" of Bassalo et al. 2016
(ACS Synth. Biol. 5:561); pass such a site as ``locus`` (a gene name or a
position) to :func:`integrate`.

The donor is left arm + fragment + right arm; arm lengths follow
:data:`cellfoundry.dna.donors.ARM_LENGTHS` (``crispr_hr``: 400 bp in *E.
coli*, 500 bp in yeast).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Feature, SequenceRecord, reverse_complement
from cellfoundry.dna.crispr import Guide, find_guides
from cellfoundry.dna.donors import (
    GenomeInterval,
    Host,
    Method,
    _absolute,
    _arm_length,
    _check_dna,
    _clamped,
    _cut,
    _donor_molecule,
    _guide_rank,
    _guides_near,
    _unique,
    interval,
    knockout_donor,
)
from cellfoundry.dna.offtarget import OffTargetIndex

__all__ = ["ESSENTIAL_PATTERN", "Integration", "NeutralLocus", "integrate", "suggest_neutral_loci"]

ESSENTIAL_PATTERN: Final = re.compile(
    r"ribosom|rRNA|tRNA|RNA polymerase|DNA polymerase|gyrase|topoisomerase|primase|"
    r"replication|elongation factor|initiation factor|release factor|translation|"
    r"ATP synthase|cell division|signal recognition|ligase|chaperon|"
    r"\b(dna[ABCEGINX]|fts[AZWLIQ]|rp[lsm][A-Z]|rpo[ABCDZ]|sec[AEGY]|tuf|fus|inf[ABC]|gro[LS])",
    re.IGNORECASE,
)
"""Words (in gene names or products) that mark an annotation as essential-looking."""

MOBILE_PATTERN: Final = re.compile(r"transpos|integrase|insertion element|\bIS\d|\btnp", re.I)
"""Words that mark a mobile element, avoided like essential genes."""

_RNA_TYPES: Final = frozenset({"tRNA", "rRNA", "tmRNA", "ncRNA", "misc_RNA"})
_GENE_TYPES: Final = frozenset({"CDS", *_RNA_TYPES})


@dataclass(frozen=True, slots=True)
class NeutralLocus:
    """A suggested integration site between two convergent genes.

    ``start .. end`` is the intergenic region; ``insertion_site`` the cut
    position of ``guide`` (the fragment goes in there). ``off_target_sites``
    counts the guide's other sites within 2 mismatches (0 when unique).
    ``distance_to_essential`` is the distance (bp) from the region to the
    nearest essential-looking or mobile annotation.
    """

    start: int
    end: int
    left_gene: str
    right_gene: str
    insertion_site: int
    guide: Guide
    off_target_sites: int
    distance_to_essential: int
    score: float

    @property
    def length(self) -> int:
        """Length of the intergenic region (bp)."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Integration:
    """A donor that integrates ``fragment`` (forward strand) into the genome.

    ``replaced`` is the genome interval the fragment takes the place of
    (empty, ``start == end``, for a plain insertion). ``guides`` cut at the
    site and were checked absent from the edited sequence.
    """

    locus: str
    host: Host
    method: Method
    arm_length: int
    replaced: GenomeInterval
    fragment: str
    left_arm: GenomeInterval
    right_arm: GenomeInterval
    donor: str
    donor_strand: Literal[1, -1]
    edited_region: str
    guides: tuple[Guide, ...]
    neutral_locus: NeutralLocus | None
    warnings: tuple[str, ...]


def _is_avoided(feature: Feature) -> bool:
    if feature.type in _RNA_TYPES or feature.type == "repeat_region":
        return True
    if feature.type != "CDS":
        return False
    text = " ".join(v for k, v in feature.qualifiers if k in ("gene", "product") and v)
    return bool(ESSENTIAL_PATTERN.search(text) or MOBILE_PATTERN.search(text))


def _name(feature: Feature) -> str:
    return feature.qualifier("locus_tag") or feature.label


def _distance(start: int, end: int, avoided: list[tuple[int, int]], n: int, circular: bool) -> int:
    """Distance (bp) from ``start .. end`` to the nearest avoided interval; 0 if they overlap."""
    best = n
    for a, b in avoided:
        if a < end and start < b:
            return 0
        gap = a - end if a >= end else start - b
        if circular:
            gap = min(gap, n - gap - (end - start) - (b - a))
        best = min(best, max(gap, 0))
    return best


def suggest_neutral_loci(
    genome: SequenceRecord,
    *,
    min_length: int = 150,
    terminator_margin: int = 40,
    min_distance_from_essential: int = 2000,
    gc_range: tuple[float, float] = (0.2, 0.8),
    pam: str = "NGG",
    spacer: int = 20,
    offtarget_index: OffTargetIndex | None = None,
    max_results: int = 10,
) -> list[NeutralLocus]:
    """Rank intergenic regions between convergent genes as integration sites.

    Parameters
    ----------
    genome
        The annotated genome.
    min_length
        Shortest intergenic region (bp).
    terminator_margin
        Bases next to each gene end left intact (its terminator); the cut
        must fall between them.
    min_distance_from_essential
        Least distance (bp) to an essential-looking or mobile annotation.
    gc_range
        Allowed guide GC fraction.
    pam, spacer
        The 3'-PAM nuclease.
    offtarget_index
        The genome's off-target index (built here if not given).
    max_results
        How many loci to return.

    Returns
    -------
    list of NeutralLocus
        Best first: far from essential genes, long, with a unique guide of
        balanced GC.

    Examples
    --------
    >>> from cellfoundry.core.sequence import FeatureSpan
    >>> import random
    >>> rng = random.Random(3)
    >>> seq = "".join(rng.choice("ACGT") for _ in range(1400))
    >>> a = Feature("CDS", (FeatureSpan(0, 600, 1),), (("locus_tag", "a"),))
    >>> b = Feature("CDS", (FeatureSpan(900, 1400, -1),), (("locus_tag", "b"),))
    >>> genome = SequenceRecord("g", seq, features=(a, b))
    >>> loci = suggest_neutral_loci(genome, min_distance_from_essential=0)
    >>> (loci[0].left_gene, loci[0].right_gene, 640 <= loci[0].insertion_site <= 860)
    ('a', 'b', True)
    """
    n = len(genome.sequence)
    circular = genome.topology == "circular"
    genes = sorted(
        (f for f in genome.features if f.type in _GENE_TYPES and len(f.spans) == 1),
        key=lambda f: (f.start, f.end),
    )
    avoided = sorted({(f.start, f.end) for f in genome.features if _is_avoided(f)})
    regions: list[tuple[Feature, Feature, int, int]] = []
    reach: Feature | None = None
    pairs: list[tuple[Feature, Feature]] = []
    for f in genes:
        if reach is not None and f.start >= reach.end:
            pairs.append((reach, f))
        if reach is None or f.end > reach.end:
            reach = f
    if circular and len(genes) > 1 and reach is not None and reach.end <= n:
        pairs.append((reach, genes[0]))
    for left, right in pairs:
        if left.strand != 1 or right.strand != -1:
            continue
        start, end = left.end, right.start if right.start >= left.end else right.start + n
        if end - start < max(min_length, 2 * terminator_margin + spacer + len(pam)):
            continue
        regions.append((left, right, start, end))

    candidates: list[tuple[tuple[Feature, Feature, int, int], Guide, int]] = []
    for region in regions:
        left, right, start, end = region
        distance = _distance(start, end, avoided, n, circular)
        if distance < min_distance_from_essential:
            continue
        lo, hi = start + terminator_margin, end - terminator_margin
        guides = [
            g
            for g in _guides_near(genome, lo, hi, pam, spacer)
            if lo < _cut(g) < hi
            and g.position >= start
            and g.end <= end
            and not g.poly_t
            and gc_range[0] <= g.gc_fraction <= gc_range[1]
        ]
        candidates.extend((region, g, distance) for g in guides)
    if not candidates:
        return []
    index = offtarget_index if offtarget_index is not None else OffTargetIndex([genome])
    counts = _unique([g for _, g, _ in candidates], index)
    best: dict[int, NeutralLocus] = {}
    for (left, right, start, end), guide, distance in candidates:
        extra = counts[guide.spacer] - 1
        if extra > 0:
            continue
        centre = (start + end) / 2
        score = (
            min(distance, 20_000) / 20_000
            + min(end - start, 1000) / 1000
            + (1.0 - 2.0 * abs(guide.gc_fraction - 0.5))
            - abs(_cut(guide) - centre) / max(end - start, 1)
        )
        locus = NeutralLocus(
            start=start % n,
            end=end % n or n,
            left_gene=_name(left),
            right_gene=_name(right),
            insertion_site=_cut(guide) % n,
            guide=_absolute(guide, n),
            off_target_sites=extra,
            distance_to_essential=distance,
            score=round(score, 4),
        )
        if start not in best or locus.score > best[start].score:
            best[start] = locus
    ranked = sorted(best.values(), key=lambda x: (-x.score, x.start))
    return ranked[:max_results]


def integrate(
    genome: SequenceRecord,
    fragment: str,
    *,
    locus: int | str | None = None,
    host: Host = "e_coli",
    method: Method = "crispr_hr",
    arm_length: int | None = None,
    neutral_loci: Sequence[NeutralLocus] | None = None,
    offtarget_index: OffTargetIndex | None = None,
    pam: str = "NGG",
    spacer: int = 20,
    replication_origin: int | None = None,
) -> Integration:
    """Design the donor that integrates ``fragment`` at a locus.

    Parameters
    ----------
    genome
        The annotated genome.
    fragment
        The DNA to integrate, 5'->3' on the forward strand (for a gene
        locus: in the gene's sense, replacing its ORF).
    locus
        ``None`` for the best suggested neutral locus, a 0-based position to
        insert at (a guide whose target spans it is looked for), or a gene
        name whose ORF the fragment replaces.
    host, method, arm_length
        As for :func:`cellfoundry.dna.donors.knockout_donor`.
    neutral_loci
        Precomputed :func:`suggest_neutral_loci` results to pick from.
    offtarget_index
        The genome's off-target index, to check guide uniqueness.
    pam, spacer, replication_origin
        As for :func:`cellfoundry.dna.donors.knockout_donor`.

    Returns
    -------
    Integration
        Arms, donor (left arm + fragment + right arm), guides and warnings.

    Raises
    ------
    ValidationError
        An empty or non-DNA fragment, a position outside the genome, an
        unknown gene, or no neutral locus found.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(3)
    >>> genome = SequenceRecord("g", "".join(rng.choice("ACGT") for _ in range(2000)))
    >>> result = integrate(genome, "ACGT" * 10, locus=1000, arm_length=100)
    >>> result.donor == genome.sequence[900:1000] + "ACGT" * 10 + genome.sequence[1000:1100]
    True
    """
    fragment_fwd = _check_dna(fragment, "fragment")
    if not fragment_fwd:
        raise ValidationError("the fragment is empty", field="fragment")
    arms = _arm_length(host, method, arm_length)
    n = len(genome.sequence)
    warnings: list[str] = []
    if isinstance(locus, str):
        donor = knockout_donor(
            genome,
            locus,
            host=host,
            method=method,
            arm_length=arms,
            insert=fragment_fwd,
            keep_start_stop=False,
            pam=pam,
            spacer=spacer,
            replication_origin=replication_origin,
            offtarget_index=offtarget_index,
        )
        return Integration(
            locus=locus,
            host=host,
            method=method,
            arm_length=arms,
            replaced=donor.deleted,
            fragment=donor.insert,
            left_arm=donor.left_arm,
            right_arm=donor.right_arm,
            donor=donor.donor,
            donor_strand=donor.donor_strand,
            edited_region=donor.edited_region,
            guides=donor.guides,
            neutral_locus=None,
            warnings=donor.warnings,
        )
    chosen: NeutralLocus | None = None
    if locus is None:
        loci = (
            list(neutral_loci)
            if neutral_loci is not None
            else suggest_neutral_loci(
                genome, pam=pam, spacer=spacer, offtarget_index=offtarget_index
            )
        )
        if not loci:
            raise ValidationError(
                "no neutral locus found (convergent intergenic region with a unique guide, "
                "far from essential genes); pass locus= a position or a gene",
                record=genome.name,
                field="locus",
            )
        chosen = loci[0]
        site = chosen.insertion_site
        description = f"neutral locus {chosen.left_gene}/{chosen.right_gene} at {site}"
        candidates = [chosen.guide]
    else:
        if not 0 <= locus <= n:
            raise ValidationError(
                f"position {locus} is outside the genome (0..{n})",
                record=genome.name,
                field="locus",
            )
        site = locus
        description = f"position {site}"
        candidates = [
            g for g in _guides_near(genome, site, site, pam, spacer) if g.position < site < g.end
        ]
        counts = _unique(candidates, offtarget_index)
        if counts:
            candidates = [g for g in candidates if counts[g.spacer] <= 1]
        candidates.sort(key=lambda g: (*_guide_rank(g), abs(_cut(g) - site)))
    left = interval(genome, site - arms, site)
    right = interval(genome, site, site + arms)
    edited = left.sequence + fragment_fwd + right.sequence
    pad = spacer + len(pam)
    context = (
        _clamped(genome, site - arms - pad, site)
        + fragment_fwd
        + _clamped(genome, site, site + arms + pad)
    )
    remaining = {g.spacer for g in find_guides(context, pam=pam, spacer=spacer)}
    guides = tuple(_absolute(g, n) for g in candidates if g.spacer not in remaining)
    if not guides:
        warnings.append(
            f"no {pam} guide's target spans the insertion site and is destroyed by it; "
            "choose another position or select by marker"
        )
    if reverse_complement(fragment_fwd) in genome.sequence or fragment_fwd in genome.sequence:
        warnings.append("the fragment already occurs in the genome; recombination may go astray")
    molecule, donor_strand = _donor_molecule(
        genome, method, edited, site, replication_origin, warnings
    )
    return Integration(
        locus=description,
        host=host,
        method=method,
        arm_length=arms,
        replaced=GenomeInterval(site % n, site % n, ""),
        fragment=fragment_fwd,
        left_arm=left,
        right_arm=right,
        donor=molecule,
        donor_strand=donor_strand,
        edited_region=edited,
        guides=guides,
        neutral_locus=chosen,
        warnings=tuple(warnings),
    )
