"""Strain designs in the bank: a metabolic design saved as a planned strain, and read back.

A design from :mod:`cellfoundry.metabolism.design` (its JSON, ``cellfoundry.strain-design/1``)
becomes a strain with status ``planned``, whose parent is the chassis strain and whose
modifications are the design's gene-level changes (deletions, insertions, over- and
under-expression). The design itself is kept beside the strain, so the DNA designer (and a
person) can read what was planned, why, and what the engine predicted. Strain and design are
written in one transaction: both or neither.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cellfoundry.bank._strains import StrainsMixin
from cellfoundry.bank.db import Strain as StrainRow
from cellfoundry.bank.db import StrainDesignRow, StrainModel
from cellfoundry.bank.models import Modification, StrainRecord
from cellfoundry.bank.policy import require_writer, visible_or_true
from cellfoundry.bank.views import StrainView, _View
from cellfoundry.core.errors import NotFoundError, ValidationError

__all__ = ["DesignsMixin", "SavedDesign", "design_modifications"]

_FORMAT = "cellfoundry.strain-design/1"
_KINDS = {"delete", "insert", "overexpress", "knockdown"}
_ACCESSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


@dataclass(frozen=True, slots=True)
class SavedDesign(_View):
    """A planned strain's design as stored: the JSON and what it was listed under."""

    accession: str
    parent_accession: str | None
    product: str
    method: str
    design: dict[str, Any]
    created_by: str


def _check(design: Mapping[str, Any]) -> dict[str, Any]:
    """Return the design as plain JSON data, or a named error for what is wrong with it."""
    source = "design"
    if not isinstance(design, Mapping):
        raise ValidationError("a design must be a JSON object", source=source)
    if design.get("format", _FORMAT) != _FORMAT:
        raise ValidationError(
            f"unknown design format {design.get('format')!r}: expected {_FORMAT!r}",
            source=source,
            field="format",
        )
    for key in ("chassis", "product", "substrate", "method"):
        value = design.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"the design has no {key}", source=source, field=key)
    mods = design.get("modifications")
    if not isinstance(mods, list) or not mods:
        raise ValidationError(
            "the design has no modifications: a planned strain must differ from its parent",
            source=source,
            field="modifications",
        )
    for k, mod in enumerate(mods, 1):
        if not isinstance(mod, Mapping) or mod.get("kind") not in _KINDS:
            raise ValidationError(
                f"modification {k} has no kind among {sorted(_KINDS)}",
                source=source,
                record=str(k),
                field="modifications.kind",
            )
        if not str(mod.get("gene") or "") and not mod.get("reactions"):
            raise ValidationError(
                f"modification {k} names neither a gene nor a reaction",
                source=source,
                record=str(k),
                field="modifications.gene",
            )
    try:
        return dict(json.loads(json.dumps(design, allow_nan=False)))
    except ValueError as err:
        raise ValidationError(
            f"the design is not JSON data: {err}", source=source, field="design"
        ) from None


def design_modifications(design: Mapping[str, Any]) -> tuple[Modification, ...]:
    """Return the bank's modifications for a design's gene-level changes.

    Examples
    --------
    >>> mods = design_modifications({"modifications": [
    ...     {"kind": "delete", "gene": "b1241", "reactions": ["ALCD2x", "ACALD"]},
    ...     {"kind": "overexpress", "gene": "b3956", "reactions": ["PPC"], "factor": 2.5},
    ... ]})
    >>> [(m.kind, m.target, m.description) for m in mods]  # doctest: +NORMALIZE_WHITESPACE
    [('deletion', 'b1241', 'delete b1241 (disables ALCD2x, ACALD)'),
     ('other', 'b3956', 'overexpress b3956 x2.5 (PPC)')]
    """
    out: list[Modification] = []
    for mod in design.get("modifications", ()):
        gene = str(mod.get("gene") or "")
        reactions = [str(r) for r in mod.get("reactions", ())]
        target = gene or (reactions[0] if reactions else "")
        listed = ", ".join(reactions)
        kind = mod["kind"]
        factor = mod.get("factor")
        fold = (
            f" x{float(factor):g}"
            if isinstance(factor, int | float) and math.isfinite(factor)
            else ""
        )
        if kind == "delete":
            out.append(Modification("deletion", target, f"delete {target} (disables {listed})"))
        elif kind == "insert":
            origin = f" from {mod['organism']}" if mod.get("organism") else ""
            out.append(Modification("insertion", target, f"insert {target}{origin} for {listed}"))
        else:
            out.append(Modification("other", target, f"{kind} {target}{fold} ({listed})"))
    return tuple(out)


class DesignsMixin(StrainsMixin):
    """Save a metabolic design as a planned strain; read a planned strain's design."""

    def save_design(
        self,
        design: Mapping[str, Any],
        *,
        parent_accession: str,
        accession: str | None = None,
        actor: str | None = None,
        visibility: str = "private",
    ) -> StrainView:
        """Store ``design`` as a planned strain derived from ``parent_accession``.

        ``accession`` defaults to the parent's accession with ``-D`` and the next free number.
        The strain copies the parent's taxon, organism type and risk group; its genotype is
        the design's label. The chassis's genome-scale model, if the parent has one, is
        recorded with the design.

        Raises
        ------
        ValidationError
            The design is malformed (the field is named), or the accession is not one.
        NotFoundError
            The parent strain does not exist or the viewer may not see it.
        ConflictError
            The accession is taken.
        """
        require_writer(self.viewer, "save designs as planned strains")
        data = _check(design)
        actor = actor or self.viewer.username
        parent = self._strain_view(parent_accession)
        if accession is None:
            accession = self._next_design_accession(parent_accession)
        if not _ACCESSION.match(accession):
            raise ValidationError(
                f"{accession!r} is not an accession (letters, digits and ._:/- only)",
                source="design",
                field="accession",
            )
        base = parent.record
        label = str(data.get("label") or "")
        evaluation = data.get("evaluation") or {}
        prediction = ""
        if evaluation.get("growth") is not None and evaluation.get("yield_min") is not None:
            prediction = (
                f"; predicted growth {evaluation['growth']:.3g} /h, guaranteed yield "
                f"{evaluation['yield_min']:.3g} mol/mol"
            )
        record = StrainRecord(
            accession=accession,
            taxon_name=base.taxon_name,
            organism_type=base.organism_type,
            risk_group=base.risk_group,
            ncbi_taxid=base.ncbi_taxid,
            genotype=label,
            history=(
                f"planned from {parent_accession} by cellfoundry ({data['method']}) for "
                f"{data['product']} on {data['substrate']}{prediction}"
            ),
            status="planned",
            parent_accession=parent_accession,
            modifications=design_modifications(data),
        )

        def keep_design(s: Session, ids: Mapping[str, int]) -> None:
            model_id = s.scalars(
                select(StrainModel.model_id).where(StrainModel.strain_id == parent.id)
            ).first()
            s.add(
                StrainDesignRow(
                    strain_id=ids[accession],
                    method=str(data["method"])[:16],
                    product=str(data["product"])[:128],
                    model_id=model_id,
                    design=json.dumps(data, sort_keys=True),
                    created_by=actor,
                )
            )

        self._store_strains(
            [record],
            actor=actor,
            source="design",
            progress=None,
            visibility=visibility,
            then=keep_design,
        )
        return self._strain_view(accession)

    def strain_design(self, accession: str) -> SavedDesign | None:
        """Return the design a planned strain was saved from (``None``: it has none).

        Raises
        ------
        NotFoundError
            No such strain, or the viewer may not see it.
        """
        with self._tx() as s:
            strain = s.execute(
                select(StrainRow.id, StrainRow.parent_id).where(
                    StrainRow.accession == accession, visible_or_true(self.viewer)
                )
            ).first()
            if strain is None:
                raise NotFoundError("strain", accession)
            row = s.get(StrainDesignRow, strain[0])
            if row is None:
                return None
            parent = (
                s.scalars(select(StrainRow.accession).where(StrainRow.id == strain[1])).first()
                if strain[1] is not None
                else None
            )
            return SavedDesign(
                accession=accession,
                parent_accession=parent,
                product=row.product,
                method=row.method,
                design=json.loads(row.design),
                created_by=row.created_by,
            )

    def _next_design_accession(self, parent_accession: str) -> str:
        prefix = f"{parent_accession}-D"
        with self._tx() as s:
            taken = set(
                s.scalars(
                    select(StrainRow.accession).where(
                        func.substr(StrainRow.accession, 1, len(prefix)) == prefix
                    )
                ).all()
            )
        n = 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"
