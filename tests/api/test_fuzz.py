"""Fuzz the HTTP API against its own OpenAPI document with schemathesis: no server errors.

On each database, ``test_api_fuzz`` loads the demo collection, reads ``/openapi.json``
and sends every operation requests that schemathesis generates from the document:
schema-valid ones (positive) and, where the operation takes a query or a body,
schema-invalid ones (negative), as an administrator (``auth_headers``). Path parameters
and the references inside request bodies are drawn now and then from the stored
records, so reads, edits, moves, deposits, requests and releases reach real strains,
plasmids, parts, samples and users, not only 404s. Every response must pass ``CHECKS``:
no 5xx (an exception in the app fails the run too), a documented status code, content
type and headers, and a body valid against the documented schema.

Known deviations of the API from its document are listed in ``KNOWN_NONCONFORMANCE``:
the fuzz run drops exactly those failures, and ``test_known_nonconformance`` (a strict
xfail) fails as soon as one is fixed, so that its entry is deleted and the check applies
in full again.

The run is deterministic (derandomised, no example database) and does not shrink a
failing request (that can take minutes); set ``CELLFOUNDRY_FUZZ_SHRINK=1`` for a minimal
reproduction and ``CELLFOUNDRY_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode, HookContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.core.result import Err
from schemathesis.errors import FailureGroup
from schemathesis.openapi.checks import UndefinedContentType
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cellfoundry.api.app import create_app
from cellfoundry.bank.demo import load_demo
from cellfoundry.bank.models import StrainRecord
from cellfoundry.bank.services import Bank
from cellfoundry.jobs import JobService

#: Generated requests per operation and generation mode (positive, negative).
MAX_EXAMPLES = int(os.environ.get("CELLFOUNDRY_FUZZ_EXAMPLES", "25"))
#: Shrinking a failing request to a minimal one can take minutes; off unless asked for.
SHRINK = os.environ.get("CELLFOUNDRY_FUZZ_SHRINK") == "1"

#: What every response must pass. An exception in the app is re-raised by the ASGI
#: transport, so it fails the run like a 5xx does. Not here: ``positive_data_acceptance``,
#: because a schema-valid request may still break a rule of the bank (an unknown parent
#: strain, a patent deposit without the depositor's statement): a 404/409/422 by design.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if SHRINK else [])],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    print_blob=False,
)


def auth_headers(bank: Bank) -> dict[str, str]:
    """Headers that authenticate every fuzz request: an administrator's API token.

    The one place to change who the fuzzer is.
    """
    if "fuzz" not in {user.username for user in bank.list_users()}:
        bank.create_user("fuzz", "fuzz fuzz fuzz fuzz", role="administrator", actor="test")
    token = bank.issue_token("fuzz", name="fuzz", actor="test").secret
    return {"Authorization": f"Bearer {token}"}


# -- known deviations from the OpenAPI document ---------------------------------------------------


@dataclass(frozen=True)
class Known:
    """A known way in which the API breaks its OpenAPI document."""

    check: Callable[..., Any]
    reason: str
    matches: Callable[[Failure, Case, Response], bool]
    #: A request that shows it: (method, path, path parameters, raw JSON body or None).
    example: tuple[str, str, dict[str, str], bytes | None]


def _export_error_as_json(failure: Failure, case: Case, response: Response) -> bool:
    return (
        isinstance(failure, UndefinedContentType)
        and response.status_code >= 400
        and failure.content_type.startswith("application/json")
        and case.operation.path.endswith((".gb", ".fasta"))
    )


KNOWN_NONCONFORMANCE: dict[str, Known] = {
    "export-errors-as-text": Known(
        content_type_conformance,
        "the .gb and .fasta downloads document their 404/409/422 errors as text/plain "
        "(their response_class) but send application/json",
        _export_error_as_json,
        ("GET", "/api/plasmids/{name}.gb", {"name": "pNope"}, None),
    ),
}


def _is_known(failure: Failure, case: Case, response: Response) -> bool:
    return any(k.matches(failure, case, response) for k in KNOWN_NONCONFORMANCE.values())


# -- records the fuzzer draws from -----------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """Names of records in the bank, for path parameters and references in bodies."""

    strains: tuple[str, ...]
    numbers: tuple[str, ...]
    plasmids: tuple[str, ...]
    parts: tuple[str, ...]
    samples: tuple[str, ...]
    boxes: tuple[str, ...]
    fragments: tuple[str, ...]
    users: tuple[str, ...]
    organisations: tuple[str, ...]
    requests: tuple[int, ...]
    releases: tuple[int, ...]
    models: tuple[int, ...]
    jobs: tuple[str, ...]
    campaigns: tuple[str, ...] = ()

    @classmethod
    def read(cls, bank: Bank) -> Stored:
        strains = bank.export_strains()
        samples = [s for r in strains for s in bank.get_strain(r.accession).samples]
        plasmids = _names(bank, "plasmid")
        fragments = []
        for name in plasmids[:5]:
            sequence = bank.get_sequence("plasmid", name).sequence
            fragments += [sequence[100:400], sequence[-50:] + sequence[:250]]
        users = bank.list_users()
        models = tuple(m.id for m in bank.list_models())
        jobs: tuple[str, ...] = ()
        if models:
            service = JobService(bank)
            try:
                job = service.submit("fba", {"model_id": models[0]})
                service.wait(job, timeout=120)
                jobs = (job,)
            finally:
                service.close()
        return cls(
            strains=tuple(r.accession for r in strains),
            numbers=tuple(n for r in strains for n in (r.accession, *r.other_accessions)),
            plasmids=plasmids,
            parts=_names(bank, "part"),
            samples=tuple(s.label for s in samples),
            boxes=tuple(sorted({f"{s.site}/{s.freezer}/{s.rack}/{s.box}" for s in samples})),
            fragments=tuple(fragments),
            users=tuple(u.username for u in users),
            organisations=tuple(sorted({u.organisation for u in users if u.organisation})),
            requests=tuple(r.id for r in bank.list_requests()),
            releases=tuple(g.id for g in bank.list_grants()),
            models=models,
            jobs=jobs,
            campaigns=tuple(c.name for c in bank.campaigns()),
        )

    def for_path(self, path: str, parameter: str) -> tuple[str | int, ...] | None:
        """Stored values for a path parameter, or None if it names no known kind of record."""
        if parameter == "accession":
            return self.strains
        if parameter == "request_id":
            return self.requests
        if parameter == "release_id":
            return self.releases
        if parameter == "organisation":
            return self.organisations
        if parameter == "number":
            return self.numbers
        if parameter == "label":
            return self.samples
        if parameter == "name" and path.startswith("/api/plasmids/"):
            return self.plasmids
        if parameter == "name" and path.startswith("/api/parts/"):
            return self.parts
        if parameter == "name" and path.startswith("/api/campaigns/"):
            return self.campaigns
        if parameter == "kind" and "/worklists/" in path:
            return ("opentrons.py", "tecan.gwl", "echo.csv")
        if parameter == "model_id":
            return self.models
        if parameter == "job_id":
            return self.jobs
        return None

    def body_fields(self, label: str) -> dict[str, st.SearchStrategy[Any]]:
        """Strategies for body fields of an operation that refer to stored records."""
        if label == "POST /api/strains":
            return {
                "accession": st.sampled_from(self.strains),
                "parent_accession": st.sampled_from(self.strains),
                "plasmid_names": st.lists(st.sampled_from(self.plasmids), max_size=2),
            }
        if label == "POST /api/requests":
            return {
                "strain": st.sampled_from(self.strains),
                "plasmid": st.sampled_from(self.plasmids),
            }
        if label == "POST /api/requests/{request_id}/shipment":
            return {"sample": st.sampled_from(self.samples)}
        if label.startswith("POST ") and label.endswith("/releases"):
            return {
                "user": st.sampled_from(self.users),
                "organisation": st.sampled_from(self.organisations),
            }
        if label == "POST /api/samples/{label}/move":
            rows = st.sampled_from("ABCDEFGHIJ")
            columns = st.integers(min_value=0, max_value=13)
            return {
                "box": st.sampled_from(self.boxes),
                "position": st.builds(lambda r, c: f"{r}{c}", rows, columns),
            }
        if label == "POST /api/sequences/search":
            dna = st.text(alphabet="ACGT", min_size=1, max_size=300)
            query = st.one_of(st.sampled_from(self.fragments), dna)
            return {"sequence": st.one_of(query, query.map(lambda s: f">query\n{s}\n"))}
        if label == "POST /api/import":
            name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1)
            dna = st.text(alphabet="ACGT", min_size=1, max_size=200)
            fasta = st.builds(lambda n, s: f">{n}\n{s}\n", name, dna)
            return {
                "file": fasta,
                "format": st.just("fasta"),
                "strain": st.sampled_from(self.strains),
            }
        return {}


def _names(bank: Bank, kind: str) -> tuple[str, ...]:
    items, _ = bank.list_sequences(kind, limit=10_000)  # type: ignore[arg-type]
    return tuple(item.name for item in items)


def fuzzed_schema(bank: Bank, stored: Stored) -> Any:
    """The app's OpenAPI document, set to mix stored records into generated requests."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(bank=bank))

    @schema.hook
    def flatmap_case(context: HookContext, case: Case) -> st.SearchStrategy[Case]:
        # Only schema-valid requests: a negative one must stay as schemathesis broke it.
        if case.meta is None or case.meta.generation.mode.is_negative:
            return st.just(case)
        operation = case.operation
        path_values = {
            name: st.sampled_from(values)
            for name in case.path_parameters
            if (values := stored.for_path(operation.path, name))
        }
        body_values = stored.body_fields(operation.label) if isinstance(case.body, dict) else {}
        if not path_values and not body_values:
            return st.just(case)

        def mix(drawn: tuple[dict[str, Any], dict[str, Any]]) -> Case:
            path, body = drawn
            if path:
                case.path_parameters = {**case.path_parameters, **path}
            if body:
                case.body = {**case.body, **body}
            return case

        return st.tuples(
            st.fixed_dictionaries({}, optional=path_values),
            st.fixed_dictionaries({}, optional=body_values),
        ).map(mix)

    @schema.hook
    def filter_failure(
        context: HookContext, failure: Failure, case: Case, response: Response
    ) -> bool:
        return not _is_known(failure, case, response)

    return schema


# -- the fuzz run ------------------------------------------------------------------------------------


@pytest.fixture
def demo_bank(bank: Bank, shared_data: Path) -> Bank:
    load_demo(bank, shared_data, actor="demo")
    bank.create_campaign(
        "fuzz1",
        chassis=bank.export_strains()[0].accession,
        goal={"product": "lycopene"},
        design_space={"factors": {"promoter": ["J23100", "J23114"], "rbs": ["B0034", "B0032"]}},
    )
    return bank


def _modes(operation: Any) -> list[GenerationMode]:
    """Negative requests need something that can break the schema: a query or a body."""
    if len(operation.query) or operation.body:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def test_api_fuzz(demo_bank: Bank, subtests: pytest.Subtests) -> None:
    headers = auth_headers(demo_bank)
    stored = Stored.read(demo_bank)
    schema = fuzzed_schema(demo_bank, stored)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"the OpenAPI document has an invalid operation: {result.err()}")
        operations.append(result.ok())
    unknown = [
        f"{op.label} {{{p.name}}}"
        for op in operations
        for p in op.path_parameters
        if stored.for_path(op.path, p.name) is None
    ]
    assert not unknown, f"Stored.for_path does not know which records these name: {unknown}"

    for operation in operations:
        for mode in _modes(operation):
            with subtests.test(msg=f"{operation.label} ({mode.value})"):

                @FUZZ_SETTINGS
                @given(case=operation.as_strategy(mode))
                def fuzz(case: Case) -> None:
                    case.call_and_validate(headers=headers, checks=CHECKS)

                fuzz()


# -- the known deviations are still there --------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name, marks=pytest.mark.xfail(strict=True, raises=FailureGroup, reason=known.reason)
        )
        for name, known in KNOWN_NONCONFORMANCE.items()
    ],
)
def test_known_nonconformance(sqlite_bank: Bank, name: str) -> None:
    """Each known deviation, shown by one request; once this passes, delete the entry."""
    sqlite_bank.add_strain(StrainRecord("CF-1", "Escherichia coli K-12 MG1655"), actor="test")
    known = KNOWN_NONCONFORMANCE[name]
    method, path, path_parameters, body = known.example
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(bank=sqlite_bank))
    case = schema[path][method].Case(path_parameters=path_parameters)
    headers = auth_headers(sqlite_bank)
    if body is not None:
        headers["Content-Type"] = "application/json"
    response = case.call(headers=headers, data=body)
    try:
        case.validate_response(response, checks=[known.check])
    except FailureGroup as group:
        other = [f for f in group.exceptions if not known.matches(f, case, response)]
        assert not other, f"{name}: failures beyond the known deviation: {other}"
        raise
