"""Support pages: who can open which case (404 for missing and not-yours alike), privacy between
the adult and CYP services, caseloads, the GBO chart and the direct referral form."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import pytest
from django.test import Client
from django.urls import reverse

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import ContactChannel
from safer.organisations.models import Organisation
from safer.paging import CappedCount
from support.models import (
    AdultSupportCase,
    ClosureReason,
    ContactAttempt,
    CypCase,
    CypSource,
    CypStatus,
    GboTimePoint,
    SafetyPlan,
    ServiceFunction,
)
from support.selectors.caseload import team_overview
from support.services.adult import (
    adult_session_record,
    adult_support_case_allocate,
    adult_support_case_open,
    safety_plan_record,
)
from support.services.cyp import cyp_case_function_set, cyp_session_record
from support.services.gbo import gbo_goal_add, gbo_score_record
from support.services.sharing import ShareBasis, support_case_share, support_case_unshare
from tests.factories import (
    AccommodationProviderFactory,
    CaseFileFactory,
    HouseholdFactory,
    PersonaWorld,
    SafeContactRulesFactory,
    UserFactory,
)
from tests.helpers import sign_in
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    date_fields,
    days_ago,
    open_adult_case,
    open_cyp_case,
)

pytestmark = pytest.mark.django_db

ADULT_NOTE = "Adult note: talked about the injunction"
CHILD_NOTE = "Child note: drew the safe place"


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _client(user: User) -> Client:
    return sign_in(Client(), user)


def _url(name: str, case: AdultSupportCase | CypCase, **extra: Any) -> str:
    return reverse(f"support:{name}", kwargs={"case_id": case.pk, **extra})


@pytest.fixture
def both(sw: SupportWorld) -> tuple[AdultSupportCase, CypCase]:
    """The household's adult case with a session note, and the child's with a therapy note."""
    adult = open_adult_case(sw)
    adult_session_record(
        case=adult,
        occurred_on=days_ago(0),
        mode="phone",
        duration_minutes=20,
        note=ADULT_NOTE,
        recorded_by=sw.adult_worker,
    )
    child = open_cyp_case(sw)
    cyp_case_function_set(case=child, status=CypStatus.THERAPEUTIC, changed_by=sw.cyp_worker)
    cyp_session_record(
        case=child,
        function=ServiceFunction.THERAPEUTIC,
        occurred_on=days_ago(0),
        mode="face_to_face",
        duration_minutes=50,
        note=CHILD_NOTE,
        recorded_by=sw.cyp_worker,
    )
    return adult, child


# --- Not yours: 404 ------------------------------------------------------------------------------


def test_worker_cannot_open_a_case_of_another_provider(sw: SupportWorld) -> None:
    mine = open_adult_case(sw)
    theirs = adult_support_case_open(
        case_file=sw.world.other_org_case,
        opened_by=sw.world.spa_triage,
        provider=sw.world.organisations["outsider"],
    )
    theirs = adult_support_case_allocate(
        case=theirs, worker=sw.outsider, allocated_by=sw.world.spa_triage
    )
    me, them = _client(sw.adult_worker), _client(sw.outsider)
    assert me.get(_url("adult-detail", mine)).status_code == 200
    assert me.get(_url("adult-detail", theirs)).status_code == 404
    assert them.get(_url("adult-detail", mine)).status_code == 404
    assert them.get(_url("adult-detail", theirs)).status_code == 200
    # Writes too, and "missing" looks the same as "not yours".
    response = me.post(_url("adult-contact", theirs), {"channel": "phone", "outcome": "no_answer"})
    assert response.status_code == 404
    assert not ContactAttempt.objects.filter(adult_case=theirs).exists()
    missing = reverse(
        "support:adult-detail", kwargs={"case_id": "00000000-0000-4000-8000-000000000000"}
    )
    assert me.get(missing).status_code == 404
    # The other provider's manager cannot see ours either.
    assert _client(sw.adult_manager).get(_url("adult-detail", theirs)).status_code == 404


def test_roles_without_casework_are_refused_before_any_lookup(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    for user in (sw.world.spa_triage, sw.world.commissioner, sw.world.contractor):
        assert _client(user).get(_url("adult-detail", case)).status_code == 403
    assert Client().get(_url("adult-detail", case)).status_code == 302  # to sign in


def test_viewing_a_case_writes_exactly_one_access_log_row(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    before = AccessLog.objects.count()
    assert _client(sw.adult_worker).get(_url("adult-detail", case)).status_code == 200
    rows = AccessLog.objects.order_by("-id")[: AccessLog.objects.count() - before]
    assert [(r.action, r.record_type, r.record_id) for r in rows] == [
        (AccessAction.VIEW, "support.adultsupportcase", str(case.pk))
    ]


# --- Privacy between the two services ------------------------------------------------------------


def test_cyp_worker_cannot_read_the_adults_notes_unless_shared(
    sw: SupportWorld, both: tuple[AdultSupportCase, CypCase]
) -> None:
    adult, child = both
    cyp = _client(sw.cyp_worker)
    assert cyp.get(_url("adult-detail", adult)).status_code == 404
    child_page = cyp.get(_url("cyp-detail", child)).content.decode()
    assert CHILD_NOTE in child_page
    assert ADULT_NOTE not in child_page
    case_file_page = cyp.get(reverse("casefile:detail", args=[sw.case_file.pk])).content.decode()
    assert ADULT_NOTE not in case_file_page

    assert support_case_share(
        case=adult, user=sw.cyp_worker, shared_by=sw.adult_worker, basis=ShareBasis.CONSENT
    )
    shared = cyp.get(_url("adult-detail", adult))
    assert shared.status_code == 200
    assert ADULT_NOTE in shared.content.decode()
    assert "You cannot change it" in shared.content.decode()
    # Read only: the CYP worker cannot record on the adult's case.
    response = cyp.post(
        _url("adult-session", adult),
        {**date_fields("occurred_on", days_ago(0)), "mode": "phone", "duration_minutes": 5},
    )
    assert response.status_code == 404

    support_case_unshare(case=adult, user=sw.cyp_worker, withdrawn_by=sw.adult_worker)
    assert cyp.get(_url("adult-detail", adult)).status_code == 404


def test_adult_worker_cannot_read_the_childs_therapeutic_notes_unless_shared(
    sw: SupportWorld, both: tuple[AdultSupportCase, CypCase]
) -> None:
    adult, child = both
    worker = _client(sw.adult_worker)
    assert worker.get(_url("cyp-detail", child)).status_code == 404
    assert CHILD_NOTE not in worker.get(_url("adult-detail", adult)).content.decode()
    assert (
        CHILD_NOTE
        not in worker.get(reverse("casefile:detail", args=[sw.case_file.pk])).content.decode()
    )

    # Shared through the page, by the child's worker.
    cyp = _client(sw.cyp_worker)
    response = cyp.post(
        _url("cyp-share", child), {"reader": sw.adult_worker.pk, "basis": "safeguarding"}
    )
    assert response.status_code == 302
    page = worker.get(_url("cyp-detail", child))
    assert page.status_code == 200
    assert CHILD_NOTE in page.content.decode()


# --- Case pages ---------------------------------------------------------------------------------


def test_case_pages_show_safe_contact_rules_and_safeguarding_flag_first(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    sw.case_file.safeguarding_flag = True
    sw.case_file.save(update_fields=["safeguarding_flag"])
    html = _client(sw.adult_worker).get(_url("adult-detail", case)).content.decode()
    panel = html.index('id="safe-contact-title"')
    flag = html.index("Safeguarding concern recorded for this household")
    heading = html.index('<h1 class="govuk-heading-l">')
    assert panel < heading
    assert flag < heading
    assert "Do not leave voicemail." in html


def test_contact_on_a_channel_not_marked_safe_needs_a_reason(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    client = _client(sw.adult_worker)
    form = client.get(_url("adult-contact", case)).content.decode()
    assert "Not marked safe: Text message, Email" in form
    refused = client.post(_url("adult-contact", case), {"channel": "email", "outcome": "no_answer"})
    assert refused.status_code == 400
    assert "not marked safe" in refused.content.decode()
    assert not ContactAttempt.objects.exists()
    done = client.post(
        _url("adult-contact", case),
        {"channel": "email", "outcome": "no_answer", "unsafe_channel_reason": "She asked us to"},
    )
    assert done.status_code == 302
    assert ContactAttempt.objects.get().unsafe_channel_reason == "She asked us to"


def test_manager_allocates_from_the_team_view(sw: SupportWorld) -> None:
    case = open_adult_case(sw, allocate=False)
    manager = _client(sw.adult_manager)
    team = manager.get(reverse("support:team")).content.decode()
    assert "Waiting for allocation (1)" in team
    assert _url("adult-allocate", case) in team
    response = manager.post(_url("adult-allocate", case), {"worker": sw.adult_worker.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.allocated_worker == sw.adult_worker
    # Allocated, the case is counted under its worker, whose caseload page lists it, so the
    # manager can open it to transfer it.
    team = manager.get(reverse("support:team")).content.decode()
    worker_url = reverse("support:worker-caseload", kwargs={"worker_id": sw.adult_worker.pk})
    assert worker_url in team
    assert sw.adult_worker.full_name in team
    assert _url("adult-detail", case) in manager.get(worker_url).content.decode()
    # A worker cannot allocate.
    assert _client(sw.adult_worker).get(_url("adult-allocate", case)).status_code == 403


def test_illegal_transition_from_a_page_is_a_409_with_a_message(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    manager = _client(sw.adult_manager)
    data = {"reason": sw_reason("unable_to_contact"), "exit_outcome": "unplanned"}
    assert manager.post(_url("adult-close", case), data).status_code == 302
    again = manager.post(_url("adult-close", case), data)
    assert again.status_code == 409
    assert "This case is closed, so it cannot be closed" in again.content.decode()


def sw_reason(code: str) -> int:
    return ClosureReason.objects.get(code=code).pk


# --- Caseload -----------------------------------------------------------------------------------


def test_caseload_lists_overdue_first_in_bounded_queries(
    sw: SupportWorld, django_assert_max_num_queries: Any
) -> None:
    cases = []
    for n in range(3):
        case = adult_support_case_open(
            case_file=_extra_case_file(sw, n),
            opened_by=sw.world.spa_triage,
            provider=sw.world.organisations["adult"],
        )
        cases.append(
            adult_support_case_allocate(case=case, worker=sw.adult_worker, allocated_by=None)
        )
    # One overdue safety-plan review; one due later; one contacted with nothing due soon.
    safety_plan_record(
        case=cases[1],
        agreed_on=days_ago(30),
        plan="Plan",
        review_due_on=days_ago(2),
        created_by=sw.adult_worker,
    )
    client = _client(sw.adult_worker)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("support:caseload"))
    rows = response.context["rows"]
    assert rows[0].case == cases[1]
    assert rows[0].overdue
    assert rows[0].next_due_label == "Safety plan review"
    assert {r.case for r in rows} == set(cases)
    html = response.content.decode()
    assert "Overdue" in html
    # More cases, the same number of queries.
    for n in range(3, 8):
        adult_support_case_allocate(
            case=adult_support_case_open(
                case_file=_extra_case_file(sw, n),
                opened_by=sw.world.spa_triage,
                provider=sw.world.organisations["adult"],
            ),
            worker=sw.adult_worker,
            allocated_by=None,
        )
    with django_assert_max_num_queries(20):
        assert len(client.get(reverse("support:caseload")).context["rows"]) == 8
    assert SafetyPlan.objects.count() == 1


def _extra_case_file(sw: SupportWorld, n: int) -> Any:
    household = HouseholdFactory(district=sw.world.extra["districts"]["ashford"])
    case_file = CaseFileFactory(household=household, reference=f"SAFER-TEST-LOAD-{n}")
    SafeContactRulesFactory(case_file=case_file)
    return case_file


# --- GBO chart ------------------------------------------------------------------------------------


def test_gbo_chart_is_inline_svg_with_a_data_table(sw: SupportWorld) -> None:
    case = open_cyp_case(sw)
    goal = gbo_goal_add(
        case=case, description="Feel calm", agreed_on=days_ago(0), created_by=sw.cyp_worker
    )
    for point, score in ((GboTimePoint.START, 2), (GboTimePoint.REVIEW, 4), (GboTimePoint.END, 7)):
        gbo_score_record(
            goal=goal,
            time_point=point,
            score=score,
            rated_by="child",
            scored_on=days_ago(0),
            recorded_by=sw.cyp_worker,
        )
    html = _client(sw.cyp_worker).get(_url("cyp-detail", case)).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert 'role="img"' in html
    assert "<polyline" in html
    assert "Goal 1: Start 2/10" in html
    assert '<table class="govuk-table" aria-describedby="gbo-heading">' in html
    assert "+5" in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_every_case_page_and_form_renders(
    sw: SupportWorld, both: tuple[AdultSupportCase, CypCase]
) -> None:
    adult, child = both
    worker, cyp = _client(sw.adult_worker), _client(sw.cyp_worker)
    for name in (
        "adult-detail",
        "adult-contact",
        "adult-session",
        "adult-outcomes",
        "adult-needs",
        "adult-safety-plan",
        "adult-goal",
        "adult-close",
        "adult-transfer",
        "adult-share",
    ):
        assert worker.get(_url(name, adult)).status_code == 200, name
    for name in (
        "cyp-detail",
        "cyp-contact",
        "cyp-session",
        "cyp-review",
        "cyp-function",
        "cyp-goal",
        "cyp-exit-plan",
        "cyp-feedback",
        "cyp-concern",
        "cyp-close",
        "cyp-transfer",
        "cyp-share",
    ):
        assert cyp.get(_url(name, child)).status_code == 200, name
    assert cyp.get(reverse("support:groups")).status_code == 200
    assert _client(sw.cyp_manager).get(reverse("support:team")).status_code == 200


# --- Direct referral form -------------------------------------------------------------------------


def test_refuge_staff_refer_a_child_through_the_authenticated_form(sw: SupportWorld) -> None:
    refuge = cast(Organisation, AccommodationProviderFactory(authorities=[sw.world.kent]))
    staff = cast(
        User,
        UserFactory(organisation=refuge, roles=[Role.REFERRER], authorities=[sw.world.kent]),
    )
    client = _client(staff)
    form_url = reverse("support:refer-child")
    page = client.get(form_url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    data = {
        "child_given_name": "Marisol",
        "child_family_name": "Quennell",
        **date_fields("child_date_of_birth", dt.date(2015, 2, 3)),
        "child_sex": "female",
        "parent_given_name": "Pat",
        "accommodation_type": "refuge",
        "district": sw.world.extra["districts"]["canterbury"].pk,
        "address_line_1": "1 Refuge Road",
        "town": "Canterbury",
        "postcode": "ct1 1aa",
        "safe_channels": [ContactChannel.PHONE],
        "phone": "07700 900456",
        "reason": "Withdrawn since arriving",
        "parent_consents": "on",
    }
    missing = client.post(form_url, {**data, "parent_consents": ""})
    assert missing.status_code == 400
    assert "Marisol" in missing.content.decode()  # nothing typed is lost
    response = client.post(form_url, data)
    assert response.status_code == 302
    done = client.get(response["Location"]).content.decode()
    case = CypCase.objects.get(source=CypSource.DIRECT)
    assert case.case_file.reference in done
    # Names long enough that a random CSRF token cannot contain them by chance.
    assert "Marisol" not in done
    assert "Quennell" not in done
    assert case.referring_organisation == refuge
    assert case.case_file.household.postcode == "CT1 1AA"
    # A referrer at a police force is not an accommodation provider.
    assert _client(sw.world.referrer).get(form_url).status_code == 403


def test_outcome_and_gbo_score_forms_record_through_the_services(
    sw: SupportWorld, both: tuple[AdultSupportCase, CypCase]
) -> None:
    adult, child = both
    worker = _client(sw.adult_worker)
    page = worker.get(_url("adult-outcomes", adult)).content.decode()
    assert '<option value="true">Yes</option>' in page
    response = worker.post(
        _url("adult-outcomes", adult),
        {
            "time_point": "start",
            **date_fields("recorded_on", days_ago(0)),
            "feeling_safe": "3",
            "quality_of_life": "4",
            "confidence": "5",
            "abuse_types": ["emotional", "economic"],
            "abuse_status": "continuing",
            "risk_reduced": "true",
        },
    )
    assert response.status_code == 302
    measure = adult.outcomes.get()
    assert (measure.feeling_safe, measure.risk_reduced) == (3, True)
    assert measure.abuse_types == ["economic", "emotional"]

    cyp = _client(sw.cyp_worker)
    response = cyp.post(
        _url("cyp-goal", child),
        {
            "description": "Sleep well",
            "owner": "child",
            **date_fields("agreed_on", days_ago(0)),
            "start_score": "3",
            "rated_by": "child",
        },
    )
    assert response.status_code == 302
    goal = child.gbo_goals.get()
    score_url = _url("cyp-goal-score", child, goal_id=goal.pk)
    end = {"time_point": "end", "score": "9", "rated_by": "child"}
    response = cyp.post(score_url, {**end, **date_fields("scored_on", days_ago(0))})
    assert response.status_code == 302
    again = cyp.post(score_url, {**end, **date_fields("scored_on", days_ago(0))})
    assert again.status_code == 400
    assert "already has its end score" in again.content.decode()
    other_goal_url = _url("cyp-goal-score", child, goal_id="00000000-0000-4000-8000-000000000000")
    assert cyp.get(other_goal_url).status_code == 404


# --- Paged caseload and team lists (issue 17) -------------------------------------------------


def _waiting_adult_cases(sw: SupportWorld, n: int) -> list[AdultSupportCase]:
    cases = [
        adult_support_case_open(
            case_file=_extra_case_file(sw, 100 + i),
            opened_by=sw.world.spa_triage,
            provider=sw.world.organisations["adult"],
        )
        for i in range(n)
    ]
    return sorted(cases, key=lambda c: (c.opened_at, str(c.pk)))


def test_caseload_pages_keep_the_sort_across_pages(sw: SupportWorld) -> None:
    from django.http import QueryDict

    from support.selectors.caseload import CaseloadFilters, worker_caseload_page

    cases = [
        adult_support_case_allocate(case=c, worker=sw.adult_worker, allocated_by=None)
        for c in _waiting_adult_cases(sw, 5)
    ]
    by_reference = sorted(cases, key=lambda c: c.reference)
    filters = CaseloadFilters(sort="reference")
    pages = [
        worker_caseload_page(
            user=sw.adult_worker,
            filters=filters,
            params=QueryDict(f"sort=reference&page={n}"),
            per_page=2,
        )
        for n in (1, 2, 3)
    ]
    assert [[r.case.pk for r in page] for page in pages] == [
        [c.pk for c in by_reference[0:2]],
        [c.pk for c in by_reference[2:4]],
        [c.pk for c in by_reference[4:5]],
    ]
    assert [p.has_next for p in pages] == [True, True, False]
    assert pages[1].query == "sort=reference"


def test_team_lists_are_paged_and_the_view_logs_only_the_cases_shown(
    sw: SupportWorld, django_assert_max_num_queries: Any
) -> None:
    from django.http import QueryDict

    waiting = _waiting_adult_cases(sw, 3)
    first, second = (
        team_overview(
            user=sw.adult_manager, params=QueryDict(f"adult-waiting-page={n}"), per_page=2
        )[0]
        for n in (1, 2)
    )
    assert first.waiting_count == CappedCount(3)
    assert [c.pk for c in first.waiting] == [c.pk for c in waiting[:2]]
    assert first.waiting.has_next
    assert [c.pk for c in second.waiting] == [waiting[2].pk]

    manager = _client(sw.adult_manager)
    before = AccessLog.objects.filter(action=AccessAction.SEARCH).count()
    # Constant: the capped counts' plan settings add a statement each (and, in a test's
    # transaction, a savepoint and its release).
    with django_assert_max_num_queries(32):
        page = manager.get(reverse("support:team"))
    html = page.content.decode()
    assert "Waiting for allocation (3)" in html
    shown = {str(c.pk) for c in waiting}
    logged = AccessLog.objects.filter(action=AccessAction.SEARCH)
    assert logged.count() - before == 3
    assert set(logged.values_list("record_id", flat=True)) >= shown
