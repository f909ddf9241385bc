"""Over- and under-expression targets by flux scanning (FSEOF, Choi et al. 2010).

Flux scanning based on enforced objective flux: the product's secretion is fixed at a series
of levels, from what the wild type makes at maximal growth up to a fraction (90 %) of the most
it can make, and at each level growth is maximised. Reactions whose flux rises with the
enforced production, without changing direction, are candidates for amplification
(overexpression); reactions whose flux falls are candidates for attenuation (knockdown).

Flux distributions at an optimum are rarely unique, so each level's distribution is the
parsimonious one (the least total flux at maximal growth, as COBRApy's ``pfba``): a flux that
"rises" then rises because the network must route more through it, not because the solver
happened to pick another vertex.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import Progress
from cellfoundry.metabolism.design._gpr import rule_genes
from cellfoundry.metabolism.design._types import GeneticModification, StrainDesign
from cellfoundry.metabolism.flux import InfeasibleError, base_lp, fba, pfba, raise_for_status
from cellfoundry.metabolism.lp import SolverName
from cellfoundry.metabolism.model import ModelSource, ModelSpec, load_model

__all__ = ["FseofResult", "FseofTarget", "fseof"]

TargetKind = Literal["overexpress", "knockdown"]

# pseudo-genes of spontaneous reactions (iJO1366, iML1515), never expression targets
_NOT_GENES = frozenset({"s0001"})
# fluxes closer than this (mmol/gDW/h) are equal when judging a trend
_FLUX_TOL = 1e-6


@dataclass(frozen=True, slots=True)
class FseofTarget:
    """One reaction whose flux follows the enforced production.

    ``fold_change`` is the flux at the last scanning step over the wild type's (absolute
    values; ``inf`` when the wild type does not use the reaction). ``genes`` are those of its
    gene rule.
    """

    reaction: str
    kind: TargetKind
    wild_type_flux: float
    first_flux: float
    last_flux: float
    fold_change: float
    genes: tuple[str, ...]


@dataclass(frozen=True)
class FseofResult:
    """A flux scan: enforced product fluxes, growth and every reaction's flux at each step."""

    chassis: str
    product: str
    substrate: str
    enforced: tuple[float, ...]
    growth: tuple[float, ...]
    fluxes: pd.DataFrame
    wild_type: pd.Series
    targets: tuple[FseofTarget, ...]

    @property
    def overexpression(self) -> tuple[FseofTarget, ...]:
        """Reactions whose flux rises with production, largest fold change first."""
        return tuple(t for t in self.targets if t.kind == "overexpress")

    @property
    def knockdown(self) -> tuple[FseofTarget, ...]:
        """Reactions whose flux falls with production, smallest fold change first."""
        return tuple(t for t in self.targets if t.kind == "knockdown")

    def to_design(self, *, max_targets: int | None = None) -> StrainDesign:
        """Return the targets as a ``method="fseof"`` design, one modification per gene.

        A gene acting on several targets gets the strongest factor among them. Reactions
        without a gene rule are left out (there is nothing to express). ``max_targets`` keeps
        that many reactions of each kind, strongest first.
        """
        modifications: list[GeneticModification] = []
        notes: list[str] = []
        for kind, targets in (("overexpress", self.overexpression), ("knockdown", self.knockdown)):
            chosen = [t for t in targets if t.genes][:max_targets]
            by_gene: dict[str, list[FseofTarget]] = {}
            for t in chosen:
                for g in t.genes:
                    by_gene.setdefault(g, []).append(t)
            for gene, acts_on in sorted(by_gene.items()):
                factors = [t.fold_change for t in acts_on]
                factor = max(factors) if kind == "overexpress" else min(factors)
                note = ""
                if math.isinf(factor):
                    factor, note = math.nan, "not used by the wild type: express it"
                modifications.append(
                    GeneticModification(
                        kind="overexpress" if kind == "overexpress" else "knockdown",
                        gene=gene,
                        reactions=tuple(t.reaction for t in acts_on),
                        factor=factor,
                        note=note,
                    )
                )
            skipped = [t.reaction for t in targets[: max_targets or len(targets)] if not t.genes]
            if skipped:
                notes.append(f"{kind} targets without genes: {', '.join(skipped)}")
        notes.insert(
            0,
            f"FSEOF: {len(self.enforced)} steps, {self.product} enforced from "
            f"{self.enforced[0]:.4g} to {self.enforced[-1]:.4g} mmol/gDW/h",
        )
        return StrainDesign(
            chassis=self.chassis,
            product=self.product,
            substrate=self.substrate,
            method="fseof",
            modifications=tuple(modifications),
            notes=tuple(notes),
        )


def fseof(
    model: ModelSource,
    product: str,
    *,
    substrate: str = "EX_glc__D_e",
    steps: int = 10,
    max_fraction: float = 0.9,
    min_fold_change: float = 1.1,
    include_exchanges: bool = False,
    solver: SolverName = "glpk",
    progress: Progress | None = None,
) -> FseofResult:
    """Scan the product's flux and list the reactions that follow it (FSEOF).

    Parameters
    ----------
    model
        The chassis under the design's conditions, objective growth.
    product, substrate
        Exchange reaction ids.
    steps
        Number of enforced production levels.
    max_fraction
        The last level, as a fraction of the product's maximal flux (growth free).
    min_fold_change
        A rising reaction must end at least this many times its first-step flux (a falling
        one at most its inverse).
    include_exchanges
        Also report exchange reactions (by-products that fall, uptakes that rise).
    solver
        ``"glpk"`` or ``"highs"``.
    progress
        Called with ``(steps done, steps)``.

    Returns
    -------
    FseofResult
        Overexpression targets sorted by fold change (largest first), then knockdown targets
        (smallest first).

    Raises
    ------
    ValidationError
        Unknown reactions, ``steps`` below 2, a fraction outside (0, 1], or a product the
        model cannot make.

    References
    ----------
    Choi HS, Lee SY, Kim TY, Woo HM (2010). In silico identification of gene amplification
    targets for improvement of lycopene production. Appl Environ Microbiol 76:3097-3105.

    Examples
    --------
    >>> import cobra.io
    >>> result = fseof(cobra.io.load_model("textbook"), "EX_succ_e", steps=5)
    >>> "PPC" in [t.reaction for t in result.overexpression]
    True
    """
    spec = load_model(model)
    if not (isinstance(steps, int) and steps >= 2):
        raise ValidationError(f"steps must be a whole number ≥ 2, not {steps!r}", field="steps")
    if not (0.0 < max_fraction <= 1.0):
        raise ValidationError(
            f"max_fraction {max_fraction!r} must lie in (0, 1]", field="max_fraction"
        )
    jp = spec.reaction_index(product)
    spec.reaction_index(substrate)
    wild = pfba(spec, solver=solver).fluxes
    start = max(0.0, float(wild.iloc[jp]))
    top = max_fraction * _max_flux(spec, jp, solver)
    if top <= start + _FLUX_TOL:
        raise ValidationError(
            f"{product} cannot rise above the wild type's {start:.4g} mmol/gDW/h in model "
            f"{spec.id!r}: nothing to scan",
            record=product,
            field="product",
        )
    levels = np.linspace(start, top, steps + 1)[1:]
    columns: list[pd.Series] = []
    growth: list[float] = []
    for k, level in enumerate(levels):
        forced = spec.with_bounds({product: (float(level), float(level))})
        try:
            flux = pfba(forced, solver=solver).fluxes
        except InfeasibleError:
            # seen on iJO1366 near the product's maximum: the split (forward/reverse) pFBA
            # problem loses the growth optimum within the tolerances; the plain optimum stands
            flux = fba(forced, solver="highs").fluxes
        columns.append(flux)
        growth.append(float(np.dot(spec.objective, flux.to_numpy())))
        if progress is not None:
            progress(k + 1, steps)
    table = pd.concat(columns, axis=1)
    table.columns = pd.Index([f"step {k + 1}" for k in range(steps)])
    targets = _trends(spec, table, wild, jp, min_fold_change, include_exchanges)
    return FseofResult(
        chassis=spec.id,
        product=product,
        substrate=substrate,
        enforced=tuple(float(x) for x in levels),
        growth=tuple(growth),
        fluxes=table,
        wild_type=wild,
        targets=targets,
    )


def _max_flux(spec: ModelSpec, j: int, solver: SolverName) -> float:
    lp = base_lp(spec, solver)
    lp.set_objective([j], [1.0], True)
    status, value = lp.solve()
    raise_for_status(spec, status, f"flux of {spec.reactions[j]}")
    return value


def _monotone(values: Sequence[float], rising: bool) -> bool:
    pairs = list(itertools.pairwise(values))
    if rising:
        return all(b >= a - _FLUX_TOL for a, b in pairs)
    return all(b <= a + _FLUX_TOL for a, b in pairs)


def _trends(
    spec: ModelSpec,
    table: pd.DataFrame,
    wild: pd.Series,
    product: int,
    min_fold_change: float,
    include_exchanges: bool,
) -> tuple[FseofTarget, ...]:
    values = table.to_numpy(dtype=float)
    skip = set() if include_exchanges else set(spec.boundary.tolist())
    skip.add(product)
    skip.update(int(j) for j in np.flatnonzero(spec.objective))
    out: list[FseofTarget] = []
    for j in range(spec.n_reactions):
        if j in skip:
            continue
        row = values[j]
        signs = np.sign(row[np.abs(row) > _FLUX_TOL])
        if len(signs) and not (signs == signs[0]).all():
            continue  # the flux changes direction: not a trend
        mag = np.abs(row).tolist()
        first, last = mag[0], mag[-1]
        kind: TargetKind
        if _monotone(mag, rising=True) and last > max(first * min_fold_change, _FLUX_TOL):
            kind = "overexpress"
        elif _monotone(mag, rising=False) and last * min_fold_change < first:
            kind = "knockdown"
        else:
            continue
        wt = abs(float(wild.iloc[j]))
        if kind == "knockdown" and wt <= _FLUX_TOL:
            continue  # the wild type does not use it: nothing to knock down
        fold = last / wt if wt > _FLUX_TOL else math.inf
        rule = spec.rules[j]
        genes: tuple[str, ...] = ()
        if rule is not None:
            genes = tuple(
                sorted(spec.genes[g] for g in rule_genes(rule) if spec.genes[g] not in _NOT_GENES)
            )
        out.append(
            FseofTarget(
                reaction=spec.reactions[j],
                kind=kind,
                wild_type_flux=float(wild.iloc[j]),
                first_flux=float(row[0]),
                last_flux=float(row[-1]),
                fold_change=fold,
                genes=genes,
            )
        )
    up = sorted((t for t in out if t.kind == "overexpress"), key=lambda t: -t.fold_change)
    down = sorted((t for t in out if t.kind == "knockdown"), key=lambda t: t.fold_change)
    return tuple(up + down)
