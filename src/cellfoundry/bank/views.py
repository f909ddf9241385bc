"""What the bank's services return: immutable views, free of database types.

Interfaces (CLI, API, web) read these; they never see a SQLAlchemy object.
Every view has ``to_dict()`` giving JSON-able data for ``--json`` and the API.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cellfoundry.bank.models import Modification, StrainRecord
from cellfoundry.core.sequence import SequenceRecord


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


class _View:
    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the view as JSON-able data."""
        data = _jsonable(self)
        assert isinstance(data, dict)
        return data


@dataclass(frozen=True, slots=True)
class StrainSummary(_View):
    """One line of a strain listing."""

    accession: str
    taxon_name: str
    organism_type: str
    risk_group: int
    status: str
    parent_accession: str | None
    deposit_type: str | None


@dataclass(frozen=True, slots=True)
class SampleView(_View):
    """A sample with its full storage address."""

    label: str
    owner: str
    site: str
    freezer: str
    rack: str
    box: str
    row: int
    column: int
    preservation: str
    vials: int
    prepared_on: dt.date
    viability: tuple[ViabilityView, ...] = ()

    @property
    def position(self) -> str:
        """The position as a box coordinate, e.g. ``B7``."""
        return f"{chr(ord('A') + self.row - 1)}{self.column}"

    @property
    def address(self) -> str:
        """Site / freezer / rack / box / position."""
        return f"{self.site}/{self.freezer}/{self.rack}/{self.box}/{self.position}"


@dataclass(frozen=True, slots=True)
class ViabilityView(_View):
    """A viability test result."""

    tested_on: dt.date
    viable: bool
    cfu_per_ml: float | None
    note: str


@dataclass(frozen=True, slots=True)
class DepositView(_View):
    """A deposit and, for patent deposits, its Budapest Treaty retention date."""

    accession: str
    deposit_type: str
    depositor: str
    deposited_on: dt.date
    depositor_statement: str
    viability_statement: str
    patent_reference: str
    last_request_on: dt.date | None
    restricted_release: bool
    keep_until: dt.date | None


@dataclass(frozen=True, slots=True)
class SequenceSummary(_View):
    """A stored sequence without its residues."""

    id: int
    kind: str
    name: str
    length: int
    topology: str
    checksum: str
    feature_count: int
    description: str = ""
    role: str | None = None


@dataclass(frozen=True, slots=True)
class PlasmidUsage(_View):
    """Where a plasmid is: the strains that carry it and its own samples."""

    name: str
    strains: tuple[StrainSummary, ...]
    samples: tuple[SampleView, ...]


@dataclass(frozen=True, slots=True)
class PartView(_View):
    """A part with its sequence and characterisation."""

    name: str
    role: str
    so_term: str
    description: str
    characterisation: dict[str, Any]
    record: SequenceRecord


@dataclass(frozen=True, slots=True)
class StrainView(_View):
    """A strain with everything a curator sees on its page."""

    id: int
    record: StrainRecord
    genus: str
    parent_accession: str | None
    children: tuple[str, ...]
    plasmids: tuple[SequenceSummary, ...]
    genomes: tuple[SequenceSummary, ...]
    samples: tuple[SampleView, ...]
    deposit: DepositView | None
    visibility: str
    owner: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def accession(self) -> str:
        """The collection's accession number."""
        return self.record.accession


@dataclass(frozen=True, slots=True)
class LineageNode(_View):
    """A strain in a pedigree, with the modifications that made it from its parent."""

    accession: str
    taxon_name: str
    parent_accession: str | None
    depth: int
    modifications: tuple[Modification, ...]
    status: str


@dataclass(frozen=True, slots=True)
class Lineage(_View):
    """A strain's pedigree: its ancestors up to the root and all its descendants."""

    accession: str
    ancestors: tuple[LineageNode, ...]
    descendants: tuple[LineageNode, ...]

    @property
    def nodes(self) -> tuple[LineageNode, ...]:
        """Every strain of the pedigree, root first."""
        return self.ancestors + self.descendants


@dataclass(frozen=True, slots=True)
class FacetCount(_View):
    """A facet value and how many results have it."""

    value: str
    count: int


@dataclass(frozen=True, slots=True)
class StrainPage(_View):
    """One page of a strain search, with the total and facet counts."""

    items: tuple[StrainSummary, ...]
    total: int
    offset: int
    limit: int
    facets: dict[str, tuple[FacetCount, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryEntry(_View):
    """A versioned write: who, when, what."""

    version: int
    action: str
    actor: str
    at: dt.datetime
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImportReport(_View):
    """What an import stored."""

    source: str
    strains: int = 0
    sequences: int = 0
    duplicates: tuple[str, ...] = ()
    document: int | None = None


@dataclass(frozen=True, slots=True)
class DocumentExport(_View):
    """A stored import document: its records as stored now, and what the bank kept aside."""

    id: int
    filename: str
    format: str
    records: tuple[SequenceRecord, ...]
    remainder: str


@dataclass(frozen=True, slots=True)
class SequenceHitView(_View):
    """A sequence-search hit joined with the entry it belongs to."""

    kind: str
    name: str
    length: int
    score: int
    identity: float
    strand: int
    query_start: int
    query_end: int
    target_start: int
    target_end: int
    coverage: float


@dataclass(frozen=True, slots=True)
class BankCounts(_View):
    """How many entries of each kind the bank holds."""

    strains: int
    plasmids: int
    parts: int
    genomes: int
    samples: int
    deposits: int
