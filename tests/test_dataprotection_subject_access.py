"""Subject access (safer/dataprotection/subject_access.py and its pages): the export holds what
SAFER holds about the person, third parties marked for redaction, in a PDF (read back with
pdftotext) and JSON; a second manager approves; downloads are logged; another authority's person
is 404."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from safer.audit.models import AccessAction, AccessLog
from safer.casefile.models import HouseholdRole, Person
from safer.dataprotection.models import SarStatus, SubjectAccessRequest
from safer.dataprotection.subject_access import (
    SubjectAccessError,
    one_calendar_month_after,
    subject_access_export_generate,
    subject_access_release_approve,
    subject_access_request_record,
    working_days_left,
)
from safer.workdays import LOCAL_TZ
from tests.factories import build_persona_world
from tests.helpers import sign_in
from tests.test_leak_markers import _marker_case
from tests.test_support_helpers import reference_data

pytestmark = pytest.mark.django_db

TUESDAY = dt.datetime(2026, 11, 10, 10, 30, tzinfo=LOCAL_TZ)


@pytest.fixture(autouse=True)
def private_storage(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def _pdf_text(content: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],  # noqa: S607 (poppler-utils, installed by CI)
        input=content,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode()


def _items(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for s in document["sections"] for r in s["records"] for i in r["items"]]


def test_one_calendar_month_and_working_days_left() -> None:
    assert one_calendar_month_after(dt.date(2026, 1, 31)) == dt.date(2026, 2, 28)
    assert one_calendar_month_after(dt.date(2026, 12, 4)) == dt.date(2027, 1, 4)
    sar = SubjectAccessRequest(due_on=dt.date(2026, 12, 31))
    # From Friday 18 December: 21, 22, 23, 24, 29, 30, 31 (Christmas and Boxing Day are not).
    assert working_days_left(sar, today=dt.date(2026, 12, 18)) == 7
    assert working_days_left(sar, today=dt.date(2027, 1, 5)) < 0


@time_machine.travel(TUESDAY, tick=True)
def test_export_holds_the_persons_records_with_third_parties_marked_for_redaction() -> None:
    reference_data()
    world = build_persona_world()
    made = _marker_case(world)
    case_file = made["case_file"]
    manager, second = world.spa_manager, world.medway_spa_manager
    # Someone looked at the case: the access log must say so in the export.
    client = sign_in(Client(), world.spa_triage)
    assert client.get(reverse("casefile:detail", args=[case_file.pk])).status_code == 200

    sar = subject_access_request_record(
        case_file=case_file,
        person=case_file.survivor,
        requested_by_description="The survivor, by phone",
        received_on=dt.date(2026, 11, 9),
        by=manager,
    )
    assert sar.due_on == dt.date(2026, 12, 9)
    sar = subject_access_export_generate(sar=sar, by=manager)
    assert sar.status == SarStatus.GENERATED

    document = json.loads(sar.json.read())
    items = _items(document)
    by_value = {i["value"]: i for i in items}
    # The survivor's own data is released as it is.
    assert by_value["Mkrsurvgiven"]["redact"] is False
    assert by_value["07700 900917"]["redact"] is False
    # The child (another household member) and the perpetrator are third parties.
    child = next(i for i in items if "Mkrchildname" in i["value"])
    assert child["redact"] is True
    assert child["redaction_reason"].startswith("Third party: another member")
    perpetrator = next(i for i in items if "Mkrperpname" in i["value"])
    assert perpetrator["redact"] is True
    assert "alleged to have caused harm" in perpetrator["redaction_reason"]
    # A staff note that may name others is marked for review.
    note = next(i for i in items if "Mkrcontactnotes" in i["value"])
    assert note["redact"] is True
    assert document["items_marked_for_redaction"] == sar.redactions > 0
    # Referrals, risk assessment answers, jobs and support records are all there.
    titles = {r["title"] for s in document["sections"] for r in s["records"]}
    assert {f"Referral {made['referral'].reference}", f"Security job {made['job'].reference}"} <= (
        titles
    )
    assert f"Adult support case {made['adult'].reference}" in titles
    access = next(s for s in document["sections"] if s["title"] == "Access log")
    assert any(world.spa_triage.email in i["value"] for i in access["records"][0]["items"])

    text = _pdf_text(sar.pdf.read())
    assert "Mkrsurvgiven" in text
    marked = [line for line in text.splitlines() if "Mkrchildname" in line]
    assert marked
    # The reason sits just above the value in the same cell.
    assert "Marked for redaction: Third party: another member of the household" in text

    with pytest.raises(SubjectAccessError, match="Someone other than"):
        subject_access_release_approve(sar=sar, by=manager)
    sar = subject_access_release_approve(sar=sar, by=second)
    assert (sar.status, sar.approved_by) == (SarStatus.APPROVED, second)
    with pytest.raises(SubjectAccessError):
        subject_access_export_generate(sar=sar, by=manager)
    kinds = set(case_file.timeline.values_list("kind", flat=True))
    assert {"subject_access_recorded", "subject_access_generated", "subject_access_approved"} <= (
        kinds
    )


def test_a_child_gets_their_own_records_and_not_the_survivors() -> None:
    reference_data()
    world = build_persona_world()
    with time_machine.travel(TUESDAY, tick=True):
        made = _marker_case(world)
        case_file = made["case_file"]
        child = Person.objects.get(
            household=case_file.household, household_role=HouseholdRole.CHILD
        )
        sar = subject_access_request_record(
            case_file=case_file,
            person=child,
            requested_by_description="The child's mother, with parental responsibility",
            received_on=dt.date(2026, 11, 10),
            by=world.spa_manager,
        )
        sar = subject_access_export_generate(sar=sar, by=world.spa_manager)
    items = _items(json.loads(sar.json.read()))
    assert any(i["value"] == "Mkrchildname" and not i["redact"] for i in items)
    survivor = [i for i in items if "Mkrsurvgiven" in i["value"]]
    assert survivor
    assert all(i["redact"] for i in survivor)
    assert not any("Mkrperpname" in i["value"] for i in items)


def test_pages_record_generate_approve_download_and_another_authority_is_404() -> None:
    reference_data()
    world = build_persona_world()
    case_file = world.own_case
    manager = sign_in(Client(), world.spa_manager)
    url = reverse("dataprotection:subject-access-new", args=[case_file.pk])
    assert "Record a subject access request" in manager.get(url).content.decode()
    today = timezone.localdate()
    response = manager.post(
        url,
        {
            "person": str(case_file.survivor_id),
            "requested_by": "The survivor, in person",
            "received_on_0": today.day,
            "received_on_1": today.month,
            "received_on_2": today.year,
        },
    )
    sar = SubjectAccessRequest.objects.get(case_file=case_file)
    assert response.status_code == 302
    detail = reverse("dataprotection:subject-access-detail", args=[sar.pk])
    manager.post(reverse("dataprotection:subject-access-generate", args=[sar.pk]))
    page = manager.get(detail).content.decode()
    assert "another SPA manager must approve it" in page
    download = reverse("dataprotection:subject-access-download", args=[sar.pk, "pdf"])
    approve = reverse("dataprotection:subject-access-approve", args=[sar.pk])
    assert manager.get(download).status_code == 404  # not approved yet

    # The second manager must be in scope too: Medway's manager gets 404 on Kent's request.
    medway = sign_in(Client(), world.medway_spa_manager)
    assert medway.get(detail).status_code == 404
    assert medway.post(approve).status_code == 404
    medway_case = reverse("dataprotection:subject-access-new", args=[world.other_authority_case.pk])
    assert manager.get(medway_case).status_code == 404

    SubjectAccessRequest.objects.filter(pk=sar.pk).update(generated_by=world.medway_spa_manager)
    manager.post(approve)
    sar.refresh_from_db()
    assert sar.status == SarStatus.APPROVED
    response = manager.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(
        action=AccessAction.DOWNLOAD, record_id=str(sar.pk), user=world.spa_manager
    ).exists()
