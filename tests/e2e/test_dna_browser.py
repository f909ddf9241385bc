"""End to end: DNA design in the browser on the demo collection. Guides for Mycoplasma genes
in Chinese with their gene maps, the editing plan of the demo's planned strain made from its
page, and a Golden Gate assembly diagram; any console error fails.

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

import pytest

from cellfoundry.bank.demo import DEMO_ACCEPTOR, DEMO_GENOME_STRAIN, DEMO_PLANNED_STRAIN
from cellfoundry.bank.services import Bank

pytestmark = pytest.mark.e2e

GENES = ("Ga0076475_116", "Ga0076475_1110", "Ga0076475_11214")


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


def watch_busy(page: Any, form: str, busy: str, button: str) -> None:
    """Note in sessionStorage whether the form shows its busy indicator once it is sent."""
    page.evaluate(
        """([form, busy, button]) => {
          sessionStorage.removeItem("busy");
          document.getElementById(form).addEventListener("submit", () => setTimeout(() => {
            const shown = !document.getElementById(busy).hidden
              && document.getElementById(button).disabled;
            sessionStorage.setItem("busy", shown ? "shown" : "not shown");
          }, 30));
        }""",
        [form, busy, button],
    )


def test_guides_in_chinese_with_gene_maps(
    server: str, demo_bank: Bank, browser_page: tuple[Any, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    sign_in(page, server, "curator", lang="zh")
    page.goto(server + "/?lang=zh")
    page.locator('.mainnav a[href="/dna"]').click()
    page.wait_for_url("**/dna")
    expect(page.locator("h1")).to_have_text("CRISPR 向导设计")
    # the strain chip fills the strain field with the demo's genome strain
    page.locator("#guide-strain").fill("")
    page.locator(f'.pick-strain[data-strain="{DEMO_GENOME_STRAIN}"]').click()
    expect(page.locator("#guide-strain")).to_have_value(DEMO_GENOME_STRAIN)
    page.locator("#guide-genes").fill("\n".join(GENES))
    page.locator("#guide-per-gene").fill("3")
    # the busy indicator shows while the form posts: noted in sessionStorage, which outlives
    # the page (Playwright waits for the next page before it looks again)
    watch_busy(page, "guide-form", "guide-busy", "guide-submit")
    page.locator("#guide-submit").click()
    expect(page.locator("#guide-results")).to_be_visible(timeout=60_000)
    rows = page.locator("#guide-table tbody tr")
    assert 3 <= rows.count() <= 9
    expect(page.locator("#guide-results h2")).to_have_text(f"{rows.count()} 条向导")
    expect(page.locator("#guide-table th").nth(2)).to_have_text("间隔序列")
    for gene in GENES:
        svg = page.locator(f"#map-{gene} svg.guide-map")
        expect(svg).to_be_visible()
        drawn = svg.locator("g.guide").count()
        assert drawn == page.locator(f'#guide-table tr[data-gene="{gene}"]').count()
        assert svg.locator("line.cut").count() == drawn
    spacer = rows.first.get_attribute("data-spacer")
    assert page.locator(f'svg.guide-map g.guide[data-spacer="{spacer}"]').count() == 1
    box = page.locator(f"#map-{GENES[0]} svg.guide-map").bounding_box()
    assert box is not None
    assert box["width"] > 600
    shoot(page, tmp_path, "dna-guides-zh")
    assert problems.items == []


def test_editing_plan_from_the_planned_strain_page(
    server: str, demo_bank: Bank, browser_page: tuple[Any, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    sign_in(page, server, "curator")
    page.goto(f"{server}/strains/{DEMO_PLANNED_STRAIN}?lang=en")
    expect(page.locator(".entry-head .status-planned")).to_be_visible()
    section = page.locator("#editing-plan")
    expect(section.locator("h2")).to_have_text("Editing plan")
    expect(section).to_have_attribute("data-planned", "no")
    watch_busy(page, "plan-form", "plan-busy", "plan-submit")
    page.locator("#plan-submit").click()
    page.wait_for_url(f"**/strains/{DEMO_PLANNED_STRAIN}?lang=en#editing-plan", timeout=120_000)
    assert page.evaluate("sessionStorage.getItem('busy')") == "shown"
    expect(section).to_have_attribute("data-planned", "yes")
    steps = section.locator("#plan-steps li")
    assert steps.count() >= 6
    expect(steps.first).to_have_attribute("data-action", "order")
    expect(section.locator('.plan-edit[data-kind="delete"] .check-pcr')).to_contain_text(
        "wild type"
    )
    expect(section.locator('.plan-edit[data-kind="knockdown"]')).to_have_count(1)
    expect(section.locator('.plan-edit[data-kind="integrate"]')).to_have_count(1)
    assert section.locator("#plan-oligos tbody tr").count() >= 6
    maps = section.locator(".plan-record svg.seqmap")
    assert maps.count() == section.locator(".plan-record").count() >= 2
    with page.expect_download() as download:
        page.locator("#plan-genbank").click()
    assert download.value.suggested_filename == f"{DEMO_PLANNED_STRAIN}-editing-plan.gb"
    with page.expect_download() as download:
        page.locator("#plan-sbol3").click()
    assert download.value.suggested_filename.endswith(".ttl")
    shoot(page, tmp_path, "dna-editing-plan-en", element="#editing-plan")
    # the same section in Chinese
    page.goto(f"{server}/strains/{DEMO_PLANNED_STRAIN}?lang=zh")
    expect(page.locator("#editing-plan h2")).to_have_text("编辑方案")
    expect(page.locator("#plan-submit")).to_have_text("重新生成方案")
    assert problems.items == []


def test_golden_gate_assembly_diagram(
    server: str, demo_bank: Bank, browser_page: tuple[Any, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    page.goto(server + "/dna?lang=en")
    page.locator('.dna-tabs a[href="/dna/assemble"]').click()
    page.wait_for_url("**/dna/assemble")
    expect(page.locator("h1")).to_have_text("Golden Gate assembly")
    page.locator("#assembly-parts").select_option(["pICH51277", "pICSL80014", "pICH41421"])
    page.locator("#assembly-backbone").select_option(DEMO_ACCEPTOR)
    page.locator("#assembly-name").fill("pL1-35S-YFP")
    page.locator("#assembly-submit").click()
    page.wait_for_url("**/dna/assemble?*")
    result = page.locator("#assembly-result")
    expect(result).to_be_visible()
    junctions = page.locator("#assembly-strip .strip-junction")
    assert [junctions.nth(i).get_attribute("data-overhang") for i in range(4)] == [
        "GGAG",
        "AATG",
        "GCTT",
        "CGCT",
    ]
    parts = page.locator("#assembly-strip .strip-part")
    assert [parts.nth(i).get_attribute("data-part") for i in range(4)] == [
        DEMO_ACCEPTOR,
        "pICH51277",
        "pICSL80014",
        "pICH41421",
    ]
    expect(page.locator("#assembly-fidelity")).to_have_text("100.0 %")
    expect(result.locator("svg.seqmap.circular")).to_be_visible()
    for name in ("pICH51277", "pICSL80014", "pICH41421"):
        assert result.locator(f'svg.seqmap [data-label="{name}"]').count() >= 1
    with page.expect_download() as download:
        page.locator("#assembly-download").click()
    assert download.value.suggested_filename == "pL1-35S-YFP.gb"
    shoot(page, tmp_path, "dna-assembly-en")
    # an overhang collision is refused, naming a part
    page.locator("#assembly-parts").select_option(
        ["pICH51277", "pICSL80014", "pICH75111", "pICH41421"]
    )
    with page.expect_response(lambda r: "/dna/assemble?" in r.url) as response:
        page.locator("#assembly-submit").click()
    assert response.value.status == 422
    error = page.locator("#assembly-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("overhang collision")
    assert error.get_attribute("data-record") in {"pICSL80014", "pICH75111"}
    # the expected 422 (and the console's note of it) is the refusal itself, not a problem
    assert [p for p in problems.items if "HTTP 422" not in p and "status of 422" not in p] == []
