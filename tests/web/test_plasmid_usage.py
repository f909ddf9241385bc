"""The plasmid page names the strains that carry the plasmid and the plasmid's own samples."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

from cellfoundry.api.app import create_app
from cellfoundry.bank import formats
from cellfoundry.bank.models import Modification, StrainRecord
from cellfoundry.bank.services import Bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_plasmid_page_lists_carriers_and_samples(sqlite_bank: Bank, shared_data: Path) -> None:
    gb = shared_data / "sbol-test-suite" / "GenBank" / "pICH41388.gb"
    sqlite_bank.import_sequences(formats.read(gb), kind="plasmid", actor="t")
    sqlite_bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12 MG1655"), actor="t")
    carrier = StrainRecord(
        "CF-2",
        "Escherichia coli K-12 MG1655 [pICH41388]",
        parent_accession="CF-1",
        modifications=(Modification("plasmid transformation", "pICH41388"),),
        plasmid_names=("pICH41388",),
    )
    sqlite_bank.add_strain(carrier, actor="t")
    box = sqlite_bank.add_box("Beijing", "F-01", "R1", "B1")
    sqlite_bank.add_sample(
        "P1",
        box=box,
        position="C4",
        preservation="glycerol -80 °C",
        vials=3,
        plasmid="pICH41388",
        actor="t",
    )
    usage = sqlite_bank.plasmid_usage("pICH41388")
    assert [s.accession for s in usage.strains] == ["CF-2"]
    assert [s.address for s in usage.samples] == ["Beijing/F-01/R1/B1/C4"]
    with TestClient(create_app(bank=sqlite_bank)) as client:
        en = client.get("/plasmids/pICH41388?lang=en").text
        assert "Strains carrying this plasmid" in en
        assert 'href="/strains/CF-2"' in en
        assert "Beijing/F-01/R1/B1/C4" in en
        zh = client.get("/plasmids/pICH41388?lang=zh").text
        assert "携带该质粒的菌种" in zh
        assert "3 管" in zh
    assert dataclasses.is_dataclass(usage)
