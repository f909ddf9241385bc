"""Opentrons OT-2 protocols from transfer plans (Protocol API v2).

:func:`opentrons_protocol` writes a self-contained Python protocol: the
``metadata`` and ``requirements`` dictionaries (robot type and ``apiLevel``),
and ``run(protocol)`` that loads each plate by its Opentrons labware
definition, the tip racks, a ``p20_single_gen2`` and/or a
``p300_single_gen2`` (each transfer goes to the smallest pipette whose range
holds its volume), and makes one ``transfer`` per step with a new tip.

The script imports nothing from cellfoundry, so it runs in the Opentrons App,
on the robot, or under ``opentrons_simulate`` (which the tests run, from a
venv of its own with a pinned ``opentrons`` release). No Opentrons package is
needed to write it.

References
----------
Opentrons Python Protocol API v2: "Versioning", "Labware", "Pipettes" and
"Complex Commands" (``InstrumentContext.transfer``, ``new_tip="always"``),
docs.opentrons.com/v2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal

from cellfoundry.automation.plates import format_ul
from cellfoundry.automation.worklists import (
    OT2_PIPETTES,
    Pipette,
    TransferPlan,
    choose_pipette,
    tips_for,
)
from cellfoundry.core.errors import ValidationError

__all__ = ["OPENTRONS_API_LEVEL", "OT2_SLOTS", "opentrons_protocol"]

OPENTRONS_API_LEVEL: Final = "2.20"
"""The Protocol API level written into ``requirements`` (robot software 8.0 and later)."""

OT2_SLOTS: Final = tuple(range(1, 12))
"""Deck slots of the OT-2 free for labware (slot 12 holds the fixed trash)."""

Mount = Literal["left", "right"]
_TIPS_PER_RACK: Final = 96


def opentrons_protocol(
    plan: TransferPlan,
    *,
    protocol_name: str = "cellfoundry transfer plan",
    api_level: str = OPENTRONS_API_LEVEL,
    pipettes: Sequence[Pipette] = OT2_PIPETTES,
    mounts: Sequence[Mount] = ("left", "right"),
) -> str:
    """Return an Opentrons Protocol API v2 script that carries out a plan on an OT-2.

    Plates go on slots 1, 2, ... (sources first, then destinations), tip
    racks after them. Each transfer becomes
    ``pipette.transfer(volume, source[well], destination[well], new_tip="always")``;
    a volume above the pipette's maximum is split by the robot into equal
    aspirations, each with a new tip.

    Parameters
    ----------
    plan
        The plan; each plate's labware needs an ``opentrons_load_name``.
    protocol_name
        Shown in the Opentrons App.
    api_level
        The ``apiLevel`` requirement.
    pipettes
        The pipettes to choose from (by default a P20 and a P300 GEN2 single).
    mounts
        Mount of each pipette, in the order of ``pipettes``.

    Returns
    -------
    str
        Python source.

    Raises
    ------
    ValidationError
        If a plate has no Opentrons labware definition, a volume is below every
        pipette's minimum, or the plates and tip racks need more than 11 slots.

    Examples
    --------
    >>> from cellfoundry.automation.worklists import Reaction, ReactionPart, plan_reactions
    >>> part = ReactionPart("pA", fmol=40, stock_fmol_per_ul=20)
    >>> script = opentrons_protocol(plan_reactions([Reaction("r1", (part,), total_ul=10)]))
    >>> print(script.splitlines()[-1])
        p20.transfer(2.0, plates['source_1']['B1'], plates['destination_1']['A1'], new_tip='always')
    """
    if len(mounts) < len(pipettes):
        raise ValidationError("give a mount for every pipette", field="mounts")
    mount_of = {p.name: m for p, m in zip(pipettes, mounts, strict=False)}

    steps: list[tuple[Pipette, float, str, str, str, str]] = []
    tips: dict[str, int] = {}
    for t in plan.transfers:
        try:
            pipette = choose_pipette(t.volume_ul, pipettes)
        except ValidationError as err:
            raise ValidationError(
                err.message, record=f"{t.source_plate}:{t.source_well}", field="volume_ul"
            ) from None
        tips[pipette.name] = tips.get(pipette.name, 0) + tips_for(t.volume_ul, pipette)
        steps.append(
            (
                pipette,
                t.volume_ul,
                t.source_plate,
                plan.labware[t.source_plate].well(t.source_well),
                t.destination_plate,
                plan.labware[t.destination_plate].well(t.destination_well),
            )
        )
    used = [p for p in pipettes if p.name in tips]

    plates = list(dict.fromkeys([*plan.source_plate_names, *plan.destination_plate_names]))
    racks = {p.name: math.ceil(tips[p.name] / _TIPS_PER_RACK) for p in used}
    needed = len(plates) + sum(racks.values())
    if needed > len(OT2_SLOTS):
        raise ValidationError(
            f"the plan needs {len(plates)} plates and {sum(racks.values())} tip racks, "
            f"{needed} slots; an OT-2 has {len(OT2_SLOTS)}. Split the plan",
            field="transfers",
        )
    slots = iter(OT2_SLOTS)

    lines = [
        f'"""{_docstring_safe(protocol_name)}: generated by cellfoundry.',
        "",
        f"{len(steps)} transfers; tips: " + ", ".join(f"{n} x {p}" for p, n in tips.items()) + ".",
        '"""',
        "",
        "from opentrons import protocol_api",
        "",
        "metadata = {",
        f"    'protocolName': {protocol_name!r},",
        "    'author': 'cellfoundry',",
        f"    'description': {f'{len(steps)} transfers on {len(plates)} plates'!r},",
        "}",
        f"requirements = {{'robotType': 'OT-2', 'apiLevel': {api_level!r}}}",
        "",
        "",
        "def run(protocol: protocol_api.ProtocolContext) -> None:",
        "    plates = {}",
    ]
    for name in plates:
        labware = plan.labware[name]
        if labware.opentrons_load_name is None:
            raise ValidationError(
                f"plate {name!r} is {labware.name}, which has no Opentrons labware definition; "
                "plan it on labware with an opentrons_load_name",
                record=name,
                field="labware",
            )
        lines.append(
            f"    plates[{name!r}] = protocol.load_labware("
            f"{labware.opentrons_load_name!r}, {next(slots)}, {name!r})"
        )
    for pipette in used:
        var = _variable(pipette)
        rack_vars = []
        for i in range(racks[pipette.name]):
            rack_vars.append(f"{var}_tips_{i + 1}")
            lines.append(
                f"    {rack_vars[-1]} = protocol.load_labware({pipette.tip_rack!r}, {next(slots)})"
            )
        lines.append(
            f"    {var} = protocol.load_instrument({pipette.name!r}, "
            f"{mount_of[pipette.name]!r}, tip_racks=[{', '.join(rack_vars)}])"
        )
    for pipette, volume, src, src_well, dst, dst_well in steps:
        lines.append(
            f"    {_variable(pipette)}.transfer({float(volume)!r}, plates[{src!r}][{src_well!r}], "
            f"plates[{dst!r}][{dst_well!r}], new_tip='always')"
        )
    return "\n".join(lines) + "\n"


def _variable(pipette: Pipette) -> str:
    """``p20_single_gen2`` -> ``p20``: a Python name for the pipette."""
    head = pipette.name.split("_")[0]
    return head if head.isidentifier() else "pipette_" + format_ul(pipette.max_volume_ul)


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "/").replace('"""', "'''")
