"""The one safe-contact rule (safer.casefile.contact): channels, voicemail, structured safe times
(overnight windows, days, "not stated"), who may answer, and every path that uses it: the SPA's
attempts, adult and CYP attempts and sessions, a contractor booking a visit. Going against the
rules needs a reason, shows on the timeline and reaches the managers."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from referrals.exceptions import UnsafeContact
from referrals.models import SpaContactChannel, SpaContactOutcome
from referrals.services import referral_contact_attempt_record
from safer.accounts.roles import Role
from safer.casefile.contact import (
    IN_PERSON,
    Code,
    SafeTimes,
    TimeWindow,
    contact_check,
    message_may_go_to,
    safe_times_fields,
    safe_times_parse,
)
from safer.casefile.models import (
    CaseEvent,
    ContactChannel,
    ContactService,
    SafeContactOverride,
    SafeContactRules,
    WhoMayAnswer,
)
from safer.casefile.selectors import safe_contact_overrides_for_manager
from safer.workdays import LOCAL_TZ
from security_works.exceptions import UnsafeContact as UnsafeVisit
from security_works.models import JobStatus
from security_works.services import security_job_allocate, security_job_book_survey
from support.exceptions import UnsafeChannel
from support.models import ContactAttempt, ContactOutcome, SessionLog, SessionMode
from support.services.adult import adult_session_record
from support.services.common import contact_attempt_record
from support.services.cyp import cyp_session_record
from tests.factories import PersonaWorld, SafeContactRulesFactory
from tests.helpers import sign_in
from tests.referrals_support import make_referral, staff
from tests.test_security_works_helpers import build_world as build_works_world
from tests.test_security_works_helpers import case_file as works_case_file
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    open_adult_case,
    open_cyp_case,
)

T = dt.time


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LOCAL_TZ)


def rules(**fields: Any) -> SafeContactRules:
    """Unsaved rules: the check reads attributes only."""
    base: dict[str, Any] = {
        "safe_channels": [ContactChannel.PHONE],
        "voicemail_safe": False,
        "text_safe": False,
        "safe_windows": [],
        "safe_days": [],
        "who_may_answer": WhoMayAnswer.NOT_STATED,
    }
    return SafeContactRules(**{**base, **fields})


def codes(*args: Any, **kwargs: Any) -> list[str]:
    return [b.code for b in contact_check(*args, **kwargs)]


# --- The rule, pure -----------------------------------------------------------------------------


class TestChannels:
    def test_no_rules_warns_for_every_channel(self) -> None:
        for channel in ContactChannel.values:
            assert codes(None, channels=[channel]) == [Code.NO_RULES]

    @pytest.mark.parametrize("channel", ContactChannel.values)
    def test_each_channel_is_safe_only_when_listed(self, channel: str) -> None:
        text_ok = channel == ContactChannel.TEXT
        listed = rules(safe_channels=[channel], text_safe=text_ok)
        assert codes(listed, channels=[channel]) == []
        other = next(c for c in ContactChannel.values if c != channel)
        unlisted = rules(safe_channels=[other], text_safe=False)
        expected = Code.TEXT if channel == ContactChannel.TEXT else Code.CHANNEL
        assert codes(unlisted, channels=[channel]) == [expected]

    def test_a_text_needs_texts_marked_safe_even_when_listed(self) -> None:
        listed = rules(safe_channels=[ContactChannel.TEXT], text_safe=False)
        assert codes(listed, channels=[ContactChannel.TEXT]) == [Code.TEXT]

    def test_text_or_email_needs_both_safe_and_names_each(self) -> None:
        both = [ContactChannel.TEXT, ContactChannel.EMAIL]
        breaches = contact_check(rules(), channels=both)
        assert [b.code for b in breaches] == [Code.TEXT, Code.CHANNEL]
        assert "Email is not marked safe" in breaches[1].message
        safe = rules(safe_channels=both, text_safe=True)
        assert codes(safe, channels=both) == []

    def test_a_visit_in_person_is_not_a_channel_but_is_timed(self) -> None:
        windowed = rules(safe_windows=[["10:00", "12:00"]])
        assert codes(windowed, channels=[IN_PERSON], at=at(2026, 3, 9, 11)) == []
        assert codes(windowed, channels=[IN_PERSON], at=at(2026, 3, 9, 15)) == [Code.TIME]


class TestVoicemailAndAnswer:
    def test_leaving_a_message_needs_voicemail_marked_safe(self) -> None:
        phone = [ContactChannel.PHONE]
        assert codes(rules(), channels=phone, leaves_message=True) == [Code.VOICEMAIL]
        assert codes(rules(voicemail_safe=True), channels=phone, leaves_message=True) == []
        assert codes(rules(), channels=phone, leaves_message=False) == []

    def test_only_the_survivor_may_answer(self) -> None:
        phone = [ContactChannel.PHONE]
        only = rules(who_may_answer=WhoMayAnswer.SURVIVOR_ONLY)
        assert codes(only, channels=phone, someone_else_answered=True) == [Code.ANSWER]
        assert codes(only, channels=phone, someone_else_answered=False) == []
        anyone = rules(who_may_answer=WhoMayAnswer.ANYONE)
        assert codes(anyone, channels=phone, someone_else_answered=True) == []
        assert codes(rules(), channels=phone, someone_else_answered=True) == []  # not stated


class TestTimes:
    PHONE = (ContactChannel.PHONE,)

    def test_a_window_includes_its_start_and_excludes_its_end(self) -> None:
        r = rules(safe_windows=[["10:00", "12:00"]])
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 9, 10)) == []
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 9, 11, 59)) == []
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 9, 12)) == [Code.TIME]
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 9, 9, 59)) == [Code.TIME]

    def test_the_2350_attempt_against_10am_to_12pm_is_named_in_the_warning(self) -> None:
        r = rules(safe_windows=[["10:00", "12:00"]])
        (breach,) = contact_check(r, channels=self.PHONE, at=at(2026, 3, 10, 23, 50))
        assert breach.code == Code.TIME
        assert breach.message == (
            "11:50pm on Tuesday is outside this person's safe times (10am to midday)."
        )

    def test_overnight_window_and_its_early_hours_belong_to_the_day_it_started(self) -> None:
        # 10pm to 2am on Fridays only: Saturday 1am is inside (Friday's window), Friday 1am is
        # not (that belongs to Thursday's), Friday 11pm is.
        r = rules(safe_windows=[["22:00", "02:00"]], safe_days=[4])
        friday, saturday = dt.date(2026, 3, 13), dt.date(2026, 3, 14)
        assert friday.weekday() == 4
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 13, 23)) == []
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 14, 1, 30)) == []
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 13, 1, 30)) == [Code.TIME]
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 14, 2)) == [Code.TIME]
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 13, 21, 59)) == [Code.TIME]
        assert saturday.weekday() == 5

    def test_days_alone_check_the_day_only(self) -> None:
        weekdays = rules(safe_days=[0, 1, 2, 3, 4])
        assert codes(weekdays, channels=self.PHONE, at=at(2026, 3, 9, 3)) == []  # Monday
        assert codes(weekdays, channels=self.PHONE, at=at(2026, 3, 14, 11)) == [Code.DAY]
        # A session known only by its date: days checked, hours not.
        windowed = rules(safe_windows=[["10:00", "12:00"]], safe_days=[0])
        assert codes(windowed, channels=self.PHONE, on_day=dt.date(2026, 3, 9)) == []
        assert codes(windowed, channels=self.PHONE, on_day=dt.date(2026, 3, 10)) == [Code.DAY]

    def test_windows_on_stated_days_only(self) -> None:
        r = rules(safe_windows=[["10:00", "12:00"]], safe_days=[0])
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 9, 11)) == []
        assert codes(r, channels=self.PHONE, at=at(2026, 3, 10, 11)) == [Code.TIME]

    def test_not_stated_checks_nothing_about_time(self) -> None:
        r = rules(safe_times="Ask the referrer")
        for hour in (0, 3, 11, 23):
            assert codes(r, channels=self.PHONE, at=at(2026, 3, 14, hour)) == []
        assert not SafeTimes.of(r).stated
        assert SafeTimes.of(r).summary() == "not stated"

    def test_letters_and_the_referrer_are_not_timed(self) -> None:
        r = rules(
            safe_channels=[ContactChannel.LETTER, ContactChannel.VIA_REFERRER],
            safe_windows=[["10:00", "12:00"]],
        )
        late = at(2026, 3, 9, 23)
        assert codes(r, channels=[ContactChannel.LETTER], at=late) == []
        assert codes(r, channels=[ContactChannel.VIA_REFERRER], at=late) == []
        assert codes(r, channels=[ContactChannel.EMAIL], at=late) == [Code.CHANNEL, Code.TIME]

    def test_a_malformed_stored_window_is_not_stated_never_any_time(self) -> None:
        r = rules(safe_windows=[["ten", "twelve"], ["10:00", "12:00"]], safe_days=[9, "x"])
        times = SafeTimes.of(r)
        assert times.windows == (TimeWindow(T(10), T(12)),)
        assert times.days == frozenset()


class TestParsing:
    @pytest.mark.parametrize(
        ("words", "windows", "days"),
        [
            ("10am\u201312pm", [(T(10), T(12))], []),
            ("Weekdays 10:00 to 14:00", [(T(10), T(14))], [0, 1, 2, 3, 4]),
            ("Weekdays 10am to 2pm", [(T(10), T(14))], [0, 1, 2, 3, 4]),
            ("10 to 12pm", [(T(10), T(12))], []),
            ("2 to 4pm", [(T(14), T(16))], []),
            ("9-5", [(T(9), T(17))], []),
            ("between 9.30 and 11", [(T(9, 30), T(11))], []),
            ("midday to 2pm", [(T(12), T(14))], []),
            ("evenings after 7", [(T(19), T(0))], []),
            ("22:00 to 02:00 Fridays", [(T(22), T(2))], [4]),
            ("Mon-Wed mornings", [(T(9), T(12))], [0, 1, 2]),
            ("Fri to Mon 10am-11am", [(T(10), T(11))], [4, 5, 6, 0]),
            ("Tuesday and Thursday afternoons", [(T(12), T(17))], [1, 3]),
            ("weekends", [], [5, 6]),
        ],
    )
    def test_the_survivors_words_become_windows_and_days(
        self, words: str, windows: list[tuple[dt.time, dt.time]], days: list[int]
    ) -> None:
        parsed = safe_times_parse(words)
        assert [(w.start, w.end) for w in parsed.windows] == windows
        assert parsed.days == frozenset(days)

    @pytest.mark.parametrize(
        "words",
        ["", "any time", "not weekends", "never after 6pm", "Ring 2-4", "ask her sister", "25-26"],
    )
    def test_what_cannot_be_read_safely_is_not_stated(self, words: str) -> None:
        assert not safe_times_parse(words).stated

    def test_fields_for_the_record(self) -> None:
        assert safe_times_fields("Weekdays 10am to 12pm") == {
            "safe_windows": [["10:00", "12:00"]],
            "safe_days": [0, 1, 2, 3, 4],
        }


def test_no_automated_message_goes_to_the_survivors_address() -> None:
    r = rules(email="Safe.Address@example.org")
    assert not message_may_go_to(r, " safe.address@example.org")
    assert message_may_go_to(r, "referrer@police.example.org")
    assert message_may_go_to(None, "referrer@police.example.org")


# --- Stored: intake and the migration -------------------------------------------------------


@pytest.mark.django_db
def test_intake_stores_the_structured_times_read_from_the_words() -> None:
    referral = make_referral()
    stored = SafeContactRules.objects.get(case_file=referral.case_file)
    assert stored.safe_windows == []
    assert stored.safe_days == []


@pytest.mark.django_db
def test_the_migration_reads_existing_words_and_leaves_the_rest_not_stated() -> None:
    readable = SafeContactRulesFactory.create(safe_times="Weekdays 10am to 12pm")
    unreadable = SafeContactRulesFactory.create(safe_times="not after her shift")
    migration = importlib.import_module(
        "safer.casefile.migrations.0005_safe_contact_structured_times_and_overrides"
    )
    migration.parse_existing_safe_times(django_apps, None)
    readable.refresh_from_db()
    unreadable.refresh_from_db()
    assert readable.safe_windows == [["10:00", "12:00"]]
    assert readable.safe_days == [0, 1, 2, 3, 4]
    assert unreadable.safe_windows == []
    assert unreadable.safe_days == []


# --- Every path ---------------------------------------------------------------------------------


@pytest.fixture
def sw(world: PersonaWorld) -> SupportWorld:
    return build_support_world(world)


def _own_rules(sw: SupportWorld, **fields: Any) -> None:
    SafeContactRules.objects.filter(case_file=sw.case_file).update(**fields)


@pytest.mark.django_db
def test_adult_phone_call_leaving_a_message_is_refused_without_a_reason(sw: SupportWorld) -> None:
    # The reported failure: "phone call -> left a message" saved although the rules say "do not
    # leave voicemail".
    _own_rules(sw, safe_channels=["phone"], voicemail_safe=False)
    case = open_adult_case(sw)
    with pytest.raises(UnsafeChannel, match="Voicemail is not marked safe"):
        contact_attempt_record(
            case=case,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.MESSAGE_LEFT,
            recorded_by=sw.adult_worker,
        )
    assert not ContactAttempt.objects.exists()
    assert not SafeContactOverride.objects.exists()
    attempt = contact_attempt_record(
        case=case,
        channel=ContactChannel.PHONE,
        outcome=ContactOutcome.MESSAGE_LEFT,
        recorded_by=sw.adult_worker,
        unsafe_channel_reason="She texted from a new phone asking us to leave a message",
    )
    override = SafeContactOverride.objects.get()
    assert override.rules == [Code.VOICEMAIL]
    assert override.service == ContactService.ADULT
    assert override.organisation_id == sw.adult_worker.organisation_id
    assert override.case_event.data["contact_attempt_id"] == str(attempt.pk)
    assert "against the safe-contact rules" in override.case_event.summary
    # The manager of the worker's provider sees it; the SPA manager and another provider's don't.
    assert list(safe_contact_overrides_for_manager(user=sw.adult_manager)) == [override]
    assert not safe_contact_overrides_for_manager(user=sw.world.spa_manager).exists()
    assert not safe_contact_overrides_for_manager(user=sw.cyp_manager).exists()
    assert not safe_contact_overrides_for_manager(user=sw.adult_worker).exists()


@pytest.mark.django_db
def test_a_text_or_email_session_warns_when_texts_and_emails_are_unsafe(sw: SupportWorld) -> None:
    _own_rules(sw, safe_channels=["phone"], text_safe=False)
    case = open_adult_case(sw)
    today = timezone.localdate()
    with pytest.raises(UnsafeChannel, match="Text messages are not marked safe"):
        adult_session_record(
            case=case,
            occurred_on=today,
            mode=SessionMode.MESSAGE,
            duration_minutes=20,
            recorded_by=sw.adult_worker,
        )
    assert not SessionLog.objects.exists()
    adult_session_record(
        case=case,
        occurred_on=today,
        mode=SessionMode.MESSAGE,
        duration_minutes=20,
        recorded_by=sw.adult_worker,
        unsafe_channel_reason="She emailed first from her work address",
    )
    assert SafeContactOverride.objects.get().rules == [Code.TEXT, Code.CHANNEL]
    # A phone session is within the rules: nothing asked.
    adult_session_record(
        case=case,
        occurred_on=today,
        mode=SessionMode.PHONE,
        duration_minutes=20,
        recorded_by=sw.adult_worker,
    )
    assert SafeContactOverride.objects.count() == 1


@pytest.mark.django_db
def test_a_cyp_session_on_a_day_that_is_not_safe_needs_a_reason(sw: SupportWorld) -> None:
    _own_rules(sw, safe_channels=["phone"], safe_days=[0])  # Mondays only
    with time_machine.travel(at(2026, 3, 9, 9)):
        case = open_cyp_case(sw)
    thursday = time_machine.travel(at(2026, 3, 12, 12))
    refused = pytest.raises(UnsafeChannel, match="Tuesday is not one of this person's safe days")
    with thursday, refused:
        cyp_session_record(
            case=case,
            function="coordination",
            occurred_on=dt.date(2026, 3, 10),
            mode=SessionMode.PHONE,
            duration_minutes=30,
            recorded_by=sw.cyp_worker,
        )


@pytest.mark.django_db
def test_an_adult_attempt_outside_the_safe_times_needs_a_reason(sw: SupportWorld) -> None:
    _own_rules(sw, safe_channels=["phone"], safe_windows=[["10:00", "12:00"]])
    with time_machine.travel(at(2026, 3, 10, 9)):
        case = open_adult_case(sw)
    with time_machine.travel(at(2026, 3, 10, 23, 55)):
        with pytest.raises(UnsafeChannel, match="outside this person's safe times"):
            contact_attempt_record(
                case=case,
                channel=ContactChannel.PHONE,
                outcome=ContactOutcome.NO_ANSWER,
                recorded_by=sw.adult_worker,
                attempted_at=at(2026, 3, 10, 23, 50),
            )
        contact_attempt_record(
            case=case,
            channel=ContactChannel.PHONE,
            outcome=ContactOutcome.NO_ANSWER,
            recorded_by=sw.adult_worker,
            attempted_at=at(2026, 3, 10, 11),
        )


@pytest.mark.django_db
def test_spa_attempt_at_2350_is_flagged_against_safe_times_10am_to_12pm() -> None:
    worker = staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)
    manager = staff("mo.manager@spa.example.org", Role.SPA_MANAGER)
    with time_machine.travel(at(2026, 3, 10, 23, 40), tick=False):
        referral = make_referral()
    SafeContactRules.objects.filter(case_file=referral.case_file).update(
        safe_times="10am\u201312pm", **safe_times_fields("10am\u201312pm")
    )
    with time_machine.travel(at(2026, 3, 10, 23, 55), tick=False):
        with pytest.raises(UnsafeContact, match="11:50pm on Tuesday is outside"):
            referral_contact_attempt_record(
                referral=referral,
                user=worker,
                channel=SpaContactChannel.PHONE,
                outcome=SpaContactOutcome.NO_ANSWER,
                attempted_at=at(2026, 3, 10, 23, 50),
            )
        referral_contact_attempt_record(
            referral=referral,
            user=worker,
            channel=SpaContactChannel.PHONE,
            outcome=SpaContactOutcome.NO_ANSWER,
            attempted_at=at(2026, 3, 10, 23, 50),
            unsafe_channel_reason="Police asked us to call tonight: the risk is imminent",
        )
    override = SafeContactOverride.objects.get()
    assert override.service == ContactService.SPA
    assert override.rules == [Code.TIME]
    assert list(safe_contact_overrides_for_manager(user=manager)) == [override]
    event = CaseEvent.objects.get(kind="referral_contact_attempt")
    assert event.data["rules_broken"] == [Code.TIME]


@pytest.mark.django_db
def test_spa_someone_else_answering_when_only_the_survivor_may() -> None:
    worker = staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)
    referral = make_referral()
    SafeContactRules.objects.filter(case_file=referral.case_file).update(
        who_may_answer=WhoMayAnswer.SURVIVOR_ONLY
    )
    with pytest.raises(UnsafeContact, match="Only the survivor may answer"):
        referral_contact_attempt_record(
            referral=referral,
            user=worker,
            channel=SpaContactChannel.PHONE,
            outcome=SpaContactOutcome.SPOKE_TO_THIRD_PARTY,
        )


@pytest.mark.django_db
def test_a_contractor_booking_a_visit_outside_the_safe_times_or_by_an_unsafe_channel() -> None:
    w = build_works_world()
    job = security_job_allocate(
        case_file=works_case_file(w.kent, w.thanet), priority="standard", allocated_by=w.spa_worker
    )
    SafeContactRules.objects.filter(case_file=job.case_file).update(
        safe_channels=["phone"], safe_windows=[["10:00", "14:00"]], safe_days=[0, 1, 2, 3, 4]
    )
    contractor = w.acme_user
    evening = at(2099, 1, 5, 19)  # a Monday evening
    with pytest.raises(UnsafeVisit, match="outside this person's safe times"):
        security_job_book_survey(
            job=job, actor=contractor, booked_for=evening, arranged_via="phone"
        )
    with pytest.raises(UnsafeVisit, match="not marked safe"):
        security_job_book_survey(
            job=job, actor=contractor, booked_for=at(2099, 1, 5, 11), arranged_via="email"
        )
    booked = security_job_book_survey(
        job=job, actor=contractor, booked_for=at(2099, 1, 5, 11), arranged_via="phone"
    )
    assert booked.status == JobStatus.SURVEY_BOOKED
    assert not SafeContactOverride.objects.exists()
    security_job_book_survey(
        job=job,
        actor=contractor,
        booked_for=evening,
        arranged_via="phone",
        unsafe_contact_reason="She works days and asked for an evening visit",
    )
    override = SafeContactOverride.objects.get()
    assert override.service == ContactService.WORKS
    assert override.rules == [Code.TIME]


@pytest.mark.django_db
def test_the_timeline_shows_the_reason_and_the_manager_page_lists_it(
    sw: SupportWorld, client: Any
) -> None:
    case = open_adult_case(sw)
    contact_attempt_record(
        case=case,
        channel=ContactChannel.EMAIL,
        outcome=ContactOutcome.NO_ANSWER,
        recorded_by=sw.adult_worker,
        unsafe_channel_reason="Asked on the phone to email the leaflet",
    )
    sign_in(client, sw.adult_worker)
    page = client.get(reverse("support:adult-detail", kwargs={"case_id": case.pk}))
    assert "Reason given: Asked on the phone to email the leaflet" in page.content.decode()
    client.logout()
    sign_in(client, sw.adult_manager)
    listing = client.get(reverse("casefile:contact-overrides")).content.decode()
    assert "Asked on the phone to email the leaflet" in listing
    assert case.case_file.reference in listing
    client.logout()
    sign_in(client, sw.world.spa_manager)
    listing = client.get(reverse("casefile:contact-overrides")).content.decode()
    assert "Asked on the phone" not in listing


@pytest.mark.django_db
def test_the_safe_contact_panel_shows_the_structured_times(sw: SupportWorld, client: Any) -> None:
    _own_rules(
        sw,
        safe_times="Weekdays 10am to 12pm",
        who_may_answer=WhoMayAnswer.SURVIVOR_ONLY,
        **safe_times_fields("Weekdays 10am to 12pm"),
    )
    case = open_adult_case(sw)
    sign_in(client, sw.adult_worker)
    page = client.get(reverse("support:adult-session", kwargs={"case_id": case.pk}))
    html = page.content.decode()
    assert "Contact only at the safe times: 10am to midday, weekdays (monday to friday)." in html
    assert "If anyone but the survivor answers" in html
    assert "Why you went ahead against the safe-contact rules" in html
