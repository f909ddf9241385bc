"""Measurements and their analysis: the Test of the DBTL loop.

* :mod:`~cellfoundry.assay.readers`: plate-reader kinetic exports (Gen5, Tecan, tidy long
  tables; CSV or Excel) and plate maps, with errors naming file, row and field.
* :mod:`~cellfoundry.assay.growth`: blank subtraction, Gompertz/logistic/Baranyi fits with
  confidence intervals, model-free (spline, sliding-window) rates, replicate statistics.
* :mod:`~cellfoundry.assay.titre`: HPLC/LC-MS titres, volumetric rates and yields per strain.

Pure science: no web framework, no database.
"""

from cellfoundry.assay.growth import (
    GROWTH_MODELS,
    GrowthAnalysis,
    GrowthCurve,
    GrowthModel,
    GrowthStatus,
    ModelFit,
    ModelFreeGrowth,
    Parameter,
    ReplicateStats,
    ReplicateSummary,
    analyse_growth,
    baranyi,
    fit_growth,
    gompertz,
    logistic,
    modified_z_scores,
    subtract_blank,
    summarise_replicates,
)
from cellfoundry.assay.readers import (
    AssayWarning,
    Layout,
    Measurement,
    PlateMap,
    PlateReading,
    TimeUnit,
    WellInfo,
    WellRole,
    normalise_well,
    parse_kinetic,
    read_kinetic,
    read_plate_map,
)
from cellfoundry.assay.titre import (
    PerformanceTable,
    SamplePerformance,
    StrainPerformance,
    TitreMeasurement,
    TitreTable,
    read_titres,
    strain_performance,
    to_g_per_l,
)

__all__ = [
    "GROWTH_MODELS",
    "AssayWarning",
    "GrowthAnalysis",
    "GrowthCurve",
    "GrowthModel",
    "GrowthStatus",
    "Layout",
    "Measurement",
    "ModelFit",
    "ModelFreeGrowth",
    "Parameter",
    "PerformanceTable",
    "PlateMap",
    "PlateReading",
    "ReplicateStats",
    "ReplicateSummary",
    "SamplePerformance",
    "StrainPerformance",
    "TimeUnit",
    "TitreMeasurement",
    "TitreTable",
    "WellInfo",
    "WellRole",
    "analyse_growth",
    "baranyi",
    "fit_growth",
    "gompertz",
    "logistic",
    "modified_z_scores",
    "normalise_well",
    "parse_kinetic",
    "read_kinetic",
    "read_plate_map",
    "read_titres",
    "strain_performance",
    "subtract_blank",
    "summarise_replicates",
    "to_g_per_l",
]
