"""Genome-scale metabolic models in the bank: store, list, show, compile, link to strains.

A model is stored as the file that was uploaded (SBML, COBRA JSON, MATLAB or YAML)
with its SHA-256. It is read with :func:`cellfoundry.metabolism.load_model` before
anything is stored, so a file the engine cannot read is refused with the engine's own
:class:`~cellfoundry.core.errors.ValidationError` or
:class:`~cellfoundry.core.errors.FormatError`, naming the uploaded file (not a
temporary path) and the reaction or line at fault; nothing is stored then.

A model has an owner, the owner's organisation and a visibility with the strains'
meaning (:mod:`cellfoundry.bank.policy`): ``public`` for everyone, ``group`` for the
owner's organisation, ``private`` for the owner; curators, administrators and the
platform see all. A hidden model is not found, exactly like a missing one. A strain
(a chassis) links to at most one model, its genome-scale model.

Compiled models (:class:`~cellfoundry.metabolism.ModelSpec`) are cached in this process
by the file's SHA-256, so jobs on the same model do not parse it again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
from sqlalchemy import ColumnElement, and_, literal_column, or_, select, true
from sqlalchemy.orm import Session

from cellfoundry.bank._base import BankBase
from cellfoundry.bank._rows import _append_history
from cellfoundry.bank.db import MetabolicModel, Strain, StrainModel, User, utcnow
from cellfoundry.bank.policy import (
    VISIBILITIES,
    Viewer,
    require_edit,
    require_writer,
    visible_or_true,
)
from cellfoundry.bank.views import _View
from cellfoundry.core.errors import FormatError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from cellfoundry.metabolism import ModelSpec

__all__ = [
    "MAX_MODEL_BYTES",
    "MODEL_FORMATS",
    "ModelDetails",
    "ModelFormat",
    "ModelView",
    "ModelsMixin",
    "ReactionView",
    "model_format",
]

ModelFormat = Literal["sbml", "json", "mat", "yml"]
MODEL_FORMATS: tuple[str, ...] = get_args(ModelFormat)
#: The largest model file the bank stores (the biggest BiGG models are about 30 MB as SBML).
MAX_MODEL_BYTES = 200 * 1024 * 1024
#: File name endings and the format they mean (the engine's readers choose by ending too).
_SUFFIXES: tuple[tuple[str, ModelFormat], ...] = (
    (".xml", "sbml"),
    (".sbml", "sbml"),
    (".xml.gz", "sbml"),
    (".sbml.gz", "sbml"),
    (".xml.bz2", "sbml"),
    (".xml.zip", "sbml"),
    (".json", "json"),
    (".json.gz", "json"),
    (".mat", "mat"),
    (".yml", "yml"),
    (".yaml", "yml"),
)
#: How many compiled models this process keeps.
_CACHE_SIZE = 16
_cache: OrderedDict[str, ModelSpec] = OrderedDict()
_cache_lock = threading.Lock()


def model_format(filename: str) -> ModelFormat:
    """Return the format a model file's name announces.

    Raises
    ------
    FormatError
        The name ends in none of the endings of SBML, COBRA JSON, MATLAB or YAML.

    Examples
    --------
    >>> model_format("e_coli_core.xml.gz"), model_format("iML1515.JSON")
    ('sbml', 'json')
    """
    lower = filename.lower()
    for suffix, fmt in _SUFFIXES:
        if lower.endswith(suffix):
            return fmt
    raise FormatError(
        "unknown model format: name the file .xml or .sbml (SBML), .json (COBRA JSON), "
        ".mat (MATLAB) or .yml (YAML)",
        source=filename,
        field="filename",
    )


@dataclass(frozen=True, slots=True)
class ModelView(_View):
    """A stored model: its file, its size and objective, who owns it, which strains use it."""

    id: int
    name: str
    filename: str
    format: str
    size_bytes: int
    sha256: str
    reactions: int
    metabolites: int
    genes: int
    objective: str
    owner: str | None
    visibility: str
    created_at: dt.datetime
    strains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReactionView(_View):
    """A reaction of a model with its flux bounds (``None``: no bound) and gene rule."""

    id: str
    name: str
    subsystem: str
    lower_bound: float | None
    upper_bound: float | None
    gene_reaction_rule: str


@dataclass(frozen=True, slots=True)
class ModelDetails(_View):
    """A model's summary with what needs the compiled model: medium and reactions."""

    model: ModelView
    model_id: str
    maximize: bool
    objective_reactions: tuple[str, ...]
    medium: dict[str, float]
    exchanges: tuple[str, ...]
    compartments: tuple[str, ...]
    reactions: tuple[ReactionView, ...] = ()


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    """Return the condition a model must meet to be seen by ``viewer`` (the strains' rule)."""
    if viewer.privileged:
        return true()
    public = MetabolicModel.visibility == literal_column("'public'")
    if not viewer.signed_in:
        return public
    conds: list[ColumnElement[bool]] = [public, MetabolicModel.owner_id == viewer.user_id]
    if viewer.organisation_id is not None:
        conds.append(
            and_(
                MetabolicModel.visibility == literal_column("'group'"),
                MetabolicModel.organisation_id == viewer.organisation_id,
            )
        )
    return or_(*conds)


def _objective_text(spec: ModelSpec) -> str:
    """Return the objective as ``max BIOMASS`` or ``max 0.5 A + 0.5 B``."""
    terms = []
    for j in np.flatnonzero(spec.objective):
        coef = float(spec.objective[j])
        rid = spec.reactions[int(j)]
        terms.append(rid if coef == 1.0 else f"{coef:g} {rid}")
    return ("max " if spec.maximize else "min ") + " + ".join(terms)


def _safe_name(filename: str) -> str:
    """Return the last part of an uploaded file's name, fit to be a file name here."""
    name = PurePath(filename.replace("\\", "/")).name.strip()
    name = "".join(ch if ch.isalnum() or ch in "-_.+" else "_" for ch in name)
    return name.lstrip(".") or "model"


def _compile(data: bytes, filename: str) -> ModelSpec:
    """Compile a model file's bytes; errors name ``filename``, never the temporary file."""
    from cellfoundry.metabolism import load_model

    with tempfile.TemporaryDirectory(prefix="cellfoundry-model-") as folder:
        path = Path(folder) / _safe_name(filename)
        path.write_bytes(data)
        try:
            spec = load_model(path)
        except ValidationError as err:
            temp = str(path)
            err.message = err.message.replace(temp, filename)
            err.renamed(err.source.replace(temp, filename) if err.source else filename)
            raise
    return dataclasses.replace(spec, source=filename)


def _cached(sha256: str) -> ModelSpec | None:
    with _cache_lock:
        spec = _cache.get(sha256)
        if spec is not None:
            _cache.move_to_end(sha256)
        return spec


def _remember(sha256: str, spec: ModelSpec) -> None:
    with _cache_lock:
        _cache[sha256] = spec
        _cache.move_to_end(sha256)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


class ModelsMixin(BankBase):
    """Genome-scale models: store, list, show, compile, link to strains."""

    def add_model(
        self,
        path_or_bytes: str | Path | bytes,
        filename: str | None = None,
        name: str | None = None,
        strain: str | None = None,
        visibility: str = "public",
        *,
        actor: str | None = None,
    ) -> ModelView:
        """Store a model file after reading it with the metabolism engine.

        Parameters
        ----------
        path_or_bytes
            A path to the file, or its content.
        filename
            The file's name (required with bytes; it chooses the reader by its ending).
        name
            The name to show; default the model's own name or id.
        strain
            The accession of a strain to link the model to (its genome-scale model).
        visibility
            ``public``, ``group`` or ``private``.
        actor
            Who the history records; default the viewer.

        Raises
        ------
        FormatError, ValidationError
            The engine cannot read the file (named by ``filename``, with the reaction or
            line at fault); nothing is stored.
        NotFoundError
            ``strain`` is not in the bank or hidden from the viewer.
        ForbiddenError
            The viewer may not add entries, or may not change ``strain``.
        """
        require_writer(self.viewer, "add models")
        if isinstance(path_or_bytes, bytes | bytearray):
            if not filename:
                raise ValidationError("give the file name of the model's bytes", field="filename")
            data = bytes(path_or_bytes)
        else:
            path = Path(path_or_bytes)
            filename = filename or path.name
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ValidationError(
                    f"cannot read the file: {exc.strerror}", source=filename, field="path"
                ) from None
        display = PurePath(filename.replace("\\", "/")).name or "model"
        if len(display) > 255:
            raise ValidationError("the file name is longer than 255 characters", field="filename")
        if visibility not in VISIBILITIES:
            raise ValidationError(
                f"{visibility!r} is not one of {VISIBILITIES}", source=display, field="visibility"
            )
        if name is not None and not 0 < len(name.strip()) <= 255:
            raise ValidationError("a model name has 1 to 255 characters", field="name")
        fmt = model_format(display)
        if len(data) > MAX_MODEL_BYTES:
            raise ValidationError(
                f"the file has {len(data):,} bytes; the bank stores models of up to "
                f"{MAX_MODEL_BYTES:,} bytes",
                source=display,
                field="file",
            )
        if strain is not None:
            self._editable_strain(strain, "link a model to this strain")
        sha256 = hashlib.sha256(data).hexdigest()
        spec = _cached(sha256)  # the same bytes were read before: they are valid
        if spec is None:
            spec = _compile(data, display)
        viewer = self.viewer
        actor = actor or viewer.username
        with self._tx() as s:
            row = MetabolicModel(
                name=(name.strip() if name else "") or spec.name or spec.id,
                filename=display,
                format=fmt,
                content=data,
                size_bytes=len(data),
                sha256=sha256,
                reactions=spec.n_reactions,
                metabolites=spec.n_metabolites,
                genes=len(spec.genes),
                objective=_objective_text(spec),
                owner_id=viewer.user_id,
                organisation_id=viewer.organisation_id,
                visibility=visibility,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            _append_history(
                s,
                {
                    "entity": "model",
                    "entity_id": row.id,
                    "version": 1,
                    "action": "create",
                    "actor": actor,
                    "changes": {
                        "filename": display,
                        "sha256": sha256,
                        "visibility": visibility,
                    },
                },
            )
            if strain is not None:
                self._link(s, strain, row.id, actor)
            model_id = row.id
        _remember(sha256, spec)
        return self._model_view(model_id)

    def list_models(self) -> tuple[ModelView, ...]:
        """Return the models the viewer may see, by name."""
        with self._tx() as s:
            rows = s.scalars(
                select(MetabolicModel)
                .where(_visible(self.viewer))
                .order_by(MetabolicModel.name, MetabolicModel.id)
            ).all()
            return tuple(self._view(s, row) for row in rows)

    def get_model(self, model_id: int) -> ModelView:
        """Return a stored model's summary.

        Reading a model that is not public appends a ``read`` event to the audit trail.

        Raises
        ------
        NotFoundError
            No such model, or the viewer may not see it.
        """
        return self._model_view(model_id, audit=True)

    def model_spec(self, model_id: int) -> ModelSpec:
        """Return the compiled model (a :class:`~cellfoundry.metabolism.ModelSpec`).

        Compiled once per file content in this process, then taken from the cache.
        """
        with self._tx() as s:
            row = self._row(s, model_id)
            sha256, filename, name = row.sha256, row.filename, row.name
            spec = _cached(sha256)
            if spec is None:
                content = s.scalars(
                    select(MetabolicModel.content).where(MetabolicModel.id == model_id)
                ).one()
        if spec is None:
            spec = _compile(content, filename)
            _remember(sha256, spec)
        if spec.source != filename or spec.name != name:
            spec = dataclasses.replace(spec, source=filename, name=name)
        return spec

    def model_details(self, model_id: int, *, reactions: bool = False) -> ModelDetails:
        """Return a model's summary with its medium, exchanges and (optionally) reactions."""
        view = self.get_model(model_id)
        spec = self.model_spec(model_id)
        rows: tuple[ReactionView, ...] = ()
        if reactions:
            rows = tuple(
                ReactionView(
                    id=rid,
                    name=spec.reaction_names[j],
                    subsystem=spec.subsystems[j],
                    lower_bound=_finite(spec.lb[j]),
                    upper_bound=_finite(spec.ub[j]),
                    gene_reaction_rule=spec.rule_texts[j],
                )
                for j, rid in enumerate(spec.reactions)
            )
        return ModelDetails(
            model=view,
            model_id=spec.id,
            maximize=bool(spec.maximize),
            objective_reactions=tuple(
                spec.reactions[int(j)] for j in np.flatnonzero(spec.objective)
            ),
            medium=dict(spec.medium),
            exchanges=tuple(spec.reactions[int(j)] for j in spec.exchanges),
            compartments=tuple(sorted({c for c in spec.compartments if c})),
            reactions=rows,
        )

    def link_model(
        self, strain_accession: str, model_id: int | None, *, actor: str | None = None
    ) -> ModelView | None:
        """Make a model the strain's genome-scale model (``None`` removes the link).

        The viewer must be allowed to change the strain and to see the model.
        """
        self._editable_strain(strain_accession, "link a model to this strain")
        with self._tx() as s:
            if model_id is None:
                sid = s.scalars(select(Strain.id).where(Strain.accession == strain_accession)).one()
                link = s.get(StrainModel, sid)
                if link is not None:
                    old = link.model_id
                    s.delete(link)
                    _append_history(s, self._link_event(s, sid, old, None, actor))
                return None
            self._row(s, model_id)
            self._link(s, strain_accession, model_id, actor or self.viewer.username)
        return self._model_view(model_id)

    def strain_model(self, accession: str) -> ModelView | None:
        """Return the genome-scale model linked to a strain, if any the viewer may see.

        Raises
        ------
        NotFoundError
            No such strain, or the viewer may not see it.
        """
        with self._tx() as s:
            sid = s.scalars(
                select(Strain.id).where(Strain.accession == accession, visible_or_true(self.viewer))
            ).first()
            if sid is None:
                raise NotFoundError("strain", accession)
            row = s.scalars(
                select(MetabolicModel)
                .join(StrainModel, StrainModel.model_id == MetabolicModel.id)
                .where(StrainModel.strain_id == sid, _visible(self.viewer))
            ).first()
            return None if row is None else self._view(s, row)

    # -- helpers ---------------------------------------------------------------------------------

    def _row(self, s: Session, model_id: int) -> MetabolicModel:
        row = s.scalars(
            select(MetabolicModel).where(MetabolicModel.id == model_id, _visible(self.viewer))
        ).first()
        if row is None:
            raise NotFoundError("model", str(model_id))
        return row

    def _model_view(self, model_id: int, *, audit: bool = False) -> ModelView:
        with self._tx() as s:
            row = self._row(s, model_id)
            if audit and row.visibility != "public":
                _append_history(
                    s,
                    {
                        "entity": "model",
                        "entity_id": row.id,
                        "version": 1,
                        "action": "read",
                        "actor": self.viewer.username,
                        "changes": {"role": self.viewer.role},
                    },
                )
            return self._view(s, row)

    def _view(self, s: Session, row: MetabolicModel) -> ModelView:
        owner = (
            s.scalars(select(User.username).where(User.id == row.owner_id)).first()
            if row.owner_id is not None
            else None
        )
        strains = tuple(
            s.scalars(
                select(Strain.accession)
                .join(StrainModel, StrainModel.strain_id == Strain.id)
                .where(StrainModel.model_id == row.id, visible_or_true(self.viewer))
                .order_by(Strain.accession)
            )
        )
        created = row.created_at
        if created.tzinfo is None:  # SQLite hands times back without their offset
            created = created.replace(tzinfo=dt.UTC)
        return ModelView(
            id=row.id,
            name=row.name,
            filename=row.filename,
            format=row.format,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            reactions=row.reactions,
            metabolites=row.metabolites,
            genes=row.genes,
            objective=row.objective,
            owner=owner,
            visibility=row.visibility,
            created_at=created,
            strains=strains,
        )

    def _editable_strain(self, accession: str, action: str) -> None:
        with self._tx() as s:
            found = s.execute(
                select(Strain.id, Strain.owner_id).where(
                    Strain.accession == accession, visible_or_true(self.viewer)
                )
            ).first()
        if found is None:
            raise NotFoundError("strain", accession)
        require_edit(self.viewer, found[1], action)

    def _link(self, s: Session, accession: str, model_id: int, actor: str) -> None:
        sid = s.scalars(select(Strain.id).where(Strain.accession == accession)).one()
        link = s.get(StrainModel, sid)
        old = None if link is None else link.model_id
        if old == model_id:
            return
        if link is None:
            s.add(StrainModel(strain_id=sid, model_id=model_id, linked_by=actor))
        else:
            link.model_id, link.linked_by, link.linked_at = model_id, actor, utcnow()
        s.flush()
        _append_history(s, self._link_event(s, sid, old, model_id, actor))

    def _link_event(
        self, s: Session, strain_id: int, old: int | None, new: int | None, actor: str | None
    ) -> dict[str, Any]:
        version = s.scalars(select(Strain.version).where(Strain.id == strain_id)).one()
        return {
            "entity": "strain",
            "entity_id": strain_id,
            "version": version,
            "action": "model",
            "actor": actor or self.viewer.username,
            "changes": {"model_id": [old, new]},
        }
