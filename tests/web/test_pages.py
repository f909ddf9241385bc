"""The web pages: every page in English and Chinese, translations complete, no stray text."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.models import (
    ATMOSPHERES,
    NAGOYA_STATUSES,
    PRESERVATION_METHODS,
    SUPPLY_FORMS,
    Modification,
    PartRecord,
    StrainRecord,
)
from cellfoundry.bank.services import Bank
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord
from cellfoundry.web.i18n import (
    MissingTranslationError,
    Translator,
    catalogue,
    negotiate,
)
from cellfoundry.web.routes import VOCABULARIES

with warnings.catch_warnings():
    # Starlette asks for httpx2; with plain httpx it warns once on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

WEB = resources.files("cellfoundry.web")
TEMPLATES = Path(str(WEB.joinpath("templates")))
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z]{3,}")


def dna(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("ACGT") for _ in range(length))


def feature(kind: str, spans: list[tuple[int, int, int]], label: str) -> Feature:
    return Feature(
        kind,
        tuple(FeatureSpan(s, e, st) for s, e, st in spans),  # type: ignore[arg-type]
        (("label", label),),
    )


PDEMO = SequenceRecord(
    name="pDemo1",
    sequence=dna(3000, 1),
    topology="circular",
    description="vector 1",
    features=(
        feature("source", [(0, 3000, 1)], "pDemo1"),
        feature("promoter", [(100, 180, 1)], "Ptrc"),
        feature("CDS", [(200, 1061, 1)], "bla"),
        feature("rep_origin", [(1500, 2089, -1)], "pMB1 ori"),
        feature("Misc._Feature", [(2900, 3000, 1), (0, 40, 1)], "site <A&B>"),
    ),
)
PLIN = SequenceRecord(
    "pLin2", dna(1200, 2), "linear", features=(feature("CDS", [(5, 605, -1)], "lacZ"),)
)


def build_bank(path: Path) -> Bank:
    bank = Bank.open("sqlite:///" + str(path))
    bank.import_sequences([PDEMO, PLIN], kind="plasmid", actor="curator")
    bank.add_part(
        PartRecord(
            "BBa_J23100",
            "promoter",
            "TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC",
            "J23100",
            {"relative_strength": 1.0},
        ),
        actor="curator",
    )
    bank.add_part(PartRecord("BBa_B0015", "terminator", dna(129, 3)), actor="curator")
    strains = [
        StrainRecord(
            "CF-1",
            "Escherichia coli K-12 MG1655",
            ncbi_taxid=511145,
            other_accessions=("DSM 18039",),
            country="US",
            locality="Palo Alto",
            latitude=37.44,
            longitude=-122.14,
            growth_medium="LB",
            growth_temperature_c=37.0,
            atmosphere="aerobic",
            supply_forms=("freeze-dried", "frozen"),
            nagoya="outside scope",
            genotype="F- lambda- ilvG- rfb-50 rph-1",
        ),
        StrainRecord(
            "CF-2",
            "Escherichia coli K-12 MG1655 ΔldhA",
            parent_accession="CF-1",
            modifications=(Modification("deletion", "ldhA", "b1380"),),
        ),
        StrainRecord(
            "CF-3",
            "Escherichia coli K-12 MG1655 ΔldhA pDemo1",
            parent_accession="CF-2",
            modifications=(Modification("plasmid transformation", "pDemo1"),),
            plasmid_names=("pDemo1",),
        ),
        StrainRecord(
            "CF-4",
            "Escherichia coli K-12 MG1655 ΔldhA rpoB",
            parent_accession="CF-2",
            modifications=(Modification("point mutation", "rpoB H526Y"),),
        ),
        StrainRecord("CF-11", "Pseudomonas aeruginosa PAO1", risk_group=2, status="restricted"),
        StrainRecord("CF-12", "Saccharomyces cerevisiae S288C", organism_type="yeast"),
    ]
    strains += [StrainRecord(f"CF-1{i:02d}", f"Bacillus subtilis {i}") for i in range(30)]
    bank.import_strains(strains, actor="curator")
    bank.update_strain("CF-2", {"growth_medium": "M9", "status": "planned"}, actor="curator")
    box = bank.add_box("Main", "F1", "R1", "B1", rows=8, columns=12)
    for i, method in enumerate(PRESERVATION_METHODS):
        bank.add_sample(
            f"S-{i}",
            box=box,
            position=f"A{i + 1}",
            preservation=method,
            vials=3,
            strain="CF-1",
            prepared_on=dt.date(2026, 1, 2),
            actor="curator",
        )
    bank.record_viability(
        "S-0", viable=True, tested_on=dt.date(2026, 2, 3), cfu_per_ml=2.0e9, actor="curator"
    )
    bank.record_viability("S-1", viable=False, tested_on=dt.date(2026, 2, 3), actor="curator")
    bank.deposit(
        "CF-3",
        deposit_type="patent",
        depositor="Zhang San",
        deposited_on=dt.date(2024, 2, 29),
        depositor_statement="Rule 6.1 statement",
        patent_reference="CN 2024-1",
        actor="curator",
    )
    bank.deposit(
        "CF-1",
        deposit_type="public",
        depositor="Li Si",
        deposited_on=dt.date(2025, 1, 1),
        actor="curator",
    )
    bank.create_user("curator", "a long enough password", role="curator", actor="test")
    return bank


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bank]:
    bank = build_bank(tmp_path_factory.mktemp("pages") / "bank.db")
    yield bank
    bank.close()


@pytest.fixture(scope="module")
def app(bank: Bank) -> Any:
    return create_app(bank=bank)


@pytest.fixture(scope="module")
def curator_token(bank: Bank) -> str:
    token = bank.issue_token("curator", name="pages", actor="test").secret
    assert token is not None
    return token


@pytest.fixture
def client(app: Any, curator_token: str) -> Iterator[TestClient]:
    """A curator's browser: sees every entry (the patent deposit CF-3 included)."""
    with TestClient(app, headers={"Authorization": f"Bearer {curator_token}"}) as client:
        yield client


@pytest.fixture
def anonymous(app: Any) -> Iterator[TestClient]:
    """A visitor who has not signed in."""
    with TestClient(app) as client:
        yield client


def test_visitor_does_not_see_the_patent_deposit(anonymous: TestClient) -> None:
    html = anonymous.get("/strains?lang=en").text
    assert 'data-total="35"' in html
    assert re.search(r"CF-3\b", html) is None
    assert anonymous.get("/strains/CF-3?lang=en").status_code == 404


# -- visible text -------------------------------------------------------------------------------

VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt", "value")


def shown_attributes(tag: str, attrs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Attributes a reader sees; ``value`` only on buttons."""
    button = tag == "button" or (tag == "input" and dict(attrs).get("type") in ("submit", "button"))
    return [(k, v) for k, v in attrs if k != "value" or button]


class VisibleText(HTMLParser):
    """Collect what a reader sees: text, tooltips, placeholders, script messages."""

    def __init__(self, *, skip_code: bool = True) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip_stack: list[str] = []
        self.skip_tags = {"script", "style"} | ({"code", "pre"} if skip_code else set())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.skip_tags:
            self.skip_stack.append(tag)
        for key, value in shown_attributes(tag, attrs):
            if value and key in VISIBLE_ATTRIBUTES:
                self.chunks.append(value)
            elif value and key.startswith("data-msg-"):
                self.chunks.append(re.sub(r"\{\w+\}", " ", value))  # placeholders for the script

    def handle_endtag(self, tag: str) -> None:
        if self.skip_stack and self.skip_stack[-1] == tag:
            self.skip_stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip_stack:
            self.chunks.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.chunks)


def english_words() -> set[str]:
    """Words of the English strings that the Chinese strings do not also use."""

    def words(lang: str) -> set[str]:
        texts = (re.sub(r"\{\w+\}", " ", v) for v in catalogue(lang).values())
        return {w.lower() for text in texts for w in WORD.findall(text)}

    return words("en") - words("zh")


def strings_in(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from strings_in(value)
    elif isinstance(data, list):
        for value in data:
            yield from strings_in(value)


def data_words(client: TestClient) -> set[str]:
    """Words that come from the bank's data (names, descriptions, actors...), via the API."""
    documents: list[Any] = []
    strains = client.get("/api/strains", params={"limit": 500}).json()["data"]
    for s in strains:
        acc = s["accession"]
        documents += [
            client.get(f"/api/strains/{acc}").json(),
            client.get(f"/api/strains/{acc}/lineage").json(),
            client.get(f"/api/strains/{acc}/history").json(),
        ]
    for kind in ("plasmids", "parts"):
        for item in client.get(f"/api/{kind}", params={"limit": 500}).json()["data"]:
            documents.append(client.get(f"/api/{kind}/{item['name']}").json())
    return {w.lower() for doc in documents for text in strings_in(doc) for w in WORD.findall(text)}


def page_urls(client: TestClient) -> list[str]:
    urls = [
        "/",
        "/strains",
        "/strains?genus=Escherichia&risk_group=1&offset=0",
        "/strains?q=nothing-matches-this",
        "/strains?offset=25",
        "/plasmids",
        "/plasmids?q=lac",
        "/parts",
        "/sequences/search",
        "/import",
        "/docs",
        "/strains/NOPE",
        "/no/such/page",
    ]
    for s in client.get("/api/strains", params={"limit": 500}).json()["data"]:
        if not s["accession"].startswith("CF-1") or len(s["accession"]) <= 5:
            urls.append(f"/strains/{s['accession']}")
    for kind in ("plasmids", "parts"):
        for item in client.get(f"/api/{kind}").json()["data"]:
            urls.append(f"/{kind}/{item['name']}")
    return urls


# -- translations -------------------------------------------------------------------------------


def test_translation_files_have_the_same_keys() -> None:
    en, zh = catalogue("en"), catalogue("zh")
    assert set(en) == set(zh)
    assert all(v.strip() for v in en.values())
    assert all(v.strip() for v in zh.values())
    field = re.compile(r"\{(\w+)\}")
    for key in en:
        assert set(field.findall(en[key])) == set(field.findall(zh[key])), key


#: Keys whose Chinese text is the English one: names, formats and units.
SAME_IN_BOTH = {
    "app.name",
    "format.genbank",
    "format.fasta",
    "format.sbol3",
    "sequence.length_bp",
    "viability.cfu_unit",
    "value.celsius",
    "docs.version",
    "supply_forms.DNA",
    "feature_type.mrna",
    "feature_type.trna",
    "feature_type.rrna",
    "param_in.cookie",
}


def test_chinese_strings_are_chinese() -> None:
    en, zh = catalogue("en"), catalogue("zh")
    for key, text in zh.items():
        if key in SAME_IN_BOTH:
            assert text == en[key], key
        else:
            assert CJK.search(text), f"{key}: {text!r} is not translated"


@pytest.mark.parametrize("group", sorted(VOCABULARIES))
def test_every_catalogue_value_has_a_translation(group: str) -> None:
    for lang in ("en", "zh"):
        for value in VOCABULARIES[group]:
            assert f"{group}.{value}" in catalogue(lang), (lang, group, value)


@pytest.mark.parametrize(
    ("group", "values"),
    [
        ("atmosphere", ATMOSPHERES),
        ("supply_forms", SUPPLY_FORMS),
        ("nagoya", NAGOYA_STATUSES),
        ("preservation", PRESERVATION_METHODS),
    ],
)
def test_catalogue_field_values_have_translations(group: str, values: tuple[str, ...]) -> None:
    for value in values:
        assert f"{group}.{value}" in catalogue("zh"), value


def test_translator_is_strict_under_tests() -> None:
    tr = Translator("zh")
    assert tr.t("nav.strains") == "菌种"
    assert tr.t("strains.count", n=3) == "符合条件的菌种：3 株"
    with pytest.raises(MissingTranslationError, match=r"no 'zh' translation for 'nav\.nope'"):
        tr.t("nav.nope")
    lenient = Translator("zh", strict=False)
    assert lenient.t("nav.nope") == "nav.nope"
    assert lenient.value("status", "available") == "可供应"
    assert lenient.value("status", "some data") == "some data"


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        (None, None, None, "en"),
        (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, None, "fr-FR,fr;q=0.9,en;q=0.8,zh;q=0.7", "en"),
        (None, None, "fr-FR", "en"),
        (None, "zh", "en-US", "zh"),
        ("en", "zh", "zh-CN", "en"),
        ("xx", "zh", None, "zh"),
        ("ZH", None, None, "zh"),
        (None, None, "zh-TW;q=0, en;q=0.5", "en"),
    ],
)
def test_language_negotiation(
    query: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(query=query, cookie=cookie, accept_language=header) == expected


# -- templates ----------------------------------------------------------------------------------


class TemplateText(HTMLParser):
    """The literal text and visible attributes of a template, Jinja stripped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_script = tag in ("script", "style")
        for key, value in shown_attributes(tag, attrs):
            if value and (key in VISIBLE_ATTRIBUTES or key.startswith("data-msg-")):
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    def handle_data(self, data: str) -> None:
        if not self.in_script:
            self.found.append(data)


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_hold_no_text_outside_t(name: str) -> None:
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    stripped = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", source, flags=re.S)
    parser = TemplateText()
    parser.feed(stripped)
    letters = [text.strip() for text in parser.found if re.search(r"[A-Za-z\u4e00-\u9fff]", text)]
    assert letters == [], f"{name}: literal text {letters!r}; use t()"


def test_static_files_need_no_network(client: TestClient) -> None:
    for path in ("/static/app.css", "/static/app.js", "/static/favicon.svg"):
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.text.replace("http://www.w3.org/2000/svg", "")
        for needle in ("http://", "https://", "@import", "@font-face"):
            assert needle not in text, (path, needle)


# -- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_in_both_languages(client: TestClient, lang: str) -> None:
    for url in page_urls(client):
        joined = f"{url}{'&' if '?' in url else '?'}lang={lang}"
        response = client.get(joined)
        expected = 404 if url in ("/strains/NOPE", "/no/such/page") else 200
        assert response.status_code == expected, url
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in html, url
        assert 'src="http' not in html, url
        assert 'href="http' not in html, url
        if lang == "zh":
            assert CJK.search(visible_text(html)), url


def test_chinese_pages_leak_no_english(client: TestClient) -> None:
    """In Chinese, no word of the English strings shows, except where the data has it."""
    words = english_words()
    allowed = data_words(client)
    client.cookies.set("lang", "zh")
    leaks: dict[str, set[str]] = {}
    for url in page_urls(client):
        text = visible_text(client.get(url).text)
        found = {w.lower() for w in WORD.findall(text)} & words - allowed
        if found:
            leaks[url] = found
    hits = client.post(
        "/sequences/search", data={"sequence": PDEMO.sequence[300:600], "kinds": ["plasmid"]}
    )
    found = {w.lower() for w in WORD.findall(visible_text(hits.text))} & words - allowed
    if found:
        leaks["POST /sequences/search"] = found
    assert leaks == {}


def test_english_words_check_catches_a_leak() -> None:
    words = english_words()
    assert "strains" in words
    assert "pedigree" in words
    assert {w.lower() for w in WORD.findall("谱系 Pedigree")} & words == {"pedigree"}


def test_language_choice_is_remembered_in_a_cookie(client: TestClient) -> None:
    first = client.get("/strains?lang=zh")
    assert "菌种" in first.text
    assert first.cookies.get("lang") == "zh"
    assert '<html lang="zh-CN">' in client.get("/plasmids").text
    assert '<html lang="en">' in client.get("/plasmids?lang=en").text
    assert '<html lang="en">' in client.get("/plasmids").text


def test_browser_language_is_used_without_a_choice(client: TestClient) -> None:
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-CN">' in page.text
    assert "菌种库" in page.text


def test_language_switch_links_keep_the_page(client: TestClient) -> None:
    html = client.get("/strains?genus=Escherichia").text
    assert 'href="/strains?genus=Escherichia&amp;lang=zh"' in html
    assert ">中文</a>" in html
    assert ">English</a>" in html


def test_dashboard_shows_counts(client: TestClient) -> None:
    html = client.get("/?lang=en").text
    assert 'data-count="strains"' in html
    counts = client.get("/api/counts").json()
    assert f"{counts['strains']}</span>" in html
    assert "Strain bank" in html


def test_strain_list_facets_and_paging(client: TestClient) -> None:
    html = client.get("/strains?lang=en").text
    assert 'data-total="36"' in html
    assert "Page 1 of 2" in html
    assert 'href="/strains?lang=en&amp;offset=25"' in html
    for facet in ("genus", "organism_type", "risk_group", "status", "deposit_type"):
        assert f'data-facet="{facet}"' in html
    page2 = client.get("/strains?lang=en&offset=25").text
    assert "Page 2 of 2" in page2
    filtered = client.get("/strains?lang=en&genus=Escherichia").text
    assert 'data-total="4"' in filtered
    assert 'name="genus" value="Escherichia" checked' in filtered
    assert 'data-accession="CF-11"' not in filtered
    yeast = client.get("/strains?lang=zh&organism_type=yeast").text
    assert "酵母" in yeast
    assert 'data-accession="CF-12"' in yeast
    deposited = client.get("/strains?deposit_type=patent").text
    assert 'data-total="1"' in deposited
    assert "专利保藏" in client.get("/strains?lang=zh").text


def test_strain_page_shows_everything(client: TestClient) -> None:
    html = client.get("/strains/CF-2?lang=en").text
    # pedigree: ancestors and descendants, the current strain highlighted, links
    for acc in ("CF-1", "CF-2", "CF-3", "CF-4"):
        assert f'data-accession="{acc}"' in html
    assert '<g class="node current" data-accession="CF-2">' in html
    assert 'href="/strains/CF-3"' in html
    assert "ΔldhA" in html
    assert "[pDemo1]" in html
    assert "rpoB H526Y" in html
    # modifications and history of the edit
    assert "b1380" in html
    assert "Edited" in html
    assert "M9" in html
    assert "Planned" in html


def test_strain_page_samples_deposit_and_plasmid_maps(client: TestClient) -> None:
    one = client.get("/strains/CF-1?lang=en").text
    assert "DSM 18039" in one
    assert "Palo Alto, US" in one
    assert 'title="Main/F1/R1/B1/A1"' in one
    assert "Glycerol, −80 °C" in one
    assert "Viable" in one
    assert "Not viable" in one
    assert "2.0e+09 CFU/mL" in one
    assert "Public deposit" in one
    three = client.get("/strains/CF-3?lang=zh").text
    assert "专利保藏（布达佩斯条约）" in three
    assert "2054-02-28" in three, "Budapest Treaty: 30 years, 29 February -> 28 February"
    assert "《布达佩斯条约》实施细则第 9.1 条" in three
    assert 'data-plasmid="pDemo1"' in three
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="seqmap circular"' in three
    assert 'data-label="bla"' in three
    assert 'data-label="site &lt;A&amp;B&gt;"' in three
    assert "site <A&B>" not in three


def test_plasmid_page_map_features_and_downloads(client: TestClient) -> None:
    html = client.get("/plasmids/pDemo1?lang=en").text
    assert 'class="seqmap circular"' in html
    for label in ("Ptrc", "bla", "pMB1 ori"):
        assert f'data-feature="{label}"' in html
    assert 'data-feature="pDemo1"' not in html, "the source feature is not listed"
    assert 'data-feature="site &lt;A&amp;B&gt;"' in html
    assert "<A&B>" not in html
    assert 'href="/api/plasmids/pDemo1.gb"' in html
    assert 'href="/api/plasmids/pDemo1.fasta"' in html
    assert "Origin of replication" in html
    linear = client.get("/plasmids/pLin2?lang=zh").text
    assert 'class="seqmap linear"' in linear
    assert "编码序列" in linear


def test_part_page(client: TestClient) -> None:
    html = client.get("/parts/BBa_J23100?lang=zh").text
    assert "启动子" in html
    assert "SO:0000167" in html
    assert "相对强度" in html
    assert 'class="seqmap linear"' in html
    assert 'data-label="BBa_J23100"' in html, "an unannotated part is drawn as one feature"
    assert "TTGACGGCTA GCTCAGTCCT" in html


def test_sequence_search_page_has_progress_and_script_hooks(client: TestClient) -> None:
    html = client.get("/sequences/search?lang=en").text
    assert 'data-api="/api/sequences/search"' in html
    assert "<progress" in html
    assert 'class="spinner"' in html
    assert 'id="seq-progress" hidden' in html


def test_sequence_search_works_without_javascript(client: TestClient) -> None:
    response = client.post(
        "/sequences/search?lang=en",
        data={"sequence": ">q\n" + PDEMO.sequence[300:600], "top": "5", "kinds": ["plasmid"]},
    )
    assert response.status_code == 200
    assert 'data-hit="pDemo1"' in response.text
    assert "100.0%" in response.text
    bad = client.post("/sequences/search?lang=en", data={"sequence": "ACGU"})
    assert bad.status_code == 200
    assert "invalid base &#39;U&#39;" in bad.text


def test_import_page_uploads_with_progress(client: TestClient) -> None:
    html = client.get("/import?lang=zh").text
    assert 'action="/api/import"' in html
    assert 'enctype="multipart/form-data"' in html
    assert '<progress id="import-bar"' in html
    assert "上传并导入" in html
    for kind in ("plasmid", "part", "strain", "genome"):
        assert f'<option value="{kind}">' in html


def test_error_pages_speak_the_readers_language(client: TestClient) -> None:
    zh = client.get("/strains/NOPE?lang=zh")
    assert zh.status_code == 404
    assert "库中没有菌种“NOPE”。" in zh.text
    en = client.get("/plasmids/pNope?lang=en")
    assert en.status_code == 404
    assert "There is no plasmid “pNope” in the bank." in en.text
    missing = client.get("/no/such/page?lang=zh")
    assert missing.status_code == 404
    assert "页面不存在" in missing.text
    bad = client.get("/strains?offset=-1&lang=en")
    assert bad.status_code == 422
    assert "Invalid input" in bad.text
    assert "offset" in bad.text


def test_api_reference_page(client: TestClient) -> None:
    html = client.get("/docs?lang=zh").text
    assert "HTTP API 文档" in html
    assert "按文本和分面检索菌种" in html
    assert "<code>/api/strains/{accession}/lineage</code>" in html
    assert "StrainPublic" in html


def test_translation_files_are_valid_json() -> None:
    for lang in ("en", "zh"):
        text = WEB.joinpath("translations", f"{lang}.json").read_text(encoding="utf-8")
        assert isinstance(json.loads(text), dict)
