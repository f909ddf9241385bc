from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import norm

from cellfoundry.core.errors import ValidationError
from cellfoundry.learn import (
    DesignSpace,
    Factor,
    Recommender,
    acquisition_scores,
    expected_improvement,
    upper_confidence_bound,
)

LEVELS = {f"L{i}": 2.0**i for i in range(5)}  # encoded at 0, .25, .5, .75, 1


def grid_space() -> DesignSpace:
    return DesignSpace(
        [
            Factor.ordinal("a", LEVELS),
            Factor.ordinal("b", LEVELS),
            Factor.ordinal("c", LEVELS),
            Factor.switch("ko"),
        ]
    )


def peak(x: np.ndarray) -> np.ndarray:
    """A smooth landscape with its optimum at a = 0.75, b = 0.25, c irrelevant-ish, ko on."""
    return (
        10.0 - 8 * (x[:, 0] - 0.75) ** 2 - 8 * (x[:, 1] - 0.25) ** 2 + 0.2 * x[:, 2] + 0.5 * x[:, 4]
    )


def test_recovers_the_optimum_region_of_a_known_function() -> None:
    space = grid_space()
    rng = np.random.default_rng(0)
    idx = space.sample_indices(40, rng)
    y = peak(space.encode_indices(idx))
    rec = Recommender(space, models=("boosting", "gp", "ridge")).fit(
        idx, y, np.random.default_rng(1)
    )
    batch = rec.recommend(3, np.random.default_rng(2), acquisition="mean", min_distance=1)
    truth = peak(space.encode_indices(space.enumerate_indices()))
    best_true = truth.max()
    picked = peak(space.encode_indices(batch.indices))
    assert picked[0] >= best_true - 0.5
    assert batch.designs[0]["a"] == "L3"
    assert batch.designs[0]["b"] == "L1"
    # the ensemble predicts well where it has data
    pred = rec.predict(idx)
    assert np.corrcoef(pred.mean, y)[0, 1] > 0.9
    assert rec.weights.sum() == pytest.approx(1.0)
    assert np.all(rec.weights >= 0)


@pytest.mark.parametrize("models", [("gp",), ("forest", "boosting", "gp", "ridge")])
def test_uncertainty_grows_away_from_the_data(models: tuple[str, ...]) -> None:
    space = DesignSpace(
        [Factor.ordinal("p", {f"P{i}": 1.5**i for i in range(12)}), Factor.switch("ko")]
    )
    rng = np.random.default_rng(5)
    near = np.array([[i, k] for i in range(5) for k in (0, 1)] * 2)
    x = space.encode_indices(near)
    y = np.sin(3 * x[:, 0]) + 0.3 * x[:, 2] + rng.normal(0, 0.05, len(near))
    rec = Recommender(space, models=models).fit(near, y, np.random.default_rng(0))  # type: ignore[arg-type]
    inside = rec.predict(np.array([[2, 0], [2, 1]])).std.mean()
    far = rec.predict(np.array([[11, 0], [11, 1]])).std.mean()
    assert far > 2 * inside


def test_acquisitions_follow_their_formulas_on_a_hand_made_case() -> None:
    mean = np.array([1.0, 0.8, 0.2])
    std = np.array([0.0, 0.3, 1.0])
    best = 0.9
    ei = expected_improvement(mean, std, best)
    by_hand = [0.1]
    for m, s in zip(mean[1:], std[1:], strict=True):
        z = (m - best) / s
        by_hand.append((m - best) * norm.cdf(z) + s * norm.pdf(z))
    assert ei == pytest.approx(by_hand)
    assert int(np.argmax(ei)) == 2  # the uncertain one: 0.143 > 0.1 > 0.076
    # ξ demands more improvement: the certain candidate loses everything at ξ = 0.1
    assert expected_improvement(mean, std, best, xi=0.1)[0] == 0.0
    # UCB: exploitation at small κ, exploration at large κ
    assert int(np.argmax(upper_confidence_bound(mean, std, 0.5))) == 0
    assert int(np.argmax(upper_confidence_bound(mean, std, 2.0))) == 2
    assert acquisition_scores("ucb", mean, std, best=best, exploration=2.0) == pytest.approx(
        [1.0, 1.4, 2.2]
    )
    # Thompson: one draw mean + σ z from the given generator
    z = np.random.default_rng(11).standard_normal(3)
    draw = acquisition_scores("thompson", mean, std, best=best, rng=np.random.default_rng(11))
    assert draw == pytest.approx(mean + std * z)
    assert acquisition_scores("mean", mean, std, best=best) == pytest.approx(mean)
    with pytest.raises(ValidationError, match="random generator"):
        acquisition_scores("thompson", mean, std, best=best)
    with pytest.raises(ValidationError, match="unknown acquisition"):
        acquisition_scores("pi", mean, std, best=best)  # type: ignore[arg-type]


@pytest.mark.parametrize("acquisition", ["ei", "ucb", "mean"])
def test_first_pick_is_the_acquisition_argmax(acquisition: str) -> None:
    space = grid_space()
    idx = space.sample_indices(30, np.random.default_rng(3))
    rec = Recommender(space, models=("forest", "ridge")).fit(
        idx, peak(space.encode_indices(idx)), np.random.default_rng(4)
    )
    batch = rec.recommend(1, np.random.default_rng(0), acquisition=acquisition)  # type: ignore[arg-type]
    measured = {tuple(r) for r in idx.tolist()}
    cand = np.array([r for r in space.enumerate_indices().tolist() if tuple(r) not in measured])
    pred = rec.predict(cand)
    scale = float(np.std(peak(space.encode_indices(idx))))
    best = float(peak(space.encode_indices(idx)).max())
    if acquisition == "ei":
        # ξ = 0.01 in standardised units
        scores = expected_improvement(pred.mean, pred.std, best, 0.01 * scale)
    elif acquisition == "ucb":
        scores = upper_confidence_bound(pred.mean, pred.std, 2.0)
    else:
        scores = pred.mean
    assert tuple(batch.indices[0]) == tuple(cand[int(np.argmax(scores))])
    assert batch.n_candidates == len(cand)


@pytest.fixture(scope="module")
def fitted() -> tuple[Recommender, np.ndarray]:
    space = grid_space()
    idx = space.sample_indices(25, np.random.default_rng(8))
    rec = Recommender(space, models=("forest", "gp")).fit(
        idx, peak(space.encode_indices(idx)), np.random.default_rng(9)
    )
    return rec, idx


@pytest.mark.parametrize("acquisition", ["ei", "ucb", "thompson"])
def test_batch_is_diverse_new_and_deterministic(
    acquisition: str, fitted: tuple[Recommender, np.ndarray]
) -> None:
    rec, idx = fitted
    batch = rec.recommend(10, np.random.default_rng(10), acquisition=acquisition, min_distance=2)  # type: ignore[arg-type]
    assert len(batch) == 10
    for i, j in itertools.combinations(range(10), 2):
        assert (batch.indices[i] != batch.indices[j]).sum() >= 2
    measured = {tuple(r) for r in idx.tolist()}
    assert not any(tuple(r) in measured for r in batch.indices.tolist())
    again = rec.recommend(10, np.random.default_rng(10), acquisition=acquisition, min_distance=2)  # type: ignore[arg-type]
    assert np.array_equal(batch.indices, again.indices)


def test_fit_is_deterministic_for_a_seed(fitted: tuple[Recommender, np.ndarray]) -> None:
    rec, idx = fitted
    again = Recommender(rec.space, models=("forest", "gp")).fit(
        idx, peak(rec.space.encode_indices(idx)), np.random.default_rng(9)
    )
    assert np.array_equal(again.weights, rec.weights)
    a = rec.recommend(5, np.random.default_rng(1), acquisition="thompson")
    b = again.recommend(5, np.random.default_rng(1), acquisition="thompson")
    assert np.array_equal(a.indices, b.indices)
    assert np.allclose(a.mean, b.mean)


def test_explain_ranks_the_influential_factor_first() -> None:
    space = DesignSpace(
        [
            Factor.categorical("strain", ["A", "B", "C"]),
            Factor.ordinal("promoter", LEVELS),
            Factor.switch("ko"),
            Factor.ordinal("rbs", {"weak": 0.2, "strong": 1.0}),
        ]
    )
    rng = np.random.default_rng(12)
    idx = space.sample_indices(60, rng)
    effect = np.array([0.0, 5.0, 1.0])[idx[:, 0]]  # the categorical background dominates
    y = effect + 0.5 * idx[:, 1] / 4 + rng.normal(0, 0.1, 60)
    rec = Recommender(space, models=("forest", "ridge")).fit(idx, y, np.random.default_rng(13))
    ranked = rec.explain(np.random.default_rng(14), n_repeats=5)
    assert ranked[0].factor == "strain"
    assert ranked[1].factor == "promoter"
    assert ranked[0].importance > 5 * ranked[2].importance
    impurity = rec.explain(np.random.default_rng(14), method="impurity")
    assert impurity[0].factor == "strain"
    assert sum(r.importance for r in impurity) == pytest.approx(1.0)


def test_fit_and_recommend_check_their_input() -> None:
    space = grid_space()
    rec = Recommender(space, models=("ridge",))
    with pytest.raises(ValidationError, match="fit the recommender"):
        rec.recommend(2, np.random.default_rng(0))
    with pytest.raises(ValidationError, match="3 designs but 2 titres"):
        rec.fit(
            space.sample_indices(3, np.random.default_rng(0)), [1.0, 2.0], np.random.default_rng(0)
        )
    with pytest.raises(ValidationError, match="out of range for factor 'b'"):
        rec.fit(np.array([[0, 7, 0, 0]] * 3), [1.0, 2.0, 3.0], np.random.default_rng(0))
    with pytest.raises(ValidationError, match="unknown model"):
        Recommender(space, models=("svm",))  # type: ignore[arg-type]
    designs = [{"a": "L0", "b": "L0", "c": "L0", "ko": "off"}] * 2 + [
        {"a": "L9", "b": "L0", "c": "L0", "ko": "off"}
    ]
    with pytest.raises(ValidationError, match="no level 'L9'"):
        rec.fit(designs, [1.0, 2.0, 3.0], np.random.default_rng(0))


def test_log_target_and_progress() -> None:
    space = grid_space()
    idx = space.sample_indices(20, np.random.default_rng(1))
    y = np.exp(peak(space.encode_indices(idx)) / 5)
    seen: list[tuple[int, int]] = []
    rec = Recommender(space, models=("forest", "ridge"), log_target=True, cv_folds=3)
    rec.fit(idx, y, np.random.default_rng(0), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (8, 8)
    pred = rec.predict(idx)
    assert np.all(pred.mean > 0)
    with pytest.raises(ValidationError, match="positive"):
        rec.fit(idx, -y, np.random.default_rng(0))
