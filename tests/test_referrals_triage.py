"""Triage: the queue, the referral page, decisions as transitions, repeats, the portal."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals import ratelimit
from referrals.exceptions import InvalidTransition, ReferralError
from referrals.models import (
    DeclineReason,
    MatchStatus,
    Referral,
    ReferralHold,
    ReferralMatch,
    ReferralStatus,
)
from referrals.selectors import (
    QueueFilters,
    referral_queue,
    referral_status_for_referrer,
    referrals_made_by,
)
from referrals.services import (
    referral_accept,
    referral_decline,
    referral_eligibility_record,
    referral_information_received,
    referral_match_resolve,
    referral_request_information,
    referral_triage_start,
    referral_withdraw,
)
from safer.accounts.roles import Role
from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import CaseEvent, Household, HouseholdRole, Person
from safer.organisations.models import Organisation, OrganisationKind
from security_works.models import SecurityJob
from tests.helpers import sign_in
from tests.referrals_support import ACCEPT_REASONS, geography, make_referral, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The counters live in the shared Redis and outlast a test run.
    for limit in (ratelimit.FORM_POSTS, ratelimit.SUBMISSIONS):
        ratelimit.reset(limit, "127.0.0.1")


ALL_YES = dict.fromkeys(Referral.ELIGIBILITY_FIELDS, True)


@pytest.fixture
def worker() -> Any:
    return staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)


@pytest.fixture
def manager() -> Any:
    return staff("mo.manager@spa.example.org", Role.SPA_MANAGER)


def contractor_for(district: str = "maidstone") -> Organisation:
    districts = geography()
    contractor = Organisation.objects.create(
        name=f"Fictional Locks ({district})", kind=OrganisationKind.SECURITY_CONTRACTOR
    )
    contractor.authorities.add(districts[district].authority)
    contractor.districts_covered.add(districts[district])
    return contractor


# --- The queue and the referral page ----------------------------------------------------------


def test_queue_is_urgent_first_then_by_risk_and_shows_only_the_workers_authorities(
    client: Client, worker: Any
) -> None:
    plain = make_referral(given_name="Plain")
    high = make_referral(given_name="High", dash_score=16)
    urgent = make_referral(given_name="Urgent", urgent=True)
    medway = make_referral(given_name="Medway", district="medway", postcode="ME4 4AA")
    queue = list(referral_queue(user=worker, filters=QueueFilters()))
    assert queue == [urgent, high, plain]
    assert medway not in queue
    sign_in(client, worker)
    response = client.get(reverse("referrals:queue"))
    assert response.status_code == 200
    page = response.content.decode()
    assert urgent.reference in page
    assert medway.reference not in page
    filtered = client.get(reverse("referrals:queue"), {"urgent": "yes"}).content.decode()
    assert urgent.reference in filtered
    assert plain.reference not in filtered


def test_triage_pages_refuse_other_roles_and_anonymous(client: Client) -> None:
    referral = make_referral()
    response = client.get(reverse("referrals:detail", kwargs={"referral_id": referral.id}))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    sign_in(client, staff("rita.referrer@police.example.org", Role.REFERRER))
    assert client.get(reverse("referrals:queue")).status_code == 403
    sign_in(client, staff("carl.contractor@locks.example.org", Role.CONTRACTOR))
    response = client.get(reverse("referrals:detail", kwargs={"referral_id": referral.id}))
    assert response.status_code == 403


def test_referral_page_shows_safe_contact_rules_first_and_logs_one_view(
    client: Client, worker: Any
) -> None:
    referral = make_referral(voicemail_safe=False)
    sign_in(client, worker)
    response = client.get(reverse("referrals:detail", kwargs={"referral_id": referral.id}))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Do not leave voicemail") < page.index(referral.reference + "</h1>")
    assert "no-store" in response["Cache-Control"]
    logs = AccessLog.objects.filter(record_type="referrals.referral", record_id=str(referral.id))
    assert logs.count() == 1
    assert logs.get().action == AccessAction.VIEW


def test_another_authoritys_referral_is_a_404_like_a_missing_one(
    client: Client, worker: Any
) -> None:
    medway = make_referral(district="medway", postcode="ME4 4AA")
    sign_in(client, worker)
    not_yours = client.get(reverse("referrals:detail", kwargs={"referral_id": medway.id}))
    missing = client.get(
        reverse("referrals:detail", kwargs={"referral_id": "00000000-0000-0000-0000-000000000000"})
    )
    assert not_yours.status_code == missing.status_code == 404
    assert not AccessLog.objects.filter(record_id=str(medway.id)).exists()


# --- Decisions --------------------------------------------------------------------------------


def test_triage_walk_accept_with_security_works_and_named_child(worker: Any) -> None:
    referral = make_referral(children=2)
    contractor = contractor_for()
    referral = referral_triage_start(referral=referral, user=worker)
    assert referral.status == ReferralStatus.IN_TRIAGE
    assert referral.triage_worker == worker
    with pytest.raises(ReferralError, match="eligibility"):
        referral_accept(
            **ACCEPT_REASONS,
            referral=referral,
            user=worker,
            security_works=True,
            adult_support=False,
        )
    referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)
    child = Person.objects.filter(
        household=referral.case_file.household, household_role=HouseholdRole.CHILD
    ).first()
    assert child is not None
    accepted = referral_accept(
        **ACCEPT_REASONS,
        referral=referral,
        user=worker,
        security_works=True,
        adult_support=True,
        children=[child],
    )
    assert accepted.status == ReferralStatus.ACCEPTED
    assert accepted.decided_by == worker
    assert accepted.route_security_works
    assert list(accepted.routed_children.all()) == [child]
    job = SecurityJob.objects.get(case_file=referral.case_file)
    assert job.contractor == contractor
    kinds = list(
        CaseEvent.objects.filter(case_file=referral.case_file).values_list("kind", flat=True)
    )
    assert [k for k in kinds if k.startswith("referral_")] == [
        "referral_received",
        "referral_triage_started",
        "referral_eligibility_checked",
        "referral_accepted",
    ]
    assert "security_job.allocated" in kinds  # in the same transaction as the acceptance
    with pytest.raises(InvalidTransition, match="now accepted"):
        referral_decline(
            referral=referral, user=worker, reason=DeclineReason.objects.get(code="duplicate")
        )


def test_accept_fails_whole_when_no_contractor_covers_the_district(worker: Any) -> None:
    referral = make_referral()
    referral_eligibility_record(referral=referral, user=worker, answers=ALL_YES)
    with pytest.raises(ReferralError, match="No active contractor"):
        referral_accept(
            **ACCEPT_REASONS,
            referral=referral,
            user=worker,
            security_works=True,
            adult_support=True,
        )
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED  # nothing half-done
    assert not CaseEvent.objects.filter(kind="referral_accepted").exists()


def test_decline_needs_a_note_for_other_and_records_the_reason(worker: Any) -> None:
    referral = make_referral()
    other = DeclineReason.objects.get(code="other")
    with pytest.raises(ReferralError, match="Add a note"):
        referral_decline(referral=referral, user=worker, reason=other)
    declined = referral_decline(
        referral=referral,
        user=worker,
        reason=DeclineReason.objects.get(code="perpetrator_lives_at_property"),
        note="Confirmed with the referrer",
    )
    assert declined.status == ReferralStatus.DECLINED
    assert declined.decline_reason_id == "perpetrator_lives_at_property"


def test_withdraw_and_illegal_transitions_give_a_clear_message_in_the_ui(
    client: Client, worker: Any
) -> None:
    referral = make_referral()
    referral_withdraw(referral=referral, user=worker, note="Survivor moved away")
    sign_in(client, worker)
    response = client.post(
        reverse("referrals:decline", kwargs={"referral_id": referral.id}),
        {"reason": "not_safe_to_remain", "note": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert "This referral is now withdrawn, so it cannot be declined" in response.content.decode()


def test_request_information_pauses_the_clock_and_resumes_it_later(worker: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), tick=False):  # Monday
        referral = make_referral()
    assert referral.sla_due_at is not None
    due_before = referral.sla_due_at
    assert due_before.date() == dt.date(2026, 3, 4)  # 2 working days
    with time_machine.travel(dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC), tick=False):
        held = referral_request_information(
            referral=referral, user=worker, reason="Ask the referrer for the tenancy details"
        )
    assert held.status == ReferralStatus.AWAITING_INFORMATION
    assert held.sla_due_at is None
    with pytest.raises(InvalidTransition):
        referral_request_information(referral=held, user=worker, reason="Again")
    with time_machine.travel(dt.datetime(2026, 3, 6, 9, tzinfo=dt.UTC), tick=False):  # Friday
        resumed = referral_information_received(referral=held, user=worker)
    assert resumed.status == ReferralStatus.IN_TRIAGE
    # Paused Wed-Fri (3 working days after the day the hold began): due moves 4 → 9 March.
    assert resumed.sla_due_at is not None
    assert resumed.sla_due_at.astimezone(dt.UTC).date() == dt.date(2026, 3, 9)
    assert ReferralHold.objects.get(referral=referral).ended_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_workers_deciding_at_once_exactly_one_wins() -> None:
    first = staff("one@spa.example.org", Role.SPA_TRIAGE)
    second = staff("two@spa.example.org", Role.SPA_TRIAGE)
    referral = make_referral()
    referral_eligibility_record(referral=referral, user=first, answers=ALL_YES)
    reason = DeclineReason.objects.get(code="not_safe_to_remain")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(action: str) -> None:
        try:
            barrier.wait(timeout=5)
            if action == "accept":
                referral_accept(
                    **ACCEPT_REASONS,
                    referral=referral,
                    user=first,
                    security_works=False,
                    adult_support=True,
                )
            else:
                referral_decline(referral=referral, user=second, reason=reason)
            outcomes.append(action)
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(a,)) for a in ("accept", "decline")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) in (["accept", "refused"], ["decline", "refused"])
    referral.refresh_from_db()
    assert referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED)
    decided = CaseEvent.objects.filter(
        case_file=referral.case_file, kind__in=["referral_accepted", "referral_declined"]
    )
    assert decided.count() == 1


# --- Repeats ----------------------------------------------------------------------------------


def test_repeat_with_a_typo_and_a_differently_written_date_is_found_and_not_merged(
    client: Client, worker: Any
) -> None:
    from tests.test_referrals_public import SURVIVOR, submit, walk_professional

    earlier = make_referral(
        given_name="Maria",
        family_name="Smith",
        date_of_birth=dt.date(1990, 3, 5),
        address_line_1="99 Elsewhere Lane",
        postcode="CT1 1AA",
        district="canterbury",
    )
    walk_professional(
        client,
        survivor={
            **SURVIVOR,
            "given_name": "maria",
            "family_name": "Smyth",
            # Typed as "5 / Mar / 1990" rather than "05 / 03 / 1990".
            "date_of_birth_0": "5",
            "date_of_birth_1": "Mar",
            "date_of_birth_2": "1990",
        },
    )
    later = submit(client)
    match = ReferralMatch.objects.get(referral=later)
    assert match.candidate == earlier
    assert match.on_person
    assert not match.on_address
    assert match.status == MatchStatus.OPEN
    # Nothing merged: two case files, two survivors.
    assert later.case_file_id != earlier.case_file_id
    assert later.case_file.survivor.family_name == "Smyth"
    assert later.repeat_of is None
    # Shown before a decision, and a decision waits for it.
    client.logout()
    sign_in(client, worker)
    page = client.get(reverse("referrals:detail", kwargs={"referral_id": later.id}))
    assert "Possible repeat referrals" in page.content.decode()
    assert earlier.reference in page.content.decode()
    referral_eligibility_record(referral=later, user=worker, answers=ALL_YES)
    with pytest.raises(ReferralError, match="possible repeat"):
        referral_accept(
            **ACCEPT_REASONS, referral=later, user=worker, security_works=False, adult_support=True
        )
    response = client.post(
        reverse("referrals:match-resolve", kwargs={"referral_id": later.id, "match_id": match.id}),
        {"decision": "same"},
    )
    assert response.status_code == 302
    later.refresh_from_db()
    assert later.repeat_of == earlier
    assert ReferralMatch.objects.get(pk=match.pk).status == MatchStatus.LINKED
    referral_accept(
        **ACCEPT_REASONS, referral=later, user=worker, security_works=False, adult_support=True
    )


def test_same_address_within_a_year_is_a_possible_repeat_but_a_stranger_is_not(
    worker: Any,
) -> None:
    earlier = make_referral(given_name="Sam", family_name="Jones", address_line_1="12 Oak Road")
    stranger = make_referral(
        given_name="Kim", family_name="Lee", address_line_1="4 Birch Close", postcode="ME16 8ZZ"
    )
    same_address = make_referral(
        given_name="Lou", family_name="Brown", address_line_1="12, Oak Road"
    )
    assert not ReferralMatch.objects.filter(referral=stranger).exists()
    match = ReferralMatch.objects.get(referral=same_address)
    assert match.candidate == earlier
    assert match.on_address
    assert not match.on_person
    referral_match_resolve(match=match, user=worker, same_person=False)
    same_address.refresh_from_db()
    assert same_address.repeat_of is None


def test_a_referral_more_than_a_year_later_is_not_matched() -> None:
    with time_machine.travel(dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC), tick=False):
        make_referral(family_name="Smith", date_of_birth=dt.date(1990, 3, 5))
    with time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False):
        later = make_referral(family_name="Smith", date_of_birth=dt.date(1990, 3, 5))
    assert not ReferralMatch.objects.filter(referral=later).exists()


def test_same_person_at_the_same_address_is_one_match_on_both() -> None:
    earlier = make_referral(
        given_name="Ada", family_name="Stone", date_of_birth=dt.date(1985, 7, 21)
    )
    later = make_referral(given_name="Ada", family_name="Stone", date_of_birth=dt.date(1985, 7, 21))
    match = ReferralMatch.objects.get(referral=later)
    assert match.candidate == earlier
    assert match.on_person
    assert match.on_address
    assert match.similarity == 1.0


def test_an_address_less_alike_than_the_threshold_is_not_matched_at_the_same_postcode() -> None:
    """``%`` uses the transaction's pg_trgm threshold, set to ADDRESS_MIN_SIMILARITY: a line
    pg_trgm's default (0.3) would let through is not a match."""
    from referrals.services.matching import ADDRESS_MIN_SIMILARITY

    make_referral(given_name="Sam", family_name="Jones", address_line_1="12 Oak Road")
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity('12 oak road', '12 oak lane')")
        similarity = cursor.fetchone()[0]
    assert 0.3 <= similarity < ADDRESS_MIN_SIMILARITY
    other = make_referral(given_name="Lou", family_name="Brown", address_line_1="12 Oak Lane")
    assert not ReferralMatch.objects.filter(referral=other).exists()


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_duplicate_matching_is_served_by_indexes_not_a_scan_of_the_authority() -> None:
    """Each branch of the duplicate check can start from an index: the survivor's date of birth
    (``person_dob_idx``) and the household's postcode with the trigram index of its first line
    (``household_address_trgm``). The test data is small, so sequential scans are priced out
    (``enable_seqscan``) to read which paths exist: a branch with no index path would still
    show a ``Seq Scan``."""
    from referrals.services.matching import (
        _address_candidates,
        _earlier_referrals,
        _person_candidates,
    )

    make_referral(given_name="Ada", family_name="Stone", date_of_birth=dt.date(1985, 7, 21))
    later = make_referral(given_name="Ada", family_name="Stone", date_of_birth=dt.date(1985, 7, 21))
    candidates = _earlier_referrals(later)
    with transaction.atomic():
        person = _person_candidates(candidates, survivor=later.case_file.survivor)
        address = _address_candidates(candidates, household=later.case_file.household)
        assert [r["pk"] for r in address]
        assert [r["pk"] for r in person]
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        person_plan = _plan(*person.query.sql_with_params())
        address_plan = _plan(*address.query.sql_with_params())
    # Which index the planner starts from on a handful of rows varies (the referrals' received
    # index, or the date of birth's): what holds is that no branch scans a whole table, and
    # that the date-of-birth branch has its own index to start from.
    assert "Seq Scan" not in person_plan, person_plan
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        by_birth = Person.objects.filter(date_of_birth=dt.date(1985, 7, 21)).values("pk")
        # Either index leading with the date of birth serves it; on a tiny table the planner
        # picks between them on equal costs, so the test names neither.
        birth_plan = _plan(*by_birth.query.sql_with_params())
        assert "Seq Scan" not in birth_plan, birth_plan
        assert "Index Cond: (date_of_birth = " in birth_plan, birth_plan
    assert "Seq Scan" not in address_plan, address_plan
    assert "household_address_trgm" in address_plan or "postcode" in address_plan, address_plan
    with transaction.atomic():
        _address_candidates(candidates, household=later.case_file.household)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        trigram_only = Household.objects.annotate(line=Lower("address_line_1")).filter(
            line__trigram_similar="12 oak road"
        )
        assert "household_address_trgm" in _plan(*trigram_only.query.sql_with_params())


# --- The referrer portal ----------------------------------------------------------------------


def test_referrer_portal_shows_status_of_own_referrals_only(client: Client, worker: Any) -> None:
    referrer = staff("rita.referrer@police.example.org", Role.REFERRER)
    mine = make_referral(referrer_user=referrer, given_name="Visible")
    declined = make_referral(referrer_user=referrer, given_name="Declined", postcode="ME14 1AA")
    someone_elses = make_referral(given_name="Other", postcode="ME16 1AA")
    referral_decline(
        referral=declined, user=worker, reason=DeclineReason.objects.get(code="outside_area")
    )
    rows = referrals_made_by(user=referrer)
    assert {r.reference: r.status for r in rows} == {
        mine.reference: "Received",
        declined.reference: "Declined: Not eligible: outside the area",
    }
    sign_in(client, referrer)
    page = client.get(reverse("referrals:mine")).content.decode()
    assert mine.reference in page
    assert someone_elses.reference not in page
    for private in ("Visible", "Example", "Fictional Road", "ME15"):
        assert private not in page
    # A referrer cannot open the triage page of their own referral.
    assert client.get(reverse("referrals:detail", kwargs={"referral_id": mine.id})).status_code in (
        403,
        404,
    )


def test_referrer_follows_one_referral_in_words_and_only_their_own(
    client: Client, worker: Any
) -> None:
    referrer = staff("rita.referrer@police.example.org", Role.REFERRER)
    mine = make_referral(referrer_user=referrer, given_name="Visible")
    someone_elses = make_referral(given_name="Other", postcode="ME16 1AA")
    detail = referral_status_for_referrer(user=referrer, referral_id=mine.id)
    assert (detail.reference, detail.status, detail.decided_on) == (mine.reference, "Received", "")
    assert "within 2 working days" in detail.meaning
    with pytest.raises(Http404):
        referral_status_for_referrer(user=referrer, referral_id=someone_elses.id)

    referral_triage_start(referral=mine, user=worker)
    referral_decline(
        referral=mine, user=worker, reason=DeclineReason.objects.get(code="outside_area")
    )
    detail = referral_status_for_referrer(user=referrer, referral_id=mine.id)
    today = f"{timezone.localdate():%-d %B %Y}"
    assert detail.status == "Declined: Not eligible: outside the area"
    assert (detail.triage_started_on, detail.decided_on) == (today, today)
    assert "make a new referral" in detail.meaning

    sign_in(client, referrer)
    page = client.get(reverse("referrals:mine-status", args=[mine.id])).content.decode()
    assert "Declined: Not eligible: outside the area" in page
    for private in ("Visible", "Example", "Fictional Road", "ME15"):
        assert private not in page
    assert client.get(reverse("referrals:mine-status", args=[someone_elses.id])).status_code == 404
    # The list links each referral to its status; every look is access-logged.
    listing = client.get(reverse("referrals:mine")).content.decode()
    assert reverse("referrals:mine-status", args=[mine.id]) in listing
    assert (
        AccessLog.objects.filter(
            user=referrer, action=AccessAction.VIEW, record_id=str(mine.id)
        ).count()
        == 3
    )


def test_every_triage_page_renders_for_a_worker(client: Client, worker: Any) -> None:
    referral = make_referral(children=1, dash_score=15)
    sign_in(client, worker)
    for name in ("detail", "risk", "accept", "decline", "request-information", "withdraw"):
        response = client.get(reverse(f"referrals:{name}", kwargs={"referral_id": referral.id}))
        assert response.status_code == 200, name
    assert client.get(reverse("referrals:queue"), {"possible_repeat": "on"}).status_code == 200
    # MARAC needs an assessment first.
    response = client.get(reverse("referrals:marac", kwargs={"referral_id": referral.id}))
    assert response.status_code == 302


def test_accept_through_the_page(client: Client, worker: Any) -> None:
    referral = make_referral()
    sign_in(client, worker)
    response = client.post(
        reverse("referrals:eligibility", kwargs={"referral_id": referral.id}),
        dict.fromkeys(Referral.ELIGIBILITY_FIELDS, "yes"),
    )
    assert response.status_code == 302
    response = client.post(
        reverse("referrals:accept", kwargs={"referral_id": referral.id}),
        {"adult_support": "on", "note": "Support only for now", **ACCEPT_REASONS},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.route_adult_support
    assert not referral.route_security_works
    # An empty choice is refused with a message on the page, not a 500.
    other = make_referral(given_name="Other", postcode="ME16 1AA")
    response = client.post(reverse("referrals:accept", kwargs={"referral_id": other.id}), {})
    assert response.status_code == 200
    assert "Choose at least one route" in response.content.decode()
