r"""An ensemble recommender for the Learn of Design-Build-Test-Learn.

After ART, the Automated Recommendation Tool (Radivojević et al. 2020): several
scikit-learn regressors are fitted to the measured strains, weighted by how well they
predict held-out strains in cross-validation, and combined into one predictive
distribution per candidate design. The next strains are chosen by an acquisition function
(expected improvement, upper confidence bound or Thompson sampling, as in Bayesian
optimisation à la BioAutomata), one batch at a time, with a diversity rule.

Predictive distribution. Model ``m`` gives a mean ``μ_m(x)`` and, where it has one, a
variance ``s_m²(x)`` (spread of a forest's trees; a Gaussian process's latent variance;
a Bayesian ridge's posterior variance; the spread of a k-NN's neighbours). With ensemble
weights ``w_m`` the mixture has

.. math::

    μ(x) = \sum_m w_m μ_m(x), \qquad
    σ^2(x) = \sum_m w_m \left(s_m^2(x) + μ_m(x)^2\right) - μ(x)^2,

that is, within-model variance plus the spread between models.

Weights come from out-of-fold predictions ``P`` (strains x models): ``"stacking"`` solves
non-negative least squares ``min ||P w - y||`` and normalises ``w``; ``"bma"`` uses
pseudo-Bayesian model averaging, ``w_m ∝ exp(Σ_i log N(y_i; P_im, MSE_m))``, which is
``MSE_m^{-n/2}``; ``"equal"`` weighs every model alike.

References
----------
Radivojević T, Costello Z, Workman K, Garcia Martin H (2020). A machine learning Automated
Recommendation Tool for synthetic biology. Nat Commun 11:4879.
HamediRad M et al. (2019). Towards a fully automated algorithm driven platform for
biosystems design. Nat Commun 10:5150.
van Lent P, Schmitz J, Abeel T (2023). Simulated design-build-test-learn cycles for
consistent comparison of machine learning methods in metabolic engineering.
ACS Synth Biol 12(9).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import nnls
from scipy.stats import norm

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.learn.space import Design, DesignSpace, Encoding

__all__ = [
    "Acquisition",
    "FactorImportance",
    "ModelName",
    "Prediction",
    "Recommendation",
    "Recommender",
    "acquisition_scores",
    "expected_improvement",
    "upper_confidence_bound",
]

ModelName = Literal["forest", "boosting", "gp", "ridge", "knn"]
Acquisition = Literal["ei", "ucb", "thompson", "mean"]
Weighting = Literal["stacking", "bma", "equal"]
DEFAULT_MODELS: tuple[ModelName, ...] = ("forest", "boosting", "gp", "ridge")
#: Default exploration parameter per acquisition: ξ of EI and the σ multiplier of UCB and
#: Thompson sampling (in units of the standardised titre).
DEFAULT_EXPLORATION: dict[str, float] = {"ei": 0.01, "ucb": 2.0, "thompson": 1.0, "mean": 0.0}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Designs = Sequence[Design] | npt.NDArray[np.int64]


# --- acquisition functions ---------------------------------------------------------------


def expected_improvement(
    mean: npt.ArrayLike, std: npt.ArrayLike, best: float, xi: float = 0.0
) -> FloatArray:
    r"""Return the expected improvement over ``best`` of normal predictions (maximisation).

    .. math::

        EI = (μ - f^* - ξ)\,Φ(z) + σ\,φ(z), \qquad z = (μ - f^* - ξ) / σ,

    and ``max(μ - f^* - ξ, 0)`` where ``σ = 0``.

    Examples
    --------
    >>> expected_improvement([1.0, 0.0], [0.0, 1.0], best=0.0).round(4).tolist()
    [1.0, 0.3989]
    """
    mu = np.asarray(mean, dtype=float)
    sd = np.asarray(std, dtype=float)
    gain = mu - best - xi
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, gain / np.where(sd > 0, sd, 1.0), 0.0)
    ei = gain * norm.cdf(z) + sd * norm.pdf(z)
    out: FloatArray = np.where(sd > 0, ei, np.maximum(gain, 0.0))
    return out


def upper_confidence_bound(mean: npt.ArrayLike, std: npt.ArrayLike, kappa: float) -> FloatArray:
    """Return ``μ + κ σ``.

    Examples
    --------
    >>> upper_confidence_bound([1.0, 0.0], [0.0, 1.0], kappa=2.0).tolist()
    [1.0, 2.0]
    """
    out: FloatArray = np.asarray(mean, dtype=float) + kappa * np.asarray(std, dtype=float)
    return out


def acquisition_scores(
    kind: Acquisition,
    mean: npt.ArrayLike,
    std: npt.ArrayLike,
    *,
    best: float,
    exploration: float | None = None,
    rng: np.random.Generator | None = None,
) -> FloatArray:
    """Score candidates by an acquisition function; higher is better.

    Parameters
    ----------
    kind
        ``"ei"``: expected improvement with ``ξ = exploration``; ``"ucb"``: ``μ + κσ`` with
        ``κ = exploration``; ``"thompson"``: one draw ``μ + exploration · σ · z`` with
        ``z ~ N(0, 1)`` independent per candidate (needs ``rng``); ``"mean"``: ``μ``.
    mean, std
        The predictive mean and standard deviation of each candidate.
    best
        The incumbent (best measured value), for expected improvement.
    exploration
        The exploration parameter; :data:`DEFAULT_EXPLORATION` when ``None``.
    rng
        The random generator of Thompson sampling.

    Raises
    ------
    ValidationError
        For an unknown ``kind``, or Thompson sampling without ``rng``.
    """
    a = DEFAULT_EXPLORATION.get(kind) if exploration is None else exploration
    if a is None:
        raise ValidationError(
            f"unknown acquisition {kind!r}; choose ei, ucb, thompson or mean", field="acquisition"
        )
    mu = np.asarray(mean, dtype=float)
    sd = np.asarray(std, dtype=float)
    if kind == "ei":
        return expected_improvement(mu, sd, best, a)
    if kind == "ucb":
        return upper_confidence_bound(mu, sd, a)
    if kind == "thompson":
        if rng is None:
            raise ValidationError("Thompson sampling needs a random generator", field="rng")
        out: FloatArray = mu + a * sd * rng.standard_normal(mu.shape)
        return out
    return mu.copy()


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prediction:
    """The ensemble's predictive distribution at some designs (titre units).

    ``members`` holds each model's mean (models x designs), in the order of ``models``.
    """

    mean: FloatArray
    std: FloatArray
    members: FloatArray
    models: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A batch of recommended designs, best first, with their predictions and scores."""

    designs: tuple[dict[str, str], ...]
    indices: IntArray
    mean: FloatArray
    std: FloatArray
    score: FloatArray
    acquisition: str
    n_candidates: int

    def __len__(self) -> int:
        return len(self.designs)


@dataclass(frozen=True, slots=True)
class FactorImportance:
    """How much a factor matters to the fitted ensemble (higher is more)."""

    factor: str
    importance: float
    std: float = 0.0


# --- the ensemble ------------------------------------------------------------------------


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _make_model(
    name: ModelName, n_features: int, seed: int, n_samples: int, kernel: Any = None
) -> Any:
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    from sklearn.linear_model import BayesianRidge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    if name == "forest":
        return RandomForestRegressor(
            n_estimators=100, max_features=0.5, min_samples_leaf=1, random_state=seed, n_jobs=1
        )
    if name == "boosting":
        return GradientBoostingRegressor(
            n_estimators=150, max_depth=3, learning_rate=0.05, subsample=0.8, random_state=seed
        )
    if name == "gp":
        if kernel is not None:  # hyperparameters fixed (cross-validation folds)
            return GaussianProcessRegressor(kernel=kernel, optimizer=None, normalize_y=False)
        kernel = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.ones(n_features), length_scale_bounds=(5e-2, 1e2), nu=2.5
        ) + WhiteKernel(0.1, (1e-5, 1.0))
        return GaussianProcessRegressor(
            kernel=kernel, normalize_y=False, n_restarts_optimizer=0, random_state=seed
        )
    if name == "ridge":
        return make_pipeline(PolynomialFeatures(2, include_bias=False), BayesianRidge(max_iter=500))
    if name == "knn":
        return KNeighborsRegressor(n_neighbors=max(1, min(5, n_samples - 1)), weights="distance")
    raise ValidationError(
        f"unknown model {name!r}; choose forest, boosting, gp, ridge or knn", field="models"
    )


def _fit_quietly(model: Any, x: FloatArray, y: FloatArray) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return model.fit(x, y)


def _predict(name: str, model: Any, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return one model's mean and variance at ``x`` (variance 0 where it has none)."""
    if name == "forest":
        total = np.zeros(x.shape[0])
        total_sq = np.zeros(x.shape[0])
        for tree in model.estimators_:
            p = tree.predict(x)
            total += p
            total_sq += p * p
        k = len(model.estimators_)
        mean = total / k
        return mean, np.maximum(total_sq / k - mean * mean, 0.0)
    if name == "gp":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, sd = model.predict(x, return_std=True)
        noise = float(model.kernel_.k2.noise_level)
        return np.asarray(mean, float), np.maximum(np.asarray(sd, float) ** 2 - noise, 0.0)
    if name == "ridge":
        mean, sd = model.predict(x, return_std=True)
        noise = 1.0 / float(model[-1].alpha_)
        return np.asarray(mean, float), np.maximum(np.asarray(sd, float) ** 2 - noise, 0.0)
    if name == "knn":
        _dist, ind = model.kneighbors(x)
        neigh = model._y[ind]
        return np.asarray(model.predict(x), float), np.asarray(neigh.var(axis=1), float)
    return np.asarray(model.predict(x), float), np.zeros(x.shape[0])


class Recommender:
    """An ensemble of regressors over a design space that recommends the next strains.

    Parameters
    ----------
    space
        The design space; designs are encoded with its ``scheme`` encoding.
    models
        The ensemble's members: ``"forest"`` (random forest), ``"boosting"`` (gradient
        boosting), ``"gp"`` (Gaussian process, Matérn 5/2 with one length scale per feature
        plus white noise), ``"ridge"`` (Bayesian ridge on pairwise interactions), ``"knn"``.
    weighting
        How cross-validation weighs the members (see the module notes).
    cv_folds
        Folds of the cross-validation that sets the weights.
    scheme
        The encoding of designs (``"mixed"``: strengths as log-scaled ordinals).
    log_target
        Learn ``log(titre)`` instead of the titre (titres must then be positive).

    Examples
    --------
    >>> import numpy as np
    >>> from cellfoundry.learn.space import DesignSpace, Factor
    >>> space = DesignSpace([Factor.ordinal("p", {"P1": 1, "P2": 2, "P3": 4, "P4": 8})])
    >>> rec = Recommender(space, models=("forest", "ridge"))
    >>> designs = [{"p": "P1"}, {"p": "P2"}, {"p": "P3"}]
    >>> rec = rec.fit(designs, [1.0, 2.0, 3.0], np.random.default_rng(0))
    >>> rec.recommend(1, np.random.default_rng(0), acquisition="ucb").designs
    ({'p': 'P4'},)
    """

    def __init__(
        self,
        space: DesignSpace,
        *,
        models: Sequence[ModelName] = DEFAULT_MODELS,
        weighting: Weighting = "stacking",
        cv_folds: int = 5,
        scheme: Encoding = "mixed",
        log_target: bool = False,
    ) -> None:
        if not models:
            raise ValidationError("give at least one model", field="models")
        if weighting not in ("stacking", "bma", "equal"):
            raise ValidationError(
                f"unknown weighting {weighting!r}; choose stacking, bma or equal",
                field="weighting",
            )
        self.space = space
        self.models: tuple[ModelName, ...] = tuple(models)
        for name in self.models:
            _make_model(name, 1, 0, 3)  # fail early on an unknown name
        self.weighting: Weighting = weighting
        self.cv_folds = cv_folds
        self.scheme: Encoding = scheme
        self.log_target = log_target
        self._fitted: list[Any] = []
        self.weights: FloatArray = np.full(len(self.models), 1.0 / len(self.models))
        self.cv_mse: FloatArray = np.full(len(self.models), np.nan)
        self.cv_r2: FloatArray = np.full(len(self.models), np.nan)
        self._x_idx: IntArray = np.empty((0, len(space.factors)), dtype=np.int64)
        self._y: FloatArray = np.empty(0)
        self._y_mean = 0.0
        self._y_scale = 1.0

    def __repr__(self) -> str:
        parts = ", ".join(f"{m}={w:.2f}" for m, w in zip(self.models, self.weights, strict=True))
        return f"Recommender({parts}; {len(self._y)} strains)"

    # --- data ----------------------------------------------------------------------------

    def _indices(self, designs: Designs) -> IntArray:
        if isinstance(designs, np.ndarray):
            idx = np.asarray(designs, dtype=np.int64).reshape(-1, len(self.space.factors))
            for j, f in enumerate(self.space.factors):
                bad = (idx[:, j] < 0) | (idx[:, j] >= len(f.levels))
                if bad.any():
                    raise ValidationError(
                        f"level index {int(idx[bad, j][0])} out of range for factor {f.name!r}",
                        field=f.name,
                    )
            return idx
        return self.space.to_indices(designs)

    def _encode(self, idx: IntArray) -> FloatArray:
        return self.space.encode_indices(idx, scheme=self.scheme)

    def _to_model_scale(self, y: FloatArray) -> FloatArray:
        t = np.log(y) if self.log_target else y
        out: FloatArray = (t - self._y_mean) / self._y_scale
        return out

    # --- fitting ---------------------------------------------------------------------------

    def fit(
        self,
        designs: Designs,
        titres: npt.ArrayLike,
        rng: np.random.Generator,
        *,
        progress: Progress | None = None,
    ) -> Recommender:
        """Fit every model, set the ensemble weights by cross-validation; return ``self``.

        Parameters
        ----------
        designs
            The measured designs (mappings, or a matrix of level indices).
        titres
            One measurement per design (replicates may repeat a design).
        rng
            Seeds the models and the folds; the same generator state gives the same fit.
        progress
            Called with (fits done, fits in total).

        Raises
        ------
        ValidationError
            When designs and titres differ in number, fewer than three strains are given,
            or a titre is not finite (or not positive with ``log_target``).
        """
        from sklearn.model_selection import KFold

        idx = self._indices(designs)
        y = np.asarray(titres, dtype=float).reshape(-1)
        if y.shape[0] != idx.shape[0]:
            raise ValidationError(f"{idx.shape[0]} designs but {y.shape[0]} titres", field="titres")
        if y.shape[0] < 3:
            raise ValidationError("fit needs at least three measured strains", field="titres")
        if not np.all(np.isfinite(y)) or (self.log_target and np.any(y <= 0)):
            raise ValidationError(
                "titres must be finite" + (" and positive" if self.log_target else ""),
                field="titres",
            )
        progress = progress or NullProgress()
        t = np.log(y) if self.log_target else y
        self._y_mean = float(t.mean())
        self._y_scale = float(t.std()) or 1.0
        ys = self._to_model_scale(y)
        x = self._encode(idx)
        n, m = x.shape[0], len(self.models)
        seeds = [_seed(rng) for _ in self.models]
        folds = min(self.cv_folds, n)
        cross_validate = folds >= 2 and m > 1
        total = m * (folds + 1 if cross_validate else 1)
        done = 0
        # the full fits first: the Gaussian process's folds reuse its hyperparameters
        fitted = []
        for j, name in enumerate(self.models):
            model = _make_model(name, x.shape[1], seeds[j], n)
            fitted.append(_fit_quietly(model, x, ys))
            done += 1
            progress(done, total)
        oof = np.zeros((n, m))
        if cross_validate:
            splitter = KFold(n_splits=folds, shuffle=True, random_state=_seed(rng))
            for train, test in splitter.split(x):
                for j, name in enumerate(self.models):
                    kernel = fitted[j].kernel_ if name == "gp" else None
                    model = _make_model(name, x.shape[1], seeds[j], len(train), kernel)
                    _fit_quietly(model, x[train], ys[train])
                    oof[test, j] = _predict(name, model, x[test])[0]
                    done += 1
                    progress(done, total)
            mse = ((oof - ys[:, None]) ** 2).mean(axis=0)
            self.cv_mse = mse * self._y_scale**2
            self.cv_r2 = 1.0 - mse / max(float(ys.var()), 1e-12)
            self.weights = self._weights(oof, ys, mse)
        else:
            self.weights = np.full(m, 1.0 / m)
        self._fitted = fitted
        self._x_idx, self._y = idx, y
        return self

    def _weights(self, oof: FloatArray, ys: FloatArray, mse: FloatArray) -> FloatArray:
        m = oof.shape[1]
        if self.weighting == "equal":
            return np.full(m, 1.0 / m)
        if self.weighting == "bma":
            loglik = -0.5 * len(ys) * np.log(np.maximum(mse, 1e-12))
            w = np.exp(loglik - loglik.max())
        else:
            w, _ = nnls(oof, ys)
        total = float(w.sum())
        out: FloatArray = w / total if total > 0 else np.full(m, 1.0 / m)
        return out

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has run."""
        return bool(self._fitted)

    def _require_fit(self) -> None:
        if not self._fitted:
            raise ValidationError("fit the recommender to measured strains first", field="fit")

    # --- prediction ------------------------------------------------------------------------

    def _predict_scaled(self, idx: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        x = self._encode(idx)
        means = np.zeros((len(self.models), x.shape[0]))
        second = np.zeros(x.shape[0])
        for j, (name, model) in enumerate(zip(self.models, self._fitted, strict=True)):
            mu, var = _predict(name, model, x)
            means[j] = mu
            second += self.weights[j] * (var + mu * mu)
        mean = self.weights @ means
        std = np.sqrt(np.maximum(second - mean * mean, 0.0))
        return mean, std, means

    def predict(self, designs: Designs) -> Prediction:
        """Return the predictive mean and standard deviation of designs (titre units).

        With ``log_target`` the mean and spread are those of the log-normal whose log has
        the ensemble's mean and standard deviation.
        """
        self._require_fit()
        mean, std, members = self._predict_scaled(self._indices(designs))
        mu = mean * self._y_scale + self._y_mean
        sd = std * self._y_scale
        mem = members * self._y_scale + self._y_mean
        if self.log_target:
            out_mean = np.exp(mu + sd**2 / 2)
            out_sd = out_mean * np.sqrt(np.expm1(sd**2))
            return Prediction(out_mean, out_sd, np.exp(mem), self.models)
        return Prediction(mu, sd, mem, self.models)

    # --- recommendation --------------------------------------------------------------------

    def candidates(
        self, rng: np.random.Generator, *, max_candidates: int = 50_000, top: int = 10
    ) -> IntArray:
        """Return candidate designs (level indices) to score.

        The full factorial when it has at most ``max_candidates`` designs; otherwise a
        uniform sample of that many, plus every one-factor change of the ``top`` best
        measured designs and every two-factor change of the best three.
        """
        space = self.space
        if space.size <= max_candidates:
            return space.enumerate_indices()
        parts = [space.sample_indices(max_candidates, rng)]
        if len(self._y):
            order = np.argsort(-self._y, kind="stable")
            near = space.neighbour_indices(self._x_idx[order[:top]])
            parts += [
                near,
                space.neighbour_indices(space.neighbour_indices(self._x_idx[order[:3]])),
            ]
        return np.unique(np.concatenate(parts), axis=0)

    def recommend(
        self,
        n: int,
        rng: np.random.Generator,
        *,
        acquisition: Acquisition = "ei",
        exploration: float | None = None,
        candidates: Designs | None = None,
        min_distance: int = 2,
        exclude_measured: bool = True,
        random_fraction: float = 0.0,
        max_candidates: int = 50_000,
    ) -> Recommendation:
        """Recommend a batch of ``n`` designs to build next.

        Designs are picked greedily by the acquisition score. Each pick differs from every
        earlier pick of the batch in at least ``min_distance`` factors (the rule is relaxed
        only when no candidate is left). Thompson sampling draws afresh for every pick.

        Parameters
        ----------
        n
            Batch size.
        rng
            Draws candidates, Thompson samples and random picks.
        acquisition
            ``"ei"``, ``"ucb"``, ``"thompson"`` or ``"mean"`` (pure exploitation).
        exploration
            ξ of EI, κ of UCB, the σ multiplier of Thompson sampling (standardised titre
            units); :data:`DEFAULT_EXPLORATION` when ``None``.
        candidates
            Designs to choose from; by default :meth:`candidates`.
        min_distance
            Minimum number of factors in which two picks of the batch differ.
        exclude_measured
            Never recommend a design that has been measured.
        random_fraction
            Share of the batch drawn uniformly from the candidates (pure exploration).
        max_candidates
            Size of the candidate sample when the space is too large to enumerate.

        Returns
        -------
        Recommendation
            The batch, in order of picking.
        """
        self._require_fit()
        if n < 1:
            raise ValidationError("recommend at least one design", field="n")
        if not 0.0 <= random_fraction <= 1.0:
            raise ValidationError("random_fraction must be in [0, 1]", field="random_fraction")
        cand = (
            self.candidates(rng, max_candidates=max_candidates)
            if candidates is None
            else np.unique(self._indices(candidates), axis=0)
        )
        if exclude_measured and len(self._y):
            measured = {tuple(r) for r in self._x_idx.tolist()}
            keep = np.array([tuple(r) not in measured for r in cand.tolist()], dtype=bool)
            cand = cand[keep]
        if cand.shape[0] == 0:
            raise ValidationError("no candidate designs left to recommend", field="candidates")
        mean, std, _ = self._predict_scaled(cand)
        best = float(self._to_model_scale(np.asarray([self._y.max()]))[0])
        n_random = round(random_fraction * n)
        chosen: list[int] = []
        available = np.ones(cand.shape[0], dtype=bool)
        scores = np.zeros(cand.shape[0])
        picked_scores: list[float] = []
        for k in range(min(n, cand.shape[0])):
            if k == 0 or acquisition == "thompson":
                scores = acquisition_scores(
                    acquisition, mean, std, best=best, exploration=exploration, rng=rng
                )
            pool = np.flatnonzero(available)
            if pool.size == 0:  # the diversity rule left nothing: relax it
                pool = np.setdiff1d(np.arange(cand.shape[0]), chosen)
            pick_random = k >= n - n_random
            i = int(rng.choice(pool)) if pick_random else int(pool[np.argmax(scores[pool])])
            chosen.append(i)
            picked_scores.append(float(scores[i]))
            differs = (cand != cand[i]).sum(axis=1)
            available &= differs >= max(min_distance, 1)
        idx = cand[chosen]
        pred = self.predict(idx)
        return Recommendation(
            designs=tuple(self.space.from_indices(idx)),
            indices=idx,
            mean=pred.mean,
            std=pred.std,
            score=np.asarray(picked_scores),
            acquisition=acquisition,
            n_candidates=int(cand.shape[0]),
        )

    # --- explanation -----------------------------------------------------------------------

    def explain(
        self,
        rng: np.random.Generator,
        *,
        method: Literal["permutation", "impurity"] = "permutation",
        n_repeats: int = 10,
    ) -> tuple[FactorImportance, ...]:
        """Rank the factors by how much the fitted ensemble depends on them.

        ``"permutation"``: the rise in the ensemble's mean squared error on the measured
        strains when one factor's levels are shuffled among them (all its one-hot columns
        move together), averaged over ``n_repeats`` shuffles, in squared units of the
        learned target (titre, or log titre with ``log_target``).
        ``"impurity"``: the random forest's impurity importance, summed over each
        factor's encoded columns (needs the ``"forest"`` model).
        """
        self._require_fit()
        if method == "impurity":
            if "forest" not in self.models:
                raise ValidationError("impurity importance needs the forest model", field="method")
            forest = self._fitted[self.models.index("forest")]
            owner = self.space.feature_factors(self.scheme)
            per = dict.fromkeys(self.space.names, 0.0)
            for f, v in zip(owner, forest.feature_importances_, strict=True):
                per[f] += float(v)
            result = [FactorImportance(f, v) for f, v in per.items()]
        else:
            ys = self._to_model_scale(self._y)
            base = float(((self._predict_scaled(self._x_idx)[0] - ys) ** 2).mean())
            result = []
            for j, f in enumerate(self.space.names):
                rises = []
                for _ in range(n_repeats):
                    shuffled = self._x_idx.copy()
                    shuffled[:, j] = rng.permutation(shuffled[:, j])
                    err = float(((self._predict_scaled(shuffled)[0] - ys) ** 2).mean())
                    rises.append((err - base) * self._y_scale**2)
                result.append(FactorImportance(f, float(np.mean(rises)), float(np.std(rises))))
        return tuple(sorted(result, key=lambda r: -r.importance))
