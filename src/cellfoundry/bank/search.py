"""Text and facet search over strains, in SQL that runs on SQLite and PostgreSQL.

Text goes through the full-text index the migrations create (FTS5 on SQLite, a
GIN-indexed ``tsvector`` on PostgreSQL), with prefix matching on every word.
Facets are counted over the filtered set in one grouped query each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session, aliased

from cellfoundry.bank.db import (
    FeatureRow,
    Plasmid,
    SequenceRow,
    Strain,
    StrainFacet,
    StrainPlasmid,
)
from cellfoundry.bank.policy import SYSTEM, Viewer, hidden, visible, visible_or_true
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


def _text_condition(session: Session, words: list[str]) -> ColumnElement[bool]:
    """Every word must match; the last one may be a prefix (search as you type).

    Whole earlier words keep the index lookups cheap: a prefix of a common word
    (``atcc:*``) would union many index entries where ``atcc`` needs one.
    """
    if session.get_bind().dialect.name == "sqlite":
        quoted = ['"' + w.replace('"', '""') + '"' for w in words]
        match = " ".join([*quoted[:-1], quoted[-1] + "*"])
        fts = text("SELECT rowid FROM strains_fts WHERE strains_fts MATCH :match").bindparams(
            match=match
        )
        return Strain.id.in_(fts.columns(literal_column("rowid")))
    pieces = [p for w in words for p in re.split(r"[^\w]+", w) if p]
    if not pieces:
        tsquery = "''"
    else:
        # a final prefix that completes to one index word is looked up as that word:
        # GIN intersects whole words far faster than it expands a prefix
        completions = _complete(session, pieces[-1])
        last = completions[0] if len(completions) == 1 else pieces[-1] + ":*"
        tsquery = " & ".join([*pieces[:-1], last])
    return literal_column("strains.search_vector").op("@@")(
        func.to_tsquery(literal_column("'simple'"), tsquery)
    )


def _conditions(session: Session, q: StrainQuery, viewer: Viewer) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    words = _WORD.findall(q.text.lower())
    if words:
        conds.append(_text_condition(session, words))
    if q.taxon:
        prefix = q.taxon.lower()
        if session.get_bind().dialect.name == "sqlite":
            conds.append(and_(Strain.taxon_key >= prefix, Strain.taxon_key < prefix + "\U0010ffff"))
        else:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conds.append(Strain.taxon_key.like(escaped + "%", escape="\\"))
    conds.extend(_facet_filters(q, Strain))
    if q.feature:
        label = q.feature.lower()
        on_genome = (
            select(SequenceRow.strain_id)
            .join(FeatureRow, FeatureRow.sequence_id == SequenceRow.id)
            .where(
                SequenceRow.strain_id.is_not(None),
                or_(FeatureRow.label_key == label, FeatureRow.gene_key == label),
            )
        )
        on_plasmid = (
            select(StrainPlasmid.strain_id)
            .join(Plasmid, Plasmid.id == StrainPlasmid.plasmid_id)
            .join(FeatureRow, FeatureRow.sequence_id == Plasmid.sequence_id)
            .where(or_(FeatureRow.label_key == label, FeatureRow.gene_key == label))
        )
        conds.append(or_(Strain.id.in_(on_genome), Strain.id.in_(on_plasmid)))
    if q.parent:
        parent = aliased(Strain)
        conds.append(
            Strain.parent_id.in_(
                select(parent.id).where(
                    parent.accession == q.parent, visible_or_true(viewer, parent)
                )
            )
        )
    return conds


def _facet_filters(q: StrainQuery, table: Any) -> list[ColumnElement[bool]]:
    """Facet conditions on ``strains`` or on a summary table (where '' means no deposit)."""
    conds: list[ColumnElement[bool]] = []
    if q.genus:
        conds.append(table.genus.in_(q.genus))
    if q.organism_type:
        conds.append(table.organism_type.in_(q.organism_type))
    if q.risk_group:
        conds.append(table.risk_group.in_(q.risk_group))
    if q.status:
        conds.append(table.status.in_(q.status))
    if q.deposit_type:
        wanted = [d for d in q.deposit_type if d != "none"]
        if table is not Strain:
            conds.append(
                table.deposit_type.in_(wanted + ([""] if "none" in q.deposit_type else []))
            )
        else:
            cond = table.deposit_type.in_(wanted)
            conds.append(
                or_(cond, table.deposit_type.is_(None)) if "none" in q.deposit_type else cond
            )
    return conds


def _tally(
    combos: list[tuple[str, str, int, str, str | None, int]],
) -> tuple[int, dict[str, tuple[FacetCount, ...]]]:
    total = 0
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for *values, n in combos:
        total += n
        for name, value in zip(FACETS, values, strict=True):
            key = "none" if value in (None, "") else str(value)
            counts[name][key] = counts[name].get(key, 0) + n
    facets = {
        name: tuple(
            FacetCount(v, c)
            for v, c in sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))[:12]
            if c > 0
        )
        for name in FACETS
    }
    return total, facets


#: PostgreSQL's word facet summary (migration 0003); not an ORM table, SQLite has none.
_WORD_FACETS = table(
    "strain_word_facets",
    column("word"),
    column("genus"),
    column("organism_type"),
    column("risk_group"),
    column("status"),
    column("deposit_type"),
    column("n"),
)


def _complete(session: Session, prefix: str) -> list[str]:
    """Return up to two index words starting with ``prefix`` (PostgreSQL's word summary).

    Two ordered index probes, so even a one-letter prefix costs microseconds.
    """
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    w = _WORD_FACETS.c
    found: list[str] = []
    for _ in range(2):
        stmt = select(w.word).where(w.word.like(escaped + "%", escape="\\"), w.n > 0)
        if found:
            stmt = stmt.where(w.word > found[-1])
        word = session.scalars(stmt.order_by(w.word).limit(1)).first()
        if word is None:
            break
        found.append(word)
    return found


#: PostgreSQL's species facet summary (migration 0004).
_SPECIES_FACETS = table(
    "strain_species_facets",
    column("species"),
    column("genus"),
    column("organism_type"),
    column("risk_group"),
    column("status"),
    column("deposit_type"),
    column("n"),
)


def _summarised_species(session: Session, q: StrainQuery) -> str | None:
    """Return the escaped LIKE prefix of a PostgreSQL taxon search answerable by species.

    A taxon prefix of at most two words picks the same strains from the species
    (the first two words of the taxon name) as from the full names.
    """
    if session.get_bind().dialect.name != "postgresql" or q.text.strip() or q.feature or q.parent:
        return None
    prefix = q.taxon.lower()
    if not prefix or prefix.count(" ") > 1:
        return None
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _summarised_word(session: Session, q: StrainQuery) -> str | None:
    """Return the one index word a PostgreSQL search stands for, if its counts can be read.

    That is a search by one word and facets only, whose final prefix completes to
    exactly one word of the index (so summing the word's counts is exact).
    """
    if session.get_bind().dialect.name != "postgresql" or q.taxon or q.feature or q.parent:
        return None
    pieces = [p for w in _WORD.findall(q.text.lower()) for p in re.split(r"[^\w]+", w) if p]
    if len(pieces) != 1:
        return None
    words = _complete(session, pieces[0])
    return words[0] if len(words) == 1 else None


#: The strains table again, for the subquery of hidden ids (not correlated with the outer one).
_HIDDEN = aliased(Strain, name="hidden_strains")

#: Below this many matches a page is cut from the materialised matches; above it the
#: planner walks the accession index and stops after one page.
SMALL_RESULT = 1000


def search_strains(session: Session, q: StrainQuery, viewer: Viewer = SYSTEM) -> StrainPage:
    """Run a strain search for ``viewer`` and return one page, the total and the facet counts.

    The total and facet counts come first: a search that filters by facets only
    reads them from the ``strain_facets`` summary; any other search groups the
    matching strains by their five facet values in one query. Knowing the total,
    the page of a small result is sorted from its materialised matches (so a rare
    word never makes the database walk the whole accession index), and the page of
    a large result is read in index order, stopping after one page.

    Counts from a summary cover every strain; for a viewer who may not see them
    all, the facet combinations of the strains hidden from them (found through
    the partial index of non-public strains) are subtracted, so the total and
    the facet counts count exactly the strains the viewer may see.
    """
    conds = _conditions(session, q, viewer)
    where = and_(*conds) if conds else None
    # "not one of the hidden ids": the hidden ids come from the partial index of non-public
    # strains, and every strain index holds the id, so pages and counts stay index-only
    vis = (
        None
        if viewer.privileged
        else Strain.id.not_in(select(_HIDDEN.id).where(hidden(viewer, _HIDDEN)))
    )
    facet_only = not (q.text.strip() or q.taxon or q.feature or q.parent)
    word = None if facet_only else _summarised_word(session, q)
    species = None if facet_only or word is not None else _summarised_species(session, q)
    if species is not None:
        sp = _SPECIES_FACETS.c
        combo_stmt = select(
            sp.genus, sp.organism_type, sp.risk_group, sp.status, sp.deposit_type, sp.n
        ).where(sp.species.like(species + "%", escape="\\"), sp.n > 0, *_facet_filters(q, sp))
    elif word is not None:
        w = _WORD_FACETS.c
        combo_stmt = select(
            w.genus, w.organism_type, w.risk_group, w.status, w.deposit_type, w.n
        ).where(w.word == word, w.n > 0, *_facet_filters(q, w))
    elif facet_only:
        combo_stmt = select(
            StrainFacet.genus,
            StrainFacet.organism_type,
            StrainFacet.risk_group,
            StrainFacet.status,
            StrainFacet.deposit_type,
            StrainFacet.n,
        ).where(StrainFacet.n > 0, *_facet_filters(q, StrainFacet))
    else:
        keys = (
            Strain.genus,
            Strain.organism_type,
            Strain.risk_group,
            Strain.status,
            Strain.deposit_type,
        )
        combo_stmt = select(*keys, func.count()).group_by(*keys)
        for cond in (where, vis):
            if cond is not None:
                combo_stmt = combo_stmt.where(cond)
    combos = [tuple(row) for row in session.execute(combo_stmt).all()]
    if vis is not None and (species is not None or word is not None or facet_only):
        combos = _subtract(combos, _hidden_combos(session, where, viewer))
    total, facets = _tally(combos)
    if vis is not None:
        where = vis if where is None else and_(where, vis)
    items = _page(session, q, where, total, viewer) if total > q.offset else ()
    return StrainPage(
        items=items,
        total=total,
        offset=q.offset,
        limit=q.limit,
        facets=facets if q.facets else {},
    )


def _hidden_combos(
    session: Session, where: ColumnElement[bool] | None, viewer: Viewer
) -> list[tuple[Any, ...]]:
    """Facet combinations of the matching strains hidden from ``viewer``."""
    keys = (
        Strain.genus,
        Strain.organism_type,
        Strain.risk_group,
        Strain.status,
        Strain.deposit_type,
    )
    group: tuple[Any, ...] = keys
    if session.get_bind().dialect.name == "sqlite":
        # "+genus" stops SQLite from walking the whole facet index for its GROUP BY order;
        # it scans the small partial index of hidden strains instead (10 ms, not 200)
        group = (literal_column("+strains.genus"), *keys[1:])
    stmt = select(*keys, func.count()).where(hidden(viewer)).group_by(*group)
    if where is not None:
        stmt = stmt.where(where)
    return [tuple(row) for row in session.execute(stmt).all()]


def _subtract(combos: list[tuple[Any, ...]], less: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Subtract counted facet combinations (no deposit is ``''`` in a summary, NULL in strains)."""
    if not less:
        return combos
    counts: dict[tuple[Any, ...], int] = {}
    for *key, n in combos:
        k = (*key[:4], key[4] or "")
        counts[k] = counts.get(k, 0) + int(n)
    for *key, n in less:
        k = (*key[:4], key[4] or "")
        counts[k] = counts.get(k, 0) - int(n)
    return [(*k, n) for k, n in counts.items() if n > 0]


def _page(
    session: Session,
    q: StrainQuery,
    where: ColumnElement[bool] | None,
    total: int,
    viewer: Viewer,
) -> tuple[StrainSummary, ...]:
    order_column = Strain.accession if q.order == "accession" else Strain.taxon_key
    if where is not None and total <= SMALL_RESULT:
        matches = (
            select(Strain.id, order_column.label("key"))
            .where(where)
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
        page = select(matches.c.id).order_by(matches.c.key)
    else:
        page = select(Strain.id).order_by(order_column)
        if where is not None:
            page = page.where(where)
    ids = list(session.scalars(page.limit(q.limit).offset(q.offset)))
    if not ids:
        return ()
    rows = session.execute(summary_select(viewer).where(Strain.id.in_(ids))).all()
    by_id = {row[0]: StrainSummary(*row[1:]) for row in rows}
    return tuple(by_id[i] for i in ids)


def summary_select(
    viewer: Viewer = SYSTEM,
) -> Select[int, str, str, str, int, str, str, str | None]:
    """Select strain id followed by the columns of a :class:`StrainSummary`.

    The parent's accession is left out (NULL) where the viewer may not see the parent.
    """
    parent = aliased(Strain)
    parent_vis = visible(viewer, parent)
    on = parent.id == Strain.parent_id
    return select(
        Strain.id,
        Strain.accession,
        Strain.taxon_name,
        Strain.organism_type,
        Strain.risk_group,
        Strain.status,
        parent.accession,
        Strain.deposit_type,
    ).outerjoin(parent, on if parent_vis is None else and_(on, parent_vis))
