"""Conversions between bank rows and values, catalogue validation, small SQL helpers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from alembic.config import Config
from sqlalchemy import JSON, event, select, text
from sqlalchemy.orm import Session

from cellfoundry.bank.db import (
    Box,
    Deposit,
    FeatureRow,
    Freezer,
    HistoryEvent,
    Modification,
    Notification,
    OtherAccession,
    Plasmid,
    Rack,
    Sample,
    SequenceRow,
    Site,
    Strain,
    ViabilityTest,
    utcnow,
)
from cellfoundry.bank.models import (
    ATMOSPHERES,
    MODIFICATION_KINDS,
    NAGOYA_STATUSES,
    ORGANISM_TYPES,
    PART_ROLES,
    RISK_GROUPS,
    STRAIN_STATUSES,
    SUPPLY_FORMS,
    PatentDates,
    StrainRecord,
)
from cellfoundry.bank.models import Modification as ModificationValue
from cellfoundry.bank.views import (
    DepositView,
    LineageNode,
    SampleView,
    SequenceSummary,
    ViabilityView,
)
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord, validate_dna
from cellfoundry.core.text import text_problem

SequenceKind = Literal["plasmid", "part", "genome"]
DEFAULT_URL_ENV = "CELLFOUNDRY_DATABASE_URL"
_BATCH = 5000


def default_url() -> str:
    """Return the database URL: ``CELLFOUNDRY_DATABASE_URL`` or ``./cellfoundry.db``."""
    return os.environ.get(DEFAULT_URL_ENV) or f"sqlite:///{Path('cellfoundry.db').resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("cellfoundry.bank").joinpath("migrations"))
    )
    return cfg


# ---------------------------------------------------------------------------------------------
# Validation of catalogue values


def check_strain(record: StrainRecord, *, source: str | None = None) -> None:
    """Raise :class:`ValidationError` if a strain record breaks a catalogue rule."""

    def bad(field: str, message: str) -> ValidationError:
        return ValidationError(message, source=source, record=record.accession or "?", field=field)

    if not record.accession.strip():
        raise bad("accession", "the accession number is empty")
    if not record.taxon_name.strip():
        raise bad("taxon_name", "the taxon name is empty")
    if record.organism_type not in ORGANISM_TYPES:
        raise bad("organism_type", f"{record.organism_type!r} is not one of {ORGANISM_TYPES}")
    if record.risk_group not in RISK_GROUPS:
        raise bad("risk_group", f"risk group {record.risk_group!r} is not 1, 2, 3 or 4")
    if record.atmosphere is not None and record.atmosphere not in ATMOSPHERES:
        raise bad("atmosphere", f"{record.atmosphere!r} is not one of {ATMOSPHERES}")
    for form in record.supply_forms:
        if form not in SUPPLY_FORMS:
            raise bad("supply_forms", f"{form!r} is not one of {SUPPLY_FORMS}")
    if record.nagoya not in NAGOYA_STATUSES:
        raise bad("nagoya", f"{record.nagoya!r} is not one of {NAGOYA_STATUSES}")
    if record.status not in STRAIN_STATUSES:
        raise bad("status", f"{record.status!r} is not one of {STRAIN_STATUSES}")
    if record.latitude is not None and not -90 <= record.latitude <= 90:
        raise bad("latitude", f"latitude {record.latitude} is outside -90..90")
    if record.longitude is not None and not -180 <= record.longitude <= 180:
        raise bad("longitude", f"longitude {record.longitude} is outside -180..180")
    for mod in record.modifications:
        if mod.kind not in MODIFICATION_KINDS:
            raise bad("modifications", f"{mod.kind!r} is not one of {MODIFICATION_KINDS}")
    if record.modifications and not record.parent_accession:
        raise bad("parent_accession", "modifications are given but no parent strain")
    if record.parent_accession == record.accession:
        raise bad("parent_accession", "a strain cannot be its own parent")
    for key, value in _strain_columns(record).items():
        if isinstance(value, str):
            problem = text_problem(value, _column_length(Strain, key))
            if problem:
                raise bad(key if key != "other_numbers" else "other_accessions", problem)
    if record.ncbi_taxid is not None and not 1 <= record.ncbi_taxid <= MAX_INT32:
        raise bad("ncbi_taxid", f"NCBI taxonomy id {record.ncbi_taxid} is out of range")
    for other in record.other_accessions:
        problem = text_problem(other, _column_length(OtherAccession, "accession"))
        if problem:
            raise bad("other_accessions", problem)
    for mod in record.modifications:
        for name, value in (("target", mod.target), ("description", mod.description)):
            problem = text_problem(value, _column_length(Modification, name))
            if problem:
                raise bad("modifications", f"{name}: {problem}")
    for plasmid in record.plasmid_names:
        problem = text_problem(plasmid, 255)
        if problem:
            raise bad("plasmid_names", problem)


#: The largest value an INTEGER column holds on PostgreSQL.
MAX_INT32 = 2**31 - 1


def _column_length(model: Any, column: str) -> int | None:
    length = getattr(model.__table__.c[column].type, "length", None)
    return int(length) if length else None


def _genus(taxon_name: str) -> str:
    first = taxon_name.strip().split(" ", 1)[0]
    return first.strip("[]'\"") if first else ""


def _strain_columns(record: StrainRecord) -> dict[str, Any]:
    return {
        "accession": record.accession,
        "taxon_name": record.taxon_name,
        "taxon_key": record.taxon_name.lower()[:255],
        "genus": _genus(record.taxon_name),
        "ncbi_taxid": record.ncbi_taxid,
        "organism_type": record.organism_type,
        "risk_group": record.risk_group,
        "type_strain": record.type_strain,
        "isolation_source": record.isolation_source,
        "country": record.country,
        "locality": record.locality,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "growth_medium": record.growth_medium,
        "growth_temperature_c": record.growth_temperature_c,
        "atmosphere": record.atmosphere,
        "supply_forms": ";".join(record.supply_forms),
        "restrictions": record.restrictions,
        "nagoya": record.nagoya,
        "genotype": record.genotype,
        "history": record.history,
        "status": record.status,
        "remarks": record.remarks,
        "other_numbers": " ".join(record.other_accessions),
    }


_EDITABLE = frozenset(_strain_columns(StrainRecord("x", "x"))) - {
    "accession",
    "genus",
    "taxon_key",
    "other_numbers",
}


def _strain_record(
    row: Strain, parent_accession: str | None, plasmids: Sequence[str]
) -> StrainRecord:
    return StrainRecord(
        accession=row.accession,
        taxon_name=row.taxon_name,
        organism_type=row.organism_type,  # type: ignore[arg-type]
        risk_group=row.risk_group,
        ncbi_taxid=row.ncbi_taxid,
        other_accessions=tuple(o.accession for o in row.other_accessions),
        type_strain=row.type_strain,
        isolation_source=row.isolation_source,
        country=row.country,
        locality=row.locality,
        latitude=row.latitude,
        longitude=row.longitude,
        growth_medium=row.growth_medium,
        growth_temperature_c=row.growth_temperature_c,
        atmosphere=row.atmosphere,  # type: ignore[arg-type]
        supply_forms=tuple(f for f in row.supply_forms.split(";") if f),  # type: ignore[misc]
        restrictions=row.restrictions,
        nagoya=row.nagoya,  # type: ignore[arg-type]
        genotype=row.genotype,
        history=row.history,
        status=row.status,  # type: ignore[arg-type]
        parent_accession=parent_accession,
        modifications=tuple(
            ModificationValue(m.kind, m.target, m.description)  # type: ignore[arg-type]
            for m in row.modifications
        ),
        plasmid_names=tuple(plasmids),
        remarks=row.remarks,
    )


# ---------------------------------------------------------------------------------------------
# Sequences <-> rows


def _sequence_row(
    record: SequenceRecord, kind: SequenceKind, *, strain_id: int | None = None
) -> SequenceRow:
    residues = validate_dna(record.sequence, record=record.name)
    for key in ("name", "description", "accession"):
        problem = text_problem(getattr(record, key), _column_length(SequenceRow, key))
        if problem:
            raise ValidationError(f"the {key} {problem}", record=record.name[:80], field=key)
    row = SequenceRow(
        kind=kind,
        name=record.name,
        description=record.description,
        accession=record.accession,
        topology=record.topology,
        molecule_type=record.molecule_type,
        length=len(residues),
        checksum=dataclasses.replace(record, sequence=residues).checksum,
        residues=residues,
        annotations=dict(record.annotations),
        strain_id=strain_id,
    )
    row.features = [
        FeatureRow(
            position=i,
            type=f.type,
            label=f.label[:255],
            label_key=f.label[:255].lower(),
            gene_key=(f.qualifier("gene") or f.qualifier("locus_tag") or "")[:255].lower(),
            start=f.start,
            end=f.end,
            strand=f.strand,
            location={
                "operator": f.operator,
                "spans": [
                    [s.start, s.end, s.strand, s.partial_start, s.partial_end] for s in f.spans
                ],
            },
            qualifiers=[list(q) for q in f.qualifiers],
        )
        for i, f in enumerate(record.features)
    ]
    return row


def _sequence_record(row: SequenceRow) -> SequenceRecord:
    features = tuple(
        Feature(
            type=f.type,
            spans=tuple(
                FeatureSpan(s[0], s[1], s[2], bool(s[3]), bool(s[4])) for s in f.location["spans"]
            ),
            qualifiers=tuple((q[0], q[1]) for q in f.qualifiers),
            operator=f.location.get("operator", "join"),
        )
        for f in row.features
    )
    return SequenceRecord(
        name=row.name,
        sequence=row.residues,
        topology=row.topology,  # type: ignore[arg-type]
        description=row.description,
        accession=row.accession,
        molecule_type=row.molecule_type,
        features=features,
        annotations=dict(row.annotations or {}),
    )


def _summary(row: SequenceRow, role: str | None = None) -> SequenceSummary:
    return SequenceSummary(
        id=row.id,
        kind=row.kind,
        name=row.name,
        length=row.length,
        topology=row.topology,
        checksum=row.checksum,
        feature_count=len(row.features),
        description=row.description,
        role=role,
    )


def _deposit_view(dep: Deposit, accession: str) -> DepositView:
    keep = (
        PatentDates(dep.deposited_on, dep.last_request_on).keep_until
        if dep.deposit_type == "patent"
        else None
    )
    return DepositView(
        accession=accession,
        deposit_type=dep.deposit_type,
        depositor=dep.depositor,
        deposited_on=dep.deposited_on,
        depositor_statement=dep.depositor_statement,
        viability_statement=dep.viability_statement,
        patent_reference=dep.patent_reference,
        last_request_on=dep.last_request_on,
        restricted_release=dep.restricted_release,
        keep_until=keep,
    )


def _node(row: Strain, parent: str | None, depth: int) -> LineageNode:
    return LineageNode(
        accession=row.accession,
        taxon_name=row.taxon_name,
        parent_accession=parent,
        depth=depth,
        modifications=tuple(
            ModificationValue(m.kind, m.target, m.description)  # type: ignore[arg-type]
            for m in row.modifications
        ),
        status=row.status,
    )


def _role_of(record: SequenceRecord) -> str:
    so = {v: k for k, v in PART_ROLES.items()}
    role = record.annotations.get("role")
    if isinstance(role, str):
        if role in PART_ROLES:
            return role
        if role in so:
            return so[role]
    kinds = {f.type.lower() for f in record.features}
    for key in ("promoter", "rbs", "cds", "terminator"):
        if key in kinds:
            return key
    return "other"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _insert_many(s: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows in bulk: executemany on SQLite, ``COPY`` on PostgreSQL.

    psycopg's executemany sends one statement per row, so every row would pay a
    round trip and fire the statement-level triggers once; ``COPY ... FROM STDIN``
    streams them in one statement inside the same transaction.
    """
    if not rows:
        return
    target = table.__table__ if hasattr(table, "__table__") else table
    if s.get_bind().dialect.name == "postgresql":
        _copy_rows(s, target, rows)
        return
    for chunk in _chunks(rows, _BATCH):
        s.execute(target.insert(), list(chunk))


def _copy_rows(s: Session, target: Any, rows: Sequence[dict[str, Any]]) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    columns = list(rows[0])
    is_json = [isinstance(target.c[c].type, JSON) for c in columns]
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = s.connection().connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    with raw.cursor() as cur, cur.copy(f"COPY {target.name} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [Jsonb(row[c]) if js else row[c] for c, js in zip(columns, is_json, strict=True)]
            )


def _get_or_add(
    s: Session, model: Any, *, defaults: dict[str, Any] | None = None, **keys: Any
) -> Any:
    row = s.scalars(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys, **(defaults or {}))
        s.add(row)
        s.flush()
    return row


def _box(s: Session, path: str) -> Box:
    parts = path.strip("/").split("/")
    if len(parts) != 4:
        raise ValidationError(f"box path {path!r} is not site/freezer/rack/box", field="box")
    site, freezer, rack, box = parts
    row = s.scalars(
        select(Box)
        .join(Rack, Rack.id == Box.rack_id)
        .join(Freezer, Freezer.id == Rack.freezer_id)
        .join(Site, Site.id == Freezer.site_id)
        .where(Site.name == site, Freezer.name == freezer, Rack.name == rack, Box.name == box)
    ).first()
    if row is None:
        raise NotFoundError("box", path)
    return row


def _position(position: str, box: Box, label: str) -> tuple[int, int]:
    pos = position.strip().upper()
    if len(pos) < 2 or not pos[0].isalpha() or not pos[1:].isdigit():
        raise ValidationError(
            f"position {position!r} is not like 'B7'", record=label, field="position"
        )
    row, col = ord(pos[0]) - 64, int(pos[1:])
    if not (1 <= row <= box.rows and 1 <= col <= box.columns):
        raise ValidationError(
            f"position {position} is outside the {box.rows}×{box.columns} box",
            record=label,
            field="position",
        )
    return row, col


def _check_free(
    s: Session, box: Box, row: int, col: int, label: str, path: str, position: str
) -> None:
    taken = s.scalars(
        select(Sample.label).where(Sample.box_id == box.id, Sample.row == row, Sample.column == col)
    ).first()
    if taken is not None and taken != label:
        raise ConflictError(
            f"position {chr(64 + row)}{col} of box {path} already holds sample {taken!r}",
            record=label,
            field="position",
        )


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop("after_commit", None)


def _sample_views(s: Session, where: Any, *, owner: str | None) -> tuple[SampleView, ...]:
    rows = s.execute(
        select(Sample, Box, Rack, Freezer, Site, Strain.accession, Plasmid.name)
        .join(Box, Box.id == Sample.box_id)
        .join(Rack, Rack.id == Box.rack_id)
        .join(Freezer, Freezer.id == Rack.freezer_id)
        .join(Site, Site.id == Freezer.site_id)
        .outerjoin(Strain, Strain.id == Sample.strain_id)
        .outerjoin(Plasmid, Plasmid.id == Sample.plasmid_id)
        .where(where)
        .order_by(Sample.label)
    ).all()
    out = []
    for sample, box, rack, freezer, site, acc, pname in rows:
        tests = s.scalars(
            select(ViabilityTest)
            .where(ViabilityTest.sample_id == sample.id)
            .order_by(ViabilityTest.tested_on)
        ).all()
        out.append(
            SampleView(
                label=sample.label,
                owner=owner if owner else (acc or pname or ""),
                site=site.name,
                freezer=freezer.name,
                rack=rack.name,
                box=box.name,
                row=sample.row,
                column=sample.column,
                preservation=sample.preservation,
                vials=sample.vials,
                prepared_on=sample.prepared_on,
                viability=tuple(
                    ViabilityView(t.tested_on, t.viable, t.cfu_per_ml, t.note) for t in tests
                ),
            )
        )
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The audit chain: every history event carries the hash of the one before it


#: Hash of the (empty) predecessor of the first event.
GENESIS_HASH = "0" * 64
#: PostgreSQL advisory lock key held while a transaction appends to the chain.
_CHAIN_LOCK = 0x43465F4155444954  # "CF_AUDIT"


def _canonical_time(at: dt.datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """Return the SHA-256 of an event chained to its predecessor's hash.

    The event's sequence number, entity, id, version, action, actor, time (UTC,
    microseconds) and changes (canonical JSON) are hashed after ``prev_hash``, so
    editing, deleting or reordering any event breaks every hash after it.
    """
    body = json.dumps(
        [
            event["seq"],
            event["entity"],
            event["entity_id"],
            event["version"],
            event["action"],
            event["actor"],
            _canonical_time(event["at"]),
            event["changes"],
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _append_history(s: Session, *events: dict[str, Any]) -> None:
    """Append events to the history, chaining each to the previous one's hash.

    The chain is extended under a lock held to the end of the transaction (the
    write lock on SQLite, an advisory lock on PostgreSQL), so concurrent writers
    append one after the other and the chain stays linear.
    """
    if not events:
        return
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    head = s.execute(
        select(HistoryEvent.seq, HistoryEvent.hash).order_by(HistoryEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head[0], head[1]) if head is not None else (0, GENESIS_HASH)
    now = utcnow()
    rows = []
    for new in events:
        seq += 1
        row = {"at": now, **new, "seq": seq, "prev_hash": prev}
        row["hash"] = prev = event_hash(prev, row)
        rows.append(row)
    _insert_many(s, HistoryEvent, rows)


def notify(s: Session, user_id: int, kind: str, subject: str, details: dict[str, Any]) -> None:
    """Put a message in a user's inbox (in the caller's transaction)."""
    s.add(Notification(user_id=user_id, kind=kind, subject=subject, details=details))
