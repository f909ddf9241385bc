r"""Growth curves: blank subtraction, model fits with confidence intervals, model-free rates.

The steps, per well, are those of growthcurver, QurvE and grofit:

1. **Blank subtraction** (:func:`subtract_blank`): the mean of the plate map's blank
   (medium) wells at each time point, or a constant, is subtracted from every well.
2. **ln transform**: :math:`y = \ln \mathrm{OD}`. Reads at or below ``od_floor``
   (non-positive after blank subtraction) cannot be log-transformed and are left out.
3. **No growth**: a well whose OD rises by less than ``min_growth_od`` (default 0.05
   after blank subtraction; the rise is measured on a 5-point running median, so a single
   spike does not make a well "grow") is flagged ``status="no_growth"`` and not fitted.
4. **Spike rejection** (residual-based): the model is first fitted with a robust loss
   (``soft_l1``, scale 0.05 in ln units), so that a single spike (an air bubble, a
   condensation drop) barely pulls the curve. A read is a spike when its residual is
   outlying **on both scales**: on the ln scale, :math:`|r_i| > \max(k\sigma, \delta)` with
   :math:`\sigma = 1.4826\,\mathrm{MAD}(r)` (``spike_threshold`` :math:`k = 4`,
   ``spike_min`` :math:`\delta = 0.1`, a ~10 % jump), and on the OD scale, by the same rule
   with the floor ``spike_min_od`` = 0.01 OD. Spikes are reported in
   :attr:`GrowthCurve.rejected_time_h` and left out of the final least-squares fit and of the
   model-free rates. Residuals of a model, unlike those from a running median, carry no
   curvature of the exponential phase, so steep clean stretches are never rejected; the
   OD-scale test keeps the large ln-scale scatter of reads near the blank (where a 0.001 OD
   fluctuation is 10 % of the signal) from being taken for spikes; the floors keep a near
   noise-free curve from losing reads to a tiny :math:`\sigma`. Pass ``spike_min=math.inf``
   to switch rejection off.
5. **Model fit** by nonlinear least squares (:func:`scipy.optimize.least_squares`, trust-region
   reflective, bounded) of :math:`y(t) = y_0 + f(t; A, \mu_m, \lambda)`, with :math:`f` one of
   the models of Zwietering et al. (1990), in their parameterisation: :math:`A = \ln(N_\infty
   / N_0)` the asymptote, :math:`\mu_m` the maximum specific growth rate (1/h), :math:`\lambda`
   the lag time (h, where the tangent at the inflection point crosses :math:`y_0`):

   * modified Gompertz:
     :math:`f = A \exp\{-\exp[\mu_m e (\lambda - t)/A + 1]\}`
   * logistic:
     :math:`f = A / \{1 + \exp[4 \mu_m (\lambda - t)/A + 2]\}`
   * Baranyi–Roberts (Baranyi & Roberts 1994), with curvature :math:`m = 1`,
     :math:`\nu = \mu_m` and :math:`h_0 = \mu_m \lambda`:
     :math:`f = \mu_m B(t) - \ln\{1 + [e^{\mu_m B(t)} - 1]/e^{A}\}`,
     :math:`B(t) = t + \mu_m^{-1}\ln(e^{-\mu_m t} + e^{-h_0} - e^{-\mu_m t - h_0})`.

   The covariance of the four parameters :math:`(y_0, A, \mu_m, \lambda)` is
   :math:`s^2 (J^\top J)^{-1}` with :math:`J` the Jacobian at the optimum and
   :math:`s^2 = \mathrm{SSR}/(n - 4)` (as :func:`scipy.optimize.curve_fit`); standard errors
   are the square roots of its diagonal and 95 % confidence intervals are
   :math:`\hat\theta \pm t_{0.975,\,n-4}\,\mathrm{SE}` (Wald intervals; they assume
   independent errors of constant variance on the ln scale). :math:`R^2 = 1 - \mathrm{SSR}/
   \mathrm{SST}` on the ln scale.
6. **Model free** (:class:`ModelFreeGrowth`): :math:`\mu_{max}` is the maximum derivative
   of a cubic smoothing spline of :math:`y(t)` whose smoothing is chosen by generalised
   cross-validation (:func:`scipy.interpolate.make_smoothing_spline`; QurvE's and grofit's
   spline fit), with the lag where its tangent there crosses the spline's starting value;
   and, for comparison, the largest slope of an ordinary least-squares line through any
   ``window`` consecutive points (Hall et al. 2014, the "easy linear" method of growthrates).
7. **Derived**: doubling time :math:`t_d = \ln 2/\mu_m` (interval from that of
   :math:`\mu_m`); yield :math:`\mathrm{OD}_{max} - \mathrm{OD}_{0}`, the largest 5-point
   running median of the (blank-subtracted) reads minus the median of the first three.

Replicates (:class:`ReplicateSummary`): mean, standard deviation (:math:`n-1`) and
coefficient of variation per sample, and a replicate outlier test on :math:`\mu_m` by the
modified z-score :math:`M_i = 0.6745 (x_i - \tilde x)/\mathrm{MAD}`, outlier when
:math:`|M_i| > 3.5` (Iglewicz & Hoaglin 1993) and more than 10 % from the median, with at
least three replicates. Outliers are flagged, and kept in the statistics unless
``exclude_outliers=True``.

References
----------
Zwietering, M. H., Jongenburger, I., Rombouts, F. M. & van 't Riet, K. (1990). Modeling of
the bacterial growth curve. *Appl. Environ. Microbiol.* 56:1875-1881.
Baranyi, J. & Roberts, T. A. (1994). A dynamic approach to predicting bacterial growth in
food. *Int. J. Food Microbiol.* 23:277-294.
Hall, B. G., Acar, H., Nandipati, A. & Barlow, M. (2014). Growth rates made easy.
*Mol. Biol. Evol.* 31:232-238.
Iglewicz, B. & Hoaglin, D. C. (1993). *How to Detect and Handle Outliers.* ASQC.
Sprouffske, K. & Wagner, A. (2016). Growthcurver. *BMC Bioinformatics* 17:172.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from cellfoundry.assay.readers import PlateReading
from cellfoundry.core.errors import ValidationError

__all__ = [
    "GROWTH_MODELS",
    "GrowthAnalysis",
    "GrowthCurve",
    "GrowthModel",
    "GrowthStatus",
    "ModelFit",
    "ModelFreeGrowth",
    "Parameter",
    "ReplicateStats",
    "ReplicateSummary",
    "analyse_growth",
    "baranyi",
    "fit_growth",
    "gompertz",
    "logistic",
    "modified_z_scores",
    "subtract_blank",
    "summarise_replicates",
]

FloatArray = npt.NDArray[np.float64]
GrowthModel = Literal["gompertz", "logistic", "baranyi"]
GrowthStatus = Literal["ok", "no_growth", "too_few_points", "fit_failed"]

_LN2: Final = math.log(2)
_PARAMETER_NAMES: Final = ("y0", "A", "mu_max", "lag_h")
_OUTLIER_Z: Final = 3.5
_MAD_TO_SIGMA: Final = 1.4826
_ROBUST_SCALE: Final = 0.05
"""Scale (ln units) of the soft-L1 loss of the first, robust fit."""


# --- the models ------------------------------------------------------------------------------


def gompertz(t: FloatArray, a: float, mu: float, lag: float) -> FloatArray:
    r"""Return the modified Gompertz curve (Zwietering 1990), :math:`\ln(N/N_0)` at ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> y = gompertz(np.array([0.0, 50.0]), a=3.0, mu=1.0, lag=2.0)
    >>> bool(y[0] < 0.01), round(float(y[1]), 6)
    (True, 3.0)
    """
    return np.asarray(a * np.exp(-np.exp(mu * math.e / a * (lag - t) + 1.0)), dtype=float)


def logistic(t: FloatArray, a: float, mu: float, lag: float) -> FloatArray:
    r"""Logistic curve of Zwietering et al. (1990), :math:`\ln(N/N_0)` at ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(logistic(np.array([100.0]), a=2.0, mu=0.5, lag=1.0)[0]), 6)
    2.0
    """
    with np.errstate(over="ignore"):
        return np.asarray(a / (1.0 + np.exp(4.0 * mu / a * (lag - t) + 2.0)), dtype=float)


def _log_expm1(x: FloatArray) -> FloatArray:
    """``log(exp(x) - 1)`` for ``x >= 0`` without overflow."""
    x = np.maximum(x, 0.0)
    with np.errstate(divide="ignore", over="ignore"):
        big = x > 30.0
        return np.where(big, x + np.log1p(-np.exp(-np.where(big, x, 30.0))), np.log(np.expm1(x)))


def baranyi(t: FloatArray, a: float, mu: float, lag: float) -> FloatArray:
    r"""Baranyi–Roberts curve (1994) with :math:`m = 1`, :math:`h_0 = \mu\lambda`, for ``t >= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> y = baranyi(np.array([0.0, 100.0]), a=3.0, mu=1.0, lag=2.0)
    >>> round(float(y[0]), 9), round(float(y[1]), 6)
    (0.0, 3.0)
    """
    t = np.maximum(np.asarray(t, dtype=float), 0.0)
    h0 = mu * max(lag, 0.0)
    with np.errstate(divide="ignore"):
        # ln(e^{-mu t} + e^{-h0} (1 - e^{-mu t}))
        inner = np.logaddexp(-mu * t, -h0 + np.log1p(-np.exp(-mu * t)))
    b = t + inner / mu
    return np.asarray(mu * b - np.logaddexp(0.0, _log_expm1(mu * b) - a), dtype=float)


GROWTH_MODELS: Final[Mapping[str, Callable[[FloatArray, float, float, float], FloatArray]]] = {
    "gompertz": gompertz,
    "logistic": logistic,
    "baranyi": baranyi,
}
"""The model curves :math:`f(t; A, \\mu_m, \\lambda)` by name."""


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parameter:
    """A fitted parameter with its standard error and 95 % confidence interval."""

    name: str
    value: float
    stderr: float
    ci_low: float
    ci_high: float

    def covers(self, x: float) -> bool:
        """Whether ``x`` lies within the confidence interval."""
        return self.ci_low <= x <= self.ci_high

    def __repr__(self) -> str:
        return f"{self.name}={self.value:.4g} [{self.ci_low:.4g}, {self.ci_high:.4g}]"


@dataclass(frozen=True, slots=True)
class ModelFit:
    r"""A least-squares fit of one model to :math:`\ln \mathrm{OD}`."""

    model: GrowthModel
    y0: Parameter
    a: Parameter
    mu_max: Parameter
    lag_h: Parameter
    r_squared: float
    rmse: float
    n_points: int
    covariance: tuple[tuple[float, ...], ...]

    @property
    def doubling_time_h(self) -> Parameter:
        r"""Doubling time :math:`\ln 2/\mu_m`: SE by the delta method, CI from that of μ."""
        mu = self.mu_max
        return Parameter(
            "doubling_time_h",
            _LN2 / mu.value,
            _LN2 * mu.stderr / mu.value**2,
            _LN2 / mu.ci_high if mu.ci_high > 0 else math.inf,
            _LN2 / mu.ci_low if mu.ci_low > 0 else math.inf,
        )

    def predict(self, time_h: npt.ArrayLike) -> FloatArray:
        r"""Return the fitted :math:`\ln \mathrm{OD}` at ``time_h``."""
        f = GROWTH_MODELS[self.model]
        t = np.asarray(time_h, dtype=float)
        return self.y0.value + f(t, self.a.value, self.mu_max.value, self.lag_h.value)


@dataclass(frozen=True, slots=True)
class ModelFreeGrowth:
    r"""Model-free growth rates: smoothing-spline derivative and sliding-window regression.

    They agree with the Gompertz and logistic :math:`\mu_m`, which is the slope at the
    inflection point. The Baranyi :math:`\mu_m` (with :math:`m = 1`) is the rate the curve
    approaches but, for a small :math:`A`, never reaches: there the model-free rate is lower.
    """

    mu_max: float
    lag_h: float
    time_of_mu_max_h: float
    mu_max_window: float
    window: int


@dataclass(frozen=True, slots=True)
class GrowthCurve:
    """The analysis of one well's growth curve."""

    well: str
    sample: str | None
    replicate: int | None
    status: GrowthStatus
    fit: ModelFit | None
    model_free: ModelFreeGrowth | None
    initial_od: float
    max_od: float
    yield_od: float
    n_points: int
    rejected_time_h: tuple[float, ...] = ()
    message: str = ""

    @property
    def mu_max(self) -> float:
        r"""The model's :math:`\mu_m` (1/h), ``NaN`` without a fit."""
        return self.fit.mu_max.value if self.fit else math.nan

    @property
    def lag_h(self) -> float:
        """The model's lag time (h), ``NaN`` without a fit."""
        return self.fit.lag_h.value if self.fit else math.nan

    @property
    def doubling_time_h(self) -> float:
        r"""Doubling time :math:`\ln 2/\mu_m` (h), ``NaN`` without a fit."""
        return self.fit.doubling_time_h.value if self.fit else math.nan

    def __repr__(self) -> str:
        if self.fit is None:
            return f"<GrowthCurve {self.well} {self.sample or ''}: {self.status}>"
        return (
            f"<GrowthCurve {self.well} {self.sample or ''}: {self.fit.model} "
            f"{self.fit.mu_max!r}, {self.fit.lag_h!r}, R²={self.fit.r_squared:.4f}>"
        )

    def to_record(self) -> dict[str, Any]:
        """Return the results as a flat dict (one row of :meth:`GrowthAnalysis.to_frame`)."""
        rec: dict[str, Any] = {
            "well": self.well,
            "sample": self.sample,
            "replicate": self.replicate,
            "status": self.status,
            "model": self.fit.model if self.fit else None,
        }
        for name in ("mu_max", "lag_h", "a", "y0"):
            p = getattr(self.fit, name) if self.fit else None
            rec[name] = p.value if p else math.nan
            rec[f"{name}_se"] = p.stderr if p else math.nan
            rec[f"{name}_ci_low"] = p.ci_low if p else math.nan
            rec[f"{name}_ci_high"] = p.ci_high if p else math.nan
        rec["doubling_time_h"] = self.doubling_time_h
        rec["r_squared"] = self.fit.r_squared if self.fit else math.nan
        mf = self.model_free
        rec["mu_max_spline"] = mf.mu_max if mf else math.nan
        rec["lag_h_spline"] = mf.lag_h if mf else math.nan
        rec["mu_max_window"] = mf.mu_max_window if mf else math.nan
        rec["initial_od"] = self.initial_od
        rec["max_od"] = self.max_od
        rec["yield_od"] = self.yield_od
        rec["n_points"] = self.n_points
        rec["n_rejected"] = len(self.rejected_time_h)
        rec["message"] = self.message
        return rec


@dataclass(frozen=True, slots=True)
class ReplicateStats:
    """Mean, sample standard deviation and coefficient of variation of ``n`` replicates."""

    n: int
    mean: float
    sd: float
    cv: float

    @classmethod
    def of(cls, values: Sequence[float]) -> ReplicateStats:
        """Statistics of the finite ``values`` (SD with :math:`n-1`; ``NaN`` for ``n < 2``).

        Examples
        --------
        >>> ReplicateStats.of([1.0, 2.0, 3.0])
        ReplicateStats(n=3, mean=2.0, sd=1.0, cv=0.5)
        """
        x = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
        n = int(x.size)
        mean = float(x.mean()) if n else math.nan
        sd = float(x.std(ddof=1)) if n > 1 else math.nan
        cv = sd / abs(mean) if n > 1 and mean != 0 else math.nan
        return cls(n, mean, sd, cv)


@dataclass(frozen=True, slots=True)
class ReplicateSummary:
    """Replicate statistics of one sample (strain)."""

    sample: str
    wells: tuple[str, ...]
    mu_max: ReplicateStats
    lag_h: ReplicateStats
    a: ReplicateStats
    doubling_time_h: ReplicateStats
    yield_od: ReplicateStats
    mu_max_spline: ReplicateStats
    outliers: tuple[str, ...]
    no_growth: tuple[str, ...]

    def to_record(self) -> dict[str, Any]:
        """Return a flat dict: ``<quantity>_mean``, ``_sd``, ``_cv``, ``_n`` per quantity."""
        rec: dict[str, Any] = {"sample": self.sample, "n_wells": len(self.wells)}
        for name in ("mu_max", "lag_h", "a", "doubling_time_h", "yield_od", "mu_max_spline"):
            st: ReplicateStats = getattr(self, name)
            rec[f"{name}_n"] = st.n
            rec[f"{name}_mean"] = st.mean
            rec[f"{name}_sd"] = st.sd
            rec[f"{name}_cv"] = st.cv
        rec["outliers"] = ",".join(self.outliers)
        rec["no_growth"] = ",".join(self.no_growth)
        return rec


@dataclass(frozen=True, slots=True)
class GrowthAnalysis:
    """The growth curves of a plate and their replicate statistics."""

    curves: tuple[GrowthCurve, ...]
    replicates: tuple[ReplicateSummary, ...]
    model: GrowthModel
    source: str | None = None

    def curve(self, well: str) -> GrowthCurve:
        """Return the curve of one well."""
        for c in self.curves:
            if c.well == well:
                return c
        raise KeyError(well)

    def to_frame(self) -> Any:
        """One row per well (:meth:`GrowthCurve.to_record`) as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame([c.to_record() for c in self.curves])

    def replicates_frame(self) -> Any:
        """One row per sample (:meth:`ReplicateSummary.to_record`)."""
        import pandas as pd

        return pd.DataFrame([r.to_record() for r in self.replicates])


# --- blank subtraction -----------------------------------------------------------------------


def subtract_blank(reading: PlateReading, blank: float | Literal["map"] = "map") -> PlateReading:
    """Subtract the blank: the mean of the map's blank wells at each time point, or a constant.

    Parameters
    ----------
    reading
        The plate read.
    blank
        ``"map"`` for the per-time-point mean of the plate map's blank (medium) wells
        (``NaN`` reads left out), or a number to subtract from every read.

    Returns
    -------
    PlateReading
        A new reading; its ``history`` records the subtraction.

    Raises
    ------
    ValidationError
        ``"map"`` without a plate map or without blank wells.

    Examples
    --------
    >>> import numpy as np
    >>> from cellfoundry.assay.readers import PlateMap
    >>> pm = PlateMap.from_records(
    ...     [{"well": "A1", "sample": "wt"}, {"well": "A2", "role": "blank"}]
    ... )
    >>> r = PlateReading(np.array([0.0, 1.0]), ("A1", "A2"),
    ...                  np.array([[0.15, 0.05], [0.30, 0.06]]), plate_map=pm)
    >>> subtract_blank(r).well("A1").round(6).tolist()
    [0.1, 0.24]
    """
    if blank == "map":
        pm = reading.plate_map
        blanks = [w for w in (pm.blanks if pm else ()) if w in reading.wells]
        if not blanks:
            raise ValidationError(
                "no blank wells to subtract; give the plate map blank (medium) wells "
                "or pass blank= a constant",
                source=reading.source,
                field="blank",
            )
        cols = [reading.wells.index(w) for w in blanks]
        sub = reading.values[:, cols]
        finite = np.isfinite(sub)
        counts = finite.sum(axis=1)
        per_time = np.where(
            counts > 0, np.where(finite, sub, 0.0).sum(axis=1) / np.maximum(counts, 1), np.nan
        )
        values = reading.values - per_time[:, None]
        note = f"blank: mean of {', '.join(blanks)} per time point subtracted"
    else:
        values = reading.values - float(blank)
        note = f"blank: constant {float(blank):g} subtracted"
    return dataclasses.replace(
        reading, values=np.array(values, dtype=float), history=(*reading.history, note)
    )


# --- one curve -------------------------------------------------------------------------------


def _running_median(y: FloatArray, window: int) -> FloatArray:
    """Return the running median, the ends padded with the end values."""
    half = window // 2
    padded = np.pad(y, half, mode="edge")
    return np.asarray(
        np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1),
        dtype=float,
    )


def _window_rate(t: FloatArray, y: FloatArray, window: int) -> tuple[float, float]:
    """Largest OLS slope over ``window`` consecutive points, and the lag of its line."""
    w = min(window, t.size)
    tt = np.lib.stride_tricks.sliding_window_view(t, w)
    yy = np.lib.stride_tricks.sliding_window_view(y, w)
    tc = tt - tt.mean(axis=1, keepdims=True)
    slopes = (tc * (yy - yy.mean(axis=1, keepdims=True))).sum(axis=1) / (tc * tc).sum(axis=1)
    j = int(np.argmax(slopes))
    mu = float(slopes[j])
    lag = float(tt[j].mean() - (yy[j].mean() - np.median(y[:3])) / mu) if mu > 0 else math.nan
    return mu, lag


def _model_free(t: FloatArray, y: FloatArray, window: int) -> ModelFreeGrowth:
    from scipy.interpolate import make_smoothing_spline

    spline = make_smoothing_spline(t, y)
    grid = np.linspace(t[0], t[-1], max(2000, 20 * t.size))
    slope = spline.derivative()(grid)
    i = int(np.argmax(slope))
    mu = float(slope[i])
    t_star = float(grid[i])
    lag = t_star - (float(spline(t_star)) - float(spline(t[0]))) / mu if mu > 0 else math.nan
    return ModelFreeGrowth(mu, lag, t_star, _window_rate(t, y, window)[0], min(window, t.size))


def _try_model_free(t: FloatArray, y: FloatArray, window: int) -> ModelFreeGrowth | None:
    try:
        return _model_free(t, y, window)
    except (ValueError, np.linalg.LinAlgError):
        return None


def _covariance(jac: FloatArray, ssr: float, dof: int) -> FloatArray:
    """``s² (JᵀJ)⁻¹`` by a truncated SVD, as :func:`scipy.optimize.curve_fit` computes it."""
    _, s, vt = np.linalg.svd(jac, full_matrices=False)
    threshold = np.finfo(float).eps * max(jac.shape) * s[0]
    keep = s > threshold
    s, vt = s[keep], vt[keep]
    cov = (vt.T / s**2) @ vt
    if keep.sum() < jac.shape[1]:
        cov = np.full((jac.shape[1], jac.shape[1]), np.inf)
    return np.asarray(cov * (ssr / dof), dtype=float)


def _outlying(r: FloatArray, k: float, floor: float) -> npt.NDArray[np.bool_]:
    """Mask of residuals beyond ``max(k * 1.4826 MAD, floor)``."""
    sigma = _MAD_TO_SIGMA * float(np.median(np.abs(r - np.median(r))))
    return np.asarray(np.abs(r) > max(k * sigma, floor), dtype=bool)


def _fit_model(
    t_all: FloatArray,
    y_all: FloatArray,
    model: GrowthModel,
    guess: tuple[float, float, float, float],
    *,
    spike_threshold: float,
    spike_min: float,
    spike_min_od: float,
) -> tuple[ModelFit, npt.NDArray[np.bool_]]:
    """Robust fit, spike rejection, least-squares refit; return the fit and the accepted mask."""
    from scipy.optimize import least_squares
    from scipy.stats import t as student_t

    f = GROWTH_MODELS[model]
    t, y = t_all, y_all
    span = float(t[-1] - t[0])

    def residuals(p: FloatArray) -> FloatArray:
        return np.asarray(p[0] + f(t, p[1], p[2], p[3]) - y, dtype=float)

    lag_low = 0.0 if model == "baranyi" else float(t[0]) - span
    lower = np.array([-np.inf, 1e-6, 1e-6, lag_low])
    upper = np.array([np.inf, np.inf, np.inf, float(t[-1])])
    y0g, ag, mug, lagg = guess
    starts = [
        (y0g, ag, mug, lagg),
        (y0g, ag, mug, float(t[0]) + 0.25 * span),
        (y0g, ag * 1.2, mug * 0.7, float(t[0]) + 0.1 * span),
    ]
    sst_all = float(np.sum((y - y.mean()) ** 2))
    best: Any = None
    for start in starts:
        p0 = np.clip(np.array(start, dtype=float), lower + 1e-9, upper - 1e-9)
        res = least_squares(
            residuals,
            p0,
            bounds=(lower, upper),
            jac="2-point",
            x_scale="jac",
            loss="soft_l1",
            f_scale=_ROBUST_SCALE,
        )
        if res.success and (best is None or res.cost < best.cost):
            best = res
        # a good first start (R² > 0.98 on all reads) needs no others
        if best is not None and float(np.sum(best.fun**2)) < 0.02 * sst_all:
            break
    if best is None:
        raise RuntimeError("least squares did not converge from any start")
    r = np.asarray(best.fun, dtype=float)
    r_od = np.exp(y + r) - np.exp(y)
    accept = ~(
        _outlying(r, spike_threshold, spike_min) & _outlying(r_od, spike_threshold, spike_min_od)
    )
    if accept.sum() < 7:
        accept = np.ones(t.size, dtype=bool)
    t, y = t_all[accept], y_all[accept]
    best = least_squares(residuals, best.x, bounds=(lower, upper), jac="3-point", x_scale="jac")
    if not best.success:
        raise RuntimeError(f"least squares did not converge: {best.message}")
    n, p = t.size, 4
    ssr = float(2 * best.cost)
    dof = n - p
    cov = _covariance(np.asarray(best.jac, dtype=float), ssr, dof)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    q = float(student_t.ppf(0.975, dof))
    params = [
        Parameter(name, float(v), float(s), float(v - q * s), float(v + q * s))
        for name, v, s in zip(_PARAMETER_NAMES, best.x, se, strict=True)
    ]
    sst = float(np.sum((y - y.mean()) ** 2))
    fit = ModelFit(
        model=model,
        y0=params[0],
        a=params[1],
        mu_max=params[2],
        lag_h=params[3],
        r_squared=1.0 - ssr / sst if sst > 0 else math.nan,
        rmse=math.sqrt(ssr / n),
        n_points=n,
        covariance=tuple(tuple(float(c) for c in row) for row in cov),
    )
    return fit, accept


def fit_growth(
    time_h: npt.ArrayLike,
    od: npt.ArrayLike,
    *,
    model: GrowthModel = "gompertz",
    well: str = "",
    sample: str | None = None,
    replicate: int | None = None,
    od_floor: float = 0.0,
    spike_threshold: float = 4.0,
    spike_min: float = 0.1,
    spike_min_od: float = 0.01,
    min_growth_od: float = 0.05,
    window: int = 5,
    model_free: bool = True,
) -> GrowthCurve:
    r"""Analyse one (blank-subtracted) growth curve; see the module docstring for the steps.

    Parameters
    ----------
    time_h, od
        Times (h) and optical densities; ``NaN`` reads are left out.
    model
        ``"gompertz"``, ``"logistic"`` or ``"baranyi"``.
    well, sample, replicate
        Labels carried into the result.
    od_floor
        Reads at or below it are left out before the ln transform.
    spike_threshold, spike_min, spike_min_od
        Spike rejection: threshold in robust SDs of the residuals, floors in ln units
        and in OD.
    min_growth_od
        An OD rise below it flags the well ``"no_growth"``.
    window
        Points per line of the sliding-window (easy-linear) rate.
    model_free
        Compute :class:`ModelFreeGrowth` too (the GCV spline is most of the run time).

    Returns
    -------
    GrowthCurve
        ``status`` says whether a fit was made; a failing fit is reported, not raised.

    Raises
    ------
    ValidationError
        When ``time_h`` and ``od`` differ in length or times do not increase.

    References
    ----------
    Zwietering et al. (1990) *Appl. Environ. Microbiol.* 56:1875.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 24, 97)
    >>> od = 0.01 * np.exp(gompertz(t, a=4.0, mu=0.8, lag=3.0))
    >>> c = fit_growth(t, od, model="gompertz")
    >>> round(c.mu_max, 3), round(c.lag_h, 3), round(c.fit.a.value, 3)
    (0.8, 3.0, 4.0)
    """
    t_all = np.asarray(time_h, dtype=float).ravel()
    od_all = np.asarray(od, dtype=float).ravel()
    if t_all.shape != od_all.shape:
        raise ValidationError(
            f"{t_all.size} times but {od_all.size} reads", record=well or None, field="od"
        )
    if np.any(np.diff(t_all) <= 0):
        raise ValidationError("times must increase", record=well or None, field="time_h")
    ok = np.isfinite(od_all) & np.isfinite(t_all) & (od_all > od_floor)
    t, x = t_all[ok], od_all[ok]
    empty: dict[str, Any] = {
        "well": well,
        "sample": sample,
        "replicate": replicate,
        "fit": None,
        "model_free": None,
    }
    if t.size < 7:
        return GrowthCurve(
            **empty,
            status="too_few_points",
            initial_od=math.nan,
            max_od=math.nan,
            yield_od=math.nan,
            n_points=int(t.size),
            message=f"{t.size} usable reads (need 7)",
        )
    y = np.log(x)
    initial = float(np.median(x[:3]))
    max_od = float(np.max(_running_median(x, 5)))
    yield_od = max_od - initial
    common: dict[str, Any] = {
        "well": well,
        "sample": sample,
        "replicate": replicate,
        "initial_od": initial,
        "max_od": max_od,
        "yield_od": yield_od,
        "n_points": int(t.size),
    }
    if yield_od < min_growth_od:
        return GrowthCurve(
            **common,
            status="no_growth",
            fit=None,
            model_free=None,
            message=f"OD rose by {yield_od:.3g} < {min_growth_od:g}",
        )
    ys = _running_median(y, 5)
    mu_guess, lag_guess = _window_rate(t, ys, window)
    if not mu_guess > 0:
        mu_guess = max((ys[-1] - ys[0]) / (t[-1] - t[0]), 1e-3)
    if not math.isfinite(lag_guess):
        lag_guess = float(t[0])
    guess = (float(ys[0]), float(max(ys.max() - ys[0], 1e-3)), float(mu_guess), float(lag_guess))
    try:
        fit, accept = _fit_model(
            t,
            y,
            model,
            guess,
            spike_threshold=spike_threshold,
            spike_min=spike_min,
            spike_min_od=spike_min_od,
        )
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
        return GrowthCurve(
            **common,
            status="fit_failed",
            fit=None,
            model_free=_try_model_free(t, y, window) if model_free else None,
            message=str(exc),
        )
    common["n_points"] = int(accept.sum())
    common["rejected_time_h"] = tuple(float(v) for v in t[~accept])
    free = _try_model_free(t[accept], y[accept], window) if model_free else None
    return GrowthCurve(**common, status="ok", fit=fit, model_free=free)


# --- a plate ---------------------------------------------------------------------------------


def modified_z_scores(values: Sequence[float]) -> FloatArray:
    r"""Return modified z-scores :math:`0.6745 (x_i - \tilde x)/\mathrm{MAD}` (Iglewicz, Hoaglin).

    When the MAD is zero the mean absolute deviation (times 1.2533) stands in; when
    that is zero too every score is zero.

    Examples
    --------
    >>> modified_z_scores([1.0, 1.02, 0.98, 2.0]).round(1).tolist()
    [-0.3, 0.3, -1.0, 33.4]
    """
    x = np.asarray(values, dtype=float)
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med)))
    if mad > 0:
        return np.asarray(0.6745 * (x - med) / mad, dtype=float)
    mean_ad = float(np.mean(np.abs(x - med)))
    if mean_ad > 0:
        return np.asarray((x - med) / (1.253314 * mean_ad), dtype=float)
    return np.zeros_like(x)


def summarise_replicates(
    curves: Sequence[GrowthCurve],
    *,
    exclude_outliers: bool = False,
    outlier_min_rel_diff: float = 0.1,
) -> tuple[ReplicateSummary, ...]:
    """Group curves by sample; statistics and the μ outlier test per sample.

    A curve without a sample is its own group (named by its well). A fitted replicate is
    an outlier when its modified z-score on μ exceeds 3.5 *and* it differs from the
    median μ by more than ``outlier_min_rel_diff`` (10 %): with three replicates the MAD
    is the smaller of two gaps and can be tiny, so the z-score alone would flag
    replicates that agree within measurement precision.
    """
    groups: dict[str, list[GrowthCurve]] = {}
    for c in curves:
        groups.setdefault(c.sample or c.well, []).append(c)
    out: list[ReplicateSummary] = []
    for sample, members in groups.items():
        fitted = [c for c in members if c.status == "ok"]
        outliers: tuple[str, ...] = ()
        if len(fitted) >= 3:
            mus = [c.mu_max for c in fitted]
            z = modified_z_scores(mus)
            med = float(np.median(mus))
            outliers = tuple(
                c.well
                for c, score in zip(fitted, z, strict=True)
                if abs(score) > _OUTLIER_Z and abs(c.mu_max - med) > outlier_min_rel_diff * med
            )
        used = [c for c in fitted if not (exclude_outliers and c.well in outliers)]
        grown = [c for c in members if c.status != "no_growth"]
        out.append(
            ReplicateSummary(
                sample=sample,
                wells=tuple(c.well for c in members),
                mu_max=ReplicateStats.of([c.mu_max for c in used]),
                lag_h=ReplicateStats.of([c.lag_h for c in used]),
                a=ReplicateStats.of([c.fit.a.value for c in used if c.fit]),
                doubling_time_h=ReplicateStats.of([c.doubling_time_h for c in used]),
                yield_od=ReplicateStats.of(
                    [c.yield_od for c in grown if not (exclude_outliers and c.well in outliers)]
                ),
                mu_max_spline=ReplicateStats.of(
                    [c.model_free.mu_max for c in used if c.model_free]
                ),
                outliers=outliers,
                no_growth=tuple(c.well for c in members if c.status == "no_growth"),
            )
        )
    return tuple(out)


def analyse_growth(
    reading: PlateReading,
    *,
    model: GrowthModel = "gompertz",
    blank: float | Literal["map"] | None = "map",
    exclude_outliers: bool = False,
    outlier_min_rel_diff: float = 0.1,
    **options: Any,
) -> GrowthAnalysis:
    """Blank-subtract a plate read, analyse every sample well, and summarise replicates.

    Parameters
    ----------
    reading
        An OD read (:func:`~cellfoundry.assay.readers.read_kinetic`).
    model
        ``"gompertz"``, ``"logistic"`` or ``"baranyi"``.
    blank
        ``"map"`` (blank wells of the plate map, per time point), a constant, or ``None``
        when the reads are already blank-subtracted.
    exclude_outliers
        Leave replicate outliers out of the statistics (they are flagged either way).
    outlier_min_rel_diff
        The smallest relative difference from the median μ that counts as an outlier.
    **options
        Passed to :func:`fit_growth` (``od_floor``, ``spike_threshold``, ``min_growth_od`` ...).

    Returns
    -------
    GrowthAnalysis
        One :class:`GrowthCurve` per sample well (all wells without a plate map), and one
        :class:`ReplicateSummary` per sample.
    """
    if model not in GROWTH_MODELS:
        raise ValidationError(
            f"unknown model {model!r}; use one of {', '.join(GROWTH_MODELS)}", field="model"
        )
    data = reading if blank is None else subtract_blank(reading, blank)
    pm = data.plate_map
    curves: list[GrowthCurve] = []
    for j, well in enumerate(data.wells):
        info = pm[well] if pm is not None and well in pm else None
        if info is not None and info.role != "sample":
            continue
        curves.append(
            fit_growth(
                data.time_h,
                data.values[:, j],
                model=model,
                well=well,
                sample=info.sample if info else None,
                replicate=info.replicate if info else None,
                **options,
            )
        )
    return GrowthAnalysis(
        tuple(curves),
        summarise_replicates(
            curves, exclude_outliers=exclude_outliers, outlier_min_rel_diff=outlier_min_rel_diff
        ),
        model,
        data.source,
    )
