"""``cellfoundry dna ...``: guides, off-targets, donors, integration, codons, assembly, plans.

GENOME is a sequence file (GenBank, FASTA, SBOL3) or a strain accession whose genome is in the
bank (``--db``). A sequence argument (FILE_OR_SEQ) is a file or the sequence itself. Positions
are 0-based and half-open on the forward strand, as the engine gives them. Every command
prints tables, or JSON with ``--json`` (the engine's result, field for field); ``--out``
writes the donor, product or sequences in the format of its extension (GenBank, FASTA,
SBOL3). Bad input prints one line naming file, record and field and exits with status 2.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import typer
from rich.markup import escape
from rich.table import Table

from cellfoundry.cli.model import (
    JsonOpt,
    _bank,
    _errors,
    _print_json,
    _progress,
    console,
    err_console,
)
from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord

if TYPE_CHECKING:
    from cellfoundry.dna.donors import GenomeInterval, Host, Method
    from cellfoundry.dna.offtarget import OffTargetIndex

__all__ = ["dna_app"]

dna_app = typer.Typer(
    help="Gene editing and constructs: guides, off-targets, donors, integration, codon "
    "optimisation, Golden Gate and Gibson assembly, editing plans."
)

GenomeArg = Annotated[
    str,
    typer.Argument(
        metavar="GENOME",
        help="A GenBank or FASTA file, or a strain accession whose genome is in the bank.",
    ),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Also write the table to this file (.tsv or .csv).")
]
RecordOut = Annotated[
    Path | None,
    typer.Option("--out", help="Write the result to this file (.gb GenBank, .fasta, .ttl SBOL3)."),
]
HostOpt = Annotated[str, typer.Option("--host", help="e_coli or s_cerevisiae.")]
MethodOpt = Annotated[
    str | None,
    typer.Option(
        "--method",
        help="lambda_red_dsdna, lambda_red_ssdna, crispr_hr (E. coli); pcr_cassette, "
        "crispr_hr (yeast). Default: the host's usual method.",
    ),
]
ArmOpt = Annotated[
    int | None,
    typer.Option("--arm", min=1, help="Homology arm length (bp); default: the method's."),
]

_FILE_SUFFIX = re.compile(r"\.[A-Za-z][\w-]*$")


# -- plumbing -----------------------------------------------------------------------------------


def _is_path(spec: str) -> bool:
    """Whether an argument names a file (it has a folder or an extension, or it exists)."""
    if "/" in spec or "\\" in spec or _FILE_SUFFIX.search(spec):
        return True
    try:
        return Path(spec).exists()
    except OSError:  # a long sequence is no file name
        return False


def _read(path: Path) -> list[SequenceRecord]:
    """Return the records of a sequence file; a named error for a missing or empty file."""
    from cellfoundry.bank import formats

    if not path.is_file():
        raise ValidationError("no such file", source=str(path), field="path")
    records = formats.read(path)
    if not records:
        raise ValidationError("the file holds no sequence", source=str(path), field="records")
    return records


def _genome(ctx: typer.Context, spec: str) -> list[SequenceRecord]:
    """Return the genome's records from a file, or from the bank for a strain accession."""
    if _is_path(spec):
        with _errors():
            return _read(Path(spec))
    with _bank(ctx) as bank:
        return list(bank.strain_genome(spec))


def _inputs(spec: str, name: str) -> tuple[list[SequenceRecord], str | None]:
    """Return a file's records and its name, or one record of a sequence typed inline."""
    if _is_path(spec):
        return _read(Path(spec)), spec
    return [SequenceRecord(name, "".join(spec.split()))], None


def _one(records: list[SequenceRecord], source: str | None, field: str) -> SequenceRecord:
    if len(records) != 1:
        raise ValidationError(
            f"the file holds {len(records)} records ({', '.join(r.name for r in records[:5])}); "
            "give a file with one",
            source=source,
            field=field,
        )
    return records[0]


@contextmanager
def _at(source: str | None, record: str | None = None) -> Iterator[None]:
    """Name the file (and record) in the engine's errors that lack them."""
    try:
        yield
    except ValidationError as err:
        raise err.located(source=source, record=record) from None


def _record_with_gene(records: list[SequenceRecord], gene: str) -> SequenceRecord:
    """Return the record (contig, chromosome) that holds ``gene``."""
    from cellfoundry.dna.donors import find_gene

    if len(records) == 1:
        find_gene(records[0], gene)  # an unknown gene fails before any index is built
        return records[0]
    found: list[SequenceRecord] = []
    for record in records:
        try:
            find_gene(record, gene)
        except ValidationError:
            continue
        found.append(record)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValidationError(
            f"no gene or CDS named {gene!r} in any of the {len(records)} records",
            record=gene,
            field="gene",
        )
    raise ValidationError(
        f"{gene!r} names genes in {len(found)} records ({', '.join(r.name for r in found)}); "
        "use a locus_tag",
        record=gene,
        field="gene",
    )


def _contig(records: list[SequenceRecord], name: str | None) -> SequenceRecord:
    """Return the record named ``--contig``, or the only record."""
    names = [r.name for r in records]
    if name is None:
        if len(records) == 1:
            return records[0]
        raise ValidationError(
            f"the genome has {len(records)} records; pick one with --contig "
            f"({', '.join(names[:5])}{'...' if len(names) > 5 else ''})",
            field="contig",
        )
    for record in records:
        if record.name == name:
            return record
    raise ValidationError(
        f"no record {name!r} in the genome ({', '.join(names[:5])})", record=name, field="contig"
    )


def _index(records: list[SequenceRecord]) -> OffTargetIndex:
    """Return the whole genome's off-target index, so guides are unique genome-wide."""
    from cellfoundry.dna.offtarget import OffTargetIndex

    return OffTargetIndex(records)


def _host(host: str) -> Host:
    return cast("Host", host)


def _method(method: str | None) -> Method | None:
    return cast("Method | None", method)


def _data(value: Any) -> Any:
    """Return an engine result as JSON data: dataclasses as dicts, records summarised."""
    if isinstance(value, SequenceRecord):
        return {
            "name": value.name,
            "length": len(value),
            "topology": value.topology,
            "description": value.description,
            "checksum": value.checksum,
            "sequence": value.sequence,
            "features": [
                {
                    "type": f.type,
                    "start": f.start,
                    "end": f.end,
                    "strand": f.strand,
                    "label": f.label,
                }
                for f in value.features
            ],
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    return value


def _write(records: Sequence[SequenceRecord], out: Path, as_json: bool) -> None:
    """Write records in the format of ``out``'s extension; say so (on stderr with --json)."""
    from cellfoundry.bank import formats

    with _errors():
        fmt = formats.guess_format(out)
        try:
            formats.write(records, out, fmt)
        except OSError as err:
            raise ValidationError(
                f"cannot write the file: {err.strerror or err}", source=str(out), field="out"
            ) from None
    what = ", ".join(r.name for r in records[:3]) + ("..." if len(records) > 3 else "")
    (err_console if as_json else console).print(f"wrote {what} to {out} ({fmt})")


def _warnings(lines: Sequence[str]) -> None:
    for line in lines:
        console.print(f"[yellow]warning:[/yellow] {escape(line)}")


def _span(interval: GenomeInterval) -> str:
    return f"{interval.start}..{interval.end} ({len(interval)} bp)"


def _guide_table(guides: Sequence[Any], title: str, limit: int = 10) -> Table:
    table = Table(title=title)
    for column in ("position", "strand", "spacer", "PAM", "GC", "poly-T"):
        table.add_column(column, justify="right" if column in ("position", "GC") else "left")
    for g in guides[:limit]:
        table.add_row(
            str(g.position),
            "+" if g.strand == 1 else "-",
            g.spacer,
            g.pam,
            f"{g.gc_fraction:.2f}",
            "yes" if g.poly_t else "",
        )
    return table


def _donor_record(
    name: str,
    description: str,
    molecule: str,
    strand: int,
    lengths: tuple[int, int, int],
    middle: str,
    marks: Sequence[tuple[int, str]] = (),
) -> SequenceRecord:
    """Return the donor as ordered, with its arms, middle part and changed bases annotated.

    ``lengths`` are the left arm, middle and right arm on the forward strand; ``marks`` are
    offsets into the forward-strand edited region. A reverse-strand donor (an ssDNA oligo)
    has them mirrored onto its own strand.
    """
    total = len(molecule)
    left, mid, _ = lengths
    parts = [
        (0, left, "left homology arm"),
        (left, left + mid, middle),
        (left + mid, total, "right homology arm"),
    ]
    features: list[Feature] = []
    span_strand: Literal[1, -1] = 1 if strand == 1 else -1
    for start, end, label in parts:
        if end <= start:
            continue
        if span_strand == -1:
            start, end = total - end, total - start
        features.append(
            Feature("misc_feature", (FeatureSpan(start, end, span_strand),), (("label", label),))
        )
    for offset, label in marks:
        at = offset if span_strand == 1 else total - 1 - offset
        features.append(
            Feature("variation", (FeatureSpan(at, at + 1, span_strand),), (("label", label),))
        )
    features.sort(key=lambda f: (f.start, f.end))
    return SequenceRecord(
        name=name[:64], sequence=molecule, description=description, features=tuple(features)
    )


def _write_frame(frame: Any, out: Path | None) -> None:
    if out is None:
        return
    sep = "," if out.suffix.lower() == ".csv" else "\t"
    frame.to_csv(out, sep=sep, index=False)
    console.print(f"wrote {len(frame)} rows to {out}")


def _frame_table(frame: Any, title: str, columns: list[str], limit: int = 60) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if frame[column].dtype.kind in "fi" else "left")
    for _, row in frame.head(limit).iterrows():
        table.add_row(*(_cell(row[c]) for c in columns))
    return table


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value)


# -- guides -------------------------------------------------------------------------------------


@dna_app.command("guides")
def guides(
    ctx: typer.Context,
    genome: GenomeArg,
    genes: Annotated[
        str | None,
        typer.Option("--genes", help="Comma-separated locus tags or gene names; default all."),
    ] = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="knockout, crispri or base_edit.")
    ] = "knockout",
    per_gene: Annotated[int, typer.Option("--per-gene", min=1, help="Guides per gene.")] = 4,
    mismatches: Annotated[
        int, typer.Option("--mismatches", min=0, max=5, help="Off-target search limit.")
    ] = 3,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Design the best SpCas9 guides per gene, with on-target and off-target scores."""
    from cellfoundry.dna.guides import design_guides

    records = _genome(ctx, genome)
    wanted = [g.strip() for g in genes.split(",") if g.strip()] if genes else None
    with _errors(), _progress(f"{purpose} guides") as report:
        frame = design_guides(
            records,
            genes=wanted,
            purpose=purpose,  # type: ignore[arg-type]
            per_gene=per_gene,
            max_mismatches=mismatches,
            progress=report,
        )
    _write_frame(frame, out)
    if as_json:
        _print_json({"guides": json.loads(frame.to_json(orient="records"))})
        return
    columns = ["gene", "position", "strand", "spacer", "pam", "rule_set_1", "mit_specificity",
               "cfd_specificity", "off_targets", "flags", "edit"]  # fmt: skip
    n_genes = frame["gene"].nunique() if len(frame) else 0
    console.print(
        _frame_table(frame, f"{len(frame)} {purpose} guides for {n_genes} genes", columns)
    )


@dna_app.command("offtargets")
def offtargets(
    ctx: typer.Context,
    genome: GenomeArg,
    spacers: Annotated[list[str], typer.Argument(help="20-nt spacers (5'->3', no PAM).")],
    mismatches: Annotated[int, typer.Option("--mismatches", min=0, max=5)] = 4,
    nag: Annotated[bool, typer.Option("--nag", help="Also report NAG-PAM sites.")] = False,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find every site within N mismatches of each spacer on both strands (NGG PAM)."""
    from cellfoundry.dna.guides import find_offtargets

    records = _genome(ctx, genome)
    with _errors():
        for i, spacer in enumerate(spacers):
            if len(spacer) != 20:
                raise ValidationError(
                    f"spacer of {len(spacer)} nt; give the 20-nt spacer without its PAM",
                    record=str(i + 1),
                    field="spacer",
                )
        frame = find_offtargets(
            records, list(spacers), max_mismatches=mismatches, include_alternative=nag
        )
    _write_frame(frame, out)
    if as_json:
        _print_json({"hits": json.loads(frame.to_json(orient="records"))})
        return
    columns = ["guide_id", "contig", "position", "strand", "mismatches", "site", "mit_score",
               "cfd_score"]  # fmt: skip
    console.print(_frame_table(frame, f"{len(frame)} sites for {len(spacers)} spacers", columns))


# -- donors and integration ---------------------------------------------------------------------


@dna_app.command("donor")
def donor(
    ctx: typer.Context,
    genome: GenomeArg,
    gene: Annotated[str, typer.Argument(help="Locus tag or gene name to knock out.")],
    host: HostOpt = "e_coli",
    method: MethodOpt = None,
    arm: ArmOpt = None,
    insert: Annotated[
        str,
        typer.Option(
            "--insert", help="DNA put in place of the deleted codons (gene sense), or a file."
        ),
    ] = "",
    whole_orf: Annotated[
        bool,
        typer.Option(
            "--whole-orf", help="Delete the whole ORF (default: keep start + last 7 codons)."
        ),
    ] = False,
    out: RecordOut = None,
    as_json: JsonOpt = False,
) -> None:
    """Design an in-frame knock-out (or ORF replacement) donor and the guides that cut it."""
    from cellfoundry.dna.donors import knockout_donor

    records = _genome(ctx, genome)
    source = genome if _is_path(genome) else None
    with _errors(), _at(source):
        insert_seq = ""
        if insert:
            found, where = _inputs(insert, "insert")
            insert_seq = _one(found, where, "insert").sequence
        record = _record_with_gene(records, gene)
        result = knockout_donor(
            record,
            gene,
            host=_host(host),
            method=_method(method),
            arm_length=arm,
            insert=insert_seq,
            keep_start_stop=not whole_orf,
            offtarget_index=_index(records),
        )
    if out is not None:
        lengths = (len(result.left_arm), len(result.insert), len(result.right_arm))
        middle = f"{gene} replacement" if result.insert else f"{gene} deletion junction"
        what = "ORF replacement" if result.insert else "in-frame deletion"
        _write(
            [
                _donor_record(
                    f"{gene}_donor",
                    f"{what} donor for {gene} ({result.method}, {result.host})",
                    result.donor,
                    result.donor_strand,
                    lengths,
                    middle,
                )
            ],
            out,
            as_json,
        )
    if as_json:
        _print_json({"contig": record.name, "donor": _data(result)})
        return
    tag = f" ({result.locus_tag})" if result.locus_tag and result.locus_tag != gene else ""
    console.print(
        f"[bold]{gene}{tag}[/bold] on {record.name}: {result.method} donor for {result.host}, "
        f"{result.arm_length}-bp arms"
    )
    console.print(f"deleted     {_span(result.deleted)}")
    console.print(f"left arm    {_span(result.left_arm)}")
    console.print(f"right arm   {_span(result.right_arm)}")
    if result.insert:
        console.print(f"insert      {len(result.insert)} bp")
    strand = "forward" if result.donor_strand == 1 else "reverse"
    console.print(f"donor       {len(result.donor)} nt ({strand} strand)")
    console.print(
        f"protein     {result.edited_protein} (table {result.translation_table})", soft_wrap=True
    )
    console.print(
        _guide_table(result.guides, f"{len(result.guides)} guides cutting inside the deletion")
    )
    _warnings(result.warnings)


@dna_app.command("point")
def point(
    ctx: typer.Context,
    genome: GenomeArg,
    gene: Annotated[str, typer.Argument(help="Locus tag or gene name.")],
    codon: Annotated[int, typer.Argument(help="1-based codon number.")],
    amino_acid: Annotated[
        str, typer.Argument(metavar="AA", help="The new amino acid, one letter (* for stop).")
    ],
    host: HostOpt = "e_coli",
    method: MethodOpt = None,
    arm: ArmOpt = None,
    max_cut_distance: Annotated[
        int,
        typer.Option("--max-cut-distance", min=0, help="Farthest guide cut from the edit (bp)."),
    ] = 15,
    out: RecordOut = None,
    as_json: JsonOpt = False,
) -> None:
    """Design a donor for an amino-acid change that also blocks re-cutting by its guide."""
    from cellfoundry.dna.donors import point_mutation_donor

    if len(amino_acid) != 1:
        with _errors():
            raise ValidationError(
                f"{amino_acid!r} is not one amino-acid letter", record=gene, field="amino_acid"
            )
    records = _genome(ctx, genome)
    source = genome if _is_path(genome) else None
    with _errors(), _at(source):
        record = _record_with_gene(records, gene)
        result = point_mutation_donor(
            record,
            (gene, codon, amino_acid),
            host=_host(host),
            method=_method(method),
            arm_length=arm,
            max_cut_distance=max_cut_distance,
            offtarget_index=_index(records),
        )
    if out is not None:
        n = len(record)
        left, right = len(result.left_arm), len(result.right_arm)
        marks = [
            (
                (c.position - result.left_arm.end) % n + left,
                f"{c.reason} {c.old}>{c.new} at {c.position}",
            )
            for c in result.changes
        ]
        _write(
            [
                _donor_record(
                    f"{gene}_{codon}{amino_acid.upper()}_donor".replace("*", "stop"),
                    f"{', '.join(result.protein_changes)} donor ({result.method}, {result.host})",
                    result.donor,
                    result.donor_strand,
                    (left, len(result.edited_region) - left - right, right),
                    "edited bases",
                    marks,
                )
            ],
            out,
            as_json,
        )
    if as_json:
        _print_json({"contig": record.name, "donor": _data(result)})
        return
    console.print(
        f"[bold]{', '.join(result.protein_changes)}[/bold] on {record.name}: {result.method} "
        f"donor for {result.host}, {result.arm_length}-bp arms"
    )
    table = Table(title=f"{len(result.changes)} changed bases")
    for column in ("position", "old", "new", "reason"):
        table.add_column(column, justify="right" if column == "position" else "left")
    for c in result.changes:
        table.add_row(str(c.position), c.old, c.new, c.reason)
    console.print(table)
    g = result.guide
    console.print(
        f"guide       {g.spacer} {g.pam} at {g.position} ({'+' if g.strand == 1 else '-'}), "
        f"cuts {result.cut_distance} bp from the edit"
    )
    console.print(f"left arm    {_span(result.left_arm)}")
    console.print(f"right arm   {_span(result.right_arm)}")
    strand = "forward" if result.donor_strand == 1 else "reverse"
    console.print(f"donor       {result.donor} ({len(result.donor)} nt, {strand} strand)")
    _warnings(result.warnings)


@dna_app.command("integrate")
def integrate_(
    ctx: typer.Context,
    genome: GenomeArg,
    fragment: Annotated[
        str,
        typer.Argument(
            metavar="FRAGMENT_FILE_OR_SEQ", help="The DNA to integrate: a file or the sequence."
        ),
    ],
    locus: Annotated[
        str | None,
        typer.Option(
            "--locus",
            help="A 0-based position to insert at, or a gene whose ORF the fragment replaces; "
            "default: the best computed neutral locus.",
        ),
    ] = None,
    contig: Annotated[
        str | None,
        typer.Option("--contig", help="The record to integrate into (multi-record genomes)."),
    ] = None,
    host: HostOpt = "e_coli",
    method: Annotated[
        str, typer.Option("--method", help="crispr_hr, lambda_red_dsdna, ...")
    ] = "crispr_hr",
    arm: ArmOpt = None,
    loci: Annotated[
        int, typer.Option("--loci", min=1, help="Neutral loci to list (no --locus).")
    ] = 10,
    out: RecordOut = None,
    as_json: JsonOpt = False,
) -> None:
    """Design the donor that integrates a fragment at a neutral locus, a position or a gene."""
    from cellfoundry.dna.integration import integrate, suggest_neutral_loci

    records = _genome(ctx, genome)
    source = genome if _is_path(genome) else None
    suggested: list[Any] | None = None
    with _errors():
        found, where = _inputs(fragment, "fragment")
        piece = _one(found, where, "fragment")
        index = _index(records)
        position: int | str | None = None
        if locus is not None:
            position = int(locus) if locus.strip().lstrip("-").isdigit() else locus.strip()
        with _at(source):
            if isinstance(position, str):
                record = _record_with_gene(records, position)
            else:
                record = _contig(records, contig)
            if position is None:
                suggested = suggest_neutral_loci(record, offtarget_index=index, max_results=loci)
        with _at(where or source, piece.name if where else None):
            result = integrate(
                record,
                piece.sequence,
                locus=position,
                host=_host(host),
                method=cast("Method", method),
                arm_length=arm,
                neutral_loci=suggested,
                offtarget_index=index,
            )
    if out is not None:
        lengths = (len(result.left_arm), len(result.fragment), len(result.right_arm))
        _write(
            [
                _donor_record(
                    f"{piece.name}_integration_donor",
                    f"integration donor for {piece.name} at {result.locus} "
                    f"({result.method}, {result.host})",
                    result.donor,
                    result.donor_strand,
                    lengths,
                    piece.name,
                )
            ],
            out,
            as_json,
        )
    if as_json:
        data: dict[str, Any] = {"contig": record.name, "integration": _data(result)}
        if suggested is not None:
            data["neutral_loci"] = _data(suggested)
        _print_json(data)
        return
    if suggested is not None:
        table = Table(title=f"{len(suggested)} neutral loci on {record.name}, best first")
        for column in ("region", "convergent genes", "insertion site", "guide", "to essential bp",
                       "score"):  # fmt: skip
            table.add_column(
                column, justify="left" if column in ("convergent genes", "guide") else "right"
            )
        for n_locus in suggested:
            table.add_row(
                f"{n_locus.start}..{n_locus.end}",
                f"{n_locus.left_gene} / {n_locus.right_gene}",
                str(n_locus.insertion_site),
                f"{n_locus.guide.spacer} {n_locus.guide.pam}",
                str(n_locus.distance_to_essential),
                f"{n_locus.score:.3f}",
            )
        console.print(table)
    console.print(
        f"[bold]{len(result.fragment)} bp[/bold] into {record.name} at {result.locus}: "
        f"{result.method} donor for {result.host}, {result.arm_length}-bp arms"
    )
    if len(result.replaced):
        console.print(f"replaced    {_span(result.replaced)}")
    console.print(f"left arm    {_span(result.left_arm)}")
    console.print(f"right arm   {_span(result.right_arm)}")
    console.print(f"donor       {len(result.donor)} nt")
    console.print(_guide_table(result.guides, f"{len(result.guides)} guides cutting at the site"))
    _warnings(result.warnings)


# -- sequences: synthesis, codons, primers ------------------------------------------------------


@dna_app.command("synthesis")
def synthesis(
    source: Annotated[
        str, typer.Argument(metavar="FILE_OR_SEQ", help="The DNA to build: a file or a sequence.")
    ],
    max_fragment: Annotated[
        int, typer.Option("--max-fragment", min=1, help="Longest fragment, overlaps included.")
    ] = 3000,
    min_fragment: Annotated[
        int, typer.Option("--min-fragment", min=1, help="Shortest fragment.")
    ] = 300,
    as_json: JsonOpt = False,
) -> None:
    """Split each sequence into overlapping synthesis fragments at the lowest cost."""
    from cellfoundry.dna.synthesis import plan_synthesis

    with _errors():
        records, where = _inputs(source, "sequence")
        plans = []
        for record in records:
            with _at(where, record.name):
                plans.append(
                    plan_synthesis(
                        record.sequence, max_fragment=max_fragment, min_fragment=min_fragment
                    )
                )
    if as_json:
        _print_json(
            {"plans": [{"name": r.name, **_data(p)} for r, p in zip(records, plans, strict=True)]}
        )
        return
    for record, plan in zip(records, plans, strict=True):
        table = Table(
            title=f"{record.name}: {plan.length} bp in {plan.n_fragments} fragments, "
            f"cost {plan.total_cost:.2f}"
        )
        for column in ("#", "start", "end", "bp", "cost", "overlap to next", "Tm °C", "GC"):
            table.add_column(column, justify="left" if column == "overlap to next" else "right")
        for k, fragment in enumerate(plan.fragments):
            nxt = plan.overlaps[k] if k < len(plan.overlaps) else None
            table.add_row(
                str(k + 1),
                str(fragment.start),
                str(fragment.end),
                str(len(fragment)),
                f"{fragment.cost:.2f}",
                nxt.sequence if nxt else "",
                f"{nxt.tm_c:.1f}" if nxt else "",
                f"{nxt.gc_fraction:.2f}" if nxt else "",
            )
        console.print(table)
        _warnings(plan.warnings)


def _fasta_text(path: Path) -> list[tuple[str, str]]:
    """(name, sequence) of each record of a FASTA file of proteins or CDSs."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationError("no such file", source=str(path), field="path") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValidationError(f"cannot read the file: {err}", source=str(path)) from None
    entries: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(">"):
            name = line[1:].split()[0] if line[1:].split() else f"#{len(entries) + 1}"
            entries.append((name, []))
        elif line.strip() and not line.startswith(";"):
            if not entries:
                raise ValidationError(
                    f"not FASTA: line {number} comes before any '>' header line",
                    source=str(path),
                    record="#1",
                    field="header",
                )
            entries[-1][1].append(line.strip())
    if not entries:
        raise ValidationError("no FASTA record ('>' header)", source=str(path), field="header")
    return [(name, "".join(chunks)) for name, chunks in entries]


def _codon_inputs(spec: str) -> tuple[list[tuple[str, str]], str | None]:
    """Proteins or CDSs to optimise: a FASTA/GenBank file's records, or one typed inline."""
    if not _is_path(spec):
        return [("protein", spec)], None
    path = Path(spec)
    if path.suffix.lower() in (".gb", ".gbk", ".genbank", ".gbff", ".ttl", ".xml", ".jsonld"):
        with _errors():
            return [(r.name, r.sequence) for r in _read(path)], spec
    with _errors():
        return _fasta_text(path), spec


@dna_app.command("codon")
def codon(
    source: Annotated[
        str,
        typer.Argument(
            metavar="PROTEIN_OR_FILE",
            help="A protein (one-letter), a CDS, or a FASTA file of proteins or CDSs.",
        ),
    ],
    host: Annotated[
        str,
        typer.Option(
            "--host", help="e_coli, b_subtilis, s_cerevisiae, h_sapiens... or an NCBI taxid."
        ),
    ] = "e_coli",
    gc_min: Annotated[
        float, typer.Option("--gc-min", min=0, max=1, help="Least GC in every 50-nt window.")
    ] = 0.30,
    gc_max: Annotated[
        float, typer.Option("--gc-max", min=0, max=1, help="Most GC in every 50-nt window.")
    ] = 0.65,
    avoid: Annotated[
        str,
        typer.Option("--avoid", help="Comma-separated enzymes whose sites must not occur."),
    ] = "BsaI,BpiI",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random search.")] = 0,
    out: RecordOut = None,
    as_json: JsonOpt = False,
) -> None:
    """Codon-optimise proteins or CDSs for a host (the protein is checked unchanged)."""
    from cellfoundry.dna.codon import optimise_codons

    entries, where = _codon_inputs(source)
    sites = tuple(s.strip() for s in avoid.split(",") if s.strip())
    chosen: str | int = int(host) if host.isdigit() else host
    results = []
    with _errors(), _progress("codon optimisation") as report:
        for k, (name, sequence) in enumerate(entries):
            report(k, len(entries))
            with _at(where, name):
                results.append(
                    optimise_codons(
                        sequence,
                        host=chosen,
                        gc_min=gc_min,
                        gc_max=gc_max,
                        avoid_sites=sites,
                        seed=seed,
                        name=name,
                    )
                )
        report(len(entries), len(entries))
    if out is not None:
        _write(
            [
                SequenceRecord(
                    r.name,
                    r.sequence,
                    description=f"codon-optimised for {r.host} (CAI {r.cai_after:.3f})",
                )
                for r in results
            ],
            out,
            as_json,
        )
    if as_json:
        _print_json(
            {
                "optimisations": [
                    {**_data(r), "ok": r.ok, "changed_codons": r.changed_codons} for r in results
                ]
            }
        )
        return
    table = Table(title=f"{len(results)} sequences optimised for {results[0].host}")
    for column in ("name", "aa", "CAI before", "CAI after", "GC", "constraints"):
        table.add_column(column, justify="left" if column in ("name", "constraints") else "right")
    for r in results:
        failed = [c.name for c in r.constraints if not c.passed]
        table.add_row(
            r.name,
            str(len(r.protein.rstrip("*"))),
            "—" if r.cai_before is None else f"{r.cai_before:.3f}",
            f"{r.cai_after:.3f}",
            f"{r.gc_fraction:.2f}",
            "all met" if not failed else "[yellow]not met: " + ", ".join(failed) + "[/yellow]",
        )
    console.print(table)
    for r in results:
        _warnings([f"{r.name}: {w}" for w in r.warnings])
    if out is None:
        for r in results:
            console.print(f">{r.name}\n{r.sequence}", soft_wrap=True, highlight=False)


@dna_app.command("primers")
def primers(
    template: Annotated[
        str,
        typer.Argument(metavar="TEMPLATE_FILE_OR_SEQ", help="The template: a file or a sequence."),
    ],
    start: Annotated[int, typer.Option("--start", min=0, help="0-based start of the region.")] = 0,
    end: Annotated[
        int | None, typer.Option("--end", min=1, help="End of the region (exclusive).")
    ] = None,
    tm: Annotated[float, typer.Option("--tm", help="Target annealing Tm (°C).")] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Design the primer pair that amplifies a region of a template exactly."""
    from cellfoundry.dna.primers import design_primers

    with _errors():
        records, where = _inputs(template, "template")
        record = _one(records, where, "template")
        with _at(where, record.name):
            pair = design_primers(record, start, end, tm=tm)
    if as_json:
        _print_json({"primers": {**_data(pair), "tm_difference": pair.tm_difference}})
        return
    table = Table(title=f"primers for {record.name}[{start}:{len(record) if end is None else end}]")
    for column in ("primer", "sequence 5'->3'", "nt", "Tm °C", "GC", "at", "hairpin ΔG",
                   "homodimer ΔG"):  # fmt: skip
        table.add_column(column, justify="left" if column[0] in "ps" else "right")
    for label, p in (("forward", pair.forward), ("reverse", pair.reverse)):
        table.add_row(
            label,
            p.sequence,
            str(len(p)),
            f"{p.tm:.1f}",
            f"{p.gc:.2f}",
            str(p.position),
            f"{p.hairpin_dg:.2f}",
            f"{p.homodimer_dg:.2f}",
        )
    console.print(table)
    console.print(
        f"amplicon {len(pair.amplicon)} bp; Tm difference {pair.tm_difference:.1f} °C; "
        f"heterodimer ΔG {pair.heterodimer_dg:.2f} kcal/mol"
    )


# -- assembly -----------------------------------------------------------------------------------


@dna_app.command("assemble")
def assemble(
    parts: Annotated[
        list[Path], typer.Argument(metavar="PART_FILES...", help="Part files (GenBank, FASTA).")
    ],
    backbone: Annotated[
        Path | None, typer.Option("--backbone", help="The acceptor vector (Golden Gate).")
    ] = None,
    enzyme: Annotated[
        str, typer.Option("--enzyme", help="BsaI, BpiI, BbsI, Esp3I or BsmBI.")
    ] = "BsaI",
    gibson: Annotated[
        bool,
        typer.Option("--gibson", help="Join the parts in order by Gibson assembly instead."),
    ] = False,
    linear: Annotated[
        bool, typer.Option("--linear", help="Gibson: a linear product (default circular).")
    ] = False,
    name: Annotated[str, typer.Option("--name", help="Name of the product.")] = "product",
    simulate: Annotated[
        bool,
        typer.Option("--simulate/--no-simulate", help="Check the product with pydna's simulation."),
    ] = True,
    out: RecordOut = None,
    as_json: JsonOpt = False,
) -> None:
    """Assemble parts by Golden Gate (type IIS digestion and ligation) or Gibson."""
    from cellfoundry.dna.gibson import gibson_assembly
    from cellfoundry.dna.golden_gate import golden_gate

    with _errors():
        records: list[SequenceRecord] = []
        for path in parts:
            records.extend(_read(path))
        acceptor = _one(_read(backbone), str(backbone), "backbone") if backbone else None
        if gibson:
            fragments = ([acceptor] if acceptor else []) + records
            result: Any = gibson_assembly(
                fragments, circular=not linear, name=name, simulate=simulate
            )
        else:
            result = golden_gate(records, acceptor, enzyme=enzyme, name=name, simulate=simulate)
    if out is not None:
        _write([result.product], out, as_json)
    if as_json:
        _print_json(
            {"assembly": {"method": "gibson" if gibson else "golden_gate", **_data(result)}}
        )
        return
    product = result.product
    shape = "circular" if product.topology == "circular" else "linear"
    if gibson:
        table = Table(title=f"Gibson assembly: {len(product)} bp {shape}")
        for column in ("junction", "overlap", "nt", "Tm °C", "at"):
            table.add_column(
                column, justify="left" if column in ("junction", "overlap") else "right"
            )
        for j in result.junctions:
            table.add_row(
                f"{j.left} / {j.right}", j.overlap, str(len(j.overlap)), f"{j.tm:.1f}",
                str(j.position),
            )  # fmt: skip
        console.print(table)
        primer_table = Table(title="primers (homology tails in lower case)")
        for column in ("fragment", "forward 5'->3'", "Tm °C", "reverse 5'->3'", "Tm °C ",
                       "amplicon bp"):  # fmt: skip
            primer_table.add_column(column, justify="right" if "Tm" in column or "bp" in column
                                    else "left")  # fmt: skip
        for pair, amplicon in zip(result.primers, result.amplicons, strict=True):
            primer_table.add_row(
                amplicon.name.removesuffix("_pcr"),
                pair.forward.tail.lower() + pair.forward.binding,
                f"{pair.forward.tm:.1f}",
                pair.reverse.tail.lower() + pair.reverse.binding,
                f"{pair.reverse.tm:.1f}",
                str(len(amplicon)),
            )
        console.print(primer_table)
    else:
        table = Table(title=f"{result.enzyme} Golden Gate: {len(product)} bp {shape}")
        for column in ("#", "part", "strand", "overhang after"):
            table.add_column(column, justify="right" if column == "#" else "left")
        for k, (part, strand, overhang) in enumerate(
            zip(result.order, result.orientations, result.overhangs, strict=True), 1
        ):
            table.add_row(str(k), part, "+" if strand == 1 else "-", overhang)
        console.print(table)
        console.print(
            f"expected fidelity {result.fidelity:.1%} (overhang ligation data of Pryor et al. 2020)"
        )
    console.print(f"product {product.name}: {len(product)} bp, checksum {product.checksum}")
    _warnings(result.warnings)


# -- editing plans ------------------------------------------------------------------------------


def _plan_tables(plan: dict[str, Any]) -> None:
    edits = Table(title=f"{len(plan['edits'])} edits of {plan['chassis']} ({plan['host']})")
    for column in ("kind", "gene", "contig", "guide", "donor"):
        edits.add_column(column)
    for e in plan["edits"]:
        guide = e["guides"][0] if e["guides"] else None
        edits.add_row(
            e["kind"],
            e["gene"],
            e["contig"],
            f"{guide['spacer']} {guide['pam']}" if guide else "",
            e["donor"],
        )
    console.print(edits)
    steps = Table(title=f"{len(plan['steps'])} steps")
    for column in ("#", "action", "step", "detail"):
        steps.add_column(column, justify="right" if column == "#" else "left")
    for s in plan["steps"]:
        steps.add_row(str(s["number"]), s["action"], s["title"], s["detail"])
    console.print(steps)
    _warnings(plan.get("warnings", ()))


@dna_app.command("plan")
def plan_(
    ctx: typer.Context,
    strain: Annotated[
        str | None,
        typer.Option("--strain", help="A planned strain with a saved design: plan it in the bank."),
    ] = None,
    design: Annotated[
        Path | None, typer.Option("--design", help="A design JSON file (file mode).")
    ] = None,
    genome: Annotated[
        str | None,
        typer.Option("--genome", help="File mode: the chassis genome (file or strain accession)."),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="File mode: write plan.json, records.gb, records.ttl."),
    ] = None,
    index: Annotated[
        int, typer.Option("--index", min=1, help="File mode: which design of the file.")
    ] = 1,
    name: Annotated[
        str | None, typer.Option("--name", help="File mode: the planned strain's name.")
    ] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="e_coli or s_cerevisiae; default: guessed.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan guides, donors, constructs, primers and bench steps for a strain design."""
    if (strain is None) == (design is None):
        with _errors():
            raise ValidationError(
                "give --strain ACCESSION (bank) or --design FILE --genome GENOME --out-dir DIR",
                field="strain",
            )
    if strain is not None:
        with _bank(ctx) as bank, _progress(f"planning {strain}") as report:
            saved = bank.plan_strain_edits(strain, host=host, progress=report)
        if as_json:
            _print_json({"strain": strain, "saved": "bank", "plan": saved.plan})
            return
        _plan_tables(saved.plan)
        console.print(
            f"saved the plan with [bold]{strain}[/bold] in the bank "
            f"({len(saved.plan['records'])} records as GenBank and SBOL3)"
        )
        return
    if design is not None:
        _plan_files(ctx, design, genome, out_dir, index, name, host, as_json)


def _plan_files(
    ctx: typer.Context,
    design: Path,
    genome: str | None,
    out_dir: Path | None,
    index: int,
    name: str | None,
    host: str | None,
    as_json: bool,
) -> None:
    from cellfoundry.bank import formats
    from cellfoundry.cli.design import read_designs
    from cellfoundry.dna.plan import plan_edits

    with _errors():
        if genome is None or out_dir is None:
            missing = "--genome" if genome is None else "--out-dir"
            raise ValidationError(
                f"file mode needs {missing}", field=missing.lstrip("-").replace("-", "_")
            )
        designs = read_designs([design])
        if index > len(designs):
            raise ValidationError(
                f"the file holds {len(designs)} designs, not {index}",
                source=str(design),
                field="index",
            )
        chosen = designs[index - 1]
    records = _genome(ctx, genome)
    chassis = Path(genome).stem if _is_path(genome) else genome
    strain = name or design.stem
    with _errors(), _progress(f"planning {strain}") as report, _at(str(design)):
        plan = plan_edits(
            chosen.to_dict(), records, strain=strain, chassis=chassis, host=host, progress=report
        )
    data = plan.to_dict()
    files = [out_dir / "plan.json", out_dir / "records.gb", out_dir / "records.ttl"]
    with _errors():
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            files[0].write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            formats.write(plan.records, files[1], "genbank")
            formats.write(plan.records, files[2], "sbol3")
        except OSError as err:
            raise ValidationError(
                f"cannot write the plan: {err.strerror or err}",
                source=str(out_dir),
                field="out_dir",
            ) from None
    if as_json:
        _print_json({"strain": strain, "saved": [str(f) for f in files], "plan": data})
        return
    _plan_tables(data)
    console.print(f"wrote {', '.join(f.name for f in files)} to {out_dir}")
