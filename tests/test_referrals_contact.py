"""The SPA's first contact with the survivor (deadline, attempts, safe-contact rules), the SPA
policy as data, and recording the MARAC hearing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals.exceptions import InvalidTransition, ReferralError, UnsafeContact
from referrals.models import (
    ReferralContactAttempt,
    RiskLevel,
    SpaContactChannel,
    SpaContactOutcome,
    SpaPolicy,
)
from referrals.services import (
    marac_hearing_record,
    marac_referral_record,
    referral_contact_attempt_record,
    referral_decline,
    risk_assessment_record,
)
from referrals.sla import first_contact_due_at, spa_policy_for
from safer.accounts.roles import Role
from safer.casefile.models import CaseEvent, SafeContactRules
from safer.organisations.models import CommissioningAuthority
from safer.workdays import LOCAL_TZ
from tests.helpers import sign_in
from tests.referrals_support import make_referral, staff

pytestmark = pytest.mark.django_db

PHONE, EMAIL = SpaContactChannel.PHONE, SpaContactChannel.EMAIL
NO_ANSWER = SpaContactOutcome.NO_ANSWER


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def end_of(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime.combine(dt.date(y, m, d), dt.time.max, tzinfo=LOCAL_TZ)


def yes_answers(yes: int) -> dict[int, str]:
    return {n: "yes" if n <= yes else "no" for n in range(1, 25)}


@pytest.fixture
def worker() -> Any:
    return staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)


# --- The deadline -------------------------------------------------------------------------------


def test_standard_referral_is_due_by_the_end_of_the_next_working_day_skipping_easter() -> None:
    # Thursday 2 April 2026; Good Friday (3rd) and Easter Monday (6th) are bank holidays.
    with time_machine.travel(local(2026, 4, 2), tick=False):
        referral = make_referral()
    assert referral.risk_level == RiskLevel.NOT_ASSESSED
    assert referral.first_contact_due_at == end_of(2026, 4, 7)


def test_high_risk_referral_is_due_the_same_working_day() -> None:
    with time_machine.travel(local(2026, 3, 9, 11), tick=False):  # Monday
        referral = make_referral(dash_score=15)
    assert referral.risk_level == RiskLevel.HIGH
    assert referral.first_contact_due_at == end_of(2026, 3, 9)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (local(2026, 3, 13, 18, 30), end_of(2026, 3, 16)),  # Friday after hours → Monday
        (local(2026, 3, 14, 9), end_of(2026, 3, 16)),  # Saturday → Monday
        (local(2026, 3, 13, 16, 59), end_of(2026, 3, 13)),  # Friday before 17:00 → that day
        (local(2026, 5, 4, 9), end_of(2026, 5, 5)),  # Early May bank holiday → Tuesday
    ],
)
def test_high_risk_received_after_hours_or_on_a_non_working_day_counts_from_the_next(
    received: dt.datetime, due: dt.datetime
) -> None:
    policy = SpaPolicy()  # the defaults, unsaved
    assert first_contact_due_at(received_at=received, high_risk=True, policy=policy) == due


def test_targets_are_data_per_authority_with_the_default_row_seeded() -> None:
    make_referral()  # sets up the geography
    kent = CommissioningAuthority.objects.get(code="kent")
    default = SpaPolicy.objects.get(authority__isnull=True)
    assert (default.triage_working_days, default.first_contact_working_days) == (2, 1)
    SpaPolicy.objects.create(
        authority=kent,
        triage_working_days=4,
        first_contact_working_days=3,
        working_day_ends_at=dt.time(16, 0),
    )
    assert spa_policy_for(authority_id=kent.pk).first_contact_working_days == 3
    with time_machine.travel(local(2026, 3, 9, 10), tick=False):  # Monday
        referral = make_referral(given_name="Policy")
    assert referral.first_contact_due_at == end_of(2026, 3, 12)  # 3 working days
    assert referral.sla_due_at == end_of(2026, 3, 13)  # 4 working days
    medway = CommissioningAuthority.objects.get(code="medway")
    assert spa_policy_for(authority_id=medway.pk) == default


def test_dash_at_triage_raising_the_risk_to_high_brings_the_deadline_forward(worker: Any) -> None:
    with time_machine.travel(local(2026, 3, 9, 9), tick=False):  # Monday
        referral = make_referral()
    assert referral.first_contact_due_at == end_of(2026, 3, 10)
    with time_machine.travel(local(2026, 3, 9, 15), tick=False):
        risk_assessment_record(
            referral=referral,
            user=worker,
            answers=yes_answers(14),
            completed_on=dt.date(2026, 3, 9),
        )
    referral.refresh_from_db()
    assert referral.risk_level == RiskLevel.HIGH
    assert referral.first_contact_due_at == end_of(2026, 3, 9)


def test_high_risk_known_after_hours_is_due_next_working_day_not_in_the_past(worker: Any) -> None:
    with time_machine.travel(local(2026, 3, 9, 9), tick=False):
        referral = make_referral()
    # Professional judgement raises the risk at 18:00 on Tuesday, the day the attempt was due.
    with time_machine.travel(local(2026, 3, 10, 18), tick=False):
        risk_assessment_record(
            referral=referral,
            user=worker,
            answers=yes_answers(3),
            completed_on=dt.date(2026, 3, 10),
            professional_judgement_level=RiskLevel.HIGH,
            professional_judgement_reason="Threats to kill reported today",
        )
    referral.refresh_from_db()
    # Same-day from 18:00 Tuesday would be Wednesday; the existing deadline (Tuesday) is sooner.
    assert referral.first_contact_due_at == end_of(2026, 3, 10)


# --- Recording attempts ---------------------------------------------------------------------------


def test_first_attempt_stops_the_clock_once_and_writes_the_timeline_event(worker: Any) -> None:
    with time_machine.travel(local(2026, 3, 9, 9), tick=False):
        referral = make_referral()
    with time_machine.travel(local(2026, 3, 9, 16), tick=False):
        first = referral_contact_attempt_record(
            referral=referral, user=worker, channel=PHONE, outcome=NO_ANSWER
        )
        referral_contact_attempt_record(
            referral=referral,
            user=worker,
            channel=PHONE,
            outcome=SpaContactOutcome.SPOKE_TO_SURVIVOR,
            attempted_at=local(2026, 3, 9, 15, 30),
        )
    referral.refresh_from_db()
    assert first.attempted_at == local(2026, 3, 9, 16)
    # The earlier attempt, recorded second, is the first attempt.
    assert referral.first_contact_attempted_at == local(2026, 3, 9, 15, 30)
    events = CaseEvent.objects.filter(
        case_file=referral.case_file, kind="referral_contact_attempt"
    ).order_by("occurred_at", "pk")
    assert [e.data["first_attempt"] for e in events] == [True, True]
    assert events[0].actor == worker
    assert events[0].data["channel"] == "phone"


def test_contact_details_typed_into_an_attempt_stay_off_the_timeline(worker: Any) -> None:
    referral = make_referral()
    referral_contact_attempt_record(
        referral=referral,
        user=worker,
        channel=EMAIL,
        outcome=NO_ANSWER,
        note="Tried 07700 900123 first",
        unsafe_channel_reason="She asked us to write to safe.address@example.org",
    )
    event = CaseEvent.objects.get(case_file=referral.case_file, kind="referral_contact_attempt")
    recorded = event.summary + json.dumps(event.data)
    assert "07700" not in recorded
    assert "safe.address@example.org" not in recorded


def test_a_channel_not_marked_safe_warns_and_needs_a_reason(worker: Any) -> None:
    referral = make_referral()  # only the phone is marked safe; voicemail is not
    with pytest.raises(UnsafeContact, match="not marked safe"):
        referral_contact_attempt_record(
            referral=referral, user=worker, channel=EMAIL, outcome=NO_ANSWER
        )
    with pytest.raises(UnsafeContact, match="Voicemail"):
        referral_contact_attempt_record(
            referral=referral,
            user=worker,
            channel=PHONE,
            outcome=SpaContactOutcome.MESSAGE_LEFT,
        )
    assert not ReferralContactAttempt.objects.exists()
    referral.refresh_from_db()
    assert referral.first_contact_attempted_at is None
    attempt = referral_contact_attempt_record(
        referral=referral,
        user=worker,
        channel=EMAIL,
        outcome=NO_ANSWER,
        unsafe_channel_reason="She emailed us from her safe address and asked for a reply",
    )
    assert attempt.unsafe_channel_reason.startswith("She emailed")
    event = CaseEvent.objects.get(kind="referral_contact_attempt")
    assert event.data["unsafe_channel"] is True


def test_a_text_needs_a_reason_unless_texts_are_marked_safe_as_the_panel_says(
    worker: Any,
) -> None:
    # The same rule as a support worker's attempt (safer.casefile.contact): the panel says "Do
    # not send text messages" unless texts are marked safe, whatever channels are listed.
    referral = make_referral()
    rules = SafeContactRules.objects.get(case_file=referral.case_file)
    rules.safe_channels = ["phone", "text"]
    rules.text_safe = False
    rules.save()
    with pytest.raises(UnsafeContact, match="Text messages are not marked safe"):
        referral_contact_attempt_record(
            referral=referral, user=worker, channel=SpaContactChannel.TEXT, outcome=NO_ANSWER
        )
    rules.text_safe = True
    rules.save()
    referral_contact_attempt_record(
        referral=referral, user=worker, channel=SpaContactChannel.TEXT, outcome=NO_ANSWER
    )


def test_without_safe_contact_rules_every_attempt_warns(worker: Any) -> None:
    referral = make_referral()
    SafeContactRules.objects.filter(case_file=referral.case_file).delete()
    with pytest.raises(UnsafeContact, match="No safe-contact rules"):
        referral_contact_attempt_record(
            referral=referral, user=worker, channel=PHONE, outcome=NO_ANSWER
        )


def test_attempts_cannot_be_in_the_future_before_receipt_or_after_the_decision(
    worker: Any,
) -> None:
    referral = make_referral()
    with pytest.raises(ReferralError, match="future"):
        referral_contact_attempt_record(
            referral=referral,
            user=worker,
            channel=PHONE,
            outcome=NO_ANSWER,
            attempted_at=timezone.now() + dt.timedelta(hours=1),
        )
    with pytest.raises(ReferralError, match="before the referral arrived"):
        referral_contact_attempt_record(
            referral=referral,
            user=worker,
            channel=PHONE,
            outcome=NO_ANSWER,
            attempted_at=referral.received_at - dt.timedelta(minutes=5),
        )
    from referrals.models import DeclineReason

    referral_decline(
        referral=referral, user=worker, reason=DeclineReason.objects.get(code="outside_area")
    )
    with pytest.raises(ReferralError, match="decided"):
        referral_contact_attempt_record(
            referral=referral, user=worker, channel=PHONE, outcome=NO_ANSWER
        )


# --- Pages --------------------------------------------------------------------------------------


def contact_form(**overrides: str) -> dict[str, str]:
    now = timezone.localtime()
    data = {
        "attempted_on_0": str(now.day),
        "attempted_on_1": str(now.month),
        "attempted_on_2": str(now.year),
        "attempted_time": f"{now:%H:%M}",
        "channel": "phone",
        "outcome": "no_answer",
        "note": "",
        "unsafe_channel_reason": "",
    }
    data.update(overrides)
    return data


def test_referral_page_shows_the_deadline_the_attempts_and_the_form(
    client: Client, worker: Any
) -> None:
    referral = make_referral()
    referral_contact_attempt_record(
        referral=referral, user=worker, channel=PHONE, outcome=NO_ANSWER
    )
    sign_in(client, worker)
    page = client.get(reverse("referrals:detail", kwargs={"referral_id": referral.id}))
    content = page.content.decode()
    assert "First contact attempt" in content
    assert "No answer" in content
    assert reverse("referrals:contact-attempt", kwargs={"referral_id": referral.id}) in content
    # The rules' warnings come before the form on the page.
    assert content.index("Do not leave voicemail") < content.index('name="channel"')
    queue = client.get(reverse("referrals:queue")).content.decode()
    assert "First contact" in queue
    assert "Attempted" in queue


def test_recording_an_attempt_through_the_page(client: Client, worker: Any) -> None:
    referral = make_referral()
    sign_in(client, worker)
    url = reverse("referrals:contact-attempt", kwargs={"referral_id": referral.id})
    page = client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    # The rules come before the form: they are read first.
    assert content.index("safe-contact-title") < content.index('name="channel"')
    response = client.post(url, contact_form())
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.first_contact_attempted_at is not None
    assert referral.contact_attempts.get().recorded_by == worker


def test_an_unsafe_channel_on_the_page_shows_the_warning_and_keeps_what_was_typed(
    client: Client, worker: Any
) -> None:
    referral = make_referral()
    sign_in(client, worker)
    url = reverse("referrals:contact-attempt", kwargs={"referral_id": referral.id})
    response = client.post(url, contact_form(channel="text", note="Asked to call back"))
    assert response.status_code == 400
    content = response.content.decode()
    assert "Text messages are not marked safe" in content
    assert "Asked to call back" in content
    assert not ReferralContactAttempt.objects.exists()
    response = client.post(
        url, contact_form(channel="text", unsafe_channel_reason="She asked us to text today")
    )
    assert response.status_code == 302


def test_contact_page_is_404_for_another_authoritys_spa_and_403_for_other_roles(
    client: Client,
) -> None:
    referral = make_referral()
    sign_in(client, staff("morgan@medway.example.org", Role.SPA_TRIAGE, authorities=("medway",)))
    url = reverse("referrals:contact-attempt", kwargs={"referral_id": referral.id})
    assert client.get(url).status_code == 404
    assert client.post(url, contact_form()).status_code == 404
    sign_in(client, staff("carl@locks.example.org", Role.CONTRACTOR))
    assert client.post(url, contact_form()).status_code == 403
    assert not ReferralContactAttempt.objects.exists()


# --- The MARAC hearing ----------------------------------------------------------------------------


def _marac(worker: Any, *, children: int = 0) -> Any:
    referral = make_referral(dash_score=16, children=children)
    today = timezone.localdate()
    assessment = risk_assessment_record(
        referral=referral, user=worker, answers=yes_answers(15), completed_on=today
    )
    return marac_referral_record(
        referral=referral,
        user=worker,
        assessment=assessment,
        area="Maidstone MARAC",
        referred_on=today - dt.timedelta(days=7),
    )


def test_recording_the_hearing_once_with_the_children_in_the_household(worker: Any) -> None:
    marac = _marac(worker, children=2)
    today = timezone.localdate()
    with pytest.raises(ReferralError, match="before it was referred"):
        marac_hearing_record(
            marac=marac, user=worker, heard_on=today - dt.timedelta(days=8), outcome="x"
        )
    with pytest.raises(ReferralError, match="future"):
        marac_hearing_record(
            marac=marac, user=worker, heard_on=today + dt.timedelta(days=1), outcome="x"
        )
    heard = marac_hearing_record(
        marac=marac, user=worker, heard_on=today, outcome="Police marker; IDVA to call weekly"
    )
    assert heard.heard_on == today
    assert heard.heard_recorded_by == worker
    event = CaseEvent.objects.get(kind="marac_heard")
    assert event.data["children_in_household"] is True
    assert event.actor == worker
    with pytest.raises(InvalidTransition, match="already recorded as heard"):
        marac_hearing_record(marac=marac, user=worker, heard_on=today, outcome="Again")


def test_marac_hearing_page(client: Client, worker: Any) -> None:
    marac = _marac(worker)
    sign_in(client, worker)
    url = reverse(
        "referrals:marac-hearing", kwargs={"referral_id": marac.referral_id, "marac_id": marac.id}
    )
    detail = client.get(reverse("referrals:detail", kwargs={"referral_id": marac.referral_id}))
    assert url in detail.content.decode()
    page = client.get(url)
    assert "No children are recorded" in page.content.decode()
    empty = client.post(url, {})
    assert "Enter the date the MARAC heard the case" in empty.content.decode()
    today = timezone.localdate()
    response = client.post(
        url,
        {
            "heard_on_0": str(today.day),
            "heard_on_1": str(today.month),
            "heard_on_2": str(today.year),
            "outcome": "Action plan agreed",
        },
    )
    assert response.status_code == 302
    marac.refresh_from_db()
    assert marac.heard_on == today
    assert client.get(url).status_code == 302  # heard once: back to the referral
