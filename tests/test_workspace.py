"""The staff workspace (safer/workspace.py): each role's home at ``/`` and the one service
navigation.

- Every persona renders its home, and every link of its menu and of its home opens (no 403,
  404 or 500): the menu shows only what the role may open.
- The homes show the persona's real work, with counts, in a bounded number of queries.
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from safer.accounts.models import User
from safer.audit.models import AuthEventKind
from safer.organisations.models import OrganisationKind
from safer.workspace import navigation_for
from tests.factories import (
    PERSONA_NAMES,
    AccessLogFactory,
    AuthEventFactory,
    PersonaWorld,
    UserFactory,
    _case,
)
from tests.helpers import add_totp_device, sign_in
from tests.referrals_support import make_referral
from tests.test_permission_matrix import _make_records

pytestmark = pytest.mark.django_db

PUBLIC_HEADING = "Get help to stay safe in your home"
# Homes are a fixed number of queries whatever the caseload (session, user, roles, panels).
HOME_MAX_QUERIES = 30


class _Links(HTMLParser):
    """The hrefs of the service navigation's list and of <main>."""

    def __init__(self) -> None:
        super().__init__()
        self.nav: list[str] = []
        self.main: list[str] = []
        self._in_nav = 0
        self._in_main = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "ul" and attributes.get("id") == "navigation":
            self._in_nav = 1
        elif tag == "ul" and self._in_nav:
            self._in_nav += 1
        if tag == "main":
            self._in_main = 1
        if tag == "a" and (href := attributes.get("href")):
            if self._in_nav:
                self.nav.append(href)
            elif self._in_main:
                self.main.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul" and self._in_nav:
            self._in_nav -= 1
        if tag == "main":
            self._in_main = 0


def links_of(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


@pytest.fixture
def records(world: PersonaWorld) -> dict[str, object]:
    """The permission matrix's records: a referral, a job, adult and CYP cases, report runs,
    each the persona's own, another organisation's and Medway's."""
    add_totp_device(world.outsider)  # the matrix's records include the outsider's device
    return _make_records(world)


@pytest.mark.parametrize("persona", PERSONA_NAMES)
def test_every_link_of_each_roles_home_and_menu_opens(
    world: PersonaWorld, records: dict[str, object], persona: str
) -> None:
    user = world.personas[persona]
    client = sign_in(Client(), user)
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert PUBLIC_HEADING not in html  # staff land on their work, not the public page
    assert "Your work" in html
    links = links_of(html)
    assert links.nav, f"{persona} has no menu"
    followed = {
        href
        for href in [*links.nav, *links.main]
        if href.startswith("/") and not href.startswith(("/exit/", "/accounts/logout/"))
    }
    broken = {}
    for href in sorted(followed):
        status = client.get(href).status_code
        if status in (403, 404, 500):
            broken[href] = status
    assert broken == {}, f"{persona}: {broken}"


def test_anonymous_and_roleless_visitors_get_the_public_start_page(world: PersonaWorld) -> None:
    assert PUBLIC_HEADING in Client().get("/").content.decode()
    roleless = UserFactory.create(email="no-role@example.org", roles=[])
    html = sign_in(Client(), roleless).get("/").content.decode()
    assert PUBLIC_HEADING in html
    assert links_of(html).nav == []


def test_signed_in_without_the_second_factor_gets_no_menu(world: PersonaWorld) -> None:
    client = Client()
    client.force_login(world.spa_triage)  # password only: not verified
    html = client.get("/").content.decode()
    assert PUBLIC_HEADING in html
    assert [href for href in links_of(html).nav if not href.startswith("/accounts/")] == []


def _menu(client: Client) -> list[str]:
    return links_of(client.get("/").content.decode()).nav


def test_menus_show_only_what_each_role_may_open(world: PersonaWorld) -> None:
    menus = {p: _menu(sign_in(Client(), world.personas[p])) for p in PERSONA_NAMES}
    provider_dashboard = reverse("reporting:provider-dashboard")
    assert provider_dashboard not in menus["commissioner"]
    assert reverse("reporting:dashboard") in menus["commissioner"]
    assert provider_dashboard in menus["provider_manager"]
    assert reverse("referrals:mine") in menus["referrer"]
    assert reverse("security_works:approvals") in menus["spa_manager"]
    assert reverse("security_works:approvals") not in menus["spa_triage"]
    assert reverse("referrals:queue") not in menus["contractor"]
    assert reverse("audit:home") in menus["auditor"]
    assert reverse("admin:index") in menus["system_admin"]
    # Refer a child: only a referrer whose organisation provides accommodation.
    assert reverse("support:refer-child") not in menus["referrer"]
    refuge = world.personas["referrer"].organisation
    assert refuge is not None
    refuge.kind = OrganisationKind.ACCOMMODATION
    refuge.save(update_fields=["kind"])
    assert reverse("support:refer-child") in _menu(sign_in(Client(), world.referrer))


def test_current_section_is_marked_in_the_menu(world: PersonaWorld) -> None:
    client = sign_in(Client(), world.spa_triage)
    html = client.get(reverse("referrals:queue")).content.decode()
    active = re.findall(r'aria-current="true">.*?>([^<]+)<', html)
    assert active == ["Triage queue"]


def _counts(html: str) -> dict[str, int]:
    found = re.findall(
        r'safer-workspace-count__value">(\d+)</span> <span class="safer-workspace-count__label">'
        r"([^<]+)</span>",
        html,
    )
    return {label: int(value) for value, label in found}


def test_spa_home_counts_the_queue_and_lists_overdue_first(
    world: PersonaWorld, records: dict[str, object], django_assert_max_num_queries: object
) -> None:
    from referrals.models import Referral

    own = records["referrals"]["own"]  # type: ignore[index]
    other = records["referrals"]["other_org"]  # type: ignore[index]
    Referral.objects.filter(pk=other.pk).update(sla_due_at=timezone.now() - dt.timedelta(hours=2))
    Referral.objects.filter(pk=own.pk).update(
        status="awaiting_information", sla_due_at=None, first_contact_attempted_at=timezone.now()
    )
    client = sign_in(Client(), world.spa_triage)
    with django_assert_max_num_queries(HOME_MAX_QUERIES):  # type: ignore[operator]
        html = client.get("/").content.decode()
    counts = _counts(html)
    assert counts["open referrals"] == 2  # Kent's two; Medway's is not theirs
    assert counts["triage overdue"] == 1
    assert counts["awaiting information"] == 1
    assert counts["first contacts to make"] == 1
    assert html.index(other.reference) < html.index(own.reference)  # overdue first
    medway = records["referrals"]["other_authority"]  # type: ignore[index]
    assert medway.reference not in html


def test_spa_managers_queue_counts_add_their_break_glass_cases_once(
    world: PersonaWorld, records: dict[str, object]
) -> None:
    """The counts read the manager's scope in parts (their authorities', then break-glass
    outside them): a case in both is counted once, and the total is ``visible_to``'s."""
    from referrals.models import Referral
    from referrals.selectors import referral_queue_counts
    from tests.factories import BreakGlassGrantFactory

    manager = world.spa_manager
    now = timezone.now()
    assert str(referral_queue_counts(user=manager, now=now).open) == "2"  # Kent's two
    medway = records["referrals"]["other_authority"]  # type: ignore[index]
    BreakGlassGrantFactory.create(user=manager, case_file=medway.case_file)
    own = records["referrals"]["own"]  # type: ignore[index]
    BreakGlassGrantFactory.create(user=manager, case_file=own.case_file)  # already in scope
    counts = referral_queue_counts(user=manager, now=now)
    assert str(counts.open) == "3"
    assert Referral.objects.visible_to(manager).open().count() == 3
    # A triage worker has no break-glass part.
    assert len(Referral.objects.visible_to_parts(world.spa_triage)) == 1
    # The authority part reads the referral's own copy of its case file's authority, set at
    # intake: every referral made carries it.
    made = Referral.objects.select_related("case_file")
    assert {r.authority_id == r.case_file.authority_id for r in made} == {True}
    assert str(referral_queue_counts(user=world.spa_triage, now=now).open) == "2"


def test_a_referral_cannot_carry_another_authority_than_its_case_files(
    world: PersonaWorld, records: dict[str, object]
) -> None:
    """The referral scope checks the referral's copy of its case file's authority (ADR 0018):
    the database refuses a copy that differs, whoever writes it."""
    from django.db import IntegrityError, transaction

    from referrals.models import Referral

    own = records["referrals"]["own"]  # type: ignore[index]
    medway = records["referrals"]["other_authority"]  # type: ignore[index]
    assert own.authority_id != medway.authority_id
    with connection.cursor() as cursor:  # checked at the statement, not at the commit
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=own.pk).update(authority_id=medway.authority_id)
    own.refresh_from_db()
    assert own.authority_id == own.case_file.authority_id


def test_spa_home_shows_a_count_past_the_cap_as_500_plus(
    world: PersonaWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue's counts stop at ``COUNT_CAP`` (issue 17): past it the home says "500+"."""
    import referrals.workspace
    from referrals.selectors import QueueCounts
    from safer.paging import CappedCount, capped

    many, few = capped(501), CappedCount(3)
    assert str(many) == "500+"
    counts = QueueCounts(
        open=many, overdue=few, awaiting=few, contacts_to_make=many, contacts_overdue=few
    )
    monkeypatch.setattr(referrals.workspace, "referral_queue_counts", lambda **_: counts)
    html = sign_in(Client(), world.spa_triage).get("/").content.decode()
    shown = re.findall(r'count__value">([^<]+)</span> <span [^>]+>([^<]+)</span>', html)
    assert ("500+", "open referrals") in shown
    assert ("500+", "first contacts to make") in shown
    assert _counts(html)["triage overdue"] == 3


def test_home_query_count_does_not_grow_with_the_queue(
    world: PersonaWorld, records: dict[str, object]
) -> None:
    client = sign_in(Client(), world.spa_manager)
    client.get("/")
    with CaptureQueriesContext(connection) as before:
        client.get("/")
    for n in range(6):
        make_referral(address_line_1=f"{n + 10} Example Street")
    with CaptureQueriesContext(connection) as after:
        html = client.get("/").content.decode()
    assert len(after) == len(before)
    assert _counts(html)["open referrals"] == 8


def test_contractor_home_lists_jobs_by_next_action(
    world: PersonaWorld, records: dict[str, object]
) -> None:
    job = records["jobs"]["own"]  # type: ignore[index]
    other = records["jobs"]["other_org"]  # type: ignore[index]
    html = sign_in(Client(), world.contractor).get("/").content.decode()
    counts = _counts(html)
    assert counts["open jobs"] == 1
    assert counts["book the survey"] == 1
    assert job.reference in html
    assert other.reference not in html


def test_worker_home_shows_their_caseload_with_next_contact_due(
    world: PersonaWorld, records: dict[str, object]
) -> None:
    case = records["adult_cases"]["own"]  # type: ignore[index]
    html = sign_in(Client(), world.adult_support_worker).get("/").content.decode()
    counts = _counts(html)
    assert counts["open cases"] == 1
    assert counts["first contacts to make"] == 1
    assert case.reference in html
    assert "First contact" in html


def test_provider_manager_home_shows_waiting_cases_with_risk_and_workers(
    world: PersonaWorld, records: dict[str, object]
) -> None:
    from support.services.adult import adult_support_case_open

    canterbury = world.extra["districts"]["canterbury"]
    waiting = adult_support_case_open(
        case_file=_case(canterbury, "SAFER-TEST-WAITING", given_name="Sam"),
        opened_by=None,
        provider=world.organisations["adult"],
    )
    html = sign_in(Client(), world.provider_manager).get("/").content.decode()
    counts = _counts(html)
    assert counts["cases waiting for a worker"] == 1
    assert f"Allocate {waiting.reference}" in html
    assert "Canterbury" in html  # the district, not only the reference
    assert "Not from the SPA" in html or "Not assessed" in html  # the risk in words
    # Caseload per worker links to the worker's own caseload page.
    worker = world.adult_support_worker
    url = reverse("support:worker-caseload", kwargs={"worker_id": worker.pk})
    assert url in html
    page = sign_in(Client(), world.provider_manager).get(url).content.decode()
    assert records["adult_cases"]["own"].reference in page  # type: ignore[index]


def test_auditor_home_shows_sign_in_alerts(world: PersonaWorld) -> None:
    AuthEventFactory.create(
        kind=AuthEventKind.LOCKED_OUT, user=world.spa_triage, occurred_at=timezone.now()
    )
    AccessLogFactory.create(user=world.spa_triage, action="break_glass", reason="Test")
    html = sign_in(Client(), world.auditor).get("/").content.decode()
    counts = _counts(html)
    assert counts["locked out"] == 1
    assert world.spa_triage.email in html


def test_referrer_home_lists_their_referrals(
    world: PersonaWorld, records: dict[str, object]
) -> None:
    own = records["referrals"]["own"]  # type: ignore[index]
    other = records["referrals"]["other_org"]  # type: ignore[index]
    html = sign_in(Client(), world.referrer).get("/").content.decode()
    assert _counts(html)["referrals made"] == 1
    assert own.reference in html
    assert other.reference not in html
    assert reverse("referrals:mine") in html


def test_system_admin_home_links_reference_data_and_users(world: PersonaWorld) -> None:
    html = sign_in(Client(), world.system_admin).get("/").content.decode()
    assert reverse("admin:accounts_user_changelist") in html
    assert reverse("admin:index") in html


def test_commissioner_home_shows_returns_due(world: PersonaWorld) -> None:
    html = sign_in(Client(), world.commissioner).get("/").content.decode()
    assert "Quarterly grant update" in html
    assert "Annual Part 4 return" in html
    assert reverse("reporting:dashboard") in html


def test_navigation_for_a_user_without_roles_is_empty(rf: object, db: None) -> None:
    request = rf.get("/")  # type: ignore[attr-defined]
    request.user = User(email="x@example.org")
    assert navigation_for(request) == []
