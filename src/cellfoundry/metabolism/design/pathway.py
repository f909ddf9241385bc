"""Heterologous pathway search: which reactions to insert into a chassis to make a compound.

:func:`find_pathways` answers "I want compound X from glucose in chassis Y: which genes do I
insert, and what yield can I expect?" with the method of OptStrain's second step (Pharkya,
Burgard & Maranas 2004, Genome Res 14, 2367): a mixed-integer linear program over the chassis
plus the universal database (:mod:`~cellfoundry.metabolism.design.universe`), one binary per
universe reaction, that minimises the number of added reactions subject to steady state, the
product's secretion at least a minimal rate and growth at least a fraction of the chassis's
own. Integer cuts (Balas & Jeroslow 1972) exclude each pathway found, and every superset of
it, to give the next best. The MILP is solved with HiGHS.

To keep the MILP small the universe is pruned first by two graph searches: network expansion
(Ebenhöh, Handorf & Heinrich 2004) from the chassis's metabolites keeps reactions whose
substrates something can make, and a search backwards from the target keeps reactions on a
route to it (through metabolites the chassis lacks, plus one step back from the chassis
metabolites that route consumes, so that a native precursor the chassis cannot make enough of
can be supplied too). Each pathway is then checked and measured on the chassis with only its
reactions added: the maximum theoretical yield and the yield at 90 % of maximal growth
(:func:`~cellfoundry.metabolism.envelope.theoretical_yield`).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import Progress
from cellfoundry.metabolism.design._types import GeneticModification, StrainDesign
from cellfoundry.metabolism.design.evaluate import evaluate
from cellfoundry.metabolism.design.universe import (
    Universe,
    equation,
    extend_chassis,
    heterologous_reactions,
    load_universe,
)
from cellfoundry.metabolism.envelope import TheoreticalYield, formula_elements, theoretical_yield
from cellfoundry.metabolism.flux import base_lp, raise_for_status
from cellfoundry.metabolism.lp import SolverName, objective_terms
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = [
    "KNOWN_ERRORS",
    "InsertedGene",
    "Pathway",
    "PathwayReaction",
    "find_pathways",
    "resolve_target",
]

#: metabolites in more universe reactions than this are cofactors and hubs (h, atp, nad, coa,
#: pyr...): a route is not traced back through them
_HUB_DEGREE = 250
#: universe reactions left out of every search by default, with the reason: BiGG entries whose
#: chemistry is wrong (balanced, so the balance filter keeps them)
KNOWN_ERRORS: dict[str, str] = {
    "13PPDH2_1": (
        "iJN1463's 'L-lactaldehyde + NADPH -> 1,3-propanediol': reducing L-lactaldehyde "
        "(2-hydroxypropanal) gives 1,2-propanediol, not 1,3-propanediol"
    ),
}
#: a pathway whose checked maximal product flux is below this carries none (MILP round-off)
_FLUX_TOL = 1e-6


@dataclass(frozen=True, slots=True)
class PathwayReaction:
    """A universe reaction a pathway adds, with its preferred catalyst.

    ``genes`` are ``model.gene`` ids of the preferred enzyme (empty for an orphan reaction);
    ``flux`` the reaction's flux (mmol/gDW/h) at the pathway's maximum yield.
    """

    id: str
    name: str
    equation: str
    genes: tuple[str, ...]
    organism: str
    flux: float


@dataclass(frozen=True, slots=True)
class InsertedGene:
    """A gene to insert: ``model.gene`` id, source, protein sequence and what it catalyses."""

    gene: str
    organism: str
    model: str
    protein: str
    reactions: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Pathway:
    """One way to make the target: reactions to add, genes to insert, and the yields.

    ``product`` is the target's outlet in :attr:`model` (the chassis's exchange
    ``EX_<id>_e`` when it has one, else an added demand ``DM_<id>_c``). ``max_yield`` is the
    best yield with growth free; ``yield_at_90`` the best with growth at 90 % of its maximum
    (``None`` when the pathway cannot reach that growth). ``model`` is the chassis with the
    pathway's reactions added.
    """

    chassis: str
    target: str
    target_name: str
    product: str
    substrate: str
    rank: int
    reactions: tuple[PathwayReaction, ...]
    genes: tuple[InsertedGene, ...]
    max_yield: TheoreticalYield
    yield_at_90: TheoreticalYield | None
    native: bool = False
    notes: tuple[str, ...] = ()
    model: ModelSpec | None = field(default=None, repr=False)

    @property
    def reaction_ids(self) -> tuple[str, ...]:
        """Ids of the added universe reactions."""
        return tuple(r.id for r in self.reactions)

    @property
    def size(self) -> int:
        """Number of added reactions."""
        return len(self.reactions)

    def modifications(self) -> tuple[GeneticModification, ...]:
        """Return the insertions: one per gene, and one with ``gene=""`` per orphan reaction."""
        out = [
            GeneticModification(
                kind="insert",
                gene=g.gene,
                reactions=g.reactions,
                organism=g.organism,
                protein=g.protein,
            )
            for g in self.genes
        ]
        for r in self.reactions:
            if not r.genes:
                out.append(
                    GeneticModification(
                        kind="insert",
                        gene="",
                        reactions=(r.id,),
                        note="no gene known for this reaction in BiGG: find an enzyme",
                    )
                )
        return tuple(out)

    def to_design(self, *, points: int = 12, solver: SolverName = "glpk") -> StrainDesign:
        """Return the pathway as a :class:`StrainDesign` evaluated on the extended chassis."""
        design = StrainDesign(
            chassis=self.chassis,
            product=self.product,
            substrate=self.substrate,
            method="pathway",
            modifications=self.modifications(),
            added_reactions=self.reaction_ids,
            notes=self.notes,
        )
        if self.model is None:
            return design
        evaluation = evaluate(
            self.model, self.product, self.substrate, points=points, solver=solver
        )
        return design.with_evaluation(evaluation)

    def __repr__(self) -> str:
        steps = ", ".join(self.reaction_ids) or "native"
        at_90 = "n/a" if self.yield_at_90 is None else f"{self.yield_at_90.molar_yield:.3f}"
        return (
            f"<Pathway #{self.rank} {self.target} in {self.chassis}: +{steps}; "
            f"max {self.max_yield.molar_yield:.3f} mol/mol, {at_90} at 90 % growth>"
        )


# ---------------------------------------------------------------------------------------------
# the chassis against the universe (cached per pair)


@dataclass(frozen=True, eq=False)
class _Context:
    spec: ModelSpec
    universe: Universe
    candidates: tuple[int, ...]
    scope: frozenset[str]
    producers: dict[str, list[tuple[int, int]]]  # metabolite -> (universe column, direction)
    hubs: frozenset[str]
    growth: float


_CONTEXTS: dict[tuple[str, str], _Context] = {}


def _context(spec: ModelSpec, universe: Universe, solver: SolverName) -> _Context:
    key = (spec.digest, universe.digest)
    hit = _CONTEXTS.get(key)
    if hit is not None:
        return hit
    lp = base_lp(spec, solver)
    status, growth = lp.solve()
    raise_for_status(spec, status)
    if not growth > 1e-6:
        raise ValidationError(
            f"chassis {spec.id!r} cannot grow on its medium (maximal growth {growth:g}): open "
            "the substrate's uptake and the medium's other exchanges before a pathway search",
            source=spec.source,
            field="medium",
        )
    u = universe.spec
    candidates = heterologous_reactions(spec, universe)
    csc = sp.csc_matrix(u.S)
    degree = np.diff(sp.csr_matrix(u.S).indptr)
    by_base: dict[str, int] = {}
    for i, m in enumerate(u.metabolites):
        base = m.rsplit("_", 1)[0]
        by_base[base] = by_base.get(base, 0) + int(degree[i])
    hubs = frozenset(m for m in u.metabolites if by_base[m.rsplit("_", 1)[0]] > _HUB_DEGREE)
    # network expansion from every chassis metabolite
    have = set(spec.metabolites)
    waiting: dict[str, list[tuple[int, int]]] = {}
    need: dict[tuple[int, int], int] = {}
    ready: list[tuple[int, int]] = []
    producers: dict[str, list[tuple[int, int]]] = {}
    sides: dict[tuple[int, int], tuple[list[str], list[str]]] = {}
    for j in candidates:
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        mets = [u.metabolites[i] for i in csc.indices[lo:hi].tolist()]
        coefs = csc.data[lo:hi].tolist()
        for d in (1, -1):
            if (d > 0 and u.ub[j] <= 0) or (d < 0 and u.lb[j] >= 0):
                continue
            subs = [m for m, v in zip(mets, coefs, strict=True) if v * d < 0]
            prods = [m for m, v in zip(mets, coefs, strict=True) if v * d > 0]
            sides[(j, d)] = (subs, prods)
            missing = [m for m in subs if m not in have]
            need[(j, d)] = len(missing)
            for m in missing:
                waiting.setdefault(m, []).append((j, d))
            if not missing:
                ready.append((j, d))
            for m in prods:
                producers.setdefault(m, []).append((j, d))
    scope = set(have)
    while ready:
        step = ready.pop()
        for m in sides[step][1]:
            if m in scope:
                continue
            scope.add(m)
            for other in waiting.get(m, ()):
                need[other] -= 1
                if need[other] == 0:
                    ready.append(other)
    usable = {step for step, n in need.items() if n == 0}
    producers = {m: [step for step in steps if step in usable] for m, steps in producers.items()}
    ctx = _Context(
        spec=spec,
        universe=universe,
        candidates=candidates,
        scope=frozenset(scope),
        producers=producers,
        hubs=hubs,
        growth=float(growth),
    )
    if len(_CONTEXTS) >= 4:
        _CONTEXTS.pop(next(iter(_CONTEXTS)))
    _CONTEXTS[key] = ctx
    return ctx


# ---------------------------------------------------------------------------------------------
# naming the target

_INCHIKEY = re.compile(r"^[A-Z]{14}(-[A-Z]{10}-[A-Z])?$")
_LOOKS_CHEMICAL = re.compile(r"^(InChI=|[A-Za-z0-9@+\-\[\]\(\)=#\\/%.]*[=\[\]\(\)#@])")


def resolve_target(target: str, universe: Universe, chassis: ModelSpec | None = None) -> str:
    """Return the cytosolic metabolite id a target names.

    Accepted: a BiGG metabolite id with or without compartment (``13ppd_c``, ``13ppd``), a
    metabolite name (case-insensitive, ``1,3-Propanediol``), an InChIKey (whole, or its first
    block of 14 letters), or a cross reference the universe carries: ``CHEBI:16109``,
    ``kegg:C02457`` (or ``C02457``), ``MNXM2861``. InChI strings and SMILES are not supported:
    the universe carries no structures, only InChIKeys (give the compound's InChIKey instead).

    Raises
    ------
    ValidationError
        An unknown compound, with the closest ids and names as suggestions.
    """
    text = target.strip()
    mets = universe.metabolite_index()
    chassis_mets = set(chassis.metabolites) if chassis is not None else set()
    known = set(mets) | chassis_mets
    bases = {m.rsplit("_", 1)[0] for m in known}

    def cytosolic(base: str) -> str | None:
        for m in (f"{base}_c",):
            if m in known:
                return m
        found = sorted(m for m in known if m.rsplit("_", 1)[0] == base)
        return found[0] if found else None

    if text in known:
        base = text.rsplit("_", 1)[0]
        return cytosolic(base) or text
    if text in bases:
        hit = cytosolic(text)
        if hit is not None:
            return hit
    lowered = text.lower()
    names: dict[str, set[str]] = {}
    for m, i in mets.items():
        names.setdefault(universe.spec.metabolite_names[i].lower(), set()).add(m.rsplit("_", 1)[0])
    if chassis is not None:
        for m, n in zip(chassis.metabolites, chassis.metabolite_names, strict=True):
            names.setdefault(n.lower(), set()).add(m.rsplit("_", 1)[0])
    for candidates in (names.get(lowered, set()), _by_xref(universe, text)):
        hits = [m for m in (cytosolic(b) for b in sorted(candidates)) if m is not None]
        if hits:
            hits.sort(key=lambda m: (not m.endswith("_c"), len(m), m))
            return hits[0]
    if _LOOKS_CHEMICAL.match(text) and not text.isalnum():
        raise ValidationError(
            f"{target!r} looks like an InChI or SMILES string: the universe carries no "
            "structures, only names, BiGG ids, InChIKeys and database ids (ChEBI, KEGG, "
            "MetaNetX); give one of those",
            record=target,
            field="target",
        )
    close = difflib.get_close_matches(lowered, list(names), n=4, cutoff=0.6)
    close_ids = difflib.get_close_matches(text, sorted(bases), n=4, cutoff=0.6)
    hints = [*close_ids, *(repr(n) for n in close)]
    raise ValidationError(
        f"unknown compound {target!r}: no BiGG metabolite has that id, name or cross "
        f"reference"
        + (f"; did you mean {', '.join(hints)}?" if hints else "")
        + " (give a BiGG id such as '13ppd', a name, an InChIKey or a ChEBI/KEGG/MetaNetX id;"
        " InChI and SMILES strings are not supported)",
        record=target,
        field="target",
    )


def _by_xref(universe: Universe, text: str) -> set[str]:
    wanted: list[str] = []
    upper = text.upper()
    if _INCHIKEY.match(upper):
        wanted.append(f"inchikey:{upper}")
    elif upper.startswith("CHEBI:"):
        wanted.append(f"chebi:CHEBI:{upper[6:]}")
    elif upper.startswith("KEGG:"):
        wanted.append(f"kegg.compound:{upper[5:]}")
    elif re.fullmatch(r"C\d{5}", upper):
        wanted.append(f"kegg.compound:{upper}")
    elif upper.startswith("MNXM"):
        wanted.append(f"metanetx.chemical:{upper}")
    elif ":" in text:
        wanted.append(text)
    if not wanted:
        return set()
    first_block = len(upper) == 14 and wanted[0].startswith("inchikey:")
    out: set[str] = set()
    for i, refs in enumerate(universe.xrefs):
        for ref in refs:
            if ref in wanted or (first_block and ref.startswith(wanted[0] + "-")):
                out.add(universe.spec.metabolites[i].rsplit("_", 1)[0])
    return out


# ---------------------------------------------------------------------------------------------
# the search


def find_pathways(
    chassis: ModelSource,
    target: str,
    *,
    k: int = 5,
    substrate: str = "EX_glc__D_e",
    universe: Universe | None = None,
    max_reactions: int = 10,
    exclude: Sequence[str] | None = None,
    min_product_flux: float = 0.1,
    min_growth_fraction: float = 0.1,
    time_limit_s: float = 120.0,
    solver: SolverName = "glpk",
    progress: Progress | None = None,
) -> list[Pathway]:
    r"""Find the ``k`` smallest sets of universe reactions that let the chassis make ``target``.

    The MILP, over the chassis's reactions :math:`v` and candidate universe reactions
    :math:`u` with binaries :math:`y`:

    .. math::

        \min \sum_j y_j \quad \text{s.t.} \quad S v = 0,\;
        lb_j y_j \le v_j \le ub_j y_j,\; v_{product} \ge v_{min},\;
        v_{growth} \ge f \mu_{max},\; \sum_j y_j \le n_{max}

    then, for each pathway :math:`P` found, the cut :math:`\sum_{j \in P} y_j \le |P| - 1`.

    Parameters
    ----------
    chassis
        The host (path, ``cobra.Model`` or :class:`ModelSpec`) with BiGG ids, e.g. iJO1366;
        its medium and objective (growth) are used as they are.
    target
        The compound: a BiGG id (``13ppd``, ``13ppd_c``), a name, an InChIKey or a
        ChEBI/KEGG/MetaNetX id (see :func:`resolve_target`; InChI and SMILES are not supported).
    k
        How many pathways to return at most (fewer when fewer exist within ``max_reactions``).
    substrate
        The substrate's exchange reaction in the chassis; yields are per mol of it.
    universe
        Default: :func:`~cellfoundry.metabolism.design.universe.load_universe`.
    max_reactions
        Most reactions a pathway may add (also the depth of the backward search).
    exclude
        Universe reaction ids never to add (default: :data:`KNOWN_ERRORS`; pass ``()`` to
        allow every reaction).
    min_product_flux
        Least secretion of the target (mmol/gDW/h) a pathway must allow.
    min_growth_fraction
        Least growth, as a fraction of the chassis's maximal growth, alongside that secretion.
    time_limit_s
        Time limit of each MILP solve (HiGHS); a solve that hits it ends the search.
    solver
        ``"glpk"`` or ``"highs"`` for the LPs (the MILP is always HiGHS).
    progress
        Called as ``progress(done, k)`` after each pathway.

    Returns
    -------
    list of Pathway
        Smallest first. A target the chassis already makes returns one pathway of no
        reactions (``native=True``).

    Raises
    ------
    ValidationError
        An unknown compound (with suggestions), a compound the universe cannot reach from the
        chassis (naming the nearest precursor it can reach), a chassis that cannot grow, bad
        options, or no pathway within the limits.

    References
    ----------
    Pharkya P, Burgard AP, Maranas CD (2004) OptStrain. Genome Res 14:2367-2376.
    Ebenhöh O, Handorf T, Heinrich R (2004) Structural analysis of expanding metabolic
    networks. Genome Inform 15:35-45.

    Examples
    --------
    >>> import cobra.io
    >>> from cellfoundry.metabolism.design.pathway import find_pathways
    >>> best = find_pathways(cobra.io.load_model("iJO1366"), "13ppd", k=1)[0]  # doctest: +SKIP
    >>> best.reaction_ids  # doctest: +SKIP
    ('G3PT', 'GLYCDH', '13PPDH')
    """
    if not (isinstance(k, int) and k >= 1):
        raise ValidationError(f"k must be a whole number ≥ 1, not {k!r}", field="k")
    if not (isinstance(max_reactions, int) and max_reactions >= 1):
        raise ValidationError(
            f"max_reactions must be a whole number ≥ 1, not {max_reactions!r}",
            field="max_reactions",
        )
    if not (math.isfinite(min_product_flux) and min_product_flux > 0):
        raise ValidationError(
            f"min_product_flux must be a rate > 0, not {min_product_flux!r}",
            field="min_product_flux",
        )
    if not 0.0 <= min_growth_fraction < 1.0:
        raise ValidationError(
            f"min_growth_fraction must lie in [0, 1), not {min_growth_fraction!r}",
            field="min_growth_fraction",
        )
    spec = load_model(chassis)
    spec.reaction_index(substrate)
    uni = universe if universe is not None else load_universe()
    ctx = _context(spec, uni, solver)
    met = resolve_target(target, uni, spec)
    base = met.rsplit("_", 1)[0]
    exchange = f"EX_{base}_e"
    demands: tuple[str, ...] = ()
    if exchange in spec._index:
        product = exchange
    else:
        product, demands = f"DM_{met}", (met,)
    name = _metabolite_name(met, spec, uni)
    growth_floor = min_growth_fraction * ctx.growth

    if met in spec.metabolites:
        native = extend_chassis(spec, (), uni, demands=demands)
        flux = _max_product(native, product, growth_floor, solver)
        if flux > _FLUX_TOL:
            note = (
                f"{name} ({met}) is native: {spec.id} makes it without insertions "
                f"(up to {flux:.3g} mmol/gDW/h with growth ≥ {growth_floor:.3g} /h)"
            )
            result = [_measure(native, (), ctx, met, name, product, substrate, 1, solver, note)]
            if progress is not None:
                progress(1, 1)
            return result

    if met not in ctx.scope:
        raise _unreachable(ctx, met, name)
    banned = set(KNOWN_ERRORS if exclude is None else exclude)
    chosen = [j for j in _prune(ctx, met, max_reactions) if uni.spec.reactions[j] not in banned]
    if not chosen:
        raise _unreachable(ctx, met, name)
    ids = [uni.spec.reactions[j] for j in chosen]
    ext = extend_chassis(spec, ids, uni, demands=demands)
    found = _milp(
        ext,
        spec.n_reactions,
        ids,
        product,
        growth_floor,
        min_product_flux,
        max_reactions,
        k,
        time_limit_s,
        lambda sets: _accept(sets, spec, uni, demands, product, substrate, solver),
        progress,
    )
    if not found:
        raise ValidationError(
            f"no pathway of at most {max_reactions} universe reactions lets {spec.id} secrete "
            f"{name} ({met}) at ≥ {min_product_flux:g} mmol/gDW/h while growing at ≥ "
            f"{growth_floor:.3g} /h, although its precursors are reachable ({len(ids)} "
            "candidate reactions): lower min_product_flux or min_growth_fraction, or raise "
            "max_reactions",
            record=met,
            field="target",
        )
    out = []
    for rank, reactions in enumerate(found, 1):
        model = extend_chassis(spec, reactions, uni, demands=demands)
        out.append(_measure(model, reactions, ctx, met, name, product, substrate, rank, solver))
    return out


def _metabolite_name(met: str, spec: ModelSpec, universe: Universe) -> str:
    i = universe.metabolite_index().get(met)
    if i is not None and universe.spec.metabolite_names[i]:
        return universe.spec.metabolite_names[i]
    for m, n in zip(spec.metabolites, spec.metabolite_names, strict=True):
        if m == met and n:
            return n
    return met


def _max_product(spec: ModelSpec, product: str, growth_floor: float, solver: SolverName) -> float:
    lp = base_lp(spec, solver)
    cols, vals = objective_terms(spec.objective)
    lp.add_row(cols, vals, growth_floor, math.inf)
    jp = spec.reaction_index(product)
    lp.set_objective([jp], [1.0], True)
    status, value = lp.solve()
    return float(value) if status == "optimal" else 0.0


def _accept(
    reactions: Sequence[str],
    spec: ModelSpec,
    universe: Universe,
    demands: Sequence[str],
    product: str,
    substrate: str,
    solver: SolverName,
) -> bool:
    """Check a MILP pathway by LP on the chassis with only its reactions added."""
    model = extend_chassis(spec, reactions, universe, demands=demands)
    try:
        y = theoretical_yield(model, product, substrate, solver=solver)
    except ValidationError:
        return False
    return y.product_flux > _FLUX_TOL


def _prune(ctx: _Context, target: str, depth: int) -> list[int]:
    """Return candidate universe columns on a route to ``target`` (see the module docstring)."""
    chassis_mets = set(ctx.spec.metabolites)
    csc = sp.csc_matrix(ctx.universe.spec.S)
    mets = ctx.universe.spec.metabolites
    chosen: set[int] = set()
    seen = {target}
    frontier = [target]
    for _ in range(depth):
        nxt: list[str] = []
        for m in frontier:
            native_step = m in chassis_mets and m != target
            for j, d in ctx.producers.get(m, ()):
                if j in chosen:
                    continue
                chosen.add(j)
                if native_step:
                    continue  # one step back from a native metabolite, no further
                lo, hi = csc.indptr[j], csc.indptr[j + 1]
                for i, v in zip(csc.indices[lo:hi].tolist(), csc.data[lo:hi].tolist(), strict=True):
                    s = mets[i]
                    if v * d < 0 and s not in seen and s not in ctx.hubs:
                        seen.add(s)
                        nxt.append(s)
        frontier = nxt
        if not frontier:
            break
    return sorted(chosen)


def _milp(
    ext: ModelSpec,
    n_chassis: int,
    ids: Sequence[str],
    product: str,
    growth_floor: float,
    min_flux: float,
    max_reactions: int,
    k: int,
    time_limit_s: float,
    accept: Any,
    progress: Progress | None,
) -> list[tuple[str, ...]]:
    import highspy

    from cellfoundry.metabolism.lp import _quiet_highs

    n = ext.n_reactions
    m = ext.n_metabolites
    n_cand = len(ids)
    cand_cols = np.arange(n_chassis, n_chassis + n_cand)
    lb = np.asarray(ext.lb, dtype=float).copy()
    ub = np.asarray(ext.ub, dtype=float).copy()
    jp = ext.reaction_index(product)
    lb[jp] = max(lb[jp], min_flux)
    eye = sp.csr_matrix((np.ones(n_cand), (np.arange(n_cand), cand_cols)), shape=(n_cand, n))
    cand_ub = ub[cand_cols]
    cand_lb = lb[cand_cols]
    # rows: S v = 0 | v_j - ub_j y_j <= 0 | v_j - lb_j y_j >= 0 | growth >= floor | sum y <= max
    top = sp.hstack([ext.S, sp.csr_matrix((m, n_cand))])
    upper = sp.hstack([eye, sp.diags(-cand_ub)])
    lower = sp.hstack([eye, sp.diags(-cand_lb)])
    cols, vals = objective_terms(ext.objective)
    growth_row = sp.csr_matrix((vals, ([0] * len(cols), cols)), shape=(1, n + n_cand), dtype=float)
    count_row = sp.csr_matrix(
        (np.ones(n_cand), (np.zeros(n_cand, dtype=int), np.arange(n, n + n_cand))),
        shape=(1, n + n_cand),
    )
    a = sp.vstack([top, upper, lower, growth_row, count_row], format="csc")
    inf = highspy.kHighsInf
    row_lb = np.concatenate(
        [np.zeros(m), np.full(n_cand, -inf), np.zeros(n_cand), [growth_floor], [-inf]]
    )
    row_ub = np.concatenate(
        [np.zeros(m), np.zeros(n_cand), np.full(n_cand, inf), [inf], [max_reactions]]
    )
    col_lb = np.concatenate([np.where(np.isinf(lb), -inf, lb), np.zeros(n_cand)])
    col_ub = np.concatenate([np.where(np.isinf(ub), inf, ub), np.ones(n_cand)])
    h = _quiet_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    h.setOptionValue("primal_feasibility_tolerance", 1e-9)
    h.setOptionValue("mip_abs_gap", 0.99)  # the objective counts reactions: integral
    lp = highspy.HighsLp()
    lp.num_col_ = n + n_cand
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.concatenate([np.zeros(n), np.ones(n_cand)])
    lp.col_lower_ = col_lb
    lp.col_upper_ = col_ub
    lp.row_lower_ = row_lb
    lp.row_upper_ = row_ub
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.a_matrix_.num_col_ = n + n_cand
    lp.a_matrix_.num_row_ = a.shape[0]
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * n + [
        highspy.HighsVarType.kInteger
    ] * n_cand
    h.passModel(lp)
    found: list[tuple[str, ...]] = []
    attempts = 0
    while len(found) < k and attempts < 4 * k:
        attempts += 1
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            break
        x = np.asarray(h.getSolution().col_value)
        picked = [t for t in range(n_cand) if x[n + t] > 0.5]
        reactions = tuple(ids[t] for t in picked)
        # exclude this set and every superset of it
        h.addRow(
            -inf,
            float(len(picked) - 1),
            len(picked),
            np.asarray([n + t for t in picked], dtype=np.int32),
            np.ones(len(picked)),
        )
        if not picked or not accept(reactions):
            continue
        found.append(reactions)
        if progress is not None:
            progress(len(found), k)
    return found


def _measure(
    model: ModelSpec,
    reactions: Sequence[str],
    ctx: _Context,
    met: str,
    name: str,
    product: str,
    substrate: str,
    rank: int,
    solver: SolverName,
    note: str = "",
) -> Pathway:
    best = theoretical_yield(model, product, substrate, solver=solver)
    try:
        at_90: TheoreticalYield | None = theoretical_yield(
            model, product, substrate, growth_fraction=0.9, solver=solver
        )
    except ValidationError:
        at_90 = None
    flux = _best_fluxes(model, product, substrate, solver)
    uni = ctx.universe
    steps = []
    genes: dict[str, InsertedGene] = {}
    for rid in reactions:
        j = uni.spec.reaction_index(rid)
        enzymes = uni.enzymes(rid)
        enzyme = enzymes[0] if enzymes else None
        steps.append(
            PathwayReaction(
                id=rid,
                name=uni.spec.reaction_names[j],
                equation=equation(uni.spec, j),
                genes=enzyme.genes if enzyme else (),
                organism=enzyme.organism if enzyme else "",
                flux=flux.get(rid, math.nan),
            )
        )
        if enzyme is None:
            continue
        for g in enzyme.genes:
            if g in genes:
                old = genes[g]
                genes[g] = InsertedGene(
                    old.gene, old.organism, old.model, old.protein, (*old.reactions, rid)
                )
            else:
                genes[g] = InsertedGene(g, enzyme.organism, enzyme.model, uni.protein(g), (rid,))
    notes = [note] if note else []
    if product.startswith("DM_"):
        notes.append(
            f"{ctx.spec.id} has no exchange for {met.rsplit('_', 1)[0]}: secretion is modelled "
            f"as a demand reaction {product} (export by diffusion or a transporter assumed)"
        )
    orphans = [r.id for r in steps if not r.genes]
    if orphans:
        notes.append(f"no gene known in BiGG for {', '.join(orphans)}")
    return Pathway(
        chassis=ctx.spec.id,
        target=met,
        target_name=name,
        product=product,
        substrate=substrate,
        rank=rank,
        reactions=tuple(steps),
        genes=tuple(genes.values()),
        max_yield=best,
        yield_at_90=at_90,
        native=not reactions,
        notes=tuple(notes),
        model=model,
    )


def _best_fluxes(
    model: ModelSpec, product: str, substrate: str, solver: SolverName
) -> dict[str, float]:
    js = model.reaction_index(substrate)
    lp = base_lp(model, solver)
    lp.set_col_bounds(js, float(model.lb[js]), float(model.lb[js]))
    lp.set_objective([model.reaction_index(product)], [1.0], True)
    status, _ = lp.solve()
    if status != "optimal":
        return {}
    v = lp.values()
    return {r: float(v[j]) for j, r in enumerate(model.reactions)}


def _unreachable(ctx: _Context, met: str, name: str) -> ValidationError:
    """Explain why no route reaches ``met``, naming the nearest precursor the network makes."""
    u = ctx.universe.spec
    csc = sp.csc_matrix(u.S)
    scope = ctx.scope
    # every direction of every candidate that makes a metabolite, usable or not
    makers: dict[str, list[tuple[int, int]]] = {}
    for j in ctx.candidates:
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        for i, v in zip(csc.indices[lo:hi].tolist(), csc.data[lo:hi].tolist(), strict=True):
            for d in (1, -1):
                if (d > 0 and u.ub[j] <= 0) or (d < 0 and u.lb[j] >= 0):
                    continue
                if v * d > 0:
                    makers.setdefault(u.metabolites[i], []).append((j, d))
    if not makers.get(met):
        return ValidationError(
            f"no reaction of the universe makes {name} ({met}) in a compartment "
            f"{ctx.spec.id} has (or only unbalanced ones): it cannot be reached",
            record=met,
            field="target",
        )
    parent: dict[str, tuple[str, int, int]] = {}
    frontier = [met]
    seen = {met}
    hits: list[str] = []
    dead_ends: list[str] = []
    while frontier and not hits:
        nxt = []
        for m in frontier:
            if not makers.get(m):
                dead_ends.append(m)
            for j, d in makers.get(m, ()):
                lo, hi = csc.indptr[j], csc.indptr[j + 1]
                for i, v in zip(csc.indices[lo:hi].tolist(), csc.data[lo:hi].tolist(), strict=True):
                    s = u.metabolites[i]
                    if v * d >= 0 or s in seen or s in ctx.hubs:
                        continue
                    seen.add(s)
                    parent[s] = (m, j, d)
                    if s in scope:
                        hits.append(s)
                    nxt.append(s)
        frontier = nxt
    # of the reachable precursors at the least depth, the one closest to the target in size
    carbons = _carbons(u, met)
    hit = min(hits, key=lambda x: (abs(_carbons(u, x) - carbons), x)) if hits else None
    if hit is None:
        ends = ", ".join(dead_ends[:6]) or "none"
        return ValidationError(
            f"the universe cannot reach {name} ({met}) from {ctx.spec.id}'s metabolites: no "
            "route back from it reaches a metabolite the chassis or the universe can make; "
            f"the routes back end at metabolites no universe reaction makes: {ends}",
            record=met,
            field="target",
        )
    route = []
    blocked: set[str] = set()
    node = hit
    while node != met:
        up, j, d = parent[node]
        route.append(u.reactions[j])
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        for i, v in zip(csc.indices[lo:hi].tolist(), csc.data[lo:hi].tolist(), strict=True):
            if v * d < 0 and u.metabolites[i] not in scope:
                blocked.add(u.metabolites[i])
        node = up
    hit_name = _metabolite_name(hit, ctx.spec, ctx.universe)
    return ValidationError(
        f"the universe cannot reach {name} ({met}) from {ctx.spec.id}: the nearest precursor "
        f"the extended network can make is {hit_name} ({hit}), via {' → '.join(route)}, but "
        + (
            f"nothing makes {', '.join(sorted(blocked))}"
            if blocked
            else "no balanced reaction connects the steps"
        ),
        record=met,
        field="target",
    )


def _carbons(spec: ModelSpec, met: str) -> float:
    i = spec.metabolites.index(met) if met in spec.metabolites else -1
    counts = formula_elements(spec.formulas[i]) if i >= 0 else None
    return float((counts or {}).get("C", 0))
