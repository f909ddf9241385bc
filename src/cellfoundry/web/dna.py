"""Pages of DNA design: CRISPR guides on a strain's genome, editing plans, Golden Gate.

``/dna`` offers a form (a strain with a genome, genes, the purpose, guides per gene) and shows
the ranked guides as a table and, per gene, a sequence map with each guide at its site and
its cut marked. ``/dna/assemble`` assembles plasmids or parts of the bank by Golden Gate and
draws the product, the junction overhangs with their ligation fidelity and any warning;
``/dna/assemble.gb`` downloads the product. A planned strain's page gets an *Editing plan*
section (:func:`editing_plan_section`): a button that plans it
(``POST /strains/{accession}/editing-plan``), then the plan's steps, edits, oligos and
records with their maps and downloads.

The pages call the bank and, through :mod:`cellfoundry.api.routes.dna`, the DNA engine;
they compute nothing themselves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from cellfoundry.api.deps import BankDep, check_text, get_viewer, root_bank
from cellfoundry.bank.policy import Viewer
from cellfoundry.bank.search import StrainQuery
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import (
    AuthenticationError,
    CellfoundryError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from cellfoundry.core.sequence import SequenceRecord
from cellfoundry.web.drawing import guide_map_svg, plasmid_map_svg

__all__ = ["PURPOSES", "editing_plan_section", "parse_genes", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_text), Depends(get_viewer)])

#: Purposes of guide design, in the form's order.
PURPOSES: Final = ("knockout", "crispri", "base_edit")
#: Enzymes the assembly page offers.
ENZYMES: Final = ("BsaI", "BpiI", "BbsI", "Esp3I", "BsmBI")
#: The product's name unless the form names one.
DEFAULT_PRODUCT: Final = "golden_gate_product"
#: Strains scanned for a genome to offer in the guide form's list.
GENOME_SCAN: Final = 60
#: Sequences listed in the assembly form, per kind.
LISTED: Final = 500
_FIELD_LABELS: Final = {
    "strain": "dna.strain",
    "genome": "dna.strain",
    "genes": "dna.genes",
    "gene": "dna.genes",
    "purpose": "dna.purpose",
    "per_gene": "dna.per_gene",
    "max_mismatches": "dna.max_mismatches",
    "parts": "dna.parts",
    "backbone": "dna.backbone",
    "enzyme": "dna.enzyme",
    "sequence": "dna.parts",
    "overhang": "dna.overhangs",
    "design": "strain.design",
}
_SPLIT = re.compile(r"[\s,;]+")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def parse_genes(text: str) -> list[str]:
    r"""Split the genes field (spaces, commas, semicolons or lines) into names, once each.

    Examples
    --------
    >>> parse_genes("thrA, thrB;thrA\n  b0003 ")
    ['thrA', 'thrB', 'b0003']
    """
    seen: dict[str, None] = {}
    for name in _SPLIT.split(text):
        if name:
            seen.setdefault(name, None)
    return list(seen)


def _whole(text: Any, field: str, *, low: int, high: int, default: int) -> int:
    value = str(text if text is not None else "").strip()
    if not value:
        return default
    if not re.fullmatch(r"[0-9]{1,3}", value) or not low <= int(value) <= high:
        raise ValidationError(f"{value!r} is not a whole number from {low} to {high}", field=field)
    return int(value)


def _error_block(tr: Any, error: CellfoundryError) -> dict[str, Any]:
    """Return a refusal as the page shows it: the message and the field and record it names."""
    field: str | None = None
    record: str | None = None
    message = str(error)
    if isinstance(error, ValidationError):
        field, record, message = error.field, error.record, error.message
    elif isinstance(error, NotFoundError):
        field, record = ("strain" if error.kind == "strain" else None), error.key
    where: list[tuple[str, str]] = []
    if field:
        label = _FIELD_LABELS.get(field)
        shown = f"{tr.t(label)} ({field})" if label else field
        where.append((tr.t("error.field"), shown))
    if record:
        where.append((tr.t("error.record"), record))
    return {"message": message, "where": where, "field": field or "", "record": record or ""}


def _status(error: CellfoundryError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, ForbiddenError):
        return 403
    if isinstance(error, AuthenticationError):
        return 401
    return 422


# -- guides -------------------------------------------------------------------------------------


def genome_strains(bank: Bank) -> list[dict[str, Any]]:
    """Return strains of the first page of the collection that carry a genome in the bank."""
    if bank.counts().genomes == 0:
        return []
    page = bank.search(StrainQuery(limit=GENOME_SCAN, facets=False))
    found = []
    for summary in page.items:
        try:
            view = bank.get_strain(summary.accession)
        except NotFoundError:
            continue
        if view.genomes:
            found.append(
                {
                    "accession": summary.accession,
                    "taxon": summary.taxon_name,
                    "length": sum(g.length for g in view.genomes),
                }
            )
    return found


def _guide_maps(
    tr: Any, genome: Sequence[SequenceRecord], genes: Sequence[str], rows: Sequence[Any]
) -> list[dict[str, Any]]:
    """Return a sequence map per gene with its guides, in the order the genes were asked."""
    from cellfoundry.dna.guides import genes_of

    targets = genes_of(genome, genes)
    by_gene: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_gene.setdefault(str(row["gene"]), []).append(row)
    labels = {
        "title": "",
        "guide": tr.t("dna.guide"),
        "cut": tr.t("dna.cut"),
        "forward": tr.t("dna.plus_strand"),
        "reverse": tr.t("dna.minus_strand"),
        "pam": tr.t("dna.pam"),
    }
    maps = []
    for target in targets:
        guides = by_gene.get(target.name, [])
        numbered = [{**g, "label": str(i)} for i, g in enumerate(guides, 1)]
        svg = guide_map_svg(
            target.name,
            target.coordinates,
            target.strand,
            numbered,
            labels={**labels, "title": tr.t("dna.map_title", gene=target.name)},
        )
        maps.append(
            {
                "gene": target.name,
                "name": target.gene,
                "contig": target.contig,
                "start": target.start,
                "end": target.end,
                "strand": "+" if target.strand == 1 else "−",
                "length": sum(e - s for s, e in target.coordinates),
                "guides": guides,
                "svg": Markup(svg),
            }
        )
    return maps


def _guides_page(
    request: Request,
    bank: Bank,
    *,
    chosen: Mapping[str, Any] | None = None,
    maps: Sequence[Mapping[str, Any]] = (),
    rows: Sequence[Mapping[str, Any]] = (),
    error: CellfoundryError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cellfoundry.web.routes import render, translator

    tr = translator(request)
    strains = genome_strains(bank)
    picked = dict(chosen or {})
    if not picked.get("strain"):
        picked["strain"] = request.query_params.get("strain") or (
            strains[0]["accession"] if strains else ""
        )
    picked.setdefault("purpose", "knockout")
    picked.setdefault("per_gene", "4")
    picked.setdefault("max_mismatches", "3")
    picked.setdefault("genes", "")
    return render(
        request,
        "dna.html",
        {
            "strains": strains,
            "purposes": PURPOSES,
            "chosen": picked,
            "rows": rows,
            "maps": maps,
            "error": _error_block(tr, error) if error else None,
        },
        status_code=status_code,
        section="dna",
    )


@router.get("/dna", response_class=HTMLResponse)
def guides_page(request: Request, bank: BankDep) -> HTMLResponse:
    """Show the guide-design form."""
    return _guides_page(request, bank)


@router.post("/dna", response_class=HTMLResponse)
async def design_guides_page(request: Request, bank: BankDep) -> Response:
    """Design guides for the genes of the form and show them, as a table and as maps."""
    from cellfoundry.api.routes.dna import guide_rows
    from cellfoundry.web.routes import translator

    form = await request.form()
    chosen = {
        key: str(form.get(key) or "")
        for key in ("strain", "genes", "purpose", "per_gene", "max_mismatches")
    }
    tr = translator(request)

    def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        strain = chosen["strain"].strip()
        if not strain:
            raise ValidationError("choose a strain with a genome in the bank", field="strain")
        genes = parse_genes(chosen["genes"])
        if not genes:
            raise ValidationError("name at least one gene (locus tag or gene name)", field="genes")
        purpose = chosen["purpose"].strip() or "knockout"
        if purpose not in PURPOSES:
            raise ValidationError(
                f"{purpose!r} is not one of {', '.join(PURPOSES)}", field="purpose"
            )
        per_gene = _whole(chosen["per_gene"], "per_gene", low=1, high=20, default=4)
        mismatches = _whole(chosen["max_mismatches"], "max_mismatches", low=0, high=4, default=3)
        genome, rows = guide_rows(
            bank, strain, genes, purpose=purpose, per_gene=per_gene, max_mismatches=mismatches
        )
        for row in rows:
            row["off_target_counts"] = [int(c) for c in str(row["off_targets"]).split("-") if c]
        return rows, _guide_maps(tr, genome, genes, rows)

    try:
        rows, maps = await run_in_threadpool(run)
    except (ValidationError, NotFoundError) as err:
        return await run_in_threadpool(
            _guides_page, request, bank, chosen=chosen, error=err, status_code=_status(err)
        )
    return await run_in_threadpool(_guides_page, request, bank, chosen=chosen, rows=rows, maps=maps)


# -- editing plans ------------------------------------------------------------------------------


def _record_map(tr: Any, record: SequenceRecord) -> Markup:
    from cellfoundry.web.routes import type_labeller

    return Markup(
        plasmid_map_svg(
            record, type_label=type_labeller(tr), title=tr.t("plasmid.map_title", name=record.name)
        )
    )


def editing_plan_section(request: Request, accession: str) -> dict[str, Any]:
    """Return what a planned strain's page shows of its editing plan (a Jinja global).

    ``plan`` is ``None`` until the strain is planned; ``can_plan`` says whether the viewer
    may plan it; ``error`` holds a refusal of the last attempt.
    """
    from cellfoundry.bank import formats
    from cellfoundry.web.routes import translator

    tr = translator(request)
    viewer = getattr(request.state, "viewer", None)
    bank = root_bank(request)
    if isinstance(viewer, Viewer):
        bank = bank.as_viewer(viewer)
    failed = getattr(request.state, "editing_plan_error", None)
    context: dict[str, Any] = {
        "plan": None,
        "can_plan": bool(bank.viewer.signed_in and bank.viewer.can_write),
        "error": _error_block(tr, failed) if isinstance(failed, CellfoundryError) else None,
    }
    saved = bank.editing_plan(accession)
    if saved is None:
        return context
    records = formats.parse(saved.genbank.encode("utf-8"), "genbank") if saved.genbank else []
    by_name = {r.name: r for r in records}
    drawn = []
    for summary in saved.plan.get("records") or ():
        record = by_name.get(str(summary.get("name")))
        drawn.append(
            {
                "summary": summary,
                "map": _record_map(tr, record) if record is not None else None,
            }
        )
    edits = []
    for edit in saved.plan.get("edits") or ():
        detail = edit.get("detail") or {}
        edits.append(
            {
                **edit,
                "donor_bp": detail.get("donor_bp") or _length_of(by_name.get(edit.get("donor"))),
                "fragment_bp": detail.get("fragment_bp"),
                "deleted_bp": detail.get("deleted_bp"),
            }
        )
    context.update(
        plan=saved.plan,
        edits=edits,
        records=drawn,
        created_by=saved.created_by,
        chassis=saved.chassis,
    )
    return context


def _length_of(record: SequenceRecord | None) -> int | None:
    return len(record) if record is not None else None


@router.post("/strains/{accession}/editing-plan", response_class=HTMLResponse)
async def plan_editing(request: Request, accession: str, bank: BankDep) -> Response:
    """Plan the editing of a planned strain from its design; show the strain with the plan."""
    from cellfoundry.web.routes import strain

    def run() -> None:
        bank.plan_strain_edits(accession)

    try:
        await run_in_threadpool(run)
    except (ValidationError, NotFoundError, ForbiddenError, AuthenticationError) as err:
        if isinstance(err, NotFoundError) and err.kind == "strain":
            raise
        request.state.editing_plan_error = err
        response = await run_in_threadpool(strain, request, accession, bank)
        response.status_code = _status(err)
        return response
    lang = request.query_params.get("lang")
    suffix = f"?lang={lang}" if lang else ""
    return RedirectResponse(f"/strains/{accession}{suffix}#editing-plan", status_code=303)


# -- Golden Gate --------------------------------------------------------------------------------


def _junctions(result: Any) -> list[dict[str, Any]]:
    """Return the assembly's junctions in order: the parts they join and their fidelity."""
    fidelity = {o.overhang: o for o in result.overhang_fidelities}
    order = list(result.order)
    junctions = []
    for k, overhang in enumerate(result.overhangs):
        stat = fidelity.get(overhang)
        junctions.append(
            {
                "number": k + 1,
                "after": order[k] if k < len(order) else "",
                "before": order[(k + 1) % len(order)] if order else "",
                "overhang": overhang,
                "fidelity": stat.fidelity if stat else None,
                "worst_mispair": stat.worst_mispair if stat else "",
                "worst_mispair_fraction": stat.worst_mispair_fraction if stat else 0.0,
            }
        )
    return junctions


def _assembly_query(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {
        "parts": [p for p in params.getlist("parts") if p.strip()],
        "backbone": (params.get("backbone") or "").strip(),
        "enzyme": (params.get("enzyme") or "BsaI").strip(),
        "name": (params.get("name") or "").strip(),
    }


def _run_assembly(bank: Bank, chosen: Mapping[str, Any]) -> Any:
    from cellfoundry.api.routes.dna import assemble

    name = _SAFE_NAME.sub("_", str(chosen.get("name") or "")).strip("_") or DEFAULT_PRODUCT
    return assemble(
        bank,
        list(chosen["parts"]),
        chosen.get("backbone") or None,
        enzyme=str(chosen.get("enzyme") or "BsaI"),
        name=name[:64],
    )


def _assembly_page(request: Request, bank: Bank) -> HTMLResponse:
    from urllib.parse import urlencode

    from cellfoundry.web.routes import render, translator

    tr = translator(request)
    chosen = _assembly_query(request)
    plasmids, _ = bank.list_sequences("plasmid", limit=LISTED)
    parts, _ = bank.list_sequences("part", limit=LISTED)
    context: dict[str, Any] = {
        "plasmids": plasmids,
        "parts": parts,
        "enzymes": ENZYMES,
        "default_product": DEFAULT_PRODUCT,
        "chosen": chosen,
        "result": None,
        "error": None,
    }
    status_code = 200
    if chosen["parts"]:
        try:
            result = _run_assembly(bank, chosen)
        except (ValidationError, NotFoundError) as err:
            context["error"] = _error_block(tr, err)
            status_code = _status(err)
        else:
            query = [("parts", p) for p in chosen["parts"]]
            query += [(k, chosen[k]) for k in ("backbone", "enzyme", "name") if chosen[k]]
            context.update(
                result=result,
                product_map=_record_map(tr, result.product),
                junctions=_junctions(result),
                download=f"/dna/assemble.gb?{urlencode(query)}",
            )
    return render(request, "dna_assemble.html", context, status_code=status_code, section="dna")


@router.get("/dna/assemble", response_class=HTMLResponse)
async def assembly_page(request: Request, bank: BankDep) -> HTMLResponse:
    """Show the Golden Gate form and, with parts chosen, the assembly diagram."""
    return await run_in_threadpool(_assembly_page, request, bank)


@router.get("/dna/assemble.gb")
async def assembly_genbank(request: Request, bank: BankDep) -> Response:
    """Download the product of the assembly named by the query as GenBank."""
    from cellfoundry.api.routes.dna import product_genbank

    chosen = _assembly_query(request)

    def run() -> tuple[str, str]:
        if not chosen["parts"]:
            raise ValidationError("choose at least one part", field="parts")
        result = _run_assembly(bank, chosen)
        return result.product.name, product_genbank(result)

    name, text = await run_in_threadpool(run)
    filename = _SAFE_NAME.sub("_", name).strip("_") or "product"
    return Response(
        text.encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.gb"'},
    )
