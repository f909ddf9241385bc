"""From reactions to genes: which gene deletions disable a reaction, by its gene rule.

A rule ``a and b`` (a complex) fails when either gene is deleted; ``a or b`` (isozymes) only
when both are. The minimal gene sets that make a rule fail (its *gene cuts*) follow from the
rule's tree: the cuts of an ``and`` node are its children's cuts together, those of an ``or``
node one cut of every child, combined. Only the smallest few are kept (a rule with many
isozyme complexes has exponentially many cuts, and nobody deletes twenty genes for one
reaction).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence

from cellfoundry.metabolism.model import GeneRule

__all__ = ["cheapest_combinations", "gene_cuts", "rule_genes"]

GeneSet = frozenset[int]


def gene_cuts(rule: GeneRule, *, limit: int = 16, max_size: int = 6) -> list[GeneSet]:
    """Return the smallest minimal gene sets whose deletion makes ``rule`` fail.

    At most ``limit`` sets of at most ``max_size`` genes, smallest first.

    Examples
    --------
    >>> gene_cuts(("or", (0, ("and", (1, 2)))))
    [frozenset({0, 1}), frozenset({0, 2})]
    """
    return _minimal(_cuts(rule, limit, max_size), limit)


def _cuts(rule: GeneRule, limit: int, max_size: int) -> list[GeneSet]:
    if isinstance(rule, int):
        return [frozenset((rule,))]
    op, children = rule
    parts = [_cuts(child, limit, max_size) for child in children]
    if op == "and":
        return _minimal([c for part in parts for c in part], limit)
    combined: list[GeneSet] = [frozenset()]
    for part in parts:
        if not part:
            return []
        combined = _minimal(
            [a | b for a in combined for b in part if len(a | b) <= max_size], limit * 4
        )
    return _minimal(combined, limit)


def _minimal(sets: Iterable[GeneSet], limit: int) -> list[GeneSet]:
    """Drop duplicates and supersets; keep the ``limit`` smallest (ties by sorted genes)."""
    ordered = sorted(set(sets), key=lambda s: (len(s), sorted(s)))
    out: list[GeneSet] = []
    for s in ordered:
        if not any(t <= s for t in out):
            out.append(s)
        if len(out) >= limit:
            break
    return out


def cheapest_combinations(
    options: Sequence[Sequence[GeneSet]], *, protected: Collection[int] = (), limit: int = 256
) -> list[GeneSet]:
    """Return gene sets that take one option per target, smallest union first.

    ``options[t]`` are the gene sets that disable target ``t``; combinations holding a
    ``protected`` gene are skipped. At most ``limit`` combinations are formed.
    """
    pools = [[o for o in opts if not (o & set(protected))] for opts in options]
    if any(not pool for pool in pools):
        return []
    seen: set[GeneSet] = set()
    for combo in itertools.islice(itertools.product(*pools), limit):
        seen.add(frozenset().union(*combo))
    return sorted(seen, key=lambda s: (len(s), sorted(s)))


def rule_genes(rule: GeneRule) -> set[int]:
    """Return every gene a rule mentions.

    Examples
    --------
    >>> sorted(rule_genes(("or", (0, ("and", (1, 2))))))
    [0, 1, 2]
    """
    if isinstance(rule, int):
        return {rule}
    return set().union(*(rule_genes(child) for child in rule[1]))
