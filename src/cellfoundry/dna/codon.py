"""Codon optimisation with DNA Chisel, and the Codon Adaptation Index.

:func:`optimise_codons` takes a protein or a coding sequence and returns a
synonymous coding sequence for a host, under the constraints strain engineers
set in DNA Chisel, Benchling or JBEI ICE: GC content in a sliding window, no
BsaI/BpiI site (so the gene stays Golden Gate-compatible), no long homopolymer,
extra forbidden patterns and, optionally, no hairpins. The engine is
DNA Chisel (Zulkower & Rosser 2020, Bioinformatics 36:4508,
doi:10.1093/bioinformatics/btaa558): an ``EnforceTranslation`` constraint, the
other rules as constraints, and ``CodonOptimize`` as the objective.

**The protein never changes.** Every result is translated again with
Biopython, independently of DNA Chisel, and compared with the input protein;
a difference raises :class:`RuntimeError` instead of returning a wrong gene.

**Constraints that cannot be met are reported, not hidden.** When DNA Chisel
finds no sequence meeting a constraint (for example a GC window on a
poly-alanine stretch), that constraint is demoted to an objective (it is still
pursued, as far as it can be) and the result carries one warning for it; its
entry in :attr:`CodonOptimisation.constraints` has ``passed=False`` and DNA
Chisel's own message. Keeping the protein is the only rule that is never
relaxed. Callers that want a hard failure check :attr:`CodonOptimisation.ok`.

Hosts are the codon-usage tables shipped with ``python_codon_tables`` (read
offline; a taxid without a shipped table is refused rather than downloaded):
``"e_coli"`` (K-12, taxid 316407), ``"b_subtilis"`` (1423),
``"s_cerevisiae"`` (4932), and ``"h_sapiens"``, ``"m_musculus"``,
``"g_gallus"``, ``"d_melanogaster"``, ``"c_elegans"``. *C. glutamicum* is not
shipped: pass its codon-usage table as a dict ``{amino acid: {codon:
frequency}}`` (the format DNA Chisel and ``python_codon_tables`` use).

The Codon Adaptation Index is that of Sharp & Li (1987, Nucleic Acids Res.
15:1281, doi:10.1093/nar/15.3.1281): each codon's weight is its frequency over
that of the most used synonymous codon of the host, and the CAI is the
geometric mean of the weights over the sense codons of amino acids that have
synonyms (Met, Trp and stop codons are left out). Weights are taken from the
host's whole-genome usage table, not from a set of highly expressed genes, so
values are comparable between sequences for one host, not with published CAIs.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import python_codon_tables as pct  # type: ignore[import-untyped,unused-ignore]
from Bio.Data import CodonTable
from Bio.Seq import Seq

from cellfoundry.core.errors import ValidationError

__all__ = [
    "HOST_TABLES",
    "CodonOptimisation",
    "CodonUsage",
    "ConstraintResult",
    "Host",
    "OptimisationMethod",
    "codon_adaptation_index",
    "codon_usage",
    "optimise_codons",
    "translate",
]

CodonUsage = Mapping[str, Mapping[str, float]]
"""Relative codon usage: ``{amino acid or '*': {codon: frequency}}``."""

Host = str | int | CodonUsage
"""A host name (``"e_coli"``), its NCBI taxid (``316407``) or a codon-usage table."""

OptimisationMethod = Literal["use_best_codon", "match_codon_usage", "harmonize_rca"]

HOST_TABLES: Final[Mapping[str, tuple[str, int]]] = {
    "e_coli": ("e_coli_316407", 11),
    "b_subtilis": ("b_subtilis_1423", 11),
    "s_cerevisiae": ("s_cerevisiae_4932", 1),
    "h_sapiens": ("h_sapiens_9606", 1),
    "m_musculus": ("m_musculus_10090", 1),
    "g_gallus": ("g_gallus_9031", 1),
    "d_melanogaster": ("d_melanogaster_7227", 1),
    "c_elegans": ("c_elegans_6239", 1),
}
"""Host short name -> (``python_codon_tables`` table name, NCBI genetic code)."""

_TAXIDS: Final[Mapping[int, str]] = {
    int(table.rsplit("_", 1)[1]): short for short, (table, _) in HOST_TABLES.items()
}
_AMINO_ACIDS: Final = frozenset("ACDEFGHIKLMNPQRSTVWY")
_DNA: Final = re.compile(r"[ACGTacgt]+")
_START_CODONS: Final = ("ATG", "GTG", "TTG")
_DEFAULT_TABLE: Final = 11
_CAI_MIN_WEIGHT: Final = 0.01
"""Floor of a codon weight, so a codon absent from the table does not zero the CAI."""
_TRANSLATION: Final = "keep the protein (EnforceTranslation)"


def _dnachisel() -> Any:
    """Import DNA Chisel on first use: it loads matplotlib, which engines must not on import."""
    import dnachisel

    return dnachisel


@dataclass(frozen=True, slots=True)
class ConstraintResult:
    """One constraint checked on the final sequence.

    ``name`` is DNA Chisel's label of the constraint (``"AvoidPattern[BsaI(GGTCTC)]"``),
    ``message`` its evaluation message.
    """

    name: str
    passed: bool
    message: str


@dataclass(frozen=True, slots=True)
class CodonOptimisation:
    """A codon-optimised coding sequence and how it was obtained.

    ``cai_before`` is ``None`` when the input was a protein. ``warnings`` holds
    one line per constraint that could not be met (see the module docstring);
    ``constraints`` lists every constraint, met or not.
    """

    name: str
    sequence: str
    protein: str
    host: str
    method: OptimisationMethod
    table: int
    cai_before: float | None
    cai_after: float
    gc_fraction: float
    constraints: tuple[ConstraintResult, ...]
    warnings: tuple[str, ...]
    seed: int
    input_sequence: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every constraint holds on :attr:`sequence`."""
        return all(c.passed for c in self.constraints)

    @property
    def changed_codons(self) -> int | None:
        """Number of codons that differ from the input CDS, or ``None`` for a protein."""
        if self.input_sequence is None:
            return None
        old, new = self.input_sequence, self.sequence
        return sum(old[i : i + 3] != new[i : i + 3] for i in range(0, len(new), 3))


def _codon_table(table: int) -> Any:
    """Return Biopython's unambiguous DNA codon table number ``table``."""
    try:
        return CodonTable.unambiguous_dna_by_id[table]
    except KeyError:
        raise ValidationError(
            f"unknown NCBI genetic code {table}; use a table id such as 1 or 11",
            field="table",
        ) from None


def translate(cds: str, table: int = _DEFAULT_TABLE, *, start: bool = True) -> str:
    """Translate a DNA sequence codon by codon with Biopython.

    With ``start=True`` a first codon ATG, GTG or TTG that the genetic code
    allows as a start reads as ``M`` (as the ribosome reads it). Stops read
    ``*`` and translation does not stop at them.

    Examples
    --------
    >>> translate("GTGAAATAA")
    'MK*'
    >>> translate("GTGAAATAA", start=False)
    'VK*'
    """
    dna = cds.upper()
    if len(dna) % 3:
        raise ValidationError(f"length {len(dna)} is not a multiple of 3", field="sequence")
    code = _codon_table(table)
    seq: Any = Seq(dna)
    protein = str(seq.translate(table=table))
    if start and dna[:3] in _START_CODONS and dna[:3] in code.start_codons:
        protein = "M" + protein[1:]
    return protein


def codon_usage(host: Host) -> dict[str, dict[str, float]]:
    """Return the relative codon usage of ``host`` as ``{amino acid: {codon: frequency}}``.

    Raises
    ------
    ValidationError
        If the host is neither a shipped table nor a well-formed usage dict.

    Examples
    --------
    >>> codon_usage("e_coli")["W"]
    {'TGG': 1.0}
    """
    return _resolve_host(host)[1]


def _resolve_host(host: Host) -> tuple[str, dict[str, dict[str, float]], int]:
    """Return (label, usage table, default genetic code) for ``host``."""
    if isinstance(host, Mapping):
        return "custom", _check_usage(host), _DEFAULT_TABLE
    short: str | None
    if isinstance(host, bool):
        short = None
    elif isinstance(host, int):
        short = _TAXIDS.get(host)
    else:
        key = host.strip().lower().replace(" ", "_").replace(".", "")
        short = key if key in HOST_TABLES else None
        for name, (table_name, _) in HOST_TABLES.items():
            if key == table_name:
                short = name
    if short is None:
        known = ", ".join(f"{n!r} ({t.rsplit('_', 1)[1]})" for n, (t, _) in HOST_TABLES.items())
        raise ValidationError(
            f"unknown host {host!r}: no shipped codon-usage table (known: {known}); "
            "pass the host's table as a dict {amino acid: {codon: frequency}}",
            field="host",
        )
    table_name, genetic_code = HOST_TABLES[short]
    usage = pct.get_codons_table(table_name)
    return short, {aa: dict(codons) for aa, codons in usage.items()}, genetic_code


def _check_usage(usage: CodonUsage) -> dict[str, dict[str, float]]:
    checked: dict[str, dict[str, float]] = {}
    for aa, codons in usage.items():
        if aa not in _AMINO_ACIDS and aa != "*":
            raise ValidationError(f"codon-usage table has unknown amino acid {aa!r}", field="host")
        entry: dict[str, float] = {}
        for codon, freq in codons.items():
            dna = codon.upper().replace("U", "T")
            if len(dna) != 3 or _DNA.fullmatch(dna) is None:
                raise ValidationError(
                    f"codon-usage table has bad codon {codon!r} for {aa!r}", field="host"
                )
            if not math.isfinite(freq) or freq < 0:
                raise ValidationError(
                    f"codon-usage table has bad frequency {freq!r} for {codon!r}", field="host"
                )
            entry[dna] = float(freq)
        total = sum(entry.values())
        if total <= 0:
            raise ValidationError(f"codon-usage table has no usage for {aa!r}", field="host")
        checked[aa] = {codon: f / total for codon, f in entry.items()}
    missing = sorted(_AMINO_ACIDS - checked.keys())
    if missing:
        raise ValidationError(
            f"codon-usage table lacks amino acids {''.join(missing)}", field="host"
        )
    if "*" not in checked:  # stops are often left out; weigh the three alike
        checked["*"] = dict.fromkeys(("TAA", "TAG", "TGA"), 1 / 3)
    return checked


def _check_usage_code(usage: CodonUsage, genetic_code: Any, table: int) -> None:
    """Refuse a usage table whose codons do not encode their amino acid in ``table``."""
    for aa, codons in usage.items():
        for codon in codons:
            means = (
                "*" if codon in genetic_code.stop_codons else genetic_code.forward_table.get(codon)
            )
            if means != aa:
                raise ValidationError(
                    f"codon-usage table lists {codon} under {aa!r}, but genetic code {table} "
                    f"reads it as {means!r}",
                    field="host",
                )


def _weights(usage: CodonUsage) -> dict[str, float]:
    """Sharp & Li relative adaptiveness w of every codon of a multi-codon amino acid."""
    weights: dict[str, float] = {}
    for aa, codons in usage.items():
        if aa == "*" or len(codons) < 2:
            continue
        best = max(codons.values())
        for codon, freq in codons.items():
            weights[codon] = max(freq / best, _CAI_MIN_WEIGHT)
    return weights


def codon_adaptation_index(cds: str, host: Host = "e_coli", *, table: int | None = None) -> float:
    """Return the Codon Adaptation Index of ``cds`` for ``host`` (Sharp & Li 1987).

    The geometric mean of ``w = f(codon) / max f(synonymous codon)`` over the
    codons of amino acids with synonyms; Met, Trp, stop codons and codons the
    table does not list are skipped. A weight is floored at 0.01.

    Examples
    --------
    >>> round(codon_adaptation_index("CTGCTA", "e_coli"), 4)  # sqrt(1 * 0.04 / 0.50)
    0.2828
    """
    _, usage, default_table = _resolve_host(host)
    dna = cds.upper()
    if len(dna) % 3:
        raise ValidationError(f"length {len(dna)} is not a multiple of 3", field="sequence")
    code = _codon_table(default_table if table is None else table)
    weights = _weights(usage)
    logs = [
        math.log(weights[codon])
        for codon in (dna[i : i + 3] for i in range(0, len(dna), 3))
        if codon in weights and codon in code.forward_table
    ]
    return math.exp(sum(logs) / len(logs)) if logs else 0.0


def _clean(sequence: str) -> str:
    return re.sub(r"\s+", "", sequence)


def _check_protein(protein: str, name: str) -> str:
    protein = protein.upper()
    for i, letter in enumerate(protein):
        if letter == "*" and i == len(protein) - 1:
            continue
        if letter == "*":
            raise ValidationError(
                f"internal stop '*' at residue {i + 1}; only a final '*' is allowed",
                record=name,
                field="sequence",
            )
        if letter not in _AMINO_ACIDS:
            raise ValidationError(
                f"invalid amino acid {letter!r} at residue {i + 1}; "
                "use the 20 standard one-letter codes and an optional final '*'",
                record=name,
                field="sequence",
            )
    return protein


def _check_cds(cds: str, table: int, name: str) -> str:
    dna = cds.upper()
    if len(dna) % 3:
        raise ValidationError(
            f"coding sequence of {len(dna)} nt is not a multiple of 3",
            record=name,
            field="sequence",
        )
    protein = translate(dna, table)
    stop = protein.rstrip("*").find("*")  # a run of final stops (TAATAA) is allowed
    if stop >= 0:
        raise ValidationError(
            f"internal stop codon {dna[3 * stop : 3 * stop + 3]} at codon {stop + 1} "
            f"(nt {3 * stop + 1}) in frame 1",
            record=name,
            field="sequence",
        )
    return protein


def _best_codons(usage: CodonUsage) -> dict[str, str]:
    return {aa: max(sorted(codons), key=lambda c: codons[c]) for aa, codons in usage.items()}


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed the global RNGs DNA Chisel draws from, and restore them afterwards."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    np.random.seed(seed)
    random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


def _label(spec: Any) -> str:
    return str(spec.label(use_short_form=False) if hasattr(spec, "label") else spec)


def _build_constraints(
    *,
    gc_min: float,
    gc_max: float,
    gc_window: int,
    avoid_sites: Sequence[str],
    avoid_homopolymer: int | None,
    avoid_patterns: Sequence[str],
    avoid_hairpins: bool,
) -> list[Any]:
    dc = _dnachisel()
    if not 0.0 <= gc_min <= gc_max <= 1.0:
        raise ValidationError(
            f"GC bounds must satisfy 0 <= gc_min <= gc_max <= 1, got {gc_min}..{gc_max}",
            field="gc_min",
        )
    if gc_window < 3:
        raise ValidationError(
            f"gc_window must be at least 3 nt, got {gc_window}", field="gc_window"
        )
    constraints: list[Any] = [dc.EnforceGCContent(mini=gc_min, maxi=gc_max, window=gc_window)]
    for enzyme in avoid_sites:
        try:
            constraints.append(dc.AvoidPattern(dc.EnzymeSitePattern(enzyme)))
        except Exception:  # Biopython raises several types for a bad name
            raise ValidationError(
                f"unknown restriction enzyme {enzyme!r} (use a REBASE name such as 'BsaI')",
                field="avoid_sites",
            ) from None
    if avoid_homopolymer is not None:
        if avoid_homopolymer < 2:
            raise ValidationError(
                f"avoid_homopolymer must be at least 2, got {avoid_homopolymer}",
                field="avoid_homopolymer",
            )
        constraints += [
            dc.AvoidPattern(dc.HomopolymerPattern(base, avoid_homopolymer)) for base in "ACGT"
        ]
    for pattern in avoid_patterns:
        try:
            constraints.append(dc.AvoidPattern(pattern))
        except Exception:  # DNA Chisel raises several types for a bad pattern
            raise ValidationError(
                f"cannot read pattern {pattern!r} (a DNA string, '6xA' or 'BsaI_site')",
                field="avoid_patterns",
            ) from None
    if avoid_hairpins:
        constraints.append(dc.AvoidHairpins())
    return constraints


def optimise_codons(
    protein_or_cds: str,
    *,
    host: Host = "e_coli",
    gc_min: float = 0.30,
    gc_max: float = 0.65,
    gc_window: int = 50,
    avoid_sites: Sequence[str] = ("BsaI", "BpiI"),
    avoid_homopolymer: int | None = 6,
    avoid_patterns: Sequence[str] = (),
    avoid_hairpins: bool = False,
    method: OptimisationMethod = "use_best_codon",
    source_host: Host | None = None,
    table: int | None = None,
    kind: Literal["auto", "protein", "cds"] = "auto",
    add_stop: bool = True,
    seed: int = 0,
    name: str = "sequence",
) -> CodonOptimisation:
    """Codon-optimise a protein or coding sequence for ``host`` with DNA Chisel.

    Parameters
    ----------
    protein_or_cds
        One-letter protein (an optional final ``*``) or a DNA coding sequence in
        frame 1. White space is ignored; positions in errors count without it.
    host
        Target host: a name, an NCBI taxid of a shipped table, or a usage dict.
    gc_min, gc_max, gc_window
        GC fraction allowed in every window of ``gc_window`` nt.
    avoid_sites
        Restriction enzymes whose sites (either strand) must not occur.
    avoid_homopolymer
        No run of this many identical bases (or more); ``None`` to allow any.
    avoid_patterns
        More forbidden DNA Chisel patterns (``"GGAGG"``, ``"8xT"``...).
    avoid_hairpins
        Also forbid hairpins (DNA Chisel's 20-nt stems within 200 nt).
    method
        ``"use_best_codon"`` (maximise CAI), ``"match_codon_usage"`` (match the
        host's codon distribution) or ``"harmonize_rca"`` (keep each codon's
        relative adaptiveness from ``source_host``; needs a CDS).
    source_host
        Native host of the CDS, for ``"harmonize_rca"``.
    table
        NCBI genetic code; by default 11 for bacteria and usage dicts, 1 for eukaryotes.
    kind
        Read the input as a protein or a CDS; ``"auto"`` takes a sequence of only
        A, C, G and T as DNA.
    add_stop
        Append a stop codon when the protein has no final ``*``.
    seed
        Seed of DNA Chisel's random search: equal inputs and seeds give equal results.
    name
        Name of the sequence, used in results and errors.

    Returns
    -------
    CodonOptimisation

    Raises
    ------
    ValidationError
        For an empty or malformed input, an unknown host, enzyme or pattern.
    RuntimeError
        If the optimised sequence would not encode the input protein (never expected).

    Examples
    --------
    >>> result = optimise_codons("MKKLLV*", name="demo")
    >>> result.protein, translate(result.sequence)
    ('MKKLLV*', 'MKKLLV*')
    """
    text = _clean(protein_or_cds)
    if not text:
        raise ValidationError("empty sequence", record=name, field="sequence")
    host_label, usage, host_code = _resolve_host(host)
    code = host_code if table is None else table
    genetic_code = _codon_table(code)
    _check_usage_code(usage, genetic_code, code)
    is_dna = kind == "cds" or (kind == "auto" and _DNA.fullmatch(text) is not None)

    input_cds: str | None
    if is_dna:
        bad = re.search(r"[^ACGTacgt]", text)
        if bad is not None:
            raise ValidationError(
                f"invalid base {bad.group()!r} at position {bad.start() + 1} of the CDS; "
                "use A, C, G and T",
                record=name,
                field="sequence",
            )
        input_cds = text.upper()
        protein = _check_cds(input_cds, code, name)
        start = input_cds[:3] if input_cds[:3] in _START_CODONS else None
        start = start if start in genetic_code.start_codons else None
        initial = input_cds
    else:
        input_cds = None
        protein = _check_protein(text, name)
        if add_stop and not protein.endswith("*"):
            protein += "*"
        best = _best_codons(usage)
        start = None
        initial = "".join(best[aa] for aa in protein)

    constraints = _build_constraints(
        gc_min=gc_min,
        gc_max=gc_max,
        gc_window=gc_window,
        avoid_sites=avoid_sites,
        avoid_homopolymer=avoid_homopolymer,
        avoid_patterns=avoid_patterns,
        avoid_hairpins=avoid_hairpins,
    )
    objective = _objective(method, usage, source_host, is_dna)
    translation = _dnachisel().EnforceTranslation(
        genetic_table=genetic_code.names[0],
        start_codon="keep" if start else None,
        translation=protein if start is None else None,
    )

    sequence, warnings = _solve(initial, translation, constraints, objective, seed)
    sequence = sequence.upper()

    produced = translate(sequence, code, start=start is not None)
    if produced != protein or (start is not None and sequence[:3] != start):
        raise RuntimeError(
            f"{name}: optimised sequence encodes {produced!r}, not {protein!r}; "
            "refusing to return a changed protein"
        )
    report = _report(sequence, constraints)
    return CodonOptimisation(
        name=name,
        sequence=sequence,
        protein=protein,
        host=host_label,
        method=method,
        table=code,
        cai_before=None
        if input_cds is None
        else codon_adaptation_index(input_cds, usage, table=code),
        cai_after=codon_adaptation_index(sequence, usage, table=code),
        gc_fraction=(sequence.count("G") + sequence.count("C")) / len(sequence),
        constraints=report,
        warnings=warnings,
        seed=seed,
        input_sequence=input_cds,
    )


def _objective(
    method: OptimisationMethod, usage: CodonUsage, source_host: Host | None, is_dna: bool
) -> Any:
    dc = _dnachisel()
    if method == "harmonize_rca":
        if not is_dna:
            raise ValidationError(
                "method 'harmonize_rca' needs a coding sequence, not a protein", field="method"
            )
        if source_host is None:
            raise ValidationError(
                "method 'harmonize_rca' needs source_host, the CDS's native host",
                field="source_host",
            )
        source = _resolve_host(source_host)[1]
        return dc.CodonOptimize(
            method=method, codon_usage_table=dict(usage), original_codon_usage_table=source
        )
    if method not in ("use_best_codon", "match_codon_usage"):
        raise ValidationError(
            f"unknown method {method!r}; use 'use_best_codon', 'match_codon_usage' "
            "or 'harmonize_rca'",
            field="method",
        )
    return dc.CodonOptimize(method=method, codon_usage_table=dict(usage))


def _solve(
    initial: str, translation: Any, constraints: list[Any], objective: Any, seed: int
) -> tuple[str, tuple[str, ...]]:
    """Resolve constraints (demoting any impossible one to an objective), then optimise."""
    dc = _dnachisel()
    hard = list(constraints)
    soft: list[Any] = []
    warnings: list[str] = []
    with _seeded(seed):
        problem = dc.DnaOptimizationProblem(
            sequence=initial, constraints=[translation, *hard], objectives=[objective], logger=None
        )
        while True:
            try:
                problem.resolve_constraints(final_check=True)
                break
            except dc.NoSolutionError as error:
                # The problem holds initialised copies of the specifications, in order.
                live = list(problem.constraints)[1:]
                failed_at = getattr(error, "constraint", None)
                index = next((i for i, c in enumerate(live) if c is failed_at), None)
                if index is None:
                    index = next(
                        (i for i, c in enumerate(live) if not c.evaluate(problem).passes), None
                    )
                if index is None:  # no constraint in particular fails
                    break
                failed = hard[index]
                hard.remove(failed)
                soft.append(failed)
                warnings.append(f"could not meet {_label(failed)}; optimised towards it instead")
                problem = dc.DnaOptimizationProblem(
                    sequence=problem.sequence,
                    constraints=[translation, *hard],
                    objectives=[objective, *soft],
                    logger=None,
                )
        problem.optimize()
    return str(problem.sequence), tuple(warnings)


def _report(sequence: str, constraints: list[Any]) -> tuple[ConstraintResult, ...]:
    dc = _dnachisel()
    problem = dc.DnaOptimizationProblem(sequence=sequence, constraints=constraints, logger=None)
    results = []
    for spec in problem.constraints:
        evaluation = spec.evaluate(problem)
        results.append(
            ConstraintResult(
                name=_label(spec), passed=bool(evaluation.passes), message=str(evaluation.message)
            )
        )
    return (ConstraintResult(_TRANSLATION, True, "protein checked with Biopython"), *results)
