"""The composition root: the one place where the bank is opened and the app is wired.

``create_app(db_url)`` opens the :class:`~cellfoundry.bank.services.Bank`,
mounts the JSON API under ``/api``, the web pages at ``/`` and their static
files at ``/static``. The OpenAPI document is ``/openapi.json``; ``/docs`` is
its reference page in both languages and ``/docs/try`` the interactive Swagger
UI, both served without any CDN (a plant network may be offline).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from cellfoundry import __version__
from cellfoundry.api.deps import check_text
from cellfoundry.api.errors import install_error_handlers
from cellfoundry.api.routes import api_router
from cellfoundry.api.routes import campaigns as campaign_routes
from cellfoundry.api.routes import designs as design_routes
from cellfoundry.api.routes import dna as dna_routes
from cellfoundry.api.routes import models as model_routes
from cellfoundry.bank.services import Bank
from cellfoundry.jobs import JobService
from cellfoundry.web.routes import router as web_router
from cellfoundry.web.sharing import router as sharing_pages

__all__ = ["create_app"]

_DESCRIPTION = """\
The strain, plasmid and parts bank of cellfoundry.

Errors are JSON objects `{"detail", "source", "record", "field"}`: 404 for a
missing record, 409 for a write that collides with stored state (a duplicate
accession, an occupied freezer position), 422 for a value that breaks a rule.
Writes are recorded in the history under the `X-Cellfoundry-Actor` header.
"""


def create_app(db_url: str | None = None, *, bank: Bank | None = None) -> FastAPI:
    """Build the web app and HTTP API on a bank.

    Parameters
    ----------
    db_url
        Database URL; default ``$CELLFOUNDRY_DATABASE_URL`` or ``./cellfoundry.db``.
    bank
        An open bank to serve instead (the caller keeps ownership and closes it).

    Returns
    -------
    FastAPI
        The application; the bank is ``app.state.bank``, the job service ``app.state.jobs``.
    """
    owned = bank is None
    the_bank = Bank.open(db_url) if bank is None else bank
    jobs = JobService(the_bank)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.close()
        if owned:
            the_bank.close()

    app = FastAPI(
        title="cellfoundry",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "strains", "description": "Strains, their lineage and history."},
            {"name": "sequences", "description": "Plasmids, parts, export, search, import."},
            {"name": "stock", "description": "Samples in freezers, and deposits."},
            {
                "name": "requests",
                "description": "Requests for material: ask, decide, ship; fee accounts.",
            },
            {
                "name": "sharing",
                "description": "Who am I, the inbox, releases of restricted entries, "
                "visibility, the audit trail and viability statements.",
            },
            {
                "name": "models",
                "description": "Genome-scale metabolic models, the strains they belong to, "
                "and analysis jobs (FBA, FVA, deletion screens) with progress and cancel.",
            },
            {
                "name": "campaigns",
                "description": "DBTL campaigns of the automated foundry: cycles of designs built "
                "into strains with their robot worklists, measurements, models and "
                "recommendations for the next cycle.",
            },
            {
                "name": "dna",
                "description": "CRISPR guides and off-targets on a strain's genome, editing "
                "plans of planned strains, codon optimisation and Golden Gate assembly.",
            },
        ],
    )
    app.state.bank = the_bank
    app.state.jobs = jobs
    install_error_handlers(app)
    app.include_router(api_router, prefix="/api")
    app.include_router(model_routes.router, prefix="/api", dependencies=[Depends(check_text)])
    app.include_router(design_routes.router, prefix="/api", dependencies=[Depends(check_text)])
    app.include_router(dna_routes.router, prefix="/api", dependencies=[Depends(check_text)])
    app.include_router(campaign_routes.router, prefix="/api", dependencies=[Depends(check_text)])
    app.include_router(web_router)
    app.include_router(sharing_pages)
    _mount_swagger_ui(app)
    static = resources.files("cellfoundry.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def _mount_swagger_ui(app: FastAPI) -> None:
    """Serve the interactive Swagger UI at ``/docs/try`` from files shipped on PyPI.

    The Swagger UI assets come from the ``fastapi-offline`` package (a current
    Swagger UI that renders OpenAPI 3.1), so the page works without any CDN.
    """
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    assets = resources.files(fastapi_offline).joinpath("static")
    app.mount("/static/swagger", StaticFiles(directory=str(assets)), name="swagger")

    @app.get("/docs/try", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="cellfoundry API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon.png",
        )
