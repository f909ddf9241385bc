"""Strain use cases of the bank: import, show, edit, history, lineage, search."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, or_, select, text
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
    Plasmid,
    Sample,
    SequenceRow,
    Strain,
    StrainPlasmid,
    User,
    utcnow,
)
from cellfoundry.bank.models import (
    StrainRecord,
)
from cellfoundry.bank.policy import (
    VISIBILITIES,
    Viewer,
    require_edit,
    require_writer,
    visible_or_true,
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

    def add_strain(
        self, record: StrainRecord, *, actor: str, visibility: str = "public"
    ) -> StrainView:
        """Store one strain; see :meth:`import_strains` for the rules."""
        self.import_strains([record], actor=actor, source="input", visibility=visibility)
        return self._strain_view(record.accession)

    def import_strains(
        self,
        records: Iterable[StrainRecord],
        *,
        actor: str,
        source: str = "input",
        progress: Progress | None = None,
        visibility: str = "public",
    ) -> ImportReport:
        """Store strains all-or-nothing, owned by the viewer, with one ``visibility``.

        Parents may be in the bank already or earlier/later in the same batch.

        Raises
        ------
        ValidationError
            A record breaks a catalogue rule, or names a parent that exists nowhere.
        ConflictError
            An accession is already in the bank or repeated in the batch.
        """
        return self._store_strains(
            records, actor=actor, source=source, progress=progress, visibility=visibility
        )

    def _store_strains(
        self,
        records: Iterable[StrainRecord],
        *,
        actor: str,
        source: str,
        progress: Progress | None,
        visibility: str,
        then: Callable[[Session, Mapping[str, int]], None] | None = None,
    ) -> ImportReport:
        """Do :meth:`import_strains`; ``then(session, ids)`` runs in the same transaction."""
        require_writer(self.viewer, "add strains")
        _check_visibility(visibility, source)
        viewer = self.viewer
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
                            select(Strain.accession, Strain.id).where(
                                Strain.accession.in_(chunk), visible_or_true(viewer)
                            )
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
                            select(Plasmid.name, Plasmid.id)
                            .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                            .where(Plasmid.name.in_(chunk), visible_or_true(viewer, SequenceRow))
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
                        "owner_id": viewer.user_id,
                        "organisation_id": viewer.organisation_id,
                        "visibility": visibility,
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
                        "changes": {"source": source, "visibility": visibility},
                    }
                    for r in batch
                ],
            )
            if then is not None:
                then(s, ids)
            if total >= _ANALYZE_AFTER:
                # fresh statistics let the query planner pick the covering indexes
                s.execute(text("ANALYZE strains" if self.dialect == "postgresql" else "ANALYZE"))
        return ImportReport(source=source, strains=total)

    def get_strain(self, accession: str) -> StrainView:
        """Return a strain with its lineage links, plasmids, genomes, samples and deposit.

        Reading a strain that is not public appends a ``read`` event to the audit trail.
        """
        return self._strain_view(accession, audit=True)

    def _strain_view(self, accession: str, *, audit: bool = False) -> StrainView:
        viewer = self.viewer
        with self._tx() as s:
            row = s.scalars(
                select(Strain)
                .where(Strain.accession == accession, visible_or_true(viewer))
                .options(selectinload(Strain.modifications), selectinload(Strain.other_accessions))
            ).first()
            if row is None:
                raise NotFoundError("strain", accession)
            if audit and row.visibility != "public":
                _audit_read(s, "strain", row.id, row.version, viewer)
            parent = (
                s.scalars(
                    select(Strain.accession).where(
                        Strain.id == row.parent_id, visible_or_true(viewer)
                    )
                ).first()
                if row.parent_id
                else None
            )
            children = tuple(
                s.scalars(
                    select(Strain.accession)
                    .where(Strain.parent_id == row.id, visible_or_true(viewer))
                    .order_by(Strain.accession)
                )
            )
            plasmid_rows = s.execute(
                select(Plasmid, SequenceRow)
                .join(StrainPlasmid, StrainPlasmid.plasmid_id == Plasmid.id)
                .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                .where(StrainPlasmid.strain_id == row.id, visible_or_true(viewer, SequenceRow))
                .order_by(Plasmid.name)
                .options(selectinload(SequenceRow.features))
            ).all()
            genomes = s.scalars(
                select(SequenceRow)
                .where(
                    SequenceRow.strain_id == row.id,
                    SequenceRow.kind == "genome",
                    visible_or_true(viewer, SequenceRow),
                )
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
                visibility=row.visibility,
                owner=_username(s, row.owner_id),
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
        current = self._strain_view(accession)
        require_edit(self.viewer, _owner_of(self, current.id), "edit this strain")
        updated = dataclasses.replace(current.record, **changes)
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
        return self._strain_view(accession)

    def set_visibility(self, accession: str, visibility: str, *, actor: str) -> StrainView:
        """Make a strain (and its genome sequences) private, group-visible or public."""
        _check_visibility(visibility, None, accession)
        current = self._strain_view(accession)
        require_edit(self.viewer, _owner_of(self, current.id), "change who sees this strain")
        with self._tx() as s:
            row = s.get_one(Strain, current.id)
            if row.visibility != visibility:
                old = row.visibility
                row.visibility = visibility
                row.version += 1
                row.updated_at = utcnow()
                for genome in s.scalars(select(SequenceRow).where(SequenceRow.strain_id == row.id)):
                    genome.visibility = visibility
                _append_history(
                    s,
                    {
                        "entity": "strain",
                        "entity_id": row.id,
                        "version": row.version,
                        "action": "visibility",
                        "actor": actor,
                        "changes": {"visibility": [old, visibility]},
                    },
                )
        return self._strain_view(accession)

    def history(self, accession: str) -> tuple[HistoryEntry, ...]:
        """Return every versioned write of a strain, oldest first."""
        with self._tx() as s:
            sid = s.scalars(
                select(Strain.id).where(Strain.accession == accession, visible_or_true(self.viewer))
            ).first()
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
        """Walk a strain's pedigree: ancestors up to the root, and every descendant.

        The walk stops at strains the viewer may not see: a hidden ancestor ends
        the chain upwards, a hidden descendant is left out with its subtree.
        """
        vis = visible_or_true(self.viewer)
        with self._tx() as s:
            start = s.scalars(
                select(Strain)
                .where(Strain.accession == accession, vis)
                .options(selectinload(Strain.modifications))
            ).first()
            if start is None:
                raise NotFoundError("strain", accession)
            chain: list[Strain] = [start]
            seen = {start.id}
            while chain[-1].parent_id is not None and chain[-1].parent_id not in seen:
                parent = s.scalars(
                    select(Strain)
                    .where(Strain.id == chain[-1].parent_id, vis)
                    .options(selectinload(Strain.modifications))
                ).first()
                if parent is None:
                    break
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
                    .where(Strain.parent_id.in_([f.id for f in frontier]), vis)
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
            return search_strains(s, query, self.viewer)

    def lookup(self, number: str) -> tuple[StrainSummary, ...]:
        """Find strains by this collection's or another collection's accession number."""
        q = StrainQuery(text=number, facets=False, limit=50)
        viewer = self.viewer
        with self._tx() as s:
            exact = s.scalars(
                select(Strain.accession).where(
                    func.lower(Strain.accession) == number.lower(), visible_or_true(viewer)
                )
            ).first()
            if exact is not None:
                return search_strains(s, dataclasses.replace(q, text=exact), viewer).items[:1]
            other = s.scalars(
                select(Strain.accession)
                .join(OtherAccession, OtherAccession.strain_id == Strain.id)
                .where(func.lower(OtherAccession.accession) == number.lower())
            ).all()
            return tuple(
                item for item in search_strains(s, q, viewer).items if item.accession in set(other)
            )

    def export_strains(self, accessions: Sequence[str] | None = None) -> list[StrainRecord]:
        """Return the strains the viewer sees as catalogue records (``None``: all of them).

        Exporting strains that are not public appends one ``export`` event to the audit trail.
        """
        viewer = self.viewer
        vis = visible_or_true(viewer)
        with self._tx() as s:
            stmt = (
                select(Strain)
                .where(vis)
                .options(selectinload(Strain.modifications), selectinload(Strain.other_accessions))
                .order_by(Strain.id)
            )
            if accessions is not None:
                stmt = stmt.where(Strain.accession.in_(list(accessions)))
            rows = s.scalars(stmt).all()
            names = (
                dict(s.execute(select(Strain.id, Strain.accession).where(vis)).all())
                if rows
                else {}
            )
            carried: dict[int, list[str]] = {}
            for sid, pname in s.execute(
                select(StrainPlasmid.strain_id, Plasmid.name)
                .join(Plasmid, Plasmid.id == StrainPlasmid.plasmid_id)
                .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                .where(visible_or_true(viewer, SequenceRow))
            ):
                carried.setdefault(sid, []).append(pname)
            restricted = [r.accession for r in rows if r.visibility != "public"]
            if restricted:
                _audit_read(s, "strain", 0, 0, viewer, action="export", accessions=restricted)
            return [
                _strain_record(
                    r,
                    names.get(r.parent_id) if r.parent_id else None,
                    sorted(carried.get(r.id, [])),
                )
                for r in rows
            ]

    def counts(self) -> BankCounts:
        """How many strains, plasmids, parts, genomes, samples and deposits the viewer sees."""
        viewer = self.viewer
        seq_vis = visible_or_true(viewer, SequenceRow)
        with self._tx() as s:

            def n(stmt: Any) -> int:
                return int(s.execute(stmt).scalar_one())

            def of_kind(kind: str) -> int:
                return n(
                    select(func.count())
                    .select_from(SequenceRow)
                    .where(SequenceRow.kind == kind, seq_vis)
                )

            strains = search_strains(s, StrainQuery(limit=0, facets=False), viewer).total
            visible_strains = select(Strain.id).where(visible_or_true(viewer))
            visible_plasmids = (
                select(Plasmid.id)
                .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                .where(seq_vis)
            )
            samples = select(func.count()).select_from(Sample)
            deposits = select(func.count()).select_from(Deposit)
            if not viewer.privileged:
                samples = samples.where(
                    or_(
                        Sample.strain_id.in_(visible_strains),
                        Sample.plasmid_id.in_(visible_plasmids),
                    )
                )
                deposits = deposits.where(Deposit.strain_id.in_(visible_strains))
            return BankCounts(
                strains=strains,
                plasmids=of_kind("plasmid"),
                parts=of_kind("part"),
                genomes=of_kind("genome"),
                samples=n(samples),
                deposits=n(deposits),
            )

    # -- sequences -----------------------------------------------------------------------------


def _check_visibility(visibility: str, source: str | None, record: str | None = None) -> None:
    if visibility not in VISIBILITIES:
        raise ValidationError(
            f"{visibility!r} is not one of {VISIBILITIES}",
            source=source,
            record=record,
            field="visibility",
        )


def _owner_of(bank: BankBase, strain_id: int) -> int | None:
    with bank._tx() as s:
        return s.scalars(select(Strain.owner_id).where(Strain.id == strain_id)).one()


def _username(s: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return s.scalars(select(User.username).where(User.id == user_id)).first()


def _audit_read(
    s: Session,
    entity: str,
    entity_id: int,
    version: int,
    viewer: Viewer,
    *,
    action: str = "read",
    accessions: Sequence[str] = (),
) -> None:
    """Append a read of restricted entries to the audit trail."""
    changes: dict[str, Any] = {"role": viewer.role}
    if accessions:
        changes["accessions"] = list(accessions)
    _append_history(
        s,
        {
            "entity": entity,
            "entity_id": entity_id,
            "version": version,
            "action": action,
            "actor": viewer.username,
            "changes": changes,
        },
    )


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
