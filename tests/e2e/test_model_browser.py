"""End to end: metabolic analysis in the browser, FBA to flux map, FVA, production envelope,
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

from cellfoundry.bank.demo import DEMO_MODEL
from cellfoundry.bank.services import Bank
from cellfoundry.jobs import KINDS
from cellfoundry.jobs._kinds import Kind, jsonable_float

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

OBJECTIVE = "0.874"


def _envelope_job(spec: Any, params: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """The engine's production envelope as a job, for a job service without that kind."""
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


@pytest.fixture
def envelope_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    if "production_envelope" not in KINDS:
        monkeypatch.setitem(
            KINDS,
            "production_envelope",
            Kind(
                "production_envelope",
                _envelope_job,
                {"product": lambda _n, v: str(v), "points": lambda _n, v: int(v)},
            ),
        )


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
    assert path.stat().st_size > 10_000
    return path


def open_core_model(page: Any, server: str, bank: Bank) -> str:
    """Open e_coli_core from the model list (uploading it through the page if it is missing)."""
    from playwright.sync_api import expect

    page.goto(server + "/models?lang=en")
    expect(page.locator("h1")).to_have_text("Metabolic models")
    stored = page.locator('tr[data-filename="e_coli_core.json"] a.model-link')
    if stored.count() == 0:
        page.locator("#model-file").set_input_files(str(DEMO_MODEL))
        page.locator("#model-name").fill("E. coli core metabolism (e_coli_core)")
        page.locator("#model-upload-form button[type=submit]").click()
    else:
        stored.first.click()
    page.wait_for_url("**/models/*")
    expect(page.locator(".entry-head .badge").first).to_have_text("e_coli_core")
    return str(page.url.split("?")[0])


def run(page: Any, model_url: str, kind: str, **fields: str) -> None:
    """Choose an analysis on the model page, run it and wait until its result shows."""
    from playwright.sync_api import expect

    if page.url.split("?")[0] != model_url:
        page.goto(model_url)
    form = page.locator("#analysis-form")
    form.locator(f'input[name=kind][value="{kind}"]').check()
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        expect(field).to_be_visible()
        if name == "product":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("#analysis-submit").click()
    page.wait_for_url("**/jobs/*")
    # the progress bar follows the job through /api/jobs/{id}; the page then shows the result
    expect(page.locator("#job")).to_have_attribute("data-status", "done", timeout=120_000)
    bar = page.locator("#job-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max")
    expect(page.locator("#job-cancel")).to_have_count(0)


@pytest.mark.usefixtures("envelope_kind")
def test_fba_map_fva_and_envelope_in_both_languages(
    server: str, demo_bank: Bank, browser_page: tuple[Any, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page, problems = browser_page
    sign_in(page, server, "curator")
    model_url = open_core_model(page, server, demo_bank)
    shoot(page, tmp_path, "model-page-en")

    # FBA: the growth rate and the flux map
    run(page, model_url, "fba")
    expect(page.locator("h1")).to_have_text("Analysis: Flux balance analysis (FBA)")
    expect(page.locator("#objective-value")).to_have_text(OBJECTIVE)
    pgi = page.locator('svg.fluxmap g.rxn[data-reaction="PGI"]')
    expect(pgi).to_have_class("rxn active")
    assert float(pgi.get_attribute("data-flux") or "0") == pytest.approx(4.86, abs=0.01)
    stroke = pgi.locator("path").first
    assert float(stroke.get_attribute("stroke-width") or "0") > 2.0
    box = stroke.bounding_box()
    assert box is not None
    assert box["height"] > 20
    expect(page.locator('svg.fluxmap g.rxn[data-reaction="FBP"]')).to_have_class("rxn idle")
    expect(page.locator("#map-coverage")).to_have_attribute("data-drawn", "95")
    # the flux table sorts by |flux| and filters
    first = page.locator("#flux-table tbody tr").first
    expect(first).to_have_attribute("data-reaction", "ATPS4r")
    page.locator('#flux-table th[data-sort="text"]').first.click()
    expect(page.locator("#flux-table tbody tr").first).to_have_attribute("data-reaction", "ACONTa")
    page.locator('input[data-filter-for="flux-table"]').fill("PGI")
    expect(page.locator("#flux-table tbody tr:visible")).to_have_count(1)
    shoot(page, tmp_path, "model-fba-en")
    shoot(page, tmp_path, "model-flux-map-en", element="#flux-map")

    # FVA at 90 % of the optimum
    run(page, model_url, "fva", fraction="0.9")
    expect(page.locator("#range-table tbody tr")).to_have_count(95)
    expect(page.locator('#range-table tr[data-reaction="PGI"] td').nth(2)).not_to_have_text("0")
    shoot(page, tmp_path, "model-fva-en")

    # a production envelope of acetate, plotted with its computed points
    run(page, model_url, "production_envelope", product="EX_ac_e", points="12")
    plot = page.locator("#envelope svg.envelope")
    expect(plot).to_be_visible()
    expect(plot.locator("circle.pt.max")).to_have_count(12)
    expect(plot.locator("circle.pt.min")).to_have_count(12)
    expect(plot.locator("text.axis-label.x")).to_have_text("growth rate (1/h)")
    expect(plot.locator("text.axis-label.y")).to_have_text("EX_ac_e flux (mmol/gDW/h)")
    shoot(page, tmp_path, "model-envelope-en")

    # switch to Chinese: the job page, the model page and the list speak it
    page.locator('.langswitch a[data-lang="zh"]').click()
    page.wait_for_url("**lang=zh")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("分析：")
    page.goto(model_url)
    expect(page.locator("#analysis h2")).to_have_text("运行分析")
    expect(page.locator("#medium-heading")).to_have_text("培养基")
    expect(page.locator("#model-summary h2")).to_have_text("概要")
    shoot(page, tmp_path, "model-page-zh")
    run(page, model_url, "fba")
    expect(page.locator("h1")).to_have_text("分析：通量平衡分析（FBA）")
    expect(page.locator("#flux-map h2")).to_have_text("通量图")
    expect(page.locator("#fluxes h2")).to_have_text("通量")
    expect(page.locator('svg.fluxmap g.region[data-region="glycolysis"] text')).to_have_text(
        "糖酵解"
    )
    shoot(page, tmp_path, "model-fba-zh")
    page.goto(server + "/models")
    expect(page.locator("h1")).to_have_text("代谢模型")

    # the strain the model belongs to links to it
    linked = demo_bank.list_models()
    strains = [s for m in linked if m.filename == "e_coli_core.json" for s in m.strains]
    if strains:
        page.goto(f"{server}/strains/{strains[0]}")
        page.locator("#strain-model a").click()
        page.wait_for_url(model_url + "*")

    assert problems.items == []
