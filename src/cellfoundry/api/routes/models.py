"""Model and job endpoints: stored genome-scale models, the strain a model belongs to, jobs.

Thin, like every route: the bank (acting for the caller) stores and shows models, the job
service (acting for the caller) runs and follows analyses; both apply the one policy. A job
is started with ``POST /api/models/{id}/jobs`` (202, ``Location: /api/jobs/{job id}``) and
followed with ``GET /api/jobs/{job id}`` until its ``status`` is ``done``, ``failed`` or
``cancelled``. Uploading, running and following jobs act in the caller's name and so need
a signed-in caller (401 otherwise).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile

from cellfoundry.api.deps import ActorDep, BankDep, ViewerDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.routes.sharing import signed_in
from cellfoundry.api.schemas import Visibility
from cellfoundry.api.schemas_models import (
    JobCreate,
    JobPublic,
    JobsPublic,
    ModelDetailPublic,
    ModelPublic,
    ModelsPublic,
    StrainModelLink,
    StrainModelPublic,
)
from cellfoundry.api.schemas_sharing import MAX_ID, NO_NUL
from cellfoundry.bank._models import MAX_MODEL_BYTES
from cellfoundry.core.errors import NotFoundError
from cellfoundry.jobs import JobService

__all__ = ["JobsDep", "get_jobs", "router"]

router = APIRouter(tags=["models"], responses=ERROR_RESPONSES)
SIGNED_IN = [Depends(signed_in)]

ModelId = Annotated[int, Path(ge=1, le=MAX_ID, description="The stored model's id.")]
JobId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="The job's id.")
]
Accession = Annotated[
    str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="Strain accession.")
]


def get_jobs(request: Request, viewer: ViewerDep) -> JobService:
    """Return the app's job service acting for the request's viewer."""
    jobs = request.app.state.jobs
    assert isinstance(jobs, JobService)
    return jobs.as_viewer(viewer)


JobsDep = Annotated[JobService, Depends(get_jobs)]


# -- models ---------------------------------------------------------------------------------------


@router.get("/models", operation_id="list_models", response_model=ModelsPublic)
def list_models(bank: BankDep) -> ModelsPublic:
    """List the genome-scale models the caller may see, by name."""
    models = bank.list_models()
    return ModelsPublic(data=[ModelPublic.from_view(m) for m in models], count=len(models))


@router.post(
    "/models",
    operation_id="upload_model",
    response_model=ModelPublic,
    status_code=201,
    dependencies=SIGNED_IN,
)
def upload_model(
    bank: BankDep,
    actor: ActorDep,
    file: Annotated[
        UploadFile,
        File(description="SBML (.xml, .sbml), COBRA JSON (.json), MATLAB (.mat) or YAML (.yml)."),
    ],
    name: Annotated[str, Form(max_length=255, pattern=NO_NUL)] = "",
    visibility: Annotated[Visibility, Form()] = "public",
    strain: Annotated[
        str, Form(max_length=64, pattern=NO_NUL, description="Link to this strain.")
    ] = "",
) -> ModelPublic:
    """Store a model file; one the engine cannot read is refused (422 naming file and reaction)."""
    data = file.file.read(MAX_MODEL_BYTES + 1)
    view = bank.add_model(
        data,
        file.filename or "upload",
        name=name or None,
        strain=strain or None,
        visibility=visibility,
        actor=actor,
    )
    return ModelPublic.from_view(view)


@router.get("/models/{model_id}", operation_id="read_model", response_model=ModelDetailPublic)
def read_model(
    model_id: ModelId,
    bank: BankDep,
    reactions: Annotated[
        bool, Query(description="Include every reaction with its bounds and gene rule.")
    ] = False,
) -> ModelDetailPublic:
    """Show a model: counts, objective, medium, exchanges, and its reactions if asked."""
    details = bank.model_details(model_id, reactions=reactions)
    return ModelDetailPublic.from_details(details, reactions=reactions)


@router.post(
    "/models/{model_id}/jobs",
    operation_id="submit_job",
    response_model=JobPublic,
    status_code=202,
    dependencies=SIGNED_IN,
)
def submit_job(model_id: ModelId, body: JobCreate, jobs: JobsDep, response: Response) -> JobPublic:
    """Start an analysis of the model; follow it at the `Location` it answers with."""
    job_id = jobs.submit(body.kind, body.service_params(model_id))
    response.headers["Location"] = f"/api/jobs/{job_id}"
    return JobPublic.from_view(jobs.get(job_id, result=False))


@router.get(
    "/models/{model_id}/jobs",
    operation_id="list_model_jobs",
    response_model=JobsPublic,
    dependencies=SIGNED_IN,
)
def list_model_jobs(
    model_id: ModelId,
    bank: BankDep,
    jobs: JobsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> JobsPublic:
    """List the caller's jobs on this model (a curator's: everyone's), newest first."""
    bank.get_model(model_id)
    found = jobs.list(limit=limit, model_id=model_id)
    return JobsPublic(data=[JobPublic.from_view(j) for j in found], count=len(found))


# -- jobs -----------------------------------------------------------------------------------------


@router.get("/jobs", operation_id="list_jobs", response_model=JobsPublic, dependencies=SIGNED_IN)
def list_jobs(
    jobs: JobsDep,
    owner: Annotated[
        str, Query(max_length=64, pattern=NO_NUL, description="Only this user's jobs.")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> JobsPublic:
    """List the caller's jobs (a curator's: everyone's), newest first, without results."""
    found = jobs.list(owner or None, limit)
    return JobsPublic(data=[JobPublic.from_view(j) for j in found], count=len(found))


@router.get(
    "/jobs/{job_id}", operation_id="read_job", response_model=JobPublic, dependencies=SIGNED_IN
)
def read_job(
    job_id: JobId,
    jobs: JobsDep,
    result: Annotated[bool, Query(description="Include the result once done.")] = True,
) -> JobPublic:
    """Show a job: status, progress and, once done, its result; if failed, the error."""
    return JobPublic.from_view(jobs.get(job_id, result=result))


@router.post(
    "/jobs/{job_id}/cancel",
    operation_id="cancel_job",
    response_model=JobPublic,
    dependencies=SIGNED_IN,
)
def cancel_job(job_id: JobId, jobs: JobsDep) -> JobPublic:
    """Cancel a queued or running job (409 if it has already finished)."""
    return JobPublic.from_view(jobs.cancel(job_id))


# -- strains and their models ---------------------------------------------------------------------


@router.get(
    "/strains/{accession}/model", operation_id="read_strain_model", response_model=ModelPublic
)
def read_strain_model(accession: Accession, bank: BankDep) -> ModelPublic:
    """Show the strain's genome-scale model (404 if it has none the caller may see)."""
    view = bank.strain_model(accession)
    if view is None:
        raise NotFoundError("genome-scale model of strain", accession)
    return ModelPublic.from_view(view)


@router.put(
    "/strains/{accession}/model",
    operation_id="link_strain_model",
    response_model=StrainModelPublic,
    dependencies=SIGNED_IN,
)
def link_strain_model(
    accession: Accession, body: StrainModelLink, bank: BankDep, actor: ActorDep
) -> StrainModelPublic:
    """Make a stored model the strain's genome-scale model (`model_id: null` unlinks)."""
    view = bank.link_model(accession, body.model_id, actor=actor)
    return StrainModelPublic(
        accession=accession, model=None if view is None else ModelPublic.from_view(view)
    )
