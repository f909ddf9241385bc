"""Benchmark: k-mer-prefiltered similarity search against exhaustive Smith-Waterman.

The bank is 10,000 plasmid-like targets (3-10 kb) built deterministically from
the real MoClo plasmids of the SBOL test suite: each target joins 1-4 segments
of real plasmids (random rotation and strand), then gets its own substitutions
and small indels (0.2-3 %); 85 % are circular. Queries are 2 kb windows of
random targets (across the origin when they fall there) with 2-5 % further
mutations, every other one reverse-complemented.

For every query the indexed :func:`search` and :func:`align_exhaustive` must
return identical top-10 hit lists. Run::

    .venv/bin/python benchmarks/bench_sequence_search.py          # full run
    .venv/bin/python benchmarks/bench_sequence_search.py --quick  # about a minute
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import re
import statistics
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from cellfoundry.core.sequence import Topology, reverse_complement
from cellfoundry.dna import Hit, KmerIndex, Sketch, align_exhaustive, search, sketch
from cellfoundry.dna.similarity import (
    AMBIGUOUS_SCORE,
    DEFAULT_CANDIDATES,
    DEFAULT_K,
    DEFAULT_WINDOW,
    GAP_EXTEND,
    GAP_OPEN,
    MATCH_SCORE,
    MISMATCH_SCORE,
)

DATA = Path("/work/shared/data/sbol-test-suite/GenBank")
CACHE = Path(__file__).parent / ".cache"
Bank = dict[int, tuple[str, Topology]]


def read_genbank(path: Path) -> list[tuple[str, Topology]]:
    """Return (sequence, topology) of every record; Biopython first, ORIGIN lines if it refuses."""
    try:
        from Bio import SeqIO

        with warnings.catch_warnings(), path.open(encoding="utf-8") as handle:
            warnings.simplefilter("ignore")
            records = list(SeqIO.parse(handle, "genbank"))
        return [
            (
                str(r.seq).upper(),
                "circular" if r.annotations.get("topology") == "circular" else "linear",
            )
            for r in records
        ]
    except (ValueError, UnicodeDecodeError):
        text = path.read_bytes().decode("latin-1")
        out: list[tuple[str, Topology]] = []
        for block in text.split("\n//")[:-1] if "\n//" in text else [text]:
            locus = block[block.find("LOCUS") :].split("\n", 1)[0]
            origin = block.split("\nORIGIN", 1)
            if len(origin) < 2:
                continue
            seq = re.sub(r"[^A-Za-z]", "", origin[1]).upper()
            out.append((seq, "circular" if "circular" in locus.lower() else "linear"))
        return out


def load_sources() -> list[tuple[str, Topology]]:
    sources = []
    for path in sorted(DATA.glob("*.gb*")):
        sources.extend(s for s in read_genbank(path) if len(s[0]) >= 500)
    return sources


def mutate(seq: str, rate: float, rng: np.random.Generator) -> str:
    """Substitutions (80 %), insertions and deletions of 1-3 bases (10 % each) at ``rate`` per base."""
    n_events = rng.binomial(len(seq), rate)
    positions = np.sort(rng.choice(len(seq), size=n_events, replace=False))
    kinds = rng.random(n_events)
    out: list[str] = []
    last = 0
    for pos, kind in zip(positions.tolist(), kinds.tolist(), strict=True):
        if pos < last:
            continue
        out.append(seq[last:pos])
        if kind < 0.8:
            out.append("ACGT"[(("ACGT".find(seq[pos]) + int(rng.integers(1, 4))) % 4)])
            last = pos + 1
        elif kind < 0.9:
            out.append("".join(rng.choice(list("ACGT"), int(rng.integers(1, 4)))) + seq[pos])
            last = pos + 1
        else:
            last = pos + int(rng.integers(1, 4))
    out.append(seq[last:])
    return "".join(out)


def circular_slice(seq: str, start: int, length: int) -> str:
    doubled = seq + seq[: max(0, length)]
    return doubled[start : start + length]


def make_bank(n_targets: int, seed: int) -> Bank:
    key = hashlib.sha1(f"v1-{n_targets}-{seed}".encode()).hexdigest()[:12]
    cache = CACHE / f"bank-{key}.fasta"
    if cache.exists():
        return read_fasta(cache)
    rng = np.random.default_rng(seed)
    sources = load_sources()
    bank: Bank = {}
    for i in range(n_targets):
        length = int(rng.integers(3000, 10001))
        pieces: list[str] = []
        total = 0
        while total < length:
            src, _ = sources[int(rng.integers(len(sources)))]
            if rng.random() < 0.5:
                src = reverse_complement(src)
            remaining = length - total
            seg = min(int(rng.integers(800, 4001)), len(src), remaining)
            if remaining - seg < 300:
                seg = min(remaining, len(src))
            pieces.append(circular_slice(src, int(rng.integers(len(src))), seg))
            total += seg
        seq = mutate("".join(pieces), float(rng.uniform(0.002, 0.03)), rng)
        bank[i + 1] = (seq, "circular" if rng.random() < 0.85 else "linear")
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    with cache.open("w") as fh:
        for k, (seq, topology) in bank.items():
            fh.write(f">{k} {topology}\n{seq}\n")
    return bank


def read_fasta(path: Path) -> Bank:
    bank: Bank = {}
    lines = path.read_text().splitlines()
    for header, seq in zip(lines[::2], lines[1::2], strict=True):
        key, topology = header[1:].split()
        bank[int(key)] = (seq, "circular" if topology == "circular" else "linear")
    return bank


def make_queries(bank: Bank, n: int, length: int, seed: int) -> list[tuple[int, str]]:
    rng = np.random.default_rng(seed + 1)
    keys = sorted(bank)
    queries = []
    for i in range(n):
        key = keys[int(rng.integers(len(keys)))]
        seq, topology = bank[key]
        if topology == "circular":
            frag = circular_slice(seq, int(rng.integers(len(seq))), length)
        else:
            start = int(rng.integers(len(seq) - length + 1))
            frag = seq[start : start + length]
        frag = mutate(frag, float(rng.uniform(0.02, 0.05)), rng)
        queries.append((key, reverse_complement(frag) if i % 2 else frag))
    return queries


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 targets, 10 queries")
    parser.add_argument("--targets", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--query-length", type=int, default=2000)
    parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
    parser.add_argument("--k", type=int, default=DEFAULT_K)
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--no-exhaustive", action="store_true", help="skip the reference runs")
    parser.add_argument(
        "--reuse-reference",
        action="store_true",
        help="take exhaustive hits and times from an earlier run's cache (benchmarks/.cache)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.targets, args.queries = 1000, 10

    t0 = time.perf_counter()
    bank = make_bank(args.targets, args.seed)
    t_bank = time.perf_counter() - t0
    total_bp = sum(len(s) for s, _ in bank.values())
    print(f"bank: {len(bank)} targets, {total_bp / 1e6:.1f} Mbp ({t_bank:.1f} s to make/load)")

    # sketches (what the bank stores) and the index built entry by entry
    t0 = time.perf_counter()
    sketches = {k: sketch(s, t, k=args.k, window=args.window) for k, (s, t) in bank.items()}
    t_sketch = time.perf_counter() - t0
    blobs = {k: s.to_bytes() for k, s in sketches.items()}
    blob_bytes = sum(len(b) for b in blobs.values())
    held_out = sorted(bank)[-100:]
    index = KmerIndex(k=args.k, window=args.window)
    t0 = time.perf_counter()
    for k, s in sketches.items():
        if k not in held_out:
            index.add(k, s)
    index.candidates("ACGTACGTACGTACGTACGT", limit=1)  # forces the last flush
    t_build = time.perf_counter() - t0

    # incremental: add one entry to the full index, then query (pays the flush)
    add_times, add_query_times = [], []
    for k in held_out:
        t0 = time.perf_counter()
        s = sketch(*bank[k], k=args.k, window=args.window)
        index.add(k, s)
        add_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        index.candidates(bank[k][0][:2000], limit=10)
        add_query_times.append(time.perf_counter() - t0)

    # startup path: reload the index from stored sketch bytes
    t0 = time.perf_counter()
    reloaded = KmerIndex(k=args.k, window=args.window)
    for k, b in blobs.items():
        reloaded.add(k, Sketch.from_bytes(b))
    reloaded.candidates("ACGTACGTACGTACGTACGT", limit=1)
    t_reload = time.perf_counter() - t0
    del reloaded

    print(
        f"sketch {1e3 * t_sketch / len(bank):.2f} ms/entry, {blob_bytes / len(bank):.0f} B/entry"
        f" ({blob_bytes / 1e6:.1f} MB); index build {t_build:.2f} s, reload from bytes"
        f" {t_reload:.2f} s; {index.postings} postings, {index.nbytes / 1e6:.1f} MB; {index!r}"
    )
    print(
        f"add one entry (sketch + add): median {1e3 * statistics.median(add_times):.2f} ms;"
        f" next query's candidates(): median {1e3 * statistics.median(add_query_times):.1f} ms,"
        f" max {1e3 * max(add_query_times):.1f} ms"
    )

    def fetch(keys: Sequence[int]) -> Mapping[int, tuple[str, Topology]]:
        return {k: bank[k] for k in keys}

    queries = make_queries(bank, args.queries, args.query_length, args.seed)
    search(queries[0][1], index, fetch, candidates=args.candidates, threads=args.threads)  # warm
    # the exhaustive reference depends on the bank, the queries and the scores only
    scoring = (MATCH_SCORE, MISMATCH_SCORE, AMBIGUOUS_SCORE, GAP_OPEN, GAP_EXTEND)
    tag = f"v1-{args.targets}-{args.queries}-{args.query_length}-{args.seed}-{scoring}"
    reference_file = CACHE / f"reference-{hashlib.sha1(tag.encode()).hexdigest()[:12]}.json"
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    references = json.loads(reference_file.read_text()) if reference_file.exists() else {}
    latencies, exhaustive_times, ranks = [], [], []
    identical = same_alignments = self_first = 0
    for i, (source, query) in enumerate(queries):
        t0 = time.perf_counter()
        hits = search(query, index, fetch, candidates=args.candidates, threads=args.threads)
        latencies.append(time.perf_counter() - t0)
        self_first += bool(hits) and hits[0].key == source
        if args.no_exhaustive:
            continue
        cached = references.get(str(i))
        if cached is not None and args.reuse_reference:
            reference = [Hit(**h) for h in cached["hits"]]
            exhaustive_times.append(cached["seconds"])
        else:
            t0 = time.perf_counter()
            reference = align_exhaustive(query, bank, threads=args.threads)
            exhaustive_times.append(time.perf_counter() - t0)
            references[str(i)] = {
                "seconds": exhaustive_times[-1],
                "hits": [dataclasses.asdict(h) for h in reference],
            }
            reference_file.write_text(json.dumps(references))
        same = [(h.key, h.score) for h in hits] == [(h.key, h.score) for h in reference]
        identical += same
        same_alignments += hits == reference
        order = {k: r for r, (k, _) in enumerate(index.candidates(query, limit=len(index)))}
        worst = max((order.get(h.key, 10**9) for h in reference), default=0) + 1
        ranks.append(worst)
        print(
            f"query {i:2d} from {source:5d} ({'-' if i % 2 else '+'}): search"
            f" {1e3 * latencies[-1]:6.0f} ms, exhaustive {exhaustive_times[-1]:6.1f} s,"
            f" top-10 identical: {same}, worst prefilter rank of a true top-10 hit: {worst},"
            f" top scores {[h.score for h in reference[:3]]}..{reference[-1].score if reference else ''}",
            flush=True,
        )
        if not same:
            print("  search:    ", [(h.key, h.score) for h in hits])
            print("  exhaustive:", [(h.key, h.score) for h in reference])

    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    print(
        f"\nsearch p50 {1e3 * p50:.0f} ms, p95 {1e3 * p95:.0f} ms; source target ranked first"
        f" in {self_first}/{len(queries)}"
    )
    cpus = len(os.sched_getaffinity(0))
    header = (
        "| targets | Mbp | k/window | candidates | index MB | sketch B/entry | build s | add ms"
        " | search p50 ms | search p95 ms | exhaustive median s | speed-up | identical top-10 | CPUs |"
    )
    exh = statistics.median(exhaustive_times) if exhaustive_times else float("nan")
    row = (
        f"| {len(bank):,} | {total_bp / 1e6:.1f} | {args.k}/{args.window} | {args.candidates}"
        f" | {index.nbytes / 1e6:.1f} | {blob_bytes / len(bank):.0f} | {t_sketch + t_build:.1f}"
        f" | {1e3 * statistics.median(add_times):.2f} | {1e3 * p50:.0f} | {1e3 * p95:.0f}"
        f" | {exh:.1f} | {exh / p50:.0f}x | {identical}/{len(exhaustive_times)} | {cpus} |"
    )
    print(header)
    print(
        "|" + "---|" * header.count("|")[:-1] if False else "|" + "---|" * (header.count("|") - 1)
    )
    print(row)
    if ranks:
        print(f"worst prefilter rank of a true top-10 hit over all queries: {max(ranks)}")
        print(f"identical Hit objects (coordinates, identity too): {same_alignments}/{len(ranks)}")
    return 0 if identical == len(exhaustive_times) else 1


if __name__ == "__main__":
    sys.exit(main())
