"""Genome-wide off-target search for CRISPR guides, by pigeonhole seeds.

:class:`OffTargetIndex` lists every target site of a genome once: each
position of either strand of every contig whose PAM matches the pattern (or
an alternative pattern, NAG for NGG) and whose protospacer is all A, C, G, T.
Each protospacer is packed 2 bits a base into a ``uint64`` (spacers up to
32 nt).

A site within ``k`` mismatches of a spacer matches at least two of ``k + 2``
disjoint parts of the spacer exactly (pigeonhole). For each pair of parts the
index keeps the sites bucketed by the bases of both, with their packed
spacers side by side; a compiled kernel (:mod:`._offtarget_kernel`, numba)
scans the guide's bucket of each pair and verifies every candidate by XOR
against the packed spacer, folding each 2-bit pair to one bit and counting
them. The hits are exactly the sites a base-by-base scan of both strands
finds (the tests compare with one, and with Cas-OFFinder). The tables of a
mismatch limit are built on its first search and kept. Sites across the
origin of a circular contig are not searched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ValidationError
from cellfoundry.dna._offtarget_kernel import SeedTables, seed_search, seed_tables
from cellfoundry.dna.crispr import (
    MIT_SPACER,
    Guide,
    PamSide,
    check_layout,
    encode,
    mit_hit_scores,
    mit_specificity,
    pam_masks,
    pam_matches,
)
from cellfoundry.dna.scores import CFD_SPACER, cfd_weights

__all__ = ["MAX_SPACER", "HitTable", "OffTargetHit", "OffTargetIndex"]

MAX_SPACER: Final = 32
"""Longest spacer the index packs into one 64-bit word."""

_COMPLEMENT: Final = str.maketrans("ACGTacgt", "TGCAtgca")
_ODD_BITS: Final = np.uint64(0x5555_5555_5555_5555)
_INVALID: Final = 4

_I64Array = npt.NDArray[np.int64]
_U64Array = npt.NDArray[np.uint64]


GenomeRecords = Mapping[str, str] | Iterable[object]
"""Contigs by name, or records with `name`/`sequence` (ours) or `id`/`seq` (Biopython)."""
GuideInput = Sequence[Guide | str] | Mapping[str, Guide | str]


@dataclass(frozen=True, slots=True)
class OffTargetHit:
    """A site within the mismatch limit of a guide's spacer.

    ``position`` is the 0-based forward-strand start of the site (protospacer
    and PAM); ``site`` reads 5'->3' on ``strand``, laid out as the target
    (protospacer then PAM for a 3' PAM). ``alternative_pam`` marks a site
    found through an alternative PAM (NAG). ``mit_score`` is ``None`` unless
    the spacer is 20 nt; ``cfd_score`` (Doench 2016) is ``None`` unless the
    nuclease is SpCas9-like (20-nt spacer, 3-nt PAM on the 3' side).
    """

    guide_id: str
    contig: str
    position: int
    strand: Literal[1, -1]
    mismatches: int
    site: str
    alternative_pam: bool
    mit_score: float | None
    cfd_score: float | None = None


@dataclass(frozen=True, slots=True)
class HitTable:
    """Off-target hits as columns: the same hits as :class:`OffTargetHit` objects."""

    guide: _I64Array
    contig: _I64Array
    position: _I64Array
    strand: _I64Array
    mismatches: _I64Array
    alternative_pam: npt.NDArray[np.bool_]
    mit_score: npt.NDArray[np.float64] | None
    cfd_score: npt.NDArray[np.float64] | None

    def __len__(self) -> int:
        return int(self.guide.size)


def _records(genome: GenomeRecords) -> list[tuple[str, str]]:
    if isinstance(genome, Mapping):
        return [(str(name), str(seq)) for name, seq in genome.items()]
    out: list[tuple[str, str]] = []
    for record in genome:
        sequence = getattr(record, "sequence", None)
        if isinstance(sequence, str):
            out.append((str(getattr(record, "name", "")), sequence))
        else:
            out.append((str(getattr(record, "id", "")), str(getattr(record, "seq", ""))))
    return out


def _reverse_codes(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    rc = codes[::-1].copy()
    valid = rc != _INVALID
    rc[valid] = 3 - rc[valid]
    return rc


class OffTargetIndex:
    """Every target site of a genome, indexed for off-target search.

    Parameters
    ----------
    genome
        The contigs: a mapping of name to sequence, Biopython ``SeqRecord``
        objects or :class:`~cellfoundry.core.sequence.SequenceRecord` objects.
    pam, spacer, pam_side
        The nuclease, as for :func:`~cellfoundry.dna.crispr.find_guides`.
    alternative_pams
        PAMs also indexed, reported only when asked; ``None`` means NAG for
        NGG and none otherwise.

    Examples
    --------
    >>> index = OffTargetIndex({"c1": "TTACGTACGTAGGTTTACGTACCTAGGTT"}, spacer=8)
    >>> [(h.position, h.strand, h.mismatches, h.site) for h in index.search(["ACGTACGT"], 1)]
    [(2, 1, 0, 'ACGTACGTAGG'), (16, 1, 1, 'ACGTACCTAGG')]
    """

    def __init__(
        self,
        genome: GenomeRecords,
        *,
        pam: str = "NGG",
        spacer: int = 20,
        pam_side: PamSide = "3prime",
        alternative_pams: Sequence[str] | None = None,
    ) -> None:
        check_layout(spacer, pam_side)
        if spacer > MAX_SPACER:
            raise ValidationError(
                f"spacer length {spacer} exceeds the indexable {MAX_SPACER}", field="spacer"
            )
        if alternative_pams is None:
            alternative_pams = ("NAG",) if pam.upper() == "NGG" else ()
        primary = pam_masks(pam)
        alternatives = [pam_masks(p) for p in alternative_pams]
        for alt, masks in zip(alternative_pams, alternatives, strict=True):
            if masks.size != primary.size:
                raise ValidationError(
                    f"alternative PAM {alt!r} is not as long as {pam!r}", field="alternative_pams"
                )
        self._spacer, self._pam_length, self._pam_side = spacer, int(primary.size), pam_side
        self._cfd_applies = spacer == CFD_SPACER and primary.size == 3 and pam_side == "3prime"
        self._contigs = _records(genome)
        width = spacer + primary.size
        spacer_offset, pam_offset = (0, spacer) if pam_side == "3prime" else (primary.size, 0)
        codes_parts: list[_U64Array] = []
        contig_parts: list[npt.NDArray[np.int32]] = []
        position_parts: list[_I64Array] = []
        strand_parts: list[npt.NDArray[np.int8]] = []
        primary_parts: list[npt.NDArray[np.bool_]] = []
        pam2_parts: list[npt.NDArray[np.uint8]] = []
        for number, (_, seq) in enumerate(self._contigs):
            forward = encode(seq)
            n = forward.size
            if n < width:
                continue
            for strand, codes in ((1, forward), (-1, _reverse_codes(forward))):
                starts = np.arange(n - width + 1, dtype=np.int64)
                is_primary = pam_matches(codes, primary, starts + pam_offset)
                keep = is_primary.copy()
                for masks in alternatives:
                    keep |= pam_matches(codes, masks, starts + pam_offset)
                invalid = np.concatenate(([0], np.cumsum(codes == _INVALID)))
                protospacer = starts + spacer_offset
                keep &= invalid[protospacer + spacer] == invalid[protospacer]
                sites = starts[keep]
                packed = np.zeros(sites.size, dtype=np.uint64)
                for i in range(spacer):
                    packed = (packed << np.uint64(2)) | codes[sites + spacer_offset + i]
                codes_parts.append(packed)
                contig_parts.append(np.full(sites.size, number, dtype=np.int32))
                position_parts.append(sites if strand == 1 else n - sites - width)
                strand_parts.append(np.full(sites.size, strand, dtype=np.int8))
                primary_parts.append(is_primary[keep])
                if self._cfd_applies:  # the PAM's last two bases, 4 b1 + b2 (valid: PAM matched)
                    last = np.minimum(codes[sites + spacer + 1], 3) * 4
                    pam2_parts.append(last + np.minimum(codes[sites + spacer + 2], 3))
        self._codes = np.concatenate(codes_parts) if codes_parts else np.zeros(0, np.uint64)
        self._contig = np.concatenate(contig_parts) if contig_parts else np.zeros(0, np.int32)
        self._position = np.concatenate(position_parts) if position_parts else np.zeros(0, np.int64)
        self._strand = np.concatenate(strand_parts) if strand_parts else np.zeros(0, np.int8)
        self._primary = np.concatenate(primary_parts) if primary_parts else np.zeros(0, bool)
        self._pam2 = (
            np.concatenate(pam2_parts).astype(np.intp) if pam2_parts else np.zeros(0, np.intp)
        )
        self._seed_tables: dict[int, SeedTables] = {}

    def __len__(self) -> int:
        return int(self._codes.size)

    def __repr__(self) -> str:
        return f"OffTargetIndex({len(self._contigs)} contigs, {len(self)} sites)"

    @property
    def spacer(self) -> int:
        """Spacer length of the indexed sites."""
        return self._spacer

    def _tables(self, max_mismatches: int, threads: int = 1) -> SeedTables:
        """Return the seed tables of a mismatch limit (built on first use, then kept)."""
        cached = self._seed_tables.get(max_mismatches)
        if cached is None:
            cached = self._seed_tables[max_mismatches] = seed_tables(
                self._codes, self._primary, self._spacer, max_mismatches, threads=threads
            )
        return cached

    def _pack(self, guide_id: str, spacer: str) -> int:
        if len(spacer) != self._spacer:
            raise ValidationError(
                f"spacer of {len(spacer)} nt; the index holds {self._spacer}-nt sites",
                record=guide_id,
                field="spacer",
            )
        codes = encode(spacer)
        bad = np.flatnonzero(codes == _INVALID)
        if bad.size:
            i = int(bad[0])
            raise ValidationError(
                f"invalid base {spacer[i]!r} at position {i + 1}; spacers need A, C, G, T",
                record=guide_id,
                field="spacer",
            )
        packed = 0
        for code in codes:
            packed = (packed << 2) | int(code)
        return packed

    def _pack_all(self, items: Sequence[tuple[str, Guide | str]]) -> _U64Array:
        """Pack every spacer, 2 bits a base; a named error for the first bad one."""
        spacers = [g.spacer if isinstance(g, Guide) else str(g) for _, g in items]
        L = self._spacer
        if any(len(s) != L for s in spacers) or not all(s.isascii() for s in spacers):
            for (guide_id, _), spacer in zip(items, spacers, strict=True):
                self._pack(guide_id, spacer)  # raises the named error
        if not spacers:
            return np.zeros(0, dtype=np.uint64)
        codes = encode("".join(spacers)).reshape(len(spacers), L)
        bad = np.flatnonzero((codes == _INVALID).any(axis=1))
        if bad.size:
            self._pack(items[int(bad[0])][0], spacers[int(bad[0])])  # raises the named error
        weights = np.uint64(1) << np.arange(2 * (L - 1), -1, -2, dtype=np.uint64)
        return np.asarray((codes.astype(np.uint64) * weights[None, :]).sum(axis=1), np.uint64)

    def search(
        self,
        guides: GuideInput,
        max_mismatches: int = 4,
        *,
        include_alternative: bool = False,
        threads: int | None = None,
    ) -> list[OffTargetHit]:
        """Every site within ``max_mismatches`` of each guide's spacer, the guide's own included.

        ``guides`` are spacers or :class:`~cellfoundry.dna.crispr.Guide` objects,
        in a sequence (ids ``"0"``, ``"1"``...) or a mapping by id. Hits come
        by guide, then mismatches, contig, position and strand. The search runs on
        ``threads`` threads (default: the CPUs this process may use).
        """
        items = self._items(guides)
        table = self._search_table(items, max_mismatches, include_alternative, threads)
        width = self._spacer + self._pam_length
        names = [items[g][0] for g in table.guide.tolist()]
        contigs = table.contig.tolist()
        positions = table.position.tolist()
        strands = table.strand.tolist()
        mismatches = table.mismatches.tolist()
        alternative = table.alternative_pam.tolist()
        mit = table.mit_score.tolist() if table.mit_score is not None else [None] * len(names)
        cfd = table.cfd_score.tolist() if table.cfd_score is not None else [None] * len(names)
        hits: list[OffTargetHit] = []
        for k in range(len(names)):
            name, seq = self._contigs[contigs[k]]
            position = positions[k]
            text = seq[position : position + width].upper()
            forward = strands[k] == 1
            hits.append(
                OffTargetHit(
                    guide_id=names[k],
                    contig=name,
                    position=position,
                    strand=1 if forward else -1,
                    mismatches=mismatches[k],
                    site=text if forward else text.translate(_COMPLEMENT)[::-1],
                    alternative_pam=alternative[k],
                    mit_score=mit[k],
                    cfd_score=cfd[k],
                )
            )
        return hits

    def search_table(
        self,
        guides: GuideInput,
        max_mismatches: int = 4,
        *,
        include_alternative: bool = False,
        threads: int | None = None,
    ) -> HitTable:
        """Return the hits of :meth:`search` as columns (numpy arrays), not objects.

        For bulk work (guide libraries, benchmarks): ``guide`` indexes the guides in the
        order given, ``contig`` indexes :attr:`contigs`. Same hits, same order.
        """
        items = self._items(guides)
        return self._search_table(items, max_mismatches, include_alternative, threads)

    @property
    def contigs(self) -> tuple[str, ...]:
        """Names of the indexed contigs, in order."""
        return tuple(name for name, _ in self._contigs)

    def _items(self, guides: GuideInput) -> list[tuple[str, Guide | str]]:
        return (
            [(str(k), v) for k, v in guides.items()]
            if isinstance(guides, Mapping)
            else [(str(i), g) for i, g in enumerate(guides)]
        )

    def _search_table(
        self,
        items: list[tuple[str, Guide | str]],
        max_mismatches: int,
        include_alternative: bool,
        threads: int | None,
    ) -> HitTable:
        L = self._spacer
        if not 0 <= max_mismatches < L:
            raise ValidationError(
                f"max_mismatches must be 0 to {L - 1}, not {max_mismatches}",
                field="max_mismatches",
            )
        if threads is None:
            threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        packed = self._pack_all(items)
        if not items or self._codes.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return HitTable(empty, empty, empty, empty, empty, np.zeros(0, bool), None, None)
        guide_of, sites, mismatches = seed_search(
            include_alternative,
            packed,
            max_mismatches,
            self._tables(max_mismatches, threads),
            threads=threads,
        )
        order = np.lexsort(
            (self._strand[sites], self._position[sites], self._contig[sites], mismatches, guide_of)
        )
        guide_of, sites, mismatches = guide_of[order], sites[order], mismatches[order]
        mit = None
        if L == MIT_SPACER:
            differ = self._codes[sites] ^ packed[guide_of]
            folded = (differ | (differ >> np.uint64(1))) & _ODD_BITS
            shifts = np.arange(2 * (L - 1), -1, -2, dtype=np.uint64)
            mismatched = ((folded[:, None] >> shifts[None, :]) & np.uint64(1)).astype(bool)
            mit = mit_hit_scores(mismatched)
        cfd = self._cfd(packed[guide_of], sites) if self._cfd_applies else None
        return HitTable(
            guide=guide_of.astype(np.int64),
            contig=self._contig[sites].astype(np.int64),
            position=self._position[sites],
            strand=self._strand[sites].astype(np.int64),
            mismatches=mismatches.astype(np.int64),
            alternative_pam=~self._primary[sites],
            mit_score=mit,
            cfd_score=cfd,
        )

    def _cfd(self, packed: _U64Array, sites: _I64Array) -> npt.NDArray[np.float64]:
        """CFD scores of ``sites`` against each one's packed spacer, from the index alone."""
        mismatch, pam = cfd_weights()
        shifts = np.arange(2 * (self._spacer - 1), -1, -2, dtype=np.uint64)
        site_codes = ((self._codes[sites][:, None] >> shifts[None, :]) & np.uint64(3)).astype(
            np.intp
        )
        guide_codes = ((packed[:, None] >> shifts[None, :]) & np.uint64(3)).astype(np.intp)
        positions = np.arange(self._spacer)
        per_base = mismatch[positions[None, :], guide_codes, site_codes]
        return np.asarray(per_base.prod(axis=1) * pam[self._pam2[sites]], dtype=np.float64)

    def specificity(self, hits: Iterable[OffTargetHit]) -> dict[str, float]:
        """MIT specificity (0-100) per guide id, leaving out one perfect match (its target)."""
        scores: dict[str, list[float]] = {}
        target_seen: set[str] = set()
        for hit in hits:
            bucket = scores.setdefault(hit.guide_id, [])
            if hit.mismatches == 0 and hit.guide_id not in target_seen:
                target_seen.add(hit.guide_id)
                continue
            if hit.mit_score is not None:
                bucket.append(hit.mit_score)
        return {guide_id: mit_specificity(values) for guide_id, values in scores.items()}
