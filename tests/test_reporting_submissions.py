"""Submitted returns are records: who sent them, when and to whom, with cells and files frozen
(hashes recorded and checked); a later run of the same return is the next version and lists each
published cell that changed, old and new, and the records entered or corrected since."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from referrals.models import ReferralStatus
from reporting.exceptions import ReportRequestError
from reporting.models import ReportKind, ReportRun, ReturnSubmission
from reporting.periods import Period
from reporting.services import (
    report_run_request,
    return_submission_record,
    return_submission_verify,
)
from reporting.tasks import report_run_generate_task
from safer.accounts.roles import Role
from safer.templatetags.safer_format import govuk_iso_datetime
from tests.factories import UserFactory
from tests.helpers import sign_in
from tests.test_reporting_data import Dataset, at, build_dataset
from tests.test_reporting_views import commissioner_of

Q1 = Period.parse("2025-26-Q1")


@pytest.fixture
def dataset(db: None) -> Dataset:
    return build_dataset()


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


def produce(data: Dataset, user: Any, period: Period = Q1) -> ReportRun:
    run = report_run_request(
        kind=ReportKind.QUARTERLY_GRANT, period=period, authorities=[data.kent], requested_by=user
    )
    assert report_run_generate_task(str(run.pk)) == "succeeded"
    run.refresh_from_db()
    return run


def cell(run: ReportRun, key: str) -> dict[str, Any]:
    return next(c for c in run.cells if c["key"] == key)


def late_referral(data: Dataset) -> Any:
    """A referral received in Q1 but entered after the Q1 return was sent."""
    from tests.test_reporting_data import Builder

    builder = Builder.__new__(Builder)
    builder.data = data
    builder.counter = 900
    return builder.referral(
        "late-1",
        "H1",
        at(2025, 5, 20),
        decided=at(2025, 5, 21),
        status=ReferralStatus.ACCEPTED,
    )


def test_a_run_keeps_its_cells_with_what_the_published_copy_shows(dataset: Dataset) -> None:
    run = produce(dataset, commissioner_of(dataset.kent))
    received = cell(run, "referrals/received/0")
    assert received["row"] == "Referrals received"
    assert int(received["value"]) > 0
    assert received["shown"] == (
        "<5" if int(received["value"]) < 5 else f"{int(received['value']):,}"
    )
    assert run.version == 1
    assert run.restates is None
    assert len(run.cells_sha256) == 64
    assert run.record_marks["referrals.ReferralEvent"] > 0


def test_submitting_freezes_the_return_and_records_who_when_and_to_whom(
    dataset: Dataset,
) -> None:
    commissioner = commissioner_of(dataset.kent)
    run = produce(dataset, commissioner)
    submission = return_submission_record(
        run=run, submitted_by=commissioner, submitted_to="MHCLG (DELTA)"
    )
    assert (submission.version, submission.submitted_to) == (1, "MHCLG (DELTA)")
    assert submission.submitted_by == commissioner
    assert submission.files_sha256 == {o.format: o.sha256 for o in run.outputs.all()}
    assert submission.cells_sha256 == run.cells_sha256
    assert return_submission_verify(submission=submission) is True
    # A second submission of the same run is refused; the worker never produces it again.
    with pytest.raises(ReportRequestError, match="already been marked"):
        return_submission_record(run=run, submitted_by=commissioner, submitted_to="again")
    assert report_run_generate_task(str(run.pk)) == "skipped"
    # Tampering with a stored file shows on the check.
    output = run.outputs.get(format="csv")
    with output.file.open("ab") as handle:
        handle.write(b"1")
    assert return_submission_verify(submission=submission) is False


def test_a_rerun_after_a_late_entry_restates_the_changed_cell_and_names_the_record(
    dataset: Dataset,
) -> None:
    commissioner = commissioner_of(dataset.kent)
    first = produce(dataset, commissioner)
    submission = return_submission_record(
        run=first, submitted_by=commissioner, submitted_to="MHCLG (DELTA)"
    )
    before = int(cell(first, "referrals/received/0")["value"])
    referral = late_referral(dataset)

    second = produce(dataset, commissioner)
    assert second.version == 2
    assert second.restates == submission
    changes = {c["key"]: c for c in second.restatement["changes"]}
    received = changes["referrals/received/0"]
    assert received["row"] == "Referrals received"
    assert received["old"] == cell(first, "referrals/received/0")["shown"]
    assert int(cell(second, "referrals/received/0")["value"]) == before + 1
    assert received["new"] == cell(second, "referrals/received/0")["shown"]
    assert "referrals/accepted/0" in changes or before + 1 < 5
    records = second.restatement["records"]
    assert [(r["kind"], r["reference"], r["change"]) for r in records] == [
        ("Referral", referral.reference, "Entered late")
    ]
    # The submitted version is untouched.
    first.refresh_from_db()
    assert first.cells_sha256 == submission.cells_sha256
    assert return_submission_verify(submission=submission) is True

    # Submitting the new version makes it version 2; a rerun after that restates version 2.
    second_submission = return_submission_record(
        run=second, submitted_by=commissioner, submitted_to="MHCLG (DELTA)"
    )
    assert second_submission.version == 2
    third = produce(dataset, commissioner)
    assert (third.version, third.restates) == (3, second_submission)
    # Nothing was entered since: no figure moved (a cell may only be hidden or shown
    # differently, as suppression now also weighs version 2, which was published).
    assert all(
        "[c]" in (c["old"], c["new"]) or "<5" in (c["old"], c["new"])
        for c in third.restatement["changes"]
    )
    assert third.restatement["records"] == []


def test_an_older_run_cannot_be_submitted_after_a_newer_version(dataset: Dataset) -> None:
    commissioner = commissioner_of(dataset.kent)
    older = produce(dataset, commissioner)
    newer = produce(dataset, commissioner)
    return_submission_record(run=newer, submitted_by=commissioner, submitted_to="MHCLG")
    with pytest.raises(ReportRequestError, match="already submitted"):
        return_submission_record(run=older, submitted_by=commissioner, submitted_to="MHCLG")


def test_commissioner_and_auditor_see_the_restatement_pages(
    dataset: Dataset, client: Client
) -> None:
    commissioner = commissioner_of(dataset.kent)
    first = produce(dataset, commissioner)
    sign_in(client, commissioner)
    page = client.get(reverse("reporting:run-detail", kwargs={"run_id": first.pk}))
    assert "Mark as submitted" in page.content.decode()
    response = client.post(
        reverse("reporting:run-submit", kwargs={"run_id": first.pk}),
        {"submitted_to": "MHCLG (DELTA)", "note": ""},
    )
    submission = ReturnSubmission.objects.get(run=first)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "reporting:submission-detail", kwargs={"submission_id": submission.pk}
    )
    referral = late_referral(dataset)
    second = produce(dataset, commissioner)

    html = client.get(reverse("reporting:run-detail", kwargs={"run_id": second.pk})).content
    text = html.decode()
    assert "Version 2: what it restates" in text
    assert "Referrals received" in text
    assert referral.reference not in text  # a commissioner never sees a case reference
    # When the record was entered, in UK local time as every other time on the page.
    (record,) = second.restatement["records"]
    assert govuk_iso_datetime(record["at"]) in text

    auditor = UserFactory.create(
        organisation=commissioner.organisation, roles=[Role.AUDITOR], authorities=[dataset.kent]
    )
    auditor_client = sign_in(Client(), auditor)
    listing = auditor_client.get(reverse("reporting:submission-list")).content.decode()
    assert "MHCLG (DELTA)" in listing
    detail = auditor_client.get(
        reverse("reporting:submission-detail", kwargs={"submission_id": submission.pk})
    ).content.decode()
    assert "Unchanged" in detail
    assert "Referrals received" in detail
    assert referral.reference in detail  # the auditor sees which record

    # Another authority's auditor: 404, as for a record that does not exist.
    from tests.factories import MedwayFactory

    medway = MedwayFactory.create()
    stranger = UserFactory.create(roles=[Role.AUDITOR], authorities=[medway])
    response = sign_in(Client(), stranger).get(
        reverse("reporting:submission-detail", kwargs={"submission_id": submission.pk})
    )
    assert response.status_code == 404


def test_restatement_times_read_in_uk_local_time() -> None:
    """A run keeps its records' moments in UTC; pages show them in Europe/London (BST in
    summer, GMT in winter)."""
    assert govuk_iso_datetime("2025-07-01T09:30:00+00:00") == "1 July 2025 at 10:30am"
    assert govuk_iso_datetime("2025-12-01T23:30:00.123456+00:00") == "1 December 2025 at 11:30pm"
    assert govuk_iso_datetime("2025-03-30T00:59:00+00:00") == "30 March 2025 at 12:59am"
    assert govuk_iso_datetime("2025-03-30T01:00:00+00:00") == "30 March 2025 at 2am"
    assert govuk_iso_datetime("") == ""
