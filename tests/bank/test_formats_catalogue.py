"""The strain catalogue CSV: bulk import, validation, export."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cellfoundry.bank import formats
from cellfoundry.bank.formats import catalogue
from cellfoundry.bank.formats.catalogue import CatalogueErrors
from cellfoundry.bank.models import (
    ATMOSPHERES,
    MODIFICATION_KINDS,
    NAGOYA_STATUSES,
    ORGANISM_TYPES,
    STRAIN_STATUSES,
    SUPPLY_FORMS,
    Modification,
    StrainRecord,
)
from cellfoundry.core.errors import FormatError, ValidationError

HEADER = "accession,taxon_name,organism_type,risk_group"


def write_csv(tmp_path: Path, text: str, name: str = "strains.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_columns_match_the_strain_record() -> None:
    assert len(catalogue.COLUMNS) == 25
    assert set(catalogue.COLUMNS) == set(StrainRecord.__dataclass_fields__)
    assert catalogue.MANDATORY_COLUMNS == ("accession", "taxon_name", "organism_type", "risk_group")


def test_full_row_is_parsed_into_typed_fields(tmp_path: Path) -> None:
    row = {
        "accession": "CF-0001",
        "other_accessions": "DSM 498; ATCC 700926",
        "taxon_name": "Escherichia coli K-12 MG1655",
        "ncbi_taxid": "511145",
        "organism_type": "Bacterium",
        "risk_group": "1",
        "type_strain": "no",
        "isolation_source": "human faeces",
        "country": "US",
        "locality": "Stanford, California",
        "latitude": "37.43",
        "longitude": "-122.17",
        "growth_medium": "LB",
        "growth_temperature_c": "37",
        "atmosphere": "aerobic",
        "supply_forms": "freeze-dried; DNA",
        "restrictions": "",
        "nagoya": "outside scope",
        "genotype": "F- lambda- ilvG- rfb-50 rph-1",
        "history": "<- CGSC 7740 <- B. Bachmann",
        "status": "available",
        "parent_accession": "CF-0000",
        "modifications": "deletion:lacZ:in-frame, scarless; plasmid transformation:pUC19",
        "plasmid_names": "pUC19",
        "remarks": "reference strain",
    }
    path = tmp_path / "full.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    (strain,) = formats.read_catalogue(path)
    assert strain == StrainRecord(
        accession="CF-0001",
        taxon_name="Escherichia coli K-12 MG1655",
        organism_type="bacterium",
        risk_group=1,
        ncbi_taxid=511145,
        other_accessions=("DSM 498", "ATCC 700926"),
        type_strain=False,
        isolation_source="human faeces",
        country="US",
        locality="Stanford, California",
        latitude=37.43,
        longitude=-122.17,
        growth_medium="LB",
        growth_temperature_c=37.0,
        atmosphere="aerobic",
        supply_forms=("freeze-dried", "DNA"),
        nagoya="outside scope",
        genotype="F- lambda- ilvG- rfb-50 rph-1",
        history="<- CGSC 7740 <- B. Bachmann",
        status="available",
        parent_accession="CF-0000",
        modifications=(
            Modification("deletion", "lacZ", "in-frame, scarless"),
            Modification("plasmid transformation", "pUC19"),
        ),
        plasmid_names=("pUC19",),
        remarks="reference strain",
    )


def test_minimal_catalogue_gets_defaults_and_accepts_excel_habits(tmp_path: Path) -> None:
    # BOM, semicolons, header in another case and order, CRLF, blank lines
    text = (
        "\ufeffRisk_Group;Accession;Taxon Name;ORGANISM_TYPE\r\n"
        "2;CF-2;Saccharomyces cerevisiae;YEAST\r\n\r\n"
    )
    (strain,) = catalogue.read_catalogue(write_csv(tmp_path, text))
    assert strain == StrainRecord("CF-2", "Saccharomyces cerevisiae", "yeast", 2)
    assert (strain.nagoya, strain.status, strain.atmosphere) == ("unknown", "available", None)


def test_unknown_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + ",colour\nCF-1,E. coli,bacterium,1,red\n")
    with pytest.raises(
        FormatError,
        match=r"strains\.csv', record 'line 1', field 'colour': unknown column\(s\) 'colour'; "
        r"the catalogue columns are: accession, other_accessions",
    ):
        catalogue.read_catalogue(path)


def test_missing_mandatory_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "accession,taxon_name\nCF-1,E. coli\n")
    with pytest.raises(
        FormatError,
        match=r"field 'organism_type': missing mandatory column\(s\) organism_type, risk_group",
    ):
        catalogue.read_catalogue(path)


def test_repeated_column_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"field 'country'.*more than once"):
        catalogue.read_catalogue(write_csv(tmp_path, HEADER + ",country,Country\n"))
    with pytest.raises(FormatError, match=r"record 'line 1', field 'header'.*empty"):
        catalogue.read_catalogue(write_csv(tmp_path, "\n\n"))


BAD_ROWS = (
    HEADER + ",latitude,ncbi_taxid,supply_forms,modifications,type_strain,atmosphere\n"
    "CF-1,E. coli,bacterium,5,,,,,,\n"  # risk group 5
    "CF-2,E. coli,virus,1,,,,,,\n"  # organism type outside the vocabulary
    "CF-3,E. coli,bacterium,1,123,,,,,\n"  # latitude 123
    "CF-4,E. coli,bacterium,1,,5.5e2,,,,\n"  # taxid not an integer
    "CF-5,E. coli,bacterium,1,,,agar; pellet,,,\n"  # unknown supply form
    "CF-6,E. coli,bacterium,1,,,,knockout:lacZ,,\n"  # unknown modification kind
    "CF-7,E. coli,bacterium,1,,,,,maybe,\n"  # type strain neither yes nor no
    "CF-8,E. coli,bacterium,1,,,,,,vacuum\n"  # atmosphere outside the vocabulary
    ",E. coli,bacterium,1,,,,,,\n"  # no accession
    "CF-1,B. subtilis,bacterium,1,,,,,,\n"  # duplicate of line 2
    "CF-9,E. coli,bacterium,1,,,,\n"  # too few cells
    "CF-10,E. coli,bacterium,1,,,,,,\n"  # the only good row
)


def test_all_bad_cells_are_reported_at_once(tmp_path: Path) -> None:
    path = write_csv(tmp_path, BAD_ROWS)
    with pytest.raises(CatalogueErrors) as caught:
        catalogue.read_catalogue(path)
    errors = caught.value.errors
    assert all(e.source == str(path) for e in errors)
    assert [(e.record, e.field) for e in errors] == [
        ("CF-1", "risk_group"),
        ("CF-2", "organism_type"),
        ("CF-3", "latitude"),
        ("CF-4", "ncbi_taxid"),
        ("CF-5", "supply_forms"),
        ("CF-6", "modifications"),
        ("CF-7", "type_strain"),
        ("CF-8", "atmosphere"),
        ("line 10", "accession"),
        ("CF-1", "accession"),
        ("CF-9", "row"),
    ]
    messages = [e.message for e in errors]
    assert messages[0] == "risk group must be 1, 2, 3 or 4, not '5' (line 2)"
    assert messages[1].startswith("'virus' is not a valid organism type; use one of: bacterium")
    assert messages[2] == "latitude must be between -90 and 90°, not '123' (line 4)"
    assert messages[3] == "NCBI taxonomy id must be a positive integer, not '5.5e2' (line 5)"
    assert "'pellet' is not a valid supply form" in messages[4]
    assert "'knockout' is not a valid modification kind" in messages[5]
    assert messages[9] == "duplicate accession 'CF-1' on lines 2 and 11"
    assert messages[10] == "line 12 has 8 cells but the header has 10 columns"
    # one exception, a ValidationError, whose message shows the first few problems
    assert isinstance(caught.value, ValidationError)
    text = str(caught.value)
    assert text.startswith(
        f"file {str(path)!r}: 11 problems in the catalogue: record 'CF-1', field "
    )
    assert "record 'CF-5', field 'supply_forms'" in text
    assert "record 'CF-6'" not in text
    assert text.endswith("; and 6 more")


def test_single_error_carries_record_and_field(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + ",longitude\nCF-1,E. coli,bacterium,1,200\n")
    with pytest.raises(
        ValidationError,
        match=r"strains\.csv': 1 problem in the catalogue: record 'CF-1', field 'longitude': "
        r"longitude must be between -180 and 180°",
    ) as caught:
        catalogue.read_catalogue(path)
    assert (caught.value.record, caught.value.field) == ("CF-1", "longitude")


def test_self_parent_is_an_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + ",parent_accession\nCF-1,E. coli,bacterium,1,CF-1\n")
    with pytest.raises(CatalogueErrors, match=r"field 'parent_accession'.*own parent"):
        catalogue.read_catalogue(path)


def test_iter_catalogue_streams_good_rows_then_reports(tmp_path: Path) -> None:
    path = write_csv(tmp_path, BAD_ROWS)
    seen: list[str] = []
    stream = catalogue.iter_catalogue(path)
    seen.append(next(stream).accession)  # good rows come as they are read
    with pytest.raises(CatalogueErrors):
        next(stream)  # then, at the end, every problem at once
    assert seen == ["CF-10"]


def test_write_then_read_is_identity(tmp_path: Path) -> None:
    strains = [
        StrainRecord("CF-1", "Escherichia coli", "bacterium", 1, ncbi_taxid=562, latitude=-0.1),
        StrainRecord(
            "CF-2",
            "Aspergillus niger",
            "filamentous fungus",
            1,
            type_strain=True,
            atmosphere="CO2-enriched",
            supply_forms=("agar", "frozen"),
            modifications=(
                Modification("point mutation", "pyrG", "G123A: loss of function"),
                Modification("other"),
                Modification("insertion", "", "random: T-DNA"),
            ),
            remarks='multi-line\nremark, with "quotes"',
        ),
    ]
    path = tmp_path / "export.csv"
    formats.write_catalogue(strains, path)
    assert path.read_text().splitlines()[0] == ",".join(catalogue.COLUMNS)
    assert formats.read_catalogue(path) == strains


def test_values_the_csv_cannot_hold_are_refused(tmp_path: Path) -> None:
    strain = StrainRecord("CF-1", "E. coli", plasmid_names=("pA;pB",))
    with pytest.raises(ValidationError, match=r"record 'CF-1', field 'plasmid_names'.*';'"):
        catalogue.write_catalogue([strain], tmp_path / "x.csv")
    strain = StrainRecord("CF-1", "E. coli", modifications=(Modification("deletion", "a:b"),))
    with pytest.raises(ValidationError, match=r"record 'CF-1', field 'modifications'"):
        catalogue.write_catalogue([strain], tmp_path / "x.csv")


_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F, exclude_characters=";"),
    max_size=20,
).map(str.strip)
_ITEM = _TEXT.filter(bool)


@st.composite
def strains(draw: st.DrawFn, accession: str) -> StrainRecord:
    def maybe(strategy: st.SearchStrategy[object]) -> object:
        return draw(st.none() | strategy)

    return StrainRecord(
        accession=accession,
        taxon_name=draw(_ITEM),
        organism_type=draw(st.sampled_from(ORGANISM_TYPES)),
        risk_group=draw(st.integers(1, 4)),
        ncbi_taxid=maybe(st.integers(1, 10**7)),  # type: ignore[arg-type]
        other_accessions=tuple(draw(st.lists(_ITEM, max_size=3))),
        type_strain=draw(st.booleans()),
        country=draw(_TEXT),
        latitude=maybe(st.floats(-90, 90)),  # type: ignore[arg-type]
        longitude=maybe(st.floats(-180, 180)),  # type: ignore[arg-type]
        growth_temperature_c=maybe(st.floats(-20, 130)),  # type: ignore[arg-type]
        atmosphere=maybe(st.sampled_from(ATMOSPHERES)),  # type: ignore[arg-type]
        supply_forms=tuple(draw(st.lists(st.sampled_from(SUPPLY_FORMS), max_size=3))),
        nagoya=draw(st.sampled_from(NAGOYA_STATUSES)),
        status=draw(st.sampled_from(STRAIN_STATUSES)),
        parent_accession=maybe(st.sampled_from(["P-1", "P-2"])),  # type: ignore[arg-type]
        modifications=tuple(
            draw(
                st.lists(
                    st.builds(
                        Modification,
                        st.sampled_from(MODIFICATION_KINDS),
                        _TEXT.filter(lambda t: ":" not in t),
                        _TEXT,
                    ),
                    max_size=3,
                )
            )
        ),
        remarks=draw(_TEXT),
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_catalogues_round_trip(tmp_path: Path, data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 5))
    records = [data.draw(strains(f"CF-{i}")) for i in range(count)]
    path = tmp_path / "random.csv"
    catalogue.write_catalogue(records, path)
    assert catalogue.read_catalogue(path) == records


def test_100000_rows_read_in_well_under_10_seconds(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = [
        "CF-{i:06d},DSM {i},Species number {s},{taxid},bacterium,1,no,soil,DE,Braunschweig,"
        "52.{s},10.5,LB,30,aerobic,freeze-dried; frozen,,unknown,wild type,<- depositor,"
        "available,,deletion:lacZ:scarless,pUC19,",
        "CF-{i:06d},,Yeast {s},{taxid},yeast,2,yes,,,,,,YPD,28.5,,agar,,,,,,P-1,,,",
        "CF-{i:06d},,Phage {s},,phage,1,,,,,,,,,,DNA,,outside scope,,,planned,,,,note",
    ]
    lines = [",".join(catalogue.COLUMNS)]
    lines += [rows[i % 3].format(i=i, s=i % 977, taxid=1000 + i % 5000) for i in range(100_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    start = time.process_time()
    count = sum(1 for _ in catalogue.iter_catalogue(path))
    elapsed = time.process_time() - start
    assert count == 100_000
    assert elapsed < 10, f"reading 100,000 rows took {elapsed:.1f} s of CPU"
