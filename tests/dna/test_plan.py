"""An editing plan from a strain design, checked against the genome it edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from Bio.Seq import Seq

from cellfoundry.bank.formats import read
from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import SequenceRecord
from cellfoundry.dna.guides import genes_of
from cellfoundry.dna.plan import PLAN_FORMAT, plan_edits

GENOME = Path(__file__).parents[2] / ".." / "shared" / "data" / "sbol-test-suite" / "GenBank"
GENOME = GENOME / "genomes" / "20027.gbk"
# GFP (Aequorea victoria, P42212 with F64L/S65T), the usual heterologous test protein
GFP = (
    "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTFSYGVQCFSRYPDHMKQHDFFKSAM"
    "PEGYVQERTIFFKDDGNYKTRAEVKFEGDTLVNRIELKGIDFKEDGNILGHKLEYNYNSHNVYIMADKQKNGIKVNFKIRHNIEDGS"
    "VQLADHYQQNTPIGDGPVLLPDNHYLSTQSALSKDPNEKRDHMVLLEFVTAAGITHGMDELYK"
)
DESIGN = {
    "format": "cellfoundry.strain-design/1",
    "chassis": "Mycoplasma",
    "product": "gfp",
    "substrate": "glc",
    "method": "manual",
    "modifications": [
        {"kind": "delete", "gene": "Ga0076475_116", "reactions": []},
        {"kind": "knockdown", "gene": "Ga0076475_1110", "reactions": []},
        {"kind": "insert", "gene": "avGFP", "protein": GFP, "reactions": []},
    ],
}


@pytest.fixture(scope="module")
def genome() -> list[SequenceRecord]:
    return read(str(GENOME))


@pytest.fixture(scope="module")
def plan(genome):
    return plan_edits(DESIGN, genome, strain="CF-T1", chassis="CF-00105", host="e_coli")


def test_the_deletion_donor_is_the_genome_around_an_in_frame_deletion(plan, genome):
    seq = genome[0].sequence.upper()
    edit = next(e for e in plan.edits if e.kind == "delete")
    lo, hi = edit.detail["deleted"]
    left = edit.detail["left_arm"]
    right = edit.detail["right_arm"]
    donor = next(r for r in plan.records if r.name == edit.donor).sequence
    assert donor == seq[left[0] : left[1]] + seq[right[0] : right[1]]
    assert left[1] - left[0] == right[1] - right[0] == 400  # CRISPR-HR arms in E. coli style
    target = genes_of(genome, ["Ga0076475_116"])[0]
    assert target.start <= lo < hi <= target.end
    # in frame: the remnant keeps the start codon and the last 7 codons (Keio), code 4
    assert (hi - lo) % 3 == 0
    assert edit.detail["edited_protein"] == str(
        Seq(seq[target.start : lo] + seq[hi : target.end]).translate(table=4)
    )
    for guide in edit.guides:  # every guide cuts inside the deleted region
        assert lo < guide.cut < hi
        assert guide.off_targets[0] == 0
    check = edit.verification
    assert check["wild_type_bp"] - check["edited_bp"] == hi - lo
    assert seq.find(check["forward"]) >= 0


def test_the_insert_is_codon_optimised_integrated_and_keeps_the_protein(plan, genome):
    edit = next(e for e in plan.edits if e.kind == "integrate")
    donor = next(r for r in plan.records if r.name == edit.donor)
    cds = next(f for f in donor.features if f.type == "CDS")
    protein = str(Seq(donor.sequence[cds.start : cds.end]).translate(table=11)).rstrip("*")
    assert protein == GFP
    assert "GGTCTC" not in donor.sequence[cds.start : cds.end]  # no BsaI site in the CDS
    locus = edit.detail["neutral_locus"]
    assert locus["start"] <= locus["insertion_site"] <= locus["end"]
    seq = genome[0].sequence.upper()
    arm = edit.detail["arm_length"]
    site = locus["insertion_site"]
    assert donor.sequence[:arm] == seq[site - arm : site]
    assert donor.sequence[-arm:] == seq[site : site + arm]
    assert edit.guides
    assert len(edit.guides[0].spacer) == 20


def test_the_plan_orders_the_bench_steps_and_lists_the_oligos(plan):
    actions = [s.action for s in plan.steps]
    assert actions[0] == "order"
    assert actions[1] == "clone"
    assert actions.index("assemble") < actions.index("edit")
    assert actions[-1] == "transform"  # CRISPRi last, after the chromosomal rounds
    assert [s.number for s in plan.steps] == list(range(1, len(plan.steps) + 1))
    knockdown = next(e for e in plan.edits if e.kind == "knockdown")
    spacer = knockdown.guides[0].spacer
    assert any(seq.endswith(spacer) for _, seq, _ in plan.oligos)
    data = plan.to_dict()
    assert data["format"] == PLAN_FORMAT
    assert {r["name"] for r in data["records"]} == {r.name for r in plan.records}


def test_bad_designs_name_the_modification(genome):
    bad = {**DESIGN, "modifications": [{"kind": "delete", "gene": "nosuch", "reactions": []}]}
    with pytest.raises(ValidationError, match="nosuch") as err:
        plan_edits(bad, genome, strain="x", chassis="y")
    assert (err.value.record, err.value.field) == ("1", "modifications.gene")
    no_protein = {**DESIGN, "modifications": [{"kind": "insert", "gene": "g", "reactions": []}]}
    with pytest.raises(ValidationError, match="protein sequence"):
        plan_edits(no_protein, genome, strain="x", chassis="y")
    with pytest.raises(ValidationError, match="no modifications"):
        plan_edits({**DESIGN, "modifications": []}, genome, strain="x", chassis="y")


def test_units_use_bank_parts_made_for_the_host_else_the_documented_defaults(genome):
    plant = SequenceRecord("pICH41414:35S ter", "GTCGACCTGCAGGCATGCAAGCTT" * 4, description="plant")
    coli = SequenceRecord("BBa_B1006", "AAAAAAAACCCCGCCCCTGACAGGGCGGGGTTTTTTTT", description="iGEM")
    design = {**DESIGN, "modifications": [DESIGN["modifications"][2]]}
    plan = plan_edits(
        design, genome, strain="x", chassis="y", host="e_coli", parts={"terminator": [plant]}
    )
    labels = plan.edits[0].detail["parts"][0]
    assert "BBa_B0015" in labels  # the plant terminator is not used in E. coli
    assert "pICH41414:35S ter" not in labels
    plan = plan_edits(
        design, genome, strain="x", chassis="y", host="e_coli", parts={"terminator": [plant, coli]}
    )
    assert "BBa_B1006" in plan.edits[0].detail["parts"][0]
