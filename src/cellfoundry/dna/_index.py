"""The prefilter of the similarity search: an index of sketches and seed chaining.

Every minimizer of an entry that is also a k-mer of the query is a *seed*,
on one strand and one diagonal (target minus query position; their sum on
the minus strand). A local alignment lays its seeds along a diagonal that
only moves at its indels, so each entry is scored by its best *chain* of
seeds, not by everything it shares with the query: counting shared k-mers
ranks a plasmid holding the query's parts in another order, or a short exact
piece of it, far above the plasmid a local alignment scores best (measured
on the benchmark bank: a true top-10 hit at rank 768 of 1,000).

The index is a *forward* index: per entry its minimizers in position order,
in a few large arrays. A query scans all of them once through a hash table of
its k-mers, so the seeds come out grouped by entry and sorted along it, ready
to chain without sorting them. A bank of related plasmids (shared backbones,
resistance genes, origins) makes a query seed most entries anyway, so an
inverted index would touch most postings too, and then has to sort them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.sequence import validate_dna
from cellfoundry.dna._sketch import (
    _REVERSE,
    DEFAULT_K,
    DEFAULT_WINDOW,
    QueryKmers,
    Sketch,
    _check_params,
    _expand,
)

__all__ = ["LINK", "KmerIndex", "SeedChain"]

LINK: Final = 1024
"""Largest indel, in bases (a diagonal shift), across which seed runs chain together."""

_I64Array = npt.NDArray[np.int64]
_IntArray = npt.NDArray[np.int32] | npt.NDArray[np.int64]
_U32Array = npt.NDArray[np.uint32]
_SUB_LINK: Final = 32  # diagonal shift between consecutive seeds of one run (small indels)
_RELATED: Final = 32  # minimizer spacings between seeds still taken as a related stretch
_UNRELATED: Final = 12  # a longer stretch scores mismatch / _UNRELATED per base
_PREDECESSORS: Final = 16  # earlier runs a run may chain to
_FLUSH_POSTINGS: Final = 1 << 16  # pending postings that make a new block
_BLOCK_SLOTS: Final = 1 << 16  # entries per block: the local slot number is a uint16


@dataclass(frozen=True, slots=True)
class SeedChain:
    """The best chain of seeds of one entry on one strand, and what it promises.

    ``strand`` -1 means the query's reverse complement matches.
    ``query_start``/``query_end`` bound the chain on the query as aligned
    (reverse-complemented for strand -1); ``offset_low``/``offset_high`` bound
    target position minus that query position (modulo the length of a
    circular target), so the target window ``offset_low .. offset_high +
    len(query)`` holds the match. ``estimated_score`` estimates the local
    alignment score (see :meth:`KmerIndex.chains`).
    """

    key: int
    strand: Literal[1, -1]
    seeds: int
    query_start: int
    query_end: int
    offset_low: int
    offset_high: int
    estimated_score: int


@dataclass(frozen=True, slots=True)
class _Block:
    """The minimizers of consecutive entries: ``first_slot + local`` is each one's entry."""

    first_slot: int
    hashes: _U32Array
    sites: _U32Array
    local: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return int(self.hashes.size)

    @property
    def nbytes(self) -> int:
        return int(self.hashes.nbytes + self.sites.nbytes + self.local.nbytes)


_Unit = tuple[_Block, int, int]  # minimizers lo:hi of a block, whole entries


class _Seeds(NamedTuple):
    """Seeds: one row each."""

    group: npt.NDArray[np.int32]  # 2 * slot + (1 on the minus strand)
    q_pos: npt.NDArray[np.int32]
    t_pos: npt.NDArray[np.int32]
    diagonal: npt.NDArray[np.int32]
    repeated: npt.NDArray[np.bool_]  # from a k-mer the query holds more than once


class _Runs(NamedTuple):
    """Seed runs, or chains of runs: one row each."""

    group: _I64Array  # 2 * slot + (1 on the minus strand)
    estimate: _I64Array
    q_lo: _I64Array
    q_hi: _I64Array
    d_lo: _I64Array
    d_hi: _I64Array
    seeds: _I64Array


class KmerIndex:
    """The sketches of the bank's entries, updated in place, for finding candidates.

    Additions go to a buffer that is frozen into an immutable block when it
    holds :data:`_FLUSH_POSTINGS` minimizers or at the next query; a block is
    concatenated with the one before it while that one is less than twice
    its size, so blocks stay few and large, and adding an entry never
    rebuilds (or sorts) the index. :meth:`remove` marks the entry dead; its
    minimizers are dropped by the next merge that touches them, and
    everything is compacted once dead minimizers outnumber live ones.

    Parameters
    ----------
    k, window
        The sketch parameters; every added sketch must use the same ones.

    Examples
    --------
    >>> from cellfoundry.dna import sketch
    >>> index = KmerIndex()
    >>> index.add(1, sketch("ACGTTGCATGTCGCATGATGCATGAGAGTTAAGCTTGGCAT", "linear"))
    >>> index.add(2, sketch("TTTTTTTTTTGGGGGGGGGGCCCCCCCCCCAAAAAAAAAA", "linear"))
    >>> index.candidates("CATGTCGCATGATGCATGAGAGTT", limit=5)
    [(1, 48)]
    >>> index.remove(1)
    >>> len(index), 1 in index
    (1, False)
    """

    def __init__(self, *, k: int = DEFAULT_K, window: int = DEFAULT_WINDOW) -> None:
        _check_params(k, window)
        self._k = k
        self._window = window
        self._key_slot: dict[int, int] = {}
        self._n_slots = 0
        self._slot_key = np.empty(0, dtype=np.int64)
        self._slot_alive = np.empty(0, dtype=bool)
        self._slot_postings = np.empty(0, dtype=np.int64)
        self._slot_length = np.empty(0, dtype=np.int32)
        self._slot_circular = np.empty(0, dtype=bool)
        self._pending: list[tuple[int, _U32Array, _U32Array]] = []
        self._pending_postings = 0
        self._blocks: list[_Block] = []
        self._live_postings = 0
        self._dead_postings = 0

    @property
    def k(self) -> int:
        """k-mer length of the sketches."""
        return self._k

    @property
    def window(self) -> int:
        """Minimizer window of the sketches."""
        return self._window

    def __len__(self) -> int:
        return len(self._key_slot)

    def __contains__(self, key: object) -> bool:
        return key in self._key_slot

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._key_slot))

    def __repr__(self) -> str:
        return (
            f"KmerIndex(k={self._k}, window={self._window}, {len(self)} entries, "
            f"{self._live_postings} minimizers, {len(self._blocks)} blocks)"
        )

    @property
    def postings(self) -> int:
        """Number of minimizers of live entries."""
        return self._live_postings

    @property
    def nbytes(self) -> int:
        """Memory held by the index arrays, in bytes (the key dictionary excluded)."""
        pending = sum(h.nbytes + s.nbytes for _, h, s in self._pending)
        per_slot = (
            self._slot_key,
            self._slot_alive,
            self._slot_postings,
            self._slot_length,
            self._slot_circular,
        )
        return pending + sum(a.nbytes for a in per_slot) + sum(b.nbytes for b in self._blocks)

    def add(self, key: int, sketch: Sketch) -> None:
        """Add the sketch of a new entry.

        Raises
        ------
        ConflictError
            If ``key`` is already in the index (remove it first to replace it).
        ValidationError
            If the sketch was made with other ``k`` or ``window`` than the index.
        """
        if key in self._key_slot:
            raise ConflictError(f"entry {key} is already in the k-mer index; remove it first")
        if sketch.k != self._k or sketch.window != self._window:
            raise ValidationError(
                f"a sketch made with k={sketch.k}, window={sketch.window} cannot join an"
                f" index with k={self._k}, window={self._window}; recompute it",
                field="sketch",
            )
        slot = self._new_slot(key, sketch)
        hashes, sites = sketch.arrays()
        self._pending.append((slot, hashes, sites))
        self._pending_postings += hashes.size
        self._live_postings += hashes.size
        if self._pending_postings >= _FLUSH_POSTINGS:
            self._flush()

    def remove(self, key: int) -> None:
        """Remove an entry.

        Raises
        ------
        NotFoundError
            If ``key`` is not in the index.
        """
        slot = self._key_slot.pop(key, None)
        if slot is None:
            raise NotFoundError("k-mer index entry", str(key))
        self._slot_alive[slot] = False
        count = int(self._slot_postings[slot])
        self._live_postings -= count
        pending = [p for p in self._pending if p[0] != slot]
        if len(pending) != len(self._pending):
            self._pending = pending
            self._pending_postings -= count
        else:
            self._dead_postings += count
        if self._dead_postings > max(self._live_postings, _FLUSH_POSTINGS):
            self.compact()

    def candidates(
        self,
        query: str,
        *,
        limit: int,
        scores: tuple[int, int, int, int] = (2, -3, 5, 2),
    ) -> list[tuple[int, int]]:
        """Return the entries whose best seed chain promises the highest alignment score.

        Parameters
        ----------
        query
            IUPAC DNA; k-mers holding an ambiguity code are ignored.
        limit
            Largest number of candidates to return.
        scores
            ``(match, mismatch, gap_open, gap_extend)`` the estimate assumes.

        Returns
        -------
        list of (key, estimated score)
            The best chain of each entry on either strand (see :meth:`chains`),
            by estimated score (descending), then key. Entries with no seed
            are left out.

        Raises
        ------
        InvalidSequenceError
            If the query holds a non-IUPAC symbol.
        """
        best: dict[int, int] = {}
        for chain in self.chains(query, limit=2 * limit, scores=scores):
            best.setdefault(chain.key, chain.estimated_score)
        return list(best.items())[:limit]

    def chains(
        self,
        query: str,
        *,
        limit: int,
        scores: tuple[int, int, int, int] = (2, -3, 5, 2),
        threads: int = 1,
    ) -> list[SeedChain]:
        """Return the best seed chain of each entry and strand, best estimate first.

        Seeds are chained in two levels, each scored as a local alignment
        would be (its best-scoring stretch):

        1. consecutive seeds along an entry whose diagonals differ by at most
           32 form a run; along the query a seed gains ``match`` per base it
           newly covers, and the stretch since the previous seed gains
           ``match / 2`` per base (diverged but related) for its first 32
           minimizer spacings and ``mismatch / 12`` per base beyond (unrelated);
        2. runs that follow each other along the query and whose diagonals
           differ by at most :data:`LINK` join as across an indel, paying
           ``gap_open + gap_extend * shift`` and the stretch between them
           (a dynamic programme over the previous 16 runs, as in minimap2).

        Parameters
        ----------
        query
            IUPAC DNA; k-mers holding an ambiguity code are ignored.
        limit
            Largest number of chains to return.
        scores
            ``(match, mismatch, gap_open, gap_extend)`` of the alignment to estimate.
        threads
            Threads to chain with, each over its own entries.

        Returns
        -------
        list of SeedChain
            The best chains of ``limit`` entry strands by estimated score
            (descending), then key, then strand (plus first), and of those
            tied with the last (at most ``3 * limit`` more), since seeds cannot
            tell tied entries apart; then, for these, the runners-up: the best
            chain elsewhere on the entry if estimated at 3/4 of the best or more.

        Raises
        ------
        InvalidSequenceError
            If the query holds a non-IUPAC symbol.

        References
        ----------
        Li (2018), "Minimap2: pairwise alignment for nucleotide sequences",
        Bioinformatics 34:3094 (chaining).
        """
        match, mismatch, gap_open, gap_extend = scores
        query = validate_dna(query)
        q = QueryKmers.of(query, self._k)
        self._flush()
        if limit <= 0:
            return []
        circular_length = np.where(self._slot_circular, self._slot_length, 0)
        bonus = match * _RELATED * (self._window + 1) // 4

        def chain(unit: _Unit) -> tuple[_Runs, _Runs] | None:
            runs = self._runs(q, unit, match, mismatch)
            if runs is None:
                return None
            runs = _prune(runs, limit, bonus)
            return _chain_runs(
                runs, circular_length, self._k, self._window, match, mismatch, gap_open, gap_extend
            )

        units = self._units(threads)
        if threads > 1 and len(units) > 1:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                parts = [p for p in pool.map(chain, units) if p is not None]
        else:
            parts = [p for p in map(chain, units) if p is not None]
        if not parts:
            return []
        best = _Runs(*(np.concatenate([p[0][j] for p in parts]) for j in range(7)))
        runners = _Runs(*(np.concatenate([p[1][j] for p in parts]) for j in range(7)))
        key_of = self._slot_key[best.group >> 1]
        ranked = np.lexsort((best.group & 1, key_of, -best.estimate))
        count = min(max(limit, 0), ranked.size)
        if 0 < count < ranked.size:  # keep the chains tied with the last one, up to 4 x limit
            tied = best.estimate[ranked[count:]] == best.estimate[ranked[count - 1]]
            count += min(int(np.argmin(tied)) if not tied.all() else tied.size, 3 * limit)
        chosen = best.group[ranked[:count]]
        extra = np.flatnonzero(np.isin(runners.group, chosen))
        out = [self._chain(best, int(i), len(query)) for i in ranked[:count].tolist()]
        out.extend(self._chain(runners, int(i), len(query)) for i in extra.tolist())
        return out

    def _chain(self, chains: _Runs, i: int, n: int) -> SeedChain:
        """Return row ``i`` of ``chains`` for a query of length ``n``."""
        group = int(chains.group[i])
        strand: Literal[1, -1] = -1 if group & 1 else 1
        lo, hi = int(chains.q_lo[i]), int(chains.q_hi[i])
        offset_lo, offset_hi = int(chains.d_lo[i]), int(chains.d_hi[i])
        if strand == -1:  # to coordinates on the reverse complement of the query
            lo, hi = n - hi, n - lo
            offset_lo, offset_hi = offset_lo - n + self._k, offset_hi - n + self._k
        return SeedChain(
            key=int(self._slot_key[group >> 1]),
            strand=strand,
            seeds=int(chains.seeds[i]),
            query_start=lo,
            query_end=hi,
            offset_low=offset_lo,
            offset_high=offset_hi,
            estimated_score=int(chains.estimate[i]),
        )

    def _units(self, parts: int) -> list[_Unit]:
        """Cut the blocks into about ``parts`` equal pieces, between entries."""
        total = sum(len(b) for b in self._blocks)
        size = max(1, -(-total // max(parts, 1)))
        units: list[_Unit] = []
        for block in self._blocks:
            lo = 0
            while lo < len(block):
                hi = min(lo + size, len(block))
                if hi < len(block):  # move the cut to the next entry's first minimizer
                    hi = int(np.searchsorted(block.local, block.local[hi], side="left"))
                    if hi <= lo:
                        hi = int(np.searchsorted(block.local, block.local[lo], side="right"))
                units.append((block, lo, hi))
                lo = hi
        return units

    def _seeds(self, q: QueryKmers, unit: _Unit) -> _Seeds | None:
        """Return the seeds in a part of a block, grouped by entry and in order along it.

        The diagonal is target minus query position on the plus strand, their
        sum on the minus strand, modulo the length of a circular target.
        Seeds of a k-mer the query holds more than once come last, one per
        query position, flagged ``repeated``.
        """
        block, lo, hi = unit
        i, qi = q.find(block.hashes[lo:hi])
        i += lo
        slots = block.local[i].astype(np.int32) + np.int32(block.first_slot)
        alive = self._slot_alive[slots]
        if not alive.all():
            i, qi, slots = i[alive], qi[alive], slots[alive]
        sites = block.sites[i]
        if slots.size == 0:
            return None
        counts = q.offsets[qi + 1] - q.offsets[qi]
        occurrence = q.offsets[qi]
        repeated = np.zeros(slots.size, dtype=bool)
        several = np.flatnonzero(counts > 1)
        if several.size:  # one seed per query position, after the others
            n = counts[several]
            extra = _expand(occurrence[several].astype(np.int64), n.astype(np.int64))
            single = np.flatnonzero(counts == 1)
            occurrence = np.concatenate((occurrence[single], extra.astype(np.int32)))
            slots = np.concatenate((slots[single], np.repeat(slots[several], n)))
            sites = np.concatenate((sites[single], np.repeat(sites[several], n)))
            repeated = np.arange(slots.size) >= single.size
        t_pos = (sites & ~_REVERSE).view(np.int32)
        minus = ((sites & _REVERSE) != 0) != q.reverse[occurrence]
        q_pos = q.positions[occurrence]
        diagonal = np.where(minus, t_pos + q_pos, t_pos - q_pos)
        length = self._slot_length[slots]
        outside = self._slot_circular[slots] & ((diagonal < 0) | (diagonal >= length))
        if outside.any():
            diagonal[outside] %= length[outside]
        return _Seeds(2 * slots + minus, q_pos, t_pos, diagonal, repeated)

    def _runs(self, q: QueryKmers, unit: _Unit, match: int, mismatch: int) -> _Runs | None:
        """Cut the seeds of each entry and strand into runs along one diagonal (level 1).

        Consecutive seeds along the entry stay in one run while their
        diagonals differ by at most ``_SUB_LINK`` (small indels). Seeds of
        repeated query k-mers lie on several diagonals at once; they are
        first sorted by diagonal, clustered, and each cluster ordered along
        the entry.
        """
        seeds = self._seeds(q, unit)
        if seeds is None:
            return None
        parts = []
        unique = np.flatnonzero(~seeds.repeated)
        minus = (seeds.group[unique] & 1).astype(bool)
        for pick in (unique[~minus], unique[minus]):
            if pick.size:
                group, diagonal = seeds.group[pick], seeds.diagonal[pick]
                shift = self._shift(np.diff(diagonal), group[1:])
                starts = np.ones(pick.size, dtype=bool)
                starts[1:] = (group[1:] != group[:-1]) | (np.abs(shift) > _SUB_LINK)
                q_pos = seeds.q_pos[pick]
                parts.append(self._score_runs(group, q_pos, diagonal, starts, match, mismatch))
        pick = np.flatnonzero(seeds.repeated)
        if pick.size:
            group, diagonal = seeds.group[pick], seeds.diagonal[pick]
            order = np.lexsort((diagonal, group))
            group, diagonal, pick = group[order], diagonal[order], pick[order]
            starts = np.ones(pick.size, dtype=bool)
            starts[1:] = (group[1:] != group[:-1]) | (np.diff(diagonal) > _SUB_LINK)
            pick = pick[np.lexsort((seeds.t_pos[pick], np.cumsum(starts)))]
            group, q_pos, diagonal = seeds.group[pick], seeds.q_pos[pick], seeds.diagonal[pick]
            parts.append(self._score_runs(group, q_pos, diagonal, starts, match, mismatch))
        return _Runs(*(np.concatenate([p[j] for p in parts]) for j in range(7)))

    def _shift(self, delta: _IntArray, group: _IntArray) -> _IntArray:
        slots = group >> 1
        return _wrap(delta, self._slot_length[slots], self._slot_circular[slots])

    def _score_runs(
        self,
        group: _IntArray,
        q_pos: _IntArray,
        diagonal: _IntArray,
        starts: npt.NDArray[np.bool_],
        match: int,
        mismatch: int,
    ) -> _Runs:
        """Score each run (seeds from each ``starts`` to the next) along the query."""
        first = np.flatnonzero(starts)
        sizes = np.diff(np.append(first, group.size))
        step = np.abs(np.diff(q_pos, prepend=0))
        step[first] = self._k
        gain = np.minimum(step, self._k) * match + _stretch(
            np.maximum(step - self._k, 0), match, mismatch, self._window
        )
        anchor = diagonal[first].astype(np.int64)
        relative = self._shift(diagonal - np.repeat(anchor, sizes), group)
        return _Runs(
            group[first].astype(np.int64),
            _segmented_max_run(gain.astype(np.int64), first, sizes),
            np.minimum.reduceat(q_pos, first).astype(np.int64),
            np.maximum.reduceat(q_pos, first).astype(np.int64) + self._k,
            anchor + np.minimum.reduceat(relative, first).astype(np.int64),
            anchor + np.maximum.reduceat(relative, first).astype(np.int64),
            sizes.astype(np.int64),
        )

    def compact(self) -> None:
        """Concatenate all blocks, dropping removed entries and renumbering the rest."""
        self._flush()
        alive = np.flatnonzero(self._slot_alive[: self._n_slots])
        renumber = np.full(self._n_slots, -1, dtype=np.int64)
        renumber[alive] = np.arange(alive.size)
        blocks, self._blocks = self._blocks, []
        for block in blocks:
            slots = renumber[block.local.astype(np.int64) + block.first_slot]
            keep = slots >= 0
            self._append(slots[keep], block.hashes[keep], block.sites[keep])
        self._slot_key = self._slot_key[alive]
        self._slot_postings = self._slot_postings[alive]
        self._slot_length = self._slot_length[alive]
        self._slot_circular = self._slot_circular[alive]
        self._slot_alive = np.ones(alive.size, dtype=bool)
        self._n_slots = int(alive.size)
        self._key_slot = {int(key): i for i, key in enumerate(self._slot_key.tolist())}
        self._dead_postings = 0

    def _new_slot(self, key: int, sketch: Sketch) -> int:
        slot = self._n_slots
        if slot == self._slot_key.size:
            size = max(64, 2 * slot)
            self._slot_key = np.resize(self._slot_key, size)
            self._slot_alive = np.resize(self._slot_alive, size)
            self._slot_postings = np.resize(self._slot_postings, size)
            self._slot_length = np.resize(self._slot_length, size)
            self._slot_circular = np.resize(self._slot_circular, size)
        self._slot_key[slot] = key
        self._slot_alive[slot] = True
        self._slot_postings[slot] = len(sketch)
        self._slot_length[slot] = sketch.length
        self._slot_circular[slot] = sketch.topology == "circular"
        self._n_slots += 1
        self._key_slot[key] = slot
        return slot

    def _flush(self) -> None:
        """Freeze the pending additions into blocks, merging small blocks."""
        if not self._pending:
            return
        pending, self._pending, self._pending_postings = self._pending, [], 0
        slots = np.repeat(
            np.array([slot for slot, _, _ in pending], dtype=np.int64),
            [h.size for _, h, _ in pending],
        )
        hashes = np.concatenate([h for _, h, _ in pending])
        sites = np.concatenate([s for _, _, s in pending])
        self._append(slots, hashes, sites)

    def _append(self, slots: _I64Array, hashes: _U32Array, sites: _U32Array) -> None:
        """Add minimizers of entries numbered above those in the last block."""
        while slots.size:
            cut = int(np.searchsorted(slots, slots[0] + _BLOCK_SLOTS))
            first = int(slots[0])
            local = (slots[:cut] - first).astype(np.uint16)
            self._blocks.append(_Block(first, hashes[:cut], sites[:cut], local))
            slots, hashes, sites = slots[cut:], hashes[cut:], sites[cut:]
            while len(self._blocks) > 1 and self._mergeable(*self._blocks[-2:]):
                newer = self._blocks.pop()
                self._blocks.append(self._merge(self._blocks.pop(), newer))

    def _mergeable(self, older: _Block, newer: _Block) -> bool:
        last = newer.first_slot + int(newer.local.max(initial=0))
        return len(older) < 2 * len(newer) and last - older.first_slot < _BLOCK_SLOTS

    def _merge(self, older: _Block, newer: _Block) -> _Block:
        slots = np.concatenate(
            (
                older.local.astype(np.int64) + older.first_slot,
                newer.local.astype(np.int64) + newer.first_slot,
            )
        )
        live = self._slot_alive[slots]
        self._dead_postings -= int(live.size - np.count_nonzero(live))
        hashes = np.concatenate((older.hashes, newer.hashes))[live]
        sites = np.concatenate((older.sites, newer.sites))[live]
        local = (slots[live] - older.first_slot).astype(np.uint16)
        return _Block(older.first_slot, hashes, sites, local)


def _wrap(delta: _IntArray, length: _IntArray, circular: npt.NDArray[np.bool_]) -> _IntArray:
    """Return diagonal differences, taken the short way round on circular targets."""
    if not circular.any():
        return delta
    n = np.maximum(length, 1)
    wrapped: _IntArray = np.where(circular, (delta + n // 2) % n - n // 2, delta)
    return wrapped


def _stretch(gap: _IntArray, match: int, mismatch: int, window: int) -> _IntArray:
    """Score ``gap`` query bases between seeds: related first, unrelated beyond."""
    related = np.minimum(gap, _RELATED * (window + 1) // 2)
    value: _IntArray = related * match // 2 + (gap - related) * mismatch // _UNRELATED
    return value


def _segmented_max_run(gain: _I64Array, first: _I64Array, sizes: _I64Array) -> _I64Array:
    """Return the best sum of consecutive ``gain`` within each segment (starting at ``first``)."""
    before = np.cumsum(gain) - gain
    prefix = before - np.repeat(before[first], sizes)  # within-segment sum before each element
    segment = np.repeat(np.arange(first.size, dtype=np.int64), sizes)
    spread = int(prefix.max() - prefix.min()) + 1
    lowest = np.minimum.accumulate(prefix - segment * spread) + segment * spread
    return np.maximum.reduceat(prefix + gain - lowest, first)


def _prune(runs: _Runs, limit: int, bonus: int) -> _Runs:
    """Drop the groups whose chains cannot reach the ``limit`` best.

    A chain scores at least its best run and at most the sum of its runs plus
    ``bonus`` (the most a stretch between two runs can add) per join.
    """
    group = np.unique(runs.group, return_inverse=True)[1]
    size = np.bincount(group)
    if size.size <= limit:
        return runs
    upper = np.bincount(group, weights=np.maximum(runs.estimate, 0)) + (size - 1) * bonus
    lower = np.zeros(size.size, dtype=np.int64)
    np.maximum.at(lower, group, runs.estimate)
    floor = np.partition(lower, size.size - limit)[size.size - limit]
    keep = upper[group] >= floor
    return _Runs(*(a[keep] for a in runs))


def _chain_runs(
    runs: _Runs,
    circular_length: _I64Array,
    k: int,
    window: int,
    match: int,
    mismatch: int,
    gap_open: int,
    gap_extend: int,
) -> tuple[_Runs, _Runs]:
    """Chain runs across indels (level 2): the best chain of each group, and runners-up.

    A runner-up is the best chain elsewhere on the target (its diagonals away
    from the best one's) scoring at least 3/4 of the best: a second copy of
    the matching region, which may align better than the seeds suggest.

    A dynamic programme over the runs of each group in query order, each run
    looking back at most ``_PREDECESSORS`` runs, vectorised across groups and
    predecessors. ``circular_length`` is the length of circular slots, else 0.
    """
    order = np.lexsort((runs.q_hi, runs.q_lo, runs.group))
    r = _Runs(*(a[order] for a in runs))
    n = r.group.size
    first = np.flatnonzero(np.diff(r.group, prepend=-1))
    sizes = np.diff(np.append(first, n))
    rank = np.arange(n) - np.repeat(first, sizes)  # position of each run within its group
    minus = (r.group & 1).astype(bool)
    length = circular_length[r.group >> 1]
    circular = length > 0
    score = r.estimate.copy()
    q_lo, d_lo, d_hi, seeds = r.q_lo.copy(), r.d_lo.copy(), r.d_hi.copy(), r.seeds.copy()
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(int(sizes.max()) + 1))
    lowest = np.iinfo(np.int64).min
    for p in range(1, int(sizes.max())):
        j = by_rank[bounds[p] : bounds[p + 1]]
        i = j[:, None] - np.arange(1, min(p, _PREDECESSORS) + 1)  # candidate predecessors
        jj = j[:, None]
        gap = r.q_lo[jj] - r.q_hi[i]
        shift = _wrap(r.d_lo[jj] - r.d_hi[i], length[jj], circular[jj])
        # an indel of |shift| bases; on a linear target the target must also advance
        t_gap = np.where(minus[jj], -shift, shift) + gap
        ok = (gap >= -k) & (np.abs(shift) <= LINK) & (circular[jj] | (t_gap >= -k))
        value = (
            score[i]
            + _stretch(np.maximum(gap, 0), match, mismatch, window)
            + np.minimum(gap, 0) * match
            - np.where(shift != 0, gap_open + gap_extend * np.abs(shift), 0)
        )
        value = np.where(ok, value, lowest)
        h = np.argmax(value, axis=1)
        best = value[np.arange(j.size), h]
        join = best > 0
        jj, ii = j[join], i[np.arange(j.size), h][join]
        score[jj] += best[join]
        q_lo[jj] = q_lo[ii]
        # the chain's diagonal extent, next to this run's diagonals on a circular target
        moved = _wrap(d_lo[ii] - r.d_lo[jj], length[jj], circular[jj]) + r.d_lo[jj] - d_lo[ii]
        d_lo[jj] = np.minimum(d_lo[jj], d_lo[ii] + moved)
        d_hi[jj] = np.maximum(d_hi[jj], d_hi[ii] + moved)
        seeds[jj] += seeds[ii]
    ends = _Runs(r.group, score, q_lo, r.q_hi, d_lo, d_hi, seeds)  # chains, by their last run
    top = np.maximum.reduceat(score, first)
    best = _first_max(score, first, sizes, top)
    # the runner-up chain of a group that lies elsewhere on the target (a second copy)
    owner = np.repeat(best, sizes)
    centre = (d_lo + d_hi) // 2
    half = (d_hi - d_lo) // 2 + (d_hi[owner] - d_lo[owner]) // 2 + _SUB_LINK
    apart = np.abs(_wrap(centre - centre[owner], length, circular)) > half
    eligible = apart & (score * 4 >= np.repeat(top, sizes) * 3) & (score > 0)
    runner = np.flatnonzero(eligible)
    runner = runner[np.lexsort((-score[runner], r.group[runner]))]
    runner = runner[np.flatnonzero(np.diff(r.group[runner], prepend=-1))]
    return _Runs(*(a[best] for a in ends)), _Runs(*(a[runner] for a in ends))


def _first_max(score: _I64Array, first: _I64Array, sizes: _I64Array, top: _I64Array) -> _I64Array:
    """Return the index of the first maximum of ``score`` in each segment."""
    at = np.flatnonzero(score == np.repeat(top, sizes))
    segment = np.searchsorted(first, at, side="right") - 1
    return at[np.flatnonzero(np.diff(segment, prepend=-1))]
