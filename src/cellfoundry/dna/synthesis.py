"""Synthesis planning: split a long sequence into overlapping fragments for assembly.

In the manner of DnaWeaver (Zulkower et al. 2019, Bioinformatics 36:1085), a
sequence too long to order in one piece is cut into fragments that overlap
their neighbours by 20-40 bp, for Gibson assembly (Gibson et al. 2009, Nat.
Methods 6:343) or yeast homologous recombination. An overlap is allowed
where it

- occurs once in the sequence (both strands): none of its ``repeat_k``-mers
  occurs twice, so the ends cannot anneal at the wrong place;
- has no homopolymer run of ``max_homopolymer`` or more, and no base in a
  ``gc_window`` with extreme GC content;
- has a GC fraction within ``overlap_gc`` and a melting temperature within
  ``overlap_tm`` (primer3-py ``calc_tm``, SantaLucia 1998 nearest neighbour,
  50 mM Na+, 1.5 mM Mg2+, 50 nM oligo).

At each start the shortest allowed overlap is taken. Cut points are chosen
by dynamic programming over the allowed overlap starts, minimising the
total cost ``sum(cost_per_bp * length + cost_per_fragment)`` with every
fragment between ``min_fragment`` and ``max_fragment`` long (overlaps
included). With a linear price this also minimises the number of fragments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import reverse_complement

__all__ = [
    "Overlap",
    "SynthesisFragment",
    "SynthesisPlan",
    "melting_temperature",
    "plan_synthesis",
]

VENDOR_GC: Final = (0.25, 0.65)
"""Overall GC range most gene-synthesis vendors accept for a fragment."""

VENDOR_HOMOPOLYMER: Final = 10
"""Homopolymer run length most vendors reject."""


@dataclass(frozen=True, slots=True)
class Overlap:
    """The region shared by two neighbouring fragments, ``start .. end`` of the input."""

    start: int
    end: int
    sequence: str
    tm_c: float
    gc_fraction: float


@dataclass(frozen=True, slots=True)
class SynthesisFragment:
    """One fragment to order: ``start .. end`` of the input, overlaps included."""

    start: int
    end: int
    sequence: str
    cost: float

    def __len__(self) -> int:
        return len(self.sequence)


@dataclass(frozen=True, slots=True)
class SynthesisPlan:
    """Fragments in order, the overlaps between them, the total cost and warnings."""

    length: int
    fragments: tuple[SynthesisFragment, ...]
    overlaps: tuple[Overlap, ...]
    total_cost: float
    warnings: tuple[str, ...]

    @property
    def n_fragments(self) -> int:
        """Number of fragments."""
        return len(self.fragments)

    def assemble(self) -> str:
        """Join the fragments by their overlaps, as the assembly would.

        Raises
        ------
        ValidationError
            If a fragment does not end or begin with its overlap.
        """
        if not self.fragments:
            return ""
        out = self.fragments[0].sequence
        for overlap, fragment in zip(self.overlaps, self.fragments[1:], strict=True):
            if not (
                out.endswith(overlap.sequence) and fragment.sequence.startswith(overlap.sequence)
            ):
                raise ValidationError(
                    f"fragment at {fragment.start} does not share overlap {overlap.sequence}",
                    field="fragments",
                )
            out += fragment.sequence[len(overlap.sequence) :]
        return out


def melting_temperature(seq: str) -> float:
    """Melting temperature (°C) of a duplex, by primer3's nearest-neighbour model.

    Falls back to the GC formula ``64.9 + 41 (GC - 16.4) / N`` without primer3.

    Examples
    --------
    >>> 50 < melting_temperature("ATGCGTACGTTAGCCGATCG") < 65
    True
    """
    try:
        import primer3
    except ImportError:  # pragma: no cover - primer3-py is a dependency
        gc = seq.count("G") + seq.count("C")
        return 64.9 + 41.0 * (gc - 16.4) / max(len(seq), 1)
    return float(primer3.calc_tm(seq))


def _masked(
    seq: str, repeat_k: int, max_homopolymer: int, gc_window: tuple[int, float, float]
) -> npt.NDArray[np.bool_]:
    """Positions an overlap must not cover: repeats, homopolymers, extreme GC windows."""
    n = len(seq)
    mask = np.zeros(n, dtype=bool)
    if n >= repeat_k:
        counts: dict[str, int] = {}
        for text in (seq, reverse_complement(seq)):
            for i in range(n - repeat_k + 1):
                kmer = text[i : i + repeat_k]
                counts[kmer] = counts.get(kmer, 0) + 1
        repeated = np.zeros(n + 1, dtype=np.int64)
        for i in range(n - repeat_k + 1):
            if counts[seq[i : i + repeat_k]] > 1:
                repeated[i] += 1
                repeated[i + repeat_k] -= 1
        mask |= np.cumsum(repeated[:n]) > 0
    run_start = 0
    for i in range(1, n + 1):
        if i == n or seq[i] != seq[run_start]:
            if i - run_start >= max_homopolymer:
                mask[run_start:i] = True
            run_start = i
    width, gc_lo, gc_hi = gc_window
    if n >= width:
        is_gc = np.frombuffer(seq.encode("ascii"), dtype=np.uint8)
        gc = np.isin(is_gc, np.frombuffer(b"GC", dtype=np.uint8)).astype(np.int64)
        sums = np.convolve(gc, np.ones(width, dtype=np.int64), mode="valid") / width
        extreme = np.zeros(n + 1, dtype=np.int64)
        flagged = np.flatnonzero((sums < gc_lo) | (sums > gc_hi))
        np.add.at(extreme, flagged, 1)
        np.add.at(extreme, flagged + width, -1)
        mask |= np.cumsum(extreme[:n]) > 0
    return mask


def _difficulties(fragment: str, start: int) -> list[str]:
    notes = []
    gc = (fragment.count("G") + fragment.count("C")) / len(fragment)
    if not VENDOR_GC[0] <= gc <= VENDOR_GC[1]:
        notes.append(
            f"fragment at {start} has {gc:.0%} GC, outside the {VENDOR_GC[0]:.0%}-"
            f"{VENDOR_GC[1]:.0%} most vendors accept"
        )
    for base in "ACGT":
        if base * VENDOR_HOMOPOLYMER in fragment:
            notes.append(
                f"fragment at {start} holds a run of {VENDOR_HOMOPOLYMER}+ {base}; "
                "vendors may refuse it"
            )
    return notes


def plan_synthesis(
    sequence: str,
    *,
    max_fragment: int = 3000,
    min_fragment: int = 300,
    overlap: tuple[int, int] = (20, 40),
    overlap_tm: tuple[float, float] | None = (48.0, 65.0),
    overlap_gc: tuple[float, float] = (0.2, 0.75),
    cost_per_bp: float = 0.07,
    cost_per_fragment: float = 0.0,
    max_homopolymer: int = 6,
    gc_window: tuple[int, float, float] = (50, 0.1, 0.9),
    repeat_k: int = 16,
) -> SynthesisPlan:
    """Split ``sequence`` into overlapping fragments at the lowest cost.

    Parameters
    ----------
    sequence
        The DNA to build (A, C, G, T).
    max_fragment, min_fragment
        Limits on each fragment's length, overlaps included.
    overlap
        Shortest and longest overlap (bp).
    overlap_tm
        Allowed overlap melting temperature (°C), or ``None`` for no limit.
    overlap_gc
        Allowed overlap GC fraction.
    cost_per_bp, cost_per_fragment
        The price of a fragment: ``cost_per_bp * length + cost_per_fragment``.
    max_homopolymer
        Overlaps avoid homopolymer runs this long or longer.
    gc_window
        ``(width, low, high)``: overlaps avoid windows with GC outside ``low .. high``.
    repeat_k
        Overlaps avoid any ``repeat_k``-mer found twice in the sequence (either strand).

    Returns
    -------
    SynthesisPlan
        Fragments, overlaps, total cost and vendor warnings.

    Raises
    ------
    ValidationError
        For a sequence that is not DNA or shorter than ``min_fragment``,
        inconsistent limits, or no split that meets the limits (naming the
        longest stretch without an allowed overlap).

    References
    ----------
    Zulkower et al. 2019, "DnaWeaver: optimal assembly planning", Bioinformatics
    36:1085; Gibson et al. 2009, Nat. Methods 6:343.

    Examples
    --------
    >>> import random
    >>> rng = random.Random(1)
    >>> seq = "".join(rng.choice("ACGT") for _ in range(2500))
    >>> plan = plan_synthesis(seq, max_fragment=1000, min_fragment=200)
    >>> plan.n_fragments, plan.assemble() == seq
    (3, True)
    """
    seq = sequence.upper()
    bad = set(seq) - set("ACGT")
    if bad:
        raise ValidationError(
            f"sequence holds {''.join(sorted(bad))!r}; synthesis planning needs A, C, G, T",
            field="sequence",
        )
    lo, hi = overlap
    if not 1 <= lo <= hi:
        raise ValidationError(f"overlap range {overlap} is not 1 <= low <= high", field="overlap")
    if min_fragment > max_fragment:
        raise ValidationError(
            f"min_fragment {min_fragment} exceeds max_fragment {max_fragment}", field="min_fragment"
        )
    if min_fragment < 2 * hi:
        raise ValidationError(
            f"min_fragment {min_fragment} must be at least twice the longest overlap ({hi})",
            field="min_fragment",
        )
    n = len(seq)
    if n < min_fragment:
        raise ValidationError(
            f"sequence of {n} bp is shorter than min_fragment ({min_fragment} bp); "
            "order it as one piece or lower min_fragment",
            field="sequence",
        )

    def cost(length: int) -> float:
        return cost_per_bp * length + cost_per_fragment

    if n <= max_fragment:
        return SynthesisPlan(
            n, (SynthesisFragment(0, n, seq, cost(n)),), (), cost(n), tuple(_difficulties(seq, 0))
        )

    mask = _masked(seq, min(repeat_k, lo), max_homopolymer, gc_window)
    masked_prefix = np.concatenate(([0], np.cumsum(mask)))
    gc_prefix = np.concatenate(([0], np.cumsum([b in "GC" for b in seq])))
    lengths = np.zeros(n + 1, dtype=np.int64)  # overlap length chosen at each start, 0 = none
    tms = np.zeros(n + 1)
    for s in range(1, n - hi):
        if masked_prefix[s + lo] != masked_prefix[s]:
            continue
        for length in range(lo, hi + 1):
            if masked_prefix[s + length] != masked_prefix[s]:
                break
            gc = (gc_prefix[s + length] - gc_prefix[s]) / length
            if not overlap_gc[0] <= gc <= overlap_gc[1]:
                continue
            if overlap_tm is not None:
                tm = melting_temperature(seq[s : s + length])
                if tm > overlap_tm[1]:
                    break
                if tm < overlap_tm[0]:
                    continue
            else:
                tm = melting_temperature(seq[s : s + length])
            lengths[s], tms[s] = length, tm
            break

    starts = np.flatnonzero(lengths)
    inf = np.inf
    # g[p] = best cost of a plan whose last overlap starts at p, minus cost_per_bp * p
    g = np.full(n + 1, inf)
    previous = np.full(n + 1, -2, dtype=np.int64)  # -1 = first fragment
    for start in starts:
        s = int(start)
        end = s + int(lengths[s])
        candidates: list[tuple[float, int]] = []
        if min_fragment <= end <= max_fragment:
            candidates.append((cost(end), -1))
        a, b = max(end - max_fragment, 1), end - min_fragment
        if b >= a:
            window = g[a : b + 1]
            k = int(np.argmin(window))
            if window[k] < inf:
                candidates.append((float(window[k]) + cost_per_bp * end + cost_per_fragment, a + k))
        if candidates:
            value, prev = min(candidates)
            previous[s] = prev
            g[s] = value - cost_per_bp * s
    a, b = max(n - max_fragment, 1), n - min_fragment
    final = g[a : b + 1] + cost_per_bp * n + cost_per_fragment if b >= a else np.array([])
    if final.size == 0 or not np.isfinite(final.min()):
        gaps = np.diff(np.concatenate(([0], starts, [n])))
        worst = int(np.argmax(gaps))
        left = 0 if worst == 0 else int(starts[worst - 1])
        gap = int(gaps[worst])
        raise ValidationError(
            f"no split into {min_fragment}-{max_fragment} bp fragments exists: the longest "
            f"stretch without an allowed overlap is {gap} bp ({left}..{left + gap}); "
            "raise max_fragment or relax the overlap rules",
            field="max_fragment",
        )
    last = a + int(np.argmin(final))
    total = float(final.min())
    chosen: list[int] = []
    node = last
    while node != -1:
        chosen.append(node)
        node = int(previous[node])
    chosen.reverse()
    overlaps = tuple(
        Overlap(
            s,
            s + int(lengths[s]),
            seq[s : s + int(lengths[s])],
            float(tms[s]),
            (int(gc_prefix[s + int(lengths[s])]) - int(gc_prefix[s])) / int(lengths[s]),
        )
        for s in chosen
    )
    bounds = [0, *(o.start for o in overlaps)]
    ends = [*(o.end for o in overlaps), n]
    fragments = tuple(
        SynthesisFragment(start, end, seq[start:end], cost(end - start))
        for start, end in zip(bounds, ends, strict=True)
    )
    warnings = [note for f in fragments for note in _difficulties(f.sequence, f.start)]
    for o in overlaps:  # uniqueness holds by construction of the repeat mask; check anyway
        if seq.count(o.sequence) + reverse_complement(seq).count(o.sequence) != 1:
            raise AssertionError(f"overlap {o.sequence} at {o.start} is not unique")
    return SynthesisPlan(n, fragments, overlaps, total, tuple(warnings))
