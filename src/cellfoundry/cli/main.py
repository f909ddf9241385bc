"""The ``cellfoundry`` command.

``cellfoundry [--db URL] bank init|import|export|search|show|lineage|move|deposit``,
``cellfoundry model load|list|fba|fva|delete|envelope|check`` (:mod:`cellfoundry.cli.model`),
``cellfoundry demo`` and ``cellfoundry serve``. Every command that lists or shows
records takes ``--json``. The database is ``--db URL``, else
``CELLFOUNDRY_DATABASE_URL``, else ``./cellfoundry.db`` (SQLite).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.tree import Tree

from cellfoundry.bank import formats
from cellfoundry.bank.search import StrainQuery
from cellfoundry.bank.services import Bank, read_and_import
from cellfoundry.cli.design import design_app
from cellfoundry.cli.dna import dna_app
from cellfoundry.cli.foundry import assay_app, campaign_app, learn_app, plate_app, worklist
from cellfoundry.cli.model import model_app
from cellfoundry.core.errors import CellfoundryError

app = typer.Typer(help="cellfoundry: the open platform for synthetic-biology manufacturing.")
bank_app = typer.Typer(help="The strain, plasmid and parts bank.")
app.add_typer(bank_app, name="bank")
app.add_typer(model_app, name="model")
app.add_typer(design_app, name="design")
app.add_typer(dna_app, name="dna")
app.add_typer(campaign_app, name="campaign")
app.add_typer(plate_app, name="plate")
app.add_typer(assay_app, name="assay")
app.add_typer(learn_app, name="learn")
app.command("worklist")(worklist)

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class _State:
    db: str | None = None


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database URL (default: $CELLFOUNDRY_DATABASE_URL or ./cellfoundry.db)."
        ),
    ] = None,
) -> None:
    """Choose the bank's database for every command."""
    _State.db = db


def _actor() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "cli"


@contextmanager
def _bank() -> Iterator[Bank]:
    try:
        bank = Bank.open(_State.db)
    except CellfoundryError as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(2) from err
    try:
        yield bank
    except CellfoundryError as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from err
    finally:
        bank.close()


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
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
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@bank_app.command("init")
def init() -> None:
    """Create the bank's tables (or bring them to the newest schema)."""
    with _bank() as bank:
        console.print(f"bank ready ({bank.dialect}): {bank.url}")


@bank_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="GenBank, FASTA, SBOL3 or catalogue CSV file.")],
    kind: Annotated[
        str,
        typer.Option(help="What the file holds: strain (catalogue CSV), plasmid, part, genome."),
    ] = "plasmid",
    fmt: Annotated[str | None, typer.Option("--format", help="Override the format guess.")] = None,
    strain: Annotated[str | None, typer.Option(help="Owner strain of a genome.")] = None,
    role: Annotated[
        str | None, typer.Option(help="Role of imported parts (promoter, cds...).")
    ] = None,
    visibility: Annotated[
        str, typer.Option(help="Who sees the new entries: private, group or public.")
    ] = "public",
    owner: Annotated[
        str | None, typer.Option(help="Import as this user, who will own the entries.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a file all-or-nothing; a bad record names file, record and field."""
    if kind not in ("strain", "plasmid", "part", "genome"):
        err_console.print(
            f"[red]error:[/red] --kind {kind!r} is not strain, plasmid, part or genome"
        )
        raise typer.Exit(2)
    with _bank() as bank, _progress(f"importing {path.name}") as report:
        acting = bank.as_viewer(bank.viewer_for(owner)) if owner else bank
        result = read_and_import(
            acting,
            path,
            kind=kind,  # type: ignore[arg-type]
            actor=_actor(),
            fmt=fmt,
            strain=strain,
            role=role,
            progress=report,
            visibility=visibility,
        )
    if as_json:
        _print_json(result.to_dict())
        return
    console.print(
        f"imported {result.strains} strains and {result.sequences} sequences from {path}"
        + (
            f"; identical to stored sequences: {', '.join(result.duplicates)}"
            if result.duplicates
            else ""
        )
    )


@bank_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="File to write.")],
    kind: Annotated[str, typer.Option(help="strain, plasmid, part or genome.")] = "plasmid",
    fmt: Annotated[
        str | None, typer.Option("--format", help="genbank, fasta, sbol3, catalogue.")
    ] = None,
    name: Annotated[
        list[str] | None, typer.Option(help="Export only these names (repeatable).")
    ] = None,
) -> None:
    """Export strains (catalogue CSV) or sequences (GenBank, FASTA, SBOL3)."""
    with _bank() as bank:
        if kind == "strain":
            records = bank.export_strains(name)
            formats.write_catalogue(records, path)
            console.print(f"wrote {len(records)} strains to {path}")
            return
        chosen = fmt or formats.guess_format(path)
        seqs = bank.export_sequences(kind, name)  # type: ignore[arg-type]
        formats.write(seqs, path, chosen)
        console.print(f"wrote {len(seqs)} {kind} records to {path} ({chosen})")


@bank_app.command("search")
def search(
    text: Annotated[str, typer.Argument(help="Words, accession or other collection number.")] = "",
    taxon: Annotated[str, typer.Option(help="Taxon name prefix.")] = "",
    risk_group: Annotated[list[int] | None, typer.Option(help="Risk group (repeatable).")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Availability (repeatable).")] = None,
    deposit: Annotated[list[str] | None, typer.Option(help="public, safe, patent or none.")] = None,
    feature: Annotated[str, typer.Option(help="Gene or feature name on genome or plasmid.")] = "",
    parent: Annotated[str, typer.Option(help="Accession of the parent strain.")] = "",
    sequence: Annotated[
        str | None, typer.Option(help="DNA query (or @file.fasta) for a similarity search.")
    ] = None,
    limit: int = 25,
    offset: int = 0,
    as_json: JsonOpt = False,
) -> None:
    """Search strains by text and facets, or sequences by similarity (--sequence)."""
    with _bank() as bank:
        if sequence is not None:
            query = sequence
            if sequence.startswith("@"):
                query = "".join(r.sequence for r in formats.read(Path(sequence[1:])))
            hits = bank.search_sequences(query, top=limit)
            if as_json:
                _print_json([h.to_dict() for h in hits])
                return
            table = Table("kind", "name", "score", "identity", "strand", "query", "target")
            for h in hits:
                table.add_row(
                    h.kind,
                    h.name,
                    str(h.score),
                    f"{h.identity:.1%}",
                    "+" if h.strand > 0 else "-",
                    f"{h.query_start + 1}..{h.query_end}",
                    f"{h.target_start + 1}..{h.target_end}",
                )
            console.print(table)
            return
        page = bank.search(
            StrainQuery(
                text=text,
                taxon=taxon,
                risk_group=tuple(risk_group or ()),
                status=tuple(status or ()),
                deposit_type=tuple(deposit or ()),
                feature=feature,
                parent=parent,
                limit=limit,
                offset=offset,
            )
        )
    if as_json:
        _print_json(page.to_dict())
        return
    table = Table(
        "accession", "taxon", "risk", "status", "parent", "deposit", title=f"{page.total} strains"
    )
    for s in page.items:
        table.add_row(
            s.accession,
            s.taxon_name,
            str(s.risk_group),
            s.status,
            s.parent_accession or "",
            s.deposit_type or "",
        )
    console.print(table)


@bank_app.command("show")
def show(
    accession: Annotated[
        str, typer.Argument(help="Strain accession, or plasmid/part name with --kind.")
    ],
    kind: Annotated[str, typer.Option(help="strain, plasmid, part or genome.")] = "strain",
    history: Annotated[bool, typer.Option(help="Also show the entry's history.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show one entry with its catalogue fields, plasmids, samples and deposit."""
    with _bank() as bank:
        if kind != "strain":
            record = bank.get_sequence(kind, accession)  # type: ignore[arg-type]
            if as_json:
                _print_json(_record_json(record))
                return
            console.print(f"[bold]{record.name}[/bold] {len(record)} bp {record.topology}")
            for f in record.features:
                console.print(
                    f"  {f.type:<16} {f.start + 1}..{f.end} "
                    f"{'+' if f.strand >= 0 else '-'} {f.label}"
                )
            return
        view = bank.get_strain(accession)
        events = bank.history(accession) if history else ()
    if as_json:
        data = view.to_dict()
        if history:
            data["history"] = [e.to_dict() for e in events]
        _print_json(data)
        return
    rec = view.record
    table = Table(show_header=False, title=escape(f"{rec.accession}  {rec.taxon_name}"))
    for key in rec.__dataclass_fields__:
        shown = getattr(rec, key)
        if shown in ("", (), None):
            continue
        if key == "modifications":
            text = "; ".join(f"{m.kind} {m.target} {m.description}".strip() for m in shown)
        elif isinstance(shown, tuple):
            text = ", ".join(map(str, shown))
        else:
            text = str(shown)
        table.add_row(key, escape(text))
    console.print(table)
    for sample in view.samples:
        console.print(
            f"  sample {sample.label}: {sample.address} {sample.preservation}, {sample.vials} vials"
        )
    if view.deposit:
        d = view.deposit
        console.print(
            f"  {d.deposit_type} deposit by {d.depositor} on {d.deposited_on}"
            + (f", keep until {d.keep_until}" if d.keep_until else "")
        )
    for e in events:
        console.print(
            f"  v{e.version} {e.at:%Y-%m-%d %H:%M} {e.actor} {e.action} "
            f"{json.dumps(e.changes, ensure_ascii=False)}"
        )


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "name": record.name,
        "length": len(record),
        "topology": record.topology,
        "checksum": record.checksum,
        "features": [
            {"type": f.type, "label": f.label, "start": f.start, "end": f.end, "strand": f.strand}
            for f in record.features
        ],
    }


@bank_app.command("lineage")
def lineage(
    accession: Annotated[str, typer.Argument(help="Strain accession.")],
    as_json: JsonOpt = False,
) -> None:
    """Walk a strain's pedigree both ways: ancestors and descendants."""
    with _bank() as bank:
        result = bank.lineage(accession)
    if as_json:
        _print_json(result.to_dict())
        return
    nodes = {n.accession: n for n in result.nodes}
    trees: dict[str, Tree] = {}
    root: Tree | None = None
    for node in result.nodes:
        mods = escape("; ".join(f"{m.kind} {m.target}".strip() for m in node.modifications))
        name = f"{escape(node.accession)} {escape(node.taxon_name)}"
        label = f"[bold]{name}[/bold]" if node.accession == accession else name
        label += f"  [dim]{mods}[/dim]" if mods else ""
        parent = trees.get(node.parent_accession or "") if node.parent_accession in nodes else None
        tree = parent.add(label) if parent is not None else Tree(label)
        if parent is None and root is None:
            root = tree
        trees[node.accession] = tree
    if root is not None:
        console.print(root)


@bank_app.command("move")
def move(
    sample: Annotated[str, typer.Argument(help="Sample label.")],
    box: Annotated[str, typer.Argument(help="Target box path site/freezer/rack/box.")],
    position: Annotated[str, typer.Argument(help="Target position, e.g. B7.")],
    as_json: JsonOpt = False,
) -> None:
    """Move a sample to a free position; an occupied position is refused."""
    with _bank() as bank:
        view = bank.move_sample(sample, box=box, position=position, actor=_actor())
    if as_json:
        _print_json(view.to_dict())
        return
    console.print(f"{view.label} is now at {view.address}")


@bank_app.command("deposit")
def deposit(
    accession: Annotated[str, typer.Argument(help="Strain accession.")],
    deposit_type: Annotated[str, typer.Option("--type", help="public, safe or patent.")],
    depositor: Annotated[str, typer.Option(help="Depositor's name and address.")],
    date: Annotated[str, typer.Option(help="Deposit date, YYYY-MM-DD (default today).")] = "",
    statement: Annotated[str, typer.Option(help="Depositor's written statement (Rule 6.1).")] = "",
    viability: Annotated[str, typer.Option(help="Viability statement (Rule 10.2).")] = "",
    patent: Annotated[str, typer.Option(help="Patent application reference.")] = "",
    owner: Annotated[
        str | None,
        typer.Option(help="The depositor's user name: the strain becomes theirs (notified)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a public, safe or Budapest Treaty patent deposit (a patent one is kept secret)."""
    try:
        day = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError as err:
        err_console.print(f"[red]error:[/red] --date {date!r} is not YYYY-MM-DD")
        raise typer.Exit(2) from err
    with _bank() as bank:
        view = bank.deposit(
            accession,
            deposit_type=deposit_type,
            depositor=depositor,
            deposited_on=day,
            depositor_statement=statement,
            viability_statement=viability,
            patent_reference=patent,
            owner=owner,
            actor=_actor(),
        )
    if as_json:
        _print_json(view.to_dict())
        return
    console.print(
        f"{view.deposit_type} deposit of {accession} recorded"
        + (f"; keep until {view.keep_until}" if view.keep_until else "")
    )


@bank_app.command("release")
def release(
    accession: Annotated[str, typer.Argument(help="Strain accession.")],
    basis: Annotated[
        str,
        typer.Option(
            help="sharing, 'depositor authorisation', 'patent office certification' or "
            "'industrial property office'."
        ),
    ],
    to: Annotated[str | None, typer.Option("--to", help="User name to release to.")] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organisation to release to.")] = None,
    reference: Annotated[str, typer.Option(help="Certificate or letter reference.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Release a private strain (or a patent deposit) to a user or organisation."""
    with _bank() as bank:
        grant = bank.grant_access(
            strain=accession,
            user=to,
            organisation=org,
            basis=basis,
            reference=reference,
            actor=_actor(),
        )
    if as_json:
        _print_json(grant.to_dict())
        return
    console.print(f"{accession} released to {grant.grantee} ({grant.basis}); release {grant.id}")


@bank_app.command("visibility")
def visibility(
    accession: Annotated[str, typer.Argument(help="Strain accession.")],
    value: Annotated[str, typer.Argument(help="private, group or public.")],
) -> None:
    """Change who sees a strain."""
    with _bank() as bank:
        view = bank.set_visibility(accession, value, actor=_actor())
    console.print(f"{accession} is now {view.visibility}")


@bank_app.command("backup")
def backup(path: Annotated[Path, typer.Argument(help="Backup file to create.")]) -> None:
    """Back up the bank while it runs (SQLite online backup, or pg_dump for PostgreSQL)."""
    with _bank() as bank:
        written = bank.backup(path)
    console.print(f"backup written to {written}")


@bank_app.command("restore")
def restore(
    path: Annotated[Path, typer.Argument(help="Backup file made by `bank backup`.")],
) -> None:
    """Restore a backup into the (empty) database given by --db."""
    from cellfoundry.bank.services import default_url

    try:
        bank = Bank.restore(_State.db or default_url(), path)
    except CellfoundryError as err:
        err_console.print(f"[red]error:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(1) from err
    try:
        report = bank.verify_audit()
        counts = bank.counts()
    finally:
        bank.close()
    console.print(
        f"restored {counts.strains} strains, {counts.plasmids} plasmids, {counts.parts} parts; "
        f"audit chain {'intact' if report.ok else 'BROKEN'} ({report.events} events)"
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command("demo")
def demo(
    shared_data: Annotated[
        Path, typer.Option(help="The shared data folder (MoClo plasmids, genome).")
    ] = Path("../shared/data"),
) -> None:
    """Load the demo collection: an E. coli K-12 MG1655 lineage, MoClo plasmids, parts, stock."""
    from cellfoundry.bank.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo

    with _bank() as bank, _progress("loading demo collection") as report:
        summary = load_demo(bank, shared_data, actor="demo", progress=report)
    console.print(summary)
    accounts = ", ".join(f"{name} ({role})" for name, role, _ in DEMO_ACCOUNTS)
    console.print(f"demo accounts: {accounts}; password: {DEMO_PASSWORD}")


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the web app and the HTTP API (OpenAPI at /docs)."""
    import uvicorn

    from cellfoundry.api.app import create_app

    application = create_app(_State.db)
    console.print(
        f"cellfoundry is running at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)"
    )
    uvicorn.run(application, host=host, port=port, log_level="warning")


user_app = typer.Typer(help="Accounts: users, roles and API tokens.")
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[
        str, typer.Option(help="administrator, curator, depositor, member or guest.")
    ] = "member",
    organisation: Annotated[str | None, typer.Option(help="Organisation (created if new).")] = None,
    display_name: Annotated[str, typer.Option(help="Full name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create an account; the password is prompted for (never given on the command line)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with _bank() as bank:
        user = bank.create_user(
            username,
            password,
            role=role,
            organisation=organisation,
            display_name=display_name,
            actor=_actor(),
        )
    if as_json:
        _print_json(user.to_dict())
        return
    console.print(
        f"created {user.role} {user.username}"
        + (f" of {user.organisation}" if user.organisation else "")
    )


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="User name.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "script",
    as_json: JsonOpt = False,
) -> None:
    """Issue an API token; it is printed this once and stored only as a hash."""
    with _bank() as bank:
        token = bank.issue_token(username, name=name, actor=_actor())
    if as_json:
        _print_json(token.to_dict())
        return
    console.print(f"token {token.id} for {username}: {token.secret}")


@user_app.command("revoke")
def user_revoke(token_id: Annotated[int, typer.Argument(help="Token id.")]) -> None:
    """Revoke an API token for good."""
    with _bank() as bank:
        token = bank.revoke_token(token_id, actor=_actor())
    console.print(f"token {token.id} ({token.name}) revoked at {token.revoked_at}")


audit_app = typer.Typer(help="The tamper-evident audit trail of the bank.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Check the history's hash chain; exit 1 if any event was edited, deleted or reordered."""
    with _bank() as bank, _progress("verifying the audit chain"):
        report = bank.verify_audit()
    if as_json:
        _print_json({**report.to_dict(), "ok": report.ok})
    elif report.ok:
        console.print(f"audit chain intact: {report.events} events, head {report.head[:16]}…")
    else:
        for p in report.problems:
            err_console.print(
                f"[red]event {p.seq}: {p.kind}[/red] {escape(p.detail)}", soft_wrap=True
            )
        err_console.print(f"{len(report.problems)} problems in {report.events} events")
    if not report.ok:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
