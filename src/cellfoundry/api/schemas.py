"""The HTTP API's request and response bodies (Pydantic), named like the FastAPI template.

``*Create`` and ``*Update`` are what clients send, ``*Public`` what they get
back; ``*sPublic`` is a page of a listing with its total ``count``. Each
``from_view`` builds a public model from a bank view, so routes stay one line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from cellfoundry.bank.models import (
    Atmosphere,
    DepositType,
    ModificationKind,
    Nagoya,
    OrganismType,
    StrainRecord,
    StrainStatus,
    SupplyForm,
)
from cellfoundry.bank.models import Modification as ModificationValue
from cellfoundry.bank.views import (
    BankCounts,
    DepositView,
    HistoryEntry,
    ImportReport,
    Lineage,
    LineageNode,
    PartView,
    SampleView,
    SequenceHitView,
    SequenceSummary,
    StrainPage,
    StrainSummary,
    StrainView,
)
from cellfoundry.core.sequence import Feature, SequenceRecord

SequenceKindName = Literal["plasmid", "part", "genome"]
ImportKind = Literal["strain", "plasmid", "part", "genome"]
ALL_SEQUENCE_KINDS: tuple[SequenceKindName, ...] = ("plasmid", "part", "genome")


def _utc(value: dt.datetime) -> dt.datetime:
    """Attach UTC to a time the database returned without its offset (SQLite)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


#: A time in UTC, always sent with its offset.
UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]


class ErrorPublic(BaseModel):
    """Why a request was refused: the message and where the bad value is."""

    detail: str = Field(description="What went wrong and what to do about it.")
    source: str | None = Field(default=None, description="The file (or input) the value came from.")
    record: str | None = Field(default=None, description="The record within the source.")
    field: str | None = Field(default=None, description="The field that holds the bad value.")


# -- strains ------------------------------------------------------------------------------------


class ModificationPublic(BaseModel):
    """A genetic change that turns a parent strain into this one."""

    kind: ModificationKind
    target: str = ""
    description: str = ""


class StrainBase(BaseModel):
    """The catalogue fields of a strain (MIRRI-IS mandatory fields, WFCC minimum data set)."""

    taxon_name: str = Field(min_length=1, examples=["Escherichia coli K-12 MG1655"])
    organism_type: OrganismType = "bacterium"
    risk_group: int = Field(default=1, ge=1, le=4, description="WHO risk group 1-4.")
    ncbi_taxid: int | None = None
    type_strain: bool = False
    isolation_source: str = ""
    country: str = ""
    locality: str = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    growth_medium: str = ""
    growth_temperature_c: float | None = None
    atmosphere: Atmosphere | None = None
    supply_forms: list[SupplyForm] = Field(default_factory=list)
    restrictions: str = ""
    nagoya: Nagoya = "unknown"
    genotype: str = ""
    history: str = Field(
        default="", description='History of deposit, e.g. "<- depositor <- isolator".'
    )
    status: StrainStatus = "available"
    remarks: str = ""


Visibility = Literal["private", "group", "public"]


class StrainCreate(StrainBase):
    """A new strain; parent and plasmids must already be in the bank."""

    accession: str = Field(min_length=1, max_length=64, examples=["CF-0001"])
    other_accessions: list[str] = Field(default_factory=list, examples=[["DSM 18039"]])
    parent_accession: str | None = None
    modifications: list[ModificationPublic] = Field(default_factory=list)
    plasmid_names: list[str] = Field(default_factory=list)

    def to_record(self) -> StrainRecord:
        """Return the bank's value for this strain."""
        data = self.model_dump()
        data["other_accessions"] = tuple(data["other_accessions"])
        data["supply_forms"] = tuple(data["supply_forms"])
        data["plasmid_names"] = tuple(data["plasmid_names"])
        data["modifications"] = tuple(ModificationValue(**m) for m in data["modifications"])
        return StrainRecord(**data)


class StrainUpdate(BaseModel):
    """Catalogue fields to change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    taxon_name: str | None = Field(default=None, min_length=1)
    organism_type: OrganismType | None = None
    risk_group: int | None = Field(default=None, ge=1, le=4)
    ncbi_taxid: int | None = None
    type_strain: bool | None = None
    isolation_source: str | None = None
    country: str | None = None
    locality: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    growth_medium: str | None = None
    growth_temperature_c: float | None = None
    atmosphere: Atmosphere | None = None
    supply_forms: list[SupplyForm] | None = None
    restrictions: str | None = None
    nagoya: Nagoya | None = None
    genotype: str | None = None
    history: str | None = None
    status: StrainStatus | None = None
    remarks: str | None = None

    @field_validator(
        "taxon_name", "organism_type", "risk_group", "type_strain", "isolation_source",
        "country", "locality", "growth_medium", "supply_forms", "restrictions", "nagoya",
        "genotype", "history", "status", "remarks",
    )  # fmt: skip
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """Refuse null for a field that always has a value (change it or leave it out)."""
        if value is None:
            raise ValueError("cannot be null; send a value or leave the field out")
        return value

    def changes(self) -> dict[str, Any]:
        """Return the fields the client sent, as the bank expects them."""
        data = self.model_dump(exclude_unset=True)
        if "supply_forms" in data:
            data["supply_forms"] = tuple(data["supply_forms"] or ())
        return data


class ViabilityPublic(BaseModel):
    """A viability test of a sample."""

    tested_on: dt.date
    viable: bool
    cfu_per_ml: float | None
    note: str


class SamplePublic(BaseModel):
    """A sample with its full storage address."""

    label: str
    owner: str = Field(description="Accession of the strain or name of the plasmid it holds.")
    site: str
    freezer: str
    rack: str
    box: str
    position: str = Field(examples=["B7"])
    address: str = Field(examples=["Main/F1/R2/Box 3/B7"])
    row: int
    column: int
    preservation: str
    vials: int
    prepared_on: dt.date
    viability: list[ViabilityPublic]

    @classmethod
    def from_view(cls, view: SampleView) -> SamplePublic:
        """Build from a bank view."""
        return cls(**view.to_dict(), position=view.position, address=view.address)


class SampleMove(BaseModel):
    """Where to move a sample: a box path and a free position."""

    box: str = Field(examples=["Main/F1/R2/Box 3"], description="site/freezer/rack/box")
    position: str = Field(examples=["B7"])


class DepositCreate(BaseModel):
    """A public, safe or Budapest Treaty patent deposit of a strain."""

    deposit_type: DepositType
    depositor: str = Field(min_length=1, description="Depositor's name and address.")
    deposited_on: dt.date | None = Field(default=None, description="Default: today.")
    depositor_statement: str = Field(default="", description="Written statement (Rule 6.1).")
    viability_statement: str = Field(default="", description="Viability statement (Rule 10.2).")
    patent_reference: str = ""
    owner: str | None = Field(
        default=None,
        description="User name of the depositor's account: the strain becomes theirs, and "
        "they are notified.",
    )


class DepositPublic(BaseModel):
    """A deposit and, for a patent deposit, the date until which it must be kept."""

    accession: str
    deposit_type: str
    depositor: str
    deposited_on: dt.date
    depositor_statement: str
    viability_statement: str
    patent_reference: str
    last_request_on: dt.date | None
    restricted_release: bool
    keep_until: dt.date | None = Field(
        description="Budapest Treaty Rule 9.1: 30 years after deposit, 5 after the last request."
    )

    @classmethod
    def from_view(cls, view: DepositView) -> DepositPublic:
        """Build from a bank view."""
        return cls(**view.to_dict())


class SequenceSummaryPublic(BaseModel):
    """A stored plasmid, part or genome, without its residues."""

    id: int
    kind: str
    name: str
    length: int
    topology: str
    checksum: str = Field(description="SEGUID v2 checksum.")
    feature_count: int
    description: str = ""
    role: str | None = None

    @classmethod
    def from_view(cls, view: SequenceSummary) -> SequenceSummaryPublic:
        """Build from a bank view."""
        return cls(**view.to_dict())


class StrainPublic(StrainCreate):
    """A strain with its lineage links, plasmids, genomes, samples, deposit and version."""

    genus: str
    children: list[str]
    plasmids: list[SequenceSummaryPublic]
    genomes: list[SequenceSummaryPublic]
    samples: list[SamplePublic]
    deposit: DepositPublic | None
    visibility: Visibility
    owner: str | None = Field(description="User name of the owner; none: the collection's.")
    version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @classmethod
    def from_view(cls, view: StrainView) -> StrainPublic:
        """Build from a bank view."""
        record = {f.name: getattr(view.record, f.name) for f in dataclasses.fields(view.record)}
        record["modifications"] = [dataclasses.asdict(m) for m in view.record.modifications]
        return cls(
            **record,
            genus=view.genus,
            children=list(view.children),
            plasmids=[SequenceSummaryPublic.from_view(p) for p in view.plasmids],
            genomes=[SequenceSummaryPublic.from_view(g) for g in view.genomes],
            samples=[SamplePublic.from_view(s) for s in view.samples],
            deposit=DepositPublic.from_view(view.deposit) if view.deposit else None,
            visibility=cast(Visibility, view.visibility),
            owner=view.owner,
            version=view.version,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class StrainSummaryPublic(BaseModel):
    """One line of a strain listing."""

    accession: str
    taxon_name: str
    organism_type: str
    risk_group: int
    status: str
    parent_accession: str | None
    deposit_type: str | None

    @classmethod
    def from_view(cls, view: StrainSummary) -> StrainSummaryPublic:
        """Build from a bank view."""
        return cls(**view.to_dict())


class FacetCountPublic(BaseModel):
    """A facet value and how many matching strains have it."""

    value: str
    count: int


class StrainsPublic(BaseModel):
    """One page of a strain search with the total and facet counts."""

    data: list[StrainSummaryPublic]
    count: int = Field(description="How many strains match in all.")
    offset: int
    limit: int
    facets: dict[str, list[FacetCountPublic]] = Field(
        description="Per facet (genus, organism_type, risk_group, status, deposit_type) "
        "the values among the matches with their counts."
    )

    @classmethod
    def from_view(cls, page: StrainPage) -> StrainsPublic:
        """Build from a bank view."""
        return cls(
            data=[StrainSummaryPublic.from_view(s) for s in page.items],
            count=page.total,
            offset=page.offset,
            limit=page.limit,
            facets={
                name: [FacetCountPublic(value=f.value, count=f.count) for f in counts]
                for name, counts in page.facets.items()
            },
        )


class AccessionLookupPublic(BaseModel):
    """The strains an accession number (this or another collection's) refers to."""

    number: str
    data: list[StrainSummaryPublic]


class LineageNodePublic(BaseModel):
    """A strain in a pedigree with the modifications that made it from its parent."""

    accession: str
    taxon_name: str
    parent_accession: str | None
    depth: int
    modifications: list[ModificationPublic]
    status: str

    @classmethod
    def from_view(cls, node: LineageNode) -> LineageNodePublic:
        """Build from a bank view."""
        return cls(**node.to_dict())


class LineagePublic(BaseModel):
    """A strain's pedigree: ancestors from the root down, then all descendants."""

    accession: str
    ancestors: list[LineageNodePublic]
    descendants: list[LineageNodePublic]

    @classmethod
    def from_view(cls, lineage: Lineage) -> LineagePublic:
        """Build from a bank view."""
        return cls(
            accession=lineage.accession,
            ancestors=[LineageNodePublic.from_view(n) for n in lineage.ancestors],
            descendants=[LineageNodePublic.from_view(n) for n in lineage.descendants],
        )


class HistoryEntryPublic(BaseModel):
    """A versioned write of an entry: who, when, what changed."""

    version: int
    action: str
    actor: str
    at: UtcDatetime
    changes: dict[str, Any]

    @classmethod
    def from_view(cls, entry: HistoryEntry) -> HistoryEntryPublic:
        """Build from a bank view."""
        return cls(
            version=entry.version,
            action=entry.action,
            actor=entry.actor,
            at=entry.at,
            changes=entry.changes,
        )


class HistoryPublic(BaseModel):
    """Every versioned write of a strain, oldest first."""

    accession: str
    data: list[HistoryEntryPublic]


class CountsPublic(BaseModel):
    """How many entries of each kind the bank holds."""

    strains: int
    plasmids: int
    parts: int
    genomes: int
    samples: int
    deposits: int

    @classmethod
    def from_view(cls, counts: BankCounts) -> CountsPublic:
        """Build from a bank view."""
        return cls(**counts.to_dict())


# -- sequences ----------------------------------------------------------------------------------


class SpanPublic(BaseModel):
    """One contiguous span of a feature, 0-based and half-open."""

    start: int
    end: int
    strand: int
    partial_start: bool = False
    partial_end: bool = False


class FeaturePublic(BaseModel):
    """An annotated region of a sequence."""

    type: str
    label: str
    start: int = Field(description="0-based start of the leftmost span.")
    end: int = Field(description="0-based exclusive end of the rightmost span.")
    strand: int
    spans: list[SpanPublic]
    qualifiers: list[tuple[str, str | None]]

    @classmethod
    def from_feature(cls, feature: Feature) -> FeaturePublic:
        """Build from a feature value."""
        return cls(
            type=feature.type,
            label=feature.label,
            start=feature.start,
            end=feature.end,
            strand=feature.strand,
            spans=[SpanPublic(**dataclasses.asdict(s)) for s in feature.spans],
            qualifiers=[(k, v) for k, v in feature.qualifiers],
        )


class SequencePublic(BaseModel):
    """A stored sequence with its features."""

    kind: SequenceKindName
    name: str
    length: int
    topology: str
    description: str
    accession: str
    molecule_type: str
    checksum: str = Field(description="SEGUID v2 checksum.")
    features: list[FeaturePublic]
    sequence: str

    @classmethod
    def from_record(cls, kind: SequenceKindName, record: SequenceRecord) -> SequencePublic:
        """Build from a sequence record."""
        return cls(
            kind=kind,
            name=record.name,
            length=len(record),
            topology=record.topology,
            description=record.description,
            accession=record.accession,
            molecule_type=record.molecule_type,
            checksum=record.checksum,
            features=[FeaturePublic.from_feature(f) for f in record.features],
            sequence=record.sequence,
        )


class SequencesPublic(BaseModel):
    """One page of a plasmid or part listing."""

    data: list[SequenceSummaryPublic]
    count: int
    offset: int
    limit: int


class PartPublic(BaseModel):
    """A standard biological part: role, Sequence Ontology term, characterisation, sequence."""

    name: str
    role: str
    so_term: str
    description: str
    characterisation: dict[str, Any]
    sequence: SequencePublic

    @classmethod
    def from_view(cls, view: PartView) -> PartPublic:
        """Build from a bank view."""
        return cls(
            name=view.name,
            role=view.role,
            so_term=view.so_term,
            description=view.description,
            characterisation=dict(view.characterisation),
            sequence=SequencePublic.from_record("part", view.record),
        )


class SequenceSearch(BaseModel):
    """A similarity search: a DNA query, plain or FASTA."""

    sequence: str = Field(min_length=1, examples=["ATGACCATGATTACGGATTCACTGGCC"])
    top: int = Field(default=10, ge=1, le=100)
    kinds: list[SequenceKindName] = Field(default_factory=lambda: list(ALL_SEQUENCE_KINDS))


class SequenceHitPublic(BaseModel):
    """A similar stored sequence; coordinates are 0-based, half-open."""

    kind: str
    name: str
    length: int
    score: int
    identity: float = Field(description="Fraction of aligned columns that match.")
    strand: int
    query_start: int
    query_end: int
    target_start: int
    target_end: int
    coverage: float = Field(description="Fraction of the query inside the alignment.")

    @classmethod
    def from_view(cls, hit: SequenceHitView) -> SequenceHitPublic:
        """Build from a bank view."""
        return cls(**hit.to_dict())


class SequenceHitsPublic(BaseModel):
    """The hits of a similarity search, best first."""

    query_length: int
    data: list[SequenceHitPublic]


class ImportPublic(BaseModel):
    """What an import stored."""

    source: str
    strains: int
    sequences: int
    duplicates: list[str] = Field(description="Imported names identical to stored sequences.")

    @classmethod
    def from_view(cls, report: ImportReport, *, source: str) -> ImportPublic:
        """Build from a bank view, naming the uploaded file."""
        return cls(
            source=source,
            strains=report.strains,
            sequences=report.sequences,
            duplicates=list(report.duplicates),
        )
