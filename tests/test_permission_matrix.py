"""The permission matrix: every named URL, for every role (and anonymous), for each record scope.

The expected outcomes live in ``tests/permission_matrix.yaml`` (its header explains the format).
The test walks the URLconf itself, so a new URL without an entry fails
``test_every_url_has_an_entry`` and an entry for a URL that no longer exists fails
``test_every_entry_names_a_url``.

Speed: the persona world is built once per module (one transaction, rolled back at the end);
each URL is one test; each cell runs in a savepoint that is rolled back, so a POST or a logout in
one cell cannot change another.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.accounts.models import User, UserSession
from safer.accounts.roles import Role
from safer.models import WorkerCheck
from tests.factories import (
    ChildFactory,
    CommissionedUnitsFactory,
    ContractFactory,
    CypProviderFactory,
    PersonaWorld,
    SecurityContractorFactory,
    UserFactory,
    build_persona_world,
)
from tests.helpers import sign_in

MATRIX_FILE = Path(__file__).with_name("permission_matrix.yaml")
PERSONAS = ("anonymous", *(role.value for role in Role))
SCOPES = ("own", "other_org", "other_authority")
# Namespaces whose unnamed patterns are tolerated (Django's admin adds redirect and catch-all
# patterns without names; they lead to the named views the matrix covers).
UNNAMED_ALLOWED_NAMESPACES = ("admin",)
# A value for a URL parameter that names nothing, when the entry gives no object or kwargs.
DUMMY_BY_CONVERTER = {"uuid": "00000000-0000-4000-8000-000000000000", "int": 1}
DUMMY_DEFAULT = "example"


# --- The URLconf ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None
    pattern: str
    kwarg_converters: dict[str, str]


def walk_urlconf() -> Iterator[Route]:
    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> Iterator[Route]:
        for item in resolver.url_patterns:
            if isinstance(item, URLResolver):
                ns = item.namespace
                child_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
                yield from walk(item, prefix + str(item.pattern), child_ns)
            elif isinstance(item, URLPattern):
                name = f"{namespace}:{item.name}" if namespace and item.name else item.name
                pattern = prefix + str(item.pattern)
                yield Route(name=name, pattern=pattern, kwarg_converters=_converters(item))

    yield from walk(get_resolver(), "", None)


def _converters(item: URLPattern) -> dict[str, str]:
    if isinstance(item.pattern, RoutePattern):
        return {
            name: type(converter).__name__.removesuffix("Converter").lower()
            for name, converter in item.pattern.converters.items()
        }
    return {name: "regex" for name in item.pattern.regex.groupindex}


ROUTES = [route for route in walk_urlconf() if route.name]
UNNAMED = [
    route.pattern
    for route in walk_urlconf()
    if not route.name and not route.pattern.startswith(UNNAMED_ALLOWED_NAMESPACES)
]


# --- The matrix file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a request must give: a status code, "login" or "redirect[:prefix]"."""

    raw: str

    def matches(self, status: int, location: str) -> bool:
        if self.raw == "login":
            return status == 302 and urlparse(location).path == settings.LOGIN_URL
        if self.raw == "redirect":
            return 300 <= status < 400
        if self.raw.startswith("redirect:"):
            prefix = self.raw.removeprefix("redirect:")
            target = urlparse(location).path if prefix.startswith("/") else location
            return 300 <= status < 400 and target.startswith(prefix)
        return str(status) == self.raw


@dataclass
class Entry:
    key: str
    object_kind: str | None
    kwargs: dict[str, Any]
    method: str
    data: dict[str, Any]
    outcomes: dict[str, dict[str, Outcome]] = field(default_factory=dict)


ENTRY_KEYS = {"object", "kwargs", "method", "data", "all", "signed_in", "note"}


def load_matrix() -> tuple[dict[str, Entry], list[str]]:
    document = yaml.safe_load(MATRIX_FILE.read_text())
    groups: dict[str, list[str]] = document.get("groups", {})
    problems: list[str] = []
    for group, members in groups.items():
        problems += [f"group {group}: unknown persona {m}" for m in members if m not in PERSONAS]
    entries: dict[str, Entry] = {}
    for key, spec in document["urls"].items():
        try:
            entries[key] = _entry(key, spec or {}, groups)
        except ValueError as error:
            problems.append(f"{key}: {error}")
    return entries, problems


def _entry(key: str, spec: dict[str, Any], groups: dict[str, list[str]]) -> Entry:
    unknown = set(spec) - ENTRY_KEYS - set(PERSONAS) - set(groups)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    object_kind = spec.get("object")
    if object_kind is not None and object_kind not in OBJECT_BUILDERS:
        raise ValueError(f"no object builder {object_kind!r} in test_permission_matrix.py")
    scopes = SCOPES if object_kind and not OBJECT_BUILDERS[object_kind].collapsed else ("any",)
    entry = Entry(
        key=key,
        object_kind=object_kind,
        kwargs=spec.get("kwargs", {}),
        method=spec.get("method", "get").lower(),
        data=spec.get("data", {}),
    )
    for persona in PERSONAS:
        claimants = [g for g, members in groups.items() if g in spec and persona in members]
        if len(claimants) > 1:
            raise ValueError(f"{persona} is in several groups given here: {claimants}")
        if persona in spec:
            value = spec[persona]
        elif claimants:
            value = spec[claimants[0]]
        elif persona != "anonymous" and "signed_in" in spec:
            value = spec["signed_in"]
        elif "all" in spec:
            value = spec["all"]
        else:
            raise ValueError(f"no outcome for {persona} (give it, a group, signed_in or all)")
        entry.outcomes[persona] = _per_scope(value, scopes)
    return entry


def _per_scope(value: Any, scopes: tuple[str, ...]) -> dict[str, Outcome]:
    if isinstance(value, dict):
        if scopes == ("any",):
            raise ValueError("per-scope outcomes need an object with scopes")
        if set(value) != set(SCOPES):
            raise ValueError(f"give exactly {SCOPES}, not {sorted(value)}")
        return {scope: _outcome(value[scope]) for scope in scopes}
    return {scope: _outcome(value) for scope in scopes}


def _outcome(value: Any) -> Outcome:
    text = str(value)
    if not (
        re.fullmatch(r"[1-5]\d\d", text)
        or text in ("login", "redirect")
        or re.fullmatch(r"redirect:(/|https://)\S*", text)
    ):
        raise ValueError(f"not an outcome: {value!r}")
    return Outcome(text)


def entry_for(name: str, entries: dict[str, Entry]) -> Entry | None:
    if name in entries:
        return entries[name]
    # Globs (used only for the admin site's generated URLs): the most specific one wins.
    globbed = [key for key in entries if "*" in key and fnmatch.fnmatchcase(name, key)]
    return entries[max(globbed, key=len)] if globbed else None


# --- Records for each scope ------------------------------------------------------------------


@dataclass
class MatrixWorld:
    world: PersonaWorld
    session_keys: dict[str, str]
    sessions: dict[str, UserSession]
    extra: dict[str, Any] = field(default_factory=dict)

    def user(self, persona: str) -> User | None:
        return None if persona == "anonymous" else self.world.personas[persona]


@dataclass(frozen=True)
class ObjectBuilder:
    """Gives the URL kwargs for (persona, scope). ``collapsed``: the record is not scoped by
    organisation or authority, so one request answers for all three scopes."""

    kwargs: Callable[[MatrixWorld, str, str], dict[str, Any]]
    collapsed: bool = False


def _casefile(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"case_file_id": mw.world.cases[scope].id}


def _own_session(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    # Own: the persona's own session; otherwise someone else's (an outsider's, Medway staff's).
    holder = {"own": persona, "other_org": "outsider", "other_authority": "medway_spa_triage"}[
        scope
    ]
    if holder == "anonymous":
        holder = "outsider"
    return {"session_id": mw.sessions[holder].id}


def _audit_casefile(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"record_type": "casefile.casefile", "record_id": str(mw.world.cases[scope].id)}


def _worker_check(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"check_id": mw.extra["worker_check"].id}


def _totp_device(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"pk": mw.extra["totp_device"].pk}


def _referral(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"referral_id": mw.extra["referrals"][scope].id}


def _job(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"job_id": mw.extra["jobs"][scope].id}


def _adult_case(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"case_id": mw.extra["adult_cases"][scope].id}


def _cyp_case(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"case_id": mw.extra["cyp_cases"][scope].id}


def _worker(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    # Own: a worker of the provider manager's organisation; else another provider's, Medway's.
    holder = {
        "own": "adult_support_worker",
        "other_org": "outsider",
        "other_authority": "medway_spa_triage",
    }[scope]
    return {"worker_id": mw.world.personas[holder].id}


def _support_group(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"group_id": mw.extra["support_groups"][scope].id}


def _report_run(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    # A provider manager's own run is its organisation's contract KPI report; anyone else's is
    # the authority's quarterly return.
    runs = mw.extra["report_runs"]
    run = runs["own_provider"] if (persona, scope) == ("provider_manager", "own") else runs[scope]
    return {"run_id": run.id}


def _commissioned_units(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"units_id": mw.extra["commissioned_units"][scope].id}


def _support_contract(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"contract_id": mw.extra["support_contracts"][scope].id}


def _subject_access(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"sar_id": mw.extra["subject_access"][scope].id}


def _retention_run(mw: MatrixWorld, persona: str, scope: str) -> dict[str, Any]:
    return {"run_id": mw.extra["retention_runs"][scope].id}


# Add a builder here when a URL names a new kind of record (and make the record in
# ``_make_records``): "own" is the persona's own organisation's or authority's record,
# "other_org" another organisation's in the same authority, "other_authority" Medway's.
OBJECT_BUILDERS: dict[str, ObjectBuilder] = {
    "casefile": ObjectBuilder(_casefile),
    "session": ObjectBuilder(_own_session),
    "audit_casefile": ObjectBuilder(_audit_casefile),
    "worker_check": ObjectBuilder(_worker_check, collapsed=True),
    "totp_device": ObjectBuilder(_totp_device, collapsed=True),
    "referral": ObjectBuilder(_referral),
    "security_job": ObjectBuilder(_job),
    "adult_case": ObjectBuilder(_adult_case),
    "cyp_case": ObjectBuilder(_cyp_case),
    "support_group": ObjectBuilder(_support_group),
    "worker": ObjectBuilder(_worker),
    "report_run": ObjectBuilder(_report_run),
    "commissioned_units": ObjectBuilder(_commissioned_units),
    "support_contract": ObjectBuilder(_support_contract),
    "subject_access": ObjectBuilder(_subject_access),
    "retention_run": ObjectBuilder(_retention_run),
}


def _make_records(world: PersonaWorld) -> dict[str, Any]:
    """Records of the other apps for the three scopes, made through their own services."""
    from security_works.services import security_job_allocate
    from tests.referrals_support import make_referral

    medway_contractor = SecurityContractorFactory.create(
        name="Example Medway Doors",
        authorities=[world.medway],
        districts_covered=[world.extra["districts"]["medway"]],
    )
    jobs = {
        scope: security_job_allocate(case_file=case, priority="standard", allocated_by=None)
        for scope, case in world.cases.items()
    }
    assert jobs["other_authority"].contractor == medway_contractor
    referrals = {
        "own": make_referral(referrer_user=world.referrer, address_line_1="1 Example Street"),
        "other_org": make_referral(
            referrer_email="someone@other.example.org", address_line_1="2 Example Street"
        ),
        "other_authority": make_referral(
            district="medway", postcode="ME4 4AA", address_line_1="3 Example Street"
        ),
    }
    return {
        "worker_check": WorkerCheck.objects.create(requested_by=world.system_admin),
        "totp_device": TOTPDevice.objects.get(user=world.outsider),
        "jobs": jobs,
        "referrals": referrals,
        **_support_records(world),
        "report_runs": _report_runs(world),
        **_commissioning_records(world),
        **_data_protection_records(world),
    }


def _data_protection_records(world: PersonaWorld) -> dict[str, Any]:
    """A subject access request on each scope's case, and retention runs that erased records of
    Kent ("own", "other_org") and of Medway ("other_authority")."""
    from safer.dataprotection.models import RetentionRun, RetentionRunCount
    from safer.dataprotection.subject_access import subject_access_request_record

    requests = {
        scope: subject_access_request_record(
            case_file=case,
            person=case.survivor,
            requested_by_description="The survivor, by phone",
            received_on=timezone.localdate(),
            by=world.spa_manager,
        )
        for scope, case in world.cases.items()
    }
    runs = {}
    for authority in (world.kent, world.medway):
        run = RetentionRun.objects.create(as_of=timezone.localdate(), status="succeeded")
        RetentionRunCount.objects.create(
            run=run, authority=authority, record_type="Case files", count=1
        )
        runs[authority.pk] = run
    return {
        "subject_access": requests,
        "retention_runs": {
            "own": runs[world.kent.pk],
            "other_org": runs[world.kent.pk],
            "other_authority": runs[world.medway.pk],
        },
    }


def _commissioning_records(world: PersonaWorld) -> dict[str, Any]:
    """Commissioning data: Kent's own, Kent's with another provider, and Medway's."""
    medway_provider = world.organisations["adult"]
    return {
        "commissioned_units": {
            "own": CommissionedUnitsFactory.create(authority=world.kent),
            "other_org": CommissionedUnitsFactory.create(
                authority=world.kent,
                accommodation_type="sanctuary",
                provider=world.organisations["contractor"],
            ),
            "other_authority": CommissionedUnitsFactory.create(authority=world.medway),
        },
        "support_contracts": {
            "own": ContractFactory.create(
                authority=world.kent, provider=world.organisations["adult"]
            ),
            "other_org": ContractFactory.create(
                authority=world.kent,
                provider=world.organisations["cyp"],
                service_element="cyp",
            ),
            "other_authority": ContractFactory.create(
                authority=world.medway, provider=medway_provider
            ),
        },
    }


def _report_runs(world: PersonaWorld) -> dict[str, Any]:
    """Report runs as the reporting app stores them (queued; no worker runs in this module)."""
    from reporting.models import ReportKind, ReportRun
    from safer.organisations.models import Contract, ServiceElement

    def contract(provider: Any, reference: str) -> Contract:
        return Contract.objects.create(
            authority=world.kent,
            provider=provider,
            service_element=ServiceElement.SECURITY,
            reference=reference,
            start_date=timezone.localdate().replace(month=4, day=1),
            end_date=timezone.localdate().replace(
                month=4, day=1, year=timezone.localdate().year + 2
            ),
            value_per_year=400_000,
        )

    def run(kind: str, authority: Any, **fields: Any) -> ReportRun:
        made = ReportRun.objects.create(kind=kind, period_code="2026-27-Q1", **fields)
        made.authorities.add(authority)
        return made

    kpi = ReportKind.CONTRACT_KPI
    return {
        "own": run(ReportKind.QUARTERLY_GRANT, world.kent),
        "own_provider": run(
            kpi,
            world.kent,
            contract=contract(world.organisations["adult"], "MATRIX-ADULT"),
            includes_case_references=True,
        ),
        "other_org": run(
            kpi,
            world.kent,
            contract=contract(world.organisations["other_contractor"], "MATRIX-OTHER"),
            includes_case_references=True,
        ),
        "other_authority": run(ReportKind.QUARTERLY_GRANT, world.medway),
    }


def _support_records(world: PersonaWorld) -> dict[str, Any]:
    """Adult and CYP cases and CYP groups: the persona's provider's in Kent, another Kent
    provider's, and a Medway provider's."""
    from support.services.adult import adult_support_case_open
    from support.services.cyp import cyp_case_open
    from support.services.groups import support_group_create

    orgs, kent, medway = world.organisations, world.kent, world.medway
    other_cyp = CypProviderFactory.create(name="Other Young People", authorities=[kent])
    medway_cyp = CypProviderFactory.create(name="Medway Young People", authorities=[medway])
    cyp_workers = {
        "own": world.cyp_worker,
        "other_org": UserFactory.create(
            organisation=other_cyp, roles=[Role.CYP_WORKER], authorities=[kent]
        ),
        "other_authority": UserFactory.create(
            organisation=medway_cyp, roles=[Role.CYP_WORKER], authorities=[medway]
        ),
    }
    adult_cases = {
        "own": adult_support_case_open(
            case_file=world.own_case,
            opened_by=None,
            provider=orgs["adult"],
            worker=world.adult_support_worker,
        ),
        "other_org": adult_support_case_open(
            case_file=world.other_org_case,
            opened_by=None,
            provider=orgs["outsider"],
            worker=world.outsider,
        ),
        "other_authority": adult_support_case_open(
            case_file=world.other_authority_case, opened_by=None, provider=orgs["medway_support"]
        ),
    }
    providers = {"own": orgs["cyp"], "other_org": other_cyp, "other_authority": medway_cyp}
    cyp_cases = {
        scope: cyp_case_open(
            case_file=case,
            child=ChildFactory.create(household=case.household),
            opened_by=None,
            provider=providers[scope],
            worker=cyp_workers[scope],
        )
        for scope, case in world.cases.items()
    }
    support_groups = {
        scope: support_group_create(
            authority=medway if scope == "other_authority" else kent,
            name=f"Example group ({scope})",
            starts_on=timezone.localdate(),
            created_by=worker,
        )
        for scope, worker in cyp_workers.items()
    }
    return {"adult_cases": adult_cases, "cyp_cases": cyp_cases, "support_groups": support_groups}


ENTRIES, MATRIX_PROBLEMS = load_matrix()


@pytest.fixture(scope="module", autouse=True)
def _sessions_outlast_the_module() -> Iterator[None]:
    """Every request is rolled back, so a persona's session never records activity: on a loaded
    machine the module outran the 15-minute idle limit and each later row read "302 to sign in".
    The limits have tests of their own (tests/test_accounts_sessions.py)."""
    with override_settings(
        SAFER_SESSION_IDLE_SECONDS=24 * 60 * 60, SAFER_SESSION_ABSOLUTE_SECONDS=48 * 60 * 60
    ):
        yield


@pytest.fixture(scope="module")
def matrix_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[MatrixWorld]:
    """The persona world, built once for the module and rolled back at its end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = build_persona_world()
            session_keys: dict[str, str] = {}
            for name, user in world.personas.items():
                client = sign_in(Client(), user)
                session_keys[name] = client.session.session_key or ""
            sessions = {
                name: UserSession.objects.get(session_key=key) for name, key in session_keys.items()
            }
            extra = _make_records(world)
            yield MatrixWorld(
                world=world, session_keys=session_keys, sessions=sessions, extra=extra
            )
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- The tests ---------------------------------------------------------------------------------


def test_matrix_file_is_well_formed() -> None:
    assert not MATRIX_PROBLEMS, "\n".join(MATRIX_PROBLEMS)


def test_every_url_has_an_entry() -> None:
    missing = sorted(
        f"{route.name}  ({route.pattern})"
        for route in ROUTES
        if route.name and entry_for(route.name, ENTRIES) is None
    )
    assert not missing, "Add these URLs to tests/permission_matrix.yaml:\n" + "\n".join(missing)


def test_every_url_pattern_is_named() -> None:
    assert not UNNAMED, f"Name these URL patterns so the matrix can cover them: {UNNAMED}"


def test_every_entry_names_a_url() -> None:
    names = {route.name for route in ROUTES if route.name}
    stale = [
        key
        for key in ENTRIES
        if ("*" in key and not fnmatch.filter(names, key)) or ("*" not in key and key not in names)
    ]
    assert not stale, f"These entries name no URL any more: {stale}"


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_permission_matrix(route: Route, matrix_world: MatrixWorld, db: None) -> None:
    assert route.name is not None
    entry = entry_for(route.name, ENTRIES)
    if entry is None:
        pytest.skip("no entry (test_every_url_has_an_entry fails for it)")
    failures: list[str] = []
    for persona in PERSONAS:
        for scope, expected in entry.outcomes[persona].items():
            url = _url(route, entry, matrix_world, persona, scope)
            status, location = _request(matrix_world, persona, entry, url)
            if not expected.matches(status, location):
                got = f"{status} → {location}" if location else str(status)
                failures.append(f"{persona:<22} {scope:<16} expected {expected.raw}, got {got}")
    assert not failures, f"{route.name} ({route.pattern}):\n" + "\n".join(failures)


def _url(route: Route, entry: Entry, mw: MatrixWorld, persona: str, scope: str) -> str:
    kwargs: dict[str, Any] = {}
    if entry.object_kind:
        builder = OBJECT_BUILDERS[entry.object_kind]
        kwargs.update(builder.kwargs(mw, persona, "own" if scope == "any" else scope))
    kwargs.update(entry.kwargs)
    for name, converter in route.kwarg_converters.items():
        kwargs.setdefault(name, DUMMY_BY_CONVERTER.get(converter, DUMMY_DEFAULT))
    assert route.name is not None
    return reverse(route.name, kwargs=kwargs or None)


def _request(mw: MatrixWorld, persona: str, entry: Entry, url: str) -> tuple[int, str]:
    # A server error is an outcome to report in the table, not a crash of the whole row.
    client = Client(raise_request_exception=False)
    if persona != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = mw.session_keys[persona]
    with transaction.atomic():
        response = getattr(client, entry.method)(url, data=entry.data or None)
        transaction.set_rollback(True)
    return response.status_code, response.get("Location", "")


def test_builders_cover_uuid_urls() -> None:
    """A URL taking a record id should say which record (an ``object``), or the matrix would
    only ever try an id that names nothing."""
    unexplained = [
        route.name
        for route in ROUTES
        if "uuid" in route.kwarg_converters.values()
        and (entry := entry_for(route.name or "", ENTRIES)) is not None
        and entry.object_kind is None
        and not entry.kwargs
    ]
    assert not unexplained, f"Give these an object in the matrix: {unexplained}"
