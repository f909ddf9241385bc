"""DNA similarity search over plasmids, parts and genomes.

A query is compared with the bank in two stages:

1. **Prefilter.** A :class:`KmerIndex` of the targets' canonical k-mer
   minimizers (:func:`sketch`, stored by the bank as a BLOB per entry) ranks
   the entries by how many of their minimizers occur in the query or its
   reverse complement; the best ``candidates`` are kept.
2. **Alignment.** The query and its reverse complement are aligned to every
   candidate with Smith-Waterman local alignment (pyopal, SIMD across targets)
   with BLASTN-like scores: match +2, mismatch -3, gap of length ``n`` costs
   ``5 + 2n``; a pair involving an IUPAC ambiguity code scores -1. Circular
   targets are extended across their origin, so alignments spanning it are
   found. Only the reported hits are re-aligned with traceback.

:func:`align_exhaustive` runs stage 2 alone over every target; it is the
reference :func:`search` is tested and benchmarked against.

Limits. The prefilter only sees targets that share an exact stretch of about
``k + window - 1`` = 23 bases (defaults) with the query, and it ranks by
shared minimizers, not by alignment score: a target whose best local alignment
is made of many short exact runs (below ~90 % identity) can rank below
``candidates`` others and be missed. Raise ``candidates`` to trade speed for
recall.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final, Literal

import pyopal
from scoring_matrices import ScoringMatrix

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.core.sequence import Topology, reverse_complement, validate_dna
from cellfoundry.dna._kmers import (
    DEFAULT_K,
    DEFAULT_WINDOW,
    LINK,
    KmerIndex,
    SeedChain,
    Sketch,
    has_kmers,
    sketch,
)

__all__ = [
    "AMBIGUOUS_SCORE",
    "DEFAULT_CANDIDATES",
    "DEFAULT_K",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_WINDOW",
    "GAP_EXTEND",
    "GAP_OPEN",
    "LINK",
    "MATCH_SCORE",
    "MISMATCH_SCORE",
    "Fetch",
    "Hit",
    "KmerIndex",
    "SeedChain",
    "Sketch",
    "align_exhaustive",
    "search",
    "sketch",
]

MATCH_SCORE: Final = 2
"""Score of two identical bases (A, C, G or T)."""
MISMATCH_SCORE: Final = -3
"""Score of two different bases."""
AMBIGUOUS_SCORE: Final = -1
"""Score of any pair involving an IUPAC ambiguity code (N, R, Y ...)."""
GAP_OPEN: Final = 5
"""Gap existence cost; a gap of length ``n`` costs ``GAP_OPEN + n * GAP_EXTEND``."""
GAP_EXTEND: Final = 2
"""Cost of each base in a gap."""
DEFAULT_CANDIDATES: Final = 200
"""Entries passed from the prefilter to the aligner by default."""
DEFAULT_MIN_SCORE: Final = 50
"""Default lowest reported score. A 2 kb query aligned to 65 Mbp of random DNA
scores at most about 40 by chance (Karlin-Altschul, lambda 0.625, K 0.41)."""

_ALPHABET: Final = "ACGTRYSWKMBDHVN"
_BATCH: Final = 512  # targets fetched and aligned at a time by the exhaustive paths
_PAD: Final = 64  # diagonals added on each side of a chain's window
_VERIFY_EXTRA: Final = 20  # targets beyond `top` re-aligned whole after the window stage
StrandSign = Literal[1, -1]
_STRANDS: Final[tuple[StrandSign, StrandSign]] = (1, -1)
_Item = tuple[int, StrandSign, str]  # key, strand of the query, target sequence
Fetch = Callable[[Sequence[int]], Mapping[int, tuple[str, Topology]]]
"""Returns the sequence and topology of each requested key (missing keys are skipped)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """The best local alignment of a query to one target.

    Coordinates are 0-based and half-open. ``query_start``/``query_end`` are
    on the query as given; ``target_start``/``target_end`` on the target's
    forward strand. ``strand`` is -1 when the query's reverse complement is
    what matches. On a circular target an alignment across the origin has
    ``target_end <= target_start`` (both taken modulo the target length).
    ``identity`` is identical columns over ``alignment_length`` columns
    (gaps included); ``coverage`` is the aligned fraction of the query.
    """

    key: int
    score: int
    strand: StrandSign
    query_start: int
    query_end: int
    target_start: int
    target_end: int
    identity: float
    alignment_length: int
    coverage: float

    def __repr__(self) -> str:
        sign = "+" if self.strand == 1 else "-"
        return (
            f"Hit(key={self.key}, score={self.score}, {sign}, "
            f"query {self.query_start}..{self.query_end}, "
            f"target {self.target_start}..{self.target_end}, "
            f"identity {self.identity:.3f}, coverage {self.coverage:.3f})"
        )


def search(
    query: str,
    index: KmerIndex,
    fetch: Fetch,
    *,
    top: int = 10,
    candidates: int = DEFAULT_CANDIDATES,
    min_identity: float = 0.0,
    min_score: int = DEFAULT_MIN_SCORE,
    threads: int = 0,
    progress: Progress | None = None,
) -> list[Hit]:
    """Find the targets most similar to ``query``, on either strand.

    Parameters
    ----------
    query
        IUPAC DNA, either case.
    index
        The prefilter over the bank's sketches.
    fetch
        Returns ``{key: (sequence, topology)}`` for the requested keys; keys
        it leaves out (deleted meanwhile) are skipped.
    top
        Number of hits to return.
    candidates
        Number of seed chains (entry and strand) the prefilter passes on.
    min_identity
        Drop hits whose alignment identity is lower.
    min_score
        Drop hits scoring lower (see :data:`DEFAULT_MIN_SCORE`).
    threads
        Aligner threads; 0 uses every available CPU.
    progress
        Called with ``(done, total)`` alignments; ``total`` may grow.

    Returns
    -------
    list of Hit
        At most ``top`` hits, by score (descending), then key.

    Raises
    ------
    ValidationError
        If the query is empty or a fetched topology is unknown.
    InvalidSequenceError
        If the query or a fetched target holds a non-IUPAC symbol.

    Notes
    -----
    The candidates' windows are aligned first; the ``top + 20`` best targets
    are then aligned whole on both strands, so their scores are those of
    :func:`align_exhaustive`. A query with no k-mer of plain bases (shorter
    than ``index.k``, or ambiguity codes throughout) cannot use the
    prefilter: it is aligned to every entry of the index, fetched in batches,
    unless ``min_score`` is beyond its reach anyway.

    Examples
    --------
    >>> bank = {
    ...     1: ("GGATCCATGGCTAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGG", "circular"),
    ...     2: ("ATGACCATGATTACGCCAAGCTTGCATGCCTGCAGGTCGACTCTAGAGGATCCCCGGGTACCGAGCTC", "linear"),
    ... }
    >>> index = KmerIndex()
    >>> for key, (seq, topology) in bank.items():
    ...     index.add(key, sketch(seq, topology))
    >>> query = reverse_complement("GAACTTTTCACTGGAGTTGTCCCAATTCTTG")
    >>> search(query, index, lambda keys: {k: bank[k] for k in keys}, min_score=20)
    [Hit(key=1, score=62, -, query 0..31, target 26..57, identity 1.000, coverage 1.000)]
    """
    q = _prepare_query(query)
    if MATCH_SCORE * len(q) < min_score:
        return []
    with _Aligner(q, threads, progress) as aligner:
        if not has_kmers(q, index.k):
            keys = sorted(index)
            best: dict[int, tuple[int, StrandSign]] = {}
            aligner.expect(2 * len(keys))
            for i in range(0, len(keys), _BATCH):
                batch = _checked(fetch(keys[i : i + _BATCH]))
                best.update(aligner.best(_whole(batch, len(q))))
            return _finish(
                aligner, best, fetch, top=top, min_identity=min_identity, min_score=min_score
            )

        chains = index.chains(
            q, limit=candidates, scores=(MATCH_SCORE, MISMATCH_SCORE, GAP_OPEN, GAP_EXTEND)
        )
        targets = _checked(fetch(sorted({c.key for c in chains})))
        windows = [
            (c.key, c.strand, _window(*targets[c.key], c, len(q)))
            for c in chains
            if c.key in targets
        ]
        aligner.expect(len(windows) + 2 * min(len(targets), top + _VERIFY_EXTRA))
        by_window = aligner.best(windows)
        ranked = sorted(by_window, key=lambda key: (-by_window[key][0], key))
        verified: dict[int, tuple[int, StrandSign]] = {}
        hits: list[Hit] = []
        size = top + _VERIFY_EXTRA
        while ranked:
            chunk, ranked = ranked[:size], ranked[size:]
            verified.update(aligner.best(_whole({k: targets[k] for k in chunk}, len(q))))
            hits = _finish(
                aligner,
                verified,
                lambda ks: {k: targets[k] for k in ks},
                top=top,
                min_identity=min_identity,
                min_score=min_score,
            )
            if len(hits) >= top:
                break
            aligner.expect(2 * min(len(ranked), size))
        return hits


def align_exhaustive(
    query: str,
    targets: Mapping[int, tuple[str, Topology]],
    *,
    top: int = 10,
    min_identity: float = 0.0,
    min_score: int = DEFAULT_MIN_SCORE,
    threads: int = 0,
    progress: Progress | None = None,
) -> list[Hit]:
    """Align ``query`` (both strands) to every target; the reference for :func:`search`.

    Same aligner, scores, ordering and filters as :func:`search`, without the
    prefilter. Parameters, returns and errors are those of :func:`search`.

    Examples
    --------
    >>> targets = {7: ("TTGACAGCTAGCTCAGTCCTAGGTATAATGCTAGC", "linear")}
    >>> align_exhaustive("GCTAGCTCAGTCCTAGGTATAAT", targets, min_score=0)
    [Hit(key=7, score=46, +, query 0..23, target 6..29, identity 1.000, coverage 1.000)]
    """
    q = _prepare_query(query)
    if MATCH_SCORE * len(q) < min_score:
        return []
    items = list(targets.items())
    with _Aligner(q, threads, progress) as aligner:
        aligner.expect(2 * len(items))
        best: dict[int, tuple[int, StrandSign]] = {}
        for i in range(0, len(items), _BATCH):
            best.update(aligner.best(_whole(_checked(dict(items[i : i + _BATCH])), len(q))))
        return _finish(
            aligner,
            best,
            lambda ks: {k: targets[k] for k in ks},
            top=top,
            min_identity=min_identity,
            min_score=min_score,
        )


def _prepare_query(query: str) -> str:
    if not query:
        raise ValidationError("the query sequence is empty; give at least one base", field="query")
    return validate_dna(query, record="query")


def _checked(targets: Mapping[int, tuple[str, str]]) -> dict[int, tuple[str, Topology]]:
    """Return the targets upper-cased, or raise on a bad symbol or topology."""
    out: dict[int, tuple[str, Topology]] = {}
    for key, (seq, topology) in targets.items():
        if topology not in ("linear", "circular"):
            raise ValidationError(
                f"topology must be 'linear' or 'circular', got {topology!r}",
                record=str(key),
                field="topology",
            )
        out[key] = (validate_dna(seq, record=str(key)), topology)  # type: ignore[assignment]
    return out


def _extend(target: str, topology: Topology, query_length: int) -> str:
    """Append the start of a circular target so alignments may run across the origin.

    An alignment cannot skip more target bases than it matches (a skipped base
    costs ``GAP_EXTEND`` >= ``MATCH_SCORE``), so it spans fewer than twice the
    query length on the target; that much of the start is appended, at most
    one base short of the whole target.
    """
    if topology != "circular":
        return target
    span = query_length + math.ceil(MATCH_SCORE * query_length / GAP_EXTEND)
    return target + target[: min(len(target) - 1, span - 1)]


def _whole(targets: Mapping[int, tuple[str, Topology]], query_length: int) -> list[_Item]:
    """Both strands of whole targets (extended across the origin if circular)."""
    return [
        (key, strand, _extend(seq, topology, query_length))
        for key, (seq, topology) in targets.items()
        if seq
        for strand in _STRANDS
    ]


def _window(target: str, topology: Topology, chain: SeedChain, query_length: int) -> str:
    """Return the part of ``target`` where the query, placed along the chain, would align."""
    n = len(target)
    low = chain.offset_low - _PAD
    high = chain.offset_high + query_length + _PAD
    if topology == "circular":
        if high - low >= n:
            return _extend(target, topology, query_length)
        low %= n
        return (target + target)[low : low + high - (chain.offset_low - _PAD)]
    return target[max(low, 0) : max(min(high, n), 0)]


def _threads(threads: int) -> int:
    if threads > 0:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class _Aligner:
    """Smith-Waterman of one query (both strands) against many targets, on a thread pool."""

    def __init__(self, query: str, threads: int, progress: Progress | None) -> None:
        self.query = query
        self.queries: dict[StrandSign, str] = {1: query, -1: reverse_complement(query)}
        self.workers = _threads(threads)
        self.progress = progress or NullProgress()
        self.done = 0
        self.total = 0
        ambiguous = _ALPHABET[4:]
        rows = [
            [
                AMBIGUOUS_SCORE
                if a in ambiguous or b in ambiguous
                else (MATCH_SCORE if a == b else MISMATCH_SCORE)
                for b in _ALPHABET
            ]
            for a in _ALPHABET
        ]
        matrix = ScoringMatrix(rows, alphabet=_ALPHABET, name="cellfoundry-dna")
        # Opal charges gap_open for the first base of a gap and gap_extend for each further one
        self.opal = pyopal.Aligner(matrix, gap_open=GAP_OPEN + GAP_EXTEND, gap_extend=GAP_EXTEND)
        self.pool = ThreadPoolExecutor(max_workers=self.workers)

    def __enter__(self) -> _Aligner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown()

    def expect(self, alignments: int) -> None:
        """Announce ``alignments`` more alignments to the progress callback."""
        self.total += alignments
        self.progress(self.done, self.total)

    def best(self, items: Sequence[_Item]) -> dict[int, tuple[int, StrandSign]]:
        """Return the best ``(score, strand)`` per key; a tie goes to the plus strand."""
        tasks = []
        for strand in _STRANDS:
            keys = [key for key, s, seq in items if s == strand and seq]
            if not keys:
                continue
            database = pyopal.Database(
                [seq for _, s, seq in items if s == strand and seq], alphabet=self.opal.alphabet
            )
            step = -(-len(keys) // self.workers)
            tasks.extend((strand, keys, database, i, i + step) for i in range(0, len(keys), step))
        best: dict[int, tuple[int, StrandSign]] = {}
        for strand, results in self.pool.map(self._run, tasks):
            for key, score in results:
                previous = best.get(key)
                if previous is None or (score, strand) > previous:
                    best[key] = (score, strand)
            self.done += len(results)
            self.progress(self.done, max(self.total, self.done))
        return best

    def _run(
        self, task: tuple[StrandSign, list[int], pyopal.Database, int, int]
    ) -> tuple[StrandSign, list[tuple[int, int]]]:
        strand, keys, database, start, end = task
        results = self.opal.align(
            self.queries[strand], database, mode="score", start=start, end=end
        )
        return strand, [(keys[r.target_index], r.score) for r in results]

    def full(self, strand: StrandSign, sequences: list[str]) -> list[pyopal.FullResult]:
        """Align with traceback; results in the order of ``sequences``."""
        database = pyopal.Database(sequences, alphabet=self.opal.alphabet)
        results = self.opal.align(self.queries[strand], database, mode="full")
        return sorted(results, key=lambda r: r.target_index)


def _finish(
    aligner: _Aligner,
    best: Mapping[int, tuple[int, StrandSign]],
    lookup: Fetch,
    *,
    top: int,
    min_identity: float,
    min_score: int,
) -> list[Hit]:
    """Re-align the best-scoring targets with traceback and build the hits."""
    ranked = sorted(
        (
            (score, key, strand)
            for key, (score, strand) in best.items()
            if score >= max(min_score, 1)
        ),
        key=lambda s: (-s[0], s[1]),
    )
    length = len(aligner.query)
    hits: list[Hit] = []
    start = 0
    while len(hits) < top and start < len(ranked):
        chunk = ranked[start : start + top - len(hits)]
        start += len(chunk)
        targets = _checked(lookup([key for _, key, _ in chunk]))
        found: dict[int, Hit] = {}
        for strand in _STRANDS:
            group = [(score, key) for score, key, s in chunk if s == strand and key in targets]
            if not group:
                continue
            sequences = [_extend(*targets[key], length) for _, key in group]
            for (score, key), result in zip(group, aligner.full(strand, sequences), strict=True):
                found[key] = _hit(key, score, strand, result, length, len(targets[key][0]))
        for _, key, _ in chunk:
            hit = found.get(key)
            if hit is not None and hit.identity >= min_identity:
                hits.append(hit)
    return hits


def _hit(
    key: int,
    score: int,
    strand: StrandSign,
    result: pyopal.FullResult,
    query_length: int,
    target_length: int,
) -> Hit:
    """Convert an Opal result (inclusive ends, reverse-complemented query) into a Hit."""
    q_start, q_end = result.query_start, result.query_end + 1
    if strand == -1:
        q_start, q_end = query_length - q_end, query_length - q_start
    alignment: str = result.alignment
    return Hit(
        key=key,
        score=score,
        strand=strand,
        query_start=q_start,
        query_end=q_end,
        target_start=result.target_start % target_length,
        target_end=result.target_end % target_length + 1,
        identity=alignment.count("M") / len(alignment) if alignment else 0.0,
        alignment_length=len(alignment),
        coverage=(q_end - q_start) / query_length,
    )
