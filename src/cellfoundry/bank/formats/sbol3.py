r"""SBOL3 ⇄ :class:`~cellfoundry.core.sequence.SequenceRecord`, losslessly.

Export
    Each record becomes an SBOL3 ``Component`` (type SBO:0000251 DNA, the
    topology SO:0000988 circular or SO:0000987 linear, roles) with one
    ``Sequence`` (IUPAC DNA encoding) and one ``SequenceFeature`` per feature,
    located by ``Range``\ s (``Cut`` for zero-length spans) whose orientation is
    SO:0001030 inline or SO:0001031 reverse complement. A feature's GenBank
    key becomes its Sequence Ontology role where one matches
    (:data:`GENBANK_TO_SO`); the key itself is kept as ``cf:genbankKey``
    whenever the role alone would not give it back. Everything GenBank holds
    that SBOL3 has no property for is kept as custom annotations in the
    ``https://cellfoundry.org/ns#`` namespace (prefix ``cf``):

    ``cf:qualifier``
        one per qualifier, ``"<index>:<key>=<value>"`` (``"<index>:<key>"`` for
        value-less ones), so order and repeated keys survive RDF's unordered sets;
    ``cf:genbankKey``
        the original feature key (``Misc._feature``);
    ``cf:locationOperator``
        ``order`` for ``order(...)`` locations;
    ``cf:partialStart``, ``cf:partialEnd``
        fuzzy ends (``<``, ``>``) on a Range or Cut;
    ``cf:accession``, ``cf:moleculeType``
        the record fields of those names;
    ``cf:annotations``
        the record's other annotations (organism, references ...) as JSON.

    Triples are built with rdflib using pySBOL3's vocabulary constants:
    pySBOL3's object model assigns child identities in quadratic time (a
    genome's 2,372 features take ~45 s), while the triples take well under a
    second. :func:`validate_with_pysbol3` loads a written document into
    pySBOL3 and returns its validation report.

Import
    :func:`read_document` returns an :class:`Sbol3Document`: one record per
    ``Component`` of type DNA that has an IUPAC DNA ``Sequence``, and the
    ``remainder``, N-Triples of every triple that belongs to no such record
    (Activities, Agents, Plans, Models, Collections, non-DNA Components ...).
    A record stores what it models as fields (name, sequence, topology,
    features ...) and its SBOL identities as ``sbol3:*`` annotations. The
    triples about the component, its sequence and its child objects that the
    record does not model are kept verbatim as N-Triples under
    ``annotations["sbol3:extra"]``, and any triple that :func:`write_document`
    would generate but that the source did not hold under
    ``annotations["sbol3:omit"]``. So ``write_document(doc.records,
    doc.remainder, ...)`` gives back a graph isomorphic to the one read.

All RDF serialisations that rdflib reads are accepted (Turtle, N-Triples,
RDF/XML, JSON-LD), plus RDF/JSON (``.rj``), read and written here.

Examples
--------
>>> from cellfoundry.core.sequence import Feature, FeatureSpan, SequenceRecord
>>> record = SequenceRecord(
...     "pDemo", "ACGTACGTAC", "circular",
...     features=(Feature("promoter", (FeatureSpan(0, 4),), (("label", "pX"),)),),
... )
>>> text = dumps_document([record], "", "nt")
>>> doc = parse_document(text)
>>> back = doc.records[0]
>>> back.name, back.sequence, back.topology, back.features == record.features
('pDemo', 'ACGTACGTAC', 'circular', True)
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal, cast

import sbol3 as pysbol3
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node

from cellfoundry.bank.formats import Readable, _decode, _load
from cellfoundry.core.errors import FormatError, InvalidSequenceError, ValidationError
from cellfoundry.core.sequence import (
    Feature,
    FeatureSpan,
    SequenceRecord,
    Strand,
    Topology,
    validate_dna,
)

__all__ = [
    "CF_NS",
    "DEFAULT_NAMESPACE",
    "GENBANK_TO_SO",
    "SERIALISATIONS",
    "Sbol3Document",
    "Serialisation",
    "build_graph",
    "dumps_document",
    "guess_serialisation",
    "parse_document",
    "read_document",
    "validate_with_pysbol3",
    "write_document",
]

Serialisation = Literal["turtle", "nt", "xml", "json-ld", "rdf-json"]
#: An RDF triple as three terms in N-Triples syntax (``<iri>``, ``_:b``, ``"lit"^^<dt>``).
Triple = tuple[str, str, str]

#: The namespace of cellfoundry's custom annotations.
CF_NS = "https://cellfoundry.org/ns#"
#: The SBOL3 namespace given to records that do not carry one.
DEFAULT_NAMESPACE = "https://cellfoundry.org/bank"

#: File extension → RDF serialisation.
SERIALISATIONS: dict[str, Serialisation] = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".rdf": "xml",
    ".xml": "xml",
    ".jsonld": "json-ld",
    ".json-ld": "json-ld",
    ".jsonld_expanded": "json-ld",
    ".rj": "rdf-json",
}

#: GenBank feature key → Sequence Ontology id. The first key listed for an id
#: is the one an SBOL3 role maps back to; keys match case-insensitively and
#: ignoring punctuation (``Misc._feature`` is ``misc_feature``).
GENBANK_TO_SO: dict[str, str] = {
    "misc_feature": "SO:0000001",
    "CDS": "SO:0000316",
    "gene": "SO:0000704",
    "mRNA": "SO:0000234",
    "promoter": "SO:0000167",
    "terminator": "SO:0000141",
    "RBS": "SO:0000139",
    "rep_origin": "SO:0000296",
    "replication_ori": "SO:0000296",
    "5'UTR": "SO:0000204",
    "3'UTR": "SO:0000205",
    "exon": "SO:0000147",
    "intron": "SO:0000188",
    "primer_bind": "SO:0005850",
    "primer": "SO:0000112",
    "protein_bind": "SO:0000410",
    "misc_binding": "SO:0000409",
    "sig_peptide": "SO:0000418",
    "transit_peptide": "SO:0000725",
    "mat_peptide": "SO:0000419",
    "polyA_signal": "SO:0000551",
    "polyA_site": "SO:0000553",
    "enhancer": "SO:0000165",
    "regulatory": "SO:0005836",
    "misc_signal": "SO:0005836",
    "operator": "SO:0000057",
    "repeat_region": "SO:0000657",
    "tRNA": "SO:0000253",
    "rRNA": "SO:0000252",
    "ncRNA": "SO:0000655",
    "misc_RNA": "SO:0000673",
    "variation": "SO:0001060",
    "mutation": "SO:0001059",
    "misc_difference": "SO:0000413",
    "stem_loop": "SO:0000313",
    "misc_structure": "SO:0000002",
    "LTR": "SO:0000286",
    "oriT": "SO:0000724",
    "misc_recomb": "SO:0000298",
    "mobile_element": "SO:0001037",
    "CAAT_signal": "SO:0000172",
    "CAAT_box": "SO:0000172",
    "TATA_signal": "SO:0000174",
    "TATA_box": "SO:0000174",
    "-10_signal": "SO:0000175",
    "-35_signal": "SO:0000176",
    "N_region": "SO:0001835",
    "telomere": "SO:0000624",
    "centromere": "SO:0000577",
    "gap": "SO:0000730",
    "tag": "SO:0000324",
}


def _key_norm(key: str) -> str:
    return re.sub(r"[^a-z0-9']", "", key.lower())


_SO_BY_KEY = {_key_norm(k): v for k, v in reversed(GENBANK_TO_SO.items())}
_KEY_BY_SO: dict[str, str] = {}
for _key, _so in GENBANK_TO_SO.items():
    _KEY_BY_SO.setdefault(_so, _key)

# --------------------------------------------------------------------------- terms

_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _unescape(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        if code:
            return chr(int(code, 16))
        char = match.group(3)
        return _SIMPLE_ESCAPES.get(char, char)

    return _ESCAPE.sub(repl, text)


def _iri(uri: str) -> str:
    """Return an IRI as an N-Triples term."""
    if _IRI_FORBIDDEN.search(uri):
        uri = _IRI_FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04X}", uri)
    return f"<{uri}>"


def _lit(lexical: str, datatype: str | None = None, lang: str | None = None) -> str:
    """Return a literal as a canonical N-Triples term."""
    if "\\" in lexical or '"' in lexical or "\n" in lexical or "\r" in lexical:
        lexical = (
            lexical.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    if lang:
        return f'"{lexical}"@{lang}'
    if datatype:
        return f'"{lexical}"^^{_iri(datatype)}'
    return f'"{lexical}"'


def _literal_parts(term: str) -> tuple[str, str | None, str | None]:
    """Split a literal term into lexical form, datatype IRI and language tag."""
    end = term.rindex('"')
    body, suffix = term[1:end], term[end + 1 :]
    lexical = _unescape(body) if "\\" in body else body
    if suffix.startswith("@"):
        return lexical, None, suffix[1:]
    if suffix.startswith("^^<"):
        datatype = suffix[3:-1]
        return lexical, _unescape(datatype) if "\\" in datatype else datatype, None
    return lexical, None, None


def _from_rdflib(node: Node) -> str:
    if isinstance(node, URIRef):
        return _iri(str(node))
    if isinstance(node, BNode):
        return "_:" + re.sub(r"[^A-Za-z0-9_\-]", "_", str(node))
    if isinstance(node, RdfLiteral):
        datatype = str(node.datatype) if node.datatype is not None else None
        return _lit(str(node), datatype, node.language)
    raise TypeError(f"not an RDF term: {node!r}")


def _to_rdflib(term: str) -> Node:
    if term.startswith("<"):
        body = term[1:-1]
        return URIRef(_unescape(body) if "\\" in body else body)
    if term.startswith("_:"):
        return BNode(term[2:])
    lexical, datatype, lang = _literal_parts(term)
    return RdfLiteral(lexical, lang=lang, datatype=URIRef(datatype) if datatype else None)


def _s(suffix: str) -> str:
    return _iri(pysbol3.SBOL3_NS + suffix)


_RDF_TYPE = _iri("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_COMPONENT = _iri(pysbol3.SBOL_COMPONENT)
_SEQUENCE = _iri(pysbol3.SBOL_SEQUENCE)
_SEQUENCE_FEATURE = _iri(pysbol3.SBOL_SEQUENCE_FEATURE)
_RANGE = _iri(pysbol3.SBOL_RANGE)
_CUT = _iri(pysbol3.SBOL_CUT)
_DISPLAY_ID = _iri(pysbol3.SBOL_DISPLAY_ID)
_NAME = _iri(pysbol3.SBOL_NAME)
_DESCRIPTION = _iri(pysbol3.SBOL_DESCRIPTION)
_HAS_NAMESPACE = _iri(pysbol3.SBOL_NAMESPACE)
_TYPE = _iri(pysbol3.SBOL_TYPE)
_ROLE = _iri(pysbol3.SBOL_ROLE)
_HAS_SEQUENCE = _iri(pysbol3.SBOL_SEQUENCES)
_HAS_FEATURE = _iri(pysbol3.SBOL_FEATURES)
_HAS_LOCATION = _iri(pysbol3.SBOL_LOCATION)
_ELEMENTS = _iri(pysbol3.SBOL_ELEMENTS)
_ENCODING = _iri(pysbol3.SBOL_ENCODING)
_START = _iri(pysbol3.SBOL_START)
_END = _iri(pysbol3.SBOL_END)
_AT = _s("at")
_ORIENTATION = _iri(pysbol3.SBOL_ORIENTATION)
_DNA = _iri(pysbol3.SBO_DNA)
_IUPAC_DNA = _iri(pysbol3.IUPAC_DNA_ENCODING)
_CIRCULAR = _iri(pysbol3.SO_CIRCULAR)
_LINEAR = _iri(pysbol3.SO_LINEAR)
_FORWARD = _iri(pysbol3.SO_FORWARD)
_REVERSE = _iri(pysbol3.SO_REVERSE)
_ORIENTATIONS: dict[str, Strand] = {
    _FORWARD: 1,
    _iri(pysbol3.SBOL_INLINE): 1,
    _REVERSE: -1,
    _iri(pysbol3.SBOL_REVERSE_COMPLEMENT): -1,
}
_PLASMID = pysbol3.SO_NS + "0000155"
_CHROMOSOME = pysbol3.SO_NS + "0000340"
_CF_QUALIFIER = _iri(CF_NS + "qualifier")
_CF_KEY = _iri(CF_NS + "genbankKey")
_CF_OPERATOR = _iri(CF_NS + "locationOperator")
_CF_PARTIAL_START = _iri(CF_NS + "partialStart")
_CF_PARTIAL_END = _iri(CF_NS + "partialEnd")
_CF_ACCESSION = _iri(CF_NS + "accession")
_CF_MOLECULE = _iri(CF_NS + "moleculeType")
_CF_ANNOTATIONS = _iri(CF_NS + "annotations")
_TRUE = _lit("true", _XSD + "boolean")
_LABEL_KEYS = ("label", "gene", "product", "locus_tag", "standard_name", "note")
_PREFIXES = {
    "sbol": pysbol3.SBOL3_NS,
    "SO": pysbol3.SO_NS,
    "SBO": pysbol3.SBO_NS,
    "EDAM": "https://identifiers.org/edam:",
    "prov": "http://www.w3.org/ns/prov#",
    "om": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
    "xsd": _XSD,
    "cf": CF_NS,
}


@dataclass(frozen=True, slots=True)
class Sbol3Document:
    """An SBOL3 document split into sequence records and everything else.

    Attributes
    ----------
    records
        One record per DNA ``Component`` with an IUPAC DNA ``Sequence``.
    remainder
        N-Triples of all triples that belong to none of the records.
    """

    records: list[SequenceRecord]
    remainder: str = ""


# ------------------------------------------------------- N-Triples, Turtle, RDF/JSON

_NT_IRI = r"<([^>\\]*(?:\\.[^>\\]*)*)>"
_NT_BNODE = r"_:([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)"
_NT_LITERAL = (
    r'"([^"\\]*(?:\\.[^"\\]*)*)"'
    r"(?:@([A-Za-z]+(?:-[A-Za-z0-9]+)*)|\^\^<([^>\\]*(?:\\.[^>\\]*)*)>)?"
)
_NT_LINE = re.compile(
    rf"[ \t]*(?:{_NT_IRI}|{_NT_BNODE})[ \t]*{_NT_IRI}[ \t]*"
    rf"(?:{_NT_IRI}|{_NT_BNODE}|{_NT_LITERAL})[ \t]*\.[ \t]*(?:#.*)?"
)


def _canonical_iri(body: str) -> str:
    return _iri(_unescape(body)) if "\\" in body else f"<{body}>"


def _parse_ntriples(text: str) -> list[Triple] | None:
    """Parse N-Triples line by line; ``None`` if a line is beyond this simple reader."""
    triples: list[Triple] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        m = _NT_LINE.fullmatch(line)
        if m is None:
            return None
        s_iri, s_bnode, p_iri, o_iri, o_bnode, lexical, lang, datatype = m.groups()
        subject = _canonical_iri(s_iri) if s_iri is not None else f"_:{s_bnode}"
        if o_iri is not None:
            obj = _canonical_iri(o_iri)
        elif o_bnode is not None:
            obj = f"_:{o_bnode}"
        else:
            value = _unescape(lexical) if "\\" in lexical else lexical
            dt = (_unescape(datatype) if "\\" in datatype else datatype) if datatype else None
            obj = _lit(value, dt, lang)
        triples.append((subject, _canonical_iri(p_iri), obj))
    return triples


def _ntriples(triples: Iterable[Triple]) -> str:
    """Sorted, canonical N-Triples text."""
    return "".join(f"{s} {p} {o} .\n" for s, p, o in sorted(set(triples)))


def _read_ntriples(text: str) -> list[Triple]:
    """N-Triples text as triples, through rdflib when the fast reader cannot."""
    if not text.strip():
        return []
    triples = _parse_ntriples(text)
    if triples is None:
        graph = Graph()
        graph.parse(data=text, format="turtle")  # N-Triples is a subset of Turtle
        triples = [(_from_rdflib(s), _from_rdflib(p), _from_rdflib(o)) for s, p, o in graph]
    return triples


_TURTLE_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?")


def _turtle(triples: Iterable[Triple]) -> str:
    """Turtle grouped by subject, with the usual SBOL prefixes."""
    namespaces = sorted(_PREFIXES.items(), key=lambda item: -len(item[1]))

    def compact(term: str) -> str:
        if term.startswith("<") and "\\" not in term:
            uri = term[1:-1]
            for prefix, ns in namespaces:
                if uri.startswith(ns) and _TURTLE_LOCAL.fullmatch(uri[len(ns) :]):
                    return f"{prefix}:{uri[len(ns) :]}"
        elif term.startswith('"') and '"^^<' in term:
            cut = term.rindex('"^^<') + 3
            return term[:cut] + compact(term[cut:])
        return term

    by_subject: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in set(triples):
        by_subject[s][p].append(o)
    out = [f"@prefix {prefix}: <{ns}> ." for prefix, ns in _PREFIXES.items()]
    for subject in sorted(by_subject, key=_natural):
        predicates = by_subject[subject]
        lines = []
        for predicate in sorted(predicates, key=lambda p: (p != _RDF_TYPE, p)):
            verb = "a" if predicate == _RDF_TYPE else compact(predicate)
            objects = " , ".join(compact(o) for o in sorted(predicates[predicate]))
            lines.append(f"    {verb} {objects}")
        out.append(f"\n{compact(subject)}\n" + " ;\n".join(lines) + " .")
    return "\n".join(out) + "\n"


def _rdf_json_term(value: object, source: str | None, subject: str) -> str:
    if not isinstance(value, dict) or "value" not in value or "type" not in value:
        raise FormatError(
            f"an RDF/JSON object of {subject} needs 'type' and 'value'",
            source=source,
            field="rdf-json",
        )
    kind, text = value["type"], str(value["value"])
    if kind == "uri":
        return _iri(text)
    if kind == "bnode":
        return "_:" + text.removeprefix("_:")
    if kind == "literal":
        datatype, lang = value.get("datatype"), value.get("lang")
        return _lit(text, str(datatype) if datatype else None, str(lang) if lang else None)
    raise FormatError(
        f"an RDF/JSON object of {subject} has unknown type {kind!r}",
        source=source,
        field="rdf-json",
    )


def _read_rdf_json(text: str, source: str | None = None) -> list[Triple]:
    """Read RDF/JSON: ``{subject: {predicate: [{"type", "value", "lang"?, "datatype"?}]}}``."""
    document = json.loads(text)
    if not isinstance(document, dict):
        raise FormatError("RDF/JSON must be a JSON object", source=source, field="rdf-json")
    triples: list[Triple] = []
    for subject_key, predicates in document.items():
        subject = "_:" + subject_key[2:] if subject_key.startswith("_:") else _iri(subject_key)
        if not isinstance(predicates, dict):
            raise FormatError(
                f"RDF/JSON subject {subject_key} must map to an object of predicates",
                source=source,
                field="rdf-json",
            )
        for predicate, objects in predicates.items():
            for obj in objects if isinstance(objects, list) else [objects]:
                triples.append((subject, _iri(predicate), _rdf_json_term(obj, source, subject_key)))
    return triples


def _rdf_json(triples: Iterable[Triple]) -> str:
    document: dict[str, dict[str, list[dict[str, str]]]] = {}
    for s, p, o in sorted(set(triples)):
        key = s if s.startswith("_:") else str(_to_rdflib(s))
        entry: dict[str, str]
        if o.startswith('"'):
            lexical, datatype, lang = _literal_parts(o)
            entry = {"type": "literal", "value": lexical}
            if lang:
                entry["lang"] = lang
            if datatype:
                entry["datatype"] = datatype
        elif o.startswith("_:"):
            entry = {"type": "bnode", "value": o}
        else:
            entry = {"type": "uri", "value": str(_to_rdflib(o))}
        document.setdefault(key, {}).setdefault(str(_to_rdflib(p)), []).append(entry)
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def _serialise(triples: list[Triple], serialisation: Serialisation) -> str:
    if serialisation == "nt":
        return _ntriples(triples)
    if serialisation == "turtle":
        return _turtle(triples)
    if serialisation == "rdf-json":
        return _rdf_json(triples)
    return str(_graph(triples).serialize(format=serialisation))


def _graph(triples: Iterable[Triple]) -> Graph:
    graph = Graph()
    for prefix, ns in _PREFIXES.items():
        graph.bind(prefix, ns)
    for s, p, o in set(triples):
        graph.add((_to_rdflib(s), _to_rdflib(p), _to_rdflib(o)))
    return graph


def _natural(term: str) -> list[str | int]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", term)]


def _numbered(term: str) -> tuple[int, list[str | int]]:
    """Sort key for child objects: the number ending the displayId (Range2 < Cut3), then the IRI."""
    number = re.search(r"(\d+)>?$", term)
    return (int(number.group(1)) if number else -1, _natural(term))


# --------------------------------------------------------------------------- export


def _display_id(name: str) -> str:
    """Return ``name`` as a valid SBOL3 displayId (letters, digits, ``_``; no leading digit).

    Examples
    --------
    >>> _display_id("pICH45089-1"), _display_id("2micron")
    ('pICH45089_1', '_2micron')
    """
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name) or "unnamed"
    return f"_{ident}" if ident[0].isdigit() else ident


def _segment(term: str) -> str:
    """Return the last path segment of an IRI term (its displayId by SBOL3 convention)."""
    return term.strip("<>").rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _so_for(key: str) -> str | None:
    return _SO_BY_KEY.get(_key_norm(key))


def _default_roles(record: SequenceRecord) -> list[str]:
    if record.topology == "circular":
        return [_CHROMOSOME if len(record.sequence) >= 1_000_000 else _PLASMID]
    return []


def _feature_name(feature: Feature) -> str | None:
    for key in _LABEL_KEYS:
        for k, v in feature.qualifiers:
            if k == key and v:
                return v
    return None


def _triples(record: SequenceRecord, namespace: str) -> list[Triple]:
    """Return the triples :func:`write_document` generates for a record (before extra/omit)."""
    ann = record.annotations
    unstated = set(cast(list[str], ann.get("sbol3:unstated", [])))
    identity = ann.get("sbol3:identity") or f"{namespace.rstrip('/')}/{_display_id(record.name)}"
    cid = _iri(str(identity))
    ns = ann["sbol3:namespace"] if "sbol3:namespace" in ann else namespace.rstrip("/")
    name = ann.get("sbol3:name", record.name)
    integer_type = None if ann.get("sbol3:plain_integers") else _XSD + "integer"

    out: list[Triple] = [
        (cid, _RDF_TYPE, _COMPONENT),
        (cid, _DISPLAY_ID, _lit(_display_id(record.name))),
        (cid, _TYPE, _DNA),
    ]
    if name is not None:
        out.append((cid, _NAME, _lit(str(name))))
    if record.description:
        out.append((cid, _DESCRIPTION, _lit(record.description)))
    if ns is not None:
        out.append((cid, _HAS_NAMESPACE, _iri(str(ns))))
    if "topology" not in unstated:
        out.append((cid, _TYPE, _CIRCULAR if record.topology == "circular" else _LINEAR))
    roles = ann["sbol3:roles"] if "sbol3:roles" in ann else _default_roles(record)
    out.extend((cid, _ROLE, _iri(str(r))) for r in cast(list[str], roles))
    if record.accession:
        out.append((cid, _CF_ACCESSION, _lit(record.accession)))
    if record.molecule_type != "DNA":
        out.append((cid, _CF_MOLECULE, _lit(record.molecule_type)))
    other = {k: v for k, v in ann.items() if not k.startswith("sbol3:")}
    if other:
        out.append(
            (cid, _CF_ANNOTATIONS, _lit(json.dumps(other, sort_keys=True, ensure_ascii=False)))
        )

    sid = _iri(str(ann.get("sbol3:sequence") or f"{identity}_sequence"))
    upper = ann.get("sbol3:elements_case") == "upper"
    out += [
        (cid, _HAS_SEQUENCE, sid),
        (sid, _RDF_TYPE, _SEQUENCE),
        (sid, _DISPLAY_ID, _lit(_segment(sid))),
        (sid, _ELEMENTS, _lit(record.sequence.upper() if upper else record.sequence.lower())),
        (sid, _ENCODING, _IUPAC_DNA),
    ]
    if ns is not None:
        out.append((sid, _HAS_NAMESPACE, _iri(str(ns))))

    feature_ids = cast(list[str] | None, ann.get("sbol3:feature_ids"))
    location_ids = cast(list[list[str]] | None, ann.get("sbol3:location_ids"))
    for i, feature in enumerate(record.features):
        fid = _iri(
            feature_ids[i]
            if feature_ids and i < len(feature_ids)
            else f"{identity}/SequenceFeature{i + 1}"
        )
        out += [
            (cid, _HAS_FEATURE, fid),
            (fid, _RDF_TYPE, _SEQUENCE_FEATURE),
            (fid, _DISPLAY_ID, _lit(_segment(fid))),
        ]
        label = _feature_name(feature)
        if label is not None:
            out.append((fid, _NAME, _lit(label)))
        so = _so_for(feature.type)
        if so is not None:
            out.append((fid, _ROLE, _iri(pysbol3.SO_NS + so.removeprefix("SO:"))))
        if so is None or _KEY_BY_SO[so] != feature.type:
            out.append((fid, _CF_KEY, _lit(feature.type)))
        if feature.operator == "order":
            out.append((fid, _CF_OPERATOR, _lit("order")))
        if feature.strand != 0:
            out.append((fid, _ORIENTATION, _FORWARD if feature.strand == 1 else _REVERSE))
        out.extend(
            (fid, _CF_QUALIFIER, _lit(f"{j}:{k}" if v is None else f"{j}:{k}={v}"))
            for j, (k, v) in enumerate(feature.qualifiers)
        )
        ids = location_ids[i] if location_ids and i < len(location_ids) else []
        for j, span in enumerate(feature.spans):
            cut = span.start == span.end
            fid_text = fid[1:-1]
            lid = _iri(ids[j] if j < len(ids) else f"{fid_text}/{'Cut' if cut else 'Range'}{j + 1}")
            out += [
                (fid, _HAS_LOCATION, lid),
                (lid, _RDF_TYPE, _CUT if cut else _RANGE),
                (lid, _DISPLAY_ID, _lit(_segment(lid))),
                (lid, _HAS_SEQUENCE, sid),
            ]
            if cut:
                out.append((lid, _AT, _lit(str(span.start), integer_type)))
            else:
                out.append((lid, _START, _lit(str(span.start + 1), integer_type)))
                out.append((lid, _END, _lit(str(span.end), integer_type)))
            if span.strand != 0:
                out.append((lid, _ORIENTATION, _FORWARD if span.strand == 1 else _REVERSE))
            if span.partial_start:
                out.append((lid, _CF_PARTIAL_START, _TRUE))
            if span.partial_end:
                out.append((lid, _CF_PARTIAL_END, _TRUE))
    return out


def _document_triples(
    records: Iterable[SequenceRecord], remainder: str, namespace: str
) -> list[Triple]:
    triples = _read_ntriples(remainder)
    seen: dict[str, str] = {}
    for record in records:
        generated = _triples(record, namespace)
        identity = generated[0][0]
        if identity in seen:
            raise ValidationError(
                f"records {seen[identity]!r} and {record.name!r} map to the same SBOL3 "
                f"identity {identity}; rename one",
                record=record.name,
                field="name",
            )
        seen[identity] = record.name
        omit = set(_read_ntriples(str(record.annotations.get("sbol3:omit", ""))))
        triples.extend(t for t in generated if t not in omit)
        triples.extend(_read_ntriples(str(record.annotations.get("sbol3:extra", ""))))
    return triples


def build_graph(
    records: Iterable[SequenceRecord], remainder: str = "", *, namespace: str = DEFAULT_NAMESPACE
) -> Graph:
    """Return the rdflib graph of records plus the remainder N-Triples.

    Raises
    ------
    ValidationError
        If two records would get the same SBOL3 identity.
    """
    return _graph(_document_triples(records, remainder, namespace))


def dumps_document(
    records: Iterable[SequenceRecord],
    remainder: str = "",
    serialisation: Serialisation = "turtle",
    *,
    namespace: str = DEFAULT_NAMESPACE,
) -> str:
    """Return records (and the remainder N-Triples) as an SBOL3 document.

    Parameters
    ----------
    records
        The records; those read from SBOL3 keep their identities.
    remainder
        N-Triples of the rest of the document (:attr:`Sbol3Document.remainder`).
    serialisation
        ``turtle``, ``nt`` (N-Triples), ``xml`` (RDF/XML), ``json-ld`` or
        ``rdf-json``.
    namespace
        The SBOL3 namespace for records that do not carry one.

    Returns
    -------
    str
        The serialised document.

    Raises
    ------
    ValidationError
        If two records would get the same SBOL3 identity.
    """
    return _serialise(_document_triples(records, remainder, namespace), serialisation)


def write_document(
    records: Iterable[SequenceRecord],
    remainder: str,
    path_or_handle: str | os.PathLike[str] | IO[str],
    serialisation: Serialisation | None = None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
) -> None:
    """Write records and the remainder as an SBOL3 file.

    Parameters
    ----------
    records, remainder, namespace
        As for :func:`dumps_document`.
    path_or_handle
        A path, or an open text handle.
    serialisation
        The RDF serialisation; by default from the path's extension
        (:data:`SERIALISATIONS`), Turtle for a handle.
    """
    if serialisation is None:
        if isinstance(path_or_handle, str | os.PathLike):
            serialisation = guess_serialisation(path_or_handle)
        else:
            serialisation = "turtle"
    text = dumps_document(records, remainder, serialisation, namespace=namespace)
    if isinstance(path_or_handle, str | os.PathLike):
        Path(path_or_handle).write_text(text, encoding="utf-8")
    else:
        path_or_handle.write(text)


def guess_serialisation(path: str | os.PathLike[str]) -> Serialisation:
    """Return the RDF serialisation for a file extension.

    Raises
    ------
    FormatError
        If the extension is not one of :data:`SERIALISATIONS`.

    Examples
    --------
    >>> guess_serialisation("toggle_switch_ordered.nt"), guess_serialisation("a.jsonld_expanded")
    ('nt', 'json-ld')
    """
    name = Path(path).name.lower()
    matches = [ext for ext in SERIALISATIONS if name.endswith(ext)]
    if not matches:
        raise FormatError(
            f"unknown SBOL3 file extension; use one of {', '.join(SERIALISATIONS)}",
            source=str(path),
        )
    return SERIALISATIONS[max(matches, key=len)]


# --------------------------------------------------------------------------- import


def read_document(
    path: str | os.PathLike[str], serialisation: Serialisation | None = None
) -> Sbol3Document:
    """Read an SBOL3 file into records and the remainder.

    Parameters
    ----------
    path
        The file.
    serialisation
        The RDF serialisation; by default from the extension, or recognised
        from the content when the extension is not one of :data:`SERIALISATIONS`.

    Returns
    -------
    Sbol3Document
        ``write_document(doc.records, doc.remainder, ...)`` re-creates the graph.

    Raises
    ------
    FormatError
        If the file is not RDF in that serialisation, holds no triples, or a
        DNA sequence holds non-IUPAC letters.
    """
    if serialisation is None:
        name = Path(path).name.lower()
        known = [ext for ext in SERIALISATIONS if name.endswith(ext)]
        serialisation = SERIALISATIONS[max(known, key=len)] if known else None
    return parse_document(Path(path).read_bytes(), source=str(path), serialisation=serialisation)


def parse_document(
    data: Readable,
    *,
    source: str | None = None,
    serialisation: Serialisation | None = None,
) -> Sbol3Document:
    """Read SBOL3 content into records and the remainder.

    Parameters
    ----------
    data
        The content (``str``, ``bytes`` or an open handle).
    source
        A name for the input, used in error messages.
    serialisation
        The RDF serialisation; recognised from the content when ``None``.

    Returns
    -------
    Sbol3Document
        The records and the remainder N-Triples.

    Raises
    ------
    FormatError
        As for :func:`read_document`.
    """
    text, _ = _decode(_load(data), source=source, field="RDF")
    return _split(_parse_triples(text, serialisation, source), source)


def _sniff(text: str) -> Serialisation:
    head = text.lstrip()[:2000]
    if head.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except ValueError:
            return "json-ld"
        return "rdf-json" if _looks_rdf_json(value) else "json-ld"
    if head.startswith(("<?xml", "<rdf:RDF")):
        return "xml"
    first = next((line for line in text.splitlines() if line.strip()), "")
    return "nt" if _NT_LINE.fullmatch(first) else "turtle"


def _looks_rdf_json(value: object) -> bool:
    if not isinstance(value, dict) or not value:
        return False
    return all(
        not str(key).startswith("@")
        and isinstance(predicates, dict)
        and all(
            isinstance(objs, list) and all(isinstance(o, dict) and "type" in o for o in objs)
            for objs in predicates.values()
        )
        for key, predicates in value.items()
    )


def _parse_triples(
    text: str, serialisation: Serialisation | None, source: str | None
) -> list[Triple]:
    if not text.strip():
        raise FormatError("the file is empty; an SBOL3 document is RDF", source=source, field="RDF")
    kind = serialisation or _sniff(text)
    triples: list[Triple] | None = None
    try:
        if kind == "rdf-json":
            triples = _read_rdf_json(text, source)
        elif kind == "nt":
            triples = _read_ntriples(text)
        else:
            if kind == "json-ld" and text.lstrip().startswith("{"):
                context = json.loads(text).get("@context")
                if isinstance(context, str):
                    raise FormatError(
                        f"the JSON-LD @context is a remote document ({context}); "
                        "only self-contained JSON-LD can be read offline",
                        source=source,
                        field="@context",
                    )
            graph = Graph()
            graph.parse(data=text, format=kind)
            triples = [(_from_rdflib(s), _from_rdflib(p), _from_rdflib(o)) for s, p, o in graph]
    except FormatError:
        raise
    except Exception as exc:  # rdflib raises many types; all mean "not this serialisation"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FormatError(f"not valid {kind} RDF: {first}", source=source, field=kind) from exc
    if not triples:
        raise FormatError("the file holds no RDF triples; is it SBOL3?", source=source, field=kind)
    return triples


class _Index:
    """Triples by subject and predicate."""

    def __init__(self, triples: Iterable[Triple]) -> None:
        self.by_subject: dict[str, list[Triple]] = defaultdict(list)
        self.props: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.subjects_of_type: dict[str, list[str]] = defaultdict(list)
        for triple in set(triples):
            s, p, o = triple
            self.by_subject[s].append(triple)
            self.props[s][p].append(o)
            if p == _RDF_TYPE:
                self.subjects_of_type[o].append(s)

    def objects(self, subject: str, predicate: str) -> list[str]:
        found = self.props.get(subject)
        return sorted(found.get(predicate, ())) if found else []

    def value(self, subject: str, predicate: str) -> str | None:
        values = self.objects(subject, predicate)
        return values[0] if values else None

    def text(self, subject: str, predicate: str) -> str | None:
        """Return the lexical form of the first literal value, if any."""
        for value in self.objects(subject, predicate):
            if value.startswith('"'):
                return _literal_parts(value)[0]
        return None

    def has(self, subject: str, predicate: str, obj: str) -> bool:
        return obj in self.props.get(subject, {}).get(predicate, ())

    def descendants(self, root: str) -> set[str]:
        """Return the root and its child objects (IRIs under ``root/``, and blank nodes)."""
        prefix = root[:-1] + "/"
        seen = {root}
        stack = [root]
        while stack:
            for _, _, obj in self.by_subject.get(stack.pop(), ()):
                if obj in seen or obj not in self.by_subject:
                    continue
                if obj.startswith("_:") or obj.startswith(prefix):
                    seen.add(obj)
                    stack.append(obj)
        return seen


def _split(triples: list[Triple], source: str | None) -> Sbol3Document:
    index = _Index(triples)
    owned: set[str] = set()
    records: list[SequenceRecord] = []
    components = sorted(
        (s for s in index.subjects_of_type.get(_COMPONENT, ()) if index.has(s, _TYPE, _DNA)),
        key=_natural,
    )
    for component in components:
        sequences = [
            s
            for s in sorted(index.objects(component, _HAS_SEQUENCE), key=_natural)
            if index.has(s, _ENCODING, _IUPAC_DNA) and len(index.objects(s, _ELEMENTS)) == 1
        ]
        if not sequences:
            continue
        subjects = index.descendants(component) | index.descendants(sequences[0])
        record = _model(index, component, sequences[0], source)
        held = {t for s in subjects for t in index.by_subject[s]}
        generated = set(_triples(record, DEFAULT_NAMESPACE))
        annotations = dict(record.annotations)
        if held - generated:
            annotations["sbol3:extra"] = _ntriples(held - generated)
        if generated - held:
            annotations["sbol3:omit"] = _ntriples(generated - held)
        records.append(replace(record, annotations=annotations))
        owned |= subjects
    rest = (t for s, ts in index.by_subject.items() if s not in owned for t in ts)
    return Sbol3Document(records, _ntriples(rest))


def _model(index: _Index, cid: str, sid: str, source: str | None) -> SequenceRecord:
    """Build the record a Component models; identities go into ``sbol3:*`` annotations."""
    ann: dict[str, object] = {
        "sbol3:identity": str(_to_rdflib(cid)),
        "sbol3:sequence": str(_to_rdflib(sid)),
    }
    display_id = index.text(cid, _DISPLAY_ID) or _segment(cid)
    sbol_name = index.text(cid, _NAME)
    if (
        sbol_name
        and not any(c.isspace() for c in sbol_name)
        and _display_id(sbol_name) == display_id
    ):
        name = sbol_name
    else:
        name = display_id
        if sbol_name != display_id:
            ann["sbol3:name"] = sbol_name
    namespace = index.value(cid, _HAS_NAMESPACE)
    ann["sbol3:namespace"] = str(_to_rdflib(namespace)) if namespace else None
    types = set(index.objects(cid, _TYPE))
    topology: Topology = "circular" if _CIRCULAR in types else "linear"
    if _CIRCULAR not in types and _LINEAR not in types:
        ann["sbol3:unstated"] = ["topology"]
    ann["sbol3:roles"] = [str(_to_rdflib(r)) for r in index.objects(cid, _ROLE)]
    stored = index.text(cid, _CF_ANNOTATIONS)
    if stored is not None:
        try:
            decoded = json.loads(stored)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            ann.update({str(k): v for k, v in decoded.items() if not str(k).startswith("sbol3:")})
    elements = index.text(sid, _ELEMENTS) or ""
    try:
        sequence = validate_dna(elements, record=name)
    except InvalidSequenceError as exc:
        raise FormatError(
            f"invalid base {exc.symbol!r} at position {exc.position} of sequence "
            f"{_to_rdflib(sid)}; "
            "use IUPAC DNA letters",
            source=source,
            record=name,
            field="elements",
        ) from None
    if elements != elements.lower():
        ann["sbol3:elements_case"] = "upper"

    features: list[Feature] = []
    feature_ids: list[str] = []
    location_ids: list[list[str]] = []
    plain = False
    candidates = sorted(
        (f for f in index.objects(cid, _HAS_FEATURE) if index.has(f, _RDF_TYPE, _SEQUENCE_FEATURE)),
        key=_numbered,
    )
    for fid in candidates:
        modelled = _model_feature(index, fid, sid)
        if modelled is None:
            continue
        feature, ids, plain_here = modelled
        plain = plain or plain_here
        features.append(feature)
        feature_ids.append(fid[1:-1])
        location_ids.append(ids)
    identity = str(ann["sbol3:identity"])
    if feature_ids != [f"{identity}/SequenceFeature{i + 1}" for i in range(len(features))]:
        ann["sbol3:feature_ids"] = [str(_to_rdflib(f"<{f}>")) for f in feature_ids]
    default_lids = [
        [f"{fid}/{'Cut' if s.start == s.end else 'Range'}{j + 1}" for j, s in enumerate(f.spans)]
        for fid, f in zip(feature_ids, features, strict=True)
    ]
    if location_ids != default_lids:
        ann["sbol3:location_ids"] = location_ids
    if plain:
        ann["sbol3:plain_integers"] = True
    return SequenceRecord(
        name=name,
        sequence=sequence,
        topology=topology,
        description=index.text(cid, _DESCRIPTION) or "",
        accession=index.text(cid, _CF_ACCESSION) or "",
        molecule_type=index.text(cid, _CF_MOLECULE) or "DNA",
        features=tuple(features),
        annotations=ann,
    )


def _integer(term: str | None) -> tuple[int, bool] | None:
    """Return an integer literal's value and whether it was untyped."""
    if term is None or not term.startswith('"'):
        return None
    lexical, datatype, _ = _literal_parts(term)
    try:
        return int(lexical), datatype is None
    except ValueError:
        return None


def _model_feature(index: _Index, fid: str, sid: str) -> tuple[Feature, list[str], bool] | None:
    """Return a SequenceFeature as a Feature, or None if it is not located on ``sid`` only."""
    feature_strand = _ORIENTATIONS.get(index.value(fid, _ORIENTATION) or "", 0)
    spans: list[FeatureSpan] = []
    ids: list[str] = []
    plain = False
    locations = sorted(index.objects(fid, _HAS_LOCATION), key=_numbered)
    if not locations:
        return None
    for lid in locations:
        if index.objects(lid, _HAS_SEQUENCE) != [sid]:
            return None
        strand = _ORIENTATIONS.get(index.value(lid, _ORIENTATION) or "", feature_strand)
        if index.has(lid, _RDF_TYPE, _RANGE):
            start, end = _integer(index.value(lid, _START)), _integer(index.value(lid, _END))
            if start is None or end is None or start[0] < 1 or end[0] < start[0] - 1:
                return None
            plain = plain or start[1]
            span = FeatureSpan(
                start[0] - 1,
                end[0],
                strand,
                partial_start=index.has(lid, _CF_PARTIAL_START, _TRUE),
                partial_end=index.has(lid, _CF_PARTIAL_END, _TRUE),
            )
        elif index.has(lid, _RDF_TYPE, _CUT):
            at = _integer(index.value(lid, _AT))
            if at is None or at[0] < 0:
                return None
            plain = plain or at[1]
            span = FeatureSpan(
                at[0],
                at[0],
                strand,
                partial_start=index.has(lid, _CF_PARTIAL_START, _TRUE),
                partial_end=index.has(lid, _CF_PARTIAL_END, _TRUE),
            )
        else:
            return None
        spans.append(span)
        ids.append(lid[1:-1])
    key = index.text(fid, _CF_KEY)
    if key is None:
        so_ids = [
            "SO:" + r[1:-1].removeprefix(pysbol3.SO_NS)
            for r in index.objects(fid, _ROLE)
            if r[1:-1].startswith(pysbol3.SO_NS)
        ]
        key = next((_KEY_BY_SO[s] for s in so_ids if s in _KEY_BY_SO), "misc_feature")
    qualifiers: list[tuple[int, str, str | None]] = []
    for term in index.objects(fid, _CF_QUALIFIER):
        if not term.startswith('"'):
            continue
        number, _, rest = _literal_parts(term)[0].partition(":")
        qkey, eq, value = rest.partition("=")
        if number.isdigit():
            qualifiers.append((int(number), qkey, value if eq else None))
    qualifiers.sort(key=lambda q: q[0])
    pairs = tuple((k, v) for _, k, v in qualifiers)
    if not pairs:
        label = index.text(fid, _NAME)
        if label:
            pairs = (("label", label),)
    operator: Literal["join", "order"] = (
        "order" if index.text(fid, _CF_OPERATOR) == "order" else "join"
    )
    return Feature(key, tuple(spans), pairs, operator), ids, plain


# --------------------------------------------------------------------------- pySBOL3


def validate_with_pysbol3(text: str, serialisation: Serialisation = "turtle") -> list[str]:
    """Load an SBOL3 document into pySBOL3 and return its validation messages.

    Parameters
    ----------
    text
        The document, e.g. from :func:`dumps_document`.
    serialisation
        Its RDF serialisation.

    Returns
    -------
    list of str
        pySBOL3's errors and warnings; empty when the document is valid SBOL3.
    """
    if serialisation == "rdf-json":
        text, serialisation = _ntriples(_read_rdf_json(text)), "nt"
    formats = {"turtle": pysbol3.TURTLE, "nt": pysbol3.NTRIPLES, "xml": pysbol3.RDF_XML}
    document = pysbol3.Document()
    document.read_string(text, file_format=formats.get(serialisation, pysbol3.JSONLD))
    report = document.validate()
    return [str(e) for e in (*report.errors, *report.warnings)]
