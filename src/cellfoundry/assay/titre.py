r"""Titre, rate and yield from HPLC or LC-MS concentration tables.

A titre table has one row per measured concentration, with columns

``sample``, ``compound``, ``concentration``, ``unit``
    required; ``unit`` is a mass concentration (``g/L``, ``mg/L``, ``mg/mL``, ``µg/mL``,
    ``ng/mL``) or a molar one (``M``, ``mM``, ``µM``/``uM``, ``nM``, ``mol/L``, ``mmol/L``),
    converted to g/L with the compound's molar mass (``molar_mass_g_per_mol=``).
``strain``, ``replicate``, ``time_h``
    optional; ``strain`` defaults to the sample name, ``time_h`` to "end of culture"
    (``time_h=`` of :func:`strain_performance`).

Per sample, with :math:`P` the product and :math:`S` the substrate (g/L):

* titre :math:`P(t_{end})`, the product at the last time point of the sample;
* volumetric rate (productivity) :math:`r = [P(t_{end}) - P(t_0)]/(t_{end} - t_0)` in g/L/h,
  where :math:`t_0` is the sample's first time point (or 0 with :math:`P(0) = 0` when the
  product was measured once);
* yield :math:`Y_{P/S} = [P(t_{end}) - P(t_0)]/[S(t_0) - S(t_{end})]` in g/g, with
  :math:`S(t_0)` measured or given (``initial_substrate_g_per_l=``); ``NaN`` when no
  substrate was consumed.

Replicates of a strain get mean, sample SD and CV
(:class:`~cellfoundry.assay.growth.ReplicateStats`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cellfoundry.assay.growth import ReplicateStats
from cellfoundry.core.errors import FormatError, ValidationError

__all__ = [
    "MASS_UNITS_G_PER_L",
    "MOLAR_UNITS_MOL_PER_L",
    "PerformanceTable",
    "SamplePerformance",
    "StrainPerformance",
    "TitreMeasurement",
    "TitreTable",
    "read_titres",
    "strain_performance",
    "to_g_per_l",
]

MASS_UNITS_G_PER_L: Final[Mapping[str, float]] = {
    "g/l": 1.0,
    "mg/ml": 1.0,
    "kg/m3": 1.0,
    "mg/l": 1e-3,
    "µg/ml": 1e-3,
    "ug/ml": 1e-3,
    "µg/l": 1e-6,
    "ug/l": 1e-6,
    "ng/ml": 1e-6,
    "g/100ml": 10.0,
    "%w/v": 10.0,
}
"""Mass-concentration units and their factor to g/L (keys lower case)."""

MOLAR_UNITS_MOL_PER_L: Final[Mapping[str, float]] = {
    "m": 1.0,
    "mol/l": 1.0,
    "mm": 1e-3,
    "mmol/l": 1e-3,
    "µm": 1e-6,
    "um": 1e-6,
    "µmol/l": 1e-6,
    "umol/l": 1e-6,
    "nm": 1e-9,
    "nmol/l": 1e-9,
}
"""Molar units and their factor to mol/L (keys lower case)."""


def _unit_key(unit: str) -> str:
    key = re.sub(r"\s+", "", unit).replace("μ", "µ").replace("·", "").lower()
    return key.replace("g·l-1", "g/l").replace("gl-1", "g/l").replace("/dm3", "/l")


def to_g_per_l(
    value: float,
    unit: str,
    *,
    molar_mass_g_per_mol: float | None = None,
    compound: str = "",
    source: str | None = None,
    record: str | None = None,
) -> float:
    """Convert a concentration to g/L.

    Raises
    ------
    ValidationError
        An unknown unit, or a molar unit without a molar mass (``field='unit'``).

    Examples
    --------
    >>> to_g_per_l(250, "mg/L")
    0.25
    >>> round(to_g_per_l(10, "mM", molar_mass_g_per_mol=180.156, compound="glucose"), 5)
    1.80156
    """
    key = _unit_key(unit)
    if key in MASS_UNITS_G_PER_L:
        return value * MASS_UNITS_G_PER_L[key]
    if key in MOLAR_UNITS_MOL_PER_L:
        if molar_mass_g_per_mol is None or not molar_mass_g_per_mol > 0:
            raise ValidationError(
                f"{unit!r} is a molar unit but {compound or 'the compound'} has no molar mass; "
                "pass molar_mass_g_per_mol={compound: g/mol}",
                source=source,
                record=record,
                field="unit",
            )
        return value * MOLAR_UNITS_MOL_PER_L[key] * molar_mass_g_per_mol
    raise ValidationError(
        f"unknown concentration unit {unit!r}; use g/L, mg/L, mg/mL, µg/mL, M, mM or µM",
        source=source,
        record=record,
        field="unit",
    )


@dataclass(frozen=True, slots=True)
class TitreMeasurement:
    """One concentration, converted to g/L."""

    sample: str
    strain: str
    replicate: int | None
    compound: str
    concentration_g_per_l: float
    time_h: float | None = None


@dataclass(frozen=True, slots=True)
class TitreTable:
    """Measured concentrations of one or more compounds."""

    rows: tuple[TitreMeasurement, ...]
    source: str | None = None

    @property
    def compounds(self) -> tuple[str, ...]:
        """The compounds measured, in table order."""
        return tuple(dict.fromkeys(r.compound for r in self.rows))

    def to_frame(self) -> Any:
        """Return the rows as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "sample": r.sample,
                    "strain": r.strain,
                    "replicate": r.replicate,
                    "compound": r.compound,
                    "time_h": r.time_h,
                    "concentration_g_per_l": r.concentration_g_per_l,
                }
                for r in self.rows
            ]
        )


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def read_titres(
    data: str | Path | Iterable[Mapping[str, Any]],
    *,
    molar_mass_g_per_mol: Mapping[str, float] | None = None,
    source: str | None = None,
) -> TitreTable:
    """Read a titre table (CSV, ``.xlsx``, or rows as dicts) into g/L.

    Parameters
    ----------
    data
        A CSV/Excel file, or an iterable of row dicts (e.g. ``DataFrame.to_dict("records")``).
    molar_mass_g_per_mol
        Molar masses by compound, needed for molar units.
    source
        The name to give in errors for in-memory rows.

    Raises
    ------
    ValidationError
        Naming file, row and field: a missing column, a non-numeric or negative
        concentration, an unknown unit, a molar unit without molar mass, a bad time.
        Nothing is returned unless every row is valid.

    Examples
    --------
    >>> t = read_titres([{"sample": "s1", "compound": "lactate", "concentration": "5",
    ...                   "unit": "mM"}], molar_mass_g_per_mol={"lactate": 90.08})
    >>> round(t.rows[0].concentration_g_per_l, 4)
    0.4504
    """
    masses = dict(molar_mass_g_per_mol or {})
    first_row = 1
    if isinstance(data, str | Path):
        import pandas as pd

        path = Path(data)
        source = source or str(path)
        try:
            if path.suffix.lower() in {".xlsx", ".xlsm"}:
                frame = pd.read_excel(path, dtype=object)
            else:
                frame = pd.read_csv(
                    path, dtype=object, keep_default_na=False, sep=None, engine="python"
                )
        except (OSError, ValueError) as exc:
            raise FormatError(f"cannot read the titre table: {exc}", source=source) from None
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        records: Sequence[Mapping[str, Any]] = frame.to_dict("records")
        first_row = 2  # the header is row 1 of the file
    else:
        records = [{str(k).strip().lower(): v for k, v in r.items()} for r in data]
    if not records:
        raise FormatError("the titre table has no rows", source=source)
    missing = [c for c in ("sample", "compound", "concentration", "unit") if c not in records[0]]
    if missing:
        raise FormatError(
            f"the titre table lacks columns {', '.join(missing)}", source=source, record="row 1"
        )
    rows: list[TitreMeasurement] = []
    for i, rec in enumerate(records):
        record = f"row {i + first_row}"
        sample = _cell(rec.get("sample"))
        compound = _cell(rec.get("compound"))
        if not sample:
            raise ValidationError("no sample", source=source, record=record, field="sample")
        if not compound:
            raise ValidationError("no compound", source=source, record=record, field="compound")
        text = _cell(rec.get("concentration"))
        try:
            value = float(text)
        except ValueError:
            raise ValidationError(
                f"concentration {text!r} is not a number",
                source=source,
                record=record,
                field="concentration",
            ) from None
        if not math.isfinite(value) or value < 0:
            raise ValidationError(
                f"concentration {text!r} must be a finite number >= 0",
                source=source,
                record=record,
                field="concentration",
            )
        g_per_l = to_g_per_l(
            value,
            _cell(rec.get("unit")),
            molar_mass_g_per_mol=masses.get(compound),
            compound=compound,
            source=source,
            record=record,
        )
        time_text = _cell(rec.get("time_h"))
        time_h: float | None = None
        if time_text:
            try:
                time_h = float(time_text)
            except ValueError:
                raise ValidationError(
                    f"time {time_text!r} is not a number of hours",
                    source=source,
                    record=record,
                    field="time_h",
                ) from None
        rep_text = _cell(rec.get("replicate"))
        replicate: int | None = None
        if rep_text:
            try:
                replicate = int(float(rep_text))
            except ValueError:
                raise ValidationError(
                    f"replicate {rep_text!r} is not a whole number",
                    source=source,
                    record=record,
                    field="replicate",
                ) from None
        strain = _cell(rec.get("strain")) or sample
        rows.append(TitreMeasurement(sample, strain, replicate, compound, g_per_l, time_h))
    return TitreTable(tuple(rows), source)


@dataclass(frozen=True, slots=True)
class SamplePerformance:
    """Titre, rate and yield of one sample (one culture)."""

    sample: str
    strain: str
    replicate: int | None
    titre_g_per_l: float
    rate_g_per_l_h: float
    yield_g_per_g: float
    time_h: float


@dataclass(frozen=True, slots=True)
class StrainPerformance:
    """Titre, rate and yield of one strain over its replicate cultures."""

    strain: str
    product: str
    samples: tuple[SamplePerformance, ...]
    titre_g_per_l: ReplicateStats
    rate_g_per_l_h: ReplicateStats
    yield_g_per_g: ReplicateStats

    def to_record(self) -> dict[str, Any]:
        """Return a flat dict: ``<quantity>_mean``, ``_sd``, ``_cv``, ``_n``."""
        rec: dict[str, Any] = {"strain": self.strain, "product": self.product}
        for name in ("titre_g_per_l", "rate_g_per_l_h", "yield_g_per_g"):
            st: ReplicateStats = getattr(self, name)
            rec[f"{name}_n"] = st.n
            rec[f"{name}_mean"] = st.mean
            rec[f"{name}_sd"] = st.sd
            rec[f"{name}_cv"] = st.cv
        return rec


@dataclass(frozen=True, slots=True)
class PerformanceTable:
    """Titre, rate and yield per strain (the TRY of a DBTL cycle)."""

    strains: tuple[StrainPerformance, ...]

    def to_frame(self) -> Any:
        """One row per strain (:meth:`StrainPerformance.to_record`)."""
        import pandas as pd

        return pd.DataFrame([s.to_record() for s in self.strains])

    def samples_frame(self) -> Any:
        """One row per sample."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "strain": p.strain,
                    "sample": p.sample,
                    "replicate": p.replicate,
                    "time_h": p.time_h,
                    "titre_g_per_l": p.titre_g_per_l,
                    "rate_g_per_l_h": p.rate_g_per_l_h,
                    "yield_g_per_g": p.yield_g_per_g,
                }
                for s in self.strains
                for p in s.samples
            ]
        )


def strain_performance(
    table: TitreTable,
    *,
    product: str,
    substrate: str | None = None,
    initial_substrate_g_per_l: float | None = None,
    time_h: float | None = None,
) -> PerformanceTable:
    """Titre, volumetric rate and yield per sample, and their replicate statistics per strain.

    Parameters
    ----------
    table
        Concentrations (:func:`read_titres`).
    product
        The product compound.
    substrate
        The substrate compound (e.g. ``"glucose"``), for the yield.
    initial_substrate_g_per_l
        :math:`S(t_0)` when it was not measured (the medium's recipe).
    time_h
        The culture time of samples without a ``time_h`` column.

    Returns
    -------
    PerformanceTable
        One :class:`StrainPerformance` per strain, in table order.

    Raises
    ------
    ValidationError
        No row of the product; a sample without a time for the rate; a sample
        measured twice at one time.

    Examples
    --------
    >>> t = read_titres([
    ...     {"sample": "a", "strain": "S1", "compound": "P", "concentration": 2, "unit": "g/L"},
    ...     {"sample": "a", "strain": "S1", "compound": "glc", "concentration": 6, "unit": "g/L"},
    ... ])
    >>> p = strain_performance(t, product="P", substrate="glc", initial_substrate_g_per_l=20,
    ...                        time_h=48)
    >>> s = p.strains[0].samples[0]
    >>> s.titre_g_per_l, round(s.rate_g_per_l_h, 4), round(s.yield_g_per_g, 4)
    (2.0, 0.0417, 0.1429)
    """
    if not any(r.compound == product for r in table.rows):
        raise ValidationError(
            f"no measurement of the product {product!r}; "
            f"the table has {', '.join(table.compounds)}",
            source=table.source,
            field="compound",
        )
    by_sample: dict[str, list[TitreMeasurement]] = {}
    for r in table.rows:
        by_sample.setdefault(r.sample, []).append(r)
    per_strain: dict[str, list[SamplePerformance]] = {}
    for sample, rows in by_sample.items():
        prod = _series(rows, product, time_h, table.source)
        if not prod:
            continue
        t0, p0 = prod[0]
        t_end, p_end = prod[-1]
        if len(prod) == 1:
            t0, p0 = 0.0, 0.0
        if t_end <= t0:
            raise ValidationError(
                f"sample {sample!r} has no culture time for the rate; add time_h",
                source=table.source,
                record=sample,
                field="time_h",
            )
        rate = (p_end - p0) / (t_end - t0)
        yld = math.nan
        if substrate is not None:
            subs = _series(rows, substrate, time_h, table.source)
            s_end = subs[-1][1] if subs else math.nan
            s0 = (
                initial_substrate_g_per_l
                if initial_substrate_g_per_l is not None
                else (subs[0][1] if len(subs) > 1 else math.nan)
            )
            consumed = s0 - s_end
            yld = (p_end - p0) / consumed if consumed > 0 else math.nan
        strain = rows[0].strain
        per_strain.setdefault(strain, []).append(
            SamplePerformance(sample, strain, rows[0].replicate, p_end, rate, yld, t_end)
        )
    return PerformanceTable(
        tuple(
            StrainPerformance(
                strain=strain,
                product=product,
                samples=tuple(samples),
                titre_g_per_l=ReplicateStats.of([s.titre_g_per_l for s in samples]),
                rate_g_per_l_h=ReplicateStats.of([s.rate_g_per_l_h for s in samples]),
                yield_g_per_g=ReplicateStats.of([s.yield_g_per_g for s in samples]),
            )
            for strain, samples in per_strain.items()
        )
    )


def _series(
    rows: Sequence[TitreMeasurement], compound: str, default_time: float | None, source: str | None
) -> list[tuple[float, float]]:
    """``(time_h, g/L)`` of one compound in one sample, sorted by time."""
    out: dict[float, float] = {}
    for r in rows:
        if r.compound != compound:
            continue
        t = r.time_h if r.time_h is not None else default_time
        if t is None:
            raise ValidationError(
                f"sample {r.sample!r} has no time; add a time_h column or pass time_h=",
                source=source,
                record=r.sample,
                field="time_h",
            )
        if t in out:
            raise ValidationError(
                f"sample {r.sample!r} has two {compound} values at {t:g} h",
                source=source,
                record=r.sample,
                field="concentration",
            )
        out[t] = r.concentration_g_per_l
    return sorted(out.items())
