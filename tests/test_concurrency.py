"""No lost updates: two edits of one record from the same version end with one saved and the
other refused with who changed it, their input kept and what is stored now shown
(safer.concurrency). Services and pages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from referrals.models import Referral
from referrals.services.decisions import referral_eligibility_record
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.concurrency import EditConflict, version_claim
from security_works.models import JobPriority, SecurityJob
from security_works.services import security_job_access_notes_update, security_job_allocate
from support.models import AdultSupportCase, CypCase, SafetyPlan, SafetyPlanStatus
from support.services.adult import safety_plan_record
from support.services.cyp import exit_plan_record
from tests.helpers import sign_in
from tests.referrals_support import make_referral, staff
from tests.test_security_works_helpers import build_world, case_file
from tests.test_support_helpers import (
    SupportWorld,
    build_support_world,
    date_fields,
    days_ago,
    open_adult_case,
    open_cyp_case,
)

pytestmark = pytest.mark.django_db

FIRST = "Keep the phone charged; the neighbour at 12 has a key and will call 999."
SECOND = "Code word with sister is 'blue umbrella'; go to the safe room and lock it."


@pytest.fixture
def sw(world: object) -> SupportWorld:
    return build_support_world(world)  # type: ignore[arg-type]


@pytest.fixture
def private_storage(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


def _client(user: User) -> Client:
    return sign_in(Client(), user)


def _version_on_page(html: str) -> int:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "the form carries no version"
    return int(found.group(1))


# --- The compare-and-set ------------------------------------------------------------------------


def test_second_edit_from_the_same_version_is_refused_and_writes_nothing(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    read_at = case.version
    safety_plan_record(
        case=case,
        agreed_on=days_ago(0),
        plan=FIRST,
        created_by=sw.adult_worker,
        expected_version=read_at,
    )
    with pytest.raises(EditConflict) as refused:
        safety_plan_record(
            case=case,
            agreed_on=days_ago(0),
            plan=SECOND,
            created_by=sw.adult_manager,
            expected_version=read_at,
        )
    assert refused.value.edited_by == sw.adult_worker.full_name
    assert refused.value.version == read_at + 1
    assert refused.value.message.startswith(
        f"This record was changed by {sw.adult_worker.full_name} at "
    )
    plans = SafetyPlan.objects.filter(adult_case=case)
    assert [p.plan for p in plans] == [FIRST]  # the loser wrote nothing
    stored = AdultSupportCase.objects.get(pk=case.pk)
    assert (stored.version, stored.edited_by_id) == (read_at + 1, sw.adult_worker.pk)


def test_a_caller_without_a_version_always_claims_the_next_one(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    before = case.version
    version_claim(case, expected=None, by=None)
    version_claim(case, expected=None, by=sw.adult_worker)
    assert case.version == before + 2
    assert AdultSupportCase.objects.get(pk=case.pk).version == before + 2


def test_appending_a_session_does_not_change_the_version(sw: SupportWorld) -> None:
    from support.services.adult import adult_session_record

    case = open_adult_case(sw)
    before = AdultSupportCase.objects.get(pk=case.pk).version
    adult_session_record(
        case=case,
        occurred_on=days_ago(0),
        mode="face_to_face",
        duration_minutes=30,
        note="",
        recorded_by=sw.adult_worker,
    )
    assert AdultSupportCase.objects.get(pk=case.pk).version == before


def test_exit_plan_edits_conflict(sw: SupportWorld) -> None:
    case = open_cyp_case(sw)
    read_at = CypCase.objects.get(pk=case.pk).version
    exit_plan_record(
        case=case,
        planned_end_on=days_ago(-30),
        plan="Two more sessions, then a goodbye letter.",
        agreed_with_child=True,
        recorded_by=sw.cyp_worker,
        expected_version=read_at,
    )
    with pytest.raises(EditConflict):
        exit_plan_record(
            case=case,
            planned_end_on=days_ago(-60),
            plan="Six more sessions.",
            agreed_with_child=False,
            recorded_by=sw.cyp_manager,
            expected_version=read_at,
        )
    assert case.exit_plan.plan == "Two more sessions, then a goodbye letter."


def test_referral_eligibility_edits_conflict() -> None:
    referral = make_referral()
    spa = staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)
    read_at = referral.version
    referral_eligibility_record(
        referral=referral, user=spa, answers={"elig_consent": True}, expected_version=read_at
    )
    with pytest.raises(EditConflict):
        referral_eligibility_record(
            referral=referral, user=spa, answers={"elig_consent": False}, expected_version=read_at
        )
    assert Referral.objects.get(pk=referral.pk).elig_consent is True


# --- The pages ----------------------------------------------------------------------------------


def test_two_tabs_editing_the_safety_plan_one_saves_the_other_sees_the_conflict(
    sw: SupportWorld,
) -> None:
    """The issue's must-show: two concurrent edits of an adult support case through the pages."""
    case = open_adult_case(sw)
    url = reverse("support:adult-safety-plan", kwargs={"case_id": case.pk})
    worker, manager = _client(sw.adult_worker), _client(sw.adult_manager)
    worker_version = _version_on_page(worker.get(url).content.decode())
    manager_version = _version_on_page(manager.get(url).content.decode())
    assert worker_version == manager_version == case.version

    saved = worker.post(
        url, {"version": worker_version, "plan": FIRST, **date_fields("agreed_on", days_ago(0))}
    )
    assert saved.status_code == 302

    late = manager.post(
        url, {"version": manager_version, "plan": SECOND, **date_fields("agreed_on", days_ago(0))}
    )
    assert late.status_code == 409
    html = late.content.decode()
    assert f"This record was changed by {sw.adult_worker.full_name} at " in html
    assert "while you were editing" in html
    # Their input is kept in the form, and the other change is shown.
    assert ">" + SECOND.replace("'", "&#x27;") + "</textarea>" in html
    stored_panel = html.split('id="edit-conflict"', 1)[1].split("</dl>", 1)[0]
    assert FIRST in stored_panel
    assert "What is stored now" in html
    # Nothing was overwritten.
    current = SafetyPlan.objects.get(adult_case=case, status=SafetyPlanStatus.ACTIVE)
    assert current.plan == FIRST
    # The form now carries the stored version: saving again is a deliberate replacement.
    assert _version_on_page(html) == manager_version + 1
    again = manager.post(
        url,
        {
            "version": _version_on_page(html),
            "plan": SECOND,
            **date_fields("agreed_on", days_ago(0)),
        },
    )
    assert again.status_code == 302
    current = SafetyPlan.objects.get(adult_case=case, status=SafetyPlanStatus.ACTIVE)
    assert current.plan == SECOND
    assert SafetyPlan.objects.filter(adult_case=case).count() == 2  # the first plan is kept


def test_safety_plan_form_starts_from_the_current_plan(sw: SupportWorld) -> None:
    case = open_adult_case(sw)
    safety_plan_record(case=case, agreed_on=days_ago(1), plan=FIRST, created_by=sw.adult_worker)
    html = _client(sw.adult_worker).get(
        reverse("support:adult-safety-plan", kwargs={"case_id": case.pk})
    )
    assert f">{FIRST}</textarea>" in html.content.decode()


def test_access_notes_page_shows_the_conflict_and_keeps_the_notes(
    private_storage: None,
) -> None:
    w = build_world()
    job = security_job_allocate(
        case_file=case_file(w.kent, w.thanet),
        priority=JobPriority.STANDARD,
        allocated_by=w.spa_worker,
    )
    url = reverse("security_works:access-notes", kwargs={"job_id": job.pk})
    client = _client(w.spa_worker)
    read_at = _version_on_page(client.get(url).content.decode())
    security_job_access_notes_update(
        job=job, actor=w.spa_manager, access_notes="Side gate; dog in the garden."
    )
    late = client.post(url, {"version": read_at, "access_notes": "Park on the street."})
    assert late.status_code == 409
    html = late.content.decode()
    assert f"This record was changed by {w.spa_manager.full_name} at " in html
    assert "Park on the street.</textarea>" in html
    assert "Side gate; dog in the garden." in html.split('id="edit-conflict"', 1)[1]
    assert SecurityJob.objects.get(pk=job.pk).access_notes == "Side gate; dog in the garden."


def test_eligibility_checklist_conflict_on_the_referral_page() -> None:
    referral = make_referral()
    tina = staff("tina.triage@spa.example.org", Role.SPA_TRIAGE)
    mo = staff("mo.manager@spa.example.org", Role.SPA_MANAGER)
    client = _client(tina)
    detail = client.get(reverse("referrals:detail", kwargs={"referral_id": referral.pk}))
    read_at = _version_on_page(detail.content.decode())
    referral_eligibility_record(referral=referral, user=mo, answers={"elig_consent": True})
    late = client.post(
        reverse("referrals:eligibility", kwargs={"referral_id": referral.pk}),
        {"version": read_at, "elig_consent": "no", "elig_domestic_abuse": "yes"},
    )
    assert late.status_code == 409
    html = late.content.decode()
    assert f"This record was changed by {mo.full_name} at " in html
    stored = html.split('id="edit-conflict"', 1)[1].split("</dl>", 1)[0]
    assert "Yes" in stored
    # What this user ticked is still ticked.
    assert re.search(r'name="elig_domestic_abuse" value="yes"\s+checked', html) or (
        'value="yes" checked' in html
    )
    assert Referral.objects.get(pk=referral.pk).elig_consent is True
