"""``cellfoundry model ...``: genome-scale metabolic analysis from the command line.

``model load FILE`` stores a model in the bank; ``fba``, ``fva``, ``delete``, ``envelope`` and
``check`` run an analysis on a model file (SBML, COBRA JSON, MATLAB, YAML: the engine reads it
directly, no database needed) or on a stored model given by its id or name (read from the bank
of ``--db``). Long analyses show a progress bar; ``--out`` writes the result as CSV in the shape
of COBRApy's frames; ``--json`` prints JSON for scripts. Bad input (a file that does not parse,
an unknown reaction, an infeasible medium) prints one line naming file, record and field and
exits with status 2.
"""

from __future__ import annotations

import getpass
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cellfoundry.core.errors import CellfoundryError

if TYPE_CHECKING:
    import pandas as pd

    from cellfoundry.bank.services import Bank
    from cellfoundry.metabolism import ModelSpec

__all__ = ["model_app"]

model_app = typer.Typer(
    help="Genome-scale metabolic models: store them and run FBA, FVA, deletions, envelopes."
)

console = Console()
err_console = Console(stderr=True)

#: Growth below this fraction of the wild type's counts as no growth (COBRApy's threshold).
ESSENTIAL_FRACTION: Final = 1e-6
#: File name endings the engine reads as a model.
MODEL_SUFFIXES: Final = (
    ".xml",
    ".sbml",
    ".xml.gz",
    ".sbml.gz",
    ".xml.bz2",
    ".xml.zip",
    ".json",
    ".json.gz",
    ".mat",
    ".yml",
    ".yaml",
)

ModelArg = Annotated[
    str,
    typer.Argument(
        metavar="FILE_OR_ID",
        help="A model file (SBML, COBRA JSON, MATLAB, YAML), or a stored model's id or name.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ProcessesOpt = Annotated[
    int, typer.Option("--processes", min=1, help="Worker processes for the analysis.")
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write the full result to this CSV file.")
]
MediumOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--medium",
        help="EXCHANGE=UPTAKE (repeatable), e.g. EX_glc__D_e=10: the uptake bound of an "
        "exchange reaction in mmol/gDW/h; 0 closes it. Other exchanges keep the model's medium.",
    ),
]


# -- plumbing -----------------------------------------------------------------------------------


def _fail(err: CellfoundryError) -> typer.Exit:
    """Print a domain error as one line (file, record, field: message); exit status 2."""
    err_console.print(f"[red]error:[/red] {escape(str(err))}", soft_wrap=True)
    return typer.Exit(2)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the engine's and the bank's named errors into one line and exit status 2."""
    try:
        yield
    except CellfoundryError as err:
        raise _fail(err) from err


def _db(ctx: typer.Context) -> str | None:
    """Return the ``--db`` of the top-level command (``cellfoundry --db URL model ...``)."""
    db = ctx.find_root().params.get("db")
    return str(db) if db else None


@contextmanager
def _bank(ctx: typer.Context) -> Iterator[Bank]:
    from cellfoundry.bank.services import Bank

    with _errors():
        bank = Bank.open(_db(ctx))
    try:
        with _errors():
            yield bank
    finally:
        bank.close()


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """Show a rich progress bar on stderr fed by the engine's ``progress(done, total)`` callback."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _finite(value: float) -> float | None:
    """Return a float for JSON: ``None`` for nan (no solution), infinities as they are."""
    return None if isinstance(value, float) and math.isnan(value) else float(value)


def _looks_like_file(source: str) -> bool:
    return Path(source).exists() or source.lower().endswith(MODEL_SUFFIXES) or "/" in source


def _spec(ctx: typer.Context, source: str) -> ModelSpec:
    """Return the model named on the command line: a file, else a stored model."""
    from cellfoundry.metabolism import load_model

    if _looks_like_file(source):
        with _errors():
            return load_model(Path(source))
    with _bank(ctx) as bank:
        return bank.model_spec(_stored_id(bank, source))


def _stored_id(bank: Bank, key: str) -> int:
    """Return a stored model's id from its id or its name."""
    from cellfoundry.core.errors import NotFoundError

    if key.isdigit():
        return int(key)
    for model in bank.list_models():
        if key in (model.name, getattr(model, "model_id", None)):
            return int(model.id)
    raise NotFoundError("model", key)


def _medium(spec: ModelSpec, changes: Sequence[str] | None) -> ModelSpec:
    """Return the model with some uptake rates changed (``ID=RATE``), the rest kept."""
    from cellfoundry.core.errors import ValidationError
    from cellfoundry.metabolism import with_medium

    if not changes:
        return spec
    medium = dict(spec.medium)
    for item in changes:
        rid, sep, rate = item.partition("=")
        try:
            uptake = float(rate)
        except ValueError:
            uptake = math.nan
        if not sep or not rid.strip() or not math.isfinite(uptake) or uptake < 0:
            raise ValidationError(
                f"--medium {item!r} is not EXCHANGE=UPTAKE with an uptake rate ≥ 0 "
                "(e.g. EX_glc__D_e=10)",
                source=spec.source,
                record=rid.strip() or None,
                field="medium",
            )
        medium[rid.strip()] = uptake
    return with_medium(spec, medium)


def _reaction_list(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [r.strip() for r in text.split(",") if r.strip()]


def _write_csv(frame: pd.DataFrame, path: Path, *, index_label: str | None = None) -> None:
    """Write a result frame as CSV; sets of ids (deletion results) as ``a;b``."""
    out = frame.copy()
    if "ids" in out.columns:
        out["ids"] = [";".join(sorted(ids)) for ids in out["ids"]]
        out.to_csv(path, index=False)
    else:
        out.to_csv(path, index=index_label is not None, index_label=index_label)


def _fmt(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "—"
    return "0" if abs(value) < 1e-9 else f"{value:.6g}"


# -- commands -----------------------------------------------------------------------------------


@model_app.command("load")
def load(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="SBML, COBRA JSON, MATLAB or YAML model file.")],
    name: Annotated[str | None, typer.Option(help="Name to show (default: the model's).")] = None,
    strain: Annotated[
        str | None, typer.Option(help="Accession of the strain this model describes.")
    ] = None,
    visibility: Annotated[
        str, typer.Option(help="Who sees the model: private, group or public.")
    ] = "public",
    as_json: JsonOpt = False,
) -> None:
    """Check a model file and store it in the bank."""
    with _errors():
        data = path.read_bytes() if path.is_file() else None
    if data is None:
        from cellfoundry.core.errors import ValidationError

        raise _fail(ValidationError("no such model file", source=str(path), field="path"))
    with _bank(ctx) as bank:
        view = bank.add_model(
            data, path.name, name=name, strain=strain, visibility=visibility, actor=_actor()
        )
    if as_json:
        _print_json(_view_dict(view))
        return
    console.print(
        f"stored model {view.id} {escape(view.name)}: {view.reactions} reactions, "
        f"{view.metabolites} metabolites, {view.genes} genes"
        + (f"; linked to {escape(strain)}" if strain else "")
    )


def _actor() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def _view_dict(view: Any) -> dict[str, Any]:
    if hasattr(view, "to_dict"):
        data: dict[str, Any] = view.to_dict()
        return data
    return {k: getattr(view, k) for k in ("id", "name", "reactions", "metabolites", "genes")}


@model_app.command("list")
def list_(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the stored models you can see."""
    with _bank(ctx) as bank:
        models = bank.list_models()
    if as_json:
        _print_json([_view_dict(m) for m in models])
        return
    table = Table("id", "name", "reactions", "metabolites", "genes", title=f"{len(models)} models")
    for m in models:
        table.add_row(str(m.id), escape(m.name), str(m.reactions), str(m.metabolites), str(m.genes))
    console.print(table)


@model_app.command("fba")
def fba(
    ctx: typer.Context,
    source: ModelArg,
    medium: MediumOpt = None,
    parsimonious: Annotated[
        bool, typer.Option("--pfba", help="Parsimonious FBA: the optimum with least total flux.")
    ] = False,
    top: Annotated[int, typer.Option(min=0, help="Show this many largest fluxes.")] = 20,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Flux balance analysis: optimise the model's objective, show the largest fluxes."""
    from cellfoundry.metabolism import fba as run_fba
    from cellfoundry.metabolism import pfba

    spec = _spec(ctx, source)
    with _errors():
        spec = _medium(spec, medium)
        solution = pfba(spec) if parsimonious else run_fba(spec)
    fluxes = solution.fluxes
    objective = float(spec.objective @ fluxes.to_numpy())
    if out is not None:
        _write_csv(solution.to_frame(), out, index_label="reaction")
    if as_json:
        _print_json(
            {
                "model": spec.id,
                "method": "pfba" if parsimonious else "fba",
                "status": solution.status,
                "objective_value": solution.objective_value,
                "objective_flux": objective,
                "fluxes": {k: float(v) for k, v in fluxes.items()},
            }
        )
        return
    names = dict(zip(spec.reactions, spec.reaction_names, strict=True))
    console.print(f"model {escape(spec.id)}: {solution.status}")
    console.print(f"objective value: {objective:.3f}")
    if parsimonious:
        console.print(f"total flux (pFBA): {solution.objective_value:.3f}")
    largest = fluxes[fluxes.abs() > 1e-9].abs().sort_values(ascending=False).index[:top]
    if top and len(largest):
        table = Table("reaction", "name", "flux", title=f"{len(largest)} largest fluxes")
        for rid in largest:
            table.add_row(escape(rid), escape(names.get(rid, "")), f"{fluxes[rid]:.4f}")
        console.print(table)
    if out is not None:
        console.print(f"wrote {len(fluxes)} fluxes to {out}")


@model_app.command("fva")
def fva(
    ctx: typer.Context,
    source: ModelArg,
    fraction: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Fraction of the optimum to keep.")
    ] = 1.0,
    reactions: Annotated[
        str | None, typer.Option(help="Only these reactions, comma-separated (R1,R2).")
    ] = None,
    medium: MediumOpt = None,
    processes: ProcessesOpt = 1,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Flux variability analysis: each reaction's flux range near the optimum."""
    from cellfoundry.metabolism import fva as run_fva

    spec = _spec(ctx, source)
    with _errors(), _progress(f"FVA of {spec.id}") as report:
        spec = _medium(spec, medium)
        frame = run_fva(
            spec,
            _reaction_list(reactions),
            fraction_of_optimum=fraction,
            processes=processes,
            progress=report,
        )
    if out is not None:
        _write_csv(frame, out, index_label="reaction")
    if as_json:
        _print_json(
            {
                str(r): {"minimum": _finite(lo), "maximum": _finite(hi)}
                for r, lo, hi in zip(frame.index, frame["minimum"], frame["maximum"], strict=True)
            }
        )
        return
    if out is not None:
        console.print(f"wrote the flux ranges of {len(frame)} reactions to {out}")
        return
    table = Table("reaction", "minimum", "maximum", title=f"flux ranges at {fraction:g} of optimum")
    for rid, lo, hi in zip(frame.index, frame["minimum"], frame["maximum"], strict=True):
        table.add_row(escape(str(rid)), _fmt(lo), _fmt(hi))
    console.print(table)


@model_app.command("delete")
def delete(
    ctx: typer.Context,
    source: ModelArg,
    genes: Annotated[bool, typer.Option("--genes", help="Knock out genes.")] = False,
    reactions: Annotated[bool, typer.Option("--reactions", help="Knock out reactions.")] = False,
    double: Annotated[
        bool, typer.Option("--double", help="Every pair, not one at a time.")
    ] = False,
    medium: MediumOpt = None,
    processes: ProcessesOpt = 1,
    top: Annotated[int, typer.Option(min=0, help="Show this many lethal knock-outs.")] = 50,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Screen deletions: the growth of each single (or double) gene or reaction knock-out."""
    from cellfoundry.metabolism import (
        double_gene_deletion,
        double_reaction_deletion,
        fba,
        single_gene_deletion,
        single_reaction_deletion,
    )

    if genes == reactions:
        err_console.print("[red]error:[/red] give one of --genes or --reactions")
        raise typer.Exit(2)
    kind = "genes" if genes else "reactions"
    spec = _spec(ctx, source)
    label = f"{'double' if double else 'single'} {kind[:-1]} deletions of {spec.id}"
    with _errors(), _progress(label) as report:
        spec = _medium(spec, medium)
        wild_type = fba(spec).objective_value
        frame: pd.DataFrame
        if double:
            run2 = double_gene_deletion if genes else double_reaction_deletion
            result = run2(spec, processes=processes, progress=report)
            frame = result if not hasattr(result, "to_frame") else result.to_frame()
        else:
            run1 = single_gene_deletion if genes else single_reaction_deletion
            frame = run1(spec, processes=processes, progress=report)
    growth = frame["growth"].to_numpy(dtype=float)
    lethal = [
        (sorted(ids), g)
        for ids, g in zip(frame["ids"], growth, strict=True)
        if math.isnan(g) or g < wild_type * ESSENTIAL_FRACTION
    ]
    lethal.sort(key=lambda item: item[0])
    if out is not None:
        _write_csv(frame, out)
    if as_json:
        _print_json(
            {
                "model": spec.id,
                "kind": kind,
                "double": double,
                "wild_type": wild_type,
                "lethal": [";".join(ids) for ids, _ in lethal],
                "results": [
                    {"ids": sorted(ids), "growth": _finite(g), "status": st}
                    for ids, g, st in zip(frame["ids"], growth, frame["status"], strict=True)
                ],
            }
        )
        return
    what = ("pairs of " if double else "") + kind
    console.print(
        f"{len(lethal)} of {len(frame)} {what} are lethal "
        f"(growth below {ESSENTIAL_FRACTION:g} of the wild type's {wild_type:.3f})"
    )
    if top and lethal:
        table = Table("knocked out", "growth", title=f"lethal {what}")
        for ids, g in lethal[:top]:
            table.add_row(escape(" + ".join(ids)), _fmt(g))
        console.print(table)
        if len(lethal) > top:
            console.print(f"… and {len(lethal) - top} more (--top, or --out for all)")
    if out is not None:
        console.print(f"wrote {len(frame)} knock-outs to {out}")


@model_app.command("envelope")
def envelope(
    ctx: typer.Context,
    source: ModelArg,
    product: Annotated[str, typer.Option(help="Exchange reaction of the product, e.g. EX_ac_e.")],
    points: Annotated[
        int, typer.Option(min=2, max=1000, help="Points along the growth axis.")
    ] = 20,
    medium: MediumOpt = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Production envelope: the product's flux range at each growth rate."""
    from cellfoundry.core.errors import ValidationError
    from cellfoundry.metabolism import production_envelope

    spec = _spec(ctx, source)
    with _errors():
        spec = _medium(spec, medium)
        spec.reaction_index(product)
        growth = [spec.reactions[int(j)] for j in spec.objective.nonzero()[0]]
        if len(growth) != 1:
            raise ValidationError(
                f"the model's objective has {len(growth)} reactions; an envelope needs one "
                "(its growth axis)",
                source=spec.source,
                field="objective",
            )
        # the objective's flux on a grid, the product's range at each point (COBRApy's frame)
        frame = production_envelope(spec, growth, objective=product, points=points)
    if out is not None:
        _write_csv(frame, out)
    if as_json:
        _print_json(
            [
                {str(k): (_finite(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]
        )
        return
    table = Table(
        escape(growth[0]),
        f"{escape(product)} minimum",
        f"{escape(product)} maximum",
        title=f"production envelope of {escape(product)}",
    )
    for _, row in frame.iterrows():
        table.add_row(_fmt(row[growth[0]]), _fmt(row["flux_minimum"]), _fmt(row["flux_maximum"]))
    console.print(table)
    if out is not None:
        console.print(f"wrote {len(frame)} points to {out}")


@model_app.command("check")
def check(ctx: typer.Context, source: ModelArg, as_json: JsonOpt = False) -> None:
    """Check a model: mass and charge balance, blocked reactions, dead ends, growth."""
    from cellfoundry.metabolism import check_model

    spec = _spec(ctx, source)
    with _errors():
        report = check_model(spec)
    data = report.to_dict()
    if as_json:
        _print_json(data)
        return
    counts = data["counts"]
    console.print(
        f"model {escape(spec.id)}: {counts['reactions']} reactions, "
        f"{counts['metabolites']} metabolites, {counts['genes']} genes"
    )
    value = data["objective_value"]
    console.print(f"objective: {data['status']}" + (f", {value:.4g}" if value is not None else ""))
    for key, label in (
        ("mass_unbalanced", "reactions not mass or charge balanced"),
        ("unreadable_formulas", "metabolites with unreadable formulas"),
        ("missing_formulas", "metabolites without a formula"),
        ("blocked_reactions", "blocked reactions"),
        ("dead_end_metabolites", "dead-end metabolites"),
        ("cyclic_reactions", "reactions that can run in a loop"),
    ):
        items = data.get(key)
        if items is None:
            console.print(f"{label}: not checked (the model has no optimum)")
            continue
        shown = ", ".join(sorted(map(str, items)))
        if len(shown) > 300:
            shown = shown[:300] + "…"
        console.print(f"{label}: {len(items)}" + (f" ({escape(shown)})" if items else ""))
    console.print("model check: " + ("passed" if data["ok"] else "found problems"))
