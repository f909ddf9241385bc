"""A metabolic design saved as a planned strain: both rows or neither, read back, named errors."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cellfoundry.bank import demo
from cellfoundry.bank.demo import DEMO_MODEL, demo_strains
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.metabolism import load_model
from cellfoundry.metabolism.design import GeneticModification, StrainDesign, evaluate_design

PARENT = "CF-00001"  # E. coli K-12 MG1655 in the demo, linked to e_coli_core


@pytest.fixture(scope="module")
def design() -> dict[str, object]:
    """An anaerobic-style succinate design on e_coli_core, evaluated by the engine."""
    spec = load_model(DEMO_MODEL)
    plan = StrainDesign(
        chassis="e_coli_core",
        product="EX_succ_e",
        substrate="EX_glc__D_e",
        method="manual",
        modifications=(
            GeneticModification("delete", "b2297", ("PTAr",)),
            GeneticModification("delete", "b1380", ("LDH_D",)),
            GeneticModification("overexpress", "b3956", ("PPC",), factor=2.0),
        ),
        knockouts=("PTAr", "LDH_D"),
    )
    return evaluate_design(spec, plan, points=4).to_dict()


def counts(bank: Bank) -> tuple[int, int, int]:
    with bank.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("strains", "strain_designs", "modifications")
        )


def seeded(bank: Bank) -> Bank:
    bank.import_strains(demo_strains()[:1], actor="demo")
    demo._models(bank, "demo")
    return bank


def test_a_design_becomes_a_planned_strain_of_its_parent(
    bank: Bank, design: dict[str, object]
) -> None:
    seeded(bank)
    view = bank.save_design(design, parent_accession=PARENT, actor="tester")
    assert view.accession == f"{PARENT}-D1"
    assert view.record.status == "planned"
    assert view.parent_accession == PARENT
    assert view.record.taxon_name == bank.get_strain(PARENT).record.taxon_name
    assert [(m.kind, m.target) for m in view.record.modifications] == [
        ("deletion", "b2297"),
        ("deletion", "b1380"),
        ("other", "b3956"),
    ]
    assert view.record.genotype == "Δb2297 Δb1380 ↑b3956"
    saved = bank.strain_design(view.accession)
    assert saved is not None
    assert saved.product == "EX_succ_e"
    assert saved.parent_accession == PARENT
    # the design reads back exactly, evaluation included
    assert saved.design == json.loads(json.dumps(design))
    assert StrainDesign.from_dict(saved.design).to_dict() == saved.design
    # the lineage shows the planned strain under its chassis
    assert f"{PARENT}-D1" in bank.get_strain(PARENT).children
    # the next design gets the next number
    assert bank.save_design(design, parent_accession=PARENT).accession == f"{PARENT}-D2"
    assert bank.strain_design(PARENT) is None


def test_bad_designs_are_refused_and_nothing_is_stored(
    bank: Bank, design: dict[str, object]
) -> None:
    seeded(bank)
    before = counts(bank)
    with pytest.raises(ValidationError, match="modifications"):
        bank.save_design({**design, "modifications": []}, parent_accession=PARENT)
    broken = {**design, "modifications": [{"kind": "mutate", "gene": "b0001"}]}
    with pytest.raises(ValidationError, match="modification 1 has no kind") as err:
        bank.save_design(broken, parent_accession=PARENT)
    assert err.value.field == "modifications.kind"
    with pytest.raises(ValidationError, match="no product"):
        bank.save_design({**design, "product": ""}, parent_accession=PARENT)
    with pytest.raises(NotFoundError):
        bank.save_design(design, parent_accession="CF-99999")
    with pytest.raises(ValidationError, match="not an accession"):
        bank.save_design(design, parent_accession=PARENT, accession="bad accession!")
    bank.save_design(design, parent_accession=PARENT, accession="PLAN-1")
    after_one = counts(bank)
    with pytest.raises(ConflictError):
        bank.save_design(design, parent_accession=PARENT, accession="PLAN-1")
    assert counts(bank) == after_one  # the conflicting save wrote nothing
    assert after_one[0] == before[0] + 1
    assert after_one[1] == before[1] + 1
