"""The auditor's pages: who looked at a record, who changed what, sign-in events, CSV exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.audit.history import history_context
from safer.audit.models import AccessAction, AccessLog, AuthEventKind
from safer.casefile.models import CaseFile, Household, Tenure
from safer.organisations.models import Organisation
from tests.factories import (
    AccessLogFactory,
    AuthEventFactory,
    CaseFileFactory,
    CouncilFactory,
    KentFactory,
    PerpetratorFactory,
    SafeContactRulesFactory,
    UserFactory,
)
from tests.helpers import govuk_date, sign_in

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOON_IN_JULY = dt.datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 13:00 in London: BST


@pytest.fixture
def kent_council() -> Organisation:
    # The auditor and the worker belong to Kent, the authority of the factories' case files.
    return CouncilFactory.create(authorities=[KentFactory.create()])


@pytest.fixture
def auditor_user(kent_council: Organisation) -> User:
    return UserFactory.create(
        roles=[Role.AUDITOR],
        full_name="Avery Auditor",
        email="avery.auditor@example.org",
        organisation=kent_council,
        authorities=list(kent_council.authorities.all()),
    )


@pytest.fixture
def auditor_client(client: Client, auditor_user: User) -> Client:
    return sign_in(client, auditor_user)


@pytest.fixture
def worker(kent_council: Organisation) -> User:
    return UserFactory.create(
        roles=[Role.ADULT_SUPPORT_WORKER],
        full_name="Wren Worker",
        email="wren@example.org",
        organisation=kent_council,
        authorities=list(kent_council.authorities.all()),
    )


def _record_url(name: str, case: CaseFile) -> str:
    return reverse(name, args=["casefile.casefile", str(case.pk)])


def _csv(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- Who may see the pages ------------------------------------------------------------------------

AUDIT_URLS = [
    ("audit:home", []),
    ("audit:access-log", []),
    ("audit:access-log-export", []),
    ("audit:sign-ins", []),
    ("audit:sign-ins-export", []),
    ("audit:record-access", ["casefile.casefile", "00000000-0000-0000-0000-000000000001"]),
    ("audit:record-access-export", ["casefile.casefile", "00000000-0000-0000-0000-000000000001"]),
    ("audit:record-changes", ["casefile.casefile", "00000000-0000-0000-0000-000000000001"]),
    (
        "audit:record-changes-export",
        ["casefile.casefile", "00000000-0000-0000-0000-000000000001"],
    ),
]


@pytest.mark.parametrize(("name", "args"), AUDIT_URLS)
@pytest.mark.parametrize(
    "role", [r for r in Role if r != Role.AUDITOR], ids=[r.value for r in Role if r != Role.AUDITOR]
)
def test_every_other_role_is_refused(
    client: Client, name: str, args: list[str], role: Role
) -> None:
    sign_in(client, UserFactory.create(roles=[role]))
    assert client.get(reverse(name, args=args)).status_code == 403
    assert not AccessLog.objects.exists()  # nothing was read


@pytest.mark.parametrize(("name", "args"), AUDIT_URLS)
def test_a_superuser_without_the_auditor_role_is_refused(
    client: Client, name: str, args: list[str]
) -> None:
    sign_in(client, UserFactory.create(is_superuser=True, is_staff=True))
    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize(("name", "args"), AUDIT_URLS)
def test_anonymous_is_sent_to_sign_in(client: Client, name: str, args: list[str]) -> None:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_auditor_without_a_verified_second_factor_is_sent_to_sign_in(
    client: Client, auditor_user: User
) -> None:
    client.force_login(auditor_user)
    response = client.get(reverse("audit:access-log"))
    assert response.status_code == 302
    assert not AccessLog.objects.exists()


def test_an_auditor_whose_role_is_removed_is_refused_at_once(
    auditor_client: Client, auditor_user: User
) -> None:
    assert auditor_client.get(reverse("audit:home")).status_code == 200
    auditor_user.groups.remove(Group.objects.get(name=ROLE_GROUP_NAMES[Role.AUDITOR]))
    assert auditor_client.get(reverse("audit:home")).status_code == 403


def test_writes_are_not_allowed(auditor_client: Client) -> None:
    assert auditor_client.post(reverse("audit:access-log")).status_code == 405


# --- Finding a record -----------------------------------------------------------------------------


def test_find_a_case_by_its_reference(auditor_client: Client) -> None:
    case = CaseFileFactory.create(reference="SAFER-2026-000042")
    response = auditor_client.get(reverse("audit:home"), {"reference": "safer-2026-000042 "})
    assert response.status_code == 302
    assert response["Location"] == _record_url("audit:record-access", case)


def test_find_a_record_by_type_and_id(auditor_client: Client) -> None:
    case = CaseFileFactory.create()
    response = auditor_client.get(
        reverse("audit:home"),
        {"record_type": "casefile.person", "record_id": str(case.survivor_id)},
    )
    assert response["Location"] == reverse(
        "audit:record-access", args=["casefile.person", str(case.survivor_id)]
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"reference": "SAFER-0000-999999"}, "No case has this reference"),
        ({"record_type": "casefile.person", "record_id": "not-a-uuid"}, "not a valid ID"),
        ({"record_type": "casefile.person"}, "Give both the record type and the record ID"),
        ({"record_type": "accounts.nothing", "record_id": "1"}, "Select a valid choice"),
    ],
)
def test_a_lookup_that_finds_nothing_says_so(
    auditor_client: Client, query: dict[str, str], message: str
) -> None:
    response = auditor_client.get(reverse("audit:home"), query)
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "args", [["nothing.here", "1"], ["casefile.casefile", "not-a-uuid"], ["audit.accesslog", "1"]]
)
def test_an_unknown_record_type_or_malformed_id_is_a_404(
    auditor_client: Client, args: list[str]
) -> None:
    assert auditor_client.get(reverse("audit:record-access", args=args)).status_code == 404


def test_a_deleted_record_still_has_its_trail(auditor_client: Client, worker: User) -> None:
    gone = "6f1c5a52-0d5e-4f0e-9a39-8d0c0c1e2f00"
    AccessLogFactory.create(user=worker, record_type="casefile.person", record_id=gone)
    response = auditor_client.get(reverse("audit:record-access", args=["casefile.person", gone]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "the record has been deleted or never existed" in page
    assert "Wren Worker" in page


# --- Who looked at it -----------------------------------------------------------------------------


def test_auditor_sees_who_looked_at_a_case_its_people_and_break_glass(
    auditor_client: Client, worker: User
) -> None:
    case = CaseFileFactory.create()
    other_case = CaseFileFactory.create()
    manager = UserFactory.create(roles=[Role.SPA_MANAGER], full_name="Morgan Manager")
    stranger = UserFactory.create(full_name="Sasha Stranger")
    AccessLogFactory.create(
        user=worker,
        record_id=str(case.pk),
        source_ip="192.0.2.44",
        occurred_at=NOON_IN_JULY,
    )
    AccessLogFactory.create(
        user=worker,
        action=AccessAction.REVEAL_ADDRESS,
        record_type="casefile.person",
        record_id=str(case.survivor_id),
    )
    AccessLogFactory.create(
        user=manager,
        action=AccessAction.BREAK_GLASS,
        record_id=str(case.pk),
        reason="Police called about an incident tonight",
    )
    AccessLogFactory.create(user=stranger, record_id=str(other_case.pk))

    response = auditor_client.get(_record_url("audit:record-access", case))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Wren Worker" in page
    assert "192.0.2.44" in page
    assert "1 July 2026 12:00:00 UTC" in page  # UTC, not London time
    assert "Revealed an address" in page
    assert 'data-break-glass="true"' in page
    assert "govuk-tag--red" in page
    assert "Police called about an incident tonight" in page
    assert "Sasha Stranger" not in page
    # The survivor's details never appear on an audit page.
    assert case.survivor.given_name not in page
    assert case.household.address_line_1 not in page


def test_the_auditors_own_reading_is_logged(auditor_client: Client, auditor_user: User) -> None:
    case = CaseFileFactory.create()
    auditor_client.get(_record_url("audit:record-access", case))
    auditor_client.get(_record_url("audit:record-changes", case))
    auditor_client.get(reverse("audit:sign-ins"))

    own = AccessLog.objects.filter(user=auditor_user).order_by("id")
    assert [(r.action, r.record_type, r.record_id) for r in own] == [
        (AccessAction.AUDIT_VIEW, "casefile.casefile", str(case.pk)),
        (AccessAction.AUDIT_VIEW, "casefile.casefile", str(case.pk)),
        (AccessAction.AUDIT_VIEW, "audit.authevent", "list"),
    ]
    assert all(r.source_ip == "127.0.0.1" for r in own)


# --- Who changed what ---------------------------------------------------------------------------


def _case_changed_by(worker: User) -> CaseFile:
    with history_context(actor=worker, source="test"):
        case = CaseFileFactory.create(household__address_line_1="12 Secret Lane")
        Household.objects.filter(pk=case.household_id).update(
            address_line_1="99 Hidden Road", tenure=Tenure.COUNCIL
        )
        PerpetratorFactory.create(
            case_file=case, name="Jordan Perpetrator", police_reference="CR/123"
        )
        SafeContactRulesFactory.create(case_file=case, phone="07700 900999")
    return case


def test_change_history_shows_who_changed_which_fields_but_not_the_values(
    auditor_client: Client, worker: User
) -> None:
    case = _case_changed_by(worker)

    response = auditor_client.get(_record_url("audit:record-changes", case))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Wren Worker" in page
    assert "address_line_1" in page
    assert "value hidden" in page
    assert "housing_association → council" in page  # a code, not a personal detail
    for secret in [
        "12 Secret Lane",
        "99 Hidden Road",
        "Jordan Perpetrator",
        "CR/123",
        "07700 900999",
        case.survivor.given_name,
    ]:
        assert secret not in page
    # The whole case: the household, the survivor, the perpetrator and the contact rules.
    for label in ["Household", "Person", "Perpetrator", "Safe contact rules", "Case file"]:
        assert label in page


def test_change_history_export_lists_field_names_with_hidden_values(
    auditor_client: Client, worker: User, auditor_user: User
) -> None:
    case = _case_changed_by(worker)

    response = auditor_client.get(_record_url("audit:record-changes-export", case))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="change-history-')
    assert "no-store" in response["Cache-Control"]
    rows = _csv(response)
    assert rows[0][:4] == ["occurred_at_utc", "record_type", "record_id", "change"]
    address_change = next(
        r
        for r in rows[1:]
        if r[1] == "casefile.household" and r[7] == "address_line_1" and r[3] == "Changed"
    )
    assert address_change[8:] == ["hidden", "hidden"]
    assert address_change[4] == "Wren Worker <wren@example.org>"
    assert address_change[0].endswith("+00:00")
    tenure_change = next(r for r in rows[1:] if r[7] == "tenure" and r[3] == "Changed")
    assert tenure_change[8:] == ["housing_association", "council"]
    assert "99 Hidden Road" not in str(rows)
    assert AccessLog.objects.filter(
        user=auditor_user, action=AccessAction.EXPORT, record_id=str(case.pk)
    ).exists()


def test_change_history_filters_by_user_and_date(auditor_client: Client, worker: User) -> None:
    case = _case_changed_by(worker)
    other = UserFactory.create(full_name="Olly Other")
    with history_context(actor=other):
        CaseFile.objects.filter(pk=case.pk).update(safeguarding_flag=True)
    url = _record_url("audit:record-changes", case)

    page = auditor_client.get(url, {"user": "olly"}).content.decode()
    assert "Olly Other" in page
    assert "Wren Worker" not in page

    yesterday = (dt.datetime.now(UTC) - dt.timedelta(days=1)).date()
    page = auditor_client.get(url, govuk_date("date_to", yesterday)).content.decode()
    assert "No changes recorded that match the filters" in page


# --- The whole access log -------------------------------------------------------------------------


@pytest.fixture
def access_rows(worker: User, kent_council: Organisation) -> dict[str, AccessLog]:
    manager = UserFactory.create(
        full_name="Morgan Manager",
        email="morgan@example.org",
        organisation=kent_council,
        authorities=list(kent_council.authorities.all()),
    )
    return {
        "early_view": AccessLogFactory.create(
            user=worker, occurred_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        ),
        "export": AccessLogFactory.create(
            user=manager,
            action=AccessAction.EXPORT,
            occurred_at=dt.datetime(2026, 3, 2, 0, 30, tzinfo=UTC),
        ),
        "break_glass": AccessLogFactory.create(
            user=manager,
            action=AccessAction.BREAK_GLASS,
            reason='=HYPERLINK("http://evil.example")',
            occurred_at=dt.datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
        ),
    }


def _exported_ids(client: Client, query: dict[str, str]) -> set[str]:
    response = client.get(reverse("audit:access-log-export"), query)
    assert response.status_code == 200
    return {row[4] for row in _csv(response)[1:]}


def test_access_log_filters(auditor_client: Client, access_rows: dict[str, AccessLog]) -> None:
    ids = {key: row.record_id for key, row in access_rows.items()}

    assert _exported_ids(auditor_client, {"user": "wren@example.org"}) == {ids["early_view"]}
    assert _exported_ids(auditor_client, {"user": "morgan manager"}) == {
        ids["export"],
        ids["break_glass"],
    }
    assert _exported_ids(auditor_client, {"action": "break_glass"}) == {ids["break_glass"]}
    # Whole days in UTC: 23:30 on 1 March is 1 March, 00:30 on 2 March is 2 March.
    assert _exported_ids(
        auditor_client,
        {**govuk_date("date_from", "2026-03-02"), **govuk_date("date_to", "2026-03-04")},
    ) == {ids["export"]}
    assert _exported_ids(
        auditor_client, {**govuk_date("date_to", "2026-03-01"), "action": "view"}
    ) == {ids["early_view"]}


def test_access_log_page_filters_and_highlights_break_glass(
    auditor_client: Client, access_rows: dict[str, AccessLog]
) -> None:
    response = auditor_client.get(reverse("audit:access-log"), {"action": "break_glass"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-break-glass="true"') == 1
    assert "Wren Worker" not in page
    assert "5 March 2026 09:00:00 UTC" in page
    assert 'href="/audit/access/export.csv?action=break_glass"' in page


def test_a_bad_date_range_is_an_error_not_an_unfiltered_list(
    auditor_client: Client, access_rows: dict[str, AccessLog]
) -> None:
    query = {**govuk_date("date_from", "2026-03-05"), **govuk_date("date_to", "2026-03-01")}
    response = auditor_client.get(reverse("audit:access-log"), query)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The end date must be the same as or after the start date" in page
    assert "Wren Worker" not in page
    assert auditor_client.get(reverse("audit:access-log-export"), query).status_code == 400


def test_access_log_export_headers_content_and_its_own_log_row(
    auditor_client: Client, auditor_user: User, access_rows: dict[str, AccessLog]
) -> None:
    response = auditor_client.get(reverse("audit:access-log-export"), {"action": "break_glass"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="access-log-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert "no-store" in response["Cache-Control"]
    rows = _csv(response)
    assert rows[0] == [
        "occurred_at_utc",
        "user",
        "action",
        "record_type",
        "record_id",
        "source_ip",
        "break_glass_reason",
    ]
    row = access_rows["break_glass"]
    assert rows[1:] == [
        [
            "2026-03-05T09:00:00+00:00",
            row.user_label,
            "break_glass",
            "casefile.casefile",
            row.record_id,
            "192.0.2.10",
            '\'=HYPERLINK("http://evil.example")',  # never a live formula in a spreadsheet
        ]
    ]
    export = AccessLog.objects.get(user=auditor_user, action=AccessAction.EXPORT)
    assert (export.record_type, export.record_id) == ("audit.accesslog", "list")


def test_access_log_is_paged_newest_first_without_a_count(
    auditor_client: Client, worker: User
) -> None:
    """Keyset pages (issue 17): "more than 50", then the older rows after the last one shown."""
    rows = AccessLogFactory.create_batch(55, user=worker)
    newest_first = sorted(rows, key=lambda r: (r.occurred_at, r.pk), reverse=True)
    first = auditor_client.get(reverse("audit:access-log"), {"user": "wren"})
    text = first.content.decode()
    assert text.count("Wren Worker") == 50
    assert "Showing the newest 50 of more than 50." in text
    assert [r.pk for r in first.context["page_obj"]] == [r.pk for r in newest_first[:50]]
    cursor = str(first.context["page_obj"].next_cursor)
    assert f"?user=wren&amp;before={quote(cursor)}" in text
    second = auditor_client.get(reverse("audit:access-log"), {"user": "wren", "before": cursor})
    assert [r.pk for r in second.context["page_obj"]] == [r.pk for r in newest_first[50:]]
    text = second.content.decode()
    assert "Showing 5 older rows." in text
    assert 'href="?user=wren" rel="first"' in text
    assert 'rel="next"' not in text


def test_a_bad_cursor_shows_the_newest_rows(auditor_client: Client, worker: User) -> None:
    AccessLogFactory.create_batch(3, user=worker)
    for cursor in ["nonsense", "2026-01-01_x", "2026-01-01T00:00:00_5"]:
        response = auditor_client.get(reverse("audit:access-log"), {"before": cursor})
        assert response.status_code == 200
        assert response.context["page_obj"].is_first


# --- Sign-in events -------------------------------------------------------------------------------


def test_sign_in_events_filter_and_export(auditor_client: Client, worker: User) -> None:
    AuthEventFactory.create(user=worker, kind=AuthEventKind.SIGN_IN, occurred_at=NOON_IN_JULY)
    AuthEventFactory.create(
        user=None,
        kind=AuthEventKind.SIGN_IN_FAILED,
        attempted_username="wren@example.org",
        source_ip="198.51.100.9",
    )
    AuthEventFactory.create(kind=AuthEventKind.LOCKED_OUT, attempted_username="someone@example.org")

    page = auditor_client.get(reverse("audit:sign-ins"), {"user": "wren@example.org"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Sign-in failed" in text
    assert "1 July 2026 12:00:00 UTC" in text
    assert "someone@example.org" not in text

    response = auditor_client.get(
        reverse("audit:sign-ins-export"), {"kind": "sign_in_failed", "ip": "198.51.100.9"}
    )
    assert response["Content-Disposition"].startswith('attachment; filename="sign-in-events-')
    assert "no-store" in response["Cache-Control"]
    rows = _csv(response)
    assert rows[0] == [
        "occurred_at_utc",
        "event",
        "user",
        "attempted_username",
        "source_ip",
        "path",
        "detail",
    ]
    assert [r[1:5] for r in rows[1:]] == [
        ["sign_in_failed", "", "wren@example.org", "198.51.100.9"]
    ]
    assert AccessLog.objects.filter(
        action=AccessAction.EXPORT, record_type="audit.authevent"
    ).exists()


# --- Query counts do not grow with the rows -------------------------------------------------------

# Sign-in, session and role checks, the rows, the count and the page's own access-log row. A
# record's trail adds a few queries per tracked model in its scope: bounded by the schema (each
# app that tracks a model pointing at the case file adds one), never by the number of rows.
LIST_BUDGET = 10
RECORD_BUDGET = 25


@pytest.mark.parametrize("rows", [3, 60])
def test_list_pages_use_a_bounded_number_of_queries(
    auditor_client: Client, worker: User, django_assert_max_num_queries: Any, rows: int
) -> None:
    case = CaseFileFactory.create()
    AccessLogFactory.create_batch(rows, user=worker, record_id=str(case.pk))
    AuthEventFactory.create_batch(rows, user=worker)
    with history_context(actor=worker):
        for n in range(rows):
            CaseFile.objects.filter(pk=case.pk).update(safeguarding_flag=bool(n % 2))

    for url, budget in [
        (reverse("audit:access-log"), LIST_BUDGET),
        (reverse("audit:sign-ins"), LIST_BUDGET),
        (_record_url("audit:record-access", case), RECORD_BUDGET),
        (_record_url("audit:record-changes", case), RECORD_BUDGET),
    ]:
        with django_assert_max_num_queries(budget):
            assert auditor_client.get(url).status_code == 200


def test_access_log_page_neither_counts_nor_ors_the_scope(
    auditor_client: Client, worker: User
) -> None:
    """The scope's two sides are branches of a UNION ALL, each newest first and limited to a
    page, and nothing counts the rows (issue 17)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    AccessLogFactory.create_batch(3, user=worker)
    with CaptureQueriesContext(connection) as queries:
        assert auditor_client.get(reverse("audit:access-log")).status_code == 200
    sql = [q["sql"] for q in queries.captured_queries if "audit_accesslog" in q["sql"]]
    assert not [s for s in sql if "COUNT(" in s.upper()]
    (union,) = [s for s in sql if "UNION ALL" in s]
    assert union.count("LIMIT 51") >= 2


def test_access_log_pages_merge_several_authorities_and_unstamped_rows(
    kent_council: Organisation, worker: User
) -> None:
    """An auditor of two authorities: each authority's rows and the unstamped rows they may
    read come as one list, newest first, across the pages; a third authority's never."""
    from safer.audit.scoping import AuditScope
    from safer.audit.selectors import access_log_page
    from tests.factories import CommissioningAuthorityFactory, MedwayFactory

    kent = kent_council.authorities.get()
    medway = MedwayFactory.create()
    elsewhere = CommissioningAuthorityFactory.create()
    both = CouncilFactory.create(authorities=[kent, medway])
    auditor = UserFactory.create(
        roles=[Role.AUDITOR], organisation=both, authorities=[kent, medway]
    )
    start = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)
    mine = []
    for n in range(7):
        when = start + dt.timedelta(minutes=n)
        authority = (kent, medway, None)[n % 3]
        mine.append(
            AccessLogFactory.create(
                user=worker,
                occurred_at=when,
                authority=authority,
                record_type="casefile.casefile" if authority else "audit.accesslog",
                record_id=f"{n}" if authority else "list",
            )
        )
        AccessLogFactory.create(user=worker, occurred_at=when, authority=elsewhere)
    newest_first = [r.pk for r in sorted(mine, key=lambda r: r.occurred_at, reverse=True)]
    scope = AuditScope.for_user(auditor)
    shown, before = [], None
    for _ in range(3):
        page = access_log_page(audit_scope=scope, before=before, per_page=3)
        shown.append([r.pk for r in page])
        before = page.next_cursor
    assert shown == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]
    assert before is None
