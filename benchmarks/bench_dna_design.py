"""Benchmark: genome-wide guide libraries, and codon optimisation + assembly of a 10-gene pathway.

1. **Guide library.** The best 4 SpCas9 knock-out guides for every protein-coding gene of
   Mycoplasma mycoides SC PG1 (1.2 Mb, 1,143 CDSs, genetic code 4), off-targets searched
   up to 4 mismatches; also CRISPRi and base-editor (stop codon) libraries. Wall-clock time
   of :func:`cellfoundry.dna.guide_library` from the parsed genome (index build included).
2. **10-gene pathway.** Ten real enzymes (the first ten 300-500 aa proteins of CarveMe's
   BiGG protein file) codon-optimised for E. coli with DNA Chisel (no BsaI/BpiI sites, GC
   30-65 % in 50-nt windows, no 6-nt homopolymers); each put in a CIDAR MoClo transcription
   unit whose level-0 parts are assembled by Golden Gate into a CIDAR-style level-1 acceptor
   (GGAG...GCTT on pICH41421's backbone) and simulated with pydna; then the ten units joined (about 15 kb) are split for
   synthesis and the pieces re-assembled by homology with pydna.

Run::

    .venv/bin/python benchmarks/bench_dna_design.py --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cellfoundry.bank.formats import read
from cellfoundry.core.sequence import SequenceRecord
from cellfoundry.dna import golden_gate, guide_library, optimise_codons, plan_synthesis
from cellfoundry.dna.constructs import transcription_unit
from cellfoundry.dna.gibson import assemble_by_homology
from cellfoundry.dna.plan import DEFAULT_PARTS

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
GENOME = SHARED / "sbol-test-suite" / "GenBank" / "genomes" / "20027.gbk"
PLASMIDS = SHARED / "sbol-test-suite" / "GenBank"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def proteins(n: int = 10) -> list[tuple[str, str]]:
    import carveme

    path = Path(carveme.__file__).parent / "data" / "generated" / "bigg_proteins.faa"
    out: list[tuple[str, str]] = []
    name, seq = "", []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            if name and 300 <= len("".join(seq)) <= 500 and "X" not in "".join(seq):
                out.append((name, "".join(seq)))
                if len(out) == n:
                    break
            name, seq = line[1:].split()[0], []
        else:
            seq.append(line.strip())
    return out


def acceptor() -> SequenceRecord:
    """A CIDAR-style level-1 acceptor (GGAG ... GCTT): pICH41421's site-free backbone, a dropout."""
    bb = read(PLASMIDS / "pICH41421.gb")[0].sequence.upper()
    fwd, rev = bb.find("GGTCTC"), bb.find("GAGACC")
    body = bb[rev + 6 :] + bb[:fwd]
    dropout = "TGAGACC" + "AAACCCGGGTTTAAACCCGGGAATTC" + "GGTCTCA"
    return SequenceRecord("acceptor_L1", body + "GGAG" + dropout + "GCTT", "circular")


def pathway(enzymes: list[tuple[str, str]]) -> dict[str, Any]:
    parts = DEFAULT_PARTS["e_coli"]
    t0 = time.perf_counter()
    optimised = [optimise_codons(p, host="e_coli", name=n) for n, p in enzymes]
    t_codon = time.perf_counter() - t0
    t0 = time.perf_counter()
    backbone = acceptor()
    units = []
    for (name, _), cds in zip(enzymes, optimised, strict=True):
        unit = transcription_unit(
            parts["promoter"], parts["rbs"], (name[:20], cds.sequence), parts["terminator"],
            name=f"TU_{name}"[:30], standard="moclo",
        )  # fmt: skip
        level0 = [
            SequenceRecord(k, v, "circular") for k, v in unit.annotations["moclo_level0"].items()
        ]
        product = golden_gate(level0, backbone, enzyme="BsaI")
        assert product.simulated
        units.append(unit)
    t_assembly = time.perf_counter() - t0
    t0 = time.perf_counter()
    operon = "".join(u.sequence for u in units)
    plan = plan_synthesis(operon, max_fragment=3000)
    joined = assemble_by_homology(
        [SequenceRecord(f"s{k}", f.sequence) for k, f in enumerate(plan.fragments)],
        circular=False,
    )
    assert [r.sequence for r in joined] == [operon]
    t_synthesis = time.perf_counter() - t0
    return {
        "codon": t_codon,
        "assembly": t_assembly,
        "synthesis": t_synthesis,
        "bp": len(operon),
        "fragments": len(plan.fragments),
        "cai": statistics.median(o.cai_after for o in optimised),
        "ok": all(o.ok for o in optimised),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    genome = read(GENOME)
    guide_library(genome, genes=["Ga0076475_111"], per_gene=1)  # compile the kernel, untimed
    rows = []
    for purpose in ("knockout", "crispri", "base_edit"):
        seconds, designs = timed(
            lambda p=purpose: guide_library(genome, purpose=p, per_gene=4, max_mismatches=4),
            args.repeat,
        )
        genes = len({d.gene for d in designs})
        rows.append(
            f"| {purpose} library, Mycoplasma (1,143 CDSs) | {seconds:.1f} s | "
            f"{len(designs):,} guides for {genes:,} genes |"
        )
        print(rows[-1], flush=True)
    enzymes = proteins()
    runs = [pathway(enzymes) for _ in range(args.repeat)]
    med = {k: statistics.median(r[k] for r in runs) for k in ("codon", "assembly", "synthesis")}
    last = runs[-1]
    rows.append(
        f"| 10 enzymes codon-optimised (DNA Chisel) | {med['codon']:.2f} s | median CAI "
        f"{last['cai']:.2f}, every constraint met: {last['ok']} |"
    )
    rows.append(
        f"| 10 MoClo units built and Golden Gate-assembled (pydna-checked) | "
        f"{med['assembly']:.2f} s | 40 level-0 parts, 10 level-1 products |"
    )
    rows.append(
        f"| {last['bp']:,}-bp pathway split for synthesis and re-assembled (pydna) | "
        f"{med['synthesis']:.2f} s | {last['fragments']} fragments <= 3 kb |"
    )
    print(f"\nmedians of {args.repeat}")
    print("| task | time | result |\n|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
