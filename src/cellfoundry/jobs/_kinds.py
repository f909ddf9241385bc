"""The kinds of job: their parameters, how each calls the engine, the JSON it stores.

Parameters are checked when a job is submitted (types and ranges, each error naming its
parameter); ids of reactions and genes are checked by the engine when the job runs, and an
unknown one fails the job with the engine's message. Results take COBRApy's shapes, as
plain JSON (see :mod:`cellfoundry.jobs`).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import Progress

__all__ = ["KINDS", "Context", "Kind", "check_params", "jsonable_float"]

#: The most ids a list parameter may hold (iML1515 has 2,712 reactions).
MAX_IDS = 100_000
#: The longest reaction or gene id.
MAX_ID_LENGTH = 255
#: The most grid steps per reaction of a production envelope.
MAX_POINTS = 1000
#: The most points of a production envelope's grid.
MAX_GRID = 1_000_000


@dataclass(frozen=True)
class Context:
    """What a running job gives the engine: where to compute and whom to tell."""

    executor: Executor | None
    processes: int
    progress: Progress


Checker = Callable[[str, Any], Any]
Runner = Callable[[Any, dict[str, Any], Context], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """A kind of job: its parameters (name -> checker) and how it runs."""

    name: str
    run: Runner
    params: Mapping[str, Checker] = field(default_factory=dict)
    parallel: bool = False
    requires: str | None = None  # an engine module the kind needs
    required: tuple[str, ...] = ()  # parameters without a default

    @property
    def available(self) -> bool:
        """Whether the engine has what this kind needs."""
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


# -- parameter checks ------------------------------------------------------------------------------


def _bad(name: str, message: str) -> ValidationError:
    return ValidationError(message, source="params", field=name)


def _model_id(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise _bad(name, f"{value!r} is not a model id (a positive whole number)")
    return value


def _ids(name: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _bad(name, "give a list of ids")
    if len(value) > MAX_IDS:
        raise _bad(name, f"at most {MAX_IDS:,} ids")
    for item in value:
        if not isinstance(item, str) or not 0 < len(item) <= MAX_ID_LENGTH:
            raise _bad(name, f"{item!r} is not an id (text of 1 to {MAX_ID_LENGTH} characters)")
    return list(value)


def _required_ids(name: str, value: Any) -> list[str]:
    ids = _ids(name, value)
    if not ids:
        raise _bad(name, "give at least one id")
    return ids


def _identifier(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise _bad(name, f"{value!r} is not an id (text of 1 to {MAX_ID_LENGTH} characters)")
    return value


def _points(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_POINTS:
        raise _bad(name, f"{value!r} must be a whole number from 1 to {MAX_POINTS}")
    return value


def _whole(low: int, high: int) -> Checker:
    """Return a checker for a whole number from ``low`` to ``high``."""

    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(name, f"{value!r} must be a whole number from {low} to {high}")
        return value

    return check


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _fraction(name: str, value: Any) -> float:
    number = _number(value)
    if number is None or not 0.0 <= number <= 1.0:
        raise _bad(name, f"{value!r} must be a number between 0 and 1")
    return number


def _threshold(name: str, value: Any) -> float | None:
    if value is None:
        return None
    number = _number(value)
    if number is None or number < 0:
        raise _bad(name, f"{value!r} must be a number ≥ 0")
    return number


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(name, f"{value!r} must be true or false")
    return value


def _solver(name: str, value: Any) -> str:
    if value not in ("glpk", "highs"):
        raise _bad(name, f"{value!r} is not a solver: use 'glpk' or 'highs'")
    return str(value)


def _medium(name: str, value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _bad(name, "give the medium as {exchange reaction id: uptake rate}")
    if len(value) > MAX_IDS:
        raise _bad(name, f"at most {MAX_IDS:,} exchange reactions")
    out: dict[str, float] = {}
    for rid, uptake in value.items():
        if not isinstance(rid, str) or not 0 < len(rid) <= MAX_ID_LENGTH:
            raise _bad(name, f"{rid!r} is not a reaction id")
        number = _number(uptake)
        if number is None or number < 0:
            raise ValidationError(
                f"uptake rate {uptake!r} must be a finite number ≥ 0",
                source="params",
                record=rid,
                field=name,
            )
        out[rid] = number
    return out


_COMMON: dict[str, Checker] = {"model_id": _model_id, "medium": _medium, "solver": _solver}


def check_params(kind: Kind, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the parameters of a job, checked and normalised (``None`` values dropped).

    Raises
    ------
    ValidationError
        A parameter is unknown to the kind, missing (``model_id``) or has a bad value;
        the error's field names it.
    """
    if not isinstance(params, Mapping):
        raise _bad("params", "give the parameters as an object")
    allowed = {**_COMMON, **kind.params}
    out: dict[str, Any] = {}
    for name, value in params.items():
        check = allowed.get(str(name))
        if check is None:
            known = ", ".join(sorted(allowed))
            raise _bad(str(name), f"{kind.name} takes no parameter {name!r}; it takes {known}")
        checked = check(str(name), value)
        if checked is not None:
            out[str(name)] = checked
    if "model_id" not in out:
        raise _bad("model_id", "name the stored model to analyse")
    for name in kind.required:
        if name not in out:
            raise _bad(name, f"{kind.name} needs the parameter {name!r}")
    return out


# -- results as JSON ------------------------------------------------------------------------------


def jsonable_float(value: float) -> float | str | None:
    """Return a float JSON can hold: NaN becomes null, infinities ``"inf"``/``"-inf"``."""
    number = float(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return number


def _plain(value: Any) -> Any:
    """Return data JSON can hold: floats through :func:`jsonable_float`, containers walked."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return jsonable_float(value)
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return _plain(value.item())
    return value


def _solution(sol: Any) -> dict[str, Any]:
    return {
        "objective_value": jsonable_float(sol.objective_value),
        "status": sol.status,
        "fluxes": {str(k): jsonable_float(v) for k, v in sol.fluxes.items()},
    }


def _rows(frame: Any) -> dict[str, Any]:
    return {
        "rows": [
            {"ids": sorted(ids), "growth": jsonable_float(growth), "status": status}
            for ids, growth, status in zip(
                frame["ids"], frame["growth"].tolist(), frame["status"], strict=True
            )
        ]
    }


def _solver_of(params: Mapping[str, Any]) -> Any:
    return params.get("solver", "glpk")


# -- the kinds ------------------------------------------------------------------------------------


def _fba(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism import fba

    ctx.progress(0, 1)
    out = _solution(fba(spec, solver=_solver_of(params)))
    ctx.progress(1, 1)
    return out


def _pfba(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism import pfba

    ctx.progress(0, 1)
    sol = pfba(
        spec,
        fraction_of_optimum=params.get("fraction_of_optimum", 1.0),
        solver=_solver_of(params),
    )
    ctx.progress(1, 1)
    return _solution(sol)


def _fva(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism import flux_variability_analysis

    frame = flux_variability_analysis(
        spec,
        reaction_list=params.get("reaction_list"),
        loopless=params.get("loopless", False),
        fraction_of_optimum=params.get("fraction_of_optimum", 1.0),
        processes=ctx.processes,
        executor=ctx.executor,
        progress=ctx.progress,
        solver=_solver_of(params),
    )
    return {
        column: {str(k): jsonable_float(v) for k, v in frame[column].items()}
        for column in ("minimum", "maximum")
    }


def _single_gene(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism import single_gene_deletion

    frame = single_gene_deletion(
        spec,
        params.get("gene_list"),
        processes=ctx.processes,
        executor=ctx.executor,
        progress=ctx.progress,
        solver=_solver_of(params),
    )
    return _rows(frame)


def _single_reaction(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism import single_reaction_deletion

    frame = single_reaction_deletion(
        spec,
        params.get("reaction_list"),
        processes=ctx.processes,
        executor=ctx.executor,
        progress=ctx.progress,
        solver=_solver_of(params),
    )
    return _rows(frame)


def _double_gene(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism import double_gene_deletion

    screen = double_gene_deletion(
        spec,
        params.get("gene_list1"),
        params.get("gene_list2"),
        processes=ctx.processes,
        executor=ctx.executor,
        progress=ctx.progress,
        solver=_solver_of(params),
        as_screen=True,
    )
    growth = [[None if v != v else v for v in row] for row in screen.growth.tolist()]
    return {
        "genes": list(screen.rows),
        "columns": list(screen.cols),
        "growth": growth,
        "lp_count": int(screen.lp_count),
        "pair_count": int(screen.pair_count),
    }


def _essential_genes(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    # find_essential_genes takes neither an executor nor a progress callback, so the screen
    # runs here through single_gene_deletion and the engine's default threshold is applied
    # as find_essential_genes does (1e-6 of the wild type's growth)
    from cellfoundry.metabolism import fba, single_gene_deletion

    solver = _solver_of(params)
    threshold = params.get("threshold")
    if threshold is None:
        threshold = fba(spec, solver=solver).objective_value * 1e-6
    frame = single_gene_deletion(
        spec,
        processes=ctx.processes,
        executor=ctx.executor,
        progress=ctx.progress,
        solver=solver,
    )
    essential = sorted(
        next(iter(ids))
        for ids, growth in zip(frame["ids"], frame["growth"].tolist(), strict=True)
        if math.isnan(growth) or growth < threshold
    )
    return {"genes": essential, "threshold": threshold}


def _production_envelope(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism.envelope import production_envelope

    reactions = params["reactions"]
    points = params.get("points", 20)
    if points ** len(reactions) > MAX_GRID:
        raise ValidationError(
            f"{points} points over {len(reactions)} reactions make {points ** len(reactions):,} "
            f"grid points; at most {MAX_GRID:,}",
            source="params",
            field="points",
        )
    ctx.progress(0, 1)
    frame = production_envelope(
        spec,
        reactions,
        objective=params.get("objective"),
        carbon_sources=params.get("carbon_sources"),
        points=points,
        threshold=params.get("threshold"),
        solver=_solver_of(params),
    )
    ctx.progress(1, 1)
    return {"rows": _plain(frame.to_dict("records"))}


def _check(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism.checks import check_model

    ctx.progress(0, 1)
    report = check_model(spec, solver=_solver_of(params))
    ctx.progress(1, 1)
    return dict(_plain(report.to_dict()))


def _designs(designs: Any) -> list[dict[str, Any]]:
    from cellfoundry.metabolism.design import rank

    return [_plain(d.to_dict()) for d in rank(designs)]


def _design_pathways(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism.design import find_pathways

    pathways = find_pathways(
        spec,
        params["target"],
        k=params.get("k", 5),
        substrate=params.get("substrate", "EX_glc__D_e"),
        max_reactions=params.get("max_reactions", 10),
        progress=ctx.progress,
    )
    summaries = [
        {
            "rank": p.rank,
            "target": p.target,
            "target_name": p.target_name,
            "product": p.product,
            "native": p.native,
            "reactions": [
                {"id": r.id, "name": r.name, "equation": r.equation, "organism": r.organism}
                for r in p.reactions
            ],
            "genes": [
                {"gene": g.gene, "organism": g.organism, "reactions": list(g.reactions)}
                for g in p.genes
            ],
            "max_yield": _plain(
                {
                    "molar": p.max_yield.molar_yield,
                    "mass": p.max_yield.mass_yield,
                    "carbon": p.max_yield.carbon_yield,
                }
            ),
            "yield_at_90": None if p.yield_at_90 is None else _plain(p.yield_at_90.molar_yield),
            "notes": list(p.notes),
        }
        for p in pathways
    ]
    designs = [p.to_design() for p in pathways]
    couple = params.get("couple_knockouts", 0)
    if couple:
        from cellfoundry.metabolism.design import combined_designs

        for p in pathways:
            if not p.native:
                designs += combined_designs(p, max_knockouts=couple, k=1, time_limit=60.0)
    return {"pathways": summaries, "designs": _designs(designs)}


def _method(name: str, value: Any) -> str:
    if value not in ("optknock", "mcs"):
        raise _bad(name, f"{value!r} is not a knock-out method: use 'optknock' or 'mcs'")
    return str(value)


def _seconds(name: str, value: Any) -> float:
    number = _number(value)
    if number is None or not 1.0 <= number <= 3600.0:
        raise _bad(name, f"{value!r} must be a number of seconds from 1 to 3600")
    return number


def _design_knockouts(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from dataclasses import asdict

    from cellfoundry.metabolism.design import minimal_cut_sets, optknock

    common: dict[str, Any] = {
        "substrate": params.get("substrate", "EX_glc__D_e"),
        "max_knockouts": params.get("max_knockouts", 3),
        "k": params.get("k", 3),
        "time_limit": params.get("time_limit", 120.0),
    }
    if params.get("method", "optknock") == "mcs":
        ctx.progress(0, 1)
        designs = minimal_cut_sets(spec, params["product"], **common)
        ctx.progress(1, 1)
        return {"designs": _designs(designs), "search": None}
    report: list[Any] = []
    designs = optknock(spec, params["product"], progress=ctx.progress, report=report, **common)
    search = _plain(asdict(report[-1])) if report else None
    return {"designs": _designs(designs), "search": search}


def _design_overexpress(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    from cellfoundry.metabolism.design import fseof

    result = fseof(
        spec,
        params["product"],
        substrate=params.get("substrate", "EX_glc__D_e"),
        steps=params.get("steps", 10),
        progress=ctx.progress,
    )
    targets = [
        {
            "reaction": t.reaction,
            "kind": t.kind,
            "wild_type_flux": t.wild_type_flux,
            "first_flux": t.first_flux,
            "last_flux": t.last_flux,
            "fold_change": t.fold_change,
            "genes": list(t.genes),
        }
        for t in result.targets
    ]
    design = None
    if result.targets:
        from dataclasses import replace

        from cellfoundry.metabolism.design import evaluate_design

        # expression changes leave the network as it is: the evaluation is the chassis's own
        # envelope, what the targets aim to move the strain along
        planned = result.to_design(max_targets=10)
        note = "expression targets do not change the network: the evaluation is the chassis's"
        design = evaluate_design(spec, replace(planned, notes=(*planned.notes, note)))
    return {
        "targets": _plain(targets),
        "enforced": _plain(list(result.enforced)),
        "growth": _plain(list(result.growth)),
        "designs": [] if design is None else [_plain(design.to_dict())],
    }


# Design searches run whole in a worker (a process of the job's pool, or a Dask worker), off
# the process serving the web app: a MILP can hold a core for minutes. The worker reports no
# progress of its own; the job shows the search started and finished.
_DESIGN_RUNNERS: dict[str, Runner] = {
    "design_pathways": _design_pathways,
    "design_knockouts": _design_knockouts,
    "design_overexpress": _design_overexpress,
}


def _quiet(done: int, total: int, /) -> None:
    """Drop a worker's progress (its job reports start and end)."""


def _run_design(name: str, spec: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Run a design search in this (worker) process."""
    return _DESIGN_RUNNERS[name](spec, params, Context(None, 1, _quiet))


def _offloaded(name: str) -> Runner:
    """Return a runner that sends the design search ``name`` to the job's executor."""

    def run(spec: Any, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
        if ctx.executor is None:
            return _DESIGN_RUNNERS[name](spec, params, ctx)
        ctx.progress(0, 1)
        result = ctx.executor.submit(_run_design, name, spec, params).result()
        ctx.progress(1, 1)
        return result

    return run


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("fba", _fba),
        Kind("pfba", _pfba, {"fraction_of_optimum": _fraction}),
        Kind(
            "fva",
            _fva,
            {"reaction_list": _ids, "fraction_of_optimum": _fraction, "loopless": _flag},
            parallel=True,
        ),
        Kind("single_gene_deletion", _single_gene, {"gene_list": _ids}, parallel=True),
        Kind("single_reaction_deletion", _single_reaction, {"reaction_list": _ids}, parallel=True),
        Kind(
            "double_gene_deletion",
            _double_gene,
            {"gene_list1": _ids, "gene_list2": _ids},
            parallel=True,
        ),
        Kind("essential_genes", _essential_genes, {"threshold": _threshold}, parallel=True),
        Kind(
            "production_envelope",
            _production_envelope,
            {
                "reactions": _required_ids,
                "objective": _identifier,
                "carbon_sources": _ids,
                "points": _points,
                "threshold": _threshold,
            },
            requires="cellfoundry.metabolism.envelope",
            required=("reactions",),
        ),
        Kind("check", _check, requires="cellfoundry.metabolism.checks"),
        Kind(
            "design_pathways",
            _offloaded("design_pathways"),
            {
                "target": _identifier,
                "substrate": _identifier,
                "k": _whole(1, 20),
                "max_reactions": _whole(1, 30),
                "couple_knockouts": _whole(0, 3),
            },
            requires="cellfoundry.metabolism.design.pathway",
            parallel=True,
            required=("target",),
        ),
        Kind(
            "design_knockouts",
            _offloaded("design_knockouts"),
            {
                "product": _identifier,
                "substrate": _identifier,
                "max_knockouts": _whole(1, 5),
                "k": _whole(1, 10),
                "method": _method,
                "time_limit": _seconds,
            },
            requires="cellfoundry.metabolism.design.knockouts",
            parallel=True,
            required=("product",),
        ),
        Kind(
            "design_overexpress",
            _offloaded("design_overexpress"),
            {"product": _identifier, "substrate": _identifier, "steps": _whole(2, 50)},
            requires="cellfoundry.metabolism.design.fseof",
            parallel=True,
            required=("product",),
        ),
    )
}
