"""DNA design endpoints: CRISPR guides, off-targets, editing plans, codons, Golden Gate.

The genome of a guide or off-target request is a strain's (or its nearest ancestor's) genome
in the bank; whole-genome guide libraries are for the command line (``cellfoundry dna
guides``). A planned strain's editing plan is made from its saved design by the bank
(``POST /api/strains/{accession}/editing-plan``) and read back as JSON, GenBank or SBOL3.
Golden Gate assembles plasmids or parts stored in the bank by name.

The science is the DNA engine's (:mod:`cellfoundry.dna`); these routes translate requests to
its calls and its results to JSON. The helpers :func:`guide_rows`, :func:`named_records` and
:func:`assemble` are shared with the web pages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, cast

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cellfoundry.api.deps import BankDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.routes.sharing import signed_in
from cellfoundry.api.schemas_sharing import NO_NUL
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import NotFoundError, ValidationError
from cellfoundry.core.sequence import SequenceRecord

if TYPE_CHECKING:
    from cellfoundry.dna.guides import Purpose

__all__ = [
    "ENZYMES",
    "CodonRequest",
    "EditingPlanPublic",
    "GoldenGatePublic",
    "GoldenGateRequest",
    "GuideRow",
    "GuidesPublic",
    "GuidesRequest",
    "OffTargetRow",
    "OffTargetsPublic",
    "OffTargetsRequest",
    "assemble",
    "guide_rows",
    "named_records",
    "product_genbank",
    "router",
]

router = APIRouter(tags=["dna"], responses=ERROR_RESPONSES)

#: Type IIS enzymes the Golden Gate endpoint offers (isoschizomers share ligation data).
ENZYMES: Final = ("BsaI", "BpiI", "BbsI", "Esp3I", "BsmBI")
#: Most genes one guide request may name (whole-genome libraries: the CLI).
MAX_GENES: Final = 200
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

Accession = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="Strain accession.")
]
StrainName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NO_NUL),
]
GeneName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=NO_NUL),
]
Spacer = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[ACGTacgt]{20}$"),
]
SequenceName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=NO_NUL),
]


# -- guides -------------------------------------------------------------------------------------


class GuidesRequest(BaseModel):
    """Guides for some genes of a strain's genome."""

    model_config = ConfigDict(extra="forbid")

    strain: StrainName = Field(
        description="Accession of a strain whose genome (or an ancestor's) is in the bank."
    )
    genes: list[GeneName] = Field(
        min_length=1,
        max_length=MAX_GENES,
        description="Locus tags or gene names of CDSs in the genome (1 to 200).",
    )
    purpose: Literal["knockout", "crispri", "base_edit"] = Field(
        default="knockout",
        description="knockout: SpCas9 cuts in the CDS; crispri: dCas9 repression near the "
        "start; base_edit: C-to-T base-editor stop codons.",
    )
    per_gene: int = Field(default=4, ge=1, le=20, description="Guides kept per gene.")
    max_mismatches: int = Field(
        default=3, ge=0, le=4, description="Off-targets are searched up to this many mismatches."
    )


class GuideRow(BaseModel):
    """One guide, as :func:`cellfoundry.dna.design_guides` reports it (CRISPOR-like)."""

    gene: str
    purpose: str
    contig: str
    position: int = Field(description="0-based start of protospacer + PAM on the forward strand.")
    strand: Literal["+", "-"]
    spacer: str = Field(description="The 20-nt spacer, 5' to 3'.")
    pam: str
    cut: int = Field(description="Forward coordinate of the blunt cut (between cut-1 and cut).")
    offset: float = Field(
        description="Knockout: cut position as a fraction of the CDS; CRISPRi and base "
        "editing: nucleotides from the start codon (negative: upstream)."
    )
    gc: float = Field(description="GC fraction of the spacer.")
    rule_set_1: float | None = Field(description="Rule Set 1 on-target score (0-1).")
    mit_specificity: float | None = Field(description="MIT specificity (0-100).")
    cfd_specificity: float | None = Field(description="CFD specificity (0-100).")
    seed_unique: bool
    off_targets: str = Field(description="Other sites by number of mismatches, 0-1-2-3.")
    flags: str = Field(description="Heuristic warnings, separated by '; '.")
    edit: str = Field(description="Base editing: the protein change (Q45*), else empty.")
    score: float = Field(description="Rank score within the gene (higher is better).")


class GuidesPublic(BaseModel):
    """Ranked guides, best first within each gene, genes in the order asked."""

    strain: str
    purpose: str
    data: list[GuideRow]


def _finite(value: Any) -> Any:
    """Return JSON-safe values: NaN and infinities become ``None``, numpy scalars Python ones."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records_of(frame: Any) -> list[dict[str, Any]]:
    return [{str(k): _finite(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def guide_rows(
    bank: Bank,
    strain: str,
    genes: Sequence[str],
    *,
    purpose: str = "knockout",
    per_gene: int = 4,
    max_mismatches: int = 3,
) -> tuple[tuple[SequenceRecord, ...], list[dict[str, Any]]]:
    """Return the strain's genome and its guides as JSON rows (``design_guides``' table).

    Raises
    ------
    NotFoundError
        No such strain, or not visible.
    ValidationError
        No genome, a gene not in it, or a bad option (named by field).
    """
    from cellfoundry.dna import design_guides

    if not genes:
        raise ValidationError("name at least one gene", field="genes")
    if len(genes) > MAX_GENES:
        raise ValidationError(
            f"at most {MAX_GENES} genes at a time; whole-genome libraries are for the command "
            "line (cellfoundry dna guides)",
            field="genes",
        )
    genome = bank.strain_genome(strain)
    frame = design_guides(
        genome,
        genes=list(genes),
        purpose=cast("Purpose", purpose),  # the engine checks it
        per_gene=per_gene,
        max_mismatches=max_mismatches,
    )
    return genome, _records_of(frame)


@router.post(
    "/dna/guides",
    operation_id="design_guides",
    response_model=GuidesPublic,
)
def design_guides_route(body: GuidesRequest, bank: BankDep) -> GuidesPublic:
    """Design and rank CRISPR guides for genes of a strain's genome (1 to 200 genes)."""
    _, rows = guide_rows(
        bank,
        body.strain,
        body.genes,
        purpose=body.purpose,
        per_gene=body.per_gene,
        max_mismatches=body.max_mismatches,
    )
    return GuidesPublic(
        strain=body.strain,
        purpose=body.purpose,
        data=[GuideRow.model_validate(r) for r in rows],
    )


# -- off-targets --------------------------------------------------------------------------------


class OffTargetsRequest(BaseModel):
    """Spacers to search in a strain's genome."""

    model_config = ConfigDict(extra="forbid")

    strain: StrainName = Field(
        description="Accession of a strain whose genome (or an ancestor's) is in the bank."
    )
    spacers: list[Spacer] = Field(
        min_length=1, max_length=100, description="SpCas9 spacers, 20 nt of A, C, G, T each."
    )
    max_mismatches: int = Field(default=3, ge=0, le=4, description="Most mismatches reported.")
    include_alternative: bool = Field(
        default=False, description="Also report sites with the weaker NAG PAM."
    )


class OffTargetRow(BaseModel):
    """A site within the mismatch limit of a spacer (its own site included, 0 mismatches)."""

    guide_id: str = Field(description="Index of the spacer in the request, from 0.")
    spacer: str
    contig: str
    position: int
    strand: Literal["+", "-"]
    mismatches: int
    site: str = Field(description="The genomic protospacer + PAM, on the guide's strand.")
    pam: str
    alternative_pam: bool
    mit_score: float | None
    cfd_score: float | None


class OffTargetsPublic(BaseModel):
    """Every site found, by spacer."""

    strain: str
    data: list[OffTargetRow]


@router.post(
    "/dna/offtargets",
    operation_id="find_offtargets",
    response_model=OffTargetsPublic,
)
def find_offtargets_route(body: OffTargetsRequest, bank: BankDep) -> OffTargetsPublic:
    """Find the genomic sites of spacers, with up to ``max_mismatches`` mismatches."""
    from cellfoundry.dna import find_offtargets

    genome = bank.strain_genome(body.strain)
    frame = find_offtargets(
        genome,
        [s.upper() for s in body.spacers],
        max_mismatches=body.max_mismatches,
        include_alternative=body.include_alternative,
    )
    return OffTargetsPublic(
        strain=body.strain, data=[OffTargetRow.model_validate(r) for r in _records_of(frame)]
    )


# -- editing plans ------------------------------------------------------------------------------


class EditingPlanPublic(BaseModel):
    """A planned strain's editing plan (``cellfoundry.editing-plan/1``)."""

    accession: str
    chassis: str
    created_by: str
    plan: dict[str, Any] = Field(
        description="Edits with guides, donors and check primers; ordered steps; records "
        "(summarised; GenBank and SBOL3 at .gb and .ttl); oligos; warnings."
    )


def _plan_public(saved: Any) -> EditingPlanPublic:
    return EditingPlanPublic(
        accession=saved.accession,
        chassis=saved.chassis,
        created_by=saved.created_by,
        plan=saved.plan,
    )


def _saved_plan(bank: Bank, accession: str) -> Any:
    saved = bank.editing_plan(accession)
    if saved is None:
        raise NotFoundError("editing plan of strain", accession)
    return saved


def _attachment(accession: str, suffix: str) -> dict[str, str]:
    name = _SAFE_NAME.sub("_", accession).strip("_") or "strain"
    return {"Content-Disposition": f'attachment; filename="{name}-editing-plan.{suffix}"'}


@router.post(
    "/strains/{accession}/editing-plan",
    operation_id="plan_strain_edits",
    response_model=EditingPlanPublic,
    status_code=201,
    dependencies=[Depends(signed_in)],
)
def plan_strain_edits(accession: Accession, bank: BankDep, response: Response) -> Any:
    """Plan how to build a planned strain from its saved design; keep the plan (replaces one)."""
    saved = bank.plan_strain_edits(accession)
    response.headers["Location"] = f"/api/strains/{accession}/editing-plan"
    return _plan_public(saved)


@router.get(
    "/strains/{accession}/editing-plan",
    operation_id="read_editing_plan",
    response_model=EditingPlanPublic,
)
def read_editing_plan(accession: Accession, bank: BankDep) -> Any:
    """Show a planned strain's editing plan (404 if it has none yet)."""
    return _plan_public(_saved_plan(bank, accession))


@router.get(
    "/strains/{accession}/editing-plan.gb",
    operation_id="read_editing_plan_genbank",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "GenBank records."}},
)
def read_editing_plan_genbank(accession: Accession, bank: BankDep) -> Response:
    """Download the plan's records (donors, constructs, fragments) as GenBank."""
    saved = _saved_plan(bank, accession)
    return Response(
        saved.genbank,
        media_type="text/plain; charset=utf-8",
        headers=_attachment(accession, "gb"),
    )


@router.get(
    "/strains/{accession}/editing-plan.ttl",
    operation_id="read_editing_plan_sbol3",
    response_class=Response,
    responses={200: {"content": {"text/turtle": {}}, "description": "An SBOL3 document."}},
)
def read_editing_plan_sbol3(accession: Accession, bank: BankDep) -> Response:
    """Download the plan's records as an SBOL3 document (Turtle)."""
    saved = _saved_plan(bank, accession)
    return Response(
        saved.sbol3, media_type="text/turtle; charset=utf-8", headers=_attachment(accession, "ttl")
    )


# -- codon optimisation -------------------------------------------------------------------------


class CodonRequest(BaseModel):
    """A protein (or a coding sequence) to codon-optimise for a host."""

    model_config = ConfigDict(extra="forbid")

    protein: str | None = Field(
        default=None, max_length=20_000, description="One-letter protein sequence."
    )
    cds: str | None = Field(
        default=None, max_length=60_000, description="Or a DNA coding sequence in frame 1."
    )
    host: Literal["e_coli", "s_cerevisiae", "b_subtilis"] = "e_coli"
    gc_min: float = Field(default=0.30, ge=0.0, le=1.0, description="Least GC in every window.")
    gc_max: float = Field(default=0.65, ge=0.0, le=1.0, description="Most GC in every window.")
    avoid_sites: list[Annotated[str, StringConstraints(min_length=1, max_length=32)]] = Field(
        default_factory=lambda: ["BsaI", "BpiI"],
        max_length=20,
        description="Restriction enzymes whose sites must not occur (Golden Gate: BsaI, BpiI).",
    )
    name: SequenceName = "sequence"


class ConstraintPublic(BaseModel):
    """A constraint checked on the optimised sequence."""

    name: str
    passed: bool
    message: str


class CodonPublic(BaseModel):
    """A codon-optimised coding sequence."""

    name: str
    sequence: str
    protein: str
    host: str
    cai_before: float | None = Field(description="Codon adaptation index of the input CDS.")
    cai_after: float
    gc: float = Field(description="GC fraction of the optimised sequence.")
    constraints: list[ConstraintPublic]
    warnings: list[str]


@router.post("/dna/codon", operation_id="optimise_codons", response_model=CodonPublic)
def optimise_codons_route(body: CodonRequest) -> CodonPublic:
    """Codon-optimise a protein or CDS for a host, avoiding sites and GC extremes."""
    from cellfoundry.dna import optimise_codons

    if (body.protein is None) == (body.cds is None):
        raise ValidationError("give either a protein or a cds", source="body", field="protein")
    if body.gc_min >= body.gc_max:
        raise ValidationError("gc_min must be below gc_max", source="body", field="gc_min")
    text = body.protein if body.protein is not None else body.cds
    assert text is not None
    result = optimise_codons(
        text,
        host=body.host,
        gc_min=body.gc_min,
        gc_max=body.gc_max,
        avoid_sites=tuple(body.avoid_sites),
        kind="protein" if body.protein is not None else "cds",
        name=body.name,
    )
    return CodonPublic(
        name=result.name,
        sequence=result.sequence,
        protein=result.protein,
        host=result.host,
        cai_before=_finite(result.cai_before),
        cai_after=result.cai_after,
        gc=result.gc_fraction,
        constraints=[
            ConstraintPublic(name=c.name, passed=c.passed, message=c.message)
            for c in result.constraints
        ],
        warnings=list(result.warnings),
    )


# -- Golden Gate --------------------------------------------------------------------------------


class GoldenGateRequest(BaseModel):
    """Plasmids or parts of the bank to assemble by Golden Gate."""

    model_config = ConfigDict(extra="forbid")

    parts: list[SequenceName] = Field(
        min_length=1, max_length=24, description="Names of plasmids or parts in the bank."
    )
    backbone: SequenceName | None = Field(
        default=None, description="Name of the acceptor plasmid (its backbone starts the product)."
    )
    enzyme: Literal["BsaI", "BpiI", "BbsI", "Esp3I", "BsmBI"] = "BsaI"
    name: SequenceName = Field(default="golden_gate_product", description="The product's name.")


class OverhangPublic(BaseModel):
    """A junction overhang and its ligation fidelity (Pryor et al. 2020 data)."""

    overhang: str
    fidelity: float = Field(description="Share of its ligations that join its partner.")
    worst_mispair: str
    worst_mispair_fraction: float


class ProductPublic(BaseModel):
    """The assembled plasmid."""

    name: str
    length: int
    topology: str
    genbank: str = Field(description="The product as GenBank text, parts as features.")


class GoldenGatePublic(BaseModel):
    """A Golden Gate assembly: product, part order, overhangs and their fidelity."""

    product: ProductPublic
    enzyme: str
    order: list[str]
    orientations: list[int]
    overhangs: list[str] = Field(description="overhangs[k] is the junction after order[k].")
    fidelity: float = Field(description="Expected fraction of correct assemblies.")
    overhang_fidelities: list[OverhangPublic]
    warnings: list[str]


def named_records(bank: Bank, names: Sequence[str], field: str) -> list[SequenceRecord]:
    """Return the bank's plasmids (else parts) of these names.

    Raises
    ------
    ValidationError
        A name that is neither a plasmid nor a part the viewer may see (named, with field).
    """
    records = []
    for name in names:
        try:
            records.append(bank.get_sequence("plasmid", name))
            continue
        except NotFoundError:
            pass
        try:
            records.append(bank.get_sequence("part", name))
        except NotFoundError:
            raise ValidationError(
                "no plasmid or part of this name in the bank", record=name, field=field
            ) from None
    return records


def assemble(
    bank: Bank,
    parts: Sequence[str],
    backbone: str | None = None,
    *,
    enzyme: str = "BsaI",
    name: str = "golden_gate_product",
) -> Any:
    """Assemble the named bank records; return the engine's ``GoldenGateResult``.

    Raises
    ------
    ValidationError
        An unknown name, or the engine's refusal (internal site, overhang collision, no
        closed circle), naming the part and the field.
    """
    from cellfoundry.dna import golden_gate

    if not parts:
        raise ValidationError("choose at least one part", field="parts")
    if enzyme not in ENZYMES:
        raise ValidationError(
            f"unknown enzyme {enzyme!r}; use one of {', '.join(ENZYMES)}", field="enzyme"
        )
    records = named_records(bank, parts, "parts")
    acceptor = named_records(bank, [backbone], "backbone")[0] if backbone else None
    return golden_gate(records, acceptor, enzyme=enzyme, name=name)


def product_genbank(result: Any) -> str:
    """Return a Golden Gate product as GenBank text."""
    from cellfoundry.bank import formats

    return str(formats.write([result.product], None, "genbank"))


@router.post("/dna/golden-gate", operation_id="golden_gate", response_model=GoldenGatePublic)
def golden_gate_route(body: GoldenGateRequest, bank: BankDep) -> GoldenGatePublic:
    """Assemble level-0 plasmids or parts of the bank by Golden Gate; a refusal names the part."""
    result = assemble(bank, body.parts, body.backbone, enzyme=body.enzyme, name=body.name)
    return GoldenGatePublic(
        product=ProductPublic(
            name=result.product.name,
            length=len(result.product),
            topology=result.product.topology,
            genbank=product_genbank(result),
        ),
        enzyme=result.enzyme,
        order=list(result.order),
        orientations=[int(o) for o in result.orientations],
        overhangs=list(result.overhangs),
        fidelity=result.fidelity,
        overhang_fidelities=[
            OverhangPublic(
                overhang=o.overhang,
                fidelity=o.fidelity,
                worst_mispair=o.worst_mispair,
                worst_mispair_fraction=o.worst_mispair_fraction,
            )
            for o in result.overhang_fidelities
        ],
        warnings=list(result.warnings),
    )
