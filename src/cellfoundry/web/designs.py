"""Pages of strain design: choose a chassis and a product, run a design search, keep a design.

``/design`` offers a form (a stored chassis model, the kind of search, the target compound or
product exchange, the substrate, how many designs) and lists the viewer's recent searches;
submitting it queues a ``design_*`` job. ``/design/jobs/{id}`` follows the job (the progress
bar of the model pages) and, once it is done, compares its designs side by side: a table of
their predicted growth and yields, and a card per design with its genetic modifications, its
production envelope and a form that saves it to the bank as a planned strain.
``/strains/{accession}/design.json`` gives back the design a planned strain was saved from.

The pages call the job service (searches) and the bank (models, strains, saved designs); the
designs, their evaluations and envelopes come computed in the job's result.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from cellfoundry.api.deps import BankDep, check_text, get_viewer
from cellfoundry.bank.policy import VISIBILITIES
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import (
    CellfoundryError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from cellfoundry.jobs import KINDS, JobService, JobView
from cellfoundry.web.drawing import design_envelope_svg
from cellfoundry.web.models import job_service

__all__ = ["DESIGN_KINDS", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_text), Depends(get_viewer)])

#: The kinds of design search the page offers, in its order (those the job service has).
DESIGN_KINDS: Final = ("design_pathways", "design_knockouts", "design_overexpress")
#: The substrate a search uses unless the form names another.
DEFAULT_SUBSTRATE: Final = "EX_glc__D_e"
#: Product exchanges suggested for searches that take one.
PRODUCTS: Final = ("EX_succ_e", "EX_ac_e", "EX_etoh_e", "EX_lac__D_e", "EX_for_e", "EX_akg_e")
#: Target compounds suggested for pathway searches (BiGG ids).
TARGETS: Final = ("acetone", "13ppd", "btd_RR", "1btol", "ibutoh", "3hpp")
#: How many of the viewer's design jobs the form page lists.
RECENT: Final = 15
#: Design methods and modification kinds with translated names (others show as written).
METHODS: Final = ("pathway", "optknock", "mcs", "fseof", "combined", "manual")
MODIFICATION_KINDS: Final = ("delete", "insert", "overexpress", "knockdown")
#: Form fields whose errors the page names with their own labels.
_FIELD_LABELS: Final = {
    "model_id": "design.chassis",
    "kind": "design.kind",
    "target": "design.target",
    "product": "design.product",
    "substrate": "design.substrate",
    "k": "design.k",
    "max_knockouts": "design.max_knockouts",
    "parent_accession": "design.parent",
    "accession": "field.accession",
    "design": "design.label",
    "visibility": "access.visibility",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def is_design_kind(kind: str) -> bool:
    """Whether jobs of ``kind`` return strain designs (their pages are these ones).

    Examples
    --------
    >>> is_design_kind("design_pathways"), is_design_kind("fba")
    (True, False)
    """
    return kind.startswith("design_")


def _offered() -> list[str]:
    """Return the design kinds the job service runs here, known ones first."""
    available = [k for k in JobService.kinds() if is_design_kind(k)]
    return [k for k in DESIGN_KINDS if k in available] + sorted(
        k for k in available if k not in DESIGN_KINDS
    )


def _kind_labeller(tr: Any) -> Any:
    """Return a function naming a kind of search (``suffix="_help"``: describing it)."""

    def label(kind: str, suffix: str = "") -> str:
        key = f"analysis.{kind}{suffix}"
        return str(tr.t(key)) if tr.has(key) else ("" if suffix else kind)

    return label


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _error_block(tr: Any, error: CellfoundryError) -> dict[str, Any]:
    """Return a refusal as the page shows it: the message and the field it names."""
    field: str | None = None
    record: str | None = None
    message = str(error)
    if isinstance(error, ValidationError):
        field, record, message = error.field, error.record, error.message
        if isinstance(error, ConflictError) and field in (None, "accession"):
            field = "accession"
    elif isinstance(error, NotFoundError) and error.kind == "strain":
        field = "parent_accession"
    where: list[tuple[str, str]] = []
    if field:
        label = _FIELD_LABELS.get(field)
        shown = f"{tr.t(label)} ({field})" if label else field
        where.append((tr.t("error.field"), shown))
    if record:
        where.append((tr.t("error.record"), record))
    return {"message": message, "where": where, "field": field or ""}


def _status(error: CellfoundryError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, ForbiddenError):
        return 403
    return 422


# -- the form -----------------------------------------------------------------------------------


def _whole(text: Any, field: str, *, low: int, high: int, default: int) -> int:
    value = str(text if text is not None else "").strip()
    if not value:
        return default
    if not re.fullmatch(r"[0-9]{1,4}", value) or not low <= int(value) <= high:
        raise ValidationError(f"{value!r} is not a whole number from {low} to {high}", field=field)
    return int(value)


def design_params(form: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the job kind and its parameters from the design form; a bad value names its field.

    Only the parameters the kind takes are sent (the job service checks them again).
    """
    kind = str(form.get("kind") or "").strip()
    spec = KINDS.get(kind)
    if spec is None or not is_design_kind(kind):
        raise ValidationError(f"choose a kind of design search, not {kind!r}", field="kind")
    model = str(form.get("model_id") or "").strip()
    if not model.isdigit():
        raise ValidationError("choose the chassis model", field="model_id")
    accepted = set(spec.params)
    params: dict[str, Any] = {"model_id": int(model)}
    for name, message in (
        ("target", "name the compound to make (a BiGG id such as acetone, or its name)"),
        ("product", "name the product's exchange reaction (such as EX_succ_e)"),
    ):
        if name in accepted:
            value = str(form.get(name) or "").strip()
            if not value:
                raise ValidationError(message, field=name)
            params[name] = value
    if "substrate" in accepted:
        params["substrate"] = str(form.get("substrate") or "").strip() or DEFAULT_SUBSTRATE
    if "k" in accepted:
        params["k"] = _whole(form.get("k"), "k", low=1, high=20, default=5)
    if "max_knockouts" in accepted:
        params["max_knockouts"] = _whole(
            form.get("max_knockouts"), "max_knockouts", low=1, high=5, default=3
        )
    return kind, params


def _recent_jobs(request: Request, bank: Bank) -> list[dict[str, Any]]:
    viewer = bank.viewer
    if not viewer.signed_in:
        return []
    names = {m.id: m.name for m in bank.list_models()}
    jobs = job_service(request).list(owner=viewer, limit=200)
    rows = []
    for job in jobs:
        if not is_design_kind(job.kind):
            continue
        params = job.params or {}
        rows.append(
            {
                "job": job,
                "model": names.get(job.model_id, "") if job.model_id is not None else "",
                "target": str(params.get("target") or params.get("product") or ""),
            }
        )
        if len(rows) >= RECENT:
            break
    return rows


def _form_page(
    request: Request,
    bank: Bank,
    *,
    chosen: Mapping[str, Any] | None = None,
    error: CellfoundryError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cellfoundry.web.routes import render, translator

    tr = translator(request)
    viewer = bank.viewer
    models = bank.list_models()
    kinds = _offered()
    picked = dict(chosen or {})
    wanted = str(picked.get("model_id") or request.query_params.get("model") or "")
    if not any(str(m.id) == wanted for m in models):
        core = [m for m in models if m.strains] or list(models)
        wanted = str(core[0].id) if core else ""
    picked["model_id"] = wanted
    if picked.get("kind") not in kinds:
        picked["kind"] = kinds[0] if kinds else ""
    picked.setdefault("substrate", DEFAULT_SUBSTRATE)
    picked.setdefault("k", "5")
    picked.setdefault("max_knockouts", "3")
    return render(
        request,
        "designs.html",
        {
            "models": models,
            "kinds": kinds,
            "kind_fields": {name: sorted(KINDS[name].params) for name in kinds},
            "chosen": picked,
            "targets": TARGETS,
            "products": PRODUCTS,
            "recent": _recent_jobs(request, bank),
            "can_run": viewer.signed_in and viewer.can_write,
            "error": _error_block(tr, error) if error else None,
            "kind_label": _kind_labeller(tr),
        },
        status_code=status_code,
        section="design",
    )


@router.get("/design", response_class=HTMLResponse)
def design_page(request: Request, bank: BankDep) -> HTMLResponse:
    """Show the design-search form and the viewer's recent design searches."""
    return _form_page(request, bank)


@router.post("/design", response_class=HTMLResponse)
async def run_design(request: Request, bank: BankDep) -> Response:
    """Start a design search as a job and show its page; bad input is shown, named."""
    form = await request.form()
    chosen = {
        key: str(form.get(key) or "")
        for key in ("model_id", "kind", "target", "product", "substrate", "k", "max_knockouts")
    }
    service = job_service(request)

    def submit() -> str:
        kind, params = design_params(form)
        return service.submit(kind, params, owner=bank.viewer)

    try:
        job_id = await run_in_threadpool(submit)
    except (ValidationError, NotFoundError) as err:
        return await run_in_threadpool(
            _form_page, request, bank, chosen=chosen, error=err, status_code=_status(err)
        )
    return _redirect(f"/design/jobs/{job_id}")


# -- a design job -------------------------------------------------------------------------------


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _envelope(evaluation: Mapping[str, Any]) -> list[tuple[float, float, float]]:
    points = []
    for row in evaluation.get("envelope") or ():
        if isinstance(row, Sequence) and len(row) >= 3:
            point = (_number(row[0]), _number(row[1]), _number(row[2]))
            if all(math.isfinite(x) for x in point):
                points.append(point)
    return sorted(points)


def _pathway_for(design: Mapping[str, Any], pathways: Sequence[Any]) -> Mapping[str, Any] | None:
    """Return the pathway a design was made from: the one adding the same reactions."""
    added = {str(r) for r in design.get("added_reactions") or ()}
    for pathway in pathways:
        if not isinstance(pathway, Mapping):
            continue
        ids = {str(r.get("id")) for r in pathway.get("reactions") or () if isinstance(r, Mapping)}
        if ids and ids == added:
            return pathway
    return None


def _design_cards(tr: Any, job: JobView) -> list[dict[str, Any]]:
    result = job.result if isinstance(job.result, Mapping) else {}
    designs = [d for d in result.get("designs") or () if isinstance(d, Mapping)]
    pathways = list(result.get("pathways") or ())
    envelopes = [_envelope(d.get("evaluation") or {}) for d in designs]
    growths = [p[0] for points in envelopes for p in points]
    fluxes = [p[2] for points in envelopes for p in points]
    x_max = max(growths, default=0.0)
    y_max = max(fluxes, default=0.0)
    cards = []
    for index, (design, points) in enumerate(zip(designs, envelopes, strict=True), 1):
        evaluation = design.get("evaluation") or {}
        growth = _number(evaluation.get("growth"))
        product = str(design.get("product") or "")
        labels = {
            "growth": tr.t("map.growth"),
            "product": tr.t("map.product_named", product=product),
            "maximum": tr.t("map.maximum"),
            "minimum": tr.t("map.minimum"),
            "design": tr.t("design.plot_point"),
            "title": tr.t("design.plot_title", n=index),
        }
        svg = design_envelope_svg(
            points,
            growth=growth,
            product_range=(
                _number(evaluation.get("product_min")),
                _number(evaluation.get("product_max")),
            ),
            labels=labels,
            x_max=x_max,
            y_max=y_max,
        )
        mods = []
        for mod in design.get("modifications") or ():
            if not isinstance(mod, Mapping):
                continue
            protein = str(mod.get("protein") or "")
            mods.append(
                {
                    "kind": str(mod.get("kind") or ""),
                    "gene": str(mod.get("gene") or ""),
                    "reactions": [str(r) for r in mod.get("reactions") or ()],
                    "organism": str(mod.get("organism") or ""),
                    "protein_length": len(protein),
                    "factor": _number(mod.get("factor")),
                    "note": str(mod.get("note") or ""),
                }
            )
        cards.append(
            {
                "index": index,
                "label": str(design.get("label") or ""),
                "method": str(design.get("method") or ""),
                "product": product,
                "substrate": str(design.get("substrate") or ""),
                "chassis": str(design.get("chassis") or ""),
                "modifications": mods,
                "knockouts": [str(r) for r in design.get("knockouts") or ()],
                "growth": growth,
                "substrate_uptake": _number(evaluation.get("substrate_uptake")),
                "product_min": _number(evaluation.get("product_min")),
                "product_max": _number(evaluation.get("product_max")),
                "yield_min": _number(evaluation.get("yield_min")),
                "yield_min_mass": _number(evaluation.get("yield_min_mass")),
                "carbon_yield_min": _number(evaluation.get("carbon_yield_min")),
                "max_yield": _number(evaluation.get("max_yield")),
                "yield_at_90": _number(evaluation.get("yield_at_90")),
                "coupled": bool(evaluation.get("growth_coupled")),
                "envelope": Markup(svg),
                "points": len(points),
                "pathway": _pathway_for(design, pathways),
                "notes": [str(n) for n in design.get("notes") or ()],
            }
        )
    return cards


def _chassis_strain(bank: Bank, job: JobView) -> str:
    if job.model_id is None:
        return ""
    try:
        strains = bank.get_model(job.model_id).strains
    except NotFoundError:
        return ""
    return strains[0] if strains else ""


def _job_page(
    request: Request,
    bank: Bank,
    job_id: str,
    *,
    save_error: CellfoundryError | None = None,
    saving: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    from cellfoundry.web.routes import render, translator

    tr = translator(request)
    job = job_service(request).get(job_id)
    if not is_design_kind(job.kind):
        return _redirect(f"/jobs/{job.id}")
    model = None
    if job.model_id is not None:
        try:
            model = bank.get_model(job.model_id)
        except NotFoundError:
            model = None
    viewer = bank.viewer
    parent = _chassis_strain(bank, job)
    cards = _design_cards(tr, job) if job.status == "done" else []
    return render(
        request,
        "design_job.html",
        {
            "job": job,
            "model": model,
            "cards": cards,
            "pathways": (job.result or {}).get("pathways", []) if job.status == "done" else [],
            "parent": parent,
            "can_save": viewer.signed_in and viewer.can_write,
            "visibilities": VISIBILITIES,
            "save_error": _error_block(tr, save_error) if save_error else None,
            "saving": saving or {},
            "kind_label": _kind_labeller(tr),
            "method_keys": METHODS,
            "modification_keys": MODIFICATION_KINDS,
        },
        status_code=status_code,
        section="design",
    )


@router.get("/design/jobs/{job_id}", response_class=HTMLResponse)
def design_job_page(request: Request, job_id: str, bank: BankDep) -> Response:
    """Follow a design search and, once it is done, compare its designs."""
    return _job_page(request, bank, job_id)


@router.post("/design/jobs/{job_id}/save", response_class=HTMLResponse)
async def save_design(request: Request, job_id: str, bank: BankDep) -> Response:
    """Save one of the job's designs to the bank as a planned strain; show the new strain."""
    form = await request.form()
    saving = {
        key: str(form.get(key) or "")
        for key in ("design", "parent_accession", "accession", "visibility")
    }
    service = job_service(request)

    def save() -> str:
        job = service.get(job_id)
        designs = (job.result or {}).get("designs", []) if job.status == "done" else []
        number = saving["design"].strip()
        if not number.isdigit() or not 1 <= int(number) <= len(designs):
            raise ValidationError(f"no design number {number!r} in this search", field="design")
        parent = saving["parent_accession"].strip()
        if not parent:
            raise ValidationError(
                "name the chassis strain the design derives from", field="parent_accession"
            )
        visibility = saving["visibility"].strip() or "private"
        if visibility not in VISIBILITIES:
            raise ValidationError(
                f"{visibility!r} is not one of {', '.join(VISIBILITIES)}", field="visibility"
            )
        view = bank.save_design(
            designs[int(number) - 1],
            parent_accession=parent,
            accession=saving["accession"].strip() or None,
            actor=bank.viewer.username,
            visibility=visibility,
        )
        return view.accession

    try:
        accession = await run_in_threadpool(save)
    except (ValidationError, NotFoundError, ConflictError, ForbiddenError) as err:
        return await run_in_threadpool(
            _job_page,
            request,
            bank,
            job_id,
            save_error=err,
            saving=saving,
            status_code=_status(err),
        )
    return _redirect(f"/strains/{accession}")


# -- a planned strain's design ------------------------------------------------------------------


@router.get("/strains/{accession}/design.json")
def design_json(accession: str, bank: BankDep) -> Response:
    """Download the design a planned strain was saved from (404 if it has none)."""
    saved = bank.strain_design(accession)
    if saved is None:
        raise NotFoundError("design of strain", accession)
    name = _SAFE_NAME.sub("_", accession).strip("_") or "strain"
    return Response(
        json.dumps(saved.design, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}-design.json"'},
    )
