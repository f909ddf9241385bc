"""Verification of the bank's audit chain (the ``history`` table, migration 0005).

Every history event stores its sequence number, its predecessor's hash and its
own SHA-256 (:func:`cellfoundry.bank._rows.event_hash`). :func:`verify_chain`
walks the chain in order and reports each event that was edited (its hash no
longer matches its content), deleted (a gap in the sequence) or reordered or
re-linked (its predecessor hash is not the previous event's hash).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cellfoundry.bank._rows import GENESIS_HASH, event_hash
from cellfoundry.bank.db import HistoryEvent
from cellfoundry.bank.views import _View

__all__ = ["AuditProblem", "AuditReport", "verify_chain"]

ProblemKind = Literal["edited", "deleted", "relinked"]


@dataclass(frozen=True, slots=True)
class AuditProblem(_View):
    """One break in the chain, at sequence number ``seq``."""

    seq: int
    kind: ProblemKind
    detail: str


@dataclass(frozen=True, slots=True)
class AuditReport(_View):
    """The result of walking the whole chain."""

    events: int
    head: str
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        """True when no event was edited, deleted or reordered."""
        return not self.problems


def _events(s: Session) -> Iterator[HistoryEvent]:
    yield from s.scalars(
        select(HistoryEvent).order_by(HistoryEvent.seq).execution_options(yield_per=5000)
    )


def verify_chain(s: Session) -> AuditReport:
    """Walk the history in sequence order and report every break of the hash chain."""
    problems: list[AuditProblem] = []
    prev_seq, prev_hash, count = 0, GENESIS_HASH, 0
    for row in _events(s):
        count += 1
        if row.seq != prev_seq + 1:
            problems.append(
                AuditProblem(
                    row.seq, "deleted", f"events {prev_seq + 1}..{row.seq - 1} are missing"
                )
            )
        if row.prev_hash != prev_hash:
            problems.append(
                AuditProblem(
                    row.seq,
                    "relinked",
                    "the event does not follow the previous event's hash "
                    "(events were reordered, removed or inserted)",
                )
            )
        content = {
            "seq": row.seq,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "version": row.version,
            "action": row.action,
            "actor": row.actor,
            "at": row.at,
            "changes": row.changes,
        }
        if event_hash(row.prev_hash, content) != row.hash:
            problems.append(
                AuditProblem(
                    row.seq,
                    "edited",
                    f"{row.entity} {row.entity_id} v{row.version} {row.action}: "
                    "the content does not match its hash",
                )
            )
        prev_seq, prev_hash = row.seq, row.hash
    return AuditReport(events=count, head=prev_hash, problems=tuple(problems))
