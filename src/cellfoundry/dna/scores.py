"""Guide scores from published tables: CFD off-target scores and Rule Set 1 on-target scores.

**CFD** (Cutting Frequency Determination; Doench et al. 2016, Nat. Biotechnol.
34:184, doi:10.1038/nbt.3437, Supplementary Table 19) rates how well SpCas9
cuts a site that differs from the spacer: the product of one weight per
mismatch (by RNA base, the DNA base it faces and its position 1-20 from the
PAM-distal end) and one weight for the PAM's last two bases (GG = 1, AG =
0.26...). A perfect NGG site scores 1.0. The guide's CFD specificity is the
MIT formula applied to the CFD scores of its off-targets, as CRISPOR does.

**Rule Set 1** (Doench et al. 2014, Nat. Biotechnol. 32:1262,
doi:10.1038/nbt.3026, Supplementary Table 9) is a logistic regression on a
30-mer (4 nt before the spacer, the 20-nt spacer, the NGG PAM and 3 nt after)
with 70 position-specific mono- and dinucleotide weights and a GC term; it
was trained on human and mouse cell lines. It is the established on-target
model whose weights are published in full; later models (Rule Set 2/3,
DeepSpCas9) ship only as packages that do not install on our Python or need
large learned models. Use it to rank guides within a gene, not as a
prediction of absolute activity in bacteria or yeast.

Both tables ship in ``cellfoundry/dna/data/`` with their sources
(``SOURCE.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ValidationError
from cellfoundry.dna.crispr import mit_specificity

__all__ = [
    "CFD_SPACER",
    "RULE_SET_1_CONTEXT",
    "cfd_score",
    "cfd_scores",
    "cfd_specificity",
    "cfd_weights",
    "on_target_flags",
    "rule_set_1",
    "rule_set_1_scores",
]

CFD_SPACER: Final = 20
"""Spacer length the CFD table is defined for."""

RULE_SET_1_CONTEXT: Final = 30
"""Length of the Rule Set 1 input: 4 + 20-nt spacer + 3-nt PAM + 3."""

_COMPLEMENT: Final = {"A": "T", "C": "G", "G": "C", "T": "A"}
_BASE: Final = {"A": 0, "C": 1, "G": 2, "T": 3}


@dataclass(frozen=True, slots=True)
class _CfdTable:
    mismatch: npt.NDArray[np.float64]  # [position 0-19, guide base, site base] -> weight
    pam: dict[str, float]


@cache
def _cfd_table() -> _CfdTable:
    weights = np.ones((CFD_SPACER, 4, 4), dtype=np.float64)
    pam: dict[str, float] = {}
    text = resources.files("cellfoundry.dna").joinpath("data/cfd_doench2016.tsv").read_text()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        kind, key, position, weight = line.split("\t")
        if kind == "pam":
            pam[key] = float(weight)
            continue
        # "rA:dG" = guide RNA base A facing DNA base G (the target strand); the site (protospacer
        # strand, as read 5'->3' with the PAM) then holds the complement of G, i.e. C.
        rna, dna = key[1], key[4]
        guide_base = "T" if rna == "U" else rna
        site_base = _COMPLEMENT[dna]
        weights[int(position) - 1, _BASE[guide_base], _BASE[site_base]] = float(weight)
    return _CfdTable(weights, pam)


def cfd_weights() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return the CFD table as arrays: by position, guide base and site base; PAM by 4 b1 + b2.

    Bases are coded A, C, G, T = 0-3; the PAM array is indexed by the code of the
    PAM's last two bases. Matches carry weight 1.
    """
    table = _cfd_table()
    pam = np.zeros(16, dtype=np.float64)
    for key, weight in table.pam.items():
        pam[4 * _BASE[key[0]] + _BASE[key[1]]] = weight
    return table.mismatch, pam


def _check_pair(spacer: str, site: str) -> tuple[str, str]:
    spacer, site = spacer.upper(), site.upper()
    if len(spacer) != CFD_SPACER:
        raise ValidationError(
            f"the CFD score is defined for {CFD_SPACER}-nt spacers, not {len(spacer)}",
            field="spacer",
        )
    if len(site) != CFD_SPACER + 3:
        raise ValidationError(
            f"a CFD site is the 20-nt protospacer and its 3-nt PAM, not {len(site)} nt",
            field="site",
        )
    for name, text in (("spacer", spacer), ("site", site)):
        for i, base in enumerate(text):
            if base not in _BASE:
                raise ValidationError(
                    f"invalid base {base!r} at position {i + 1}; CFD needs A, C, G, T",
                    field=name,
                )
    return spacer, site


def cfd_score(spacer: str, site: str) -> float:
    """CFD score of one site (20-nt protospacer + 3-nt PAM, as read with its PAM).

    Examples
    --------
    >>> cfd_score("ACGTACGTACGTACGTACGT", "ACGTACGTACGTACGTACGTTGG")
    1.0
    >>> round(cfd_score("ACGTACGTACGTACGTACGT", "ACGTACGTACGTACGTACGTTAG"), 4)
    0.2593
    """
    spacer, site = _check_pair(spacer, site)
    table = _cfd_table()
    score = table.pam.get(site[-2:], 0.0)
    for i, (a, b) in enumerate(zip(spacer, site[:CFD_SPACER], strict=True)):
        if a != b:
            score *= float(table.mismatch[i, _BASE[a], _BASE[b]])
    return score


def cfd_scores(spacer: str, sites: Sequence[str]) -> npt.NDArray[np.float64]:
    """CFD scores of many sites against one spacer, vectorised.

    Sites with a symbol other than A, C, G, T or of the wrong length raise.
    """
    if not sites:
        return np.zeros(0, dtype=np.float64)
    spacer, _ = _check_pair(spacer, sites[0])
    table = _cfd_table()
    width = CFD_SPACER + 3
    joined = "".join(s.upper() for s in sites)
    if len(joined) != width * len(sites) or any(len(s) != width for s in sites):
        bad = next(i for i, s in enumerate(sites) if len(s) != width)
        raise ValidationError(
            f"site {bad} has {len(sites[bad])} nt; CFD sites have {width}", field="site"
        )
    lookup = np.full(256, 4, dtype=np.uint8)
    for base, code in _BASE.items():
        lookup[ord(base)] = code
    codes = lookup[np.frombuffer(joined.encode("ascii"), dtype=np.uint8)].reshape(-1, width)
    if (codes == 4).any():
        row, col = (int(x) for x in np.argwhere(codes == 4)[0])
        raise ValidationError(
            f"invalid base {sites[row][col]!r} at position {col + 1} of site {row}",
            field="site",
        )
    guide = np.array([_BASE[b] for b in spacer], dtype=np.intp)
    positions = np.arange(CFD_SPACER)
    per_base = table.mismatch[positions[None, :], guide[None, :], codes[:, :CFD_SPACER]]
    per_base = np.where(codes[:, :CFD_SPACER] == guide[None, :], 1.0, per_base)
    pam_weight = np.array([table.pam.get(s[-2:].upper(), 0.0) for s in sites])
    return np.asarray(per_base.prod(axis=1) * pam_weight, dtype=np.float64)


def cfd_specificity(off_target_scores: Iterable[float]) -> float:
    """Guide specificity (0-100) from the CFD scores of its off-targets (CRISPOR's rule)."""
    return mit_specificity(off_target_scores)


@dataclass(frozen=True, slots=True)
class _RuleSet1:
    intercept: float
    gc_low: float
    gc_high: float
    features: tuple[tuple[int, str, float], ...]


@cache
def _rule_set_1() -> _RuleSet1:
    text = resources.files("cellfoundry.dna").joinpath("data/ruleset1_doench2014.tsv").read_text()
    scalars: dict[str, float] = {}
    features: list[tuple[int, str, float]] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        term, position, seq, weight = line.split("\t")
        if term == "feature":
            features.append((int(position), seq, float(weight)))
        else:
            scalars[term] = float(weight)
    return _RuleSet1(scalars["intercept"], scalars["gc_low"], scalars["gc_high"], tuple(features))


def rule_set_1(context: str) -> float:
    """Rule Set 1 on-target score (0-1) of a 30-mer: 4 nt + spacer + NGG + 3 nt.

    Examples
    --------
    The two reference values published with the model's reference code:

    >>> round(rule_set_1("TATAGCTGCGATCTGAGGTAGGGAGGGACC"), 6)
    0.713089
    >>> round(rule_set_1("TCCGCACCTGTCACGGTCGGGGCTTGGCGC"), 6)
    0.018984
    """
    return float(rule_set_1_scores([context])[0])


def rule_set_1_scores(contexts: Sequence[str]) -> npt.NDArray[np.float64]:
    """Rule Set 1 scores of many 30-mers, vectorised."""
    if not contexts:
        return np.zeros(0, dtype=np.float64)
    for i, context in enumerate(contexts):
        if len(context) != RULE_SET_1_CONTEXT:
            raise ValidationError(
                f"Rule Set 1 scores a {RULE_SET_1_CONTEXT}-mer (4 nt, 20-nt spacer, NGG, 3 nt), "
                f"not {len(context)} nt",
                record=str(i),
                field="context",
            )
    model = _rule_set_1()
    text = np.array([list(c.upper()) for c in contexts])
    spacer = text[:, 4:24]
    gc = (spacer == "G").sum(axis=1) + (spacer == "C").sum(axis=1)
    score = model.intercept + np.abs(10 - gc) * np.where(gc <= 10, model.gc_low, model.gc_high)
    for position, seq, weight in model.features:
        match = np.ones(len(contexts), dtype=bool)
        for k, base in enumerate(seq):
            match &= text[:, position + k] == base
        score = score + match * weight
    return np.asarray(1.0 / (1.0 + np.exp(-score)), dtype=np.float64)


def on_target_flags(spacer: str, *, gc_min: float = 0.30, gc_max: float = 0.80) -> tuple[str, ...]:
    """Documented heuristics a guide should pass, as the flags it raises (empty = none).

    - ``poly-T``: TTTT in the spacer ends Pol III (U6, and often J23119-driven) transcription
      early (Wang et al. 2008; CRISPOR flags it);
    - ``low GC`` / ``high GC``: spacer GC outside ``gc_min``-``gc_max`` cuts poorly
      (Wang et al. 2014 Science 343:80; Doench 2014);
    - ``G20 missing`` is not flagged: bacterial and yeast promoters do not need a 5' G.

    Examples
    --------
    >>> on_target_flags("ATTTTAAAATATATATAAAT")
    ('poly-T', 'low GC')
    """
    spacer = spacer.upper()
    flags: list[str] = []
    if "TTTT" in spacer:
        flags.append("poly-T")
    gc = (spacer.count("G") + spacer.count("C")) / max(len(spacer), 1)
    if gc < gc_min:
        flags.append("low GC")
    elif gc > gc_max:
        flags.append("high GC")
    return tuple(flags)
