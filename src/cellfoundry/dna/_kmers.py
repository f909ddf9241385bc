"""Canonical k-mer sketches and an incrementally updated inverted index over them.

The prefilter of :mod:`cellfoundry.dna.similarity`. A target is reduced to its
canonical k-mer *minimizers* with their positions (:func:`sketch`); a query to
all of its canonical k-mers. Every minimizer of a target that is also a query
k-mer is a *seed* on one strand and one diagonal (target position minus query
position). A local alignment lays its seeds along one diagonal, give or take
its indels, so a target is ranked by the largest number of seeds it has in a
band of :data:`BAND` diagonals on one strand: an estimate of its best colinear
match, not of everything it shares with the query. (Counting all shared
k-mers ranks a plasmid that holds the query's parts in another order above one
that holds them in order, and the first ranks far lower by alignment score.)

Minimizers, not every k-mer, because the sketch is stored per bank entry and
the index is held in memory: with ``window=8`` about one k-mer in four or five
is kept, and every exact match of ``window + k - 1`` bases or more between
query and target still holds a seed (the winnowing guarantee). A k-mer and its
reverse complement hash to the same value, so one sketch serves both strands.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.sequence import Topology, validate_dna

__all__ = [
    "DEFAULT_K",
    "DEFAULT_WINDOW",
    "LINK",
    "KmerIndex",
    "SeedChain",
    "Sketch",
    "has_kmers",
    "sketch",
]

DEFAULT_K: Final = 16
"""k-mer length; 16 is the longest that packs into 32 bits (2 bits per base)."""
DEFAULT_WINDOW: Final = 8
"""Minimizer window, in consecutive k-mers: the smallest hash of each window is kept."""
LINK: Final = 1024
"""Largest indel, in bases (a diagonal shift), across which seed runs chain together."""

_U32 = np.uint32
_U32Array = npt.NDArray[np.uint32]
_I64Array = npt.NDArray[np.int64]
_SENTINEL: Final = np.uint32(0xFFFFFFFF)  # k-mers holding a non-ACGT base
_REVERSE: Final = np.uint32(0x80000000)  # site flag: the canonical k-mer is the reverse one
_MAX_LENGTH: Final = 0x7FFFFFFF
_HEADER = struct.Struct("<4sBBBBQI")  # magic, version, k, window, circular, length, count
_MAGIC: Final = b"CFSK"
_VERSION: Final = 1


def _code_table() -> npt.NDArray[np.uint8]:
    table = np.full(256, 4, dtype=np.uint8)
    for code, base in enumerate("ACGT"):
        table[ord(base)] = table[ord(base.lower())] = code
    table.setflags(write=False)
    return table


_CODES: Final = _code_table()


def _mix32(x: _U32Array) -> _U32Array:
    """Scramble 32-bit values with the murmur3 finalizer (a bijection on uint32)."""
    x = x ^ (x >> _U32(16))
    x = x * _U32(0x85EBCA6B)
    x = x ^ (x >> _U32(13))
    x = x * _U32(0xC2B2AE35)
    return x ^ (x >> _U32(16))


def _kmers(seq: str, k: int, circular: bool) -> tuple[_U32Array, _U32Array]:
    """Return the canonical hash and the reverse flag of the k-mer at each position.

    K-mers holding a non-ACGT base get the sentinel hash. A circular sequence
    has one k-mer per base, including those across the origin.
    """
    n = len(seq)
    if circular and n > 0:
        seq = (seq * -(-(n + k - 1) // n))[: n + k - 1]
    codes = _CODES[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    m = len(codes) - k + 1
    if m <= 0:
        return np.empty(0, dtype=_U32), np.empty(0, dtype=_U32)
    fwd = np.zeros(m, dtype=_U32)
    rev = np.zeros(m, dtype=_U32)
    for j in range(k):
        c = codes[j : j + m].astype(_U32) & _U32(3)
        fwd = (fwd << _U32(2)) | c
        rev |= (_U32(3) - c) << _U32(2 * j)
    reverse = np.where(rev < fwd, _REVERSE, _U32(0)).astype(_U32)
    hashes = _mix32(np.minimum(fwd, rev))
    bad = np.concatenate(([0], np.cumsum(codes == 4, dtype=np.int64)))
    hashes[(bad[k:] - bad[:m]) > 0] = _SENTINEL
    return hashes, reverse


@dataclass(frozen=True, slots=True)
class Sketch:
    """The minimizers of one target sequence, compact enough to store as a BLOB.

    ``hashes`` holds the minimizer hashes sorted ascending (little-endian
    uint32, repeated when a k-mer recurs); ``sites`` the matching start
    position on the forward strand, with bit 31 set when the canonical k-mer
    is the reverse complement. Use :meth:`arrays` for numpy views.
    """

    k: int
    window: int
    topology: Topology
    length: int
    hashes: bytes
    sites: bytes

    def __post_init__(self) -> None:
        if len(self.hashes) % 4 or len(self.sites) != len(self.hashes):
            raise ValidationError("a sketch needs one 4-byte site per 4-byte hash")

    def arrays(self) -> tuple[_U32Array, _U32Array]:
        """Return ``(hashes, sites)`` as read-only uint32 arrays (no copy)."""
        hashes = np.frombuffer(self.hashes, dtype="<u4").astype(_U32, copy=False)
        return hashes, np.frombuffer(self.sites, dtype="<u4").astype(_U32, copy=False)

    def __len__(self) -> int:
        return len(self.hashes) // 4

    def __repr__(self) -> str:
        return (
            f"Sketch(k={self.k}, window={self.window}, {self.length} bp {self.topology},"
            f" {len(self)} minimizers)"
        )

    def to_bytes(self) -> bytes:
        """Serialize to a self-describing byte string: a 24-byte header, hashes, sites.

        Examples
        --------
        >>> s = sketch("ATGAAACGCATTAGCACCACCATTACCACCACCATCACC", "circular")
        >>> Sketch.from_bytes(s.to_bytes()) == s
        True
        """
        circular = self.topology == "circular"
        header = _HEADER.pack(
            _MAGIC, _VERSION, self.k, self.window, circular, self.length, len(self)
        )
        return header + self.hashes + self.sites

    @classmethod
    def from_bytes(cls, data: bytes) -> Sketch:
        """Read a sketch written by :meth:`to_bytes`.

        Raises
        ------
        ValidationError
            If the bytes are not a sketch of a version this code reads.
        """
        if len(data) < _HEADER.size:
            raise ValidationError("sketch bytes are truncated; recompute the sketch")
        magic, version, k, window, circular, length, count = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION:
            raise ValidationError(
                f"not a version-{_VERSION} sequence sketch (magic {magic!r}, version {version});"
                " recompute the sketch from the sequence"
            )
        body = bytes(data[_HEADER.size :])
        if len(body) != 8 * count:
            raise ValidationError(
                f"sketch holds {len(body)} bytes after its header, the header says {8 * count}"
            )
        topology: Topology = "circular" if circular else "linear"
        return cls(k, window, topology, length, body[: 4 * count], body[4 * count :])


def sketch(
    sequence: str,
    topology: Topology,
    *,
    k: int = DEFAULT_K,
    window: int = DEFAULT_WINDOW,
) -> Sketch:
    """Return the canonical k-mer minimizers of a target sequence, with their positions.

    In every run of ``window`` consecutive k-mers the one with the smallest
    hash is kept (all of them on a tie). K-mers holding an ambiguity code are
    skipped. For a circular sequence the k-mers and windows across the origin
    are included, so the set of minimizers does not depend on where the
    plasmid was opened; it does not depend on the strand either (canonical
    k-mers).

    Parameters
    ----------
    sequence
        IUPAC DNA, either case.
    topology
        ``"linear"`` or ``"circular"``.
    k
        k-mer length, 1 to 16.
    window
        Number of consecutive k-mers per minimizer window; 1 keeps every k-mer.

    Returns
    -------
    Sketch
        Empty for a linear sequence shorter than ``k``.

    Raises
    ------
    InvalidSequenceError
        If the sequence holds a non-IUPAC symbol.
    ValidationError
        If ``k`` or ``window`` is out of range or the sequence is over 2 Gbp.

    References
    ----------
    Roberts et al. (2004), "Reducing storage requirements for biological
    sequence comparison", Bioinformatics 20:3363 (minimizers).

    Examples
    --------
    >>> from cellfoundry.core.sequence import reverse_complement
    >>> seq = "GGTCTCAAATGACCATGATTACGCCAAGCTTGCATGCCTGCAGGTCGACTCTAGAGGATCC"
    >>> s = sketch(seq, "circular", window=4)
    >>> s
    Sketch(k=16, window=4, 61 bp circular, 24 minimizers)
    >>> s.hashes == sketch(reverse_complement(seq), "circular", window=4).hashes
    True
    >>> s.hashes == sketch(seq[20:] + seq[:20], "circular", window=4).hashes
    True
    """
    _check_params(k, window)
    seq = validate_dna(sequence)
    n = len(seq)
    if n > _MAX_LENGTH:
        raise ValidationError(f"sequences over {_MAX_LENGTH} bp cannot be sketched")
    circular = topology == "circular"
    hashes, reverse = _kmers(seq, k, circular)
    positions = np.arange(hashes.size, dtype=np.int64)
    if window > 1 and hashes.size:
        ext = np.concatenate((hashes, hashes[: window - 1])) if circular else hashes
        if ext.size >= window:
            windows = np.lib.stride_tricks.sliding_window_view(ext, window)
            starts, offsets = np.nonzero(windows == windows.min(axis=1)[:, None])
            positions = np.unique((starts + offsets) % hashes.size)
        else:
            positions = np.flatnonzero(hashes == hashes.min())
    positions = positions[hashes[positions] != _SENTINEL]
    order = np.lexsort((positions, hashes[positions]))
    positions = positions[order]
    sites = positions.astype(_U32) | reverse[positions]
    return Sketch(
        k=k,
        window=window,
        topology="circular" if circular else "linear",
        length=n,
        hashes=hashes[positions].astype("<u4").tobytes(),
        sites=sites.astype("<u4").tobytes(),
    )


def has_kmers(query: str, k: int = DEFAULT_K) -> bool:
    """Return whether ``query`` holds a k-mer of A, C, G and T only, which the index can seed.

    Examples
    --------
    >>> has_kmers("ACGTACGTACGTACGT"), has_kmers("ACGTACGTNACGTACGTA")
    (True, False)
    """
    hashes, _ = _kmers(query, k, circular=False)
    return bool((hashes != _SENTINEL).any())


def _check_params(k: int, window: int) -> None:
    if not 1 <= k <= 16:
        raise ValidationError(f"k must be between 1 and 16, got {k}", field="k")
    if window < 1:
        raise ValidationError(f"window must be at least 1, got {window}", field="window")


def _expand(starts: _I64Array, lengths: _I64Array) -> _I64Array:
    """Return the concatenation of ``arange(s, s + n)`` for each start and length."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


@dataclass(frozen=True, slots=True)
class _Segment:
    """An immutable part of the inverted index, in compressed sparse row form.

    Postings ``offsets[i]:offsets[i + 1]`` (entry slot and site) hold ``hashes[i]``.
    """

    hashes: _U32Array
    offsets: _I64Array
    slots: npt.NDArray[np.int32]
    sites: _U32Array

    @property
    def nbytes(self) -> int:
        arrays = (self.hashes, self.offsets, self.slots, self.sites)
        return sum(int(a.nbytes) for a in arrays)

    def __len__(self) -> int:
        return int(self.slots.size)

    @classmethod
    def build(cls, hashes: _U32Array, slots: npt.NDArray[np.int32], sites: _U32Array) -> _Segment:
        order = np.argsort(hashes, kind="stable")
        hashes, slots, sites = hashes[order], slots[order], sites[order]
        bounds = np.flatnonzero(hashes[1:] != hashes[:-1]) + 1
        starts = np.concatenate(([0], bounds, [hashes.size])).astype(np.int64)
        return cls(hashes[starts[:-1]], starts, slots, sites)

    def postings(self) -> tuple[_U32Array, npt.NDArray[np.int32], _U32Array]:
        """Return the expanded ``(hash, slot, site)`` triples."""
        return np.repeat(self.hashes, np.diff(self.offsets)), self.slots, self.sites

    def lookup(self, query: _U32Array) -> tuple[_I64Array, _I64Array]:
        """Return ``(query index, posting index)`` of every posting whose hash is in ``query``."""
        if self.hashes.size == 0 or query.size == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        idx = np.searchsorted(self.hashes, query)
        q = np.flatnonzero(idx < self.hashes.size)
        q = q[self.hashes[idx[q]] == query[q]]
        starts, ends = self.offsets[idx[q]], self.offsets[idx[q] + 1]
        return np.repeat(q, ends - starts), _expand(starts, ends - starts)


_SUB_LINK: Final = 32  # diagonals between seeds of one run (small indels)
_RELATED: Final = 32  # minimizer spacings between seeds still taken as a related stretch
_UNRELATED = 12
_PREDECESSORS: Final = 16  # earlier runs a run may chain to


class _Runs(NamedTuple):
    """Seed runs (or chains of runs): one row per run."""

    group: _I64Array  # 2 * slot + (1 if minus strand)
    estimate: _I64Array
    q_lo: _I64Array
    q_hi: _I64Array
    d_lo: _I64Array
    d_hi: _I64Array
    seeds: _I64Array


def _stretch(gap: _I64Array, match: int, mismatch: int, window: int) -> _I64Array:
    """Score a stretch of ``gap`` query bases between seeds: related first, unrelated beyond.

    The related part is ``_RELATED`` times the mean spacing of minimizers.
    """
    related = np.minimum(gap, _RELATED * (window + 1) // 2)
    return related * match // 2 + (gap - related) * mismatch // _UNRELATED


def _segmented_max_run(gain: _I64Array, first: _I64Array, sizes: _I64Array) -> _I64Array:
    """Return the best sum of consecutive ``gain`` within each segment (starting at ``first``).

    Each element's gain counts whole; a run may start at any element of its segment.
    """
    total = np.cumsum(gain)
    before = total - gain
    prefix = before - np.repeat(before[first], sizes)  # within-segment sum before each element
    segment = np.repeat(np.arange(first.size), sizes)
    spread = int(prefix.max() - prefix.min()) + 1
    lowest = np.minimum.accumulate(prefix - segment * spread) + segment * spread
    return np.maximum.reduceat(prefix + gain - lowest, first)


def _wrap(delta: _I64Array, length: _I64Array, circular: npt.NDArray[np.bool_]) -> _I64Array:
    """Return diagonal differences, taken the short way round on circular targets."""
    if not circular.any():
        return delta
    n = np.maximum(length, 1)
    return np.where(circular, (delta + n // 2) % n - n // 2, delta)


def _chain_runs(
    runs: _Runs,
    circular_length: _I64Array,
    k: int,
    window: int,
    match: int,
    mismatch: int,
    gap_open: int,
    gap_extend: int,
) -> _Runs:
    """Chain runs across indels (level 2) and return the best chain of each group.

    A dynamic programme over the runs of each group in query order, each run
    looking back at most ``_PREDECESSORS`` runs (as minimap2 does), vectorised
    across groups. ``circular_length`` is the length of circular slots, else 0.
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
    for p in range(1, int(sizes.max())):
        j = by_rank[bounds[p] : bounds[p + 1]]
        best = np.full(j.size, np.iinfo(np.int64).min)
        via = j.copy()
        for h in range(1, min(p, _PREDECESSORS) + 1):
            i = j - h
            overlap = np.maximum(r.q_hi[i] - r.q_lo[j], 0)
            shift = _wrap(r.d_lo[j] - r.d_hi[i], length[j], circular[j])
            # an indel of |shift| bases; on a linear target the target must also advance
            t_gap = np.where(minus[j], -shift, shift) + (r.q_lo[j] - r.q_hi[i])
            ok = (overlap <= k) & (np.abs(shift) <= LINK) & (circular[j] | (t_gap >= -k))
            value = (
                score[i]
                + _stretch(np.maximum(r.q_lo[j] - r.q_hi[i], 0), match, mismatch, window)
                - overlap * match
                - np.where(shift != 0, gap_open + gap_extend * np.abs(shift), 0)
            )
            better = ok & (value > best)
            best = np.where(better, value, best)
            via = np.where(better, i, via)
        join = best > 0
        jj, ii = j[join], via[join]
        score[jj] += best[join]
        q_lo[jj] = q_lo[ii]
        # keep the diagonal extent next to this run's diagonals (circular: no jump at the origin)
        moved = _wrap(d_lo[ii] - r.d_lo[jj], length[jj], circular[jj]) + r.d_lo[jj] - d_lo[ii]
        d_lo[jj] = np.minimum(d_lo[jj], d_lo[ii] + moved)
        d_hi[jj] = np.maximum(d_hi[jj], d_hi[ii] + moved)
        seeds[jj] += seeds[ii]
    pick = np.lexsort((-score, r.group))
    pick = pick[np.flatnonzero(np.diff(r.group[pick], prepend=-1))]
    return _Runs(
        r.group[pick], score[pick], q_lo[pick], r.q_hi[pick], d_lo[pick], d_hi[pick], seeds[pick]
    )


_FLUSH_POSTINGS: Final = 1 << 16
"""Pending postings are sorted into a new segment once this many accumulate."""


@dataclass(frozen=True, slots=True)
class SeedChain:
    """Seeds of one entry on one strand that lie along one diagonal band.

    ``strand`` -1 means the query's reverse complement matches. ``query_start``
    and ``query_end`` bound the seeds on the query as aligned (reverse
    complemented for strand -1). ``offset_low``/``offset_high`` bound target
    position minus that query position over the seeds (modulo the length of a
    circular target): the target window ``offset_low .. offset_high + len(query)``
    holds the match.
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
class _Query:
    """The k-mers of a query: distinct hashes, and per hash its positions and reverse flags."""

    hashes: _U32Array
    offsets: _I64Array
    positions: _I64Array
    reverse: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, query: str, k: int) -> _Query:
        hashes, reverse = _kmers(query, k, circular=False)
        positions = np.flatnonzero(hashes != _SENTINEL)
        positions = positions[np.argsort(hashes[positions], kind="stable")]
        ordered = hashes[positions]
        bounds = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        starts = np.concatenate(([0], bounds, [ordered.size])).astype(np.int64)
        return cls(ordered[starts[:-1]], starts, positions, reverse[positions] != 0)


class KmerIndex:
    """An inverted index from minimizer hash to bank entries, updated in place.

    The index is a short list of immutable sorted segments plus a buffer of
    recent additions, like a log-structured merge tree: :meth:`add` appends
    the sketch to the buffer; a full buffer (or the next query) is sorted into
    a new segment, and a segment is merged with the one before it while that
    one is less than twice its size. Adding an entry therefore never rebuilds
    the index, and each posting is re-sorted ``O(log n)`` times over the life
    of the index. :meth:`remove` marks the entry dead; its postings are dropped
    by the next merge that touches them, and everything is compacted once dead
    postings outnumber live ones.

    Parameters
    ----------
    k, window
        The sketch parameters; every added sketch must use the same ones.

    Examples
    --------
    >>> index = KmerIndex()
    >>> index.add(1, sketch("ACGTTGCATGTCGCATGATGCATGAGAGTTAAGCTTGGCAT", "linear"))
    >>> index.add(2, sketch("TTTTTTTTTTGGGGGGGGGGCCCCCCCCCCAAAAAAAAAA", "linear"))
    >>> index.candidates("CATGTCGCATGATGCATGAGAGTT", limit=5)
    [(1, 2)]
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
        self._slot_length = np.empty(0, dtype=np.int64)
        self._slot_circular = np.empty(0, dtype=bool)
        self._pending: list[tuple[int, _U32Array, _U32Array]] = []
        self._pending_postings = 0
        self._segments: list[_Segment] = []
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
            f"{self._live_postings} postings, {len(self._segments)} segments)"
        )

    @property
    def postings(self) -> int:
        """Number of live (minimizer, entry, position) postings."""
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
        return pending + sum(a.nbytes for a in per_slot) + sum(s.nbytes for s in self._segments)

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
        if len(sketch):
            hashes, sites = sketch.arrays()
            self._pending.append((slot, hashes, sites))
            self._pending_postings += len(sketch)
            self._live_postings += len(sketch)
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
    ) -> list[SeedChain]:
        """Return the best seed chain of each entry and strand, best estimate first.

        A seed is a minimizer of the entry that is a k-mer of the query or of
        its reverse complement. Seeds are chained in two levels, and each
        level is scored as a local alignment would be (its best-scoring run):

        1. seeds of one entry and strand whose diagonals (target minus query
           position) are within :data:`_SUB_LINK` of each other form a run;
           along the query a seed gains ``match`` per base it newly covers,
           and the stretch since the previous seed gains ``match / 2`` per
           base (diverged but related) for its first ``_RELATED`` bases and
           ``mismatch / 3`` per base (unrelated) beyond;
        2. runs that follow each other along the query and whose diagonals
           differ by at most :data:`LINK` join as across an indel, paying
           ``gap_open + gap_extend * |shift|`` and the stretch between them.

        Parameters
        ----------
        query
            IUPAC DNA; k-mers holding an ambiguity code are ignored.
        limit
            Largest number of chains to return.
        scores
            ``(match, mismatch, gap_open, gap_extend)`` of the alignment to estimate.

        Returns
        -------
        list of SeedChain
            At most ``limit``, by estimated score (descending), then key, then strand.

        Raises
        ------
        InvalidSequenceError
            If the query holds a non-IUPAC symbol.
        """
        match, mismatch, gap_open, gap_extend = scores
        query = validate_dna(query)
        q = _Query.of(query, self._k)
        self._flush()
        if limit <= 0:
            return []
        parts = [self._seeds(q, segment) for segment in self._segments]
        if not parts or sum(p[0].size for p in parts) == 0:
            return []
        group, q_pos, diagonal = (np.concatenate([p[i] for p in parts]) for i in range(3))
        runs = self._runs(group, q_pos, diagonal, match, mismatch)
        span = np.where(self._slot_circular, self._slot_length, 0)[: self._n_slots]
        best = _chain_runs(runs, span, self._k, self._window, match, mismatch, gap_open, gap_extend)
        minus = (best.group & 1).astype(bool)
        key_of = self._slot_key[best.group >> 1]
        ranked = np.lexsort((minus, key_of, -best.estimate))[:limit]
        n = len(query)
        out = []
        for i in ranked.tolist():
            strand: Literal[1, -1] = -1 if minus[i] else 1
            lo, hi = int(best.q_lo[i]), int(best.q_hi[i])
            offset_lo, offset_hi = int(best.d_lo[i]), int(best.d_hi[i])
            if strand == -1:  # to coordinates on the reverse complement of the query
                lo, hi = n - hi, n - lo
                offset_lo, offset_hi = offset_lo - n + self._k, offset_hi - n + self._k
            out.append(
                SeedChain(
                    key=int(key_of[i]),
                    strand=strand,
                    seeds=int(best.seeds[i]),
                    query_start=lo,
                    query_end=hi,
                    offset_low=offset_lo,
                    offset_high=offset_hi,
                    estimated_score=int(best.estimate[i]),
                )
            )
        return out

    def _runs(
        self,
        group: _I64Array,
        q_pos: _I64Array,
        diagonal: _I64Array,
        match: int,
        mismatch: int,
    ) -> _Runs:
        """Cluster the seeds of each group along diagonals into runs and score them (level 1).

        Seeds sorted by diagonal stay in one run while consecutive diagonals
        differ by at most :data:`_SUB_LINK` (small indels); each run is then
        scored along the query. On a circular target, seeds near diagonal 0
        are also placed one turn further, so a run may straddle it.
        """
        slot = group >> 1
        wrap = self._slot_circular[slot] & (diagonal < _SUB_LINK)
        if wrap.any():
            group = np.concatenate((group, group[wrap]))
            q_pos = np.concatenate((q_pos, q_pos[wrap]))
            diagonal = np.concatenate((diagonal, diagonal[wrap] + self._slot_length[slot[wrap]]))
        order = np.argsort((group << 34) | (diagonal + (1 << 32)))
        group, q_pos, diagonal = group[order], q_pos[order], diagonal[order]
        starts = np.ones(group.size, dtype=bool)
        starts[1:] = (group[1:] != group[:-1]) | (np.diff(diagonal) > _SUB_LINK)
        run = np.cumsum(starts) - 1
        first = np.flatnonzero(starts)
        sizes = np.diff(np.append(first, group.size))
        last = first + sizes - 1
        d_lo, d_hi, run_group = diagonal[first], diagonal[last], group[first]
        # along the query within each run
        q_pos = np.sort((run << 24) | q_pos) & ((1 << 24) - 1)
        step = np.diff(q_pos, prepend=0)
        step[first] = self._k
        gain = np.minimum(step, self._k) * match + _stretch(
            np.maximum(step - self._k, 0), match, mismatch, self._window
        )
        estimate = _segmented_max_run(gain, first, sizes)
        return _Runs(run_group, estimate, q_pos[first], q_pos[last] + self._k, d_lo, d_hi, sizes)

    def _seeds(self, q: _Query, segment: _Segment) -> tuple[_I64Array, _I64Array, _I64Array]:
        """Return one segment's seeds: group ``2 * slot + minus``, query position, diagonal.

        The diagonal is target minus query position on the plus strand, their
        sum on the minus strand, modulo the length of a circular target.
        """
        qi, pi = segment.lookup(q.hashes)
        slots = segment.slots[pi].astype(np.int64)
        alive = self._slot_alive[slots]
        if not alive.all():
            qi, pi, slots = qi[alive], pi[alive], slots[alive]
        counts = q.offsets[qi + 1] - q.offsets[qi]
        occurrence = q.offsets[qi]
        if counts.size and counts.max() > 1:  # repeated query k-mers: one seed per position
            occurrence = _expand(occurrence, counts)
            pi, slots = np.repeat(pi, counts), np.repeat(slots, counts)
        sites = segment.sites[pi]
        t_pos = (sites & ~_REVERSE).astype(np.int64)
        is_minus = ((sites & _REVERSE) != 0) != q.reverse[occurrence]
        q_pos = q.positions[occurrence]
        diagonal = np.where(is_minus, t_pos + q_pos, t_pos - q_pos)
        circular = self._slot_circular[slots]
        outside = circular & ((diagonal < 0) | (diagonal >= self._slot_length[slots]))
        if outside.any():
            diagonal[outside] %= self._slot_length[slots[outside]]
        return 2 * slots + is_minus, q_pos, diagonal

    def compact(self) -> None:
        """Merge every segment into one, dropping removed entries and renumbering slots."""
        self._flush()
        alive = np.flatnonzero(self._slot_alive[: self._n_slots])
        renumber = np.full(self._n_slots, -1, dtype=np.int32)
        renumber[alive] = np.arange(alive.size, dtype=np.int32)
        parts = [s.postings() for s in self._segments]
        self._segments = []
        if parts:
            hashes = np.concatenate([h for h, _, _ in parts])
            slots = renumber[np.concatenate([s for _, s, _ in parts])]
            sites = np.concatenate([t for _, _, t in parts])
            keep = slots >= 0
            if keep.any():
                self._segments = [_Segment.build(hashes[keep], slots[keep], sites[keep])]
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
        if not self._pending:
            return
        hashes = np.concatenate([h for _, h, _ in self._pending])
        sites = np.concatenate([s for _, _, s in self._pending])
        slots = np.repeat(
            np.array([slot for slot, _, _ in self._pending], dtype=np.int32),
            [h.size for _, h, _ in self._pending],
        )
        self._pending, self._pending_postings = [], 0
        self._segments.append(_Segment.build(hashes, slots, sites))
        while len(self._segments) > 1 and len(self._segments[-2]) < 2 * len(self._segments[-1]):
            newer = self._segments.pop()
            older = self._segments.pop()
            self._segments.append(self._merge(older, newer))

    def _merge(self, older: _Segment, newer: _Segment) -> _Segment:
        parts = (older.postings(), newer.postings())
        hashes = np.concatenate([h for h, _, _ in parts])
        slots = np.concatenate([s for _, s, _ in parts])
        sites = np.concatenate([t for _, _, t in parts])
        live = self._slot_alive[slots]
        self._dead_postings -= int(live.size - np.count_nonzero(live))
        return _Segment.build(hashes[live], slots[live], sites[live])
