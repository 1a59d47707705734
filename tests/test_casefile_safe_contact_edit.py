"""Changing the survivor's safe-contact arrangements after the referral (a new number, an email
the person causing harm found, safe times that moved): the service's rules, the timeline entry
that names what changed without the values, the edit conflict, and the page every worker on the
case reaches from the safe-contact panel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from safer.casefile.contact import Code, contact_check
from safer.casefile.models import CaseEvent, CaseStatus, ContactChannel, SafeContactRules
from safer.casefile.services import SafeContactRulesRefused, safe_contact_rules_update
from safer.concurrency import EditConflict
from safer.workdays import LOCAL_TZ
from tests.factories import PersonaWorld, build_persona_world
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

OLD_PHONE = "07700 900123"
NEW_PHONE = "07700 900456"


def arrangements(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "phone": NEW_PHONE,
        "email": "",
        "safe_channels": [ContactChannel.PHONE],
        "voicemail_safe": False,
        "text_safe": False,
        "safe_times": "Weekdays 10am to 12pm",
        "who_may_answer": "survivor_only",
        "alternative_contact": "",
        "organisation_name_may_be_used": False,
        "notes": "",
    }
    values.update(changes)
    return values


@pytest.fixture
def world() -> PersonaWorld:
    world = build_persona_world()
    SafeContactRules.objects.update_or_create(
        case_file=world.own_case,
        defaults={"phone": OLD_PHONE, "safe_channels": [ContactChannel.PHONE]},
    )
    return world


def test_a_change_holds_for_every_contact_check_and_the_timeline_names_only_what_changed(
    world: PersonaWorld,
) -> None:
    rules = world.own_case.safe_contact
    rules = safe_contact_rules_update(
        case_file=world.own_case,
        actor=world.adult_support_worker,
        expected_version=rules.version,
        **arrangements(),  # type: ignore[arg-type]
    )
    assert rules.phone == NEW_PHONE
    assert rules.safe_windows == [["10:00", "12:00"]]
    assert rules.safe_days == [0, 1, 2, 3, 4]
    evening = dt.datetime(2026, 12, 7, 19, 0, tzinfo=LOCAL_TZ)  # a Monday
    codes = {b.code for b in contact_check(rules, channels=[ContactChannel.PHONE], at=evening)}
    assert Code.TIME in codes
    event = CaseEvent.objects.get(case_file=world.own_case, kind="safe_contact_changed")
    assert event.actor == world.adult_support_worker
    assert "safe phone number" in event.summary
    assert "safe times" in event.summary
    assert NEW_PHONE not in event.summary
    assert NEW_PHONE not in str(event.data)
    assert "10am" not in event.summary


def test_text_messages_follow_the_yes_or_no_and_need_a_phone(world: PersonaWorld) -> None:
    rules = safe_contact_rules_update(
        case_file=world.own_case,
        actor=world.spa_triage,
        expected_version=None,
        **arrangements(text_safe=True),  # type: ignore[arg-type]
    )
    assert ContactChannel.TEXT in rules.safe_channels
    with pytest.raises(SafeContactRulesRefused) as refused:
        safe_contact_rules_update(
            case_file=world.own_case,
            actor=world.spa_triage,
            expected_version=None,
            **arrangements(phone="", safe_channels=[], text_safe=True),  # type: ignore[arg-type]
        )
    assert refused.value.field == "phone"
    with pytest.raises(SafeContactRulesRefused) as refused:
        safe_contact_rules_update(
            case_file=world.own_case,
            actor=world.spa_triage,
            expected_version=None,
            **arrangements(safe_channels=[ContactChannel.EMAIL]),  # type: ignore[arg-type]
        )
    assert refused.value.field == "email"


def test_a_stale_edit_is_refused_and_an_unchanged_save_records_nothing(
    world: PersonaWorld,
) -> None:
    read_at = world.own_case.safe_contact.version
    safe_contact_rules_update(
        case_file=world.own_case,
        actor=world.spa_triage,
        expected_version=read_at,
        **arrangements(),  # type: ignore[arg-type]
    )
    with pytest.raises(EditConflict):
        safe_contact_rules_update(
            case_file=world.own_case,
            actor=world.adult_support_worker,
            expected_version=read_at,
            **arrangements(phone="07700 900789"),  # type: ignore[arg-type]
        )
    assert SafeContactRules.objects.get(case_file=world.own_case).phone == NEW_PHONE
    events = CaseEvent.objects.filter(case_file=world.own_case, kind="safe_contact_changed")
    assert events.count() == 1
    current = SafeContactRules.objects.get(case_file=world.own_case).version
    safe_contact_rules_update(
        case_file=world.own_case,
        actor=world.spa_triage,
        expected_version=current,
        **arrangements(),  # type: ignore[arg-type]
    )
    assert events.count() == 1


def test_a_closed_case_keeps_its_arrangements(world: PersonaWorld) -> None:
    world.own_case.status = CaseStatus.CLOSED
    world.own_case.save(update_fields=["status"])
    with pytest.raises(SafeContactRulesRefused):
        safe_contact_rules_update(
            case_file=world.own_case,
            actor=world.spa_triage,
            expected_version=None,
            **arrangements(),  # type: ignore[arg-type]
        )


def test_a_worker_changes_the_arrangements_from_the_page_and_returns_where_they_were(
    world: PersonaWorld, client: Client
) -> None:
    sign_in(client, world.adult_support_worker)
    detail = reverse("casefile:detail", kwargs={"case_file_id": world.own_case.id})
    page = client.get(detail)
    assert b"Change safe-contact arrangements" in page.content
    url = reverse("casefile:safe-contact-edit", kwargs={"case_file_id": world.own_case.id})
    form = client.get(url, {"next": detail})
    assert form.status_code == 200
    assert OLD_PHONE.encode() in form.content  # what is stored now, ready to change
    version = SafeContactRules.objects.get(case_file=world.own_case).version
    response = client.post(
        url,
        {
            "version": version,
            "next": detail,
            "safe_channels": [ContactChannel.PHONE],
            "phone": NEW_PHONE,
            "voicemail_safe": "no",
            "text_safe": "no",
            "safe_times": "Weekdays 10am to 12pm",
            "who_may_answer": "survivor_only",
            "organisation_name_may_be_used": "no",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == detail
    assert SafeContactRules.objects.get(case_file=world.own_case).phone == NEW_PHONE


def test_the_page_refuses_bad_input_and_an_outside_return_address(
    world: PersonaWorld, client: Client
) -> None:
    sign_in(client, world.spa_triage)
    url = reverse("casefile:safe-contact-edit", kwargs={"case_file_id": world.own_case.id})
    response = client.post(
        url,
        {
            "next": "https://evil.example/",
            "safe_channels": [ContactChannel.PHONE],
            "phone": "",
            "voicemail_safe": "no",
            "text_safe": "no",
            "organisation_name_may_be_used": "no",
        },
    )
    assert response.status_code == 400
    assert b"Enter the safe phone number" in response.content
    assert b"evil.example" not in response.content
    assert SafeContactRules.objects.get(case_file=world.own_case).phone == OLD_PHONE


def test_the_page_answers_not_found_for_another_organisations_case(
    world: PersonaWorld, client: Client
) -> None:
    sign_in(client, world.adult_support_worker)
    url = reverse("casefile:safe-contact-edit", kwargs={"case_file_id": world.other_org_case.id})
    assert client.get(url).status_code == 404
