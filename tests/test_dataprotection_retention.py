"""Retention (safer/dataprotection/retention.py): the marker case of the leak test, closed, then
time moved on past its retention period; the nightly task erases it from the tables, the change
history and the disk, the auditor sees the run with its counts, and a submitted return keeps
its figures. Plus the schedule's dates, legal holds, dry runs, and the refusal without the
database role."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models

from reporting.models import ReportKind, ReportOutput
from reporting.periods import Period
from reporting.services import report_run_request
from reporting.tasks import report_run_generate_task
from safer.audit.hardening import RETENTION_ROLE
from safer.casefile.models import CaseFile
from safer.dataprotection.models import (
    ErasedCaseFile,
    RecordType,
    RetentionRule,
    RetentionRun,
    RetentionRunCount,
    RunStatus,
)
from safer.dataprotection.retention import (
    LegalHoldError,
    legal_hold_lift,
    legal_hold_place,
    retention_due_on,
    retention_run,
)
from safer.dataprotection.tasks import retention_run_task
from safer.workdays import LOCAL_TZ
from security_works.documents import job_document_upload
from security_works.models import JobDocument
from tests.factories import PersonaWorld, build_persona_world
from tests.test_leak_markers import MARKERS, _close_everything, _marker_case
from tests.test_support_helpers import reference_data
from tests.test_uploads import png

pytestmark = pytest.mark.django_db

OPENED = dt.datetime(2026, 11, 10, 10, 30, tzinfo=LOCAL_TZ)
SEVEN_YEARS_ON = dt.datetime(2033, 12, 1, 2, 40, tzinfo=LOCAL_TZ)
ALL_MARKERS = tuple(m.lower() for values in MARKERS.values() for m in values)


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


@pytest.fixture
def retention_role() -> None:
    """The database role the DBA creates in production (docs/security.md). Created inside the
    test's transaction, so it is gone when the test ends and no other test sees it; the test
    database's user is a superuser, which pg_has_role counts as a member."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {RETENTION_ROLE} NOLOGIN")


def _closed_marker_case() -> tuple[PersonaWorld, dict[str, Any]]:
    reference_data()
    world = build_persona_world()
    with time_machine.travel(OPENED, tick=True):
        made = _marker_case(world)
        document = job_document_upload(
            job=made["job"],
            uploaded_by=world.contractor,
            kind="installation_photo",
            upload=SimpleUploadedFile("Mkrsurvfamily front door.png", png(20, 20), "image/png"),
        )
        made["document"] = document
        _close_everything(world, made)
    return world, made


def _marker_rows() -> list[str]:
    """Every text or JSON value in every table (history included) holding a marker."""
    found = []
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields):
            text = " ".join(str(v) for v in row).lower()
            hits = [m for m in ALL_MARKERS if m in text]
            if hits:
                found.append(f"{model._meta.label}: {hits}")
    return found


def test_the_schedule_is_seeded_for_every_record_type() -> None:
    rules = RetentionRule.objects.for_authority(None)
    assert {k: (r.measured_from, r.years) for k, r in rules.items()} == {
        RecordType.CLOSED_CASE: ("closure", 6),
        RecordType.CHILD_RECORD: ("birth", 25),
        RecordType.DECLINED_REFERRAL: ("decision", 2),
        RecordType.ADVICE_CONTACT: ("nothing_kept", 0),
    }


def test_expired_case_holds_no_personal_data_anywhere_and_the_return_keeps_its_figures(
    retention_role: None,
) -> None:
    _, made = _closed_marker_case()
    case_file: CaseFile = made["case_file"]
    stored = made["document"].file.name
    assert default_storage.exists(stored)
    assert _marker_rows(), "the markers must be there before the run, or this proves nothing"

    # A return submitted for the quarter the case was in, before anything is erased.
    with time_machine.travel(dt.datetime(2027, 1, 12, 9, 0, tzinfo=LOCAL_TZ), tick=True):
        run = report_run_request(
            kind=ReportKind.QUARTERLY_GRANT,
            period=Period.parse("2026-27-Q3"),
            authorities=[case_file.authority],
            requested_by=None,
        )
        assert report_run_generate_task(str(run.pk)) == "succeeded"
    before = {o.format: (o.sha256, o.file.read()) for o in ReportOutput.objects.filter(run=run)}

    # Closed on 10 November 2026: six years on is 10 November 2032; the child had no date of
    # birth, so the closed-case rule decides.
    assert retention_due_on(case_file=case_file) == dt.date(2032, 11, 10)

    with time_machine.travel(SEVEN_YEARS_ON, tick=True):
        retention_run_task()
        retention_run_task()  # beat asking twice on one day does nothing more

    nightly = RetentionRun.objects.get(dry_run=False)
    assert nightly.status == RunStatus.SUCCEEDED, nightly.error
    assert (nightly.case_files, nightly.as_of) == (1, SEVEN_YEARS_ON.date())
    assert ErasedCaseFile.objects.filter(case_file=case_file, run=nightly).exists()
    counts = dict(RetentionRunCount.objects.filter(run=nightly).values_list("record_type", "count"))
    assert counts["Case files"] == 1
    assert counts["People"] == 2  # the survivor and the child
    assert counts["Addresses"] == 1
    assert counts["Photos and documents"] == 1
    assert counts["Referrals"] == 1

    assert _marker_rows() == []
    assert not default_storage.exists(stored)
    assert not JobDocument.objects.filter(pk=made["document"].pk).exists()
    case_file.refresh_from_db()
    assert case_file.reference  # the trail can still be found
    assert case_file.timeline.filter(kind="retention_erased").exists()

    after = {o.format: (o.sha256, o.file.read()) for o in ReportOutput.objects.filter(run=run)}
    assert after == before


def test_a_legal_hold_stops_the_clock_until_it_is_lifted(retention_role: None) -> None:
    world, made = _closed_marker_case()
    case_file = made["case_file"]
    manager = world.spa_manager
    hold = legal_hold_place(
        case_file=case_file, reason="Civil claim notified by solicitors", by=manager
    )
    with pytest.raises(LegalHoldError):
        legal_hold_place(case_file=case_file, reason="A second hold for the same case", by=manager)
    assert case_file.timeline.filter(kind="legal_hold_placed", actor=manager).exists()

    with time_machine.travel(SEVEN_YEARS_ON, tick=True):
        held = retention_run(dry_run=False)
    assert (held.case_files, held.held) == (0, 1)
    assert _marker_rows()
    case_file.refresh_from_db()
    assert case_file.retention_until == dt.date(2032, 11, 10)  # kept true by the nightly run

    lifted = legal_hold_lift(
        case_file=case_file, reason="The claim was settled in 2033", by=manager
    )
    assert (lifted.pk, lifted.lifted_by) == (hold.pk, manager)
    with time_machine.travel(SEVEN_YEARS_ON, tick=True):
        after = retention_run(dry_run=False)
    assert (after.case_files, after.held) == (1, 0)
    assert _marker_rows() == []


def test_a_dry_run_counts_what_would_go_and_changes_nothing() -> None:
    world, made = _closed_marker_case()
    with time_machine.travel(SEVEN_YEARS_ON, tick=True):
        dry = retention_run(dry_run=True, by=world.system_admin)
    assert dry.status == RunStatus.SUCCEEDED
    assert (dry.case_files, dry.requested_by) == (1, world.system_admin)
    counts = dict(RetentionRunCount.objects.filter(run=dry).values_list("record_type", "count"))
    assert counts["People"] == 2
    assert counts["Photos and documents"] == 1
    assert not ErasedCaseFile.objects.exists()
    assert default_storage.exists(made["document"].file.name)
    assert _marker_rows()


def test_without_the_database_role_the_run_fails_and_changes_nothing() -> None:
    _closed_marker_case()
    with time_machine.travel(SEVEN_YEARS_ON, tick=True):
        run = retention_run(dry_run=False)
    assert run.status == RunStatus.FAILED
    assert RETENTION_ROLE in run.error
    assert not ErasedCaseFile.objects.exists()
    assert _marker_rows()


def test_nothing_is_due_before_the_period_ends_or_while_a_service_is_open() -> None:
    _, made = _closed_marker_case()
    with time_machine.travel(dt.datetime(2032, 11, 9, 12, 0, tzinfo=LOCAL_TZ)):
        assert retention_run(dry_run=True).case_files == 0
    case_file = made["case_file"]
    # A child's record with a date of birth is kept until the child is 25.
    child = made["cyp"].child
    child.date_of_birth = dt.date(2015, 3, 1)
    child.save(update_fields=["date_of_birth"])
    assert retention_due_on(case_file=case_file) == dt.date(2040, 3, 1)


def test_the_nightly_run_is_on_the_beat_schedule() -> None:
    from safer.celery import app

    entry = app.conf.beat_schedule["dataprotection-retention-run"]
    assert entry["task"] == "safer.dataprotection.tasks.retention_run_task"


def test_a_run_whose_worker_died_is_taken_over_and_a_failed_one_tried_again(
    retention_role: None,
) -> None:
    _, made = _closed_marker_case()
    key = f"retention:{SEVEN_YEARS_ON.date()}"
    with time_machine.travel(SEVEN_YEARS_ON - dt.timedelta(hours=2)):
        dead = RetentionRun.objects.create(schedule_key=key, as_of=SEVEN_YEARS_ON.date())
    with time_machine.travel(SEVEN_YEARS_ON, tick=True):
        retention_run_task()
    dead.refresh_from_db()
    assert (dead.status, dead.schedule_key) == (RunStatus.FAILED, None)
    assert "Interrupted" in dead.error
    finished = RetentionRun.objects.get(schedule_key=key)
    assert (finished.status, finished.case_files) == (RunStatus.SUCCEEDED, 1)
    assert ErasedCaseFile.objects.get(case_file=made["case_file"]).run == finished


def test_the_auditor_sees_the_counts_of_their_own_authority_only() -> None:
    from django.test import Client
    from django.urls import reverse

    from tests.helpers import sign_in

    world = build_persona_world()
    run = RetentionRun.objects.create(as_of=SEVEN_YEARS_ON.date(), status=RunStatus.SUCCEEDED)
    RetentionRunCount.objects.create(run=run, authority=world.kent, record_type="People", count=7)
    RetentionRunCount.objects.create(
        run=run, authority=world.medway, record_type="Addresses", count=3
    )
    auditor = sign_in(Client(), world.auditor)
    overview = auditor.get(reverse("dataprotection:retention")).content.decode()
    assert reverse("dataprotection:retention-run", args=[run.pk]) in overview
    assert "Run a dry run" not in overview  # the administrator's, not the auditor's
    page = auditor.get(reverse("dataprotection:retention-run", args=[run.pk])).content.decode()
    assert "People" in page
    assert "Addresses" not in page
    admin = sign_in(Client(), world.system_admin)
    page = admin.get(reverse("dataprotection:retention-run", args=[run.pk])).content.decode()
    assert "People" in page
    assert "Addresses" in page
