"""Gibson (isothermal, homology-based) assembly: overlap design, primers, simulation.

The fragments are joined in the order given. At each junction the overlap is
the shortest stretch of the designed product, centred on the junction and
``min_overlap`` to ``max_overlap`` nt long, whose melting temperature (primer3)
reaches ``overlap_tm``. Its left half goes as a 5' tail on the forward primer
of the right-hand fragment, its right half (reverse-complemented) on the
reverse primer of the left-hand fragment, so the two PCR products share the
whole overlap. The amplicons are then assembled with pydna's
homologous-assembly simulation (``pydna.assembly2.gibson_assembly``), fed in
an order unrelated to the design, and the product must equal the design.

References
----------
Gibson et al. (2009) Enzymatic assembly of DNA molecules up to several hundred
kilobases. Nat. Methods 6:343, doi:10.1038/nmeth.1318.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import (
    Feature,
    FeatureSpan,
    SequenceRecord,
    Topology,
    reverse_complement,
    seguid,
    validate_dna,
)
from cellfoundry.dna.primers import PrimerPair, design_primers, primer_tm

__all__ = ["GibsonJunction", "GibsonResult", "assemble_by_homology", "gibson_assembly"]

MIN_OVERLAP: Final = 15
"""Shortest homology arm considered (nt)."""
MAX_OVERLAP: Final = 40
"""Longest homology arm considered (nt)."""


@dataclass(frozen=True, slots=True)
class GibsonJunction:
    """The overlap designed between fragment ``left`` and fragment ``right``.

    ``overlap`` reads on the product's forward strand and starts at the
    0-based ``position`` of the product; ``tm`` is its primer3 Tm (degC).
    """

    left: str
    right: str
    overlap: str
    tm: float
    position: int


@dataclass(frozen=True, slots=True)
class GibsonResult:
    """A designed and simulated Gibson assembly.

    ``primers[k]`` amplifies fragment ``k`` into ``amplicons[k]`` (with its
    homology tails); ``warnings`` flags overlaps below the target Tm or found
    twice in the product, and unbalanced primer pairs.
    """

    product: SequenceRecord
    junctions: tuple[GibsonJunction, ...]
    primers: tuple[PrimerPair, ...]
    amplicons: tuple[SequenceRecord, ...]
    warnings: tuple[str, ...]
    simulated: bool

    def __repr__(self) -> str:
        shape = "o" if self.product.topology == "circular" else "-"
        return (
            f"GibsonResult({len(self.product)} bp {shape}, {len(self.amplicons)} fragments, "
            f"overlaps {[len(j.overlap) for j in self.junctions]})"
        )


def _overlap(
    left: str, right: str, tm: float, min_overlap: int, max_overlap: int
) -> tuple[str, str, float]:
    """Return (left part, right part, Tm) of the shortest centred overlap reaching ``tm``."""
    best = ("", "", 0.0)
    for length in range(min_overlap, max_overlap + 1):
        a = (length + 1) // 2
        b = length - a
        if a > len(left) or b > len(right):
            break
        left_part, right_part = left[len(left) - a :], right[:b]
        best = (left_part, right_part, primer_tm(left_part + right_part))
        if best[2] >= tm:
            break
    return best


def gibson_assembly(
    fragments: Sequence[SequenceRecord],
    *,
    circular: bool = True,
    overlap_tm: float = 50.0,
    min_overlap: int = MIN_OVERLAP,
    max_overlap: int = MAX_OVERLAP,
    primer_tm_target: float = 60.0,
    name: str = "gibson_product",
    simulate: bool = True,
) -> GibsonResult:
    """Design the overlaps and primers for joining ``fragments`` in order, and simulate it.

    Parameters
    ----------
    fragments
        Linear fragments, in product order (the first one starts the product).
    circular
        Close the last fragment onto the first (a plasmid); else a linear product.
    overlap_tm
        Target Tm (degC, primer3) of each overlap, 15-40 nt by default.
    min_overlap, max_overlap
        Bounds of the overlap length (nt).
    primer_tm_target
        Target Tm of the primers' annealing parts.
    name
        Name of the product record.
    simulate
        Assemble the amplicons with pydna and check the product equals the design.

    Returns
    -------
    GibsonResult

    Raises
    ------
    ValidationError
        Fewer than two fragments (one for a circle), a fragment too short to
        prime, bad overlap bounds, or non-DNA input.

    Examples
    --------
    >>> a = SequenceRecord("a", "ATGACCATGATTACGCCAAGCTTGCATGCCTGCAGGTCGACTCTAGAGGATCC")
    >>> b = SequenceRecord("b", "GTTTGCCAGTGGCACTGGCCGTCGTTTTACAACGTCGTGACTGGGAAAACCC")
    >>> result = gibson_assembly([a, b], simulate=False)
    >>> result.product.sequence == a.sequence + b.sequence
    True
    """
    if not min_overlap <= max_overlap or min_overlap < 1:
        raise ValidationError(
            f"overlap bounds {min_overlap}..{max_overlap} are not a valid range",
            field="min_overlap",
        )
    if len(fragments) < (1 if circular else 2):
        raise ValidationError("give at least two fragments to join", field="fragments")
    seqs = [validate_dna(f.sequence, record=f.name) for f in fragments]
    n = len(seqs)
    pairs = [(k, k + 1) for k in range(n - 1)] + ([(n - 1, 0)] if circular else [])
    starts = [sum(len(s) for s in seqs[:k]) for k in range(n)]
    total = sum(len(s) for s in seqs)
    product_seq = "".join(seqs)
    head = [""] * n  # 5' tail added in front of each fragment
    tail = [""] * n  # 3' tail added after each fragment
    notes: list[str] = []
    junctions = []
    for left, right in pairs:
        a, b, tm = _overlap(seqs[left], seqs[right], overlap_tm, min_overlap, max_overlap)
        head[right], tail[left] = a, b
        overlap = a + b
        position = (starts[right] - len(a)) % total
        junctions.append(
            GibsonJunction(fragments[left].name, fragments[right].name, overlap, tm, position)
        )
        if tm < overlap_tm:
            notes.append(
                f"overlap {fragments[left].name}/{fragments[right].name} reaches only "
                f"{tm:.1f} degC at {len(overlap)} nt (target {overlap_tm:.1f} degC)"
            )
        circle = product_seq + product_seq[: len(overlap) - 1] if circular else product_seq
        hits = circle.count(overlap) + circle.count(reverse_complement(overlap))
        if hits > 1:
            notes.append(
                f"overlap {overlap} ({fragments[left].name}/{fragments[right].name}) occurs "
                f"{hits} times in the product; mis-assembly is possible"
            )
    primers = []
    amplicons = []
    for k, frag in enumerate(fragments):
        pair = design_primers(
            seqs[k],
            tm=primer_tm_target,
            tail_fwd=head[k],
            tail_rev=reverse_complement(tail[k]),
        )
        primers.append(pair)
        amplicons.append(SequenceRecord(f"{frag.name}_pcr", pair.amplicon))
        if pair.tm_difference > 5.0:
            notes.append(f"primers of {frag.name} differ by {pair.tm_difference:.1f} degC in Tm")
    product = SequenceRecord(
        name=name,
        sequence=product_seq,
        topology="circular" if circular else "linear",
        description=f"Gibson assembly of {', '.join(f.name for f in fragments)}",
        features=_features(fragments, starts),
    )
    if simulate:
        limit = min(len(j.overlap) for j in junctions)
        found = assemble_by_homology(
            sorted(amplicons, key=lambda r: r.sequence), circular=circular, min_overlap=limit
        )
        want = seguid(product_seq, product.topology)
        if not any(r.checksum == want for r in found):
            raise RuntimeError(  # pragma: no cover - a bug in either simulation
                "pydna's Gibson simulation does not yield the designed product"
            )
    return GibsonResult(
        product=product,
        junctions=tuple(junctions),
        primers=tuple(primers),
        amplicons=tuple(amplicons),
        warnings=tuple(notes),
        simulated=simulate,
    )


def _features(fragments: Sequence[SequenceRecord], starts: list[int]) -> tuple[Feature, ...]:
    features: list[Feature] = []
    for frag, start in zip(fragments, starts, strict=True):
        features.append(
            Feature(
                "misc_feature",
                (FeatureSpan(start, start + len(frag.sequence), 1),),
                (("label", frag.name),),
            )
        )
        for feature in frag.features:
            if feature.type == "source":
                continue
            spans = tuple(
                FeatureSpan(s.start + start, s.end + start, s.strand) for s in feature.spans
            )
            features.append(Feature(feature.type, spans, feature.qualifiers, feature.operator))
    return tuple(features)


def assemble_by_homology(
    fragments: Sequence[SequenceRecord],
    *,
    circular: bool = True,
    min_overlap: int = MIN_OVERLAP,
) -> tuple[SequenceRecord, ...]:
    """Simulate a Gibson assembly of linear ``fragments`` with pydna, in any order.

    Returns the circular products (``circular=True``) or the longest linear
    ones, each as a :class:`SequenceRecord`; the order of ``fragments`` does
    not matter, since pydna finds the terminal overlaps itself.

    Examples
    --------
    >>> x = SequenceRecord("x", "ACGTTGCATGTCGCATGATGCATGAGAGCCC")
    >>> y = SequenceRecord("y", "GCATGAGAGCCCTTTAGGCACCAACGTTGCATGTCGCAT")
    >>> [len(r) for r in assemble_by_homology([x, y], min_overlap=12)]
    [42]
    """
    from pydna.assembly2 import gibson_assembly as pydna_gibson
    from pydna.dseqrecord import Dseqrecord

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frags = [Dseqrecord(f.sequence.upper(), name=f.name[:16]) for f in fragments]
        products = pydna_gibson(frags, limit=min_overlap, circular_only=circular)
    shape: Topology = "circular" if circular else "linear"
    records = [
        SequenceRecord(f"homology_product_{k + 1}", str(p.seq).upper(), shape)
        for k, p in enumerate(products)
        if bool(p.circular) == circular
    ]
    if not circular and records:
        longest = max(len(r) for r in records)
        records = [r for r in records if len(r) == longest]
    return tuple(records)
