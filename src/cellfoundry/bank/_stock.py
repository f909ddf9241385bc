"""Physical stock and deposits: boxes, samples, moves, viability, deposits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import (
    _append_history,
    _box,
    _check_free,
    _deposit_view,
    _get_or_add,
    _position,
    _sample_views,
    notify,
)
from cellfoundry.bank.db import (
    Box,
    Deposit,
    Freezer,
    Plasmid,
    Rack,
    Sample,
    SequenceRow,
    Site,
    Strain,
    User,
    ViabilityTest,
)
from cellfoundry.bank.models import (
    DEPOSIT_TYPES,
    PRESERVATION_METHODS,
)
from cellfoundry.bank.policy import require_privileged, visible_or_true
from cellfoundry.bank.views import (
    DepositView,
    SampleView,
)
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.text import text_problem


class StockMixin(BankBase):
    """Physical stock and deposits: boxes, samples, moves, viability, deposits."""

    def add_box(
        self,
        site: str,
        freezer: str,
        rack: str,
        box: str,
        *,
        rows: int = 9,
        columns: int = 9,
        temperature_c: float = -80.0,
    ) -> str:
        """Create (or reuse) a site, freezer and rack, and a new box in it; return its path."""
        require_privileged(self.viewer, "manage the stock")
        if rows < 1 or columns < 1 or rows > 26:
            raise ValidationError(
                f"a box of {rows}×{columns} positions is not possible", field="rows"
            )
        with self._tx() as s:
            site_row = _get_or_add(s, Site, name=site)
            freezer_row = _get_or_add(
                s,
                Freezer,
                site_id=site_row.id,
                name=freezer,
                defaults={"temperature_c": temperature_c},
            )
            rack_row = _get_or_add(s, Rack, freezer_id=freezer_row.id, name=rack)
            if s.scalars(select(Box).where(Box.rack_id == rack_row.id, Box.name == box)).first():
                raise ConflictError(
                    "box already exists", record=f"{site}/{freezer}/{rack}/{box}", field="box"
                )
            s.add(Box(rack_id=rack_row.id, name=box, rows=rows, columns=columns))
        return f"{site}/{freezer}/{rack}/{box}"

    def add_sample(
        self,
        label: str,
        *,
        box: str,
        position: str,
        preservation: str,
        vials: int = 1,
        strain: str | None = None,
        plasmid: str | None = None,
        prepared_on: dt.date | None = None,
        actor: str,
    ) -> SampleView:
        """Put vials of a strain (or plasmid) at a free box position, e.g. ``B7``."""
        require_privileged(self.viewer, "manage the stock")
        if (strain is None) == (plasmid is None):
            raise ValidationError(
                "a sample holds exactly one strain or one plasmid", record=label, field="strain"
            )
        if preservation not in PRESERVATION_METHODS:
            raise ValidationError(
                f"{preservation!r} is not one of {PRESERVATION_METHODS}",
                record=label,
                field="preservation",
            )
        if vials < 0:
            raise ValidationError("vial count cannot be negative", record=label, field="vials")
        with self._tx() as s:
            box_row = _box(s, box)
            row, col = _position(position, box_row, label)
            owner_id: dict[str, int] = {}
            if strain is not None:
                sid = s.scalars(select(Strain.id).where(Strain.accession == strain)).first()
                if sid is None:
                    raise NotFoundError("strain", strain)
                owner_id["strain_id"] = sid
            else:
                pid = s.scalars(select(Plasmid.id).where(Plasmid.name == plasmid)).first()
                if pid is None:
                    raise NotFoundError("plasmid", str(plasmid))
                owner_id["plasmid_id"] = pid
            _check_free(s, box_row, row, col, label, box, position)
            sample = Sample(
                label=label,
                box_id=box_row.id,
                row=row,
                column=col,
                preservation=preservation,
                vials=vials,
                prepared_on=prepared_on or dt.date.today(),
                **owner_id,
            )
            s.add(sample)
            try:
                s.flush()
            except IntegrityError as err:
                raise ConflictError(
                    "sample label or position already taken", record=label, field="position"
                ) from err
            _append_history(
                s,
                {
                    "entity": "sample",
                    "entity_id": sample.id,
                    "version": 1,
                    "action": "create",
                    "actor": actor,
                    "changes": {"box": box, "position": position, "vials": vials},
                },
            )
        return self.get_sample(label)

    def move_sample(self, label: str, *, box: str, position: str, actor: str) -> SampleView:
        """Move a sample to a free position (in the same or another box)."""
        require_privileged(self.viewer, "manage the stock")
        with self._tx() as s:
            sample = s.scalars(select(Sample).where(Sample.label == label)).first()
            if sample is None:
                raise NotFoundError("sample", label)
            box_row = _box(s, box)
            row, col = _position(position, box_row, label)
            _check_free(s, box_row, row, col, label, box, position)
            old = _sample_views(s, Sample.id == sample.id, owner="")[0].address
            sample.box_id, sample.row, sample.column = box_row.id, row, col
            sample.version += 1
            _append_history(
                s,
                {
                    "entity": "sample",
                    "entity_id": sample.id,
                    "version": sample.version,
                    "action": "move",
                    "actor": actor,
                    "changes": {"from": old, "to": f"{box}/{position}"},
                },
            )
        return self.get_sample(label)

    def record_viability(
        self,
        label: str,
        *,
        viable: bool,
        tested_on: dt.date,
        cfu_per_ml: float | None = None,
        note: str = "",
        actor: str,
    ) -> SampleView:
        """Record a viability test of a sample."""
        require_privileged(self.viewer, "record viability tests")
        with self._tx() as s:
            sample = s.scalars(select(Sample).where(Sample.label == label)).first()
            if sample is None:
                raise NotFoundError("sample", label)
            s.add(
                ViabilityTest(
                    sample_id=sample.id,
                    tested_on=tested_on,
                    viable=viable,
                    cfu_per_ml=cfu_per_ml,
                    note=note,
                )
            )
            _append_history(
                s,
                {
                    "entity": "sample",
                    "entity_id": sample.id,
                    "version": sample.version,
                    "action": "viability",
                    "actor": actor,
                    "changes": {"viable": viable, "tested_on": tested_on.isoformat()},
                },
            )
        return self.get_sample(label)

    def get_sample(self, label: str) -> SampleView:
        """Return a sample with its address and viability tests (if its material is visible)."""
        viewer = self.viewer
        where = Sample.label == label
        if not viewer.privileged:
            where = and_(
                where,
                or_(
                    Sample.strain_id.in_(select(Strain.id).where(visible_or_true(viewer))),
                    Sample.plasmid_id.in_(
                        select(Plasmid.id)
                        .join(SequenceRow, SequenceRow.id == Plasmid.sequence_id)
                        .where(visible_or_true(viewer, SequenceRow))
                    ),
                ),
            )
        with self._tx() as s:
            found = _sample_views(s, where, owner=None)
            if not found:
                raise NotFoundError("sample", label)
            return found[0]

    def box_map(self, box: str) -> dict[str, str]:
        """Return ``{position: sample label}`` for the occupied positions of a box."""
        require_privileged(self.viewer, "see the freezer boxes")
        with self._tx() as s:
            box_row = _box(s, box)
            return {
                f"{chr(64 + r)}{c}": lab
                for lab, r, c in s.execute(
                    select(Sample.label, Sample.row, Sample.column).where(
                        Sample.box_id == box_row.id
                    )
                ).all()
            }

    # -- deposits ------------------------------------------------------------------------------

    def deposit(
        self,
        accession: str,
        *,
        deposit_type: str,
        depositor: str,
        deposited_on: dt.date,
        depositor_statement: str = "",
        viability_statement: str = "",
        patent_reference: str = "",
        owner: str | None = None,
        actor: str,
    ) -> DepositView:
        """Record a public, safe or patent (Budapest Treaty) deposit of a strain.

        A patent deposit needs the depositor's written statement (Rule 6.1) and
        is released only under restriction; it must be kept for 30 years and 5
        years after the last request (Rule 9.1). Recording it makes the strain
        private (its existence is secret) and, with ``owner`` (the depositor's
        user name), gives the strain to the depositor, who is notified.
        """
        require_privileged(self.viewer, "record deposits")
        if deposit_type not in DEPOSIT_TYPES:
            raise ValidationError(
                f"{deposit_type!r} is not one of {DEPOSIT_TYPES}",
                record=accession,
                field="deposit_type",
            )
        if deposit_type == "patent" and not depositor_statement.strip():
            raise ValidationError(
                "a patent deposit needs the depositor's written statement "
                "(Budapest Treaty Rule 6.1)",
                record=accession,
                field="depositor_statement",
            )
        for key, value, limit in (
            ("depositor", depositor, 255),
            ("patent_reference", patent_reference, 128),
            ("depositor_statement", depositor_statement, None),
            ("viability_statement", viability_statement, None),
        ):
            problem = text_problem(value, limit)
            if problem:
                raise ValidationError(f"the {key} {problem}", record=accession, field=key)
        if deposited_on > dt.date.today():
            raise ValidationError(
                "the deposit date is in the future", record=accession, field="deposited_on"
            )
        with self._tx() as s:
            strain = s.scalars(select(Strain).where(Strain.accession == accession)).first()
            if strain is None:
                raise NotFoundError("strain", accession)
            if s.scalars(select(Deposit.id).where(Deposit.strain_id == strain.id)).first():
                raise ConflictError(
                    "strain is already deposited", record=accession, field="deposit_type"
                )
            dep = Deposit(
                strain_id=strain.id,
                deposit_type=deposit_type,
                depositor=depositor,
                deposited_on=deposited_on,
                depositor_statement=depositor_statement,
                viability_statement=viability_statement,
                patent_reference=patent_reference,
                restricted_release=deposit_type == "patent",
            )
            s.add(dep)
            strain.deposit_type = deposit_type
            strain.version += 1
            depositor_user = None
            if owner is not None:
                depositor_user = s.scalars(select(User).where(User.username == owner)).first()
                if depositor_user is None:
                    raise NotFoundError("user", owner)
                strain.owner_id = depositor_user.id
                strain.organisation_id = depositor_user.organisation_id
            if deposit_type == "patent":
                strain.status = "restricted"
                strain.visibility = "private"
                for genome in s.scalars(
                    select(SequenceRow).where(SequenceRow.strain_id == strain.id)
                ):
                    genome.visibility = "private"
            if depositor_user is not None:
                notify(
                    s,
                    depositor_user.id,
                    "deposit",
                    f"{deposit_type} deposit of {accession} recorded",
                    {"accession": accession, "deposit_type": deposit_type},
                )
            _append_history(
                s,
                {
                    "entity": "strain",
                    "entity_id": strain.id,
                    "version": strain.version,
                    "action": "deposit",
                    "actor": actor,
                    "changes": {
                        "deposit_type": deposit_type,
                        "depositor": depositor,
                        "deposited_on": deposited_on.isoformat(),
                    },
                },
            )
            s.flush()
            return _deposit_view(dep, accession)
