"""Golden Gate (MoClo) assembly: type IIS digestion, overhang ordering and fidelity.

Each part (a level-0 plasmid, a PCR product or a level-1 module) carries two
sites of the type IIS enzyme that face its insert. Digestion leaves the insert
with a 4-nt 5' overhang at each end; the inserts, plus the backbone of the
acceptor, ligate into one circle when every overhang has exactly one
complementary partner. The order of the parts in the circle follows from the
overhangs alone, so the result does not depend on the order of the inputs.

Overhangs are written as the top strand reads them across the junction in
the product (``GGAG``, ``AATG``, ``GCTT``, ``CGCT`` for a MoClo transcription
unit). An *end* of a fragment is the single strand that protrudes, read 5'->3';
two ends ligate when one is the reverse complement of the other.

Ligation fidelity comes from the overhang ligation-frequency matrices of
Pryor et al. (2020), measured by NEB with T4 DNA ligase and each enzyme
(BsaI-HFv2, BbsI-HF, Esp3I at 37/16 degC, BsmBI-v2 at 42/16 degC cycling);
see ``dna/data/SOURCE.md``. For a pool of overhangs ``F`` (every junction
overhang and its complement) the fidelity of overhang ``o`` is

    f(o) = N(o, rc(o)) / sum_{p in F} N(o, p)

and the assembly fidelity is the product of ``f(o)`` over ``F``, as in NEB's
Ligase Fidelity Viewer (Potapov et al. 2018, ACS Synth. Biol. 7:2665,
doi:10.1021/acssynbio.8b00333; Pryor et al. 2020, PLoS ONE 15:e0238592,
doi:10.1371/journal.pone.0238592).
"""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import (
    Feature,
    FeatureSpan,
    SequenceRecord,
    Strand,
    reverse_complement,
    seguid,
)

__all__ = [
    "ENZYMES",
    "GoldenGateFragment",
    "GoldenGateResult",
    "OverhangFidelity",
    "TypeIISEnzyme",
    "digest_type_iis",
    "golden_gate",
    "overhang_fidelity",
    "overhang_report",
]


@dataclass(frozen=True, slots=True)
class TypeIISEnzyme:
    """A type IIS enzyme: site ``site`` cuts ``top``/``bottom`` nt 3' of it (``N1/N5``).

    ``dataset`` names the ligation-fidelity matrix shipped for it, if any.
    """

    name: str
    site: str
    top: int
    bottom: int
    dataset: str | None

    @property
    def overhang_length(self) -> int:
        """Length of the 5' overhang the enzyme leaves."""
        return self.bottom - self.top


ENZYMES: Final[dict[str, TypeIISEnzyme]] = {
    "BsaI": TypeIISEnzyme("BsaI", "GGTCTC", 1, 5, "ligation_pryor2020_bsai_hfv2_37c.csv.gz"),
    "Eco31I": TypeIISEnzyme("Eco31I", "GGTCTC", 1, 5, "ligation_pryor2020_bsai_hfv2_37c.csv.gz"),
    "BpiI": TypeIISEnzyme("BpiI", "GAAGAC", 2, 6, "ligation_pryor2020_bbsi_hf_37c.csv.gz"),
    "BbsI": TypeIISEnzyme("BbsI", "GAAGAC", 2, 6, "ligation_pryor2020_bbsi_hf_37c.csv.gz"),
    "Esp3I": TypeIISEnzyme("Esp3I", "CGTCTC", 1, 5, "ligation_pryor2020_esp3i_37c.csv.gz"),
    "BsmBI": TypeIISEnzyme("BsmBI", "CGTCTC", 1, 5, "ligation_pryor2020_bsmbi_v2_42c.csv.gz"),
}
"""The supported enzymes by name (isoschizomers share a site and a data set)."""

_BASES: Final = "ACGT"
_KMERS: Final[tuple[str, ...]] = tuple(
    a + b + c + d for a in _BASES for b in _BASES for c in _BASES for d in _BASES
)
_INDEX: Final[dict[str, int]] = {k: i for i, k in enumerate(_KMERS)}


def _enzyme(name: str) -> TypeIISEnzyme:
    try:
        return ENZYMES[name]
    except KeyError:
        known = ", ".join(sorted(ENZYMES))
        raise ValidationError(
            f"unknown type IIS enzyme {name!r}; use one of {known}", field="enzyme"
        ) from None


# --------------------------------------------------------------------------- fidelity


@cache
def _ligation_counts(dataset: str) -> npt.NDArray[np.int64]:
    """Return ``N[i, j]``: ligations between overhang ``i`` and overhang ``j`` (5'->3' each).

    The files keep NEB's layout: columns are overhangs, rows their partners,
    row ``k`` the reverse complement of column ``k`` (so the diagonal holds the
    Watson-Crick pairs).
    """
    path = resources.files("cellfoundry.dna").joinpath("data", dataset)
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    columns = [c.strip().upper() for c in lines[0].split(",")[1:]]
    counts = np.zeros((256, 256), dtype=np.int64)
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = line.split(",")
        row = _INDEX[cells[0].strip().upper()]
        for col, value in zip(columns, cells[1:], strict=True):
            counts[_INDEX[col], row] = int(float(value))
    return counts


@dataclass(frozen=True, slots=True)
class OverhangFidelity:
    """Ligation fidelity of one overhang within a pool.

    ``fidelity`` is the fraction of the overhang's ligations, among the
    overhangs of the pool, that join its Watson-Crick partner;
    ``worst_mispair`` is the pool overhang it mis-ligates to most often and
    ``worst_mispair_fraction`` that share of its ligations (``""`` and 0.0 if none).
    """

    overhang: str
    fidelity: float
    worst_mispair: str
    worst_mispair_fraction: float
    correct_count: int


def _pool(overhangs: Sequence[str]) -> list[str]:
    pool: list[str] = []
    for raw in overhangs:
        oh = raw.upper()
        if oh not in _INDEX:
            raise ValidationError(f"overhang {raw!r} is not 4 nt of A, C, G, T", field="overhangs")
        for o in (oh, reverse_complement(oh)):
            if o not in pool:
                pool.append(o)
    return pool


def overhang_report(
    overhangs: Sequence[str], *, enzyme: str = "BsaI"
) -> tuple[OverhangFidelity, ...]:
    """Return the fidelity of every overhang of the pool (each junction and its complement).

    Parameters
    ----------
    overhangs
        The junction overhangs, 4 nt each, one per junction (either strand).
    enzyme
        Picks the ligation data set (BsaI-HFv2, BbsI-HF, Esp3I or BsmBI-v2).

    Returns
    -------
    tuple of OverhangFidelity
        In pool order: each overhang given, followed by its complement.

    Examples
    --------
    >>> [r.overhang for r in overhang_report(["GGAG"])]
    ['GGAG', 'CTCC']
    """
    spec = _enzyme(enzyme)
    if spec.dataset is None:  # pragma: no cover - every shipped enzyme has data
        raise ValidationError(f"no ligation data for {enzyme}", field="enzyme")
    counts = _ligation_counts(spec.dataset)
    pool = _pool(overhangs)
    idx = [_INDEX[o] for o in pool]
    report = []
    for o in pool:
        row = counts[_INDEX[o], idx]
        total = int(row.sum())
        correct = int(counts[_INDEX[o], _INDEX[reverse_complement(o)]])
        worst, worst_n = "", 0
        for p, n in zip(pool, row.tolist(), strict=True):
            if p != reverse_complement(o) and n > worst_n:
                worst, worst_n = p, int(n)
        fidelity = correct / total if total else 0.0
        report.append(
            OverhangFidelity(o, fidelity, worst, worst_n / total if total else 0.0, correct)
        )
    return tuple(report)


def overhang_fidelity(overhangs: Sequence[str], *, enzyme: str = "BsaI") -> float:
    """Return the expected fraction of correct assemblies for a set of junction overhangs.

    The product over the pool (every overhang and its complement) of the
    fraction of each overhang's ligations that join its Watson-Crick partner,
    from the Pryor et al. (2020) matrix for ``enzyme``.

    References
    ----------
    Potapov et al. (2018) ACS Synth. Biol. 7:2665, doi:10.1021/acssynbio.8b00333.
    Pryor et al. (2020) PLoS ONE 15:e0238592, doi:10.1371/journal.pone.0238592.

    Examples
    --------
    >>> moclo = ["GGAG", "AATG", "GCTT", "CGCT"]
    >>> 0.9 < overhang_fidelity(moclo) <= 1.0
    True
    """
    fidelity = 1.0
    for entry in overhang_report(overhangs, enzyme=enzyme):
        fidelity *= entry.fidelity
    return fidelity


# --------------------------------------------------------------------------- digestion


@dataclass(frozen=True, slots=True)
class GoldenGateFragment:
    """The site-free insert that a type IIS digest releases from a part.

    ``sequence`` is the top strand from the first base of the left overhang
    to the last base of the right one; ``start`` is its 0-based position in the
    part (it may run across the origin of a circular part).
    """

    part: str
    sequence: str
    left: str
    right: str
    start: int

    def __repr__(self) -> str:
        body = len(self.sequence) - len(self.left) - len(self.right)
        return f"GoldenGateFragment({self.part!r} {self.left}-[{body} bp]-{self.right})"


def _sites(seq: str, spec: TypeIISEnzyme, circular: bool) -> list[tuple[int, int]]:
    """Return ``(position, strand)`` of every recognition site, 0-based on the top strand."""
    n, k = len(seq), len(spec.site)
    text = seq + seq[: k - 1] if circular else seq
    found = []
    for site, strand in ((spec.site, 1), (reverse_complement(spec.site), -1)):
        i = text.find(site)
        while i != -1:
            if i < n:
                found.append((i, strand))
            i = text.find(site, i + 1)
    return sorted(found)


def _circular_slice(seq: str, start: int, length: int) -> str:
    n = len(seq)
    start %= n
    if start + length <= n:
        return seq[start : start + length]
    return seq[start:] + seq[: (start + length) - n]


def digest_type_iis(part: SequenceRecord, *, enzyme: str = "BsaI") -> GoldenGateFragment:
    """Return the insert that ``enzyme`` releases from ``part``.

    A part must hold exactly two sites of the enzyme, facing each other across
    the insert (a level-0 plasmid, a PCR product with the sites in its primers,
    or an acceptor whose backbone is the insert).

    Raises
    ------
    ValidationError
        If the part has fewer or more than two sites (the extra ones are
        named by 1-based position), or if the two sites do not face an insert.

    Examples
    --------
    >>> part = SequenceRecord("p1", "GGTCTCAGGAGTTTTAATGAGAGACC")
    >>> digest_type_iis(part)
    GoldenGateFragment('p1' GGAG-[4 bp]-AATG)
    """
    spec = _enzyme(enzyme)
    seq = part.sequence.upper()
    circular = part.topology == "circular"
    sites = _sites(seq, spec, circular)
    where = ", ".join(f"{p + 1} ({'+' if s == 1 else '-'})" for p, s in sites)
    if len(sites) != 2:
        message = (
            f"{len(sites)} {spec.name} sites ({spec.site}) at {where}; a part needs exactly "
            "the two sites that flank its insert"
            if sites
            else f"no {spec.name} site ({spec.site}); a part needs two flanking sites"
        )
        if len(sites) > 2:
            internal = _internal_sites(sites, len(seq), circular)
            message += (
                f": remove (domesticate) the internal site(s) at "
                f"{', '.join(str(p + 1) for p in internal)}"
            )
        raise ValidationError(message, record=part.name, field="sequence")
    k, n, oh = len(spec.site), len(seq), spec.overhang_length
    (p1, s1), (p2, s2) = sites
    if s1 == 1 and s2 == -1:
        left_at, right_at = p1 + k + spec.top, p2 - spec.bottom
    elif s1 == -1 and s2 == 1 and circular:
        left_at, right_at = p2 + k + spec.top, p1 - spec.bottom + n
    else:
        raise ValidationError(
            f"the {spec.name} sites at {where} do not face each other across an insert",
            record=part.name,
            field="sequence",
        )
    if not circular and (left_at < 0 or right_at + oh > n):
        raise ValidationError(
            f"a {spec.name} site at {where} cuts beyond the end of the linear part",
            record=part.name,
            field="sequence",
        )
    length = right_at + oh - left_at
    if length < 2 * oh:
        raise ValidationError(
            f"the {spec.name} sites at {where} leave no insert between their cuts",
            record=part.name,
            field="sequence",
        )
    insert = _circular_slice(seq, left_at, length) if circular else seq[left_at : left_at + length]
    return GoldenGateFragment(part.name, insert, insert[:oh], insert[-oh:], left_at % n)


def _internal_sites(sites: list[tuple[int, int]], n: int, circular: bool) -> list[int]:
    """Guess which sites are internal: those between the outermost facing pair."""
    forward = [p for p, s in sites if s == 1]
    reverse = [p for p, s in sites if s == -1]
    if forward and reverse and not circular:
        lo, hi = min(forward), max(reverse)
        return [p for p, _ in sites if p not in (lo, hi)]
    # circular or one-sided: report every site but the first of each orientation
    keep = {min(forward, default=-1), max(reverse, default=-1)}
    return [p for p, _ in sites if p not in keep] or [p for p, _ in sites]


# --------------------------------------------------------------------------- assembly


@dataclass(frozen=True, slots=True)
class GoldenGateResult:
    """The product of a Golden Gate assembly and how it was put together.

    ``order`` lists the parts around the circle from the backbone (or the
    first part by name) and ``orientations`` the strand each was used on;
    ``overhangs[k]`` is the junction after ``order[k]``. ``fidelity`` is the
    expected fraction of correct assemblies (:func:`overhang_fidelity`);
    ``warnings`` lists low-fidelity overhangs and sets.
    """

    product: SequenceRecord
    enzyme: str
    order: tuple[str, ...]
    orientations: tuple[Literal[1, -1], ...]
    overhangs: tuple[str, ...]
    fidelity: float
    overhang_fidelities: tuple[OverhangFidelity, ...]
    warnings: tuple[str, ...]
    simulated: bool

    def __repr__(self) -> str:
        joins = "-".join(self.overhangs)
        return (
            f"GoldenGateResult({len(self.product)} bp o, {len(self.order)} parts, "
            f"{joins}, fidelity {self.fidelity:.3f})"
        )


def golden_gate(
    parts: Sequence[SequenceRecord],
    backbone: SequenceRecord | None = None,
    *,
    enzyme: str = "BsaI",
    name: str = "golden_gate_product",
    min_fidelity: float = 0.9,
    min_overhang_fidelity: float = 0.95,
    simulate: bool = True,
) -> GoldenGateResult:
    """Assemble ``parts`` (and the acceptor ``backbone``) by type IIS digestion and ligation.

    Parameters
    ----------
    parts
        Level-0 plasmids, PCR products or level-1 modules, in any order.
    backbone
        The acceptor vector; its backbone starts the product and keeps its
        orientation. Without it the product starts at the part named first.
    enzyme
        ``"BsaI"`` (level 1), ``"BpiI"``/``"BbsI"`` (level 2), ``"Esp3I"``/``"BsmBI"``.
    name
        Name of the product record.
    min_fidelity, min_overhang_fidelity
        Below these the result carries a warning (set and per-overhang fidelity).
    simulate
        Also digest and ligate with pydna and check that the product is among
        pydna's circular products.

    Returns
    -------
    GoldenGateResult

    Raises
    ------
    ValidationError
        A part without exactly two flanking sites (extra sites named by
        position); two ends with the same overhang or a palindromic overhang;
        an overhang without a partner, or fragments that close into more than
        one circle.

    Examples
    --------
    >>> bb = SequenceRecord("acceptor", "CGCTTTTTTTTTTTGGAGAGAGACCAAGGTCTCA", "circular")
    >>> p = SequenceRecord("p", "GGTCTCAGGAGCCCCCGCTAGAGACC")
    >>> golden_gate([p], bb, simulate=False).product.sequence
    'CGCTTTTTTTTTTTGGAGCCCC'
    """
    spec = _enzyme(enzyme)
    if not parts:
        raise ValidationError("no parts to assemble", field="parts")
    inputs = ([backbone] if backbone is not None else []) + list(parts)
    names = [r.name for r in inputs]
    if len(set(names)) != len(names):
        dup = sorted({x for x in names if names.count(x) > 1})
        raise ValidationError(f"part names must be unique: {', '.join(dup)}", field="parts")
    fragments = [digest_type_iis(r, enzyme=enzyme) for r in inputs]
    first = 0 if backbone is not None else min(range(len(fragments)), key=lambda i: names[i])
    order, orientations = _order(fragments, first)
    oriented = [
        fragments[i].sequence if s == 1 else reverse_complement(fragments[i].sequence)
        for i, s in zip(order, orientations, strict=True)
    ]
    oh = spec.overhang_length
    product_seq = "".join(s[:-oh] for s in oriented)
    junctions = tuple(s[-oh:] for s in oriented)
    features = _carry_features(inputs, fragments, order, orientations, len(product_seq), spec)
    product = SequenceRecord(
        name=name,
        sequence=product_seq,
        topology="circular",
        description=f"{spec.name} Golden Gate assembly of {', '.join(names[i] for i in order)}",
        features=features,
    )
    report = overhang_report(junctions, enzyme=enzyme)
    fidelity = 1.0
    for entry in report:
        fidelity *= entry.fidelity
    notes = [
        f"overhang {e.overhang} ligates correctly in only {e.fidelity:.1%} of events; "
        f"it mis-pairs with {e.worst_mispair} ({e.worst_mispair_fraction:.1%})"
        for e in report
        if e.fidelity < min_overhang_fidelity
    ]
    if fidelity < min_fidelity:
        notes.append(
            f"overhang set {'-'.join(junctions)} has an expected fidelity of {fidelity:.1%} "
            f"with {spec.name} (Pryor et al. 2020); consider higher-fidelity overhangs"
        )
    if simulate:
        _check_with_pydna(inputs, spec, product_seq)
    return GoldenGateResult(
        product=product,
        enzyme=spec.name,
        order=tuple(names[i] for i in order),
        orientations=orientations,
        overhangs=junctions,
        fidelity=fidelity,
        overhang_fidelities=report,
        warnings=tuple(notes),
        simulated=simulate,
    )


def _order(
    fragments: list[GoldenGateFragment], first: int
) -> tuple[list[int], tuple[Literal[1, -1], ...]]:
    """Chain the fragments into one circle by matching their protruding ends."""
    # each end as the protruding single strand, 5'->3': left end = left overhang,
    # right end = reverse complement of the right overhang
    ends: dict[str, list[tuple[int, str]]] = {}
    for i, frag in enumerate(fragments):
        for end, side in ((frag.left, "left"), (reverse_complement(frag.right), "right")):
            if end == reverse_complement(end):
                raise ValidationError(
                    f"overhang {end} is palindromic: the fragment can ligate to itself "
                    "or to a copy of itself; pick a non-palindromic overhang",
                    record=frag.part,
                    field="overhang",
                )
            ends.setdefault(end, []).append((i, side))
    for end, users in ends.items():
        if len(users) > 1:
            who = " and ".join(f"{fragments[i].part} ({side})" for i, side in users)
            raise ValidationError(
                f"overhang collision: {who} carry the same overhang "
                f"{end if users[0][1] == 'left' else reverse_complement(end)}, so the "
                "assembly is ambiguous; give each junction its own overhang",
                record=fragments[users[0][0]].part,
                field="overhang",
            )
    unpaired = [
        (i, side, end if side == "left" else reverse_complement(end))
        for end, ((i, side),) in ends.items()
        if reverse_complement(end) not in ends
    ]
    if unpaired:
        listed = ", ".join(f"{oh} ({side} end of {fragments[i].part})" for i, side, oh in unpaired)
        raise ValidationError(
            f"no closed circle: overhang(s) {listed} have no complementary partner "
            "among the parts; add the missing part or fix its overhangs",
            record=fragments[unpaired[0][0]].part,
            field="overhang",
        )
    order: list[int] = [first]
    strands: list[Literal[1, -1]] = [1]
    current: int = first
    strand: Literal[1, -1] = 1
    while True:
        frag = fragments[current]
        out = reverse_complement(frag.right) if strand == 1 else frag.left
        ((nxt, side),) = ends[reverse_complement(out)]
        strand = 1 if side == "left" else -1
        current = nxt
        if current == first:
            if strand != 1:  # pragma: no cover - impossible once ends are unique
                raise ValidationError("the circle closes on the wrong strand", field="overhang")
            break
        if current in order:  # pragma: no cover - unique ends make this impossible
            raise ValidationError("fragments form a loop without the first part", field="parts")
        order.append(current)
        strands.append(strand)
    if len(order) != len(fragments):
        left_out = sorted(fragments[i].part for i in range(len(fragments)) if i not in order)
        raise ValidationError(
            f"no single closed circle: {', '.join(left_out)} ligate into a separate circle "
            f"from {fragments[first].part}",
            record=left_out[0],
            field="overhang",
        )
    return order, tuple(strands)


def _carry_features(
    inputs: list[SequenceRecord],
    fragments: list[GoldenGateFragment],
    order: list[int],
    strands: tuple[Literal[1, -1], ...],
    total: int,
    spec: TypeIISEnzyme,
) -> tuple[Feature, ...]:
    """Map each part's features inside its insert onto the product, plus one per part."""
    features: list[Feature] = []
    offset = 0
    for i, strand in zip(order, strands, strict=True):
        record, frag = inputs[i], fragments[i]
        length, n = len(frag.sequence), len(record.sequence)
        body = length - spec.overhang_length
        features.append(
            Feature(
                "misc_feature",
                (FeatureSpan(offset, offset + body, strand),),
                (
                    ("label", record.name),
                    ("note", f"{spec.name} part {frag.left}-{frag.right}"),
                ),
            )
        )
        for feature in record.features:
            if feature.type == "source":
                continue
            spans: list[FeatureSpan] = []
            for span in feature.spans:
                rel = (span.start - frag.start) % n
                if rel + (span.end - span.start) > length:
                    break
                lo, hi = rel, rel + span.end - span.start
                sp_strand = span.strand
                if strand == -1:
                    lo, hi = length - hi, length - lo
                    sp_strand = _FLIP[span.strand]
                spans.extend(_wrap(offset + lo, offset + hi, total, sp_strand))
            else:
                if strand == -1:
                    spans.reverse()
                features.append(Feature(feature.type, tuple(spans), feature.qualifiers))
        offset += body
    return tuple(features)


_FLIP: Final[dict[Strand, Strand]] = {1: -1, -1: 1, 0: 0}


def _wrap(start: int, end: int, total: int, strand: Strand) -> list[FeatureSpan]:
    if end <= total:
        return [FeatureSpan(start, end, strand)]
    if start >= total:
        return [FeatureSpan(start - total, end - total, strand)]
    return [FeatureSpan(start, total, strand), FeatureSpan(0, end - total, strand)]


def _check_with_pydna(inputs: list[SequenceRecord], spec: TypeIISEnzyme, expected: str) -> None:
    """Digest and ligate with pydna; the design must be one of its circular products."""
    import Bio.Restriction as restriction
    from pydna.assembly2 import golden_gate_assembly
    from pydna.dseqrecord import Dseqrecord

    enzyme = getattr(restriction, spec.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frags = [
            Dseqrecord(r.sequence.upper(), circular=r.topology == "circular", name=r.name[:16])
            for r in inputs
        ]
        products = golden_gate_assembly(frags, [enzyme], allow_blunt=False, circular_only=True)
    want = seguid(expected, "circular")
    if not any(seguid(str(p.seq), "circular") == want for p in products):
        raise RuntimeError(  # pragma: no cover - a bug in either simulation
            "pydna's simulation of the digest and ligation does not yield the designed product"
        )
