"""From a strain design to an editing plan: guides, donors, constructs, primers and steps.

:func:`plan_edits` reads a metabolic design (``cellfoundry.strain-design/1``: gene-level
deletions, insertions, over-expressions and knock-downs of a chassis) and the chassis's
annotated genome, and plans how to build the strain with CRISPR-Cas9 and recombineering:

- ``delete``: an in-frame deletion donor (start codon and last 7 codons kept, Keio style)
  with the method's homology arms and the best-ranked guide cutting inside the deleted
  region (checked absent after the edit); colony-PCR primers outside the arms give the wild
  type and edited band sizes;
- ``insert`` (a heterologous protein) and ``overexpress`` (an extra copy of a native gene):
  a transcription unit per gene (promoter, RBS, CDS, terminator from the bank's parts
  library, else a documented default), the heterologous CDS codon-optimised for the host
  with the Golden Gate sites removed (the protein is checked), all units joined into one
  fragment integrated at the best computed neutral locus; the donor is assembled by Gibson
  from the left arm, the fragment's synthesis pieces (split above ``max_synthesis`` bp) and
  the right arm, and the assembly is simulated;
- ``knockdown``: a CRISPRi guide (template-strand PAM near the start codon) for dCas9.

Steps come in the order a bench would follow: order, clone guides, assemble donors, one
editing round per chromosomal change (transform, select, verify by colony PCR and
sequencing, cure the guide plasmid), then the CRISPRi plasmid. Everything the plan orders or
builds is a :class:`~cellfoundry.core.sequence.SequenceRecord` in :attr:`EditingPlan.records`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord, reverse_complement
from cellfoundry.dna.codon import optimise_codons
from cellfoundry.dna.constructs import transcription_unit
from cellfoundry.dna.donors import Host, knockout_donor
from cellfoundry.dna.gibson import assemble_by_homology, gibson_assembly
from cellfoundry.dna.guides import GuideDesign, genes_of, guide_library
from cellfoundry.dna.integration import integrate, suggest_neutral_loci
from cellfoundry.dna.offtarget import OffTargetIndex
from cellfoundry.dna.primers import design_primers
from cellfoundry.dna.synthesis import plan_synthesis

__all__ = ["PLAN_FORMAT", "EditingPlan", "PlanStep", "PlannedEdit", "plan_edits"]

PLAN_FORMAT: Final = "cellfoundry.editing-plan/1"

VERIFY_MARGIN: Final = 150
"""Bases outside each homology arm where the colony-PCR primers bind."""

# Default parts when the bank's library has none of a role: well-characterised, public ones.
DEFAULT_PARTS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "e_coli": {
        # Anderson collection J23100 (iGEM Registry BBa_J23100), the strongest of the family
        "promoter": ("BBa_J23100", "TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC"),
        # iGEM BBa_B0034, the common strong RBS (Elowitz & Leibler 2000)
        "rbs": ("BBa_B0034", "AAAGAGGAGAAA"),
        # iGEM BBa_B0015 double terminator (B0010 + B0012)
        "terminator": (
            "BBa_B0015",
            "CCAGGCATCAAATAAAACGAAAGGCTCAGTCGAAAGACTGGGCCTTTCGTTTTATCTGTTGTTTGTCGGTGAACGCTCTC"
            "TACTAGAGTCACACTGGCTCACCTTCGGGTGGGCCTTTCTGCGTTTATA",
        ),
    },
    "s_cerevisiae": {
        # TDH3 promoter core (700 bp is usual; this 300-bp core is the minimal strong version
        # of the yeast toolkit's pTDH3 region, Lee et al. 2015 YTK) -- used only with no
        # promoter in the bank
        "promoter": (
            "pTDH3_core",
            "GTTTAGTAGAACTCGGGTAGCAGTGATATTTGTACCAATAGCATCAACACGACCACATGCAACAATCTTACCATCCCATCCTC"
            "GTACGCAAAGTTTGCTTCACTTCACCCAACAACAACATCTCATAGAACCTTAAGCGCTCAAAATCAAACAAGTCTTGGGT"
            "TTATAACAAGAGAAATAAGAGAAATTCAAAATATATAGTTTTCCCGGCCTCTTAATGTTACAGCGTCTTATAAATAGCAAA"
            "GAAATCAATATCATCTCTAATATTTATCTAACAAACAAACAAACA",
        ),
        "rbs": ("Kozak_yeast", "AAAACA"),  # yeast Kozak context before ATG (Hamilton 1987)
        # CYC1 terminator (the usual 250-bp tCYC1 of p4xx vectors, Mumberg 1995), core part
        "terminator": (
            "tCYC1",
            "TCATGTAATTAGTTATGTCACGCTTACATTCACGCCCTCCCCCCACATCCGCTCTAACCGAAAAGGAAGGAGTTAGACAACC"
            "TGAAGTCTAGGTCCCTATTTATTTTTTTATAGTTATGTTAGTATTAAGAACGTTATTTATATTTCAAATTTTTCTTTTTTT"
            "TCTGTACAGACGCGTGTACGCATGTAACATTATACTGAAAACCTTGCTTGAGAAGGTTTTGGGACGCTCGAAGGCTTTAAT"
            "TTGC",
        ),
    },
}


@dataclass(frozen=True, slots=True)
class PlannedEdit:
    """One modification of the design and how it is made."""

    kind: str
    gene: str
    contig: str
    guides: tuple[GuideDesign, ...]
    donor: str  # name of the donor record ("" for CRISPRi)
    verification: dict[str, Any]
    detail: dict[str, Any]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the edit as JSON data."""
        return {
            "kind": self.kind,
            "gene": self.gene,
            "contig": self.contig,
            "guides": [_guide_dict(g) for g in self.guides],
            "donor": self.donor,
            "verification": self.verification,
            "detail": self.detail,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One step at the bench, in order."""

    number: int
    action: str  # order | clone | assemble | edit | verify | cure | transform
    title: str
    detail: str
    inputs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the step as JSON data."""
        return {
            "number": self.number,
            "action": self.action,
            "title": self.title,
            "detail": self.detail,
            "inputs": list(self.inputs),
        }


@dataclass(frozen=True, slots=True)
class EditingPlan:
    """How to build a planned strain from its chassis, with every record to order or build."""

    strain: str
    chassis: str
    host: str
    edits: tuple[PlannedEdit, ...]
    steps: tuple[PlanStep, ...]
    records: tuple[SequenceRecord, ...]
    oligos: tuple[tuple[str, str, str], ...]  # name, sequence, purpose
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as JSON data (``cellfoundry.editing-plan/1``), records summarised."""
        return {
            "format": PLAN_FORMAT,
            "strain": self.strain,
            "chassis": self.chassis,
            "host": self.host,
            "edits": [e.to_dict() for e in self.edits],
            "steps": [s.to_dict() for s in self.steps],
            "records": [
                {
                    "name": r.name,
                    "length": len(r),
                    "topology": r.topology,
                    "description": r.description,
                    "features": len(r.features),
                }
                for r in self.records
            ],
            "oligos": [{"name": n, "sequence": s, "purpose": p} for n, s, p in self.oligos],
            "warnings": list(self.warnings),
        }


def _guide_dict(g: GuideDesign) -> dict[str, Any]:
    return {
        "gene": g.gene,
        "purpose": g.purpose,
        "contig": g.contig,
        "position": g.position,
        "strand": g.strand,
        "spacer": g.spacer,
        "pam": g.pam,
        "cut": g.cut,
        "rule_set_1": g.rule_set_1,
        "mit_specificity": _clean(g.mit_specificity),
        "cfd_specificity": _clean(g.cfd_specificity),
        "off_targets": list(g.off_targets),
        "flags": list(g.flags),
        "edit": g.edit,
    }


def _clean(value: float) -> float | None:
    """Round a score for JSON; ``None`` for one not computed (NaN)."""
    return None if math.isnan(value) else round(value, 2)


def guess_host(chassis_model: str, genome: Sequence[SequenceRecord]) -> Host:
    """Guess the host from the design's model id (iMM904, iND750 = yeast) or the genome."""
    model = chassis_model.lower()
    if model.startswith(("imm", "ind", "iff", "yeast", "sc")):
        return "s_cerevisiae"
    if len(genome) >= 10 and all(r.topology == "linear" for r in genome):
        return "s_cerevisiae"
    return "e_coli"


def _feature(kind: str, start: int, end: int, label: str, strand: int = 1) -> Feature:
    return Feature(
        kind,
        (FeatureSpan(start, end, 1 if strand >= 0 else -1),),
        (("label", label),),
    )


HOST_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "e_coli": ("e. coli", "escherichia", "bacteri", "bba_", "anderson", "igem"),
    "s_cerevisiae": ("cerevisiae", "yeast", "ytk"),
}
"""Words in a bank part's name or description that mark it as made for the host."""


def _part(
    parts: Mapping[str, Sequence[SequenceRecord]] | None, role: str, host: str
) -> tuple[str, str]:
    """Pick the first bank part of the role made for the host, else the documented default."""
    for record in parts.get(role, ()) if parts else ():
        text = f"{record.name} {record.description}".lower()
        if any(word in text for word in HOST_WORDS[host]):
            return record.name, record.sequence.upper()
    return DEFAULT_PARTS[host][role]


def _genome_record(genome: Sequence[SequenceRecord], contig: str) -> SequenceRecord:
    for record in genome:
        if record.name == contig:
            return record
    raise ValidationError("no such contig in the genome", record=contig, field="contig")


def _verification(record: SequenceRecord, lo: int, hi: int, edited_change: int) -> dict[str, Any]:
    """Colony-PCR primers binding outside ``lo .. hi`` and the expected band sizes."""
    a = max(lo - VERIFY_MARGIN, 0)
    b = min(hi + VERIFY_MARGIN, len(record))
    pair = design_primers(record.sequence[a:b].upper())
    return {
        "forward": pair.forward.sequence,
        "reverse": pair.reverse.sequence,
        "forward_tm": round(pair.forward.tm, 1),
        "reverse_tm": round(pair.reverse.tm, 1),
        "wild_type_bp": b - a,
        "edited_bp": b - a + edited_change,
    }


def plan_edits(
    design: Mapping[str, Any],
    genome: Sequence[SequenceRecord],
    *,
    strain: str,
    chassis: str,
    host: str | None = None,
    parts: Mapping[str, Sequence[SequenceRecord]] | None = None,
    max_synthesis: int = 3000,
    progress: Progress | None = None,
) -> EditingPlan:
    """Plan the guides, donors, constructs, primers and steps that build ``design``.

    Raises
    ------
    ValidationError
        A modification names a gene absent from the genome, an insertion has no protein
        sequence, or a kind is unknown (the modification's number is the record).
    """
    report = progress or NullProgress()
    mods = list(design.get("modifications") or [])
    if not mods:
        raise ValidationError("the design has no modifications", field="modifications")
    records = list(genome)
    if not records:
        raise ValidationError("the genome has no records", field="genome")
    chosen_host: Host = (
        "s_cerevisiae"
        if (host or guess_host(str(design.get("chassis", "")), records)) == "s_cerevisiae"
        else "e_coli"
    )
    index = OffTargetIndex(records)
    edits: list[PlannedEdit] = []
    out_records: list[SequenceRecord] = []
    oligos: list[tuple[str, str, str]] = []
    warnings: list[str] = []
    units: list[tuple[str, SequenceRecord]] = []
    total = len(mods) + 2
    for number, mod in enumerate(mods, 1):
        kind = str(mod.get("kind", ""))
        gene = str(mod.get("gene") or "")
        where = str(number)
        if kind == "delete":
            edits.append(_plan_deletion(records, gene, chosen_host, index, strain, where))
            out_records.append(_donor_record(edits[-1], records, strain))
        elif kind == "knockdown":
            targets = _locate(records, gene, where)
            guides = guide_library(
                records, genes=[gene], purpose="crispri", per_gene=1, index=index
            )
            if not guides:
                raise ValidationError(
                    "no CRISPRi guide near the start of this gene", record=where, field="gene"
                )
            edits.append(
                PlannedEdit("knockdown", gene, targets.contig, tuple(guides), "", {}, {}, ())
            )
        elif kind in ("insert", "overexpress"):
            units.append((kind, _unit(mod, records, chosen_host, parts, where)))
        else:
            raise ValidationError(
                f"unknown modification kind {kind!r}", record=where, field="modifications.kind"
            )
        report(number, total)
    if units:
        edit, built = _plan_integration(records, units, chosen_host, index, strain, max_synthesis)
        edits.append(edit)
        out_records.extend(built)
    for edit in edits:
        for k, g in enumerate(edit.guides[:1], 1):
            top, bottom = _guide_oligos(g.spacer, chosen_host)
            oligos.append((f"{strain}-{edit.gene}-sg{k}-F", top, f"guide for {edit.kind}"))
            oligos.append((f"{strain}-{edit.gene}-sg{k}-R", bottom, f"guide for {edit.kind}"))
        if edit.verification:
            oligos.append((f"{strain}-{edit.gene}-chk-F", edit.verification["forward"], "check"))
            oligos.append((f"{strain}-{edit.gene}-chk-R", edit.verification["reverse"], "check"))
        for primer_name, primer, purpose in edit.detail.get("assembly_primers", ()):
            oligos.append((primer_name, primer, purpose))
        warnings.extend(f"{edit.gene}: {w}" for w in edit.warnings)
    steps = _steps(edits, out_records, oligos, chosen_host)
    report(total, total)
    return EditingPlan(
        strain=strain,
        chassis=chassis,
        host=chosen_host,
        edits=tuple(edits),
        steps=tuple(steps),
        records=tuple(out_records),
        oligos=tuple(oligos),
        warnings=tuple(warnings),
    )


def _locate(records: Sequence[SequenceRecord], gene: str, where: str) -> Any:
    if not gene:
        raise ValidationError(
            "this modification names no gene to edit", record=where, field="modifications.gene"
        )
    try:
        return genes_of(records, [gene])[0]
    except ValidationError as err:
        raise ValidationError(
            f"gene {gene!r}: {err.message}", record=where, field="modifications.gene"
        ) from None


def _plan_deletion(
    records: Sequence[SequenceRecord],
    gene: str,
    host: Host,
    index: OffTargetIndex,
    strain: str,
    where: str,
) -> PlannedEdit:
    target = _locate(records, gene, where)
    record = _genome_record(records, target.contig)
    donor = knockout_donor(
        record, target.name, host=host, method="crispr_hr", offtarget_index=index
    )
    lo, hi = donor.deleted.start, donor.deleted.end
    ranked = guide_library(
        records, genes=[target.name], purpose="knockout", per_gene=8, index=index
    )
    inside = [g for g in ranked if lo + 3 <= g.cut <= hi - 3]
    guides = tuple(inside[:2])
    notes = list(donor.warnings)
    if not guides:
        notes.append("no ranked guide cuts inside the deleted region; using the donor's guide")
        spacer = donor.guides[0].spacer if donor.guides else ""
        guides = tuple(g for g in ranked if g.spacer == spacer)[:1]
    verification = _verification(
        record, donor.left_arm.start, donor.right_arm.end, len(donor.insert) - len(donor.deleted)
    )
    detail = {
        "method": donor.method,
        "arm_length": donor.arm_length,
        "deleted": [lo, hi],
        "deleted_bp": len(donor.deleted),
        "donor_bp": len(donor.donor),
        "edited_protein": donor.edited_protein,
        "translation_table": donor.translation_table,
        "donor_sequence": donor.edited_region,
        "left_arm": [donor.left_arm.start, donor.left_arm.end],
        "right_arm": [donor.right_arm.start, donor.right_arm.end],
    }
    return PlannedEdit(
        "delete",
        target.name,
        target.contig,
        guides,
        f"{strain}-{target.name}-del-donor",
        verification,
        detail,
        tuple(notes),
    )


def _donor_record(
    edit: PlannedEdit, records: Sequence[SequenceRecord], strain: str
) -> SequenceRecord:
    seq = str(edit.detail["donor_sequence"])
    arm = int(edit.detail["arm_length"])
    features = [
        _feature("misc_feature", 0, arm, "left homology arm"),
        _feature("misc_feature", len(seq) - arm, len(seq), "right homology arm"),
    ]
    if len(seq) - 2 * arm > 0:
        features.append(_feature("CDS", arm, len(seq) - arm, f"{edit.gene} remnant (in frame)"))
    return SequenceRecord(
        name=edit.donor[:64],
        sequence=seq,
        description=f"in-frame deletion donor for {edit.gene} ({strain})",
        features=tuple(features),
    )


def _unit(
    mod: Mapping[str, Any],
    records: Sequence[SequenceRecord],
    host: Host,
    parts: Mapping[str, Sequence[SequenceRecord]] | None,
    where: str,
) -> SequenceRecord:
    """Build the transcription unit of an inserted (codon-optimised) or over-expressed gene."""
    gene = str(mod.get("gene") or "")
    table = 1 if host == "s_cerevisiae" else 11
    if mod["kind"] == "insert":
        protein = str(mod.get("protein") or "")
        if not protein:
            raise ValidationError(
                "an insertion needs the enzyme's protein sequence to codon-optimise",
                record=where,
                field="modifications.protein",
            )
        optimised = optimise_codons(
            protein, host=host, avoid_sites=("BsaI", "BpiI"), name=gene or f"insert{where}"
        )
        cds = optimised.sequence
        label = gene.split(".")[-1] or f"insert{where}"
    else:
        target = _locate(records, gene, where)
        record = _genome_record(records, target.contig)
        positions = target.cds_positions()
        cds = "".join(record.sequence[int(p)] for p in positions).upper()
        if target.strand == -1:
            cds = cds.translate(str.maketrans("ACGT", "TGCA"))
        table = target.table
        label = target.name
    promoter = _part(parts, "promoter", host)
    rbs = _part(parts, "rbs", host)
    terminator = _part(parts, "terminator", host)
    return transcription_unit(
        promoter, rbs, (label, cds), terminator, name=f"TU_{label}"[:60], table=table
    )


def _plan_integration(
    records: Sequence[SequenceRecord],
    units: Sequence[tuple[str, SequenceRecord]],
    host: Host,
    index: OffTargetIndex,
    strain: str,
    max_synthesis: int,
) -> tuple[PlannedEdit, list[SequenceRecord]]:
    """All transcription units as one fragment at the best neutral locus of the genome."""
    fragment = "".join(u.sequence for _, u in units)
    features: list[Feature] = []
    offset = 0
    for _, unit in units:
        for f in unit.features:
            features.append(
                Feature(
                    f.type,
                    tuple(FeatureSpan(s.start + offset, s.end + offset, s.strand) for s in f.spans),
                    f.qualifiers,
                )
            )
        offset += len(unit)
    loci = []
    record = records[0]
    for candidate in sorted(records, key=len, reverse=True):
        loci = suggest_neutral_loci(candidate, offtarget_index=index, max_results=3)
        if loci:
            record = candidate
            break
    if not loci:
        raise ValidationError(
            "no neutral locus found between convergent genes with a unique guide",
            field="genome",
        )
    integration = integrate(
        record,
        fragment,
        host=host,
        method="crispr_hr",
        neutral_loci=loci,
        offtarget_index=index,
    )
    locus = integration.neutral_locus
    left = integration.left_arm.sequence
    right = integration.right_arm.sequence
    if integration.donor_strand == -1:
        donor_forward = reverse_complement(integration.donor)
    else:
        donor_forward = integration.donor
    name = f"{strain}-integration"
    built: list[SequenceRecord] = []
    donor_features = [
        _feature("misc_feature", 0, len(left), "left homology arm"),
        *(
            Feature(
                f.type,
                tuple(
                    FeatureSpan(s.start + len(left), s.end + len(left), s.strand) for s in f.spans
                ),
                f.qualifiers,
            )
            for f in features
        ),
        _feature(
            "misc_feature",
            len(donor_forward) - len(right),
            len(donor_forward),
            "right homology arm",
        ),
    ]
    built.append(
        SequenceRecord(
            name=f"{name}-donor"[:64],
            sequence=donor_forward,
            description=f"integration donor: {len(units)} transcription units at "
            f"{integration.locus}",
            features=tuple(donor_features),
        )
    )
    synthesis = plan_synthesis(fragment, max_fragment=max_synthesis)
    for k, frag in enumerate(synthesis.fragments, 1):
        built.append(
            SequenceRecord(
                name=f"{name}-syn{k}"[:64],
                sequence=frag.sequence,
                description=f"synthesis fragment {k} of {len(synthesis.fragments)} "
                f"({frag.start}..{frag.end} of the insert)",
            )
        )
    # the insert is built from its synthesis pieces (their designed overlaps, simulated with
    # pydna in any order); the arms come by PCR from the genome and Gibson joins the three
    # with overlaps designed by Tm. Each product must be what the plan says.
    notes = list(integration.warnings) + list(synthesis.warnings)
    if len(synthesis.fragments) > 1:
        joined = assemble_by_homology(
            [SequenceRecord(f"syn{k}", f.sequence) for k, f in enumerate(synthesis.fragments)],
            circular=False,
        )
        if [r.sequence.upper() for r in joined] != [fragment.upper()]:
            raise ValidationError(
                "the synthesis fragments do not assemble into the insert", field="synthesis"
            )
    gibson = gibson_assembly(
        [
            SequenceRecord(f"{name}-L", left),
            SequenceRecord(f"{name}-insert", fragment),
            SequenceRecord(f"{name}-R", right),
        ],
        circular=False,
        name=f"{name}-donor",
    )
    assembled = gibson.product.sequence.upper()
    notes.extend(gibson.warnings)
    if assembled != donor_forward.upper():
        raise ValidationError("the simulated Gibson product differs from the donor", field="donor")
    pieces = ("arm-L", "insert", "arm-R")
    primers = [
        (f"{name}-{piece}-{end}", primer.sequence, "assembly")
        for piece, pair in zip(pieces, gibson.primers, strict=True)
        for end, primer in (("F", pair.forward), ("R", pair.reverse))
    ]
    lo = integration.left_arm.start
    hi = integration.right_arm.end
    verification = _verification(record, lo, hi, len(fragment) - len(integration.replaced))
    site_guides = tuple(
        _site_guide(record.name, g, locus.left_gene if locus else "") for g in integration.guides
    )
    detail = {
        "locus": integration.locus,
        "neutral_locus": (
            {
                "start": locus.start,
                "end": locus.end,
                "between": [locus.left_gene, locus.right_gene],
                "insertion_site": locus.insertion_site,
                "score": round(locus.score, 3),
            }
            if locus
            else None
        ),
        "fragment_bp": len(fragment),
        "units": [u.name for _, u in units],
        "parts": [[f.label for f in u.features] for _, u in units],
        "kinds": [k for k, _ in units],
        "synthesis": {
            "fragments": len(synthesis.fragments),
            "total_cost": round(synthesis.total_cost, 2),
            "max_fragment": max_synthesis,
        },
        "assembly_primers": primers,
        "arm_length": integration.arm_length,
    }
    edit = PlannedEdit(
        "integrate",
        "+".join(u.name for _, u in units)[:120],
        record.name,
        site_guides,
        f"{name}-donor",
        verification,
        detail,
        tuple(notes),
    )
    return edit, built


def _site_guide(contig: str, guide: Any, near: str) -> GuideDesign:
    """Describe a guide the integration designer checked (unique, cutting at the site)."""
    cut = guide.position + 17 if guide.strand == 1 else guide.position + 6
    return GuideDesign(
        gene=near,
        purpose="knockout",
        contig=contig,
        position=guide.position,
        strand=guide.strand,
        spacer=guide.spacer,
        pam=guide.pam,
        cut=cut,
        offset=math.nan,
        gc_fraction=guide.gc_fraction,
        rule_set_1=None,
        seed_unique=True,
        off_targets=(),
        mit_specificity=math.nan,
        cfd_specificity=math.nan,
        flags=(),
        edit="",
        score=math.nan,
    )


def _guide_oligos(spacer: str, host: str) -> tuple[str, str]:
    """Annealed oligos that clone a spacer into the host's guide plasmid by Golden Gate.

    E. coli: pTargetF-style (Jiang et al. 2015) BsaI-compatible 4-nt overhangs ``ACTA``/``AAAC``
    with a 5' G is not needed for J23119; yeast: pML104/pCAS-style ``GATC``/``AAAC``.
    """
    top_overhang, bottom_overhang = ("ACTA", "AAAC") if host == "e_coli" else ("GATC", "AAAC")
    return top_overhang + spacer, bottom_overhang + reverse_complement(spacer)


def _steps(
    edits: Sequence[PlannedEdit],
    records: Sequence[SequenceRecord],
    oligos: Sequence[tuple[str, str, str]],
    host: str,
) -> list[PlanStep]:
    cas_plasmid = "pCas (Jiang et al. 2015)" if host == "e_coli" else "a Cas9 plasmid (pML104/pCAS)"
    steps: list[PlanStep] = []

    def add(action: str, title: str, detail: str, inputs: Sequence[str] = ()) -> None:
        steps.append(PlanStep(len(steps) + 1, action, title, detail, tuple(inputs)))

    synth = [r.name for r in records if "-syn" in r.name]
    add(
        "order",
        "Order oligos and synthesis",
        f"{len(oligos)} oligos (guides, assembly and check primers)"
        + (f"; {len(synth)} synthesis fragments" if synth else ""),
        [n for n, _, _ in oligos] + synth,
    )
    guided = [e for e in edits if e.guides]
    vector = "pTargetF" if host == "e_coli" else "guide"
    add(
        "clone",
        "Clone the guides",
        f"anneal each guide's oligo pair and ligate into the {vector} vector by Golden Gate; "
        f"sequence-verify ({len(guided)} guide plasmids)",
        [e.gene for e in guided],
    )
    integrations = [e for e in edits if e.kind == "integrate"]
    for e in integrations:
        add(
            "assemble",
            f"Assemble the integration donor {e.donor}",
            f"PCR the homology arms from the chassis genome; Gibson-assemble them with the "
            f"{e.detail['synthesis']['fragments']} synthesis fragment(s) "
            f"({e.detail['fragment_bp']} bp insert)",
            [e.donor],
        )
    chromosomal = [e for e in edits if e.kind in ("delete", "integrate")]
    for round_number, e in enumerate(chromosomal, 1):
        verb = "Delete" if e.kind == "delete" else "Integrate"
        add(
            "edit",
            f"Round {round_number}: {verb} {e.gene}",
            f"transform the guide plasmid and donor {e.donor} into the strain carrying "
            f"{cas_plasmid}; select transformants",
            [e.donor],
        )
        if e.verification:
            add(
                "verify",
                f"Check {e.gene} by colony PCR",
                f"wild type {e.verification['wild_type_bp']} bp, edited "
                f"{e.verification['edited_bp']} bp; Sanger-sequence the edited band",
            )
        add(
            "cure",
            "Cure the guide plasmid",
            "before the next round (pTargetF: IPTG; yeast: 5-FOA or loss)",
        )
    for e in edits:
        if e.kind == "knockdown":
            add(
                "transform",
                f"Knock down {e.gene} by CRISPRi",
                "transform dCas9 with the guide plasmid; measure repression by RT-qPCR",
                [e.gene],
            )
    return steps
