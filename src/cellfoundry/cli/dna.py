"""``cellfoundry dna ...``: guides, off-targets, donors, integration, codons, assembly, plans.

GENOME is a sequence file (GenBank, FASTA) or a strain accession whose genome is in the bank.
Every command prints a table, or JSON with ``--json``; bad input prints one line naming file,
record and field and exits with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cellfoundry.cli.model import JsonOpt, _bank, _errors, _print_json, _progress, console
from cellfoundry.core.errors import ValidationError
from cellfoundry.core.sequence import SequenceRecord

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


def _genome(ctx: typer.Context, spec: str) -> list[SequenceRecord]:
    """Return the genome's records from a file, or from the bank for a strain accession."""
    from cellfoundry.bank import formats

    path = Path(spec)
    if path.exists():
        with _errors():
            return list(formats.read(path))
    with _bank(ctx) as bank:
        return list(bank.strain_genome(spec))


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
