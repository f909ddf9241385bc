"""Flux sampling: uniform samples of the steady-state flux space, through COBRApy's samplers.

The established hit-and-run samplers of ``cobra.sampling`` (OptGP, ACHR) run on the model
rebuilt with :meth:`ModelSpec.to_cobra`, so the result is what COBRApy gives on the same model.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism.model import ModelSource, load_model

__all__ = ["SamplingMethod", "sample"]

SamplingMethod = Literal["optgp", "achr"]


def sample(
    model: ModelSource,
    n: int,
    method: SamplingMethod = "optgp",
    thinning: int = 100,
    processes: int = 1,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Sample ``n`` flux distributions uniformly from the model's steady-state flux space.

    COBRApy's ``cobra.sampling.sample``: every row satisfies :math:`S v = 0` and the flux
    bounds (within the sampler's feasibility tolerance).

    Parameters
    ----------
    model
        A model file path, a ``cobra.Model`` or a :class:`ModelSpec`.
    n
        The number of samples (rows).
    method
        ``"optgp"`` (OptGP, Megchelenbrink et al. 2014; parallel) or ``"achr"`` (artificial
        centering hit-and-run, Kaufman and Smith 1998; one process).
    thinning
        Keep every ``thinning``-th step of the chain (100 gives nearly uncorrelated samples).
    processes
        Processes for OptGP.
    seed
        Seed of the sampler's random numbers, or a ``numpy.random.Generator`` to draw one
        from: the same seed gives the same samples (for OptGP, with the same number of
        processes). ``None`` seeds from the clock, as COBRApy does.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows, one column per reaction (mmol/gDW/h).

    Raises
    ------
    ValidationError
        ``n``, ``thinning`` or ``processes`` below 1, or an unknown method.

    References
    ----------
    .. [1] Megchelenbrink W, Huynen M, Marchiori E. optGpSampler: an improved tool for
       uniformly sampling the solution-space of genome-scale metabolic networks.
       PLoS ONE 9(2):e86587 (2014). doi:10.1371/journal.pone.0086587

    Examples
    --------
    >>> import cobra.io
    >>> frame = sample(cobra.io.load_model("textbook"), 4, thinning=10, seed=1)
    >>> frame.shape
    (4, 95)
    """
    for name, value in (("n", n), ("thinning", thinning), ("processes", processes)):
        if not (isinstance(value, int) and value >= 1):
            raise ValidationError(f"{name} {value!r} must be a whole number ≥ 1", field=name)
    if method not in ("optgp", "achr"):
        raise ValidationError(
            f"unknown sampling method {method!r}: use 'optgp' or 'achr'", field="method"
        )
    from cobra.sampling import ACHRSampler, OptGPSampler

    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(1, 2**31 - 1))

    cobra_model = load_model(model).to_cobra()
    if method == "optgp":
        sampler = OptGPSampler(cobra_model, processes=processes, thinning=thinning, seed=seed)
    else:
        sampler = ACHRSampler(cobra_model, thinning=thinning, seed=seed)
    frame = sampler.sample(n)
    # OptGP rounds n up to a multiple of the processes
    return frame.iloc[:n].reset_index(drop=True)
