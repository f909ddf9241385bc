"""Gene and reaction deletion screens, exact, with the work no answer depends on left out.

Results have COBRApy's shape (``cobra.flux_analysis.single_gene_deletion`` and friends): a frame
with columns ``ids`` (a set of gene or reaction ids), ``growth`` (the optimal objective of the
mutant, ``nan`` when it has none) and ``status``.

Why a deletion can be skipped without changing its answer: a deletion only adds bounds (the
knocked-out reactions are fixed at zero), so it can never raise the optimum. If an optimal flux
distribution already seen carries no flux through the knocked-out reactions, it stays feasible,
so the mutant's optimum equals that distribution's. For single deletions the distribution is the
wild type's; for a pair (a, b) it is the optimum of the a- or the b-mutant; and a pair with an
infeasible single mutant is infeasible. Only what is left is solved, each LP hot-started from
the basis of the mutant before it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import Progress
from cellfoundry.metabolism._parallel import run_chunks, useful_processes
from cellfoundry.metabolism.flux import raise_for_status, solved_lp
from cellfoundry.metabolism.lp import LP, GlpkLP, SolverName
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = [
    "DeletionScreen",
    "double_gene_deletion",
    "double_reaction_deletion",
    "find_essential_genes",
    "find_essential_reactions",
    "single_gene_deletion",
    "single_reaction_deletion",
]

# a flux below this is no flux when deciding whether a knock-out touches a solution
ZERO = 1e-9
# an objective below this is no growth (COBRApy's find_essential_genes threshold is 1e-6·opt)
_ESSENTIAL = 1e-6

Knockout = tuple[int, ...]


def _ids(spec: ModelSpec, items: Iterable[Any] | None, kind: str) -> list[int]:
    names = spec.genes if kind == "gene" else spec.reactions
    if items is None:
        return list(range(len(names)))
    out: list[int] = []
    for item in items:
        key = str(getattr(item, "id", item))
        out.append(spec.gene_index(key) if kind == "gene" else spec.reaction_index(key))
    return out


def _wild_type(spec: ModelSpec, solver: SolverName) -> tuple[float, NDArray[np.float64]]:
    """Return the wild type's optimum and flux distribution (a named error if it has none)."""
    lp, status, value = solved_lp(spec, solver)
    raise_for_status(spec, status)
    return value, lp.values()


def _checkpoint(lp: LP) -> Callable[[], None]:
    """Return a function that puts ``lp`` back in its present basis (and, for GLPK, bounds).

    GLPK copies a whole saved problem in C faster than 4,400 basis statuses can be restored
    through SWIG; other solvers restore the basis (callers reset the bounds they change).
    """
    if isinstance(lp, GlpkLP):
        saved = lp.clone()
        return lambda: lp.load_from(saved)
    basis = lp.save_basis()
    return lambda: lp.restore_basis(basis)


def _solve_knockouts(
    spec: ModelSpec,
    solver: SolverName,
    knockouts: Sequence[Knockout],
    want_support: bool,
) -> list[tuple[float, str, NDArray[np.int64] | None]]:
    """Solve each knock-out set from the wild type's optimal basis.

    Every mutant that keeps the wild type's growth gives another optimal wild-type flux
    distribution; a later knock-out that none of them uses is known without an LP.
    """
    # at the wild type's optimum already (inherited from the parent when forked)
    lp, _, wt = solved_lp(spec, solver)
    reset = _checkpoint(lp)
    optima = [np.abs(lp.values()) > ZERO]
    lb = spec.lb
    ub = spec.ub
    out: list[tuple[float, str, NDArray[np.int64] | None]] = []
    for ko in knockouts:
        idx = list(ko)
        spared = next((m for m in optima if not m[idx].any()), None)
        if spared is not None:
            out.append((wt, "optimal", np.flatnonzero(spared) if want_support else None))
            continue
        reset()
        for j in ko:
            lp.set_col_bounds(j, 0.0, 0.0)
        # from the wild type's optimal basis, still dual feasible after the bound change: the
        # dual simplex needs ~7 pivots a knock-out on iJO1366, the primal ~24
        status, value = lp.solve(dual=True)
        support = None
        if status == "optimal" and (want_support or _same(value, wt)):
            used = np.abs(lp.values()) > ZERO
            support = np.flatnonzero(used) if want_support else None
            if _same(value, wt):
                optima.append(used)
        out.append((value, status, support))
        for j in ko:
            lp.set_col_bounds(j, float(lb[j]), float(ub[j]))
    return out


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _chunked(items: Sequence[Any], n: int) -> list[list[Any]]:
    n = max(1, min(n, len(items)))
    return [list(items[k::n]) for k in range(n)] if items else []


def _n_chunks(processes: int | None, executor: Executor | None, n_items: int) -> int:
    # each chunk builds its own problem and reaches the wild type's optimum (~0.1 s on
    # iJO1366), and pruning works within a chunk: a few chunks per worker balance the load
    # without losing either
    workers = processes or 1
    if executor is not None:
        workers = max(workers, 2) * 4
    return max(1, min(n_items, workers))


def _frame(ids: list[set[str]], growth: Sequence[float], status: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({"ids": ids, "growth": growth, "status": status})


def _single(
    spec: ModelSpec,
    knockouts: list[Knockout],
    labels: list[str],
    *,
    solver: SolverName,
    processes: int | None,
    executor: Executor | None,
    progress: Progress | None,
    want_support: bool = False,
) -> tuple[pd.DataFrame, float, list[NDArray[np.int64] | None]]:
    wt, v0 = _wild_type(spec, solver)
    wt_support = np.flatnonzero(np.abs(v0) > ZERO)
    flux = np.abs(v0) > ZERO
    growth = [wt] * len(knockouts)
    status = ["optimal"] * len(knockouts)
    supports: list[NDArray[np.int64] | None] = [wt_support] * len(knockouts)
    # knock-outs that stop the same coupled groups are one LP (see ModelSpec.coupled_groups)
    same: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for k, ko in enumerate(knockouts):
        if ko and flux[list(ko)].any():
            same[spec.closure(ko)].append(k)
    todo = list(same)
    processes = useful_processes(processes, len(todo), spec.n_reactions)
    parts = _chunked(todo, _n_chunks(processes, executor, len(todo)))
    results = run_chunks(
        _solve_knockouts,
        [(spec, solver, part, want_support) for part in parts],
        processes=processes,
        executor=executor,
        progress=progress,
        weights=[len(p) for p in parts],
    )
    for part, res in zip(parts, results, strict=True):
        for closed, (value, st, support) in zip(part, res, strict=True):
            for k in same[closed]:
                growth[k] = value
                status[k] = st
                supports[k] = support
    frame = _frame([{label} for label in labels], growth, status)
    return frame, wt, supports


def single_reaction_deletion(
    model: ModelSource,
    reaction_list: Iterable[Any] | None = None,
    method: str = "fba",
    *,
    processes: int | None = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
    solver: SolverName = "glpk",
) -> pd.DataFrame:
    """Knock out each reaction on its own (``cobra.flux_analysis.single_reaction_deletion``)."""
    _check_method(method)
    spec = load_model(model)
    indices = _ids(spec, reaction_list, "reaction")
    frame, *_ = _single(
        spec,
        [(j,) for j in indices],
        [spec.reactions[j] for j in indices],
        solver=solver,
        processes=processes,
        executor=executor,
        progress=progress,
    )
    return frame


def single_gene_deletion(
    model: ModelSource,
    gene_list: Iterable[Any] | None = None,
    method: str = "fba",
    *,
    processes: int | None = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
    solver: SolverName = "glpk",
) -> pd.DataFrame:
    """Knock out each gene on its own (``cobra.flux_analysis.single_gene_deletion``)."""
    _check_method(method)
    spec = load_model(model)
    genes = _ids(spec, gene_list, "gene")
    knockouts = [tuple(int(j) for j in spec.knocked_out([g])) for g in genes]
    frame, *_ = _single(
        spec,
        knockouts,
        [spec.genes[g] for g in genes],
        solver=solver,
        processes=processes,
        executor=executor,
        progress=progress,
    )
    return frame


def _check_method(method: str) -> None:
    if method != "fba":
        raise ValidationError(
            f"deletion method {method!r} is not available: use 'fba' (MOMA and ROOM need a "
            "QP solver and are not part of this engine yet)",
            field="method",
        )


def find_essential_genes(
    model: ModelSource,
    threshold: float | None = None,
    *,
    processes: int | None = 1,
    solver: SolverName = "glpk",
) -> set[str]:
    """Genes whose deletion drops growth below ``threshold`` (``cobra``'s default: 1e-6·opt)."""
    spec = load_model(model)
    frame = single_gene_deletion(spec, processes=processes, solver=solver)
    return _essential(spec, frame, threshold, solver)


def find_essential_reactions(
    model: ModelSource,
    threshold: float | None = None,
    *,
    processes: int | None = 1,
    solver: SolverName = "glpk",
) -> set[str]:
    """Reactions whose deletion drops growth below ``threshold``."""
    spec = load_model(model)
    frame = single_reaction_deletion(spec, processes=processes, solver=solver)
    return _essential(spec, frame, threshold, solver)


def _essential(
    spec: ModelSpec, frame: pd.DataFrame, threshold: float | None, solver: SolverName
) -> set[str]:
    if threshold is None:
        wt, _ = _wild_type(spec, solver)
        threshold = wt * _ESSENTIAL
    growth = frame["growth"].to_numpy()
    dead = np.isnan(growth) | (growth < threshold)
    return {next(iter(ids)) for ids, d in zip(frame["ids"], dead, strict=True) if d}


# ---------------------------------------------------------------------------------------------
# double deletions


class DeletionScreen:
    """A double-deletion screen's growth table, kept as a matrix until a frame is wanted.

    ``growth[i, k]`` is the growth of the mutant lacking ``rows[i]`` and ``cols[k]``;
    ``statuses`` holds the solver status codes (see :attr:`STATUS`). ``lp_count`` says how many
    LPs were solved; the rest were known without one.
    """

    STATUS = ("optimal", "infeasible", "unbounded", "failed")

    def __init__(
        self,
        rows: list[str],
        cols: list[str],
        growth: NDArray[np.float64],
        status: NDArray[np.int8],
        lp_count: int,
        pair_count: int,
    ) -> None:
        self.rows = rows
        self.cols = cols
        self.growth = growth
        self.status = status
        self.lp_count = lp_count
        self.pair_count = pair_count

    def to_matrix(self) -> pd.DataFrame:
        """Growth as a frame indexed by the first list's ids, columns by the second's."""
        return pd.DataFrame(self.growth, index=self.rows, columns=self.cols)

    def to_frame(self) -> pd.DataFrame:
        """Return the table in COBRApy's shape: one row per distinct set of deleted ids.

        Columns ``ids``, ``growth`` and ``status``, in no particular order, as
        ``cobra.flux_analysis.double_gene_deletion`` returns them.
        """
        names = self.STATUS
        if self.rows == self.cols:
            # one list against itself: each unordered pair once, the diagonal as singles
            i, k = np.triu_indices(len(self.rows))
            r = self.rows
            ids = [{r[a], r[b]} for a, b in zip(i.tolist(), k.tolist(), strict=True)]
            growth = self.growth[i, k]
            codes = self.status[i, k]
            return _frame(ids, growth.tolist(), [names[c] for c in codes.tolist()])
        col_pos = {c: k for k, c in enumerate(self.cols)}
        seen: set[frozenset[str]] = set()
        out_ids: list[set[str]] = []
        out_growth: list[float] = []
        out_status: list[str] = []
        for i_, a in enumerate(self.rows):
            for k_, b in enumerate(self.cols):
                key = frozenset((a, b))
                if a in col_pos and b in self._row_pos:
                    if key in seen:
                        continue
                    seen.add(key)
                out_ids.append(set(key))
                out_growth.append(float(self.growth[i_, k_]))
                out_status.append(names[int(self.status[i_, k_])])
        return _frame(out_ids, out_growth, out_status)

    @property
    def _row_pos(self) -> dict[str, int]:
        cached = self.__dict__.get("_rp")
        if cached is None:
            cached = {r: i for i, r in enumerate(self.rows)}
            self.__dict__["_rp"] = cached
        return cached


def _status_code(status: str) -> int:
    return DeletionScreen.STATUS.index(status) if status in DeletionScreen.STATUS else 3


def _solve_pairs(
    spec: ModelSpec,
    solver: SolverName,
    tasks: Sequence[tuple[Knockout, float, NDArray[np.int64], Sequence[Knockout]]],
) -> tuple[list[list[tuple[float, str]]], int]:
    """Solve the first knock-out of each task combined with each of its extras.

    A task is (first knock-out, its growth, its optimum's support, [extra knock-outs]).
    Any pair mutant that keeps the first mutant's growth yields another optimal distribution
    of the first mutant; later extras that one of them does not use need no LP.
    """
    lp, _, _ = solved_lp(spec, solver)
    wild_type = _checkpoint(lp)
    lb = spec.lb
    ub = spec.ub
    n = spec.n_reactions
    out: list[list[tuple[float, str]]] = []
    solved = 0
    for first, growth, support, extras in tasks:
        for j in first:
            lp.set_col_bounds(j, 0.0, 0.0)
        mask = np.zeros(n, dtype=bool)
        mask[support] = True
        optima = [mask]
        mutant: Callable[[], None] | None = None
        row: list[tuple[float, str]] = []
        for extra in extras:
            idx = list(extra)
            if any(not m[idx].any() for m in optima):
                row.append((growth, "optimal"))
                continue
            if mutant is None:
                wild_type()
                for j in first:
                    lp.set_col_bounds(j, 0.0, 0.0)
                lp.solve(dual=True)
                mutant = _checkpoint(lp)
            else:
                mutant()
            for j in extra:
                lp.set_col_bounds(j, 0.0, 0.0)
            status, value = lp.solve(dual=True)
            solved += 1
            if status == "optimal" and _same(value, growth):
                optima.append(np.abs(lp.values()) > ZERO)
            row.append((value, status))
            for j in extra:
                lp.set_col_bounds(j, float(lb[j]), float(ub[j]))
        out.append(row)
        for j in first:
            lp.set_col_bounds(j, float(lb[j]), float(ub[j]))
    return out, solved


def _double(
    spec: ModelSpec,
    kind: str,
    list1: Iterable[Any] | None,
    list2: Iterable[Any] | None,
    *,
    solver: SolverName,
    processes: int | None,
    executor: Executor | None,
    progress: Progress | None,
) -> DeletionScreen:
    first = _ids(spec, list1, kind)
    second = _ids(spec, list2, kind) if list2 is not None else list(first)
    items = sorted(set(first) | set(second))
    if kind == "gene":
        ko_of = {g: tuple(int(j) for j in spec.knocked_out([g])) for g in items}
    else:
        ko_of = {j: (j,) for j in items}
    names = spec.genes if kind == "gene" else spec.reactions

    # 1. singles, with their optimal flux distributions' supports
    singles, wt, supports = _single(
        spec,
        [ko_of[x] for x in items],
        [names[x] for x in items],
        solver=solver,
        processes=processes,
        executor=executor,
        progress=None,
        want_support=True,
    )
    pos = {x: k for k, x in enumerate(items)}
    g1 = singles["growth"].to_numpy()
    st1 = np.array([_status_code(s) for s in singles["status"]], dtype=np.int8)
    n_items = len(items)
    n_rx = spec.n_reactions

    # 2. which single solution survives which other knock-out: C[a, b] = |supp(v_a) ∩ KO(b)|
    def incidence(sets: list[Iterable[int] | None]) -> sp.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        for k, s in enumerate(sets):
            if s is None:
                continue
            c = list(s)
            rows.extend([k] * len(c))
            cols.extend(c)
        return sp.csr_matrix(
            (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n_items, n_rx)
        )

    support = incidence(list(supports))
    knock = incidence([ko_of[x] for x in items])
    touches = (support @ knock.T).toarray() > 0  # touches[a, b]: v_a uses a reaction of KO(b)
    solved = np.array([s is not None for s in supports])  # optimal singles have a support
    survives = ~touches & solved[:, None]  # v_a proves g(a, b) = g(a)

    # 3. pairs whose joint knock-out is more than the union (isozymes: "a or b")
    extra: dict[tuple[int, int], Knockout] = {}
    if kind == "gene":
        extra = _joint_extras(spec, set(items), pos, ko_of)
    for (a, b), ko in extra.items():
        for x, y in ((a, b), (b, a)):
            s = supports[x]
            if s is not None and np.isin(np.asarray(ko), s).any():
                survives[x, y] = False

    # 4. the table, and the pairs that still need an LP
    rows_i = [pos[x] for x in first]
    cols_i = [pos[x] for x in second]
    growth = np.full((len(rows_i), len(cols_i)), np.nan)
    status = np.zeros((len(rows_i), len(cols_i)), dtype=np.int8)
    infeasible = st1 != 0
    need: dict[int, list[int]] = defaultdict(list)
    ri = np.asarray(rows_i)
    ci = np.asarray(cols_i)
    by_a = survives[np.ix_(ri, ci)]
    by_b = survives[np.ix_(ci, ri)].T
    same = ri[:, None] == ci[None, :]
    dead = infeasible[ri][:, None] | infeasible[ci][None, :]
    use_a = by_a & ~dead
    use_b = by_b & ~use_a & ~dead
    gA = np.broadcast_to(g1[ri][:, None], growth.shape)
    gB = np.broadcast_to(g1[ci][None, :], growth.shape)
    growth[use_a] = gA[use_a]
    growth[use_b] = gB[use_b]
    status[dead] = np.maximum(
        np.broadcast_to(st1[ri][:, None], growth.shape),
        np.broadcast_to(st1[ci][None, :], growth.shape),
    )[dead]
    growth[same] = np.broadcast_to(g1[ri][:, None], growth.shape)[same]
    status[same] = np.broadcast_to(st1[ri][:, None], growth.shape)[same]
    todo = ~(use_a | use_b | dead | same)
    # each unordered pair once
    pair_index: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for i, k in zip(*np.nonzero(todo), strict=True):
        a, b = int(ri[i]), int(ci[k])
        key = (a, b) if a < b else (b, a)
        pair_index[key].append((int(i), int(k)))
    # under the member with the lower growth: the pair's growth is at most that, and every
    # pair that reaches it adds an optimal distribution of that single mutant for pruning
    for a, b in pair_index:
        if (g1[b], b) < (g1[a], a):
            need[b].append(a)
        else:
            need[a].append(b)
    # 5. solve them: group by the first item (one hot start per group), balance across workers
    tasks: list[tuple[Knockout, float, NDArray[np.int64], list[Knockout]]] = []
    task_keys: list[tuple[int, list[int]]] = []
    for a in sorted(need, key=lambda x: -len(need[x])):
        a_ko = ko_of[items[a]]
        extras = []
        for b in need[a]:
            joint = set(ko_of[items[b]]) | set(extra.get((a, b), ())) | set(extra.get((b, a), ()))
            extras.append(tuple(sorted(joint - set(a_ko))))
        a_support = supports[a]
        assert a_support is not None  # pairs with an infeasible single never get here
        tasks.append((a_ko, float(g1[a]), a_support, extras))
        task_keys.append((a, need[a]))
    n_lps = sum(len(task[3]) for task in tasks)
    processes = useful_processes(processes, n_lps, spec.n_reactions)
    parts = _balanced(tasks, _n_chunks(processes, executor, len(tasks)) * 2)
    results = run_chunks(
        _solve_pairs,
        [(spec, solver, [tasks[t] for t in part]) for part in parts],
        processes=processes,
        executor=executor,
        progress=progress,
        weights=[max(1, sum(len(tasks[t][3]) for t in part)) for part in parts],
    )
    n_lp = sum(solved for _, solved in results)
    for part, (res, _) in zip(parts, results, strict=True):
        for t, row in zip(part, res, strict=True):
            a, bs = task_keys[t]
            for b, (value, st) in zip(bs, row, strict=True):
                key = (a, b) if a < b else (b, a)
                for i, k in pair_index[key]:
                    growth[i, k] = value
                    status[i, k] = _status_code(st)
    n_pairs = _count_pairs(rows_i, cols_i)
    del wt
    return DeletionScreen(
        [names[x] for x in first], [names[x] for x in second], growth, status, n_lp, n_pairs
    )


def _count_pairs(rows: list[int], cols: list[int]) -> int:
    both = set(rows) & set(cols)
    return len(rows) * len(cols) - len(both) * (len(both) + 1) // 2


def _balanced(tasks: Sequence[tuple[Any, Any, Any, Sequence[Knockout]]], n: int) -> list[list[int]]:
    n = max(1, min(n, len(tasks)))
    loads = [0] * n
    parts: list[list[int]] = [[] for _ in range(n)]
    for t in sorted(range(len(tasks)), key=lambda t: -len(tasks[t][3])):
        k = loads.index(min(loads))
        parts[k].append(t)
        loads[k] += len(tasks[t][3])
    return [p for p in parts if p]


def _joint_extras(
    spec: ModelSpec,
    items: set[int],
    pos: dict[int, int],
    ko_of: dict[int, Knockout],
) -> dict[tuple[int, int], Knockout]:
    """Reactions that only deleting both genes of a pair knocks out, by pair (positions)."""
    from cellfoundry.metabolism.model import _genes_of, _holds

    out: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j, rule in enumerate(spec.rules):
        if rule is None or isinstance(rule, int):
            continue
        genes = sorted(g for g in _genes_of(rule) if g in items)
        for x in range(len(genes)):
            a = genes[x]
            if j in ko_of[a]:
                continue
            for y in range(x + 1, len(genes)):
                b = genes[y]
                if j in ko_of[b]:
                    continue
                if not _holds(rule, {a, b}):
                    out[(pos[a], pos[b])].append(j)
    return {k: tuple(v) for k, v in out.items()}


def double_gene_deletion(
    model: ModelSource,
    gene_list1: Iterable[Any] | None = None,
    gene_list2: Iterable[Any] | None = None,
    method: str = "fba",
    *,
    processes: int | None = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
    solver: SolverName = "glpk",
    as_screen: bool = False,
) -> pd.DataFrame | DeletionScreen:
    """Knock out every pair of genes (``cobra.flux_analysis.double_gene_deletion``).

    With ``as_screen=True`` the result is a :class:`DeletionScreen` (a growth matrix, far
    smaller than COBRApy's frame of sets for genome-wide screens).
    """
    _check_method(method)
    spec = load_model(model)
    screen = _double(
        spec,
        "gene",
        gene_list1,
        gene_list2,
        solver=solver,
        processes=processes,
        executor=executor,
        progress=progress,
    )
    return screen if as_screen else screen.to_frame()


def double_reaction_deletion(
    model: ModelSource,
    reaction_list1: Iterable[Any] | None = None,
    reaction_list2: Iterable[Any] | None = None,
    method: str = "fba",
    *,
    processes: int | None = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
    solver: SolverName = "glpk",
    as_screen: bool = False,
) -> pd.DataFrame | DeletionScreen:
    """Knock out every pair of reactions (``cobra.flux_analysis.double_reaction_deletion``)."""
    _check_method(method)
    spec = load_model(model)
    screen = _double(
        spec,
        "reaction",
        reaction_list1,
        reaction_list2,
        solver=solver,
        processes=processes,
        executor=executor,
        progress=progress,
    )
    return screen if as_screen else screen.to_frame()
