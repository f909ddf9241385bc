"""The DBTL campaign pages: the list, and a campaign's overview whose numbers are the bank's.

A campaign on demo strain CF-00001 runs two cycles through the campaign service with
:class:`~cellfoundry.testing.dbtl.DBTLSimulator` measurements. Its overview shows the goal
and design space, a progress chart with one dot per measured strain, the best-so-far line and
the goal, every cycle's strains with their designs and measurements, a plate coloured by
titre, the worklists, the recommendations and factor importance; "Recommend next" trains the
model from the page. The Chinese page shows no English of these pages' strings.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.demo import demo_strains
from cellfoundry.bank.services import Bank
from cellfoundry.campaigns import (
    PartStock,
    build_cycle,
    first_designs,
    import_performance,
    recommend_next,
)
from cellfoundry.testing.dbtl import DBTLSimulator, pathway_space
from cellfoundry.web.campaigns import plate_wells
from cellfoundry.web.i18n import catalogue

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PW = "correct horse battery staple"
CHASSIS = "CF-00001"
SPACE = pathway_space(4, rbs=False, knockout=True)
SIMULATOR = DBTLSimulator(space=SPACE, noise_cv=0.1)
BACKBONE = PartStock("pL1-acceptor", 4_900, 30.0)
PARTS = {
    f.name: {
        level: PartStock(f"{level}-{f.name[-2:]}", 3_200 + 40 * k, 18.0 + 2 * k)
        for k, level in enumerate(f.levels)
    }
    for f in SPACE.factors
    if f.name.startswith("promoter")
}
WORD = re.compile(r"[A-Za-z]{3,}")
OUR_KEYS = ("campaign.", "nav.campaigns")


def design_space_json() -> dict[str, Any]:
    return {
        "factors": {f.name: list(f.levels) for f in SPACE.factors},
        "strengths": {
            f.name: dict(zip(f.levels, f.strengths, strict=True))
            for f in SPACE.factors
            if f.strengths is not None
        },
    }


def measure(bank: Bank, name: str, number: int, rng: np.random.Generator) -> None:
    rows = []
    for s in bank.campaign(name).cycles[number - 1].strains:
        titres = SIMULATOR.measure([s.design] * 3, rng)
        rows.append(
            {"strain": s.accession, "titre_g_l": float(np.mean(titres)),
             "titre_g_l_sd": float(np.std(titres, ddof=1)),
             "rate_g_l_h": float(np.mean(titres)) / 24, "replicates": 3}
        )  # fmt: skip
    import_performance(bank, name, number, rows, source="hplc.csv")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    bank = Bank.open("sqlite:///" + str(tmp_path_factory.mktemp("campaign-pages") / "bank.db"))
    bank.create_user("ana", PW, role="curator", organisation="BJCC", actor="t")
    bank.import_strains(demo_strains()[:1], actor="demo")
    rng = np.random.default_rng(7)
    for name in ("pathway1", "pathway2"):
        campaign = bank.create_campaign(
            name,
            chassis=CHASSIS,
            goal={"product": "product", "titre_g_l": 1.0},
            design_space=design_space_json(),
            actor="ana",
        )
        build_cycle(
            bank, name, first_designs(campaign, 8, rng), parts=PARTS, backbone=BACKBONE,
            visibility="public",
        )  # fmt: skip
        measure(bank, name, 1, rng)
    batch = recommend_next(bank, "pathway1", n=6, rng=rng)
    build_cycle(
        bank, "pathway1", list(batch.designs), parts=PARTS, backbone=BACKBONE, visibility="public"
    )
    measure(bank, "pathway1", 2, rng)
    recommend_next(bank, "pathway1", n=5, rng=rng)
    yield bank
    bank.close()


@pytest.fixture(scope="module")
def app(bank: Bank) -> Iterator[Any]:
    app = create_app(bank=bank)
    yield app
    app.state.jobs.close()


@pytest.fixture(scope="module")
def curator(app: Any) -> Iterator[TestClient]:
    client = TestClient(app)
    r = client.post(
        "/login", data={"username": "ana", "password": PW, "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303
    yield client
    client.close()


@pytest.fixture
def anonymous(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def csrf_of(client: TestClient, url: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', client.get(url).text)
    assert found is not None
    return found.group(1)


def attrs(html: str, pattern: str) -> list[dict[str, str]]:
    """The attributes of the elements whose start tag matches ``pattern``."""
    return [
        dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(0)))
        for m in re.finditer(r"<[a-z]+[^>]*" + pattern + r"[^>]*>", html)
    ]


def section(html: str, ident: str) -> str:
    start = html.index(f'id="{ident}"')
    end = html.find("</section>", start)
    return html[start:end]


class ShownText(HTMLParser):
    """Text a reader sees, drawings' words and tooltips included."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        for key, value in attrs:
            if key in ("aria-label", "placeholder", "title") and value:
                self.chunks.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def english_leaks(page: str, data: str) -> set[str]:
    def words(lang: str) -> set[str]:
        texts = (
            re.sub(r"\{\w+\}", " ", v) for k, v in catalogue(lang).items() if k.startswith(OUR_KEYS)
        )
        return {w.lower() for text in texts for w in WORD.findall(text)}

    parser = ShownText()
    parser.feed(page)
    shown = {w.lower() for w in WORD.findall(" ".join(parser.chunks))}
    allowed = {w.lower() for w in WORD.findall(data)}
    return shown & (words("en") - words("zh")) - allowed


def test_campaign_list(anonymous: TestClient, bank: Bank) -> None:
    html = anonymous.get("/campaigns?lang=en").text
    assert [a["data-campaign"] for a in attrs(html, r'data-campaign="')] == [
        "pathway1", "pathway2"
    ]  # fmt: skip
    best = bank.campaign("pathway1").best()
    assert best is not None
    row = html[html.index('data-campaign="pathway1"') :].split("</tr>")[0]
    assert f'href="/strains/{best.accession}"' in row
    assert f"{best.measurements['titre_g_l']:.3f}" in row
    assert 'href="/campaigns"' in html  # the navigation link


def test_overview_numbers_are_the_banks(anonymous: TestClient, bank: Bank) -> None:
    campaign = bank.campaign("pathway1")
    html = anonymous.get("/campaigns/pathway1?lang=en").text
    assert 'id="goal-titre" data-value="1.0"' in html
    for factor, levels in campaign.design_space["factors"].items():
        space = section(html, "campaign-goal")
        assert f'data-factor="{factor}"' in space
        for level in levels:
            assert f">{level}" in space
    best = campaign.best()
    assert best is not None
    assert f'href="/strains/{best.accession}"' in section(html, "campaign-goal")

    for cycle in campaign.cycles:
        part = section(html, f"cycle-{cycle.number}")
        rows = part.split('class="cycle-strain"')[1:]
        assert len(rows) == len(cycle.strains)
        for row, strain, well in zip(
            rows, cycle.strains, plate_wells(len(cycle.strains)), strict=True
        ):
            assert f'data-strain="{strain.accession}" data-well="{well}"' in row
            assert f'href="/strains/{strain.accession}"' in row
            for factor, level in strain.design.items():
                assert f'<td class="mono">{level}</td>' in row, factor
            m = strain.measurements
            shown = re.search(r'data-measure="titre_g_l" data-value="([^"]+)">([^<]+)', row)
            assert shown is not None
            assert float(shown.group(1)) == pytest.approx(m["titre_g_l"], rel=1e-12)
            assert shown.group(2).strip() == f"{m['titre_g_l']:.3f}"
            assert f"± {m['titre_g_l_sd']:.3f}" in row
            rate = re.search(r'data-measure="rate_g_l_h" data-value="([^"]+)"', row)
            assert rate is not None
            assert float(rate.group(1)) == pytest.approx(m["rate_g_l_h"], rel=1e-12)
        # worklists link to the API's downloads
        for kind in ("opentrons.py", "tecan.gwl", "echo.csv"):
            url = f"/api/campaigns/pathway1/cycles/{cycle.number}/worklists/{kind}"
            assert f'href="{url}"' in part
            assert anonymous.get(url).text == cycle.worklists[kind]
        # the plate: one filled well per strain, at its well, coloured by its titre
        wells = attrs(part, r'class="well filled"')
        assert len(wells) == len(cycle.strains)
        assert part.count('class="well"') == 96 - len(cycle.strains)
        by_strain = {w["data-strain"]: w for w in wells}
        for strain, well in zip(cycle.strains, plate_wells(len(cycle.strains)), strict=True):
            assert by_strain[strain.accession]["data-well"] == well
            titre = float(by_strain[strain.accession]["data-titre"])
            assert titre == pytest.approx(strain.measurements["titre_g_l"], rel=1e-5)


def test_progress_chart_has_a_dot_per_measured_strain(anonymous: TestClient, bank: Bank) -> None:
    campaign = bank.campaign("pathway1")
    html = anonymous.get("/campaigns/pathway1?lang=en").text
    chart = section(html, "campaign-progress")
    assert chart.count("<svg") == 1
    dots = attrs(chart, r'class="pt"')
    measured = {(s.accession, c.number) for c in campaign.cycles for s in c.measured}
    assert len(dots) == len(measured) == 14
    assert {(d["data-strain"], int(d["data-cycle"])) for d in dots} == measured
    best_so_far, running = [], 0.0
    for cycle in campaign.cycles:
        running = max([running, *(s.measurements["titre_g_l"] for s in cycle.measured)])
        best_so_far.append(f"{running:.4g}")
    assert f'data-best="{" ".join(best_so_far)}"' in chart
    assert 'class="best"' in chart
    assert 'class="goal"' in chart
    assert 'stroke-dasharray="6 4"' in chart


def test_recommendations_and_importance(anonymous: TestClient, bank: Bank) -> None:
    last = bank.campaign("pathway1").cycles[-1]
    html = anonymous.get("/campaigns/pathway1?lang=en").text
    part = section(html, "recommendations")
    rows = attrs(part, r'class="recommendation"')
    assert len(rows) == len(last.recommendations) == 5
    for row, rec in zip(rows, last.recommendations, strict=True):
        assert float(row["data-predicted"]) == rec["predicted"]
        assert float(row["data-sd"]) == rec["sd"]
        assert float(row["data-score"]) == rec["score"]
        assert f"{rec['predicted']:.3f} ± {rec['sd']:.3f}" in part
    bars = attrs(part, r'class="bar-row"')
    assert {b["data-factor"] for b in bars} == set(SPACE.names)
    stored = {i["factor"]: i["importance"] for i in last.model["importance"]}
    for bar in bars:
        assert float(bar["data-importance"]) == stored[bar["data-factor"]]
    # anonymous readers are asked to sign in instead of the button
    assert 'id="recommend-form"' not in part
    assert 'href="/login?next=/campaigns/pathway1"' in part


def test_recommend_next_from_the_page(curator: TestClient, bank: Bank) -> None:
    assert bank.campaign("pathway2").cycles[0].recommendations == ()
    page = curator.get("/campaigns/pathway2?lang=en").text
    assert 'id="no-recommendations"' in page
    assert 'id="recommend-form"' in page
    assert 'id="recommend-busy"' in page
    token = csrf_of(curator, "/campaigns/pathway2")
    r = curator.post(
        "/campaigns/pathway2/recommend", data={"csrf": token, "n": "7"}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/campaigns/pathway2#recommendations"
    stored = bank.campaign("pathway2").cycles[0]
    assert len(stored.recommendations) == 7
    html = curator.get("/campaigns/pathway2?lang=en").text
    assert len(attrs(section(html, "recommendations"), r'class="recommendation"')) == 7
    r = curator.post("/campaigns/pathway2/recommend", data={"csrf": token, "n": "0"})
    assert r.status_code == 422
    assert 'id="recommend-error"' in r.text


def test_anonymous_cannot_recommend(anonymous: TestClient) -> None:
    r = anonymous.post("/campaigns/pathway1/recommend", data={"n": "3"}, follow_redirects=False)
    assert r.status_code in (401, 403)


def test_strain_page_links_to_its_campaign(anonymous: TestClient) -> None:
    html = anonymous.get("/strains/pathway1-C2-001?lang=en").text
    assert 'href="/campaigns/pathway1"' in html


def test_unknown_campaign_is_a_404_page(anonymous: TestClient) -> None:
    r = anonymous.get("/campaigns/nope?lang=en")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("url", ["/campaigns", "/campaigns/pathway1"])
def test_chinese_pages_have_no_leftover_english(
    anonymous: TestClient, bank: Bank, url: str
) -> None:
    campaign = bank.campaign("pathway1")
    data = " ".join(
        [
            *campaign.design_space["factors"],
            *(str(v) for levels in campaign.design_space["factors"].values() for v in levels),
            str(campaign.goal["product"]),
            *(m for m in campaign.cycles[-1].model.get("members", [])),
            str(campaign.cycles[-1].model.get("acquisition")),
            "pathway CF- DBTL",  # names of records and the method's acronym
        ]
    )
    html = anonymous.get(f"{url}?lang=zh").text
    assert '<html lang="zh-CN">' in html
    assert english_leaks(html, data) == set()
    en = anonymous.get(f"{url}?lang=en").text
    assert english_leaks(en, data) != set()  # the check sees English where there is some


def test_our_strings_exist_in_both_languages() -> None:
    en, zh = catalogue("en"), catalogue("zh")
    ours = {k for k in en if k.startswith(OUR_KEYS)}
    assert ours == {k for k in zh if k.startswith(OUR_KEYS)}
    assert len(ours) > 40
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert all(cjk.search(zh[k]) for k in ours)
