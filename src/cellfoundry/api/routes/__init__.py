"""The API's routers, one per area of the bank."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from cellfoundry.api.deps import check_text
from cellfoundry.api.routes import requests, sequences, sharing, stock, strains

__all__ = ["api_router"]

api_router = APIRouter(dependencies=[Depends(check_text)])
api_router.include_router(strains.router)
api_router.include_router(sequences.router)
api_router.include_router(stock.router)
api_router.include_router(requests.router)
api_router.include_router(sharing.router)
