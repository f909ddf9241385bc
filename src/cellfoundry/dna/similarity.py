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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    KmerIndex,
    Sketch,
    query_kmers,
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
    "MATCH_SCORE",
    "MISMATCH_SCORE",
    "Fetch",
    "Hit",
    "KmerIndex",
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
_BATCH: Final = 256  # targets per alignment task
StrandSign = Literal[1, -1]
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
        Returns ``{key: (sequence, topology)}`` for the candidate keys.
    top
        Number of hits to return.
    candidates
        Number of prefilter candidates to align.
    min_identity
        Drop hits whose alignment identity is lower.
    min_score
        Drop hits scoring lower (see :data:`DEFAULT_MIN_SCORE`).
    threads
        Aligner threads; 0 uses every available CPU.
    progress
        Called with ``(done, total)`` target-strand alignments.

    Returns
    -------
    list of Hit
        At most ``top`` hits, by score (descending), then key.

    Raises
    ------
    ValidationError
        If the query is empty.
    InvalidSequenceError
        If the query or a fetched target holds a non-IUPAC symbol.

    Notes
    -----
    A query with no valid k-mer (shorter than ``index.k`` or all ambiguity
    codes) cannot use the prefilter; it is aligned to every entry of the
    index, fetched in batches, unless ``min_score`` is out of its reach.

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
    >>> hits = search(query, index, lambda keys: {k: bank[k] for k in keys}, min_score=20)
    >>> hits[0].key, hits[0].score, hits[0].strand, hits[0].identity
    (1, 62, -1, 1.0)
    """
    q = _prepare_query(query)
    if MATCH_SCORE * len(q) < min_score:
        return []
    report = progress or NullProgress()
    if query_kmers(q, k=index.k).size == 0:
        keys = sorted(index)
        batches: Iterable[Mapping[int, tuple[str, Topology]]] = (
            fetch(keys[i : i + _BATCH]) for i in range(0, len(keys), _BATCH)
        )
        scored = _score(q, batches, len(keys), threads=threads, progress=report)
        return _finish(q, scored, fetch, top=top, min_identity=min_identity, min_score=min_score)
    keys = [key for key, _ in index.candidates(q, limit=candidates)]
    targets = dict(fetch(keys)) if keys else {}
    scored = _score(q, [targets], len(targets), threads=threads, progress=report)
    return _finish(
        q,
        scored,
        lambda ks: {k: targets[k] for k in ks},
        top=top,
        min_identity=min_identity,
        min_score=min_score,
    )


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
    report = progress or NullProgress()
    items = list(targets.items())
    batches = (dict(items[i : i + _BATCH]) for i in range(0, len(items), _BATCH))
    scored = _score(q, batches, len(items), threads=threads, progress=report)
    return _finish(
        q,
        scored,
        lambda ks: {k: targets[k] for k in ks},
        top=top,
        min_identity=min_identity,
        min_score=min_score,
    )


def _prepare_query(query: str) -> str:
    if not query:
        raise ValidationError("the query sequence is empty; give at least one base", field="query")
    return validate_dna(query, record="query")


def _aligner() -> pyopal.Aligner:
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
    # Opal charges gap_open for the first base of a gap and gap_extend for each further one.
    return pyopal.Aligner(matrix, gap_open=GAP_OPEN + GAP_EXTEND, gap_extend=GAP_EXTEND)


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


def _threads(threads: int) -> int:
    if threads > 0:
        return threads
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _check_topology(key: int, topology: str) -> Topology:
    if topology not in ("linear", "circular"):
        raise ValidationError(
            f"topology must be 'linear' or 'circular', got {topology!r}",
            record=str(key),
            field="topology",
        )
    return "circular" if topology == "circular" else "linear"


def _score(
    query: str,
    batches: Iterable[Mapping[int, tuple[str, Topology]]],
    total: int,
    *,
    threads: int,
    progress: Progress,
) -> list[tuple[int, int, StrandSign]]:
    """Return ``(score, key, strand)`` of the best strand of every target."""
    aligner = _aligner()
    strands: tuple[tuple[StrandSign, str], ...] = ((1, query), (-1, reverse_complement(query)))
    workers = _threads(threads)
    scored: list[tuple[int, int, StrandSign]] = []
    done = 0
    progress(0, 2 * total)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch in batches:
            keys: list[int] = []
            sequences: list[str] = []
            for key, (seq, topology) in batch.items():
                top = _check_topology(key, topology)
                target = validate_dna(seq, record=str(key))
                if target:
                    keys.append(key)
                    sequences.append(_extend(target, top, len(query)))
            if not keys:
                done += 2 * len(batch)
                progress(done, 2 * total)
                continue
            database = pyopal.Database(sequences, alphabet=aligner.alphabet)
            step = max(1, -(-len(keys) // workers))
            tasks = [(strand, q, s) for strand, q in strands for s in range(0, len(keys), step)]
            best: dict[int, tuple[int, StrandSign]] = {}
            results = pool.map(
                lambda t: (
                    t[0],
                    aligner.align(t[1], database, mode="score", start=t[2], end=t[2] + step),
                ),
                tasks,
            )
            for strand, hits in results:
                for hit in hits:
                    key = keys[hit.target_index]
                    previous = best.get(key)
                    if previous is None or hit.score > previous[0]:
                        best[key] = (hit.score, strand)
                done += len(hits)
                progress(min(done, 2 * total), 2 * total)
            scored.extend((score, key, strand) for key, (score, strand) in best.items())
    return scored


def _finish(
    query: str,
    scored: list[tuple[int, int, StrandSign]],
    lookup: Fetch,
    *,
    top: int,
    min_identity: float,
    min_score: int,
) -> list[Hit]:
    """Re-align the best-scoring targets with traceback and build the hits."""
    ranked = sorted(
        (s for s in scored if s[0] > 0 and s[0] >= min_score), key=lambda s: (-s[0], s[1])
    )
    aligner = _aligner()
    hits: list[Hit] = []
    start = 0
    while len(hits) < top and start < len(ranked):
        chunk = ranked[start : start + top - len(hits)]
        start += len(chunk)
        targets = lookup([key for _, key, _ in chunk])
        found: dict[int, Hit] = {}
        for strand in (1, -1):
            group = [(score, key) for score, key, s in chunk if s == strand and key in targets]
            if not group:
                continue
            q = query if strand == 1 else reverse_complement(query)
            sequences = [
                _extend(validate_dna(targets[key][0]), targets[key][1], len(query))
                for _, key in group
            ]
            database = pyopal.Database(sequences, alphabet=aligner.alphabet)
            for result in aligner.align(q, database, mode="full"):
                score, key = group[result.target_index]
                found[key] = _hit(key, score, strand, result, len(query), len(targets[key][0]))
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
