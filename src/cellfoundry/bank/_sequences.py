"""Sequence use cases of the bank: plasmids, parts, genomes, duplicates, similarity."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import (
    SequenceKind,
    _append_history,
    _role_of,
    _sample_views,
    _sequence_record,
    _sequence_row,
    _summary,
)
from cellfoundry.bank.db import (
    Document,
    FeatureRow,
    Part,
    Plasmid,
    Sample,
    SequenceRow,
    Strain,
    StrainPlasmid,
    User,
)
from cellfoundry.bank.models import (
    PART_ROLES,
    PartRecord,
)
from cellfoundry.bank.policy import (
    VISIBILITIES,
    require_edit,
    require_writer,
    visible_or_true,
)
from cellfoundry.bank.policy import (
    hidden as policy_hidden,
)
from cellfoundry.bank.search import summary_select
from cellfoundry.bank.views import (
    DocumentExport,
    ImportReport,
    PartView,
    PlasmidUsage,
    SequenceHitView,
    SequenceSummary,
    StrainSummary,
)
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.core.sequence import SequenceRecord, validate_dna


class SequencesMixin(BankBase):
    """Sequence use cases of the bank: plasmids, parts, genomes, duplicates, similarity."""

    def import_sequences(
        self,
        records: Sequence[SequenceRecord],
        *,
        kind: SequenceKind,
        actor: str,
        source: str = "input",
        strain: str | None = None,
        role: str | None = None,
        remainder: str = "",
        progress: Progress | None = None,
        visibility: str = "public",
    ) -> ImportReport:
        """Store plasmids, parts or a strain's genome records, all-or-nothing.

        A plasmid or part name already in the bank is a conflict; a sequence
        whose checksum equals a stored one is stored but reported as a duplicate.
        Plasmids and parts are owned by the viewer with the given ``visibility``;
        a genome takes its strain's owner and visibility.
        """
        viewer = self.viewer
        require_writer(viewer, "add sequences")
        if visibility not in VISIBILITIES:
            raise ValidationError(
                f"{visibility!r} is not one of {VISIBILITIES}", source=source, field="visibility"
            )
        owner = {
            "owner_id": viewer.user_id,
            "organisation_id": viewer.organisation_id,
            "visibility": visibility,
        }
        progress = progress or NullProgress()
        if kind == "genome" and strain is None:
            raise ValidationError("a genome must belong to a strain", source=source, field="strain")
        if kind == "part" and role is not None and role not in PART_ROLES:
            raise ValidationError(
                f"part role {role!r} is not one of {sorted(PART_ROLES)}",
                source=source,
                field="role",
            )
        names: dict[str, int] = {}
        for i, rec in enumerate(records):
            if rec.name in names and kind != "genome":
                raise ConflictError(
                    f"name repeated in the file (records {names[rec.name] + 1} and {i + 1})",
                    source=source,
                    record=rec.name,
                    field="name",
                )
            names[rec.name] = i
        duplicates: list[str] = []
        with self._tx() as s:
            strain_id = None
            if strain is not None:
                found = s.execute(
                    select(
                        Strain.id, Strain.owner_id, Strain.organisation_id, Strain.visibility
                    ).where(Strain.accession == strain, visible_or_true(viewer))
                ).first()
                if found is None:
                    raise ValidationError(
                        f"strain {strain!r} is not in the bank", source=source, field="strain"
                    )
                strain_id = found[0]
                require_edit(viewer, found[1], "add a genome to this strain")
                if kind == "genome":
                    owner = {
                        "owner_id": found[1],
                        "organisation_id": found[2],
                        "visibility": found[3],
                    }
            table = Plasmid if kind == "plasmid" else Part
            if kind != "genome":
                clash = s.scalars(select(table.name).where(table.name.in_(list(names)))).first()
                if clash is not None:
                    raise ConflictError(
                        f"a {kind} of this name is already in the bank",
                        source=source,
                        record=clash,
                        field="name",
                    )
            document = Document(
                filename=os.path.basename(source),
                format=kind,
                checksum="",
                remainder=remainder,
                imported_by=actor,
            )
            s.add(document)
            s.flush()
            document_id = document.id
            rows: list[SequenceRow] = []
            for i, rec in enumerate(records):
                try:
                    row = _sequence_row(rec, kind, strain_id=strain_id)
                except ValidationError as err:
                    raise err.located(source=source, record=rec.name) from err
                row.document_id = document.id
                for key, value in owner.items():
                    setattr(row, key, value)
                if s.scalars(
                    select(SequenceRow.name).where(SequenceRow.checksum == row.checksum)
                ).first():
                    duplicates.append(rec.name)
                s.add(row)
                s.flush()
                rows.append(row)
                if kind == "plasmid":
                    s.add(Plasmid(name=rec.name, sequence_id=row.id))
                elif kind == "part":
                    part_role = role or _role_of(rec)
                    s.add(
                        Part(
                            name=rec.name,
                            role=part_role,
                            so_term=PART_ROLES[part_role],
                            description=rec.description,
                            characterisation=dict(
                                rec.annotations.get("characterisation", {}) or {}
                            ),  # type: ignore[call-overload]
                            sequence_id=row.id,
                        )
                    )
                _append_history(
                    s,
                    {
                        "entity": kind,
                        "entity_id": row.id,
                        "version": 1,
                        "action": "create",
                        "actor": actor,
                        "changes": {"source": source, "checksum": row.checksum},
                    },
                )
                progress(i + 1, len(records))
            s.flush()
            self._index_new(s, rows)
        return ImportReport(
            source=source,
            sequences=len(records),
            duplicates=tuple(duplicates),
            document=document_id,
        )

    def add_part(self, part: PartRecord, *, actor: str, visibility: str = "public") -> PartView:
        """Store one standard part with its role and characterisation values."""
        record = SequenceRecord(
            name=part.name,
            sequence=part.sequence,
            description=part.description,
            annotations={"characterisation": dict(part.characterisation)},
        )
        self.import_sequences(
            [record], kind="part", actor=actor, role=part.role, visibility=visibility
        )
        return self.get_part(part.name)

    def get_part(self, name: str) -> PartView:
        """Return a part with its sequence."""
        with self._tx() as s:
            part = s.scalars(
                select(Part)
                .join(SequenceRow, SequenceRow.id == Part.sequence_id)
                .where(Part.name == name, visible_or_true(self.viewer, SequenceRow))
            ).first()
            if part is None:
                raise NotFoundError("part", name)
            seq = s.scalars(
                select(SequenceRow)
                .where(SequenceRow.id == part.sequence_id)
                .options(selectinload(SequenceRow.features))
            ).one()
            self._audit_sequence_read(s, seq)
            return PartView(
                part.name,
                part.role,
                part.so_term,
                part.description,
                dict(part.characterisation),
                _sequence_record(seq),
            )

    def get_sequence(self, kind: SequenceKind, name: str) -> SequenceRecord:
        """Return a stored plasmid, part or genome record by name."""
        with self._tx() as s:
            row = s.scalars(
                select(SequenceRow)
                .where(
                    SequenceRow.kind == kind,
                    SequenceRow.name == name,
                    visible_or_true(self.viewer, SequenceRow),
                )
                .options(selectinload(SequenceRow.features))
            ).first()
            if row is None:
                raise NotFoundError(kind, name)
            self._audit_sequence_read(s, row)
            return _sequence_record(row)

    def sequence_access(self, kind: SequenceKind, name: str) -> tuple[str, str | None]:
        """Return the visibility and owner of a stored sequence the viewer may see."""
        with self._tx() as s:
            row = s.execute(
                select(SequenceRow.visibility, User.username)
                .outerjoin(User, User.id == SequenceRow.owner_id)
                .where(
                    SequenceRow.kind == kind,
                    SequenceRow.name == name,
                    visible_or_true(self.viewer, SequenceRow),
                )
            ).first()
            if row is None:
                raise NotFoundError(kind, name)
            return row[0], row[1]

    def set_sequence_visibility(
        self, kind: SequenceKind, name: str, visibility: str, *, actor: str
    ) -> str:
        """Make a plasmid or part private, group-visible or public (genomes follow their strain)."""
        if kind == "genome":
            raise ValidationError(
                "a genome is as visible as its strain", record=name, field="visibility"
            )
        if visibility not in VISIBILITIES:
            raise ValidationError(
                f"{visibility!r} is not one of {VISIBILITIES}", record=name, field="visibility"
            )
        with self._tx() as s:
            row = s.scalars(
                select(SequenceRow).where(
                    SequenceRow.kind == kind,
                    SequenceRow.name == name,
                    visible_or_true(self.viewer, SequenceRow),
                )
            ).first()
            if row is None:
                raise NotFoundError(kind, name)
            require_edit(self.viewer, row.owner_id, f"change who sees this {kind}")
            if row.visibility != visibility:
                old, row.visibility = row.visibility, visibility
                row.version += 1
                _append_history(
                    s,
                    {
                        "entity": kind,
                        "entity_id": row.id,
                        "version": row.version,
                        "action": "visibility",
                        "actor": actor,
                        "changes": {"visibility": [old, visibility]},
                    },
                )
            return visibility

    def _audit_sequence_read(self, s: Session, row: SequenceRow) -> None:
        if row.visibility != "public":
            _append_history(
                s,
                {
                    "entity": row.kind,
                    "entity_id": row.id,
                    "version": row.version,
                    "action": "read",
                    "actor": self.viewer.username,
                    "changes": {"role": self.viewer.role},
                },
            )

    def list_sequences(
        self, kind: SequenceKind, *, text: str = "", limit: int = 100, offset: int = 0
    ) -> tuple[tuple[SequenceSummary, ...], int]:
        """List stored sequences of one kind, filtered by name, feature or description."""
        with self._tx() as s:
            stmt = select(SequenceRow).where(
                SequenceRow.kind == kind, visible_or_true(self.viewer, SequenceRow)
            )
            if text:
                like = f"%{text.lower()}%"
                feature_hit = select(FeatureRow.sequence_id).where(FeatureRow.label_key.like(like))
                stmt = stmt.where(
                    func.lower(SequenceRow.name).like(like)
                    | func.lower(SequenceRow.description).like(like)
                    | SequenceRow.id.in_(feature_hit)
                )
            total = int(s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())
            rows = s.scalars(
                stmt.order_by(SequenceRow.name)
                .limit(limit)
                .offset(offset)
                .options(selectinload(SequenceRow.features))
            ).all()
            roles: dict[int, str] = {}
            if kind == "part" and rows:
                roles = dict(
                    s.execute(
                        select(Part.sequence_id, Part.role).where(
                            Part.sequence_id.in_([r.id for r in rows])
                        )
                    ).all()
                )
            return tuple(_summary(r, roles.get(r.id)) for r in rows), total

    def export_sequences(
        self, kind: SequenceKind, names: Sequence[str] | None = None
    ) -> list[SequenceRecord]:
        """Return stored records of one kind (all if ``names`` is None), in name order."""
        with self._tx() as s:
            stmt = (
                select(SequenceRow)
                .where(SequenceRow.kind == kind, visible_or_true(self.viewer, SequenceRow))
                .order_by(SequenceRow.name)
                .options(selectinload(SequenceRow.features))
            )
            if names is not None:
                stmt = stmt.where(SequenceRow.name.in_(list(names)))
            rows = s.scalars(stmt).all()
            if names is not None:
                missing = set(names) - {r.name for r in rows}
                if missing:
                    raise NotFoundError(kind, sorted(missing)[0])
            for row in rows:
                self._audit_sequence_read(s, row)
            return [_sequence_record(r) for r in rows]

    def document_remainder(self, kind: SequenceKind, name: str) -> str:
        """Return what the bank kept unmodelled of the file a record came from (SBOL3 triples)."""
        with self._tx() as s:
            doc = s.scalars(
                select(Document.remainder)
                .join(SequenceRow, SequenceRow.document_id == Document.id)
                .where(
                    SequenceRow.kind == kind,
                    SequenceRow.name == name,
                    visible_or_true(self.viewer, SequenceRow),
                )
            ).first()
            return doc or ""

    def plasmid_usage(self, name: str) -> PlasmidUsage:
        """Return the strains that carry a plasmid and the plasmid's own samples."""
        with self._tx() as s:
            pid = s.scalars(
                select(Plasmid.id)
                .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                .where(Plasmid.name == name, visible_or_true(self.viewer, SequenceRow))
            ).first()
            if pid is None:
                raise NotFoundError("plasmid", name)
            rows = s.execute(
                summary_select(self.viewer)
                .join(StrainPlasmid, StrainPlasmid.strain_id == Strain.id)
                .where(StrainPlasmid.plasmid_id == pid, visible_or_true(self.viewer))
                .order_by(Strain.accession)
            ).all()
            return PlasmidUsage(
                name=name,
                strains=tuple(StrainSummary(*row[1:]) for row in rows),
                samples=_sample_views(s, Sample.plasmid_id == pid, owner=name),
            )

    def export_document(self, document_id: int) -> DocumentExport:
        """Return the records an import stored, in file order, with the kept remainder.

        For an SBOL3 file the remainder is the N-Triples of everything the bank
        does not model, so records + remainder rebuild the original document.
        A document holding any record the viewer may not see is not found.
        """
        with self._tx() as s:
            doc = s.get(Document, document_id)
            if doc is None:
                raise NotFoundError("document", str(document_id))
            rows = s.scalars(
                select(SequenceRow)
                .where(SequenceRow.document_id == document_id)
                .order_by(SequenceRow.id)
                .options(selectinload(SequenceRow.features))
            ).all()
            hidden_rows = s.scalars(
                select(SequenceRow.id).where(
                    SequenceRow.document_id == document_id,
                    policy_hidden(self.viewer, SequenceRow),
                )
            ).first()
            if hidden_rows is not None:
                raise NotFoundError("document", str(document_id))
            for row in rows:
                self._audit_sequence_read(s, row)
            return DocumentExport(
                id=doc.id,
                filename=doc.filename,
                format=doc.format,
                records=tuple(_sequence_record(r) for r in rows),
                remainder=doc.remainder,
            )

    def find_duplicates(self, record: SequenceRecord) -> tuple[SequenceSummary, ...]:
        """Return stored sequences identical to ``record`` (same SEGUID checksum)."""
        checksum = dataclasses.replace(record, sequence=validate_dna(record.sequence)).checksum
        with self._tx() as s:
            rows = s.scalars(
                select(SequenceRow)
                .where(SequenceRow.checksum == checksum, visible_or_true(self.viewer, SequenceRow))
                .options(selectinload(SequenceRow.features))
            ).all()
            return tuple(_summary(r) for r in rows)

    # -- similarity search ---------------------------------------------------------------------

    def _index(self, s: Session) -> Any:
        from cellfoundry.dna import similarity

        if self._similarity is None:
            index = similarity.KmerIndex()
            missing: list[SequenceRow] = []
            for sid, blob in s.execute(select(SequenceRow.id, SequenceRow.sketch)).all():
                if blob is None:
                    missing.append(s.get(SequenceRow, sid))  # type: ignore[arg-type]
                else:
                    index.add(sid, similarity.Sketch.from_bytes(blob))
            for row in missing:
                sk = similarity.sketch(row.residues, row.topology)  # type: ignore[arg-type]
                row.sketch = sk.to_bytes()
                index.add(row.id, sk)
            self._similarity = index
        return self._similarity

    def _index_new(self, s: Session, rows: Sequence[SequenceRow]) -> None:
        from cellfoundry.dna import similarity

        sketches = []
        for row in rows:
            sk = similarity.sketch(row.residues, row.topology)  # type: ignore[arg-type]
            row.sketch = sk.to_bytes()
            sketches.append((row.id, sk))
        if self._similarity is not None:
            index = self._similarity
            s.info.setdefault("after_commit", []).append(
                lambda: [index.add(key, sk) for key, sk in sketches]
            )

    def search_sequences(
        self,
        query: str,
        *,
        top: int = 10,
        kinds: Sequence[SequenceKind] = ("plasmid", "part", "genome"),
    ) -> tuple[SequenceHitView, ...]:
        """Find stored sequences similar to ``query`` (k-mer prefilter, then local alignment)."""
        from cellfoundry.dna import similarity

        query = validate_dna(query.strip(), record="query")
        viewer = self.viewer
        with self._tx() as s:
            index = self._index(s)
            meta: dict[int, tuple[str, str, int]] = {}

            def fetch(keys: Sequence[int]) -> dict[int, tuple[str, Any]]:
                rows = s.execute(
                    select(
                        SequenceRow.id,
                        SequenceRow.residues,
                        SequenceRow.topology,
                        SequenceRow.kind,
                        SequenceRow.name,
                        SequenceRow.length,
                    ).where(
                        SequenceRow.id.in_(list(keys)),
                        SequenceRow.kind.in_(list(kinds)),
                        visible_or_true(viewer, SequenceRow),
                    )
                ).all()
                out: dict[int, tuple[str, Any]] = {}
                for sid, residues, topology, kind, name, length in rows:
                    meta[sid] = (kind, name, length)
                    out[sid] = (residues, topology)
                return out

            hits = similarity.search(query, index, fetch, top=top)
            return tuple(
                SequenceHitView(
                    kind=meta[h.key][0],
                    name=meta[h.key][1],
                    length=meta[h.key][2],
                    score=h.score,
                    identity=h.identity,
                    strand=h.strand,
                    query_start=h.query_start,
                    query_end=h.query_end,
                    target_start=h.target_start,
                    target_end=h.target_end,
                    coverage=h.coverage,
                )
                for h in hits
                if h.key in meta
            )

    # -- physical stock ------------------------------------------------------------------------
