"""DBTL campaigns in the bank: the record that closes the Design-Build-Test-Learn loop.

A campaign has a goal (a product and titre, rate and yield targets), a design space (factors
and their levels, e.g. promoter x RBS x knock-out) and a chassis strain. Each cycle stores the
designs it built as ordinary strains derived from the chassis (status ``planned`` until
measured, lineage and modifications included), the worklists used, the measurements taken on
each strain, the model trained and the recommendations for the next cycle. A strain knows
the campaign and cycle it came from. Every write is one transaction and goes to the audit trail;
bad input names the row and field and writes nothing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cellfoundry.bank._editing import EditingMixin
from cellfoundry.bank._rows import _append_history
from cellfoundry.bank.db import CampaignCycleRow, CampaignRow, CampaignStrainRow
from cellfoundry.bank.db import Strain as StrainRow
from cellfoundry.bank.models import Modification, StrainRecord
from cellfoundry.bank.policy import require_writer, visible_or_true
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError

__all__ = ["CampaignView", "CampaignsMixin", "CycleStrain", "CycleView"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")
_MEASURES = ("titre_g_l", "rate_g_l_h", "yield_g_g")


@dataclass(frozen=True, slots=True)
class CycleStrain(_View):
    """A strain built in a cycle, the design it realises and its measurements."""

    accession: str
    design: dict[str, Any]
    measurements: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CycleView(_View):
    """One cycle of a campaign."""

    number: int
    strains: tuple[CycleStrain, ...]
    worklists: dict[str, Any]
    model: dict[str, Any]
    recommendations: tuple[dict[str, Any], ...]

    @property
    def measured(self) -> tuple[CycleStrain, ...]:
        """The strains with a titre measured."""
        return tuple(s for s in self.strains if s.measurements.get("titre_g_l") is not None)


@dataclass(frozen=True, slots=True)
class CampaignView(_View):
    """A campaign with all its cycles, in order."""

    name: str
    chassis: str
    goal: dict[str, Any]
    design_space: dict[str, Any]
    created_by: str
    cycles: tuple[CycleView, ...]

    def best(self, measure: str = "titre_g_l") -> CycleStrain | None:
        """Return the measured strain with the highest ``measure`` over all cycles."""
        measured = [s for c in self.cycles for s in c.strains if _number(s.measurements, measure)]
        return max(measured, key=lambda s: float(s.measurements[measure]), default=None)


def _number(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    return isinstance(value, int | float) and math.isfinite(value)


def _json(value: Any, *, source: str, field: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"not JSON data: {err}", source=source, field=field) from None


def check_design_space(space: Mapping[str, Any], *, source: str = "campaign") -> dict[str, Any]:
    """Return a design space ``{"factors": {name: [levels...]}}``, or a named error."""
    factors = space.get("factors") if isinstance(space, Mapping) else None
    if not isinstance(factors, Mapping) or not factors:
        raise ValidationError(
            "the design space needs factors: {name: [level, ...]}",
            source=source,
            field="design_space.factors",
        )
    for name, levels in factors.items():
        if not isinstance(levels, list) or len(levels) < 2:
            raise ValidationError(
                "a factor needs at least two levels", source=source, record=str(name),
                field="design_space.factors",
            )  # fmt: skip
        if len({json.dumps(v) for v in levels}) != len(levels):
            raise ValidationError(
                "a factor's levels repeat", source=source, record=str(name),
                field="design_space.factors",
            )  # fmt: skip
    return dict(json.loads(_json(space, source=source, field="design_space")))


class CampaignsMixin(EditingMixin):
    """DBTL campaigns: goal, design space, cycles of designs, built strains and measurements."""

    def create_campaign(
        self,
        name: str,
        *,
        chassis: str,
        goal: Mapping[str, Any],
        design_space: Mapping[str, Any],
        actor: str | None = None,
    ) -> CampaignView:
        """Start a campaign on ``chassis`` (a strain accession) with its goal and design space.

        Raises
        ------
        ValidationError
            A bad name, a goal without a product, or a malformed design space (field named).
        ConflictError
            A campaign of this name exists.
        NotFoundError
            The chassis strain does not exist or the viewer may not see it.
        """
        require_writer(self.viewer, "start campaigns")
        actor = actor or self.viewer.username
        source = "campaign"
        if not _NAME.match(name):
            raise ValidationError(
                f"{name!r} is not a campaign name (letters, digits, '.', '_', '-'; up to 48)",
                source=source,
                field="name",
            )
        if not isinstance(goal, Mapping) or not str(goal.get("product") or "").strip():
            raise ValidationError("the goal names no product", source=source, field="goal.product")
        space = check_design_space(design_space, source=source)
        goal_text = _json(goal, source=source, field="goal")
        with self._tx() as s:
            chassis_id = s.scalars(
                select(StrainRow.id).where(
                    StrainRow.accession == chassis, visible_or_true(self.viewer)
                )
            ).first()
            if chassis_id is None:
                raise NotFoundError("strain", chassis)
            if s.scalars(select(CampaignRow.id).where(CampaignRow.name == name)).first():
                raise ConflictError("a campaign of this name exists", record=name, field="name")
            row = CampaignRow(
                name=name,
                chassis_id=chassis_id,
                goal=goal_text,
                design_space=json.dumps(space, sort_keys=True),
                created_by=actor,
            )
            s.add(row)
            s.flush()
            _append_history(
                s,
                {
                    "entity": "campaign",
                    "entity_id": row.id,
                    "version": 1,
                    "action": "create",
                    "actor": actor,
                    "changes": {"name": name, "chassis": chassis},
                },
            )
        return self.campaign(name)

    def campaigns(self) -> tuple[CampaignView, ...]:
        """Every campaign, by name."""
        with self._tx() as s:
            names = s.scalars(select(CampaignRow.name).order_by(CampaignRow.name)).all()
        return tuple(self.campaign(n) for n in names)

    def campaign(self, name: str) -> CampaignView:
        """Return a campaign with its cycles, strains, measurements and recommendations."""
        with self._tx() as s:
            row = s.scalars(select(CampaignRow).where(CampaignRow.name == name)).first()
            if row is None:
                raise NotFoundError("campaign", name)
            chassis = s.scalars(
                select(StrainRow.accession).where(StrainRow.id == row.chassis_id)
            ).one()
            cycles = []
            for cycle in s.scalars(
                select(CampaignCycleRow)
                .where(CampaignCycleRow.campaign_id == row.id)
                .order_by(CampaignCycleRow.number)
            ):
                columns = (
                    StrainRow.accession,
                    CampaignStrainRow.design,
                    CampaignStrainRow.measurements,
                )
                members = s.execute(
                    select(*columns)
                    .join(StrainRow, StrainRow.id == CampaignStrainRow.strain_id)
                    .where(CampaignStrainRow.cycle_id == cycle.id, visible_or_true(self.viewer))
                    .order_by(StrainRow.accession)
                ).all()  # fmt: skip
                cycles.append(
                    CycleView(
                        number=cycle.number,
                        strains=tuple(
                            CycleStrain(acc, json.loads(d), json.loads(m)) for acc, d, m in members
                        ),
                        worklists=json.loads(cycle.worklists),
                        model=json.loads(cycle.model),
                        recommendations=tuple(json.loads(cycle.recommendations)),
                    )
                )
            return CampaignView(
                name=row.name,
                chassis=chassis,
                goal=json.loads(row.goal),
                design_space=json.loads(row.design_space),
                created_by=row.created_by,
                cycles=tuple(cycles),
            )

    def add_cycle(
        self,
        name: str,
        designs: Sequence[Mapping[str, Any]],
        *,
        worklists: Mapping[str, Any] | None = None,
        actor: str | None = None,
        visibility: str = "private",
    ) -> CycleView:
        """Open the next cycle: one planned strain per design, derived from the chassis.

        A design maps every factor of the design space to one of its levels. The strains are
        named ``<campaign>-C<cycle>-<nnn>``; their genotype lists the levels and their
        modifications the factors. Strains, cycle and links are one transaction.
        """
        require_writer(self.viewer, "add campaign cycles")
        actor = actor or self.viewer.username
        campaign = self.campaign(name)
        factors: Mapping[str, list[Any]] = campaign.design_space["factors"]
        source = f"campaign {name}"
        if not designs:
            raise ValidationError(
                "a cycle needs at least one design", source=source, field="designs"
            )
        for k, design in enumerate(designs, 1):
            if set(design) != set(factors):
                missing = sorted(set(factors) - set(design))
                extra = sorted(set(design) - set(factors))
                raise ValidationError(
                    f"design {k} must set every factor once (missing {missing}, unknown {extra})",
                    source=source,
                    record=str(k),
                    field="designs",
                )
            for factor, level in design.items():
                if level not in factors[factor]:
                    raise ValidationError(
                        f"level {level!r} is not one of {factors[factor]}",
                        source=source,
                        record=str(k),
                        field=f"designs.{factor}",
                    )
        number = len(campaign.cycles) + 1
        parent = self._strain_view(campaign.chassis).record
        records = [
            StrainRecord(
                accession=f"{name}-C{number}-{k:03d}",
                taxon_name=parent.taxon_name,
                organism_type=parent.organism_type,
                risk_group=parent.risk_group,
                ncbi_taxid=parent.ncbi_taxid,
                genotype="; ".join(f"{f}={design[f]}" for f in factors),
                history=f"built in cycle {number} of campaign {name}",
                status="planned",
                parent_accession=campaign.chassis,
                modifications=tuple(
                    Modification("other", str(f), f"{f} = {design[f]}") for f in factors
                ),
            )
            for k, design in enumerate(designs, 1)
        ]
        worklist_text = _json(dict(worklists or {}), source=source, field="worklists")

        def link(s: Session, ids: Mapping[str, int]) -> None:
            campaign_id = s.scalars(select(CampaignRow.id).where(CampaignRow.name == name)).one()
            cycle = CampaignCycleRow(
                campaign_id=campaign_id,
                number=number,
                worklists=worklist_text,
                model="{}",
                recommendations="[]",
            )
            s.add(cycle)
            s.flush()
            for record, design in zip(records, designs, strict=True):
                s.add(
                    CampaignStrainRow(
                        strain_id=ids[record.accession],
                        cycle_id=cycle.id,
                        design=json.dumps(dict(design), sort_keys=True),
                        measurements="{}",
                    )
                )
            _append_history(
                s,
                {
                    "entity": "campaign",
                    "entity_id": campaign_id,
                    "version": number,
                    "action": "update",
                    "actor": actor,
                    "changes": {"cycle": number, "strains": [r.accession for r in records]},
                },
            )

        self._store_strains(
            records, actor=actor, source=source, progress=None, visibility=visibility, then=link
        )
        return self.campaign(name).cycles[number - 1]

    def record_measurements(
        self,
        name: str,
        number: int,
        measurements: Sequence[Mapping[str, Any]],
        *,
        source: str = "measurements",
        actor: str | None = None,
    ) -> CycleView:
        """Attach measurements to the strains of cycle ``number``, all or none.

        Each row names its ``strain`` and gives any of ``titre_g_l``, ``rate_g_l_h``,
        ``yield_g_g`` (numbers) and free extras (growth parameters, replicates...). A row for a
        strain not built in this cycle, or a non-numeric measure, names the row and field.
        """
        require_writer(self.viewer, "record measurements")
        actor = actor or self.viewer.username
        cycle_view = self._cycle(name, number)
        members = {s.accession for s in cycle_view.strains}
        clean: dict[str, dict[str, Any]] = {}
        for k, row in enumerate(measurements, 1):
            accession = str(row.get("strain") or "")
            if accession not in members:
                raise ValidationError(
                    f"strain {accession!r} was not built in cycle {number} of {name}",
                    source=source,
                    record=str(k),
                    field="strain",
                )
            values = {key: value for key, value in row.items() if key != "strain"}
            for measure in _MEASURES:
                if measure in values and not _number(values, measure):
                    raise ValidationError(
                        f"{measure} must be a number, not {values[measure]!r}",
                        source=source,
                        record=str(k),
                        field=measure,
                    )
            clean[accession] = json.loads(_json(values, source=source, field=f"row {k}"))
        with self._tx() as s:
            campaign_id = s.scalars(select(CampaignRow.id).where(CampaignRow.name == name)).one()
            cycle_id = s.scalars(
                select(CampaignCycleRow.id).where(
                    CampaignCycleRow.campaign_id == campaign_id, CampaignCycleRow.number == number
                )
            ).one()
            for accession, values in clean.items():
                link = s.execute(
                    select(CampaignStrainRow)
                    .join(StrainRow, StrainRow.id == CampaignStrainRow.strain_id)
                    .where(StrainRow.accession == accession, CampaignStrainRow.cycle_id == cycle_id)
                ).scalar_one()
                merged = {**json.loads(link.measurements), **values}
                link.measurements = json.dumps(merged, sort_keys=True)
            _append_history(
                s,
                {
                    "entity": "campaign",
                    "entity_id": campaign_id,
                    "version": number,
                    "action": "update",
                    "actor": actor,
                    "changes": {"cycle": number, "measured": sorted(clean)},
                },
            )
        return self._cycle(name, number)

    def record_recommendations(
        self,
        name: str,
        number: int,
        *,
        model: Mapping[str, Any],
        recommendations: Sequence[Mapping[str, Any]],
        actor: str | None = None,
    ) -> CycleView:
        """Keep the model trained after cycle ``number`` and the designs it recommends next."""
        require_writer(self.viewer, "record recommendations")
        actor = actor or self.viewer.username
        self._cycle(name, number)
        source = f"campaign {name}"
        model_text = _json(dict(model), source=source, field="model")
        rec_text = _json([dict(r) for r in recommendations], source=source, field="recommendations")
        with self._tx() as s:
            campaign_id = s.scalars(select(CampaignRow.id).where(CampaignRow.name == name)).one()
            cycle = s.scalars(
                select(CampaignCycleRow).where(
                    CampaignCycleRow.campaign_id == campaign_id, CampaignCycleRow.number == number
                )
            ).one()
            cycle.model = model_text
            cycle.recommendations = rec_text
            _append_history(
                s,
                {
                    "entity": "campaign",
                    "entity_id": campaign_id,
                    "version": number,
                    "action": "update",
                    "actor": actor,
                    "changes": {"cycle": number, "recommendations": len(recommendations)},
                },
            )
        return self._cycle(name, number)

    def strain_campaign(self, accession: str) -> tuple[str, int] | None:
        """Return the campaign and cycle a strain was built in (``None``: not built in one)."""
        with self._tx() as s:
            found = s.execute(
                select(CampaignRow.name, CampaignCycleRow.number)
                .join(CampaignCycleRow, CampaignCycleRow.campaign_id == CampaignRow.id)
                .join(CampaignStrainRow, CampaignStrainRow.cycle_id == CampaignCycleRow.id)
                .join(StrainRow, StrainRow.id == CampaignStrainRow.strain_id)
                .where(StrainRow.accession == accession, visible_or_true(self.viewer))
            ).first()
            return (str(found[0]), int(found[1])) if found else None

    def _cycle(self, name: str, number: int) -> CycleView:
        campaign = self.campaign(name)
        if not 1 <= number <= len(campaign.cycles):
            raise NotFoundError("cycle", f"{name} {number}")
        return campaign.cycles[number - 1]
