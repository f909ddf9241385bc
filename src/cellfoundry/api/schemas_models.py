"""Bodies of the model and job endpoints: stored models, their reactions, analysis jobs.

Named like :mod:`cellfoundry.api.schemas`: ``*Create`` is what clients send,
``*Public`` what they get back, built by ``from_view`` from a bank or job view. A flux
bound of ``null`` means no bound. Job parameters are checked twice: their types here,
their meaning (which parameters a kind takes, their ranges) by the job service, whose
refusal is a 422 naming the parameter.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cellfoundry.api.schemas import UtcDatetime, Visibility
from cellfoundry.bank._models import ModelDetails, ModelView, ReactionView
from cellfoundry.jobs import KINDS, JobView

__all__ = [
    "JobCreate",
    "JobParams",
    "JobPublic",
    "JobStatusName",
    "JobsPublic",
    "ModelDetailPublic",
    "ModelFormatName",
    "ModelPublic",
    "ModelsPublic",
    "ReactionPublic",
    "StrainModelLink",
    "StrainModelPublic",
]

ModelFormatName = Literal["sbml", "json", "mat", "yml"]
#: The job service's ``JOB_STATUSES`` as a type (the tests check that the two agree).
JobStatusName = Literal["queued", "running", "done", "failed", "cancelled"]

#: A reaction or gene id in a parameter.
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]
IdList = Annotated[list[Identifier], Field(max_length=100_000)]


class ModelPublic(BaseModel):
    """A stored genome-scale model: its file, size, objective, owner and strains."""

    id: int
    name: str
    filename: str
    format: ModelFormatName
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the file as uploaded.")
    reactions: int
    metabolites: int
    genes: int
    objective: str = Field(description="Direction and reactions, e.g. `max BIOMASS_Ec_iML1515`.")
    owner: str | None
    visibility: Visibility
    created_at: UtcDatetime
    strains: list[str] = Field(description="Strains whose genome-scale model this is.")

    @classmethod
    def from_view(cls, view: ModelView) -> ModelPublic:
        """Build from a bank view."""
        return cls(
            id=view.id,
            name=view.name,
            filename=view.filename,
            format=cast(ModelFormatName, view.format),
            size_bytes=view.size_bytes,
            sha256=view.sha256,
            reactions=view.reactions,
            metabolites=view.metabolites,
            genes=view.genes,
            objective=view.objective,
            owner=view.owner,
            visibility=cast(Visibility, view.visibility),
            created_at=view.created_at,
            strains=list(view.strains),
        )


class ModelsPublic(BaseModel):
    """The models the caller may see."""

    data: list[ModelPublic]
    count: int


class ReactionPublic(BaseModel):
    """A reaction with its flux bounds (mmol/gDW/h; ``null``: no bound) and gene rule."""

    id: str
    name: str
    subsystem: str
    lower_bound: float | None
    upper_bound: float | None
    gene_reaction_rule: str

    @classmethod
    def from_view(cls, view: ReactionView) -> ReactionPublic:
        """Build from a bank view."""
        return cls(
            id=view.id,
            name=view.name,
            subsystem=view.subsystem,
            lower_bound=view.lower_bound,
            upper_bound=view.upper_bound,
            gene_reaction_rule=view.gene_reaction_rule,
        )


class ModelDetailPublic(ModelPublic):
    """A model with its medium and exchanges, and its reactions when asked for."""

    model_id: str = Field(description="The model's own id (SBML `model id`).")
    maximize: bool
    objective_reactions: list[str]
    medium: dict[str, float] = Field(
        description="Open uptakes of exchange reactions (mmol/gDW/h), COBRApy's `model.medium`."
    )
    exchanges: list[str]
    compartments: list[str]
    reaction_list: list[ReactionPublic] | None = Field(
        default=None, description="Every reaction with its bounds (with `?reactions=1`)."
    )

    @classmethod
    def from_details(cls, details: ModelDetails, *, reactions: bool) -> ModelDetailPublic:
        """Build from the bank's details of a model."""
        base = ModelPublic.from_view(details.model).model_dump()
        return cls(
            **base,
            model_id=details.model_id,
            maximize=details.maximize,
            objective_reactions=list(details.objective_reactions),
            medium=dict(details.medium),
            exchanges=list(details.exchanges),
            compartments=list(details.compartments),
            reaction_list=[ReactionPublic.from_view(r) for r in details.reactions]
            if reactions
            else None,
        )


class StrainModelLink(BaseModel):
    """Which stored model is a strain's genome-scale model (``null`` removes the link)."""

    model_config = ConfigDict(extra="forbid")

    model_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None


class StrainModelPublic(BaseModel):
    """A strain and its genome-scale model, if it has one the caller may see."""

    accession: str
    model: ModelPublic | None


class JobParams(BaseModel):
    """Parameters of an analysis; each kind takes some of them (see `kind`).

    Other names are passed on to the job service, which refuses those the kind does not
    take (422 naming the parameter).
    """

    model_config = ConfigDict(extra="allow")

    medium: dict[Identifier, Annotated[float, Field(ge=0)]] | None = Field(
        default=None,
        description="Exchange reaction id → maximum uptake (mmol/gDW/h); every other exchange "
        "is closed, as COBRApy's `model.medium = ...`.",
    )
    solver: Literal["glpk", "highs"] | None = None
    fraction_of_optimum: Annotated[float, Field(ge=0, le=1)] | None = Field(
        default=None, description="pfba, fva: the objective kept at this fraction of optimal."
    )
    reaction_list: IdList | None = Field(
        default=None, description="fva, single_reaction_deletion: these reactions only."
    )
    loopless: bool | None = Field(default=None, description="fva: remove loops (CycleFreeFlux).")
    gene_list: IdList | None = Field(
        default=None, description="single_gene_deletion: these genes only."
    )
    gene_list1: IdList | None = Field(
        default=None, description="double_gene_deletion: the first list (default: all genes)."
    )
    gene_list2: IdList | None = Field(
        default=None, description="double_gene_deletion: the second list (default: the first)."
    )
    threshold: Annotated[float, Field(ge=0)] | None = Field(
        default=None,
        description="essential_genes: growth below this is none (default 1e-6·µ); "
        "production_envelope: values below this are zero.",
    )
    reactions: IdList | None = Field(
        default=None, description="production_envelope: the reactions spanning the grid."
    )
    objective: Identifier | None = Field(
        default=None, description="production_envelope: the product's exchange reaction."
    )
    carbon_sources: IdList | None = Field(
        default=None, description="production_envelope: the carbon sources' exchange reactions."
    )
    points: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description="production_envelope: grid steps per reaction (default 20)."
    )


class JobCreate(BaseModel):
    """An analysis of the model to run as a job."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[
        str,
        StringConstraints(min_length=1, max_length=32),
        Field(
            description="The analysis.",
            json_schema_extra={"enum": sorted(KINDS)},
        ),
    ]
    params: JobParams = Field(default_factory=JobParams)

    def service_params(self, model_id: int) -> dict[str, Any]:
        """Return the parameters for the job service: the given ones and the model's id."""
        params = self.params.model_dump(exclude_none=True)
        params["model_id"] = model_id
        return params


class JobPublic(BaseModel):
    """A job: status, progress (`done` of `total`), result once done, error if failed."""

    id: str
    kind: str
    status: JobStatusName
    done: int
    total: int
    params: dict[str, Any]
    result: Any = Field(
        default=None,
        description="The result once done, in COBRApy's shapes (see the job service); "
        "`null` while running or when not asked for.",
    )
    error: str | None
    owner: str | None
    model_id: int | None
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None

    @classmethod
    def from_view(cls, view: JobView) -> JobPublic:
        """Build from a job view."""
        return cls(
            id=view.id,
            kind=view.kind,
            status=cast(JobStatusName, view.status),
            done=view.done,
            total=view.total,
            params=view.params,
            result=view.result,
            error=view.error,
            owner=view.owner,
            model_id=view.model_id,
            created_at=view.created_at,
            started_at=view.started_at,
            finished_at=view.finished_at,
        )


class JobsPublic(BaseModel):
    """Jobs, newest first (without their results)."""

    data: list[JobPublic]
    count: int
