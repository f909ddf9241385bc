"""PCR primers that amplify an exact region, with optional 5' tails.

Assembly needs a product that starts and ends exactly at given positions, so
the primers are not searched for but grown from the region's ends: each
primer's annealing part is the shortest stretch (``min_length`` to
``max_length`` nt) whose melting temperature reaches the target, computed with
primer3's nearest-neighbour model (SantaLucia 1998 parameters and salt
correction, primer3 defaults: 50 mM monovalent, 1.5 mM Mg2+, 0.6 mM dNTP,
50 nM oligo). Tails (homology arms, restriction sites) are added 5' and do not
count toward the Tm. Hairpin and dimer free energies of the whole primer come
from primer3's thermodynamic alignment, in kcal/mol at 37 degC.

References
----------
Untergasser et al. (2012) Primer3 - new capabilities and interfaces. Nucleic
Acids Res. 40:e115, doi:10.1093/nar/gks596.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import primer3

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import SequenceRecord, reverse_complement, validate_dna

__all__ = ["Primer", "PrimerPair", "design_primers", "primer_tm"]

_CAL_PER_KCAL: Final = 1000.0
MIN_LENGTH: Final = 15
"""Shortest annealing part designed."""
MAX_LENGTH: Final = 40
"""Longest annealing part designed."""
_MAX_OLIGO: Final = 60  # primer3's thermodynamic alignment limit for one strand


def primer_tm(sequence: str) -> float:
    """Return the melting temperature (degC) of ``sequence`` with primer3's defaults.

    Examples
    --------
    >>> round(primer_tm("AGCGGATAACAATTTCACACAGGA"), 1)
    60.8
    """
    return float(primer3.calc_tm(sequence.upper()))


def _dg_kcal(result: object) -> float:
    dg = float(getattr(result, "dg", 0.0))
    return round(dg / _CAL_PER_KCAL, 3)


@dataclass(frozen=True, slots=True)
class Primer:
    """One primer, 5'->3'.

    ``sequence`` is the whole oligo (``tail + binding``); ``tm`` and ``gc``
    describe the annealing part ``binding``. ``position`` is the 0-based start
    of the annealing site on the template's forward strand (it covers
    ``position .. position + len(binding)``), ``strand`` 1 for a forward and -1
    for a reverse primer. ``hairpin_dg`` and ``homodimer_dg`` are primer3's
    free energies (kcal/mol, 37 degC) for the whole oligo; more negative is worse.
    """

    sequence: str
    binding: str
    tail: str
    tm: float
    gc: float
    position: int
    strand: Literal[1, -1]
    hairpin_dg: float
    homodimer_dg: float

    def __len__(self) -> int:
        return len(self.sequence)

    def __repr__(self) -> str:
        tail = f"{self.tail.lower()}" if self.tail else ""
        return f"Primer(5'-{tail}{self.binding}-3' {self.tm:.1f} degC)"


@dataclass(frozen=True, slots=True)
class PrimerPair:
    """A forward and a reverse primer and the amplicon they make.

    ``amplicon`` is the PCR product, tails included; ``heterodimer_dg`` is
    primer3's forward-reverse dimer free energy (kcal/mol).
    """

    forward: Primer
    reverse: Primer
    amplicon: str
    heterodimer_dg: float

    @property
    def tm_difference(self) -> float:
        """Absolute difference of the two annealing Tm values, degC."""
        return abs(self.forward.tm - self.reverse.tm)


def _grow(region: str, tm: float, min_length: int, max_length: int, *, record: str | None) -> str:
    """Return the shortest prefix of ``region`` with Tm >= ``tm`` (else the longest allowed)."""
    if len(region) < min_length:
        raise ValidationError(
            f"the region is {len(region)} nt, shorter than a {min_length}-nt primer",
            record=record,
            field="end",
        )
    best = region[:min_length]
    for length in range(min_length, min(max_length, len(region)) + 1):
        best = region[:length]
        if primer_tm(best) >= tm:
            break
    return best


def _primer(binding: str, tail: str, position: int, strand: Literal[1, -1]) -> Primer:
    oligo = tail + binding
    probe = oligo[-_MAX_OLIGO:]
    gc = (binding.count("G") + binding.count("C")) / len(binding)
    return Primer(
        sequence=oligo,
        binding=binding,
        tail=tail,
        tm=primer_tm(binding),
        gc=gc,
        position=position,
        strand=strand,
        hairpin_dg=_dg_kcal(primer3.calc_hairpin(probe)),
        homodimer_dg=_dg_kcal(primer3.calc_homodimer(probe)),
    )


def design_primers(
    template: SequenceRecord | str,
    start: int = 0,
    end: int | None = None,
    *,
    tm: float = 60.0,
    tail_fwd: str = "",
    tail_rev: str = "",
    min_length: int = MIN_LENGTH,
    max_length: int = MAX_LENGTH,
) -> PrimerPair:
    """Design the primer pair that amplifies ``template[start:end]`` exactly.

    Parameters
    ----------
    template
        The template (a record or a plain sequence), forward strand.
    start, end
        The 0-based, half-open region to amplify (``end=None``: to the end).
    tm
        Target annealing Tm (degC); each annealing part is the shortest one
        reaching it, between ``min_length`` and ``max_length`` nt.
    tail_fwd, tail_rev
        5' tails, written 5'->3' as they appear on each primer.

    Returns
    -------
    PrimerPair

    Raises
    ------
    ValidationError
        For a region out of range or shorter than a primer, or non-DNA input.

    Examples
    --------
    >>> pair = design_primers("ATGACCATGATTACGCCAAGCTTGCATGCCTGCAGGTCGACTCTAGAGGATCCCCGGGTACC")
    >>> pair.forward.binding, pair.forward.position
    ('ATGACCATGATTACGCCAAGCT', 0)
    >>> pair.amplicon.endswith(reverse_complement(pair.reverse.sequence))
    True
    """
    name = template.name if isinstance(template, SequenceRecord) else None
    raw = template.sequence if isinstance(template, SequenceRecord) else template
    seq = validate_dna(raw, record=name)
    stop = len(seq) if end is None else end
    if not 0 <= start < stop <= len(seq):
        raise ValidationError(
            f"region {start}..{stop} is not inside the {len(seq)}-nt template",
            record=name,
            field="start",
        )
    tails = (validate_dna(tail_fwd, record=name), validate_dna(tail_rev, record=name))
    region = seq[start:stop]
    fwd_binding = _grow(region, tm, min_length, max_length, record=name)
    rev_binding = _grow(reverse_complement(region), tm, min_length, max_length, record=name)
    forward = _primer(fwd_binding, tails[0], start, 1)
    reverse = _primer(rev_binding, tails[1], stop - len(rev_binding), -1)
    amplicon = forward.tail + region + reverse_complement(reverse.tail)
    hetero = primer3.calc_heterodimer(
        forward.sequence[-_MAX_OLIGO:], reverse.sequence[-_MAX_OLIGO:]
    )
    return PrimerPair(forward, reverse, amplicon, _dg_kcal(hetero))
