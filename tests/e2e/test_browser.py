"""End to end: the web app on uvicorn, driven by headless Chromium; any console error fails.

Needs Debian's Chromium at ``/usr/bin/chromium`` (Playwright's own browser
download is not used). Without it the test is skipped, unless
``CELLFOUNDRY_REQUIRE_BROWSER=1``. Screenshots go to the test's ``tmp_path``,
and also to ``$CELLFOUNDRY_SCREENSHOT_DIR`` when that is set.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cellfoundry.api.app import create_app
from cellfoundry.bank.services import Bank

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REQUIRED = os.environ.get("CELLFOUNDRY_REQUIRE_BROWSER") == "1"


def need(condition: bool, reason: str) -> None:
    if condition:
        return
    if REQUIRED:
        pytest.fail(f"{reason} (CELLFOUNDRY_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_playwright() -> Any:
    need(CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        need(False, "the playwright package is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sync_playwright: Any) -> Iterator[str]:
    """The app on the demo collection, served by uvicorn on a free loopback port."""
    import uvicorn

    from cellfoundry.bank.demo import load_demo

    need(SHARED_DATA.is_dir(), f"the shared data folder {SHARED_DATA} is missing")
    bank = Bank.open("sqlite:///" + str(tmp_path_factory.mktemp("e2e") / "demo.db"))
    load_demo(bank, SHARED_DATA, actor="demo")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(bank=bank), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=15)
    bank.close()


@pytest.fixture
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@dataclass
class Problems:
    """Everything the browser complained about."""

    items: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on(
            "console",
            lambda msg: (
                self.items.append(f"console {msg.type}: {msg.text} at {page.url}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda err: self.items.append(f"page error: {err} at {page.url}"))
        page.on(
            "requestfailed",
            lambda req: self.items.append(f"request failed: {req.url} {req.failure}"),
        )
        page.on(
            "response",
            lambda res: (
                self.items.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None
            ),
        )


@pytest.fixture
def browser_page(sync_playwright: Any, tmp_path: Path) -> Iterator[tuple[Any, Problems]]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, locale="en-US", accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(20_000)
        problems = Problems()
        problems.watch(page)
        try:
            yield page, problems
        finally:
            context.close()
            browser.close()


def shoot(page: Any, tmp_path: Path, name: str, *, full_page: bool = True) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    extra = os.environ.get("CELLFOUNDRY_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(extra) / path.name)
    assert path.stat().st_size > 10_000
    return path


def test_browse_search_and_switch_language(
    server: str, api: httpx.Client, browser_page: tuple[Any, Problems], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    counts = api.get("/api/counts").json()

    # dashboard
    page.goto(server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator('[data-count="strains"] .count-value')).to_have_text(
        f"{counts['strains']:,}"
    )
    expect(page.locator('[data-count="plasmids"] .count-value')).to_have_text(
        f"{counts['plasmids']:,}"
    )
    shoot(page, tmp_path, "dashboard-en")

    # strain search: text, then a facet click that submits by itself
    page.get_by_role("link", name="Strains", exact=True).click()
    page.wait_for_url("**/strains")
    page.locator("#strain-search input[name=q]").fill("Escherichia")
    page.locator("#strain-search .searchbar button").click()
    page.wait_for_url("**/strains?q=Escherichia*")
    expected = api.get("/api/strains", params={"q": "Escherichia", "deposit_type": "patent"}).json()
    assert expected["count"] >= 1
    page.locator('input[name="deposit_type"][value="patent"]').check()
    page.wait_for_url("**deposit_type=patent*")
    rows = page.locator("table.strains tbody tr")
    expect(rows).to_have_count(expected["count"])
    expect(page.locator('input[name="deposit_type"][value="patent"]')).to_be_checked()
    shoot(page, tmp_path, "strains-facet-en")

    # a strain in the middle of the lineage: its pedigree shows ancestors and descendants
    page.goto(server + "/strains")
    middle = "CF-00002"
    lineage = api.get(f"/api/strains/{middle}/lineage").json()
    accessions = [n["accession"] for n in lineage["ancestors"] + lineage["descendants"]]
    assert len(lineage["descendants"]) >= 2
    page.locator(f'tr[data-accession="{middle}"] a.accession').click()
    page.wait_for_url(f"**/strains/{middle}")
    nodes = page.locator("svg.pedigree g.node")
    expect(nodes).to_have_count(len(accessions))
    for accession in accessions:
        expect(page.locator(f'svg.pedigree g.node[data-accession="{accession}"]')).to_have_count(1)
    expect(page.locator("svg.pedigree g.node.current")).to_have_attribute("data-accession", middle)
    expect(page.locator('svg.pedigree text.mod[data-to="CF-00002"]')).to_contain_text("ΔldhA")
    expect(page.locator("#samples tbody tr").first).to_be_visible()
    shoot(page, tmp_path, "strain-pedigree-en")

    # follow the pedigree down to the strain that carries plasmids
    carrier = next(
        n["accession"]
        for n in lineage["descendants"]
        if api.get(f"/api/strains/{n['accession']}").json()["plasmid_names"]
    )
    page.locator(f'svg.pedigree g.node[data-accession="{carrier}"]').click()
    page.wait_for_url(f"**/strains/{carrier}")
    strain = api.get(f"/api/strains/{carrier}").json()
    expect(page.locator("#plasmids svg.seqmap")).to_have_count(len(strain["plasmid_names"]))
    if strain["deposit"] and strain["deposit"]["keep_until"]:
        expect(page.locator(".keep-until")).to_have_text(strain["deposit"]["keep_until"])

    # a plasmid map with its feature table
    plasmid = strain["plasmid_names"][0]
    page.locator(f'article[data-plasmid="{plasmid}"] h3 a').click()
    page.wait_for_url(f"**/plasmids/{plasmid}")
    record = api.get(f"/api/plasmids/{plasmid}").json()
    drawn = [f for f in record["features"] if f["type"].lower() != "source"]
    expect(page.locator("svg.seqmap.circular g.feature")).to_have_count(len(drawn))
    expect(page.locator("table.features tbody tr")).to_have_count(len(drawn))
    expect(page.locator(f'a[href="/api/plasmids/{plasmid}.gb"]')).to_be_visible()
    shoot(page, tmp_path, "plasmid-map-en")

    # switch to Chinese: every page now speaks it, and the choice sticks
    page.locator('.langswitch a[data-lang="zh"]').click()
    page.wait_for_url("**lang=zh")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".mainnav")).to_contain_text("菌种")
    expect(page.locator("h2").first).to_have_text("序列图谱")
    page.get_by_role("link", name="菌种", exact=True).click()
    page.wait_for_url("**/strains")
    expect(page.locator("h1")).to_have_text("菌种")
    expect(page.locator('fieldset[data-facet="deposit_type"] legend')).to_have_text("保藏类型")
    page.goto(f"{server}/strains/{carrier}")
    expect(page.locator("#deposit h2")).to_have_text("保藏")
    expect(page.locator("#lineage h2")).to_have_text("谱系")
    shoot(page, tmp_path, "strain-pedigree-zh")

    # sequence search: the progress indicator shows while the API works, then the hit
    query = record["sequence"][500:800]
    page.get_by_role("link", name="序列搜索").click()
    page.wait_for_url("**/sequences/search")
    held: list[Any] = []
    page.route("**/api/sequences/search", lambda route: held.append(route))
    page.locator("#seq-query").fill(query)
    page.locator("#seq-search button[type=submit]").click()
    expect(page.locator("#seq-progress")).to_be_visible()
    expect(page.locator("#seq-progress progress")).to_be_visible()
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert held, "the page did not call the search API"
    held[0].continue_()
    hit = page.locator(f'#seq-hits tr[data-hit="{plasmid}"]')
    expect(hit).to_be_visible()
    expect(page.locator("#seq-progress")).to_be_hidden()
    expect(page.locator("#seq-hits tr").first).to_contain_text("质粒")
    expect(page.locator("#seq-count")).to_contain_text("命中数")
    page.unroute("**/api/sequences/search")
    shoot(page, tmp_path, "sequence-search-zh")

    assert problems.items == []


def test_import_with_upload_progress(
    server: str, browser_page: tuple[Any, Problems], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    fasta = tmp_path / "pE2E.fasta"
    fasta.write_text(">pE2E1 e2e upload\n" + "ACGTTGCA" * 400 + "\n", encoding="utf-8")
    page.goto(server + "/import?lang=zh")
    expect(page.locator("#import-progress")).to_be_hidden()
    page.locator("#import-file").set_input_files(str(fasta))
    expect(page.locator("#import-filename")).to_have_text("pE2E.fasta")
    page.locator("#import-kind").select_option("plasmid")
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#import-ok")).to_be_visible()
    expect(page.locator("#import-ok")).to_contain_text("pE2E.fasta")
    expect(page.locator("#import-progress")).to_be_hidden()
    shoot(page, tmp_path, "import-zh", full_page=False)

    # the same file again is refused, and the message names the file, record and field
    problems_before = len(problems.items)
    page.locator("#import-form button[type=submit]").click()
    expect(page.locator("#import-error")).to_be_visible()
    expect(page.locator("#import-error")).to_contain_text("pE2E.fasta")
    expect(page.locator("#import-error")).to_contain_text("pE2E1")
    expect(page.locator("#import-error")).to_contain_text("字段: name")
    # the refused upload is an expected 409 response, nothing else went wrong
    assert [p for p in problems.items[problems_before:] if "409" not in p] == []
    assert problems.items[:problems_before] == []
    page.goto(server + "/plasmids/pE2E1")
    expect(page.locator("h1")).to_contain_text("pE2E1")
