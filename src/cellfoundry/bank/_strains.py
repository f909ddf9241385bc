"""Strain use cases of the bank: import, show, edit, history, lineage, search."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session, selectinload

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import (
    _BATCH,
    _EDITABLE,
    _append_history,
    _chunks,
    _deposit_view,
    _insert_many,
    _node,
    _sample_views,
    _strain_columns,
    _strain_record,
    _summary,
    check_strain,
)
from cellfoundry.bank.db import (
    Deposit,
    HistoryEvent,
    Modification,
    OtherAccession,
    Part,
    Plasmid,
    Sample,
    SequenceRow,
    Strain,
    StrainPlasmid,
    utcnow,
)
from cellfoundry.bank.models import (
    StrainRecord,
)
from cellfoundry.bank.search import StrainQuery, search_strains
from cellfoundry.bank.views import (
    BankCounts,
    HistoryEntry,
    ImportReport,
    Lineage,
    LineageNode,
    StrainPage,
    StrainSummary,
    StrainView,
)
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.progress import NullProgress, Progress

_STRAINS = cast(Table, Strain.__table__)
_ANALYZE_AFTER = 1000


class StrainsMixin(BankBase):
    """Strain use cases of the bank: import, show, edit, history, lineage, search."""

    def add_strain(self, record: StrainRecord, *, actor: str) -> StrainView:
        """Store one strain; see :meth:`import_strains` for the rules."""
        self.import_strains([record], actor=actor, source="input")
        return self.get_strain(record.accession)

    def import_strains(
        self,
        records: Iterable[StrainRecord],
        *,
        actor: str,
        source: str = "input",
        progress: Progress | None = None,
    ) -> ImportReport:
        """Store strains all-or-nothing.

        Parents may be in the bank already or earlier/later in the same batch.

        Raises
        ------
        ValidationError
            A record breaks a catalogue rule, or names a parent that exists nowhere.
        ConflictError
            An accession is already in the bank or repeated in the batch.
        """
        progress = progress or NullProgress()
        batch = list(records)
        total = len(batch)
        seen: dict[str, int] = {}
        for i, rec in enumerate(batch):
            check_strain(rec, source=source)
            if rec.accession in seen:
                raise ConflictError(
                    f"accession repeated (records {seen[rec.accession] + 1} and {i + 1})",
                    source=source,
                    record=rec.accession,
                    field="accession",
                )
            seen[rec.accession] = i
        now = utcnow()
        with self._tx() as s:
            accessions = list(seen)
            for chunk in _chunks(accessions, 900):
                clash = s.scalars(
                    select(Strain.accession).where(Strain.accession.in_(chunk))
                ).first()
                if clash is not None:
                    raise ConflictError(
                        "accession already in the bank",
                        source=source,
                        record=clash,
                        field="accession",
                    )
            parents_needed = {r.parent_accession for r in batch if r.parent_accession} - set(seen)
            known_parents: dict[str, int] = {}
            for chunk in _chunks(sorted(parents_needed), 900):
                known_parents.update(
                    dict(
                        s.execute(
                            select(Strain.accession, Strain.id).where(Strain.accession.in_(chunk))
                        ).all()
                    )
                )
            for rec in batch:
                if (
                    rec.parent_accession
                    and rec.parent_accession not in seen
                    and rec.parent_accession not in known_parents
                ):
                    raise ValidationError(
                        f"parent strain {rec.parent_accession!r} is neither in the bank "
                        "nor in this import",
                        source=source,
                        record=rec.accession,
                        field="parent_accession",
                    )
            plasmid_names = {n for r in batch for n in r.plasmid_names}
            plasmid_ids: dict[str, int] = {}
            for chunk in _chunks(sorted(plasmid_names), 900):
                plasmid_ids.update(
                    dict(
                        s.execute(
                            select(Plasmid.name, Plasmid.id).where(Plasmid.name.in_(chunk))
                        ).all()
                    )
                )
            for rec in batch:
                for name in rec.plasmid_names:
                    if name not in plasmid_ids:
                        raise ValidationError(
                            f"plasmid {name!r} is not in the bank; import its sequence first",
                            source=source,
                            record=rec.accession,
                            field="plasmid_names",
                        )
            ordered = _parents_first(batch, source)
            ids = dict(
                zip((r.accession for r in ordered), _reserve_ids(s, len(ordered)), strict=True)
            )
            all_ids = {**known_parents, **ids}
            done = 0
            for chunk in _chunks(ordered, _BATCH):
                rows = [
                    {
                        **_strain_columns(r),
                        "id": ids[r.accession],
                        "parent_id": all_ids[r.parent_accession] if r.parent_accession else None,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for r in chunk
                ]
                _insert_many(s, _STRAINS, rows)
                done += len(chunk)
                progress(done, total)
            _insert_many(
                s,
                Modification,
                [
                    {
                        "strain_id": ids[r.accession],
                        "position": i,
                        "kind": m.kind,
                        "target": m.target,
                        "description": m.description,
                    }
                    for r in batch
                    for i, m in enumerate(r.modifications)
                ],
            )
            _insert_many(
                s,
                OtherAccession,
                [
                    {"strain_id": ids[r.accession], "accession": other}
                    for r in batch
                    for other in r.other_accessions
                ],
            )
            _insert_many(
                s,
                StrainPlasmid,
                [
                    {"strain_id": ids[r.accession], "plasmid_id": plasmid_ids[name]}
                    for r in batch
                    for name in dict.fromkeys(r.plasmid_names)
                ],
            )
            _append_history(
                s,
                *[
                    {
                        "entity": "strain",
                        "entity_id": ids[r.accession],
                        "version": 1,
                        "action": "create",
                        "actor": actor,
                        "at": now,
                        "changes": {"source": source},
                    }
                    for r in batch
                ],
            )
            if total >= _ANALYZE_AFTER:
                # fresh statistics let the query planner pick the covering indexes
                s.execute(text("ANALYZE strains" if self.dialect == "postgresql" else "ANALYZE"))
        return ImportReport(source=source, strains=total)

    def get_strain(self, accession: str) -> StrainView:
        """Return a strain with its lineage links, plasmids, genomes, samples and deposit."""
        with self._tx() as s:
            row = s.scalars(
                select(Strain)
                .where(Strain.accession == accession)
                .options(selectinload(Strain.modifications), selectinload(Strain.other_accessions))
            ).first()
            if row is None:
                raise NotFoundError("strain", accession)
            parent = s.get(Strain, row.parent_id).accession if row.parent_id else None  # type: ignore[union-attr]
            children = tuple(
                s.scalars(
                    select(Strain.accession)
                    .where(Strain.parent_id == row.id)
                    .order_by(Strain.accession)
                )
            )
            plasmid_rows = s.execute(
                select(Plasmid, SequenceRow)
                .join(StrainPlasmid, StrainPlasmid.plasmid_id == Plasmid.id)
                .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                .where(StrainPlasmid.strain_id == row.id)
                .order_by(Plasmid.name)
                .options(selectinload(SequenceRow.features))
            ).all()
            genomes = s.scalars(
                select(SequenceRow)
                .where(SequenceRow.strain_id == row.id, SequenceRow.kind == "genome")
                .options(selectinload(SequenceRow.features))
            ).all()
            record = _strain_record(row, parent, [p.name for p, _ in plasmid_rows])
            samples = _sample_views(s, Sample.strain_id == row.id, owner=row.accession)
            deposit = s.scalars(select(Deposit).where(Deposit.strain_id == row.id)).first()
            return StrainView(
                id=row.id,
                record=record,
                genus=row.genus,
                parent_accession=parent,
                children=children,
                plasmids=tuple(_summary(seq) for _, seq in plasmid_rows),
                genomes=tuple(_summary(g) for g in genomes),
                samples=samples,
                deposit=_deposit_view(deposit, row.accession) if deposit else None,
                version=row.version,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )

    def update_strain(self, accession: str, changes: dict[str, Any], *, actor: str) -> StrainView:
        """Change catalogue fields of a strain, recording old and new values in its history."""
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise ValidationError(
                f"cannot edit {sorted(unknown)}; editable fields are {sorted(_EDITABLE)}",
                record=accession,
                field=sorted(unknown)[0],
            )
        current = self.get_strain(accession).record
        updated = dataclasses.replace(current, **changes)
        check_strain(updated)
        new_cols = _strain_columns(updated)
        with self._tx() as s:
            row = s.scalars(select(Strain).where(Strain.accession == accession)).one()
            diff: dict[str, Any] = {}
            for key, value in new_cols.items():
                old = getattr(row, key)
                if old != value:
                    diff[key] = [old, value]
                    setattr(row, key, value)
            if diff:
                row.version += 1
                row.updated_at = utcnow()
                _append_history(
                    s,
                    {
                        "entity": "strain",
                        "entity_id": row.id,
                        "version": row.version,
                        "action": "update",
                        "actor": actor,
                        "changes": diff,
                    },
                )
        return self.get_strain(accession)

    def history(self, accession: str) -> tuple[HistoryEntry, ...]:
        """Return every versioned write of a strain, oldest first."""
        with self._tx() as s:
            sid = s.scalars(select(Strain.id).where(Strain.accession == accession)).first()
            if sid is None:
                raise NotFoundError("strain", accession)
            events = s.scalars(
                select(HistoryEvent)
                .where(HistoryEvent.entity == "strain", HistoryEvent.entity_id == sid)
                .order_by(HistoryEvent.id)
            )
            return tuple(
                HistoryEntry(e.version, e.action, e.actor, e.at, dict(e.changes)) for e in events
            )

    def lineage(self, accession: str) -> Lineage:
        """Walk a strain's pedigree: ancestors up to the root, and every descendant."""
        with self._tx() as s:
            start = s.scalars(
                select(Strain)
                .where(Strain.accession == accession)
                .options(selectinload(Strain.modifications))
            ).first()
            if start is None:
                raise NotFoundError("strain", accession)
            chain: list[Strain] = [start]
            seen = {start.id}
            while chain[-1].parent_id is not None and chain[-1].parent_id not in seen:
                parent = s.get(Strain, chain[-1].parent_id)
                assert parent is not None
                seen.add(parent.id)
                chain.append(parent)
            chain.reverse()
            by_id = {row.id: row.accession for row in chain}
            ancestors = tuple(
                _node(row, by_id.get(row.parent_id) if row.parent_id else None, depth)
                for depth, row in enumerate(chain)
            )
            descendants: list[LineageNode] = []
            frontier = [start]
            depth = len(chain) - 1
            while frontier:
                depth += 1
                kids = s.scalars(
                    select(Strain)
                    .where(Strain.parent_id.in_([f.id for f in frontier]))
                    .order_by(Strain.accession)
                    .options(selectinload(Strain.modifications))
                ).all()
                kids = [k for k in kids if k.id not in seen]
                names = {f.id: f.accession for f in frontier}
                for kid in kids:
                    seen.add(kid.id)
                    descendants.append(_node(kid, names[kid.parent_id or 0], depth))
                frontier = list(kids)
            return Lineage(accession, ancestors, tuple(descendants))

    def search(self, query: StrainQuery) -> StrainPage:
        """Search strains by text and facets; see :class:`StrainQuery`."""
        with self._tx() as s:
            return search_strains(s, query)

    def lookup(self, number: str) -> tuple[StrainSummary, ...]:
        """Find strains by this collection's or another collection's accession number."""
        q = StrainQuery(text=number, facets=False, limit=50)
        with self._tx() as s:
            exact = s.scalars(
                select(Strain.accession).where(func.lower(Strain.accession) == number.lower())
            ).first()
            if exact is not None:
                return search_strains(s, dataclasses.replace(q, text=exact)).items[:1]
            other = s.scalars(
                select(Strain.accession)
                .join(OtherAccession, OtherAccession.strain_id == Strain.id)
                .where(func.lower(OtherAccession.accession) == number.lower())
            ).all()
            return tuple(
                item for item in search_strains(s, q).items if item.accession in set(other)
            )

    def export_strains(self, accessions: Sequence[str] | None = None) -> list[StrainRecord]:
        """Return strains as catalogue records (all of them if ``accessions`` is None)."""
        with self._tx() as s:
            stmt = (
                select(Strain)
                .options(selectinload(Strain.modifications), selectinload(Strain.other_accessions))
                .order_by(Strain.id)
            )
            if accessions is not None:
                stmt = stmt.where(Strain.accession.in_(list(accessions)))
            rows = s.scalars(stmt).all()
            names = dict(s.execute(select(Strain.id, Strain.accession)).all()) if rows else {}
            carried: dict[int, list[str]] = {}
            for sid, pname in s.execute(
                select(StrainPlasmid.strain_id, Plasmid.name).join(
                    Plasmid, Plasmid.id == StrainPlasmid.plasmid_id
                )
            ):
                carried.setdefault(sid, []).append(pname)
            return [
                _strain_record(
                    r,
                    names.get(r.parent_id) if r.parent_id else None,
                    sorted(carried.get(r.id, [])),
                )
                for r in rows
            ]

    def counts(self) -> BankCounts:
        """How many strains, plasmids, parts, genomes, samples and deposits the bank holds."""
        with self._tx() as s:

            def n(stmt: Any) -> int:
                return int(s.execute(stmt).scalar_one())

            return BankCounts(
                strains=n(select(func.count()).select_from(Strain)),
                plasmids=n(select(func.count()).select_from(Plasmid)),
                parts=n(select(func.count()).select_from(Part)),
                genomes=n(
                    select(func.count())
                    .select_from(SequenceRow)
                    .where(SequenceRow.kind == "genome")
                ),
                samples=n(select(func.count()).select_from(Sample)),
                deposits=n(select(func.count()).select_from(Deposit)),
            )

    # -- sequences -----------------------------------------------------------------------------


def _parents_first(batch: list[StrainRecord], source: str) -> list[StrainRecord]:
    """Order a batch so every parent in it comes before its children; refuse cycles."""
    by_acc = {r.accession: r for r in batch}
    depth: dict[str, int] = {}
    for rec in batch:
        chain: list[str] = []
        cur: StrainRecord | None = rec
        while cur is not None and cur.accession not in depth:
            if cur.accession in chain:
                raise ValidationError(
                    "the parent links form a cycle: " + " <- ".join([*chain, cur.accession]),
                    source=source,
                    record=cur.accession,
                    field="parent_accession",
                )
            chain.append(cur.accession)
            cur = by_acc.get(cur.parent_accession) if cur.parent_accession else None
        base = depth[cur.accession] + 1 if cur is not None else 0
        for i, acc in enumerate(reversed(chain)):
            depth[acc] = base + i
    return sorted(batch, key=lambda r: depth[r.accession])


def _reserve_ids(s: Session, n: int) -> list[int]:
    """Reserve ``n`` strain ids in this transaction.

    PostgreSQL hands them out from the table's sequence (safe under concurrency);
    SQLite takes its write lock first (a no-op UPDATE), so max(id) cannot move.
    """
    if s.get_bind().dialect.name == "postgresql":
        return list(
            s.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('strains', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
        )
    s.execute(text("UPDATE strains SET id = id WHERE 0"))
    first = int(s.execute(text("SELECT coalesce(max(id), 0) FROM strains")).scalar_one()) + 1
    return list(range(first, first + n))
