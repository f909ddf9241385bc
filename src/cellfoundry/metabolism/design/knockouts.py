r"""Growth-coupled knock-out designs: OptKnock as one MILP, and minimal cut sets.

:func:`optknock` is OptKnock (Burgard, Pharkya & Maranas 2003): choose at most ``K``
reactions to remove so that the cell, maximising its growth, must secrete the product. The
bilevel problem

.. math::

    \max_{y} \; v_P \quad \text{s.t.} \quad
    v \in \arg\max \{ c^\top v : S v = 0,\; y_j\,lb_j \le v_j \le y_j\,ub_j \},
    \quad \textstyle\sum_j (1 - y_j) \le K,\; y \in \{0,1\}

becomes one MILP by strong duality of the inner LP: the inner dual's constraints
``Sᵀλ + a − b + w = c`` (``a``, ``b`` ≥ 0 the duals of the upper and lower bounds, ``w`` the
free dual of a removed reaction's ``v_j = 0``) and ``cᵀv ≥ ubᵀa − lbᵀb`` (weak duality gives
the other direction, so the inner problem is at its optimum). A removed reaction's bound duals
and a kept reaction's ``w`` are switched off by big-M constraints on ``y``. HiGHS solves it.

OptKnock's inner problem is optimistic: among the flux distributions of maximal growth it
takes the one with the most product, which a cell need not choose. By default the inner
objective is *tilted* (``c − δ·e_P``, as in the tilted OptKnock of Feist et al. 2010 and
StrainDesign), so the inner optimum is the maximal-growth distribution with the least
product and the MILP maximises the guaranteed production. Either way every design is
re-checked by :func:`~cellfoundry.metabolism.design.evaluate.evaluate` (the product's minimum
at maximal growth), and the design says whether it is truly growth-coupled.

The search space is reduced as the literature does: only reactions with a gene rule, no
exchange (and by default no transport) reactions, nothing blocked and nothing whose removal
alone drops growth below the minimum; the network is compressed (blocked reactions removed,
reactions in a fixed ratio lumped into one column, so one candidate stands for each fully
coupled group). Designs come back at gene level: the fewest gene deletions (by the gene
rules) that disable the chosen reactions and still let the strain grow; the reactions they
disable are the design's ``knockouts``.

:func:`minimal_cut_sets` wraps StrainDesign (Schneider et al. 2022) for minimal cut sets that
guarantee a product yield in every growing flux state (strong coupling).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import Progress
from cellfoundry.metabolism.deletion import single_reaction_deletion
from cellfoundry.metabolism.design._compress import CompressedNetwork, compress
from cellfoundry.metabolism.design._gpr import GeneSet, cheapest_combinations, gene_cuts
from cellfoundry.metabolism.design._types import GeneticModification, StrainDesign
from cellfoundry.metabolism.design.evaluate import evaluate
from cellfoundry.metabolism.flux import base_lp, fraction_row_slack, fva, raise_for_status
from cellfoundry.metabolism.lp import LP, SolverName, _quiet_highs, objective_terms
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = [
    "KnockoutSearch",
    "growth_coupled_designs",
    "knockout_candidates",
    "minimal_cut_sets",
    "optknock",
]

FloatArray = NDArray[np.float64]
KnockoutMethod = Literal["optknock", "mcs"]

#: genes that are not genes: iJO1366's and iML1515's ``s0001`` marks spontaneous reactions
DEFAULT_PROTECTED_GENES: tuple[str, ...] = ("s0001",)

#: subsystems left out of knock-out searches by default: the cell envelope, lipids, cofactors
#: and salvage pathways, whose reactions rarely redirect central carbon but multiply the
#: search space (genome-scale OptKnock runs restrict candidates to central metabolism, e.g.
#: Feist et al. 2010). Pass ``exclude_subsystems=()`` to search everything.
PERIPHERAL_SUBSYSTEMS: tuple[str, ...] = (
    "Cell Envelope Biosynthesis",
    "Cofactor and Prosthetic Group Biosynthesis",
    "Glycerophospholipid Metabolism",
    "Inorganic Ion Transport and Metabolism",
    "Lipopolysaccharide Biosynthesis / Recycling",
    "Membrane Lipid Metabolism",
    "Murein Biosynthesis",
    "Murein Recycling",
    "Nucleotide Salvage Pathway",
    "tRNA Charging",
    "Transport, Inner Membrane",
    "Transport, Outer Membrane",
    "Transport, Outer Membrane Porin",
)

# a product flux above this counts as production (mmol/gDW/h)
_PRODUCES = 1e-6
# the inner objective's tilt: growth − δ·product picks the least product at maximal growth
_DEFAULT_TILT = 1e-3
# bound on the duals of the removable reactions' bounds (the MILP's big M)
_DEFAULT_BIG_M = 1000.0
# share of the time limit given to the LP screen that seeds the MILP
_SCREEN_SHARE = 0.5


# ---------------------------------------------------------------------------------------------
# preparation: flux ranges and the compressed network, once per model

_PREPARED: OrderedDict[str, tuple[FloatArray, FloatArray, CompressedNetwork]] = OrderedDict()
_PREPARED_LOCK = threading.Lock()
_PREPARED_KEEP = 4


def _prepare(spec: ModelSpec) -> tuple[FloatArray, FloatArray, CompressedNetwork]:
    """Return the model's flux ranges (FVA at 0 % of optimum) and its compressed network."""
    key = spec.digest
    with _PREPARED_LOCK:
        hit = _PREPARED.get(key)
        if hit is not None:
            _PREPARED.move_to_end(key)
            return hit
    ranges = fva(spec, fraction_of_optimum=0.0)
    lo = ranges["minimum"].to_numpy(dtype=float)
    hi = ranges["maximum"].to_numpy(dtype=float)
    prepared = (lo, hi, compress(spec, lo, hi))
    with _PREPARED_LOCK:
        _PREPARED[key] = prepared
        while len(_PREPARED) > _PREPARED_KEEP:
            _PREPARED.popitem(last=False)
    return prepared


def _is_transport(spec: ModelSpec, csc: sp.csc_matrix, j: int) -> bool:
    rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
    return len({spec.compartments[int(i)] for i in rows}) > 1


def knockout_candidates(
    model: ModelSource,
    *,
    min_growth: float | None = None,
    candidates: Collection[str] | None = None,
    exclude_transport: bool = True,
    exclude_subsystems: Collection[str] = PERIPHERAL_SUBSYSTEMS,
    protected_genes: Collection[str] = DEFAULT_PROTECTED_GENES,
) -> dict[str, list[tuple[str, ...]]]:
    """Return the reactions a knock-out search considers, with the gene sets that disable each.

    A reaction is a candidate when it has a gene rule, is not an exchange (nor a transport
    reaction, unless ``exclude_transport=False``), can carry flux, its removal alone leaves
    growth at ``min_growth`` or more, and some small set of its genes (none ``protected``)
    disables it without disabling a reaction the strain cannot grow without.

    Parameters
    ----------
    model
        The chassis under the design's conditions (medium, oxygen), objective growth.
    min_growth
        Growth a design must keep (default: 10 % of the wild type's).
    candidates
        Reaction ids to choose from (default: every reaction); the filters above still apply.
    exclude_transport
        Leave out reactions whose metabolites sit in more than one compartment.
    protected_genes
        Genes never deleted (default: the spontaneous pseudo-gene ``s0001``).

    Returns
    -------
    dict
        Reaction id to its disabling gene sets (gene ids, smallest first).

    Examples
    --------
    >>> import cobra.io
    >>> found = knockout_candidates(cobra.io.load_model("textbook"))
    >>> found["LDH_D"]
    [('b1380', 'b2133')]
    """
    spec = load_model(model)
    table = _candidate_cuts(
        spec,
        _growth_floor(spec, min_growth),
        candidates,
        exclude_transport,
        exclude_subsystems,
        protected_genes,
    )
    return {
        spec.reactions[j]: [tuple(sorted(spec.genes[g] for g in cut)) for cut in cuts]
        for j, cuts in table.items()
    }


def _growth_floor(spec: ModelSpec, min_growth: float | None) -> float:
    lp = base_lp(spec, "glpk")
    status, wild_type = lp.solve()
    raise_for_status(spec, status)
    if min_growth is None:
        return 0.1 * wild_type
    if not (math.isfinite(min_growth) and min_growth >= 0.0):
        raise ValidationError(
            f"min_growth {min_growth!r} must be a finite growth rate ≥ 0", field="min_growth"
        )
    if min_growth > wild_type:
        raise ValidationError(
            f"min_growth {min_growth:g} is above the wild type's maximal growth "
            f"{wild_type:g}: no knock-out can reach it",
            field="min_growth",
        )
    return float(min_growth)


def _candidate_cuts(
    spec: ModelSpec,
    floor: float,
    candidates: Collection[str] | None,
    exclude_transport: bool,
    exclude_subsystems: Collection[str],
    protected_genes: Collection[str],
) -> dict[int, list[GeneSet]]:
    lo, hi, _ = _prepare(spec)
    csc = sp.csc_matrix(spec.S)
    boundary = set(spec.boundary.tolist())
    pool: Sequence[int]
    if candidates is None:
        pool = range(spec.n_reactions)
    else:
        pool = sorted({spec.reaction_index(str(r)) for r in candidates})
    open_ = (np.abs(lo) > 1e-8) | (np.abs(hi) > 1e-8)
    skip = {s.casefold() for s in exclude_subsystems}
    first = [
        j
        for j in pool
        if spec.rules[j] is not None
        and j not in boundary
        and open_[j]
        and spec.subsystems[j].casefold() not in skip
        and not (exclude_transport and _is_transport(spec, csc, j))
    ]
    # a reaction whose removal alone stops growth, and anything that disables it, is out
    screen = single_reaction_deletion(spec, [spec.reactions[j] for j in np.flatnonzero(open_)])
    growth = screen["growth"].to_numpy(dtype=float)
    essential = {
        spec.reaction_index(next(iter(ids)))
        for ids, g in zip(screen["ids"], growth, strict=True)
        if not (g >= floor)
    }
    protected = {spec.gene_lookup[g] for g in protected_genes if g in spec.gene_lookup}
    out: dict[int, list[GeneSet]] = {}
    for j in first:
        if j in essential:
            continue
        rule = spec.rules[j]
        assert rule is not None
        cuts = [
            cut
            for cut in gene_cuts(rule)
            if not (cut & protected) and not (set(spec.knocked_out(cut).tolist()) & essential)
        ]
        if cuts:
            out[j] = cuts
    return out


# ---------------------------------------------------------------------------------------------
# the OptKnock MILP


@dataclass(frozen=True)
class KnockoutSearch:
    """What a knock-out search did: problem sizes, solver statuses and times (for reports)."""

    reactions: int
    columns: int
    rows: int
    candidates: int
    candidate_columns: int
    screened: int
    statuses: tuple[str, ...]
    seconds: float


class _OptKnockMilp:
    """The single-level OptKnock MILP over a compressed network, in HiGHS."""

    def __init__(
        self,
        net: CompressedNetwork,
        growth: FloatArray,
        product: FloatArray,
        knockable: Sequence[int],
        *,
        max_knockouts: int,
        min_growth: float,
        tilt: float,
        big_m: float,
    ) -> None:
        import highspy

        self._hs = highspy
        n, m = net.n_columns, int(net.S.shape[0])
        kn = len(knockable)
        self.knockable = list(knockable)
        lb, ub = net.lb, net.ub
        c = growth - tilt * product
        inf = highspy.kHighsInf
        fin_lb = np.isfinite(lb)
        fin_ub = np.isfinite(ub)
        # variables: v (n) | λ (m) | a (n) | b (n) | y (kn) | w (kn)
        iv, il, ia, ib = 0, n, n + m, 2 * n + m
        iy, iw = 3 * n + m, 3 * n + m + kn
        self._iy = iy
        n_vars = 3 * n + m + 2 * kn
        col_lb = np.concatenate(
            [
                np.where(fin_lb, lb, -inf),
                np.full(m, -inf),
                np.zeros(n),
                np.zeros(n),
                np.zeros(kn),
                np.full(kn, -big_m),
            ]
        )
        col_ub = np.concatenate(
            [
                np.where(fin_ub, ub, inf),
                np.full(m, inf),
                np.where(fin_ub, inf, 0.0),  # no dual for a bound that is not there
                np.where(fin_lb, inf, 0.0),
                np.ones(kn),
                np.full(kn, big_m),
            ]
        )
        S = sp.csr_matrix(net.S)
        St = sp.csr_matrix(S.T)
        eye = sp.identity(n, format="csr")
        ko = np.asarray(self.knockable, dtype=np.int64)
        sel = sp.csr_matrix((np.ones(kn), (ko, np.arange(kn))), shape=(n, kn))
        blocks: list[sp.csr_matrix] = []
        row_lb: list[FloatArray] = []
        row_ub: list[FloatArray] = []

        def add(block: sp.spmatrix, lo: FloatArray, hi: FloatArray) -> None:
            blocks.append(sp.csr_matrix(block))
            row_lb.append(lo)
            row_ub.append(hi)

        def place(parts: dict[int, sp.spmatrix], n_rows: int) -> sp.csr_matrix:
            starts = sorted(parts)
            cols = []
            at = 0
            for start in starts:
                if start > at:
                    cols.append(sp.csr_matrix((n_rows, start - at)))
                cols.append(sp.csr_matrix(parts[start]))
                at = start + parts[start].shape[1]
            if at < n_vars:
                cols.append(sp.csr_matrix((n_rows, n_vars - at)))
            return sp.csr_matrix(sp.hstack(cols))

        # steady state
        add(place({iv: S}, m), np.zeros(m), np.zeros(m))
        # inner dual feasibility: Sᵀλ + a − b + w = c
        add(place({il: St, ia: eye, ib: -eye, iw: sel}, n), c, c)
        if kn:
            ko_lb = lb[ko]
            ko_ub = ub[ko]
            sel_t = sp.csr_matrix(sel.T)  # picks v_j (or a_j, b_j) of each knockable column
            y_eye = sp.identity(kn, format="csr")
            # a removed reaction carries no flux: lb·y ≤ v ≤ ub·y
            add(place({iv: sel_t, iy: -sp.diags(ko_ub)}, kn), np.full(kn, -inf), np.zeros(kn))
            add(place({iv: sel_t, iy: -sp.diags(ko_lb)}, kn), np.zeros(kn), np.full(kn, inf))
            # ... its bound duals vanish, and a kept reaction's w does
            add(place({ia: sel_t, iy: -big_m * y_eye}, kn), np.full(kn, -inf), np.zeros(kn))
            add(place({ib: sel_t, iy: -big_m * y_eye}, kn), np.full(kn, -inf), np.zeros(kn))
            add(place({iw: y_eye, iy: big_m * y_eye}, kn), np.full(kn, -inf), np.full(kn, big_m))
            add(place({iw: -y_eye, iy: big_m * y_eye}, kn), np.full(kn, -inf), np.full(kn, big_m))
            # at most K removed: Σ y ≥ kn − K
            add(
                place({iy: sp.csr_matrix(np.ones((1, kn)))}, 1),
                np.array([kn - max_knockouts]),
                np.array([inf]),
            )
        # strong duality: cᵀv − ubᵀa + lbᵀb ≥ 0
        duality = np.zeros(n_vars)
        duality[iv : iv + n] = c
        duality[ia : ia + n] = -np.where(fin_ub, ub, 0.0)
        duality[ib : ib + n] = np.where(fin_lb, lb, 0.0)
        add(sp.csr_matrix(duality), np.zeros(1), np.array([inf]))
        # the designed strain grows
        grow = np.zeros(n_vars)
        grow[iv : iv + n] = growth
        add(sp.csr_matrix(grow), np.array([min_growth]), np.array([inf]))
        matrix = sp.csc_matrix(sp.vstack(blocks))
        cost = np.zeros(n_vars)
        cost[iv : iv + n] = product

        h = _quiet_highs(highspy)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("mip_feasibility_tolerance", 1e-9)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        h.setOptionValue("mip_rel_gap", 1e-4)
        lp = highspy.HighsLp()
        lp.num_col_ = n_vars
        lp.num_row_ = int(matrix.shape[0])
        lp.col_cost_ = cost
        lp.col_lower_ = col_lb
        lp.col_upper_ = col_ub
        lp.row_lower_ = np.concatenate(row_lb).astype(float)
        lp.row_upper_ = np.concatenate(row_ub).astype(float)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.a_matrix_.num_col_ = n_vars
        lp.a_matrix_.num_row_ = int(matrix.shape[0])
        integrality = [highspy.HighsVarType.kContinuous] * n_vars
        for k in range(kn):
            integrality[iy + k] = highspy.HighsVarType.kInteger
        lp.integrality_ = integrality
        h.passModel(lp)
        self._h = h
        self.n_rows = int(matrix.shape[0])
        self.n_cols = n_vars

    def solve(self, time_limit: float) -> tuple[str, list[int], float]:
        """Solve; the status, the removed columns and the objective (the product's flux)."""
        hs = self._hs
        h = self._h
        h.setOptionValue("time_limit", max(1.0, float(time_limit)))
        h.run()
        status = h.getModelStatus()
        names = {
            hs.HighsModelStatus.kOptimal: "optimal",
            hs.HighsModelStatus.kInfeasible: "infeasible",
            hs.HighsModelStatus.kTimeLimit: "time limit",
            hs.HighsModelStatus.kInterrupt: "interrupted",
        }
        name = names.get(status, str(status))
        info = h.getInfo()
        if info.primal_solution_status != 2:  # no feasible solution at hand
            return name, [], math.nan
        x = np.asarray(h.getSolution().col_value)
        y = x[self._iy : self._iy + len(self.knockable)]
        removed = [self.knockable[k] for k in np.flatnonzero(y < 0.5)]
        return name, removed, float(info.objective_function_value)

    def start_from(self, removed: Collection[int]) -> None:
        """Offer a design as the incumbent to improve on (HiGHS completes the rest by LP)."""
        gone = set(removed)
        idx = np.arange(self._iy, self._iy + len(self.knockable), dtype=np.int32)
        values = np.asarray([0.0 if c in gone else 1.0 for c in self.knockable])
        self._h.setSolution(len(idx), idx, values)

    def exclude(self, removed: Sequence[int]) -> None:
        """Forbid ``removed`` and every superset of it: ``Σ_{k ∈ removed} y_k ≥ 1``."""
        position = {col: k for k, col in enumerate(self.knockable)}
        idx = np.asarray([self._iy + position[c] for c in removed], dtype=np.int32)
        self._h.addRow(1.0, self._hs.kHighsInf, len(idx), idx, np.ones(len(idx)))


# ---------------------------------------------------------------------------------------------
# checking a reaction set on the full model


class _Phenotype:
    """Maximal growth and the product's range at it, for reaction knock-outs (one hot LP)."""

    def __init__(self, spec: ModelSpec, product: int, solver: SolverName = "glpk") -> None:
        self.spec = spec
        self.product = product
        self.lp: LP = base_lp(spec, solver)
        self.growth_cols, self.growth_vals = objective_terms(spec.objective)
        self.row = self.lp.add_row(self.growth_cols, self.growth_vals, -math.inf, math.inf)

    def __call__(self, knocked: Collection[int]) -> tuple[float, float, float]:
        lp, spec = self.lp, self.spec
        for j in knocked:
            lp.set_col_bounds(j, 0.0, 0.0)
        try:
            lp.set_row_bounds(self.row, -math.inf, math.inf)
            lp.set_objective(self.growth_cols, self.growth_vals, spec.maximize)
            status, growth = lp.solve(dual=True)
            if status != "optimal":
                return 0.0, math.nan, math.nan
            lp.set_row_bounds(self.row, growth - fraction_row_slack(growth), math.inf)
            ends = []
            for maximize in (False, True):
                lp.set_objective([self.product], [1.0], maximize)
                status, value = lp.solve()
                if status != "optimal":
                    status, value = lp.solve(fresh=True)
                ends.append(value if status == "optimal" else math.nan)
            return growth, ends[0], ends[1]
        finally:
            for j in knocked:
                lp.set_col_bounds(j, float(spec.lb[j]), float(spec.ub[j]))


class _TiltedScreen:
    """The inner problem for reaction knock-outs, one hot-started LP: ``max growth − δ·product``.

    Returns the growth and product of the inner optimum, and which knockable columns carry
    flux in it: a column without flux cannot change the optimum when removed (the optimum
    stays feasible), so a search only extends a design by columns in that support.
    """

    def __init__(
        self,
        spec: ModelSpec,
        product: int,
        tilt: float,
        members: dict[int, int],
    ) -> None:
        self.spec = spec
        self.product = product
        self.members = members
        lp = base_lp(spec, "glpk")
        cols, vals = objective_terms(spec.objective)
        terms = dict(zip(cols, vals, strict=True))
        terms[product] = terms.get(product, 0.0) - tilt
        lp.set_objective(list(terms), list(terms.values()), spec.maximize)
        self.lp = lp
        self.growth_cols, self.growth_vals = objective_terms(spec.objective)
        self.solves = 0

    def __call__(self, removed: Collection[int]) -> tuple[float, float, list[int]]:
        lp, spec = self.lp, self.spec
        knocked = [self.members[c] for c in removed]
        for j in knocked:
            lp.set_col_bounds(j, 0.0, 0.0)
        try:
            status, _ = lp.solve(dual=True)
            self.solves += 1
            if status != "optimal":
                return 0.0, math.nan, []
            growth = sum(
                v * lp.value(j) for j, v in zip(self.growth_cols, self.growth_vals, strict=True)
            )
            used = [c for c, j in self.members.items() if abs(lp.value(j)) > 1e-9]
            return growth, lp.value(self.product), used
        finally:
            for j in knocked:
                lp.set_col_bounds(j, float(spec.lb[j]), float(spec.ub[j]))


def _screen_designs(
    screen: _TiltedScreen,
    max_knockouts: int,
    floor: float,
    deadline: float,
    *,
    beam: int = 150,
) -> list[tuple[float, frozenset[int]]]:
    """Search knock-out sets by the inner LP alone: every set up to two, then a beam.

    A set is extended only by columns carrying flux at its inner optimum (anything else leaves
    the optimum where it is). Returns ``(product at the inner optimum, set)``, best first,
    for the sets that keep growth at ``floor``.
    """
    _, base, support = screen(())
    found: dict[frozenset[int], tuple[float, float]] = {frozenset(): (0.0, base)}
    supports: dict[frozenset[int], list[int]] = {frozenset(): support}
    frontier = [frozenset[int]()]
    for depth in range(1, max_knockouts + 1):
        children: list[frozenset[int]] = []
        for parent in frontier:
            for col in supports[parent]:
                child = parent | {col}
                if child in found:
                    continue
                if time.perf_counter() > deadline:
                    break
                growth, value, used = screen(child)
                ok = growth >= floor and value == value
                found[child] = (growth, value if ok else -math.inf)
                if ok:
                    supports[child] = used
                    children.append(child)
        frontier = children if depth < 2 else _beam(children, found, beam)
        if time.perf_counter() > deadline:
            break
    ranked = [(v, d) for d, (_, v) in found.items() if d and v > base + _PRODUCES]
    ranked.sort(key=lambda item: (-item[0], len(item[1])))
    return ranked


def _beam(
    children: list[frozenset[int]], found: dict[frozenset[int], tuple[float, float]], width: int
) -> list[frozenset[int]]:
    """Keep half the beam for the most production, half for the least growth.

    Coupling designs are synergistic: removing two of three fermentation routes often leaves
    production unchanged but growth lower, and only the third removal couples. The least
    growth is the sign of a network closing in.
    """
    by_product = sorted(children, key=lambda d: (-found[d][1], found[d][0]))
    by_growth = sorted(children, key=lambda d: (found[d][0], -found[d][1]))
    out: dict[frozenset[int], None] = {}
    for d in itertools.chain.from_iterable(zip(by_product, by_growth, strict=True)):
        out[d] = None
        if len(out) >= width:
            break
    return list(out)


# ---------------------------------------------------------------------------------------------
# OptKnock


def optknock(
    model: ModelSource,
    product: str,
    *,
    substrate: str = "EX_glc__D_e",
    max_knockouts: int = 3,
    candidates: Collection[str] | None = None,
    min_growth: float | None = None,
    k: int = 1,
    solver: Literal["highs"] = "highs",
    time_limit: float = 300.0,
    tilt: float = _DEFAULT_TILT,
    big_m: float = _DEFAULT_BIG_M,
    exclude_transport: bool = True,
    exclude_subsystems: Collection[str] = PERIPHERAL_SUBSYSTEMS,
    protected_genes: Collection[str] = DEFAULT_PROTECTED_GENES,
    progress: Progress | None = None,
    report: list[KnockoutSearch] | None = None,
) -> list[StrainDesign]:
    """Search knock-outs that couple a product to growth (OptKnock, one MILP, HiGHS).

    Parameters
    ----------
    model
        The chassis under the design's conditions (a path, ``cobra.Model`` or
        :class:`ModelSpec`; set the medium and oxygen first, e.g. ``with_bounds``), objective
        growth.
    product, substrate
        Exchange reaction ids (``"EX_succ_e"``, ``"EX_glc__D_e"``).
    max_knockouts
        At most this many reactions (lumped groups) removed per design.
    candidates
        Reaction ids to choose from (default: all that pass :func:`knockout_candidates`).
    min_growth
        Growth every design keeps, 1/h (default: 10 % of the wild type's).
    k
        Number of designs: after each, an integer cut forbids it and its supersets.
    solver
        ``"highs"`` (highspy's MILP solver; the only one used here).
    time_limit
        Seconds for the whole search (all ``k`` MILPs); the best design found by then is
        returned.
    tilt
        ``δ`` in the inner objective ``growth − δ·product``: with ``δ > 0`` the inner problem
        picks the least product at maximal growth, so designs are robust; ``0`` is the
        original, optimistic OptKnock.
    big_m
        Bound on the duals of removable reactions (the big-M of the single-level MILP).
    exclude_transport, protected_genes
        See :func:`knockout_candidates`.
    progress
        Called with ``(designs found, k)``.
    report
        If given, a :class:`KnockoutSearch` describing the run is appended to it.

    Returns
    -------
    list of StrainDesign
        ``method="optknock"`` designs at gene level, each evaluated
        (``design.evaluation.growth_coupled`` tells whether the product is guaranteed at
        maximal growth), in the order found (best MILP objective first). Redundant
        knock-outs (whose removal changes neither end of the product's range) are dropped.

    Raises
    ------
    ValidationError
        Unknown reactions, a bad ``max_knockouts``, ``k`` or ``min_growth``.
    InfeasibleError
        The wild type has no steady state.

    References
    ----------
    Burgard AP, Pharkya P, Maranas CD (2003). OptKnock: a bilevel programming framework for
    identifying gene knockout strategies for microbial strain optimization. Biotechnol Bioeng
    84:647-657.

    Feist AM, Zielinski DC, Orth JD, Schellenberger J, Herrgard MJ, Palsson BØ (2010).
    Model-driven evaluation of the production potential for growth-coupled products of
    Escherichia coli. Metab Eng 12:173-186 (the tilted objective).

    Examples
    --------
    >>> import cobra.io
    >>> from cellfoundry.metabolism import load_model
    >>> core = load_model(cobra.io.load_model("textbook"))
    >>> anaerobic = core.with_bounds({"EX_o2_e": (0.0, 1000.0)})
    >>> design = optknock(anaerobic, "EX_succ_e", max_knockouts=2, time_limit=60)[0]
    >>> design.evaluation.growth_coupled
    True
    """
    spec = load_model(model)
    started = time.perf_counter()
    if solver != "highs":
        raise ValidationError(
            f"optknock solves its MILP with HiGHS; solver {solver!r} is not supported "
            "(minimal_cut_sets takes 'scip' or 'glpk')",
            field="solver",
        )
    _check_counts(max_knockouts, k)
    if not (math.isfinite(tilt) and tilt >= 0.0):
        raise ValidationError(f"tilt {tilt!r} must be ≥ 0", field="tilt")
    jp = spec.reaction_index(product)
    spec.reaction_index(substrate)
    floor = _growth_floor(spec, min_growth)
    _, _, net = _prepare(spec)
    table = _candidate_cuts(
        spec, floor, candidates, exclude_transport, exclude_subsystems, protected_genes
    )
    # one candidate per lumped column; the column's options are all its candidates' cuts
    options: dict[int, list[GeneSet]] = {}
    for j, cuts in table.items():
        col = int(net.column_of[j])
        if col >= 0:
            options.setdefault(col, []).extend(cuts)
    e_product = np.zeros(spec.n_reactions)
    e_product[jp] = 1.0
    growth_c = net.lift(np.asarray(spec.objective, dtype=float))
    product_c = net.lift(e_product)
    if int(net.column_of[jp]) < 0:
        raise ValidationError(
            f"{product} cannot carry flux in model {spec.id!r} under these bounds",
            record=product,
            field="product",
        )
    knockable = sorted(options)
    members = {col: net.members[col][0][0] for col in knockable}
    # a quick search by the inner LP alone gives the MILP good incumbents to start from
    screen = _TiltedScreen(spec, jp, tilt, members)
    pool = _screen_designs(screen, max_knockouts, floor, started + _SCREEN_SHARE * time_limit)
    milp = _OptKnockMilp(
        net,
        growth_c,
        product_c,
        knockable,
        max_knockouts=max_knockouts,
        min_growth=floor,
        tilt=tilt,
        big_m=big_m,
    )
    phenotype = _Phenotype(spec, jp)
    protected = {spec.gene_lookup[g] for g in protected_genes if g in spec.gene_lookup}
    designs: list[StrainDesign] = []
    statuses: list[str] = []
    seen: set[frozenset[str]] = set()
    excluded: list[frozenset[int]] = []
    attempts = 0
    while len(designs) < k and attempts < 4 * k:
        attempts += 1
        left = time_limit - (time.perf_counter() - started)
        if left <= 0:
            break
        start = next(
            ((v, d) for v, d in pool if not any(e <= d for e in excluded)), (math.nan, None)
        )
        if start[1] is not None:
            milp.start_from(start[1])
        # the remaining time, shared among the designs still to find
        status, removed, objective = milp.solve(left / (k - len(designs)))
        statuses.append(status)
        if start[1] is not None and not (objective >= start[0] - _PRODUCES):
            # the MILP did not get past the screened design (or lost it to tolerances)
            status, removed, objective = "screened", sorted(start[1]), start[0]
        if not removed:
            break
        kept = _prune(phenotype, removed, members)
        excluded.append(frozenset(kept))
        milp.exclude(kept)
        design = _gene_design(
            spec, phenotype, kept, members, options, protected, floor, product, substrate
        )
        if design is None:
            continue
        key = frozenset(m.gene for m in design.modifications)
        if key in seen:
            continue
        seen.add(key)
        evaluation = evaluate(spec, product, substrate, design.knockouts)
        verdict = (
            f"growth-coupled: at maximal growth {evaluation.growth:.4g} /h the strain secretes "
            f"at least {evaluation.product_min:.4g} mmol/gDW/h"
            if evaluation.growth_coupled
            else f"not growth-coupled: at maximal growth {evaluation.growth:.4g} /h the product "
            f"ranges over [{evaluation.product_min:.4g}, {evaluation.product_max:.4g}]"
        )
        designs.append(
            StrainDesign(
                chassis=design.chassis,
                product=product,
                substrate=substrate,
                method="optknock",
                modifications=design.modifications,
                knockouts=design.knockouts,
                evaluation=evaluation,
                notes=(
                    *design.notes,
                    f"OptKnock MILP ({status}, tilt {tilt:g}): product {objective:.4g} "
                    "mmol/gDW/h at the inner optimum",
                    verdict,
                ),
            )
        )
        if progress is not None:
            progress(len(designs), k)
    if report is not None:
        report.append(
            KnockoutSearch(
                reactions=spec.n_reactions,
                columns=net.n_columns,
                rows=int(net.S.shape[0]),
                candidates=len(table),
                candidate_columns=len(knockable),
                screened=screen.solves,
                statuses=tuple(statuses),
                seconds=time.perf_counter() - started,
            )
        )
    return designs


def _check_counts(max_knockouts: int, k: int) -> None:
    if not (isinstance(max_knockouts, int) and max_knockouts >= 1):
        raise ValidationError(
            f"max_knockouts must be a whole number ≥ 1, not {max_knockouts!r}",
            field="max_knockouts",
        )
    if not (isinstance(k, int) and k >= 1):
        raise ValidationError(f"k must be a whole number ≥ 1, not {k!r}", field="k")


def _prune(phenotype: _Phenotype, removed: Sequence[int], members: dict[int, int]) -> list[int]:
    """Drop knock-outs whose removal changes neither end of the product's range."""
    kept = list(removed)
    _, low, high = phenotype([members[c] for c in kept])
    for col in sorted(removed, reverse=True):
        trial = [c for c in kept if c != col]
        if not trial:
            break
        growth, lo, hi = phenotype([members[c] for c in trial])
        if (
            growth > 0
            and lo >= low - _PRODUCES
            and hi >= high - _PRODUCES
            and not (math.isnan(lo) or math.isnan(hi))
        ):
            kept = trial
    return sorted(kept)


def _gene_design(
    spec: ModelSpec,
    phenotype: _Phenotype,
    columns: Sequence[int],
    members: dict[int, int],
    options: dict[int, list[GeneSet]],
    protected: set[int],
    floor: float,
    product: str,
    substrate: str,
) -> StrainDesign | None:
    """Map removed columns to the fewest gene deletions that disable them and keep growth.

    Among gene sets of equal size, the one closest to the reaction-level design's guaranteed
    production wins; the first that reaches it is taken.
    """
    _, target_low, _ = phenotype([members[c] for c in columns])
    best: tuple[tuple[float, int], GeneSet, list[int]] | None = None
    for genes in cheapest_combinations([options[c] for c in columns], protected=protected)[:48]:
        disabled = spec.knocked_out(genes).tolist()
        growth, low, _ = phenotype(disabled)
        if not growth >= floor:
            continue
        score = (-(low if low == low else -math.inf), len(genes))
        if best is None or score < best[0]:
            best = (score, genes, disabled)
        if low >= target_low - _PRODUCES:
            break
    if best is None:
        return None
    _, genes, disabled = best
    disabled_set = set(disabled)
    modifications = tuple(
        GeneticModification(
            kind="delete",
            gene=spec.genes[g],
            reactions=tuple(
                spec.reactions[j] for j in sorted(set(spec.gene_reactions[g]) & disabled_set)
            ),
        )
        for g in sorted(genes, key=lambda g: spec.genes[g])
    )
    targets = ", ".join(spec.reactions[members[c]] for c in columns)
    return StrainDesign(
        chassis=spec.id,
        product=product,
        substrate=substrate,
        method="optknock",
        modifications=modifications,
        knockouts=tuple(spec.reactions[j] for j in sorted(disabled_set)),
        notes=(f"reaction-level design: remove {targets}",),
    )


# ---------------------------------------------------------------------------------------------
# minimal cut sets (StrainDesign)


def minimal_cut_sets(
    model: ModelSource,
    product: str,
    *,
    substrate: str = "EX_glc__D_e",
    min_yield: float | None = None,
    max_knockouts: int = 3,
    candidates: Collection[str] | None = None,
    min_growth: float | None = None,
    k: int = 1,
    solver: Literal["scip", "glpk"] = "scip",
    time_limit: float = 300.0,
    exclude_transport: bool = True,
    exclude_subsystems: Collection[str] = PERIPHERAL_SUBSYSTEMS,
    protected_genes: Collection[str] = DEFAULT_PROTECTED_GENES,
) -> list[StrainDesign]:
    """Gene knock-outs that guarantee a product yield in every growing state (StrainDesign).

    Minimal cut sets (Klamt's MCS, as computed by the StrainDesign package): the smallest gene
    deletion sets that make every flux distribution with product yield below ``min_yield``
    impossible (SUPPRESS), while a state with growth ≥ ``min_growth`` stays possible
    (PROTECT). That is strong growth coupling, stricter than OptKnock's. StrainDesign is
    imported here only (it is heavy); it solves its MILP with SCIP (PySCIPOpt) or GLPK, the
    solvers it supports that are installed here.

    Parameters
    ----------
    min_yield
        Product yield (mol/mol substrate) every growing state must reach (default: 20 % of
        the best yield with growth free).
    max_knockouts
        Most gene deletions per design.
    candidates
        Reaction ids whose genes may be deleted (default: those of
        :func:`knockout_candidates`).
    k
        Number of designs (StrainDesign's ``max_solutions``; a solution can decompress into
        several designs, of which the first ``k`` are kept).

    Other parameters are those of :func:`optknock`.

    Returns
    -------
    list of StrainDesign
        ``method="mcs"``, evaluated.

    References
    ----------
    Schneider P, Bekiaris PS, von Kamp A, Klamt S (2022). StrainDesign: a comprehensive Python
    package for computational design of metabolic networks. Bioinformatics 38:4981-4983.

    von Kamp A, Klamt S (2017). Growth-coupled overproduction is feasible for almost all
    metabolites in five major production organisms. Nat Commun 8:15956.
    """
    import logging

    import straindesign  # type: ignore[import-untyped]

    from cellfoundry.metabolism.envelope import theoretical_yield

    spec = load_model(model)
    _check_counts(max_knockouts, k)
    jp = spec.reaction_index(product)
    js = spec.reaction_index(substrate)
    floor = _growth_floor(spec, min_growth)
    if min_yield is None:
        min_yield = 0.2 * theoretical_yield(spec, product, substrate).molar_yield
    table = _candidate_cuts(
        spec, floor, candidates, exclude_transport, exclude_subsystems, protected_genes
    )
    genes = sorted({g for cuts in table.values() for cut in cuts for g in cut})
    cobra_model = spec.to_cobra()
    growth_terms = [
        f"{v:g} {spec.reactions[j]}" for j, v in zip(*objective_terms(spec.objective), strict=True)
    ]
    growth_expr = " + ".join(growth_terms)
    sign = 1.0 if spec.lb[js] < 0 else -1.0  # uptake is a negative exchange flux
    suppress = straindesign.SDModule(
        cobra_model,
        straindesign.names.SUPPRESS,
        constraints=[f"{product} + {sign * min_yield:g} {substrate} <= 0"],
    )
    protect = straindesign.SDModule(
        cobra_model, straindesign.names.PROTECT, constraints=[f"{growth_expr} >= {floor:g}"]
    )
    logger = logging.getLogger()
    previous = logger.level
    logger.setLevel(logging.ERROR)  # StrainDesign logs every step on the root logger
    try:
        solutions = straindesign.compute_strain_designs(
            cobra_model,
            sd_modules=[suppress, protect],
            solver=solver,
            max_cost=max_knockouts,
            max_solutions=k,
            solution_approach=straindesign.names.BEST,
            gko_cost={spec.genes[g]: 1 for g in genes},
            time_limit=time_limit,
        )
    finally:
        logger.setLevel(previous)
    designs: list[StrainDesign] = []
    for gene_ids in _gene_solutions(solutions)[:k]:
        idx = [spec.gene_index(g) for g in gene_ids]
        disabled = spec.knocked_out(idx).tolist()
        knocked = tuple(spec.reactions[j] for j in disabled)
        evaluation = evaluate(spec, product, substrate, knocked)
        modifications = tuple(
            GeneticModification(
                kind="delete",
                gene=spec.genes[g],
                reactions=tuple(
                    spec.reactions[j] for j in sorted(set(spec.gene_reactions[g]) & set(disabled))
                ),
            )
            for g in sorted(idx, key=lambda g: spec.genes[g])
        )
        designs.append(
            StrainDesign(
                chassis=spec.id,
                product=product,
                substrate=substrate,
                method="mcs",
                modifications=modifications,
                knockouts=knocked,
                evaluation=evaluation,
                notes=(
                    f"minimal cut set (StrainDesign, {solver}): "
                    f"every state growing at ≥ {floor:.4g} /h has yield ≥ {min_yield:.4g} "
                    "mol/mol",
                ),
            )
        )
    _ = jp
    return designs


def _gene_solutions(solutions: Any) -> list[tuple[str, ...]]:
    """Gene deletion sets of StrainDesign's solutions (genes knocked out: value -1)."""
    out: list[tuple[str, ...]] = []
    for sd in solutions.get_gene_sd():
        genes = tuple(sorted(str(g) for g, v in sd.items() if v < 0))
        if genes and genes not in out:
            out.append(genes)
    return out


def growth_coupled_designs(
    model: ModelSource,
    product: str,
    *,
    method: KnockoutMethod = "optknock",
    substrate: str = "EX_glc__D_e",
    max_knockouts: int = 3,
    k: int = 1,
    time_limit: float = 300.0,
    min_growth: float | None = None,
) -> list[StrainDesign]:
    """Knock-out designs by ``method``: :func:`optknock` (HiGHS) or :func:`minimal_cut_sets`."""
    if method == "optknock":
        return optknock(
            model,
            product,
            substrate=substrate,
            max_knockouts=max_knockouts,
            k=k,
            time_limit=time_limit,
            min_growth=min_growth,
        )
    if method == "mcs":
        return minimal_cut_sets(
            model,
            product,
            substrate=substrate,
            max_knockouts=max_knockouts,
            k=k,
            time_limit=time_limit,
            min_growth=min_growth,
        )
    raise ValidationError(f"unknown method {method!r}: use 'optknock' or 'mcs'", field="method")
