from __future__ import annotations

import numpy as np
import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.learn import DesignSpace, Factor, InvalidDesignError

PROMOTERS = {"P1": 0.05, "P2": 0.15, "P3": 0.35, "P4": 0.65, "P5": 1.0}


@pytest.fixture
def space() -> DesignSpace:
    return DesignSpace(
        [
            Factor.ordinal("promoter_crtE", PROMOTERS),
            Factor.ordinal("rbs_crtE", {"weak": 0.2, "strong": 1.0}),
            Factor.gene_order("operon", ["crtE", "crtB", "crtI"]),
            Factor.switch("knockout_gdhA"),
        ]
    )


def test_size_and_full_factorial(space: DesignSpace) -> None:
    assert space.size == 5 * 2 * 6 * 2
    designs = list(space.enumerate())
    assert len(designs) == space.size
    assert len({space.key(d) for d in designs}) == space.size
    assert designs[0] == {
        "promoter_crtE": "P1",
        "rbs_crtE": "weak",
        "operon": "crtE-crtB-crtI",
        "knockout_gdhA": "off",
    }


def test_enumeration_refuses_a_huge_space(space: DesignSpace) -> None:
    with pytest.raises(InvalidDesignError, match="sample the space instead"):
        space.enumerate_indices(limit=10)


def test_mixed_encoding_is_log_strength_and_one_hot(space: DesignSpace) -> None:
    x = space.encode(
        [
            {
                "promoter_crtE": "P5",
                "rbs_crtE": "weak",
                "operon": "crtB-crtE-crtI",
                "knockout_gdhA": "on",
            }
        ]
    )
    assert x.shape == (1, 1 + 1 + 6 + 2)
    assert x[0, 0] == pytest.approx(1.0)
    assert x[0, 1] == pytest.approx(0.0)
    names = space.feature_names
    assert x[0, names.index("operon=crtB-crtE-crtI")] == 1.0
    assert x[0, names.index("knockout_gdhA=on")] == 1.0
    assert x[0, 2:8].sum() == 1.0
    # log scale: P3 sits where log2(0.35) sits between log2(0.05) and log2(1)
    p3 = space.encode(
        [
            {
                "promoter_crtE": "P3",
                "rbs_crtE": "weak",
                "operon": "crtE-crtB-crtI",
                "knockout_gdhA": "off",
            }
        ]
    )[0, 0]
    assert p3 == pytest.approx(np.log2(0.35 / 0.05) / np.log2(1 / 0.05))


def test_onehot_encoding_has_a_column_per_level(space: DesignSpace) -> None:
    x = space.encode(space.enumerate(), scheme="onehot")
    assert x.shape == (space.size, 5 + 2 + 6 + 2)
    assert np.all(x.sum(axis=1) == 4)
    assert space.feature_factors("onehot").count("promoter_crtE") == 5


def test_validation_names_factor_and_level(space: DesignSpace) -> None:
    good = {
        "promoter_crtE": "P1",
        "rbs_crtE": "weak",
        "operon": "crtE-crtB-crtI",
        "knockout_gdhA": "off",
    }
    with pytest.raises(
        InvalidDesignError, match=r"factor 'promoter_crtE' has no level 'P9'"
    ) as err:
        space.validate({**good, "promoter_crtE": "P9"})
    assert err.value.factor == "promoter_crtE"
    assert err.value.level == "P9"
    assert err.value.field == "promoter_crtE"
    assert isinstance(err.value, ValidationError)
    with pytest.raises(InvalidDesignError, match="unknown factor 'terminator'"):
        space.validate({**good, "terminator": "T1"})
    missing = dict(good)
    del missing["operon"]
    with pytest.raises(InvalidDesignError, match="misses factor 'operon'"):
        space.validate(missing)


def test_factor_rules() -> None:
    with pytest.raises(InvalidDesignError, match="at least two"):
        Factor.categorical("x", ["a"])
    with pytest.raises(InvalidDesignError, match="not positive"):
        Factor.ordinal("p", {"a": 0.0, "b": 1.0})
    with pytest.raises(InvalidDesignError, match="appears twice"):
        DesignSpace([Factor.switch("ko"), Factor.switch("ko")])


def test_lhs_stratifies_every_factor(space: DesignSpace) -> None:
    idx = space.sample_indices(60, np.random.default_rng(3), method="lhs")
    for j, f in enumerate(space.factors):
        counts = np.bincount(idx[:, j], minlength=len(f.levels))
        assert counts.max() - counts.min() <= 1, f.name


def test_sampling_is_deterministic_for_a_seed(space: DesignSpace) -> None:
    a = space.sample(20, np.random.default_rng(7))
    b = space.sample(20, np.random.default_rng(7))
    assert a == b
    for d in a:
        space.validate(d)


def test_neighbours_differ_in_exactly_one_factor(space: DesignSpace) -> None:
    idx = space.sample_indices(1, np.random.default_rng(0))
    near = space.neighbour_indices(idx)
    assert near.shape[0] == sum(len(f.levels) - 1 for f in space.factors)
    assert np.all((near != idx).sum(axis=1) == 1)
