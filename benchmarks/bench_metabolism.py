"""Metabolism benchmarks: cellfoundry's engine beside COBRApy, in one run, same answers required.

Run::

    .venv/bin/python benchmarks/bench_metabolism.py                  # iJO1366, e_coli_core, iML1515
    .venv/bin/python benchmarks/bench_metabolism.py --models iJO1366 --repeat 3

For each model: FVA (all reactions, fraction 1.0 and 0.9), single gene deletions and single
reaction deletions, timed for COBRApy 0.32.1 with GLPK and ``processes=1`` (the baseline the
issue names) and for cellfoundry with one and with two processes. The answers are compared
before a time is reported (1e-6 scaled by the value; a mismatch aborts the run). Then all double
gene deletions (cellfoundry, two processes), checked against COBRApy knocking out 2,000 random
pairs one by one, with COBRApy's time for the whole table extrapolated from those pairs.

Each cellfoundry figure is the median of ``--repeat`` runs; COBRApy's runs once (its runs are
long and their spread is small beside the ratios). Peak memory: the largest proportional set
size (PSS: shared pages split between the processes sharing them) of this process and its
worker processes during the analysis, sampled every 250 ms from /proc; it includes the loaded
model and libraries (COBRApy's model objects, our compiled spec).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cobra
import numpy as np
import pandas as pd
from cobra.flux_analysis import (
    flux_variability_analysis,
    single_gene_deletion,
    single_reaction_deletion,
)

from cellfoundry import metabolism as cf

logging.getLogger("cobra").setLevel(logging.ERROR)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "models"


class PeakMemory:
    """The peak proportional set size of this process plus its children, from /proc."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = 0
        pids = [os.getpid()]
        try:
            children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text()
            pids += [int(p) for p in children.split()]
        except OSError:
            pass
        # proportional set size: pages a forked worker shares with its parent count once
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            # reading smaps_rollup walks the page tables of each process: sampled often, it
            # would take a good part of a core from the analysis being measured
            time.sleep(0.25)

    def __enter__(self) -> PeakMemory:
        self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float, float]:
    times = []
    result = None
    peak = 0
    for _ in range(repeat):
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
        peak = max(peak, mem.peak)
    return result, statistics.median(times), peak / 2**20


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


ARBITER: dict[str, cobra.Model] = {}


def check_fva(ours: pd.DataFrame, ref: pd.DataFrame, label: str) -> int:
    """Count bounds that differ from COBRApy-GLPK where COBRApy-HiGHS agrees with GLPK.

    On degenerate optimal faces GLPK alone can stop short (iJO1366's OPHHX3 maximum at
    fraction 1.0: 2.2e-4 where exact solvers give 0); there COBRApy with HiGHS decides.
    """
    bad = 0
    fraction = float(label.rsplit(" ", 1)[-1])
    for rid in ref.index:
        for col in ("minimum", "maximum"):
            mine, glpk = float(ours.at[rid, col]), float(ref.at[rid, col])
            if close(mine, glpk):
                continue
            other = ARBITER["model"].copy()
            other.solver = "hybrid"
            other.solver.configuration.timeout = 600
            highs = float(
                flux_variability_analysis(
                    other, reaction_list=[rid], fraction_of_optimum=fraction
                ).at[rid, col]
            )
            verdict = "ours agrees with HiGHS" if close(mine, highs) else "DIFFERS"
            print(
                f"  {label}: {rid} {col} ours {mine!r} COBRApy-GLPK {glpk!r} "
                f"COBRApy-HiGHS {highs!r}: {verdict}"
            )
            if not close(mine, highs) or close(glpk, highs):
                bad += 1
    return bad


def check_deletions(ours: pd.DataFrame, ref: pd.DataFrame, label: str) -> int:
    a = ours.assign(k=ours["ids"].map(frozenset)).set_index("k")
    b = ref.assign(k=ref["ids"].map(frozenset)).set_index("k")
    bad = 0
    for key in b.index:
        if not close(float(a.at[key, "growth"]), float(b.at[key, "growth"])):
            bad += 1
            print(
                f"  {label}: {sorted(key)} ours {a.at[key, 'growth']} cobra {b.at[key, 'growth']}"
            )
    return bad


def load(name: str) -> cobra.Model:
    if name in ("iJO1366", "textbook"):
        return cobra.io.load_model(name)
    path = SHARED / name
    if path.suffix == ".json":
        return cobra.io.load_json_model(str(path))
    return cobra.io.read_sbml_model(str(path))


def row(table: list[list[str]], *cells: object) -> None:
    table.append([str(c) for c in cells])
    print(" | ".join(str(c) for c in cells), flush=True)


FAILURES: list[str] = []


def bench_model(name: str, repeat: int, doubles: bool, table: list[list[str]]) -> None:
    model = load(name)
    ARBITER["model"] = model
    spec = cf.load_model(model)
    label = model.id
    print(f"\n## {label}: {len(model.reactions)} reactions, {len(model.genes)} genes", flush=True)
    analyses: list[tuple[str, Callable[[], Any], Callable[[int], Any], Callable[..., int]]] = [
        (
            "FVA, fraction 1.0",
            lambda: flux_variability_analysis(model, fraction_of_optimum=1.0, processes=1),
            lambda p: cf.fva(spec, fraction_of_optimum=1.0, processes=p),
            check_fva,
        ),
        (
            "FVA, fraction 0.9",
            lambda: flux_variability_analysis(model, fraction_of_optimum=0.9, processes=1),
            lambda p: cf.fva(spec, fraction_of_optimum=0.9, processes=p),
            check_fva,
        ),
        (
            "single gene deletions",
            lambda: single_gene_deletion(model, processes=1),
            lambda p: cf.single_gene_deletion(spec, processes=p),
            check_deletions,
        ),
        (
            "single reaction deletions",
            lambda: single_reaction_deletion(model, processes=1),
            lambda p: cf.single_reaction_deletion(spec, processes=p),
            check_deletions,
        ),
    ]
    for title, ref_fn, our_fn, check in analyses:
        ref, t_ref, m_ref = timed(ref_fn)
        ours1, t1, m1 = timed(lambda f=our_fn: f(1), repeat)
        ours2, t2, m2 = timed(lambda f=our_fn: f(2), repeat)
        bad = check(ours1, ref, title) + check(ours2, ref, title)
        row(
            table,
            label,
            title,
            f"{t_ref:.2f} s ({m_ref:.0f} MB)",
            f"{t1:.2f} s ({m1:.0f} MB)",
            f"{t2:.2f} s ({m2:.0f} MB)",
            f"{t_ref / t1:.1f}x",
            f"**{t_ref / t2:.1f}x**",
            "identical" if bad == 0 else f"{bad} differ",
        )
        if bad:
            # measured on: the table says how many differ, and the run fails at the end
            FAILURES.append(f"{label} {title}: {bad} answers differ from COBRApy")
    if not doubles:
        return
    screen, t_dd, m_dd = timed(
        lambda: cf.double_gene_deletion(spec, processes=2, as_screen=True), repeat
    )
    rng = random.Random(2000)
    genes = list(screen.rows)
    n = len(genes)
    sample = set()
    while len(sample) < min(2000, n * (n - 1) // 2):
        i, k = rng.randrange(n), rng.randrange(n)
        if i != k:
            sample.add((min(i, k), max(i, k)))
    t0 = time.perf_counter()
    bad = 0
    for i, k in sorted(sample):
        with model:
            model.genes.get_by_id(genes[i]).knock_out()
            model.genes.get_by_id(genes[k]).knock_out()
            value = model.slim_optimize()
        if not close(float(screen.growth[i, k]), value):
            bad += 1
            print(f"  pair {genes[i]} {genes[k]}: ours {screen.growth[i, k]} cobra {value}")
    per_pair = (time.perf_counter() - t0) / len(sample)
    cobra_total = per_pair * screen.pair_count
    row(
        table,
        label,
        f"all double gene deletions ({screen.pair_count:,} pairs; {screen.lp_count:,} LPs solved)",
        f"~{cobra_total / 60:.0f} min (extrapolated: {per_pair * 1e3:.1f} ms/pair x pairs)",
        "",
        f"{t_dd:.1f} s ({m_dd:.0f} MB)",
        "",
        f"**{cobra_total / t_dd:.0f}x**",
        f"{len(sample):,} sampled pairs identical" if bad == 0 else f"{bad} differ",
    )
    if bad:
        FAILURES.append(f"{label} double deletions: {bad} pairs differ from COBRApy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--models", default="iJO1366,textbook,iML1515.json", help="comma-separated list"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-doubles", action="store_true")
    args = parser.parse_args()
    print(f"cobra {cobra.__version__}, numpy {np.__version__}, {os.cpu_count()} cores")
    table: list[list[str]] = []
    for name in args.models.split(","):
        bench_model(name.strip(), args.repeat, not args.no_doubles, table)
    print(
        "\n| model | analysis | COBRApy (GLPK, 1 process) | cellfoundry, 1 process |"
        " cellfoundry, 2 processes | ratio, 1 process | ratio, 2 processes | answers |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for cells in table:
        print("| " + " | ".join(cells) + " |")
    if FAILURES:
        raise SystemExit("\n".join(FAILURES))


if __name__ == "__main__":
    sys.exit(main())
