"""SVG drawings of analysis results: a flux map of central metabolism and a production envelope.

The flux map is drawn from a hand-made layout of *E. coli*'s central carbon metabolism
(``static/maps/e_coli_core.json``: metabolite positions and reaction edges by BiGG id). Arrow
widths grow with the logarithm of |flux|, arrowheads show the direction of the net flux,
reactions without flux are grey, and every reaction carries its id, name and flux as a
``<title>`` (shown on hover). A model other than e_coli_core is drawn on the same layout: the
reactions it shares with e_coli_core by BiGG id (or a listed alias, such as the periplasmic
``GLCptspp`` for ``GLCpts``), with :attr:`FluxMap.flux_fraction` saying how much of the total
|flux| the drawing shows.

These are pure functions from result values to SVG text (presentation only); every word comes
from the data or through the ``labels`` the page passes in its reader's language.

Examples
--------
>>> drawn = flux_map_svg({"PGI": 4.86, "PFK": 7.48, "FBP": 0.0})
>>> 'data-reaction="PGI"' in drawn.svg and drawn.drawn == 3
True
>>> envelope_svg([0.0, 0.5], [0.0, 0.0], [10.0, 4.0]).count('class="pt')
4
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources
from typing import Any, Final

__all__ = [
    "DEFAULT_LABELS",
    "FluxMap",
    "envelope_svg",
    "flux_colour",
    "flux_map_svg",
    "flux_width",
    "load_layout",
]

#: Flux magnitudes below this are drawn as no flux (mmol/gDW/h).
ZERO_FLUX: Final = 1e-6
#: Stroke width of reactions without flux, and the widest stroke drawn.
ZERO_WIDTH: Final = 1.3
MAX_WIDTH: Final = 15.0
#: |flux| → colour stops (log10 of |flux|, RGB).
_COLOUR_STOPS: Final = (
    (-2.0, (133, 183, 222)),
    (0.0, (49, 120, 190)),
    (1.0, (111, 63, 171)),
    (1.7, (196, 40, 52)),
)
ZERO_COLOUR: Final = "#c3cad3"
#: The strings a drawing shows; pages pass their translations.
DEFAULT_LABELS: Final[dict[str, str]] = {
    "title": "Flux map",
    "legend": "Flux (mmol/gDW/h)",
    "no_flux": "no flux",
    "direction": "direction of net flux",
    "precursors": "biomass precursors",
    "biomass": "biomass",
    "glycolysis": "Glycolysis",
    "pentose_phosphate": "Pentose phosphate pathway",
    "tca": "TCA cycle and glyoxylate shunt",
    "fermentation": "Fermentation",
    "oxidative_phosphorylation": "Oxidative phosphorylation",
    "nitrogen": "Nitrogen assimilation",
    "extracellular": "medium",
    "growth": "growth rate (1/h)",
    "product": "product flux (mmol/gDW/h)",
    "maximum": "maximum",
    "minimum": "minimum",
    "envelope": "Production envelope",
}


def flux_width(flux: float) -> float:
    """Stroke width of a reaction: grows with log(1 + |flux|); thin for no flux.

    >>> flux_width(0.0) == ZERO_WIDTH, round(flux_width(10.0), 2)
    (True, 7.12)
    """
    v = abs(flux)
    if not math.isfinite(v) or v < ZERO_FLUX:
        return ZERO_WIDTH
    return min(MAX_WIDTH, 1.6 + 2.3 * math.log1p(v))


def flux_colour(flux: float) -> str:
    """Colour of a reaction: light blue for small |flux| through violet to red for large.

    >>> flux_colour(0.0), flux_colour(1.0)
    ('#c3cad3', '#3178be')
    """
    v = abs(flux)
    if not math.isfinite(v) or v < ZERO_FLUX:
        return ZERO_COLOUR
    x = math.log10(v)
    stops = _COLOUR_STOPS
    if x <= stops[0][0]:
        rgb = stops[0][1]
    elif x >= stops[-1][0]:
        rgb = stops[-1][1]
    else:
        for (x0, c0), (x1, c1) in itertools.pairwise(stops):
            if x0 <= x <= x1:
                t = (x - x0) / (x1 - x0)
                rgb = tuple(round(a + (b - a) * t) for a, b in zip(c0, c1, strict=True))  # type: ignore[assignment]
                break
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@cache
def load_layout(name: str = "e_coli_core") -> Mapping[str, Any]:
    """Return the layout ``static/maps/<name>.json`` (metabolite positions, reaction edges)."""
    path = resources.files("cellfoundry.web").joinpath("static", "maps", f"{name}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"map layout {name!r} is not a JSON object")
    return data


@dataclass(frozen=True)
class FluxMap:
    """A drawn flux map and how much of the result it shows.

    ``drawn`` counts the result's reactions the layout draws; ``total`` all reactions of the
    result; ``flux_fraction`` is the share of the summed |flux| that the drawn reactions carry
    (1.0 for e_coli_core; ``nan`` when nothing carries flux).
    """

    svg: str
    drawn: int
    total: int
    flux_fraction: float
    layout: str


# -- geometry -----------------------------------------------------------------------------------

Point = tuple[float, float]


def _f(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_width(text: str, size: float) -> float:
    """Roughly how wide ``text`` is drawn at ``size`` px (CJK characters are full width)."""
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)
    return size * (wide + 0.56 * (len(text) - wide))


def _unit(dx: float, dy: float) -> Point:
    n = math.hypot(dx, dy) or 1.0
    return dx / n, dy / n


def _radius(node: Mapping[str, Any]) -> float:
    kind = node.get("kind", "main")
    if kind == "boundary":
        return 0.0
    if kind == "pseudo":
        return 16.0
    return 7.0 if kind == "ext" else 8.5


def _arrow(tip: Point, direction: Point, width: float, colour: str) -> str:
    """Draw a filled arrowhead whose tip is at ``tip`` pointing along ``direction``."""
    length = 7.0 + 1.3 * width
    half = 3.6 + 0.85 * width
    ux, uy = direction
    bx, by = tip[0] - ux * length, tip[1] - uy * length
    px, py = -uy * half, ux * half
    pts = ((tip[0], tip[1]), (bx + px, by + py), (bx - px, by - py))
    return (
        f'<polygon class="head" points="{" ".join(f"{_f(x)},{_f(y)}" for x, y in pts)}" '
        f'fill="{colour}"/>'
    )


def _segment(
    start: Point,
    end: Point,
    control: Point | None,
    r_start: float,
    r_end: float,
    head_at_start: bool,
    head_at_end: bool,
    width: float,
    colour: str,
) -> tuple[str, list[str]]:
    """One stroke from ``start`` to ``end`` (optionally curved through ``control``)."""
    gap = 3.0
    c = control if control is not None else ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    d0 = _unit(c[0] - start[0], c[1] - start[1])
    d1 = _unit(c[0] - end[0], c[1] - end[1])
    if control is None:
        d0 = _unit(end[0] - start[0], end[1] - start[1])
        d1 = (-d0[0], -d0[1])
    length = 7.0 + 1.3 * width
    s_tip = (start[0] + d0[0] * (r_start + gap), start[1] + d0[1] * (r_start + gap))
    e_tip = (end[0] + d1[0] * (r_end + gap), end[1] + d1[1] * (r_end + gap))
    s = s_tip
    e = e_tip
    heads: list[str] = []
    if head_at_start:
        s = (s_tip[0] + d0[0] * length * 0.8, s_tip[1] + d0[1] * length * 0.8)
        heads.append(_arrow(s_tip, (-d0[0], -d0[1]), width, colour))
    if head_at_end:
        e = (e_tip[0] + d1[0] * length * 0.8, e_tip[1] + d1[1] * length * 0.8)
        heads.append(_arrow(e_tip, (-d1[0], -d1[1]), width, colour))
    if control is None:
        path = f"M{_f(s[0])},{_f(s[1])} L{_f(e[0])},{_f(e[1])}"
    else:
        path = f"M{_f(s[0])},{_f(s[1])} Q{_f(c[0])},{_f(c[1])} {_f(e[0])},{_f(e[1])}"
    return path, heads


def _bent(start: Point, end: Point, bend: float) -> Point:
    """Return the control point ``bend`` pixels to the right of the line start to end."""
    ux, uy = _unit(end[0] - start[0], end[1] - start[1])
    mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
    return mx - uy * bend * 2, my + ux * bend * 2


# -- the flux map -------------------------------------------------------------------------------


def _layout_flux(
    reaction: Mapping[str, Any],
    fluxes: Mapping[str, float],
    objective: Sequence[str],
) -> tuple[float | None, list[str]]:
    """Return the flux a layout reaction shows, and the result's reaction ids behind it."""
    if reaction.get("objective"):
        ids = [r for r in objective if r in fluxes]
    else:
        ids = [r for r in (reaction["id"], *reaction.get("aliases", ())) if r in fluxes]
    if not ids:
        return None, []
    return float(sum(fluxes[r] for r in ids)), ids


def _objective_ids(fluxes: Mapping[str, float], objective: Iterable[str] | None) -> list[str]:
    if objective is not None:
        return [str(r) for r in objective]
    return [r for r in fluxes if "biomass" in r.lower()][:1]


def flux_map_svg(
    fluxes: Mapping[str, float],
    *,
    names: Mapping[str, str] | None = None,
    objective: Iterable[str] | None = None,
    labels: Mapping[str, str] | None = None,
    unit: str = "mmol/gDW/h",
    layout: str = "e_coli_core",
) -> FluxMap:
    """Draw a flux distribution on the central-metabolism layout.

    Parameters
    ----------
    fluxes
        Flux of each reaction by id (mmol/gDW/h), e.g. an FBA result.
    names
        Reaction names by id, shown on hover.
    objective
        Ids of the objective (biomass) reactions; by default the first id containing
        ``biomass``.
    labels
        Words the drawing shows (see :data:`DEFAULT_LABELS`), in the reader's language.
    unit
        Unit shown after flux values on hover.
    layout
        Name of the layout file under ``static/maps``.

    Returns
    -------
    FluxMap
        The SVG and the share of the result it draws.
    """
    text = {**DEFAULT_LABELS, **(labels or {})}
    names = names or {}
    spec = load_layout(layout)
    nodes: Mapping[str, Mapping[str, Any]] = spec["metabolites"]
    width, height = float(spec["width"]), float(spec["height"])
    legend_h = 64.0
    objective_ids = _objective_ids(fluxes, objective)

    used: set[str] = set()
    drawn_reactions: list[tuple[float, str]] = []
    for reaction in spec["reactions"]:
        flux, ids = _layout_flux(reaction, fluxes, objective_ids)
        used.update(ids)
        drawn_reactions.append(
            (
                flux_width(flux) if flux is not None else 0.0,
                _reaction_svg(reaction, flux, ids, nodes, names, unit),
            )
        )
    # thin strokes above thick ones, so that none hides under a wide neighbour
    drawn_reactions.sort(key=lambda item: -item[0])

    total_flux = sum(abs(v) for v in fluxes.values() if math.isfinite(v))
    shown_flux = sum(abs(fluxes[r]) for r in used if math.isfinite(fluxes[r]))
    fraction = shown_flux / total_flux if total_flux > 0 else math.nan

    out: list[str] = [
        f'<svg class="fluxmap" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {_f(width)} {_f(height + legend_h)}" role="img" '
        f'data-layout="{escape(str(spec["id"]))}" data-drawn="{len(used)}" '
        f'data-total="{len(fluxes)}" aria-label="{escape(text["title"])}">',
        f"<title>{escape(text['title'])}</title>",
    ]
    m = spec["membrane"]
    out.append(
        f'<rect class="membrane" x="{m["x"]}" y="{m["y"]}" width="{m["width"]}" '
        f'height="{m["height"]}" rx="46" fill="#fbfcfe" stroke="#b9c6d4" stroke-width="5"/>'
    )
    out.append(
        f'<text class="region-label medium" x="{m["x"] + m["width"] - 20}" y="{m["y"] - 12}" '
        f'text-anchor="end" '
        f'fill="#8a97a6" font-size="13">{escape(text["extracellular"])}</text>'
    )
    for region in spec.get("regions", ()):
        out.append(
            f'<g class="region" data-region="{escape(region["key"])}">'
            f'<rect x="{region["x"]}" y="{region["y"]}" width="{region["width"]}" '
            f'height="{region["height"]}" rx="14" fill="#f2f5f9" stroke="#e3e8ee"/>'
            f'<text x="{region["x"] + 12}" y="{region["y"] + 20}" fill="#7b8896" '
            f'font-size="13" font-weight="600">{escape(text.get(region["key"], region["key"]))}'
            "</text></g>"
        )
    out.extend(svg for _, svg in drawn_reactions)
    out.extend(_node_svg(key, node, text) for key, node in nodes.items())
    out.append(_legend(0.0, height, width, legend_h, text))
    out.append("</svg>")
    return FluxMap("".join(out), len(used), len(fluxes), fraction, str(spec["id"]))


def _reaction_svg(
    reaction: Mapping[str, Any],
    flux: float | None,
    ids: Sequence[str],
    nodes: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
    unit: str,
) -> str:
    rid = str(reaction["id"])
    value = 0.0 if flux is None else flux
    width = flux_width(value)
    colour = flux_colour(value)
    moving = abs(value) >= ZERO_FLUX
    forward, backward = moving and value > 0, moving and value < 0
    subs = [str(x) for x in reaction["from"]]
    prods = [str(x) for x in reaction["to"]]

    def pos(key: str) -> Point:
        return float(nodes[key]["x"]), float(nodes[key]["y"])

    paths: list[str] = []
    heads: list[str] = []
    label: tuple[float, float, str]
    if len(subs) == 1 and len(prods) == 1 and "center" not in reaction:
        a, b = pos(subs[0]), pos(prods[0])
        control: Point | None = None
        if "via" in reaction:
            control = (float(reaction["via"][0]), float(reaction["via"][1]))
        elif reaction.get("bend"):
            control = _bent(a, b, float(reaction["bend"]))
        path, hs = _segment(
            a,
            b,
            control,
            _radius(nodes[subs[0]]),
            _radius(nodes[prods[0]]),
            backward,
            forward,
            width,
            colour,
        )
        paths.append(path)
        heads += hs
        c = control or ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        mid = (0.25 * a[0] + 0.5 * c[0] + 0.25 * b[0], 0.25 * a[1] + 0.5 * c[1] + 0.25 * b[1])
        label = _beside(a, b, mid, float(reaction.get("bend", 0.0)), width / 2 + 6)
    else:
        members = [pos(k) for k in subs + prods]
        centre: Point = (
            (float(reaction["center"][0]), float(reaction["center"][1]))
            if "center" in reaction
            else (
                sum(p[0] for p in members) / len(members),
                sum(p[1] for p in members) / len(members),
            )
        )
        for key in subs:
            path, hs = _segment(
                pos(key), centre, None, _radius(nodes[key]), 0.0, backward, False, width, colour
            )
            paths.append(path)
            heads += hs
        for key in prods:
            path, hs = _segment(
                centre, pos(key), None, 0.0, _radius(nodes[key]), False, forward, width, colour
            )
            paths.append(path)
            heads += hs
        label = (centre[0] + 9 + width / 2, centre[1] - 3, "start")
    if "label" in reaction:
        x, y = float(reaction["label"][0]), float(reaction["label"][1])
        label = (x, y + 4, str(reaction["label"][2]) if len(reaction["label"]) > 2 else "middle")
    name = next((names[r] for r in ids if names.get(r)), "")
    shown = ", ".join(ids) if ids and list(ids) != [rid] else rid
    title = f"{shown}{' · ' + name if name else ''}: " + (
        f"{value:.4g} {unit}" if flux is not None else "—"
    )
    classes = "rxn" + (" active" if moving else " idle") + (" absent" if flux is None else "")
    dash = ' stroke-dasharray="4 4"' if flux is None else ""
    body = "".join(
        f'<path d="{p}" fill="none" stroke="{colour}" stroke-width="{_f(width)}" '
        f'stroke-linecap="round"{dash}/>'
        for p in paths
    )
    shown_id = ids[0] if reaction.get("objective") and len(ids) == 1 else rid
    text = (
        ""
        if reaction.get("hide_label")
        else f'<text class="rid" x="{_f(label[0])}" y="{_f(label[1])}" '
        f'text-anchor="{label[2]}" font-size="11.5" '
        f'fill="{"#34404e" if moving else "#9aa5b1"}">{escape(shown_id)}</text>'
    )
    return (
        f'<g class="{classes}" data-reaction="{escape(rid)}" data-flux="{value:.6g}" '
        f'data-width="{_f(width)}"><title>{escape(title)}</title>{body}{"".join(heads)}'
        f"{text}</g>"
    )


def _beside(a: Point, b: Point, mid: Point, bend: float, off: float) -> tuple[float, float, str]:
    """Where a reaction's id goes: beside the middle of its edge, never on it.

    On the outer side of a bent edge; otherwise right of a steep edge, above a flat one.
    Returns the text's x, baseline y and anchor.
    """
    ux, uy = _unit(b[0] - a[0], b[1] - a[1])
    if bend:
        sign = 1.0 if bend > 0 else -1.0
        px, py = -uy * sign, ux * sign
    elif abs(uy) > 0.3:
        px, py = (uy, -ux) if uy > 0 else (-uy, ux)
    else:
        px, py = (uy, -ux) if -ux < 0 else (-uy, ux)
    x, y = mid[0] + px * off, mid[1] + py * off
    anchor = "start" if px > 0.35 else "end" if px < -0.35 else "middle"
    if py < -0.35:
        return x, y - 1, anchor
    if py > 0.35:
        return x, y + 10, anchor
    return x, y + 4, anchor


def _node_svg(key: str, node: Mapping[str, Any], text: Mapping[str, str]) -> str:
    kind = node.get("kind", "main")
    x, y = float(node["x"]), float(node["y"])
    if kind == "boundary":
        return ""
    if kind == "pseudo":
        label = text.get(str(node.get("key", "")), str(node.get("key", "")))
        w = max(60.0, _text_width(label, 13) + 24)
        return (
            f'<g class="node pseudo" data-node="{escape(key)}">'
            f'<rect x="{_f(x - w / 2)}" y="{_f(y - 15)}" width="{_f(w)}" height="30" rx="15" '
            f'fill="#fff4dc" stroke="#c9a54c" stroke-width="1.5"/>'
            f'<text x="{_f(x)}" y="{_f(y + 5)}" text-anchor="middle" font-size="13" '
            f'fill="#6b5215">{escape(label)}</text></g>'
        )
    r = _radius(node)
    fill, stroke = ("#e8f1fa", "#7f9fbf") if kind == "ext" else ("#fde9b5", "#b68a2c")
    label = str(node.get("label", key))
    at = str(node.get("label_at", "right"))
    dx, dy, anchor = {
        "left": (-r - 5, 4.5, "end"),
        "right": (r + 5, 4.5, "start"),
        "above": (0.0, -r - 6, "middle"),
        "below": (0.0, r + 16, "middle"),
        "above-left": (-r - 2, -r - 3, "end"),
        "above-right": (r + 2, -r - 3, "start"),
        "below-left": (-r - 2, r + 13, "end"),
        "below-right": (r + 2, r + 13, "start"),
    }.get(at, (r + 5, 4.5, "start"))
    if "label_offset" in node:
        dx, dy, anchor = node["label_offset"]
    return (
        f'<g class="node {escape(kind)}" data-node="{escape(key)}"><title>{escape(key)}</title>'
        f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="1.5"/><text x="{_f(x + dx)}" y="{_f(y + dy)}" text-anchor="{anchor}" '
        f'font-size="14" fill="#2b3440" paint-order="stroke" stroke="#fbfcfe" '
        f'stroke-width="3">{escape(label)}</text></g>'
    )


def _legend(x0: float, y0: float, width: float, height: float, text: Mapping[str, str]) -> str:
    parts = [
        f'<g class="legend" transform="translate({_f(x0)},{_f(y0)})">',
        f'<rect x="10" y="8" width="{_f(width - 20)}" height="{_f(height - 16)}" rx="8" '
        f'fill="#ffffff" stroke="#d9dee5"/>',
        f'<text x="28" y="{_f(height / 2 + 5)}" font-size="13" font-weight="600" '
        f'fill="#34404e">{escape(text["legend"])}</text>',
    ]
    x = 230.0
    mid = height / 2
    for v in (0.1, 1.0, 10.0, 50.0):
        w = flux_width(v)
        parts.append(
            f'<line class="sample" x1="{_f(x)}" y1="{_f(mid)}" x2="{_f(x + 46)}" y2="{_f(mid)}" '
            f'stroke="{flux_colour(v)}" stroke-width="{_f(w)}" stroke-linecap="round"/>'
            f'<text x="{_f(x + 54)}" y="{_f(mid + 4.5)}" font-size="12" fill="#34404e">'
            f"{v:g}</text>"
        )
        x += 100
    parts.append(
        f'<line x1="{_f(x)}" y1="{_f(mid)}" x2="{_f(x + 46)}" y2="{_f(mid)}" '
        f'stroke="{ZERO_COLOUR}" stroke-width="{_f(ZERO_WIDTH)}"/>'
        f'<text x="{_f(x + 54)}" y="{_f(mid + 4.5)}" font-size="12" fill="#34404e">'
        f"{escape(text['no_flux'])}</text>"
    )
    x += 70 + _text_width(text["no_flux"], 12)
    colour = flux_colour(5.0)
    w = flux_width(5.0)
    parts.append(
        f'<line x1="{_f(x)}" y1="{_f(mid)}" x2="{_f(x + 34)}" y2="{_f(mid)}" stroke="{colour}" '
        f'stroke-width="{_f(w)}"/>' + _arrow((x + 52, mid), (1.0, 0.0), w, colour)
    )
    parts.append(
        f'<text x="{_f(x + 62)}" y="{_f(mid + 4.5)}" font-size="12" fill="#34404e">'
        f"{escape(text['direction'])}</text>"
    )
    parts.append("</g>")
    return "".join(parts)


# -- the production envelope --------------------------------------------------------------------


def _nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high - low < 1e-12:
        high = low + 1.0
    raw = (high - low) / target
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(low / step) * step
    ticks = []
    t = first
    while t <= high + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < high - 1e-12:
        ticks.append(round(t, 10))
    return ticks


def envelope_svg(
    growth: Sequence[float],
    minimum: Sequence[float],
    maximum: Sequence[float],
    *,
    labels: Mapping[str, str] | None = None,
    product: str = "",
) -> str:
    """Plot a production envelope: the product's min and max flux against growth.

    The area between the curves is the feasible region; each computed point is a circle
    (``class="pt min"`` or ``class="pt max"``) whose title gives its values.
    """
    text = {**DEFAULT_LABELS, **(labels or {})}
    pts = [
        (float(g), float(lo), float(hi))
        for g, lo, hi in zip(growth, minimum, maximum, strict=True)
        if math.isfinite(g) and math.isfinite(lo) and math.isfinite(hi)
    ]
    width, height = 640.0, 400.0
    left, right, top, bottom = 78.0, 24.0, 34.0, 58.0
    pw, ph = width - left - right, height - top - bottom
    xs = [p[0] for p in pts] or [0.0, 1.0]
    ys = [p[1] for p in pts] + [p[2] for p in pts] or [0.0, 1.0]
    xt = _nice_ticks(min(0.0, min(xs)), max(xs))
    yt = _nice_ticks(min(0.0, min(ys)), max(ys))
    x0, x1, y0, y1 = xt[0], xt[-1], yt[0], yt[-1]

    def sx(v: float) -> float:
        return left + (v - x0) / ((x1 - x0) or 1.0) * pw

    def sy(v: float) -> float:
        return top + ph - (v - y0) / ((y1 - y0) or 1.0) * ph

    out = [
        f'<svg class="envelope" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} '
        f'{_f(height)}" role="img" aria-label="{escape(text["envelope"])}" '
        f'data-points="{len(pts)}"><title>{escape(text["envelope"])} {escape(product)}</title>',
        f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(pw)}" height="{_f(ph)}" fill="#fbfcfe" '
        f'stroke="#d9dee5"/>',
    ]
    for t in xt:
        x = sx(t)
        out.append(
            f'<line class="grid" x1="{_f(x)}" y1="{_f(top)}" x2="{_f(x)}" y2="{_f(top + ph)}" '
            f'stroke="#edf0f3"/><text class="tick x" x="{_f(x)}" y="{_f(top + ph + 18)}" '
            f'text-anchor="middle" font-size="12" fill="#5d6978">{t:g}</text>'
        )
    for t in yt:
        y = sy(t)
        out.append(
            f'<line class="grid" x1="{_f(left)}" y1="{_f(y)}" x2="{_f(left + pw)}" y2="{_f(y)}" '
            f'stroke="#edf0f3"/><text class="tick y" x="{_f(left - 8)}" y="{_f(y + 4)}" '
            f'text-anchor="end" font-size="12" fill="#5d6978">{t:g}</text>'
        )
    out.append(
        f'<text class="axis-label x" x="{_f(left + pw / 2)}" y="{_f(height - 14)}" '
        f'text-anchor="middle" font-size="13" fill="#34404e">{escape(text["growth"])}</text>'
        f'<text class="axis-label y" transform="translate(18,{_f(top + ph / 2)}) rotate(-90)" '
        f'text-anchor="middle" font-size="13" fill="#34404e">{escape(text["product"])}</text>'
    )
    if pts:
        upper = " ".join(f"{_f(sx(g))},{_f(sy(hi))}" for g, _, hi in pts)
        lower = " ".join(f"{_f(sx(g))},{_f(sy(lo))}" for g, lo, _ in reversed(pts))
        out.append(
            f'<polygon class="area" points="{upper} {lower}" fill="#2f6fad" fill-opacity=".12"/>'
        )
        for cls, k, colour, word in (
            ("max", 2, "#2f6fad", text["maximum"]),
            ("min", 1, "#c27c0e", text["minimum"]),
        ):
            line = " ".join(f"{_f(sx(p[0]))},{_f(sy(p[k]))}" for p in pts)
            out.append(
                f'<polyline class="curve {cls}" points="{line}" fill="none" stroke="{colour}" '
                f'stroke-width="2.2"/>'
            )
            for p in pts:
                out.append(
                    f'<circle class="pt {cls}" cx="{_f(sx(p[0]))}" cy="{_f(sy(p[k]))}" r="3.4" '
                    f'fill="#fff" stroke="{colour}" stroke-width="1.6"><title>'
                    f"{escape(text['growth'])}: {p[0]:.4g}; {escape(word)}: {p[k]:.4g}"
                    "</title></circle>"
                )
        lx = left + pw - 150
        out.append(
            f'<g class="key"><rect x="{_f(lx)}" y="{_f(top + 10)}" width="140" height="48" '
            f'rx="6" fill="#fff" stroke="#d9dee5"/>'
            f'<line x1="{_f(lx + 10)}" y1="{_f(top + 26)}" x2="{_f(lx + 34)}" y2="{_f(top + 26)}" '
            f'stroke="#2f6fad" stroke-width="2.2"/><text x="{_f(lx + 42)}" y="{_f(top + 30)}" '
            f'font-size="12" fill="#34404e">{escape(text["maximum"])}</text>'
            f'<line x1="{_f(lx + 10)}" y1="{_f(top + 44)}" x2="{_f(lx + 34)}" y2="{_f(top + 44)}" '
            f'stroke="#c27c0e" stroke-width="2.2"/><text x="{_f(lx + 42)}" y="{_f(top + 48)}" '
            f'font-size="12" fill="#34404e">{escape(text["minimum"])}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
