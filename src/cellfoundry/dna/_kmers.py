"""Canonical k-mer sketches and an incrementally updated inverted index over them.

The prefilter of :mod:`cellfoundry.dna.similarity`. A target is reduced to the
set of its canonical k-mer *minimizers* (:func:`sketch`); a query is reduced to
the set of all its canonical k-mers; the candidates are the targets that share
the most of their minimizers with the query.

Minimizers, not every k-mer, because the sketch is stored per bank entry and
the index is held in memory: with ``window=8`` about one k-mer in four or five
is kept, and every exact match of ``window + k - 1`` bases or more between
query and target still shares at least one of them (the winnowing guarantee).
A k-mer and its reverse complement hash to the same value, so one sketch
serves both strands.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.sequence import Topology, validate_dna

__all__ = ["DEFAULT_K", "DEFAULT_WINDOW", "KmerIndex", "Sketch", "query_kmers", "sketch"]

DEFAULT_K: Final = 16
"""k-mer length; 16 is the longest that packs into 32 bits (2 bits per base)."""
DEFAULT_WINDOW: Final = 8
"""Minimizer window, in consecutive k-mers: one k-mer is kept per window."""

_U32 = np.uint32
_HashArray = npt.NDArray[np.uint32]
_SENTINEL: Final = np.uint32(0xFFFFFFFF)  # k-mers holding a non-ACGT base
_CODES = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODES[_b] = _i
    _CODES[ord(chr(_b).lower())] = _i
_CODES.setflags(write=False)
_MAGIC: Final = b"CFSK"
_HEADER = struct.Struct("<4sBBBxQI")  # magic, version, k, window, pad, length, count
_VERSION: Final = 1


def _mix32(x: _HashArray) -> _HashArray:
    """Scramble 32-bit values with the murmur3 finalizer (a bijection on uint32)."""
    x = x ^ (x >> _U32(16))
    x = x * _U32(0x85EBCA6B)
    x = x ^ (x >> _U32(13))
    x = x * _U32(0xC2B2AE35)
    return x ^ (x >> _U32(16))


def _kmer_hashes(seq: str, k: int, topology: Topology) -> _HashArray:
    """Return the mixed canonical hash of the k-mer starting at each position.

    Positions whose k-mer holds a non-ACGT base get the sentinel. A circular
    sequence has one k-mer per base, including those across the origin.
    """
    n = len(seq)
    if topology == "circular" and n > 0:
        reps = -(-(n + k - 1) // n)
        seq = (seq * reps)[: n + k - 1]
    codes = _CODES[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    m = len(codes) - k + 1
    if m <= 0:
        return np.empty(0, dtype=_U32)
    fwd = np.zeros(m, dtype=_U32)
    rev = np.zeros(m, dtype=_U32)
    for j in range(k):
        c = codes[j : j + m].astype(_U32) & _U32(3)
        fwd = (fwd << _U32(2)) | c
        rev = rev | ((_U32(3) - c) << _U32(2 * j))
    canonical = _mix32(np.minimum(fwd, rev))
    bad = np.concatenate(([0], np.cumsum(codes == 4, dtype=np.int64)))
    canonical[(bad[k:] - bad[:m]) > 0] = _SENTINEL
    return canonical


def query_kmers(query: str, *, k: int = DEFAULT_K) -> _HashArray:
    """Return the sorted distinct canonical k-mer hashes of a (linear) query.

    Examples
    --------
    >>> from cellfoundry.core.sequence import reverse_complement
    >>> seq = "ACGTTGCATGTCGCATGATGCATGAGAG"
    >>> query_kmers(seq).size
    13
    >>> bool((query_kmers(seq) == query_kmers(reverse_complement(seq))).all())
    True
    """
    h = _kmer_hashes(query, k, "linear")
    h = np.unique(h)
    return h[h != _SENTINEL]


@dataclass(frozen=True, slots=True)
class Sketch:
    """The minimizer content of one target sequence, compact enough to store as a BLOB.

    ``hashes`` holds the sorted distinct mixed canonical k-mer hashes as
    little-endian uint32 bytes; use :attr:`values` for a numpy view.
    """

    k: int
    window: int
    length: int
    hashes: bytes

    def __post_init__(self) -> None:
        if len(self.hashes) % 4:
            raise ValidationError("sketch hashes must be a whole number of uint32 values")

    @property
    def values(self) -> _HashArray:
        """The hashes as a read-only numpy array (no copy)."""
        return np.frombuffer(self.hashes, dtype="<u4").astype(_U32, copy=False)

    def __len__(self) -> int:
        return len(self.hashes) // 4

    def __repr__(self) -> str:
        return f"Sketch(k={self.k}, window={self.window}, {self.length} bp, {len(self)} minimizers)"

    def to_bytes(self) -> bytes:
        """Serialize to a self-describing byte string (header + raw hashes).

        Examples
        --------
        >>> s = sketch("ATGAAACGCATTAGCACCACCATTACCACCACCATCACC", "circular")
        >>> Sketch.from_bytes(s.to_bytes()) == s
        True
        """
        header = _HEADER.pack(_MAGIC, _VERSION, self.k, self.window, self.length, len(self))
        return header + self.hashes

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
        magic, version, k, window, length, count = _HEADER.unpack_from(data)
        if magic != _MAGIC or version != _VERSION:
            raise ValidationError(
                f"not a version-{_VERSION} sequence sketch (magic {magic!r}, version {version});"
                " recompute the sketch from the sequence"
            )
        body = bytes(data[_HEADER.size :])
        if len(body) != 4 * count:
            raise ValidationError(
                f"sketch bytes hold {len(body)} bytes of hashes, the header says {4 * count}"
            )
        return cls(k=k, window=window, length=length, hashes=body)


def sketch(
    sequence: str,
    topology: Topology,
    *,
    k: int = DEFAULT_K,
    window: int = DEFAULT_WINDOW,
) -> Sketch:
    """Return the canonical k-mer minimizers of a target sequence.

    In every run of ``window`` consecutive k-mers the one with the smallest
    hash is kept (all of them on a tie). K-mers holding an ambiguity code are
    skipped. For a circular sequence the k-mers and windows across the origin
    are included, so the sketch does not depend on where the plasmid was
    opened; it does not depend on the strand either (canonical k-mers).

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
        Sorted distinct hashes; empty for a linear sequence shorter than ``k``.

    Raises
    ------
    InvalidSequenceError
        If the sequence holds a non-IUPAC symbol.
    ValidationError
        If ``k`` or ``window`` is out of range.

    References
    ----------
    Roberts et al. (2004), "Reducing storage requirements for biological
    sequence comparison", Bioinformatics 20:3363 (minimizers).

    Examples
    --------
    >>> from cellfoundry.core.sequence import reverse_complement
    >>> seq = "GGTCTCAAATGACCATGATTACGCCAAGCTTGCATGCCTGCAGGTCGACTCTAGAGGATCC"
    >>> s = sketch(seq, "circular", window=4)
    >>> s == sketch(reverse_complement(seq), "circular", window=4)
    True
    >>> s == sketch(seq[20:] + seq[:20], "circular", window=4)
    True
    """
    _check_params(k, window)
    seq = validate_dna(sequence)
    h = _kmer_hashes(seq, k, topology)
    if window > 1 and h.size:
        if topology == "circular":
            h = np.concatenate((h, h[: window - 1]))
        if h.size >= window:
            windows = np.lib.stride_tricks.sliding_window_view(h, window)
            mins = windows.min(axis=1)
            h = windows[windows == mins[:, None]]
        else:
            h = h[h == h.min()]
    h = np.unique(h)
    h = h[h != _SENTINEL]
    return Sketch(k=k, window=window, length=len(seq), hashes=h.astype("<u4").tobytes())


def _check_params(k: int, window: int) -> None:
    if not 1 <= k <= 16:
        raise ValidationError(f"k must be between 1 and 16, got {k}", field="k")
    if window < 1:
        raise ValidationError(f"window must be at least 1, got {window}", field="window")


@dataclass(frozen=True, slots=True)
class _Segment:
    """An immutable part of the inverted index, in compressed sparse row form.

    ``slots[offsets[i]:offsets[i + 1]]`` are the entries holding ``hashes[i]``.
    """

    hashes: _HashArray
    offsets: npt.NDArray[np.int64]
    slots: npt.NDArray[np.int32]

    @property
    def nbytes(self) -> int:
        return int(self.hashes.nbytes + self.offsets.nbytes + self.slots.nbytes)

    def __len__(self) -> int:
        return int(self.slots.size)

    @classmethod
    def build(cls, hashes: _HashArray, slots: npt.NDArray[np.int32]) -> _Segment:
        order = np.argsort(hashes, kind="stable")
        hashes, slots = hashes[order], slots[order]
        bounds = np.flatnonzero(hashes[1:] != hashes[:-1]) + 1
        starts = np.concatenate(([0], bounds, [hashes.size])).astype(np.int64)
        unique = hashes[starts[:-1]] if hashes.size else hashes
        return cls(unique, starts, slots)

    def postings(self) -> tuple[_HashArray, npt.NDArray[np.int32]]:
        """Return the expanded ``(hash, slot)`` pairs."""
        return np.repeat(self.hashes, np.diff(self.offsets)), self.slots

    def lookup(self, query: _HashArray) -> npt.NDArray[np.int32]:
        """Return the slots of every posting whose hash is in ``query``."""
        if self.hashes.size == 0 or query.size == 0:
            return np.empty(0, dtype=np.int32)
        idx = np.searchsorted(self.hashes, query)
        inside = idx < self.hashes.size
        idx, query = idx[inside], query[inside]
        idx = idx[self.hashes[idx] == query]
        starts, ends = self.offsets[idx], self.offsets[idx + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.empty(0, dtype=np.int32)
        shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return self.slots[np.arange(total, dtype=np.int64) + shift]


_FLUSH_POSTINGS: Final = 1 << 16
"""Pending postings frozen into a new segment once this many accumulate."""


class KmerIndex:
    """An inverted index from minimizer hash to bank entries, updated in place.

    The index is a short list of immutable sorted segments plus a buffer of
    recent additions, like a log-structured merge tree: :meth:`add` appends
    the sketch to the buffer; a full buffer (or the next query) is sorted into
    a new segment, and a segment is merged with the one before it once that
    one is no longer at least twice its size. Adding an entry therefore never
    rebuilds the index; each posting is re-sorted ``O(log n)`` times over the
    life of the index. :meth:`remove` marks the entry dead; its postings are
    dropped at the next merge that touches them, and all segments are
    compacted once dead postings outnumber live ones.

    Parameters
    ----------
    k, window
        The sketch parameters; every added sketch must use the same ones.

    Examples
    --------
    >>> index = KmerIndex()
    >>> index.add(1, sketch("ACGTTGCATGTCGCATGATGCATGAGAGTTAAGCTTGGCAT", "linear"))
    >>> index.add(2, sketch("TTTTTTTTTTGGGGGGGGGGCCCCCCCCCCAAAAAAAAAA", "linear"))
    >>> index.candidates("CATGTCGCATGATGCATGAGAGTT", limit=5)[0][0]
    1
    >>> index.remove(1)
    >>> len(index), 1 in index
    (1, False)
    """

    def __init__(self, *, k: int = DEFAULT_K, window: int = DEFAULT_WINDOW) -> None:
        _check_params(k, window)
        self._k = k
        self._window = window
        self._key_slot: dict[int, int] = {}
        self._slot_key = np.empty(0, dtype=np.int64)
        self._slot_alive = np.empty(0, dtype=bool)
        self._slot_postings = np.empty(0, dtype=np.int64)
        self._n_slots = 0
        self._pending: list[tuple[int, _HashArray]] = []
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
            f"{self.postings} postings in {len(self._segments)} segments)"
        )

    @property
    def postings(self) -> int:
        """Number of live (hash, entry) pairs."""
        return self._live_postings

    @property
    def nbytes(self) -> int:
        """Approximate memory held by the index arrays, in bytes."""
        pending = sum(h.nbytes for _, h in self._pending)
        slots = self._slot_key.nbytes + self._slot_alive.nbytes + self._slot_postings.nbytes
        return pending + slots + sum(s.nbytes for s in self._segments)

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
                f"sketch made with k={sketch.k}, window={sketch.window} cannot join an index"
                f" with k={self._k}, window={self._window}; recompute it",
                field="sketch",
            )
        slot = self._new_slot(key, len(sketch))
        self._live_postings += len(sketch)
        if len(sketch):
            self._pending.append((slot, sketch.values))
            self._pending_postings += len(sketch)
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
        self._live_postings -= int(self._slot_postings[slot])
        pending = [p for p in self._pending if p[0] != slot]
        if len(pending) != len(self._pending):
            self._pending = pending
            self._pending_postings -= int(self._slot_postings[slot])
        else:
            self._dead_postings += int(self._slot_postings[slot])
        if self._dead_postings > max(self._live_postings, _FLUSH_POSTINGS):
            self.compact()

    def candidates(self, query: str, *, limit: int) -> list[tuple[int, int]]:
        """Return the entries sharing the most minimizers with ``query``, either strand.

        Parameters
        ----------
        query
            IUPAC DNA; k-mers holding an ambiguity code are ignored.
        limit
            Largest number of candidates to return.

        Returns
        -------
        list of (key, count)
            ``count`` is the number of the entry's minimizers that are k-mers of
            the query or of its reverse complement; ordered by count
            (descending), then key. Entries sharing nothing are left out.

        Raises
        ------
        InvalidSequenceError
            If the query holds a non-IUPAC symbol.
        """
        counts = self.shared_counts(query)
        hit = np.flatnonzero(counts)
        if hit.size == 0 or limit <= 0:
            return []
        keys, shared = self._slot_key[hit], counts[hit]
        if hit.size > limit:
            # keep every entry tied with the limit-th count, then sort exactly
            cut = np.partition(shared, hit.size - limit)[hit.size - limit]
            keep = shared >= cut
            keys, shared = keys[keep], shared[keep]
        order = np.lexsort((keys, -shared))[:limit]
        return [(int(keys[i]), int(shared[i])) for i in order]

    def shared_counts(self, query: str) -> npt.NDArray[np.int64]:
        """Return, per internal slot, how many of its minimizers are query k-mers (0 if dead)."""
        q = query_kmers(validate_dna(query), k=self._k)
        self._flush()
        counts = np.zeros(self._n_slots, dtype=np.int64)
        for segment in self._segments:
            slots = segment.lookup(q)
            if slots.size:
                counts += np.bincount(slots, minlength=self._n_slots)
        counts[~self._slot_alive[: self._n_slots]] = 0
        return counts

    def compact(self) -> None:
        """Merge every segment into one, dropping removed entries and renumbering slots."""
        self._flush()
        alive = np.flatnonzero(self._slot_alive[: self._n_slots])
        renumber = np.full(self._n_slots, -1, dtype=np.int32)
        renumber[alive] = np.arange(alive.size, dtype=np.int32)
        parts = [s.postings() for s in self._segments]
        hashes = np.concatenate([h for h, _ in parts]) if parts else np.empty(0, _U32)
        slots = np.concatenate([s for _, s in parts]) if parts else np.empty(0, np.int32)
        slots = renumber[slots]
        keep = slots >= 0
        self._segments = [_Segment.build(hashes[keep], slots[keep])] if keep.any() else []
        self._slot_key = self._slot_key[alive].copy()
        self._slot_postings = self._slot_postings[alive].copy()
        self._slot_alive = np.ones(alive.size, dtype=bool)
        self._n_slots = int(alive.size)
        self._key_slot = {int(key): i for i, key in enumerate(self._slot_key)}
        self._dead_postings = 0

    def _new_slot(self, key: int, postings: int) -> int:
        slot = self._n_slots
        if slot == self._slot_key.size:
            size = max(64, 2 * slot)
            self._slot_key = np.resize(self._slot_key, size)
            self._slot_alive = np.resize(self._slot_alive, size)
            self._slot_postings = np.resize(self._slot_postings, size)
        self._slot_key[slot] = key
        self._slot_alive[slot] = True
        self._slot_postings[slot] = postings
        self._n_slots += 1
        self._key_slot[key] = slot
        return slot

    def _flush(self) -> None:
        if not self._pending:
            return
        hashes = np.concatenate([h for _, h in self._pending])
        slots = np.repeat(
            np.array([s for s, _ in self._pending], dtype=np.int32),
            [h.size for _, h in self._pending],
        )
        self._pending, self._pending_postings = [], 0
        self._segments.append(_Segment.build(hashes, slots))
        while len(self._segments) > 1 and len(self._segments[-2]) < 2 * len(self._segments[-1]):
            newer = self._segments.pop()
            older = self._segments.pop()
            self._segments.append(self._merge(older, newer))

    def _merge(self, older: _Segment, newer: _Segment) -> _Segment:
        h1, s1 = older.postings()
        h2, s2 = newer.postings()
        hashes, slots = np.concatenate((h1, h2)), np.concatenate((s1, s2))
        live = self._slot_alive[slots]
        self._dead_postings -= int(live.size - live.sum())
        return _Segment.build(hashes[live], slots[live])
