"""The bank's use cases: store, find, change and walk strains, sequences and stock.

:class:`Bank` is the one object interfaces talk to. Each method is one
transaction: it either stores everything it was given or nothing, and every
write appends a history event (who, when, what changed).

Examples
--------
>>> from cellfoundry.bank.models import StrainRecord
>>> bank = Bank.open("sqlite://")
>>> _ = bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12 MG1655"), actor="curator")
>>> bank.get_strain("CF-1").genus
'Escherichia'
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from alembic import command
from sqlalchemy import create_engine, event

from cellfoundry.bank._accounts import AccountsMixin
from cellfoundry.bank._campaigns import CampaignsMixin
from cellfoundry.bank._designs import DesignsMixin
from cellfoundry.bank._models import ModelsMixin
from cellfoundry.bank._requests import RequestsMixin
from cellfoundry.bank._rows import (
    SequenceKind,
    _alembic_config,
    _sqlite_pragmas,
    check_strain,
    default_url,
)
from cellfoundry.bank._sequences import SequencesMixin
from cellfoundry.bank._sharing import SharingMixin
from cellfoundry.bank._stock import StockMixin
from cellfoundry.bank._strains import StrainsMixin
from cellfoundry.bank.policy import require_privileged
from cellfoundry.bank.views import (
    ImportReport,
)
from cellfoundry.core.errors import ValidationError

if TYPE_CHECKING:
    from cellfoundry.bank.audit import AuditReport
from cellfoundry.core.progress import Progress

__all__ = ["Bank", "SequenceKind", "check_strain", "default_url", "read_and_import"]


class Bank(
    CampaignsMixin,
    DesignsMixin,
    StrainsMixin,
    SequencesMixin,
    StockMixin,
    AccountsMixin,
    RequestsMixin,
    SharingMixin,
    ModelsMixin,
):
    """The strain, plasmid and parts collection, on SQLite or PostgreSQL.

    Parameters
    ----------
    engine
        A SQLAlchemy engine; use :meth:`open` to make one from a URL.
    """

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True) -> Bank:
        """Connect to the bank at ``url`` (default :func:`default_url`), creating it if needed."""
        url = url or default_url()
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            if url in ("sqlite://", "sqlite:///:memory:"):
                from sqlalchemy.pool import StaticPool

                kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            else:
                kwargs = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        engine = create_engine(url, **kwargs)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        bank = cls(engine)
        if migrate:
            bank.migrate()
        return bank

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        cfg = _alembic_config()
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def backup(self, path: str | Path) -> Path:
        """Write an online backup of the bank to ``path`` (see :mod:`cellfoundry.bank.backup`)."""
        from cellfoundry.bank.backup import backup

        return backup(self.engine, path)

    @classmethod
    def restore(cls, url: str, path: str | Path) -> Bank:
        """Restore a backup into the empty database at ``url`` and open it."""
        from cellfoundry.bank.backup import restore

        bank = cls.open(url, migrate=False)
        try:
            restore(bank.engine, path)
            bank.migrate()
        except BaseException:
            bank.close()
            raise
        return bank

    def verify_audit(self) -> AuditReport:
        """Walk the history's hash chain; report every edited, deleted or reordered event."""
        from cellfoundry.bank.audit import verify_chain

        require_privileged(self.viewer, "verify the audit trail")
        with self._tx() as s:
            return verify_chain(s)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def read_and_import(
    bank: Bank,
    path: str | Path,
    *,
    kind: SequenceKind | Literal["strain"],
    actor: str,
    fmt: str | None = None,
    strain: str | None = None,
    role: str | None = None,
    progress: Progress | None = None,
    display_name: str | None = None,
    visibility: str = "public",
) -> ImportReport:
    """Read a file with :mod:`cellfoundry.bank.formats` and import it all-or-nothing.

    ``display_name`` is the name errors and the history give the file (an
    upload's original name rather than its temporary path).
    """
    try:
        return _read_and_import(
            bank,
            path,
            kind=kind,
            actor=actor,
            fmt=fmt,
            strain=strain,
            role=role,
            progress=progress,
            source=display_name or str(path),
            visibility=visibility,
        )
    except ValidationError as err:
        if display_name and err.source == str(path):
            err.renamed(display_name)
        raise


def _read_and_import(
    bank: Bank,
    path: str | Path,
    *,
    kind: SequenceKind | Literal["strain"],
    actor: str,
    fmt: str | None,
    strain: str | None,
    role: str | None,
    progress: Progress | None,
    source: str,
    visibility: str,
) -> ImportReport:
    from cellfoundry.bank import formats
    from cellfoundry.bank.formats import sbol3 as sbol3_format

    if kind == "strain":
        records = formats.read_catalogue(path)
        return bank.import_strains(
            records, actor=actor, source=source, progress=progress, visibility=visibility
        )
    fmt = fmt or formats.guess_format(path)
    remainder = ""
    if fmt.startswith("sbol3"):
        doc = sbol3_format.read_document(path)
        seqs, remainder = list(doc.records), doc.remainder
    else:
        seqs = formats.read(path, fmt)
    return bank.import_sequences(
        seqs,
        kind=kind,
        actor=actor,
        source=source,
        strain=strain,
        role=role,
        remainder=remainder,
        progress=progress,
        visibility=visibility,
    )
