"""DBTL campaign endpoints: the automated foundry's Design-Build-Test-Learn record.

A campaign (``POST /api/campaigns``) has a chassis strain, a goal and a design space. Each
cycle (``POST /api/campaigns/{name}/cycles``) builds designs, given or drawn as a first
Latin-hypercube batch, into planned strains with the robots' worklists (Opentrons, Tecan,
Echo), downloadable from ``.../cycles/{n}/worklists/{kind}``. Measurements attach to a
cycle's strains (``.../cycles/{n}/measurements``) and ``.../recommendations`` trains the
ensemble on every measured strain and keeps its picks with the last cycle.

The work is the campaign service's (:mod:`cellfoundry.campaigns`); these routes translate
requests to its calls. :func:`open_cycle` and :func:`recommend` are shared with the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

import numpy as np
from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cellfoundry.api.deps import ActorDep, BankDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.routes.sharing import signed_in
from cellfoundry.api.schemas import Visibility
from cellfoundry.api.schemas_sharing import NO_NUL
from cellfoundry.bank._campaigns import CampaignView, CycleView
from cellfoundry.bank.services import Bank
from cellfoundry.campaigns import PartStock, build_cycle, first_designs, recommend_next
from cellfoundry.core.errors import NotFoundError, ValidationError

__all__ = [
    "ACQUISITIONS",
    "WORKLISTS",
    "CampaignCreate",
    "CampaignList",
    "CampaignPublic",
    "CycleCreate",
    "CyclePublic",
    "MeasurementsCreate",
    "RecommendRequest",
    "open_cycle",
    "recommend",
    "router",
]

router = APIRouter(tags=["campaigns"], responses=ERROR_RESPONSES)

#: Worklists a cycle keeps, with the media type each downloads as.
WORKLISTS: Final[dict[str, str]] = {
    "opentrons.py": "text/x-python; charset=utf-8",
    "tecan.gwl": "text/plain; charset=utf-8",
    "echo.csv": "text/csv; charset=utf-8",
}
#: Acquisition functions the recommender offers.
ACQUISITIONS: Final = ("ei", "ucb", "thompson", "mean")
#: Most designs one cycle may build (four 96-well plates).
MAX_DESIGNS: Final = 384

CampaignName = Annotated[
    str, Path(min_length=1, max_length=48, pattern=NO_NUL, description="Campaign name.")
]
CycleNumber = Annotated[int, Path(ge=1, le=10_000, description="Cycle number, from 1.")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)]


class CampaignCreate(BaseModel):
    """A new campaign on a chassis strain."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=48, pattern=NO_NUL)] = Field(
        description="Letters, digits, '.', '_' and '-' (up to 48); names the built strains."
    )
    chassis: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL)] = Field(
        description="Accession of the chassis strain every design is built in."
    )
    goal: dict[str, Any] = Field(
        description="The goal: `product` (required) and targets such as `titre_g_l`, "
        "`rate_g_l_h`, `yield_g_g`."
    )
    design_space: dict[str, Any] = Field(
        description="`factors`: {factor: [level, ...]} (two levels or more each); optional "
        "`strengths`: {factor: {level: relative strength}} makes a factor ordinal."
    )


class CycleStrainPublic(BaseModel):
    """A strain built in a cycle: the design it realises and its measurements."""

    accession: str
    design: dict[str, Any]
    measurements: dict[str, Any] = Field(
        description="`titre_g_l`, `rate_g_l_h`, `yield_g_g`, their `_sd`, `replicates` and "
        "any extras; empty until measured."
    )


class CyclePublic(BaseModel):
    """One cycle: its strains, worklists, model and recommendations."""

    number: int
    strains: list[CycleStrainPublic]
    worklists: dict[str, Any] = Field(
        description="`opentrons.py`, `tecan.gwl`, `echo.csv` (texts), `dry_run` (report), "
        "`reactions` and `transfers` (counts)."
    )
    model: dict[str, Any] = Field(
        description="The model trained after this cycle: `weights`, `cv_r2`, `importance`..."
    )
    recommendations: list[dict[str, Any]] = Field(
        description="Designs for the next cycle with `predicted`, `sd` and `score`."
    )

    @classmethod
    def from_view(cls, view: CycleView) -> CyclePublic:
        """Build from the bank's view."""
        return cls(
            number=view.number,
            strains=[
                CycleStrainPublic(
                    accession=s.accession, design=s.design, measurements=s.measurements
                )
                for s in view.strains
            ],
            worklists=view.worklists,
            model=view.model,
            recommendations=[dict(r) for r in view.recommendations],
        )


class CampaignPublic(BaseModel):
    """A campaign with all its cycles, in order."""

    name: str
    chassis: str
    goal: dict[str, Any]
    design_space: dict[str, Any]
    created_by: str
    cycles: list[CyclePublic]

    @classmethod
    def from_view(cls, view: CampaignView) -> CampaignPublic:
        """Build from the bank's view."""
        return cls(
            name=view.name,
            chassis=view.chassis,
            goal=view.goal,
            design_space=view.design_space,
            created_by=view.created_by,
            cycles=[CyclePublic.from_view(c) for c in view.cycles],
        )


class CampaignList(BaseModel):
    """Every campaign, by name."""

    data: list[CampaignPublic]


class PartStockPublic(BaseModel):
    """A plasmid as it stands in the freezer."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    length_bp: int = Field(ge=100, le=1_000_000, description="Plasmid size in bp.")
    stock_ng_per_ul: float = Field(gt=0, le=10_000, description="Stock concentration, ng/µL.")

    def stock(self) -> PartStock:
        """Return the service's value."""
        return PartStock(self.name, self.length_bp, self.stock_ng_per_ul)


class CycleCreate(BaseModel):
    """The next cycle: its designs (or a first batch drawn from the design space) and stocks."""

    model_config = ConfigDict(extra="forbid")

    designs: list[dict[str, str]] | None = Field(
        default=None,
        max_length=MAX_DESIGNS,
        description="Designs, each mapping every factor to one of its levels.",
    )
    first: int | None = Field(
        default=None,
        ge=1,
        le=MAX_DESIGNS,
        description="Instead of `designs`: draw this many by Latin-hypercube sampling.",
    )
    seed: int | None = Field(
        default=None, ge=0, le=2**63 - 1, description="Random seed of the first batch."
    )
    parts: dict[str, dict[str, PartStockPublic]] = Field(
        description="{factor: {level: plasmid}}: the level-0 plasmid realising each level."
    )
    backbone: PartStockPublic = Field(description="The acceptor plasmid.")
    visibility: Visibility = "private"


class MeasurementsCreate(BaseModel):
    """Measurements of a cycle's strains, all or none."""

    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_DESIGNS,
        description="One row per strain: `strain` and any of `titre_g_l`, `rate_g_l_h`, "
        "`yield_g_g` (numbers), their `_sd`, `replicates` and extras.",
    )
    source: Name = Field(default="measurements", description="Where the numbers come from.")


class RecommendRequest(BaseModel):
    """Train the model on every measured strain and recommend the next designs."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(default=24, ge=1, le=MAX_DESIGNS, description="Designs to recommend.")
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1, description="Random seed.")
    acquisition: Literal["ei", "ucb", "thompson", "mean"] = Field(
        default="ei",
        description="ei: expected improvement; ucb: upper confidence bound; thompson: "
        "Thompson sampling; mean: the best predicted means.",
    )


def open_cycle(
    bank: Bank,
    name: str,
    *,
    designs: list[dict[str, str]] | None,
    first: int | None,
    seed: int | None,
    parts: Mapping[str, Mapping[str, PartStock]],
    backbone: PartStock,
    actor: str,
    visibility: str = "private",
) -> CycleView:
    """Open the next cycle of ``name`` with ``designs``, or ``first`` designs drawn at random."""
    if (designs is None) == (first is None):
        raise ValidationError(
            "give either designs or first (a number of designs to draw)",
            source="body",
            field="designs",
        )
    if designs is None:
        assert first is not None
        designs = first_designs(bank.campaign(name), first, np.random.default_rng(seed))
    cycle, _ = build_cycle(
        bank, name, designs, parts=parts, backbone=backbone, actor=actor, visibility=visibility
    )
    return cycle


def recommend(
    bank: Bank, name: str, *, n: int, seed: int | None, acquisition: str = "ei"
) -> CycleView:
    """Recommend ``n`` designs for the next cycle; return the last cycle with them."""
    recommend_next(bank, name, n=n, rng=np.random.default_rng(seed), acquisition=acquisition)
    return bank.campaign(name).cycles[-1]


@router.get("/campaigns", operation_id="list_campaigns", response_model=CampaignList)
def list_campaigns(bank: BankDep) -> CampaignList:
    """List every campaign with its cycles."""
    return CampaignList(data=[CampaignPublic.from_view(c) for c in bank.campaigns()])


@router.post(
    "/campaigns",
    operation_id="create_campaign",
    response_model=CampaignPublic,
    status_code=201,
    dependencies=[Depends(signed_in)],
)
def create_campaign(
    body: CampaignCreate, bank: BankDep, actor: ActorDep, response: Response
) -> CampaignPublic:
    """Start a campaign (409 if the name is taken, 404 if the chassis is unknown)."""
    view = bank.create_campaign(
        body.name,
        chassis=body.chassis,
        goal=body.goal,
        design_space=body.design_space,
        actor=actor,
    )
    response.headers["Location"] = f"/api/campaigns/{view.name}"
    return CampaignPublic.from_view(view)


@router.get("/campaigns/{name}", operation_id="read_campaign", response_model=CampaignPublic)
def read_campaign(name: CampaignName, bank: BankDep) -> CampaignPublic:
    """Show a campaign with its cycles, strains, measurements, models and recommendations."""
    return CampaignPublic.from_view(bank.campaign(name))


@router.post(
    "/campaigns/{name}/cycles",
    operation_id="add_campaign_cycle",
    response_model=CyclePublic,
    status_code=201,
    dependencies=[Depends(signed_in)],
)
def add_campaign_cycle(
    name: CampaignName, body: CycleCreate, bank: BankDep, actor: ActorDep, response: Response
) -> CyclePublic:
    """Open the next cycle: checked worklists for the robots, then its planned strains."""
    cycle = open_cycle(
        bank,
        name,
        designs=body.designs,
        first=body.first,
        seed=body.seed,
        parts={f: {lv: p.stock() for lv, p in levels.items()} for f, levels in body.parts.items()},
        backbone=body.backbone.stock(),
        actor=actor,
        visibility=body.visibility,
    )
    response.headers["Location"] = f"/api/campaigns/{name}/cycles/{cycle.number}"
    return CyclePublic.from_view(cycle)


@router.get(
    "/campaigns/{name}/cycles/{number}",
    operation_id="read_campaign_cycle",
    response_model=CyclePublic,
)
def read_campaign_cycle(name: CampaignName, number: CycleNumber, bank: BankDep) -> CyclePublic:
    """Show one cycle of a campaign."""
    return CyclePublic.from_view(_cycle(bank, name, number))


@router.get(
    "/campaigns/{name}/cycles/{number}/worklists/{kind}",
    operation_id="download_worklist",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in WORKLISTS.values()}}},
)
def download_worklist(
    name: CampaignName,
    number: CycleNumber,
    kind: Annotated[
        Literal["opentrons.py", "tecan.gwl", "echo.csv"],
        Path(description="opentrons.py, tecan.gwl or echo.csv"),
    ],
    bank: BankDep,
) -> Response:
    """Download a cycle's worklist: the Opentrons script, the Tecan .gwl or the Echo pick list."""
    text = _cycle(bank, name, number).worklists.get(kind)
    if not isinstance(text, str):
        raise NotFoundError("worklist", f"{name} {number} {kind}")
    filename = f"{name}-cycle{number}-{kind}"
    return Response(
        text,
        media_type=WORKLISTS[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/campaigns/{name}/cycles/{number}/measurements",
    operation_id="record_campaign_measurements",
    response_model=CyclePublic,
    dependencies=[Depends(signed_in)],
)
def record_campaign_measurements(
    name: CampaignName,
    number: CycleNumber,
    body: MeasurementsCreate,
    bank: BankDep,
    actor: ActorDep,
) -> CyclePublic:
    """Attach measurements to the cycle's strains; a bad row names row and field, stores none."""
    view = bank.record_measurements(name, number, body.rows, source=body.source, actor=actor)
    return CyclePublic.from_view(view)


@router.post(
    "/campaigns/{name}/recommendations",
    operation_id="recommend_campaign_designs",
    response_model=CyclePublic,
    dependencies=[Depends(signed_in)],
)
def recommend_campaign_designs(
    name: CampaignName, body: RecommendRequest, bank: BankDep
) -> CyclePublic:
    """Train the ensemble on every measured strain; keep its model and picks with the last cycle.

    422 if fewer than four strains are measured.
    """
    cycle = recommend(bank, name, n=body.n, seed=body.seed, acquisition=body.acquisition)
    return CyclePublic.from_view(cycle)


def _cycle(bank: Bank, name: str, number: int) -> CycleView:
    campaign = bank.campaign(name)
    if not 1 <= number <= len(campaign.cycles):
        raise NotFoundError("cycle", f"{name} {number}")
    return campaign.cycles[number - 1]
