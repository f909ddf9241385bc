"""Simulated DBTL cycles: the ensemble recommender beside random selection and a one-shot DoE.

Run::

    .venv/bin/python benchmarks/bench_dbtl.py                       # 20 seeds, 5 cycles of 24
    .venv/bin/python benchmarks/bench_dbtl.py --seeds 6 --first-seed 0    # the tuning seeds

The ground truth is ``cellfoundry.testing.dbtl``: a 4-enzyme linear pathway
(Michaelis-Menten steps, a toxic intermediate that slows growth, expression burden, a
competing branch that can be knocked out), integrated with ``solve_ivp`` to a titre. The
design space is a promoter (5 levels) and an RBS (3 levels) per gene and the knock-out
switch: 101,250 designs, every one simulated once to know the optimum. Measurements carry
10 % log-normal noise.

Per seed, all methods share the simulator and the seed's first batch:

* **learner**: cycle 1 is a Latin-hypercube batch of 24; in each later cycle the
  recommender is fitted to every strain measured so far and proposes 24 more;
* **random**: the same first batch, then 24 uniformly random new designs per cycle;
* **DoE**: one Latin-hypercube design of all 120 strains (the best of 50 LHS draws by the
  maximin number of differing factors), built and measured at once.

After each cycle the campaign's pick is the strain with the highest *measured* titre; a
seed succeeds when that strain's *true* titre is at least 90 % of the optimum ("best
built" also counts a seed when any strain built so far reaches 90 %, whether or not the
noisy measurement singled it out).

Tuning used seeds 0-5 only (``--first-seed 0 --seeds 6``): expected improvement with
ξ = 0.01, batch picks differing in at least two factors, the four-model ensemble; learning
the titre itself reached 90 % in 4 of 6 tuning seeds, learning log(titre) (``--log-target``,
now the default) in 5 of 6. The reported table uses seeds 1000-1019, never used in tuning.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np

from cellfoundry.learn import Recommender
from cellfoundry.testing.dbtl import DBTLSimulator

THRESHOLD = 0.9


@dataclass
class Campaign:
    """Level indices and measurements of every strain built so far."""

    idx: np.ndarray
    measured: np.ndarray
    picked: list[float] = field(default_factory=list)  # true titre of the measured best
    built: list[float] = field(default_factory=list)  # best true titre among all built
    confirm: int = 0  # re-test the best `confirm` strains before picking
    replicates: int = 3
    confirm_noise: np.random.Generator | None = None
    confirmed: list[float] = field(default_factory=list)  # true titre of the confirmed pick

    def record(self, sim: DBTLSimulator) -> None:
        true = sim.true_titres_of_indices(self.idx)
        self.picked.append(float(true[int(np.argmax(self.measured))]))
        self.built.append(float(true.max()))
        if self.confirm and self.confirm_noise is not None:
            top = np.argsort(self.measured)[-self.confirm :]
            again = np.stack(
                [
                    sim.measure_indices(self.idx[top], self.confirm_noise)
                    for _ in range(self.replicates)
                ]
            )
            means = (self.measured[top] + again.sum(axis=0)) / (1 + self.replicates)
            self.confirmed.append(float(true[int(top[int(np.argmax(means))])]))

    def add(self, idx: np.ndarray, sim: DBTLSimulator, noise: np.random.Generator) -> None:
        self.idx = np.concatenate([self.idx, idx])
        self.measured = np.concatenate([self.measured, sim.measure_indices(idx, noise)])
        self.record(sim)


def new_random(
    space_idx_rng: np.random.Generator, sim: DBTLSimulator, have: np.ndarray, n: int
) -> np.ndarray:
    space = sim.design_space
    seen = {tuple(r) for r in have.tolist()}
    out: list[tuple[int, ...]] = []
    while len(out) < n:
        for row in space.sample_indices(n, space_idx_rng).tolist():
            if tuple(row) not in seen and len(out) < n:
                seen.add(tuple(row))
                out.append(tuple(row))
    return np.asarray(out, dtype=np.int64)


def maximin_lhs(
    sim: DBTLSimulator, n: int, rng: np.random.Generator, draws: int = 50
) -> np.ndarray:
    best, best_score = None, (-1, -1)
    for _ in range(draws):
        idx = sim.design_space.sample_indices(n, rng, method="lhs")
        diff = (idx[:, None, :] != idx[None, :, :]).sum(axis=2)
        np.fill_diagonal(diff, idx.shape[1] + 1)
        score = (int(diff.min()), int((diff == diff.min()).sum() * -1))
        if score > best_score:
            best, best_score = idx, score
    assert best is not None
    return best


def run_seed(sim: DBTLSimulator, seed: int, args: argparse.Namespace) -> dict[str, Campaign]:
    streams = np.random.SeedSequence([20261128, seed]).spawn(6)
    init_rng, noise_seed, learn_rng, random_rng, doe_rng, confirm_seed = streams
    first = sim.design_space.sample_indices(
        args.batch, np.random.default_rng(init_rng), method="lhs"
    )

    out: dict[str, Campaign] = {}
    # learner and random share the first batch and the noise stream of each cycle
    for method in ("learner", "random"):
        noise = np.random.default_rng(noise_seed)
        camp = Campaign(
            np.empty((0, first.shape[1]), dtype=np.int64),
            np.empty(0),
            confirm=args.confirm,
            confirm_noise=np.random.default_rng(confirm_seed),
        )
        camp.add(first, sim, noise)
        rng = np.random.default_rng(learn_rng if method == "learner" else random_rng)
        for _ in range(args.cycles - 1):
            if method == "learner":
                rec = Recommender(
                    sim.design_space, models=tuple(args.models), log_target=args.log_target
                )
                rec.fit(camp.idx, camp.measured, rng)
                batch = rec.recommend(
                    args.batch,
                    rng,
                    acquisition=args.acquisition,
                    exploration=args.exploration,
                    min_distance=args.min_distance,
                    max_candidates=args.max_candidates,
                ).indices
            else:
                batch = new_random(rng, sim, camp.idx, args.batch)
            camp.add(batch, sim, noise)
        out[method] = camp

    noise = np.random.default_rng(noise_seed)
    doe = maximin_lhs(sim, args.batch * args.cycles, np.random.default_rng(doe_rng))
    camp = Campaign(
        np.empty((0, first.shape[1]), dtype=np.int64),
        np.empty(0),
        confirm=args.confirm,
        confirm_noise=np.random.default_rng(confirm_seed),
    )
    camp.add(doe, sim, noise)
    out["doe"] = camp
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--acquisition", default="ei", choices=["ei", "ucb", "thompson", "mean"])
    ap.add_argument("--exploration", type=float, default=None)
    ap.add_argument("--min-distance", type=int, default=2)
    ap.add_argument("--max-candidates", type=int, default=50_000)
    ap.add_argument("--models", nargs="+", default=["forest", "boosting", "gp", "ridge"])
    ap.add_argument("--log-target", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument(
        "--confirm",
        type=int,
        default=3,
        help="also report a pick made after re-testing the best N measured strains in "
        "triplicate (0: off); fixed at 3 before any run, not tuned",
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    sim = DBTLSimulator()
    land = sim.landscape()
    _, opt = sim.optimum()
    t_land = time.perf_counter() - t0
    frac90 = float((land >= THRESHOLD * opt).mean())
    print(
        f"design space: {sim.design_space.size} designs; landscape simulated in {t_land:.1f} s; "
        f"optimum {opt:.2f} mM; {frac90 * 100:.3f} % of designs reach 90 %"
    )

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results: list[dict[str, Campaign]] = []
    t1 = time.perf_counter()
    for s in seeds:
        ts = time.perf_counter()
        results.append(run_seed(sim, s, args))
        r = results[-1]
        print(
            f"seed {s}: learner {[round(v / opt, 2) for v in r['learner'].picked]} "
            f"random {[round(v / opt, 2) for v in r['random'].picked]} "
            f"doe {r['doe'].picked[0] / opt:.2f}  ({time.perf_counter() - ts:.1f} s)",
            flush=True,
        )
    t_runs = time.perf_counter() - t1

    def frac(method: str, attr: str, cycle: int) -> float:
        return float(np.mean([getattr(r[method], attr)[cycle] >= THRESHOLD * opt for r in results]))

    def median(method: str, cycle: int) -> float:
        return float(np.median([r[method].picked[cycle] / opt for r in results]))

    n = len(results)
    print()
    print(
        f"Seeds {args.first_seed}-{args.first_seed + n - 1}; share of seeds whose pick (highest measured "
        f"titre) is truly ≥ 90 % of the optimum; in brackets: any strain built so far ≥ 90 %; "
        f"median pick / optimum after it."
    )
    print()
    header = (
        "| method | "
        + " | ".join(f"cycle {c + 1} ({(c + 1) * args.batch} strains)" for c in range(args.cycles))
        + " |"
    )
    print(header)
    print("|" + "---|" * (args.cycles + 1))
    for method, label in (
        ("learner", f"ensemble recommender ({args.acquisition})"),
        ("random", "random selection"),
    ):
        cells = [
            f"{frac(method, 'picked', c):.0%} ({frac(method, 'built', c):.0%}); {median(method, c):.2f}"
            for c in range(args.cycles)
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    if args.confirm:
        for method, label in (
            ("learner", f"ensemble recommender ({args.acquisition}), pick confirmed"),
            ("random", "random selection, pick confirmed"),
        ):
            cells = [f"{frac(method, 'confirmed', c):.0%}" for c in range(args.cycles)]
            print(f"| {label} | " + " | ".join(cells) + " |")
    doe_cell = (
        f"{frac('doe', 'picked', 0):.0%} ({frac('doe', 'built', 0):.0%}); {median('doe', 0):.2f}"
    )
    if args.confirm:
        doe_cell += f"; confirmed {frac('doe', 'confirmed', 0):.0%}"
    print(
        f"| one-shot maximin LHS, {args.batch * args.cycles} strains | "
        + " | ".join(["–"] * (args.cycles - 1))
        + f" | {doe_cell} |"
    )
    print()
    print(
        f"wall time: landscape {t_land:.1f} s, {n} seeds × 3 methods {t_runs:.1f} s ({t_runs / n:.1f} s per seed)"
    )


if __name__ == "__main__":
    main()
