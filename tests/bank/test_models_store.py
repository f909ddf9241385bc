"""Genome-scale models in the bank: store, read back, compile, refuse bad files, who sees what."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from cellfoundry.bank import demo
from cellfoundry.bank._models import model_format
from cellfoundry.bank.demo import DEMO_MODEL, demo_strains
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.policy import ANONYMOUS
from cellfoundry.bank.services import Bank
from cellfoundry.core.errors import ForbiddenError, FormatError, NotFoundError, ValidationError
from cellfoundry.metabolism import fba, load_model

PASSWORD = "a long enough password"
CORE_OPTIMUM = 0.8739215069684306


@pytest.fixture(scope="module")
def core_json() -> bytes:
    return DEMO_MODEL.read_bytes()


@pytest.fixture(scope="module")
def core_sbml(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    import cobra.io

    path = tmp_path_factory.mktemp("sbml") / "e_coli_core.xml"
    cobra.io.write_sbml_model(cobra.io.load_json_model(str(DEMO_MODEL)), str(path))
    return path.read_bytes()


def table_counts(bank: Bank) -> dict[str, int]:
    with bank.engine.connect() as conn:
        return {
            table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("metabolic_models", "strain_models", "history")
        }


def people(bank: Bank) -> dict[str, Bank]:
    """A curator, two members of one lab, a member of another and a guest, as bank handles."""
    for name, role, org in (
        ("cura", "curator", None),
        ("ana", "member", "Lab A"),
        ("amy", "member", "Lab A"),
        ("bo", "member", "Lab B"),
        ("gus", "guest", None),
    ):
        bank.create_user(name, PASSWORD, role=role, organisation=org, actor="test")
    return {
        name: bank.as_viewer(bank.viewer_for(name)) for name in ("cura", "ana", "amy", "bo", "gus")
    }


def test_model_format_follows_the_file_name() -> None:
    assert model_format("iML1515.xml") == "sbml"
    assert model_format("a.sbml.gz") == "sbml"
    assert model_format("A.JSON") == "json"
    assert model_format("m.mat") == "mat"
    assert model_format("m.yaml") == "yml"
    with pytest.raises(FormatError, match=r"file 'model\.txt'.*unknown model format"):
        model_format("model.txt")


def test_a_stored_model_reads_back_and_compiles(bank: Bank, core_json: bytes) -> None:
    view = bank.add_model(core_json, "e_coli_core.json", actor="test")
    assert (view.reactions, view.metabolites, view.genes) == (95, 72, 137)
    assert (view.format, view.filename, view.name) == ("json", "e_coli_core.json", "e_coli_core")
    assert view.objective == "max Biomass_Ecoli_core"
    assert view.size_bytes == len(core_json)
    assert len(view.sha256) == 64
    assert view.visibility == "public"
    assert view.created_at.tzinfo is not None
    assert bank.get_model(view.id) == view
    assert bank.list_models() == (view,)
    spec = bank.model_spec(view.id)
    assert spec.source == "e_coli_core.json"
    assert fba(spec).objective_value == pytest.approx(CORE_OPTIMUM, abs=1e-6)
    # compiled once per content: the cache hands back the same arrays
    assert bank.model_spec(view.id).S is spec.S
    details = bank.model_details(view.id, reactions=True)
    assert details.medium["EX_glc__D_e"] == 10.0
    assert details.objective_reactions == ("Biomass_Ecoli_core",)
    assert len(details.reactions) == 95
    pfk = next(r for r in details.reactions if r.id == "PFK")
    assert (pfk.lower_bound, pfk.upper_bound) == (0.0, 1000.0)
    assert pfk.gene_reaction_rule == "b3916 or b1723"
    assert bank.model_details(view.id).reactions == ()


def test_sbml_upload_counts_the_same(bank: Bank, core_sbml: bytes, tmp_path: Path) -> None:
    path = tmp_path / "core.xml"
    path.write_bytes(core_sbml)
    view = bank.add_model(path, name="E. coli core", visibility="group", actor="test")
    assert (view.format, view.filename, view.name) == ("sbml", "core.xml", "E. coli core")
    assert (view.reactions, view.metabolites, view.genes) == (95, 72, 137)
    spec = bank.model_spec(view.id)
    assert spec.name == "E. coli core"
    assert fba(spec).objective_value == pytest.approx(CORE_OPTIMUM, abs=1e-6)


def test_the_same_spec_as_the_engine_reads(bank: Bank, core_json: bytes) -> None:
    view = bank.add_model(core_json, "core.json", actor="test")
    spec = bank.model_spec(view.id)
    direct = load_model(DEMO_MODEL)
    assert spec.digest == direct.digest


def test_a_truncated_sbml_file_is_refused_and_nothing_stored(bank: Bank, core_sbml: bytes) -> None:
    before = table_counts(bank)
    with pytest.raises(FormatError) as caught:
        bank.add_model(core_sbml[: len(core_sbml) // 2], "broken.xml", actor="test")
    err = caught.value
    assert err.source == "broken.xml"
    assert str(err.record).startswith("line ")
    assert "broken.xml" in str(err)
    assert "SBML does not parse" in str(err)
    assert "cellfoundry-model-" not in str(err)  # the temporary path is never shown
    assert table_counts(bank) == before


def test_an_unbalanced_gene_rule_names_file_and_reaction(bank: Bank, core_json: bytes) -> None:
    data = json.loads(core_json)
    pfk = next(r for r in data["reactions"] if r["id"] == "PFK")
    pfk["gene_reaction_rule"] = "(b0001 and b0002"
    before = table_counts(bank)
    with pytest.raises(ValidationError) as caught:
        bank.add_model(json.dumps(data).encode(), "bad_rule.json", actor="test")
    err = caught.value
    assert (err.source, err.record, err.field) == ("bad_rule.json", "PFK", "gene_reaction_rule")
    assert "unbalanced parentheses" in str(err)
    assert table_counts(bank) == before


@pytest.mark.parametrize(
    ("content", "filename", "error", "pattern"),
    [
        (b"{}", "empty.json", FormatError, r"file 'empty\.json'.*no 'reactions' list"),
        (b"not json", "junk.json", FormatError, r"file 'junk\.json'.*not valid JSON"),
        (b"<sbml/>", "model.txt", FormatError, r"unknown model format"),
        (b"", "empty.xml", FormatError, r"file 'empty\.xml'"),
    ],
)
def test_unreadable_files_are_refused(
    bank: Bank, content: bytes, filename: str, error: type[Exception], pattern: str
) -> None:
    before = table_counts(bank)
    with pytest.raises(error, match=pattern):
        bank.add_model(content, filename, actor="test")
    assert table_counts(bank) == before


def test_bytes_need_a_file_name(bank: Bank, core_json: bytes) -> None:
    with pytest.raises(ValidationError, match="file name"):
        bank.add_model(core_json)
    with pytest.raises(ValidationError, match="visibility"):
        bank.add_model(core_json, "m.json", visibility="secret")


def test_adding_a_model_is_in_the_audit_trail(bank: Bank, core_json: bytes) -> None:
    view = bank.add_model(core_json, "core.json", actor="curator")
    events, _ = bank.audit_events(entity="model")
    assert [(e.entity_id, e.action, e.actor) for e in events] == [(view.id, "create", "curator")]
    assert events[0].changes["sha256"] == view.sha256
    assert bank.verify_audit().ok


def test_who_sees_which_model(bank: Bank, core_json: bytes) -> None:
    h = people(bank)
    private = h["ana"].add_model(core_json, "private.json", visibility="private")
    group = h["ana"].add_model(core_json, "group.json", visibility="group")
    public = h["bo"].add_model(core_json, "public.json")
    assert private.owner == "ana"
    anonymous = bank.as_viewer(ANONYMOUS)

    def ids(handle: Bank) -> set[int]:
        return {m.id for m in handle.list_models()}

    assert ids(h["ana"]) == {private.id, group.id, public.id}
    assert ids(h["amy"]) == {group.id, public.id}
    assert ids(h["bo"]) == {public.id}
    assert ids(h["cura"]) == {private.id, group.id, public.id}
    assert ids(anonymous) == {public.id}
    for handle, hidden in ((h["amy"], private.id), (h["bo"], group.id), (anonymous, group.id)):
        with pytest.raises(NotFoundError, match=f"no model '{hidden}'"):
            handle.get_model(hidden)
        with pytest.raises(NotFoundError):
            handle.model_spec(hidden)
    with pytest.raises(NotFoundError):
        bank.get_model(999_999)
    # reading a restricted model is audited
    h["cura"].get_model(private.id)
    events, _ = bank.audit_events(entity="model", action="read")
    assert [(e.entity_id, e.actor) for e in events] == [(private.id, "cura")]


def test_guests_and_visitors_cannot_add_models(bank: Bank, core_json: bytes) -> None:
    h = people(bank)
    with pytest.raises(ForbiddenError, match="guests cannot add models"):
        h["gus"].add_model(core_json, "m.json")


def test_a_strain_links_to_its_model(bank: Bank, core_json: bytes) -> None:
    h = people(bank)
    h["ana"].import_strains(
        [StrainRecord("CF-A", "Escherichia coli K-12 MG1655")], actor="ana", visibility="group"
    )
    bank.import_strains([StrainRecord("CF-S", "Bacillus subtilis 168")], actor="test")
    assert h["ana"].strain_model("CF-A") is None
    view = h["ana"].add_model(core_json, "core.json", strain="CF-A")
    assert view.strains == ("CF-A",)
    assert h["ana"].strain_model("CF-A") == view
    assert h["amy"].strain_model("CF-A") == view  # same lab: sees strain and model
    with pytest.raises(NotFoundError, match="no strain 'CF-A'"):
        h["bo"].strain_model("CF-A")
    # bo may not change ana's strain, nor a strain he cannot see
    with pytest.raises(ForbiddenError):
        h["bo"].link_model("CF-S", view.id)
    with pytest.raises(NotFoundError):
        h["bo"].link_model("CF-A", view.id)
    # a curator links the public strain; the history records it
    assert h["cura"].link_model("CF-S", view.id) is not None
    assert set(h["cura"].get_model(view.id).strains) == {"CF-A", "CF-S"}
    assert bank.history("CF-S")[-1].action == "model"
    assert h["cura"].link_model("CF-S", None) is None
    assert bank.strain_model("CF-S") is None
    # a private model of someone else stays hidden behind a public strain
    other = h["bo"].add_model(core_json, "bo.json", visibility="private")
    h["cura"].link_model("CF-S", other.id)
    assert h["ana"].strain_model("CF-S") is None
    assert h["bo"].strain_model("CF-S") == h["bo"].get_model(other.id)
    with pytest.raises(NotFoundError):
        h["ana"].link_model("CF-A", other.id)
    with pytest.raises(NotFoundError):
        h["ana"].add_model(core_json, "x.json", strain="CF-NONE")


def test_the_demo_links_e_coli_core_to_mg1655(bank: Bank) -> None:
    bank.import_strains(demo_strains()[:1], actor="demo")
    demo._models(bank, "demo")
    model = bank.strain_model("CF-00001")
    assert model is not None
    assert (model.filename, model.reactions, model.genes) == ("e_coli_core.json", 95, 137)
    assert fba(bank.model_spec(model.id)).objective_value == pytest.approx(CORE_OPTIMUM, 1e-6)
    demo._models(bank, "demo")  # loading again adds nothing
    assert len(bank.list_models()) == 1
