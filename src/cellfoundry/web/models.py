"""Pages of genome-scale models: the list with an upload form, a model page, a job page.

``/models`` lists the stored models the viewer may see (signed-in users may upload one);
``/models/{id}`` shows a model with its medium (every exchange reaction with its uptake
bound, prefilled from the model) and a form to run an analysis as a job;
``/jobs/{id}`` follows a job (a progress bar fed by ``/api/jobs/{id}`` through a small
script) and, once it is done, shows its result: fluxes as a table and as a flux map, flux
ranges, deletion screens, essential genes, a production envelope plot or a model check.

The pages call the bank (models) and the job service (analyses); the drawings in
:mod:`cellfoundry.web.fluxmap` only present the results they return.
"""

from __future__ import annotations

import csv
import io
import math
import threading
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from cellfoundry.api.deps import BankDep, check_text, get_viewer, root_bank
from cellfoundry.bank.policy import ANONYMOUS, VISIBILITIES, Viewer
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import CellfoundryError, NotFoundError, ValidationError
from cellfoundry.jobs import KINDS, JobService, JobView
from cellfoundry.web.fluxmap import DEFAULT_LABELS, envelope_svg, flux_map_svg

__all__ = ["ANALYSES", "job_service", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_text), Depends(get_viewer)])

#: The analyses the model page offers, in the order it shows them.
ANALYSES: Final = (
    "fba",
    "pfba",
    "fva",
    "single_gene_deletion",
    "single_reaction_deletion",
    "essential_genes",
    "production_envelope",
    "check",
)
#: Analyses that take a fraction of the optimum.
_FRACTION_KINDS: Final = frozenset({"fva", "pfba"})
#: Product exchanges offered first for a production envelope (common fermentation products).
_PRODUCTS: Final = ("EX_ac_e", "EX_succ_e", "EX_etoh_e", "EX_lac__D_e", "EX_for_e")
#: Fluxes smaller than this are shown as no flux.
_ZERO: Final = 1e-9
#: Form fields holding uptake rates are named ``uptake:<exchange id>``.
_UPTAKE: Final = "uptake:"

_service_lock = threading.Lock()


def job_service(request: Request) -> JobService:
    """Return the app's job service acting for the request's viewer.

    The app factory keeps one on ``app.state.jobs``; an app made without one gets it here
    on first use.
    """
    state = request.app.state
    service = getattr(state, "jobs", None)
    if service is None:
        with _service_lock:
            service = getattr(state, "jobs", None)
            if service is None:
                service = JobService(root_bank(request))
                state.jobs = service
    assert isinstance(service, JobService)
    return service.as_viewer(_viewer(request))


def _viewer(request: Request) -> Viewer:
    viewer = getattr(request.state, "viewer", None)
    return viewer if isinstance(viewer, Viewer) else ANONYMOUS


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _error_where(tr: Any, error: CellfoundryError) -> list[tuple[str, str]]:
    """Return the file, record and field a refusal names, labelled for the reader."""
    where: list[tuple[str, str]] = []
    if isinstance(error, ValidationError):
        for key, value in (
            ("error.file", error.source),
            ("error.record", error.record),
            ("error.field", error.field),
        ):
            if value:
                where.append((tr.t(key), str(value)))
    return where


def _error_text(error: CellfoundryError) -> str:
    if isinstance(error, ValidationError):
        return error.message
    return str(error)


# -- the list of models -------------------------------------------------------------------------


def _models_page(
    request: Request,
    bank: Bank,
    *,
    error: CellfoundryError | None = None,
    form: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cellfoundry.web.routes import render, translator

    tr = translator(request)
    viewer = bank.viewer
    return render(
        request,
        "models.html",
        {
            "models": bank.list_models(),
            "can_upload": viewer.signed_in and viewer.can_write,
            "visibilities": VISIBILITIES,
            "error": _error_text(error) if error else "",
            "error_where": _error_where(tr, error) if error else [],
            "form": form or {},
        },
        status_code=status_code,
        section="models",
    )


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request, bank: BankDep) -> HTMLResponse:
    """List the models the viewer may see, with an upload form for signed-in users."""
    return _models_page(request, bank)


@router.post("/models", response_class=HTMLResponse)
def upload_model(
    request: Request,
    bank: BankDep,
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form(max_length=255)] = "",
    strain: Annotated[str, Form(max_length=64)] = "",
    visibility: Annotated[str, Form(max_length=8)] = "public",
) -> Response:
    """Store an uploaded model file; a file the engine cannot read is refused, named."""
    filename = file.filename or "model"
    form = {"name": name, "strain": strain, "visibility": visibility}
    try:
        data = file.file.read()
        view = bank.add_model(
            data,
            filename,
            name=name.strip() or None,
            strain=strain.strip() or None,
            visibility=visibility,
        )
    except (ValidationError, NotFoundError) as err:
        status = 404 if isinstance(err, NotFoundError) else 422
        return _models_page(request, bank, error=err, form=form, status_code=status)
    return _redirect(f"/models/{view.id}")


# -- one model ----------------------------------------------------------------------------------


def _exchange_rows(details: Any) -> list[dict[str, Any]]:
    """Return the exchange reactions with their uptake in the medium, open ones first."""
    names = {r.id: r.name for r in details.reactions}
    rows = [
        {"id": rid, "name": names.get(rid, ""), "uptake": float(details.medium.get(rid, 0.0))}
        for rid in details.exchanges
    ]
    rows.sort(key=lambda row: (row["uptake"] <= 0, row["id"]))
    return rows


def _default_product(exchanges: Sequence[str], medium: Mapping[str, float]) -> str:
    for rid in _PRODUCTS:
        if rid in exchanges:
            return rid
    return next((r for r in exchanges if r not in medium), exchanges[0] if exchanges else "")


def _model_page(
    request: Request,
    bank: Bank,
    model_id: int,
    *,
    error: CellfoundryError | None = None,
    chosen: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cellfoundry.web.routes import render, translator

    tr = translator(request)
    details = bank.model_details(model_id, reactions=True)
    viewer = bank.viewer
    can_run = viewer.signed_in and viewer.can_write
    service = job_service(request)
    available = set(service.kinds())
    jobs: tuple[JobView, ...] = ()
    if viewer.signed_in:
        jobs = service.list(model_id=model_id, limit=10)
    rows = _exchange_rows(details)
    if chosen and chosen.get("medium") is not None:
        for row in rows:
            row["uptake"] = float(chosen["medium"].get(row["id"], 0.0))
    for row in rows:
        row["default"] = float(details.medium.get(row["id"], 0.0))
    return render(
        request,
        "model.html",
        {
            "details": details,
            "model": details.model,
            "analyses": [k for k in ANALYSES if k in available],
            "exchange_rows": rows,
            "open_count": sum(1 for row in rows if row["default"] > 0),
            "product": (chosen or {}).get("product")
            or _default_product(details.exchanges, details.medium),
            "chosen": chosen or {"kind": "fba", "fraction": 1.0, "points": 20},
            "jobs": jobs,
            "can_run": can_run,
            "error": _error_text(error) if error else "",
            "error_where": _error_where(tr, error) if error else [],
            "uptake_prefix": _UPTAKE,
        },
        status_code=status_code,
        section="models",
    )


@router.get("/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: int, bank: BankDep) -> HTMLResponse:
    """Show a model: summary, strains, medium, and the form to run an analysis."""
    return _model_page(request, bank, model_id)


def _number(text: Any, field: str, *, low: float, high: float, default: float) -> float:
    value = str(text if text is not None else "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise ValidationError(f"{value!r} is not a number from {low:g} to {high:g}", field=field)
    return number


def _envelope_params(product: str, points: int, objective: Sequence[str]) -> dict[str, Any]:
    """Return an envelope's parameters in the names the job kind takes.

    Either ``product`` (the job puts growth on the grid), or COBRApy's ``objective`` (the
    product) with ``reactions`` (the grid: the model's objective reaction).
    """
    kind = KINDS.get("production_envelope")
    accepted = set(kind.params) if kind is not None else {"product", "points"}
    params: dict[str, Any] = {}
    if "product" in accepted or "objective" not in accepted:
        params["product"] = product
    else:
        params["objective"] = product
        if "reactions" in accepted:
            params["reactions"] = list(objective)
    if "points" in accepted:
        params["points"] = points
    return params


def _job_params(
    form: Any, model_id: int, medium: Mapping[str, float], objective: Sequence[str] = ()
) -> dict[str, Any]:
    """Return the job's parameters from the analysis form; a bad value names its field."""
    kind = str(form.get("kind", ""))
    params: dict[str, Any] = {"model_id": model_id}
    if kind in _FRACTION_KINDS:
        params["fraction_of_optimum"] = _number(
            form.get("fraction"), "fraction_of_optimum", low=0.0, high=1.0, default=1.0
        )
    if kind == "fva":
        listed = [r.strip() for r in str(form.get("reactions", "")).split(",") if r.strip()]
        if listed:
            params["reaction_list"] = listed
    if kind == "production_envelope":
        product = str(form.get("product", "")).strip()
        if not product:
            raise ValidationError("choose the product's exchange reaction", field="product")
        points = int(_number(form.get("points"), "points", low=2, high=200, default=20))
        params.update(_envelope_params(product, points, objective))
    uptakes: dict[str, float] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key.startswith(_UPTAKE):
            rid = key[len(_UPTAKE) :]
            uptakes[rid] = _number(value, f"medium {rid}", low=0.0, high=1e6, default=0.0)
    # uptakes not on the form keep the model's own (the form lists every exchange)
    chosen = {k: v for k, v in {**medium, **uptakes}.items() if v > 0}
    default = {k: v for k, v in medium.items() if v > 0}
    if chosen != default:
        params["medium"] = chosen
    return params


@router.post("/models/{model_id}/jobs", response_class=HTMLResponse)
async def run_analysis(request: Request, model_id: int, bank: BankDep) -> Response:
    """Start the chosen analysis on the model as a job and show the job's page."""
    form = await request.form()
    kind = str(form.get("kind", ""))
    chosen: dict[str, Any] = {
        "kind": kind,
        "fraction": form.get("fraction", ""),
        "reactions": form.get("reactions", ""),
        "product": form.get("product", ""),
        "points": form.get("points", ""),
    }
    service = job_service(request)

    def submit() -> str:
        details = bank.model_details(model_id)
        params = _job_params(form, model_id, details.medium, details.objective_reactions)
        chosen["medium"] = params.get("medium")
        return service.submit(kind, params, owner=bank.viewer)

    try:
        job_id = await run_in_threadpool(submit)
    except ValidationError as err:
        return await run_in_threadpool(
            _model_page, request, bank, model_id, error=err, chosen=chosen, status_code=422
        )
    return _redirect(f"/jobs/{job_id}")


# -- jobs ---------------------------------------------------------------------------------------


def _float(value: Any) -> float:
    """Return a flux from a job's JSON (``"inf"``/``"-inf"`` unbounded, ``None`` none)."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        return {"inf": math.inf, "-inf": -math.inf}.get(value, math.nan)
    return float(value)


def _map_labels(tr: Any) -> dict[str, str]:
    return {key: tr.t(f"map.{key}") for key in DEFAULT_LABELS}


def _solution_context(
    tr: Any, job: JobView, details: Any, names: Mapping[str, str]
) -> dict[str, Any]:
    fluxes = {rid: _float(v) for rid, v in job.result.get("fluxes", {}).items()}
    objective = list(details.objective_reactions) if details else []
    growth = sum(fluxes.get(r, 0.0) for r in objective) if objective else math.nan
    drawn = flux_map_svg(fluxes, names=names, objective=objective, labels=_map_labels(tr))
    rows = [
        {"id": rid, "name": names.get(rid, ""), "flux": v}
        for rid, v in fluxes.items()
        if not math.isfinite(v) or abs(v) > _ZERO
    ]
    rows.sort(key=lambda row: -abs(row["flux"]) if math.isfinite(row["flux"]) else -math.inf)
    return {
        "objective_value": _float(job.result.get("objective_value")),
        "growth": growth,
        "objective_reactions": objective,
        "flux_map": Markup(drawn.svg),
        "map_drawn": drawn.drawn,
        "map_total": drawn.total,
        "map_fraction": drawn.flux_fraction,
        "map_layout": drawn.layout,
        "flux_rows": rows,
        "zero_count": len(fluxes) - len(rows),
    }


def _ranges_context(job: JobView, names: Mapping[str, str]) -> dict[str, Any]:
    lows = job.result.get("minimum", {})
    highs = job.result.get("maximum", {})
    rows = [
        {"id": rid, "name": names.get(rid, ""), "min": _float(lo), "max": _float(highs.get(rid))}
        for rid, lo in lows.items()
    ]
    return {"range_rows": rows}


def _deletion_context(job: JobView, names: Mapping[str, str]) -> dict[str, Any]:
    rows = []
    for row in job.result.get("rows", []):
        ids = [str(i) for i in row.get("ids", [])]
        growth = _float(row.get("growth"))
        rows.append(
            {
                "ids": ids,
                "names": [names.get(i, "") for i in ids],
                "growth": growth,
                "status": row.get("status", ""),
                "none": not math.isfinite(growth) or abs(growth) <= _ZERO,
            }
        )
    rows.sort(key=lambda r: (not r["none"], r["growth"] if math.isfinite(r["growth"]) else 0.0))
    return {"deletion_rows": rows, "no_growth": sum(1 for r in rows if r["none"])}


#: Columns of COBRApy's envelope frame that are not a grid reaction.
_ENVELOPE_COLUMNS: Final = frozenset(
    {
        "carbon_source",
        "flux_minimum",
        "flux_maximum",
        "carbon_yield_minimum",
        "carbon_yield_maximum",
        "mass_yield_minimum",
        "mass_yield_maximum",
    }
)


def _frame_rows(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return a frame stored as JSON as rows: ``{"rows": [...]}`` or columns of values."""
    rows = result.get("rows")
    if isinstance(rows, list):
        return [r for r in rows if isinstance(r, Mapping)]
    columns = {k: v for k, v in result.items() if isinstance(v, list | dict)}
    if "flux_maximum" not in columns:
        return []
    values = {k: list(v.values()) if isinstance(v, dict) else list(v) for k, v in columns.items()}
    n = min(len(v) for v in values.values())
    return [{k: v[i] for k, v in values.items()} for i in range(n)]


def _envelope_context(tr: Any, job: JobView) -> dict[str, Any]:
    """Return the envelope's points from the job's frame (COBRApy's columns, a row a point)."""
    result = job.result
    rows = _frame_rows(result)
    grid = job.params.get("reactions") or []
    axis = str(result.get("growth_reaction") or result.get("axis") or (grid[0] if grid else ""))
    if not axis and rows:
        axis = next((str(k) for k in rows[0] if k not in _ENVELOPE_COLUMNS), "")
    points = sorted(
        (_float(r.get(axis)), _float(r.get("flux_minimum")), _float(r.get("flux_maximum")))
        for r in rows
    )
    product = str(
        result.get("product") or job.params.get("product") or job.params.get("objective") or ""
    )
    labels = _map_labels(tr)
    labels["product"] = tr.t("map.product_named", product=product)
    svg = envelope_svg(
        [p[0] for p in points],
        [p[1] for p in points],
        [p[2] for p in points],
        labels=labels,
        product=product,
    )
    return {
        "envelope": Markup(svg),
        "envelope_points": points,
        "envelope_axis": axis,
        "envelope_product": product,
    }


def _result_context(request: Request, bank: Bank, job: JobView) -> dict[str, Any]:
    from cellfoundry.web.routes import translator

    tr = translator(request)
    details = None
    names: dict[str, str] = {}
    gene_names: dict[str, str] = {}
    if job.model_id is not None:
        try:
            details = bank.model_details(job.model_id, reactions=True)
            names = {r.id: r.name for r in details.reactions}
            spec = bank.model_spec(job.model_id)
            gene_names = dict(zip(spec.genes, spec.gene_names, strict=True))
        except NotFoundError:
            details = None
    kind = job.kind
    if not isinstance(job.result, dict):
        return {}
    if kind in ("fba", "pfba"):
        return _solution_context(tr, job, details, names)
    if kind == "fva":
        return _ranges_context(job, names)
    if kind in ("single_gene_deletion", "single_reaction_deletion"):
        return _deletion_context(job, gene_names if kind == "single_gene_deletion" else names)
    if kind == "essential_genes":
        genes = [str(g) for g in job.result.get("genes", [])]
        return {"essential": [(g, gene_names.get(g, "")) for g in genes]}
    if kind == "production_envelope":
        return _envelope_context(tr, job)
    if kind == "double_gene_deletion":
        growth = job.result.get("growth", [])
        genes = job.result.get("genes", [])
        cols = job.result.get("columns", [])
        lethal = sorted(
            {
                tuple(sorted((str(genes[i]), str(cols[k]))))
                for i, row in enumerate(growth)
                for k, g in enumerate(row)
                if g is None or abs(_float(g)) <= _ZERO
            }
        )
        return {"double_lethal": lethal}
    if kind == "check":
        return {"check": job.result}
    return {}


@router.get("/jobs/{job_id}.csv")
def job_csv(request: Request, job_id: str) -> Response:
    """Download a finished job's result as CSV, in the shape of COBRApy's frames."""
    job = job_service(request).get(job_id)
    if job.status != "done" or not isinstance(job.result, dict):
        raise NotFoundError("job result", job_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    result = job.result
    if "fluxes" in result:
        writer.writerow(["reaction", "fluxes"])
        writer.writerows(result["fluxes"].items())
    elif "minimum" in result:
        writer.writerow(["reaction", "minimum", "maximum"])
        writer.writerows(
            (rid, lo, result["maximum"].get(rid)) for rid, lo in result["minimum"].items()
        )
    elif "rows" in result and result["rows"] and "ids" in result["rows"][0]:
        writer.writerow(["ids", "growth", "status"])
        writer.writerows(
            (";".join(r["ids"]), "" if r["growth"] is None else r["growth"], r["status"])
            for r in result["rows"]
        )
    elif result.get("rows"):
        columns = list(result["rows"][0])
        writer.writerow(columns)
        writer.writerows([row.get(c) for c in columns] for row in result["rows"])
    elif "genes" in result and "growth" not in result:
        writer.writerow(["gene"])
        writer.writerows([g] for g in result["genes"])
    else:
        raise NotFoundError("job result", job_id)
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{job.kind}-{job.id[:8]}.csv"'},
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, bank: BankDep) -> HTMLResponse:
    """Follow a job (progress bar) and, once it is done, show its result."""
    from cellfoundry.web.routes import render

    job = job_service(request).get(job_id)
    model = None
    if job.model_id is not None:
        try:
            model = bank.get_model(job.model_id)
        except NotFoundError:
            model = None
    context: dict[str, Any] = {"job": job, "model": model, "inf": math.inf}
    if job.status == "done":
        context.update(_result_context(request, bank, job))
    return render(request, "job.html", context, section="models")


@router.post("/jobs/{job_id}/cancel")
def cancel_job(request: Request, job_id: str) -> Response:
    """Cancel a queued or running job."""
    job_service(request).cancel(job_id)
    return _redirect(f"/jobs/{job_id}")


#: Kinds of job whose names the pages show (checked by the tests for translations).
JOB_KINDS: Final = (*ANALYSES, "double_gene_deletion")
