"""Pages of DBTL campaigns: the automated foundry's Design-Build-Test-Learn record.

``/campaigns`` lists the campaigns. ``/campaigns/{name}`` shows one: its goal and design
space, a chart of every measured strain's titre per cycle with the best so far and the goal,
each cycle's strains with their designs and measurements, the cycle's destination plate
coloured by titre, its worklists to download, and the model's recommendations for the next
cycle with the factors' importance. ``POST /campaigns/{name}/recommend`` trains the model
and recommends (through :func:`cellfoundry.api.routes.campaigns.recommend`).

The pages read the bank and call the campaign service; they compute nothing themselves.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from cellfoundry.api.deps import BankDep, check_text, get_viewer
from cellfoundry.bank._campaigns import CampaignView, CycleView
from cellfoundry.core.errors import CellfoundryError, ValidationError
from cellfoundry.web.drawing import campaign_progress_svg, plate_svg

__all__ = ["MEASURES", "plate_wells", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(check_text), Depends(get_viewer)])

#: Measures shown per strain, with their translation keys.
MEASURES: Final = (
    ("titre_g_l", "campaign.titre"),
    ("rate_g_l_h", "campaign.rate"),
    ("yield_g_g", "campaign.yield"),
)
#: Worklists a cycle offers to download (see :mod:`cellfoundry.api.routes.campaigns`).
WORKLISTS: Final = ("opentrons.py", "tecan.gwl", "echo.csv")
#: The destination plate's size (the worklists fill a 96-well PCR plate by columns).
ROWS: Final = 8
COLUMNS: Final = 12


def plate_wells(count: int) -> list[str]:
    """Return the destination wells of ``count`` reactions, filled by columns from A1.

    Examples
    --------
    >>> plate_wells(10)[-3:]
    ['H1', 'A2', 'B2']
    """
    return [f"{chr(65 + k % ROWS)}{k // ROWS % COLUMNS + 1}" for k in range(count)]


def _value(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _drawing_labels(tr: Any) -> dict[str, str]:
    return {
        "title": tr.t("campaign.chart_title"),
        "cycle": tr.t("campaign.cycle_axis"),
        "titre": tr.t("campaign.titre_axis"),
        "best": tr.t("campaign.best_so_far"),
        "goal": tr.t("campaign.goal"),
        "strain": tr.t("campaign.strain"),
        "plate_title": tr.t("campaign.plate_title"),
        "not_measured": tr.t("campaign.not_measured"),
    }


def _cycle_context(cycle: CycleView, labels: dict[str, str]) -> dict[str, Any]:
    wells = plate_wells(len(cycle.strains))
    strains = []
    for well, strain in zip(wells, cycle.strains, strict=True):
        m = strain.measurements
        strains.append(
            {
                "accession": strain.accession,
                "design": strain.design,
                "well": well,
                "measured": _value(m, "titre_g_l") is not None,
                "values": [(key, _value(m, key), _value(m, f"{key}_sd")) for key, _ in MEASURES],
                "replicates": m.get("replicates"),
            }
        )
    plate = plate_svg(
        {
            well: (strain.accession, _value(strain.measurements, "titre_g_l"))
            for well, strain in zip(wells, cycle.strains, strict=True)
        },
        rows=ROWS,
        columns=COLUMNS,
        labels=labels,
    )
    worklists = [kind for kind in WORKLISTS if isinstance(cycle.worklists.get(kind), str)]
    return {
        "number": cycle.number,
        "strains": strains,
        "measured": len(cycle.measured),
        "plate": Markup(plate) if len(cycle.strains) <= ROWS * COLUMNS else None,
        "worklists": worklists,
        "reactions": cycle.worklists.get("reactions"),
        "transfers": cycle.worklists.get("transfers"),
    }


def _learn_context(campaign: CampaignView) -> dict[str, Any] | None:
    """Return the last cycle's model and recommendations, if it has any."""
    if not campaign.cycles or not campaign.cycles[-1].recommendations:
        return None
    cycle = campaign.cycles[-1]
    model = cycle.model
    importance: list[dict[str, Any]] = []
    for item in model.get("importance", []):
        importance.append({"factor": str(item["factor"]), "importance": float(item["importance"])})
    top = max([float(i["importance"]) for i in importance] + [1e-12])
    for entry in importance:
        entry["percent"] = round(100 * max(0.0, float(entry["importance"])) / top, 1)
    members = [
        {"name": str(n), "weight": w, "cv_r2": r}
        for n, w, r in zip(
            model.get("members", []), model.get("weights", []), model.get("cv_r2", []), strict=False
        )
    ]
    return {
        "cycle": cycle.number,
        "recommendations": list(cycle.recommendations),
        "importance": sorted(importance, key=lambda i: -i["importance"]),
        "members": members,
        "trained_on": model.get("trained_on"),
        "acquisition": model.get("acquisition"),
    }


def _overview(
    request: Request,
    bank: Any,
    name: str,
    *,
    error: CellfoundryError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cellfoundry.web.routes import render, translator

    tr = translator(request)
    campaign: CampaignView = bank.campaign(name)
    labels = _drawing_labels(tr)
    goal_titre = _value(campaign.goal, "titre_g_l")
    chart = campaign_progress_svg(
        [
            [(s.accession, float(s.measurements["titre_g_l"])) for s in cycle.measured]
            for cycle in campaign.cycles
        ],
        goal=goal_titre,
        labels=labels,
    )
    best = campaign.best()
    factors: dict[str, list[Any]] = campaign.design_space.get("factors", {})
    viewer = getattr(request.state, "viewer", None)
    measured = sum(len(c.measured) for c in campaign.cycles)
    return render(
        request,
        "campaign.html",
        {
            "campaign": campaign,
            "factors": factors,
            "strengths": campaign.design_space.get("strengths") or {},
            "goal_titre": goal_titre,
            "goal_extra": [
                (key, _value(campaign.goal, key)) for key, _ in MEASURES[1:] if key in campaign.goal
            ],
            "measures": MEASURES,
            "chart": Markup(chart) if campaign.cycles else None,
            "best": best,
            "best_titre": _value(best.measurements, "titre_g_l") if best else None,
            "measured": measured,
            "cycles": [_cycle_context(c, labels) for c in campaign.cycles],
            "learn": _learn_context(campaign),
            "can_recommend": bool(viewer is not None and viewer.signed_in) and measured >= 4,
            "error": (
                {"message": error.message if isinstance(error, ValidationError) else str(error)}
                if error
                else None
            ),
        },
        section="campaigns",
        status_code=status_code,
    )


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, bank: BankDep) -> HTMLResponse:
    """Every campaign with its chassis, goal, cycles and best strain."""
    from cellfoundry.web.routes import render

    rows = []
    for c in bank.campaigns():
        best = c.best()
        rows.append(
            {
                "name": c.name,
                "chassis": c.chassis,
                "product": str(c.goal.get("product", "")),
                "goal_titre": _value(c.goal, "titre_g_l"),
                "cycles": len(c.cycles),
                "strains": sum(len(cycle.strains) for cycle in c.cycles),
                "best": best.accession if best else None,
                "best_titre": _value(best.measurements, "titre_g_l") if best else None,
            }
        )
    return render(request, "campaigns.html", {"rows": rows}, section="campaigns")


@router.get("/campaigns/{name}", response_class=HTMLResponse)
def campaign_page(request: Request, name: str, bank: BankDep) -> HTMLResponse:
    """Show a campaign: goal, progress, cycles, plates, worklists, recommendations."""
    return _overview(request, bank, name)


_WHOLE = re.compile(r"^[0-9]{1,3}$")


@router.post("/campaigns/{name}/recommend", response_class=HTMLResponse)
async def recommend_page(
    request: Request, name: str, bank: BankDep, n: str = Form("12"), seed: str = Form("")
) -> Response:
    """Train the model on the measured strains and recommend the next designs, then show them."""
    from cellfoundry.api.routes.campaigns import recommend

    try:
        if not _WHOLE.match(n.strip()) or not 1 <= int(n) <= 96:
            raise ValidationError(f"{n!r} is not a whole number from 1 to 96", field="n")
        chosen_seed = int(seed) if seed.strip().isdigit() else None
        await run_in_threadpool(recommend, bank, name, n=int(n), seed=chosen_seed)
    except ValidationError as err:
        return _overview(request, bank, name, error=err, status_code=422)
    return RedirectResponse(f"/campaigns/{name}#recommendations", status_code=303)
