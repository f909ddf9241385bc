"""Sequence endpoints: plasmids, parts, exports, similarity search and file import."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePath
from typing import IO, Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import PlainTextResponse

from cellfoundry.api.deps import ActorDep, BankDep
from cellfoundry.api.errors import ERROR_RESPONSES
from cellfoundry.api.schemas import (
    ImportKind,
    ImportPublic,
    PartPublic,
    SequenceHitPublic,
    SequenceHitsPublic,
    SequenceKindName,
    SequencePublic,
    SequenceSearch,
    SequencesPublic,
    SequenceSummaryPublic,
)
from cellfoundry.bank import formats
from cellfoundry.bank.services import Bank, read_and_import
from cellfoundry.core.errors import ValidationError

__all__ = ["EXPORT_FORMATS", "export_text", "import_upload", "query_sequence", "router"]

router = APIRouter(tags=["sequences"], responses=ERROR_RESPONSES)

#: Download formats: URL suffix -> (formats name, media type).
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "gb": ("genbank", "text/x-genbank; charset=utf-8"),
    "fasta": ("fasta", "text/x-fasta; charset=utf-8"),
}

Text = Annotated[str, Query(description="Name, feature label or description contains this.")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]


def _listing(
    bank: Bank, kind: SequenceKindName, q: str, limit: int, offset: int
) -> SequencesPublic:
    items, total = bank.list_sequences(kind, text=q, limit=limit, offset=offset)
    return SequencesPublic(
        data=[SequenceSummaryPublic.from_view(s) for s in items],
        count=total,
        offset=offset,
        limit=limit,
    )


def export_text(bank: Bank, kind: SequenceKindName, name: str, suffix: str) -> str:
    """Return one stored record as GenBank (``gb``) or FASTA (``fasta``) text."""
    fmt, _ = EXPORT_FORMATS[suffix]
    return formats.write([bank.get_sequence(kind, name)], None, fmt)


def _download(text: str, name: str, suffix: str) -> PlainTextResponse:
    _, media = EXPORT_FORMATS[suffix]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "sequence"
    return PlainTextResponse(
        text,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{safe}.{suffix}"'},
    )


@router.get("/plasmids", operation_id="list_plasmids", response_model=SequencesPublic)
def list_plasmids(
    bank: BankDep, q: Text = "", limit: Limit = 50, offset: Offset = 0
) -> SequencesPublic:
    """List plasmids, filtered by name, feature label or description."""
    return _listing(bank, "plasmid", q, limit, offset)


@router.get(
    "/plasmids/{name}.gb",
    operation_id="export_plasmid_genbank",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/x-genbank": {}}, "description": "GenBank flat file."}},
)
def export_plasmid_genbank(name: str, bank: BankDep) -> PlainTextResponse:
    """Download a plasmid as a GenBank file."""
    return _download(export_text(bank, "plasmid", name, "gb"), name, "gb")


@router.get(
    "/plasmids/{name}.fasta",
    operation_id="export_plasmid_fasta",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/x-fasta": {}}, "description": "FASTA file."}},
)
def export_plasmid_fasta(name: str, bank: BankDep) -> PlainTextResponse:
    """Download a plasmid as a FASTA file."""
    return _download(export_text(bank, "plasmid", name, "fasta"), name, "fasta")


@router.get("/plasmids/{name}", operation_id="read_plasmid", response_model=SequencePublic)
def read_plasmid(name: str, bank: BankDep) -> SequencePublic:
    """Show a plasmid with its sequence and features."""
    return SequencePublic.from_record("plasmid", bank.get_sequence("plasmid", name))


@router.get("/parts", operation_id="list_parts", response_model=SequencesPublic)
def list_parts(
    bank: BankDep, q: Text = "", limit: Limit = 50, offset: Offset = 0
) -> SequencesPublic:
    """List standard parts, filtered by name, feature label or description."""
    return _listing(bank, "part", q, limit, offset)


@router.get(
    "/parts/{name}.gb",
    operation_id="export_part_genbank",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/x-genbank": {}}, "description": "GenBank flat file."}},
)
def export_part_genbank(name: str, bank: BankDep) -> PlainTextResponse:
    """Download a part as a GenBank file."""
    return _download(export_text(bank, "part", name, "gb"), name, "gb")


@router.get(
    "/parts/{name}.fasta",
    operation_id="export_part_fasta",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/x-fasta": {}}, "description": "FASTA file."}},
)
def export_part_fasta(name: str, bank: BankDep) -> PlainTextResponse:
    """Download a part as a FASTA file."""
    return _download(export_text(bank, "part", name, "fasta"), name, "fasta")


@router.get("/parts/{name}", operation_id="read_part", response_model=PartPublic)
def read_part(name: str, bank: BankDep) -> PartPublic:
    """Show a part with its role, Sequence Ontology term, characterisation and sequence."""
    return PartPublic.from_view(bank.get_part(name))


def query_sequence(text: str) -> str:
    """Return the DNA of a search query given plainly or as FASTA (first record)."""
    text = text.strip()
    if text.startswith(">"):
        records = formats.parse(text, "fasta", source="query")
        if not records:
            raise ValidationError("the FASTA query holds no sequence", field="sequence")
        return records[0].sequence
    return "".join(text.split())


@router.post(
    "/sequences/search", operation_id="search_sequences", response_model=SequenceHitsPublic
)
def search_sequences(body: SequenceSearch, bank: BankDep) -> SequenceHitsPublic:
    """Find stored plasmids, parts and genomes similar to a DNA query (best first)."""
    query = query_sequence(body.sequence)
    if not query:
        raise ValidationError("the query holds no sequence", field="sequence")
    hits = bank.search_sequences(query, top=body.top, kinds=tuple(body.kinds))
    return SequenceHitsPublic(
        query_length=len(query), data=[SequenceHitPublic.from_view(h) for h in hits]
    )


def import_upload(
    bank: Bank,
    stream: IO[bytes],
    filename: str,
    *,
    kind: ImportKind,
    actor: str,
    fmt: str | None = None,
    strain: str | None = None,
    role: str | None = None,
) -> ImportPublic:
    """Save an uploaded file under its own name in a temporary folder and import it.

    Errors name the uploaded file, not the temporary path.
    """
    name = PurePath(filename.replace("\\", "/")).name or "upload"
    with tempfile.TemporaryDirectory(prefix="cellfoundry-import-") as folder:
        path = Path(folder) / name
        with path.open("wb") as out:
            shutil.copyfileobj(stream, out)
        try:
            report = read_and_import(
                bank, path, kind=kind, actor=actor, fmt=fmt, strain=strain, role=role
            )
        except ValidationError as err:
            raise _renamed(err, str(path), name) from err
    return ImportPublic.from_view(report, source=name)


def _renamed(err: ValidationError, temp: str, name: str) -> ValidationError:
    """Return a copy of ``err`` that names the uploaded file instead of its temporary path."""
    source = err.source.replace(temp, name) if err.source else name
    copy = type(err).__new__(type(err))
    copy.__dict__.update(err.__dict__)
    ValidationError.__init__(copy, err.message, source=source, record=err.record, field=err.field)
    return copy


@router.post("/import", operation_id="import_file", response_model=ImportPublic, status_code=201)
def import_file(
    bank: BankDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="GenBank, FASTA, SBOL3 or catalogue CSV.")],
    kind: Annotated[
        ImportKind, Form(description="strain (catalogue CSV), plasmid, part or genome.")
    ],
    format: Annotated[
        Literal["", "genbank", "fasta", "sbol3"],
        Form(description="Override the guess from the file extension."),
    ] = "",
    strain: Annotated[str, Form(description="Owner strain of a genome.")] = "",
    role: Annotated[str, Form(description="Role of imported parts (promoter, cds...).")] = "",
) -> ImportPublic:
    """Import a file all-or-nothing; a bad record is named with its file, record and field."""
    return import_upload(
        bank,
        file.file,
        file.filename or "upload",
        kind=kind,
        actor=actor,
        fmt=format or None,
        strain=strain or None,
        role=role or None,
    )
