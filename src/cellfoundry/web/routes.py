"""Server-rendered pages: dashboard, strains, plasmids, parts, sequence search, import.

Pages only read the bank through its services and render its views with
Jinja2; every visible word goes through :class:`~cellfoundry.web.i18n.Translator`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from cellfoundry import __version__
from cellfoundry.api.deps import BankDep, check_text, get_viewer
from cellfoundry.bank._requests import LICENCES
from cellfoundry.bank._sharing import GRANT_BASES
from cellfoundry.bank.models import (
    DEPOSIT_TYPES,
    MODIFICATION_KINDS,
    ORGANISM_TYPES,
    PART_ROLES,
    STRAIN_STATUSES,
)
from cellfoundry.bank.policy import ANONYMOUS, VISIBILITIES, Viewer
from cellfoundry.bank.search import FACETS, StrainQuery
from cellfoundry.bank.services import Bank
from cellfoundry.bank.views import PlasmidUsage, SequenceHitView
from cellfoundry.core.errors import CellfoundryError, NotFoundError, ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord
from cellfoundry.web.drawing import feature_colour, feature_key, pedigree_svg, plasmid_map_svg
from cellfoundry.web.i18n import LANGUAGES, Translator, negotiate

__all__ = ["render", "render_error", "router", "translator"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_text), Depends(get_viewer)])
templates = Jinja2Templates(directory=str(resources.files("cellfoundry.web").joinpath("templates")))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True

PAGE_SIZE: Final = 25
COOKIE_MAX_AGE: Final = 365 * 24 * 3600
#: Catalogue fields whose values are closed vocabularies with translations.
VALUE_GROUPS: Final = frozenset(
    {"organism_type", "status", "deposit_type", "atmosphere", "nagoya", "supply_forms"}
)


def translator(request: Request) -> Translator:
    """Return the translator of the language this request asks for."""
    return Translator(
        negotiate(
            query=request.query_params.get("lang"),
            cookie=request.cookies.get("lang"),
            accept_language=request.headers.get("accept-language"),
        )
    )


def type_labeller(tr: Translator) -> Callable[[str], str]:
    """Return a function naming a feature type in the reader's language (else as written)."""

    def label(feature_type: str) -> str:
        key = f"feature_type.{feature_key(feature_type)}"
        return tr.t(key) if tr.has(key) else feature_type

    return label


def _url_with(request: Request, **changes: object) -> str:
    """Return the current URL with some query parameters replaced (``None`` drops one)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    query = urlencode(items)
    return request.url.path + (f"?{query}" if query else "")


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    section: str = "",
) -> HTMLResponse:
    """Render a page template in the request's language; remember a ``?lang=`` choice."""
    tr = translator(request)

    def tv(group: str, value: object) -> str:
        return tr.value(group, value)

    def lang_url(code: str) -> str:
        return _url_with(request, lang=code)

    ctx: dict[str, Any] = {
        "t": tr.t,
        "tv": tv,
        "lang": tr.lang,
        "html_lang": "zh-CN" if tr.lang == "zh" else tr.lang,
        "languages": LANGUAGES,
        "lang_url": lang_url,
        "url_with": lambda **changes: _url_with(request, **changes),
        "version": __version__,
        "section": section,
        **_session_context(request),
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie("lang", chosen, max_age=COOKIE_MAX_AGE, samesite="lax")
    return response


def _session_context(request: Request) -> dict[str, Any]:
    """Who is signed in, the CSRF token for forms, and their unread notifications."""
    viewer = getattr(request.state, "viewer", None)
    if not isinstance(viewer, Viewer):
        viewer = ANONYMOUS
    unread = 0
    if viewer.signed_in:
        bank = request.app.state.bank
        assert isinstance(bank, Bank)
        unread = bank.as_viewer(viewer).unread_count()
    return {"viewer": viewer, "csrf": getattr(request.state, "csrf", ""), "unread": unread}


def render_error(request: Request, status_code: int, error: CellfoundryError | None) -> Response:
    """Render the error page for a failed page request in the reader's language."""
    tr = translator(request)
    message = tr.t("error.page_not_found" if status_code in (404, 405) else "error.unexpected")
    where: list[tuple[str, str]] = []
    detail = ""
    if isinstance(error, NotFoundError):
        message = tr.t("error.not_found_detail", kind=tr.value("kind", error.kind), key=error.key)
    elif isinstance(error, ValidationError):
        message = tr.t("error.invalid_detail")
        detail = error.message
        for label, value in (
            ("error.file", error.source),
            ("error.record", error.record),
            ("error.field", error.field),
        ):
            if value:
                shown = tr.value("field", value) if label == "error.field" else value
                where.append((tr.t(label), shown))
    elif error is not None:
        message = tr.t("error.unexpected")
        detail = str(error)
    title_key = {404: "error.title_404", 405: "error.title_404", 409: "error.title_409"}.get(
        status_code, "error.title_422" if status_code == 422 else "error.title_500"
    )
    return render(
        request,
        "error.html",
        {
            "status_code": status_code,
            "title_key": title_key,
            "message": message,
            "detail": detail,
            "where": where,
        },
        status_code=status_code,
    )


def _pages(total: int, offset: int, limit: int) -> dict[str, int]:
    pages = max(1, math.ceil(total / limit))
    page = min(pages, offset // limit + 1)
    return {"page": page, "pages": pages, "limit": limit, "total": total, "offset": offset}


# -- dashboard ----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, bank: BankDep) -> HTMLResponse:
    """Show what the bank holds, with a quick search."""
    return render(request, "dashboard.html", {"counts": bank.counts()}, section="home")


# -- strains ------------------------------------------------------------------------------------


def _facet_groups(
    facets: Mapping[str, Sequence[Any]], selected: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    groups = []
    for name in FACETS:
        counts = {f.value: f.count for f in facets.get(name, ())}
        for value in selected.get(name, ()):
            counts.setdefault(value, 0)
        options = [
            {"value": value, "count": count, "checked": value in selected.get(name, ())}
            for value, count in counts.items()
        ]
        if name == "risk_group":
            options.sort(key=lambda o: o["value"])
        groups.append({"name": name, "options": options})
    return groups


@router.get("/strains", response_class=HTMLResponse)
def strains(
    request: Request,
    bank: BankDep,
    q: str = "",
    genus: Annotated[tuple[str, ...], Query()] = (),
    organism_type: Annotated[tuple[str, ...], Query()] = (),
    risk_group: Annotated[tuple[str, ...], Query()] = (),
    status: Annotated[tuple[str, ...], Query()] = (),
    deposit_type: Annotated[tuple[str, ...], Query()] = (),
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Search strains by text with facet checkboxes and paging."""
    risk = tuple(int(r) for r in risk_group if r.isdigit())
    page = bank.search(
        StrainQuery(
            text=q,
            genus=genus,
            organism_type=organism_type,
            risk_group=risk,
            status=status,
            deposit_type=deposit_type,
            limit=PAGE_SIZE,
            offset=offset,
        )
    )
    selected = {
        "genus": genus,
        "organism_type": organism_type,
        "risk_group": tuple(str(r) for r in risk),
        "status": status,
        "deposit_type": deposit_type,
    }
    return render(
        request,
        "strains.html",
        {
            "q": q,
            "page": page,
            "facet_groups": _facet_groups(page.facets, selected),
            "filtered": any(selected.values()) or bool(q),
            "paging": _pages(page.total, offset, PAGE_SIZE),
        },
        section="strains",
    )


@router.get("/strains/{accession}", response_class=HTMLResponse)
def strain(request: Request, accession: str, bank: BankDep) -> HTMLResponse:
    """Show a strain: catalogue, lineage with pedigree, samples, deposit, plasmids, history."""
    tr = translator(request)
    view = bank.get_strain(accession)
    lineage = bank.lineage(accession)
    plasmids = [(summary, bank.get_sequence("plasmid", summary.name)) for summary in view.plasmids]
    maps = {summary.name: _map(tr, record) for summary, record in plasmids}
    pedigree = Markup(
        pedigree_svg(
            lineage,
            kind_label=lambda k: tr.value("modification_kind", k),
            title=tr.t("strain.pedigree_title", accession=accession),
        )
    )
    return render(
        request,
        "strain.html",
        {
            "view": view,
            "rec": view.record,
            "lineage": lineage,
            "pedigree": pedigree,
            "plasmids": plasmids,
            "maps": maps,
            "history": bank.history(accession),
            "value_groups": VALUE_GROUPS,
            "strain_model": bank.strain_model(accession),
            "design": _design_summary(bank.strain_design(accession)),
            "campaign": bank.strain_campaign(accession),
            **_access_context(bank, accession, view.owner),
        },
        section="strains",
    )


def _design_summary(saved: Any) -> dict[str, Any] | None:
    """Return what a planned strain's page shows of the design it was saved from."""
    if saved is None:
        return None
    design = saved.design if isinstance(saved.design, Mapping) else {}
    evaluation = design.get("evaluation") or {}

    def number(name: str) -> float:
        value = evaluation.get(name)
        return float(value) if isinstance(value, int | float) else math.nan

    return {
        "method": saved.method,
        "product": saved.product,
        "substrate": str(design.get("substrate") or ""),
        "chassis": str(design.get("chassis") or ""),
        "label": str(design.get("label") or ""),
        "modifications": len(design.get("modifications") or ()),
        "growth": number("growth"),
        "yield_min": number("yield_min"),
        "max_yield": number("max_yield"),
        "coupled": bool(evaluation.get("growth_coupled")),
        "created_by": saved.created_by,
    }


def _access_context(bank: Bank, accession: str, owner: str | None) -> dict[str, Any]:
    """Return what the access panel of a strain page offers this viewer."""
    viewer = bank.viewer
    manage = viewer.privileged or (viewer.signed_in and owner == viewer.username)
    return {
        "manage": manage,
        "grants": bank.list_grants(strain=accession) if manage else (),
        "bases": GRANT_BASES,
        "visibilities": VISIBILITIES,
        "licences": LICENCES,
        "can_request": viewer.signed_in and viewer.can_write,
    }


# -- plasmids and parts -------------------------------------------------------------------------


def _sequence_list(
    request: Request, bank: Bank, kind: str, q: str, offset: int, section: str
) -> HTMLResponse:
    items, total = bank.list_sequences(
        "plasmid" if kind == "plasmid" else "part", text=q, limit=PAGE_SIZE, offset=offset
    )
    return render(
        request,
        "sequences.html",
        {"kind": kind, "q": q, "items": items, "paging": _pages(total, offset, PAGE_SIZE)},
        section=section,
    )


@router.get("/plasmids", response_class=HTMLResponse)
def plasmids(
    request: Request, bank: BankDep, q: str = "", offset: Annotated[int, Query(ge=0)] = 0
) -> HTMLResponse:
    """List plasmids with a filter box and paging."""
    return _sequence_list(request, bank, "plasmid", q, offset, "plasmids")


@router.get("/parts", response_class=HTMLResponse)
def parts(
    request: Request, bank: BankDep, q: str = "", offset: Annotated[int, Query(ge=0)] = 0
) -> HTMLResponse:
    """List standard parts with a filter box and paging."""
    return _sequence_list(request, bank, "part", q, offset, "parts")


def _map(tr: Translator, record: SequenceRecord) -> Markup:
    return Markup(
        plasmid_map_svg(
            record, type_label=type_labeller(tr), title=tr.t("plasmid.map_title", name=record.name)
        )
    )


#: Feature type drawn for a part without annotations, by the part's role.
_ROLE_FEATURE: Final = {
    "promoter": "promoter",
    "rbs": "RBS",
    "cds": "CDS",
    "terminator": "terminator",
    "origin": "rep_origin",
    "5utr": "5'UTR",
    "3utr": "3'UTR",
    "signal_peptide": "sig_peptide",
    "operator": "protein_bind",
}


def _as_drawn(record: SequenceRecord, role: str) -> SequenceRecord:
    """Show an unannotated part as one feature of its role, so its map is not empty."""
    if record.features or not record.sequence:
        return record
    feature = Feature(
        _ROLE_FEATURE.get(role, "misc_feature"),
        (FeatureSpan(0, len(record), 1),),
        (("label", record.name),),
    )
    return dataclasses.replace(record, features=(feature,))


def _sequence_page(
    request: Request,
    bank: Bank,
    kind: str,
    record: SequenceRecord,
    part: Any,
    section: str,
    usage: PlasmidUsage | None = None,
) -> HTMLResponse:
    tr = translator(request)
    drawn = _as_drawn(record, part.role) if part is not None else record
    features = [f for f in record.features if feature_key(f.type) != "source"]
    visibility, owner = bank.sequence_access(kind, record.name)  # type: ignore[arg-type]
    viewer = bank.viewer
    return render(
        request,
        "sequence.html",
        {
            "kind": kind,
            "record": record,
            "part": part,
            "map": _map(tr, drawn),
            "features": features,
            "type_label": type_labeller(tr),
            "colour": feature_colour,
            "usage": usage,
            "visibility": visibility,
            "owner": owner,
            "visibilities": VISIBILITIES,
            "manage": viewer.privileged or (viewer.signed_in and owner == viewer.username),
            "can_request": kind == "plasmid" and viewer.signed_in and viewer.can_write,
        },
        section=section,
    )


@router.get("/plasmids/{name}", response_class=HTMLResponse)
def plasmid(request: Request, name: str, bank: BankDep) -> HTMLResponse:
    """Show a plasmid: its map, feature table, downloads, carrier strains and samples."""
    record = bank.get_sequence("plasmid", name)
    usage = bank.plasmid_usage(name)
    return _sequence_page(request, bank, "plasmid", record, None, "plasmids", usage)


@router.get("/parts/{name}", response_class=HTMLResponse)
def part(request: Request, name: str, bank: BankDep) -> HTMLResponse:
    """Show a part: role, Sequence Ontology term, characterisation, map and sequence."""
    view = bank.get_part(name)
    return _sequence_page(request, bank, "part", view.record, view, "parts")


# -- sequence search ----------------------------------------------------------------------------

SEARCH_KINDS: Final = ("plasmid", "part", "genome")


def _search_page(
    request: Request,
    *,
    sequence: str = "",
    top: int = 10,
    kinds: Sequence[str] = SEARCH_KINDS,
    hits: Sequence[SequenceHitView] | None = None,
    error: str = "",
) -> HTMLResponse:
    return render(
        request,
        "sequence_search.html",
        {
            "sequence": sequence,
            "top": top,
            "kinds": kinds,
            "all_kinds": SEARCH_KINDS,
            "hits": hits,
            "error": error,
        },
        section="search",
    )


@router.get("/sequences/search", response_class=HTMLResponse)
def sequence_search(request: Request) -> HTMLResponse:
    """Show the similarity search form (results come from the API via a small script)."""
    return _search_page(request)


@router.post("/sequences/search", response_class=HTMLResponse)
def sequence_search_submit(
    request: Request,
    bank: BankDep,
    sequence: Annotated[str, Form()] = "",
    top: Annotated[int, Form(ge=1, le=100)] = 10,
    kinds: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> HTMLResponse:
    """Run a similarity search without JavaScript and show the hits."""
    from cellfoundry.api.routes.sequences import query_sequence

    chosen = [k for k in kinds if k in SEARCH_KINDS] or list(SEARCH_KINDS)
    try:
        query = query_sequence(sequence)
        hits = bank.search_sequences(query, top=top, kinds=chosen)  # type: ignore[arg-type]
    except ValidationError as err:
        return _search_page(request, sequence=sequence, top=top, kinds=chosen, error=err.message)
    return _search_page(request, sequence=sequence, top=top, kinds=chosen, hits=hits)


# -- import -------------------------------------------------------------------------------------


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request) -> HTMLResponse:
    """Show the upload form; the upload goes to ``POST /api/import`` with a progress bar."""
    return render(
        request,
        "import.html",
        {"roles": list(PART_ROLES), "import_kinds": ("plasmid", "part", "strain", "genome")},
        section="import",
    )


# -- API reference ------------------------------------------------------------------------------

_METHODS: Final = ("get", "post", "put", "patch", "delete")


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Show the HTTP API reference generated from the OpenAPI document."""
    tr = translator(request)
    spec = request.app.openapi()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            tag = (op.get("tags") or ["api"])[0]
            params = [
                {
                    "name": p["name"],
                    "where": p.get("in", ""),
                    "required": p.get("required", False),
                    "schema": _schema_name(p.get("schema", {})),
                }
                for p in op.get("parameters", [])
            ]
            body = op.get("requestBody", {}).get("content", {})
            body_schema = ""
            for media in body.values():
                body_schema = _schema_name(media.get("schema", {}))
            responses = [(code, _response_schema(r)) for code, r in op.get("responses", {}).items()]
            op_id = op.get("operationId", "")
            groups.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": op_id,
                    "summary": tr.value("apiop", op_id) if tr.has(f"apiop.{op_id}") else "",
                    "params": params,
                    "body": body_schema,
                    "responses": responses,
                }
            )
    return render(
        request,
        "docs.html",
        {"groups": groups, "spec_version": spec.get("openapi", "")},
        section="docs",
    )


def _response_schema(response: Mapping[str, Any]) -> str:
    content: Mapping[str, Any] = response.get("content", {})
    for media in content.values():
        return _schema_name(media.get("schema", {}))
    return ""


def _schema_name(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"{_schema_name(schema.get('items', {}))}[]"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return str(schema.get("type", ""))


#: Vocabularies whose every value must have a translation (checked by the tests).
VOCABULARIES: Final[dict[str, tuple[str, ...]]] = {
    "organism_type": ORGANISM_TYPES,
    "status": STRAIN_STATUSES,
    "deposit_type": (*DEPOSIT_TYPES, "none"),
    "modification_kind": MODIFICATION_KINDS,
    "role": tuple(PART_ROLES),
    "kind": ("strain", "plasmid", "part", "genome", "sample", "box", "accession"),
}


# the pages of genome-scale models and their analysis jobs (issue 4) are served with these,
# those of strain design (issue 5) and those of DNA design (guides, editing plans, assembly)
from cellfoundry.web.campaigns import router as _campaigns_router  # noqa: E402
from cellfoundry.web.designs import router as _designs_router  # noqa: E402
from cellfoundry.web.dna import editing_plan_section as _editing_plan_section  # noqa: E402
from cellfoundry.web.dna import router as _dna_router  # noqa: E402
from cellfoundry.web.models import router as _models_router  # noqa: E402

router.include_router(_models_router)
router.include_router(_designs_router)
router.include_router(_dna_router)
router.include_router(_campaigns_router)
templates.env.globals["editing_plan_section"] = _editing_plan_section
