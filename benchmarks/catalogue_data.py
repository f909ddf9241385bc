"""Deterministic, realistic catalogue data for the bank benchmarks.

Strain records are drawn with a seeded generator from the genera, media,
countries and modification kinds a microbial resource centre holds; one strain
in five is derived from an earlier strain, so lineage and parent facets are
exercised. The CSV uses the catalogue columns of :mod:`cellfoundry.bank.formats.catalogue`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cellfoundry.bank.formats.catalogue import COLUMNS

GENERA = [
    ("Escherichia", "coli", "bacterium", 1, 562),
    ("Bacillus", "subtilis", "bacterium", 1, 1423),
    ("Corynebacterium", "glutamicum", "bacterium", 1, 1718),
    ("Pseudomonas", "putida", "bacterium", 1, 303),
    ("Pseudomonas", "aeruginosa", "bacterium", 2, 287),
    ("Streptomyces", "coelicolor", "bacterium", 1, 1902),
    ("Lactobacillus", "plantarum", "bacterium", 1, 1590),
    ("Clostridium", "acetobutylicum", "bacterium", 1, 1488),
    ("Saccharomyces", "cerevisiae", "yeast", 1, 4932),
    ("Pichia", "pastoris", "yeast", 1, 4922),
    ("Yarrowia", "lipolytica", "yeast", 1, 4952),
    ("Aspergillus", "niger", "filamentous fungus", 1, 5061),
    ("Aspergillus", "fumigatus", "filamentous fungus", 2, 746128),
    ("Trichoderma", "reesei", "filamentous fungus", 1, 51453),
    ("Synechocystis", "sp. PCC 6803", "bacterium", 1, 1148),
    ("Chlamydomonas", "reinhardtii", "alga", 1, 3055),
    ("Halobacterium", "salinarum", "archaeon", 1, 2242),
    ("Salmonella", "enterica", "bacterium", 2, 28901),
    ("Klebsiella", "pneumoniae", "bacterium", 2, 573),
    ("Mycobacterium", "tuberculosis", "bacterium", 3, 1773),
]
SOURCES = [
    "soil",
    "sewage",
    "fermented soybean paste",
    "hot spring",
    "marine sediment",
    "human faeces",
    "plant rhizosphere",
    "dairy product",
    "compost",
    "insect gut",
]
COUNTRIES = ["CN", "US", "DE", "JP", "GB", "FR", "BR", "IN", "KR", "NL"]
MEDIA = ["LB", "M9 glucose", "YPD", "BHI", "MRS", "R2A", "PDA", "TSB"]
ATMOS = ["aerobic", "anaerobic", "microaerophilic", "facultative"]
SUPPLY = ["freeze-dried", "frozen", "agar", "freeze-dried;frozen"]
NAGOYA = ["no known restrictions", "documents available", "outside scope", "unknown"]
STATUS = ["available", "available", "available", "restricted", "not available"]
MOD_KINDS = [
    "deletion",
    "insertion",
    "point mutation",
    "plasmid transformation",
    "adaptive evolution",
]
GENES = [
    "ldhA",
    "adhE",
    "pflB",
    "ackA",
    "pta",
    "poxB",
    "ptsG",
    "pykF",
    "zwf",
    "gltA",
    "aceE",
    "ppc",
    "pck",
    "glk",
    "galP",
    "sdhA",
    "fumA",
    "mdh",
    "icd",
    "aceA",
]


def catalogue_rows(n: int, *, seed: int = 20261127, prefix: str = "BJ") -> Iterator[list[str]]:
    """Yield ``n`` catalogue rows (as CSV cells), parents always before children."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, len(GENERA), n)
    src = rng.integers(0, len(SOURCES), n)
    cty = rng.integers(0, len(COUNTRIES), n)
    med = rng.integers(0, len(MEDIA), n)
    atm = rng.integers(0, len(ATMOS), n)
    sup = rng.integers(0, len(SUPPLY), n)
    nag = rng.integers(0, len(NAGOYA), n)
    sta = rng.integers(0, len(STATUS), n)
    derived = rng.random(n) < 0.2
    lat = rng.uniform(-60, 70, n)
    lon = rng.uniform(-180, 180, n)
    temp = rng.choice([25.0, 28.0, 30.0, 37.0, 42.0, 55.0], n)
    for i in range(n):
        genus, species, otype, risk, taxid = GENERA[g[i]]
        acc = f"{prefix}{i + 1:07d}"
        parent = ""
        mods = ""
        name = f"{genus} {species} {prefix}-{i + 1}"
        if derived[i] and i > 0:
            p = int(rng.integers(0, i))
            pgenus, pspecies, otype, risk, taxid = GENERA[g[p]]
            g[i] = g[p]
            parent = f"{prefix}{p + 1:07d}"
            gene = GENES[int(rng.integers(0, len(GENES)))]
            kind = MOD_KINDS[int(rng.integers(0, len(MOD_KINDS)))]
            mods = f"{kind}:{gene}:"
            name = f"{pgenus} {pspecies} {prefix}-{p + 1} Δ{gene}"
        yield [
            acc,
            f"ATCC {100000 + i}" if i % 7 == 0 else "",
            name,
            str(taxid),
            otype,
            str(risk),
            "yes" if i % 97 == 0 else "no",
            SOURCES[src[i]],
            COUNTRIES[cty[i]],
            "",
            f"{lat[i]:.4f}",
            f"{lon[i]:.4f}",
            MEDIA[med[i]],
            f"{temp[i]:.1f}",
            ATMOS[atm[i]],
            SUPPLY[sup[i]],
            "",
            NAGOYA[nag[i]],
            f"{GENES[i % len(GENES)]}+ {GENES[(i * 7) % len(GENES)]}-",
            "",
            STATUS[sta[i]],
            parent,
            mods,
            "",
            "",
        ]


def write_catalogue_csv(path: Path, n: int, *, seed: int = 20261127, prefix: str = "BJ") -> Path:
    """Write ``n`` catalogue records to ``path`` (once; reused if it exists with that size)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(catalogue_rows(n, seed=seed, prefix=prefix))
    tmp.rename(path)
    return path
