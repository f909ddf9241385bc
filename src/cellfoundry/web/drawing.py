"""SVG drawings for the pages: a strain's pedigree, a plasmid's map, a design's envelope.

Pure functions from bank views to SVG text; every piece of data is escaped.
Words the drawings show come from the data or through the ``*_label``
callables, so the pages can translate them.

Examples
--------
>>> from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord
>>> rec = SequenceRecord(
...     "pDemo", "ACGT" * 500, "circular",
...     features=(Feature("CDS", (FeatureSpan(100, 900, 1),), (("label", "bla"),)),),
... )
>>> svg = plasmid_map_svg(rec)
>>> svg.startswith("<svg") and 'data-label="bla"' in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Final

from cellfoundry.bank.models import Modification
from cellfoundry.bank.views import Lineage, LineageNode
from cellfoundry.core.sequence import Feature, SequenceRecord

__all__ = [
    "FEATURE_ALIASES",
    "FEATURE_COLOURS",
    "design_envelope_svg",
    "feature_colour",
    "feature_key",
    "guide_map_svg",
    "pedigree_svg",
    "plasmid_map_svg",
    "short_modification",
]

#: Fill colours of feature kinds (see :func:`feature_key`).
FEATURE_COLOURS: Final[dict[str, str]] = {
    "cds": "#4e79a7",
    "gene": "#9bb7d4",
    "mrna": "#a0cbe8",
    "exon": "#a0cbe8",
    "intron": "#d3dce6",
    "promoter": "#59a14f",
    "tatabox": "#8cd17d",
    "caatbox": "#8cd17d",
    "enhancer": "#8cd17d",
    "regulatory": "#8cd17d",
    "terminator": "#e15759",
    "polyasignal": "#ff9d9a",
    "rbs": "#b07aa1",
    "5utr": "#d4a6c8",
    "3utr": "#d4a6c8",
    "reporigin": "#f28e2b",
    "orit": "#ffbe7d",
    "primerbind": "#9c9c9c",
    "primer": "#9c9c9c",
    "proteinbind": "#76b7b2",
    "miscbinding": "#76b7b2",
    "operator": "#76b7b2",
    "miscrecomb": "#d37295",
    "goldengatepar": "#d37295",
    "sigpeptide": "#edc948",
    "transitpeptide": "#edc948",
    "matpeptide": "#edc948",
    "mutation": "#e15759",
    "variation": "#e15759",
    "repeatregion": "#b6992d",
    "mobileelement": "#79706e",
    "ncrna": "#86bcb6",
    "miscfeature": "#bab0ac",
}
#: Spellings of the same feature kind found in real GenBank files.
FEATURE_ALIASES: Final[dict[str, str]] = {
    "replicationori": "reporigin",
    "origin": "reporigin",
    "ori": "reporigin",
    "originofreplication": "reporigin",
    "ribosomebindingsite": "rbs",
    "signalpeptide": "sigpeptide",
    "primerbindingsite": "primerbind",
    "5utr": "5utr",
    "fiveprimeutr": "5utr",
    "threeprimeutr": "3utr",
    "engineeredregion": "miscfeature",
}
_OTHER_COLOUR: Final = "#c7c7c7"

Href = Callable[[str], str]
Label = Callable[[str], str]


def _identity(text: str) -> str:
    return text


def feature_key(feature_type: str) -> str:
    """Return the kind of a feature type, however a file spells it.

    Examples
    --------
    >>> feature_key("Misc._Feature"), feature_key("Replication_ori"), feature_key("5'_UTR")
    ('miscfeature', 'reporigin', '5utr')
    """
    key = "".join(ch for ch in feature_type.lower() if ch.isalnum())
    return FEATURE_ALIASES.get(key, key)


def feature_colour(feature_type: str) -> str:
    """Return the fill colour of a feature type.

    Examples
    --------
    >>> feature_colour("CDS")
    '#4e79a7'
    """
    return FEATURE_COLOURS.get(feature_key(feature_type), _OTHER_COLOUR)


def _text_width(text: str, size: float) -> float:
    """Estimate the rendered width of ``text`` in a sans-serif font of ``size`` px."""
    width = 0.0
    for ch in text:
        if ord(ch) >= 0x2E80:
            width += 1.0
        elif ch in "il.,:;|!'[]()":
            width += 0.3
        elif ch.isupper() or ch in "mwMW":
            width += 0.68
        else:
            width += 0.55
    return width * size


def _fit(text: str, size: float, max_width: float) -> str:
    """Shorten ``text`` with an ellipsis until it fits ``max_width``."""
    if _text_width(text, size) <= max_width:
        return text
    while text and _text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


def _a(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# -----------------------------------------------------------------------------------------------
# Pedigree


def short_modification(mod: Modification, kind_label: Label = _identity) -> str:
    """Return the compact genetic notation of a modification, for an edge label.

    Examples
    --------
    >>> short_modification(Modification("deletion", "ldhA"))
    'ΔldhA'
    >>> short_modification(Modification("plasmid transformation", "pUC19"))
    '[pUC19]'
    >>> short_modification(Modification("adaptive evolution"))
    'adaptive evolution'
    """
    target = mod.target.strip()
    if not target:
        return kind_label(mod.kind)
    if mod.kind == "deletion":
        return target if target.startswith(("Δ", "∆")) else f"Δ{target}"
    if mod.kind == "insertion":
        return target if "::" in target or target.startswith("+") else f"+{target}"
    if mod.kind == "plasmid transformation":
        return f"[{target}]"
    if mod.kind == "adaptive evolution":
        return f"⟳{target}"
    return target


@dataclass(slots=True)
class _Placed:
    node: LineageNode
    x: float = 0.0
    y: float = 0.0


_NODE_W: Final = 176.0
_NODE_H: Final = 44.0
_SLOT_W: Final = 196.0
_LEVEL_H: Final = 104.0
_MARGIN: Final = 16.0


def pedigree_svg(
    lineage: Lineage,
    *,
    href: Href | None = None,
    kind_label: Label = _identity,
    title: str = "",
) -> str:
    """Draw a strain's pedigree top-down, root first, with modifications on the edges.

    Parameters
    ----------
    lineage
        The pedigree from :meth:`cellfoundry.bank.services.Bank.lineage`.
    href
        The link of a strain's page; default ``/strains/<accession>``.
    kind_label
        Names a modification kind (for tooltips and edges without a target).
    title
        An accessible title for the drawing.

    Returns
    -------
    str
        An ``<svg>`` element; each strain is a ``<g class="node">`` inside a link,
        the current strain has the class ``current``.

    Examples
    --------
    >>> from cellfoundry.bank.views import Lineage, LineageNode
    >>> root = LineageNode("CF-1", "Escherichia coli", None, 0, (), "available")
    >>> kid = LineageNode(
    ...     "CF-2", "Escherichia coli", "CF-1", 1,
    ...     (Modification("deletion", "ldhA"),), "available",
    ... )
    >>> svg = pedigree_svg(Lineage("CF-2", (root, kid), ()))
    >>> 'data-accession="CF-1"' in svg and "ΔldhA" in svg and 'class="node current"' in svg
    True
    """
    link = href or (lambda acc: f"/strains/{acc}")
    nodes = lineage.nodes
    if not nodes:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>'
    known = {n.accession for n in nodes}
    children: dict[str | None, list[LineageNode]] = {}
    for node in nodes:
        parent = node.parent_accession if node.parent_accession in known else None
        children.setdefault(parent, []).append(node)
    placed: dict[str, _Placed] = {}
    next_slot = [0]
    min_depth = min(n.depth for n in nodes)

    def place(node: LineageNode, level: int) -> float:
        kids = children.get(node.accession, [])
        spot = _Placed(node, y=_MARGIN + level * _LEVEL_H)
        placed[node.accession] = spot
        if not kids:
            spot.x = next_slot[0] * _SLOT_W
            next_slot[0] += 1
        else:
            xs = [place(k, level + 1) for k in kids]
            spot.x = (xs[0] + xs[-1]) / 2
        return spot.x

    for root in children.get(None, []):
        place(root, root.depth - min_depth)
    width = max(1, next_slot[0]) * _SLOT_W - (_SLOT_W - _NODE_W) + 2 * _MARGIN
    levels = max(p.y for p in placed.values())
    height = levels + _NODE_H + _MARGIN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pedigree" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    edges: list[str] = []
    labels: list[str] = []
    boxes: list[str] = []
    for spot in placed.values():
        node = spot.node
        x = _MARGIN + spot.x
        above = placed.get(node.parent_accession or "")
        if above is not None:
            px = _MARGIN + above.x + _NODE_W / 2
            py = above.y + _NODE_H
            cx = x + _NODE_W / 2
            bar = py + 14
            edges.append(
                f'<path class="edge" d="M{_num(px)},{_num(py)} V{_num(bar)} H{_num(cx)} '
                f'V{_num(spot.y)}" data-from="{_a(above.node.accession)}" '
                f'data-to="{_a(node.accession)}"/>'
            )
            if node.modifications:
                labels.append(_edge_label(node, cx, bar, spot.y, kind_label))
        current = node.accession == lineage.accession
        cls = "node current" if current else "node"
        taxon = _fit(_abbreviate(node.taxon_name, 11, _NODE_W - 14), 11, _NODE_W - 14)
        boxes.append(
            f'<a href="{_a(link(node.accession))}"><g class="{cls}" '
            f'data-accession="{_a(node.accession)}">'
            f"<title>{escape(node.accession)} {escape(node.taxon_name)}</title>"
            f'<rect x="{_num(x)}" y="{_num(spot.y)}" width="{_num(_NODE_W)}" '
            f'height="{_num(_NODE_H)}" rx="6"/>'
            f'<text class="acc" x="{_num(x + _NODE_W / 2)}" y="{_num(spot.y + 18)}">'
            f"{escape(_fit(node.accession, 13, _NODE_W - 12))}</text>"
            f'<text class="taxon" x="{_num(x + _NODE_W / 2)}" y="{_num(spot.y + 34)}">'
            f"{escape(taxon)}</text></g></a>"
        )
    out.append(
        "<style>"
        ".pedigree .edge{fill:none;stroke:#8a97a8;stroke-width:1.5}"
        ".pedigree .node rect{fill:#f4f7fb;stroke:#8a97a8;stroke-width:1.2}"
        ".pedigree .node.current rect{fill:#fff4d6;stroke:#c27c0e;stroke-width:2.4}"
        ".pedigree a:hover rect{stroke:#2f5d9b;stroke-width:2}"
        ".pedigree text{text-anchor:middle}"
        ".pedigree .acc{font-size:13px;font-weight:600;fill:#1f3b5c}"
        ".pedigree .taxon{font-size:11px;font-style:italic;fill:#4a5566}"
        ".pedigree .mod{font-size:11px;fill:#7a3e00;paint-order:stroke;stroke:#fff;"
        "stroke-width:4px;stroke-linejoin:round}"
        "</style>"
    )
    out.extend(edges)
    out.extend(labels)
    out.extend(boxes)
    out.append("</svg>")
    return "".join(out)


def _abbreviate(taxon: str, size: float, width: float) -> str:
    """Abbreviate the genus ("Escherichia coli" → "E. coli") when the name is too long.

    Examples
    --------
    >>> _abbreviate("Escherichia coli K-12 MG1655 ΔldhA", 11, 120)
    'E. coli K-12 MG1655 ΔldhA'
    """
    words = taxon.split(" ", 1)
    if _text_width(taxon, size) <= width or len(words) < 2 or not words[0][:1].isupper():
        return taxon
    return f"{words[0][0]}. {words[1]}"


def _edge_label(node: LineageNode, cx: float, top: float, bottom: float, kind_label: Label) -> str:
    short = [short_modification(m, kind_label) for m in node.modifications]
    lines: list[str] = []
    line = ""
    for item in short:
        candidate = f"{line}, {item}" if line else item
        if line and _text_width(candidate, 11) > _SLOT_W - 16:
            lines.append(line)
            line = item
        else:
            line = candidate
    lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], lines[1] + ", …"]
    lines = [_fit(text, 11, _SLOT_W - 16) for text in lines]
    full = "; ".join(
        f"{kind_label(m.kind)} {m.target}".strip()
        + (f" ({m.description})" if m.description else "")
        for m in node.modifications
    )
    span = bottom - top
    first = top + span / 2 - (len(lines) - 1) * 6.5 + 4
    tspans = "".join(
        f'<tspan x="{_num(cx)}" y="{_num(first + i * 13)}">{escape(text)}</tspan>'
        for i, text in enumerate(lines)
    )
    return (
        f'<text class="mod" data-to="{_a(node.accession)}"><title>{escape(full)}</title>'
        f"{tspans}</text>"
    )


# -----------------------------------------------------------------------------------------------
# Plasmid maps


@dataclass(slots=True)
class _Arc:
    feature: Feature
    start: int  # 0-based, may exceed the length for features across the origin
    end: int
    lane: int = 0

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


def _arcs(record: SequenceRecord, limit: int) -> list[_Arc]:
    length = len(record)
    arcs: list[_Arc] = []
    for feature in record.features:
        if feature_key(feature.type) == "source" or not feature.spans:
            continue
        start, end = feature.start, feature.end
        spans = feature.spans
        if (
            record.topology == "circular"
            and len(spans) > 1
            and any(s.end >= length for s in spans)
            and any(s.start == 0 for s in spans)
        ):
            tail = max(s.start for s in spans if s.end >= length)
            head = max(s.end for s in spans if s.start < tail)
            start, end = tail, head + length
        arcs.append(_Arc(feature, start, max(end, start + 1)))
    if len(arcs) > limit:
        arcs = sorted(arcs, key=lambda a: a.end - a.start, reverse=True)[:limit]
    return sorted(arcs, key=lambda a: (a.start, -(a.end - a.start)))


def _assign_lanes(arcs: Sequence[_Arc], length: int, pad: int, circular: bool) -> int:
    lanes: list[list[tuple[int, int]]] = []
    for arc in arcs:
        spans = [(arc.start - pad, arc.end + pad)]
        if circular and arc.end + pad > length:
            spans.append((arc.start - pad - length, arc.end + pad - length))
        if circular and arc.start - pad < 0:
            spans.append((arc.start - pad + length, arc.end + pad + length))
        for i, used in enumerate(lanes):
            if all(e <= us or s >= ue for s, e in spans for us, ue in used):
                arc.lane = i
                used.extend(spans)
                break
        else:
            arc.lane = len(lanes)
            lanes.append(list(spans))
    return len(lanes)


def _nice_step(length: int, target: int = 8) -> int:
    raw = max(1.0, length / target)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)


def _bp(position: int, step: int) -> str:
    if step >= 1000:
        return f"{position / 1000:g} kb"
    return f"{position:,}"


def _feature_title(feature: Feature, type_label: Label) -> str:
    strand = {1: "+", -1: "−", 0: "·"}[feature.strand]
    spans = ", ".join(f"{s.start + 1}..{s.end}" for s in feature.spans)
    return f"{feature.label} · {type_label(feature.type)} · {spans} ({strand})"


def plasmid_map_svg(
    record: SequenceRecord,
    *,
    type_label: Label = _identity,
    title: str = "",
    max_features: int = 60,
) -> str:
    """Draw a sequence map: circular for circular records, linear otherwise.

    Features are arcs (or bars) with an arrowhead on their 3' end, coloured by
    type, stacked in lanes where they overlap and labelled with leader lines;
    a scale in bp runs along the backbone and a legend names the types shown.

    Parameters
    ----------
    record
        The plasmid, part or other record to draw.
    type_label
        Names a feature type in the legend and tooltips.
    title
        An accessible title for the drawing.
    max_features
        Draw at most this many features (the longest ones); ``source`` is never drawn.
    """
    arcs = _arcs(record, max_features)
    if record.topology == "circular" and len(record) > 0:
        return _circular_map(record, arcs, type_label, title)
    return _linear_map(record, arcs, type_label, title)


_MAP_STYLE: Final = (
    "<style>"
    ".seqmap text{font-size:11px;fill:#27313d}"
    ".seqmap .backbone{fill:none;stroke:#4a5566;stroke-width:2}"
    ".seqmap .tick{stroke:#6b7685;stroke-width:1}"
    ".seqmap .ticklabel{font-size:10px;fill:#6b7685}"
    ".seqmap .leader{fill:none;stroke:#9aa4b1;stroke-width:0.8}"
    ".seqmap .feature path,.seqmap .feature rect{stroke:#33404f;stroke-width:0.6;opacity:.92}"
    ".seqmap .feature:hover path{stroke-width:1.6;opacity:1}"
    ".seqmap .name{font-size:15px;font-weight:600;text-anchor:middle}"
    ".seqmap .size{font-size:12px;fill:#5b6673;text-anchor:middle}"
    ".seqmap .legend text{font-size:11px}"
    "</style>"
)


def _polar(cx: float, cy: float, r: float, angle: float) -> tuple[float, float]:
    return cx + r * math.sin(angle), cy - r * math.cos(angle)


def _arc_band(
    cx: float, cy: float, r: float, half: float, a0: float, a1: float, strand: int
) -> str:
    """Return the path of a band between radii ``r±half`` from ``a0`` to ``a1``, arrowed."""
    span = a1 - a0
    head = min(9.0 / r, span * 0.45) if strand != 0 else 0.0
    outer, inner = r + half, r - half
    if span >= 2 * math.pi - 1e-6:
        x0, y0 = _polar(cx, cy, outer, 0)
        x1, y1 = _polar(cx, cy, inner, 0)
        return (
            f"M{_num(x0)},{_num(y0)} A{_num(outer)},{_num(outer)} 0 1 1 {_num(x0)},"
            f"{_num(y0 + 2 * outer)} A{_num(outer)},{_num(outer)} 0 1 1 {_num(x0)},{_num(y0)} Z "
            f"M{_num(x1)},{_num(y1)} A{_num(inner)},{_num(inner)} 0 1 0 {_num(x1)},"
            f"{_num(y1 + 2 * inner)} A{_num(inner)},{_num(inner)} 0 1 0 {_num(x1)},{_num(y1)} Z"
        )
    b0, b1 = a0, a1
    if strand > 0:
        b1 = a1 - head
    elif strand < 0:
        b0 = a0 + head
    large = 1 if b1 - b0 > math.pi else 0
    p = [
        _polar(cx, cy, outer, b0),
        _polar(cx, cy, outer, b1),
        _polar(cx, cy, inner, b1),
        _polar(cx, cy, inner, b0),
    ]
    d = f"M{_num(p[0][0])},{_num(p[0][1])} "
    d += f"A{_num(outer)},{_num(outer)} 0 {large} 1 {_num(p[1][0])},{_num(p[1][1])} "
    if strand > 0:
        tip = _polar(cx, cy, r, a1)
        d += f"L{_num(tip[0])},{_num(tip[1])} "
    d += f"L{_num(p[2][0])},{_num(p[2][1])} "
    d += f"A{_num(inner)},{_num(inner)} 0 {large} 0 {_num(p[3][0])},{_num(p[3][1])} "
    if strand < 0:
        tip = _polar(cx, cy, r, a0)
        d += f"L{_num(tip[0])},{_num(tip[1])} "
    return d + "Z"


def _spread(ideal: list[float], gap: float, low: float, high: float) -> list[float]:
    """Move sorted positions apart by at least ``gap`` within ``low..high``, staying close."""
    if not ideal:
        return []
    ys = list(ideal)
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + gap)
    overflow = ys[-1] - high
    if overflow > 0:
        ys[-1] = high
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - gap)
    if ys[0] < low:
        shift = low - ys[0]
        ys = [y + shift for y in ys]
    return ys


def _legend(types: list[str], type_label: Label, x0: float, y0: float, width: float) -> list[str]:
    out = ['<g class="legend">']
    x, y = x0, y0
    for ftype in types:
        text = type_label(ftype)
        item_w = 18 + _text_width(text, 11) + 16
        if x + item_w > x0 + width and x > x0:
            x, y = x0, y + 18
        out.append(
            f'<rect x="{_num(x)}" y="{_num(y - 9)}" width="12" height="10" rx="2" '
            f'fill="{feature_colour(ftype)}"/>'
            f'<text x="{_num(x + 17)}" y="{_num(y)}">{escape(text)}</text>'
        )
        x += item_w
    out.append("</g>")
    return out


def _legend_rows(types: list[str], type_label: Label, width: float) -> int:
    rows, x = 1, 0.0
    for ftype in types:
        item_w = 18 + _text_width(type_label(ftype), 11) + 16
        if x + item_w > width and x > 0:
            rows, x = rows + 1, 0.0
        x += item_w
    return rows if types else 0


def _types(arcs: Sequence[_Arc]) -> list[str]:
    """Return the feature types to show in the legend, one per kind."""
    kinds: dict[str, str] = {}
    for arc in arcs:
        kinds.setdefault(feature_key(arc.feature.type), arc.feature.type)
    return list(kinds.values())


def _circular_map(record: SequenceRecord, arcs: list[_Arc], type_label: Label, title: str) -> str:
    length = len(record)
    radius = 150.0
    lane_gap = 15.0
    n_lanes = _assign_lanes(arcs, length, 0, circular=True)
    label_room = 190.0
    width = 2 * radius + 2 * label_room + 40
    cx = width / 2
    per_side: dict[int, list[_Arc]] = {1: [], -1: []}
    for arc in arcs:
        angle = 2 * math.pi * ((arc.middle % length) / length)
        per_side[1 if math.sin(angle) >= 0 else -1].append(arc)
    most = max((len(v) for v in per_side.values()), default=0)
    label_gap = 14.0
    body = max(2 * radius + 120, most * label_gap + 50)
    types = _types(arcs)
    legend_rows = _legend_rows(types, type_label, width - 40)
    height = body + legend_rows * 18 + (12 if legend_rows else 0)
    cy = body / 2
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="seqmap circular" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'style="max-width:{_num(width)}px" '
        f'data-name="{_a(record.name)}" data-length="{length}">',
        _MAP_STYLE,
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(f'<circle class="backbone" cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(radius)}"/>')
    # scale: ticks inside the innermost lane
    step = _nice_step(length)
    r_tick = radius - (max(n_lanes, 1) - 1) * lane_gap - 9
    for pos in range(0, length, step):
        angle = 2 * math.pi * pos / length
        x0, y0 = _polar(cx, cy, r_tick, angle)
        x1, y1 = _polar(cx, cy, r_tick - 6, angle)
        tx, ty = _polar(cx, cy, r_tick - 17, angle)
        out.append(
            f'<line class="tick" x1="{_num(x0)}" y1="{_num(y0)}" x2="{_num(x1)}" y2="{_num(y1)}"/>'
            f'<text class="ticklabel" x="{_num(tx)}" y="{_num(ty + 3.5)}" '
            f'text-anchor="middle">{escape(_bp(pos, step))}</text>'
        )
    # features
    for arc in arcs:
        r = radius - arc.lane * lane_gap
        a0 = 2 * math.pi * arc.start / length
        a1 = 2 * math.pi * arc.end / length
        if (a1 - a0) * r < 2.5:
            mid = (a0 + a1) / 2
            a0, a1 = mid - 1.25 / r, mid + 1.25 / r
        path = _arc_band(cx, cy, r, 5.0, a0, a1, arc.feature.strand)
        f = arc.feature
        out.append(
            f'<g class="feature" data-type="{_a(f.type)}" data-label="{_a(f.label)}">'
            f"<title>{escape(_feature_title(f, type_label))}</title>"
            f'<path d="{path}" fill="{feature_colour(f.type)}" fill-rule="evenodd"/></g>'
        )
    # labels with leader lines, spread apart on each side
    top, bottom = 16.0, body - 16
    r_label = radius + 42
    for side, side_arcs in per_side.items():
        items = []
        for arc in side_arcs:
            angle = 2 * math.pi * ((arc.middle % length) / length)
            items.append((cy - r_label * math.cos(angle), angle, arc))
        items.sort(key=lambda item: item[0])
        ys = _spread([i[0] for i in items], label_gap, top, bottom)
        for (_, angle, arc), y in zip(items, ys, strict=True):
            dy = y - cy
            dx = math.sqrt(max(0.0, r_label**2 - dy**2))
            x = cx + side * max(dx, 24.0)
            ax, ay = _polar(cx, cy, radius + 6, angle)
            ex, ey = _polar(cx, cy, radius + 18, angle)
            lx = x - side * 3
            text = _fit(arc.feature.label, 11, label_room - 30)
            anchor = "start" if side > 0 else "end"
            out.append(
                f'<polyline class="leader" points="{_num(ax)},{_num(ay)} {_num(ex)},{_num(ey)} '
                f'{_num(lx)},{_num(y - 4)}"/>'
                f'<text class="flabel" x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}">'
                f"{escape(text)}</text>"
            )
    out.append(
        f'<text class="name" x="{_num(cx)}" y="{_num(cy - 4)}">'
        f"{escape(_fit(record.name, 15, 2 * r_tick - 50))}</text>"
        f'<text class="size" x="{_num(cx)}" y="{_num(cy + 15)}">{length:,} bp</text>'
    )
    if types:
        out.extend(_legend(types, type_label, 20, body + 8, width - 40))
    out.append("</svg>")
    return "".join(out)


def _linear_map(record: SequenceRecord, arcs: list[_Arc], type_label: Label, title: str) -> str:
    length = max(len(record), 1)
    width = 900.0
    left, right = 30.0, 30.0
    track = width - left - right
    scale = track / length
    lane_h = 30.0
    # lanes must leave room for the labels too
    padded: list[tuple[float, float, _Arc]] = []
    lanes: list[list[tuple[float, float]]] = []
    for arc in arcs:
        x0 = left + arc.start * scale
        x1 = left + min(arc.end, length) * scale
        label_w = _text_width(_fit(arc.feature.label, 11, 160), 11)
        mid = (x0 + x1) / 2
        lo, hi = min(x0, mid - label_w / 2) - 4, max(x1, mid + label_w / 2) + 4
        for i, used in enumerate(lanes):
            if all(hi <= a or lo >= b for a, b in used):
                arc.lane = i
                used.append((lo, hi))
                break
        else:
            arc.lane = len(lanes)
            lanes.append([(lo, hi)])
        padded.append((x0, x1, arc))
    n_lanes = max(len(lanes), 1)
    axis_y = 20 + n_lanes * lane_h + 6
    types = _types(arcs)
    legend_rows = _legend_rows(types, type_label, width - 40)
    body = axis_y + 40
    height = body + legend_rows * 18 + (8 if legend_rows else 0)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="seqmap linear" '
        f'width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
        f'style="max-width:{_num(width)}px" '
        f'data-name="{_a(record.name)}" data-length="{len(record)}">',
        _MAP_STYLE,
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append(
        f'<line class="backbone" x1="{_num(left)}" y1="{_num(axis_y)}" '
        f'x2="{_num(left + track)}" y2="{_num(axis_y)}"/>'
    )
    step = _nice_step(length)
    ticks = list(range(0, length, step))
    if len(record) and (length - ticks[-1]) * scale > 40:
        ticks.append(length)
    for pos in ticks:
        x = left + pos * scale
        label = _bp(pos, step) if pos != length or step >= 1000 else f"{pos:,} bp"
        out.append(
            f'<line class="tick" x1="{_num(x)}" y1="{_num(axis_y)}" x2="{_num(x)}" '
            f'y2="{_num(axis_y + 6)}"/>'
            f'<text class="ticklabel" x="{_num(x)}" y="{_num(axis_y + 18)}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for x0, x1, arc in padded:
        f = arc.feature
        y = axis_y - 12 - arc.lane * lane_h
        w = max(x1 - x0, 2.0)
        head = min(8.0, w * 0.45)
        h = 5.0
        if f.strand > 0:
            d = (
                f"M{_num(x0)},{_num(y - h)} H{_num(x0 + w - head)} L{_num(x0 + w)},{_num(y)} "
                f"L{_num(x0 + w - head)},{_num(y + h)} H{_num(x0)} Z"
            )
        elif f.strand < 0:
            d = (
                f"M{_num(x0 + w)},{_num(y - h)} H{_num(x0 + head)} L{_num(x0)},{_num(y)} "
                f"L{_num(x0 + head)},{_num(y + h)} H{_num(x0 + w)} Z"
            )
        else:
            d = f"M{_num(x0)},{_num(y - h)} H{_num(x0 + w)} V{_num(y + h)} H{_num(x0)} Z"
        out.append(
            f'<g class="feature" data-type="{_a(f.type)}" data-label="{_a(f.label)}">'
            f"<title>{escape(_feature_title(f, type_label))}</title>"
            f'<path d="{d}" fill="{feature_colour(f.type)}"/></g>'
            f'<text class="flabel" x="{_num(x0 + w / 2)}" y="{_num(y - 9)}" '
            f'text-anchor="middle">{escape(_fit(f.label, 11, 160))}</text>'
        )
    if types:
        out.extend(_legend(types, type_label, 20, body + 10, width - 40))
    out.append("</svg>")
    return "".join(out)


# -----------------------------------------------------------------------------------------------
# A strain design's production envelope

#: Words of the envelope plot, replaced by the page's translations.
ENVELOPE_LABELS: Final[dict[str, str]] = {
    "growth": "growth rate (1/h)",
    "product": "product flux (mmol/gDW/h)",
    "maximum": "maximum",
    "minimum": "minimum",
    "design": "at maximal growth",
    "title": "Production envelope",
}


def _ticks(high: float, target: int = 4) -> list[float]:
    """Return round tick values from zero up to at least ``high``.

    Examples
    --------
    >>> _ticks(0.874)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> _ticks(0.0)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if not math.isfinite(high) or high <= 1e-12:
        high = 1.0
    raw = high / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    count = math.ceil(high / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def design_envelope_svg(
    points: Sequence[tuple[float, float, float]],
    *,
    growth: float = math.nan,
    product_range: tuple[float, float] = (math.nan, math.nan),
    labels: dict[str, str] | None = None,
    x_max: float | None = None,
    y_max: float | None = None,
) -> str:
    """Plot a design's production envelope: the product's flux range against growth.

    ``points`` are rows of (growth, product minimum, product maximum); the band between the
    two curves is what the design can secrete at each growth rate. The design's operating
    point, maximal ``growth`` with the secretion ``product_range`` it guarantees and allows,
    is marked (``class="design-point"``). ``x_max`` and ``y_max`` let several plots share
    their axes, so that designs compare at a glance.

    Examples
    --------
    >>> svg = design_envelope_svg(
    ...     [(0.0, 0.0, 10.0), (0.4, 2.0, 6.0), (0.8, 4.0, 4.0)],
    ...     growth=0.8, product_range=(4.0, 4.0), labels={"growth": "µ"},
    ... )
    >>> svg.count('class="pt max"'), 'class="design-point"' in svg, ">µ</text>" in svg
    (3, True, True)
    """
    text = {**ENVELOPE_LABELS, **(labels or {})}
    pts = sorted(
        (float(g), float(lo), float(hi))
        for g, lo, hi in points
        if math.isfinite(g) and math.isfinite(lo) and math.isfinite(hi)
    )
    width, height = 440.0, 290.0
    left, right, top, bottom = 64.0, 16.0, 16.0, 50.0
    pw, ph = width - left - right, height - top - bottom
    xt = _ticks(max([p[0] for p in pts] + [x_max or 0.0, growth if math.isfinite(growth) else 0]))
    yt = _ticks(max([p[2] for p in pts] + [y_max or 0.0]))
    x1, y1 = xt[-1], yt[-1]

    def sx(v: float) -> float:
        return left + max(0.0, v) / x1 * pw

    def sy(v: float) -> float:
        return top + ph - max(0.0, v) / y1 * ph

    title = _a(text["title"])
    out = [
        f'<svg class="design-envelope" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" '
        f'height="{_num(height)}" role="img" aria-label="{title}" data-points="{len(pts)}">'
        f"<title>{title}</title>",
        f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(pw)}" height="{_num(ph)}" '
        f'fill="#fbfcfe" stroke="#d9dee5"/>',
    ]
    for t in xt:
        x = sx(t)
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(top)}" x2="{_num(x)}" y2="{_num(top + ph)}" '
            f'stroke="#edf0f3"/><text class="tick x" x="{_num(x)}" y="{_num(top + ph + 16)}" '
            f'text-anchor="middle" font-size="11" fill="#5d6978">{t:g}</text>'
        )
    for t in yt:
        y = sy(t)
        out.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(left + pw)}" y2="{_num(y)}" '
            f'stroke="#edf0f3"/><text class="tick y" x="{_num(left - 6)}" y="{_num(y + 4)}" '
            f'text-anchor="end" font-size="11" fill="#5d6978">{t:g}</text>'
        )
    product_label = _fit(text["product"], 12, ph + bottom - 8)
    out.append(
        f'<text class="axis-label x" x="{_num(left + pw / 2)}" y="{_num(height - 10)}" '
        f'text-anchor="middle" font-size="12" fill="#34404e">{_a(text["growth"])}</text>'
        f'<text class="axis-label y" transform="translate(15,{_num(top + ph / 2)}) rotate(-90)" '
        f'text-anchor="middle" font-size="12" fill="#34404e">{_a(product_label)}</text>'
    )
    if pts:
        upper = " ".join(f"{_num(sx(g))},{_num(sy(hi))}" for g, _, hi in pts)
        lower = " ".join(f"{_num(sx(g))},{_num(sy(lo))}" for g, lo, _ in reversed(pts))
        out.append(
            f'<polygon class="band" points="{upper} {lower}" fill="#2f6fad" fill-opacity=".14"/>'
        )
        for cls, k, colour, word in (
            ("max", 2, "#2f6fad", text["maximum"]),
            ("min", 1, "#c27c0e", text["minimum"]),
        ):
            line = " ".join(f"{_num(sx(p[0]))},{_num(sy(p[k]))}" for p in pts)
            out.append(
                f'<polyline class="curve {cls}" points="{line}" fill="none" stroke="{colour}" '
                f'stroke-width="2"/>'
            )
            for p in pts:
                out.append(
                    f'<circle class="pt {cls}" cx="{_num(sx(p[0]))}" cy="{_num(sy(p[k]))}" '
                    f'r="2.6" fill="#fff" stroke="{colour}" stroke-width="1.4"><title>'
                    f"{_a(text['growth'])}: {p[0]:.4g}; {_a(word)}: {p[k]:.4g}</title></circle>"
                )
    low, high = product_range
    if math.isfinite(growth) and math.isfinite(low) and math.isfinite(high):
        x = sx(growth)
        out.append(
            f'<g class="design-point"><title>{_a(text["design"])}: {_a(text["growth"])} '
            f"{growth:.4g}; {_a(text['minimum'])} {low:.4g}, {_a(text['maximum'])} {high:.4g}"
            f'</title><line x1="{_num(x)}" y1="{_num(sy(low))}" x2="{_num(x)}" '
            f'y2="{_num(sy(high))}" stroke="#b3261e" stroke-width="3" stroke-linecap="round"/>'
            f'<circle cx="{_num(x)}" cy="{_num(sy(low))}" r="4.5" fill="#b3261e"/></g>'
        )
    words = [_fit(text[k], 11, 150) for k in ("maximum", "minimum", "design")]
    key_w = 44 + max(_text_width(w, 11) for w in words)
    key_x, key_y = left + pw - key_w - 8, top + 8
    out.append(
        f'<g class="key" font-size="11" fill="#34404e"><rect x="{_num(key_x)}" '
        f'y="{_num(key_y)}" width="{_num(key_w)}" height="58" rx="5" fill="#fff" '
        f'fill-opacity=".92" stroke="#d9dee5"/>'
    )
    for row, (colour, word) in enumerate(
        zip(("#2f6fad", "#c27c0e", "#b3261e"), words, strict=True)
    ):
        y = key_y + 14 + row * 16
        out.append(
            f'<line x1="{_num(key_x + 8)}" y1="{_num(y)}" x2="{_num(key_x + 26)}" '
            f'y2="{_num(y)}" stroke="{colour}" stroke-width="{3 if row == 2 else 2}"/>'
            f'<text x="{_num(key_x + 32)}" y="{_num(y + 4)}">{_a(word)}</text>'
        )
    out.append("</g></svg>")
    return "".join(out)


# -----------------------------------------------------------------------------------------------
# Guides on a gene

#: Words a guide map shows unless the page passes translations.
GUIDE_MAP_LABELS: Final[dict[str, str]] = {
    "title": "Guides on the gene",
    "guide": "guide",
    "cut": "cut",
    "forward": "+ strand",
    "reverse": "− strand",
    "pam": "PAM",
}


@dataclass(frozen=True, slots=True)
class _GuideMark:
    number: int
    label: str
    start: int
    end: int
    pam_len: int
    strand: int
    cut: int
    spacer: str
    pam: str


def guide_map_svg(
    gene: str,
    cds: Sequence[tuple[int, int]],
    strand: int,
    guides: Sequence[Mapping[str, Any]],
    *,
    margin: int = 120,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Draw a gene region with its guides: the CDS as an arrow, each guide at its site.

    ``cds`` holds the coding spans (0-based, half-open, forward coordinates) and ``strand``
    the gene's strand. Each guide is a mapping with ``position`` (0-based start of
    protospacer + PAM on the forward strand), ``strand`` (``1``/``-1`` or ``"+"``/``"-"``),
    ``spacer``, ``pam`` and ``cut`` (the cut falls between ``cut - 1`` and ``cut``), as the
    rows of :func:`cellfoundry.dna.design_guides`; an optional ``label`` names it (default:
    its number). Guides on the + strand are drawn above the gene, those on the − strand
    below, in lanes so that none overlaps; each has its PAM shaded and its cut site marked
    (``class="cut"``). Coordinates are shown 1-based.

    Examples
    --------
    >>> svg = guide_map_svg(
    ...     "geneA", [(1000, 1600)], 1,
    ...     [{"position": 1100, "strand": "+", "spacer": "A" * 20, "pam": "TGG", "cut": 1117},
    ...      {"position": 1300, "strand": -1, "spacer": "C" * 20, "pam": "AGG", "cut": 1306}],
    ... )
    >>> svg.count('<g class="guide '), svg.count('class="cut"'), 'data-gene="geneA"' in svg
    (2, 2, True)
    """
    text = {**GUIDE_MAP_LABELS, **(labels or {})}
    spans = sorted((int(a), int(b)) for a, b in cds) or [(0, 1)]
    marks: list[_GuideMark] = []
    for number, guide in enumerate(guides, 1):
        raw = guide.get("strand", 1)
        spacer_len = len(str(guide.get("spacer", ""))) or 20
        pam_len = len(str(guide.get("pam", ""))) or 3
        start = int(guide.get("position", 0))
        marks.append(
            _GuideMark(
                number=number,
                label=str(guide.get("label") or number),
                start=start,
                end=start + spacer_len + pam_len,
                pam_len=pam_len,
                strand=-1 if raw in (-1, "-", "−") else 1,
                cut=int(guide.get("cut", start)),
                spacer=str(guide.get("spacer", "")),
                pam=str(guide.get("pam", "")),
            )
        )
    lo = min([spans[0][0]] + [m.start for m in marks]) - margin
    hi = max([spans[-1][1]] + [m.end for m in marks]) + margin
    lo = max(0, lo)
    width, left, right = 960.0, 20.0, 20.0
    pw = width - left - right
    span = max(1, hi - lo)

    def sx(position: float) -> float:
        return left + (position - lo) / span * pw

    lane_h, bar_h = 16.0, 9.0
    lanes: dict[int, list[list[tuple[float, float]]]] = {1: [], -1: []}
    placed = []
    for mark in sorted(marks, key=lambda m: (m.start, m.number)):
        x0, x1 = sx(mark.start), max(sx(mark.end), sx(mark.start) + 5)
        label_w = _text_width(mark.label, 10) + 4
        extent = (x0 - 1, x1 + label_w)
        rows = lanes[mark.strand]
        for index, row in enumerate(rows):
            if all(extent[0] > b or extent[1] < a for a, b in row):
                row.append(extent)
                lane = index
                break
        else:
            rows.append([extent])
            lane = len(rows) - 1
        placed.append((mark, lane, x0, x1))
    above, below = len(lanes[1]), len(lanes[-1])
    top = 30.0
    gene_y = top + 18 + above * lane_h + 10  # upper edge of the CDS arrow
    gene_h = 18.0
    axis_y = gene_y + gene_h + 12 + below * lane_h + 8
    height = axis_y + 36
    title = _a(text["title"])
    out = [
        f'<svg class="guide-map" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" '
        f'height="{_num(height)}" role="img" aria-label="{title}" data-gene="{_a(gene)}" '
        f'data-guides="{len(marks)}"><title>{title}</title>',
        "<style>.guide-map text{font-size:11px;fill:#27313d}"
        ".guide-map .tick{stroke:#6b7685;stroke-width:1}"
        ".guide-map .ticklabel{font-size:10px;fill:#6b7685}"
        ".guide-map .guide:hover rect{stroke-width:1.6}"
        ".guide-map .strandlabel{font-size:10px;fill:#6b7685}</style>",
    ]
    # the gene: one arrow over its spans (introns as a thin line), 3' end pointed
    g0, g1 = sx(spans[0][0]), sx(spans[-1][1])
    out.append(
        f'<line class="intron" x1="{_num(g0)}" y1="{_num(gene_y + gene_h / 2)}" '
        f'x2="{_num(g1)}" y2="{_num(gene_y + gene_h / 2)}" stroke="#4e79a7" stroke-width="1.5"/>'
    )
    head = min(12.0, (g1 - g0) / 3)
    for index, (a, b) in enumerate(spans):
        x0, x1 = sx(a), sx(b)
        y0, y1, ym = gene_y, gene_y + gene_h, gene_y + gene_h / 2
        last = index == len(spans) - 1 if strand != -1 else index == 0
        if last and strand == 1:
            tip = max(x0, x1 - head)
            points = f"{_num(x0)},{_num(y0)} {_num(tip)},{_num(y0)} {_num(x1)},{_num(ym)} "
            points += f"{_num(tip)},{_num(y1)} {_num(x0)},{_num(y1)}"
        elif last and strand == -1:
            tip = min(x1, x0 + head)
            points = f"{_num(x1)},{_num(y0)} {_num(tip)},{_num(y0)} {_num(x0)},{_num(ym)} "
            points += f"{_num(tip)},{_num(y1)} {_num(x1)},{_num(y1)}"
        else:
            points = f"{_num(x0)},{_num(y0)} {_num(x1)},{_num(y0)} {_num(x1)},{_num(y1)} "
            points += f"{_num(x0)},{_num(y1)}"
        out.append(
            f'<polygon class="cds" points="{points}" fill="{feature_colour("CDS")}" '
            f'fill-opacity=".85" stroke="#33404f" stroke-width=".6"><title>{_a(gene)} '
            f"{a + 1}..{b} ({'+' if strand == 1 else '−'})</title></polygon>"
        )
    gene_label = _fit(gene, 11, max(30.0, g1 - g0 - head - 6))
    out.append(
        f'<text class="gene-name" x="{_num((g0 + g1) / 2)}" y="{_num(gene_y + gene_h / 2 + 4)}" '
        f'text-anchor="middle" style="fill:#fff;font-weight:600">{_a(gene_label)}</text>'
    )
    out.append(
        f'<text class="strandlabel" x="{_num(left)}" y="{_num(top + 8)}">'
        f"{_a(text['forward'])}</text>"
    )
    if below:
        out.append(
            f'<text class="strandlabel" x="{_num(left)}" y="{_num(axis_y - 10)}">'
            f"{_a(text['reverse'])}</text>"
        )
    # the guides: protospacer bar, PAM shaded, cut marked across the gene
    for mark, lane, x0, x1 in placed:
        if mark.strand == 1:
            y = gene_y - 8 - (lane + 1) * lane_h + (lane_h - bar_h)
        else:
            y = gene_y + gene_h + 8 + lane * lane_h
        w = x1 - x0
        pam_w = max(2.0, w * mark.pam_len / max(1, mark.end - mark.start))
        pam_x = x1 - pam_w if mark.strand == 1 else x0
        cut_x = sx(mark.cut)
        sign = "+" if mark.strand == 1 else "−"
        tooltip = (
            f"{_a(text['guide'])} {_a(mark.label)}: {_a(mark.spacer)} "
            f"{_a(text['pam'])} {_a(mark.pam)} ({sign}) "
            f"{mark.start + 1}..{mark.end}; {_a(text['cut'])} {mark.cut}|{mark.cut + 1}"
        )
        edge = gene_y if mark.strand == 1 else gene_y + gene_h
        bar_edge = y + bar_h if mark.strand == 1 else y
        out.append(
            f'<g class="guide {"fwd" if mark.strand == 1 else "rev"}" '
            f'data-guide="{mark.number}" data-spacer="{_a(mark.spacer)}" '
            f'data-cut="{mark.cut}" data-strand="{sign}"><title>{tooltip}</title>'
            f'<rect x="{_num(x0)}" y="{_num(y)}" width="{_num(w)}" height="{_num(bar_h)}" '
            f'rx="1.5" fill="#f28e2b" stroke="#8a4b0f" stroke-width=".6"/>'
            f'<rect class="pam" x="{_num(pam_x)}" y="{_num(y)}" width="{_num(pam_w)}" '
            f'height="{_num(bar_h)}" fill="#8a4b0f"/>'
            f'<line class="cut" x1="{_num(cut_x)}" y1="{_num(bar_edge)}" x2="{_num(cut_x)}" '
            f'y2="{_num(edge)}" stroke="#b3261e" stroke-width="1.4" stroke-dasharray="2 1.5"/>'
            f'<path d="M{_num(cut_x - 3.5)},{_num(edge - 5 if mark.strand == 1 else edge + 5)} '
            f"L{_num(cut_x + 3.5)},{_num(edge - 5 if mark.strand == 1 else edge + 5)} "
            f'L{_num(cut_x)},{_num(edge)} Z" fill="#b3261e"/>'
            f'<text x="{_num(x1 + 2)}" y="{_num(y + bar_h - 1)}" font-size="10">'
            f"{_a(mark.label)}</text></g>"
        )
    # the coordinate axis, 1-based
    out.append(
        f'<line class="axis" x1="{_num(left)}" y1="{_num(axis_y)}" x2="{_num(left + pw)}" '
        f'y2="{_num(axis_y)}" stroke="#4a5566" stroke-width="1.5"/>'
    )
    step = _nice_step(span, 6)
    first = (lo // step + 1) * step
    for position in range(first, hi + 1, step):
        x = sx(position)
        out.append(
            f'<line class="tick" x1="{_num(x)}" y1="{_num(axis_y)}" x2="{_num(x)}" '
            f'y2="{_num(axis_y + 5)}"/><text class="ticklabel" x="{_num(x)}" '
            f'y="{_num(axis_y + 17)}" text-anchor="middle">{position:,}</text>'
        )
    out.append("</svg>")
    return "".join(out)


# -----------------------------------------------------------------------------------------------
# DBTL campaigns: progress over cycles, and a cycle's plate

#: Words a campaign's drawings show unless the page passes translations.
CAMPAIGN_LABELS: Final[dict[str, str]] = {
    "title": "Titre per cycle",
    "cycle": "cycle",
    "titre": "titre (g/L)",
    "best": "best so far",
    "goal": "goal",
    "strain": "strain",
    "plate_title": "Destination plate",
    "not_measured": "not measured",
}


def campaign_progress_svg(
    cycles: Sequence[Sequence[tuple[str, float]]],
    *,
    goal: float | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Plot a campaign's progress: each measured strain's titre per cycle, best so far, goal.

    ``cycles`` holds, per cycle in order, its measured strains as (accession, titre). Every
    strain is one dot (``class="pt"``, ``data-strain``); the best titre up to each cycle is a
    line (``class="best"``) and the goal a dashed line (``class="goal"``).

    Examples
    --------
    >>> svg = campaign_progress_svg([[("a", 0.2), ("b", 0.5)], [("c", 0.9)]], goal=1.0)
    >>> svg.count('class="pt"'), 'class="goal"' in svg, 'data-best="0.5 0.9"' in svg
    (3, True, True)
    """
    text = {**CAMPAIGN_LABELS, **(labels or {})}
    n = max(len(cycles), 1)
    values = [v for cycle in cycles for _, v in cycle if math.isfinite(v)]
    width, height = 520.0, 300.0
    left, right, top, bottom = 64.0, 20.0, 16.0, 50.0
    pw, ph = width - left - right, height - top - bottom
    yt = _ticks(max([*values, goal if goal is not None and math.isfinite(goal) else 0.0]))
    y1 = yt[-1]
    slot = pw / n

    def sx(cycle: int) -> float:
        return left + (cycle - 0.5) * slot

    def sy(v: float) -> float:
        return top + ph - max(0.0, v) / y1 * ph

    title = _a(text["title"])
    best: list[float] = []
    running = -math.inf
    for cycle in cycles:
        finite = [v for _, v in cycle if math.isfinite(v)]
        running = max([running, *finite])
        best.append(running)
    shown_best = " ".join(f"{b:.4g}" for b in best if math.isfinite(b))
    out = [
        f'<svg class="campaign-progress" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" width="{_num(width)}" '
        f'height="{_num(height)}" role="img" aria-label="{title}" data-points="{len(values)}" '
        f'data-best="{shown_best}"><title>{title}</title>',
        f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(pw)}" height="{_num(ph)}" '
        f'fill="#fbfcfe" stroke="#d9dee5"/>',
    ]
    for t in yt:
        y = sy(t)
        out.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(left + pw)}" y2="{_num(y)}" '
            f'stroke="#edf0f3"/><text class="tick y" x="{_num(left - 6)}" y="{_num(y + 4)}" '
            f'text-anchor="end" font-size="11" fill="#5d6978">{t:g}</text>'
        )
    for k in range(1, n + 1):
        out.append(
            f'<text class="tick x" x="{_num(sx(k))}" y="{_num(top + ph + 16)}" '
            f'text-anchor="middle" font-size="11" fill="#5d6978">{k}</text>'
        )
    out.append(
        f'<text class="axis-label x" x="{_num(left + pw / 2)}" y="{_num(height - 10)}" '
        f'text-anchor="middle" font-size="12" fill="#34404e">{_a(text["cycle"])}</text>'
        f'<text class="axis-label y" transform="translate(15,{_num(top + ph / 2)}) rotate(-90)" '
        f'text-anchor="middle" font-size="12" fill="#34404e">{_a(text["titre"])}</text>'
    )
    if goal is not None and math.isfinite(goal):
        y = sy(goal)
        out.append(
            f'<line class="goal" x1="{_num(left)}" y1="{_num(y)}" x2="{_num(left + pw)}" '
            f'y2="{_num(y)}" stroke="#b3261e" stroke-width="1.6" stroke-dasharray="6 4">'
            f"<title>{_a(text['goal'])}: {goal:.4g}</title></line>"
        )
    # a step line: level across each cycle's slot, rising where a cycle beat the best
    line = " ".join(
        f"{_num(sx(k) - slot * 0.45)},{_num(sy(b))} {_num(sx(k) + slot * 0.45)},{_num(sy(b))}"
        for k, b in enumerate(best, 1)
        if math.isfinite(b)
    )
    if line:
        out.append(
            f'<polyline class="best" points="{line}" fill="none" stroke="#2f6fad" '
            f'stroke-width="2.2"/>'
        )
    for k, cycle in enumerate(cycles, 1):
        dots: list[tuple[str, float]] = [(a, t) for a, t in cycle if math.isfinite(t)]
        spread = min(slot * 0.6, 80.0)
        for i, (accession, titre) in enumerate(dots):
            offset = 0.0 if len(dots) == 1 else (i / (len(dots) - 1) - 0.5) * spread
            out.append(
                f'<circle class="pt" data-strain="{_a(accession)}" data-cycle="{k}" '
                f'cx="{_num(sx(k) + offset)}" cy="{_num(sy(titre))}" r="3.6" fill="#59a14f" '
                f'fill-opacity=".75" stroke="#2d6a27" stroke-width=".8"><title>'
                f"{_a(accession)}: {titre:.4g}</title></circle>"
            )
    words = [_fit(text[k], 11, 150) for k in ("best", "goal")]
    key_w = 44 + max(_text_width(w, 11) for w in words)
    key_x, key_y = left + 8, top + 8
    out.append(
        f'<g class="key" font-size="11" fill="#34404e"><rect x="{_num(key_x)}" '
        f'y="{_num(key_y)}" width="{_num(key_w)}" height="42" rx="5" fill="#fff" '
        f'fill-opacity=".92" stroke="#d9dee5"/>'
    )
    for row, (colour, dash, word) in enumerate(
        zip(("#2f6fad", "#b3261e"), ("", ' stroke-dasharray="6 4"'), words, strict=True)
    ):
        y = key_y + 14 + row * 16
        out.append(
            f'<line x1="{_num(key_x + 8)}" y1="{_num(y)}" x2="{_num(key_x + 26)}" '
            f'y2="{_num(y)}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{_num(key_x + 32)}" y="{_num(y + 4)}">{_a(word)}</text>'
        )
    out.append("</g></svg>")
    return "".join(out)


def _ramp(fraction: float) -> str:
    """Return a colour from pale yellow (0) through green to dark blue (1).

    Examples
    --------
    >>> _ramp(0.0), _ramp(1.0)
    ('#f7fcb9', '#253494')
    """
    stops = ((0xF7, 0xFC, 0xB9), (0x41, 0xB6, 0xC4), (0x25, 0x34, 0x94))
    f = min(1.0, max(0.0, fraction)) * (len(stops) - 1)
    i = min(int(f), len(stops) - 2)
    a, b = stops[i], stops[i + 1]
    mix = [round(a[c] + (b[c] - a[c]) * (f - i)) for c in range(3)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def plate_svg(
    wells: Mapping[str, tuple[str, float | None]],
    *,
    rows: int = 8,
    columns: int = 12,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Draw a plate: each filled well labelled by its strain and coloured by its titre.

    ``wells`` maps a well name (``A1``) to (strain, titre or ``None``). Filled wells are
    ``class="well filled"`` with ``data-well``, ``data-strain`` and, once measured,
    ``data-titre``; the label is the strain's last part (``-001``: ``001``).

    Examples
    --------
    >>> svg = plate_svg({"A1": ("c-C1-001", 0.5), "B1": ("c-C1-002", None)})
    >>> svg.count('class="well filled"'), svg.count('class="well"'), 'data-titre="0.5"' in svg
    (2, 94, True)
    """
    text = {**CAMPAIGN_LABELS, **(labels or {})}
    measured = [v for _, v in wells.values() if v is not None and math.isfinite(v)]
    low, high = (min(measured), max(measured)) if measured else (0.0, 1.0)
    pitch, left, top = 40.0, 28.0, 24.0
    width, height = left + columns * pitch + 8, top + rows * pitch + 34
    title = _a(text["plate_title"])
    out = [
        f'<svg class="plate" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} '
        f'{_num(height)}" width="{_num(width)}" height="{_num(height)}" role="img" '
        f'aria-label="{title}" data-wells="{len(wells)}"><title>{title}</title>',
        f'<rect x="{_num(left - 4)}" y="{_num(top - 4)}" width="{_num(columns * pitch + 8)}" '
        f'height="{_num(rows * pitch + 8)}" rx="8" fill="#f4f6f9" stroke="#c9d1db"/>',
    ]
    for c in range(columns):
        out.append(
            f'<text x="{_num(left + (c + 0.5) * pitch)}" y="{_num(top - 8)}" font-size="11" '
            f'text-anchor="middle" fill="#5d6978">{c + 1}</text>'
        )
    for r in range(rows):
        out.append(
            f'<text x="{_num(left - 12)}" y="{_num(top + (r + 0.5) * pitch + 4)}" '
            f'font-size="11" text-anchor="middle" fill="#5d6978">{chr(65 + r)}</text>'
        )
    for r in range(rows):
        for c in range(columns):
            name = f"{chr(65 + r)}{c + 1}"
            cx, cy = left + (c + 0.5) * pitch, top + (r + 0.5) * pitch
            if name not in wells:
                out.append(
                    f'<circle class="well" cx="{_num(cx)}" cy="{_num(cy)}" r="16" fill="#fff" '
                    f'stroke="#dde2e8"/>'
                )
                continue
            strain, value = wells[name]
            short = strain.rsplit("-", 1)[-1]
            if value is not None and math.isfinite(value):
                fraction = 0.5 if high <= low else (value - low) / (high - low)
                fill, ink = _ramp(fraction), "#fff" if fraction > 0.55 else "#1d2733"
                detail, data = f"{value:.4g}", f' data-titre="{value:.6g}"'
            else:
                fill, ink, detail, data = "#e9ecf1", "#5d6978", text["not_measured"], ""
            out.append(
                f'<g class="well filled" data-well="{name}" data-strain="{_a(strain)}"{data}>'
                f"<title>{name} · {_a(strain)}: {_a(detail)}</title>"
                f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="16" fill="{fill}" '
                f'stroke="#6b7785"/><text x="{_num(cx)}" y="{_num(cy + 3.5)}" font-size="10" '
                f'text-anchor="middle" fill="{ink}">{_a(_fit(short, 10, 30))}</text></g>'
            )
    if measured:
        bar_x, bar_y, bar_w = left, top + rows * pitch + 14, 160.0
        steps = 16
        for i in range(steps):
            out.append(
                f'<rect x="{_num(bar_x + i * bar_w / steps)}" y="{_num(bar_y)}" '
                f'width="{_num(bar_w / steps + 0.5)}" height="10" fill="{_ramp(i / (steps - 1))}"/>'
            )
        out.append(
            f'<text x="{_num(bar_x + bar_w + 8)}" y="{_num(bar_y + 9)}" font-size="11" '
            f'fill="#34404e">{low:.3g} – {high:.3g} · {_a(text["titre"])}</text>'
        )
    out.append("</svg>")
    return "".join(out)


__all__ += ["CAMPAIGN_LABELS", "campaign_progress_svg", "plate_svg"]
