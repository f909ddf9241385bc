"""Flux sampling: every sample is a steady state within the bounds, and seeds reproduce."""

from __future__ import annotations

from typing import Any

import cobra
import numpy as np
import pandas as pd
import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism import ModelSpec, load_model, sample
from cellfoundry.metabolism.sampling import SamplingMethod

TOL = 1e-6


@pytest.fixture(scope="module")
def core_spec() -> ModelSpec:
    return load_model(cobra.io.load_model("textbook"))


def assert_feasible(spec: ModelSpec, frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(spec.reactions)
    v = frame.to_numpy(float)
    assert np.isfinite(v).all()
    assert np.abs(spec.S @ v.T).max() <= TOL
    assert (v >= spec.lb - TOL).all()
    assert (v <= spec.ub + TOL).all()


@pytest.mark.parametrize("method", ["optgp", "achr"])
def test_samples_are_feasible_steady_states(core_spec: ModelSpec, method: SamplingMethod) -> None:
    frame = sample(core_spec, 50, method=method, thinning=10, seed=7)
    assert frame.shape == (50, core_spec.n_reactions)
    assert_feasible(core_spec, frame)
    # a sample, not one point: fluxes with room to move do move
    assert frame["PGI"].std() > 0.1


@pytest.mark.parametrize("method", ["optgp", "achr"])
def test_same_seed_gives_same_samples(core_spec: ModelSpec, method: SamplingMethod) -> None:
    a = sample(core_spec, 20, method=method, thinning=5, seed=11)
    b = sample(core_spec, 20, method=method, thinning=5, seed=11)
    c = sample(core_spec, 20, method=method, thinning=5, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_a_generator_seeds_the_sampler(core_spec: ModelSpec) -> None:
    a = sample(core_spec, 5, thinning=5, seed=np.random.default_rng(2))
    b = sample(core_spec, 5, thinning=5, seed=np.random.default_rng(2))
    pd.testing.assert_frame_equal(a, b)


def test_parallel_optgp_returns_exactly_n(core_spec: ModelSpec) -> None:
    frame = sample(core_spec, 9, processes=2, thinning=5, seed=3)
    assert frame.shape == (9, core_spec.n_reactions)
    assert list(frame.index) == list(range(9))
    assert_feasible(core_spec, frame)


def test_samples_respect_a_changed_medium(core_spec: ModelSpec) -> None:
    anaerobic = core_spec.with_bounds({"EX_o2_e": (0.0, 1000.0)})
    frame = sample(anaerobic, 20, thinning=10, seed=5)
    assert_feasible(anaerobic, frame)
    assert (frame["EX_o2_e"] >= -TOL).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n 0 must be a whole number"),
        ({"n": 5, "thinning": 0}, "thinning 0"),
        ({"n": 5, "method": "chrr"}, "unknown sampling method 'chrr'"),
    ],
)
def test_bad_arguments_are_named(
    core_spec: ModelSpec, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        sample(core_spec, **kwargs)
