"""A genome-scale model, compiled once into arrays: the form every analysis works on.

Users keep their files and notebooks: :func:`load_model` reads SBML (levels 2 and 3 with the FBC
package), COBRA JSON, MATLAB and YAML through ``cobra.io``, or takes a ``cobra.Model`` as it is.
The result, a :class:`ModelSpec`, is frozen and picklable (it is what goes to worker processes
and Dask workers): the stoichiometric matrix in CSR form, flux bounds, the objective, and the
gene-protein-reaction rules compiled to trees over gene indices.

Bad input raises :class:`~cellfoundry.core.errors.ValidationError` naming the file and the
reaction (or SBML line) at fault, never a parser traceback.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from cellfoundry.core.errors import FormatError, ValidationError

if TYPE_CHECKING:
    import cobra

__all__ = ["GeneRule", "ModelSource", "ModelSpec", "load_model", "with_medium"]

# a compiled gene rule: a gene index, or ("and" | "or", children)
GeneRule = Union[int, tuple[str, tuple["GeneRule", ...]]]  # noqa: UP007 (a recursive alias)

ModelSource = Union[str, Path, "cobra.Model", "ModelSpec"]

FloatArray = NDArray[np.float64]

_SBML_SUFFIXES = (".xml", ".sbml", ".xml.gz", ".sbml.gz", ".xml.bz2", ".xml.zip")


def _frozen(a: NDArray[Any]) -> NDArray[Any]:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """A constraint-based model as arrays. Build one with :func:`load_model`."""

    id: str
    name: str
    reactions: tuple[str, ...]
    reaction_names: tuple[str, ...]
    subsystems: tuple[str, ...]
    metabolites: tuple[str, ...]
    metabolite_names: tuple[str, ...]
    formulas: tuple[str | None, ...]
    charges: tuple[float | None, ...]
    compartments: tuple[str | None, ...]
    genes: tuple[str, ...]
    gene_names: tuple[str, ...]
    S: sp.csr_matrix
    lb: FloatArray
    ub: FloatArray
    objective: FloatArray
    maximize: bool
    rules: tuple[GeneRule | None, ...]
    rule_texts: tuple[str, ...]
    source: str | None = None
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({r: j for j, r in enumerate(self.reactions)})

    @property
    def n_reactions(self) -> int:
        """N reactions."""
        return len(self.reactions)

    @property
    def n_metabolites(self) -> int:
        """N metabolites."""
        return len(self.metabolites)

    def reaction_index(self, reaction_id: str) -> int:
        """Return the column of a reaction; a named error if the model has no such reaction."""
        try:
            return self._index[reaction_id]
        except KeyError:
            raise ValidationError(
                f"model {self.id!r} has no reaction {reaction_id!r}",
                source=self.source,
                record=reaction_id,
                field="reaction",
            ) from None

    def gene_index(self, gene_id: str) -> int:
        """Return the index of a gene; a named error if the model has no such gene."""
        try:
            return self.gene_lookup[gene_id]
        except KeyError:
            raise ValidationError(
                f"model {self.id!r} has no gene {gene_id!r}",
                source=self.source,
                record=gene_id,
                field="gene",
            ) from None

    @property
    def gene_lookup(self) -> dict[str, int]:
        """Gene lookup."""
        cached = self.__dict__.get("_gene_lookup")
        if cached is None:
            cached = {g: i for i, g in enumerate(self.genes)}
            object.__setattr__(self, "_gene_lookup", cached)
        return cached

    @property
    def boundary(self) -> NDArray[np.int64]:
        """Reactions with a single metabolite (exchange, demand and sink reactions)."""
        cached = self.__dict__.get("_boundary")
        if cached is None:
            counts = np.diff(sp.csc_matrix(self.S).indptr)
            cached = _frozen(np.flatnonzero(counts == 1))
            object.__setattr__(self, "_boundary", cached)
        return cached

    @property
    def exchanges(self) -> NDArray[np.int64]:
        """Exchange reactions: boundary reactions whose metabolite is extracellular."""
        csc = sp.csc_matrix(self.S)
        ext = _external_compartment(self)
        keep = [
            j
            for j in self.boundary
            if self.compartments[int(csc.indices[csc.indptr[j]])] == ext
            or self.reactions[j].startswith("EX_")
        ]
        return np.asarray(keep, dtype=np.int64)

    @property
    def medium(self) -> dict[str, float]:
        """COBRApy's ``model.medium``: open uptakes of exchange reactions, by reaction id."""
        csc = sp.csc_matrix(self.S)
        out: dict[str, float] = {}
        for j in self.exchanges:
            coef = csc.data[csc.indptr[j]]
            uptake = -self.lb[j] if coef < 0 else self.ub[j]
            if uptake > 0:
                out[self.reactions[j]] = float(uptake)
        return out

    @property
    def digest(self) -> str:
        """A content hash of everything an analysis depends on (for caching results)."""
        cached = self.__dict__.get("_digest")
        if cached is None:
            h = hashlib.sha256()
            for part in (self.reactions, self.metabolites, self.genes, self.rule_texts):
                h.update("\x1f".join(part).encode())
            csr = self.S
            for arr in (csr.indptr, csr.indices, csr.data, self.lb, self.ub, self.objective):
                h.update(np.ascontiguousarray(arr).tobytes())
            h.update(b"max" if self.maximize else b"min")
            cached = h.hexdigest()
            object.__setattr__(self, "_digest", cached)
        return cached

    def with_bounds(self, changes: Mapping[str, tuple[float, float]]) -> ModelSpec:
        """Return a copy with some reactions' bounds replaced: ``{reaction_id: (lb, ub)}``."""
        lb = np.array(self.lb)
        ub = np.array(self.ub)
        for rid, (lo, up) in changes.items():
            j = self.reaction_index(rid)
            if lo > up:
                raise ValidationError(
                    f"lower bound {lo} is above upper bound {up}",
                    source=self.source,
                    record=rid,
                    field="bounds",
                )
            lb[j], ub[j] = lo, up
        return _respec(self, lb=_frozen(lb), ub=_frozen(ub))

    def with_objective(self, reaction_id: str, *, maximize: bool = True) -> ModelSpec:
        """Return a copy whose objective is one reaction's flux."""
        c = np.zeros(self.n_reactions)
        c[self.reaction_index(reaction_id)] = 1.0
        return _respec(self, objective=_frozen(c), maximize=maximize)

    def knocked_out(self, genes: Iterable[int]) -> NDArray[np.int64]:
        """Reactions whose gene rule fails when the given genes (indices) are deleted."""
        dead = set(genes)
        if not dead:
            return np.zeros(0, dtype=np.int64)
        out: list[int] = []
        for j in sorted(self.reactions_of_genes(dead)):
            rule = self.rules[j]
            if rule is not None and not _holds(rule, dead):
                out.append(j)
        return np.asarray(out, dtype=np.int64)

    @property
    def coupled_groups(self) -> tuple[tuple[int, ...], ...]:
        """Reactions whose fluxes are proportional in every steady state, grouped.

        Two reactions that share a metabolite no other reaction touches must carry flux in a
        fixed ratio (``S[i,a]·v[a] + S[i,b]·v[b] = 0``), so knocking out either stops both;
        the groups are the transitive closure of that. A knock-out of any member is a
        knock-out of its whole group: deletion screens solve each distinct closure once.
        """
        cached = self.__dict__.get("_coupled")
        if cached is None:
            parent = list(range(self.n_reactions))

            def find(x: int) -> int:
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x

            csr = self.S
            for i in np.flatnonzero(np.diff(csr.indptr) == 2):
                a, b = (int(x) for x in csr.indices[csr.indptr[i] : csr.indptr[i + 1]])
                parent[find(a)] = find(b)
            members: dict[int, list[int]] = {}
            for j in range(self.n_reactions):
                members.setdefault(find(j), []).append(j)
            group_of = [0] * self.n_reactions
            groups: list[tuple[int, ...]] = []
            for k, reactions in enumerate(members.values()):
                groups.append(tuple(reactions))
                for j in reactions:
                    group_of[j] = k
            cached = tuple(groups)
            object.__setattr__(self, "_coupled", cached)
            object.__setattr__(self, "_group_of", tuple(group_of))
        return cached

    @property
    def coupling(self) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """Return each reaction's coupled representative r and ratio λ: ``v[j] = λ·v[r]``.

        The ratios come from the rows of metabolites only two reactions touch.
        If two rows of a group ask for different ratios, every flux of the group must be zero,
        so the representative's range is zero and so is every λ-multiple of it: results
        derived through λ stay exact.
        """
        cached = self.__dict__.get("_coupling")
        if cached is None:
            n = self.n_reactions
            edges: list[list[tuple[int, float]]] = [[] for _ in range(n)]
            csr = self.S
            for i in np.flatnonzero(np.diff(csr.indptr) == 2):
                lo, hi = csr.indptr[i], csr.indptr[i + 1]
                (a, b), (sa, sb) = csr.indices[lo:hi].tolist(), csr.data[lo:hi].tolist()
                edges[a].append((b, -sb / sa))  # v_a = (-s_b/s_a)·v_b
                edges[b].append((a, -sa / sb))
            rep = list(range(n))
            ratio = [1.0] * n
            seen = [False] * n
            for root in range(n):
                if seen[root]:
                    continue
                seen[root] = True
                stack = [root]
                while stack:
                    x = stack.pop()
                    for y, w in edges[x]:  # v_x = w·v_y, so v_y = v_x / w
                        if not seen[y]:
                            seen[y] = True
                            rep[y] = root
                            ratio[y] = ratio[x] / w
                            stack.append(y)
            cached = (tuple(rep), tuple(ratio))
            object.__setattr__(self, "_coupling", cached)
        return cached

    def closure(self, knockout: Iterable[int]) -> tuple[int, ...]:
        """Every reaction a knock-out stops: its reactions' coupled groups, sorted."""
        groups = self.coupled_groups
        group_of: tuple[int, ...] = self.__dict__["_group_of"]
        seen = {group_of[j] for j in knockout}
        return tuple(sorted(j for g in seen for j in groups[g]))

    def reactions_of_genes(self, genes: Iterable[int]) -> set[int]:
        """Reactions whose rule mentions any of the genes."""
        table = self.gene_reactions
        out: set[int] = set()
        for g in genes:
            out.update(table[g])
        return out

    @property
    def gene_reactions(self) -> tuple[tuple[int, ...], ...]:
        """Gene reactions."""
        cached = self.__dict__.get("_gene_reactions")
        if cached is None:
            lists: list[list[int]] = [[] for _ in self.genes]
            for j, rule in enumerate(self.rules):
                if rule is not None:
                    for g in sorted(_genes_of(rule)):
                        lists[g].append(j)
            cached = tuple(tuple(x) for x in lists)
            object.__setattr__(self, "_gene_reactions", cached)
        return cached

    def to_cobra(self) -> cobra.Model:
        """Return the model as a ``cobra.Model`` (for SBML export or COBRApy's own tools)."""
        import cobra

        model = cobra.Model(self.id, name=self.name)
        mets = [
            cobra.Metabolite(
                m,
                name=self.metabolite_names[i],
                formula=self.formulas[i],
                charge=self.charges[i],
                compartment=self.compartments[i],
            )
            for i, m in enumerate(self.metabolites)
        ]
        csc = sp.csc_matrix(self.S)
        reactions = []
        for j, rid in enumerate(self.reactions):
            r = cobra.Reaction(
                rid,
                name=self.reaction_names[j],
                subsystem=self.subsystems[j],
                lower_bound=float(self.lb[j]),
                upper_bound=float(self.ub[j]),
            )
            lo, hi = csc.indptr[j], csc.indptr[j + 1]
            r.add_metabolites(
                {
                    mets[int(i)]: float(v)
                    for i, v in zip(csc.indices[lo:hi], csc.data[lo:hi], strict=True)
                }
            )
            r.gene_reaction_rule = self.rule_texts[j]
            reactions.append(r)
        model.add_reactions(reactions)
        for g in model.genes:
            k = self.gene_lookup.get(g.id)
            if k is not None:
                g.name = self.gene_names[k]
        model.objective = {
            model.reactions[j]: float(self.objective[j]) for j in np.flatnonzero(self.objective)
        }
        model.objective_direction = "max" if self.maximize else "min"
        return model


def _respec(spec: ModelSpec, **changes: Any) -> ModelSpec:
    fresh = replace(spec, _index={}, **changes)
    # derived caches that do not depend on bounds or objective carry over
    for key in ("_gene_lookup", "_gene_reactions", "_boundary"):
        if key in spec.__dict__:
            object.__setattr__(fresh, key, spec.__dict__[key])
    return fresh


def _external_compartment(spec: ModelSpec) -> str | None:
    csc = sp.csc_matrix(spec.S)
    counts: dict[str | None, int] = {}
    for j in spec.boundary:
        c = spec.compartments[int(csc.indices[csc.indptr[j]])]
        counts[c] = counts.get(c, 0) + 1
    if not counts:
        return None
    return max(counts.items(), key=lambda kv: kv[1])[0]


def _holds(rule: GeneRule, dead: set[int]) -> bool:
    if isinstance(rule, int):
        return rule not in dead
    op, children = rule
    if op == "and":
        return all(_holds(c, dead) for c in children)
    return any(_holds(c, dead) for c in children)


def _genes_of(rule: GeneRule) -> set[int]:
    if isinstance(rule, int):
        return {rule}
    out: set[int] = set()
    for c in rule[1]:
        out |= _genes_of(c)
    return out


def with_medium(spec: ModelSpec, medium: Mapping[str, float]) -> ModelSpec:
    """COBRApy's ``model.medium = medium``: these uptakes open, every other exchange closed.

    ``medium`` maps exchange reaction ids to the maximum uptake rate (mmol/gDW/h, positive).
    """
    csc = sp.csc_matrix(spec.S)
    lb = np.array(spec.lb)
    ub = np.array(spec.ub)
    exchanges = {spec.reactions[j]: int(j) for j in spec.exchanges}
    for rid, uptake in medium.items():
        if rid not in exchanges:
            if rid in spec._index:
                raise ValidationError(
                    f"{rid!r} is not an exchange reaction, so it cannot be part of the medium",
                    source=spec.source,
                    record=rid,
                    field="medium",
                )
            spec.reaction_index(rid)
        if not (isinstance(uptake, int | float) and math.isfinite(uptake) and uptake >= 0):
            raise ValidationError(
                f"uptake rate {uptake!r} must be a finite number ≥ 0",
                source=spec.source,
                record=rid,
                field="medium",
            )
    for rid, j in exchanges.items():
        coef = csc.data[csc.indptr[j]]
        uptake = float(medium.get(rid, 0.0))
        if coef < 0:
            lb[j] = -uptake
        else:
            ub[j] = uptake
    return _respec(spec, lb=_frozen(lb), ub=_frozen(ub))


# ---------------------------------------------------------------------------------------------
# reading


def load_model(source: ModelSource, *, name: str | None = None) -> ModelSpec:
    """Return a compiled model from a file path, a ``cobra.Model`` or a :class:`ModelSpec`.

    Files: SBML (``.xml``, ``.sbml``, optionally gzipped; levels 2/3 with FBC), COBRA JSON
    (``.json``), MATLAB (``.mat``) and YAML (``.yml``/``.yaml``).
    """
    if isinstance(source, ModelSpec):
        return source
    if isinstance(source, str | Path):
        return _from_cobra(_read_file(Path(source)), str(source), name)
    import cobra

    if isinstance(source, cobra.Model):
        return _from_cobra(source, None, name)
    raise ValidationError(
        f"cannot read a model from a {type(source).__name__}: give a file path, "
        "a cobra.Model or a ModelSpec",
        field="model",
    )


def _read_file(path: Path) -> cobra.Model:
    import cobra.io

    where = str(path)
    if not path.is_file():
        raise ValidationError("no such model file", source=where, field="path")
    lower = path.name.lower()
    cobra_logger = logging.getLogger("cobra")
    previous = cobra_logger.level
    cobra_logger.setLevel(logging.CRITICAL)
    try:
        if lower.endswith(_SBML_SUFFIXES):
            _check_sbml(path)
            return cobra.io.read_sbml_model(str(path))
        if lower.endswith(".json") or lower.endswith(".json.gz"):
            _check_json(path)
            return cobra.io.load_json_model(str(path))
        if lower.endswith(".mat"):
            return cobra.io.load_matlab_model(str(path))
        if lower.endswith((".yml", ".yaml")):
            return cobra.io.load_yaml_model(str(path))
    except ValidationError:
        raise
    except Exception as exc:  # the readers raise anything from KeyError to CobraSBMLError
        raise FormatError(f"cannot read the model: {exc}", source=where) from None
    finally:
        cobra_logger.setLevel(previous)
    raise FormatError(
        "unknown model format: use SBML (.xml, .sbml), COBRA JSON (.json), MATLAB (.mat) "
        "or YAML (.yml)",
        source=where,
    )


def _check_sbml(path: Path) -> None:
    """Parse errors (with line numbers) and a missing FBC package, before cobra sees the file."""
    import libsbml

    where = str(path)
    doc = libsbml.readSBMLFromFile(where)
    errors = [
        doc.getError(k)
        for k in range(doc.getNumErrors())
        if doc.getError(k).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors:
        first = errors[0]
        message = " ".join(first.getMessage().split())
        raise FormatError(
            f"SBML does not parse: {message}"
            + (f" ({len(errors) - 1} more errors)" if len(errors) > 1 else ""),
            source=where,
            record=f"line {first.getLine()}",
        )
    model = doc.getModel()
    if model is None:
        raise FormatError("the SBML document holds no model", source=where)
    fbc = model.getPlugin("fbc")
    if fbc is None or not doc.isPackageEnabled("fbc"):
        if _legacy_cobra_bounds(model):
            # COBRA's pre-FBC convention (e.g. BiGG's iMM904): bounds and objective as
            # kinetic-law parameters, gene rules in notes; cobra reads these
            return
        raise FormatError(
            "the SBML model does not use the FBC package, so it has no flux bounds, objective "
            "or gene rules; export it as SBML level 3 with fbc version 2",
            source=where,
            record=f"line {model.getLine()}",
            field="fbc",
        )
    known = {fbc.getGeneProduct(k).getId() for k in range(fbc.getNumGeneProducts())}
    for k in range(model.getNumReactions()):
        reaction = model.getReaction(k)
        plugin = reaction.getPlugin("fbc")
        if plugin is None or not plugin.isSetGeneProductAssociation():
            continue
        refs = _association_refs(plugin.getGeneProductAssociation().getAssociation())
        unknown = sorted(r for r in refs if r not in known)
        if unknown:
            raise ValidationError(
                f"gene rule names unknown gene products {', '.join(unknown)} "
                f"(line {reaction.getLine()})",
                source=where,
                record=reaction.getId(),
                field="geneProductAssociation",
            )


def _legacy_cobra_bounds(model: Any) -> bool:
    """Whether reactions carry COBRA's pre-FBC LOWER_BOUND/UPPER_BOUND kinetic-law parameters."""
    for k in range(model.getNumReactions()):
        law = model.getReaction(k).getKineticLaw()
        if law is None:
            continue
        names = {law.getParameter(i).getId() for i in range(law.getNumParameters())}
        names |= {law.getLocalParameter(i).getId() for i in range(law.getNumLocalParameters())}
        if {"LOWER_BOUND", "UPPER_BOUND"} & names:
            return True
    return False


def _association_refs(association: Any) -> set[str]:
    if association is None:
        return set()
    if association.isGeneProductRef():
        return {association.getGeneProduct()}
    out: set[str] = set()
    for k in range(association.getNumAssociations()):
        out |= _association_refs(association.getAssociation(k))
    return out


_RULE_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def check_rule(text: str) -> set[str]:
    """Return the genes of a gene rule in COBRA's text syntax; ``ValueError`` if it is malformed."""
    tokens = [t for t in _RULE_TOKEN.findall(text) if t]
    depth = 0
    genes: set[str] = set()
    expect_operand = True
    for tok in tokens:
        low = tok.lower()
        if tok == "(":
            if not expect_operand:
                raise ValueError("'(' where an operator was expected")
            depth += 1
        elif tok == ")":
            if expect_operand:
                raise ValueError("')' where a gene was expected")
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced parentheses: a ')' without its '('")
        elif low in ("and", "or"):
            if expect_operand:
                raise ValueError(f"{tok!r} where a gene was expected")
            expect_operand = True
            continue
        else:
            if not expect_operand:
                raise ValueError(f"gene {tok!r} where 'and' or 'or' was expected")
            genes.add(tok)
        expect_operand = tok == "("
    if depth != 0:
        raise ValueError("unbalanced parentheses: a '(' is never closed")
    if tokens and expect_operand:
        raise ValueError("the rule ends in an operator")
    return genes


def _check_json(path: Path) -> None:
    """Malformed or unknown gene rules in a COBRA JSON file, named by reaction."""
    import gzip
    import json

    where = str(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"not valid JSON: {exc.msg}", source=where, record=f"line {exc.lineno}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"cannot read the file: {exc}", source=where) from None
    if not isinstance(data, dict) or not isinstance(data.get("reactions"), list):
        raise FormatError("not a COBRA JSON model: no 'reactions' list", source=where)
    declared = data.get("genes")
    known = (
        {g.get("id") for g in declared if isinstance(g, dict)}
        if isinstance(declared, list)
        else None
    )
    for k, reaction in enumerate(data["reactions"]):
        rid = reaction.get("id", f"#{k + 1}") if isinstance(reaction, dict) else f"#{k + 1}"
        if not isinstance(reaction, dict):
            raise FormatError("a reaction entry is not an object", source=where, record=rid)
        for key in ("lower_bound", "upper_bound"):
            value = reaction.get(key)
            if value is not None and not isinstance(value, int | float):
                raise ValidationError(
                    f"{key} {value!r} is not a number", source=where, record=rid, field=key
                )
        rule = reaction.get("gene_reaction_rule", "") or ""
        try:
            genes = check_rule(str(rule))
        except ValueError as exc:
            raise ValidationError(
                f"malformed gene rule {rule!r}: {exc}",
                source=where,
                record=rid,
                field="gene_reaction_rule",
            ) from None
        if known is not None:
            unknown = sorted(genes - known)
            if unknown:
                raise ValidationError(
                    f"gene rule names genes the model does not declare: {', '.join(unknown)}",
                    source=where,
                    record=rid,
                    field="gene_reaction_rule",
                )


def _compile_rule(node: ast.AST, genes: dict[str, int], where: str | None, rid: str) -> GeneRule:
    if isinstance(node, ast.Expression):
        return _compile_rule(node.body, genes, where, rid)
    if isinstance(node, ast.Name):
        try:
            return genes[node.id]
        except KeyError:
            raise ValidationError(
                f"gene rule names unknown gene {node.id!r}",
                source=where,
                record=rid,
                field="gene_reaction_rule",
            ) from None
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        children: list[GeneRule] = []
        for value in node.values:
            child = _compile_rule(value, genes, where, rid)
            # flatten a and (b and c) into one node
            if not isinstance(child, int) and child[0] == op:
                children.extend(child[1])
            else:
                children.append(child)
        return (op, tuple(children))
    raise ValidationError(
        f"gene rule holds {type(node).__name__}, not a gene, 'and' or 'or'",
        source=where,
        record=rid,
        field="gene_reaction_rule",
    )


def _from_cobra(model: cobra.Model, where: str | None, name: str | None) -> ModelSpec:
    from cobra.util.solver import linear_reaction_coefficients

    metabolites = [m.id for m in model.metabolites]
    m_index = {m: i for i, m in enumerate(metabolites)}
    genes = [g.id for g in model.genes]
    g_index = {g: i for i, g in enumerate(genes)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lb = np.empty(len(model.reactions))
    ub = np.empty(len(model.reactions))
    rules: list[GeneRule | None] = []
    texts: list[str] = []
    for j, r in enumerate(model.reactions):
        for met, coef in r.metabolites.items():
            rows.append(m_index[met.id])
            cols.append(j)
            vals.append(float(coef))
        lo, up = float(r.lower_bound), float(r.upper_bound)
        if math.isnan(lo) or math.isnan(up):
            raise ValidationError(
                "a flux bound is not a number", source=where, record=r.id, field="bounds"
            )
        if lo > up:
            raise ValidationError(
                f"lower bound {lo} is above upper bound {up}",
                source=where,
                record=r.id,
                field="bounds",
            )
        lb[j], ub[j] = lo, up
        text = r.gene_reaction_rule or ""
        texts.append(text)
        body = getattr(r.gpr, "body", None)
        rules.append(None if body is None else _compile_rule(body, g_index, where, r.id))
    n = len(model.reactions)
    S = sp.csr_matrix((vals, (rows, cols)), shape=(len(metabolites), n), dtype=float)
    S.sum_duplicates()
    S.indptr.setflags(write=False)
    S.indices.setflags(write=False)
    S.data.setflags(write=False)
    c = np.zeros(n)
    for r, coef in linear_reaction_coefficients(model).items():
        c[model.reactions.index(r)] = float(coef)
    if not c.any():
        raise ValidationError(
            "the model has no objective: set one (e.g. the biomass reaction)",
            source=where,
            field="objective",
        )
    charges: list[float | None] = []
    for m in model.metabolites:
        ch = m.charge
        charges.append(None if ch is None or (isinstance(ch, float) and math.isnan(ch)) else ch)
    return ModelSpec(
        id=model.id or (Path(where).stem if where else "model"),
        name=name or model.name or model.id or "",
        reactions=tuple(r.id for r in model.reactions),
        reaction_names=tuple(r.name or "" for r in model.reactions),
        subsystems=tuple(r.subsystem or "" for r in model.reactions),
        metabolites=tuple(metabolites),
        metabolite_names=tuple(m.name or "" for m in model.metabolites),
        formulas=tuple(m.formula or None for m in model.metabolites),
        charges=tuple(charges),
        compartments=tuple(m.compartment for m in model.metabolites),
        genes=tuple(genes),
        gene_names=tuple(g.name or "" for g in model.genes),
        S=S,
        lb=_frozen(lb),
        ub=_frozen(ub),
        objective=_frozen(c),
        maximize=model.objective.direction == "max",
        rules=tuple(rules),
        rule_texts=tuple(texts),
        source=where,
    )
