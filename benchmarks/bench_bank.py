"""Bank benchmarks: bulk catalogue import, and text/facet search latency.

Run::

    .venv/bin/python benchmarks/bench_bank.py                      # SQLite, 100,000 strains
    .venv/bin/python benchmarks/bench_bank.py --postgres URL --pg-strains 1000000

* Import: ``cellfoundry bank import --kind strain`` of a 100,000-record catalogue CSV
  into a fresh SQLite bank (validation, lineage links, other accessions, history,
  full-text index, one transaction), median of ``--repeat`` runs. Beside it, the
  floor: Python's ``sqlite3`` ``executemany`` of the same rows into one bare table
  with no validation, no history and no index (what a hand-rolled spreadsheet
  loader would do) — the ratio says what the bank's guarantees cost.
* Search: a mix of free-text, accession, other-collection number, facet, parent
  and paging queries, each returning a page, the total and five facet counts;
  p50/p95 over ``--queries`` queries after a warm-up.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from catalogue_data import COLUMNS, write_catalogue_csv

from cellfoundry.bank.policy import ANONYMOUS, SYSTEM
from cellfoundry.bank.search import StrainQuery
from cellfoundry.bank.services import Bank, read_and_import

CACHE = Path(__file__).resolve().parent / ".cache"


def bench_import(csv_path: Path, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            bank = Bank.open(f"sqlite:///{tmp}/bench.db")
            t0 = time.perf_counter()
            report = read_and_import(bank, csv_path, kind="strain", actor="bench")
            times.append(time.perf_counter() - t0)
            assert report.strains > 0
            bank.close()
    floor = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            conn = sqlite3.connect(f"{tmp}/floor.db")
            conn.execute(f"CREATE TABLE strains ({', '.join(c + ' TEXT' for c in COLUMNS)})")
            with csv_path.open(newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                next(reader)
                conn.executemany(
                    f"INSERT INTO strains VALUES ({', '.join('?' for _ in COLUMNS)})", reader
                )
            conn.commit()
            conn.close()
            floor.append(time.perf_counter() - t0)
    return statistics.median(times), statistics.median(floor)


KINDS = [
    "common word (50-100k hits at 1M)",
    "accession",
    "other collection's number",
    "risk group + availability",
    "genus + organism type",
    "word + genus + risk group",
    "children of a parent",
    "taxon prefix",
    "browse page at offset",
    "two words + availability",
]


def query_mix(n_strains: int, count: int, seed: int = 7) -> list[StrainQuery]:
    rng = np.random.default_rng(seed)
    words = [
        "coli",
        "subtilis",
        "Aspergillus",
        "ldhA",
        "sediment",
        "rhizosphere",
        "yeast",
        "glutamicum",
        "ptsG",
        "compost",
    ]
    queries: list[StrainQuery] = []
    for i in range(count):
        kind = i % 10
        acc = f"BJ{int(rng.integers(1, n_strains)):07d}"
        if kind == 0:
            queries.append(StrainQuery(text=words[int(rng.integers(0, len(words)))]))
        elif kind == 1:
            queries.append(StrainQuery(text=acc))
        elif kind == 2:
            queries.append(
                StrainQuery(text=f"ATCC {100000 + 7 * int(rng.integers(0, n_strains // 7))}")
            )
        elif kind == 3:
            queries.append(StrainQuery(risk_group=(2,), status=("restricted",)))
        elif kind == 4:
            queries.append(StrainQuery(genus=("Pseudomonas",), organism_type=("bacterium",)))
        elif kind == 5:
            queries.append(StrainQuery(text="soil", risk_group=(1,), genus=("Bacillus",)))
        elif kind == 6:
            queries.append(StrainQuery(parent=acc))
        elif kind == 7:
            queries.append(StrainQuery(taxon="Aspergillus nig"))
        elif kind == 8:
            queries.append(StrainQuery(offset=int(rng.integers(0, 200)) * 25))
        else:
            queries.append(StrainQuery(text="coli ldhA", status=("available",)))
    return queries


def bench_search(bank: Bank, n_strains: int, count: int) -> tuple[float, float, float]:
    queries = query_mix(n_strains, count)
    for q in queries[:20]:
        bank.search(q)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        bank.search(q)
        times.append(time.perf_counter() - t0)
    arr = np.array(times) * 1000
    for kind, name in enumerate(KINDS):
        part = arr[kind::10]
        print(
            f"    {name:<36} p50 {np.percentile(part, 50):7.1f} ms  p95 {np.percentile(part, 95):7.1f} ms",
            flush=True,
        )
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95)), float(arr.max())


def hide(bank: Bank, fraction: float) -> None:
    """Make every n-th strain private (n = 1 / fraction), as patent deposits would be."""
    if fraction <= 0:
        return
    step = max(1, round(1 / fraction))
    with bank.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE strains SET visibility = 'private' WHERE mod(id, {step}) = 0")
        conn.exec_driver_sql("ANALYZE")


def load_postgres(url: str, n: int) -> Bank:
    from cellfoundry.bank import formats
    from cellfoundry.bank.formats import catalogue  # noqa: F401  (loads the submodule)

    bank = Bank.open(url)
    have = bank.counts().strains
    if have >= n:
        return bank
    if have:
        raise SystemExit(f"{url} holds {have} strains; give an empty database")
    csv_path = write_catalogue_csv(CACHE / f"catalogue_{n}.csv", n)
    t0 = time.perf_counter()
    batch = []
    done = 0
    for rec in formats.catalogue.iter_catalogue(csv_path):
        batch.append(rec)
        if len(batch) == 100_000:
            bank.import_strains(batch, actor="bench", source=str(csv_path))
            done += len(batch)
            batch = []
            print(f"  loaded {done} strains in {time.perf_counter() - t0:.0f} s", flush=True)
    if batch:
        bank.import_strains(batch, actor="bench", source=str(csv_path))
    with bank.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"  loaded {n} strains into PostgreSQL in {time.perf_counter() - t0:.0f} s", flush=True)
    return bank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strains", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--postgres", default=os.environ.get("CELLFOUNDRY_BENCH_POSTGRES_URL"))
    parser.add_argument("--pg-strains", type=int, default=1_000_000)
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument(
        "--hidden-fraction",
        type=float,
        default=0.1,
        help="share of strains made private (patent deposits, unpublished work) before the "
        "search runs; the mix then runs for a curator (sees all) and for a visitor",
    )
    args = parser.parse_args()

    csv_path = write_catalogue_csv(CACHE / f"catalogue_{args.strains}.csv", args.strains)
    rows = []
    if not args.skip_import:
        t_bank, t_floor = bench_import(csv_path, args.repeat)
        rows.append(
            f"| bulk import, {args.strains:,} catalogue strains, SQLite | {t_bank:.1f} s "
            f"| {t_floor:.1f} s (bare sqlite3 executemany, no checks) | {t_bank / t_floor:.1f}x |"
        )
        print(rows[-1], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        bank = Bank.open(f"sqlite:///{tmp}/search.db")
        read_and_import(bank, csv_path, kind="strain", actor="bench")
        hide(bank, args.hidden_fraction)
        for who, viewer in (("curator", SYSTEM), ("visitor", ANONYMOUS)):
            print(f"  as {who}:", flush=True)
            p50, p95, worst = bench_search(bank.as_viewer(viewer), args.strains, args.queries)
            rows.append(
                f"| text/facet search, {args.strains:,} strains ({args.hidden_fraction:.0%} "
                f"private), SQLite, as {who} | p50 {p50:.1f} ms, "
                f"p95 {p95:.1f} ms (max {worst:.0f} ms) | | |"
            )
            print(rows[-1], flush=True)
        bank.close()
    if args.postgres:
        bank = load_postgres(args.postgres, args.pg_strains)
        p50, p95, worst = bench_search(bank, args.pg_strains, args.queries)
        rows.append(
            f"| text/facet search, {args.pg_strains:,} strains, PostgreSQL | p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms (max {worst:.0f} ms) | | |"
        )
        print(rows[-1], flush=True)
        bank.close()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
