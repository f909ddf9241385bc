"""DNA similarity search over plasmids, parts and genomes.

Scores are BLASTN-like: match +2, mismatch -3, a gap of ``n`` bases costs
``5 + 2n``, a pair involving an IUPAC ambiguity code scores -1. Alignment is
local (Smith-Waterman, pyopal: SIMD across targets), on both strands of the
query; a circular target is extended across its origin, so alignments
spanning it are found. :func:`search` runs in four stages:

1. **Seed chains** (:meth:`KmerIndex.chains`): the canonical k-mer
   minimizers of every entry (:func:`sketch`, kept by the bank as a BLOB)
   that are k-mers of the query are chained along diagonals, and each
   entry strand gets an estimate of its best local alignment score; the
   best ``candidates`` entry strands (and those tied with the last) go on.
2. **Windows**: the query is aligned to the stretch of each candidate
   around its chain (a second copy elsewhere on the entry gets its own
   window), about ``len(query) + 200`` bases instead of the whole entry.
3. **Verification**: the ``top + 6`` best entries by window score are
   aligned whole, so their scores are exactly those of :func:`align_exhaustive`.
4. **Traceback** of the ``top`` best, in the stretch ending where the
   alignment ends (Opal's traceback is slow on long targets).

:func:`align_exhaustive` aligns every target whole and then runs stage 4;
it is the reference :func:`search` is tested and benchmarked against.

Limits. The seeds only see entries sharing an exact stretch of
``k + window - 1`` = 27 bases (defaults) with the query, and the chain
estimate cannot tell a diverged homologue (below ~85 % identity, few exact
27-mers) from an unrelated stretch of the same length: such hits are
underestimated and, when more than ``candidates`` entry strands compete, can
be left out. Entries whose seeds tie (identical copies) are all passed on,
up to four times ``candidates``. Raise ``candidates`` to trade speed for
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
from scoring_matrices.lib import ScoringMatrix

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.core.sequence import Topology, reverse_complement, validate_dna
from cellfoundry.dna._index import LINK, KmerIndex, SeedChain
from cellfoundry.dna._sketch import DEFAULT_K, DEFAULT_WINDOW, Sketch, has_kmers, sketch

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
DEFAULT_CANDIDATES: Final = 300
"""Entry strands (best seed chains) passed from the prefilter to the aligner by default."""
DEFAULT_MIN_SCORE: Final = 50
"""Default lowest reported score. A 2 kb query aligned to 65 Mbp of random DNA
scores at most about 40 by chance (Karlin-Altschul, lambda 0.625, K 0.41)."""

_ALPHABET: Final = "ACGTRYSWKMBDHVN"
_BATCH: Final = 512  # targets fetched and aligned at a time by the exhaustive paths
_PAD: Final = 64  # diagonals added on each side of a chain's window
_VERIFY_EXTRA: Final = 6  # targets beyond `top` re-aligned whole after the window stage
StrandSign = Literal[1, -1]
_STRANDS: Final[tuple[StrandSign, StrandSign]] = (1, -1)
_Item = tuple[int, StrandSign, str]  # key, strand of the query, target sequence
_Best = tuple[int, StrandSign, int]  # score, strand, alignment end on the target (-1: unknown)
_Mode = Literal["score", "end"]
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
    [Hit(key=1, score=62, -, query 0..31, target 24..55, identity 1.000, coverage 1.000)]
    """
    q = _prepare_query(query)
    if MATCH_SCORE * len(q) < min_score:
        return []
    with _Aligner(q, threads, progress) as aligner:
        if not has_kmers(q, index.k):
            keys = sorted(index)
            best: dict[int, _Best] = {}
            aligner.expect(2 * len(keys))
            for i in range(0, len(keys), _BATCH):
                batch = _checked(fetch(keys[i : i + _BATCH]))
                best.update(aligner.best(_whole(batch, len(q))))
            return _finish(
                aligner, best, fetch, top=top, min_identity=min_identity, min_score=min_score
            )

        scores = (MATCH_SCORE, MISMATCH_SCORE, GAP_OPEN, GAP_EXTEND)
        chains = index.chains(q, limit=candidates, scores=scores, threads=aligner.workers)
        targets = _checked(fetch(sorted({c.key for c in chains})))
        windows = [
            (c.key, c.strand, _window(*targets[c.key], c, len(q)))
            for c in chains
            if c.key in targets
        ]
        strands: dict[int, set[StrandSign]] = {}
        for c in chains:
            strands.setdefault(c.key, set()).add(c.strand)
        by_window = aligner.best(windows)
        ranked = sorted(by_window, key=lambda key: (-by_window[key][0], key))

        def finish() -> list[Hit]:
            return _finish(
                aligner,
                verified,
                lambda keys: {k: targets[k] for k in keys},
                top=top,
                min_identity=min_identity,
                min_score=min_score,
            )

        # verify the best by window score until `top` pass the filters (or none could)
        verified: dict[int, _Best] = {}
        hits: list[Hit] = []
        floor = max(min_score, 1)
        stale = False
        while ranked and by_window[ranked[0]][0] >= floor:
            size = top + _VERIFY_EXTRA if not verified else 2 * top
            chunk, ranked = ranked[:size], ranked[size:]
            chosen = {k: targets[k] for k in chunk}
            verified.update(aligner.best(_whole(chosen, len(q), strands), mode="end"))
            stale = True
            if sum(v[0] >= floor for v in verified.values()) < top:
                continue
            hits = finish()
            stale = False
            if len(hits) >= top:
                break
        if stale:
            hits = finish()
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
        best: dict[int, _Best] = {}
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
    return target + target[: min(len(target) - 1, _max_span(query_length) - 1)]


def _max_span(query_length: int) -> int:
    """Return a bound on the target bases a local alignment of the query can span."""
    return query_length + math.ceil(MATCH_SCORE * query_length / GAP_EXTEND)


def _whole(
    targets: Mapping[int, tuple[str, Topology]],
    query_length: int,
    strands: Mapping[int, set[StrandSign]] | None = None,
) -> list[_Item]:
    """Whole targets (extended across the origin if circular), on both or the given strands."""
    return [
        (key, strand, _extend(seq, topology, query_length))
        for key, (seq, topology) in targets.items()
        if seq
        for strand in (_STRANDS if strands is None else sorted(strands[key], reverse=True))
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
        self.announced = 0
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
        """Announce ``alignments`` coming alignments to the progress callback."""
        self.total += alignments
        self.announced += alignments
        self.progress(self.done, self.total)

    def _start(self, alignments: int) -> None:
        """Count ``alignments`` about to run against what was announced."""
        used = min(self.announced, alignments)
        self.announced -= used
        if alignments > used:
            self.expect(alignments - used)
            self.announced -= alignments - used

    def best(self, items: Sequence[_Item], mode: _Mode = "score") -> dict[int, _Best]:
        """Return the best ``(score, strand, end)`` per key; a tie goes to the plus strand.

        ``end`` is the last target position of the alignment in ``"end"``
        mode, -1 in ``"score"`` mode (which is faster).
        """
        self._start(len(items))
        self.done += sum(1 for item in items if not item[2])
        tasks: list[tuple[StrandSign, list[int], pyopal.Database, int, int, _Mode]] = []
        for strand in _STRANDS:
            keys = [key for key, s, seq in items if s == strand and seq]
            if not keys:
                continue
            database = pyopal.Database(
                [seq for _, s, seq in items if s == strand and seq], alphabet=self.opal.alphabet
            )
            step = -(-len(keys) // self.workers)
            tasks.extend(
                (strand, keys, database, i, i + step, mode) for i in range(0, len(keys), step)
            )
        best: dict[int, _Best] = {}
        for strand, results in self.pool.map(self._run, tasks):
            for key, score, end in results:
                previous = best.get(key)
                if previous is None or (score, strand) > previous[:2]:
                    best[key] = (score, strand, end)
            self.done += len(results)
            self.progress(self.done, max(self.total, self.done))
        return best

    def _run(
        self, task: tuple[StrandSign, list[int], pyopal.Database, int, int, _Mode]
    ) -> tuple[StrandSign, list[tuple[int, int, int]]]:
        strand, keys, database, start, end, mode = task
        query = self.queries[strand]
        if mode == "end":
            ends = self.opal.align(query, database, mode="end", start=start, end=end)
            return strand, [(keys[r.target_index], r.score, r.target_end) for r in ends]
        scores = self.opal.align(query, database, mode="score", start=start, end=end)
        return strand, [(keys[r.target_index], r.score, -1) for r in scores]

    def trace(self, task: tuple[StrandSign, list[str]]) -> list[pyopal.FullResult]:
        """Align one strand of the query with traceback; results in the order of the targets."""
        strand, sequences = task
        database = pyopal.Database(sequences, alphabet=self.opal.alphabet)
        results = self.opal.align(self.queries[strand], database, mode="full")
        return sorted(results, key=lambda r: r.target_index)


def _finish(
    aligner: _Aligner,
    best: Mapping[int, _Best],
    lookup: Fetch,
    *,
    top: int,
    min_identity: float,
    min_score: int,
) -> list[Hit]:
    """Trace back the best-scoring targets and build the hits.

    Opal's traceback is slow on long targets, so it runs on the stretch of
    the target that can hold the best alignment: the alignment's end (from
    an ``"end"`` pass if not known yet) and the most it can span before it
    (see :func:`_max_span`).
    """
    ranked = sorted(
        (
            (score, key, strand, end)
            for key, (score, strand, end) in best.items()
            if score >= max(min_score, 1)
        ),
        key=lambda s: (-s[0], s[1]),
    )
    length = len(aligner.query)
    span = _max_span(length)
    hits: list[Hit] = []
    start = 0
    while len(hits) < top and start < len(ranked):
        chunk = ranked[start : start + top - len(hits)]
        start += len(chunk)
        targets = _checked(lookup([key for _, key, _, _ in chunk]))
        chunk = [c for c in chunk if c[1] in targets]
        extended = {key: _extend(*targets[key], length) for _, key, _, _ in chunk}
        unknown = [(key, strand, extended[key]) for _, key, strand, end in chunk if end < 0]
        ends = {key: e[2] for key, e in aligner.best(unknown, mode="end").items()}
        tasks: list[tuple[StrandSign, list[str]]] = []
        placed: list[list[tuple[int, int, int]]] = []  # (score, key, offset) per task
        for strand in _STRANDS:
            spans = []
            for score, key, s, end in chunk:
                if s == strand:
                    end = ends.get(key, end)
                    spans.append((score, key, max(0, end + 1 - span), end))
            step = -(-len(spans) // aligner.workers) if spans else 1
            for part in (spans[i : i + step] for i in range(0, len(spans), step)):
                tasks.append((strand, [extended[key][lo : end + 1] for _, key, lo, end in part]))
                placed.append([(score, key, lo) for score, key, lo, _ in part])
        found: dict[int, Hit] = {}
        for (strand, _), where, results in zip(
            tasks, placed, aligner.pool.map(aligner.trace, tasks), strict=True
        ):
            for (score, key, offset), result in zip(where, results, strict=True):
                found[key] = _hit(key, score, strand, result, offset, length, len(targets[key][0]))
        for _, key, _, _ in chunk:
            hit = found[key]
            if hit.identity >= min_identity:
                hits.append(hit)
    return hits


def _hit(
    key: int,
    score: int,
    strand: StrandSign,
    result: pyopal.FullResult,
    offset: int,
    query_length: int,
    target_length: int,
) -> Hit:
    """Convert an Opal result (inclusive ends, reverse-complemented query) into a Hit.

    ``offset`` is where the aligned stretch starts on the (extended) target.
    """
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
        target_start=(offset + result.target_start) % target_length,
        target_end=(offset + result.target_end) % target_length + 1,
        identity=alignment.count("M") / len(alignment) if alignment else 0.0,
        alignment_length=len(alignment),
        coverage=(q_end - q_start) / query_length,
    )
