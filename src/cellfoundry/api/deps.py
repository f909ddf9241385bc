"""Dependencies of the API routes: the bank and who is acting.

The :class:`~cellfoundry.bank.services.Bank` is opened once by
:func:`cellfoundry.api.app.create_app` and kept on ``app.state.bank``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from cellfoundry.bank.services import Bank

__all__ = ["ActorDep", "BankDep", "get_actor", "get_bank"]

#: Who writes, when the client does not say (there are no user accounts yet).
DEFAULT_ACTOR = "web"


def get_bank(request: Request) -> Bank:
    """Return the bank the app was created with."""
    bank = request.app.state.bank
    assert isinstance(bank, Bank)
    return bank


def get_actor(
    x_cellfoundry_actor: Annotated[
        str | None,
        Header(description="Who is making the change; recorded in the history."),
    ] = None,
) -> str:
    """Return the name recorded in the history for writes of this request."""
    actor = (x_cellfoundry_actor or "").strip()
    return actor[:128] or DEFAULT_ACTOR


BankDep = Annotated[Bank, Depends(get_bank)]
ActorDep = Annotated[str, Depends(get_actor)]
