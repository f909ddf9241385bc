"""Knock-out search for growth-coupled succinate in iJO1366: cellfoundry's OptKnock beside StrainDesign.

Run::

    .venv/bin/python benchmarks/bench_design_knockouts.py                   # 120 s per search
    .venv/bin/python benchmarks/bench_design_knockouts.py --time-limit 600 --solver scip

The problem, set up identically for both tools: iJO1366 (COBRApy's bundled copy), glucose
uptake 10 mmol/gDW/h, no oxygen (EX_o2_e lower bound 0), inner objective the core biomass
reaction, outer objective succinate secretion (EX_succ_e), growth at least 10 % of the wild
type's, at most 3 reaction knock-outs, candidates the reactions cellfoundry's
``knockout_candidates`` keeps (gene rule, no exchange or transport, not blocked, not
essential, outside the peripheral subsystems), passed to StrainDesign as its ``ko_cost``.
Both run in this process, one after the other, with the same wall-clock limit. StrainDesign
runs OptKnock with the best MILP solver installed here (SCIP through PySCIPOpt by default;
GLPK with ``--solver glpk``); cellfoundry runs its OptKnock MILP in HiGHS after a
screening search by LP. Every design is re-evaluated by the same engine (``evaluate``: the
product's minimum and maximum at maximal growth), so "guaranteed" is comparable.

A second row runs both on the central-metabolism candidates only (glycolysis, TCA, pyruvate
metabolism, anaplerotic, pentose phosphate, glyoxylate), the setting of OptKnock's original
succinate study.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import cobra

from cellfoundry.metabolism import load_model
from cellfoundry.metabolism.design import evaluate
from cellfoundry.metabolism.design.knockouts import KnockoutSearch, knockout_candidates, optknock

logging.getLogger("cobra").setLevel(logging.ERROR)

BIOMASS = "BIOMASS_Ec_iJO1366_core_53p95M"
CENTRAL = {
    "Glycolysis/Gluconeogenesis",
    "Citric Acid Cycle",
    "Pyruvate Metabolism",
    "Anaplerotic Reactions",
    "Pentose Phosphate Pathway",
    "Glyoxylate Metabolism",
}


def run_straindesign(
    model: cobra.Model, candidates: list[str], floor: float, time_limit: float, solver: str
) -> tuple[list[tuple[str, ...]], float, str]:
    import straindesign as sd

    logging.getLogger().setLevel(logging.ERROR)
    module = sd.SDModule(
        model,
        sd.names.OPTKNOCK,
        inner_objective=BIOMASS,
        outer_objective="EX_succ_e",
        constraints=[f"{BIOMASS} >= {floor:g}"],
    )
    t0 = time.perf_counter()
    try:
        solutions = sd.compute_strain_designs(
            model,
            sd_modules=[module],
            max_cost=3,
            max_solutions=1,
            solution_approach="best",
            solver=solver,
            ko_cost=dict.fromkeys(candidates, 1),
            time_limit=time_limit,
        )
        designs = [
            tuple(sorted(r for r, v in d.items() if v < 0)) for d in solutions.get_reaction_sd()
        ]
        status = str(getattr(solutions, "status", "done"))
    except Exception as exc:  # report, do not abort the comparison
        designs, status = [], f"error: {exc}"
    return designs, time.perf_counter() - t0, status


def describe(spec: Any, knockouts: tuple[str, ...]) -> str:
    e = evaluate(spec, "EX_succ_e", "EX_glc__D_e", knockouts)
    coupled = "yes" if e.growth_coupled else "no"
    return f"{e.growth:.3f} | {e.product_min:.2f} | {e.product_max:.2f} | {coupled}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--solver", default="scip", choices=["scip", "glpk"])
    parser.add_argument("--skip-straindesign", action="store_true")
    args = parser.parse_args()

    model = cobra.io.load_model("iJO1366")
    model.reactions.EX_o2_e.lower_bound = 0.0
    spec = load_model(model)
    wild_growth = model.slim_optimize()
    floor = 0.1 * wild_growth
    everything = sorted(knockout_candidates(spec, min_growth=floor))
    central = [r for r in everything if spec.subsystems[spec.reaction_index(r)] in CENTRAL]

    rows = []
    for label, candidates in (("all candidates", everything), ("central metabolism", central)):
        report: list[KnockoutSearch] = []
        t0 = time.perf_counter()
        designs = optknock(
            spec,
            "EX_succ_e",
            max_knockouts=3,
            candidates=candidates,
            min_growth=floor,
            time_limit=args.time_limit,
            report=report,
        )
        ours_time = time.perf_counter() - t0
        ours = designs[0] if designs else None
        ours_cells = (
            f"{', '.join(ours.knockouts)} | {describe(spec, ours.knockouts)}"
            if ours
            else "none | | | |"
        )
        status = report[0].statuses[0] if report and report[0].statuses else "-"
        rows.append(
            f"| {label} ({len(candidates)}) | cellfoundry OptKnock (HiGHS, {status}) | "
            f"{ours_time:.0f} | {ours_cells} |"
        )
        if not args.skip_straindesign:
            found, sd_time, sd_status = run_straindesign(
                model, candidates, floor, args.time_limit, args.solver
            )
            cells = (
                f"{', '.join(found[0])} | {describe(spec, found[0])}"
                if found
                else f"none ({sd_status}) | | | |"
            )
            rows.append(
                f"| {label} ({len(candidates)}) | StrainDesign OptKnock ({args.solver}) | "
                f"{sd_time:.0f} | {cells} |"
            )
        print(rows[-1], flush=True)

    print()
    print(
        f"Succinate from glucose, iJO1366 anaerobic, ≤ 3 knock-outs, growth ≥ {floor:.3f} /h, "
        f"time limit {args.time_limit:.0f} s per search"
    )
    print()
    print(
        "| candidates | tool | time (s) | reactions removed | growth (/h) | "
        "succinate min | succinate max | growth-coupled |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
