"""`cellfoundry dna ...`: donors, integration, synthesis, codons, assembly, primers and plans.

Real data: the Mycoplasma genome of the SBOL test suite (table 4, one circular contig) and
MoClo level-0 plasmids. Each command's ``--json`` is checked against the engine's result for
the same input, and its files against the genome they come from.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from Bio.Seq import Seq
from typer.testing import CliRunner

from cellfoundry.bank import formats
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.cli.main import app
from cellfoundry.core.sequence import SequenceRecord
from cellfoundry.dna import (
    OffTargetIndex,
    design_primers,
    gibson_assembly,
    golden_gate,
    integrate,
    knockout_donor,
    optimise_codons,
    plan_synthesis,
    point_mutation_donor,
    suggest_neutral_loci,
)
from cellfoundry.metabolism.design import StrainDesign

GENBANK = Path(__file__).resolve().parents[3] / "shared" / "data" / "sbol-test-suite" / "GenBank"
GENOME = GENBANK / "genomes" / "20027.gbk"
GENE = "Ga0076475_116"  # gyrB, 1881 bp on the forward strand
pytestmark = pytest.mark.skipif(not GENOME.is_file(), reason="shared SBOL test-suite data absent")

# GFP (Aequorea victoria, P42212 with F64L/S65T)
GFP = (
    "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTFSYGVQCFSRYPDHMKQHDFFKSAM"
    "PEGYVQERTIFFKDDGNYKTRAEVKFEGDTLVNRIELKGIDFKEDGNILGHKLEYNYNSHNVYIMADKQKNGIKVNFKIRHNIEDGS"
    "VQLADHYQQNTPIGDGPVLLPDNHYLSTQSALSKDPNEKRDHMVLLEFVTAAGITHGMDELYK"
)
DESIGN = {
    "format": "cellfoundry.strain-design/1",
    "chassis": "Mycoplasma",
    "product": "none",
    "substrate": "glc",
    "method": "manual",
    "modifications": [
        {"kind": "delete", "gene": GENE, "reactions": []},
        {"kind": "knockdown", "gene": "Ga0076475_1110", "reactions": []},
    ],
}

runner = CliRunner()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def run_json(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fails(*args: str) -> str:
    """Run a command that must refuse its input: exit 2, one error line."""
    out = run(*args, code=2)
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    return out


def as_json(value: Any) -> Any:
    """An engine result as the JSON the CLI prints (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(value)))


@pytest.fixture(scope="module")
def genome() -> list[SequenceRecord]:
    return formats.read(GENOME)


@pytest.fixture(scope="module")
def index(genome: list[SequenceRecord]) -> OffTargetIndex:
    return OffTargetIndex(genome)


@pytest.fixture(scope="module")
def seq(genome: list[SequenceRecord]) -> str:
    return genome[0].sequence.upper()


# -- donors -------------------------------------------------------------------------------------


def test_donor_json_is_the_engines_donor(genome, index) -> None:
    data = run_json("dna", "donor", str(GENOME), GENE)
    assert data["contig"] == "Ga0076475_11"
    assert data["donor"] == as_json(knockout_donor(genome[0], GENE, offtarget_index=index))
    # in frame, start codon and last 7 codons kept (Keio), Mycoplasma code 4
    assert data["donor"]["edited_protein"] == "MVENIDF*"
    assert data["donor"]["translation_table"] == 4


def test_donor_genbank_arms_are_the_genome_flanks(seq: str, tmp_path: Path) -> None:
    out = tmp_path / "donor.gb"
    table = run("dna", "donor", str(GENOME), GENE, "--method", "crispr_hr", "--out", str(out))
    assert "deleted     5660..7541 (1881 bp)" in table
    assert "guides cutting inside the deletion" in table
    (record,) = formats.read(out)
    arms = {f.label: record.sequence[f.start : f.end] for f in record.features}
    assert arms["left homology arm"] == seq[5660 - 400 : 5660]
    assert arms["right homology arm"] == seq[7541 : 7541 + 400]
    assert record.sequence == seq[5260:5660] + seq[7541:7941]


def test_donor_with_an_insert_replaces_the_deleted_codons(seq: str) -> None:
    stop = "TAGTAATGA"
    data = run_json("dna", "donor", str(GENOME), GENE, "--insert", stop, "--arm", "40")
    donor = data["donor"]
    assert donor["donor"] == seq[5620:5660] + stop + seq[7541:7581]
    assert donor["edited_protein"].startswith("M*")


def test_donor_bad_input_names_the_field(tmp_path: Path) -> None:
    out = fails("dna", "donor", str(GENOME), "gyrX")
    assert "field 'gene'" in out
    assert "20027.gbk" in out
    assert "did you mean gyrB" in out
    assert "field 'insert'" in fails("dna", "donor", str(GENOME), GENE, "--insert", "ATGXTT")
    assert "field 'method'" in fails("dna", "donor", str(GENOME), GENE, "--method", "pcr_cassette")
    missing = fails("dna", "donor", str(tmp_path / "absent.gb"), GENE)
    assert "absent.gb" in missing
    assert "no such file" in missing


def test_point_mutation_json_and_blocking_changes(genome, index, seq, tmp_path: Path) -> None:
    out = tmp_path / "point.gb"
    data = run_json("dna", "point", str(GENOME), "gyrB", "10", "A", "--out", str(out))
    engine = point_mutation_donor(genome[0], ("gyrB", 10, "A"), offtarget_index=index)
    assert data["donor"] == as_json(engine)
    assert data["donor"]["protein_changes"] == ["gyrB I10A"]
    reasons = {c["reason"] for c in data["donor"]["changes"]}
    assert "edit" in reasons
    assert reasons - {"edit"}  # a silent PAM or seed change blocks re-cutting
    # the written oligo carries every change at its place
    (record,) = formats.read(out)
    assert record.sequence == engine.donor
    marks = [f for f in record.features if f.type == "variation"]
    assert len(marks) == len(engine.changes)
    table = run("dna", "point", str(GENOME), "gyrB", "10", "A")
    assert "gyrB I10A" in table
    assert "changed bases" in table


def test_point_mutation_bad_input() -> None:
    assert "field 'amino_acid'" in fails("dna", "point", str(GENOME), GENE, "10", "J")
    assert "field 'codon_number'" in fails("dna", "point", str(GENOME), GENE, "9999", "A")
    assert "field 'amino_acid'" in fails("dna", "point", str(GENOME), GENE, "10", "AL")


# -- integration --------------------------------------------------------------------------------


def test_integrate_at_the_best_neutral_locus(genome, index, seq) -> None:
    fragment = "ATGAGCAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTGTTGAATTAGATGGTGATGTTAATGGG"
    data = run_json("dna", "integrate", str(GENOME), fragment)
    loci = suggest_neutral_loci(genome[0], offtarget_index=index)
    assert data["neutral_loci"] == [as_json(x) for x in loci]
    engine = integrate(genome[0], fragment, neutral_loci=loci, offtarget_index=index)
    assert data["integration"] == as_json(engine)
    site, arm = loci[0].insertion_site, data["integration"]["arm_length"]
    assert (
        data["integration"]["donor"] == seq[site - arm : site] + fragment + seq[site : site + arm]
    )
    table = run("dna", "integrate", str(GENOME), fragment)
    assert "neutral loci on Ga0076475_11, best first" in table
    assert str(loci[0].insertion_site) in table


def test_integrate_a_fasta_fragment_at_a_position(seq, tmp_path: Path) -> None:
    fasta = tmp_path / "cassette.fasta"
    fasta.write_text(">cassette\n" + "ACGTTGCA" * 25 + "\n")
    out = tmp_path / "integration.gb"
    data = run_json(
        "dna", "integrate", str(GENOME), str(fasta), "--locus", "500000", "--out", str(out)
    )
    result = data["integration"]
    assert result["locus"] == "position 500000"
    arm = result["arm_length"]
    assert arm == 400  # CRISPR-HR arms in E. coli
    (record,) = formats.read(out)
    arms = {f.label: record.sequence[f.start : f.end] for f in record.features}
    assert arms["left homology arm"] == seq[500000 - arm : 500000]
    assert arms["right homology arm"] == seq[500000 : 500000 + arm]
    assert arms["cassette"] == "ACGTTGCA" * 25
    # a gene locus: the fragment replaces the whole ORF
    data = run_json("dna", "integrate", str(GENOME), str(fasta), "--locus", GENE, "--arm", "50")
    assert data["integration"]["replaced"]["start"] == 5657  # the gene's CDS, start to stop
    assert data["integration"]["replaced"]["end"] == 7562


def test_integrate_bad_input_names_the_field(tmp_path: Path) -> None:
    assert "field 'fragment'" in fails("dna", "integrate", str(GENOME), "ACGTUACGT")
    out = fails("dna", "integrate", str(GENOME), "ACGT" * 10, "--locus", "99999999")
    assert "field 'locus'" in out
    two = tmp_path / "two.fasta"
    two.write_text(">a\nACGT\n>b\nACGT\n")
    out = fails("dna", "integrate", str(GENOME), str(two))
    assert "two.fasta" in out
    assert "field 'fragment'" in out


# -- synthesis, codons, primers -----------------------------------------------------------------


def test_synthesis_plan_equals_the_engines_and_reassembles(seq) -> None:
    target = seq[100_000:102_500]
    data = run_json("dna", "synthesis", target, "--max-fragment", "1000")
    (plan,) = data["plans"]
    engine = plan_synthesis(target, max_fragment=1000)
    assert {k: v for k, v in plan.items() if k != "name"} == as_json(engine)
    built = plan["fragments"][0]["sequence"]
    for overlap, fragment in zip(plan["overlaps"], plan["fragments"][1:], strict=True):
        assert built.endswith(overlap["sequence"])
        built += fragment["sequence"][len(overlap["sequence"]) :]
    assert built == target
    assert all(len(f["sequence"]) <= 1000 for f in plan["fragments"])
    table = run("dna", "synthesis", target, "--max-fragment", "1000")
    assert f"2500 bp in {engine.n_fragments} fragments" in table


def test_synthesis_bad_input_names_the_record(tmp_path: Path) -> None:
    assert "field 'sequence'" in fails("dna", "synthesis", "ACGTRACGT" * 40)
    fasta = tmp_path / "short.fasta"
    fasta.write_text(">tiny\nACGTACGTAC\n")
    out = fails("dna", "synthesis", str(fasta))
    assert "record 'tiny'" in out
    assert "short.fasta" in out


def test_codon_fasta_is_optimised_and_translates_back(tmp_path: Path) -> None:
    proteins = tmp_path / "proteins.fasta"
    proteins.write_text(
        f">gfp green fluorescent protein\n{GFP[:120]}\n{GFP[120:]}\n>pep\nMKKLLVAT\n"
    )
    out = tmp_path / "cds.fasta"
    table = run("dna", "codon", str(proteins), "--out", str(out), "--avoid", "BsaI,BpiI")
    assert "2 sequences optimised for e_coli" in table
    records = {r.name: r.sequence for r in formats.read(out)}
    assert set(records) == {"gfp", "pep"}
    assert str(Seq(records["gfp"]).translate(table=11)) == GFP + "*"
    assert str(Seq(records["pep"]).translate(table=11)) == "MKKLLVAT*"
    for cds in records.values():  # Golden Gate sites avoided on both strands
        for site in ("GGTCTC", "GAGACC", "GAAGAC", "GTCTTC"):
            assert site not in cds


def test_codon_json_equals_the_engine_for_one_protein() -> None:
    data = run_json("dna", "codon", "MKKLLVATAGG", "--host", "s_cerevisiae", "--gc-max", "0.6")
    (result,) = data["optimisations"]
    engine = optimise_codons("MKKLLVATAGG", host="s_cerevisiae", gc_max=0.6, name="protein")
    assert {k: v for k, v in result.items() if k not in ("ok", "changed_codons")} == as_json(engine)
    assert result["ok"] is engine.ok
    assert str(Seq(result["sequence"]).translate(table=1)) == "MKKLLVATAGG*"


def test_codon_bad_input_names_record_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fasta"
    bad.write_text(">good\nMKV\n>broken\nMKJV\n")
    out = fails("dna", "codon", str(bad))
    assert "record 'broken'" in out
    assert "field 'sequence'" in out
    assert "'J'" in out
    assert "field 'avoid_sites'" in fails("dna", "codon", "MKV", "--avoid", "NoSuchI")
    assert "no such file" in fails("dna", "codon", str(tmp_path / "absent.fasta"))
    text = tmp_path / "notfasta.fasta"
    text.write_text("MKV\n")
    assert "field 'header'" in fails("dna", "codon", str(text))


def test_primers_amplify_the_region_exactly(seq) -> None:
    template = seq[200_000:200_600]
    data = run_json("dna", "primers", template, "--start", "50", "--end", "450", "--tm", "58")
    engine = design_primers(template, 50, 450, tm=58.0)
    primers = data["primers"]
    assert {k: v for k, v in primers.items() if k != "tm_difference"} == as_json(engine)
    assert primers["amplicon"] == template[50:450]
    assert template[50:].startswith(primers["forward"]["binding"])
    assert str(Seq(template[:450]).reverse_complement()).startswith(primers["reverse"]["binding"])
    table = run("dna", "primers", template, "--start", "50", "--end", "450")
    assert "amplicon 400 bp" in table


def test_primers_bad_input() -> None:
    assert "field 'start'" in fails("dna", "primers", "ACGT" * 20, "--end", "500")
    out = fails("dna", "primers", "ACGTUACGT" * 5)
    assert "invalid base 'U'" in out
    assert "field 'sequence'" in out


# -- assembly -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def acceptor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A level-1 acceptor: pICH41421's site-free backbone + a BsaI dropout (GGAG ... CGCT)."""
    bb = formats.read(GENBANK / "pICH41421.gb")[0].sequence.upper()
    fwd, rev = bb.find("GGTCTC"), bb.find("GAGACC")
    body = bb[rev + 6 :] + bb[:fwd]
    dropout = "TGAGACC" + "AAACCCGGGTTTAAACCCGGGAATTC" + "GGTCTCA"
    record = SequenceRecord("acceptor_L1", body + "GGAG" + dropout + "CGCT", "circular")
    path = tmp_path_factory.mktemp("moclo") / "acceptor.gb"
    formats.write([record], path, "genbank")
    return path


PARTS = ("pICH51277", "pICSL80014", "pICH41421")  # 35S+Omega : YFP : nos terminator


def test_golden_gate_of_moclo_parts(acceptor: Path, tmp_path: Path) -> None:
    files = [str(GENBANK / f"{p}.gb") for p in reversed(PARTS)]  # any order
    out = tmp_path / "product.gb"
    data = run_json("dna", "assemble", *files, "--backbone", str(acceptor), "--out", str(out))
    result = data["assembly"]
    parts = [formats.read(GENBANK / f"{p}.gb")[0] for p in PARTS]
    engine = golden_gate(parts, formats.read(acceptor)[0], name="product", simulate=False)
    assert result["method"] == "golden_gate"
    assert result["order"] == ["acceptor_L1", *PARTS]
    assert result["overhangs"] == ["GGAG", "AATG", "GCTT", "CGCT"]
    assert result["fidelity"] == 1.0
    assert result["product"]["sequence"] == engine.product.sequence
    assert result["product"]["checksum"] == engine.product.checksum
    (written,) = formats.read(out)
    assert written.topology == "circular"
    assert written.checksum == engine.product.checksum
    table = run("dna", "assemble", *files, "--backbone", str(acceptor), "--no-simulate")
    assert "BsaI Golden Gate" in table
    assert "expected fidelity 100.0%" in table


def test_a_part_with_an_internal_bsai_site_is_named(acceptor: Path, tmp_path: Path) -> None:
    cds = formats.read(GENBANK / "pICSL80014.gb")[0]
    at = cds.sequence.upper().find("ATG", cds.sequence.upper().find("AATG") + 100)
    broken = dataclasses.replace(cds, sequence=cds.sequence[:at] + "GGTCTC" + cds.sequence[at:])
    path = tmp_path / "broken.gb"
    formats.write([broken], path, "genbank")
    out = fails(
        "dna",
        "assemble",
        str(GENBANK / "pICH51277.gb"),
        str(path),
        str(GENBANK / "pICH41421.gb"),
        "--backbone",
        str(acceptor),
    )
    assert "record 'pICSL80014'" in out
    assert "field 'sequence'" in out
    assert "internal site" in out
    assert "field 'enzyme'" in fails(
        "dna", "assemble", str(GENBANK / "pICH51277.gb"), "--enzyme", "EcoRI"
    )


def test_gibson_joins_fragments_and_prints_primers(seq, tmp_path: Path) -> None:
    a, b = seq[300_000:300_400], seq[400_000:400_500]
    fa, fb = tmp_path / "a.fasta", tmp_path / "b.fasta"
    fa.write_text(f">partA\n{a}\n")
    fb.write_text(f">partB\n{b}\n")
    data = run_json("dna", "assemble", str(fa), str(fb), "--gibson", "--name", "joined")
    result = data["assembly"]
    engine = gibson_assembly(
        [SequenceRecord("partA", a), SequenceRecord("partB", b)], name="joined", simulate=False
    )
    assert result["product"]["sequence"] == a + b
    assert result["product"]["topology"] == "circular"
    assert result["primers"] == [as_json(p) for p in engine.primers]
    for junction in result["junctions"]:  # each overlap is in the circular product
        assert junction["overlap"] in (a + b) * 2
    table = run("dna", "assemble", str(fa), str(fb), "--gibson", "--no-simulate")
    assert "Gibson assembly: 900 bp circular" in table
    assert "primers (homology tails in lower case)" in table


# -- editing plans ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planned_bank(
    tmp_path_factory: pytest.TempPathFactory, genome: list[SequenceRecord]
) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('bank') / 'dna.db'}"
    bank = Bank.open(url)
    try:
        bank.import_strains([StrainRecord("CF-M1", "Mycoplasma sp.")], actor="tester")
        bank.import_sequences(genome, kind="genome", strain="CF-M1", actor="tester")
        design = StrainDesign.from_dict(DESIGN).to_dict()
        accession = bank.save_design(design, parent_accession="CF-M1", actor="tester").accession
    finally:
        bank.close()
    return url, accession


def test_plan_in_the_bank_saves_the_plan_with_the_strain(planned_bank, seq) -> None:
    url, accession = planned_bank
    table = run("--db", url, "dna", "plan", "--strain", accession)
    assert f"saved the plan with {accession}" in table
    assert "2 edits of CF-M1 (e_coli)" in table
    data = run_json("--db", url, "dna", "plan", "--strain", accession)
    bank = Bank.open(url)
    try:
        saved = bank.editing_plan(accession)
    finally:
        bank.close()
    assert saved is not None
    assert saved.plan == data["plan"]
    deletion = next(e for e in data["plan"]["edits"] if e["kind"] == "delete")
    lo, hi = deletion["detail"]["deleted"]
    assert (lo, hi) == (5660, 7541)
    assert all(lo < g["cut"] < hi for g in deletion["guides"])
    donor = next(r for r in formats.parse(saved.genbank, "genbank") if r.name.endswith("donor"))
    arm = deletion["detail"]["arm_length"]
    assert donor.sequence == seq[lo - arm : lo] + seq[hi : hi + arm]
    # the genome of a strain in the bank serves the other commands too
    guides = run_json("--db", url, "dna", "guides", "CF-M1", "--genes", GENE, "--per-gene", "2")
    assert {g["gene"] for g in guides["guides"]} == {GENE}
    assert len(guides["guides"]) == 2


def test_plan_refuses_unknown_strains_and_missing_options(planned_bank) -> None:
    url, _ = planned_bank
    assert "CF-NOPE" in fails("--db", url, "dna", "plan", "--strain", "CF-NOPE")
    assert "field 'design'" in fails("--db", url, "dna", "plan", "--strain", "CF-M1")
    assert "field 'strain'" in fails("dna", "plan")


def test_plan_file_mode_writes_json_genbank_and_sbol3(seq, tmp_path: Path) -> None:
    design = tmp_path / "design.json"
    design.write_text(json.dumps(DESIGN))
    out_dir = tmp_path / "plan"
    table = run(
        "dna", "plan", "--design", str(design), "--genome", str(GENOME), "--out-dir", str(out_dir)
    )
    assert "wrote plan.json, records.gb, records.ttl" in table
    plan = json.loads((out_dir / "plan.json").read_text())
    assert plan["format"] == "cellfoundry.editing-plan/1"
    assert plan["strain"] == "design"
    assert [s["number"] for s in plan["steps"]] == list(range(1, len(plan["steps"]) + 1))
    genbank = formats.read(out_dir / "records.gb")
    sbol = formats.read(out_dir / "records.ttl")
    assert [r.name for r in genbank] == [r["name"] for r in plan["records"]]
    assert sorted(len(r) for r in sbol) == sorted(r["length"] for r in plan["records"])
    deletion = next(e for e in plan["edits"] if e["kind"] == "delete")
    lo, hi = deletion["detail"]["deleted"]
    arm = deletion["detail"]["arm_length"]
    assert genbank[0].sequence == seq[lo - arm : lo] + seq[hi : hi + arm]


def test_plan_file_mode_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**DESIGN, "modifications": [{"kind": "delete", "gene": "nosuch"}]}))
    args = ("dna", "plan", "--design", str(bad), "--genome", str(GENOME))
    out = fails(*args, "--out-dir", str(tmp_path / "out"))
    assert "record '1'" in out
    assert "field 'modifications.gene'" in out
    assert "field 'out_dir'" in fails(*args)


# -- guides and off-targets ---------------------------------------------------------------------


def test_offtargets_of_a_donor_guide_find_its_own_site(genome, index) -> None:
    donor = knockout_donor(genome[0], GENE, offtarget_index=index)
    guide = donor.guides[0]
    data = run_json("dna", "offtargets", str(GENOME), guide.spacer, "--mismatches", "1")
    exact = [h for h in data["hits"] if h["mismatches"] == 0]
    assert len(exact) == 1
    assert exact[0]["position"] == guide.position
    assert "field 'spacer'" in fails("dna", "offtargets", str(GENOME), "ACGT")
