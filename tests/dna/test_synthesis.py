"""Synthesis planning: fragments reassemble exactly, within limits, with unique overlaps."""

from __future__ import annotations

import math
import random
from pathlib import Path

import primer3
import pytest

from cellfoundry.bank.formats import read
from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import reverse_complement
from cellfoundry.dna.synthesis import SynthesisPlan, plan_synthesis

GENOME = Path("sbol-test-suite/GenBank/genomes/20027.gbk")


def random_dna(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(length))


def join(plan: SynthesisPlan) -> str:
    """Reassemble from the fragments' own coordinates, independently of ``plan.assemble``."""
    out = plan.fragments[0].sequence
    for previous, fragment in zip(plan.fragments, plan.fragments[1:], strict=False):
        shared = previous.sequence[fragment.start - previous.start :]
        assert 20 <= len(shared) <= 40
        assert fragment.sequence.startswith(shared)
        out += fragment.sequence[len(shared) :]
    return out


def check_plan(
    seq: str, plan: SynthesisPlan, max_fragment: int = 3000, min_fragment: int = 300
) -> None:
    assert join(plan) == seq
    assert plan.assemble() == seq
    assert all(min_fragment <= len(f) <= max_fragment for f in plan.fragments)
    assert [f.sequence for f in plan.fragments] == [seq[f.start : f.end] for f in plan.fragments]
    assert len(plan.overlaps) == plan.n_fragments - 1
    rc = reverse_complement(seq)
    for overlap in plan.overlaps:
        assert seq.count(overlap.sequence) == 1
        assert overlap.sequence not in rc
        assert 48.0 <= primer3.calc_tm(overlap.sequence) <= 65.0
        assert overlap.tm_c == pytest.approx(primer3.calc_tm(overlap.sequence))
        assert not any(b * 6 in overlap.sequence for b in "ACGT")
    assert len({o.sequence for o in plan.overlaps}) == len(plan.overlaps)
    assert plan.total_cost == pytest.approx(sum(f.cost for f in plan.fragments))
    assert plan.total_cost == pytest.approx(0.07 * sum(len(f) for f in plan.fragments))


def test_random_20_kb_uses_the_fewest_fragments() -> None:
    seq = random_dna(20_000, 1)
    plan = plan_synthesis(seq)
    check_plan(seq, plan)
    # each fragment adds at most max_fragment - shortest overlap new bases
    assert plan.n_fragments == math.ceil((len(seq) - 20) / (3000 - 20)) == 7


def test_per_fragment_overhead_is_counted() -> None:
    seq = random_dna(8000, 2)
    plan = plan_synthesis(seq, cost_per_fragment=50.0, cost_per_bp=0.1)
    assert plan.total_cost == pytest.approx(sum(0.1 * len(f) + 50.0 for f in plan.fragments))
    assert plan.n_fragments == 3


def test_mycoplasma_30_kb_region() -> None:
    (genome,) = read(Path(__file__).resolve().parents[3] / "shared" / "data" / GENOME)
    seq = genome.sequence[100_000:130_000]
    plan = plan_synthesis(seq)
    check_plan(seq, plan)
    assert plan.n_fragments <= 12
    assert any("GC" in w for w in plan.warnings)  # 24% GC: vendors would flag it
    # the two annotated repeat regions (990 and 1006 kb) leave no unique overlap for ~10 kb
    repeats = [f for f in genome.features if f.type == "repeat_region"]
    assert len(repeats) == 2
    with pytest.raises(
        ValidationError, match=r"longest stretch without an allowed overlap is \d{5} bp"
    ):
        plan_synthesis(genome.sequence[985_000:1_015_000])


def test_overlaps_avoid_a_repeat() -> None:
    repeat = random_dna(1500, 3)
    seq = random_dna(2500, 4) + repeat + random_dna(1000, 5) + repeat + random_dna(2500, 6)
    plan = plan_synthesis(seq)
    check_plan(seq, plan)
    starts = (2500, 2500 + 1500 + 1000)
    for overlap in plan.overlaps:
        for start in starts:
            assert overlap.end <= start or overlap.start >= start + 1500


def test_overlaps_avoid_homopolymers_and_extreme_gc() -> None:
    seq = random_dna(3000, 7) + "A" * 12 + "GC" * 40 + random_dna(3000, 8)
    plan = plan_synthesis(seq, max_fragment=3100)
    check_plan(seq, plan, max_fragment=3100)
    assert all(o.end <= 3000 or o.start >= 3092 for o in plan.overlaps)
    assert any("run of 10+ A" in w for w in plan.warnings)


def test_short_sequence_is_one_fragment() -> None:
    seq = random_dna(1200, 9)
    plan = plan_synthesis(seq)
    assert plan.n_fragments == 1
    assert plan.overlaps == ()
    assert plan.assemble() == seq
    assert plan.total_cost == pytest.approx(0.07 * 1200)


def test_errors() -> None:
    with pytest.raises(ValidationError, match="shorter than min_fragment") as info:
        plan_synthesis(random_dna(200, 10))
    assert info.value.field == "sequence"
    impossible = random_dna(1000, 11) + "AT" * 2500 + random_dna(1000, 12)
    with pytest.raises(ValidationError, match="no split into 300-3000 bp fragments exists") as info:
        plan_synthesis(impossible)
    assert info.value.field == "max_fragment"
    with pytest.raises(ValidationError, match="needs A, C, G, T"):
        plan_synthesis("ACGTNNACGT" * 50)
    with pytest.raises(ValidationError, match="twice the longest overlap"):
        plan_synthesis(random_dna(5000, 13), min_fragment=60)
    with pytest.raises(ValidationError, match="exceeds max_fragment"):
        plan_synthesis(random_dna(5000, 13), min_fragment=4000)
