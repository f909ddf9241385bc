"""Design spaces of a DBTL campaign: factors, levels, enumeration, sampling and encoding.

A *design* is a mapping from factor name to level name, for example
``{"promoter_crtE": "P4", "rbs_crtE": "strong", "knockout_gdhA": "on"}``. A
:class:`DesignSpace` checks designs, enumerates the full factorial when it is small,
samples it (uniformly or by a Latin hypercube over the levels) when it is large, and
encodes designs as numeric feature matrices for learning:

* an *ordinal* factor (promoters, RBSs: levels with a known relative strength) becomes one
  column, the log2 of the strength scaled to [0, 1];
* a *categorical* factor (gene order, a knock-out switch, any level without a strength)
  becomes one one-hot column per level.

``scheme="onehot"`` one-hot encodes every factor instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from cellfoundry.core.errors import ValidationError

__all__ = [
    "Design",
    "DesignSpace",
    "Factor",
    "InvalidDesignError",
]

Design = Mapping[str, str]
FactorKind = Literal["ordinal", "categorical"]
Encoding = Literal["mixed", "onehot"]
Sampling = Literal["random", "lhs"]


class InvalidDesignError(ValidationError):
    """A design names an unknown factor or level, or misses a factor."""

    def __init__(self, message: str, *, factor: str, level: str | None = None) -> None:
        self.factor, self.level = factor, level
        super().__init__(message, field=factor)


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor of a design space and its levels.

    Parameters
    ----------
    name
        The factor's name, unique in its space (``"promoter_E1"``).
    levels
        The level names, in order.
    strengths
        The relative strength of each level (ordinal factors only), positive; encoded on a
        log2 scale.
    kind
        ``"ordinal"`` when the levels have strengths, otherwise ``"categorical"``.
    """

    name: str
    levels: tuple[str, ...]
    strengths: tuple[float, ...] | None = None
    kind: FactorKind = "categorical"

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidDesignError("a factor needs a name", factor=self.name)
        if len(self.levels) < 2:
            raise InvalidDesignError(
                f"factor {self.name!r} has {len(self.levels)} level(s); give at least two",
                factor=self.name,
            )
        if len(set(self.levels)) != len(self.levels):
            raise InvalidDesignError(f"factor {self.name!r} repeats a level name", factor=self.name)
        if self.kind == "ordinal":
            if self.strengths is None or len(self.strengths) != len(self.levels):
                raise InvalidDesignError(
                    f"ordinal factor {self.name!r} needs one strength per level",
                    factor=self.name,
                )
            if any(not s > 0 or not math.isfinite(s) for s in self.strengths):
                raise InvalidDesignError(
                    f"ordinal factor {self.name!r} has a strength that is not positive",
                    factor=self.name,
                )
        elif self.strengths is not None:
            raise InvalidDesignError(
                f"categorical factor {self.name!r} takes no strengths", factor=self.name
            )

    @classmethod
    def ordinal(cls, name: str, strengths: Mapping[str, float]) -> Factor:
        """Return a factor whose levels have known relative strengths (promoters, RBSs).

        Examples
        --------
        >>> Factor.ordinal("promoter_E1", {"P1": 0.1, "P2": 1.0}).kind
        'ordinal'
        """
        return cls(name, tuple(strengths), tuple(float(v) for v in strengths.values()), "ordinal")

    @classmethod
    def categorical(cls, name: str, levels: Iterable[str]) -> Factor:
        """Return a factor whose levels are unordered categories."""
        return cls(name, tuple(levels))

    @classmethod
    def switch(cls, name: str) -> Factor:
        """Return an off/on factor (a knock-out, a deletion, an extra copy)."""
        return cls(name, ("off", "on"))

    @classmethod
    def gene_order(cls, name: str, genes: Sequence[str]) -> Factor:
        """Return a categorical factor over every order of ``genes`` (``"A-B-C"``...).

        Examples
        --------
        >>> Factor.gene_order("operon", ["crtE", "crtB"]).levels
        ('crtE-crtB', 'crtB-crtE')
        """
        return cls(name, tuple("-".join(p) for p in itertools.permutations(genes)))

    @property
    def n_features(self) -> int:
        """Number of encoded columns under the mixed encoding."""
        return 1 if self.kind == "ordinal" else len(self.levels)

    def index(self, level: str) -> int:
        """Return the position of ``level``, or raise :class:`InvalidDesignError`."""
        try:
            return self.levels.index(level)
        except ValueError:
            raise InvalidDesignError(
                f"factor {self.name!r} has no level {level!r}; "
                f"choose one of {', '.join(self.levels)}",
                factor=self.name,
                level=level,
            ) from None

    def scaled_strengths(self) -> npt.NDArray[np.float64]:
        """Return the log2 strengths scaled to [0, 1] (ordinal factors only)."""
        if self.strengths is None:
            raise InvalidDesignError(f"factor {self.name!r} has no strengths", factor=self.name)
        logs = np.log2(np.asarray(self.strengths, dtype=float))
        span = logs.max() - logs.min()
        return (logs - logs.min()) / span if span > 0 else np.zeros_like(logs)


class DesignSpace:
    """The full factorial of a set of factors.

    Examples
    --------
    >>> space = DesignSpace([
    ...     Factor.ordinal("promoter", {"P1": 0.1, "P2": 0.5, "P3": 1.0}),
    ...     Factor.switch("knockout"),
    ... ])
    >>> space.size
    6
    >>> space.encode([{"promoter": "P3", "knockout": "on"}]).tolist()
    [[1.0, 0.0, 1.0]]
    >>> space.feature_names
    ('promoter', 'knockout=off', 'knockout=on')
    """

    def __init__(self, factors: Sequence[Factor]) -> None:
        if not factors:
            raise InvalidDesignError("a design space needs at least one factor", factor="")
        names = [f.name for f in factors]
        for name in names:
            if names.count(name) > 1:
                raise InvalidDesignError(f"factor {name!r} appears twice", factor=name)
        self.factors: tuple[Factor, ...] = tuple(factors)
        self._by_name = {f.name: f for f in self.factors}

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}[{len(f.levels)}]" for f in self.factors)
        return f"DesignSpace({parts}; {self.size} designs)"

    @property
    def names(self) -> tuple[str, ...]:
        """The factor names, in order."""
        return tuple(f.name for f in self.factors)

    @property
    def size(self) -> int:
        """Number of designs in the full factorial."""
        return math.prod(len(f.levels) for f in self.factors)

    def factor(self, name: str) -> Factor:
        """Return the factor called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidDesignError(
                f"no factor {name!r} in this design space; factors: {', '.join(self.names)}",
                factor=name,
            ) from None

    # --- designs and level indices ------------------------------------------------------

    def validate(self, design: Design) -> dict[str, str]:
        """Return ``design`` as a plain dict in factor order, or raise a named error."""
        for name in design:
            if name not in self._by_name:
                raise InvalidDesignError(
                    f"unknown factor {name!r}; factors: {', '.join(self.names)}", factor=name
                )
        out: dict[str, str] = {}
        for f in self.factors:
            if f.name not in design:
                raise InvalidDesignError(f"the design misses factor {f.name!r}", factor=f.name)
            level = design[f.name]
            f.index(level)
            out[f.name] = level
        return out

    def to_indices(self, designs: Iterable[Design]) -> npt.NDArray[np.int64]:
        """Return the level index of every factor of every design (n x factors)."""
        rows = [[f.index(self.validate(d)[f.name]) for f in self.factors] for d in designs]
        return np.asarray(rows, dtype=np.int64).reshape(len(rows), len(self.factors))

    def from_indices(self, indices: npt.ArrayLike) -> list[dict[str, str]]:
        """Return the designs named by a matrix of level indices."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1, len(self.factors))
        return [
            {f.name: f.levels[int(i)] for f, i in zip(self.factors, row, strict=True)}
            for row in idx
        ]

    def key(self, design: Design) -> tuple[str, ...]:
        """Return a hashable key of a design (its levels in factor order)."""
        d = self.validate(design)
        return tuple(d[n] for n in self.names)

    # --- enumeration and sampling -------------------------------------------------------

    def enumerate_indices(self, limit: int = 1_000_000) -> npt.NDArray[np.int64]:
        """Return the level indices of the full factorial, last factor fastest."""
        if self.size > limit:
            raise InvalidDesignError(
                f"the full factorial has {self.size} designs, over the limit of {limit}; "
                "sample the space instead",
                factor=self.factors[0].name,
            )
        grids = np.meshgrid(*[np.arange(len(f.levels)) for f in self.factors], indexing="ij")
        return np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)

    def enumerate(self, limit: int = 1_000_000) -> Iterator[dict[str, str]]:
        """Yield every design of the full factorial (raises when over ``limit``)."""
        yield from self.from_indices(self.enumerate_indices(limit))

    def sample_indices(
        self, n: int, rng: np.random.Generator, *, method: Sampling = "random"
    ) -> npt.NDArray[np.int64]:
        """Return ``n`` designs as level indices, drawn uniformly or by Latin hypercube.

        The Latin hypercube stratifies each factor: over ``n`` designs every level of a
        factor appears ``n / levels`` times (rounded), independently permuted per factor.
        """
        if n < 0:
            raise InvalidDesignError("the number of designs must be >= 0", factor="")
        cols = []
        for f in self.factors:
            k = len(f.levels)
            if method == "lhs":
                strata = (rng.permutation(n) + rng.random(n)) / max(n, 1)
                cols.append(np.minimum((strata * k).astype(np.int64), k - 1))
            else:
                cols.append(rng.integers(0, k, size=n))
        return np.stack(cols, axis=1).astype(np.int64).reshape(n, len(self.factors))

    def sample(
        self, n: int, rng: np.random.Generator, *, method: Sampling = "random"
    ) -> list[dict[str, str]]:
        """Return ``n`` designs drawn uniformly (with replacement) or by Latin hypercube."""
        return self.from_indices(self.sample_indices(n, rng, method=method))

    def neighbour_indices(self, indices: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return every design that differs from the given ones in exactly one factor."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1, len(self.factors))
        out = []
        for j, f in enumerate(self.factors):
            for level in range(len(f.levels)):
                moved = idx.copy()
                moved[:, j] = level
                out.append(moved[idx[:, j] != level])
        if not out:
            return np.empty((0, len(self.factors)), dtype=np.int64)
        return np.unique(np.concatenate(out), axis=0)

    # --- encoding -------------------------------------------------------------------------

    def _columns(self, scheme: Encoding) -> list[tuple[str, str]]:
        cols = []
        for f in self.factors:
            if f.kind == "ordinal" and scheme == "mixed":
                cols.append((f.name, f.name))
            else:
                cols.extend((f.name, f"{f.name}={lv}") for lv in f.levels)
        return cols

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the columns of the mixed encoding."""
        return tuple(c for _, c in self._columns("mixed"))

    def feature_factors(self, scheme: Encoding = "mixed") -> tuple[str, ...]:
        """Return the factor each encoded column belongs to."""
        return tuple(f for f, _ in self._columns(scheme))

    def encode_indices(
        self, indices: npt.ArrayLike, *, scheme: Encoding = "mixed"
    ) -> npt.NDArray[np.float64]:
        """Encode level indices as a feature matrix (see the module notes)."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1, len(self.factors))
        blocks = []
        for j, f in enumerate(self.factors):
            if f.kind == "ordinal" and scheme == "mixed":
                blocks.append(f.scaled_strengths()[idx[:, j]][:, None])
            else:
                blocks.append(np.eye(len(f.levels))[idx[:, j]])
        return np.hstack(blocks).astype(np.float64)

    def encode(
        self, designs: Iterable[Design], *, scheme: Encoding = "mixed"
    ) -> npt.NDArray[np.float64]:
        """Encode designs as a feature matrix (see the module notes)."""
        return self.encode_indices(self.to_indices(designs), scheme=scheme)
