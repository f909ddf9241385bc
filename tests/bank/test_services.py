"""The bank's use cases on SQLite and PostgreSQL: lineage, stock, deposits, history, refusals."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from cellfoundry.bank.models import Modification, PartRecord, StrainRecord
from cellfoundry.bank.search import StrainQuery
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ConflictError, NotFoundError, ValidationError
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord

MG = StrainRecord(
    "CF-1",
    "Escherichia coli K-12 MG1655",
    ncbi_taxid=511145,
    other_accessions=("ATCC 700926", "DSM 18039"),
    genotype="F- lambda- ilvG- rfb-50 rph-1",
)


def lineage_records() -> list[StrainRecord]:
    return [
        MG,
        StrainRecord(
            "CF-2",
            "Escherichia coli K-12 MG1655 ΔldhA",
            parent_accession="CF-1",
            modifications=(Modification("deletion", "ldhA"),),
        ),
        StrainRecord(
            "CF-3",
            "Escherichia coli K-12 MG1655 ΔldhA ΔadhE",
            parent_accession="CF-2",
            modifications=(Modification("deletion", "adhE"),),
        ),
        StrainRecord(
            "CF-4",
            "Escherichia coli K-12 MG1655 ΔldhA rpoB",
            parent_accession="CF-2",
            modifications=(Modification("point mutation", "rpoB H526Y"),),
        ),
        StrainRecord("CF-9", "Bacillus subtilis 168", risk_group=1, genotype="trpC2"),
    ]


def snapshot(bank: Bank) -> dict[str, list[Any]]:
    """Every row of every table, to prove a failed write changed nothing."""
    meta = sa.MetaData()
    meta.reflect(bind=bank.engine)
    out: dict[str, list[Any]] = {}
    with bank.engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name.startswith(("strains_fts", "alembic")):
                continue
            cols = [c for c in table.c if c.name != "search_vector"]
            out[name] = sorted(map(repr, conn.execute(sa.select(*cols)).all()))
    return out


def test_lineage_walks_both_ways(bank: Bank) -> None:
    bank.import_strains(lineage_records(), actor="curator")
    lin = bank.lineage("CF-2")
    assert [n.accession for n in lin.ancestors] == ["CF-1", "CF-2"]
    assert [n.accession for n in lin.descendants] == ["CF-3", "CF-4"]
    assert lin.descendants[0].modifications == (Modification("deletion", "adhE"),)
    assert [n.depth for n in lin.nodes] == [0, 1, 2, 2]
    root = bank.lineage("CF-1")
    assert root.ancestors[0].parent_accession is None
    assert {n.accession for n in root.descendants} == {"CF-2", "CF-3", "CF-4"}
    view = bank.get_strain("CF-2")
    assert view.parent_accession == "CF-1"
    assert view.children == ("CF-3", "CF-4")


def test_parent_later_in_same_import_is_resolved(bank: Bank) -> None:
    bank.import_strains(list(reversed(lineage_records())), actor="curator")
    assert bank.get_strain("CF-3").parent_accession == "CF-2"


def test_failed_import_leaves_bank_exactly_as_it_was(bank: Bank) -> None:
    bank.import_strains([MG], actor="curator")
    before = snapshot(bank)
    batch = [
        StrainRecord("CF-5", "Escherichia coli"),
        StrainRecord(
            "CF-6",
            "Escherichia coli",
            parent_accession="CF-404",
            modifications=(Modification("deletion", "x"),),
        ),
    ]
    with pytest.raises(
        ValidationError, match=r"file 'batch.csv', record 'CF-6', field 'parent_accession'"
    ):
        bank.import_strains(batch, actor="curator", source="batch.csv")
    assert snapshot(bank) == before
    with pytest.raises(ConflictError, match=r"record 'CF-1', field 'accession': accession already"):
        bank.import_strains([StrainRecord("CF-7", "E. coli"), MG], actor="c", source="b.csv")
    assert snapshot(bank) == before
    with pytest.raises(ConflictError, match=r"repeated \(records 1 and 2\)"):
        bank.import_strains([StrainRecord("CF-8", "x"), StrainRecord("CF-8", "y")], actor="c")
    with pytest.raises(ValidationError, match="field 'risk_group'"):
        bank.import_strains([StrainRecord("CF-8", "x", risk_group=5)], actor="c")
    assert snapshot(bank) == before


def test_every_write_is_versioned(bank: Bank) -> None:
    bank.add_strain(MG, actor="alice")
    bank.update_strain("CF-1", {"risk_group": 2, "growth_medium": "M9"}, actor="bob")
    bank.update_strain("CF-1", {"growth_medium": "LB"}, actor="carol")
    events = bank.history("CF-1")
    assert [(e.version, e.action, e.actor) for e in events] == [
        (1, "create", "alice"),
        (2, "update", "bob"),
        (3, "update", "carol"),
    ]
    assert events[1].changes == {"risk_group": [1, 2], "growth_medium": ["", "M9"]}
    assert events[2].changes == {"growth_medium": ["M9", "LB"]}
    assert bank.get_strain("CF-1").version == 3
    with pytest.raises(ValidationError, match="field 'accession'"):
        bank.update_strain("CF-1", {"accession": "X"}, actor="bob")


def test_samples_never_share_a_position(bank: Bank) -> None:
    bank.add_strain(MG, actor="c")
    box = bank.add_box("Beijing", "F-01", "R1", "B1", rows=9, columns=9)
    other = bank.add_box("Beijing", "F-01", "R1", "B2", rows=9, columns=9)
    sample = bank.add_sample(
        "S1",
        box=box,
        position="B7",
        preservation="glycerol -80 °C",
        vials=5,
        strain="CF-1",
        actor="c",
    )
    assert sample.address == "Beijing/F-01/R1/B1/B7"
    before = snapshot(bank)
    with pytest.raises(
        ConflictError, match=r"record 'S2', field 'position': position B7 .* holds sample 'S1'"
    ):
        bank.add_sample(
            "S2", box=box, position="b7", preservation="lyophilised", strain="CF-1", actor="c"
        )
    with pytest.raises(ValidationError, match="outside the 9×9 box"):
        bank.add_sample(
            "S2", box=box, position="J1", preservation="lyophilised", strain="CF-1", actor="c"
        )
    assert snapshot(bank) == before
    bank.add_sample(
        "S2", box=other, position="A1", preservation="lyophilised", strain="CF-1", actor="c"
    )
    with pytest.raises(ConflictError, match="holds sample 'S2'"):
        bank.move_sample("S1", box=other, position="A1", actor="c")
    moved = bank.move_sample("S1", box=other, position="A2", actor="c")
    assert moved.address == "Beijing/F-01/R1/B2/A2"
    assert bank.box_map(other) == {"A1": "S2", "A2": "S1"}
    assert bank.box_map(box) == {}
    # the database itself refuses a second sample at a position, whatever the application does
    with bank.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT box_id, row, \"column\" FROM samples WHERE label='S1'")
        ).one()
    with bank.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(
            sa.text(
                'INSERT INTO samples (label, box_id, row, "column", preservation, vials, '
                "prepared_on, version) VALUES ('S3', :b, :r, :c, 'lyophilised', 1, '2026-01-01', 1)"
            ),
            {"b": row[0], "r": row[1], "c": row[2]},
        )


def test_patent_deposit_retention_dates(bank: Bank) -> None:
    bank.add_strain(MG, actor="c")
    with pytest.raises(ValidationError, match="field 'depositor_statement'"):
        bank.deposit(
            "CF-1",
            deposit_type="patent",
            depositor="ACME",
            deposited_on=dt.date(2020, 2, 29),
            actor="c",
        )
    dep = bank.deposit(
        "CF-1",
        deposit_type="patent",
        depositor="ACME",
        deposited_on=dt.date(2020, 2, 29),
        depositor_statement="Budapest Treaty deposit",
        actor="c",
    )
    assert dep.keep_until == dt.date(2050, 2, 28)
    assert dep.restricted_release
    view = bank.get_strain("CF-1")
    assert view.record.status == "restricted"
    assert view.deposit is not None
    assert view.deposit.deposit_type == "patent"
    with pytest.raises(ConflictError, match="already deposited"):
        bank.deposit(
            "CF-1", deposit_type="safe", depositor="x", deposited_on=dt.date(2021, 1, 1), actor="c"
        )
    page = bank.search(StrainQuery(deposit_type=("patent",)))
    assert [s.accession for s in page.items] == ["CF-1"]


def test_text_and_facet_search(bank: Bank) -> None:
    bank.import_strains(lineage_records(), actor="c")
    assert bank.search(StrainQuery(text="mg1655")).total == 4
    assert bank.search(StrainQuery(text="rfb-50")).total == 1
    assert [s.accession for s in bank.search(StrainQuery(text="subtil")).items] == ["CF-9"]
    page = bank.search(StrainQuery(text="escherichia"))
    assert {f.value: f.count for f in page.facets["genus"]} == {"Escherichia": 4}
    everything = bank.search(StrainQuery())
    assert {f.value: f.count for f in everything.facets["genus"]} == {
        "Escherichia": 4,
        "Bacillus": 1,
    }
    assert [s.accession for s in bank.search(StrainQuery(parent="CF-2")).items] == ["CF-3", "CF-4"]
    assert bank.search(StrainQuery(genus=("Bacillus",))).total == 1
    assert bank.search(StrainQuery(taxon="escherichia coli k-12")).total == 4
    paged = bank.search(StrainQuery(limit=2, offset=2))
    assert paged.total == 5
    assert [s.accession for s in paged.items] == ["CF-3", "CF-4"]
    assert [s.accession for s in bank.lookup("DSM 18039")] == ["CF-1"]
    assert [s.accession for s in bank.lookup("cf-3")] == ["CF-3"]
    assert bank.lookup("ATCC 1") == ()


def plasmid(name: str, seq: str, circular: bool = True) -> SequenceRecord:
    return SequenceRecord(
        name=name,
        sequence=seq,
        topology="circular" if circular else "linear",
        features=(
            Feature(
                "CDS", (FeatureSpan(0, 9, 1),), (("gene", "lacZ"), ("label", "a"), ("label", "b"))
            ),
            Feature(
                "misc_feature",
                (FeatureSpan(len(seq) - 3, len(seq), -1), FeatureSpan(0, 2, -1)),
                (("note", None),),
            ),
        ),
        annotations={"organism": "synthetic construct"},
    )


def test_sequences_round_trip_and_duplicates_by_checksum(bank: Bank) -> None:
    seq = "ATGACCATGATTACGGATTCACTGGCCGTCGTTTTACAACGTCGTGACTGGGAAAACC"
    rec = plasmid("pTest", seq)
    report = bank.import_sequences([rec], kind="plasmid", actor="c")
    assert report.duplicates == ()
    assert bank.get_sequence("plasmid", "pTest") == rec
    # the same circle opened elsewhere and reverse-complemented is an exact duplicate
    from cellfoundry.core.sequence import reverse_complement

    rotated = dataclasses.replace(plasmid("pRot", reverse_complement(seq[20:] + seq[:20])))
    assert [d.name for d in bank.find_duplicates(rotated)] == ["pTest"]
    report = bank.import_sequences([rotated], kind="plasmid", actor="c")
    assert report.duplicates == ("pRot",)
    with pytest.raises(ConflictError, match="record 'pTest', field 'name'"):
        bank.import_sequences([rec], kind="plasmid", actor="c", source="again.gb")
    bad = dataclasses.replace(rec, name="pBad", sequence="ACGTXACGT")
    with pytest.raises(
        ValidationError,
        match=r"file 'bad.gb', record 'pBad', field 'sequence': invalid base 'X' at position 5",
    ):
        bank.import_sequences([bad], kind="plasmid", actor="c", source="bad.gb")
    with pytest.raises(NotFoundError):
        bank.get_sequence("plasmid", "pBad")


def test_strain_carries_plasmids_and_genome(bank: Bank) -> None:
    bank.import_sequences([plasmid("pA", "ACGT" * 30)], kind="plasmid", actor="c")
    with pytest.raises(ValidationError, match="field 'plasmid_names'"):
        bank.add_strain(dataclasses.replace(MG, plasmid_names=("pMissing",)), actor="c")
    bank.add_strain(dataclasses.replace(MG, plasmid_names=("pA",)), actor="c")
    bank.import_sequences([plasmid("chr", "ACGGT" * 50)], kind="genome", actor="c", strain="CF-1")
    view = bank.get_strain("CF-1")
    assert [p.name for p in view.plasmids] == ["pA"]
    assert [g.name for g in view.genomes] == ["chr"]
    assert bank.search(StrainQuery(feature="lacZ")).total == 1
    assert bank.export_strains()[0].plasmid_names == ("pA",)


def test_parts_keep_role_and_characterisation(bank: Bank) -> None:
    part = bank.add_part(
        PartRecord(
            "BBa_J23100",
            "promoter",
            "TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC",
            characterisation={"relative_strength": 1.0},
        ),
        actor="c",
    )
    assert part.so_term == "SO:0000167"
    assert part.characterisation == {"relative_strength": 1.0}
    items, total = bank.list_sequences("part")
    assert total == 1
    assert items[0].role == "promoter"


def test_facet_summary_stays_exact_through_every_write(bank: Bank) -> None:
    bank.import_strains(lineage_records(), actor="c")
    bank.update_strain("CF-3", {"risk_group": 2, "status": "restricted"}, actor="c")
    bank.update_strain("CF-9", {"taxon_name": "Priestia megaterium"}, actor="c")
    bank.deposit(
        "CF-4", deposit_type="safe", depositor="x", deposited_on=dt.date(2024, 1, 1), actor="c"
    )
    with bank.engine.connect() as conn:
        summary = {
            tuple(r[:5]): r[5]
            for r in conn.execute(
                sa.text(
                    "SELECT genus, organism_type, risk_group, status, deposit_type, n FROM strain_facets WHERE n > 0"
                )
            )
        }
        direct = {
            tuple(r[:5]): r[5]
            for r in conn.execute(
                sa.text(
                    "SELECT genus, organism_type, risk_group, status, coalesce(deposit_type, ''), count(*) "
                    "FROM strains GROUP BY genus, organism_type, risk_group, status, coalesce(deposit_type, '')"
                )
            )
        }
    assert summary == direct
    page = bank.search(StrainQuery())
    assert {f.value: f.count for f in page.facets["genus"]} == {"Escherichia": 4, "Priestia": 1}
    assert {f.value: f.count for f in page.facets["deposit_type"]} == {"none": 4, "safe": 1}
    assert bank.search(StrainQuery(risk_group=(2,))).total == 1
    assert bank.search(StrainQuery(deposit_type=("none",))).total == 4


def test_parent_cycle_in_an_import_is_refused(bank: Bank) -> None:
    a = StrainRecord(
        "CF-A", "E. coli", parent_accession="CF-B", modifications=(Modification("deletion", "x"),)
    )
    b = StrainRecord(
        "CF-B", "E. coli", parent_accession="CF-A", modifications=(Modification("deletion", "y"),)
    )
    with pytest.raises(
        ValidationError, match=r"field 'parent_accession': the parent links form a cycle"
    ):
        bank.import_strains([a, b], actor="c", source="cycle.csv")
    assert bank.counts().strains == 0


def test_one_word_searches_read_exact_counts(bank: Bank) -> None:
    """On PostgreSQL one-word searches read the word facet summary; it must stay exact."""
    bank.import_strains(lineage_records(), actor="c")
    bank.update_strain("CF-3", {"risk_group": 2, "genotype": "soil isolate"}, actor="c")
    bank.deposit(
        "CF-4", deposit_type="safe", depositor="x", deposited_on=dt.date(2024, 1, 1), actor="c"
    )
    bank.import_strains(
        [StrainRecord("CF-10", "Escherichia coli W", isolation_source="soil")], actor="c"
    )
    for word in ("coli", "escherichia", "mg1655", "ldha", "soil", "subtilis", "nothing"):
        fast = bank.search(StrainQuery(text=word))
        # two copies of the word take the general path (grouping the matching strains)
        slow = bank.search(StrainQuery(text=f"{word} {word}"))
        assert fast.total == slow.total, word
        assert fast.facets == slow.facets, word
        assert fast.items == slow.items, word
        filtered = bank.search(StrainQuery(text=word, risk_group=(2,)))
        assert (
            filtered.total == bank.search(StrainQuery(text=f"{word} {word}", risk_group=(2,))).total
        )
    assert bank.search(StrainQuery(text="soil")).total == 2
    if bank.dialect == "postgresql":
        with bank.engine.connect() as conn:
            summary = {
                tuple(r[:6]): r[6]
                for r in conn.execute(
                    sa.text(
                        "SELECT word, genus, organism_type, risk_group, status, deposit_type, n FROM strain_word_facets WHERE n > 0"
                    )
                )
            }
            direct = {
                tuple(r[:6]): r[6]
                for r in conn.execute(
                    sa.text(
                        "SELECT w, genus, organism_type, risk_group, status, coalesce(deposit_type, ''), count(*) "
                        "FROM strains, unnest(tsvector_to_array(search_vector)) AS w "
                        "GROUP BY 1, 2, 3, 4, 5, 6"
                    )
                )
            }
        assert summary == direct


def test_taxon_prefix_counts_are_exact(bank: Bank) -> None:
    """On PostgreSQL taxon prefixes of up to two words read the species summary."""
    bank.import_strains(lineage_records(), actor="c")
    bank.import_strains(
        [
            StrainRecord("CF-20", "Escherichia  coli odd spacing"),
            StrainRecord("CF-21", "Escherichia fergusonii ATCC 35469", risk_group=2),
            StrainRecord("CF-22", "Escherichia"),
        ],
        actor="c",
    )
    bank.update_strain("CF-2", {"taxon_name": "Escherichia albertii TW07627"}, actor="c")
    records = bank.export_strains()
    for prefix in (
        "escherichia",
        "escherichia ",
        "Escherichia c",
        "escherichia coli k-12",
        "esch",
        "bac",
        "escherichia  c",
        "x",
    ):
        expected = [r for r in records if r.taxon_name.lower().startswith(prefix.lower())]
        page = bank.search(StrainQuery(taxon=prefix))
        assert page.total == len(expected), prefix
        risk = {str(g): sum(1 for r in expected if r.risk_group == g) for g in (1, 2)}
        assert {f.value: f.count for f in page.facets["risk_group"]} == {
            k: v for k, v in risk.items() if v
        }, prefix
        assert sorted(s.accession for s in page.items) == sorted(r.accession for r in expected), (
            prefix
        )
    if bank.dialect == "postgresql":
        with bank.engine.connect() as conn:
            summary = {
                tuple(r[:6]): r[6]
                for r in conn.execute(
                    sa.text(
                        "SELECT species, genus, organism_type, risk_group, status, deposit_type, n FROM strain_species_facets WHERE n > 0"
                    )
                )
            }
            direct = {
                tuple(r[:6]): r[6]
                for r in conn.execute(
                    sa.text(
                        "SELECT array_to_string((string_to_array(taxon_key, ' '))[1:2], ' '), genus, organism_type, "
                        "risk_group, status, coalesce(deposit_type, ''), count(*) FROM strains GROUP BY 1, 2, 3, 4, 5, 6"
                    )
                )
            }
        assert summary == direct
