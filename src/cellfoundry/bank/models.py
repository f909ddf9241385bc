"""Values of the bank: strains, plasmids, parts, lineage, stock and deposits.

These are plain frozen values that the formats produce and the services store.
The strain fields follow the MIRRI-IS mandatory fields and the WFCC minimum
data set for catalogues of microbial resource centres:

========================  ==================================================
field                     MIRRI-IS / WFCC name
========================  ==================================================
``accession``             Accession number
``other_accessions``      Other culture collection numbers
``taxon_name``            Organism / taxon name (genus, species, subspecies, strain)
``ncbi_taxid``            NCBI taxonomy identifier
``organism_type``         Organism type
``risk_group``            Risk group (1-4)
``type_strain``           Type strain
``isolation_source``      Substrate / host of isolation
``country``, ``locality`` Geographic origin (ISO 3166 country, place)
``latitude``,             Geographic coordinates of the sampling site
``longitude``
``growth_medium``         Recommended medium for growth
``growth_temperature_c``  Recommended growth temperature
``atmosphere``            Atmosphere (aerobic, anaerobic ...)
``supply_forms``          Form of supply (agar, freeze-dried, frozen ...)
``restrictions``          Restrictions on use
``nagoya``                Nagoya Protocol status
``genotype``              Genotype
``history``               History of deposit ("<- depositor <- isolator")
``status``                Availability in the catalogue
========================  ==================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, get_args

OrganismType = Literal[
    "bacterium", "archaeon", "yeast", "filamentous fungus", "alga", "phage", "other"
]
Atmosphere = Literal["aerobic", "anaerobic", "microaerophilic", "facultative", "CO2-enriched"]
SupplyForm = Literal["agar", "freeze-dried", "frozen", "liquid", "DNA"]
Nagoya = Literal[
    "no known restrictions",
    "documents available",
    "within scope, PIC and MAT required",
    "outside scope",
    "unknown",
]
StrainStatus = Literal["available", "restricted", "planned", "not available"]
ModificationKind = Literal[
    "deletion",
    "insertion",
    "point mutation",
    "plasmid transformation",
    "adaptive evolution",
    "replacement",
    "other",
]
PreservationMethod = Literal[
    "glycerol -80 °C", "lyophilised", "liquid nitrogen", "agar slant", "DMSO -80 °C"
]
DepositType = Literal["public", "safe", "patent"]

ORGANISM_TYPES: tuple[str, ...] = get_args(OrganismType)
ATMOSPHERES: tuple[str, ...] = get_args(Atmosphere)
SUPPLY_FORMS: tuple[str, ...] = get_args(SupplyForm)
NAGOYA_STATUSES: tuple[str, ...] = get_args(Nagoya)
STRAIN_STATUSES: tuple[str, ...] = get_args(StrainStatus)
MODIFICATION_KINDS: tuple[str, ...] = get_args(ModificationKind)
PRESERVATION_METHODS: tuple[str, ...] = get_args(PreservationMethod)
DEPOSIT_TYPES: tuple[str, ...] = get_args(DepositType)
RISK_GROUPS: tuple[int, ...] = (1, 2, 3, 4)

#: Sequence Ontology terms for the part roles the bank knows.
PART_ROLES: dict[str, str] = {
    "promoter": "SO:0000167",
    "rbs": "SO:0000139",
    "cds": "SO:0000316",
    "terminator": "SO:0000141",
    "origin": "SO:0000296",
    "marker": "SO:0002223",
    "5utr": "SO:0000204",
    "3utr": "SO:0000205",
    "signal_peptide": "SO:0000418",
    "tag": "SO:0000324",
    "operator": "SO:0000057",
    "spacer": "SO:0002223",
    "engineered_region": "SO:0000804",
    "other": "SO:0000110",
}

#: Budapest Treaty Rule 9.1: a deposit is kept at least 30 years from deposit.
PATENT_STORAGE_YEARS = 30
#: ... and at least 5 years after the most recent request for a sample.
PATENT_YEARS_AFTER_LAST_REQUEST = 5


@dataclass(frozen=True, slots=True)
class Modification:
    """One genetic change that turns a parent strain into a derived strain."""

    kind: ModificationKind
    target: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class StrainRecord:
    """A strain as entered or imported: the catalogue fields, before storage."""

    accession: str
    taxon_name: str
    organism_type: OrganismType = "bacterium"
    risk_group: int = 1
    ncbi_taxid: int | None = None
    other_accessions: tuple[str, ...] = ()
    type_strain: bool = False
    isolation_source: str = ""
    country: str = ""
    locality: str = ""
    latitude: float | None = None
    longitude: float | None = None
    growth_medium: str = ""
    growth_temperature_c: float | None = None
    atmosphere: Atmosphere | None = None
    supply_forms: tuple[SupplyForm, ...] = ()
    restrictions: str = ""
    nagoya: Nagoya = "unknown"
    genotype: str = ""
    history: str = ""
    status: StrainStatus = "available"
    parent_accession: str | None = None
    modifications: tuple[Modification, ...] = ()
    plasmid_names: tuple[str, ...] = ()
    remarks: str = ""


@dataclass(frozen=True, slots=True)
class PartRecord:
    """A standard biological part with its role and characterisation values."""

    name: str
    role: str
    sequence: str
    description: str = ""
    characterisation: dict[str, float] = field(default_factory=dict, hash=False)

    @property
    def sequence_ontology(self) -> str:
        """The Sequence Ontology term of the part's role."""
        return PART_ROLES.get(self.role, PART_ROLES["other"])


@dataclass(frozen=True, slots=True)
class PatentDates:
    """Retention dates of a Budapest Treaty deposit (Rule 9.1)."""

    deposited_on: dt.date
    last_request_on: dt.date | None

    @property
    def keep_until(self) -> dt.date:
        """The later of 30 years after deposit and 5 years after the last request.

        Examples
        --------
        >>> PatentDates(dt.date(2020, 2, 29), None).keep_until
        datetime.date(2050, 2, 28)
        >>> PatentDates(dt.date(2000, 1, 1), dt.date(2028, 6, 1)).keep_until
        datetime.date(2033, 6, 1)
        """
        storage = _add_years(self.deposited_on, PATENT_STORAGE_YEARS)
        if self.last_request_on is None:
            return storage
        after_request = _add_years(self.last_request_on, PATENT_YEARS_AFTER_LAST_REQUEST)
        return max(storage, after_request)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a non-leap year
        return day.replace(year=day.year + years, day=28)
