"""Progress reporting through a callback, never through a UI import."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress of a long operation: ``done`` of ``total`` units."""

    def __call__(self, done: int, total: int, /) -> None:
        """Report that ``done`` of ``total`` units are finished."""


class NullProgress:
    """A progress callback that ignores every report."""

    def __call__(self, done: int, total: int, /) -> None:
        """Ignore the report."""
