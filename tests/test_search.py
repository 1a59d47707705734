"""Staff search (safer.search): what is typed, who may search, and that a record the user may
not see is never in their results, for every role that can search."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from safer.accounts.models import User
from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import Person
from safer.search.query import QueryKind, SearchQueryError, search_query_parse
from safer.search.registry import search_providers, search_roles
from safer.search.roles import SEARCH_ROLES
from safer.search.selectors import RESULTS_PER_TYPE, search_for_user
from security_works.models import JobStatus, SecurityJob
from tests.factories import PersonaWorld
from tests.helpers import sign_in

# --- Reading the query (no database) --------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "4 December 1990",
        "4 Dec 1990",
        "4th December 1990",
        "4/12/1990",
        "04/12/1990",
        "4-12-1990",
        "4.12.1990",
        "1990-12-04",
        " 4  december   1990 ",
    ],
)
def test_dates_of_birth_in_every_usual_form(typed: str) -> None:
    query = search_query_parse(typed)
    assert query.kind is QueryKind.DATE_OF_BIRTH
    assert query.date == dt.date(1990, 12, 4)
    assert query.display == "4 December 1990"


@pytest.mark.parametrize("typed", ["31/02/1990", "30 February 1990", "1990-13-01"])
def test_an_impossible_date_says_so(typed: str) -> None:
    with pytest.raises(SearchQueryError, match="real date"):
        search_query_parse(typed)


@pytest.mark.parametrize("typed", ["ME14 1AA", "me141aa", " Me14  1aA ", "ME141AA"])
def test_postcodes_with_or_without_space_any_case(typed: str) -> None:
    query = search_query_parse(typed)
    assert (query.kind, query.text, query.display) == (QueryKind.POSTCODE, "ME141AA", "ME14 1AA")


def test_an_outward_code_alone_is_a_postcode_area() -> None:
    query = search_query_parse("me14")
    assert (query.kind, query.text) == (QueryKind.OUTWARD_CODE, "ME14")


@pytest.mark.parametrize(
    "typed",
    [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "0044 7700 900123",
        "(07700) 900-123",
        "447700900123",
    ],
)
def test_phone_numbers_become_national_digits(typed: str) -> None:
    query = search_query_parse(typed)
    assert (query.kind, query.text) == (QueryKind.PHONE, "07700900123")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("SAFER-2026-000123", "SAFER-2026-000123"),
        ("safer-2026-123", "SAFER-2026-000123"),
        ("SW 2026 42", "SW-2026-000042"),
        ("cy/2026/7", "CY-2026-000007"),
        ("safer-2025-b00042", "SAFER-2025-B00042"),
    ],
)
def test_references_are_normalised(typed: str, expected: str) -> None:
    query = search_query_parse(typed)
    assert (query.kind, query.text) == (QueryKind.REFERENCE, expected)


@pytest.mark.parametrize("typed", ["Jane Smith", "o'brien", "Anne-Marie", "Zoë", "Bench12"])
def test_names(typed: str) -> None:
    query = search_query_parse(typed)
    assert query.kind is QueryKind.NAME
    assert query.text == typed.upper()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a reference, a name"),
        ("a", "at least 2 letters"),
        ("12345", "Enter a full reference"),
        ("x" * 101, "100 characters or fewer"),
    ],
)
def test_what_cannot_be_searched_says_what_to_type(typed: str, message: str) -> None:
    with pytest.raises(SearchQueryError, match=message):
        search_query_parse(typed)


def test_every_provider_serves_only_roles_that_get_the_search_page() -> None:
    """The header box and the page use SEARCH_ROLES; a provider for any other role would be
    unreachable, and a role here without a provider would get an empty page."""
    assert search_roles() == frozenset(SEARCH_ROLES)
    assert [p.key for p in search_providers()] == [
        "referrals",
        "case-files",
        "security-jobs",
        "adult-cases",
        "cyp-cases",
    ]


# --- Scoping ----------------------------------------------------------------------------------


@pytest.fixture
def records(world: PersonaWorld) -> dict[str, Any]:
    """Jobs, adult and CYP cases on the three case files of the persona world (own: Kent, the
    personas' organisations; other_org: Kent, other providers; other_authority: Medway), and a
    referral in Kent and one in Medway. Every world case file is at ZZ99 1AA, its survivor's
    family name is Example, born 1 April 1990, safe phone 07700 900123."""
    from security_works.services import security_job_allocate
    from tests.factories import SecurityContractorFactory
    from tests.referrals_support import make_referral
    from tests.test_permission_matrix import _support_records

    SecurityContractorFactory.create(
        name="Example Medway Doors",
        authorities=[world.medway],
        districts_covered=[world.extra["districts"]["medway"]],
    )
    jobs = {
        scope: security_job_allocate(case_file=case, priority="standard", allocated_by=None)
        for scope, case in world.cases.items()
    }
    referrals = {
        "own": make_referral(postcode="ME15 6AA"),
        "other_authority": make_referral(district="medway", postcode="ME4 4AA"),
    }
    return {"jobs": jobs, "referrals": referrals, **_support_records(world)}


def found(user: User, typed: str) -> set[str]:
    query = search_query_parse(typed)
    return {r.reference for g in search_for_user(user=user, query=query) for r in g.results}


def refs(*records: Any) -> set[str]:
    return {r.reference for r in records}


SEARCHES = ["ZZ99 1AA", "zz991aa", "ZZ99", "Example", "1 April 1990", "07700 900123"]


@pytest.mark.django_db
def test_spa_staff_find_their_authoritys_records_only(
    world: PersonaWorld, records: dict[str, Any]
) -> None:
    for typed in SEARCHES:
        _spa_scoping(world, records, typed)


def _spa_scoping(world: PersonaWorld, records: dict[str, Any], typed: str) -> None:
    own, other, medway = world.own_case, world.other_org_case, world.other_authority_case
    jobs, referrals = records["jobs"], records["referrals"]
    for persona in ("spa_triage", "spa_manager"):
        results = found(getattr(world, persona), typed)
        assert refs(own, other, jobs["own"], jobs["other_org"]) <= results
        assert not results & refs(medway, jobs["other_authority"], referrals["other_authority"])
        # SPA staff see no support case: they follow it through the case file's timeline.
        assert not results & refs(*records["adult_cases"].values(), *records["cyp_cases"].values())
    medway_results = found(world.medway_spa_triage, typed)
    assert refs(medway, jobs["other_authority"]) <= medway_results
    assert not medway_results & refs(own, other, jobs["own"], jobs["other_org"])


@pytest.mark.django_db
def test_spa_staff_find_a_referral_by_every_kind(
    world: PersonaWorld, records: dict[str, Any]
) -> None:
    kent_referral = records["referrals"]["own"]  # ME15 6AA, Alex Example, 14 June 1988
    medway_referral = records["referrals"]["other_authority"]  # ME4 4AA, same name and DOB
    for typed in (
        kent_referral.reference.lower(),
        "me15 6aa",
        "ME156AA",
        "Alex Example",
        "14/6/1988",
        "14 June 1988",
        "1988-06-14",
        "+44 7700 900 123",
    ):
        results = found(world.spa_triage, typed)
        assert kent_referral.reference in results, typed
        assert medway_referral.reference not in results, typed


@pytest.mark.django_db
def test_contractors_find_only_their_own_open_jobs(
    world: PersonaWorld, records: dict[str, Any]
) -> None:
    jobs = records["jobs"]
    for typed in SEARCHES:
        results = found(world.contractor, typed)
        if typed in ("Example", "1 April 1990"):
            # A contractor sees the survivor's first name only, and never a date of birth.
            assert results == set(), typed
        else:
            assert results == refs(jobs["own"]), typed
    assert found(world.contractor, world.own_case.survivor.given_name) == refs(jobs["own"])


@pytest.mark.django_db
def test_a_contractor_never_finds_a_closed_job(
    world: PersonaWorld, records: dict[str, Any]
) -> None:
    from security_works.services import security_job_cancel

    own_job = records["jobs"]["own"]
    first_name = world.own_case.survivor.given_name
    assert own_job.reference in found(world.contractor, first_name)
    # Closed without the services (the address grant is still there): still never found.
    SecurityJob.objects.filter(pk=own_job.pk).update(status=JobStatus.COMPLETED)
    for typed in (own_job.reference, "ZZ99 1AA", "07700900123", first_name):
        assert found(world.contractor, typed) == set(), typed
    # Closed through the service (which withdraws the grant): the same.
    SecurityJob.objects.filter(pk=own_job.pk).update(status=JobStatus.ALLOCATED)
    security_job_cancel(job=own_job, actor=None, reason="no_longer_needed")
    assert found(world.contractor, own_job.reference) == set()
    # SPA staff still find it.
    assert own_job.reference in found(world.spa_triage, own_job.reference)


@pytest.mark.django_db
def test_support_workers_find_their_own_cases_only(
    world: PersonaWorld, records: dict[str, Any]
) -> None:
    adult, cyp = records["adult_cases"], records["cyp_cases"]
    # The adult worker's team works on the own case file; the outsider's on other_org.
    results = found(world.adult_support_worker, "Example")
    assert refs(world.own_case, adult["own"]) <= results
    assert not results & refs(world.other_org_case, world.other_authority_case)
    assert not results & refs(adult["other_org"], adult["other_authority"], *cyp.values())
    # No address grant: a support worker cannot find a case by its postcode.
    assert found(world.adult_support_worker, "ZZ99 1AA") == set()
    # The CYP worker finds the child's case by the child's name and date of birth.
    child = cyp["own"].child
    Person.objects.filter(pk=child.pk).update(given_name="Robin")
    child.refresh_from_db()
    for typed in (child.given_name, f"{child.date_of_birth:%d/%m/%Y}"):
        results = found(world.cyp_worker, typed)
        assert cyp["own"].reference in results
        assert not results & refs(cyp["other_org"], cyp["other_authority"], *adult.values())
    # The outsider (another provider) finds only their own.
    outsider = found(world.outsider, "Example")
    assert adult["other_org"].reference in outsider
    assert not outsider & refs(adult["own"], cyp["own"], world.own_case)


@pytest.mark.django_db
def test_provider_managers_find_their_organisations_cases(
    world: PersonaWorld, records: dict[str, Any]
) -> None:
    adult = records["adult_cases"]
    results = found(world.provider_manager, "Example")
    assert adult["own"].reference in results
    assert not results & refs(adult["other_org"], adult["other_authority"])
    assert not results & refs(*records["cyp_cases"].values(), *records["jobs"].values())


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["referrer", "commissioner", "auditor", "system_admin"])
def test_roles_that_see_no_person_get_no_search(
    world: PersonaWorld, records: dict[str, Any], client: Client, persona: str
) -> None:
    user = getattr(world, persona)
    assert found(user, "Example") == set()
    sign_in(client, user)
    assert client.get(reverse("search:search"), {"q": "Example"}).status_code == 403
    page = client.get(reverse("accounts:sessions"))
    assert 'role="search"' not in page.content.decode()


# --- The page ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_groups_results_logs_what_it_shows_and_links_to_the_logged_detail(
    world: PersonaWorld, records: dict[str, Any], client: Client
) -> None:
    sign_in(client, world.spa_triage)
    referral = records["referrals"]["own"]
    before = AccessLog.objects.count()
    response = client.get(reverse("search:search"), {"q": "me15 6aa"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="search"' in html  # the header box
    assert "Searched by postcode: <strong>ME15 6AA</strong>" in html
    assert "Referrals" in html
    assert "Case files" in html
    detail = reverse("referrals:detail", kwargs={"referral_id": referral.id})
    assert detail in html
    rows = AccessLog.objects.order_by("-id")[: AccessLog.objects.count() - before]
    # One SEARCH row per record shown (the referral and its case file), none a VIEW; the
    # query itself is never written down.
    assert {(r.action, r.record_id) for r in rows} == {
        (AccessAction.SEARCH, str(referral.id)),
        (AccessAction.SEARCH, str(referral.case_file_id)),
    }
    assert all("ME15" not in (r.reason or "") for r in rows)
    # Opening the result is the detail page's own VIEW row.
    client.get(detail)
    assert AccessLog.objects.filter(
        action=AccessAction.VIEW, record_id=str(referral.id), user=world.spa_triage
    ).exists()


@pytest.mark.django_db
def test_the_page_says_what_to_type_when_it_cannot_search(
    world: PersonaWorld, client: Client
) -> None:
    sign_in(client, world.spa_triage)
    response = client.get(reverse("search:search"), {"q": "31/02/1990"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert 'href="#q"' in html
    assert "Date of birth must be a real date" in html
    assert client.get(reverse("search:search")).status_code == 200  # the empty form


@pytest.mark.django_db
def test_no_results_says_so(world: PersonaWorld, client: Client) -> None:
    sign_in(client, world.spa_triage)
    html = client.get(reverse("search:search"), {"q": "Nobodyhere"}).content.decode()
    assert "No results" in html


# --- Cost -------------------------------------------------------------------------------------


def _referrals_at(postcode: str, count: int) -> None:
    from tests.referrals_support import make_referral

    for n in range(count):
        make_referral(postcode=postcode, address_line_1=f"{n} Fictional Road")


@pytest.mark.django_db
def test_query_count_does_not_grow_with_results(
    world: PersonaWorld, client: Client, django_assert_num_queries: Any
) -> None:
    _referrals_at("CT1 1AA", 1)
    _referrals_at("CT2 2BB", 20)
    sign_in(client, world.spa_triage)
    with CaptureQueriesContext(connection) as one:
        response = client.get(reverse("search:search"), {"q": "CT1 1AA"})
    assert response.content.decode().count("SAFER-") >= 2  # a referral and its case file
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(reverse("search:search"), {"q": "CT2 2BB"})
    assert "more than" not in response.content.decode()
    assert response.content.decode().count('class="safer-search-results__item"') == 40


@pytest.mark.django_db
def test_more_than_a_page_says_so_without_counting(world: PersonaWorld, client: Client) -> None:
    _referrals_at("CT3 3CC", RESULTS_PER_TYPE + 1)
    sign_in(client, world.spa_triage)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("search:search"), {"q": "CT3 3CC"}).content.decode()
    assert f"more than {RESULTS_PER_TYPE}" in html
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


# --- The plan at scale (issue 17) -------------------------------------------------------------


def _everything_found(user: User, typed: str) -> list[tuple[str, list[str], bool]]:
    query = search_query_parse(typed)
    return [
        (g.provider.key, [r.reference for r in g.results], g.more)
        for g in search_for_user(user=user, query=query)
    ]


SCALE_SEARCHES = [*SEARCHES, "CT2 2BB", "CT2", "Alex Example", "14/6/1988", "ME15 6AA"]
SCALE_PERSONAS = [
    "spa_triage",
    "spa_manager",
    "medway_spa_triage",
    "contractor",
    "adult_support_worker",
    "cyp_worker",
    "provider_manager",
    "outsider",
]


@pytest.mark.django_db
def test_both_plans_find_the_same_records_in_the_same_order(
    world: PersonaWorld, records: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``search_records`` runs the case files gathered first when they are few, the plain
    ``IN`` when they are many: each persona's results, their order and "more" are the same
    whichever runs, and the same as the plain filter on the provider's own query."""
    from referrals.models import Referral
    from safer.casefile.models import CaseFile
    from safer.search import matching

    _referrals_at("CT2 2BB", RESULTS_PER_TYPE + 4)  # more than a page: the order decides
    seen: dict[int, dict[tuple[str, str], Any]] = {}
    for at_most in (0, 1, 5_000):  # 0 and 1: the plain IN; 5,000: gathered first
        monkeypatch.setattr(matching, "GATHER_AT_MOST", at_most)
        seen[at_most] = {
            (persona, typed): _everything_found(getattr(world, persona), typed)
            for persona in SCALE_PERSONAS
            for typed in SCALE_SEARCHES
        }
    assert seen[0] == seen[1] == seen[5_000]
    assert any(groups for groups in seen[0].values())
    # And the plain filter, written out, for the two record types SPA staff search most.
    for typed in SCALE_SEARCHES:
        query = search_query_parse(typed)
        plain = matching.record_match_q(query, user=world.spa_triage)
        assert plain is not None
        referrals = Referral.objects.visible_to(world.spa_triage).filter(plain)
        case_files = CaseFile.objects.visible_to(world.spa_triage).filter(
            matching.record_match_q(query, user=world.spa_triage, case_file_field="pk")
        )
        expected = {
            "referrals": [r.reference for r in referrals.order_by("-received_at", "reference")],
            "case-files": [c.reference for c in case_files.order_by("-opened_at", "reference")],
        }
        for key, references, more in seen[5_000][("spa_triage", typed)]:
            if key in expected:
                assert references == expected[key][:RESULTS_PER_TYPE], (typed, key)
                assert more == (len(expected[key]) > RESULTS_PER_TYPE), (typed, key)


@pytest.mark.django_db
def test_a_search_gathers_its_case_files_once_and_each_record_type_starts_from_them(
    world: PersonaWorld, records: dict[str, Any]
) -> None:
    """The case files a postcode matches are gathered in one statement for the whole search,
    and each record type's one statement starts from those keys (``IN (SELECT
    unnest(ARRAY(…)))``), with no second plan nor a count of its own to choose between them."""
    query = search_query_parse("ZZ99 1AA")
    with CaptureQueriesContext(connection) as queries:
        groups = search_for_user(user=world.spa_triage, query=query)
    gathers = [q["sql"] for q in queries.captured_queries if "LIMIT 2001" in q["sql"]]
    assert len(gathers) == 1
    referral_sql = [
        q["sql"] for q in queries.captured_queries if 'FROM "referrals_referral"' in q["sql"]
    ]
    assert len(referral_sql) == 1
    sql = referral_sql[0]
    assert "IN (SELECT unnest(ARRAY(SELECT unnest(" in sql
    assert "cardinality(" not in sql
    assert "UNION ALL" not in sql
    assert groups


@pytest.mark.django_db
def test_a_search_past_the_gathering_limit_finds_the_same_records(
    world: PersonaWorld, records: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """More matching case files than ``GATHER_AT_MOST``: the plain ``IN`` walk, the same
    results in the same order."""
    from safer.search import matching

    query = search_query_parse("ZZ99 1AA")

    def found() -> list[tuple[str, list[str]]]:
        groups = search_for_user(user=world.spa_triage, query=query)
        return [(g.provider.key, [r.reference for r in g.results]) for g in groups]

    gathered = found()
    monkeypatch.setattr(matching, "GATHER_AT_MOST", 0)
    with CaptureQueriesContext(connection) as queries:
        walked = found()
    assert walked == gathered
    assert gathered
    assert not any("unnest(" in q["sql"] for q in queries.captured_queries)
