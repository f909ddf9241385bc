"""The DNA pages: guide design with its table and gene maps, the editing-plan section of a
planned strain's page, Golden Gate assembly with its diagram, in English and Chinese; the
engine's refusals are shown naming the record and the field."""

from __future__ import annotations

import dataclasses
import html
import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank import formats
from cellfoundry.bank.demo import DEMO_DESIGN, level1_acceptor
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.core.sequence import SequenceRecord
from cellfoundry.dna import design_guides, golden_gate
from cellfoundry.web.dna import parse_genes
from cellfoundry.web.drawing import guide_map_svg
from cellfoundry.web.i18n import catalogue

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
GENBANK = SHARED / "sbol-test-suite" / "GenBank"
GENOME = GENBANK / "genomes" / "20027.gbk"
PW = "correct horse battery staple"
CHASSIS = "CF-M1"
PLANNED = "CF-M1-D1"
GENES = ["Ga0076475_116", "Ga0076475_1110"]
LEVEL0 = ["pICH51277", "pICSL80014", "pICH41421"]
ACCEPTOR = "pL1-acceptor-demo"
WORD = re.compile(r"[A-Za-z]{3,}")
OUR_KEYS = ("dna.", "dna_action.", "dna_edit.", "dna_oligo.")

pytestmark = pytest.mark.skipif(not GENOME.exists(), reason="shared genome data is missing")


def plasmid(name: str) -> SequenceRecord:
    record = formats.read(GENBANK / f"{name}.gb", "genbank")[0]
    return dataclasses.replace(record, name=name, topology="circular")


@pytest.fixture(scope="module")
def genome() -> list[SequenceRecord]:
    return formats.read(GENOME, "genbank")


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory, genome: list[SequenceRecord]) -> Iterator[Bank]:
    bank = Bank.open("sqlite:///" + str(tmp_path_factory.mktemp("dna-pages") / "bank.db"))
    bank.create_user("ana", PW, role="curator", organisation="BJCC", actor="t")
    bank.import_strains(
        [
            StrainRecord(CHASSIS, "Mycoplasma mycoides subsp. mycoides SC PG1"),
            StrainRecord("CF-E1", "Escherichia coli K-12 MG1655"),
        ],
        actor="t",
    )
    bank.import_sequences(genome, kind="genome", strain=CHASSIS, actor="t", source="20027.gbk")
    level0 = [plasmid(n) for n in LEVEL0]
    acceptor = level1_acceptor(level0[2])
    assert acceptor is not None
    seq = level0[1].sequence
    at = seq.find("GGTCTC") + 300
    bad = dataclasses.replace(level0[1], name="pBROKEN", sequence=seq[:at] + "GGTCTC" + seq[at:])
    bank.import_sequences([*level0, acceptor, bad], kind="plasmid", actor="t", source="test")
    bank.save_design(
        DEMO_DESIGN, parent_accession=CHASSIS, accession=PLANNED, actor="t", visibility="public"
    )
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
    client = TestClient(app)
    yield client
    client.close()


def csrf_of(client: TestClient, url: str = "/dna") -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', client.get(url).text)
    assert found is not None
    return found.group(1)


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title", "svg", "option", "textarea"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title", "svg", "option", "textarea") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.chunks.append(data)


def english_leaks(page: str, data: str = "") -> set[str]:
    """Words of our English strings (not in the Chinese ones) shown on a Chinese page.

    Words of ``data`` (names of records shown on the page) are allowed.
    """

    def words(lang: str) -> set[str]:
        texts = (
            re.sub(r"\{\w+\}", " ", v) for k, v in catalogue(lang).items() if k.startswith(OUR_KEYS)
        )
        return {w.lower() for text in texts for w in WORD.findall(text)}

    parser = VisibleText()
    parser.feed(page)
    shown = {w.lower() for w in WORD.findall(" ".join(parser.chunks))}
    allowed = {w.lower() for w in WORD.findall(data)}
    return shown & (words("en") - words("zh")) - allowed


@pytest.fixture(scope="module")
def guides_page(curator: TestClient) -> str:
    r = curator.post(
        "/dna?lang=en",
        data={
            "csrf": csrf_of(curator),
            "strain": CHASSIS,
            "genes": ", ".join(GENES),
            "purpose": "knockout",
            "per_gene": "3",
        },
    )
    assert r.status_code == 200, r.text
    return r.text


# -- guides -------------------------------------------------------------------------------------


def test_parse_genes_splits_and_dedupes() -> None:
    assert parse_genes(" a,b;\nc a  ") == ["a", "b", "c"]
    assert parse_genes("") == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_guide_form_lists_strains_with_a_genome(anonymous: TestClient, lang: str) -> None:
    r = anonymous.get(f"/dna?lang={lang}")
    assert r.status_code == 200
    page = r.text
    heading = {"en": "CRISPR guide design", "zh": "CRISPR 向导设计"}[lang]
    assert f"<h1>{heading}</h1>" in page
    assert 'href="/dna" class="active"' in page  # the nav bar's link
    assert re.findall(r'class="chip pick-strain" data-strain="([^"]+)"', page) == [CHASSIS]
    assert f'name="strain" value="{CHASSIS}"' in page
    assert re.findall(r'name="purpose" value="(\w+)"', page) == ["knockout", "crispri", "base_edit"]
    if lang == "zh":
        assert english_leaks(page) == set()


def test_guide_table_equals_the_engines_guides(
    guides_page: str, genome: list[SequenceRecord]
) -> None:
    frame = design_guides(genome, genes=GENES, purpose="knockout", per_gene=3)
    rows = re.findall(r'<tr data-gene="([^"]+)" data-spacer="([ACGT]+)">', guides_page)
    assert rows == list(zip(frame["gene"], frame["spacer"], strict=True))
    assert f'data-guides="{len(frame)}"' in guides_page
    first = frame.iloc[0]
    cells = re.search(rf'data-spacer="{first.spacer}">(.*?)</tr>', guides_page, re.S)
    assert cells is not None
    text = re.sub(r"<[^>]+>", "|", cells.group(1))
    assert f"{first.position + 1:,}" in text
    assert f"{first.cut:,}" in text
    assert f"{first.cfd_specificity:.1f}" in text
    assert f"{first.rule_set_1:.2f}" in text
    counts = re.sub(
        r"[|\s]+",
        "",
        re.search(r'class="mono offtargets"[^>]*>(.*?)</td>', cells.group(1), re.S).group(1),
    )  # type: ignore[union-attr]
    assert re.sub(r"<[^>]+>", "", counts) == first.off_targets


def test_each_gene_has_a_map_with_its_guides_at_their_cut_sites(
    guides_page: str, genome: list[SequenceRecord]
) -> None:
    frame = design_guides(genome, genes=GENES, purpose="knockout", per_gene=3)
    for gene in GENES:
        figure = re.search(
            rf'<figure class="gene-map" id="map-{gene}".*?</figure>', guides_page, re.S
        )
        assert figure is not None, gene
        svg = figure.group(0)
        assert f'data-gene="{gene}"' in svg
        drawn = re.findall(r'data-spacer="([ACGT]+)" data-cut="(\d+)" data-strand="([+−])"', svg)
        want = frame[frame.gene == gene]
        assert sorted(drawn) == sorted(
            (s, str(c), "+" if st == "+" else "−")
            for s, c, st in zip(want.spacer, want.cut, want.strand, strict=True)
        )
        assert svg.count('class="cut"') == len(want)
        assert 'class="cds"' in svg


def test_a_bad_gene_is_shown_named(curator: TestClient) -> None:
    r = curator.post(
        "/dna?lang=en",
        data={"csrf": csrf_of(curator), "strain": CHASSIS, "genes": "Ga0076475_116 nosuch"},
    )
    assert r.status_code == 422
    error = re.search(r'<div class="notice bad" id="dna-error"[^>]*>.*?</div>', r.text, re.S)
    assert error is not None
    assert 'data-field="gene"' in error.group(0)
    assert 'data-record="nosuch"' in error.group(0)
    assert "no CDS with this locus tag" in error.group(0)
    assert "Ga0076475_116 nosuch" in r.text  # the form keeps what was typed
    r = curator.post("/dna", data={"csrf": csrf_of(curator), "strain": "CF-E1", "genes": "thrA"})
    assert r.status_code == 422
    assert 'data-field="genome"' in r.text
    r = curator.post(
        "/dna", data={"csrf": csrf_of(curator), "strain": CHASSIS, "genes": "x", "per_gene": "99"}
    )
    assert r.status_code == 422
    assert 'data-field="per_gene"' in r.text


def test_guides_page_in_chinese_has_no_english_left(curator: TestClient) -> None:
    r = curator.post(
        "/dna?lang=zh",
        data={"csrf": csrf_of(curator), "strain": CHASSIS, "genes": GENES[0], "purpose": "crispri"},
    )
    assert r.status_code == 200
    assert "<h2>序列图谱</h2>" in r.text
    assert english_leaks(r.text) == set()


def test_guide_map_draws_strands_apart() -> None:
    svg = guide_map_svg(
        "g",
        [(100, 700)],
        -1,
        [
            {"position": 200, "strand": "+", "spacer": "A" * 20, "pam": "AGG", "cut": 217},
            {"position": 205, "strand": "+", "spacer": "C" * 20, "pam": "CGG", "cut": 222},
            {"position": 400, "strand": "-", "spacer": "G" * 20, "pam": "TGG", "cut": 406},
        ],
    )
    ys = {
        spacer: float(y)
        for spacer, y in re.findall(r'data-spacer="(\w+)".*?<rect x="[\d.]+" y="([\d.]+)"', svg)
    }
    cds_top = float(re.search(r'class="cds" points="[\d.]+,([\d.]+)', svg).group(1))  # type: ignore[union-attr]
    assert ys["A" * 20] < cds_top
    assert ys["C" * 20] < cds_top
    assert ys["A" * 20] != ys["C" * 20]  # overlapping guides in separate lanes
    assert ys["G" * 20] > cds_top  # − strand below
    assert html.unescape(svg).count('<g class="guide ') == 3


# -- editing plan on the strain page ------------------------------------------------------------


def test_editing_plan_made_from_the_strain_page(curator: TestClient, bank: Bank) -> None:
    page = curator.get(f"/strains/{PLANNED}?lang=en").text
    assert 'id="editing-plan"' in page
    assert 'data-planned="no"' in page
    assert 'id="plan-submit"' in page
    assert "Plan editing" in page
    r = curator.post(
        f"/strains/{PLANNED}/editing-plan?lang=en",
        data={"csrf": csrf_of(curator)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/strains/{PLANNED}?lang=en#editing-plan"
    saved = bank.editing_plan(PLANNED)
    assert saved is not None
    page = curator.get(f"/strains/{PLANNED}?lang=en").text
    section = re.search(r'<section id="editing-plan".*?</section>', page, re.S)
    assert section is not None
    text = section.group(0)
    assert 'data-planned="yes"' in text
    steps = re.findall(r'<li data-action="(\w+)" value="(\d+)"', text)
    assert [a for a, _ in steps] == [s["action"] for s in saved.plan["steps"]]
    kinds = re.findall(r'<article class="plan-edit" data-kind="(\w+)"', text)
    assert kinds == [e["kind"] for e in saved.plan["edits"]]
    deletion = next(e for e in saved.plan["edits"] if e["kind"] == "delete")
    check = deletion["verification"]
    assert f"wild type {check['wild_type_bp']} bp, edited {check['edited_bp']} bp" in text
    for guide in deletion["guides"]:
        assert guide["spacer"] in text
    oligos = re.findall(r'<td class="mono oligo">([ACGT]+)</td>', text)
    assert oligos == [o["sequence"] for o in saved.plan["oligos"]]
    records = re.findall(r'<article class="plasmid-card plan-record" data-record="([^"]+)"', text)
    assert records == [r["name"] for r in saved.plan["records"]]
    assert text.count('class="seqmap ') == len(records)
    gb = curator.get(re.search(r'id="plan-genbank" href="([^"]+)"', text).group(1))  # type: ignore[union-attr]
    assert gb.status_code == 200
    assert [r.name for r in formats.parse(gb.text.encode(), "genbank")] == records
    ttl = curator.get(re.search(r'id="plan-sbol3" href="([^"]+)"', text).group(1))  # type: ignore[union-attr]
    assert ttl.status_code == 200
    assert "sbols.org/v3" in ttl.text
    zh = curator.get(f"/strains/{PLANNED}?lang=zh").text
    zh_section = re.search(r'<section id="editing-plan".*?</section>', zh, re.S)
    assert zh_section is not None
    assert "编辑方案" in zh_section.group(0)
    assert "重新生成方案" in zh_section.group(0)


def test_anonymous_readers_see_no_plan_button(anonymous: TestClient) -> None:
    page = anonymous.get(f"/strains/{PLANNED}?lang=en").text
    assert 'id="editing-plan"' in page
    assert 'id="plan-submit"' not in page
    # the chassis strain's page links its genome to the guide page
    chassis = anonymous.get(f"/strains/{CHASSIS}").text
    assert f'id="genome-guides" href="/dna?strain={CHASSIS}"' in chassis


def test_planning_a_strain_without_design_shows_the_refusal(curator: TestClient) -> None:
    r = curator.post(f"/strains/{CHASSIS}/editing-plan?lang=en", data={"csrf": csrf_of(curator)})
    assert r.status_code == 422
    error = re.search(r'<div class="notice bad" id="plan-error"[^>]*>.*?</div>', r.text, re.S)
    assert error is not None
    assert 'data-field="design"' in error.group(0)
    assert f'data-record="{CHASSIS}"' in error.group(0)
    assert "no saved design" in error.group(0)
    assert 'id="plan-submit"' in r.text  # the button stays, to try again
    r = curator.post("/strains/CF-NONE/editing-plan", data={"csrf": csrf_of(curator)})
    assert r.status_code == 404


# -- Golden Gate --------------------------------------------------------------------------------


def assemble_url(parts: list[str], backbone: str = ACCEPTOR, lang: str = "en") -> str:
    query = "&".join(f"parts={p}" for p in parts)
    return f"/dna/assemble?{query}&backbone={backbone}&enzyme=BsaI&lang={lang}"


def test_assembly_form_lists_the_banks_plasmids(anonymous: TestClient) -> None:
    page = anonymous.get("/dna/assemble?lang=en").text
    assert "<h1>Golden Gate assembly</h1>" in page
    for name in [*LEVEL0, ACCEPTOR]:
        assert f'<option value="{name}"' in page
    assert 'id="assembly-result"' not in page


def test_assembly_diagram_shows_the_engines_product(anonymous: TestClient, bank: Bank) -> None:
    r = anonymous.get(assemble_url(LEVEL0[::-1]))
    assert r.status_code == 200
    page = r.text
    expected = golden_gate(
        [bank.get_sequence("plasmid", n) for n in LEVEL0[::-1]],
        bank.get_sequence("plasmid", ACCEPTOR),
    )
    result = re.search(r'<section class="panel" id="assembly-result"[^>]*>', page)
    assert result is not None
    assert f'data-length="{len(expected.product)}"' in result.group(0)
    strip = re.findall(r'<li class="strip-part" data-part="([^"]+)"', page)
    assert strip == list(expected.order)
    junctions = re.findall(r'<li class="strip-junction" data-overhang="(\w+)"', page)
    assert junctions == list(expected.overhangs)
    fidelity = {o.overhang: o.fidelity for o in expected.overhang_fidelities}
    for overhang in expected.overhangs:
        row = re.search(rf'<tr data-overhang="{overhang}">.*?</tr>', page, re.S)
        assert row is not None
        assert f"{fidelity[overhang] * 100:.1f} %" in row.group(0)
    svg = re.search(r'<div class="drawing product-map">(.*?)</div>', page, re.S)
    assert svg is not None
    assert "<svg" in svg.group(1)
    for name in LEVEL0:
        assert f'data-label="{name}"' in svg.group(1)
    link = re.search(r'id="assembly-download" href="([^"]+)"', page)
    assert link is not None
    gb = anonymous.get(html.unescape(link.group(1)))
    assert gb.status_code == 200
    assert formats.parse(gb.text.encode(), "genbank")[0].sequence == expected.product.sequence


@pytest.mark.parametrize(
    ("parts", "record", "field"),
    [
        (["pICH51277", "pBROKEN", "pICH41421"], "pBROKEN", "sequence"),
        (["pICH51277", "pNOSUCH"], "pNOSUCH", "parts"),
    ],
)
def test_assembly_errors_name_the_part(
    anonymous: TestClient, parts: list[str], record: str, field: str
) -> None:
    r = anonymous.get(assemble_url(parts))
    assert r.status_code == 422
    error = re.search(r'<div class="notice bad" id="assembly-error"[^>]*>', r.text)
    assert error is not None
    assert f'data-record="{record}"' in error.group(0)
    assert f'data-field="{field}"' in error.group(0)
    assert 'id="assembly-result"' not in r.text
    assert (
        anonymous.get(
            assemble_url(parts).replace("/dna/assemble?", "/dna/assemble.gb?")
        ).status_code
        == 422
    )


def test_assembly_page_in_chinese(anonymous: TestClient) -> None:
    page = anonymous.get(assemble_url(LEVEL0, lang="zh")).text
    assert "<h1>Golden Gate 组装</h1>" in page
    assert "<h3>黏性末端</h3>" in page
    assert english_leaks(page, data=" ".join([*LEVEL0, ACCEPTOR, "golden_gate_product"])) == set()
