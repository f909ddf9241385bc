"""Heterologous pathway search: 10 products not native to E. coli, in iJO1366 + the BiGG universe.

Run::

    .venv/bin/python benchmarks/bench_design_pathways.py             # 10 products, 3 runs each
    .venv/bin/python benchmarks/bench_design_pathways.py --repeat 5 --k 3

For each product, ``find_pathways(iJO1366, product, k=K)`` is timed (median of ``--repeat``
runs, after one warm-up search that compiles the chassis-universe context); the table shows
the smallest pathway found, its genes' source organisms, the maximal yield (mol/mol and g/g on
glucose, uptake 10 mmol/gDW/h, iJO1366's aerobic medium) and the best yield at 90 % of maximal
growth. Beside them: the published pathway, and the electron ceiling computed by hand from
the formulas (degree of reduction: glucose 24 e-, product γ = 4C + H − 2O − 3N + 5P + 6S − z;
no pathway can pass γ_glc/γ_P mol/mol, with every other carbon leaving as CO2).

Times include the universe loaded from its disk cache (built once, ~30 s, in
``$CELLFOUNDRY_CACHE`` or ``~/.cache/cellfoundry``).
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import time

import cobra.io

from cellfoundry.metabolism import load_model
from cellfoundry.metabolism.design.pathway import find_pathways
from cellfoundry.metabolism.design.universe import load_universe

logging.getLogger("cobra").setLevel(logging.ERROR)

# product id, name, formula (for the hand ceiling), published pathway with citation
PRODUCTS: list[tuple[str, str, str, str]] = [
    (
        "13ppd",
        "1,3-propanediol",
        "C3H8O2",
        "glycerol-3-P dehydrogenase + phosphatase (yeast DAR1, GPP2), glycerol dehydratase "
        "dhaB1-3 + yqhD (Nakamura & Whited 2003, Curr Opin Biotechnol 14:454)",
    ),
    (
        "ibutoh",
        "isobutanol",
        "C4H10O",
        "alsS, ilvC, ilvD, kivd + adh2 (Ehrlich keto-acid route); 0.41 g/g theoretical, "
        "86 % of it reached (Atsumi, Hanai & Liao 2008, Nature 451:86)",
    ),
    (
        "1btol",
        "1-butanol",
        "C4H10O",
        "Clostridial thl, hbd, crt, ter, adhE2 (Shen et al. 2011, Appl Environ Microbiol "
        "77:2905); from butyryl-CoA by reversed beta-oxidation (Dellomonaco et al. 2011, "
        "Nature 476:355)",
    ),
    (
        "iamoh",
        "3-methyl-1-butanol",
        "C5H12O",
        "leucine keto acid 4-methyl-2-oxopentanoate → kivd → adh2 (Atsumi et al. 2008; "
        "Connor & Liao 2008, Appl Environ Microbiol 74:5769)",
    ),
    (
        "btd_RR",
        "(R,R)-2,3-butanediol",
        "C4H10O2",
        "acetolactate synthase, acetolactate decarboxylase, (R,R)-butanediol dehydrogenase "
        "(Yan, Lee & Liao 2009, Org Biomol Chem 7:3914)",
    ),
    (
        "acetone",
        "acetone",
        "C3H6O",
        "thl, CoA-transferase ctfAB, acetoacetate decarboxylase adc from C. acetobutylicum "
        "(Bermejo et al. 1998, Appl Environ Microbiol 64:1079)",
    ),
    (
        "2ppoh",
        "isopropanol",
        "C3H8O",
        "thl, atoAD, adc + C. beijerinckii secondary adh (Hanai, Atsumi & Liao 2007, Appl "
        "Environ Microbiol 73:7814)",
    ),
    (
        "mev__R",
        "mevalonate",
        "C6H12O4",
        "atoB, HMG-CoA synthase + truncated HMG-CoA reductase from yeast (Martin et al. "
        "2003, Nat Biotechnol 21:796)",
    ),
    (
        "lycop",
        "lycopene",
        "C40H56",
        "crtE, crtB, crtI (Erwinia) on E. coli's MEP pathway (Farmer & Liao 2000, Nat "
        "Biotechnol 18:533)",
    ),
    (
        "caro",
        "beta-carotene",
        "C40H56",
        "crtE, crtB, crtI, crtY of Erwinia uredovora (Misawa et al. 1990, J Bacteriol 172:6704)",
    ),
]

_ELEMENT = re.compile(r"([A-Z][a-z]?)(\d*)")
_GAMMA = {"C": 4, "H": 1, "O": -2, "N": -3, "P": 5, "S": 6}


def electron_ceiling(formula: str) -> float:
    """Glucose's 24 electrons over the product's degree of reduction (neutral formula)."""
    gamma = 0
    for element, count in _ELEMENT.findall(formula):
        gamma += _GAMMA[element] * int(count or 1)
    return 24.0 / gamma


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    universe = load_universe()
    t_universe = time.perf_counter() - t0
    chassis = load_model(cobra.io.load_model("iJO1366"))
    t0 = time.perf_counter()
    find_pathways(chassis, "ibutoh", k=1, universe=universe)  # warm-up: chassis context
    t_context = time.perf_counter() - t0
    print(
        f"universe load (cache): {t_universe:.2f} s; first search incl. context: {t_context:.2f} s"
    )

    rows = []
    for pid, name, formula, published in PRODUCTS:
        times = []
        found = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            found = find_pathways(chassis, pid, k=args.k, universe=universe)
            times.append(time.perf_counter() - t0)
        best = found[0]
        organisms = sorted({g.organism.split(" (")[0] for g in best.genes})
        orphans = [r.id for r in best.reactions if not r.genes]
        y = best.max_yield
        at_90 = best.yield_at_90
        mass = "n/a" if y.mass_yield != y.mass_yield else f"{y.mass_yield:.3f}"
        rows.append(
            (
                name,
                f"{statistics.median(times):.2f}",
                str(len(found)),
                " + ".join(best.reaction_ids)
                + (f" (no BiGG gene: {', '.join(orphans)})" if orphans else ""),
                "; ".join(organisms) or "-",
                f"{y.molar_yield:.3f} ({mass})",
                "-" if at_90 is None else f"{at_90.molar_yield:.3f}",
                f"{electron_ceiling(formula):.3f}",
                published,
            )
        )
        print(f"{name}: {rows[-1][1]} s, {rows[-1][3]}", flush=True)

    header = (
        "| product | time (s, median) | pathways | smallest pathway (BiGG reactions added) "
        "| gene sources | max yield mol/mol (g/g) | yield at 90 % growth | electron ceiling "
        "mol/mol (hand) | published pathway |"
    )
    print()
    print(header)
    print("|" + "---|" * 9)
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
