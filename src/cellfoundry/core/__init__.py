"""Value types shared by every layer: sequences, features, errors, progress.

Standard library and numpy only.
"""

from cellfoundry.core.errors import (
    CellfoundryError,
    ConflictError,
    FormatError,
    InvalidSequenceError,
    NotFoundError,
    ValidationError,
)
from cellfoundry.core.progress import NullProgress, Progress
from cellfoundry.core.sequence import (
    Feature,
    FeatureSpan,
    SequenceRecord,
    Topology,
    reverse_complement,
    seguid,
    validate_dna,
)

__all__ = [
    "CellfoundryError",
    "ConflictError",
    "Feature",
    "FeatureSpan",
    "FormatError",
    "InvalidSequenceError",
    "NotFoundError",
    "NullProgress",
    "Progress",
    "SequenceRecord",
    "Topology",
    "ValidationError",
    "reverse_complement",
    "seguid",
    "validate_dna",
]
