"""Text and facet search over strains, in SQL that runs on SQLite and PostgreSQL.

Text goes through the full-text index the migrations create (FTS5 on SQLite, a
GIN-indexed ``tsvector`` on PostgreSQL), with prefix matching on every word.
Facets are counted over the filtered set in one grouped query each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, text
from sqlalchemy.orm import Session, aliased

from cellfoundry.bank.db import (
    FeatureRow,
    OtherAccession,
    Plasmid,
    SequenceRow,
    Strain,
    StrainPlasmid,
)
from cellfoundry.bank.views import FacetCount, StrainPage, StrainSummary

FACETS = ("genus", "organism_type", "risk_group", "status", "deposit_type")
_WORD = re.compile(r"[\w.\-]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class StrainQuery:
    """A strain search: free text plus facet filters; empty fields do not filter."""

    text: str = ""
    taxon: str = ""
    genus: tuple[str, ...] = ()
    organism_type: tuple[str, ...] = ()
    risk_group: tuple[int, ...] = ()
    status: tuple[str, ...] = ()
    deposit_type: tuple[str, ...] = ()
    feature: str = ""
    parent: str = ""
    limit: int = 25
    offset: int = 0
    facets: bool = True
    order: str = "accession"
    extra: dict[str, str] = field(default_factory=dict)


def _text_condition(session: Session, words: list[str]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
        fts = text("SELECT rowid FROM strains_fts WHERE strains_fts MATCH :match").bindparams(
            match=match
        )
        return Strain.id.in_(fts.columns(literal_column("rowid")))
    tsquery = " & ".join(re.sub(r"[^\w]", "", w) + ":*" for w in words if re.sub(r"[^\w]", "", w))
    return literal_column("strains.search_vector").op("@@")(
        func.to_tsquery(literal_column("'simple'"), tsquery)
    )


def _conditions(session: Session, q: StrainQuery) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    words = _WORD.findall(q.text.lower())
    if words:
        other = select(OtherAccession.strain_id).where(
            func.lower(OtherAccession.accession) == q.text.strip().lower()
        )
        conds.append(or_(_text_condition(session, words), Strain.id.in_(other)))
    if q.taxon:
        conds.append(func.lower(Strain.taxon_name).like(q.taxon.lower().replace("%", "") + "%"))
    if q.genus:
        conds.append(Strain.genus.in_(q.genus))
    if q.organism_type:
        conds.append(Strain.organism_type.in_(q.organism_type))
    if q.risk_group:
        conds.append(Strain.risk_group.in_(q.risk_group))
    if q.status:
        conds.append(Strain.status.in_(q.status))
    if q.deposit_type:
        wanted = [d for d in q.deposit_type if d != "none"]
        cond = Strain.deposit_type.in_(wanted)
        conds.append(or_(cond, Strain.deposit_type.is_(None)) if "none" in q.deposit_type else cond)
    if q.feature:
        label = q.feature.lower()
        on_genome = (
            select(SequenceRow.strain_id)
            .join(FeatureRow, FeatureRow.sequence_id == SequenceRow.id)
            .where(SequenceRow.strain_id.is_not(None), func.lower(FeatureRow.label) == label)
        )
        on_plasmid = (
            select(StrainPlasmid.strain_id)
            .join(Plasmid, Plasmid.id == StrainPlasmid.plasmid_id)
            .join(FeatureRow, FeatureRow.sequence_id == Plasmid.sequence_id)
            .where(func.lower(FeatureRow.label) == label)
        )
        conds.append(or_(Strain.id.in_(on_genome), Strain.id.in_(on_plasmid)))
    if q.parent:
        parent = aliased(Strain)
        conds.append(Strain.parent_id.in_(select(parent.id).where(parent.accession == q.parent)))
    return conds


def search_strains(session: Session, q: StrainQuery) -> StrainPage:
    """Run a strain search and return one page, the total and the facet counts."""
    conds = _conditions(session, q)
    where = and_(*conds) if conds else None
    parent = aliased(Strain)
    stmt = (
        select(
            Strain.accession,
            Strain.taxon_name,
            Strain.organism_type,
            Strain.risk_group,
            Strain.status,
            parent.accession,
            Strain.deposit_type,
        )
        .outerjoin(parent, parent.id == Strain.parent_id)
        .order_by(Strain.accession if q.order == "accession" else Strain.taxon_name)
        .limit(q.limit)
        .offset(q.offset)
    )
    count_stmt = select(func.count()).select_from(Strain)
    if where is not None:
        stmt = stmt.where(where)
        count_stmt = count_stmt.where(where)
    items = tuple(StrainSummary(*row) for row in session.execute(stmt).tuples().all())
    total = session.execute(count_stmt).scalar_one()
    facets: dict[str, tuple[FacetCount, ...]] = {}
    if q.facets:
        for name in FACETS:
            column = getattr(Strain, name)
            fstmt = select(column, func.count()).group_by(column).order_by(func.count().desc())
            if where is not None:
                fstmt = fstmt.where(where)
            facets[name] = tuple(
                FacetCount("none" if value is None else str(value), n)
                for value, n in session.execute(fstmt.limit(12))
            )
    return StrainPage(items=items, total=total, offset=q.offset, limit=q.limit, facets=facets)
