"""The Learn of Design-Build-Test-Learn: design spaces and an ensemble recommender.

Pure science: numpy, scipy and scikit-learn; no database or web imports. Random
generators and progress callbacks are parameters.

>>> import numpy as np
>>> from cellfoundry.learn import DesignSpace, Factor, Recommender
>>> space = DesignSpace([Factor.ordinal("promoter", {"P1": 0.1, "P2": 0.4, "P3": 1.0}),
...                      Factor.switch("knockout")])
>>> space.size
6
"""

from cellfoundry.learn.recommend import (
    Acquisition,
    FactorImportance,
    ModelName,
    Prediction,
    Recommendation,
    Recommender,
    acquisition_scores,
    expected_improvement,
    upper_confidence_bound,
)
from cellfoundry.learn.space import Design, DesignSpace, Factor, InvalidDesignError

__all__ = [
    "Acquisition",
    "Design",
    "DesignSpace",
    "Factor",
    "FactorImportance",
    "InvalidDesignError",
    "ModelName",
    "Prediction",
    "Recommendation",
    "Recommender",
    "acquisition_scores",
    "expected_improvement",
    "upper_confidence_bound",
]
