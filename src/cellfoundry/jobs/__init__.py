"""Long computations as jobs: queued, run, progress, result, cancel.

A :class:`JobService` runs the metabolism engine's analyses on models stored in the
bank, on background threads of the process that owns it, and records each job in the
bank's ``jobs`` table, so any process on the same database can follow it. Create one per
process (the web app keeps it on ``app.state.jobs``) and hand out
:meth:`JobService.as_viewer` handles; it needs no start-up and is stopped by
:meth:`JobService.close`.

Public API::

    JobService(bank, *, processes=None, max_running=2)
    JobService.as_viewer(viewer) -> JobService           # acts for viewer (permissions)
    JobService.submit(kind, params, owner=None) -> str   # job id; owner: a Viewer
    JobService.get(job_id, *, viewer=None, result=True) -> JobView
    JobService.cancel(job_id, *, viewer=None) -> JobView
    JobService.list(owner=None, limit=50, *, viewer=None, model_id=None) -> tuple[JobView, ...]
    JobService.wait(job_id, timeout=None, *, viewer=None) -> JobView   # TimeoutError
    JobService.kinds() -> tuple[str, ...]
    JobService.close()
    JobView(id, kind, status, done, total, params, result, error, owner, model_id,
            created_at, started_at, finished_at)          # .to_dict(), .finished
    KINDS, JOB_STATUSES

``viewer`` defaults to the handle's viewer (that of the bank the service was made with, or
of :meth:`JobService.as_viewer`); ``owner`` of :meth:`~JobService.submit` likewise. A job is
seen and cancelled by its owner, curators and administrators; anyone else gets
:class:`~cellfoundry.core.errors.NotFoundError`, as for a job that does not exist.

Kinds and their parameters (``model_id`` is required by all; ``medium``,
``{exchange id: uptake}``, replaces the model's medium; ``solver`` is ``glpk`` or ``highs``):

==========================  ==============================================  ===============
kind                        parameters                                      result
==========================  ==============================================  ===============
fba                                                                         solution
pfba                        fraction_of_optimum                             solution
fva                         reaction_list, fraction_of_optimum, loopless    ranges
single_gene_deletion        gene_list                                       rows
single_reaction_deletion    reaction_list                                   rows
double_gene_deletion        gene_list1, gene_list2                          matrix
essential_genes             threshold                                       genes
production_envelope         reactions (required), objective,                rows
                            carbon_sources, points, threshold
check                                                                       report
design_pathways             target (required), substrate, k,                designs
                            max_reactions, couple_knockouts
design_knockouts            product (required), substrate, max_knockouts,   designs
                            k, method (optknock, mcs), time_limit
design_overexpress          product (required), substrate, steps            designs
==========================  ==============================================  ===============

Results are JSON in COBRApy's shapes: a solution is ``{"objective_value", "status",
"fluxes": {reaction: flux}}``; ranges ``{"minimum": {...}, "maximum": {...}}``; rows
``{"rows": [{"ids": [...], "growth": x or null, "status": s}, ...]}``; the matrix of a
double deletion ``{"genes": [...], "columns": [...], "growth": [[...]], "lp_count": n,
"pair_count": m}`` (``growth[i][k]`` for ``genes[i]`` with ``columns[k]``; null where the
mutant has no optimum); essential genes ``{"genes": [...], "threshold": t}``; a
production envelope ``{"rows": [{column: value}, ...]}`` with COBRApy's columns; a check
the engine's ``ModelCheck.to_dict()``. A flux without a bound is ``"inf"`` or ``"-inf"``.
``production_envelope`` and ``check`` are offered when the engine has them
(:meth:`JobService.kinds`). Design searches return ``{"designs": [...]}``, ranked best first,
each a ``cellfoundry.strain-design/1`` object with its evaluation (plus ``pathways``,
``search`` or ``targets`` by kind); they run whole in one worker of the job's pool or Dask
cluster, off the serving process.

Where it computes: parallel analyses (FVA, deletions) send their chunks to a local process
pool (forkserver, one per job so that a cancelled job's workers can be stopped), or to a
Dask cluster when ``CELLFOUNDRY_DASK_SCHEDULER`` names its scheduler
(``tcp://host:8786``). Progress is written to the job at most twice a second. Cancelling
marks the job ``cancelled`` at once and stops its pending work; a cancelled job never
becomes ``done``. An engine error (a bad gene id, an infeasible medium) makes the job
``failed`` with the engine's message. A job whose process died (no sign of life, or its
process gone) is marked ``failed`` (``interrupted``) when a service next starts on the
database.

Examples
--------
>>> import tempfile
>>> from cellfoundry.bank.demo import DEMO_MODEL
>>> from cellfoundry.bank.services import Bank
>>> folder = tempfile.TemporaryDirectory()
>>> bank = Bank.open(f"sqlite:///{folder.name}/bank.db")
>>> model = bank.add_model(DEMO_MODEL)
>>> jobs = JobService(bank)
>>> job = jobs.wait(jobs.submit("fba", {"model_id": model.id}), timeout=60)
>>> job.status, round(job.result["objective_value"], 4)
('done', 0.8739)
>>> jobs.close(); bank.close(); folder.cleanup()
"""

from __future__ import annotations

from cellfoundry.jobs._kinds import KINDS
from cellfoundry.jobs._service import JOB_STATUSES, JobService, JobView

__all__ = ["JOB_STATUSES", "KINDS", "JobService", "JobView"]
