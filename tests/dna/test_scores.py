"""CFD and Rule Set 1 scores against the published tables and reference values."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import reverse_complement
from cellfoundry.dna import OffTargetIndex
from cellfoundry.dna.scores import (
    cfd_score,
    cfd_scores,
    cfd_specificity,
    on_target_flags,
    rule_set_1,
    rule_set_1_scores,
)

SPACER = "GACGCATAAAGATGAGACGC"


def _mutate(spacer: str, position: int, base: str) -> str:
    return spacer[: position - 1] + base + spacer[position:]


def test_single_mismatch_weights_follow_the_published_keying():
    # Supplementary Table 19 keys a weight rX:dY,p: guide RNA base X faces DNA base Y at
    # position p (1 = PAM-distal). The site, read with its PAM, holds the complement of Y.
    spacer = _mutate(SPACER, 20, "A")
    assert cfd_score(spacer, _mutate(spacer, 20, "G") + "TGG") == pytest.approx(
        0.764705882
    )  # rA:dC,20
    assert cfd_score(spacer, _mutate(spacer, 20, "C") + "TGG") == pytest.approx(
        0.227272727
    )  # rA:dG,20
    spacer15 = _mutate(SPACER, 15, "C")
    assert cfd_score(spacer15, _mutate(spacer15, 15, "T") + "AGG") == pytest.approx(
        0.066666667
    )  # rC:dA,15
    # mismatches multiply, and so does the PAM weight (AG = 0.259)
    site = _mutate(_mutate(spacer15, 20, "A"), 15, "T")
    assert cfd_score(spacer15, site + "CAG") == pytest.approx(
        0.066666667 * cfd_score(spacer15, _mutate(spacer15, 20, "A") + "TGG") * 0.259259259
    )


def test_perfect_site_scores_one_and_pam_weights_are_published():
    assert cfd_score(SPACER, SPACER + "AGG") == 1.0
    assert cfd_score(SPACER, SPACER + "TAG") == pytest.approx(0.259259259)
    assert cfd_score(SPACER, SPACER + "TGA") == pytest.approx(0.069444444)
    assert cfd_score(SPACER, SPACER + "TCC") == 0.0


def test_vectorised_cfd_equals_the_per_site_score():
    rng = random.Random(7)
    sites = []
    for _ in range(300):
        site = list(SPACER + rng.choice(["AGG", "CAG", "TGA", "GCG"]))
        for p in rng.sample(range(20), rng.randint(0, 4)):
            site[p] = rng.choice([b for b in "ACGT" if b != site[p]])
        sites.append("".join(site))
    assert np.allclose(cfd_scores(SPACER, sites), [cfd_score(SPACER, s) for s in sites])


def test_index_hits_carry_the_cfd_score_of_their_site():
    rng = random.Random(3)
    genome = "".join(rng.choice("ACGT") for _ in range(20_000))
    # plant near copies of the spacer on both strands
    planted = [SPACER + "TGG", _mutate(SPACER, 3, "T") + "AGG", _mutate(SPACER, 18, "A") + "CGG"]
    for i, site in enumerate(planted):
        at = 1000 + 5000 * i
        text = site if i % 2 == 0 else reverse_complement(site)
        genome = genome[:at] + text + genome[at + len(text) :]
    hits = OffTargetIndex({"chr": genome}).search([SPACER], 4, include_alternative=True)
    assert len(hits) >= 3
    for hit in hits:
        assert hit.cfd_score == pytest.approx(cfd_score(SPACER, hit.site))
    assert cfd_specificity([]) == 100.0


def test_rule_set_1_reproduces_the_published_reference_values():
    # the two examples given with Doench et al. 2014's reference implementation
    assert rule_set_1("TATAGCTGCGATCTGAGGTAGGGAGGGACC") == pytest.approx(0.713089368437)
    assert rule_set_1("TCCGCACCTGTCACGGTCGGGGCTTGGCGC") == pytest.approx(0.0189838463593)
    scores = rule_set_1_scores(["TATAGCTGCGATCTGAGGTAGGGAGGGACC"] * 3)
    assert scores.shape == (3,)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValidationError, match="20-nt spacers") as err:
        cfd_score("ACGT", "ACGTAGG")
    assert err.value.field == "spacer"
    with pytest.raises(ValidationError, match="invalid base 'N' at position 2") as err:
        cfd_score(SPACER, "AN" + SPACER[2:] + "AGG")
    assert err.value.field == "site"
    with pytest.raises(ValidationError, match="30-mer") as err:
        rule_set_1("ACGT")
    assert err.value.field == "context"


def test_on_target_flags():
    assert on_target_flags("GACGCATAAAGATGAGACGC") == ()
    assert on_target_flags("GGGCCCGGGCCCGGGCCCGA") == ("high GC",)
    assert "poly-T" in on_target_flags("GACGTTTTAAGATGAGACGC")
