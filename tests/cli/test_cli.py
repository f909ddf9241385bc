"""The `cellfoundry` command on a real SQLite bank: imports, JSON output, refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cellfoundry.bank import formats
from cellfoundry.bank.models import Modification, StrainRecord
from cellfoundry.bank.search import StrainQuery
from cellfoundry.cli.main import app

runner = CliRunner()


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "catalogue.csv"
    formats.write_catalogue(
        [
            StrainRecord("CF-1", "Escherichia coli K-12 MG1655", other_accessions=("DSM 18039",)),
            StrainRecord(
                "CF-2",
                "Escherichia coli K-12 MG1655 ΔldhA",
                parent_accession="CF-1",
                modifications=(Modification("deletion", "ldhA"),),
            ),
        ],
        path,
    )
    return path


def test_import_search_show_lineage_as_json(
    db: str, catalogue: Path, shared_data: Path, tmp_path: Path
) -> None:
    run(db, "bank", "init")
    out = json.loads(run(db, "bank", "import", str(catalogue), "--kind", "strain", "--json"))
    assert out["strains"] == 2
    gb = shared_data / "sbol-test-suite" / "GenBank" / "pICH41388.gb"
    out = json.loads(run(db, "bank", "import", str(gb), "--kind", "plasmid", "--json"))
    assert out["sequences"] == 1
    page = json.loads(run(db, "bank", "search", "mg1655", "--json"))
    assert [s["accession"] for s in page["items"]] == ["CF-1", "CF-2"]
    assert (
        json.loads(run(db, "bank", "search", "DSM 18039", "--json"))["items"][0]["accession"]
        == "CF-1"
    )
    shown = json.loads(run(db, "bank", "show", "CF-2", "--history", "--json"))
    assert shown["parent_accession"] == "CF-1"
    assert shown["record"]["modifications"] == [
        {"kind": "deletion", "target": "ldhA", "description": ""}
    ]
    assert shown["history"][0]["action"] == "create"
    lineage = json.loads(run(db, "bank", "lineage", "CF-1", "--json"))
    assert [n["accession"] for n in lineage["descendants"]] == ["CF-2"]
    plasmid = json.loads(run(db, "bank", "show", "pICH41388", "--kind", "plasmid", "--json"))
    assert plasmid["length"] == 2677
    assert plasmid["topology"] == "circular"
    # a 300 bp piece of the plasmid finds it by similarity
    record = formats.read(gb)[0]
    hits = json.loads(run(db, "bank", "search", "--sequence", record.sequence[1000:1300], "--json"))
    assert hits[0]["name"] == "pICH41388"
    assert hits[0]["identity"] == 1.0


def test_export_round_trip(db: str, catalogue: Path, shared_data: Path, tmp_path: Path) -> None:
    run(db, "bank", "import", str(catalogue), "--kind", "strain")
    gb = shared_data / "sbol-test-suite" / "GenBank" / "pICH41388.gb"
    run(db, "bank", "import", str(gb), "--kind", "plasmid")
    out = tmp_path / "out.gb"
    run(db, "bank", "export", str(out), "--kind", "plasmid")
    assert formats.read(out) == formats.read(gb)
    strains = tmp_path / "strains.csv"
    run(db, "bank", "export", str(strains), "--kind", "strain")
    assert formats.read_catalogue(strains) == formats.read_catalogue(catalogue)


def test_move_and_deposit(db: str, catalogue: Path) -> None:
    from cellfoundry.bank.services import Bank

    run(db, "bank", "import", str(catalogue), "--kind", "strain")
    bank = Bank.open(db)
    box = bank.add_box("Beijing", "F-01", "R1", "B1")
    bank.add_sample(
        "S1", box=box, position="A1", preservation="lyophilised", strain="CF-1", actor="t"
    )
    bank.add_sample(
        "S2", box=box, position="A2", preservation="lyophilised", strain="CF-2", actor="t"
    )
    bank.close()
    moved = json.loads(run(db, "bank", "move", "S1", box, "C3", "--json"))
    assert moved["row"] == 3
    err = run(db, "bank", "move", "S1", box, "A2", code=1)
    assert (
        "record 'S1', field 'position': position A2 of box Beijing/F-01/R1/B1 already holds sample 'S2'"
        in err
    )
    dep = json.loads(
        run(
            db,
            "bank",
            "deposit",
            "CF-2",
            "--type",
            "patent",
            "--depositor",
            "ACME",
            "--date",
            "2020-02-29",
            "--statement",
            "Rule 6.1 statement",
            "--json",
        )
    )
    assert dep["keep_until"] == "2050-02-28"


def test_bad_file_is_refused_and_bank_unchanged(
    db: str, catalogue: Path, tmp_path: Path, shared_data: Path
) -> None:
    run(db, "bank", "import", str(catalogue), "--kind", "strain")
    bad = tmp_path / "bad.csv"
    formats.write_catalogue(
        [
            StrainRecord("CF-5", "Escherichia coli"),
            StrainRecord(
                "CF-3",
                "Escherichia coli",
                parent_accession="CF-404",
                modifications=(Modification("deletion", "ldhA"),),
            ),
        ],
        bad,
    )
    err = run(db, "bank", "import", str(bad), "--kind", "strain", code=1)
    assert "record 'CF-3', field 'parent_accession'" in err
    assert "bad.csv" in err
    truncated = tmp_path / "cut.gb"
    source = (shared_data / "sbol-test-suite" / "GenBank" / "pICH41388.gb").read_text()
    truncated.write_text(source[: len(source) // 2])
    err = run(db, "bank", "import", str(truncated), "--kind", "plasmid", code=1)
    assert "cut.gb" in err
    page = json.loads(run(db, "bank", "search", "--json"))
    assert page["total"] == 2
    unknown = tmp_path / "x.xyz"
    shutil.copy(truncated, unknown)
    err = run(db, "bank", "import", str(unknown), code=1)
    assert "x.xyz" in err


def test_user_add_token_and_revoke(db: str) -> None:
    result = runner.invoke(
        app,
        [
            "--db",
            db,
            "user",
            "add",
            "wang.li",
            "--role",
            "curator",
            "--organisation",
            "BJCC",
            "--password-stdin",
            "--json",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["role"] == "curator"
    assert "a long enough password" not in result.output
    token = json.loads(run(db, "user", "token", "wang.li", "--name", "plate reader", "--json"))
    from cellfoundry.bank.services import Bank

    bank = Bank.open(db)
    assert bank.user_for_token(token["secret"]).username == "wang.li"
    bank.close()
    assert "revoked" in run(db, "user", "revoke", str(token["id"]))
    short = runner.invoke(
        app, ["--db", db, "user", "add", "x.y", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 1
    assert "field 'password'" in short.output


def test_private_import_as_a_user_release_and_visibility(db: str, catalogue: Path) -> None:
    from cellfoundry.bank.policy import ANONYMOUS
    from cellfoundry.bank.services import Bank

    for name, role in (("dep", "depositor"), ("mem", "member")):
        result = runner.invoke(
            app,
            ["--db", db, "user", "add", name, "--role", role, "--password-stdin"],
            input="a long enough password\n",
        )
        assert result.exit_code == 0, result.output
    out = json.loads(
        run(db, "bank", "import", str(catalogue), "--kind", "strain", "--visibility", "private",
            "--owner", "dep", "--json")
    )  # fmt: skip
    assert out["strains"] > 0
    bank = Bank.open(db)
    try:
        accession = bank.export_strains()[0].accession
        assert bank.get_strain(accession).owner == "dep"
        assert bank.as_viewer(ANONYMOUS).search(StrainQuery()).total == 0
        member = bank.as_viewer(bank.viewer_for("mem"))
        assert member.search(StrainQuery()).total == 0
        run(db, "bank", "release", accession, "--to", "mem", "--basis", "sharing")
        assert member.search(StrainQuery()).total == 1
        run(db, "bank", "visibility", accession, "public")
        assert bank.as_viewer(ANONYMOUS).search(StrainQuery()).total == 1
        assert "unknown or inactive" in run(
            db, "bank", "import", str(catalogue), "--kind", "strain", "--owner", "nobody", code=1
        )
    finally:
        bank.close()
