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
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        need(False, "the playwright package is not installed")
    # a busy 2-core machine can take longer than Playwright's 5 s default for a page
    expect.set_options(timeout=20_000)
    return sync_playwright


@pytest.fixture(scope="module")
def demo_bank(tmp_path_factory: pytest.TempPathFactory, sync_playwright: Any) -> Iterator[Bank]:
    """The demo collection (with its demo accounts) in a SQLite file."""
    from cellfoundry.bank.demo import load_demo

    need(SHARED_DATA.is_dir(), f"the shared data folder {SHARED_DATA} is missing")
    bank = Bank.open("sqlite:///" + str(tmp_path_factory.mktemp("e2e") / "demo.db"))
    load_demo(bank, SHARED_DATA, actor="demo")
    yield bank
    bank.close()


@pytest.fixture(scope="module")
def server(demo_bank: Bank) -> Iterator[str]:
    """The app on the demo collection, served by uvicorn on a free loopback port."""
    import uvicorn

    bank = demo_bank
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


@pytest.fixture
def api(server: str, demo_bank: Bank) -> Iterator[httpx.Client]:
    """The HTTP API as the demo curator (who sees what the curator's browser sees)."""
    token = demo_bank.issue_token("curator", name="e2e", actor="e2e").secret
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, timeout=30, headers=headers) as client:
        yield client


def sign_in(page: Any, server: str, username: str, *, lang: str = "en") -> None:
    """Sign in through the login page, as a person would."""
    from playwright.sync_api import expect

    from cellfoundry.bank.demo import DEMO_PASSWORD

    page.goto(f"{server}/login?lang={lang}")
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(DEMO_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator(f'.usermenu[data-user="{username}"]')).to_be_visible()


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
        # net::ERR_ABORTED is the browser cancelling a request because the page navigated
        # away (a favicon still loading when a test clicks on); every other failure counts
        page.on(
            "requestfailed",
            lambda req: (
                self.items.append(f"request failed: {req.url} {req.failure}")
                if req.failure != "net::ERR_ABORTED"
                else None
            ),
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
    sign_in(page, server, "curator")
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
    sign_in(page, server, "curator", lang="zh")
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


def new_page(browser: Any, problems: Problems, lang: str) -> Any:
    """A fresh browser context (its own cookies): one person at one desk."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        locale="zh-CN" if lang == "zh" else "en-US",
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems.watch(page)
    return page


def test_request_approval_release_inbox_fees_and_audit(
    server: str, sync_playwright: Any, tmp_path: Path
) -> None:
    """The sharing pages end to end: a member asks, the curator decides and ships under a
    licence with a fee, releases the secret patent deposit, the depositor is told in the
    inbox and issues a viability statement; fees and the audit trail show it all; half of it
    in Chinese, half in English."""
    from playwright.sync_api import expect

    problems = Problems()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            # the member, in Chinese, requests the MG1655 wild type
            member = new_page(browser, problems, "zh")
            sign_in(member, server, "li.lab", lang="zh")
            expect(member.locator("h1")).not_to_be_empty()
            member.goto(server + "/strains/CF-00001")
            expect(member.locator("#access h2")).to_have_text("访问与共享")
            member.locator("#request-form input[name=vials]").fill("3")
            member.locator("#request-form input[name=purpose]").fill("琥珀酸产量对比")
            member.locator("#request-form button[type=submit]").click()
            member.wait_for_url("**/requests")
            expect(member.locator("h1")).to_have_text("材料申请")
            mine = member.locator('tr[data-status="pending"]').filter(has_text="琥珀酸产量对比")
            expect(mine).to_have_count(1)
            request_id = mine.get_attribute("data-request")
            # the secret patent deposit does not show in the member's search
            member.goto(server + "/strains?q=CF-00006")
            expect(member.locator(".result-count")).to_have_attribute("data-total", "0")
            shoot(member, tmp_path, "requests-member-zh")

            # the curator, in English, approves under a commercial licence and ships
            curator = new_page(browser, problems, "en")
            sign_in(curator, server, "curator")
            curator.goto(server + "/requests?lang=en")
            row = curator.locator(f"#request-{request_id}")
            expect(row).to_have_attribute("data-status", "pending")
            row.locator("select[name=licence]").select_option("commercial licence")
            row.locator("input[name=fee]").fill("1200.50")
            row.get_by_role("button", name="Approve").click()
            row = curator.locator(f"#request-{request_id}")
            expect(row).to_have_attribute("data-status", "approved")
            row.locator("input[name=sample]").fill("CF-00001-L1")
            row.get_by_role("button", name="Ship").click()
            expect(curator.locator(f"#request-{request_id}")).to_have_attribute(
                "data-status", "shipped"
            )
            shoot(curator, tmp_path, "requests-curator-en")

            # ... and releases the patent deposit to the member on a patent office's certificate
            curator.goto(server + "/strains/CF-00006#access")
            expect(curator.locator("#access .badge.vis-private").first).to_have_text("Private")
            form = curator.locator("#release-form")
            form.locator("input[name=grantee]").fill("li.lab")
            form.locator("select[name=basis]").select_option("patent office certification")
            form.locator("input[name=reference]").fill("CNIPA 2026-0042")
            form.locator("button[type=submit]").click()
            expect(curator.locator('#access tr[data-grantee="li.lab"]')).to_contain_text(
                "Patent office certification"
            )

            # fees: the member's organisation owes 1,200.50 CNY; the CSV downloads
            curator.goto(server + "/fees?lang=en")
            account = curator.locator('tr[data-organisation="Tsinghua University"]')
            expect(account.locator("td[data-cents]")).to_have_attribute("data-cents", "120050")
            with curator.expect_download() as download:
                account.get_by_role("link").click()
            csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
            assert "commercial licence,1200.50,CNY,shipped" in csv_text
            shoot(curator, tmp_path, "fees-en")
            curator.goto(server + "/fees?lang=zh")
            expect(curator.locator("h1")).to_have_text("许可与费用")
            expect(curator.locator("table.licences")).to_contain_text("商业许可")

            # the audit browser, in Chinese: the chain holds and the release is there
            curator.goto(server + "/audit?lang=zh&action=release")
            expect(curator.locator("#chain")).to_have_attribute("data-ok", "true")
            expect(curator.locator(".chain-ok")).to_contain_text("哈希链完整")
            expect(curator.locator('tr[data-action="release"]')).to_have_count(1)
            expect(curator.locator('tr[data-action="release"]')).to_contain_text("li.lab")
            shoot(curator, tmp_path, "audit-zh")
            curator.goto(server + "/audit?lang=en&action=read")
            expect(curator.locator('tr[data-action="read"]').first).to_contain_text("curator")

            # the depositor sees the release in the inbox and prints a viability statement
            depositor = new_page(browser, problems, "zh")
            sign_in(depositor, server, "zhang.depositor", lang="zh")
            expect(depositor.locator(".usermenu .unread")).to_be_visible()
            depositor.locator(".inbox-link").click()
            depositor.wait_for_url("**/inbox")
            expect(depositor.locator('tr[data-note="release"]')).to_contain_text("li.lab")
            expect(depositor.locator('tr[data-note="release"]')).to_contain_text("专利局证明")
            shoot(depositor, tmp_path, "inbox-zh")
            depositor.goto(server + "/strains/CF-00006/statement?lang=en")
            expect(depositor.locator("#viability-statement h1")).to_have_text("Viability statement")
            expect(depositor.locator("#viability-statement")).to_contain_text("CF-00006")
            expect(depositor.locator("#statement-result")).to_have_attribute("data-viable", "true")
            expect(depositor.locator("#viability-statement")).to_contain_text("1.1e+09")
            depositor.emulate_media(media="print")
            expect(depositor.locator(".topbar")).to_be_hidden()
            shoot(depositor, tmp_path, "statement-print-en")

            # the member now sees the deposit, and the decision and shipment in the inbox
            member.goto(server + "/strains/CF-00006?lang=en")
            expect(member.locator("h1 .accession")).to_have_text("CF-00006")
            member.goto(server + "/inbox?lang=en")
            expect(member.locator('tr[data-note="request"]')).to_have_count(2)
            expect(member.locator('tr[data-note="access"]')).to_contain_text("CF-00006")
            shoot(member, tmp_path, "inbox-member-en")

            # signing out ends the session: the audit trail asks for a sign-in again
            curator.goto(server + "/")
            curator.locator(".usermenu form button[type=submit]").click()
            curator.goto(server + "/audit")
            curator.wait_for_url("**/login?next=%2Faudit")
        finally:
            browser.close()
    assert problems.items == []
