"""The universal reaction database: every BiGG reaction, with the genes that catalyse it.

The universe is the one CarveMe ships (Apache-2.0; Machado et al. 2018, Nucleic Acids Res 46,
7542): ``bigg_universe.xml.gz`` (25,348 reactions over 15,638 metabolites in all of BiGG's
compartments), ``bigg_gprs.csv.gz`` (which genes of which BiGG model catalyse each reaction)
and ``bigg_proteins.faa`` (those genes' protein sequences, headed ``>model.gene``).

Reading the SBML takes tens of seconds, so :func:`load_universe` compiles it once into a
:class:`Universe` (a :class:`~cellfoundry.metabolism.model.ModelSpec` plus the cross
references and the enzyme table) and keeps the compiled form on disk, keyed by the hash of the
three files, under ``$CELLFOUNDRY_CACHE`` (default ``~/.cache/cellfoundry``). Later loads read
that file (well under a second). Protein sequences stay in the FASTA file: the cache holds the
byte offset of each record, and :meth:`Universe.protein` reads one record when asked.

Identifiers are BiGG's, as COBRApy reads them: metabolites ``glc__D_c`` (species ``M_glc__D_c``
without its prefix), reactions ``PGI``, compartments ``c``/``p``/``e`` (``C_c`` without its
prefix), so a chassis from BiGG (iJO1366, iML1515) maps onto the universe by id.
:func:`extend_chassis` returns a chassis with chosen universe reactions added.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from cellfoundry.core.errors import ValidationError
from cellfoundry.metabolism.envelope import formula_elements
from cellfoundry.metabolism.model import GeneRule, ModelSource, ModelSpec, load_model

__all__ = [
    "DIRECTION_BASES",
    "ORGANISMS",
    "Enzyme",
    "Universe",
    "default_universe_files",
    "equation",
    "extend_chassis",
    "heterologous_reactions",
    "load_universe",
]

#: the cache format; bump when the compiled layout changes
_CACHE_VERSION = 2

#: BiGG models in the universe's gene table, with their organisms, in order of preference as a
#: gene source: well-characterised production hosts and their close relatives first, pathogens
#: and animal cells last
ORGANISMS: dict[str, str] = {
    "iML1515": "Escherichia coli K-12 MG1655",
    "iMM904": "Saccharomyces cerevisiae S288C",
    "iYO844": "Bacillus subtilis 168",
    "iYL1228": "Klebsiella pneumoniae MGH 78578",
    "iJN1463": "Pseudomonas putida KT2440",
    "iNF517": "Lactococcus lactis MG1363",
    "iHN637": "Clostridium ljungdahlii DSM 13528",
    "iSynCJ816": "Synechocystis sp. PCC 6803",
    "STM_v1_0": "Salmonella enterica Typhimurium LT2",
    "iAF987": "Geobacter metallireducens GS-15",
    "iLB1027_lipid": "Phaeodactylum tricornutum CCAP 1055/1",
    "iCN718": "Acinetobacter baumannii AYE",
    "iLJ478": "Thermotoga maritima MSB8",
    "iAF692": "Methanosarcina barkeri Fusaro",
    "iEK1008": "Mycobacterium tuberculosis H37Rv",
    "iYS854": "Staphylococcus aureus USA300_TCH1516",
    "iCN900": "Clostridioides difficile 630",
    "iPC815": "Yersinia pestis CO92",
    "iSSON_1240": "Shigella sonnei Ss046",
    "iSF_1195": "Shigella flexneri 2a 2457T",
    "iSbBS512_1146": "Shigella boydii CDC 3083-94",
    "iSDY_1059": "Shigella dysenteriae Sd197",
    "iIT341": "Helicobacter pylori 26695",
    "iCHOv1": "Cricetulus griseus (CHO cells)",
    "iMM1415": "Mus musculus",
    "iAT_PLT_636": "Homo sapiens (platelet)",
    "iIS312": "Trypanosoma cruzi Dm28c",
    "iAM_Pf480": "Plasmodium falciparum 3D7",
    "iAM_Pv461": "Plasmodium vivax Sal-1",
    "iAM_Pc455": "Plasmodium cynomolgi B",
    "iAM_Pb448": "Plasmodium berghei ANKA",
}
_RANK = {model: k for k, model in enumerate(ORGANISMS)}


@dataclass(frozen=True, slots=True)
class Enzyme:
    """One catalyst of a universe reaction in one BiGG model: a gene, or a complex of genes.

    ``genes`` are ``model.gene`` ids (the FASTA headers of ``bigg_proteins.faa``), e.g.
    ``("iYL1228.KPN_03491",)``.
    """

    model: str
    genes: tuple[str, ...]

    @property
    def organism(self) -> str:
        """The source organism (the model id when the organism is not listed)."""
        return ORGANISMS.get(self.model, self.model)


@dataclass(frozen=True, eq=False)
class Universe:
    """The compiled universal database. Get one with :func:`load_universe`.

    ``spec`` holds the reactions and metabolites (its objective is empty); ``xrefs`` the
    cross references of each metabolite as ``"db:id"`` strings (``inchikey:YPFD...``,
    ``chebi:CHEBI:16109``, ``kegg.compound:C02457``, ``metanetx.chemical:MNXM2861``).
    ``direction_basis`` says, per reaction, how its direction was set (an index into
    :data:`DIRECTION_BASES`: CarveMe's curation, a rule, or left reversible).
    """

    spec: ModelSpec
    xrefs: Sequence[tuple[str, ...]]
    catalysts: Mapping[str, str]  # reaction id -> "model:gene+gene|model:gene", best first
    protein_file: str
    protein_offsets: Mapping[str, tuple[int, int]]
    digest: str
    direction_basis: tuple[int, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def enzymes(self, reaction_id: str) -> tuple[Enzyme, ...]:
        """Return a reaction's catalysts, the preferred source first (empty for an orphan).

        Preference: the organism's place in :data:`ORGANISMS`, then enzymes whose every
        protein sequence is known, then fewer subunits.
        """
        text = self.catalysts.get(reaction_id)
        if not text:
            return ()
        out = []
        for entry in text.split("|"):
            model, _, genes = entry.partition(":")
            out.append(Enzyme(model, tuple(genes.split("+"))))
        return tuple(out)

    def protein(self, gene: str) -> str:
        """Return a gene's protein sequence (``""`` when the FASTA file holds none)."""
        where = self.protein_offsets.get(gene)
        if where is None:
            return ""
        start, end = where
        with self._lock, open(self.protein_file, "rb") as fh:
            fh.seek(start)
            raw = fh.read(end - start)
        return raw.decode("ascii").replace("\n", "").replace("\r", "").strip()

    def metabolite_index(self) -> dict[str, int]:
        """Return the row of each metabolite id."""
        cached = self.__dict__.get("_met_index")
        if cached is None:
            cached = {m: i for i, m in enumerate(self.spec.metabolites)}
            object.__setattr__(self, "_met_index", cached)
        return cached


# ---------------------------------------------------------------------------------------------
# files and cache


def default_universe_files() -> tuple[Path, Path, Path]:
    """Return CarveMe's universe SBML, gene table and protein FASTA paths."""
    folder = files("carveme") / "data" / "generated"
    return (
        Path(str(folder / "bigg_universe.xml.gz")),
        Path(str(folder / "bigg_gprs.csv.gz")),
        Path(str(folder / "bigg_proteins.faa")),
    )


def _direction_files() -> list[Path]:
    """CarveMe's reaction directions: its curated table and its per-domain universes."""
    data = files("carveme") / "data"
    out = [Path(str(data / "input" / "manually_curated.tsv"))]
    generated = Path(str(data / "generated"))
    out += sorted(generated.glob("universe_*.xml.gz"))
    return [p for p in out if p.is_file()]


def _cache_dir(cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("CELLFOUNDRY_CACHE")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "cellfoundry"


def _hash_files(paths: Iterable[Path]) -> str:
    h = hashlib.sha256(f"universe-v{_CACHE_VERSION}".encode())
    for path in paths:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


_LOADED: dict[str, Universe] = {}
_LOADED_LOCK = threading.Lock()


def load_universe(
    sbml: str | Path | None = None,
    gprs: str | Path | None = None,
    proteins: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
) -> Universe:
    """Return the compiled universe, from this process's memory, the disk cache or the files.

    Parameters
    ----------
    sbml, gprs, proteins
        The universe SBML, the gene table (CSV with ``gene, protein, reaction, model``) and
        the protein FASTA; default: CarveMe's (:func:`default_universe_files`).
    cache_dir
        Where the compiled form is kept (default ``$CELLFOUNDRY_CACHE`` or
        ``~/.cache/cellfoundry``). An unwritable folder only costs the next load its speed.

    Raises
    ------
    ValidationError
        A missing file or an SBML document that does not parse.
    """
    defaults = default_universe_files()
    paths = (
        Path(sbml) if sbml is not None else defaults[0],
        Path(gprs) if gprs is not None else defaults[1],
        Path(proteins) if proteins is not None else defaults[2],
    )
    for path in paths:
        if not path.is_file():
            raise ValidationError(
                "no such universe file (is carveme installed?)", source=str(path), field="path"
            )
    key = _hash_files((*paths, *_direction_files()))
    with _LOADED_LOCK:
        hit = _LOADED.get(key)
    if hit is not None:
        return hit
    cache = _cache_dir(cache_dir) / f"universe-{key[:32]}.npz"
    universe = _read_cache(cache, key, paths[2])
    if universe is None:
        arrays, meta = _compile(*paths)
        meta["digest"] = key
        _write_cache(cache, arrays, meta)
        universe = _assemble(arrays, meta, paths[2])
    with _LOADED_LOCK:
        _LOADED[key] = universe
    return universe


def _read_cache(path: Path, key: str, fasta: Path) -> Universe | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: np.asarray(data[name]) for name in data.files}
        meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
        if meta.get("digest") != key or meta.get("version") != _CACHE_VERSION:
            return None
        return _assemble(arrays, meta, fasta)
    except (OSError, ValueError, KeyError):
        return None  # a damaged or foreign file: rebuild it


def _write_cache(path: Path, arrays: Mapping[str, np.ndarray[Any, Any]], meta: Any) -> None:
    """Write the compiled universe atomically (a temporary file renamed into place)."""
    blob = np.frombuffer(json.dumps(meta, separators=(",", ":")).encode("utf-8"), np.uint8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".universe-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                payload: dict[str, Any] = {"meta": blob, **arrays}
                np.savez(fh, **payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return  # a read-only cache folder: the universe still works, compiled each time


def _pack(items: Sequence[str]) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Return strings (none holding a newline) as one UTF-8 byte array, newline-separated."""
    return np.frombuffer("\n".join(items).encode("utf-8"), np.uint8)


def _unpack(array: np.ndarray[Any, Any]) -> list[str]:
    text = bytes(array).decode("utf-8")
    return text.split("\n") if text else []


def _assemble(
    arrays: Mapping[str, np.ndarray[Any, Any]], meta: Mapping[str, Any], fasta: Path
) -> Universe:
    mets = _unpack(arrays["metabolites"])
    rxns = _unpack(arrays["reactions"])
    S = sp.csr_matrix(
        (arrays["s_val"], (arrays["s_row"], arrays["s_col"])),
        shape=(len(mets), len(rxns)),
        dtype=float,
    )
    S.sum_duplicates()
    for a in (S.indptr, S.indices, S.data):
        a.setflags(write=False)
    lb = np.array(arrays["lb"], dtype=float)
    ub = np.array(arrays["ub"], dtype=float)
    zeros = np.zeros(len(rxns))
    for a in (lb, ub, zeros):
        a.setflags(write=False)
    charges = tuple(None if np.isnan(c) else float(c) for c in arrays["charges"].tolist())
    spec = ModelSpec(
        id="bigg_universe",
        name="BiGG universe (CarveMe 1.6.6)",
        reactions=tuple(rxns),
        reaction_names=tuple(_unpack(arrays["reaction_names"])),
        subsystems=("",) * len(rxns),
        metabolites=tuple(mets),
        metabolite_names=tuple(_unpack(arrays["metabolite_names"])),
        formulas=tuple(f or None for f in _unpack(arrays["formulas"])),
        charges=charges,
        compartments=tuple(_unpack(arrays["compartments"])),
        genes=(),
        gene_names=(),
        S=S,
        lb=lb,
        ub=ub,
        objective=zeros,
        maximize=True,
        rules=(None,) * len(rxns),
        rule_texts=("",) * len(rxns),
        source=meta.get("source"),
    )
    ids = _unpack(arrays["protein_ids"])
    spans = arrays["protein_spans"].tolist()
    offsets = {g: (a, b) for g, (a, b) in zip(ids, spans, strict=True)}
    catalysts = dict(
        zip(_unpack(arrays["enzyme_reactions"]), _unpack(arrays["enzymes"]), strict=True)
    )
    return Universe(
        spec=spec,
        xrefs=_LazyRows(_unpack(arrays["xrefs"])),
        catalysts=catalysts,
        protein_file=str(fasta),
        protein_offsets=offsets,
        digest=str(meta["digest"]),
        direction_basis=tuple(arrays["direction_basis"].tolist()),
    )


class _LazyRows(Sequence[tuple[str, ...]]):
    """Tab-separated rows, split when read."""

    def __init__(self, rows: list[str]) -> None:
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [tuple(r.split("\t")) if r else () for r in self._rows[k]]
        row = self._rows[k]
        return tuple(row.split("\t")) if row else ()


# ---------------------------------------------------------------------------------------------
# compiling the files


def _clip(text: str, prefix: str) -> str:
    return text[len(prefix) :] if text.startswith(prefix) else text


def _xrefs(sbase: Any) -> list[str]:
    """Return the ``bqbiol:is`` identifiers.org references of an SBML element as ``db:id``."""
    out: list[str] = []
    for k in range(sbase.getNumCVTerms()):
        term = sbase.getCVTerm(k)
        for i in range(term.getNumResources()):
            uri = term.getResourceURI(i)
            marker = "identifiers.org/"
            at = uri.find(marker)
            if at < 0:
                continue
            rest = uri[at + len(marker) :]
            db, _, ident = rest.partition("/")
            if ident:
                out.append(f"{db}:{ident}")
    return out


def _compile(
    sbml: Path, gprs: Path, fasta: Path
) -> tuple[dict[str, np.ndarray[Any, Any]], dict[str, Any]]:
    import libsbml

    doc = libsbml.readSBMLFromFile(str(sbml))
    # schema slips (a species without boundaryCondition) are tolerated, as COBRApy does;
    # an XML document that does not parse is not
    errors = [
        doc.getError(k)
        for k in range(doc.getNumErrors())
        if doc.getError(k).getSeverity() >= libsbml.LIBSBML_SEV_FATAL
    ]
    model = doc.getModel()
    if errors or model is None:
        detail = " ".join(errors[0].getMessage().split()) if errors else "no model"
        raise ValidationError(f"the universe SBML does not parse: {detail}", source=str(sbml))
    params = {
        model.getParameter(k).getId(): model.getParameter(k).getValue()
        for k in range(model.getNumParameters())
    }
    mets: list[str] = []
    names: list[str] = []
    formulas: list[str | None] = []
    charges: list[float | None] = []
    comps: list[str] = []
    xrefs: list[list[str]] = []
    species_row: dict[str, int] = {}
    for k in range(model.getNumSpecies()):
        s = model.getSpecies(k)
        plugin = s.getPlugin("fbc")
        species_row[s.getId()] = k
        mets.append(_clip(s.getId(), "M_"))
        names.append(s.getName() or "")
        formula = plugin.getChemicalFormula() if plugin is not None else ""
        formulas.append(formula or None)
        charges.append(
            float(plugin.getCharge()) if plugin is not None and plugin.isSetCharge() else None
        )
        comps.append(_clip(s.getCompartment(), "C_"))
        xrefs.append(_xrefs(s))
    rxns: list[str] = []
    rnames: list[str] = []
    lb: list[float] = []
    ub: list[float] = []
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for j in range(model.getNumReactions()):
        r = model.getReaction(j)
        plugin = r.getPlugin("fbc")
        rxns.append(_clip(r.getId(), "R_"))
        rnames.append(r.getName() or "")
        lo = params.get(plugin.getLowerFluxBound(), -1000.0) if plugin else -1000.0
        up = params.get(plugin.getUpperFluxBound(), 1000.0) if plugin else 1000.0
        lb.append(float(lo))
        ub.append(float(up))
        for sign, count, get in (
            (-1.0, r.getNumReactants(), r.getReactant),
            (1.0, r.getNumProducts(), r.getProduct),
        ):
            for i in range(count):
                ref = get(i)
                rows.append(species_row[ref.getSpecies()])
                cols.append(j)
                vals.append(sign * float(ref.getStoichiometry()))
    basis = _orient(rxns, mets, rows, cols, vals, lb, ub)
    offsets = _index_fasta(fasta)
    enzymes = _read_gprs(gprs)
    encoded: dict[str, str] = {}
    for rid, entries in enzymes.items():
        entries.sort(
            key=lambda e: (
                _RANK.get(e[0], len(_RANK)),
                not all(g in offsets for g in e[1]),
                len(e[1]),
                e[1],
            )
        )
        encoded[rid] = "|".join(f"{model}:{'+'.join(genes)}" for model, genes in entries)
    nan = float("nan")
    arrays: dict[str, np.ndarray[Any, Any]] = {
        "s_row": np.asarray(rows, dtype=np.int32),
        "s_col": np.asarray(cols, dtype=np.int32),
        "s_val": np.asarray(vals, dtype=float),
        "lb": np.asarray(lb, dtype=float),
        "ub": np.asarray(ub, dtype=float),
        "direction_basis": np.asarray(basis, dtype=np.int8),
        "metabolites": _pack(mets),
        "metabolite_names": _pack([_one_line(n) for n in names]),
        "formulas": _pack([f or "" for f in formulas]),
        "charges": np.asarray([nan if c is None else c for c in charges], dtype=float),
        "compartments": _pack(comps),
        "xrefs": _pack(["\t".join(x) for x in xrefs]),
        "reactions": _pack(rxns),
        "reaction_names": _pack([_one_line(n) for n in rnames]),
        "protein_ids": _pack(list(offsets)),
        "protein_spans": np.asarray(list(offsets.values()), dtype=np.int64).reshape(-1, 2),
        "enzyme_reactions": _pack(list(encoded)),
        "enzymes": _pack(list(encoded.values())),
    }
    meta: dict[str, Any] = {"version": _CACHE_VERSION, "source": str(sbml)}
    return arrays, meta


#: how a reaction's direction was set (:attr:`Universe.direction_basis`)
DIRECTION_BASES = ("curated", "rule", "reversible")

_TRIPHOSPHATES = {
    "atp": ("adp", "amp"),
    "gtp": ("gdp", "gmp"),
    "ctp": ("cdp", "cmp"),
    "utp": ("udp", "ump"),
    "itp": ("idp", "imp"),
    "datp": ("dadp", "damp"),
    "dgtp": ("dgdp", "dgmp"),
    "dctp": ("dcdp", "dcmp"),
    "dttp": ("dtdp", "dtmp"),
}
_CURATED_REACTION = re.compile(
    r'<reaction [^>]*?id="R_([^"]+)"[^>]*?fbc:lowerFluxBound="([^"]+)"'
    r'[^>]*?fbc:upperFluxBound="([^"]+)"'
)


def _curated_directions() -> dict[str, tuple[float, float]]:
    """Return CarveMe's reaction bounds where they are not simply reversible."""
    out: dict[str, tuple[float, float]] = {}
    named = {"cobra_0_bound": 0.0, "cobra_default_lb": -1000.0, "cobra_default_ub": 1000.0}
    paths = _direction_files()
    for path in paths:
        if not path.name.endswith(".xml.gz"):
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            text = fh.read()
        for rid, lo, up in _CURATED_REACTION.findall(text):
            bounds = (named.get(lo, -1000.0), named.get(up, 1000.0))
            if bounds != (-1000.0, 1000.0):
                out.setdefault(rid, bounds)
    for path in paths:
        if path.suffix == ".tsv":
            with open(path, encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    rid = _clip(row["reaction"], "R_")
                    out[rid] = (float(row["lb"]), float(row["ub"]))  # the curated table wins
    return out


def _orient(
    rxns: Sequence[str],
    mets: Sequence[str],
    rows: Sequence[int],
    cols: Sequence[int],
    vals: Sequence[float],
    lb: list[float],
    ub: list[float],
) -> list[int]:
    """Set reaction directions in place; return each one's basis (index in DIRECTION_BASES).

    The BiGG universe declares every reaction reversible. Directions come first from CarveMe's
    curation (its table of bounds and its per-domain universes, whose directions derive from
    eQuilibrator estimates), then from rules for reactions far from equilibrium, applied to
    reactions within one compartment: nucleoside-triphosphate hydrolysis to the di- or
    monophosphate, decarboxylation, oxygen consumption, and hydrolysis releasing phosphate,
    diphosphate or coenzyme A run in that direction only. The rest stay reversible.
    """
    curated = _curated_directions()
    stoich: list[dict[str, float]] = [{} for _ in rxns]
    for i, j, v in zip(rows, cols, vals, strict=True):
        stoich[j][mets[i]] = v
    basis: list[int] = []
    for j, rid in enumerate(rxns):
        if rid in curated:
            lb[j], ub[j] = curated[rid]
            basis.append(0)
            continue
        sign = _rule_direction(stoich[j])
        if sign > 0:
            lb[j] = 0.0
        elif sign < 0:
            ub[j] = 0.0
        basis.append(1 if sign else 2)
    return basis


def _rule_direction(coefs: Mapping[str, float]) -> int:
    """Return +1 (forward), -1 (backward) or 0 (reversible) by the rules of :func:`_orient`."""
    split = [m.rsplit("_", 1) for m in coefs]
    if len({parts[-1] for parts in split}) != 1 or any(len(p) != 2 for p in split):
        return 0  # transport, or an id without compartment: no rule
    side = {parts[0]: coefs[m] for parts, m in zip(split, coefs, strict=True)}
    for tri, lower in _TRIPHOSPHATES.items():
        if tri in side and any(x in side and side[x] * side[tri] < 0 for x in lower):
            return 1 if side[tri] < 0 else -1
    if "co2" in side and len(side) > 2 and "hco3" not in side:
        return 1 if side["co2"] > 0 else -1
    if "o2" in side and len(side) > 2:
        return 1 if side["o2"] < 0 else -1
    if "h2o" in side:
        for released in ("pi", "ppi", "coa"):
            if released in side and side[released] * side["h2o"] < 0:
                return 1 if side["h2o"] < 0 else -1
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _index_fasta(path: Path) -> dict[str, tuple[int, int]]:
    """Return the byte range of each record's sequence, by header id."""
    out: dict[str, tuple[int, int]] = {}
    current: str | None = None
    start = 0
    position = 0
    with open(path, "rb") as fh:
        for line in fh:
            if line.startswith(b">"):
                if current is not None:
                    out[current] = (start, position)
                current = line[1:].split()[0].decode("ascii") if line[1:].split() else None
                start = position + len(line)
            position += len(line)
    if current is not None:
        out[current] = (start, position)
    return out


def _read_gprs(path: Path) -> dict[str, list[tuple[str, list[str]]]]:
    """Return each reaction's catalysts: ``(model, [model.gene, ...])`` per protein (complex)."""
    seen: dict[str, dict[tuple[str, str], list[str]]] = {}
    with gzip.open(path, "rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rid = _clip(row["reaction"], "R_")
            model = row["model"]
            protein = _clip(row["protein"], "P_")
            per = seen.setdefault(rid, {})
            if (model, protein) not in per:
                per[(model, protein)] = [f"{model}.{g}" for g in protein.split("+") if g]
    return {rid: [(model, genes) for (model, _), genes in per.items()] for rid, per in seen.items()}


# ---------------------------------------------------------------------------------------------
# the universe against a chassis


def equation(spec: ModelSpec, j: int) -> str:
    """Return a reaction as text, COBRApy style: ``glyc_c --> 3hppnl_c + h2o_c``."""
    csc = spec.S.getcol(j).tocoo()
    left: list[str] = []
    right: list[str] = []
    for i, v in sorted(zip(csc.row.tolist(), csc.data.tolist(), strict=True)):
        coef = abs(v)
        term = spec.metabolites[i] if coef == 1 else f"{coef:g} {spec.metabolites[i]}"
        (left if v < 0 else right).append(term)
    lo, up = spec.lb[j], spec.ub[j]
    arrow = "<=>" if lo < 0 < up else ("<--" if up <= 0 and lo < 0 else "-->")
    return f"{' + '.join(left)} {arrow} {' + '.join(right)}".strip()


def _signature(pairs: Iterable[tuple[str, float]]) -> tuple[tuple[str, float], ...]:
    """Return a reaction's stoichiometry up to direction (a reaction and its reverse match)."""
    items = sorted((m, round(v, 6)) for m, v in pairs)
    flipped = sorted((m, -v) for m, v in items)
    return min(tuple(items), tuple(flipped))


def heterologous_reactions(
    chassis: ModelSource, universe: Universe, *, balanced: bool = True
) -> tuple[int, ...]:
    """Return the universe reactions (columns) that could be inserted into the chassis.

    A reaction qualifies when all its metabolites lie in compartments the chassis has, it is
    not a boundary or pseudo-reaction (biomass, more than 12 metabolites), and the chassis has
    neither a reaction of the same id nor one of the same stoichiometry (either direction).
    With ``balanced`` (default), a reaction whose metabolites all have formulas must also
    balance every element, and its charges (where all known) must balance: an unbalanced
    reaction would create or destroy matter (or protons) in the chassis.
    """
    spec = load_model(chassis)
    comps = {c for c in spec.compartments if c}
    have_ids = set(spec.reactions)
    csc = sp.csc_matrix(spec.S)
    have_sig = set()
    for j in range(spec.n_reactions):
        lo, hi = csc.indptr[j], csc.indptr[j + 1]
        have_sig.add(
            _signature(
                (spec.metabolites[int(i)], float(v))
                for i, v in zip(csc.indices[lo:hi], csc.data[lo:hi], strict=True)
            )
        )
    u = universe.spec
    ucsc = sp.csc_matrix(u.S)
    elements = [formula_elements(f) if f else None for f in u.formulas]
    out: list[int] = []
    for j, rid in enumerate(u.reactions):
        lo, hi = ucsc.indptr[j], ucsc.indptr[j + 1]
        rows = ucsc.indices[lo:hi].tolist()
        if rid in have_ids or len(rows) < 2 or len(rows) > 12:
            continue
        if any(u.compartments[i] not in comps for i in rows):
            continue
        coefs = ucsc.data[lo:hi].tolist()
        if balanced and not _balanced(rows, coefs, elements, u.charges):
            continue
        if _signature(zip((u.metabolites[i] for i in rows), coefs, strict=True)) in have_sig:
            continue
        out.append(j)
    return tuple(out)


def _balanced(
    rows: Sequence[int],
    coefs: Sequence[float],
    elements: Sequence[dict[str, float] | None],
    charges: Sequence[float | None],
) -> bool:
    total: dict[str, float] = {}
    for i, v in zip(rows, coefs, strict=True):
        counts = elements[i]
        if counts is None:
            return True  # a formula unknown (or unreadable): the balance cannot be checked
        for element, n in counts.items():
            total[element] = total.get(element, 0.0) + v * n
    if any(abs(x) > 1e-6 for x in total.values()):
        return False
    known = [charges[i] for i in rows]
    if all(c is not None for c in known):
        charge = sum(v * float(c) for v, c in zip(coefs, known, strict=True) if c is not None)
        return abs(charge) < 1e-6
    return True


def extend_chassis(
    chassis: ModelSource,
    reactions: Sequence[str],
    universe: Universe | None = None,
    *,
    demands: Sequence[str] = (),
) -> ModelSpec:
    """Return the chassis with universe reactions (and their new metabolites) added.

    Parameters
    ----------
    chassis
        The host model (path, ``cobra.Model`` or :class:`ModelSpec`); keeps its objective,
        bounds and medium.
    reactions
        Universe reaction ids to insert; each keeps its universe bounds (direction). Their
        preferred catalysts (:meth:`Universe.enzymes`) become the gene rule, over genes named
        ``model.gene``.
    universe
        Default: :func:`load_universe`.
    demands
        Metabolite ids that get a demand reaction ``DM_<id>`` (bounds 0 to 1000): an outlet
        for a product the chassis cannot export.

    Raises
    ------
    ValidationError
        A reaction the universe does not hold, a reaction id the chassis already uses, or a
        demand for a metabolite neither model has.
    """
    spec = load_model(chassis)
    uni = universe if universe is not None else load_universe()
    u = uni.spec
    met_row = {m: i for i, m in enumerate(spec.metabolites)}
    new_mets: list[int] = []  # universe rows
    new_row: dict[str, int] = {}
    cols: list[list[tuple[int, float]]] = []
    names: list[str] = []
    texts: list[str] = []
    lbs: list[float] = []
    ubs: list[float] = []
    ucsc = sp.csc_matrix(u.S)
    have = set(spec.reactions)
    added_ids: list[str] = []
    genes = list(spec.genes)
    gene_names = list(spec.gene_names)
    gene_index = dict(spec.gene_lookup)
    rules: list[GeneRule | None] = []
    for rid in reactions:
        j = u.reaction_index(rid)
        if rid in have:
            raise ValidationError(
                f"the chassis already has a reaction {rid!r}",
                source=spec.source,
                record=rid,
                field="reactions",
            )
        have.add(rid)
        entries: list[tuple[int, float]] = []
        lo, hi = ucsc.indptr[j], ucsc.indptr[j + 1]
        for i, v in zip(ucsc.indices[lo:hi].tolist(), ucsc.data[lo:hi].tolist(), strict=True):
            mid = u.metabolites[i]
            row = met_row.get(mid)
            if row is None:
                row = new_row.get(mid)
                if row is None:
                    row = spec.n_metabolites + len(new_mets)
                    new_row[mid] = row
                    new_mets.append(i)
            entries.append((row, v))
        cols.append(entries)
        names.append(u.reaction_names[j])
        lbs.append(float(u.lb[j]))
        ubs.append(float(u.ub[j]))
        added_ids.append(rid)
        enzymes = uni.enzymes(rid)
        if enzymes:
            subunits: list[GeneRule] = []
            for g in enzymes[0].genes:
                if g not in gene_index:
                    gene_index[g] = len(genes)
                    genes.append(g)
                    gene_names.append("")
                subunits.append(gene_index[g])
            rules.append(subunits[0] if len(subunits) == 1 else ("and", tuple(subunits)))
            text = " and ".join(enzymes[0].genes)
            texts.append(f"({text})" if len(enzymes[0].genes) > 1 else text)
        else:
            rules.append(None)
            texts.append("")
    for mid in demands:
        rid = f"DM_{mid}"
        if rid in have:
            raise ValidationError(
                f"the chassis already has a reaction {rid!r}",
                source=spec.source,
                record=rid,
                field="demands",
            )
        have.add(rid)
        row = met_row.get(mid, new_row.get(mid))
        if row is None:
            i = uni.metabolite_index().get(mid)
            if i is None:
                raise ValidationError(
                    f"neither the chassis nor the universe has a metabolite {mid!r}",
                    source=spec.source,
                    record=mid,
                    field="demands",
                )
            row = spec.n_metabolites + len(new_mets)
            new_row[mid] = row
            new_mets.append(i)
        cols.append([(row, -1.0)])
        names.append(f"demand of {mid}")
        lbs.append(0.0)
        ubs.append(1000.0)
        added_ids.append(rid)
        rules.append(None)
        texts.append("")
    n_m = spec.n_metabolites + len(new_mets)
    n_new = len(cols)
    extra = sp.csr_matrix(
        (
            [v for entries in cols for _, v in entries],
            (
                [r for entries in cols for r, _ in entries],
                [k for k, entries in enumerate(cols) for _ in entries],
            ),
        ),
        shape=(n_m, n_new),
    )
    base = sp.vstack([spec.S, sp.csr_matrix((len(new_mets), spec.n_reactions))], format="csr")
    S = sp.hstack([base, extra], format="csr")
    S.sum_duplicates()
    for a in (S.indptr, S.indices, S.data):
        a.setflags(write=False)

    def frozen(values: Iterable[float]) -> np.ndarray[Any, np.dtype[np.float64]]:
        a = np.asarray(list(values), dtype=float)
        a.setflags(write=False)
        return a

    return ModelSpec(
        id=spec.id,
        name=spec.name,
        reactions=spec.reactions + tuple(added_ids),
        reaction_names=spec.reaction_names + tuple(names),
        subsystems=spec.subsystems + ("Heterologous",) * n_new,
        metabolites=spec.metabolites + tuple(u.metabolites[i] for i in new_mets),
        metabolite_names=spec.metabolite_names + tuple(u.metabolite_names[i] for i in new_mets),
        formulas=spec.formulas + tuple(u.formulas[i] for i in new_mets),
        charges=spec.charges + tuple(u.charges[i] for i in new_mets),
        compartments=spec.compartments + tuple(u.compartments[i] for i in new_mets),
        genes=tuple(genes),
        gene_names=tuple(gene_names),
        S=S,
        lb=frozen([*spec.lb.tolist(), *lbs]),
        ub=frozen([*spec.ub.tolist(), *ubs]),
        objective=frozen([*spec.objective.tolist(), *([0.0] * n_new)]),
        maximize=spec.maximize,
        rules=spec.rules + tuple(rules),
        rule_texts=spec.rule_texts + tuple(texts),
        source=spec.source,
    )
