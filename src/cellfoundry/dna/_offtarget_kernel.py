"""Compiled kernels of the off-target index (numba): bucket tables and the seed search.

Pigeonhole, strengthened: split the spacer into ``k + m`` disjoint parts; a site within ``k``
mismatches differs in at most ``k`` of them, so at least ``m`` parts match exactly. The
index keeps one table per ``m``-subset of the parts, the sites bucketed by the bases of those
parts (up to ``BUCKET_BASES``; a counting sort, so ``offsets[key] .. offsets[key + 1]`` is a
bucket). Longer keys make smaller buckets: at 4 mismatches on the 1.2 Mb Mycoplasma genome a
guide meets about 7,500 candidates with single parts (``m = 1``), 1,200 with pairs and 320
with triples. The largest ``m`` (3, 2, 1) whose tables fit ``PAIR_TABLE_BUDGET`` is used.

A search visits, for every guide and every table, the guide's bucket, whose sites lie side by
side in memory (each table holds its own copy of the packed spacers in bucket order), and
verifies each site by XOR and a population count. A site is reported at the first table whose
bucket holds it, so each hit comes once. Every choice of ``m`` is exact.
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["BUCKET_BASES", "PAIR_TABLE_BUDGET", "SeedTables", "seed_search", "seed_tables"]

BUCKET_BASES: Final = 10
"""Bases that key a bucket at most (4^10 buckets, 8 MB of offsets a table)."""

PAIR_TABLE_BUDGET: Final = 600_000_000
"""Bytes the seed tables may take (sites x tables x 13); beyond it fewer exact parts are used."""

_BYTES_PER_SITE: Final = 13  # packed spacer 8 + site number 4 + PAM flag 1


@njit(cache=True, nogil=True)
def _popcount(x: np.uint64) -> int:  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555_5555_5555_5555))
    x = (x & np.uint64(0x3333_3333_3333_3333)) + (
        (x >> np.uint64(2)) & np.uint64(0x3333_3333_3333_3333)
    )
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F_0F0F_0F0F_0F0F)
    return int((x * np.uint64(0x0101_0101_0101_0101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def _key(
    code: np.uint64, s1: int, w1: int, s2: int, w2: int, s3: int, w3: int
) -> int:  # pragma: no cover - compiled
    one = np.uint64(1)
    first = (code >> np.uint64(s1)) & ((one << np.uint64(w1)) - one)
    second = (code >> np.uint64(s2)) & ((one << np.uint64(w2)) - one)
    third = (code >> np.uint64(s3)) & ((one << np.uint64(w3)) - one)
    return int((((first << np.uint64(w2)) | second) << np.uint64(w3)) | third)


@njit(cache=True, nogil=True)
def _bucket_sort(
    codes: Any, primary: Any, s1: int, w1: int, s2: int, w2: int, s3: int, w3: int
) -> tuple[Any, Any, Any, Any]:  # pragma: no cover - compiled
    n = codes.size
    size = 1 << (w1 + w2 + w3)
    offsets = np.zeros(size + 1, dtype=np.int64)
    keys = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = _key(codes[i], s1, w1, s2, w2, s3, w3)
        keys[i] = k
        offsets[k + 1] += 1
    for k in range(size):
        offsets[k + 1] += offsets[k]
    fill = offsets[:-1].copy()
    order = np.empty(n, dtype=np.int32)
    sorted_codes = np.empty(n, dtype=np.uint64)
    sorted_primary = np.empty(n, dtype=np.bool_)
    for i in range(n):
        k = keys[i]
        j = fill[k]
        order[j] = i
        sorted_codes[j] = codes[i]
        sorted_primary[j] = primary[i]
        fill[k] = j + 1
    return order, offsets, sorted_codes, sorted_primary


@dataclass(frozen=True, slots=True)
class SeedTables:
    """The bucketed sites of every seed (a part or a pair of parts), stacked for the kernel.

    ``codes`` and ``primary`` hold each table's copy of the sites' packed spacers and PAM
    flags in bucket order, so a bucket is scanned from contiguous memory. ``keys`` holds
    each table's key layout: shift and width (bits) of each of its (up to three) parts.
    """

    orders: npt.NDArray[np.int32]  # (tables, sites)
    codes: npt.NDArray[np.uint64]  # (tables, sites), in bucket order
    primary: npt.NDArray[np.bool_]  # (tables, sites), in bucket order
    offsets: npt.NDArray[np.int64]  # (tables, buckets + 1)
    keys: npt.NDArray[np.int64]  # (tables, 6): s1, w1, s2, w2, s3, w3

    @property
    def nbytes(self) -> int:
        """Memory the tables take."""
        return sum(a.nbytes for a in (self.orders, self.codes, self.primary, self.offsets))


def _layouts(spacer: int, max_mismatches: int, sites: int) -> list[tuple[int, ...]]:
    """Key layouts (s1, w1, s2, w2, s3, w3) of the seed tables for this mismatch limit.

    With ``k + m`` parts, ``m`` of them match exactly; one table per ``m``-subset of parts,
    keyed by their bases (at most ``BUCKET_BASES``). The largest ``m`` (3, 2, then 1) whose
    tables fit :data:`PAIR_TABLE_BUDGET` is used: longer keys, fewer candidates.
    """
    for m in (3, 2, 1):
        n = max_mismatches + m
        tables = math.comb(n, m)
        if n <= spacer and (m == 1 or sites * tables * _BYTES_PER_SITE <= PAIR_TABLE_BUDGET):
            break
    bounds = [spacer * i // n for i in range(n + 1)]
    parts = list(itertools.pairwise(bounds))
    layouts: list[tuple[int, ...]] = []
    for chosen in itertools.combinations(parts, m):
        layout: list[int] = []
        room = BUCKET_BASES
        for a, b in chosen:
            bases = min(b - a, room)
            room -= bases
            layout += [2 * (spacer - a - bases), 2 * bases]
        layout += [0, 0] * (3 - m)
        layouts.append(tuple(layout))
    return layouts


def seed_tables(
    codes: npt.NDArray[np.uint64],
    primary: npt.NDArray[np.bool_],
    spacer: int,
    max_mismatches: int,
    *,
    threads: int = 1,
) -> SeedTables:
    """Bucket the sites for every seed of this mismatch limit (tables built on ``threads``)."""
    layouts = _layouts(spacer, max_mismatches, codes.size)
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(layouts)))) as pool:
        buckets = list(pool.map(lambda layout: _bucket_sort(codes, primary, *layout), layouts))
    width = max(b[1].size for b in buckets)
    offsets = np.zeros((len(buckets), width), dtype=np.int64)
    for t, bucket in enumerate(buckets):
        offsets[t, : bucket[1].size] = bucket[1]
    return SeedTables(
        orders=np.stack([b[0] for b in buckets]),
        codes=np.stack([b[2] for b in buckets]),
        primary=np.stack([b[3] for b in buckets]),
        offsets=offsets,
        keys=np.array(layouts, dtype=np.int64).reshape(-1, 6),
    )


@njit(cache=True, nogil=True)
def _seed_search(
    codes: Any,
    primary: Any,
    include_alternative: bool,
    guides: Any,
    max_mismatches: int,
    orders: Any,
    offsets: Any,
    keys: Any,
) -> tuple[Any, Any, Any, int]:  # pragma: no cover - compiled
    tables = keys.shape[0]
    capacity = 1 << 14
    out_guide = np.empty(capacity, dtype=np.int32)
    out_site = np.empty(capacity, dtype=np.int64)
    out_mm = np.empty(capacity, dtype=np.int8)
    count = 0
    masks = np.empty(tables, dtype=np.uint64)
    one = np.uint64(1)
    for t in range(tables):
        m1 = ((one << np.uint64(keys[t, 1])) - one) << np.uint64(keys[t, 0])
        m2 = ((one << np.uint64(keys[t, 3])) - one) << np.uint64(keys[t, 2])
        m3 = ((one << np.uint64(keys[t, 5])) - one) << np.uint64(keys[t, 4])
        masks[t] = m1 | m2 | m3
    odd = np.uint64(0x5555_5555_5555_5555)
    for g in range(guides.size):
        packed = guides[g]
        for t in range(tables):
            key = _key(
                packed, keys[t, 0], keys[t, 1], keys[t, 2], keys[t, 3], keys[t, 4], keys[t, 5]
            )
            lo = offsets[t, key]
            hi = offsets[t, key + 1]
            for j in range(lo, hi):  # the bucket's sites lie side by side: a linear scan
                differ = codes[t, j] ^ packed
                folded = (differ | (differ >> np.uint64(1))) & odd
                mm = _popcount(folded)
                if mm > max_mismatches:  # most candidates stop here
                    continue
                if not include_alternative and not primary[t, j]:
                    continue
                earlier = False
                for q in range(t):  # reported already from an earlier table's bucket
                    if (differ & masks[q]) == 0:
                        earlier = True
                        break
                if earlier:
                    continue
                if count == capacity:
                    capacity *= 2
                    grown_guide = np.empty(capacity, dtype=np.int32)
                    grown_site = np.empty(capacity, dtype=np.int64)
                    grown_mm = np.empty(capacity, dtype=np.int8)
                    grown_guide[:count] = out_guide[:count]
                    grown_site[:count] = out_site[:count]
                    grown_mm[:count] = out_mm[:count]
                    out_guide, out_site, out_mm = grown_guide, grown_site, grown_mm
                out_guide[count] = g
                out_site[count] = orders[t, j]
                out_mm[count] = mm
                count += 1
    return out_guide, out_site, out_mm, count


def seed_search(
    include_alternative: bool,
    guides: npt.NDArray[np.uint64],
    max_mismatches: int,
    tables: SeedTables,
    *,
    threads: int = 1,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """Every (guide, site, mismatches) within ``max_mismatches``, each once, unordered.

    The guides are split over ``threads`` threads (the kernel releases the GIL).
    """

    def run(
        chunk: npt.NDArray[np.uint64],
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int8]]:
        g, s, m, n = _seed_search(
            tables.codes,
            tables.primary,
            include_alternative,
            chunk,
            max_mismatches,
            tables.orders,
            tables.offsets,
            tables.keys,
        )
        return g[:n], s[:n], m[:n]

    threads = max(1, min(threads, guides.size // 64))
    if threads == 1:
        return run(guides)
    bounds = np.linspace(0, guides.size, threads + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        parts = list(pool.map(run, [guides[a:b] for a, b in itertools.pairwise(bounds)]))
    return (
        np.concatenate([p[0] + np.int32(a) for p, a in zip(parts, bounds, strict=False)]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
