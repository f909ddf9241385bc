"""CRISPR guides: PAM patterns, guide finding and the MIT specificity score.

A *target* is a protospacer plus its PAM, read 5'->3' on one strand: the PAM
follows the protospacer for SpCas9 (``pam="NGG"``, ``pam_side="3prime"``) and
precedes it for Cas12a (``pam="TTTV"``, ``pam_side="5prime"``, ``spacer=23``).
PAMs are IUPAC patterns. Positions are 0-based and always on the forward
strand: a target covers ``position .. position + spacer + len(pam)`` there,
whichever strand it is read on.

The MIT score is the off-target score of Hsu et al. 2013 (Nat. Biotechnol.
31:827, doi:10.1038/nbt.2647) as published with the CRISPR design tool
(crispr.mit.edu) and reimplemented by CRISPOR (Haeussler et al. 2016,
Genome Biol. 17:148): for a 20-nt spacer and a site with ``n`` mismatches
at positions ``p`` (0 = PAM-distal end),

    score = prod(1 - W[p]) * 1 / (4 (19 - d) / 19 + 1) * 1 / n^2

where ``d`` is the mean distance between consecutive mismatches (the middle
factor is 1 for fewer than two mismatches, the last one 1 for none). A
perfect match scores 1.0. The guide's specificity is
``100 / (100 + sum(100 * score))`` over its off-target sites, times 100
(0-100, higher is more specific).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import reverse_complement

__all__ = [
    "MIT_MISMATCH_WEIGHTS",
    "Guide",
    "PamSide",
    "find_guides",
    "mit_hit_score",
    "mit_specificity",
]

PamSide = Literal["3prime", "5prime"]

MIT_MISMATCH_WEIGHTS: Final[tuple[float, ...]] = (
    0.0, 0.0, 0.014, 0.0, 0.0, 0.395, 0.317, 0.0, 0.389, 0.079,
    0.445, 0.508, 0.613, 0.851, 0.732, 0.828, 0.615, 0.804, 0.685, 0.583,
)  # fmt: skip
"""Hsu et al. 2013 mismatch weights by spacer position, 0 = PAM-distal (5') end."""

MIT_SPACER: Final = 20
"""The spacer length the MIT score is defined for."""

_IUPAC_BASES: Final[dict[str, str]] = {
    "A": "A", "C": "C", "G": "G", "T": "T",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip
_INVALID: Final = 4  # code of a symbol other than A, C, G, T
_CODES = np.full(256, _INVALID, dtype=np.uint8)
for _code, _base in enumerate("ACGT"):
    _CODES[ord(_base)] = _CODES[ord(_base.lower())] = _code
_BITS = np.array([1, 2, 4, 8, 0], dtype=np.uint8)  # base code -> bit of a PAM mask; invalid -> 0

_U8Array = npt.NDArray[np.uint8]
_BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Guide:
    """A guide target found in a sequence.

    ``position`` is the 0-based forward-strand start of the whole target
    (protospacer and PAM); ``spacer`` and ``pam`` read 5'->3' on ``strand``.
    ``poly_t`` flags a TTTT run in the spacer (a Pol III terminator).
    """

    position: int
    strand: Literal[1, -1]
    spacer: str
    pam: str
    gc_fraction: float
    poly_t: bool

    @property
    def end(self) -> int:
        """Forward-strand end (exclusive) of the target."""
        return self.position + len(self.spacer) + len(self.pam)


def encode(seq: str) -> _U8Array:
    """Codes 0-3 for A, C, G, T (any case), 4 for any other symbol."""
    return _CODES[np.frombuffer(seq.encode("ascii", "replace"), dtype=np.uint8)]


def pam_masks(pam: str) -> _U8Array:
    """Per PAM position, the bit mask (A=1, C=2, G=4, T=8) of the bases it allows."""
    if not pam:
        raise ValidationError("the PAM is empty", field="pam")
    masks = np.zeros(len(pam), dtype=np.uint8)
    for i, letter in enumerate(pam.upper()):
        bases = _IUPAC_BASES.get(letter)
        if bases is None:
            raise ValidationError(
                f"PAM {pam!r} holds {letter!r} at position {i + 1}; use IUPAC DNA letters",
                field="pam",
            )
        masks[i] = sum(1 << "ACGT".index(b) for b in bases)
    return masks


def pam_matches(codes: _U8Array, masks: _U8Array, starts: npt.NDArray[np.int64]) -> _BoolArray:
    """Whether the PAM beginning at each of ``starts`` in ``codes`` matches ``masks``."""
    ok = np.ones(starts.size, dtype=bool)
    for j, mask in enumerate(masks):
        ok &= (_BITS[codes[starts + j]] & mask) != 0
    return ok


def check_layout(spacer: int, pam_side: str) -> None:
    """Raise unless ``spacer`` is a positive length and ``pam_side`` a known side."""
    if spacer < 1:
        raise ValidationError(f"spacer length must be positive, not {spacer}", field="spacer")
    if pam_side not in ("3prime", "5prime"):
        raise ValidationError(
            f"pam_side must be '3prime' or '5prime', not {pam_side!r}", field="pam_side"
        )


def find_guides(
    sequence: str,
    *,
    pam: str = "NGG",
    spacer: int = 20,
    pam_side: PamSide = "3prime",
    skip_invalid: bool = False,
) -> list[Guide]:
    """Every target of the nuclease on both strands of ``sequence``, by position.

    With ``skip_invalid`` a symbol other than A, C, G, T (an N gap in an
    assembly) is not an error: targets that contain one are left out.

    Raises
    ------
    ValidationError
        For a symbol other than A, C, G, T in ``sequence`` (naming its 1-based
        position), a spacer longer than the sequence, or a non-IUPAC PAM.

    Examples
    --------
    >>> [(g.position, g.strand, g.spacer, g.pam) for g in find_guides("ACGTACGTAGG", spacer=8)]
    [(0, 1, 'ACGTACGT', 'AGG')]
    >>> find_guides("CCTTTAACGTAC", pam="TTTV", spacer=4, pam_side="5prime")[0].spacer
    'ACGT'
    >>> try:
    ...     find_guides("ACGNT", spacer=2)
    ... except ValidationError as error:
    ...     print(error.field, "|", error.message)
    sequence | invalid base 'N' at position 4; guides need A, C, G, T
    """
    check_layout(spacer, pam_side)
    masks = pam_masks(pam)
    codes = encode(sequence)
    bad = np.flatnonzero(codes == _INVALID)
    if bad.size and not skip_invalid:
        i = int(bad[0])
        raise ValidationError(
            f"invalid base {sequence[i]!r} at position {i + 1}; guides need A, C, G, T",
            field="sequence",
        )
    if spacer > len(sequence):
        raise ValidationError(
            f"spacer length {spacer} exceeds the sequence length {len(sequence)}", field="spacer"
        )
    upper = sequence.upper()
    n, width = len(upper), spacer + len(masks)
    spacer_offset, pam_offset = (0, spacer) if pam_side == "3prime" else (len(masks), 0)
    guides: list[Guide] = []
    strand: Literal[1, -1]
    for strand, text in ((1, upper), (-1, reverse_complement(upper))):
        strand_codes = encode(text)
        starts = np.arange(max(n - width + 1, 0), dtype=np.int64)
        matched = pam_matches(strand_codes, masks, starts + pam_offset)
        if bad.size:
            invalid = np.concatenate(([0], np.cumsum(strand_codes == _INVALID)))
            matched &= invalid[starts + width] == invalid[starts]
        for start in np.flatnonzero(matched):
            s = int(start)
            protospacer = text[s + spacer_offset : s + spacer_offset + spacer]
            guides.append(
                Guide(
                    position=s if strand == 1 else n - s - width,
                    strand=strand,
                    spacer=protospacer,
                    pam=text[s + pam_offset : s + pam_offset + len(masks)],
                    gc_fraction=(protospacer.count("G") + protospacer.count("C")) / spacer,
                    poly_t="TTTT" in protospacer,
                )
            )
    guides.sort(key=lambda g: (g.position, -g.strand))
    return guides


def mit_hit_scores(mismatched: _BoolArray) -> npt.NDArray[np.float64]:
    """MIT scores of sites given their mismatch masks, shape ``(sites, 20)``."""
    weights = np.asarray(MIT_MISMATCH_WEIGHTS)
    n = mismatched.sum(axis=1)
    part1 = np.prod(np.where(mismatched, 1.0 - weights, 1.0), axis=1)
    positions = np.arange(MIT_SPACER)
    first = np.where(mismatched, positions, MIT_SPACER).min(axis=1)
    last = np.where(mismatched, positions, -1).max(axis=1)
    mean_distance = (last - first) / np.maximum(n - 1, 1)
    part2 = np.where(n >= 2, 1.0 / ((MIT_SPACER - 1 - mean_distance) / 19.0 * 4.0 + 1.0), 1.0)
    part3 = 1.0 / np.maximum(n, 1) ** 2
    return np.asarray(part1 * part2 * part3, dtype=np.float64)


def mit_hit_score(spacer: str, protospacer: str) -> float:
    """MIT (Hsu 2013) score of one site: 1.0 for a perfect match, lower the more it differs.

    Examples
    --------
    >>> mit_hit_score("ACGTACGTACGTACGTACGT", "ACGTACGTACGTACGTACGT")
    1.0
    >>> round(mit_hit_score("ACGTACGTACGTACGTACGT", "ACGTACGTACGTACGTACGA"), 3)
    0.417
    """
    if len(spacer) != MIT_SPACER or len(protospacer) != MIT_SPACER:
        raise ValidationError(
            f"the MIT score is defined for {MIT_SPACER}-nt spacers, "
            f"not {len(spacer)} and {len(protospacer)}",
            field="spacer",
        )
    mismatched = np.array(
        [[a != b for a, b in zip(spacer.upper(), protospacer.upper(), strict=True)]]
    )
    return float(mit_hit_scores(mismatched)[0])


def mit_specificity(off_target_scores: Iterable[float]) -> float:
    """Guide specificity, 0-100: ``100 * 100 / (100 + sum(100 * s))`` over off-target scores.

    Leave the intended target (the guide's own perfect match) out of the scores.

    Examples
    --------
    >>> mit_specificity([])
    100.0
    >>> mit_specificity([1.0])
    50.0
    """
    total = 100.0 * sum(off_target_scores)
    return 100.0 * 100.0 / (100.0 + total)
