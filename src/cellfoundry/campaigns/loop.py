"""One DBTL cycle through the engines, recorded in the bank.

A campaign's design space is stored as ``{"factors": {name: [level, ...]}, "strengths":
{name: {level: relative strength}}}``; factors with strengths (promoters, RBSs) are ordinal
for the learner, the others categorical. Each level of a factor that is built from DNA names a
level-0 part in ``parts`` (factor -> level -> :class:`PartStock`); a level without a part (a
knock-out switch's ``off``) adds no DNA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cellfoundry.assay.titre import PerformanceTable
from cellfoundry.automation import (
    ECHO_384PP,
    Reaction,
    ReactionPart,
    TransferPlan,
    dry_run,
    echo_picklist,
    opentrons_protocol,
    plan_reactions,
    tecan_worklist,
)
from cellfoundry.bank._campaigns import CampaignView, CycleView
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ValidationError
from cellfoundry.learn import DesignSpace, Factor, Recommendation, Recommender

__all__ = [
    "PartStock",
    "build_cycle",
    "cycle_reactions",
    "design_space_of",
    "first_designs",
    "import_performance",
    "recommend_next",
]


@dataclass(frozen=True, slots=True)
class PartStock:
    """A level-0 plasmid as it stands in the freezer: name, size and stock concentration."""

    name: str
    length_bp: int
    stock_ng_per_ul: float


def design_space_of(campaign: CampaignView) -> DesignSpace:
    """Return the learner's design space for a campaign (ordinal where strengths are given)."""
    strengths: Mapping[str, Mapping[str, float]] = campaign.design_space.get("strengths") or {}
    factors = []
    for name, levels in campaign.design_space["factors"].items():
        known = strengths.get(name)
        if known:
            missing = [lv for lv in levels if lv not in known]
            if missing:
                raise ValidationError(
                    f"strengths missing for levels {missing}",
                    source=f"campaign {campaign.name}",
                    record=name,
                    field="design_space.strengths",
                )
            factors.append(Factor.ordinal(name, {str(lv): float(known[lv]) for lv in levels}))
        else:
            factors.append(Factor.categorical(name, [str(lv) for lv in levels]))
    return DesignSpace(factors)


def first_designs(campaign: CampaignView, n: int, rng: np.random.Generator) -> list[dict[str, str]]:
    """Return a Latin-hypercube first batch of ``n`` designs."""
    return design_space_of(campaign).sample(n, rng, method="lhs")


def cycle_reactions(
    designs: Sequence[Mapping[str, str]],
    parts: Mapping[str, Mapping[str, PartStock]],
    backbone: PartStock,
    *,
    fmol: float = 20.0,
    master_mix_ul: float = 2.0,
    total_ul: float = 20.0,
    names: Sequence[str] | None = None,
) -> list[Reaction]:
    """Return one Golden Gate reaction per design: its levels' parts, equimolar, in the backbone."""
    reactions = []
    for k, design in enumerate(designs):
        dna = []
        for factor, level in design.items():
            stock = parts.get(factor, {}).get(level)
            if stock is not None:
                dna.append(
                    ReactionPart(
                        stock.name,
                        fmol=fmol,
                        stock_ng_per_ul=stock.stock_ng_per_ul,
                        length_bp=stock.length_bp,
                    )
                )
        name = names[k] if names is not None else f"design_{k + 1}"
        if not dna:
            raise ValidationError(
                "the design names no part to assemble", record=name, field="designs"
            )
        reactions.append(
            Reaction(
                name,
                parts=tuple(dna),
                backbone=ReactionPart(
                    backbone.name,
                    fmol=fmol,
                    stock_ng_per_ul=backbone.stock_ng_per_ul,
                    length_bp=backbone.length_bp,
                ),
                master_mix_ul=master_mix_ul,
                total_ul=total_ul,
            )
        )
    return reactions


def build_cycle(
    bank: Bank,
    name: str,
    designs: Sequence[Mapping[str, str]],
    *,
    parts: Mapping[str, Mapping[str, PartStock]],
    backbone: PartStock,
    actor: str | None = None,
    visibility: str = "private",
) -> tuple[CycleView, TransferPlan]:
    """Open the next cycle: worklists for the robots, then the planned strains in the bank.

    The worklists (an Opentrons script, a Tecan ``.gwl``, an Echo pick list and the dry run's
    report) are checked before anything is stored; a plan that would overdraw a well or a
    reaction that does not fit stops here, and no strain is written.
    """
    campaign = bank.campaign(name)
    number = len(campaign.cycles) + 1
    strain_names = [f"{name}-C{number}-{k:03d}" for k in range(1, len(designs) + 1)]
    reactions = cycle_reactions(designs, parts, backbone, names=strain_names)
    plan = plan_reactions(reactions, min_volume_ul=1.0)
    report = dry_run(plan)
    echo_plan = plan_reactions(reactions, source_labware=ECHO_384PP, step_ul=0.0025)
    worklists: dict[str, Any] = {
        "opentrons.py": opentrons_protocol(plan, protocol_name=f"{name} cycle {number}"),
        "tecan.gwl": tecan_worklist(plan),
        "echo.csv": echo_picklist(echo_plan),
        "dry_run": report.report(),
        "reactions": len(reactions),
        "transfers": len(plan.transfers),
    }
    cycle = bank.add_cycle(name, designs, worklists=worklists, actor=actor, visibility=visibility)
    return cycle, plan


def import_performance(
    bank: Bank,
    name: str,
    number: int,
    table: PerformanceTable | Sequence[Mapping[str, Any]],
    *,
    source: str = "measurements",
) -> CycleView:
    """Attach titre, rate and yield per strain to cycle ``number``, all or nothing."""
    if isinstance(table, PerformanceTable):
        rows: list[dict[str, Any]] = []
        for p in table.strains:
            row: dict[str, Any] = {"strain": p.strain, "replicates": p.titre_g_per_l.n}
            for key, stats in (
                ("titre_g_l", p.titre_g_per_l),
                ("rate_g_l_h", p.rate_g_per_l_h),
                ("yield_g_g", p.yield_g_per_g),
            ):
                if not _nan(stats.mean):
                    row[key] = float(stats.mean)
                    if not _nan(stats.sd):
                        row[f"{key}_sd"] = float(stats.sd)
            rows.append(row)
    else:
        rows = [dict(r) for r in table]
    return bank.record_measurements(name, number, rows, source=source)


def _nan(value: Any) -> bool:
    return isinstance(value, float) and value != value


def recommend_next(
    bank: Bank,
    name: str,
    *,
    n: int = 24,
    rng: np.random.Generator,
    acquisition: str = "ei",
    measure: str = "titre_g_l",
) -> Recommendation:
    """Train the ensemble on every measured strain of the campaign; keep and return its picks.

    The model (member weights, cross-validated R², factor importance) and the recommended
    designs with their predicted means and uncertainties are stored with the last cycle.
    """
    campaign = bank.campaign(name)
    if not campaign.cycles:
        raise ValidationError(
            "the campaign has no cycle to learn from", record=name, field="cycles"
        )
    designs, values = [], []
    for cycle in campaign.cycles:
        for strain in cycle.strains:
            value = strain.measurements.get(measure)
            if isinstance(value, int | float) and value == value:
                designs.append({k: str(v) for k, v in strain.design.items()})
                values.append(float(value))
    if len(values) < 4:
        raise ValidationError(
            f"{len(values)} strains measured; the recommender needs at least 4",
            record=name,
            field=measure,
        )
    space = design_space_of(campaign)
    positive = all(v > 0 for v in values)
    recommender = Recommender(space, log_target=positive).fit(designs, values, rng)
    batch = recommender.recommend(n, rng, acquisition=acquisition)  # type: ignore[arg-type]
    importance = recommender.explain(rng)
    model = {
        "kind": "ensemble",
        "members": list(recommender.models),
        "weights": [round(float(w), 4) for w in recommender.weights],
        "cv_r2": [None if r != r else round(float(r), 4) for r in recommender.cv_r2],
        "trained_on": len(values),
        "measure": measure,
        "log_target": positive,
        "acquisition": acquisition,
        "importance": [
            {"factor": f.factor, "importance": round(float(f.importance), 6)} for f in importance
        ],
    }
    recommendations = [
        {
            **design,
            "predicted": round(float(mean), 6),
            "sd": round(float(sd), 6),
            "score": round(float(score), 6),
        }
        for design, mean, sd, score in zip(
            batch.designs, batch.mean, batch.std, batch.score, strict=True
        )
    ]
    bank.record_recommendations(
        name, len(campaign.cycles), model=model, recommendations=recommendations
    )
    return batch
