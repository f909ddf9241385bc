"""Opentrons Protocol API v2 scripts, checked by the Opentrons simulator itself.

The simulator runs from a venv of its own (``make`` builds ``.venv-opentrons`` with
``opentrons==8.8.2``): opentrons 10.1.0 cannot load its protocol engine on Python 3.11
(pydantic refuses a ``typing.TypedDict`` below 3.12), and the main venv's numpy 2 and
FastAPI stack must not meet opentrons' pins. ``CELLFOUNDRY_OPENTRONS_SIMULATE`` names the
``opentrons_simulate`` executable; without it the tests skip, unless ``CI`` is set.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from cellfoundry.automation.opentrons import OPENTRONS_API_LEVEL, opentrons_protocol
from cellfoundry.automation.plates import ECHO_384LDV, PCR_96, RESERVOIR_96_DEEP
from cellfoundry.automation.worklists import (
    Reaction,
    ReactionPart,
    Transfer,
    TransferPlan,
    dry_run,
    plan_reactions,
)
from cellfoundry.core.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]

# the same eight MoClo level-1 reactions as test_worklists.py (plasmid sizes from the shared
# GenBank files; the acceptor's size assumed)
PROMOTERS = (("pICH51277", 45.0, 2763), ("pICH51266", 60.0, 3675))
CDSS = (("pICSL80014", 55.0, 2968), ("pICSL80005", 50.0, 2962))
TERMINATORS = (("pICH41421", 42.0, 2514), ("pICH72400", 40.0, 2467))
BACKBONE = ReactionPart("pICH47732", fmol=20, stock_ng_per_ul=50.0, length_bp=5000)


def golden_gate_plan() -> TransferPlan:
    reactions = [
        Reaction(
            f"{p[0]}-{c[0]}-{t[0]}",
            tuple(
                ReactionPart(name, fmol=40, stock_ng_per_ul=ng, length_bp=bp)
                for name, ng, bp in (p, c, t)
            ),
            backbone=BACKBONE,
            master_mix_ul=4.0,
            total_ul=20.0,
            master_mix="BsaI-T4 ligase mix",
        )
        for p in PROMOTERS
        for c in CDSS
        for t in TERMINATORS
    ]
    return plan_reactions(reactions, step_ul=0.1, min_volume_ul=1.0)


def large_volume_plan() -> TransferPlan:
    """Deep-well reactions: 350 µL water (two P300 aspirations), 50 µL buffer, 2 µL DNA."""
    reactions = [
        Reaction(
            f"scale-up-{i}",
            (ReactionPart("pICH51277", fmol=40, stock_fmol_per_ul=20),),
            master_mix_ul=50.0,
            total_ul=402.0,
            master_mix="buffer",
        )
        for i in range(3)
    ]
    return plan_reactions(
        reactions, source_labware=RESERVOIR_96_DEEP, destination_labware=RESERVOIR_96_DEEP
    )


# --------------------------------------------------------------------------- the script


def test_script_shape_without_the_simulator() -> None:
    plan = golden_gate_plan()
    script = opentrons_protocol(plan, protocol_name="MoClo level 1, 8 TUs")
    compile(script, "protocol.py", "exec")
    assert f"requirements = {{'robotType': 'OT-2', 'apiLevel': '{OPENTRONS_API_LEVEL}'}}" in script
    assert "def run(protocol: protocol_api.ProtocolContext) -> None:" in script
    assert "'protocolName': 'MoClo level 1, 8 TUs'" in script
    assert "protocol.load_instrument('p20_single_gen2', 'left', tip_racks=[p20_tips_1])" in script
    assert "p300_single_gen2" not in script  # nothing above 20 µL
    assert script.count(".transfer(") == len(plan.transfers) == 48
    assert script.count("new_tip='always'") == 48
    assert "import cellfoundry" not in script


def test_both_pipettes_are_chosen_by_volume() -> None:
    script = opentrons_protocol(large_volume_plan())
    assert "protocol.load_instrument('p20_single_gen2', 'left'" in script
    assert "protocol.load_instrument('p300_single_gen2', 'right'" in script
    assert "p300.transfer(350.0," in script
    assert "p300.transfer(50.0," in script
    assert "p20.transfer(2.0," in script


def test_script_refusals() -> None:
    tiny = TransferPlan((Transfer("s", "A1", "d", "A1", 0.5),), {"s": PCR_96, "d": PCR_96})
    with pytest.raises(ValidationError, match=r"no pipette can move 0\.5 µL") as caught:
        opentrons_protocol(tiny)
    assert caught.value.record == "s:A1"
    ldv = TransferPlan((Transfer("s", "A1", "d", "A1", 2.0),), {"s": ECHO_384LDV, "d": PCR_96})
    with pytest.raises(ValidationError, match="no Opentrons labware definition"):
        opentrons_protocol(ldv)
    many = TransferPlan(
        tuple(Transfer(f"s{i}", "A1", "d", "A1", 2.0) for i in range(11)),
        {**{f"s{i}": PCR_96 for i in range(11)}, "d": PCR_96},
    )
    with pytest.raises(ValidationError, match="needs 12 plates and 1 tip racks, 13 slots"):
        opentrons_protocol(many)


def test_plate_names_are_quoted_safely() -> None:
    name = 'it\'s "odd"\n'
    plan = TransferPlan((Transfer(name, "A1", "d", "A1", 2.0),), {name: PCR_96, "d": PCR_96})
    script = opentrons_protocol(plan, protocol_name='x """ y')
    compile(script, "protocol.py", "exec")
    assert repr(name) in script


# --------------------------------------------------------------------------- the simulator


def simulator() -> Path:
    configured = os.environ.get(
        "CELLFOUNDRY_OPENTRONS_SIMULATE", ".venv-opentrons/bin/opentrons_simulate"
    )
    path = Path(configured)
    path = path if path.is_absolute() else ROOT / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        reason = (
            f"opentrons_simulate not found at {path}; build it with "
            "`python3 -m venv .venv-opentrons && .venv-opentrons/bin/pip install opentrons==8.8.2` "
            "or set CELLFOUNDRY_OPENTRONS_SIMULATE"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


LOG_LINE = re.compile(
    r"^\s*(Aspirating|Dispensing) ([0-9.]+) uL (?:from|into) ([A-P][0-9]+) of (.+?) on slot \d+"
)


def simulate(plan: TransferPlan, tmp_path: Path) -> list[str]:
    script = tmp_path / "protocol.py"
    script.write_text(opentrons_protocol(plan), encoding="utf-8")
    env = {**os.environ, "OT_API_CONFIG_DIR": str(tmp_path / "opentrons-config")}
    done = subprocess.run(
        [str(simulator()), str(script)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def aspirate_dispense_pairs(log: list[str]) -> list[tuple[str, str, str, str, float]]:
    """Pair each aspiration with the dispense after it: (src, well, dest, well, µL)."""
    pairs = []
    pending: tuple[str, str, float] | None = None
    for line in log:
        match = LOG_LINE.match(line)
        if match is None:
            continue
        kind, volume, well, labware = match.groups()
        if kind == "Aspirating":
            assert pending is None, line
            pending = (labware, well, float(volume))
        else:
            assert pending is not None, line
            assert float(volume) == pending[2], line
            pairs.append((pending[0], pending[1], labware, well, pending[2]))
            pending = None
    assert pending is None
    return pairs


def test_simulated_eight_reaction_golden_gate_matches_the_plan(tmp_path: Path) -> None:
    plan = golden_gate_plan()
    log = simulate(plan, tmp_path)
    # one "Transferring" line per step, one aspiration and one dispense per transfer
    assert sum(line.startswith("Transferring ") for line in log) == len(plan.transfers) == 48
    pairs = aspirate_dispense_pairs(log)
    assert pairs == [t.key() for t in plan.transfers]
    # a new tip for every transfer, as the dry run counted
    picked = sum("Picking up tip" in line for line in log)
    assert picked == sum(dry_run(plan).tips.values()) == 48
    assert sum("Dropping tip" in line for line in log) == 48
    # the simulated volumes per reagent equal the dry run's totals
    sample_of = {(s.plate, s.well): s.sample for s in plan.sources}
    totals: dict[str, float] = {}
    for src, well, _, _, volume in pairs:
        totals[sample_of[src, well]] = totals.get(sample_of[src, well], 0.0) + volume
    expected = dry_run(plan).reagent_totals_ul
    assert set(totals) == set(expected)
    assert all(totals[k] == pytest.approx(v, abs=1e-9) for k, v in expected.items())


def test_simulated_split_transfers_and_both_pipettes(tmp_path: Path) -> None:
    plan = large_volume_plan()
    log = simulate(plan, tmp_path)
    pairs = aspirate_dispense_pairs(log)
    # 350 µL of water exceeds the P300: the robot splits it in two 175 µL aspirations
    expected: list[tuple[str, str, str, str, float]] = []
    for t in plan.transfers:
        parts = 2 if t.volume_ul > 300 else 1
        expected += [(*t.key()[:4], t.volume_ul / parts)] * parts
    assert pairs == expected
    assert sum("Picking up tip" in line for line in log) == sum(dry_run(plan).tips.values()) == 12
    assert any("Tip Rack 300" in line for line in log)
    assert any("Tip Rack 20 " in line for line in log)
