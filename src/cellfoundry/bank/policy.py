"""Who may see and change what: the one policy the web pages, the API and the CLI share.

An entry (a strain, or a plasmid, part or genome sequence) has an owner, the
owner's organisation and a visibility:

``public``
    everyone sees it, signed in or not;
``group``
    the owner, the members of its organisation, curators and administrators;
``private``
    the owner, curators and administrators.

A patent deposit is made ``private`` when it is recorded (Budapest Treaty: its
existence is secret). Anyone else sees a non-public entry only through an
unrevoked :class:`~cellfoundry.bank.db.AccessGrant` to them or their
organisation (a release the depositor or a patent office authorised).

A hidden entry is indistinguishable from a missing one: it is not found, not
counted, not listed as a parent, child or carrier, and its name never appears.
The rules are written once, as SQL conditions (:func:`visible`, :func:`hidden`),
so a search, a count and a page apply exactly the same test.

Examples
--------
>>> member = Viewer("ana", "member", user_id=7, organisation_id=2)
>>> member.privileged, SYSTEM.privileged, ANONYMOUS.can_write
(False, True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    inspect,
    literal_column,
    not_,
    or_,
    select,
    true,
)

from cellfoundry.bank.db import AccessGrant, SequenceRow, Strain
from cellfoundry.core.errors import ForbiddenError

Visibility = Literal["private", "group", "public"]
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
#: Roles that see and manage every entry.
PRIVILEGED = frozenset({"administrator", "curator", "system"})
#: Roles that may create entries and request material.
WRITERS = frozenset({"administrator", "curator", "depositor", "member", "system"})


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person (or the platform itself) a bank call acts for."""

    username: str
    role: str
    user_id: int | None = None
    organisation_id: int | None = None

    @property
    def privileged(self) -> bool:
        """Curators, administrators and the platform see and manage everything."""
        return self.role in PRIVILEGED

    @property
    def can_write(self) -> bool:
        """Whether this viewer may create entries and file requests."""
        return self.role in WRITERS

    @property
    def signed_in(self) -> bool:
        """Whether this is a person with an account."""
        return self.user_id is not None


#: 'public' as an SQL literal, not a bound parameter: SQLite uses the partial index of
#: non-public entries only when the query repeats its WHERE term with the same constant.
_PUBLIC: ColumnElement[str] = literal_column("'public'")
_GROUP: ColumnElement[str] = literal_column("'group'")

#: The command line and internal jobs: a local operator with database access.
SYSTEM = Viewer("system", "system")
#: Someone not signed in.
ANONYMOUS = Viewer("anonymous", "anonymous")


def _grants(viewer: Viewer, column: Any) -> Any:
    """Ids of the entries granted to the viewer or their organisation (``column``: which)."""
    grantee = [AccessGrant.user_id == viewer.user_id]
    if viewer.organisation_id is not None:
        grantee.append(AccessGrant.organisation_id == viewer.organisation_id)
    return select(column).where(
        column.is_not(None), AccessGrant.revoked_at.is_(None), or_(*grantee)
    )


def visible(viewer: Viewer, table: Any = Strain) -> ColumnElement[bool] | None:
    """Return the SQL condition an entry of ``table`` (strains or sequences) must meet to be seen.

    ``None`` means no condition (the viewer sees everything).
    """
    if viewer.privileged:
        return None
    if not viewer.signed_in:
        return cast("ColumnElement[bool]", table.visibility == _PUBLIC)
    grant_col = AccessGrant.strain_id if _is_strains(table) else AccessGrant.sequence_id
    conds: list[ColumnElement[bool]] = [
        table.visibility == _PUBLIC,
        table.owner_id == viewer.user_id,
        table.id.in_(_grants(viewer, grant_col)),
    ]
    if viewer.organisation_id is not None:
        conds.append(
            and_(table.visibility == _GROUP, table.organisation_id == viewer.organisation_id)
        )
    return or_(*conds)


def hidden(viewer: Viewer, table: Any = Strain) -> ColumnElement[bool]:
    """Return the exact complement of :func:`visible`, safe with NULL owners.

    Searches subtract the facet counts of these entries from the summaries.
    """
    if viewer.privileged:
        return false()
    conds: list[ColumnElement[bool]] = [table.visibility != _PUBLIC]
    if viewer.signed_in:
        grant_col = AccessGrant.strain_id if _is_strains(table) else AccessGrant.sequence_id
        conds += [
            or_(table.owner_id.is_(None), table.owner_id != viewer.user_id),
            not_(table.id.in_(_grants(viewer, grant_col))),
        ]
        if viewer.organisation_id is not None:
            conds.append(
                or_(
                    table.visibility != _GROUP,
                    table.organisation_id.is_(None),
                    table.organisation_id != viewer.organisation_id,
                )
            )
    return and_(*conds)


def visible_or_true(viewer: Viewer, table: Any = Strain) -> ColumnElement[bool]:
    """:func:`visible` as a condition that is always usable in a WHERE clause."""
    cond = visible(viewer, table)
    return true() if cond is None else cond


def _is_strains(table: Any) -> bool:
    mapped = inspect(table).mapper.class_
    if mapped is Strain:
        return True
    if mapped is SequenceRow:
        return False
    raise TypeError(f"no visibility rule for {table!r}")


def can_edit(viewer: Viewer, owner_id: int | None) -> bool:
    """Whether the viewer may change an entry owned by ``owner_id``."""
    return viewer.privileged or (viewer.signed_in and owner_id == viewer.user_id)


def require_privileged(viewer: Viewer, action: str) -> None:
    """Refuse ``action`` unless the viewer is a curator, administrator or the platform."""
    if not viewer.privileged:
        raise ForbiddenError(f"only a curator or administrator may {action}")


def require_writer(viewer: Viewer, action: str) -> None:
    """Refuse ``action`` to guests and to anyone not signed in."""
    if not viewer.can_write:
        what = "guests" if viewer.signed_in else "visitors who are not signed in"
        raise ForbiddenError(f"{what} cannot {action}")


def require_edit(viewer: Viewer, owner_id: int | None, action: str) -> None:
    """Refuse ``action`` on an entry unless the viewer owns it or curates the bank."""
    if not can_edit(viewer, owner_id):
        raise ForbiddenError(f"only the owner or a curator may {action}")
