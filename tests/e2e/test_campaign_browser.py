"""End to end: a DBTL campaign's overview in the browser. The demo collection gets a campaign
on CF-00001 with two cycles measured by the DBTL simulator; the overview shows its progress
chart and plates, a curator presses "Recommend next" (the busy indicator shows) and the
recommendation table appears; the Chinese page draws the same chart. Any console error fails.

The fixtures (Chromium, the demo bank on uvicorn, the problem collector) are those of
``test_browser.py``, loaded from it so that all the files drive the same kind of browser.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cellfoundry.bank.services import Bank
from cellfoundry.campaigns import (
    PartStock,
    build_cycle,
    first_designs,
    import_performance,
    recommend_next,
)
from cellfoundry.testing.dbtl import DBTLSimulator, pathway_space

pytestmark = pytest.mark.e2e

NAME = "lyc-dbtl1"
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
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _browser_module() -> Any:
    name = "cellfoundry_e2e_test_browser"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("test_browser.py")
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_tb = _browser_module()
# the fixtures of test_browser.py, found by pytest under these names
sync_playwright = _tb.sync_playwright
demo_bank = _tb.demo_bank
server = _tb.server
browser_page = _tb.browser_page
sign_in = _tb.sign_in


def shoot(page: Any, tmp_path: Path, name: str) -> Path:
    """Screenshot the whole page to tmp_path and $CELLFOUNDRY_SCREENSHOT_DIR."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get("CELLFOUNDRY_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(extra) / path.name)
    assert path.stat().st_size > 5_000
    return path


def measure(bank: Bank, number: int, rng: np.random.Generator) -> None:
    rows = []
    for s in bank.campaign(NAME).cycles[number - 1].strains:
        titres = SIMULATOR.measure([s.design] * 3, rng)
        rows.append(
            {"strain": s.accession, "titre_g_l": float(np.mean(titres)),
             "titre_g_l_sd": float(np.std(titres, ddof=1)), "replicates": 3}
        )  # fmt: skip
    import_performance(bank, NAME, number, rows, source="hplc.csv")


@pytest.fixture(scope="module")
def campaign(demo_bank: Bank) -> str:
    """Two measured cycles; the second has no recommendations yet."""
    rng = np.random.default_rng(7)
    factors = {f.name: list(f.levels) for f in SPACE.factors}
    strengths = {
        f.name: dict(zip(f.levels, f.strengths, strict=True))
        for f in SPACE.factors
        if f.strengths is not None
    }
    created = demo_bank.create_campaign(
        NAME,
        chassis=CHASSIS,
        goal={"product": "lycopene", "titre_g_l": 40.0},
        design_space={"factors": factors, "strengths": strengths},
        actor="curator",
    )
    build_cycle(
        demo_bank, NAME, first_designs(created, 12, rng), parts=PARTS, backbone=BACKBONE,
        visibility="public",
    )  # fmt: skip
    measure(demo_bank, 1, rng)
    batch = recommend_next(demo_bank, NAME, n=8, rng=rng)
    build_cycle(
        demo_bank, NAME, list(batch.designs), parts=PARTS, backbone=BACKBONE, visibility="public"
    )
    measure(demo_bank, 2, rng)
    return NAME


def test_overview_chart_and_recommend_next(
    server: str, campaign: str, demo_bank: Bank, browser_page: tuple[Any, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    sign_in(page, server, "curator")
    page.goto(server + "/?lang=en")
    page.locator('.mainnav a[href="/campaigns"]').click()
    page.wait_for_url("**/campaigns")
    page.locator(f'tr[data-campaign="{campaign}"] a[href="/campaigns/{campaign}"]').click()
    page.wait_for_url(f"**/campaigns/{campaign}")
    expect(page.locator("h1")).to_have_text(campaign)

    stored = demo_bank.campaign(campaign)
    measured = sum(len(c.measured) for c in stored.cycles)
    chart = page.locator("#campaign-progress svg.campaign-progress")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.pt")).to_have_count(measured)
    expect(chart.locator("line.goal")).to_have_count(1)
    expect(chart.locator("polyline.best")).to_have_count(1)
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 400
    for cycle in stored.cycles:
        plate = page.locator(f"#cycle-{cycle.number} svg.plate")
        expect(plate).to_be_visible()
        expect(plate.locator("g.well.filled")).to_have_count(len(cycle.strains))
        expect(page.locator(f"#cycle-{cycle.number} tr.cycle-strain")).to_have_count(
            len(cycle.strains)
        )
    with page.expect_download() as download:
        page.locator('#cycle-1 a.worklist[data-kind="opentrons.py"]').click()
    assert download.value.suggested_filename == f"{campaign}-cycle1-opentrons.py"

    # no recommendation for the last cycle yet: press "Recommend next"
    expect(page.locator("#no-recommendations")).to_be_visible()
    page.locator("#recommend-n").fill("6")
    page.evaluate(
        """() => {
          sessionStorage.removeItem("busy");
          document.getElementById("recommend-form").addEventListener("submit", () =>
            setTimeout(() => {
              const shown = !document.getElementById("recommend-busy").hidden
                && document.getElementById("recommend-submit").disabled;
              sessionStorage.setItem("busy", shown ? "shown" : "not shown");
            }, 30));
        }"""
    )
    expect(page.locator("#recommend-submit")).to_have_text("Recommend next")
    page.locator("#recommend-submit").click()
    page.wait_for_url(f"**/campaigns/{campaign}#recommendations", timeout=120_000)
    assert page.evaluate("sessionStorage.getItem('busy')") == "shown"
    table = page.locator("#recommendation-table")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr.recommendation")).to_have_count(6)
    last = demo_bank.campaign(campaign).cycles[-1]
    assert len(last.recommendations) == 6
    first = table.locator("tbody tr.recommendation").first
    rec = last.recommendations[0]
    expect(first).to_contain_text(f"{rec['predicted']:.3f} ± {rec['sd']:.3f}")
    expect(page.locator("#importance .bar-row")).to_have_count(len(SPACE.names))
    page.locator("#campaign-progress").scroll_into_view_if_needed()
    path = shoot(page, tmp_path, "campaign-overview")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, DOCS_SCREENSHOTS / "campaign-overview.png")

    # the same page in Chinese
    page.goto(f"{server}/campaigns/{campaign}?lang=zh")
    expect(page.locator("#recommendations h2")).to_have_text("推荐的下一轮设计")
    expect(page.locator("#campaign-progress svg.campaign-progress circle.pt")).to_have_count(
        measured
    )
    expect(page.locator("#recommend-submit")).to_have_text("推荐下一轮")
    path = shoot(page, tmp_path, "campaign-overview-zh")
    shutil.copyfile(path, DOCS_SCREENSHOTS / "campaign-overview-zh.png")
    assert problems.items == []
