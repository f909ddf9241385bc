"""Session fixtures for the pathway search: the compiled BiGG universe and iJO1366.

The universe is compiled once per test session into the session's cache folder
(``$CELLFOUNDRY_CACHE``, set by tests/conftest.py; about 30 s on the CI machine kind); every
later load comes from memory or, in job workers, from that folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cobra.io
import pytest

from cellfoundry.metabolism import ModelSpec, load_model
from cellfoundry.metabolism.design.universe import Universe, load_universe


@pytest.fixture(scope="session")
def universe_cache() -> Path:
    """The folder the session's universe is cached in ($CELLFOUNDRY_CACHE)."""
    from cellfoundry.metabolism.design.universe import _cache_dir

    return _cache_dir(None)


@pytest.fixture(scope="session")
def universe() -> Universe:
    # the session's $CELLFOUNDRY_CACHE (tests/conftest.py), shared with job workers
    return load_universe()


@pytest.fixture(scope="session")
def ijo1366() -> ModelSpec:
    logging.getLogger("cobra").setLevel(logging.ERROR)
    return load_model(cobra.io.load_model("iJO1366"))
