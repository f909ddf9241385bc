"""The model pages: list and upload, a model's analysis form and medium, job pages with the
flux map, in English and Chinese; the flux map and envelope drawings on their own."""

from __future__ import annotations

import html
import math
import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.demo import DEMO_MODEL
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.jobs import KINDS, JobService
from cellfoundry.jobs._kinds import Kind, jsonable_float
from cellfoundry.web.fluxmap import envelope_svg, flux_map_svg, flux_width, load_layout
from cellfoundry.web.i18n import catalogue

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PW = "correct horse battery staple"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{3,}")
OBJECTIVE = 0.8739215069684306
#: Translation keys of the model pages: their English must not show on a Chinese page.
OUR_KEYS = ("models.", "model.", "job.", "analysis.", "map.", "check.", "job_status.")


def _envelope_job(spec: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    from cellfoundry.metabolism import production_envelope

    growth = [spec.reactions[int(j)] for j in spec.objective.nonzero()[0]]
    frame = production_envelope(
        spec, growth, objective=params["product"], points=params.get("points", 20)
    )
    ctx.progress(1, 1)
    return {
        "rows": [
            {str(k): jsonable_float(v) if isinstance(v, float) else v for k, v in row.items()}
            for row in frame.to_dict(orient="records")
        ]
    }


def _check_job(spec: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    from cellfoundry.metabolism import check_model

    ctx.progress(1, 1)
    data: dict[str, Any] = check_model(spec).to_dict()
    return data


#: Stand-ins for kinds of job the job service may not have yet: the engine's own functions,
#: with COBRApy's frame as rows, so that the pages' rendering of their results is tested.
STAND_INS = {
    "production_envelope": Kind(
        "production_envelope",
        _envelope_job,
        {"product": lambda _n, v: str(v), "points": lambda _n, v: int(v)},
    ),
    "check": Kind("check", _check_job),
}


@pytest.fixture(scope="module", autouse=True)
def job_kinds() -> Iterator[None]:
    """Every kind the pages offer, with a stand-in where the job service lacks one."""
    with pytest.MonkeyPatch.context() as patch:
        for name, kind in STAND_INS.items():
            if name not in KINDS:
                patch.setitem(KINDS, name, kind)
        yield


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    bank = Bank.open("sqlite:///" + str(tmp_path_factory.mktemp("models") / "bank.db"))
    bank.create_user("ana", PW, role="curator", organisation="BJCC", actor="t")
    bank.create_user("bo", PW, role="member", organisation="Lab", actor="t")
    bank.create_user("cy", PW, role="member", organisation="Other", actor="t")
    bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12 MG1655"), actor="t")
    bank.add_strain(StrainRecord("CF-2", "Escherichia coli K-12 MG1655 ΔldhA"), actor="t")
    bank.add_model(DEMO_MODEL, name="E. coli core", strain="CF-1", actor="t")
    yield bank
    bank.close()


@pytest.fixture(scope="module")
def app(bank: Bank) -> Iterator[Any]:
    # clients here do not run the app's lifespan (its end closes the job service)
    app = create_app(bank=bank)
    yield app
    app.state.jobs.close()


@pytest.fixture(scope="module")
def model_id(bank: Bank) -> int:
    return next(m.id for m in bank.list_models() if m.name == "E. coli core")


def signed_in(app: Any, user: str) -> TestClient:
    """A browser signed in as ``user`` (a client without the app's lifespan)."""
    client = TestClient(app)
    response = client.post(
        "/login", data={"username": user, "password": PW, "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 303
    return client


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/models").text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def curator(app: Any) -> Iterator[TestClient]:
    client = signed_in(app, "ana")
    yield client
    client.close()


@pytest.fixture
def member(app: Any) -> Iterator[TestClient]:
    client = signed_in(app, "bo")
    yield client
    client.close()


@pytest.fixture
def anonymous(app: Any) -> Iterator[TestClient]:
    client = TestClient(app)
    yield client
    client.close()


def jobs_of(app: Any) -> JobService:
    service = app.state.jobs
    assert isinstance(service, JobService)
    return service


def run_job(client: TestClient, model_id: int, fields: dict[str, str]) -> str:
    """Submit the analysis form; wait until the job ends; return the job page's URL."""
    response = client.post(
        f"/models/{model_id}/jobs",
        data={"csrf": csrf_of(client), **fields},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    url = str(response.headers["location"])
    assert url.startswith("/jobs/")
    jobs_of(client.app).wait(url.removeprefix("/jobs/"), timeout=120)
    return url


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return " ".join(parser.chunks)


def our_english_words() -> set[str]:
    """Words of the model pages' English strings that their Chinese strings do not use."""

    def words(lang: str) -> set[str]:
        texts = (
            re.sub(r"\{\w+\}", " ", v) for k, v in catalogue(lang).items() if k.startswith(OUR_KEYS)
        )
        return {w.lower() for text in texts for w in WORD.findall(text)}

    return words("en") - words("zh")


def data_words(bank: Bank, model_id: int) -> set[str]:
    """Words the model's own data brings to a page (reaction and gene names, ids, file)."""
    details = bank.model_details(model_id, reactions=True)
    spec = bank.model_spec(model_id)
    texts = [details.model.name, details.model.filename, details.model.objective]
    texts += [f"{r.id} {r.name}" for r in details.reactions]
    texts += list(spec.genes) + list(spec.gene_names) + list(spec.metabolites)
    texts += [str(n.get("label", "")) for n in load_layout()["metabolites"].values()]
    return {w.lower() for text in texts for w in WORD.findall(text)}


# -- pages in both languages --------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_model_pages_render_in_both_languages(
    curator: TestClient, bank: Bank, model_id: int, lang: str
) -> None:
    fba = run_job(curator, model_id, {"kind": "fba"})
    fva = run_job(curator, model_id, {"kind": "fva", "fraction": "0.9"})
    leaks: dict[str, set[str]] = {}
    english = our_english_words()
    allowed = data_words(bank, model_id) | {"ana"}
    for url in ("/models", f"/models/{model_id}", fba, fva):
        response = curator.get(f"{url}?lang={lang}")
        assert response.status_code == 200, url
        page = response.text
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in page
        assert 'src="http' not in page
        assert 'href="http' not in page
        text = visible_text(page)
        if lang == "zh":
            assert CJK.search(text), url
            found = {w.lower() for w in WORD.findall(text)} & english - allowed
            if found:
                leaks[url] = found
    assert leaks == {}
    heading = {"en": "Metabolic models", "zh": "代谢模型"}[lang]
    assert f"<h1>{heading}</h1>" in curator.get(f"/models?lang={lang}").text


def test_models_list_shows_the_stored_model_and_an_upload_form(
    curator: TestClient, anonymous: TestClient, model_id: int
) -> None:
    page = curator.get("/models?lang=en").text
    assert f'href="/models/{model_id}"' in page
    assert "e_coli_core.json" in page
    assert 'id="model-upload-form"' in page
    assert 'href="/strains/CF-1"' in page
    visitor = anonymous.get("/models?lang=en").text
    assert f'href="/models/{model_id}"' in visitor
    assert 'id="model-upload-form"' not in visitor
    assert "Sign in to upload a model." in visitor
    model = anonymous.get(f"/models/{model_id}?lang=en").text
    assert 'id="analysis-form"' not in model
    assert "Sign in as a member to run analyses." in model


def test_model_page_prefills_the_medium_and_offers_the_analyses(
    curator: TestClient, bank: Bank, model_id: int
) -> None:
    page = curator.get(f"/models/{model_id}?lang=en").text
    details = bank.model_details(model_id)
    rows = re.findall(r'<tr data-exchange="([^"]+)"', page)
    assert sorted(rows) == sorted(details.exchanges)
    glucose = re.search(r'name="uptake:EX_glc__D_e"[^>]*value="([^"]+)"', page)
    assert glucose is not None
    assert float(glucose.group(1)) == details.medium["EX_glc__D_e"] == 10
    acetate = re.search(r'name="uptake:EX_ac_e"[^>]*value="([^"]+)"', page)
    assert acetate is not None
    assert float(acetate.group(1)) == 0
    kinds = re.findall(r'name="kind" value="(\w+)"', page)
    assert kinds[:6] == [
        "fba",
        "pfba",
        "fva",
        "single_gene_deletion",
        "single_reaction_deletion",
        "essential_genes",
    ]
    assert set(kinds) <= set(JobService.kinds())


# -- upload --------------------------------------------------------------------------------------


def test_upload_refuses_a_bad_file_naming_file_record_and_field(
    curator: TestClient, bank: Bank
) -> None:
    before = len(bank.list_models())
    bad = b'{"reactions": [{"id": "R1", "gene_reaction_rule": "g1 and"}], "genes": []}'
    response = curator.post(
        "/models?lang=en",
        data={"csrf": csrf_of(curator), "name": "broken"},
        files={"file": ("broken_model.json", bad, "application/json")},
    )
    assert response.status_code == 422
    page = response.text
    assert 'id="upload-error"' in page
    assert "The model was not stored:" in page
    for shown in ("broken_model.json", "R1", "gene_reaction_rule", "malformed gene rule"):
        assert shown in html.unescape(page), shown
    assert 'value="broken"' in page  # the form keeps what was typed
    response = curator.post(
        "/models?lang=zh",
        data={"csrf": csrf_of(curator)},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert response.status_code == 422
    assert "模型未保存" in response.text
    assert "notes.txt" in response.text
    assert len(bank.list_models()) == before


def test_upload_stores_a_model_and_links_it_to_a_strain(
    member: TestClient, bank: Bank, tmp_path: Path
) -> None:
    import cobra.io

    path = tmp_path / "core.xml"
    cobra.io.write_sbml_model(cobra.io.load_model("textbook"), str(path))
    response = member.post(
        "/models",
        data={"csrf": csrf_of(member), "name": "Core as SBML", "visibility": "private"},
        files={"file": ("core.xml", path.read_bytes(), "application/xml")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    new_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = member.get(f"/models/{new_id}?lang=en").text
    assert "Core as SBML" in page
    assert "SBML" in page
    assert bank.get_model(new_id).visibility == "private"
    # a private model is not found by another member
    other = signed_in(member.app, "cy")
    assert other.get(f"/models/{new_id}").status_code == 404


# -- jobs ----------------------------------------------------------------------------------------


def test_fba_job_page_shows_the_objective_the_flux_map_and_the_table(
    curator: TestClient, model_id: int
) -> None:
    url = run_job(curator, model_id, {"kind": "fba"})
    page = curator.get(url + "?lang=en").text
    assert 'data-status="done"' in page
    value = re.search(r'id="objective-value" data-value="([^"]+)">([^<]+)<', page)
    assert value is not None
    assert float(value.group(1)) == pytest.approx(OBJECTIVE, abs=1e-9)
    assert value.group(2) == "0.874"
    assert '<svg class="fluxmap"' in page
    pgi = re.search(
        r'<g class="rxn active" data-reaction="PGI" data-flux="([^"]+)" data-width="([^"]+)"', page
    )
    assert pgi is not None
    assert float(pgi.group(1)) == pytest.approx(4.86, abs=0.01)
    assert float(pgi.group(2)) > 2.0
    assert "<title>PGI · glucose-6-phosphate isomerase: 4.861 mmol/gDW/h</title>" in page
    assert 'data-reaction="FBP"' in page  # reactions without flux are drawn too, grey
    assert 'data-drawn="95" data-total="95"' in page
    assert "All 95 reactions of the model are drawn." in page
    rows = re.findall(r'<tr data-reaction="([^"]+)"><td', page)
    assert rows[0] == "ATPS4r"  # the largest flux first
    assert "PGI" in rows
    assert "FBP" not in rows
    csv_text = curator.get(url + ".csv").text
    assert csv_text.startswith("reaction,fluxes\n")
    assert len(csv_text.strip().splitlines()) == 96


def test_analysis_form_sends_the_edited_medium(curator: TestClient, model_id: int) -> None:
    url = run_job(
        curator,
        model_id,
        {"kind": "pfba", "fraction": "1", "uptake:EX_glc__D_e": "5", "uptake:EX_o2_e": "1000"},
    )
    job = jobs_of(curator.app).get(url.removeprefix("/jobs/"))
    assert job.params["medium"]["EX_glc__D_e"] == 5
    assert job.params["fraction_of_optimum"] == 1.0
    page = curator.get(url + "?lang=en").text
    growth = re.search(r'id="objective-value" data-value="([^"]+)"', page)
    assert growth is not None
    assert 0.3 < float(growth.group(1)) < 0.5  # half the glucose, about half the growth
    assert "EX_glc__D_e 5" in page
    assert 'id="total-flux"' in page


def test_analysis_form_refuses_a_bad_fraction(curator: TestClient, model_id: int) -> None:
    response = curator.post(
        f"/models/{model_id}/jobs?lang=en",
        data={"csrf": csrf_of(curator), "kind": "fva", "fraction": "1.5"},
    )
    assert response.status_code == 422
    assert 'id="analysis-error"' in response.text
    assert "fraction_of_optimum" in response.text
    assert 'value="1.5"' in response.text


def test_fva_deletion_and_essential_gene_pages(curator: TestClient, model_id: int) -> None:
    import cobra.flux_analysis
    import cobra.io

    fva = curator.get(run_job(curator, model_id, {"kind": "fva", "fraction": "0.9"})).text
    assert len(re.findall(r'<tr data-reaction="', fva)) == 95
    assert 'id="range-table"' in fva
    essential = {
        g.id for g in cobra.flux_analysis.find_essential_genes(cobra.io.load_model("textbook"))
    }
    genes = curator.get(run_job(curator, model_id, {"kind": "essential_genes"})).text
    assert set(re.findall(r'<li data-gene="([^"]+)"', genes)) == essential
    screen = curator.get(run_job(curator, model_id, {"kind": "single_gene_deletion"})).text
    lethal = re.findall(r'<tr data-ids="([^"]+)" class="lethal"', screen)
    assert set(lethal) == essential
    assert len(re.findall(r"<tr data-ids=", screen)) == 137


def test_production_envelope_page_plots_the_points(curator: TestClient, model_id: int) -> None:
    import cobra.flux_analysis
    import cobra.io

    url = run_job(
        curator, model_id, {"kind": "production_envelope", "product": "EX_ac_e", "points": "8"}
    )
    page = curator.get(url + "?lang=en").text
    assert '<svg class="envelope"' in page
    assert page.count('class="pt max"') == 8
    assert page.count('class="pt min"') == 8
    assert "growth rate (1/h)" in page
    assert "EX_ac_e flux (mmol/gDW/h)" in page
    model = cobra.io.load_model("textbook")
    expected = cobra.flux_analysis.production_envelope(
        model, ["Biomass_Ecoli_core"], objective="EX_ac_e", points=8
    )
    table = re.findall(
        r"<tr><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>"
        r"<td class=\"num\">([^<]+)</td></tr>",
        page,
    )
    assert len(table) == 8
    best = max(float(hi) for _, _, hi in table)
    assert best == pytest.approx(expected["flux_maximum"].max(), abs=1e-3)
    assert '<dd class="mono">EX_ac_e</dd>' in page


def test_model_check_page_lists_what_it_found(curator: TestClient, model_id: int) -> None:
    page = curator.get(run_job(curator, model_id, {"kind": "check"}) + "?lang=en").text
    assert 'data-ok="true"' in page  # it solves and balances; blocked reactions are listed
    assert "The model solves and its reactions balance." in page
    assert "Blocked reactions" in page
    assert '<span class="chip mono">FRUpts2</span>' in page
    zh = curator.get(run_job(curator, model_id, {"kind": "check"}) + "?lang=zh").text
    assert "阻塞反应" in zh


def test_a_job_is_private_to_its_owner_and_curators(
    member: TestClient, curator: TestClient, app: Any, model_id: int
) -> None:
    url = run_job(member, model_id, {"kind": "fba"})
    assert curator.get(url).status_code == 200
    assert signed_in(app, "cy").get(url).status_code == 404
    response = TestClient(app).get(url, follow_redirects=False)
    assert response.status_code in (303, 404)


def test_a_running_job_page_polls_the_api_and_can_be_cancelled(
    curator: TestClient, model_id: int
) -> None:
    service = jobs_of(curator.app)
    job_id = service.as_viewer(service.viewer).submit(
        "double_gene_deletion", {"model_id": model_id}
    )
    page = curator.get(f"/jobs/{job_id}?lang=en").text
    if 'data-status="done"' not in page:
        assert f'data-api="/api/jobs/{job_id}?result=false"' in page
        assert 'id="job-bar"' in page
        assert 'id="job-cancel"' in page
        curator.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf_of(curator)})
    final = service.wait(job_id, timeout=120)
    assert final.status in ("cancelled", "done")
    page = curator.get(f"/jobs/{job_id}?lang=zh").text
    assert ("已取消" if final.status == "cancelled" else "致死基因对") in page


def test_strain_page_links_to_its_model(anonymous: TestClient, model_id: int) -> None:
    page = anonymous.get("/strains/CF-1?lang=en").text
    assert f'<a href="/models/{model_id}" data-model="{model_id}">E. coli core</a>' in page
    assert "Metabolic model" in page
    assert 'id="strain-model"' not in anonymous.get("/strains/CF-2").text
    assert "代谢模型" in anonymous.get("/strains/CF-1?lang=zh").text


# -- the drawings ------------------------------------------------------------------------------


def test_flux_map_draws_width_by_flux_direction_and_grey_for_none() -> None:
    drawn = flux_map_svg({"PGI": -4.0, "PFK": 20.0, "FBP": 0.0})
    svg = drawn.svg
    pgi = re.search(r'data-reaction="PGI" data-flux="-4" data-width="([^"]+)"', svg)
    pfk = re.search(r'data-reaction="PFK" data-flux="20" data-width="([^"]+)"', svg)
    assert pgi is not None
    assert pfk is not None
    assert float(pfk.group(1)) > float(pgi.group(1)) > flux_width(0.0)
    assert re.search(r'<g class="rxn idle" data-reaction="FBP"', svg)
    assert drawn.drawn == 3
    assert drawn.total == 3
    assert drawn.flux_fraction == pytest.approx(1.0)
    assert flux_width(1e-12) == flux_width(0.0)
    assert flux_width(1e6) == flux_width(1e9)  # capped


def test_flux_map_of_another_model_says_how_much_it_draws() -> None:
    fluxes = {"GLCptspp": 10.0, "PGI": 5.0, "FOO": 5.0, "BIOMASS_Ec_iJO1366_core_53p95M": 0.9}
    drawn = flux_map_svg(fluxes, objective=["BIOMASS_Ec_iJO1366_core_53p95M"])
    assert drawn.drawn == 3  # GLCptspp through its alias, PGI, and the objective
    assert drawn.total == 4
    assert drawn.flux_fraction == pytest.approx(15.9 / 20.9)
    assert 'data-reaction="GLCpts" data-flux="10"' in drawn.svg
    assert ">BIOMASS_Ec_iJO1366_core_53p95M</text>" in drawn.svg
    assert math.isnan(flux_map_svg({}).flux_fraction)


def test_map_layout_knows_every_reaction_of_e_coli_core() -> None:
    import cobra.io

    layout = load_layout()
    drawn = {r["id"] for r in layout["reactions"]}
    assert drawn == {r.id for r in cobra.io.load_model("textbook").reactions}
    for reaction in layout["reactions"]:
        for node in reaction["from"] + reaction["to"]:
            assert node in layout["metabolites"], (reaction["id"], node)


def test_envelope_plot_has_axes_curves_and_points() -> None:
    svg = envelope_svg(
        [0.0, 0.25, 0.5, 0.75],
        [0.0, 0.0, 0.0, 0.0],
        [12.0, 9.0, 5.0, 0.0],
        labels={"growth": "G axis", "product": "P axis"},
    )
    assert svg.count('class="pt max"') == 4
    assert svg.count('class="pt min"') == 4
    assert 'class="curve max"' in svg
    assert 'class="curve min"' in svg
    assert ">G axis</text>" in svg
    assert ">P axis</text>" in svg
    assert 'data-points="4"' in svg
