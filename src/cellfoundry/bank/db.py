"""The bank's tables (SQLAlchemy 2 ORM), for SQLite and PostgreSQL alike.

The schema is created and changed only by the Alembic migrations in
``cellfoundry/bank/migrations``; these classes describe it for queries. Text
search uses SQLite FTS5 or a PostgreSQL ``tsvector`` column with a GIN index;
both are created by the migrations (see :mod:`cellfoundry.bank.search`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    """Return the current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


_FACET_KEY = ("genus", "organism_type", "risk_group", "status", "deposit_type")


def _entry_indexes(table: str, *extra: str) -> tuple[Index, Index]:
    """Return the owner index and the partial index of non-public entries (migration 0008).

    The partial index covers what a search needs of a hidden entry (for strains the facet
    columns too), so subtracting the hidden ones never reads the table.
    """
    hidden = text("visibility <> 'public'")
    return (
        Index(f"ix_{table}_owner_id", "owner_id"),
        Index(
            f"ix_{table}_hidden",
            "id",
            "visibility",
            "organisation_id",
            "owner_id",
            *extra,
            sqlite_where=hidden,
            postgresql_where=hidden,
        ),
    )


class Base(DeclarativeBase):
    """Declarative base of every bank table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Strain(Base):
    """A strain of the collection, with the MIRRI-IS / WFCC catalogue fields."""

    __tablename__ = "strains"
    __table_args__ = (
        CheckConstraint("risk_group BETWEEN 1 AND 4", name="ck_strains_risk_group"),
        Index("ix_strains_taxon_key", "taxon_key"),
        Index("ix_strains_genus", "genus"),
        Index("ix_strains_risk_status", "risk_group", "status"),
        Index("ix_strains_status", "status"),
        # covering indexes for search (migration 0002)
        Index("ix_strains_cover_facets", *_FACET_KEY, "accession"),
        Index(
            "ix_strains_cover_taxon",
            "taxon_key",
            *_FACET_KEY,
            "accession",
            postgresql_ops={"taxon_key": "text_pattern_ops"},
        ),
        Index("ix_strains_cover_id", "id", *_FACET_KEY, "accession"),
        *_entry_indexes("strains", *_FACET_KEY),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accession: Mapped[str] = mapped_column(String(64), unique=True)
    taxon_name: Mapped[str] = mapped_column(String(255))
    taxon_key: Mapped[str] = mapped_column(String(255), default="")  # lower-case, for prefixes
    genus: Mapped[str] = mapped_column(String(128), default="")
    ncbi_taxid: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    organism_type: Mapped[str] = mapped_column(String(32))
    risk_group: Mapped[int] = mapped_column(Integer)
    type_strain: Mapped[bool] = mapped_column(Boolean, default=False)
    isolation_source: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str] = mapped_column(String(64), default="")
    locality: Mapped[str] = mapped_column(String(255), default="")
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    growth_medium: Mapped[str] = mapped_column(String(255), default="")
    growth_temperature_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    atmosphere: Mapped[str | None] = mapped_column(String(32), nullable=True)
    supply_forms: Mapped[str] = mapped_column(String(128), default="")
    restrictions: Mapped[str] = mapped_column(Text, default="")
    nagoya: Mapped[str] = mapped_column(String(64), default="unknown")
    genotype: Mapped[str] = mapped_column(Text, default="")
    history: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="available")
    remarks: Mapped[str] = mapped_column(Text, default="")
    other_numbers: Mapped[str] = mapped_column(Text, default="")  # other collections', for search
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("strains.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    deposit_type: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    # who may see it (migration 0008): the owner, the owner's organisation, everyone
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True
    )
    visibility: Mapped[str] = mapped_column(String(8), default="public", server_default="public")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    modifications: Mapped[list[Modification]] = relationship(
        back_populates="strain", order_by="Modification.position", cascade="all, delete-orphan"
    )
    other_accessions: Mapped[list[OtherAccession]] = relationship(
        back_populates="strain", cascade="all, delete-orphan"
    )


class StrainFacet(Base):
    """How many strains have one combination of facet values (kept by triggers, migration 0002)."""

    __tablename__ = "strain_facets"

    genus: Mapped[str] = mapped_column(String(128), primary_key=True)
    organism_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    risk_group: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    deposit_type: Mapped[str] = mapped_column(String(16), primary_key=True)  # '' = none
    n: Mapped[int] = mapped_column(Integer)


class OtherAccession(Base):
    """A number of the same strain in another collection (e.g. ``ATCC 47076``)."""

    __tablename__ = "strain_other_accessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strain_id: Mapped[int] = mapped_column(ForeignKey("strains.id", ondelete="CASCADE"), index=True)
    accession: Mapped[str] = mapped_column(String(64), index=True)
    strain: Mapped[Strain] = relationship(back_populates="other_accessions")


class Modification(Base):
    """A genetic change that made this strain from its parent."""

    __tablename__ = "modifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strain_id: Mapped[int] = mapped_column(ForeignKey("strains.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    strain: Mapped[Strain] = relationship(back_populates="modifications")


class SequenceRow(Base):
    """A stored DNA sequence: a plasmid, a part or a genome replicon."""

    __tablename__ = "sequences"
    __table_args__ = (
        Index("ix_sequences_kind_name", "kind", "name"),
        Index("ix_sequences_checksum", "checksum"),
        *_entry_indexes("sequences"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # plasmid | part | genome
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    accession: Mapped[str] = mapped_column(String(64), default="")
    topology: Mapped[str] = mapped_column(String(16), default="linear")
    molecule_type: Mapped[str] = mapped_column(String(16), default="DNA")
    length: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))
    residues: Mapped[str] = mapped_column(Text)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sketch: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    strain_id: Mapped[int | None] = mapped_column(
        ForeignKey("strains.id", ondelete="CASCADE"), nullable=True, index=True
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), nullable=True
    )
    # who may see it (migration 0008): the owner, the owner's organisation, everyone
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True
    )
    visibility: Mapped[str] = mapped_column(String(8), default="public", server_default="public")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    features: Mapped[list[FeatureRow]] = relationship(
        back_populates="sequence", order_by="FeatureRow.position", cascade="all, delete-orphan"
    )


class FeatureRow(Base):
    """An annotated feature of a stored sequence."""

    __tablename__ = "features"
    __table_args__ = (
        Index("ix_features_label_key", "label_key"),
        Index("ix_features_gene_key", "gene_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sequence_id: Mapped[int] = mapped_column(
        ForeignKey("sequences.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(255))
    label_key: Mapped[str] = mapped_column(String(255))  # lower-case label, for search
    gene_key: Mapped[str] = mapped_column(String(255), default="")  # lower-case gene or locus tag
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    strand: Mapped[int] = mapped_column(Integer)
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    qualifiers: Mapped[list[Any]] = mapped_column(JSON)
    sequence: Mapped[SequenceRow] = relationship(back_populates="features")


class Part(Base):
    """A standard biological part: a sequence with a role and characterisation values."""

    __tablename__ = "parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[str] = mapped_column(String(32), index=True)
    so_term: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    characterisation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"))
    sequence: Mapped[SequenceRow] = relationship()


class Plasmid(Base):
    """A plasmid of the collection."""

    __tablename__ = "plasmids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    backbone: Mapped[str] = mapped_column(String(255), default="")
    resistance: Mapped[str] = mapped_column(String(128), default="")
    sequence_id: Mapped[int] = mapped_column(ForeignKey("sequences.id", ondelete="CASCADE"))
    sequence: Mapped[SequenceRow] = relationship()


class StrainPlasmid(Base):
    """A plasmid carried by a strain."""

    __tablename__ = "strain_plasmids"

    strain_id: Mapped[int] = mapped_column(
        ForeignKey("strains.id", ondelete="CASCADE"), primary_key=True
    )
    plasmid_id: Mapped[int] = mapped_column(
        ForeignKey("plasmids.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class Document(Base):
    """An imported file's provenance, and what of it the bank does not model (SBOL3)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(512))
    format: Mapped[str] = mapped_column(String(32))
    checksum: Mapped[str] = mapped_column(String(64))
    remainder: Mapped[str] = mapped_column(Text, default="")
    imported_by: Mapped[str] = mapped_column(String(128))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Site(Base):
    """A building or campus that holds freezers."""

    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)


class Freezer(Base):
    """A freezer, dewar or cabinet at a site."""

    __tablename__ = "freezers"
    __table_args__ = (UniqueConstraint("site_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(128))
    temperature_c: Mapped[float] = mapped_column(Float, default=-80.0)


class Rack(Base):
    """A rack in a freezer."""

    __tablename__ = "racks"
    __table_args__ = (UniqueConstraint("freezer_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    freezer_id: Mapped[int] = mapped_column(ForeignKey("freezers.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(128))


class Box(Base):
    """A box of ``rows`` × ``columns`` positions in a rack."""

    __tablename__ = "boxes"
    __table_args__ = (UniqueConstraint("rack_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rack_id: Mapped[int] = mapped_column(ForeignKey("racks.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(128))
    rows: Mapped[int] = mapped_column(Integer, default=9)
    columns: Mapped[int] = mapped_column(Integer, default=9)


class Sample(Base):
    """Vials of one strain (or plasmid) preserved one way, at one box position.

    The unique constraint on (box, row, column) makes it impossible for two
    samples to share a position, whatever the application does.
    """

    __tablename__ = "samples"
    __table_args__ = (
        UniqueConstraint("box_id", "row", "column", name="uq_samples_position"),
        CheckConstraint("vials >= 0", name="ck_samples_vials"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(128), unique=True)
    strain_id: Mapped[int | None] = mapped_column(
        ForeignKey("strains.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    plasmid_id: Mapped[int | None] = mapped_column(
        ForeignKey("plasmids.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    box_id: Mapped[int] = mapped_column(ForeignKey("boxes.id", ondelete="RESTRICT"))
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[int] = mapped_column(Integer)
    preservation: Mapped[str] = mapped_column(String(32))
    vials: Mapped[int] = mapped_column(Integer, default=1)
    prepared_on: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ViabilityTest(Base):
    """A viability check of a sample (colony count after revival)."""

    __tablename__ = "viability_tests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id", ondelete="CASCADE"), index=True)
    tested_on: Mapped[dt.date] = mapped_column(Date)
    viable: Mapped[bool] = mapped_column(Boolean)
    cfu_per_ml: Mapped[float | None] = mapped_column(Float, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Deposit(Base):
    """A deposit of a strain: public, safe, or patent under the Budapest Treaty."""

    __tablename__ = "deposits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strain_id: Mapped[int] = mapped_column(
        ForeignKey("strains.id", ondelete="RESTRICT"), unique=True
    )
    deposit_type: Mapped[str] = mapped_column(String(16))
    depositor: Mapped[str] = mapped_column(String(255))
    deposited_on: Mapped[dt.date] = mapped_column(Date)
    depositor_statement: Mapped[str] = mapped_column(Text, default="")
    viability_statement: Mapped[str] = mapped_column(Text, default="")
    patent_reference: Mapped[str] = mapped_column(String(128), default="")
    last_request_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    restricted_release: Mapped[bool] = mapped_column(Boolean, default=False)


class HistoryEvent(Base):
    """One versioned write: who changed which entry when, and what changed."""

    __tablename__ = "history"
    __table_args__ = (
        Index("ix_history_entity", "entity", "entity_id"),
        UniqueConstraint("seq", name="uq_history_seq"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the audit chain (migration 0005): position, predecessor's hash, own hash
    seq: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Organisation(Base):
    """An organisation (institute, company) whose members share group-visible entries."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class User(Base):
    """An account: a person or a script, with one role."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LoginFailure(Base):
    """A failed login, kept to rate-limit guessing (never the password tried)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_user_at", "username", "at"),
        Index("ix_login_failures_client_at", "client", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="", server_default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MaterialRequest(Base):
    """A request for a strain or plasmid, from request through decision to shipment."""

    __tablename__ = "material_requests"
    __table_args__ = (
        CheckConstraint("vials > 0", name="ck_material_requests_vials"),
        CheckConstraint("fee_cents >= 0", name="ck_material_requests_fee"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    strain_id: Mapped[int | None] = mapped_column(
        ForeignKey("strains.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    plasmid_id: Mapped[int | None] = mapped_column(
        ForeignKey("plasmids.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    purpose: Mapped[str] = mapped_column(Text, default="")
    vials: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    licence: Mapped[str | None] = mapped_column(String(32), nullable=True)
    fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    sample_id: Mapped[int | None] = mapped_column(
        ForeignKey("samples.id", ondelete="RESTRICT"), nullable=True
    )
    shipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class AccessGrant(Base):
    """A release of a restricted entry to a user or organisation, and on what basis.

    For a patent deposit the basis is the depositor's authorisation or a patent
    office's certification (Budapest Treaty Rule 11); the depositor is notified.
    """

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint(
            "(strain_id IS NULL) <> (sequence_id IS NULL)", name="ck_access_grants_entry"
        ),
        CheckConstraint(
            "(user_id IS NULL) <> (organisation_id IS NULL)", name="ck_access_grants_grantee"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strain_id: Mapped[int | None] = mapped_column(
        ForeignKey("strains.id", ondelete="CASCADE"), nullable=True, index=True
    )
    sequence_id: Mapped[int | None] = mapped_column(
        ForeignKey("sequences.id", ondelete="CASCADE"), nullable=True, index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    basis: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(255), default="", server_default="")
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Notification(Base):
    """A message to a user's inbox (a release of their deposit, a decision on a request)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user", "user_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A signed-in browser; only the SHA-256 of the cookie's value is stored."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class MetabolicModel(Base):
    """A genome-scale metabolic model as uploaded (migration 0009): the file and its summary.

    The file itself is kept (``content``), so the model is compiled again from exactly what
    was uploaded; the counts and the objective are read when it is stored. Visibility has the
    strains' meaning (:mod:`cellfoundry.bank.policy`).
    """

    __tablename__ = "metabolic_models"
    __table_args__ = (
        CheckConstraint(
            "visibility IN ('private', 'group', 'public')", name="ck_metabolic_models_visibility"
        ),
        CheckConstraint(
            "format IN ('sbml', 'json', 'mat', 'yml')", name="ck_metabolic_models_format"
        ),
        Index("ix_metabolic_models_owner_id", "owner_id"),
        Index("ix_metabolic_models_sha256", "sha256"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    reactions: Mapped[int] = mapped_column(Integer)
    metabolites: Mapped[int] = mapped_column(Integer)
    genes: Mapped[int] = mapped_column(Integer)
    objective: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), nullable=True
    )
    visibility: Mapped[str] = mapped_column(String(8), default="public", server_default="public")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StrainModel(Base):
    """The genome-scale model of a strain (a chassis links to at most one)."""

    __tablename__ = "strain_models"
    strain_id: Mapped[int] = mapped_column(
        ForeignKey("strains.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[int] = mapped_column(
        ForeignKey("metabolic_models.id", ondelete="CASCADE"), index=True
    )
    linked_by: Mapped[str] = mapped_column(String(128))
    linked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StrainDesignRow(Base):
    """The metabolic design a planned strain was made from (migration 0010), as JSON."""

    __tablename__ = "strain_designs"
    strain_id: Mapped[int] = mapped_column(
        ForeignKey("strains.id", ondelete="CASCADE"), primary_key=True
    )
    method: Mapped[str] = mapped_column(String(16))
    product: Mapped[str] = mapped_column(String(128), index=True)
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("metabolic_models.id", ondelete="SET NULL"), nullable=True
    )
    design: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EditingPlanRow(Base):
    """How a planned strain is to be built (migration 0011): plan JSON, GenBank and SBOL3."""

    __tablename__ = "editing_plans"
    strain_id: Mapped[int] = mapped_column(
        ForeignKey("strains.id", ondelete="CASCADE"), primary_key=True
    )
    chassis: Mapped[str] = mapped_column(String(64))
    plan: Mapped[str] = mapped_column(Text)
    genbank: Mapped[str] = mapped_column(Text)
    sbol3: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignRow(Base):
    """A DBTL campaign (migration 0012): goal and design space as JSON, on a chassis strain."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    chassis_id: Mapped[int] = mapped_column(ForeignKey("strains.id", ondelete="RESTRICT"))
    goal: Mapped[str] = mapped_column(Text)
    design_space: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignCycleRow(Base):
    """One Design-Build-Test-Learn cycle of a campaign: worklists, model, recommendations."""

    __tablename__ = "campaign_cycles"
    __table_args__ = (UniqueConstraint("campaign_id", "number", name="uq_campaign_cycles_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    worklists: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    recommendations: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignStrainRow(Base):
    """A strain built in a cycle: the design it realises and what was measured on it."""

    __tablename__ = "campaign_strains"
    __table_args__ = (Index("ix_campaign_strains_cycle", "cycle_id"),)
    strain_id: Mapped[int] = mapped_column(
        ForeignKey("strains.id", ondelete="CASCADE"), primary_key=True
    )
    cycle_id: Mapped[int] = mapped_column(ForeignKey("campaign_cycles.id", ondelete="CASCADE"))
    design: Mapped[str] = mapped_column(Text)
    measurements: Mapped[str] = mapped_column(Text)


class Job(Base):
    """A long computation (a flux analysis, a deletion screen) and its result.

    ``params`` and ``result`` are JSON text (a genome-wide screen's result is large);
    ``runner`` names the process running it (``host:pid``) and ``heartbeat_at`` says when
    that process last showed it was alive, so a job whose process died is found on restart.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
            name="ck_jobs_status",
        ),
        Index("ix_jobs_owner_created", "owner_id", "created_at"),
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_model_id", "model_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    model_id: Mapped[int | None] = mapped_column(
        ForeignKey("metabolic_models.id", ondelete="SET NULL"), nullable=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    runner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
