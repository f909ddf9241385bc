"""Pathway and knock-outs together: insert a pathway, then couple its product to growth.

A heterologous pathway lets the chassis make a compound; it rarely makes the cell *need* to.
:func:`combined_designs` runs the knock-out search (:func:`~.knockouts.optknock`, or minimal
cut sets) on the chassis extended with the pathway, and returns designs that carry both the
insertions and the deletions (``method="combined"``), evaluated on the extended chassis.
"""

from __future__ import annotations

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import Progress
from cellfoundry.metabolism.design._types import StrainDesign
from cellfoundry.metabolism.design.knockouts import minimal_cut_sets, optknock
from cellfoundry.metabolism.design.pathway import Pathway

__all__ = ["combined_designs"]


def combined_designs(
    pathway: Pathway,
    *,
    max_knockouts: int = 2,
    k: int = 2,
    method: str = "optknock",
    time_limit: float = 60.0,
    progress: Progress | None = None,
) -> list[StrainDesign]:
    """Return designs that insert ``pathway`` and delete genes to couple its product to growth.

    The knock-outs are searched on the extended chassis (``pathway.model``); each design lists
    the pathway's insertions first, then the gene deletions, and its evaluation is the
    knock-out search's (re-checked by FVA on the extended chassis).

    Raises
    ------
    ValidationError
        The pathway carries no extended model (a native product needs no pathway: search
        knock-outs on the chassis instead), or ``method`` is unknown.
    """
    if pathway.model is None or pathway.native:
        raise ValidationError(
            f"{pathway.target} is made by the chassis itself: search knock-outs on the chassis",
            record=pathway.target,
            field="pathway",
        )
    model, product, substrate = pathway.model, pathway.product, pathway.substrate
    if method == "optknock":
        found = optknock(
            model,
            product,
            substrate=substrate,
            max_knockouts=max_knockouts,
            k=k,
            time_limit=time_limit,
            progress=progress,
        )
    elif method == "mcs":
        found = minimal_cut_sets(
            model,
            product,
            substrate=substrate,
            max_knockouts=max_knockouts,
            k=k,
            time_limit=time_limit,
        )
    else:
        raise ValidationError(
            f"unknown knock-out method {method!r}: use 'optknock' or 'mcs'", field="method"
        )
    inserts = pathway.modifications()
    out = []
    for design in found:
        deletions = tuple(m for m in design.modifications if m.kind != "insert")
        out.append(
            StrainDesign(
                chassis=pathway.chassis,
                product=pathway.product,
                substrate=pathway.substrate,
                method="combined",
                modifications=inserts + deletions,
                knockouts=design.knockouts,
                added_reactions=pathway.reaction_ids,
                evaluation=design.evaluation,
                notes=(*pathway.notes, *design.notes),
            )
        )
    return out
