"""Compiled kernels of the off-target index (numba): bucket tables and the seed search.

Pigeonhole, strengthened: split the spacer into ``k + 2`` disjoint parts; a site within
``k`` mismatches differs in at most ``k`` of them, so at least **two** parts match exactly.
The index keeps one table per pair of parts, the sites bucketed by the bases of both (up
to ``BUCKET_BASES``; a counting sort, so ``offsets[key] .. offsets[key + 1]`` is a bucket).
A key twice as long as a single part's makes buckets about ``4^(20/(k+2))`` times smaller:
at 4 mismatches on a 20-nt spacer, some 150 candidates a guide on a 1.2 Mb genome instead
of 7,500 with ``k + 1`` single parts.

A search visits, for every guide and every pair, the guide's bucket, whose sites lie side
by side in memory (each table holds its own copy of the packed spacers in bucket order), and
verifies each site by XOR against the packed spacer. A site is reported at the first pair
whose bucket holds it, so each hit comes once. Where the pair tables would take too much
memory (``PAIR_TABLE_BUDGET``), single parts (``k + 1``) are used; both are exact.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = ["BUCKET_BASES", "PAIR_TABLE_BUDGET", "SeedTables", "seed_search", "seed_tables"]

BUCKET_BASES: Final = 10
"""Bases that key a bucket at most (4^10 buckets, 8 MB of offsets a table)."""

PAIR_TABLE_BUDGET: Final = 1_200_000_000
"""Bytes the pair tables may take (sites x pairs x 13); beyond it single parts are used."""

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
def _key(code: np.uint64, s1: int, w1: int, s2: int, w2: int) -> int:  # pragma: no cover
    first = (code >> np.uint64(s1)) & ((np.uint64(1) << np.uint64(w1)) - np.uint64(1))
    second = (code >> np.uint64(s2)) & ((np.uint64(1) << np.uint64(w2)) - np.uint64(1))
    return int((first << np.uint64(w2)) | second)


@njit(cache=True, nogil=True)
def _bucket_sort(
    codes: Any, primary: Any, s1: int, w1: int, s2: int, w2: int
) -> tuple[Any, Any, Any, Any]:  # pragma: no cover - compiled
    n = codes.size
    size = 1 << (w1 + w2)
    offsets = np.zeros(size + 1, dtype=np.int64)
    keys = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = _key(codes[i], s1, w1, s2, w2)
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
    each table's key layout: shift and width (bits) of its first and second part.
    """

    orders: npt.NDArray[np.int32]  # (tables, sites)
    codes: npt.NDArray[np.uint64]  # (tables, sites), in bucket order
    primary: npt.NDArray[np.bool_]  # (tables, sites), in bucket order
    offsets: npt.NDArray[np.int64]  # (tables, buckets + 1)
    keys: npt.NDArray[np.int64]  # (tables, 4): s1, w1, s2, w2

    @property
    def nbytes(self) -> int:
        """Memory the tables take."""
        return sum(a.nbytes for a in (self.orders, self.codes, self.primary, self.offsets))


def _layouts(spacer: int, max_mismatches: int, sites: int) -> list[tuple[int, int, int, int]]:
    """Key layouts (s1, w1, s2, w2) of the seed tables for this mismatch limit."""
    pairs = (max_mismatches + 2) * (max_mismatches + 1) // 2
    use_pairs = max_mismatches + 2 <= spacer and sites * pairs * _BYTES_PER_SITE <= (
        PAIR_TABLE_BUDGET
    )
    n = max_mismatches + 2 if use_pairs else max_mismatches + 1
    bounds = [spacer * i // n for i in range(n + 1)]
    parts = list(itertools.pairwise(bounds))
    layouts: list[tuple[int, int, int, int]] = []
    if use_pairs:
        for (a, b), (c, d) in itertools.combinations(parts, 2):
            first = min(b - a, BUCKET_BASES)
            second = min(d - c, BUCKET_BASES - first)
            layouts.append(
                (2 * (spacer - a - first), 2 * first, 2 * (spacer - c - second), 2 * second)
            )
    else:
        for a, b in parts:
            first = min(b - a, BUCKET_BASES)
            layouts.append((2 * (spacer - a - first), 2 * first, 0, 0))
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
        keys=np.array(layouts, dtype=np.int64).reshape(-1, 4),
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
        masks[t] = m1 | m2
    odd = np.uint64(0x5555_5555_5555_5555)
    for g in range(guides.size):
        packed = guides[g]
        for t in range(tables):
            key = _key(packed, keys[t, 0], keys[t, 1], keys[t, 2], keys[t, 3])
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
