"""The strain-design pages: the search form, a design job's comparison and envelope plots,
saving a design as a planned strain and its section on the strain page, in English and
Chinese; named errors for bad input."""

from __future__ import annotations

import html
import json
import re
import threading
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.demo import DEMO_MODEL
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.jobs import KINDS, JobService
from cellfoundry.jobs._kinds import Kind
from cellfoundry.web.designs import DESIGN_KINDS, design_params
from cellfoundry.web.drawing import design_envelope_svg
from cellfoundry.web.i18n import catalogue

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PW = "correct horse battery staple"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{3,}")
#: Translation keys of the design pages: their English must not show on a Chinese page.
OUR_KEYS = ("design.", "design_method.", "design_modification.", "analysis.design", "job.")

#: A knock-out design as the design jobs return it (``StrainDesign.to_dict``), for a stand-in
#: kind: the pages must show any kind whose result lists designs.
KNOCKOUT_DESIGN: dict[str, Any] = {
    "format": "cellfoundry.strain-design/1",
    "chassis": "e_coli_core",
    "product": "EX_succ_e",
    "substrate": "EX_glc__D_e",
    "method": "optknock",
    "label": "Δb2297 Δb1380",
    "modifications": [
        {"kind": "delete", "gene": "b2297", "reactions": ["PTAr"]},
        {"kind": "delete", "gene": "b1380", "reactions": ["LDH_D"]},
        {"kind": "overexpress", "gene": "b3956", "reactions": ["PPC"], "factor": 2.5},
    ],
    "knockouts": ["PTAr", "LDH_D"],
    "added_reactions": [],
    "evaluation": {
        "growth": 0.5,
        "substrate_uptake": 10.0,
        "product_min": 4.0,
        "product_max": 6.0,
        "yield_min": 0.4,
        "yield_max": 0.6,
        "yield_min_mass": 0.26,
        "carbon_yield_min": 0.27,
        "max_yield": 1.5,
        "yield_at_90": 0.8,
        "growth_coupled": True,
        "envelope": [[0.0, 0.0, 15.0], [0.25, 2.0, 10.0], [0.5, 4.0, 6.0]],
    },
    "notes": [],
}
_release = threading.Event()


def _slow_design_job(spec: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """A stand-in design kind that reports progress and waits until the test lets it end."""
    ctx.progress(1, 3)
    _release.wait(60)
    ctx.progress(3, 3)
    design = {**KNOCKOUT_DESIGN, "product": params["product"]}
    return {
        "designs": [
            design,
            {
                **design,
                "label": "Δb2297",
                "modifications": [KNOCKOUT_DESIGN["modifications"][0]],
                "evaluation": {
                    **KNOCKOUT_DESIGN["evaluation"],
                    "growth_coupled": False,
                    "product_min": 0.0,
                    "yield_min": 0.0,
                },
            },
        ]
    }


STAND_IN = Kind(
    "design_stand_in",
    _slow_design_job,
    {"product": lambda _n, v: str(v), "substrate": lambda _n, v: str(v)},
    required=("product",),
)


@pytest.fixture(scope="module", autouse=True)
def stand_in_kind() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(KINDS, STAND_IN.name, STAND_IN)
        yield
    _release.set()


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    bank = Bank.open("sqlite:///" + str(tmp_path_factory.mktemp("designs") / "bank.db"))
    bank.create_user("ana", PW, role="curator", organisation="BJCC", actor="t")
    bank.create_user("bo", PW, role="member", organisation="Lab", actor="t")
    bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12 MG1655"), actor="t")
    bank.add_strain(StrainRecord("CF-2", "Escherichia coli K-12 MG1655 ΔldhA"), actor="t")
    bank.add_model(DEMO_MODEL, name="E. coli core", strain="CF-1", actor="t")
    yield bank
    bank.close()


@pytest.fixture(scope="module")
def app(bank: Bank) -> Iterator[Any]:
    app = create_app(bank=bank)
    yield app
    app.state.jobs.close()


@pytest.fixture(scope="module")
def model_id(bank: Bank) -> int:
    return next(m.id for m in bank.list_models() if m.name == "E. coli core")


def signed_in(app: Any, user: str) -> TestClient:
    client = TestClient(app)
    response = client.post(
        "/login", data={"username": user, "password": PW, "next": "/"}, follow_redirects=False
    )
    assert response.status_code == 303
    return client


def csrf_of(client: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/design").text)
    assert found is not None
    return found.group(1)


@pytest.fixture(scope="module")
def curator(app: Any) -> Iterator[TestClient]:
    client = signed_in(app, "ana")
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


def submit(client: TestClient, fields: dict[str, str], lang: str = "en") -> Any:
    return client.post(
        f"/design?lang={lang}",
        data={"csrf": csrf_of(client), **fields},
        follow_redirects=False,
    )


@pytest.fixture(scope="module")
def acetone(curator: TestClient, model_id: int) -> str:
    """The page of a finished pathway search for acetone on e_coli_core."""
    response = submit(
        curator,
        {"model_id": str(model_id), "kind": "design_pathways", "target": "acetone", "k": "2"},
    )
    assert response.status_code == 303, response.text
    url = str(response.headers["location"])
    assert url.startswith("/design/jobs/")
    job = jobs_of(curator.app).wait(url.rsplit("/", 1)[1], timeout=300)
    assert job.status == "done", job.error
    return url


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title", "svg"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title", "svg") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return " ".join(parser.chunks)


def english_leaks(page: str, data: str) -> set[str]:
    """Words of our English strings (not used by the Chinese ones) shown on a Chinese page."""

    def words(lang: str) -> set[str]:
        texts = (
            re.sub(r"\{\w+\}", " ", v) for k, v in catalogue(lang).items() if k.startswith(OUR_KEYS)
        )
        return {w.lower() for text in texts for w in WORD.findall(text)}

    english = words("en") - words("zh")
    allowed = {w.lower() for w in WORD.findall(data)}
    return {w.lower() for w in WORD.findall(visible_text(page))} & english - allowed


# -- the form ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_design_form_renders_in_both_languages(
    curator: TestClient, model_id: int, lang: str
) -> None:
    response = curator.get(f"/design?lang={lang}")
    assert response.status_code == 200
    page = response.text
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in page
    heading = {"en": "Strain design", "zh": "菌株设计"}[lang]
    assert f"<h1>{heading}</h1>" in page
    assert 'href="/design" class="active"' in page  # the nav bar's new link
    assert 'id="design-form"' in page
    option = re.search(rf'<option value="{model_id}" data-strain="([^"]*)" selected>([^<]*)<', page)
    assert option is not None
    assert option.group(1) == "CF-1"
    assert "CF-1" in option.group(2)
    kinds = re.findall(r'name="kind" value="(\w+)"', page)
    offered = set(JobService.kinds())
    assert kinds[0] == "design_pathways"
    assert set(kinds) <= offered
    assert {k for k in offered if k.startswith("design_")} == set(kinds)
    assert [k for k in kinds if k in DESIGN_KINDS] == [k for k in DESIGN_KINDS if k in offered]
    assert 'src="http' not in page
    if lang == "zh":
        assert CJK.search(visible_text(page))
        assert (
            english_leaks(page, "E. coli core e_coli_core.json acetone EX_succ_e design_stand_in")
            == set()
        )


def test_visitors_see_the_form_page_but_cannot_search(
    anonymous: TestClient, app: Any, model_id: int
) -> None:
    page = anonymous.get("/design?lang=en").text
    assert 'id="design-form"' not in page
    assert "Sign in as a member to run design searches." in page
    before = len(jobs_of(app).list(limit=1000))
    response = anonymous.post(
        "/design",
        data={"model_id": str(model_id), "kind": "design_pathways", "target": "acetone"},
        follow_redirects=False,
    )
    assert response.status_code in (303, 401, 403)
    assert len(jobs_of(app).list(limit=1000)) == before


def test_design_params_send_only_what_the_kind_takes(model_id: int) -> None:
    form = {
        "model_id": str(model_id),
        "kind": "design_pathways",
        "target": " acetone ",
        "product": "EX_succ_e",
        "substrate": "",
        "k": "3",
        "max_knockouts": "2",
    }
    kind, params = design_params(form)
    assert kind == "design_pathways"
    assert params == {
        "model_id": model_id,
        "target": "acetone",
        "substrate": "EX_glc__D_e",
        "k": 3,
    }
    kind, params = design_params({**form, "kind": "design_stand_in"})
    assert params == {"model_id": model_id, "product": "EX_succ_e", "substrate": "EX_glc__D_e"}


@pytest.mark.parametrize(
    ("fields", "status", "named"),
    [
        ({"target": ""}, 422, "Target compound (target)"),
        ({"target": "   "}, 422, "Target compound (target)"),
        ({"k": "50"}, 422, "Designs to find (k)"),
        ({"k": "two"}, 422, "Designs to find (k)"),
        ({"kind": "fba"}, 422, "Kind of search (kind)"),
        ({"model_id": "9999"}, 404, "no model"),
    ],
)
def test_bad_search_input_is_shown_with_its_field(
    curator: TestClient,
    app: Any,
    model_id: int,
    fields: dict[str, str],
    status: int,
    named: str,
) -> None:
    before = len(jobs_of(app).list(limit=1000))
    base = {"model_id": str(model_id), "kind": "design_pathways", "target": "acetone", "k": "2"}
    response = submit(curator, {**base, **fields})
    assert response.status_code == status
    page = html.unescape(response.text)
    assert 'id="design-error"' in page
    assert "The search was not started:" in page
    assert named in page
    assert "Traceback" not in page
    # the form keeps what was typed
    if "k" in fields:
        assert f'value="{fields["k"]}"' in page
    assert len(jobs_of(app).list(limit=1000)) == before
    zh = submit(curator, {**base, **fields}, lang="zh")
    assert "搜索未启动" in zh.text


# -- a pathway search ----------------------------------------------------------------------------


def test_pathway_search_page_compares_designs_with_their_envelopes(
    curator: TestClient, acetone: str, model_id: int
) -> None:
    job = jobs_of(curator.app).get(acetone.rsplit("/", 1)[1])
    assert job.kind == "design_pathways"
    assert job.params["target"] == "acetone"
    assert job.params["model_id"] == model_id
    designs = job.result["designs"]
    assert designs
    page = curator.get(acetone + "?lang=en").text
    assert 'data-status="done"' in page
    assert '<h1 id="job-title">Design: Pathway search</h1>' in page
    # the comparison: one row per design, best first
    rows = re.findall(r'<tr data-design="(\d+)">', page)
    assert rows == [str(i) for i in range(1, len(designs) + 1)]
    table = page[page.index('id="compare-table"') : page.index("</table>", page.index("compare"))]
    for heading in (
        "Design",
        "Method",
        "Changes",
        "Growth (1/h)",
        "Guaranteed yield (mol/mol)",
        "Maximal yield (mol/mol)",
        "Yield at 90 % growth",
        "Growth-coupled",
    ):
        assert f">{heading}</th>" in table, heading
    assert html.escape(designs[0]["label"]) in table
    assert f"{designs[0]['evaluation']['growth']:.3f}" in table
    assert f"{designs[0]['evaluation']['max_yield']:.3f}" in table
    assert "Heterologous pathway" in table
    # a card per design, with its envelope drawn inline
    assert page.count('<section class="panel design-card"') == len(designs)
    assert page.count('<svg class="design-envelope"') == len(designs)
    points = len(designs[0]["evaluation"]["envelope"])
    assert f'data-points="{points}"' in page
    assert ">growth rate (1/h)</text>" in page
    assert ">DM_acetone_c flux (mmol/gDW/h)</text>" in page
    assert 'class="design-point"' in page
    # modifications: insertions with their source organism and protein length
    first = page[page.index('id="design-1"') : page.index('id="design-2"')]
    inserted = [m for m in designs[0]["modifications"] if m.get("protein")]
    assert inserted
    assert f'data-gene="{inserted[0]["gene"]}"' in first
    assert f"<i>{inserted[0]['organism']}</i>" in first
    assert f"{len(inserted[0]['protein'])} aa" in first
    assert "insertion" in first
    # the pathway's reactions with their equations
    assert "Pathway to Acetone" in first
    assert html.escape("acac_c + h_c --> acetone_c + co2_c") in first
    # the save form, the parent strain prefilled from the chassis model
    assert 'name="parent_accession" maxlength="64" required value="CF-1"' in first
    # the list of searches shows it
    listing = curator.get("/design?lang=en").text
    assert f'href="{acetone}"' in listing
    # the model's job page points here
    generic = curator.get(f"/jobs/{job.id}?lang=en").text
    assert f'href="/design/jobs/{job.id}"' in generic


def test_pathway_search_page_in_chinese(curator: TestClient, acetone: str) -> None:
    page = curator.get(acetone + "?lang=zh").text
    assert '<html lang="zh-CN">' in page
    assert "设计：合成途径搜索" in page
    assert "方案对比" in page
    assert "生长速率（1/h）" in page  # the comparison's heading
    assert ">growth rate (1/h)</text>" not in page  # the plot's axis is translated too
    job = jobs_of(curator.app).get(acetone.rsplit("/", 1)[1])
    data = json.dumps(job.result) + " DM_acetone_c ana CF-1 E. coli core BiGG"
    assert english_leaks(page, data) == set()


def test_saving_a_design_makes_a_planned_strain_with_its_design(
    curator: TestClient, bank: Bank, acetone: str
) -> None:
    job = jobs_of(curator.app).get(acetone.rsplit("/", 1)[1])
    response = curator.post(
        acetone + "/save",
        data={
            "csrf": csrf_of(curator),
            "design": "1",
            "parent_accession": "CF-1",
            "accession": "",
            "visibility": "group",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    assert url.startswith("/strains/CF-1-D")
    accession = url.rsplit("/", 1)[1]
    view = bank.get_strain(accession)
    assert view.record.status == "planned"
    assert view.record.parent_accession == "CF-1"
    assert view.visibility == "group"
    page = curator.get(url + "?lang=en").text
    assert 'id="design"' in page
    assert 'href="#design"' in page
    assert "Heterologous pathway" in page
    assert "DM_acetone_c" in page
    assert html.escape(job.result["designs"][0]["label"]) in page
    assert f"{job.result['designs'][0]['evaluation']['growth']:.3f}" in page
    assert f'href="/strains/{accession}/design.json"' in page
    download = curator.get(f"/strains/{accession}/design.json")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert download.json() == job.result["designs"][0]
    zh = curator.get(url + "?lang=zh").text
    assert "设计方案" in zh
    assert "外源合成途径" in zh
    # a strain without a design has neither the section nor the download
    assert 'id="design"' not in curator.get("/strains/CF-1?lang=en").text
    assert curator.get("/strains/CF-1/design.json").status_code == 404
    assert curator.get("/strains/NOPE/design.json").status_code == 404


@pytest.mark.parametrize(
    ("fields", "status", "named"),
    [
        ({"parent_accession": "NOPE-1"}, 404, "Parent strain (parent_accession)"),
        ({"parent_accession": ""}, 422, "Parent strain (parent_accession)"),
        ({"accession": "CF-2"}, 409, "Accession number (accession)"),
        ({"accession": "bad accession!"}, 422, "Accession number (accession)"),
        ({"visibility": "everyone"}, 422, "Visibility (visibility)"),
        ({"design": "99"}, 422, "Design (design)"),
    ],
)
def test_bad_save_input_is_shown_with_its_field(
    curator: TestClient,
    bank: Bank,
    acetone: str,
    fields: dict[str, str],
    status: int,
    named: str,
) -> None:
    before = bank.counts().strains
    data = {
        "csrf": csrf_of(curator),
        "design": "2",
        "parent_accession": "CF-1",
        "accession": "",
        "visibility": "private",
        **fields,
    }
    response = curator.post(acetone + "/save?lang=en", data=data, follow_redirects=False)
    assert response.status_code == status
    page = html.unescape(response.text)
    assert "The design was not saved:" in page
    assert named in page
    assert "Traceback" not in page
    if fields.get("design") != "99":
        # the error shows on the card of the design being saved, keeping what was typed
        card = page[page.index('id="design-2"') :]
        assert 'class="notice bad save-error"' in card
        for name, value in fields.items():
            if value and name != "visibility":
                assert f'value="{value}"' in card
    assert bank.counts().strains == before


def test_a_search_the_engine_refuses_shows_its_message(
    curator: TestClient, model_id: int, acetone: str
) -> None:
    response = submit(
        curator,
        {"model_id": str(model_id), "kind": "design_pathways", "target": "no_such_compound_xyz"},
    )
    assert response.status_code == 303
    url = response.headers["location"]
    job = jobs_of(curator.app).wait(url.rsplit("/", 1)[1], timeout=120)
    assert job.status == "failed"
    page = curator.get(url + "?lang=en").text
    assert 'id="job-error"' in page
    assert job.error
    assert "no_such_compound_xyz" in job.error
    assert job.error in html.unescape(page)
    assert 'id="design-compare"' not in page
    assert "Traceback" not in page


# -- any kind of design search -------------------------------------------------------------------


def test_a_running_search_shows_progress_then_any_kinds_designs(
    curator: TestClient, model_id: int, bank: Bank
) -> None:
    _release.clear()
    page = curator.get("/design?lang=en").text
    assert 'name="kind" value="design_stand_in"' in page  # every design kind in KINDS
    response = submit(
        curator,
        {"model_id": str(model_id), "kind": "design_stand_in", "product": "EX_succ_e"},
    )
    assert response.status_code == 303, response.text
    url = response.headers["location"]
    job_id = url.rsplit("/", 1)[1]
    try:
        running = curator.get(url + "?lang=en").text
        assert 'data-status="done"' not in running
        assert f'data-api="/api/jobs/{job_id}?result=false"' in running
        assert 'id="job-bar"' in running
        assert 'id="job-cancel"' in running
        assert 'src="/static/models.js' in running  # the script that polls and reloads
        assert 'id="design-compare"' not in running
    finally:
        _release.set()
    assert jobs_of(curator.app).wait(job_id, timeout=60).status == "done"
    page = curator.get(url + "?lang=en").text
    assert 'id="job-cancel"' not in page
    assert re.search(r'<progress id="job-bar" max="3" value="3"', page)
    assert re.findall(r'<tr data-design="(\d+)">', page) == ["1", "2"]
    assert "OptKnock knock-outs" in page
    assert page.count('data-coupled="true"') == 1
    assert "deletion" in page
    assert "over-expression" in page
    assert "×2.5" in page
    assert ">EX_succ_e flux (mmol/gDW/h)</text>" in page
    assert "Pathway to" not in page
    # save the coupled design under a chosen accession
    response = curator.post(
        url + "/save",
        data={
            "csrf": csrf_of(curator),
            "design": "1",
            "parent_accession": "CF-1",
            "accession": "CF-1-SUCC",
            "visibility": "private",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/strains/CF-1-SUCC"
    strain = curator.get("/strains/CF-1-SUCC?lang=en").text
    assert "OptKnock knock-outs" in strain
    assert "0.400" in strain  # the guaranteed yield
    assert [m.kind for m in bank.get_strain("CF-1-SUCC").record.modifications] == [
        "deletion",
        "deletion",
        "other",
    ]


def test_the_design_job_page_is_for_design_jobs_only(curator: TestClient, model_id: int) -> None:
    service = jobs_of(curator.app)
    job_id = service.as_viewer(service.viewer).submit("fba", {"model_id": model_id})
    response = curator.get(f"/design/jobs/{job_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/jobs/{job_id}"
    assert curator.get("/design/jobs/no-such-job").status_code == 404


# -- the drawing ---------------------------------------------------------------------------------


def test_design_envelope_shares_axes_and_marks_the_design() -> None:
    points = [(0.0, 0.0, 10.0), (0.2, 1.0, 8.0), (0.4, 3.0, 3.0)]
    svg = design_envelope_svg(
        points,
        growth=0.4,
        product_range=(3.0, 3.0),
        labels={"growth": "G axis", "product": "P axis"},
        x_max=0.9,
        y_max=20.0,
    )
    assert svg.count('class="pt max"') == 3
    assert svg.count('class="pt min"') == 3
    assert 'class="band"' in svg
    assert 'class="design-point"' in svg
    assert ">G axis</text>" in svg
    assert ">P axis</text>" in svg
    ticks_x = re.findall(r'class="tick x"[^>]*>([^<]+)<', svg)
    ticks_y = re.findall(r'class="tick y"[^>]*>([^<]+)<', svg)
    assert float(ticks_x[-1]) >= 0.9
    assert float(ticks_y[-1]) >= 20.0
    empty = design_envelope_svg([])
    assert 'data-points="0"' in empty
    assert "design-point" not in empty
    assert "<script" not in design_envelope_svg(points, labels={"growth": "<script>"})
