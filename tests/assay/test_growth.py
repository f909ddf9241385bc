from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from cellfoundry.assay import (
    AssayWarning,
    PlateMap,
    PlateReading,
    ReplicateStats,
    analyse_growth,
    baranyi,
    fit_growth,
    gompertz,
    logistic,
    modified_z_scores,
    read_kinetic,
    read_plate_map,
    subtract_blank,
)
from cellfoundry.core.errors import ValidationError

DATA = Path(__file__).parent / "data"
T = np.linspace(0.0, 24.0, 97)  # every 15 min for 24 h
TRUE = {"a": 4.0, "mu": 0.8, "lag": 3.0}
Y0 = math.log(0.01)
MODELS = {"gompertz": gompertz, "logistic": logistic, "baranyi": baranyi}


def _noisy_od(model: str, seed: int, sd: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = Y0 + MODELS[model](T, TRUE["a"], TRUE["mu"], TRUE["lag"]) + rng.normal(0, sd, T.size)
    return np.exp(y)


@pytest.mark.parametrize("model", ["gompertz", "logistic"])
def test_noisy_fit_recovers_parameters_within_their_confidence_intervals(model: str) -> None:
    c = fit_growth(T, _noisy_od(model, seed=7), model=model)  # type: ignore[arg-type]
    assert c.status == "ok"
    assert c.fit is not None
    assert c.fit.mu_max.covers(TRUE["mu"])
    assert c.fit.lag_h.covers(TRUE["lag"])
    assert c.fit.a.covers(TRUE["a"])
    assert c.fit.y0.covers(Y0)
    assert c.fit.r_squared > 0.99
    # the intervals are informative, not merely wide
    assert c.fit.mu_max.ci_high - c.fit.mu_max.ci_low < 0.1
    assert c.fit.lag_h.ci_high - c.fit.lag_h.ci_low < 0.5
    td = c.fit.doubling_time_h
    assert td.value == pytest.approx(math.log(2) / c.mu_max)
    assert td.ci_low < math.log(2) / TRUE["mu"] < td.ci_high


@pytest.mark.parametrize("model", ["gompertz", "logistic"])
def test_confidence_intervals_cover_the_truth_in_most_of_50_seeds(model: str) -> None:
    covered = {"mu": 0, "lag": 0, "a": 0}
    for seed in range(50):
        fit = fit_growth(T, _noisy_od(model, seed), model=model, model_free=False).fit  # type: ignore[arg-type]
        assert fit is not None
        covered["mu"] += fit.mu_max.covers(TRUE["mu"])
        covered["lag"] += fit.lag_h.covers(TRUE["lag"])
        covered["a"] += fit.a.covers(TRUE["a"])
    # nominal 95 % is 47.5 of 50; Binomial(50, 0.95) falls below 42 with probability < 1 %,
    # and Wald intervals of a nonlinear model may undercover a little
    assert min(covered.values()) >= 40, covered
    # and they are not trivially wide: they do not cover a 10 % error in mu
    for s in range(5):
        fit = fit_growth(T, _noisy_od(model, s), model=model, model_free=False).fit  # type: ignore[arg-type]
        assert fit is not None
        assert not fit.mu_max.covers(0.88)


@pytest.mark.parametrize("model", ["gompertz", "logistic", "baranyi"])
def test_clean_data_is_fitted_exactly(model: str) -> None:
    od = np.exp(Y0 + MODELS[model](T, TRUE["a"], TRUE["mu"], TRUE["lag"]))
    c = fit_growth(T, od, model=model)  # type: ignore[arg-type]
    assert c.fit is not None
    assert c.mu_max == pytest.approx(TRUE["mu"], rel=1e-4)
    assert c.lag_h == pytest.approx(TRUE["lag"], abs=1e-3)
    assert c.fit.a.value == pytest.approx(TRUE["a"], rel=1e-4)
    assert c.rejected_time_h == ()
    np.testing.assert_allclose(c.fit.predict(T), np.log(od), atol=1e-5)


@pytest.mark.parametrize("model", ["gompertz", "logistic"])
def test_spline_mu_max_agrees_with_the_model_on_clean_data(model: str) -> None:
    od = np.exp(Y0 + MODELS[model](T, TRUE["a"], TRUE["mu"], TRUE["lag"]))
    c = fit_growth(T, od, model=model)  # type: ignore[arg-type]
    assert c.model_free is not None
    assert c.model_free.mu_max == pytest.approx(c.mu_max, rel=0.01)
    assert c.model_free.lag_h == pytest.approx(c.lag_h, abs=0.1)
    # the easy-linear window (5 points = 1 h) underestimates the peak slope a little
    assert c.model_free.mu_max_window == pytest.approx(c.mu_max, rel=0.03)


def test_spline_mu_max_agrees_with_the_model_on_noisy_data() -> None:
    c = fit_growth(T, _noisy_od("gompertz", seed=3, sd=0.02))
    assert c.model_free is not None
    assert c.model_free.mu_max == pytest.approx(c.mu_max, rel=0.08)


def test_a_spike_does_not_move_mu_max() -> None:
    od = _noisy_od("gompertz", seed=11, sd=0.02)
    reference = fit_growth(T, od).mu_max
    spiked = od.copy()
    spiked[24] *= 3.0  # 6 h, mid-exponential: an air bubble or a condensation drop
    c = fit_growth(T, spiked)
    assert c.rejected_time_h == (T[24],)
    assert c.mu_max == pytest.approx(reference, rel=0.01)
    # without the filter the same spike does move it
    unfiltered = fit_growth(T, spiked, spike_min=math.inf)
    assert unfiltered.rejected_time_h == ()
    assert abs(unfiltered.mu_max - reference) > 2 * abs(c.mu_max - reference)


def test_a_well_that_never_grows_is_flagged() -> None:
    rng = np.random.default_rng(1)
    c = fit_growth(T, 0.01 + rng.normal(0, 0.0005, T.size), well="B3")
    assert c.status == "no_growth"
    assert c.fit is None
    assert math.isnan(c.mu_max)
    assert c.yield_od < 0.05


def test_yield_and_non_positive_reads() -> None:
    od = np.exp(Y0 + gompertz(T, 4.0, 0.8, 3.0))
    od[:3] = [-0.002, 0.0, np.nan]  # blank-subtracted noise around zero, a missing read
    c = fit_growth(T, od)
    assert c.n_points == T.size - 3
    assert c.yield_od == pytest.approx(0.01 * math.exp(4.0) - c.initial_od, rel=1e-3)
    assert c.mu_max == pytest.approx(0.8, rel=1e-3)


def test_too_few_points_and_bad_times() -> None:
    assert fit_growth([0, 1, 2], [0.1, 0.2, 0.4]).status == "too_few_points"
    with pytest.raises(ValidationError, match="times must increase"):
        fit_growth([0, 2, 1, 3], [0.1, 0.2, 0.3, 0.4])


def _reading(values: np.ndarray, pm: PlateMap | None = None) -> PlateReading:
    wells = (
        tuple(pm.wells[i].well for i in range(values.shape[1]))
        if pm
        else tuple(f"A{j + 1}" for j in range(values.shape[1]))
    )
    return PlateReading(np.arange(values.shape[0], dtype=float), wells, values, plate_map=pm)


def test_blank_subtraction_per_time_point_is_exact() -> None:
    pm = PlateMap.from_records(
        [
            {"well": "A1", "sample": "wt"},
            {"well": "A2", "role": "blank"},
            {"well": "A3", "sample": "medium"},
        ]
    )
    values = np.array([[0.50, 0.04, 0.06], [0.75, 0.05, np.nan], [1.00, 0.07, 0.05]])
    out = subtract_blank(_reading(values, pm))
    assert pm.blanks == ("A2", "A3")
    np.testing.assert_array_equal(out.well("A1"), values[:, 0] - np.array([0.05, 0.05, 0.06]))
    assert out.history == ("blank: mean of A2, A3 per time point subtracted",)
    const = subtract_blank(_reading(values, pm), 0.045)
    np.testing.assert_array_equal(const.values, values - 0.045)


def test_blank_subtraction_needs_blank_wells() -> None:
    with pytest.raises(ValidationError, match=r"field 'blank'.*no blank wells"):
        subtract_blank(_reading(np.ones((3, 2))))


def test_replicate_statistics_and_modified_z_outlier() -> None:
    st = ReplicateStats.of([0.8, 0.9, 1.0, math.nan])
    assert st.n == 3
    assert st.mean == pytest.approx(0.9)
    assert st.sd == pytest.approx(0.1)
    assert st.cv == pytest.approx(0.1 / 0.9)
    z = modified_z_scores([0.80, 0.81, 0.79, 0.80, 1.20])
    assert abs(z[-1]) > 3.5
    assert np.all(np.abs(z[:-1]) < 3.5)
    assert modified_z_scores([1.0, 1.0, 1.0]).tolist() == [0.0, 0.0, 0.0]


def test_analyse_a_gen5_plate() -> None:
    pm = read_plate_map(DATA / "plate_map.csv")
    with pytest.warns(AssayWarning, match="OVRFLW"):
        reading = read_kinetic(DATA / "gen5_kinetic.csv", plate_map=pm)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = analyse_growth(reading, model="gompertz")
    assert [c.well for c in result.curves] == ["A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2", "B3"]
    by = {r.sample: r for r in result.replicates}
    assert set(by) == {"wt", "mutX", "slow"}
    assert by["wt"].mu_max.n == 3
    assert by["wt"].mu_max.mean == pytest.approx(0.8, rel=0.03)
    assert by["wt"].lag_h.mean == pytest.approx(3.0, abs=0.2)
    assert by["wt"].mu_max.cv < 0.05
    assert by["wt"].outliers == ()
    assert by["mutX"].outliers == ("A6",)
    assert by["slow"].no_growth == ("B3",)
    assert by["slow"].mu_max.mean == pytest.approx(0.3, rel=0.05)
    # the curve with the OVRFLW read is fitted without it
    a2 = result.curve("A2")
    assert a2.n_points == 48
    assert a2.mu_max == pytest.approx(0.8, rel=0.05)
    frame = result.to_frame()
    assert len(frame) == 9
    assert {
        "mu_max",
        "mu_max_ci_low",
        "lag_h",
        "doubling_time_h",
        "yield_od",
        "mu_max_spline",
    } <= set(frame.columns)
    reps = result.replicates_frame()
    assert reps.set_index("sample").loc["mutX", "outliers"] == "A6"
    excluded = analyse_growth(reading, exclude_outliers=True)
    mutx = {r.sample: r for r in excluded.replicates}["mutX"]
    assert mutx.mu_max.n == 2
    assert mutx.mu_max.mean == pytest.approx(0.5, rel=0.05)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown model"):
        analyse_growth(_reading(np.ones((10, 1))), model="richards", blank=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["gompertz", "logistic"])
def test_zwietering_parameters_mean_what_they_say(model: str) -> None:
    # mu is the slope at the inflection point, lambda where that tangent crosses y = 0,
    # A the asymptote (Zwietering et al. 1990, Fig. 1)
    t = np.linspace(0, 40, 400_001)
    y = MODELS[model](t, 4.0, 0.8, 3.0)
    slope = np.gradient(y, t)
    i = int(np.argmax(slope))
    assert slope[i] == pytest.approx(0.8, rel=1e-6)
    assert t[i] - y[i] / slope[i] == pytest.approx(3.0, abs=1e-4)
    assert y[-1] == pytest.approx(4.0, rel=1e-6)


def test_baranyi_noisy_fit_covers_the_truth() -> None:
    c = fit_growth(T, _noisy_od("baranyi", seed=5), model="baranyi")
    assert c.fit is not None
    assert c.fit.mu_max.covers(TRUE["mu"])
    assert c.fit.lag_h.covers(TRUE["lag"])
    assert c.fit.a.covers(TRUE["a"])
