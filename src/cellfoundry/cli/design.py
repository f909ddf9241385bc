"""``cellfoundry design ...``: from a target compound to ranked, gene-level strain designs.

``design pathway MODEL TARGET`` finds heterologous pathways from the BiGG universe;
``design knockouts MODEL PRODUCT`` growth-coupled knock-outs (OptKnock, or minimal cut sets);
``design overexpress MODEL PRODUCT`` over- and under-expression targets (FSEOF). Each prints
the designs ranked and side by side and, with ``--out FILE``, writes them as JSON
(``cellfoundry.strain-design/1``, the hand-off to DNA design). ``design rank FILE...`` ranks
saved designs (evaluating any without an evaluation on ``--model``); ``design save FILE
--parent ACCESSION`` keeps one as a planned strain in the bank. MODEL is a model file or a
stored model's id or name; ``--medium`` changes it as for ``cellfoundry model``. Bad input
prints one line naming file, record and field and exits with status 2.
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
    MediumOpt,
    ModelArg,
    _actor,
    _bank,
    _errors,
    _medium,
    _print_json,
    _progress,
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


OutJson = Annotated[
    Path | None, typer.Option("--out", help="Write the ranked designs to this JSON file.")
]
SubstrateOpt = Annotated[
    str, typer.Option("--substrate", help="The substrate's exchange reaction.")
]


def _report(designs: list[Any], out: Path | None, as_json: bool, title: str) -> None:
    """Rank, then print a table (or JSON) and write the designs if asked."""
    from cellfoundry.metabolism.design import rank

    ranked = rank(designs)
    data = {"designs": [d.to_dict() for d in ranked]}
    if out is not None:
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        tmp.replace(out)
    if as_json:
        _print_json(data)
        return
    console.print(_table(ranked, title))
    if out is not None:
        console.print(f"designs written to {out}")


@design_app.command("pathway")
def pathway(
    ctx: typer.Context,
    source: ModelArg,
    target: Annotated[str, typer.Argument(help="The compound: BiGG id (13ppd) or name.")],
    k: Annotated[int, typer.Option("--k", min=1, max=20, help="Pathways to find.")] = 5,
    max_reactions: Annotated[
        int, typer.Option("--max-reactions", min=1, max=30, help="Most reactions to add.")
    ] = 10,
    couple: Annotated[
        int,
        typer.Option(
            "--knockouts",
            min=0,
            max=3,
            help="Also search up to this many gene deletions that couple each pathway's "
            "product to growth (0: none).",
        ),
    ] = 0,
    substrate: SubstrateOpt = "EX_glc__D_e",
    medium: MediumOpt = None,
    out: OutJson = None,
    as_json: JsonOpt = False,
) -> None:
    """Find the smallest sets of reactions (and genes) to insert so the chassis makes TARGET."""
    from cellfoundry.metabolism.design import combined_designs, find_pathways

    spec = _medium(_spec(ctx, source), medium)
    with _errors(), _progress("pathway search") as report:
        pathways = find_pathways(
            spec, target, k=k, substrate=substrate, max_reactions=max_reactions, progress=report
        )
        designs = [p.to_design() for p in pathways]
        if couple:
            for p in pathways:
                if not p.native:
                    designs += combined_designs(p, max_knockouts=couple, k=1, time_limit=60.0)
    if not as_json:
        for p in pathways:
            yields = f"{p.max_yield.molar_yield:.3f} mol/mol"
            console.print(f"[bold]#{p.rank}[/bold] {' + '.join(p.reaction_ids)}  (max {yields})")
    _report(designs, out, as_json, f"pathways to {target}")


@design_app.command("knockouts")
def knockouts(
    ctx: typer.Context,
    source: ModelArg,
    product: Annotated[str, typer.Argument(help="The product's exchange reaction (EX_succ_e).")],
    max_knockouts: Annotated[
        int, typer.Option("--max-knockouts", min=1, max=5, help="Most reactions to remove.")
    ] = 3,
    k: Annotated[int, typer.Option("--k", min=1, max=10, help="Designs to find.")] = 3,
    method: Annotated[
        str, typer.Option("--method", help="optknock (HiGHS) or mcs (StrainDesign).")
    ] = "optknock",
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=1, help="Seconds for the search.")
    ] = 120.0,
    substrate: SubstrateOpt = "EX_glc__D_e",
    medium: MediumOpt = None,
    out: OutJson = None,
    as_json: JsonOpt = False,
) -> None:
    """Find gene deletions that make the strain secrete PRODUCT to grow."""
    from cellfoundry.metabolism.design import minimal_cut_sets, optknock

    if method not in ("optknock", "mcs"):
        raise _fail_text("--method must be optknock or mcs", "method")
    spec = _medium(_spec(ctx, source), medium)
    options: dict[str, Any] = {
        "substrate": substrate,
        "max_knockouts": max_knockouts,
        "k": k,
        "time_limit": time_limit,
    }
    with _errors(), _progress("knock-out search") as report:
        if method == "mcs":
            designs = minimal_cut_sets(spec, product, **options)
        else:
            designs = optknock(spec, product, progress=report, **options)
    _report(designs, out, as_json, f"knock-outs for {product}")


@design_app.command("overexpress")
def overexpress(
    ctx: typer.Context,
    source: ModelArg,
    product: Annotated[str, typer.Argument(help="The product's exchange reaction (EX_succ_e).")],
    steps: Annotated[int, typer.Option("--steps", min=2, max=50, help="Scanning steps.")] = 10,
    substrate: SubstrateOpt = "EX_glc__D_e",
    medium: MediumOpt = None,
    out: OutJson = None,
    as_json: JsonOpt = False,
) -> None:
    """List reactions to over- or under-express for PRODUCT (FSEOF)."""
    from cellfoundry.metabolism.design import evaluate_design, fseof

    spec = _medium(_spec(ctx, source), medium)
    with _errors(), _progress("flux scanning") as report:
        result = fseof(spec, product, substrate=substrate, steps=steps, progress=report)
        if not result.targets:
            raise ValidationError(
                f"no reaction's flux follows {product}'s enforced secretion", field="product"
            )
        design = evaluate_design(spec, result.to_design(max_targets=10))
    if not as_json:
        for t in result.targets[:20]:
            genes = ", ".join(t.genes) or "no gene"
            console.print(f"{t.kind:12} {t.reaction:12} x{t.fold_change:.2f}  ({genes})")
    _report([design], out, as_json, f"expression targets for {product}")


def _fail_text(message: str, field: str) -> typer.Exit:
    from cellfoundry.cli.model import _fail

    return _fail(ValidationError(message, field=field))
