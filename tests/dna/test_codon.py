"""Codon optimisation: the protein is kept and every constraint is checked on real genes."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from Bio import BiopythonParserWarning, SeqIO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import reverse_complement
from cellfoundry.dna.codon import (
    CodonOptimisation,
    codon_adaptation_index,
    codon_usage,
    optimise_codons,
    translate,
)

GENBANK = Path("sbol-test-suite/GenBank")
PLASMIDS = {  # MoClo toolkit level-0 plasmids, each carrying one real CDS
    "pICH41531.gb": "GFP",
    "pICSL80007.gb": "mCherry",
    "pICSL70004.gb": "NptII",
    "pICH43844.gb": "Bar",
    "pICH49477.gb": "DsRed",
    "pICSL70002.gb": "BirA",
    "pICSL80012.gb": "YFP",
    "pICH44022.gb": "P19",
    "EF587312.gb": "TRP1",
    "pICSL70008.gb": "TagRFP",
}
SITES = ("GGTCTC", "GAAGAC")  # BsaI, BpiI


@pytest.fixture(scope="module")
def real_cdss(shared_data: Path) -> dict[str, str]:
    """The complete CDS (start, stop, no internal stop) labelled with each gene."""
    cdss: dict[str, str] = {}
    for file, gene in PLASMIDS.items():
        with warnings.catch_warnings(), (shared_data / GENBANK / file).open() as handle:
            warnings.simplefilter("ignore", BiopythonParserWarning)
            record = next(SeqIO.parse(handle, "genbank"))  # type: ignore[no-untyped-call]
        for feature in record.features:
            labels = " ".join(v for vs in feature.qualifiers.values() for v in vs).lower()
            if feature.type != "CDS" or gene.lower() not in labels:
                continue
            cds = str(feature.extract(record.seq)).upper()
            if len(cds) % 3 == 0 and translate(cds).find("*") == len(cds) // 3 - 1:
                cdss[gene] = cds
                break
    assert len(cdss) == len(PLASMIDS)
    return cdss


def gc_windows_ok(seq: str, lo: float, hi: float, window: int) -> bool:
    """Check GC in every window independently of DNA Chisel."""
    if len(seq) <= window:
        gc = (seq.count("G") + seq.count("C")) / len(seq)
        return lo <= gc <= hi
    return all(
        lo <= (seq[i : i + window].count("G") + seq[i : i + window].count("C")) / window <= hi
        for i in range(len(seq) - window + 1)
    )


def assert_clean(result: CodonOptimisation, *, homopolymer: int = 6) -> None:
    seq = result.sequence
    assert set(seq) <= set("ACGT")
    assert translate(seq, result.table) == result.protein
    for site in SITES:
        assert site not in seq
        assert reverse_complement(site) not in seq
    assert re.search("|".join(f"{base}{{{homopolymer}}}" for base in "ACGT"), seq) is None


def test_real_cdss_keep_protein_and_meet_constraints(real_cdss: dict[str, str]) -> None:
    for gene, cds in real_cdss.items():
        result = optimise_codons(cds, name=gene)
        assert result.protein == translate(cds), gene
        assert result.sequence[:3] == cds[:3]  # the start codon is kept
        assert result.ok, (gene, result.warnings)
        assert result.warnings == ()
        assert_clean(result)
        assert gc_windows_ok(result.sequence, 0.30, 0.65, 50), gene
        assert result.cai_before is not None
        assert result.cai_after >= result.cai_before - 1e-9, gene
        assert result.gc_fraction == pytest.approx(
            (result.sequence.count("G") + result.sequence.count("C")) / len(result.sequence)
        )


def test_real_proteins_get_a_stop_and_tighter_gc(real_cdss: dict[str, str]) -> None:
    for gene in ("GFP", "NptII", "TRP1", "BirA"):
        protein = translate(real_cdss[gene])[:-1]
        result = optimise_codons(protein, gc_min=0.40, gc_max=0.60, gc_window=40, name=gene)
        assert result.protein == protein + "*"
        assert result.cai_before is None
        assert result.changed_codons is None
        assert result.ok, result.warnings
        assert_clean(result)
        assert gc_windows_ok(result.sequence, 0.40, 0.60, 40), gene


def test_cai_matches_hand_computation() -> None:
    # Sharp & Li: w = f / f_max among synonyms; Met, Trp and stops are left out.
    cds = "ATGCTGCTAAAGAGGTGGGGTTAA"
    usage = codon_usage("e_coli")
    assert usage["L"]["CTG"] == 0.5
    assert usage["L"]["CTA"] == 0.04
    weights = [1.0, 0.04 / 0.50, 0.24 / 0.76, 0.02 / 0.40, 0.34 / 0.41]
    expected = math.prod(weights) ** (1 / len(weights))
    assert codon_adaptation_index(cds, "e_coli") == pytest.approx(expected, rel=1e-12)
    assert codon_adaptation_index("CTGAAAGGC", "e_coli") == pytest.approx(1.0)


def test_cai_with_a_custom_table() -> None:
    usage = {aa: {"GCT": 1.0} for aa in "ACDEFGHIKLMNPQRSTVWY*"}
    usage["K"] = {"AAA": 3.0, "AAG": 1.0}  # counts are normalised per amino acid
    assert codon_adaptation_index("AAAAAG", usage) == pytest.approx(math.sqrt(1 / 3))


def test_cai_rises_for_a_rare_codon_cds(real_cdss: dict[str, str]) -> None:
    usage = codon_usage("e_coli")
    worst = {aa: min(sorted(codons), key=lambda c: codons[c]) for aa, codons in usage.items()}
    protein = translate(real_cdss["GFP"])
    rare = "ATG" + "".join(worst[aa] for aa in protein[1:])
    assert translate(rare) == protein
    result = optimise_codons(rare, name="rare GFP")
    assert result.cai_before is not None
    assert result.cai_before < 0.35
    assert result.cai_after > 0.85 > result.cai_before
    assert result.changed_codons is not None
    assert result.changed_codons > len(protein) // 2
    assert_clean(result)


def test_match_codon_usage_keeps_protein(real_cdss: dict[str, str]) -> None:
    result = optimise_codons(real_cdss["mCherry"], method="match_codon_usage", name="mCherry")
    assert result.method == "match_codon_usage"
    assert result.ok
    assert_clean(result)


def test_harmonize_rca_from_yeast(real_cdss: dict[str, str]) -> None:
    trp1 = real_cdss["TRP1"]
    result = optimise_codons(trp1, method="harmonize_rca", source_host="s_cerevisiae")
    assert result.protein == translate(trp1)
    assert_clean(result)
    with pytest.raises(ValidationError, match="source_host"):
        optimise_codons(trp1, method="harmonize_rca")
    with pytest.raises(ValidationError, match="coding sequence"):
        optimise_codons("MKV", method="harmonize_rca", source_host="s_cerevisiae")


def test_deterministic_for_a_seed(real_cdss: dict[str, str]) -> None:
    cds = real_cdss["Bar"]
    first = optimise_codons(cds, method="match_codon_usage", seed=7)
    again = optimise_codons(cds, method="match_codon_usage", seed=7)
    assert first == again
    assert first.seed == 7


def test_gtg_start_is_kept_and_read_as_met() -> None:
    cds = "GTGAAACTACTAAGGAGGTAA"
    result = optimise_codons(cds)
    assert result.sequence.startswith("GTG")
    assert result.protein == "MKLLRR*"
    assert translate(result.sequence) == "MKLLRR*"


def test_yeast_host_and_taxid_and_extra_pattern() -> None:
    protein = "MSKGEELFTGVVPILVELDGDVNGHKFSVSGEGEGDATYGKLTLKFICTTGKLPVPWPTLVTTFSYGVQCFS"
    yeast = optimise_codons(protein, host=4932, avoid_patterns=("GGAGG",))
    assert yeast.host == "s_cerevisiae"
    assert yeast.table == 1
    assert "GGAGG" not in yeast.sequence
    assert "CCTCC" not in yeast.sequence
    assert translate(yeast.sequence, 1) == protein + "*"
    assert optimise_codons(protein, host="E. coli").host == "e_coli"


def test_unmeetable_constraint_is_a_warning_not_a_silent_pass() -> None:
    protein = "M" + "A" * 12 + "G" * 12 + "K" * 4
    result = optimise_codons(protein, name="polyA")
    assert result.protein == protein + "*"
    assert translate(result.sequence) == result.protein
    assert not result.ok
    failed = [c for c in result.constraints if not c.passed]
    assert [c.name.split("[")[0] for c in failed] == ["EnforceGCContent"]
    assert failed[0].message
    assert len(result.warnings) == 1
    assert "EnforceGCContent" in result.warnings[0]


@pytest.mark.parametrize(
    ("sequence", "message"),
    [
        ("", "empty sequence"),
        ("  \n", "empty sequence"),
        ("MKBLV", "invalid amino acid 'B' at residue 3"),
        ("MKV1", "invalid amino acid '1' at residue 4"),
        ("MK*LV", "internal stop '\\*' at residue 3"),
        ("ATGAAATAGCTGTAA", "internal stop codon TAG at codon 3"),
        ("ATGAAACT", "8 nt is not a multiple of 3"),
    ],
)
def test_bad_input_is_named(sequence: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        optimise_codons(sequence, name="gene1")
    assert info.value.record == "gene1"
    assert info.value.field == "sequence"


def test_cds_with_an_ambiguous_base_is_named() -> None:
    with pytest.raises(ValidationError, match="invalid base 'N' at position 6 of the CDS"):
        optimise_codons("ATGAANTAA", kind="cds")


def test_unknown_hosts_are_refused() -> None:
    with pytest.raises(ValidationError, match="unknown host 'c_glutamicum'") as info:
        optimise_codons("MKV", host="c_glutamicum")
    assert info.value.field == "host"
    with pytest.raises(ValidationError, match="unknown host 1718"):
        optimise_codons("MKV", host=1718)  # no shipped table: refused, never downloaded
    with pytest.raises(ValidationError, match="lacks amino acids"):
        optimise_codons("MKV", host={"K": {"AAA": 1.0}})
    with pytest.raises(ValidationError, match="unknown restriction enzyme"):
        optimise_codons("MKV", avoid_sites=("NoSuchI",))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    protein=st.text(alphabet="ACDEFGHIKLMNPQRSTVWY", min_size=20, max_size=80),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_any_protein_is_kept(protein: str, seed: int) -> None:
    result = optimise_codons("M" + protein, seed=seed)
    assert result.protein == "M" + protein + "*"
    assert translate(result.sequence) == result.protein
    for site in SITES:  # sites and homopolymers are always avoidable by synonymous codons
        assert site not in result.sequence
        assert reverse_complement(site) not in result.sequence
    assert re.search(r"A{6}|C{6}|G{6}|T{6}", result.sequence) is None
    gc_ok = gc_windows_ok(result.sequence, 0.30, 0.65, 50)
    assert gc_ok == all(c.passed for c in result.constraints if "GC" in c.name)
    assert gc_ok or result.warnings


def test_custom_usage_table_host() -> None:
    # C. glutamicum is not shipped: a user table of counts, without stops, is accepted.
    usage = {
        aa: {c: 100 * f for c, f in codons.items()} for aa, codons in codon_usage(1423).items()
    }
    del usage["*"]
    result = optimise_codons("MKKLLVTTQEWRLLAEHGSDIKPLLAVVGGG", host=usage)
    assert result.host == "custom"
    assert result.table == 11
    assert translate(result.sequence) == "MKKLLVTTQEWRLLAEHGSDIKPLLAVVGGG*"
    assert result.cai_after == pytest.approx(codon_adaptation_index(result.sequence, "b_subtilis"))


def test_usage_table_must_agree_with_the_genetic_code() -> None:
    usage = codon_usage("e_coli")
    usage["K"] = {"AAA": 0.5, "AAC": 0.5}  # AAC is Asn
    with pytest.raises(ValidationError, match="lists AAC under 'K'"):
        optimise_codons("MKV", host=usage)
    with pytest.raises(ValidationError, match="genetic code 4 reads it as 'W'"):
        optimise_codons("MKV", table=4)  # Mycoplasma code: TGA is Trp, not a stop


def test_import_stays_light() -> None:
    # DNA Chisel loads matplotlib.pyplot; the engine imports it only when optimising.
    code = (
        "import sys, cellfoundry.dna.codon, cellfoundry.dna.constructs\n"
        "assert 'dnachisel' not in sys.modules and 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
