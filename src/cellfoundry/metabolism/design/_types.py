"""What a strain design is: gene-level modifications of a chassis, and what they achieve.

Every design method (heterologous pathways, knock-out searches, flux scanning) returns
:class:`StrainDesign` objects, which :func:`~cellfoundry.metabolism.design.evaluate.evaluate`
re-checks by FVA in the engine and :func:`~cellfoundry.metabolism.design.rank.rank` orders.
A design is plain data: it pickles to Dask workers and serialises to JSON for the DNA designer
(:meth:`StrainDesign.to_dict`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal, get_args

__all__ = [
    "DESIGN_METHODS",
    "MODIFICATION_KINDS",
    "DesignEvaluation",
    "GeneticModification",
    "StrainDesign",
]

#: what is done to a gene: delete it, raise or lower its expression, insert it from elsewhere
ModificationKind = Literal["delete", "overexpress", "knockdown", "insert"]
MODIFICATION_KINDS: tuple[str, ...] = get_args(ModificationKind)

DesignMethod = Literal["pathway", "optknock", "mcs", "fseof", "combined", "manual"]
DESIGN_METHODS: tuple[str, ...] = get_args(DesignMethod)


@dataclass(frozen=True, slots=True)
class GeneticModification:
    """One change to one gene, with the reactions it acts on.

    ``gene`` is the chassis's locus tag for ``delete``/``overexpress``/``knockdown`` (``b1241``
    in iJO1366); for ``insert`` it is the source gene's id (``iMM904.YOL086C``), with the
    ``organism`` (BiGG model or species) and, where known, the ``protein`` sequence for codon
    optimisation. A reaction with no gene (spontaneous, or an orphan in the universe) is
    inserted as ``gene=""`` with its reaction named. ``factor`` is the fold change in flux that
    flux scanning suggests for ``overexpress``/``knockdown`` (``nan`` otherwise).
    """

    kind: ModificationKind
    gene: str
    reactions: tuple[str, ...] = ()
    organism: str = ""
    protein: str = ""
    factor: float = math.nan
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the modification as JSON-ready data."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "gene": self.gene,
            "reactions": list(self.reactions),
        }
        if self.organism:
            out["organism"] = self.organism
        if self.protein:
            out["protein"] = self.protein
        if not math.isnan(self.factor):
            out["factor"] = self.factor
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeneticModification:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=data["kind"],
            gene=str(data.get("gene", "")),
            reactions=tuple(data.get("reactions", ())),
            organism=str(data.get("organism", "")),
            protein=str(data.get("protein", "")),
            factor=float(data.get("factor", math.nan)),
            note=str(data.get("note", "")),
        )


@dataclass(frozen=True, slots=True)
class DesignEvaluation:
    """A design's phenotype, computed by the engine (fluxes in mmol/gDW/h).

    ``growth`` is the design's maximal growth; ``product_min``/``product_max`` the range of
    product secretion at that growth (FVA at fraction 1.0 of it), and the yields are those
    fluxes over the substrate uptake (mol/mol; ``*_mass`` g/g; ``carbon_yield_min`` C-mol/C-mol).
    ``yield_min`` is the guaranteed yield at maximal growth (the design's robustness: zero for a
    design that does not couple production to growth). ``max_yield`` is the best yield with
    growth free, ``yield_at_90`` the best at 90 % of the design's maximal growth.
    ``envelope`` holds the production envelope: rows of (growth, product minimum, product
    maximum) from zero to maximal growth.
    """

    growth: float
    substrate_uptake: float
    product_min: float
    product_max: float
    yield_min: float
    yield_max: float
    yield_min_mass: float
    carbon_yield_min: float
    max_yield: float
    yield_at_90: float
    envelope: tuple[tuple[float, float, float], ...] = ()

    @property
    def growth_coupled(self) -> bool:
        """Whether every flux distribution at maximal growth secretes the product."""
        return self.growth > 1e-6 and self.product_min > 1e-6

    def to_dict(self) -> dict[str, Any]:
        """Return the evaluation as JSON-ready data (``nan`` becomes ``None``)."""

        def clean(x: float) -> float | None:
            return None if math.isnan(x) else x

        out: dict[str, Any] = {
            name: clean(getattr(self, name))
            for name in (
                "growth",
                "substrate_uptake",
                "product_min",
                "product_max",
                "yield_min",
                "yield_max",
                "yield_min_mass",
                "carbon_yield_min",
                "max_yield",
                "yield_at_90",
            )
        }
        out["growth_coupled"] = self.growth_coupled
        out["envelope"] = [list(point) for point in self.envelope]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DesignEvaluation:
        """Inverse of :meth:`to_dict`."""

        def num(name: str) -> float:
            value = data.get(name)
            return math.nan if value is None else float(value)

        return cls(
            growth=num("growth"),
            substrate_uptake=num("substrate_uptake"),
            product_min=num("product_min"),
            product_max=num("product_max"),
            yield_min=num("yield_min"),
            yield_max=num("yield_max"),
            yield_min_mass=num("yield_min_mass"),
            carbon_yield_min=num("carbon_yield_min"),
            max_yield=num("max_yield"),
            yield_at_90=num("yield_at_90"),
            envelope=tuple(tuple(float(x) for x in p) for p in data.get("envelope", ())),  # type: ignore[misc]
        )


@dataclass(frozen=True, slots=True)
class StrainDesign:
    """A chassis, a product, and the modifications that make the chassis produce it.

    ``knockouts`` are the reactions the deletions disable (all of them, by the gene rules);
    ``added_reactions`` the heterologous reactions the insertions bring (ids from the universal
    database). ``evaluation`` is filled by :func:`evaluate`.
    """

    chassis: str
    product: str
    substrate: str
    method: DesignMethod
    modifications: tuple[GeneticModification, ...]
    knockouts: tuple[str, ...] = ()
    added_reactions: tuple[str, ...] = ()
    evaluation: DesignEvaluation | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        """Number of genetic modifications (what a strain engineer has to build)."""
        return len(self.modifications)

    def with_evaluation(self, evaluation: DesignEvaluation) -> StrainDesign:
        """Return a copy carrying ``evaluation``."""
        return replace(self, evaluation=evaluation)

    def label(self) -> str:
        """Return a short human name: ``Δb1241 Δb2297 +iMM904.YOL086C ↑b0721``."""
        signs = {"delete": "Δ", "insert": "+", "overexpress": "↑", "knockdown": "↓"}
        parts = [f"{signs[m.kind]}{m.gene or m.reactions[0]}" for m in self.modifications]
        return " ".join(parts) or "wild type"

    def to_dict(self) -> dict[str, Any]:
        """Return the design as JSON-ready data (the hand-off format to DNA design)."""
        return {
            "format": "cellfoundry.strain-design/1",
            "chassis": self.chassis,
            "product": self.product,
            "substrate": self.substrate,
            "method": self.method,
            "label": self.label(),
            "modifications": [m.to_dict() for m in self.modifications],
            "knockouts": list(self.knockouts),
            "added_reactions": list(self.added_reactions),
            "evaluation": None if self.evaluation is None else self.evaluation.to_dict(),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrainDesign:
        """Inverse of :meth:`to_dict`."""
        evaluation = data.get("evaluation")
        return cls(
            chassis=str(data["chassis"]),
            product=str(data["product"]),
            substrate=str(data["substrate"]),
            method=data["method"],
            modifications=tuple(GeneticModification.from_dict(m) for m in data["modifications"]),
            knockouts=tuple(data.get("knockouts", ())),
            added_reactions=tuple(data.get("added_reactions", ())),
            evaluation=None if evaluation is None else DesignEvaluation.from_dict(evaluation),
            notes=tuple(data.get("notes", ())),
        )
