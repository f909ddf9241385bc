"""FSEOF (Choi et al. 2010, Appl Environ Microbiol 76:3097): flux scanning with enforced product.

Known targets for succinate in E. coli without oxygen: the reductive branch of the TCA cycle
from phosphoenolpyruvate, PEP carboxylase (PPC), malate dehydrogenase (MDH), fumarase (FUM)
and fumarate reductase, must carry more flux as succinate rises; PPC overexpression raised
succinate in E. coli (Millard et al. 1996, Appl Environ Microbiol 62:1808), and the competing
fermentation routes (pyruvate formate-lyase, alcohol dehydrogenase) are what the knock-out
designs of Sánchez et al. 2005 (Metab Eng 7:229) remove. Each step's growth is checked against
COBRApy with the product fixed at the enforced flux.
"""

from __future__ import annotations

import math

import cobra
import numpy as np
import pytest

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism import ModelSpec, load_model
from cellfoundry.metabolism.design import StrainDesign
from cellfoundry.metabolism.design.fseof import FseofResult, fseof


@pytest.fixture(scope="module")
def core_cobra() -> cobra.Model:
    model = cobra.io.load_model("textbook")
    model.reactions.EX_o2_e.lower_bound = 0.0
    return model


@pytest.fixture(scope="module")
def core(core_cobra: cobra.Model) -> ModelSpec:
    return load_model(core_cobra)


@pytest.fixture(scope="module")
def scan(core: ModelSpec) -> FseofResult:
    return fseof(core, "EX_succ_e", steps=10)


def test_succinate_scan_finds_the_reductive_tca_branch(scan: FseofResult) -> None:
    up = {t.reaction for t in scan.overexpression}
    assert {"PPC", "MDH", "FUM", "FRD7"} <= up
    down = {t.reaction for t in scan.knockdown}
    assert {"PFL", "ALCD2x", "ACALD"} <= down
    ppc = next(t for t in scan.overexpression if t.reaction == "PPC")
    assert ppc.fold_change > 10  # PEP carboxylation carries most of the succinate carbon
    assert "b3956" in ppc.genes  # ppc


def test_targets_follow_the_enforced_flux_monotonically(scan: FseofResult) -> None:
    assert len(scan.enforced) == 10
    assert np.all(np.diff(scan.enforced) > 0)
    assert np.all(np.diff(scan.growth) <= 1e-9)  # more product, less growth
    for target in scan.targets:
        flux = np.abs(scan.fluxes.loc[target.reaction].to_numpy())
        steps = np.diff(flux)
        if target.kind == "overexpress":
            assert np.all(steps >= -1e-6)
            assert flux[-1] > flux[0]
        else:
            assert np.all(steps <= 1e-6)
            assert flux[-1] < flux[0]
    folds = [t.fold_change for t in scan.overexpression]
    assert folds == sorted(folds, reverse=True)


def test_each_step_grows_as_cobrapy_says(core_cobra: cobra.Model, scan: FseofResult) -> None:
    for level, growth in zip(scan.enforced, scan.growth, strict=True):
        with core_cobra:
            core_cobra.reactions.EX_succ_e.bounds = (level, level)
            assert growth == pytest.approx(core_cobra.slim_optimize(), abs=1e-6)


def test_scan_converts_to_a_design(scan: FseofResult) -> None:
    design = scan.to_design()
    assert isinstance(design, StrainDesign)
    assert design.method == "fseof"
    kinds = {m.kind for m in design.modifications}
    assert kinds <= {"overexpress", "knockdown"}
    ppc = next(m for m in design.modifications if m.gene == "b3956")
    assert ppc.kind == "overexpress"
    assert "PPC" in ppc.reactions
    for m in design.modifications:
        if m.kind == "overexpress":
            assert math.isnan(m.factor) or m.factor > 1
        else:
            assert m.factor < 1
    assert all(m.gene != "s0001" for m in design.modifications)
    assert StrainDesign.from_dict(design.to_dict()).label() == design.label()


def test_fseof_rejects_bad_arguments(core: ModelSpec) -> None:
    with pytest.raises(ValidationError, match="steps must be a whole number"):
        fseof(core, "EX_succ_e", steps=1)
    with pytest.raises(ValidationError, match="max_fraction"):
        fseof(core, "EX_succ_e", max_fraction=1.5)
    with pytest.raises(ValidationError, match="no reaction 'EX_nothing'"):
        fseof(core, "EX_nothing")


def test_ijo1366_succinate_targets() -> None:
    ijo = load_model(cobra.io.load_model("iJO1366")).with_bounds({"EX_o2_e": (0.0, 1000.0)})
    result = fseof(ijo, "EX_succ_e", steps=6)
    up = {t.reaction for t in result.overexpression}
    assert {"PPC", "FUM"} <= up
    assert up & {"FRD2", "FRD3"}
    assert len(scan_limited := result.to_design(max_targets=5).modifications) > 0
    assert all(m.kind in {"overexpress", "knockdown"} for m in scan_limited)
