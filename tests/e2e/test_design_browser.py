"""End to end: strain design in the browser. A pathway search for acetone on e_coli_core, its
progress, the comparison of designs with their envelope plots, saving one as a planned strain,
in English and Chinese; any console error fails.

The fixtures (Chromium, the demo bank on uvicorn, the problem collector) are those of
``test_browser.py``, loaded from it so that both files drive the same kind of browser.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from cellfoundry.bank.demo import DEMO_MODEL_STRAIN
from cellfoundry.bank.services import Bank

pytestmark = pytest.mark.e2e


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
Problems = _tb.Problems
sign_in = _tb.sign_in


def shoot(page: Any, tmp_path: Path, name: str, *, element: str | None = None) -> Path:
    """Screenshot the page (or one element) to tmp_path and $CELLFOUNDRY_SCREENSHOT_DIR."""
    path = tmp_path / f"{name}.png"
    if element:
        page.locator(element).screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    extra = os.environ.get("CELLFOUNDRY_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(extra) / path.name)
    assert path.stat().st_size > 5_000
    return path


def test_design_acetone_compare_and_save_a_planned_strain(
    server: str, demo_bank: Bank, browser_page: tuple[Any, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    sign_in(page, server, "curator")

    # the nav bar leads to the design page; the chassis is e_coli_core with its strain
    page.goto(server + "/?lang=en")
    page.locator('.mainnav a[href="/design"]').click()
    page.wait_for_url("**/design")
    expect(page.locator("h1")).to_have_text("Strain design")
    model = page.locator(f'#design-model option[data-strain="{DEMO_MODEL_STRAIN}"]')
    expect(model).to_have_count(1)
    page.locator("#design-model").select_option(model.get_attribute("value"))
    form = page.locator("#design-form")
    form.locator('input[name=kind][value="design_pathways"]').check()
    # the pathway search asks for a compound, not a product exchange
    expect(page.locator("#design-target")).to_be_visible()
    expect(page.locator("#design-product")).to_be_hidden()
    page.locator("#design-target").fill("acetone")
    page.locator("#design-k").fill("3")
    shoot(page, tmp_path, "design-form-en")
    page.locator("#design-submit").click()

    # the job page follows the search with a progress bar, then shows the designs
    page.wait_for_url("**/design/jobs/*")
    expect(page.locator("#job-bar")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Design: Pathway search")
    expect(page.locator("#job")).to_have_attribute("data-status", "done", timeout=240_000)
    bar = page.locator("#job-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max")
    rows = page.locator("#compare-table tbody tr")
    expect(rows.first).to_have_attribute("data-design", "1")
    count = rows.count()
    assert 1 <= count <= 3
    expect(page.locator(".design-card")).to_have_count(count)
    plot = page.locator("#design-1 svg.design-envelope")
    expect(plot).to_be_visible()
    expect(plot.locator("text.axis-label.x")).to_have_text("growth rate (1/h)")
    expect(plot.locator("text.axis-label.y")).to_have_text("DM_acetone_c flux (mmol/gDW/h)")
    assert plot.locator("circle.pt.max").count() >= 2
    box = plot.bounding_box()
    assert box is not None
    assert box["width"] > 300
    expect(page.locator('#design-1 .pathway-reactions li[data-reaction="ADCi"]')).to_contain_text(
        "acac_c + h_c --> acetone_c + co2_c"
    )
    expect(page.locator('#design-1 tr[data-kind="insert"]').first).to_be_visible()
    parent = page.locator('#save-1 input[name="parent_accession"]')
    expect(parent).to_have_value(DEMO_MODEL_STRAIN)
    # the comparison sorts by a column
    page.locator("#compare-table th").nth(7).click()
    shoot(page, tmp_path, "design-results-en")
    shoot(page, tmp_path, "design-card-en", element="#design-1")
    job_url = page.url.split("?")[0]

    # the same page in Chinese
    page.locator('.langswitch a[data-lang="zh"]').click()
    page.wait_for_url("**lang=zh")
    expect(page.locator("h1")).to_have_text("设计：合成途径搜索")
    expect(page.locator("#design-compare h2")).to_have_text("方案对比")
    expect(page.locator("#design-1 svg.design-envelope text.axis-label.x")).to_have_text(
        "比生长速率（1/h）"
    )
    shoot(page, tmp_path, "design-results-zh")
    page.goto(server + "/design")
    expect(page.locator("h1")).to_have_text("菌株设计")
    expect(page.locator(f'#design-jobs a[href="{job_url.removeprefix(server)}"]')).to_have_count(1)
    shoot(page, tmp_path, "design-form-zh")

    # save the first design; land on the planned strain with its design section
    page.goto(job_url + "?lang=en")
    save = page.locator("#save-1")
    save.locator('select[name="visibility"]').select_option("group")
    save.locator('button[type="submit"]').click()
    page.wait_for_url(f"**/strains/{DEMO_MODEL_STRAIN}-D*")
    expect(page.locator(".entry-head .status-planned")).to_be_visible()
    section = page.locator("#design")
    expect(section.locator("h2")).to_have_text("Design")
    expect(section).to_contain_text("Heterologous pathway")
    expect(section).to_contain_text("DM_acetone_c")
    with page.expect_download() as download:
        page.locator("#design-download").click()
    assert download.value.suggested_filename.endswith("-design.json")
    shoot(page, tmp_path, "design-planned-strain-en")
    accession = page.url.split("?")[0].rsplit("/", 1)[1]
    design = page.request.get(f"{server}/strains/{accession}/design.json")
    assert design.ok
    assert design.json()["method"] == "pathway"
    assert design.json()["product"] == "DM_acetone_c"

    assert problems.items == []


def test_design_knockouts_in_the_browser(
    server: str, demo_bank: Bank, browser_page: tuple[Any, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    sign_in(page, server, "curator")
    page.goto(server + "/design?lang=en")
    model = page.locator(f'#design-model option[data-strain="{DEMO_MODEL_STRAIN}"]')
    page.locator("#design-model").select_option(model.get_attribute("value"))
    form = page.locator("#design-form")
    form.locator('input[name=kind][value="design_knockouts"]').check()
    # a knock-out search asks for the product's exchange reaction, not a compound
    expect(page.locator("#design-product")).to_be_visible()
    expect(page.locator("#design-target")).to_be_hidden()
    page.locator("#design-product").fill("EX_ac_e")
    page.locator("#design-k").fill("2")
    page.locator("#design-max-knockouts").fill("2")
    page.locator("#design-submit").click()
    page.wait_for_url("**/design/jobs/*")
    expect(page.locator("#job")).to_have_attribute("data-status", "done", timeout=240_000)
    expect(page.locator(".design-card").first).to_be_visible()
    # OptKnock's designs are gene deletions, each with the reactions it disables
    expect(page.locator('#design-1 tr[data-kind="delete"]').first).to_be_visible()
    expect(page.locator("#design-1 svg.design-envelope")).to_be_visible()
    shoot(page, tmp_path, "design-knockouts-en")
    assert problems.items == []
