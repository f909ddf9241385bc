"""A strain built in a DBTL campaign shows the campaign and cycle it came from."""

from __future__ import annotations

import warnings
from pathlib import Path

from cellfoundry.api.app import create_app
from cellfoundry.bank.demo import demo_strains
from cellfoundry.bank.services import Bank

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_strain_page_names_its_campaign_and_cycle(tmp_path: Path) -> None:
    bank = Bank.open(f"sqlite:///{tmp_path / 'bank.db'}")
    try:
        bank.import_strains(demo_strains()[:1], actor="demo")
        bank.create_campaign(
            "lyc1",
            chassis="CF-00001",
            goal={"product": "lycopene"},
            design_space={"factors": {"promoter": ["J23100", "J23114"]}},
        )
        bank.add_cycle("lyc1", [{"promoter": "J23114"}], visibility="public")
        with TestClient(create_app(bank=bank)) as client:
            en = client.get("/strains/lyc1-C1-001?lang=en").text
            zh = client.get("/strains/lyc1-C1-001?lang=zh").text
            chassis = client.get("/strains/CF-00001?lang=en").text
        assert 'data-campaign="lyc1" data-cycle="1"' in en
        assert "Built in cycle 1 of campaign lyc1." in en
        assert "构建于项目 lyc1 的第 1 轮。" in zh
        assert "data-campaign=" not in chassis
    finally:
        bank.close()
