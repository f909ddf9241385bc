"""Similarity search on the MoClo plasmids of the SBOL test suite and mutated copies.

The reference is :func:`align_exhaustive`, the same aligner over every target;
the indexed :func:`search` must return the same top hits.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cellfoundry.dna
from cellfoundry.core.errors import (
    ConflictError,
    InvalidSequenceError,
    NotFoundError,
    ValidationError,
)
from cellfoundry.core.sequence import Topology, reverse_complement
from cellfoundry.dna import Hit, KmerIndex, Sketch, align_exhaustive, search, sketch

DATA = Path("/work/shared/data/sbol-test-suite/GenBank")
Bank = dict[int, tuple[str, Topology]]

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="SBOL test suite data not available")


# --- data ---------------------------------------------------------------------


def read_genbank(path: Path) -> list[tuple[str, Topology]]:
    """Biopython first; the few files it refuses are read from their ORIGIN lines."""
    from Bio import SeqIO

    try:
        with warnings.catch_warnings(), path.open(encoding="utf-8") as handle:
            warnings.simplefilter("ignore")
            records = list(SeqIO.parse(handle, "genbank"))
        return [
            (
                str(r.seq).upper(),
                "circular" if r.annotations.get("topology") == "circular" else "linear",
            )
            for r in records
        ]
    except (ValueError, UnicodeDecodeError):
        text = path.read_bytes().decode("latin-1")
        locus = text.split("\n", 1)[0]
        seq = re.sub(r"[^A-Za-z]", "", text.split("\nORIGIN", 1)[1].split("\n//", 1)[0])
        return [(seq.upper(), "circular" if "circular" in locus else "linear")]


def mutate(seq: str, rate: float, rng: np.random.Generator) -> str:
    """Substitutions (80 %) and 1-3 base insertions or deletions (10 % each)."""
    out: list[str] = []
    last = 0
    events = np.sort(rng.choice(len(seq), size=rng.binomial(len(seq), rate), replace=False))
    for pos in events.tolist():
        if pos < last:
            continue
        out.append(seq[last:pos])
        kind = rng.random()
        if kind < 0.8:
            out.append("ACGT".replace(seq[pos], "")[int(rng.integers(3))])
            last = pos + 1
        elif kind < 0.9:
            out.append("".join(rng.choice(list("ACGT"), int(rng.integers(1, 4)))) + seq[pos])
            last = pos + 1
        else:
            last = pos + int(rng.integers(1, 4))
    out.append(seq[last:])
    return "".join(out)


def circular_slice(seq: str, start: int, length: int) -> str:
    return (seq + seq)[start : start + length] if length <= len(seq) else seq


@pytest.fixture(scope="module")
def plasmids() -> Bank:
    records: list[tuple[str, Topology]] = []
    for path in sorted(DATA.glob("*.gb*")):
        records.extend(read_genbank(path))
    assert len(records) >= 100
    return {i + 1: rec for i, rec in enumerate(records)}


@pytest.fixture(scope="module")
def bank(plasmids: Bank) -> Bank:
    """The real plasmids plus 120 mutated, rotated, reversed and recombined copies."""
    rng = np.random.default_rng(7)
    out = dict(plasmids)
    keys = sorted(plasmids)
    for i in range(120):
        seq, topology = plasmids[keys[int(rng.integers(len(keys)))]]
        kind = i % 4
        if kind == 0:  # point mutations and small indels
            seq = mutate(seq, float(rng.uniform(0.005, 0.03)), rng)
        elif kind == 1:  # another origin, the other strand
            seq = reverse_complement(circular_slice(seq, int(rng.integers(len(seq))), len(seq)))
            seq = mutate(seq, 0.01, rng)
        elif kind == 2:  # recombined with a piece of another plasmid
            other, _ = plasmids[keys[int(rng.integers(len(keys)))]]
            cut = int(rng.integers(len(seq)))
            seq = seq[:cut] + other[: int(rng.integers(300, 1500))] + seq[cut:]
        else:  # a linear fragment
            start = int(rng.integers(len(seq)))
            seq, topology = circular_slice(seq, start, int(rng.integers(800, 2500))), "linear"
        out[1000 + i] = (seq, topology)
    return out


@pytest.fixture(scope="module")
def index(bank: Bank) -> KmerIndex:
    idx = KmerIndex()
    for key, (seq, topology) in bank.items():
        idx.add(key, sketch(seq, topology))
    return idx


def fetcher(bank: Mapping[int, tuple[str, Topology]]):  # type: ignore[no-untyped-def]
    def fetch(keys: Sequence[int]) -> dict[int, tuple[str, Topology]]:
        return {k: bank[k] for k in keys if k in bank}

    return fetch


def queries(bank: Bank, n: int, seed: int) -> list[tuple[int, str]]:
    """Fragments of 200 bp - 2 kb, mutated, either strand, often across the origin."""
    rng = np.random.default_rng(seed)
    keys = sorted(bank)
    out = []
    for i in range(n):
        key = keys[int(rng.integers(len(keys)))]
        seq, topology = bank[key]
        length = min(int(rng.integers(200, 2001)), len(seq))
        if topology == "circular" and i % 3 == 0:  # across the origin
            start = len(seq) - int(rng.integers(1, length))
        else:
            start = int(rng.integers(len(seq) - length + 1))
        frag = mutate(circular_slice(seq, start, length), float(rng.uniform(0, 0.05)), rng)
        out.append((key, reverse_complement(frag) if i % 2 else frag))
    return out


def key_scores(hits: list[Hit]) -> list[tuple[int, int]]:
    return [(h.key, h.score) for h in hits]


# --- search against the exhaustive reference -------------------------------------


@pytest.fixture(scope="module")
def reference(bank: Bank) -> list[tuple[str, list[Hit]]]:
    """Twenty queries and their exhaustive top 10."""
    return [(q, align_exhaustive(q, bank, top=10)) for _, q in queries(bank, 20, seed=1)]


def test_search_has_the_top_hits_of_exhaustive_alignment(
    bank: Bank, index: KmerIndex, reference: list[tuple[str, list[Hit]]]
) -> None:
    fetch = fetcher(bank)
    for query, expected in reference:
        found = search(query, index, fetch, top=10)
        assert key_scores(found) == key_scores(expected)
        assert found == expected  # same alignments too: same aligner on the same targets


def test_a_narrow_prefilter_still_finds_every_close_hit(
    bank: Bank, index: KmerIndex, reference: list[tuple[str, list[Hit]]]
) -> None:
    """With 100 of ~440 entry strands passed on, hits of 85 % identity or more are all kept.

    Weaker hits (diverged homologues without long exact matches) can be
    ranked out by the seeds: the documented limit of the prefilter.
    """
    fetch = fetcher(bank)
    for query, expected in reference:
        found = search(query, index, fetch, top=10, candidates=100)
        close = {h for h in expected if h.identity >= 0.85}
        assert close <= set(found)
        truth = {h.key: h for h in expected}
        for hit in found:  # and every hit reported is the true alignment of its target
            assert (
                [truth[hit.key]]
                if hit.key in truth
                else align_exhaustive(query, {hit.key: bank[hit.key]}) == [hit]
            )


def test_query_from_a_plasmid_finds_it_first(plasmids: Bank, bank: Bank, index: KmerIndex) -> None:
    rng = np.random.default_rng(3)
    fetch = fetcher(bank)
    for key in sorted(plasmids)[::9]:
        seq, topology = plasmids[key]
        length = min(1000, len(seq))
        start = int(rng.integers(len(seq) - length + 1)) if topology == "linear" else 0
        fragment = mutate(circular_slice(seq, start, length), 0.02, rng)
        query = reverse_complement(fragment)
        own = align_exhaustive(query, {key: plasmids[key]})[0]
        assert own.strand == -1
        assert own.identity >= 0.9
        assert own.coverage >= 0.95
        hits = search(query, index, fetch, top=50)
        assert hits[0].score == own.score  # nothing scores above the source
        # the source is found, unless 50 entries with lower keys tie with it
        assert own in hits or (len(hits) == 50 and hits[-1].score == own.score)


def test_alignment_across_the_origin_of_a_circular_plasmid(plasmids: Bank) -> None:
    key, (seq, topology) = next((k, v) for k, v in plasmids.items() if v[1] == "circular")
    query = seq[-300:] + seq[:500]
    hit = align_exhaustive(query, {key: (seq, topology)})[0]
    assert (hit.query_start, hit.query_end) == (0, 800)
    assert (hit.target_start, hit.target_end) == (len(seq) - 300, 500)
    assert hit.identity == 1.0
    assert hit.score == 2 * 800
    linear = align_exhaustive(query, {key: (seq, "linear")})[0]
    assert linear.score == 2 * 500  # no wrapping on a linear molecule


def test_min_identity_and_min_score_filter_hits(bank: Bank, index: KmerIndex) -> None:
    fetch = fetcher(bank)
    _, query = queries(bank, 1, seed=11)[0]
    for kwargs in ({"min_identity": 0.97}, {"min_score": 1500}):
        found = search(query, index, fetch, top=10, candidates=100, **kwargs)  # type: ignore[arg-type]
        assert found == align_exhaustive(query, bank, top=10, **kwargs)  # type: ignore[arg-type]
    assert all(h.identity >= 0.97 for h in search(query, index, fetch, min_identity=0.97))


def test_short_query_falls_back_to_every_entry(bank: Bank, index: KmerIndex) -> None:
    seq, _ = bank[1]
    query = seq[100:112]  # shorter than k = 16: no k-mer for the prefilter
    found = search(query, index, fetcher(bank), top=10, min_score=0)
    assert found == align_exhaustive(query, bank, top=10, min_score=0)
    assert found[0].score == 24
    assert search(query, index, fetcher(bank)) == []  # 24 < default minimum score


def test_progress_is_reported(bank: Bank, index: KmerIndex) -> None:
    reports: list[tuple[int, int]] = []
    _, query = queries(bank, 1, seed=5)[0]
    search(query, index, fetcher(bank), progress=lambda d, t: reports.append((d, t)))
    assert reports[0][0] == 0
    assert reports[-1][0] == reports[-1][1] > 0
    assert all(d <= t for d, t in reports)


def test_bad_input_is_rejected(bank: Bank, index: KmerIndex) -> None:
    fetch = fetcher(bank)
    with pytest.raises(ValidationError, match="query sequence is empty"):
        search("", index, fetch)
    with pytest.raises(InvalidSequenceError, match="invalid base 'U' at position 3"):
        search("ACUGT" * 10, index, fetch)
    with pytest.raises(InvalidSequenceError, match="invalid base 'X'"):
        align_exhaustive("ACGT" * 10, {1: ("ACGTXACGT", "linear")})
    with pytest.raises(ValidationError, match="topology must be 'linear' or 'circular'"):
        align_exhaustive("ACGT" * 10, {1: ("ACGTACGT", "round")})  # type: ignore[dict-item]


# --- the index -----------------------------------------------------------------------


def test_incremental_updates_match_a_fresh_index(bank: Bank, index: KmerIndex) -> None:
    keys = sorted(bank)
    sketches = {k: sketch(*bank[k]) for k in keys}
    churned = KmerIndex()
    for k in keys[::2]:
        churned.add(k, sketches[k])
    probe = queries(bank, 4, seed=9)
    churned.chains(probe[0][1], limit=5)  # freeze a segment between updates
    for k in keys[1::2]:
        churned.add(k, sketches[k])
    removed = keys[::3]
    for k in removed:
        churned.remove(k)
    for k in removed[::2]:  # put some back
        churned.add(k, sketches[k])
    final = sorted(churned)
    fresh = KmerIndex()
    for k in final:
        fresh.add(k, sketches[k])
    assert len(churned) == len(fresh) == len(final)
    assert churned.postings == fresh.postings
    subset = {k: bank[k] for k in final}
    for _, query in probe:
        assert churned.chains(query, limit=50) == fresh.chains(query, limit=50)
        found = search(query, churned, fetcher(subset), candidates=100)
        assert found == search(query, fresh, fetcher(subset), candidates=100)
        assert not {h.key for h in found} - set(final)
    churned.compact()
    assert [churned.chains(q, limit=50) for _, q in probe] == [
        fresh.chains(q, limit=50) for _, q in probe
    ]


def test_index_rejects_bad_updates(bank: Bank) -> None:
    idx = KmerIndex()
    s = sketch(*bank[1])
    idx.add(1, s)
    with pytest.raises(ConflictError, match="already in the k-mer index"):
        idx.add(1, s)
    with pytest.raises(NotFoundError, match="no k-mer index entry '2'"):
        idx.remove(2)
    with pytest.raises(ValidationError, match="cannot join an index"):
        idx.add(2, sketch(*bank[2], window=4))
    with pytest.raises(ValidationError, match="k must be between 1 and 16"):
        KmerIndex(k=20)


def test_removing_everything_leaves_an_empty_index(bank: Bank) -> None:
    idx = KmerIndex()
    for k in sorted(bank)[:50]:
        idx.add(k, sketch(*bank[k]))
    for k in sorted(bank)[:50]:
        idx.remove(k)
    assert len(idx) == 0
    assert idx.postings == 0
    assert idx.candidates(bank[1][0][:500], limit=10) == []


# --- sketches ------------------------------------------------------------------------


def test_sketch_bytes_round_trip(bank: Bank) -> None:
    for key in sorted(bank)[::10]:
        s = sketch(*bank[key])
        data = s.to_bytes()
        assert Sketch.from_bytes(data) == s
        assert len(data) == 20 + 8 * len(s)
    with pytest.raises(ValidationError, match="not a version-1 sequence sketch"):
        Sketch.from_bytes(b"XXXX" + data[4:])
    with pytest.raises(ValidationError, match="header says"):
        Sketch.from_bytes(data[:-4])


def test_sketch_skips_ambiguous_bases_and_short_sequences() -> None:
    assert len(sketch("ACGT" * 3, "linear")) == 0
    seq = "ACGTTGCATGTCGCATGATGCATGAGAGTTAAGCTTGGCAT"
    masked = seq[:20] + "N" + seq[21:]
    assert len(sketch(masked, "linear", window=1)) < len(sketch(seq, "linear", window=1))


dna = st.text(alphabet="ACGT", min_size=40, max_size=400)


@given(seq=dna, cut=st.integers(min_value=0, max_value=399))
def test_circular_sketch_ignores_origin_and_strand(seq: str, cut: int) -> None:
    cut %= len(seq)
    minimizers = sorted(sketch(seq, "circular").arrays()[0])
    assert sorted(sketch(seq[cut:] + seq[:cut], "circular").arrays()[0]) == minimizers
    assert sorted(sketch(reverse_complement(seq), "circular").arrays()[0]) == minimizers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reverse_complemented_query_gives_the_same_hit(
    data: st.DataObject, plasmids: Bank, index: KmerIndex, bank: Bank
) -> None:
    key = data.draw(st.sampled_from(sorted(plasmids)))
    seq, _ = plasmids[key]
    length = data.draw(st.integers(min_value=60, max_value=1500))
    start = data.draw(st.integers(min_value=0, max_value=len(seq) - 1))
    query = circular_slice(seq, start, length)
    fetch = fetcher(bank)
    forward = search(query, index, fetch, top=3)[0]
    backward = search(reverse_complement(query), index, fetch, top=3)[0]
    assert (backward.key, backward.score) == (forward.key, forward.score)
    assert backward.strand == -forward.strand or backward.strand == forward.strand == 1
    assert backward.coverage == forward.coverage


def test_exported_names() -> None:
    assert {
        "Hit",
        "KmerIndex",
        "SeedChain",
        "Sketch",
        "align_exhaustive",
        "search",
        "sketch",
    } <= set(cellfoundry.dna.__all__)
    for name in cellfoundry.dna.__all__:
        assert hasattr(cellfoundry.dna, name), name
