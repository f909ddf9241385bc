"""The automated foundry's Build-Test-Learn from the command line.

``campaign create|list|show|cycle|measure|recommend`` runs a DBTL campaign kept in the bank
(:mod:`cellfoundry.campaigns`); ``worklist`` turns a reactions CSV into robot worklists;
``plate show`` prints a plate map as its grid; ``assay growth|titre`` fits growth curves and
computes titre, rate and yield; ``learn recommend`` trains the ensemble on a CSV of designs and
titres and proposes the next designs. Every command prints tables, or JSON with ``--json``;
bad input prints one line naming file, record and field and exits with status 2.

Input files (CSV, header on the first line):

* design space (``--space``, JSON): ``{"factors": {name: [level, ...]}, "strengths":
  {name: {level: relative strength}}}``; factors with strengths are ordinal.
* designs (``campaign cycle --designs``): one column per factor, one design a row.
* parts (``--parts``): ``factor,level,name,length_bp,stock_ng_per_ul``: the level-0 plasmid
  that builds each level (a level without a row adds no DNA).
* reactions (``worklist``): ``reaction,part,amount,stock[,length_bp][,role]``, one DNA part a
  row; ``amount`` is ``20 fmol`` or ``50 ng``, ``stock`` ``40 ng/uL``, ``20 fmol/uL`` or
  ``20 nM``; ``role`` is ``part`` (default) or ``backbone``. Rows of one reaction go together
  in its order; master mix and water come from ``--master-mix-ul`` and ``--total-ul``.
* learning data (``learn recommend``): one column per factor and ``titre``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import numpy as np
import typer
from rich.markup import escape
from rich.table import Table

from cellfoundry.cli.model import (
    JsonOpt,
    _actor,
    _bank,
    _errors,
    _print_json,
    _progress,
    console,
)
from cellfoundry.core.errors import ValidationError

if TYPE_CHECKING:
    from cellfoundry.automation import DryRun, Plate, Reaction, TransferPlan
    from cellfoundry.bank._campaigns import CampaignView
    from cellfoundry.campaigns import PartStock
    from cellfoundry.learn import Acquisition, DesignSpace

__all__ = ["assay_app", "campaign_app", "learn_app", "plate_app", "worklist"]

campaign_app = typer.Typer(
    help="DBTL campaigns: design space, cycles of built strains, measurements, next designs."
)
plate_app = typer.Typer(help="Plate maps: what is in each well, and how much.")
assay_app = typer.Typer(help="Plate-reader growth curves, and titre, rate and yield per strain.")
learn_app = typer.Typer(help="The ensemble recommender on designs and their measured titres.")

SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Random seed (same seed, same answer).")
]
AcquisitionOpt = Annotated[
    str, typer.Option("--acquisition", help="ei (expected improvement), ucb or thompson.")
]
NOpt = Annotated[int, typer.Option("--n", min=1, max=10_000, help="Designs to recommend.")]
SpaceOpt = Annotated[
    Path, typer.Option("--space", help="The design space (JSON: factors and strengths).")
]
_ACQUISITIONS = ("ei", "ucb", "thompson")
_WORKLIST_FORMATS = ("echo", "tecan", "hamilton", "opentrons")
_PARTS_COLUMNS = ("factor", "level", "name", "length_bp", "stock_ng_per_ul")
_REACTION_COLUMNS = ("reaction", "part", "amount", "stock")


# -- plumbing -----------------------------------------------------------------------------------


def _rows(path: Path, required: Sequence[str] = ()) -> tuple[list[str], list[dict[str, str]]]:
    """Return a CSV file's header and rows (``_row`` is the file line); named errors."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError("no such file", source=source, field="path") from None
    except UnicodeDecodeError:
        raise ValidationError("not UTF-8 text", source=source) from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if not header or missing:
        raise ValidationError(
            f"missing column(s): {', '.join(missing) or 'all'}",
            source=source,
            record="row 1",
            field=missing[0] if missing else None,
        )
    reader.fieldnames = header
    rows = []
    for raw in reader:
        cells = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        if any(cells.values()):
            rows.append({**cells, "_row": str(reader.line_num)})
    if not rows:
        raise ValidationError("the file holds no rows", source=source, field="rows")
    return header, rows


def _number(row: Mapping[str, str], field: str, source: str, *, positive: bool = True) -> float:
    text = row.get(field, "")
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(
            f"{field} {text!r} is not a number",
            source=source,
            record=f"row {row['_row']}",
            field=field,
        ) from None
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValidationError(
            f"{field} must be a positive number, not {text!r}",
            source=source,
            record=f"row {row['_row']}",
            field=field,
        )
    return value


def _read_json(path: Path, field: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError("no such file", source=str(path), field="path") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationError(f"not JSON: {err}", source=str(path), field=field) from None


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def _acquisition(name: str) -> Acquisition:
    if name not in _ACQUISITIONS:
        raise ValidationError(
            f"unknown acquisition {name!r}; use ei, ucb or thompson", field="acquisition"
        )
    return cast("Acquisition", name)


def _clean(value: Any) -> Any:
    """Return data for JSON: NaN becomes ``None``, tuples lists, numpy scalars numbers."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else value
    return value


def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "—" if value != value else f"{value:.{digits}f}"
    return "—" if value is None else str(value)


def _space(data: Any, source: str) -> DesignSpace:
    """Return the learner's design space of a design-space JSON document."""
    from cellfoundry.bank._campaigns import CampaignView, check_design_space
    from cellfoundry.campaigns import design_space_of

    space = check_design_space(data if isinstance(data, dict) else {}, source=source)
    view = CampaignView(
        name=source, chassis="", goal={}, design_space=space, created_by="", cycles=()
    )
    return design_space_of(view)


def _designs(
    space: DesignSpace, rows: Sequence[Mapping[str, str]], source: str
) -> list[dict[str, str]]:
    """Return each row's design (the space's factors), or an error naming row and factor."""
    out = []
    for row in rows:
        design = {name: row.get(name, "") for name in space.names}
        try:
            out.append(space.validate(design))
        except ValidationError as err:
            raise err.located(source=source, record=f"row {row['_row']}") from None
    return out


# -- campaigns ----------------------------------------------------------------------------------


def _cycle_dict(cycle: Any) -> dict[str, Any]:
    titres = [
        float(s.measurements["titre_g_l"])
        for s in cycle.strains
        if isinstance(s.measurements.get("titre_g_l"), int | float)
    ]
    return {
        "number": cycle.number,
        "strains": [s.to_dict() for s in cycle.strains],
        "best_titre_g_l": max(titres, default=None),
        "model": cycle.model,
        "recommendations": list(cycle.recommendations),
    }


def _campaign_dict(view: CampaignView) -> dict[str, Any]:
    best = view.best()
    return {
        "name": view.name,
        "chassis": view.chassis,
        "goal": view.goal,
        "design_space": view.design_space,
        "created_by": view.created_by,
        "cycles": [_cycle_dict(c) for c in view.cycles],
        "best": None if best is None else best.to_dict(),
    }


@campaign_app.command("create")
def campaign_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    chassis: Annotated[str, typer.Option("--chassis", help="The chassis strain's accession.")],
    product: Annotated[str, typer.Option("--product", help="The product compound.")],
    space: SpaceOpt,
    goal_titre: Annotated[
        float | None, typer.Option("--goal-titre", min=0, help="The target titre (g/L).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a campaign: a chassis, a goal and a design space."""
    with _errors():
        design_space = _read_json(space, "design_space")
        if not isinstance(design_space, dict):
            raise ValidationError(
                "the design space must be a JSON object", source=str(space), field="design_space"
            )
    goal: dict[str, Any] = {"product": product}
    if goal_titre is not None:
        goal["titre_g_l"] = goal_titre
    with _bank(ctx) as bank:
        view = bank.create_campaign(
            name, chassis=chassis, goal=goal, design_space=design_space, actor=_actor()
        )
    if as_json:
        _print_json(_campaign_dict(view))
        return
    factors = view.design_space["factors"]
    console.print(
        f"campaign [bold]{escape(view.name)}[/bold] on {escape(view.chassis)}: "
        f"{len(factors)} factors, goal {escape(product)}"
    )


@campaign_app.command("list")
def campaign_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the campaigns with their cycles and best titre."""
    with _bank(ctx) as bank:
        views = bank.campaigns()
    if as_json:
        _print_json([_campaign_dict(v) for v in views])
        return
    table = Table(title=f"{len(views)} campaigns")
    for column in ("name", "chassis", "product", "cycles", "strains", "best titre g/L"):
        table.add_column(column, justify="right" if column in ("cycles", "strains") else "left")
    for v in views:
        best = v.best()
        table.add_row(
            escape(v.name),
            escape(v.chassis),
            escape(str(v.goal.get("product", ""))),
            str(len(v.cycles)),
            str(sum(len(c.strains) for c in v.cycles)),
            "—" if best is None else f"{float(best.measurements['titre_g_l']):.3f}",
        )
    console.print(table)


@campaign_app.command("show")
def campaign_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a campaign: its cycles, strains, best titre per cycle and recommendations."""
    with _bank(ctx) as bank:
        view = bank.campaign(name)
    if as_json:
        _print_json(_campaign_dict(view))
        return
    goal = ", ".join(f"{k} {v}" for k, v in view.goal.items())
    console.print(f"[bold]{escape(view.name)}[/bold] on {escape(view.chassis)} ({escape(goal)})")
    table = Table(title="cycles")
    for column in ("cycle", "strains", "measured", "best titre g/L", "recommendations"):
        table.add_column(column, justify="right")
    for cycle in view.cycles:
        data = _cycle_dict(cycle)
        table.add_row(
            str(cycle.number),
            str(len(cycle.strains)),
            str(len(cycle.measured)),
            _fmt(data["best_titre_g_l"]),
            str(len(cycle.recommendations)),
        )
    console.print(table)
    for cycle in view.cycles:
        strains = Table(title=f"cycle {cycle.number}")
        strains.add_column("strain")
        strains.add_column("design")
        strains.add_column("titre g/L", justify="right")
        for s in cycle.strains:
            design = ", ".join(f"{k}={v}" for k, v in s.design.items())
            strains.add_row(
                escape(s.accession), escape(design), _fmt(s.measurements.get("titre_g_l"))
            )
        console.print(strains)
        if cycle.recommendations:
            console.print(_recommendation_table(cycle.recommendations, "recommended next"))


def _parts(path: Path, space: DesignSpace) -> dict[str, dict[str, PartStock]]:
    from cellfoundry.campaigns import PartStock

    source = str(path)
    _, rows = _rows(path, _PARTS_COLUMNS)
    parts: dict[str, dict[str, PartStock]] = {}
    for row in rows:
        record = f"row {row['_row']}"
        try:
            factor = space.factor(row["factor"])
            factor.index(row["level"])
        except ValidationError as err:
            field = "factor" if row["factor"] not in space.names else "level"
            raise ValidationError(err.message, source=source, record=record, field=field) from None
        if not row["name"]:
            raise ValidationError(
                "the part has no name", source=source, record=record, field="name"
            )
        length = _number(row, "length_bp", source)
        if length != int(length):
            raise ValidationError(
                "length_bp must be a whole number", source=source, record=record, field="length_bp"
            )
        stock = PartStock(row["name"], int(length), _number(row, "stock_ng_per_ul", source))
        parts.setdefault(factor.name, {})[row["level"]] = stock
    return parts


def _backbone(text: str) -> PartStock:
    from cellfoundry.campaigns import PartStock

    fields = [f.strip() for f in text.split(",")]
    try:
        if len(fields) != 3 or not fields[0]:
            raise ValueError
        name, length, conc = fields[0], int(fields[1]), float(fields[2])
        if length <= 0 or not (math.isfinite(conc) and conc > 0):
            raise ValueError
    except ValueError:
        raise ValidationError(
            f"{text!r} is not NAME,LENGTH_BP,NG_PER_UL (e.g. pL1-acceptor,4900,30)",
            field="backbone",
        ) from None
    return PartStock(name, length, conc)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)


@campaign_app.command("cycle")
def campaign_cycle(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    parts: Annotated[
        Path, typer.Option("--parts", help="CSV: factor,level,name,length_bp,stock_ng_per_ul.")
    ],
    backbone: Annotated[
        str, typer.Option("--backbone", help="The acceptor: NAME,LENGTH_BP,NG_PER_UL.")
    ],
    designs: Annotated[
        Path | None, typer.Option("--designs", help="CSV: one column per factor, one design a row.")
    ] = None,
    first: Annotated[
        int | None,
        typer.Option("--first", min=1, max=10_000, help="A Latin-hypercube first batch of N."),
    ] = None,
    seed: SeedOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out-dir", help="Folder for the worklists (default NAME-C<cycle>)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Open the next cycle: worklists for the robots, then the planned strains in the bank.

    Writes opentrons.py, tecan.gwl, echo.csv and dry_run.txt to the output folder.
    """
    from cellfoundry.campaigns import build_cycle, design_space_of, first_designs

    with _errors():
        if (designs is None) == (first is None):
            raise ValidationError("give either --designs FILE or --first N", field="designs")
        stock = _backbone(backbone)
    with _bank(ctx) as bank:
        view = bank.campaign(name)
        space = design_space_of(view)
        with _errors():
            part_stocks = _parts(parts, space)
            if designs is not None:
                _, rows = _rows(designs, space.names)
                batch = _designs(space, rows, str(designs))
            else:
                batch = first_designs(view, cast(int, first), _rng(seed))
        cycle, plan = build_cycle(
            bank, name, batch, parts=part_stocks, backbone=stock, actor=_actor()
        )
    folder = out_dir if out_dir is not None else Path(f"{name}-C{cycle.number}")
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "opentrons.py": cycle.worklists["opentrons.py"],
        "tecan.gwl": cycle.worklists["tecan.gwl"],
        "echo.csv": cycle.worklists["echo.csv"],
        "dry_run.txt": cycle.worklists["dry_run"],
    }
    for filename, text in files.items():
        _write(folder / filename, str(text))
    if as_json:
        _print_json(
            {
                "cycle": cycle.number,
                "strains": [s.to_dict() for s in cycle.strains],
                "transfers": len(plan.transfers),
                "files": [str(folder / f) for f in files],
            }
        )
        return
    table = Table(title=f"cycle {cycle.number} of {name}: {len(cycle.strains)} planned strains")
    table.add_column("strain")
    for factor in space.names:
        table.add_column(factor)
    for s in cycle.strains:
        table.add_row(escape(s.accession), *(escape(str(s.design[f])) for f in space.names))
    console.print(table)
    console.print(f"{len(plan.transfers)} transfers; worklists written to {escape(str(folder))}")


@campaign_app.command("measure")
def campaign_measure(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    cycle: Annotated[int, typer.Argument(min=1, help="The cycle the strains were built in.")],
    titres: Annotated[Path, typer.Argument(help="HPLC/LC-MS titre table (CSV or .xlsx).")],
    product: Annotated[
        str | None, typer.Option("--product", help="The product (default: the campaign's goal).")
    ] = None,
    substrate: Annotated[
        str | None, typer.Option("--substrate", help="The substrate compound, for the yield.")
    ] = None,
    time_h: Annotated[
        float | None,
        typer.Option("--time-h", min=0, help="Culture time of samples without a time_h column."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import titre, rate and yield per strain into a cycle (all rows or none)."""
    from cellfoundry.assay import read_titres, strain_performance
    from cellfoundry.campaigns import import_performance

    with _bank(ctx) as bank:
        compound = product or str(bank.campaign(name).goal.get("product", ""))
        with _errors():
            performance = strain_performance(
                read_titres(titres), product=compound, substrate=substrate, time_h=time_h
            )
        view = import_performance(bank, name, cycle, performance, source=str(titres))
    if as_json:
        _print_json(_cycle_dict(view))
        return
    table = Table(title=f"cycle {view.number} of {name}: {len(view.measured)} strains measured")
    for column in ("strain", "replicates", "titre g/L", "sd", "rate g/L/h", "yield g/g"):
        table.add_column(column, justify="left" if column == "strain" else "right")
    for s in view.strains:
        m = s.measurements
        table.add_row(
            escape(s.accession),
            _fmt(m.get("replicates")),
            _fmt(m.get("titre_g_l")),
            _fmt(m.get("titre_g_l_sd")),
            _fmt(m.get("rate_g_l_h"), 4),
            _fmt(m.get("yield_g_g")),
        )
    console.print(table)


def _recommendation_table(rows: Sequence[Mapping[str, Any]], title: str) -> Table:
    keys = [k for k in rows[0] if k not in ("predicted", "sd", "score")] if rows else []
    table = Table(title=title)
    table.add_column("#", justify="right")
    for key in keys:
        table.add_column(key)
    table.add_column("predicted ± sd", justify="right")
    table.add_column("score", justify="right")
    for k, row in enumerate(rows, 1):
        table.add_row(
            str(k),
            *(escape(str(row[key])) for key in keys),
            f"{_fmt(row['predicted'])} ± {_fmt(row['sd'])}",
            _fmt(row["score"], 4),
        )
    return table


def _importance_table(importance: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title="factor importance")
    table.add_column("factor")
    table.add_column("importance", justify="right")
    for item in importance:
        table.add_row(escape(str(item["factor"])), _fmt(item["importance"], 4))
    return table


@campaign_app.command("recommend")
def campaign_recommend(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The campaign's name.")],
    n: NOpt = 24,
    seed: SeedOpt = None,
    acquisition: AcquisitionOpt = "ei",
    as_json: JsonOpt = False,
) -> None:
    """Train the ensemble on every measured strain; keep and print the next designs."""
    from cellfoundry.campaigns import recommend_next

    with _errors():
        kind = _acquisition(acquisition)
    with _bank(ctx) as bank:
        recommend_next(bank, name, n=n, rng=_rng(seed), acquisition=kind)
        last = bank.campaign(name).cycles[-1]
    data = {
        "cycle": last.number,
        "recommendations": list(last.recommendations),
        "model": last.model,
    }
    if as_json:
        _print_json(data)
        return
    console.print(_recommendation_table(last.recommendations, f"{n} designs to build next"))
    console.print(_importance_table(last.model.get("importance", [])))
    r2 = ", ".join(
        f"{m} {_fmt(r)}" for m, r in zip(last.model["members"], last.model["cv_r2"], strict=True)
    )
    console.print(f"trained on {last.model['trained_on']} strains; cross-validated R²: {r2}")


# -- worklists ----------------------------------------------------------------------------------


def _amount(row: Mapping[str, str], source: str) -> tuple[str, float]:
    text = row["amount"]
    number, _, unit = text.partition(" ")
    unit = unit.strip() or "fmol"
    try:
        value = float(number)
        if unit not in ("fmol", "ng") or not (math.isfinite(value) and value > 0):
            raise ValueError
    except ValueError:
        raise ValidationError(
            f"amount {text!r} is not a positive amount such as '20 fmol' or '50 ng'",
            source=source,
            record=f"row {row['_row']}",
            field="amount",
        ) from None
    return unit, value


def read_reactions(path: Path, *, total_ul: float, master_mix_ul: float) -> list[Reaction]:
    """Return the reactions of a reactions CSV (see the module notes for its columns)."""
    from cellfoundry.automation import Reaction, ReactionPart
    from cellfoundry.automation.plates import parse_concentration

    source = str(path)
    _, rows = _rows(path, _REACTION_COLUMNS)
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if not row["reaction"]:
            raise ValidationError(
                "the reaction is missing", source=source, record=f"row {row['_row']}",
                field="reaction",
            )  # fmt: skip
        grouped.setdefault(row["reaction"], []).append(row)
    reactions = []
    for name, members in grouped.items():
        dna: list[ReactionPart] = []
        backbone: ReactionPart | None = None
        for row in members:
            record = f"row {row['_row']}"
            try:
                if not row["part"]:
                    raise ValidationError("the part is missing", field="part")
                unit, value = _amount(row, source)
                conc, conc_unit = parse_concentration(row["stock"])
                length = int(_number(row, "length_bp", source)) if row.get("length_bp") else None
                part = ReactionPart(
                    row["part"],
                    fmol=value if unit == "fmol" else None,
                    ng=value if unit == "ng" else None,
                    stock_fmol_per_ul=conc if conc_unit == "fmol/µL" else None,
                    stock_ng_per_ul=conc if conc_unit == "ng/µL" else None,
                    length_bp=length,
                )
            except ValidationError as err:
                field = "stock" if err.field == "concentration" else err.field
                raise ValidationError(
                    err.message, source=source, record=record, field=field
                ) from None
            role = (row.get("role") or "part").lower()
            if role == "backbone":
                if backbone is not None:
                    raise ValidationError(
                        f"reaction {name!r} has two backbones", source=source, record=record,
                        field="role",
                    )  # fmt: skip
                backbone = part
            elif role == "part":
                dna.append(part)
            else:
                raise ValidationError(
                    f"role {role!r} is not part or backbone", source=source, record=record,
                    field="role",
                )  # fmt: skip
        try:
            reactions.append(
                Reaction(
                    name,
                    parts=tuple(dna),
                    backbone=backbone,
                    master_mix_ul=master_mix_ul,
                    total_ul=total_ul,
                )
            )
        except ValidationError as err:
            raise err.located(source=source, record=name) from None
    return reactions


def _plan(reactions: Sequence[Reaction], fmt: str, min_volume_ul: float) -> TransferPlan:
    """Return the plan for a robot: an Echo source plate and 2.5 nL steps, or pipettes."""
    from cellfoundry.automation import ECHO_384PP, plan_reactions

    if fmt == "echo":
        return plan_reactions(reactions, source_labware=ECHO_384PP, step_ul=0.0025)
    return plan_reactions(reactions, min_volume_ul=min_volume_ul)


def _dry_run_dict(report: DryRun) -> dict[str, Any]:
    return {
        "transfers": report.transfer_count,
        "reagent_totals_ul": dict(report.reagent_totals_ul),
        "tips": dict(report.tips),
        "source_wells": [
            {
                "plate": n.plate,
                "well": n.well,
                "sample": n.sample,
                "draw_ul": n.draw_ul,
                "dead_volume_ul": n.dead_volume_ul,
                "required_ul": n.required_ul,
                "loaded_ul": n.loaded_ul,
            }
            for n in report.source_needs
        ],
    }


def worklist(
    reactions: Annotated[
        Path, typer.Argument(help="Reactions CSV: reaction,part,amount,stock[,length_bp][,role].")
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="echo, tecan (.gwl), hamilton (CSV) or opentrons.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the worklist here (default: print it).")
    ] = None,
    sources: Annotated[
        Path | None,
        typer.Option(
            "--sources",
            help="Plate map of the source plates as loaded (plate,well,sample,volume_ul); "
            "default: load them as the plan says.",
        ),
    ] = None,
    total_ul: Annotated[
        float, typer.Option("--total-ul", min=0.001, help="Reaction volume (µL).")
    ] = 20.0,
    master_mix_ul: Annotated[
        float, typer.Option("--master-mix-ul", min=0, help="Master mix per reaction (µL).")
    ] = 2.0,
    min_volume_ul: Annotated[
        float,
        typer.Option("--min-volume-ul", min=0, help="Smallest pipetted transfer (not Echo)."),
    ] = 1.0,
    dry: Annotated[
        bool, typer.Option("--dry-run", help="Print reagent totals and tips; write nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Turn a reactions CSV into a robot worklist, checked by a dry run first."""
    from cellfoundry.automation import (
        dry_run,
        echo_picklist,
        liquid_handler_csv,
        opentrons_protocol,
        read_plate_map,
        tecan_worklist,
    )

    with _errors():
        if fmt not in _WORKLIST_FORMATS:
            raise ValidationError(
                f"unknown format {fmt!r}; use {', '.join(_WORKLIST_FORMATS)}", field="format"
            )
        try:
            plan = _plan(
                read_reactions(reactions, total_ul=total_ul, master_mix_ul=master_mix_ul),
                fmt,
                min_volume_ul,
            )
        except ValidationError as err:
            raise err.located(source=str(reactions)) from None
        loaded: dict[str, Plate] | None = None
        if sources is not None:
            labware = {p: plan.labware[p] for p in plan.source_plate_names}
            try:
                loaded = read_plate_map(sources, labware=labware)
            except FileNotFoundError:
                raise ValidationError("no such file", source=str(sources), field="path") from None
        try:
            if fmt == "echo":  # no tips
                report = dry_run(plan, sources=loaded, pipettes=None)
            else:
                report = dry_run(plan, sources=loaded)
        except ValidationError as err:
            raise err.located(source=str(sources) if sources else None) from None
        text = ""
        if not dry:
            if fmt == "echo":
                text = echo_picklist(plan)
            elif fmt == "tecan":
                text = tecan_worklist(plan)
            elif fmt == "hamilton":
                text = liquid_handler_csv(plan)
            else:
                text = opentrons_protocol(plan)
    if dry:
        if as_json:
            _print_json(_dry_run_dict(report))
            return
        console.print(escape(report.report()), end="")
        return
    if out is not None:
        _write(out, text)
        if as_json:
            _print_json({"file": str(out), **_dry_run_dict(report)})
        else:
            console.print(f"{len(plan.transfers)} transfers written to {escape(str(out))}")
        return
    typer.echo(text, nl=False)


# -- plates -------------------------------------------------------------------------------------


def _grid(plate: Plate) -> Table:
    labware = plate.labware
    table = Table(title=f"{plate.name} ({labware.name})", show_lines=True)
    table.add_column("")
    for column in range(1, labware.columns + 1):
        table.add_column(str(column), justify="center")
    for row in range(labware.rows):
        letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[row]
        cells = []
        for column in range(1, labware.columns + 1):
            contents = plate[f"{letter}{column}"]
            cells.append(
                "" if contents is None else f"{escape(contents.sample)}\n{contents.volume_ul:g} µL"
            )
        table.add_row(letter, *cells)
    return table


@plate_app.command("show")
def plate_show(
    platemap: Annotated[
        Path, typer.Argument(help="Plate map CSV: plate,well,sample,volume_ul[,concentration].")
    ],
    labware: Annotated[
        str,
        typer.Option(
            "--labware",
            help="pcr_96, pcr_384, deep_96, echo_384pp, echo_384ldv, or auto (96 wells "
            "unless a well needs 384).",
        ),
    ] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Print each plate of a plate map as its grid of samples and volumes."""
    from cellfoundry.automation import LABWARE, PCR_96, PCR_384, read_plate_map

    with _errors():
        if not platemap.is_file():
            raise ValidationError("no such file", source=str(platemap), field="path")
        if labware == "auto":
            try:
                plates = read_plate_map(platemap, labware=PCR_96)
            except ValidationError as err:
                if err.field != "well":
                    raise
                plates = read_plate_map(platemap, labware=PCR_384)
        elif labware in LABWARE:
            plates = read_plate_map(platemap, labware=LABWARE[labware])
        else:
            raise ValidationError(
                f"unknown labware {labware!r}; use auto or {', '.join(LABWARE)}", field="labware"
            )
    if as_json:
        _print_json(
            {
                name: {
                    "labware": plate.labware.name,
                    "wells": {
                        well: {"sample": c.sample, "volume_ul": c.volume_ul} for well, c in plate
                    },
                }
                for name, plate in plates.items()
            }
        )
        return
    for plate in plates.values():
        console.print(_grid(plate))


# -- assays -------------------------------------------------------------------------------------


@assay_app.command("growth")
def assay_growth(
    reader_file: Annotated[
        Path, typer.Argument(help="Kinetic plate-reader export (Gen5, Tecan, long CSV, .xlsx).")
    ],
    platemap: Annotated[
        Path, typer.Option("--map", help="Plate map: well,sample[,replicate][,role].")
    ],
    model: Annotated[
        str, typer.Option("--model", help="gompertz, logistic or baranyi.")
    ] = "gompertz",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write one row per well's fit to this CSV.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit every sample well's growth curve and summarise the replicates."""
    from cellfoundry.assay import GROWTH_MODELS, GrowthModel, analyse_growth, read_kinetic

    with _errors():
        if model not in GROWTH_MODELS:
            raise ValidationError(
                f"unknown model {model!r}; use {', '.join(GROWTH_MODELS)}", field="model"
            )
        for path in (reader_file, platemap):
            if not path.is_file():
                raise ValidationError("no such file", source=str(path), field="path")
        reading = read_kinetic(reader_file, plate_map=platemap)
        with _progress("growth fits"):
            analysis = analyse_growth(reading, model=cast("GrowthModel", model))
    if out is not None:
        analysis.to_frame().to_csv(out, index=False)
    if as_json:
        _print_json(
            _clean(
                {
                    "model": analysis.model,
                    "curves": [c.to_record() for c in analysis.curves],
                    "replicates": [r.to_record() for r in analysis.replicates],
                }
            )
        )
        return
    table = Table(title=f"{len(analysis.curves)} wells, {model}")
    for column in ("well", "sample", "status", "µmax /h", "lag h", "doubling h", "R²"):
        table.add_column(column, justify="left" if column in ("well", "sample") else "right")
    for c in analysis.curves:
        rec = c.to_record()
        table.add_row(
            c.well,
            escape(c.sample or ""),
            str(c.status),
            _fmt(rec["mu_max"]),
            _fmt(rec["lag_h"]),
            _fmt(rec["doubling_time_h"]),
            _fmt(rec["r_squared"], 4),
        )
    console.print(table)
    reps = Table(title="replicates")
    for column in ("sample", "wells", "µmax mean", "sd", "cv", "outliers"):
        reps.add_column(column, justify="left" if column in ("sample", "outliers") else "right")
    for r in analysis.replicates:
        reps.add_row(
            escape(r.sample),
            str(len(r.wells)),
            _fmt(r.mu_max.mean),
            _fmt(r.mu_max.sd),
            _fmt(r.mu_max.cv),
            ", ".join(r.outliers),
        )
    console.print(reps)
    if out is not None:
        console.print(f"fits written to {escape(str(out))}")


@assay_app.command("titre")
def assay_titre(
    titres: Annotated[Path, typer.Argument(help="HPLC/LC-MS titre table (CSV or .xlsx).")],
    product: Annotated[str, typer.Option("--product", help="The product compound.")],
    substrate: Annotated[
        str | None, typer.Option("--substrate", help="The substrate compound, for the yield.")
    ] = None,
    time_h: Annotated[
        float | None,
        typer.Option("--time-h", min=0, help="Culture time of samples without a time_h column."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Titre, volumetric rate and yield per strain, with replicate statistics."""
    from cellfoundry.assay import read_titres, strain_performance

    with _errors():
        if not titres.is_file():
            raise ValidationError("no such file", source=str(titres), field="path")
        table = strain_performance(
            read_titres(titres), product=product, substrate=substrate, time_h=time_h
        )
    if as_json:
        _print_json(_clean({"strains": [s.to_record() for s in table.strains]}))
        return
    out = Table(title=f"{product}: {len(table.strains)} strains")
    for column in ("strain", "n", "titre g/L", "sd", "rate g/L/h", "yield g/g"):
        out.add_column(column, justify="left" if column == "strain" else "right")
    for s in table.strains:
        out.add_row(
            escape(s.strain),
            str(s.titre_g_per_l.n),
            _fmt(s.titre_g_per_l.mean),
            _fmt(s.titre_g_per_l.sd),
            _fmt(s.rate_g_per_l_h.mean, 4),
            _fmt(s.yield_g_per_g.mean),
        )
    console.print(out)


# -- learning -----------------------------------------------------------------------------------


@learn_app.command("recommend")
def learn_recommend(
    data: Annotated[
        Path, typer.Argument(help="CSV: one column per factor and the measured titre.")
    ],
    space: SpaceOpt,
    n: NOpt = 24,
    seed: SeedOpt = None,
    acquisition: AcquisitionOpt = "ei",
    as_json: JsonOpt = False,
) -> None:
    """Train the ensemble on measured designs and recommend the next ones."""
    from cellfoundry.learn import Recommender

    with _errors():
        kind = _acquisition(acquisition)
        design_space = _space(_read_json(space, "design_space"), str(space))
        _, rows = _rows(data, [*design_space.names, "titre"])
        designs = _designs(design_space, rows, str(data))
        titres = [_number(row, "titre", str(data), positive=False) for row in rows]
        rng = _rng(seed)
        with _progress("fitting the ensemble") as report:
            recommender = Recommender(design_space, log_target=all(t > 0 for t in titres))
            recommender.fit(designs, titres, rng, progress=report)
        batch = recommender.recommend(n, rng, acquisition=kind)
        importance = recommender.explain(rng)
    recommendations = [
        {**design, "predicted": float(mean), "sd": float(sd), "score": float(score)}
        for design, mean, sd, score in zip(
            batch.designs, batch.mean, batch.std, batch.score, strict=True
        )
    ]
    result: dict[str, Any] = {
        "recommendations": recommendations,
        "importance": [
            {"factor": f.factor, "importance": float(f.importance), "std": float(f.std)}
            for f in importance
        ],
        "models": list(recommender.models),
        "weights": [float(w) for w in recommender.weights],
        "cv_r2": [float(r) for r in recommender.cv_r2],
        "trained_on": len(titres),
    }
    if as_json:
        _print_json(_clean(result))
        return
    console.print(_recommendation_table(recommendations, f"{len(batch)} designs to build next"))
    console.print(_importance_table(result["importance"]))
