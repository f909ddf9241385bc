"""The Build of the DBTL loop: plates, sample tracking, worklists and robot protocols.

Pure engine: no database, web or network imports, and no robot vendor
package (the Opentrons script is written as text and needs ``opentrons`` only
where it runs).

- :mod:`~cellfoundry.automation.plates`: labware, plates that track every
  well's volume and refuse overdraws and overfills, plate-map CSV;
- :mod:`~cellfoundry.automation.worklists`: reactions to a transfer plan,
  the dry run, Echo, Tecan (``.gwl``) and Hamilton/Biomek worklists;
- :mod:`~cellfoundry.automation.opentrons`: Opentrons Protocol API v2 scripts.
"""

from cellfoundry.automation.opentrons import opentrons_protocol
from cellfoundry.automation.plates import (
    ECHO_384LDV,
    ECHO_384PP,
    LABWARE,
    PCR_96,
    PCR_384,
    RESERVOIR_96_DEEP,
    Labware,
    Plate,
    WellContents,
    parse_volume_ul,
    plate_map_csv,
    read_plate_map,
    transfer,
    write_plate_map,
)
from cellfoundry.automation.worklists import (
    OT2_PIPETTES,
    P20_SINGLE_GEN2,
    P300_SINGLE_GEN2,
    DryRun,
    Pipette,
    Reaction,
    ReactionPart,
    Transfer,
    TransferPlan,
    dry_run,
    echo_picklist,
    liquid_handler_csv,
    plan_reactions,
    read_echo_picklist,
    read_liquid_handler_csv,
    read_tecan_worklist,
    tecan_worklist,
    write_worklist,
)

__all__ = [
    "ECHO_384LDV",
    "ECHO_384PP",
    "LABWARE",
    "OT2_PIPETTES",
    "P20_SINGLE_GEN2",
    "P300_SINGLE_GEN2",
    "PCR_96",
    "PCR_384",
    "RESERVOIR_96_DEEP",
    "DryRun",
    "Labware",
    "Pipette",
    "Plate",
    "Reaction",
    "ReactionPart",
    "Transfer",
    "TransferPlan",
    "WellContents",
    "dry_run",
    "echo_picklist",
    "liquid_handler_csv",
    "opentrons_protocol",
    "parse_volume_ul",
    "plan_reactions",
    "plate_map_csv",
    "read_echo_picklist",
    "read_liquid_handler_csv",
    "read_plate_map",
    "read_tecan_worklist",
    "tecan_worklist",
    "transfer",
    "write_plate_map",
    "write_worklist",
]
