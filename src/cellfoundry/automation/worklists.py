"""Reactions to transfer plans, plans to liquid-handler worklists, and the dry run.

A :class:`Reaction` (a Golden Gate assembly, say) lists its DNA parts by
amount (fmol or ng) with their stock concentrations, a backbone, a master-mix
volume and the total volume that water makes up. :func:`plan_reactions` lays
a list of reactions out on plates: every distinct source sample gets source
wells (split over several wells when one cannot give it all), every reaction
a destination well, filled in order; the result is a :class:`TransferPlan`.

A plan is written for a robot by

- :func:`echo_picklist`: Labcyte Echo pick list CSV, volumes in nL
  (columns from the Echo Cherry Pick pick-list import: ``Source Plate Name``,
  ``Source Plate Type``, ``Source Well``, ``Destination Plate Name``,
  ``Destination Well``, ``Transfer Volume``, ``Sample Name``); the Echo moves
  2.5 nL droplets, so volumes are rounded to multiples of 2.5 nL;
- :func:`tecan_worklist`: Tecan EVOware / Fluent Control generic worklist
  (``.gwl``): ``A;RackLabel;RackID;RackType;Position;TubeID;Volume;LiquidClass;;;``
  aspirate and ``D;...`` dispense records, ``W;`` (wash or replace DiTi) after
  each dispense, ``C;`` comments; positions count down columns (A1 = 1, B1 = 2);
- :func:`liquid_handler_csv`: the generic CSV that Hamilton VENUS and Biomek
  "transfer from file" steps import (``Source Plate Name,Source Well,
  Destination Plate Name,Destination Well,Transfer Volume``, µL);
- :func:`cellfoundry.automation.opentrons.opentrons_protocol`: an Opentrons
  Protocol API v2 script.

:func:`dry_run` replays a plan on copies of its plates and reports the
reagent totals, the tips each pipette uses and what each source well must
hold (draws plus dead volume); it refuses a plan that would overdraw a well.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cellfoundry.automation.plates import (
    PCR_96,
    Labware,
    Plate,
    WellContents,
    WellOrder,
    format_ul,
    transfer,
)
from cellfoundry.core.errors import ValidationError

__all__ = [
    "DSDNA_DALTONS_PER_BP",
    "ECHO_COLUMNS",
    "ECHO_DROPLET_NL",
    "LIQUID_HANDLER_COLUMNS",
    "OT2_PIPETTES",
    "P20_SINGLE_GEN2",
    "P300_SINGLE_GEN2",
    "DestinationWell",
    "DryRun",
    "Pipette",
    "Reaction",
    "ReactionPart",
    "SourceNeed",
    "SourceWell",
    "Transfer",
    "TransferPlan",
    "choose_pipette",
    "dry_run",
    "echo_picklist",
    "liquid_handler_csv",
    "plan_reactions",
    "read_echo_picklist",
    "read_liquid_handler_csv",
    "read_tecan_worklist",
    "tecan_worklist",
    "tips_for",
    "write_worklist",
]

DSDNA_DALTONS_PER_BP: Final = 617.96
"""Mean mass of one base pair of double-stranded DNA (g/mol), as in NEBioCalculator."""
_DSDNA_END_DALTONS: Final = 36.04
"""The 2 -OH and 2 -H ends added to ``length x 617.96`` for linear dsDNA (NEBioCalculator)."""
ECHO_DROPLET_NL: Final = 2.5
"""The Echo 525/550/650 ejects 2.5 nL droplets (Echo Liquid Handler User Manual, A.4.2)."""


def _round(volume_ul: float) -> float:
    return round(volume_ul, 6) + 0.0


def _round_to(volume_ul: float, step_ul: float | None) -> float:
    if step_ul is None:
        return _round(volume_ul)
    return _round(round(volume_ul / step_ul) * step_ul)


# --------------------------------------------------------------------------- reactions


@dataclass(frozen=True, slots=True)
class ReactionPart:
    """A DNA part (or backbone) dosed into a reaction: an amount and its stock.

    Give the amount as ``fmol`` or ``ng`` and the stock as ``stock_fmol_per_ul``
    (= nM) or ``stock_ng_per_ul``; ``length_bp`` converts between mass and moles
    when they differ, with ``g/mol = length_bp x 617.96 + 36.04``.

    Examples
    --------
    >>> ReactionPart("pA", fmol=40, stock_fmol_per_ul=20).volume_ul()
    2.0
    >>> round(ReactionPart("pB", fmol=40, stock_ng_per_ul=50, length_bp=2000).volume_ul(), 4)
    0.9888
    """

    name: str
    fmol: float | None = None
    ng: float | None = None
    stock_fmol_per_ul: float | None = None
    stock_ng_per_ul: float | None = None
    length_bp: int | None = None

    def __post_init__(self) -> None:
        if (self.fmol is None) == (self.ng is None):
            raise ValidationError(
                "give the amount as exactly one of fmol or ng", record=self.name, field="fmol"
            )
        if (self.stock_fmol_per_ul is None) == (self.stock_ng_per_ul is None):
            raise ValidationError(
                "give the stock as exactly one of stock_fmol_per_ul or stock_ng_per_ul",
                record=self.name,
                field="stock",
            )
        for field in ("fmol", "ng", "stock_fmol_per_ul", "stock_ng_per_ul", "length_bp"):
            value = getattr(self, field)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValidationError(
                    f"{field} must be positive, not {value!r}", record=self.name, field=field
                )
        mixed = (self.fmol is not None and self.stock_ng_per_ul is not None) or (
            self.ng is not None and self.stock_fmol_per_ul is not None
        )
        if mixed and self.length_bp is None:
            raise ValidationError(
                "amount and stock are in different units (fmol and ng); give length_bp "
                "to convert between them",
                record=self.name,
                field="length_bp",
            )

    def stock_key(self) -> tuple[str, float | None, float | None]:
        """Identify the stock: parts with the same key come from the same source wells."""
        return self.name, self.stock_fmol_per_ul, self.stock_ng_per_ul

    def volume_ul(self) -> float:
        """Return the stock volume that holds the amount, in µL (unrounded)."""
        if self.fmol is not None:
            if self.stock_fmol_per_ul is not None:
                return self.fmol / self.stock_fmol_per_ul
            assert self.stock_ng_per_ul is not None
            assert self.length_bp is not None
            ng = self.fmol * 1e-15 * _daltons(self.length_bp) * 1e9
            return ng / self.stock_ng_per_ul
        assert self.ng is not None
        if self.stock_ng_per_ul is not None:
            return self.ng / self.stock_ng_per_ul
        assert self.stock_fmol_per_ul is not None
        assert self.length_bp is not None
        fmol = self.ng * 1e-9 / _daltons(self.length_bp) * 1e15
        return fmol / self.stock_fmol_per_ul


def _daltons(length_bp: int) -> float:
    return length_bp * DSDNA_DALTONS_PER_BP + _DSDNA_END_DALTONS


Stage = Literal["water", "dna", "master mix"]
_STAGES: Final[tuple[Stage, ...]] = ("water", "dna", "master mix")


@dataclass(frozen=True, slots=True)
class Reaction:
    """One reaction: DNA parts, an optional backbone, master mix and water to a total.

    Liquids go in in this order: water, backbone, parts, master mix (the
    enzymes last).

    Examples
    --------
    >>> rx = Reaction(
    ...     "TU1",
    ...     parts=(ReactionPart("pProm", fmol=40, stock_fmol_per_ul=20),),
    ...     backbone=ReactionPart("pBB", fmol=20, stock_fmol_per_ul=10),
    ...     master_mix_ul=5.0,
    ...     total_ul=20.0,
    ... )
    >>> for addition in rx.additions():
    ...     print(addition)
    ('water', 11.0, 'water')
    ('pBB', 2.0, 'dna')
    ('pProm', 2.0, 'dna')
    ('master mix', 5.0, 'master mix')
    """

    name: str
    parts: tuple[ReactionPart, ...]
    backbone: ReactionPart | None = None
    master_mix_ul: float = 0.0
    total_ul: float = 20.0
    master_mix: str = "master mix"
    water: str = "water"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("a reaction needs a name", field="name")
        if not (math.isfinite(self.total_ul) and self.total_ul > 0):
            raise ValidationError(
                f"total volume {self.total_ul!r} µL must be positive",
                record=self.name,
                field="total_ul",
            )
        if not (math.isfinite(self.master_mix_ul) and self.master_mix_ul >= 0):
            raise ValidationError(
                f"master mix volume {self.master_mix_ul!r} µL must be 0 or more",
                record=self.name,
                field="master_mix_ul",
            )
        names = [p.name for p in self.dna]
        if len(set(names)) != len(names):
            raise ValidationError(
                f"a part appears twice in reaction {self.name!r}: {names}",
                record=self.name,
                field="parts",
            )

    @property
    def dna(self) -> tuple[ReactionPart, ...]:
        """The backbone (if any) followed by the parts."""
        return (() if self.backbone is None else (self.backbone,)) + tuple(self.parts)

    def additions(self, *, step_ul: float | None = None) -> tuple[tuple[str, float, Stage], ...]:
        """Return ``(sample, µL, stage)`` of each liquid in pipetting order; water fills up.

        Parameters
        ----------
        step_ul
            Round each DNA and master-mix volume to a multiple of this (0.0025
            for the Echo's 2.5 nL droplets); water makes up the rest.

        Raises
        ------
        ValidationError
            If the DNA and master mix exceed the total volume, or a DNA volume
            rounds to nothing.
        """
        dna: list[tuple[str, float, Stage]] = []
        for part in self.dna:
            volume = _round_to(part.volume_ul(), step_ul)
            if volume <= 0:
                raise ValidationError(
                    f"part {part.name!r} needs {part.volume_ul() * 1000:.3g} nL, which rounds to "
                    f"nothing at a {format_ul(step_ul or 0)} µL step; dilute the stock",
                    record=self.name,
                    field="parts",
                )
            dna.append((part.name, volume, "dna"))
        master = _round_to(self.master_mix_ul, step_ul)
        used = _round(sum(v for _, v, _ in dna) + master)
        water = _round(self.total_ul - used)
        if water < 0:
            raise ValidationError(
                f"reaction {self.name!r}: DNA and master mix need {format_ul(used)} µL, more than "
                f"the total of {format_ul(self.total_ul)} µL; use more concentrated stocks or "
                "a larger total",
                record=self.name,
                field="total_ul",
            )
        out: list[tuple[str, float, Stage]] = []
        if water > 0:
            out.append((self.water, water, "water"))
        out.extend(dna)
        if master > 0:
            out.append((self.master_mix, master, "master mix"))
        return tuple(out)


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class Transfer:
    """One liquid transfer: source plate and well, destination plate and well, µL."""

    source_plate: str
    source_well: str
    destination_plate: str
    destination_well: str
    volume_ul: float
    sample: str = ""
    reaction: str = ""

    def key(self) -> tuple[str, str, str, str, float]:
        """Return the transfer without its labels, to compare a plan with a file read back."""
        return (
            self.source_plate,
            self.source_well,
            self.destination_plate,
            self.destination_well,
            self.volume_ul,
        )


@dataclass(frozen=True, slots=True)
class SourceWell:
    """A source well of a plan: the sample and the volume to load into it."""

    plate: str
    well: str
    sample: str
    volume_ul: float


@dataclass(frozen=True, slots=True)
class DestinationWell:
    """A destination well of a plan: the reaction assembled in it."""

    plate: str
    well: str
    reaction: str
    total_ul: float


@dataclass(frozen=True, slots=True)
class TransferPlan:
    """Transfers laid out on plates, with what to load into each source well.

    ``labware`` maps every plate name to its labware. Build one with
    :func:`plan_reactions`, or directly from transfers read from a file.
    """

    transfers: tuple[Transfer, ...]
    labware: Mapping[str, Labware]
    sources: tuple[SourceWell, ...] = ()
    destinations: tuple[DestinationWell, ...] = ()

    def __post_init__(self) -> None:
        for t in self.transfers:
            for plate, well in (
                (t.source_plate, t.source_well),
                (t.destination_plate, t.destination_well),
            ):
                if plate not in self.labware:
                    raise ValidationError(
                        f"plate {plate!r} has no labware in the plan", record=plate, field="plate"
                    )
                self.labware[plate].well(well)
            if not (math.isfinite(t.volume_ul) and t.volume_ul > 0):
                raise ValidationError(
                    f"transfer volume {t.volume_ul!r} µL must be positive",
                    record=f"{t.source_plate}:{t.source_well}",
                    field="volume_ul",
                )

    @property
    def source_plate_names(self) -> tuple[str, ...]:
        """Plates that liquid is drawn from, in order of first use."""
        return tuple(dict.fromkeys(t.source_plate for t in self.transfers))

    @property
    def destination_plate_names(self) -> tuple[str, ...]:
        """Plates that liquid is dispensed into, in order of first use."""
        return tuple(dict.fromkeys(t.destination_plate for t in self.transfers))

    def source_plates(self) -> dict[str, Plate]:
        """Return fresh source plates loaded as the plan says (``sources``)."""
        plates = {name: Plate(name, self.labware[name]) for name in self.source_plate_names}
        for s in self.sources:
            plates.setdefault(s.plate, Plate(s.plate, self.labware[s.plate]))
            plates[s.plate].add(s.well, s.sample, s.volume_ul)
        return plates

    def draws_ul(self) -> dict[tuple[str, str], float]:
        """Return the total drawn from each ``(plate, well)``."""
        draws: dict[tuple[str, str], float] = {}
        for t in self.transfers:
            key = (t.source_plate, self.labware[t.source_plate].well(t.source_well))
            draws[key] = _round(draws.get(key, 0.0) + t.volume_ul)
        return draws


def plan_reactions(
    reactions: Sequence[Reaction],
    *,
    source_labware: Labware = PCR_96,
    destination_labware: Labware = PCR_96,
    source_prefix: str = "source",
    destination_prefix: str = "destination",
    source_order: WellOrder = "column",
    destination_order: WellOrder = "column",
    step_ul: float | None = None,
    min_volume_ul: float = 0.0,
) -> TransferPlan:
    """Lay reactions out on plates and return the transfers that assemble them.

    Destinations are filled in ``destination_order`` from A1 of
    ``destination_1``, one well per reaction, onto further plates as needed.
    Each distinct source sample (DNA parts by name and stock, master mix,
    water) gets wells in ``source_order`` from A1 of ``source_1``, in order of
    first use; a sample that one well cannot give (usable volume = maximum -
    dead volume) continues in the next well, never splitting a transfer.
    Each source well is loaded with its draws plus the dead volume.

    Transfers go stage by stage (water, then DNA, then master mix), sample by
    sample, reaction by reaction, so a robot changes reagent as rarely as it can.

    Parameters
    ----------
    reactions
        The reactions, in the order their destination wells are filled.
    source_labware, destination_labware
        Plate types (an Echo plan uses :data:`~cellfoundry.automation.plates.ECHO_384PP`).
    source_prefix, destination_prefix
        Plates are named ``{prefix}_1``, ``{prefix}_2`` ...
    source_order, destination_order
        Row or column order for filling wells.
    step_ul
        Round volumes to multiples of this (``0.0025`` for the Echo).
    min_volume_ul
        Refuse any transfer smaller than this (1.0 for an Opentrons P20).

    Returns
    -------
    TransferPlan

    Raises
    ------
    ValidationError
        Naming the reaction: duplicate names, a volume that overflows the total
        or falls below ``min_volume_ul``, a part whose stock differs between
        reactions, a transfer larger than a source well can give.

    Examples
    --------
    >>> part = ReactionPart("pA", fmol=40, stock_fmol_per_ul=20)
    >>> plan = plan_reactions([Reaction(f"r{i}", (part,), total_ul=10) for i in range(3)])
    >>> [(t.sample, t.source_well, t.destination_well, t.volume_ul) for t in plan.transfers]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('water', 'A1', 'A1', 8.0), ('water', 'A1', 'B1', 8.0), ('water', 'A1', 'C1', 8.0),
     ('pA', 'B1', 'A1', 2.0), ('pA', 'B1', 'B1', 2.0), ('pA', 'B1', 'C1', 2.0)]
    >>> [(s.well, s.sample, s.volume_ul) for s in plan.sources]
    [('A1', 'water', 29.0), ('B1', 'pA', 11.0)]
    """
    if not reactions:
        raise ValidationError("no reactions to plan", field="reactions")
    names = [r.name for r in reactions]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValidationError(f"reaction name {dup!r} is used twice", record=dup, field="name")

    # destinations, in order
    dest_wells = destination_labware.wells(destination_order)
    destinations: list[DestinationWell] = []
    for i, rx in enumerate(reactions):
        plate = f"{destination_prefix}_{i // len(dest_wells) + 1}"
        destinations.append(
            DestinationWell(plate, dest_wells[i % len(dest_wells)], rx.name, rx.total_ul)
        )

    # what goes where, checking that each stock is the same everywhere
    stocks: dict[str, tuple[tuple[str, float | None, float | None], str]] = {}
    steps: list[tuple[int, int, int, str, float]] = []  # stage, sample order, reaction, ...
    sample_order: dict[str, int] = {}
    for r_index, rx in enumerate(reactions):
        for part in rx.dna:
            seen = stocks.setdefault(part.name, (part.stock_key(), rx.name))
            if seen[0] != part.stock_key():
                raise ValidationError(
                    f"part {part.name!r} has a different stock concentration here than in "
                    f"reaction {seen[1]!r}; give each stock its own name",
                    record=rx.name,
                    field="parts",
                )
        for sample, volume, stage in rx.additions(step_ul=step_ul):
            if volume < min_volume_ul:
                raise ValidationError(
                    f"{format_ul(volume)} µL of {sample!r} is below the smallest transfer, "
                    f"{format_ul(min_volume_ul)} µL; dilute the stock or scale the reaction up",
                    record=rx.name,
                    field="volume_ul",
                )
            order = sample_order.setdefault(sample, len(sample_order))
            steps.append((_STAGES.index(stage), order, r_index, sample, volume))
    steps.sort(key=lambda s: s[:3])

    # source wells: first fit, a new well when the current one cannot give the next draw
    src_wells = source_labware.wells(source_order)
    usable = source_labware.usable_volume_ul
    next_well = 0
    current: dict[str, tuple[str, str]] = {}
    left: dict[tuple[str, str], float] = {}
    fills: dict[tuple[str, str], tuple[str, float]] = {}
    transfers: list[Transfer] = []
    for _, _, r_index, sample, volume in steps:
        if volume > usable:
            raise ValidationError(
                f"{format_ul(volume)} µL of {sample!r} is more than one {source_labware.name} "
                f"well can give ({format_ul(usable)} µL above its dead volume); use a larger "
                "source labware",
                record=reactions[r_index].name,
                field="volume_ul",
            )
        where = current.get(sample)
        if where is None or left[where] < volume:
            where = (
                f"{source_prefix}_{next_well // len(src_wells) + 1}",
                src_wells[next_well % len(src_wells)],
            )
            next_well += 1
            current[sample] = where
            left[where] = usable
            fills[where] = (sample, source_labware.dead_volume_ul)
        left[where] = _round(left[where] - volume)
        fills[where] = (sample, _round(fills[where][1] + volume))
        dest = destinations[r_index]
        transfers.append(
            Transfer(where[0], where[1], dest.plate, dest.well, volume, sample, dest.reaction)
        )
    labware = {plate: source_labware for plate, _ in fills}
    labware.update({d.plate: destination_labware for d in destinations})
    return TransferPlan(
        tuple(transfers),
        labware,
        tuple(SourceWell(p, w, s, v) for (p, w), (s, v) in fills.items()),
        tuple(destinations),
    )


# --------------------------------------------------------------------------- pipettes


@dataclass(frozen=True, slots=True)
class Pipette:
    """A single-channel pipette: its working range and the tips it takes."""

    name: str
    min_volume_ul: float
    max_volume_ul: float
    tip_rack: str


P20_SINGLE_GEN2: Final = Pipette("p20_single_gen2", 1.0, 20.0, "opentrons_96_tiprack_20ul")
P300_SINGLE_GEN2: Final = Pipette("p300_single_gen2", 20.0, 300.0, "opentrons_96_tiprack_300ul")
OT2_PIPETTES: Final = (P20_SINGLE_GEN2, P300_SINGLE_GEN2)
"""The OT-2 GEN2 single-channel pipettes (1-20 µL and 20-300 µL)."""


def choose_pipette(volume_ul: float, pipettes: Sequence[Pipette] = OT2_PIPETTES) -> Pipette:
    """Return the smallest pipette whose range holds ``volume_ul`` (the largest above all).

    Above the largest pipette's maximum the transfer is split into equal parts.

    Examples
    --------
    >>> [choose_pipette(v).name for v in (1.0, 20.0, 20.5, 900.0)]
    ['p20_single_gen2', 'p20_single_gen2', 'p300_single_gen2', 'p300_single_gen2']
    """
    ordered = sorted(pipettes, key=lambda p: p.max_volume_ul)
    for pipette in ordered:
        if pipette.min_volume_ul <= volume_ul <= pipette.max_volume_ul:
            return pipette
    if ordered and volume_ul > ordered[-1].max_volume_ul:
        return ordered[-1]
    smallest = min((p.min_volume_ul for p in pipettes), default=math.inf)
    raise ValidationError(
        f"no pipette can move {format_ul(volume_ul)} µL (the smallest takes "
        f"{format_ul(smallest)} µL); dilute the stock or use an Echo",
        field="volume_ul",
    )


def tips_for(volume_ul: float, pipette: Pipette) -> int:
    """Return the tips one transfer uses with a new tip per aspiration."""
    return max(1, math.ceil(_round(volume_ul / pipette.max_volume_ul)))


# --------------------------------------------------------------------------- dry run


@dataclass(frozen=True, slots=True)
class SourceNeed:
    """What a source well must hold: its draws plus the dead volume, and what it holds."""

    plate: str
    well: str
    sample: str
    draw_ul: float
    dead_volume_ul: float
    loaded_ul: float

    @property
    def required_ul(self) -> float:
        """Draws plus dead volume."""
        return _round(self.draw_ul + self.dead_volume_ul)

    @property
    def shortfall_ul(self) -> float:
        """How much more the well needs (0.0 when it holds enough)."""
        return max(0.0, _round(self.required_ul - self.loaded_ul))


@dataclass(frozen=True, slots=True)
class DryRun:
    """What a plan takes: reagents, tips, source volumes, and what it leaves behind.

    ``reagent_totals_ul`` is the volume drawn of each sample; ``tips`` the tips
    per pipette name (one per aspiration, as with a new tip per transfer);
    ``source_needs`` one entry per source well; ``plates`` the plates after
    the run (sources drawn down, destinations filled).
    """

    transfer_count: int
    reagent_totals_ul: Mapping[str, float]
    tips: Mapping[str, int]
    source_needs: tuple[SourceNeed, ...]
    plates: Mapping[str, Plate]

    def report(self) -> str:
        """Return the dry run as plain text, one table after another."""
        lines = [f"{self.transfer_count} transfers", "", "reagent totals (µL drawn):"]
        lines += [f"  {s}\t{format_ul(v)}" for s, v in self.reagent_totals_ul.items()]
        lines += ["", "tips:"]
        lines += [f"  {p}\t{n}" for p, n in self.tips.items()]
        lines += ["", "source wells (plate, well, sample, draw + dead = required; loaded):"]
        lines += [
            f"  {n.plate}\t{n.well}\t{n.sample}\t{format_ul(n.draw_ul)} + "
            f"{format_ul(n.dead_volume_ul)} = {format_ul(n.required_ul)}; "
            f"{format_ul(n.loaded_ul)}"
            for n in self.source_needs
        ]
        return "\n".join(lines) + "\n"


def dry_run(
    plan: TransferPlan,
    *,
    sources: Mapping[str, Plate] | None = None,
    pipettes: Sequence[Pipette] | None = OT2_PIPETTES,
) -> DryRun:
    """Replay a plan on copies of its plates and report what it takes.

    Parameters
    ----------
    plan
        The plan.
    sources
        Source plates as they are on the bench (from :func:`read_plate_map`);
        by default those the plan says to load.
    pipettes
        Pipettes to count tips for (``None`` for a tipless Echo run).

    Returns
    -------
    DryRun

    Raises
    ------
    ValidationError
        If any source well holds less than its draws plus dead volume (naming
        plate, well, sample and the volumes, and counting the other short
        wells), a source well holds another sample than the plan draws, a plate
        is missing, a destination would overfill or a volume is outside every
        pipette. The given plates are not changed.
    """
    plates: dict[str, Plate] = {
        name: plate.copy()
        for name, plate in (plan.source_plates() if sources is None else sources).items()
    }
    for name in plan.source_plate_names:
        if name not in plates:
            raise ValidationError(
                f"source plate {name!r} is not among the plates given", record=name, field="plate"
            )
    for name in plan.destination_plate_names:
        plates.setdefault(name, Plate(name, plan.labware[name]))

    needs: list[SourceNeed] = []
    for (plate_name, well), draw in plan.draws_ul().items():
        plate = plates[plate_name]
        contents = plate[well]
        needs.append(
            SourceNeed(
                plate_name,
                well,
                "" if contents is None else contents.sample,
                draw,
                plate.labware.dead_volume_ul,
                plate.volume_ul(well),
            )
        )
    short = [n for n in needs if n.shortfall_ul > 0]
    if short:
        n = short[0]
        more = f"; {len(short) - 1} more well(s) short" if len(short) > 1 else ""
        raise ValidationError(
            f"plan would overdraw well {n.well} of plate {n.plate!r} ({n.sample or 'empty'}): "
            f"it needs {format_ul(n.required_ul)} µL ({format_ul(n.draw_ul)} µL drawn + "
            f"{format_ul(n.dead_volume_ul)} µL dead volume) but holds {format_ul(n.loaded_ul)} µL"
            f"{more}",
            record=f"{n.plate}:{n.well}",
            field="volume_ul",
        )

    totals: dict[str, float] = {}
    tips: dict[str, int] = {p.name: 0 for p in pipettes or ()}
    for t in plan.transfers:
        source = plates[t.source_plate]
        held: WellContents | None = source[t.source_well]
        if t.sample and held is not None and held.sample != t.sample:
            raise ValidationError(
                f"well {source.labware.well(t.source_well)} of plate {t.source_plate!r} holds "
                f"{held.sample!r} but the plan draws {t.sample!r} from it; fix the plate map "
                "or the plate",
                record=f"{t.source_plate}:{source.labware.well(t.source_well)}",
                field="sample",
            )
        sample = t.sample or (held.sample if held is not None else t.source_well)
        transfer(
            source, t.source_well, plates[t.destination_plate], t.destination_well, t.volume_ul
        )
        totals[sample] = _round(totals.get(sample, 0.0) + t.volume_ul)
        if pipettes is not None:
            pipette = choose_pipette(t.volume_ul, pipettes)
            tips[pipette.name] += tips_for(t.volume_ul, pipette)
    for d in plan.destinations:
        if plates[d.plate][d.well] is not None:
            plates[d.plate].label(d.well, d.reaction)
    return DryRun(len(plan.transfers), totals, tips, tuple(needs), plates)


# --------------------------------------------------------------------------- writers

ECHO_COLUMNS: Final = (
    "Source Plate Name",
    "Source Plate Type",
    "Source Well",
    "Destination Plate Name",
    "Destination Well",
    "Transfer Volume",
    "Sample Name",
)
"""Pick-list columns, as the Echo Cherry Pick software names them; Transfer Volume in nL."""

LIQUID_HANDLER_COLUMNS: Final = (
    "Source Plate Name",
    "Source Well",
    "Destination Plate Name",
    "Destination Well",
    "Transfer Volume",
)
"""Generic transfer CSV for Hamilton and Biomek "transfer from file" steps; volume in µL."""


def _echo_nl(volume_ul: float) -> float:
    return round(volume_ul * 1000 / ECHO_DROPLET_NL) * ECHO_DROPLET_NL


def _format_nl(volume_nl: float) -> str:
    return f"{volume_nl:.1f}".removesuffix(".0")


def echo_picklist(plan: TransferPlan) -> str:
    """Return a Labcyte Echo pick list (CSV) for a plan.

    Volumes are in nL, rounded to the nearest 2.5 nL droplet.

    Raises
    ------
    ValidationError
        If a source plate is not an Echo source plate, or a volume rounds to 0 nL.

    References
    ----------
    Labcyte Echo Cherry Pick pick-list columns, as documented for the kithairon
    Echo library (kithairon.readthedocs.io, "Pick List Format"); droplet size
    from the Echo Liquid Handler User Manual, A.4.2.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ECHO_COLUMNS)
    for t in plan.transfers:
        labware = plan.labware[t.source_plate]
        if labware.echo_plate_type is None:
            raise ValidationError(
                f"source plate {t.source_plate!r} is {labware.name}, not an Echo source plate; "
                "plan with source_labware=ECHO_384PP or ECHO_384LDV",
                record=t.source_plate,
                field="labware",
            )
        nl = _echo_nl(t.volume_ul)
        if nl <= 0:
            raise ValidationError(
                f"{format_ul(t.volume_ul)} µL is less than one 2.5 nL droplet",
                record=f"{t.source_plate}:{t.source_well}",
                field="volume_ul",
            )
        writer.writerow(
            [
                t.source_plate,
                labware.echo_plate_type,
                t.source_well,
                t.destination_plate,
                t.destination_well,
                _format_nl(nl),
                t.sample,
            ]
        )
    return out.getvalue()


def _read_csv_transfers(
    text: str, columns: Sequence[str], *, unit_ul: float, source: str
) -> tuple[Transfer, ...]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValidationError(
            f"missing column(s): {', '.join(missing)}", source=source, record="row 1"
        )
    reader.fieldnames = header
    out: list[Transfer] = []
    for raw in reader:
        cells = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        try:
            volume = _round(float(cells["Transfer Volume"]) * unit_ul)
        except ValueError:
            raise ValidationError(
                f"transfer volume {cells['Transfer Volume']!r} is not a number",
                source=source,
                record=f"row {reader.line_num}",
                field="Transfer Volume",
            ) from None
        out.append(
            Transfer(
                cells["Source Plate Name"],
                cells["Source Well"],
                cells["Destination Plate Name"],
                cells["Destination Well"],
                volume,
                cells.get("Sample Name", ""),
            )
        )
    return tuple(out)


def read_echo_picklist(text: str, *, source: str = "<picklist>") -> tuple[Transfer, ...]:
    """Read an Echo pick list back into transfers (volumes converted to µL)."""
    return _read_csv_transfers(
        text,
        [c for c in ECHO_COLUMNS if c not in ("Source Plate Type", "Sample Name")],
        unit_ul=1e-3,
        source=source,
    )


def liquid_handler_csv(plan: TransferPlan) -> str:
    """Return the generic transfer CSV for Hamilton VENUS or Biomek (volumes in µL).

    References
    ----------
    TeselaGen, "Hamilton worklist" and "Biomek worklist" export formats
    (docs.teselagen.com); Biomek 4000 Software Tutorial, "Transfer From File".
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LIQUID_HANDLER_COLUMNS)
    for t in plan.transfers:
        writer.writerow(
            [
                t.source_plate,
                t.source_well,
                t.destination_plate,
                t.destination_well,
                format_ul(t.volume_ul),
            ]
        )
    return out.getvalue()


def read_liquid_handler_csv(text: str, *, source: str = "<worklist>") -> tuple[Transfer, ...]:
    """Read a Hamilton/Biomek transfer CSV back into transfers."""
    return _read_csv_transfers(text, LIQUID_HANDLER_COLUMNS, unit_ul=1.0, source=source)


def _gwl_field(text: str, what: str) -> str:
    if ";" in text or "\n" in text or len(text) > 32:
        raise ValidationError(
            f"{what} {text!r} cannot go in a worklist: at most 32 characters and no ';'",
            record=text,
            field=what,
        )
    return text


def tecan_worklist(
    plan: TransferPlan,
    *,
    liquid_class: str = "",
    rack_types: Mapping[str, str] | None = None,
    wash: str = "W;",
) -> str:
    """Return a Tecan EVOware / Fluent generic worklist (``.gwl``) for a plan.

    Each transfer is an aspirate record, a dispense record and ``wash``
    (``W;`` washes fixed tips or replaces a DiTi), for example::

        A;source_1;;;1;;11;;;;
        D;destination_1;;;1;;11;;;;
        W;

    Parameters
    ----------
    plan
        The plan; plate names become rack labels (at most 32 characters).
    liquid_class
        Written in every record; empty uses the Worklist command's liquid class.
    rack_types
        EVOware labware type per plate (e.g. ``"384 Well, landscape"``);
        empty fields let EVOware use the labware at the rack label.
    wash
        The record after each dispense: ``W;``, ``W1;`` to ``W4;``, or ``WD;``.

    References
    ----------
    Tecan Freedom EVOware Software Manual, "Worklist: Aspirate/Dispense record"
    (record fields as documented in the rrobot and robotools worklist writers).
    """
    rack_types = rack_types or {}
    lines = [f"C;cellfoundry transfer plan: {len(plan.transfers)} transfers"]
    for t in plan.transfers:
        for record, plate, well in (
            ("A", t.source_plate, t.source_well),
            ("D", t.destination_plate, t.destination_well),
        ):
            position = plan.labware[plate].index(well, "column")
            fields = [
                record,
                _gwl_field(plate, "rack label"),
                "",
                _gwl_field(rack_types.get(plate, ""), "rack type"),
                str(position),
                "",
                format_ul(t.volume_ul),
                _gwl_field(liquid_class, "liquid class"),
                "",
                "",
                "",
            ]
            lines.append(";".join(fields))
        lines.append(wash)
    return "\r\n".join(lines) + "\r\n"


def read_tecan_worklist(
    text: str, labware: Mapping[str, Labware], *, source: str = "<gwl>"
) -> tuple[Transfer, ...]:
    """Read the aspirate/dispense pairs of a ``.gwl`` back into transfers.

    ``labware`` gives each rack label's plate type, to turn positions into wells.
    Comments, washes, flushes and breaks are skipped.
    """
    out: list[Transfer] = []
    pending: tuple[str, str, float] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.strip().split(";")
        kind = fields[0]
        if kind not in ("A", "D"):
            continue

        def fail(message: str, number: int = number) -> ValidationError:
            return ValidationError(message, source=source, record=f"line {number}")

        if len(fields) < 7:
            raise fail(f"a {kind} record needs at least 7 fields")
        label, position, volume_text = fields[1], fields[4], fields[6]
        if label not in labware:
            raise fail(f"rack label {label!r} has no labware")
        try:
            well = labware[label].well_at(int(position), "column")
            volume = _round(float(volume_text))
        except ValueError:
            raise fail(f"position {position!r} or volume {volume_text!r} is not a number") from None
        if kind == "A":
            if pending is not None:
                raise fail("two aspirate records in a row; this reader takes one tip")
            pending = (label, well, volume)
        else:
            if pending is None:
                raise fail("a dispense without an aspirate")
            if pending[2] != volume:
                raise fail(f"dispenses {volume} µL after aspirating {pending[2]} µL")
            out.append(Transfer(pending[0], pending[1], label, well, volume))
            pending = None
    if pending is not None:
        raise ValidationError("the worklist ends after an aspirate", source=source)
    return tuple(out)


WorklistKind = Literal["echo", "tecan", "hamilton", "biomek", "opentrons"]


def write_worklist(plan: TransferPlan, path: str | Path, kind: WorklistKind) -> Path:
    """Write a plan for one robot to ``path`` and return the path.

    ``echo`` writes a pick list CSV, ``tecan`` a ``.gwl``, ``hamilton`` and
    ``biomek`` the generic transfer CSV, ``opentrons`` a Protocol API v2 script.
    """
    if kind == "echo":
        text = echo_picklist(plan)
    elif kind == "tecan":
        text = tecan_worklist(plan)
    elif kind in ("hamilton", "biomek"):
        text = liquid_handler_csv(plan)
    elif kind == "opentrons":
        from cellfoundry.automation.opentrons import opentrons_protocol

        text = opentrons_protocol(plan)
    else:
        raise ValidationError(
            f"unknown worklist kind {kind!r}; use echo, tecan, hamilton, biomek or opentrons",
            field="kind",
        )
    target = Path(path)
    target.write_text(text, encoding="utf-8", newline="")
    return target
