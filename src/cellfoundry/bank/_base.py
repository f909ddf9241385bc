"""The bank's connection and transaction handling, shared by its service mixins."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cellfoundry.bank.policy import SYSTEM, Viewer


class _Shared:
    """State shared by every viewer's handle on one bank (the similarity index cache)."""

    def __init__(self) -> None:
        self.similarity: Any = None


class BankBase:
    """Engine, session factory, the viewer and the similarity index cache of a :class:`Bank`.

    A bank opened directly acts for :data:`~cellfoundry.bank.policy.SYSTEM` (the
    command line). Interfaces serve people through :meth:`as_viewer`, whose reads
    and writes follow :mod:`cellfoundry.bank.policy`.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._shared = _Shared()
        self.viewer: Viewer = SYSTEM

    def as_viewer(self, viewer: Viewer) -> Self:
        """Return a handle on the same bank that acts for ``viewer``."""
        other = copy.copy(self)
        other.viewer = viewer
        return other

    @property
    def _similarity(self) -> Any:
        return self._shared.similarity

    @_similarity.setter
    def _similarity(self, value: Any) -> None:
        self._shared.similarity = value

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session
