"""DBTL campaigns in the bank: cycles of built strains with lineage, measurements, recommendations."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cellfoundry.bank.demo import demo_strains
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError

CHASSIS = "CF-00001"
SPACE = {"factors": {"promoter": ["J23100", "J23106", "J23114"], "rbs": ["B0034", "B0032"]}}
GOAL = {"product": "lycopene", "titre_g_l": 1.0}


def started(bank: Bank) -> Bank:
    bank.import_strains(demo_strains()[:1], actor="demo")
    bank.create_campaign("lyc1", chassis=CHASSIS, goal=GOAL, design_space=SPACE, actor="tester")
    return bank


def test_a_cycle_builds_strains_with_lineage_and_measurements(bank: Bank) -> None:
    started(bank)
    designs = [{"promoter": "J23100", "rbs": "B0034"}, {"promoter": "J23114", "rbs": "B0032"}]
    cycle = bank.add_cycle("lyc1", designs, worklists={"echo": "Source Plate Name,..."})
    assert cycle.number == 1
    assert [s.accession for s in cycle.strains] == ["lyc1-C1-001", "lyc1-C1-002"]
    strain = bank.get_strain("lyc1-C1-002")
    assert strain.parent_accession == CHASSIS
    assert strain.record.status == "planned"
    assert strain.record.genotype == "promoter=J23114; rbs=B0032"
    assert bank.strain_campaign("lyc1-C1-002") == ("lyc1", 1)
    assert bank.strain_campaign(CHASSIS) is None
    bank.record_measurements(
        "lyc1", 1, [{"strain": "lyc1-C1-001", "titre_g_l": 0.42, "mu_max_per_h": 0.61}]
    )
    bank.record_measurements("lyc1", 1, [{"strain": "lyc1-C1-002", "titre_g_l": 0.17}])
    view = bank.campaign("lyc1")
    assert [s.measurements.get("titre_g_l") for s in view.cycles[0].strains] == [0.42, 0.17]
    assert view.best().accession == "lyc1-C1-001"
    assert view.cycles[0].worklists == {"echo": "Source Plate Name,..."}
    recs = [{"promoter": "J23106", "rbs": "B0034", "predicted": 0.5, "sd": 0.1}]
    bank.record_recommendations(
        "lyc1", 1, model={"kind": "ensemble", "r2": 0.8}, recommendations=recs
    )
    assert bank.campaign("lyc1").cycles[0].recommendations == tuple(recs)
    second = bank.add_cycle(
        "lyc1", [{k: v for k, v in r.items() if k in SPACE["factors"]} for r in recs]
    )
    assert second.number == 2
    assert [s.accession for s in second.strains] == ["lyc1-C2-001"]


def test_bad_input_names_row_and_field_and_writes_nothing(bank: Bank) -> None:
    started(bank)
    with pytest.raises(ValidationError, match="not one of") as err:
        bank.add_cycle(
            "lyc1", [{"promoter": "J23100", "rbs": "B0034"}, {"promoter": "PX", "rbs": "B0034"}]
        )
    assert (err.value.record, err.value.field) == ("2", "designs.promoter")
    with pytest.raises(ValidationError, match="every factor") as err:
        bank.add_cycle("lyc1", [{"promoter": "J23100"}])
    assert err.value.field == "designs"
    assert bank.campaign("lyc1").cycles == ()
    bank.add_cycle("lyc1", [{"promoter": "J23100", "rbs": "B0034"}])
    with bank.engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM history")).scalar_one()
    with pytest.raises(ValidationError, match="was not built in cycle 1") as err:
        bank.record_measurements(
            "lyc1", 1,
            [{"strain": "lyc1-C1-001", "titre_g_l": 0.3}, {"strain": "CF-00001", "titre_g_l": 9}],
            source="hplc.csv",
        )  # fmt: skip
    assert (err.value.source, err.value.record, err.value.field) == ("hplc.csv", "2", "strain")
    with pytest.raises(ValidationError, match="must be a number") as err:
        bank.record_measurements("lyc1", 1, [{"strain": "lyc1-C1-001", "titre_g_l": "high"}])
    assert err.value.field == "titre_g_l"
    assert bank.campaign("lyc1").cycles[0].strains[0].measurements == {}  # nothing half-imported
    with bank.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM history")).scalar_one() == before
    with pytest.raises(ConflictError):
        bank.create_campaign("lyc1", chassis=CHASSIS, goal=GOAL, design_space=SPACE)
    with pytest.raises(ValidationError, match="at least two levels"):
        bank.create_campaign(
            "x", chassis=CHASSIS, goal=GOAL, design_space={"factors": {"p": ["a"]}}
        )
    with pytest.raises(NotFoundError):
        bank.create_campaign("y", chassis="CF-NOPE", goal=GOAL, design_space=SPACE)
    with pytest.raises(NotFoundError):
        bank.record_measurements("lyc1", 5, [])
