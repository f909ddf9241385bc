"""Editing plans in the bank: how a planned strain is to be built, linked to the strain.

A planned strain (saved from a metabolic design, :mod:`cellfoundry.bank._designs`) gets an
editing plan from the DNA engine (:func:`cellfoundry.dna.plan.plan_edits`): guides, donors,
constructs, primers and ordered steps. The plan is kept as JSON with its records as GenBank
and as an SBOL3 document, in one row beside the strain; planning again replaces it, and both
writes go to the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cellfoundry.bank import formats
from cellfoundry.bank._designs import DesignsMixin
from cellfoundry.bank._rows import _append_history, _sequence_record
from cellfoundry.bank.db import EditingPlanRow, Part, SequenceRow
from cellfoundry.bank.db import Strain as StrainRow
from cellfoundry.bank.policy import require_edit, require_writer, visible_or_true
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import NotFoundError, ValidationError
from cellfoundry.core.progress import Progress
from cellfoundry.core.sequence import SequenceRecord

__all__ = ["EditingMixin", "SavedEditingPlan"]

PLAN_FORMAT = "cellfoundry.editing-plan/1"


@dataclass(frozen=True, slots=True)
class SavedEditingPlan(_View):
    """A planned strain's editing plan as stored: the JSON and its records' files."""

    accession: str
    chassis: str
    plan: dict[str, Any]
    genbank: str
    sbol3: str
    created_by: str


class EditingMixin(DesignsMixin):
    """Genomes for the DNA designer; editing plans of planned strains."""

    def strain_genome(self, accession: str) -> tuple[SequenceRecord, ...]:
        """Return the genome records of a strain, or of its nearest ancestor that has one.

        Raises
        ------
        NotFoundError
            No such strain (or not visible to the viewer).
        ValidationError
            Neither the strain nor any ancestor has a genome in the bank.
        """
        with self._tx() as s:
            row = s.execute(
                select(StrainRow.id, StrainRow.parent_id).where(
                    StrainRow.accession == accession, visible_or_true(self.viewer)
                )
            ).first()
            if row is None:
                raise NotFoundError("strain", accession)
            strain_id: int | None = row[0]
            parent_id: int | None = row[1]
            seen: set[int] = set()
            while strain_id is not None and strain_id not in seen:
                seen.add(strain_id)
                genome = s.scalars(
                    select(SequenceRow)
                    .where(
                        SequenceRow.strain_id == strain_id,
                        SequenceRow.kind == "genome",
                        visible_or_true(self.viewer, SequenceRow),
                    )
                    .order_by(SequenceRow.id)
                    .options(selectinload(SequenceRow.features))
                ).all()
                if genome:
                    return tuple(_sequence_record(g) for g in genome)
                strain_id = parent_id
                if strain_id is not None:
                    parent_id = s.scalars(
                        select(StrainRow.parent_id).where(StrainRow.id == strain_id)
                    ).first()
        raise ValidationError(
            "neither this strain nor its ancestors have a genome in the bank; import one "
            "(cellfoundry bank import GENOME.gb --kind genome --strain ACCESSION)",
            record=accession,
            field="genome",
        )

    def library_parts(self, role: str) -> tuple[SequenceRecord, ...]:
        """Return the standard parts of one role (promoter, rbs, terminator...) by name."""
        with self._tx() as s:
            rows = s.scalars(
                select(SequenceRow)
                .join(Part, Part.sequence_id == SequenceRow.id)
                .where(Part.role == role, visible_or_true(self.viewer, SequenceRow))
                .order_by(SequenceRow.name)
                .options(selectinload(SequenceRow.features))
            ).all()
            return tuple(_sequence_record(r) for r in rows)

    def save_editing_plan(
        self,
        accession: str,
        plan: Mapping[str, Any],
        records: Sequence[SequenceRecord],
        *,
        actor: str | None = None,
    ) -> SavedEditingPlan:
        """Keep ``plan`` and its ``records`` (GenBank and SBOL3) with the planned strain.

        Replaces an earlier plan of the strain. Nothing is written if the records cannot
        be written in both formats.
        """
        require_writer(self.viewer, "save editing plans")
        actor = actor or self.viewer.username
        data = dict(json.loads(json.dumps(plan, allow_nan=False)))
        if data.get("format") != PLAN_FORMAT:
            raise ValidationError(
                f"an editing plan has format {PLAN_FORMAT!r}", source="plan", field="format"
            )
        genbank = formats.write(records, None, "genbank")
        sbol3 = formats.write(records, None, "sbol3")
        with self._tx() as s:
            found = s.execute(
                select(StrainRow.id, StrainRow.owner_id, StrainRow.version).where(
                    StrainRow.accession == accession, visible_or_true(self.viewer)
                )
            ).first()
            if found is None:
                raise NotFoundError("strain", accession)
            require_edit(self.viewer, found[1], "plan the editing of this strain")
            row = s.get(EditingPlanRow, found[0])
            action = "update" if row is not None else "create"
            if row is None:
                row = EditingPlanRow(strain_id=found[0])
                s.add(row)
            row.chassis = str(data.get("chassis", ""))[:64]
            row.plan = json.dumps(data, sort_keys=True)
            row.genbank = genbank
            row.sbol3 = sbol3
            row.created_by = actor
            _append_history(
                s,
                {
                    "entity": "editing_plan",
                    "entity_id": found[0],
                    "version": int(found[2]),
                    "action": action,
                    "actor": actor,
                    "changes": {
                        "strain": accession,
                        "steps": len(data.get("steps", ())),
                        "records": [r.name for r in records],
                    },
                },
            )
        return SavedEditingPlan(
            accession=accession,
            chassis=str(data.get("chassis", "")),
            plan=data,
            genbank=genbank,
            sbol3=sbol3,
            created_by=actor,
        )

    def editing_plan(self, accession: str) -> SavedEditingPlan | None:
        """Return a planned strain's editing plan (``None``: not planned yet).

        Raises
        ------
        NotFoundError
            No such strain, or the viewer may not see it.
        """
        with self._tx() as s:
            strain_id = s.scalars(
                select(StrainRow.id).where(
                    StrainRow.accession == accession, visible_or_true(self.viewer)
                )
            ).first()
            if strain_id is None:
                raise NotFoundError("strain", accession)
            row = s.get(EditingPlanRow, strain_id)
            if row is None:
                return None
            return SavedEditingPlan(
                accession=accession,
                chassis=row.chassis,
                plan=json.loads(row.plan),
                genbank=row.genbank,
                sbol3=row.sbol3,
                created_by=row.created_by,
            )

    def plan_strain_edits(
        self,
        accession: str,
        *,
        host: str | None = None,
        progress: Progress | None = None,
    ) -> SavedEditingPlan:
        """Plan how to build a planned strain from its design and its chassis's genome; keep it.

        The chassis is the design's parent strain; its genome (or an ancestor's) comes from
        the bank, and so do the promoters, RBSs and terminators of the parts library used for
        insertions and over-expression.

        Raises
        ------
        ValidationError
            The strain has no saved design, or the chassis no genome.
        """
        from cellfoundry.dna.plan import plan_edits

        saved = self.strain_design(accession)
        if saved is None or saved.parent_accession is None:
            raise ValidationError(
                "the strain has no saved design to plan from (save one with "
                "cellfoundry design save)",
                record=accession,
                field="design",
            )
        genome = self.strain_genome(saved.parent_accession)
        parts = {role: self.library_parts(role) for role in ("promoter", "rbs", "terminator")}
        plan = plan_edits(
            saved.design,
            genome,
            strain=accession,
            chassis=saved.parent_accession,
            host=host,
            parts=parts,
            progress=progress,
        )
        return self.save_editing_plan(accession, plan.to_dict(), plan.records)
