"""Canonical k-mer minimizer sketches of DNA sequences.

A target is reduced to its canonical k-mer *minimizers* with their positions
(:func:`sketch`): in every run of ``window`` consecutive k-mers, the one with
the smallest hash. With ``window=12`` about one k-mer in 6.5 is kept
(``2 / (window + 1)``), and every exact match of ``window + k - 1`` bases
or more between two sequences still holds a common minimizer (the
winnowing guarantee). A k-mer and its
reverse complement hash to the same value, so one sketch serves both strands.
The :class:`Sketch` is what the bank stores per entry (as a BLOB) so that
:class:`~cellfoundry.dna.KmerIndex` can be rebuilt at startup without reading
the sequences.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Topology, validate_dna

__all__ = ["DEFAULT_K", "DEFAULT_WINDOW", "QueryKmers", "Sketch", "has_kmers", "sketch"]

DEFAULT_K: Final = 16
"""k-mer length; 16 is the longest that packs into 32 bits (2 bits per base)."""
DEFAULT_WINDOW: Final = 12
"""Minimizer window, in consecutive k-mers."""

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

    ``sites`` holds the start of each minimizer on the forward strand, in
    increasing order (little-endian uint32), with bit 31 set when the
    canonical k-mer is the reverse complement; ``hashes`` the matching k-mer
    hashes. Use :meth:`arrays` for numpy views.
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
    >>> minimizers = sorted(s.arrays()[0])
    >>> minimizers == sorted(sketch(reverse_complement(seq), "circular", window=4).arrays()[0])
    True
    >>> minimizers == sorted(sketch(seq[20:] + seq[:20], "circular", window=4).arrays()[0])
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


_BUCKET_BITS: Final = 18  # the query's hash table has 2**18 buckets
_BUCKET_SHIFT: Final = np.uint32(32 - _BUCKET_BITS)


@dataclass(frozen=True, slots=True)
class QueryKmers:
    """The canonical k-mers of a query, and a hash table to find them fast.

    ``hashes`` are the distinct hashes, sorted; the positions of ``hashes[i]``
    in the query are ``positions[offsets[i]:offsets[i + 1]]`` (``reverse``
    tells whether the canonical k-mer is the reverse complement there).
    A hash ``h`` falls in bucket ``h >> 14``: ``occupied`` tells whether a
    query hash does too, ``bucket`` which one (-2 if several).
    """

    k: int
    hashes: _U32Array
    offsets: npt.NDArray[np.int32]
    positions: npt.NDArray[np.int32]
    reverse: npt.NDArray[np.bool_]
    occupied: npt.NDArray[np.bool_]
    bucket: npt.NDArray[np.int32]

    @classmethod
    def of(cls, query: str, k: int) -> QueryKmers:
        """Collect the k-mers of a validated, upper-case (linear) query."""
        hashes, reverse = _kmers(query, k, circular=False)
        positions = np.flatnonzero(hashes != _SENTINEL).astype(np.int32)
        positions = positions[np.argsort(hashes[positions], kind="stable")]
        ordered = hashes[positions]
        bounds = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        starts = np.concatenate(([0], bounds, [ordered.size])).astype(np.int32)
        unique = ordered[starts[:-1]]
        keys = unique >> _BUCKET_SHIFT
        bucket = np.full(1 << _BUCKET_BITS, -1, dtype=np.int32)
        bucket[keys] = np.arange(unique.size, dtype=np.int32)
        bucket[keys[1:][keys[1:] == keys[:-1]]] = -2
        return cls(k, unique, starts, positions, reverse[positions] != 0, bucket != -1, bucket)

    def find(self, hashes: _U32Array) -> tuple[_I64Array, npt.NDArray[np.int32]]:
        """Return ``(i, q)``: the indices into ``hashes`` that are query k-mers, and which."""
        i = np.flatnonzero(np.take(self.occupied, hashes >> _BUCKET_SHIFT))
        h = hashes[i]
        q = np.take(self.bucket, h >> _BUCKET_SHIFT)
        several = np.flatnonzero(q == -2)
        if several.size:
            at = np.searchsorted(self.hashes, h[several])
            at = np.minimum(at, self.hashes.size - 1).astype(np.int32)
            q[several] = np.where(self.hashes[at] == h[several], at, -1)
        hit = q >= 0
        hit[hit] = self.hashes[q[hit]] == h[hit]
        return i[hit], q[hit]


def _expand(starts: _I64Array, lengths: _I64Array) -> _I64Array:
    """Return the concatenation of ``arange(s, s + n)`` for each start and length."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    out: _I64Array = np.arange(total, dtype=np.int64) + shift
    return out
