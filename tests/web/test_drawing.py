"""The SVG drawings: pedigree trees and sequence maps."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from cellfoundry.bank.models import Modification
from cellfoundry.bank.views import Lineage, LineageNode
from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord
from cellfoundry.web.drawing import (
    feature_colour,
    feature_key,
    pedigree_svg,
    plasmid_map_svg,
    short_modification,
)

SVG = "{http://www.w3.org/2000/svg}"


def node(acc: str, parent: str | None, depth: int, *mods: Modification) -> LineageNode:
    return LineageNode(acc, "Escherichia coli K-12 MG1655", parent, depth, tuple(mods), "available")


def lineage() -> Lineage:
    return Lineage(
        "CF-2",
        (node("CF-1", None, 0), node("CF-2", "CF-1", 1, Modification("deletion", "ldhA"))),
        (
            node("CF-3", "CF-2", 2, Modification("plasmid transformation", "pUC19")),
            node(
                "CF-4",
                "CF-2",
                2,
                Modification("point mutation", "rpoB H526Y"),
                Modification("insertion", "pta::kan"),
            ),
            node("CF-5", "CF-3", 3, Modification("adaptive evolution")),
        ),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def boxes(root: ET.Element) -> dict[str, tuple[float, float]]:
    out = {}
    for group in root.iter(f"{SVG}g"):
        if "node" in group.get("class", "").split():
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            out[group.get("data-accession", "")] = (
                float(rect.get("x", 0)),
                float(rect.get("y", 0)),
            )
    return out


def test_pedigree_has_every_strain_as_a_linked_node() -> None:
    root = parse(pedigree_svg(lineage()))
    placed = boxes(root)
    assert set(placed) == {"CF-1", "CF-2", "CF-3", "CF-4", "CF-5"}
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert sorted(links) == [f"/strains/CF-{i}" for i in range(1, 6)]
    current = [g for g in root.iter(f"{SVG}g") if "current" in g.get("class", "")]
    assert [g.get("data-accession") for g in current] == ["CF-2"]


def test_pedigree_is_top_down_with_children_side_by_side() -> None:
    placed = boxes(parse(pedigree_svg(lineage())))
    assert placed["CF-1"][1] < placed["CF-2"][1] < placed["CF-3"][1] < placed["CF-5"][1]
    assert placed["CF-3"][1] == placed["CF-4"][1]
    assert placed["CF-3"][0] != placed["CF-4"][0]
    parent_x = placed["CF-2"][0]
    assert (
        min(placed["CF-3"][0], placed["CF-4"][0])
        <= parent_x
        <= max(placed["CF-3"][0], placed["CF-4"][0])
    )


def test_pedigree_edges_carry_modification_labels() -> None:
    root = parse(pedigree_svg(lineage(), kind_label=str.upper))
    edges = {(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG}path")}
    assert edges == {("CF-1", "CF-2"), ("CF-2", "CF-3"), ("CF-2", "CF-4"), ("CF-3", "CF-5")}
    labels = {
        t.get("data-to"): "".join(span.text or "" for span in t.iter(f"{SVG}tspan"))
        for t in root.iter(f"{SVG}text")
        if t.get("class") == "mod"
    }
    assert labels == {
        "CF-2": "ΔldhA",
        "CF-3": "[pUC19]",
        "CF-4": "rpoB H526Y, pta::kan",
        "CF-5": "ADAPTIVE EVOLUTION",
    }
    tooltips = [
        t.findtext(f"{SVG}title") for t in root.iter(f"{SVG}text") if t.get("class") == "mod"
    ]
    assert "POINT MUTATION rpoB H526Y; INSERTION pta::kan" in tooltips


def test_pedigree_escapes_data() -> None:
    evil = Lineage(
        "A<1>",
        (LineageNode("A<1>", 'Bad "taxon" & <script>', None, 0, (), "available"),),
        (),
    )
    svg = pedigree_svg(evil, href=lambda acc: f"/strains/{acc}?x=1&y=2")
    assert "<script>" not in svg
    root = parse(svg)  # well-formed XML
    assert boxes(root).keys() == {"A<1>"}
    assert 'href="/strains/A&lt;1&gt;?x=1&amp;y=2"' in svg


def test_pedigree_lays_out_wide_trees_without_overlap() -> None:
    kids = tuple(node(f"K-{i}", "R", 1, Modification("deletion", f"gene{i}")) for i in range(12))
    placed = boxes(parse(pedigree_svg(Lineage("R", (node("R", None, 0),), kids))))
    xs = sorted(x for acc, (x, _) in placed.items() if acc != "R")
    assert all(b - a >= 176 for a, b in itertools.pairwise(xs))


def test_short_modification_notation() -> None:
    assert short_modification(Modification("deletion", "ΔadhE")) == "ΔadhE"
    assert short_modification(Modification("insertion", "ldhA::pdc")) == "ldhA::pdc"
    assert short_modification(Modification("insertion", "gfp")) == "+gfp"
    assert short_modification(Modification("replacement", "promoter P1")) == "promoter P1"


PLASMID = SequenceRecord(
    "pTest",
    "ACGT" * 1000,
    "circular",
    features=(
        Feature("source", (FeatureSpan(0, 4000, 1),)),
        Feature("CDS", (FeatureSpan(100, 900, 1),), (("label", "bla"),)),
        Feature("promoter", (FeatureSpan(50, 99, 1),), (("gene", "Pbla"),)),
        Feature("Replication_ori", (FeatureSpan(2000, 2600, -1),), (("label", "ori"),)),
        Feature("CDS", (FeatureSpan(400, 700, -1),), (("label", "overlap & <x>"),)),
        Feature("misc_feature", (FeatureSpan(3900, 4000, 1), FeatureSpan(0, 30, 1))),
    ),
)


def features(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "feature"]


def test_circular_map_draws_every_feature_but_source() -> None:
    svg = plasmid_map_svg(PLASMID, type_label=lambda t: f"T:{t}", title="map")
    root = parse(svg)
    assert "circular" in root.get("class", "")
    assert root.get("data-length") == "4000"
    labels = sorted(g.get("data-label", "") for g in features(root))
    assert labels == ["Pbla", "bla", "misc_feature", "ori", "overlap & <x>"]
    cds = next(g for g in features(root) if g.get("data-label") == "bla")
    path = cds.find(f"{SVG}path")
    assert path is not None
    assert path.get("fill") == feature_colour("CDS")
    assert "T:CDS" in (cds.findtext(f"{SVG}title") or "")
    assert "101..900" in (cds.findtext(f"{SVG}title") or "")
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "4,000 bp" in texts
    assert "pTest" in texts
    assert {"0", "500", "1,000", "3,500"} <= set(texts), "a bp scale"
    assert "T:Replication_ori" in texts, "legend names each type shown"
    assert "overlap & <x>" in texts, "label drawn (escaped in the SVG text)"
    assert "&lt;x&gt;" in svg


def test_circular_map_stacks_overlapping_features_in_lanes() -> None:
    root = parse(plasmid_map_svg(PLASMID))
    radii = {}
    for g in features(root):
        path = g.find(f"{SVG}path")
        assert path is not None
        first_arc = re.search(r"A([\d.]+),", path.get("d", ""))
        assert first_arc is not None
        radii[g.get("data-label")] = float(first_arc.group(1))
    assert radii["bla"] != radii["overlap & <x>"], "overlapping features get their own lane"
    assert radii["bla"] == radii["ori"], "disjoint features share the outer lane"


def test_feature_across_the_origin_is_one_short_arc() -> None:
    root = parse(plasmid_map_svg(PLASMID))
    (arc,) = [g for g in features(root) if g.get("data-label") == "misc_feature"]
    path = arc.find(f"{SVG}path")
    assert path is not None
    flags = re.findall(r"A[\d.]+,[\d.]+ 0 (\d) ", path.get("d", ""))
    assert flags, "the band has arcs"
    assert set(flags) == {"0"}, "130 bp across the origin, not the long way round"


def test_labels_do_not_overlap() -> None:
    many = tuple(
        Feature("CDS", (FeatureSpan(i * 40, i * 40 + 30, 1),), (("label", f"gene{i}"),))
        for i in range(40)
    )
    root = parse(plasmid_map_svg(SequenceRecord("pMany", "A" * 2000, "circular", features=many)))
    for anchor in ("start", "end"):
        ys = sorted(
            float(t.get("y", 0))
            for t in root.iter(f"{SVG}text")
            if t.get("class") == "flabel" and t.get("text-anchor") == anchor
        )
        assert len(ys) > 5
        assert all(b - a >= 13.9 for a, b in itertools.pairwise(ys))
    height = float(root.get("height", 0))
    assert all(0 < float(t.get("y", 0)) < height for t in root.iter(f"{SVG}text"))


def test_linear_map_for_linear_records() -> None:
    record = SequenceRecord(
        "BBa_J23100",
        "TTGACGGCTAGCTCAGTCCTAGGTACAGTGCTAGC",
        "linear",
        features=(Feature("promoter", (FeatureSpan(0, 35, 1),), (("label", "J23100"),)),),
    )
    root = parse(plasmid_map_svg(record))
    assert "linear" in root.get("class", "")
    assert [g.get("data-label") for g in features(root)] == ["J23100"]
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "35 bp" in texts


def test_linear_map_stacks_features_and_labels() -> None:
    record = SequenceRecord(
        "lin",
        "A" * 1000,
        features=tuple(
            Feature("CDS", (FeatureSpan(i * 10, i * 10 + 300, 1),), (("label", f"g{i}"),))
            for i in range(5)
        ),
    )
    root = parse(plasmid_map_svg(record))
    ys = {
        float(re.findall(r"[\d.]+", (g.find(f"{SVG}path").get("d") or ""))[1])  # type: ignore[union-attr]
        for g in features(root)
    }
    assert len(ys) == 5


def test_empty_record_still_draws() -> None:
    root = parse(plasmid_map_svg(SequenceRecord("empty", "", "circular")))
    assert features(root) == []


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("CDS", "cds"),
        ("Misc._Feature", "miscfeature"),
        ("MIsc._Feature", "miscfeature"),
        ("Replication_ori", "reporigin"),
        ("rep_origin", "reporigin"),
        ("5'_UTR", "5utr"),
        ("ribosome_binding_site", "rbs"),
    ],
)
def test_feature_types_are_recognised_however_spelt(written: str, key: str) -> None:
    assert feature_key(written) == key
