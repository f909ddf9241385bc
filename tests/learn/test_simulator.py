from __future__ import annotations

import numpy as np
import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.testing.dbtl import DBTLSimulator, PathwayKinetics, pathway_space, simulate_pathway


def test_carbon_is_conserved() -> None:
    kin = PathwayKinetics()
    levels = np.array([[1.0, 0.2, 0.5, 1.0], [0.05, 1.0, 1.0, 0.1], [0.3, 0.3, 0.3, 0.3]])
    final = simulate_pathway(levels, [False, True, False], kin)
    n = kin.n_enzymes
    carbon = final[:, : n + 2].sum(axis=1)  # S, I1..I3, P, B
    assert carbon == pytest.approx(np.full(3, kin.s0_mm), rel=1e-5)
    assert np.all(final[:, n + 1][[1]] == 0.0)  # knocked-out branch makes no by-product
    assert np.all(final[:, n] > 0)


def test_titre_rises_with_a_non_limiting_last_enzyme() -> None:
    # without burden, more of the last enzyme only drains the intermediates faster
    kin = PathwayKinetics(burden=0.0)
    e4 = np.array([0.05, 0.1, 0.2, 0.4, 0.7, 1.0])
    levels = np.column_stack([np.full(6, 0.5), np.full(6, 0.3), np.full(6, 1.0), e4])
    titre = simulate_pathway(levels, np.zeros(6, bool), kin)[:, kin.n_enzymes]
    assert np.all(np.diff(titre) > 0)


def test_toxic_intermediate_slows_growth() -> None:
    kin = PathwayKinetics(burden=0.0)
    # strong supply of the toxic intermediate I2, weak consumer: growth suffers
    final = simulate_pathway([[1.0, 1.0, 0.05, 1.0], [1.0, 1.0, 1.0, 1.0]], [False, False], kin)
    biomass = final[:, -1]
    assert biomass[0] < biomass[1]


def test_optimum_by_enumeration_and_seeded_measurement() -> None:
    sim = DBTLSimulator(space=pathway_space(4, rbs=False, knockout=True))
    land = sim.landscape()
    assert land.shape == (sim.design_space.size,)
    best, titre = sim.optimum()
    assert titre == pytest.approx(land.max())
    assert sim.titres([best])[0] == pytest.approx(titre, rel=1e-4)
    # the optimum is balanced: not every gene on the strongest promoter
    assert {best[f"promoter_E{i}"] for i in range(1, 5)} != {"P5"}
    a = sim.measure([best] * 5, np.random.default_rng(42))
    b = sim.measure([best] * 5, np.random.default_rng(42))
    c = sim.measure([best] * 5, np.random.default_rng(43))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(np.abs(np.log(a / titre)) < 0.5)


def test_simulator_checks_its_space_and_kinetics() -> None:
    with pytest.raises(ValidationError, match="4 to 6 enzymes"):
        PathwayKinetics(kcat_per_h=(1.0, 1.0, 1.0), km_mm=(1.0, 1.0, 1.0))
    with pytest.raises(ValidationError, match="promoter_E5"):
        DBTLSimulator(
            kinetics=PathwayKinetics(kcat_per_h=(1.0,) * 5, km_mm=(1.0,) * 5),
            space=pathway_space(4),
        )
