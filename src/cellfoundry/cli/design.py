"""``cellfoundry design ...``: from a target compound to ranked, gene-level strain designs.

``design rank FILE...`` ranks designs saved as JSON (a design, a list of designs, or a
design job's result) by guaranteed yield, growth and number of changes, evaluating any that
lack an evaluation on ``--model``; ``design save FILE --parent ACCESSION`` keeps one as a
planned strain in the bank. The searches (``pathway``, ``knockouts``, ``overexpress``) are
added beside these as the engine provides them. Bad input prints one line naming file, record
and field and exits with status 2.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cellfoundry.cli.model import (
    JsonOpt,
    _actor,
    _bank,
    _errors,
    _print_json,
    _spec,
    console,
)
from cellfoundry.core.errors import ValidationError

__all__ = ["design_app", "read_designs"]

design_app = typer.Typer(
    help="Strain design: pathways to insert, genes to knock out or tune, ranked and saved."
)

FilesArg = Annotated[
    list[Path],
    typer.Argument(help="Design JSON files: one design, a list, or a design job's result."),
]


def read_designs(paths: list[Path]) -> list[Any]:
    """Return the designs in JSON files, in order; a named error for a file that holds none."""
    from cellfoundry.metabolism.design import StrainDesign

    out: list[StrainDesign] = []
    for path in paths:
        source = str(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValidationError("no such file", source=source, field="path") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValidationError(f"not JSON: {err}", source=source) from None
        if isinstance(data, dict) and "designs" in data:
            data = data["designs"]
        items = data if isinstance(data, list) else [data]
        for k, item in enumerate(items, 1):
            try:
                out.append(StrainDesign.from_dict(item))
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise ValidationError(
                    f"design {k} is not a strain design ({type(err).__name__}: {err})",
                    source=source,
                    record=str(k),
                    field=str(err.args[0]) if isinstance(err, KeyError) else "design",
                ) from None
    return out


def _num(value: float, digits: int = 3) -> str:
    return "—" if math.isnan(value) else f"{value:.{digits}f}"


def _table(designs: list[Any], title: str) -> Table:
    from cellfoundry.metabolism.design import compare

    frame = compare(designs)
    table = Table(title=title)
    for name in ("#", "design", "method", "changes", "growth /h", "yield min", "yield max"):
        table.add_column(name, justify="left" if name in ("design", "method") else "right")
    table.add_column("coupled")
    table.add_column("Pareto")
    for k, row in enumerate(frame.itertuples(index=False), 1):
        table.add_row(
            str(k),
            str(row.label),
            str(row.method),
            str(row.modifications),
            _num(float(row.growth)),
            _num(float(row.yield_min)),
            _num(float(row.yield_max)),
            "yes" if row.growth_coupled else "no",
            "★" if row.pareto else "",
        )
    return table


@design_app.command("rank")
def rank_(
    ctx: typer.Context,
    files: FilesArg,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Evaluate designs without an evaluation on this model (file or id)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Rank designs by guaranteed yield, growth, then fewest modifications."""
    from cellfoundry.metabolism.design import evaluate_design, rank

    with _errors():
        designs = read_designs(files)
        if any(d.evaluation is None for d in designs):
            if model is None:
                raise ValidationError(
                    "some designs have no evaluation: give --model to evaluate them",
                    field="model",
                )
            spec = _spec(ctx, model)
            designs = [d if d.evaluation else evaluate_design(spec, d) for d in designs]
        ranked = rank(designs)
    if as_json:
        _print_json({"designs": [d.to_dict() for d in ranked]})
        return
    console.print(_table(ranked, f"{len(ranked)} designs, best first"))


@design_app.command("save")
def save(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A design JSON file (or a job's result).")],
    parent: Annotated[str, typer.Option("--parent", help="The chassis strain's accession.")],
    index: Annotated[
        int, typer.Option("--index", min=1, help="Which design of the file (1 = first).")
    ] = 1,
    accession: Annotated[
        str | None, typer.Option("--accession", help="Default: PARENT-D and a number.")
    ] = None,
    visibility: Annotated[
        str, typer.Option("--visibility", help="private, group or public.")
    ] = "private",
) -> None:
    """Keep a design as a planned strain derived from the chassis strain."""
    with _errors():
        designs = read_designs([file])
        if index > len(designs):
            raise ValidationError(
                f"the file holds {len(designs)} designs, not {index}",
                source=str(file),
                field="index",
            )
        design = designs[index - 1]
    with _bank(ctx) as bank:
        view = bank.save_design(
            design.to_dict(),
            parent_accession=parent,
            accession=accession,
            actor=_actor(),
            visibility=visibility,
        )
    console.print(f"saved [bold]{view.accession}[/bold] (planned, from {parent}): {design.label()}")
