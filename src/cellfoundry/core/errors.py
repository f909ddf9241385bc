"""The exception tree of cellfoundry.

::

    CellfoundryError
    ├── ValidationError (ValueError)      a value breaks a rule; names record and field
    │   ├── InvalidSequenceError          a symbol outside the alphabet
    │   ├── FormatError                   a file cannot be read as the format it claims
    │   └── ConflictError                 the write collides with stored state
    │                                     (duplicate accession, occupied position)
    ├── NotFoundError (LookupError)       no such record
    └── ForbiddenError (PermissionError)  the user may not do this

Only ``cellfoundry.api.errors`` turns these into HTTP statuses.
"""

from __future__ import annotations


class CellfoundryError(Exception):
    """Base class for every error raised by cellfoundry."""


class ValidationError(CellfoundryError, ValueError):
    """A value breaks a rule of the domain.

    Parameters
    ----------
    message
        What went wrong and what to do about it.
    source
        The file (or other input) the value came from, if any.
    record
        The record within the source (accession, line number, id), if known.
    field
        The field that holds the bad value, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.record = record
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.source is not None:
            where.append(f"file {self.source!r}")
        if self.record is not None:
            where.append(f"record {self.record!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def renamed(self, source: str) -> None:
        """Name the input ``source`` instead (an upload's original file name)."""
        self.source = source
        self.args = (self._render(),)

    def located(self, *, source: str | None = None, record: str | None = None) -> ValidationError:
        """Return a copy of this error with the missing location parts filled in."""
        err = type(self).__new__(type(self))
        ValidationError.__init__(
            err,
            self.message,
            source=self.source or source,
            record=self.record or record,
            field=self.field,
        )
        return err


class InvalidSequenceError(ValidationError):
    """A sequence contains a symbol outside its alphabet."""

    def __init__(
        self, symbol: str, position: int, *, record: str | None = None, source: str | None = None
    ) -> None:
        self.symbol, self.position = symbol, position
        super().__init__(
            f"invalid base {symbol!r} at position {position}; use IUPAC DNA letters",
            source=source,
            record=record,
            field="sequence",
        )

    def located(
        self, *, source: str | None = None, record: str | None = None
    ) -> InvalidSequenceError:
        """Return a copy of this error with the missing location parts filled in."""
        return InvalidSequenceError(
            self.symbol,
            self.position,
            record=self.record or record,
            source=self.source or source,
        )


class FormatError(ValidationError):
    """A file cannot be read as the format it claims to be."""


class NotFoundError(CellfoundryError, LookupError):
    """No record has the requested key."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"no {kind} {key!r} in the bank")


class ForbiddenError(CellfoundryError, PermissionError):
    """The user's role or relation to the entry does not allow this action."""


class AuthenticationError(CellfoundryError, PermissionError):
    """The user name, password, token or session is wrong, expired, locked or inactive.

    The message never says which, so it cannot be used to probe for accounts.
    """

    def __init__(self, message: str = "wrong user name or password") -> None:
        super().__init__(message)


class ConflictError(ValidationError):
    """A write collides with stored state: a duplicate key, an occupied position.

    It is a :class:`ValidationError` so that it names file, record and field
    like every other refusal of bad input.
    """
