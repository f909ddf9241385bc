r"""A kinetic ground truth for simulated Design-Build-Test-Learn cycles.

After the simulated-DBTL framework of van Lent et al. (2023): a mechanistic model stands
in for the strains, so a learner's recommendations can be scored against a known optimum.

The pathway is linear, ``S -> I1 -> ... -> I(n-1) -> P``, catalysed by ``n`` enzymes
(4 to 6) with Michaelis-Menten kinetics per unit of biomass,

.. math::

    v_i = k_{cat,i} \, E_i \, X \, \frac{C_{i-1}}{K_{m,i} + C_{i-1}},

where the enzyme level ``E_i`` is the product of the relative strengths of the gene's
promoter and RBS. A native branch drains the substrate into a by-product
(``v_b = k_b X S / (K_b + S)``) unless it is knocked out. Biomass grows logistically,

.. math::

    \mu = \frac{\mu_{max} \, (1 - X / X_{max})}
                {(1 + \beta \sum_i E_i) \, (1 + (C_{tox} / K_{tox})^h)} \, \phi_{KO},

slowed by the expression burden ``β`` and by a toxic intermediate ``C_tox``; the knock-out
costs a growth factor ``φ_KO``. Everything is in one litre of culture, so carbon in the
pathway is conserved: ``S + Σ I + P + B = S0``. The titre is ``P`` at the end of the batch.

Measurements are the titre times seeded log-normal noise. Because the design space is
small enough to enumerate, the optimum is known exactly (:meth:`DBTLSimulator.landscape`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.integrate import solve_ivp

from cellfoundry.core.errors import ValidationError
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.learn.space import Design, DesignSpace, Factor

__all__ = [
    "PROMOTER_STRENGTHS",
    "RBS_STRENGTHS",
    "DBTLSimulator",
    "PathwayKinetics",
    "pathway_space",
    "simulate_pathway",
]

#: Relative strengths of five constitutive promoters (Anderson-library-like spread).
PROMOTER_STRENGTHS: dict[str, float] = {"P1": 0.05, "P2": 0.15, "P3": 0.35, "P4": 0.65, "P5": 1.0}
#: Relative strengths of three ribosome binding sites.
RBS_STRENGTHS: dict[str, float] = {"weak": 0.2, "medium": 0.5, "strong": 1.0}
KNOCKOUT = "knockout_branch"


def pathway_space(n_enzymes: int = 4, *, rbs: bool = True, knockout: bool = True) -> DesignSpace:
    """Return the design space of the simulated pathway.

    One promoter factor per gene (``promoter_E1``...), optionally one RBS factor per gene
    (``rbs_E1``...) and a knock-out switch of the competing branch (``knockout_branch``).

    Examples
    --------
    >>> pathway_space(4).size
    101250
    >>> pathway_space(4, rbs=False, knockout=False).size
    625
    """
    factors = []
    for i in range(1, n_enzymes + 1):
        factors.append(Factor.ordinal(f"promoter_E{i}", PROMOTER_STRENGTHS))
        if rbs:
            factors.append(Factor.ordinal(f"rbs_E{i}", RBS_STRENGTHS))
    if knockout:
        factors.append(Factor.switch(KNOCKOUT))
    return DesignSpace(factors)


@dataclass(frozen=True, slots=True)
class PathwayKinetics:
    """Parameters of the pathway and growth model (mM, gDW/L, h).

    ``kcat_per_h`` gives the capacity of each enzyme at level 1 (mmol per gDW per hour) and
    fixes the number of enzymes; ``km_mm`` their Michaelis constants. ``toxic`` is the index
    of the toxic intermediate (1 = I1).
    """

    kcat_per_h: tuple[float, ...] = (6.0, 9.0, 1.6, 7.0)
    km_mm: tuple[float, ...] = (8.0, 6.0, 5.0, 6.0)
    toxic: int = 2
    k_tox_mm: float = 3.0
    hill_tox: float = 2.0
    branch_kcat_per_h: float = 2.5
    branch_km_mm: float = 10.0
    knockout_growth_factor: float = 0.95
    burden: float = 0.25
    mu_max_per_h: float = 0.5
    x0_g_per_l: float = 0.05
    xmax_g_per_l: float = 4.0
    s0_mm: float = 60.0
    t_end_h: float = 30.0

    def __post_init__(self) -> None:
        n = len(self.kcat_per_h)
        if not 4 <= n <= 6 or len(self.km_mm) != n:
            raise ValidationError(
                "give 4 to 6 enzymes, with one kcat and one Km each", field="kcat_per_h"
            )
        if not 1 <= self.toxic < n:
            raise ValidationError(
                f"the toxic intermediate must be one of I1..I{n - 1}", field="toxic"
            )

    @property
    def n_enzymes(self) -> int:
        """Number of enzymes (steps) of the pathway."""
        return len(self.kcat_per_h)


@dataclass(frozen=True, slots=True)
class _State:
    """Indices into the state matrix: S, I1..I(n-1), P, B, X."""

    n: int

    @property
    def product(self) -> int:
        return self.n

    @property
    def byproduct(self) -> int:
        return self.n + 1

    @property
    def biomass(self) -> int:
        return self.n + 2

    @property
    def size(self) -> int:
        return self.n + 3


def simulate_pathway(
    enzymes: npt.ArrayLike,
    knockout: npt.ArrayLike,
    kinetics: PathwayKinetics,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
) -> npt.NDArray[np.float64]:
    """Integrate the batch for many strains at once; return the final states.

    Parameters
    ----------
    enzymes
        Enzyme levels, one row per strain (strains x enzymes).
    knockout
        Whether each strain has the competing branch knocked out.
    kinetics
        The model parameters.

    Returns
    -------
    numpy.ndarray
        Final states, one row per strain: S, I1..I(n-1), P, B, X.
    """
    e = np.atleast_2d(np.asarray(enzymes, dtype=float))
    ko = np.asarray(knockout, dtype=bool).reshape(-1)
    n = kinetics.n_enzymes
    if e.shape[1] != n or ko.shape[0] != e.shape[0]:
        raise ValidationError(
            f"give {n} enzyme levels and one knock-out flag per strain", field="enzymes"
        )
    m = e.shape[0]
    st = _State(n)
    kcat = np.asarray(kinetics.kcat_per_h)[:, None] * e.T  # (n, m)
    km = np.asarray(kinetics.km_mm)[:, None]
    branch = np.where(ko, 0.0, kinetics.branch_kcat_per_h)
    mu0 = (
        kinetics.mu_max_per_h
        / (1.0 + kinetics.burden * e.sum(axis=1))
        * np.where(ko, kinetics.knockout_growth_factor, 1.0)
    )

    def rhs(_t: float, flat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        y = flat.reshape(st.size, m)
        c = np.maximum(y[: n + 1], 0.0)
        x = y[st.biomass]
        v = kcat * x * c[:n] / (km + c[:n])  # step i consumes C_{i-1}
        vb = branch * x * c[0] / (kinetics.branch_km_mm + c[0])
        tox = (c[kinetics.toxic] / kinetics.k_tox_mm) ** kinetics.hill_tox
        mu = mu0 * (1.0 - x / kinetics.xmax_g_per_l) / (1.0 + tox)
        dy = np.empty_like(y)
        dy[0] = -v[0] - vb
        dy[1:n] = v[:-1] - v[1:]
        dy[st.product] = v[-1]
        dy[st.byproduct] = vb
        dy[st.biomass] = mu * x
        return dy.ravel()

    y0 = np.zeros((st.size, m))
    y0[0] = kinetics.s0_mm
    y0[st.biomass] = kinetics.x0_g_per_l
    sol = solve_ivp(rhs, (0.0, kinetics.t_end_h), y0.ravel(), method="RK45", rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - the model is smooth and bounded
        raise RuntimeError(f"the pathway model failed to integrate: {sol.message}")
    final: npt.NDArray[np.float64] = sol.y[:, -1].reshape(st.size, m).T
    return final


@dataclass
class DBTLSimulator:
    """Strains of a pathway design space, their true titres and noisy measurements.

    Parameters
    ----------
    kinetics
        The pathway and growth model.
    space
        The design space; by default :func:`pathway_space` for the kinetics' enzymes.
        Promoter and RBS factors are named ``promoter_E<i>`` and ``rbs_E<i>``; a missing
        RBS factor means a fixed RBS of strength 1, a missing knock-out switch means
        the branch stays.
    noise_cv
        Standard deviation of the log-normal measurement noise (about the CV).

    Examples
    --------
    >>> import numpy as np
    >>> sim = DBTLSimulator(space=pathway_space(4, rbs=False))
    >>> best, titre = sim.optimum()
    >>> round(titre, 1) == round(float(sim.titres([best])[0]), 1)
    True
    >>> sim.measure([best], np.random.default_rng(0)).shape
    (1,)
    """

    kinetics: PathwayKinetics = field(default_factory=PathwayKinetics)
    space: DesignSpace | None = None
    noise_cv: float = 0.1
    _landscape: npt.NDArray[np.float64] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.space is None:
            self.space = pathway_space(self.kinetics.n_enzymes)
        names = self.space.names
        for i in range(1, self.kinetics.n_enzymes + 1):
            if f"promoter_E{i}" not in names:
                raise ValidationError(
                    f"the design space has no factor promoter_E{i}", field=f"promoter_E{i}"
                )
        if self.noise_cv < 0:
            raise ValidationError("noise_cv must be >= 0", field="noise_cv")

    @property
    def design_space(self) -> DesignSpace:
        """The design space (never ``None`` after construction)."""
        assert self.space is not None
        return self.space

    def enzyme_levels(
        self, indices: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Return enzyme levels and knock-out flags of designs given as level indices."""
        space = self.design_space
        idx = np.asarray(indices, dtype=np.int64).reshape(-1, len(space.factors))
        col = {name: j for j, name in enumerate(space.names)}
        n = self.kinetics.n_enzymes
        levels = np.ones((idx.shape[0], n))
        for i in range(1, n + 1):
            for kind in ("promoter", "rbs"):
                j = col.get(f"{kind}_E{i}")
                if j is None:
                    continue
                f = space.factors[j]
                if f.strengths is None:
                    raise ValidationError(f"factor {f.name} needs strengths", field=f.name)
                levels[:, i - 1] *= np.asarray(f.strengths)[idx[:, j]]
        ko = np.zeros(idx.shape[0], dtype=bool)
        if KNOCKOUT in col:
            ko = np.asarray(space.factors[col[KNOCKOUT]].levels)[idx[:, col[KNOCKOUT]]] == "on"
        return levels, ko

    def titres_of_indices(
        self, indices: npt.ArrayLike, *, chunk: int = 4096, progress: Progress | None = None
    ) -> npt.NDArray[np.float64]:
        """Simulate the true (noise-free) titres, mM, of designs given as level indices."""
        e, ko = self.enzyme_levels(indices)
        progress = progress or NullProgress()
        out = np.empty(e.shape[0])
        for start in range(0, e.shape[0], chunk):
            stop = min(start + chunk, e.shape[0])
            final = simulate_pathway(e[start:stop], ko[start:stop], self.kinetics)
            out[start:stop] = final[:, self.kinetics.n_enzymes]
            progress(stop, e.shape[0])
        return out

    def titres(self, designs: Iterable[Design]) -> npt.NDArray[np.float64]:
        """Simulate the true (noise-free) titres of designs, mM."""
        return self.titres_of_indices(self.design_space.to_indices(designs))

    def landscape(self, *, progress: Progress | None = None) -> npt.NDArray[np.float64]:
        """Return the true titre of every design, in enumeration order (computed once)."""
        if self._landscape is None:
            idx = self.design_space.enumerate_indices()
            self._landscape = self.titres_of_indices(idx, progress=progress)
        return self._landscape

    def true_titres_of_indices(self, indices: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Look the true titres of designs up in the enumerated landscape."""
        space = self.design_space
        idx = np.asarray(indices, dtype=np.int64).reshape(-1, len(space.factors))
        dims = tuple(len(f.levels) for f in space.factors)
        flat = np.ravel_multi_index(tuple(idx.T), dims)
        values: npt.NDArray[np.float64] = self.landscape()[flat]
        return values

    def optimum(self) -> tuple[dict[str, str], float]:
        """Return the best design of the space and its true titre, by enumeration."""
        land = self.landscape()
        best = int(np.argmax(land))
        idx = np.unravel_index(best, tuple(len(f.levels) for f in self.design_space.factors))
        return self.design_space.from_indices(np.asarray(idx))[0], float(land[best])

    def measure_indices(
        self, indices: npt.ArrayLike, rng: np.random.Generator
    ) -> npt.NDArray[np.float64]:
        """Return noisy measured titres: the true titre times log-normal noise."""
        true = self.true_titres_of_indices(indices)
        noise = rng.normal(0.0, self.noise_cv, size=true.shape)
        measured: npt.NDArray[np.float64] = true * np.exp(noise - self.noise_cv**2 / 2)
        return measured

    def measure(
        self, designs: Iterable[Design], rng: np.random.Generator
    ) -> npt.NDArray[np.float64]:
        """Return noisy measured titres of designs (see :meth:`measure_indices`)."""
        return self.measure_indices(self.design_space.to_indices(designs), rng)
