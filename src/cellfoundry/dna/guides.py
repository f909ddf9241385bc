"""Guide design per gene: knock-out, CRISPRi and base-editor (stop codon) guides, ranked.

:func:`guide_library` picks, for every protein-coding gene of a genome (or the
genes asked for), the best guides for one purpose:

``knockout``
    SpCas9 guides that cut inside the coding sequence, preferring the first
    5-65 % of it (a cut there with a deletion donor, or an indel, loses most of
    the protein; Doench et al. 2014).
``crispri``
    dCas9 guides for transcriptional repression: inside the coding sequence the
    guide must pair with the non-template (coding) strand, i.e. its PAM lies on
    the template strand, and the closer to the start the stronger (Qi et al.
    2013, Cell 152:1173; Larson et al. 2013, Nat. Protoc. 8:2180); in the
    100 nt upstream of the start codon (the promoter, whose transcription
    start is rarely annotated) either strand represses.
``base_edit``
    Cytidine base-editor guides (BE3/BE4-like, C to T in protospacer positions
    4-8 counted from the PAM-distal end; Komor et al. 2016) that turn a codon
    into a stop codon of the gene's genetic code: CAA, CAG, CGA on the coding
    strand, or TGG through the Cs of the other strand (CRISPR-STOP, Billon et
    al. 2017; iSTOP, Kuscu et al. 2017). Every C in the window is edited
    (bystanders included) and the resulting protein change is reported; in
    *Mycoplasma* and other code-4 genomes TGA is tryptophan, so CGA and TGG
    give no stop there.

Candidates are filtered and ranked on documented rules (poly-T, GC 30-80 %,
seed uniqueness), the Rule Set 1 on-target score, and a genome-wide
off-target search (MIT and CFD specificities, off-targets by number of
mismatches), as CRISPOR reports them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pandas as pd
from Bio.Data import CodonTable
from Bio.Data.CodonTable import TranslationError
from Bio.Seq import Seq

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.core.sequence import SequenceRecord, reverse_complement
from cellfoundry.dna.crispr import Guide, find_guides, mit_specificity
from cellfoundry.dna.offtarget import OffTargetHit, OffTargetIndex
from cellfoundry.dna.scores import cfd_specificity, on_target_flags, rule_set_1_scores

__all__ = [
    "GeneTarget",
    "GuideDesign",
    "Purpose",
    "design_guides",
    "find_offtargets",
    "genes_of",
    "guide_library",
    "infer_table",
]

Purpose = Literal["knockout", "crispri", "base_edit"]

SEED: Final = 12
"""PAM-proximal spacer bases whose uniqueness is checked (Cong et al. 2013)."""

KNOCKOUT_WINDOW: Final = (0.05, 0.65)
"""Preferred cut positions as fractions of the coding sequence."""

CRISPRI_UPSTREAM: Final = 100
"""Nucleotides before the start codon searched for CRISPRi guides (either strand)."""

CRISPRI_CDS: Final = 300
"""Nucleotides of the coding sequence searched for CRISPRi guides (template-strand PAM)."""

BASE_EDIT_WINDOW: Final = (4, 8)
"""Protospacer positions (1-based from the PAM-distal end) a cytidine base editor edits."""

_CANDIDATES_PER_GENE: Final = 10
_COMPLEMENT: Final = str.maketrans("ACGT", "TGCA")


@dataclass(frozen=True, slots=True)
class GeneTarget:
    """A protein-coding gene of a genome: its coding sequence's coordinates and code."""

    name: str
    gene: str
    contig: str
    strand: Literal[1, -1]
    coordinates: tuple[tuple[int, int], ...]  # spans, 0-based half-open, forward strand
    table: int

    @property
    def start(self) -> int:
        """Leftmost coordinate."""
        return min(s for s, _ in self.coordinates)

    @property
    def end(self) -> int:
        """Rightmost coordinate (exclusive)."""
        return max(e for _, e in self.coordinates)

    def cds_positions(self) -> np.ndarray:
        """Forward coordinates of the coding sequence, in the gene's 5'->3' order."""
        parts = [np.arange(s, e) for s, e in sorted(self.coordinates)]
        positions = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return positions if self.strand == 1 else positions[::-1]


@dataclass(frozen=True, slots=True)
class GuideDesign:
    """A guide chosen for a gene, with its scores.

    ``cut`` is the forward coordinate of SpCas9's blunt cut (between ``cut - 1``
    and ``cut``); ``offset`` is where the cut falls: a fraction of the coding
    sequence for knock-outs, nucleotides from the start codon (negative =
    upstream) for CRISPRi and base editing. ``off_targets`` counts the other
    sites by number of mismatches, 0 to the searched limit. ``edit`` names the
    protein change of a base-editor guide (``Q45*``), bystanders after a comma.
    """

    gene: str
    purpose: Purpose
    contig: str
    position: int
    strand: Literal[1, -1]
    spacer: str
    pam: str
    cut: int
    offset: float
    gc_fraction: float
    rule_set_1: float | None
    seed_unique: bool
    off_targets: tuple[int, ...]
    mit_specificity: float
    cfd_specificity: float
    flags: tuple[str, ...]
    edit: str
    score: float


def genes_of(
    records: Iterable[SequenceRecord], genes: Sequence[str] | None = None
) -> list[GeneTarget]:
    """List the protein-coding genes (CDS features) of the records, or those named in ``genes``.

    A gene is named by its ``locus_tag``, else ``gene``, else label; ``genes``
    may use either the locus tag or the gene name.

    Raises
    ------
    ValidationError
        For a requested gene that is absent, or a name that matches several CDSs.
    """
    found: list[GeneTarget] = []
    for record in records:
        default_table = infer_table(record)
        for feature in record.features:
            if feature.type != "CDS" or not feature.spans:
                continue
            strand = feature.strand
            if strand not in (1, -1):
                continue
            name = feature.qualifier("locus_tag") or feature.qualifier("gene") or feature.label
            table = feature.qualifier("transl_table")
            found.append(
                GeneTarget(
                    name=name,
                    gene=feature.qualifier("gene") or "",
                    contig=record.name,
                    strand=1 if strand == 1 else -1,
                    coordinates=tuple((s.start, s.end) for s in feature.spans),
                    table=int(table) if table and table.isdigit() else default_table,
                )
            )
    if genes is None:
        return found
    by_name: dict[str, list[GeneTarget]] = {}
    for target in found:
        for key in {target.name, target.gene} - {""}:
            by_name.setdefault(key.lower(), []).append(target)
    chosen: list[GeneTarget] = []
    for wanted in genes:
        matches = by_name.get(wanted.lower(), [])
        if not matches:
            raise ValidationError(
                "no CDS with this locus tag or gene name in the genome", record=wanted, field="gene"
            )
        if len(matches) > 1:
            names = ", ".join(m.name for m in matches[:5])
            raise ValidationError(
                f"the name matches {len(matches)} CDSs ({names}); use a locus tag",
                record=wanted,
                field="gene",
            )
        chosen.append(matches[0])
    return chosen


def infer_table(record: SequenceRecord, default: int = 11) -> int:
    """Return the genetic code of a record's CDSs that have no ``/transl_table``.

    Many annotations (IMG, Prokka) leave the qualifier out even where the code is not
    the standard bacterial 11; the ``/translation`` they give tells which code made it.
    The first CDSs with a translation vote between codes 11, 4 (Mycoplasma,
    Spiroplasma) and 1; with none, ``default``.
    """
    votes: Counter[int] = Counter()
    for feature in record.features:
        if len(votes) and sum(votes.values()) >= 20:
            break
        translation = feature.qualifier("translation") if feature.type == "CDS" else None
        if not translation or feature.strand not in (1, -1) or len(feature.spans) != 1:
            continue
        span = feature.spans[0]
        cds = record.sequence[span.start : span.end]
        if feature.strand == -1:
            cds = reverse_complement(cds)
        for table in (11, 4, 1):
            try:
                protein = str(Seq(cds).translate(table=table, cds=True))  # type: ignore[no-untyped-call]
            except TranslationError:
                continue
            if protein == translation.replace(" ", ""):
                votes[table] += 1
                break
    return votes.most_common(1)[0][0] if votes else default


def _cut(guide: Guide) -> int:
    """Forward coordinate of SpCas9's cut: 3 nt 5' of the PAM, on the guide's strand."""
    spacer = len(guide.spacer)
    return guide.position + spacer - 3 if guide.strand == 1 else guide.position + len(guide.pam) + 3


def _context(sequence: str, guide: Guide) -> str | None:
    """Return the 30-mer Rule Set 1 scores (4 + spacer + NGG + 3), or None at a contig end."""
    if len(guide.spacer) != 20 or len(guide.pam) != 3:
        return None
    if guide.strand == 1:
        lo, hi = guide.position - 4, guide.position + 27
        text = sequence[lo : hi - 1] if lo >= 0 and hi - 1 <= len(sequence) else None
    else:
        lo, hi = guide.position - 3, guide.position + 27
        text = reverse_complement(sequence[lo:hi]) if lo >= 0 and hi <= len(sequence) else None
    return text.upper() if text is not None and len(text) == 30 else None


@dataclass(frozen=True, slots=True)
class _Candidate:
    target: GeneTarget
    guide: Guide
    offset: float
    edit: str
    preference: float  # within-gene preference from position (0-1, higher better)


def _stop_edit(sequence: str, target: GeneTarget, guide: Guide, cds_index: dict[int, int]) -> str:
    """Name the protein change a C->T base editor makes with this guide ("" if no stop)."""
    lo, hi = BASE_EDIT_WINDOW
    width = len(guide.spacer) + len(guide.pam)
    edits: dict[int, str] = {}  # forward coordinate -> new forward base
    for i in range(lo - 1, hi):
        if guide.spacer[i] != "C":
            continue
        if guide.strand == 1:
            edits[guide.position + i] = "T"
        else:
            edits[guide.position + width - 1 - i] = "A"
    if not edits:
        return ""
    positions = target.cds_positions()
    codons: set[int] = set()
    for coordinate in edits:
        index = cds_index.get(coordinate)
        if index is not None:
            codons.add(index // 3)
    if not codons:
        return ""
    code = CodonTable.unambiguous_dna_by_id[target.table]
    changes: list[tuple[int, str, str]] = []
    for codon_number in sorted(codons):
        coords = positions[3 * codon_number : 3 * codon_number + 3]
        if len(coords) < 3:
            continue
        before = "".join(sequence[int(c)] for c in coords).upper()
        after = "".join(edits.get(int(c), sequence[int(c)].upper()) for c in coords)
        if target.strand == -1:  # coordinates run 5'->3' along the gene: complement only
            before = before.translate(_COMPLEMENT)
            after = after.translate(_COMPLEMENT)
        aa_before = "*" if before in code.stop_codons else code.forward_table.get(before, "X")
        aa_after = "*" if after in code.stop_codons else code.forward_table.get(after, "X")
        if aa_before != aa_after:
            changes.append((codon_number + 1, aa_before, aa_after))
    stops = [c for c in changes if c[2] == "*" and c[1] != "*"]
    if not stops or stops[0] != changes[0]:
        return ""  # no stop, or a missense change before it
    return ",".join(f"{a}{n}{b}" for n, a, b in changes)


def _candidates(
    sequence: str, target: GeneTarget, guides: Sequence[Guide], purpose: Purpose
) -> list[_Candidate]:
    positions = target.cds_positions()
    length = len(positions)
    if length < 3:
        return []
    start_codon = int(positions[0])
    cds_index = {int(c): i for i, c in enumerate(positions)} if purpose != "crispri" else {}
    out: list[_Candidate] = []
    for guide in guides:
        cut = _cut(guide)
        if purpose == "knockout":
            index = cds_index.get(cut)
            if index is None:
                continue
            fraction = index / length
            lo, hi = KNOCKOUT_WINDOW
            inside = lo <= fraction <= hi
            preference = 1.0 if inside else 0.5 - abs(fraction - (lo + hi) / 2) / 2
            out.append(_Candidate(target, guide, fraction, "", preference))
        elif purpose == "crispri":
            # signed distance of the cut from the start codon, along the gene
            distance = (cut - start_codon) * target.strand
            if -CRISPRI_UPSTREAM <= distance < 0:
                out.append(_Candidate(target, guide, float(distance), "", 1.0 + distance / 1000))
            elif 0 <= distance < CRISPRI_CDS and guide.strand == -target.strand:
                out.append(_Candidate(target, guide, float(distance), "", 1.0 - distance / 1000))
        else:
            edit = _stop_edit(sequence, target, guide, cds_index)
            if edit:
                first = int(edit.split(",")[0][1:-1])
                out.append(
                    _Candidate(target, guide, float(3 * (first - 1)), edit, 1.0 - first / length)
                )
    return out


def _guides_near(guides: Sequence[Guide], starts: np.ndarray, lo: int, hi: int) -> Sequence[Guide]:
    a = int(np.searchsorted(starts, lo, side="left"))
    b = int(np.searchsorted(starts, hi, side="right"))
    return guides[a:b]


def guide_library(
    genome: Sequence[SequenceRecord],
    *,
    genes: Sequence[str] | None = None,
    purpose: Purpose = "knockout",
    per_gene: int = 4,
    max_mismatches: int = 3,
    index: OffTargetIndex | None = None,
    progress: Progress | None = None,
) -> list[GuideDesign]:
    """Choose the best ``per_gene`` SpCas9 (NGG, 20 nt) guides of each gene for ``purpose``.

    Candidates with poly-T are dropped; the best few per gene by position and
    Rule Set 1 are searched genome-wide (both strands, NGG sites, up to
    ``max_mismatches``); guides with another perfect site are dropped, and the
    rest ranked by ``score = 0.5 CFD specificity/100 + 0.3 Rule Set 1 + 0.2
    position preference``, minus 0.2 per heuristic flag (GC) and 0.3 if the
    seed is not unique. Genes with fewer suitable guides get fewer.
    """
    if purpose not in ("knockout", "crispri", "base_edit"):
        raise ValidationError(
            f"unknown purpose {purpose!r}; use knockout, crispri or base_edit", field="purpose"
        )
    if per_gene < 1:
        raise ValidationError("per_gene must be at least 1", field="per_gene")
    report = progress or NullProgress()
    records = list(genome)
    targets = genes_of(records, genes)
    sequences = {r.name: r.sequence.upper() for r in records}
    guides_by_contig: dict[str, list[Guide]] = {}
    starts_by_contig: dict[str, np.ndarray] = {}
    seeds: Counter[str] = Counter()
    for record in records:
        found = find_guides(record.sequence, pam="NGG", spacer=20, skip_invalid=True)
        guides_by_contig[record.name] = found
        starts_by_contig[record.name] = np.fromiter((g.position for g in found), dtype=np.int64)
        seeds.update(g.spacer[-SEED:] + g.pam[1:] for g in found)
    total = len(targets) + 1
    chosen: list[_Candidate] = []
    for done, target in enumerate(targets, 1):
        seq = sequences[target.contig]
        margin = CRISPRI_UPSTREAM + 30
        near = _guides_near(
            guides_by_contig[target.contig],
            starts_by_contig[target.contig],
            target.start - margin,
            target.end + margin,
        )
        candidates = [c for c in _candidates(seq, target, near, purpose) if not c.guide.poly_t]
        contexts = [_context(seq, c.guide) for c in candidates]
        rs1 = rule_set_1_scores([c if c is not None else "A" * 30 for c in contexts])
        ranked = sorted(
            range(len(candidates)),
            key=lambda i: -(candidates[i].preference + 0.5 * float(rs1[i])),
        )
        chosen.extend(candidates[i] for i in ranked[:_CANDIDATES_PER_GENE])
        if done % 50 == 0:
            report(done, total)
    if index is None:
        index = OffTargetIndex(records, pam="NGG", spacer=20)
    spacers = {str(i): c.guide.spacer for i, c in enumerate(chosen)}
    hits_by_guide: dict[str, list[OffTargetHit]] = {}
    for hit in index.search(spacers, max_mismatches):
        hits_by_guide.setdefault(hit.guide_id, []).append(hit)
    report(total - 1, total)
    contexts_all = [_context(sequences[c.target.contig], c.guide) for c in chosen]
    rs1_all = rule_set_1_scores([c if c is not None else "A" * 30 for c in contexts_all])
    designs_by_gene: dict[str, list[GuideDesign]] = {}
    for i, candidate in enumerate(chosen):
        guide = candidate.guide
        hits = hits_by_guide.get(str(i), [])
        own = [
            h
            for h in hits
            if h.mismatches == 0
            and h.contig == candidate.target.contig
            and h.position == guide.position
        ]
        others = [h for h in hits if h not in own[:1]]
        counts = [0] * (max_mismatches + 1)
        for h in others:
            counts[h.mismatches] += 1
        if counts[0]:
            continue  # another perfect site: the guide would cut twice
        mit = mit_specificity(h.mit_score or 0.0 for h in others)
        cfd = cfd_specificity(h.cfd_score or 0.0 for h in others)
        flags = on_target_flags(guide.spacer)
        seed_unique = seeds[guide.spacer[-SEED:] + guide.pam[1:]] <= 1
        on_target = None if contexts_all[i] is None else float(rs1_all[i])
        score = 0.5 * cfd / 100 + 0.3 * (on_target or 0.0) + 0.2 * min(candidate.preference, 1.0)
        score -= 0.2 * len(flags) + (0.0 if seed_unique else 0.3)
        designs_by_gene.setdefault(candidate.target.name, []).append(
            GuideDesign(
                gene=candidate.target.name,
                purpose=purpose,
                contig=candidate.target.contig,
                position=guide.position,
                strand=guide.strand,
                spacer=guide.spacer,
                pam=guide.pam,
                cut=_cut(guide),
                offset=round(candidate.offset, 4),
                gc_fraction=guide.gc_fraction,
                rule_set_1=on_target,
                seed_unique=seed_unique,
                off_targets=tuple(counts),
                mit_specificity=mit,
                cfd_specificity=cfd,
                flags=flags if seed_unique else (*flags, "seed not unique"),
                edit=candidate.edit,
                score=round(score, 6),
            )
        )
    out: list[GuideDesign] = []
    for target in targets:
        ranked_designs = sorted(designs_by_gene.get(target.name, []), key=lambda d: -d.score)
        out.extend(ranked_designs[:per_gene])
    report(total, total)
    return out


def design_guides(
    genome: Sequence[SequenceRecord],
    *,
    genes: Sequence[str] | None = None,
    purpose: Purpose = "knockout",
    per_gene: int = 4,
    max_mismatches: int = 3,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """:func:`guide_library` as a table, one row a guide (CRISPOR-like columns)."""
    designs = guide_library(
        genome,
        genes=genes,
        purpose=purpose,
        per_gene=per_gene,
        max_mismatches=max_mismatches,
        progress=progress,
    )
    rows = []
    for d in designs:
        row = {
            "gene": d.gene,
            "purpose": d.purpose,
            "contig": d.contig,
            "position": d.position,
            "strand": "+" if d.strand == 1 else "-",
            "spacer": d.spacer,
            "pam": d.pam,
            "cut": d.cut,
            "offset": d.offset,
            "gc": round(d.gc_fraction, 3),
            "rule_set_1": d.rule_set_1,
            "mit_specificity": round(d.mit_specificity, 2),
            "cfd_specificity": round(d.cfd_specificity, 2),
            "seed_unique": d.seed_unique,
            "off_targets": "-".join(str(c) for c in d.off_targets),
            "flags": "; ".join(d.flags),
            "edit": d.edit,
            "score": d.score,
        }
        rows.append(row)
    return pd.DataFrame(rows, columns=_GUIDE_COLUMNS)


_GUIDE_COLUMNS: Final = [
    "gene", "purpose", "contig", "position", "strand", "spacer", "pam", "cut", "offset", "gc",
    "rule_set_1", "mit_specificity", "cfd_specificity", "seed_unique", "off_targets", "flags",
    "edit", "score",
]  # fmt: skip

_HIT_COLUMNS: Final = [
    "guide_id", "spacer", "contig", "position", "strand", "mismatches", "site", "pam",
    "alternative_pam", "mit_score", "cfd_score",
]  # fmt: skip


def find_offtargets(
    genome: Sequence[SequenceRecord] | OffTargetIndex,
    guides: Sequence[str] | dict[str, str],
    *,
    max_mismatches: int = 4,
    include_alternative: bool = False,
) -> pd.DataFrame:
    """Find every site within ``max_mismatches`` of each spacer, as a table.

    SpCas9 (NGG) sites on both strands, NAG sites too with ``include_alternative``;
    the guide's own site is included (0 mismatches).
    """
    index = genome if isinstance(genome, OffTargetIndex) else OffTargetIndex(genome)
    named = dict(guides) if isinstance(guides, dict) else {str(i): g for i, g in enumerate(guides)}
    hits = index.search(named, max_mismatches, include_alternative=include_alternative)
    rows = [
        {
            "guide_id": h.guide_id,
            "spacer": named[h.guide_id].upper(),
            "contig": h.contig,
            "position": h.position,
            "strand": "+" if h.strand == 1 else "-",
            "mismatches": h.mismatches,
            "site": h.site,
            "pam": h.site[index.spacer :],
            "alternative_pam": h.alternative_pam,
            "mit_score": h.mit_score,
            "cfd_score": h.cfd_score,
        }
        for h in hits
    ]
    return pd.DataFrame(rows, columns=_HIT_COLUMNS)
