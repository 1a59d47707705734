"""Writes for reporting: requesting a run, the worker's claim, progress, completion and failure.

A run moves queued → running → succeeded | failed, only through these functions, each a
conditional UPDATE from the allowed states (a compare-and-set), so two workers given the same
run id cannot both produce it: one run id gives one set of files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from reporting.exceptions import ReportRequestError
from reporting.generate import RenderedFile
from reporting.models import (
    ReportKind,
    ReportOutput,
    ReportRun,
    ReturnSubmission,
    RunStatus,
)
from reporting.periods import QUARTER, YEAR, Period
from reporting.records import cells_sha256, restatement_between
from reporting.returns import TemplateMissing, template_for
from reporting.rollover import return_templates_roll_forward
from safer.accounts.models import User
from safer.organisations.models import CommissioningAuthority, Contract
from safer.outbox.services import outbox_enqueue

logger = logging.getLogger(__name__)

GENERATE_TASK = "reporting.tasks.report_run_generate_task"
NOTIFY_TASK = "reporting.tasks.report_ready_notify_task"
DASHBOARD_REFRESH_TASK = "reporting.tasks.dashboard_refresh_task"
# A claim older than this is a worker that died mid-run (the hard time limit has long passed):
# the redelivered task may take the run over.
STALE_CLAIM = dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2)


@transaction.atomic
def report_run_request(
    *,
    kind: str,
    period: Period,
    authorities: Sequence[CommissioningAuthority],
    requested_by: User | None,
    contract: Contract | None = None,
    includes_case_references: bool = False,
    schedule_key: str | None = None,
) -> ReportRun:
    """Record the request and hand it to the worker (through the outbox) in one transaction.

    Returns (grant returns) are suppressed: they leave the council. A contract KPI report is an
    internal report with exact figures; only a provider's or SPA manager's copy lists breaches by
    case reference.
    """
    if kind not in ReportKind.values:
        raise ReportRequestError("Choose a kind of report.")
    if not authorities:
        raise ReportRequestError("Choose at least one authority.")
    expected = YEAR if kind == ReportKind.ANNUAL_RETURN else QUARTER
    if period.kind != expected:
        raise ReportRequestError(
            "The annual return is for a financial year."
            if expected == YEAR
            else "This report is for a financial quarter."
        )
    template = None
    if kind == ReportKind.CONTRACT_KPI:
        if contract is None:
            raise ReportRequestError("Choose the contract.")
        if contract.authority_id not in {a.pk for a in authorities}:
            raise ReportRequestError("The contract belongs to another authority.")
        authorities = [a for a in authorities if a.pk == contract.authority_id]
    else:
        contract = None
        try:
            template = template_for(kind, period)
        except TemplateMissing as error:
            # A fresh install, or 1 April before beat's nightly roll-forward: derive and retry.
            return_templates_roll_forward()
            try:
                template = template_for(kind, period)
            except TemplateMissing:
                raise ReportRequestError(str(error)) from error
    if schedule_key and ReportRun.objects.filter(schedule_key=schedule_key).exists():
        return ReportRun.objects.get(schedule_key=schedule_key)
    run = ReportRun.objects.create(
        kind=kind,
        period_code=period.code,
        return_key=return_key_for(kind=kind, period=period, authorities=authorities),
        parameters={
            "period": period.code,
            "authority_ids": sorted(str(a.pk) for a in authorities),
            "contract_id": str(contract.pk) if contract else None,
        },
        contract=contract,
        template=template,
        requested_by=requested_by,
        schedule_key=schedule_key,
        suppressed=kind != ReportKind.CONTRACT_KPI,
        includes_case_references=kind == ReportKind.CONTRACT_KPI and includes_case_references,
    )
    run.authorities.set(authorities)
    outbox_enqueue(task_name=GENERATE_TASK, kwargs={"run_id": str(run.pk)})
    return run


def return_key_for(
    *, kind: str, period: Period, authorities: Sequence[CommissioningAuthority]
) -> str:
    """One return, whichever run made it: kind, period and the authorities (sorted ids)."""
    ids = ",".join(sorted(str(a.pk) for a in authorities))
    return f"{kind}|{period.code}|{ids}"


def report_run_claim(*, run_id: uuid.UUID | str, task_id: str | None = None) -> ReportRun | None:
    """Take the run for this worker: queued → running, or a stale running claim. None when the
    run is missing, finished, or being produced by another worker.

    ``task_id`` is the Celery message's id. A running claim held by the same id is taken over at
    once: a message is delivered again only when the worker that had it died before
    acknowledging it (acks_late, reject_on_worker_lost), so that attempt will never finish.
    Without this, a redelivered run would be skipped as "being produced" and stay running.
    """
    now = timezone.now()
    claimable = Q(status=RunStatus.QUEUED) | Q(
        status=RunStatus.RUNNING, started_at__lt=now - STALE_CLAIM
    )
    if task_id:
        claimable |= Q(status=RunStatus.RUNNING, claimed_by_task=task_id)
    try:
        run_uuid = uuid.UUID(str(run_id))
    except ValueError:
        return None
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().filter(claimable, pk=run_uuid).first()
        if run is None:
            return None
        run.status = RunStatus.RUNNING
        run.started_at = now
        run.attempts += 1
        run.progress = 5
        run.error = ""
        run.claimed_by_task = task_id or ""
        run.save(
            update_fields=[
                "status",
                "started_at",
                "attempts",
                "progress",
                "error",
                "claimed_by_task",
            ]
        )
    return run


def report_run_progress(*, run: ReportRun, progress: int) -> None:
    """Record progress (0-100) while this worker holds the claim."""
    ReportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, started_at=run.started_at).update(
        progress=max(0, min(100, progress))
    )


@transaction.atomic
def report_run_complete(
    *,
    run: ReportRun,
    files: Iterable[RenderedFile],
    cells: list[dict[str, Any]] | None = None,
    marks: dict[str, int] | None = None,
) -> bool:
    """Store the files and cells and mark the run ready, if this worker still holds the claim.

    Files of an earlier, interrupted attempt are replaced, so a run always has one file per
    format. A return already submitted for the same period and authorities makes this run its
    next version, with the restatement (changed cells, records behind them) stored on the run.
    A scheduled run tells the commissioners (through the outbox) that it is ready.
    """
    locked = (
        ReportRun.objects.select_for_update()
        .filter(pk=run.pk, status=RunStatus.RUNNING, started_at=run.started_at)
        .first()
    )
    if locked is None:
        return False
    if ReturnSubmission.objects.filter(run=locked).exists():
        return False  # a submitted run's files are frozen (never the case while running)
    locked.cells = cells or []
    locked.cells_sha256 = cells_sha256(locked.cells) if cells else ""
    locked.record_marks = marks or {}
    latest = (
        ReturnSubmission.objects.filter(return_key=locked.return_key)
        .exclude(return_key="")
        .select_related("run")
        .order_by("-version")
        .first()
    )
    if latest is not None:
        locked.version = latest.version + 1
        locked.restates = latest
        locked.restatement = restatement_between(
            submitted_cells=latest.run.cells,
            submitted_marks=latest.run.record_marks,
            cells=locked.cells,
            authority_ids=list(locked.authorities.values_list("pk", flat=True)),
        )
    for output in ReportOutput.objects.filter(run=locked):
        output.file.delete(save=False)
        output.delete()
    for rendered in files:
        output = ReportOutput(
            run=locked,
            format=rendered.format,
            filename=rendered.filename,
            size=len(rendered.content),
            sha256=hashlib.sha256(rendered.content).hexdigest(),
        )
        # A random stored name: the download view sets the friendly name.
        output.file.save(
            f"{uuid.uuid4().hex}.{rendered.format}", ContentFile(rendered.content), save=False
        )
        output.save()
    locked.status = RunStatus.SUCCEEDED
    locked.progress = 100
    locked.finished_at = timezone.now()
    locked.save(
        update_fields=[
            "status",
            "progress",
            "finished_at",
            "cells",
            "cells_sha256",
            "record_marks",
            "version",
            "restates",
            "restatement",
        ]
    )
    if locked.schedule_key:
        outbox_enqueue(task_name=NOTIFY_TASK, kwargs={"run_id": str(locked.pk)})
    if locked.kind != ReportKind.CONTRACT_KPI:
        # The return has just read the figures: refresh its authorities' dashboards from the
        # same data, so the two agree.
        for authority_id in sorted(locked.authorities.values_list("pk", flat=True)):
            outbox_enqueue(
                task_name=DASHBOARD_REFRESH_TASK, kwargs={"authority_id": str(authority_id)}
            )
    return True


@transaction.atomic
def dashboard_refresh_fan_out() -> int:
    """One refresh task per authority, through the outbox: each costs one authority's scope
    (not the whole table), any number of workers share them, and a broker outage loses none.
    Returns how many were asked for."""
    authority_ids = CommissioningAuthority.objects.order_by("pk").values_list("pk", flat=True)
    count = 0
    for authority_id in authority_ids:
        outbox_enqueue(task_name=DASHBOARD_REFRESH_TASK, kwargs={"authority_id": str(authority_id)})
        count += 1
    return count


def report_run_fail(*, run: ReportRun, error: BaseException | str) -> None:
    """Record a failure visibly: the run page says it failed; staff see the error."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    ReportRun.objects.filter(pk=run.pk, status__in=[RunStatus.RUNNING, RunStatus.QUEUED]).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error=text[:4000]
    )


def report_run_release(*, run: ReportRun, error: BaseException) -> None:
    """A transient failure: give the run back to the queue (the task retries it)."""
    ReportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, started_at=run.started_at).update(
        status=RunStatus.QUEUED,
        progress=0,
        error=f"Retrying after {type(error).__name__}: {error}"[:4000],
    )


def report_ready_notify(*, run_id: uuid.UUID | str) -> int:
    """Email the commissioners of the run's authorities that it is ready (a link, no figures).
    Claimed with a compare-and-set on ``notified_at``, so a redelivered task sends nothing."""
    from django.core.mail import EmailMessage

    from safer.accounts.roles import ROLE_GROUP_NAMES, Role

    claimed = ReportRun.objects.filter(
        pk=run_id, status=RunStatus.SUCCEEDED, notified_at__isnull=True
    ).update(notified_at=timezone.now())
    if not claimed:
        return 0
    run = ReportRun.objects.get(pk=run_id)
    recipients = sorted(
        set(
            User.objects.filter(
                is_active=True,
                groups__name=ROLE_GROUP_NAMES[Role.COMMISSIONER],
                authorities__in=run.authorities.all(),
            ).values_list("email", flat=True)
        )
    )
    if not recipients:
        return 0
    link = settings.SITE_URL + reverse("reporting:run-detail", kwargs={"run_id": run.pk})
    try:
        # Blind copies: commissioners of one authority need not learn each other's addresses.
        EmailMessage(
            subject=f"{settings.SERVICE_NAME}: {run.get_kind_display()} {run.period_code} is ready",
            body=(
                f"The {run.get_kind_display().lower()} for {run.period_code} is ready to "
                f"download (sign in first):\n\n{link}\n"
            ),
            bcc=recipients,
        ).send()
    except Exception:
        # Not sent: release the claim so the retried task sends it.
        ReportRun.objects.filter(pk=run.pk).update(notified_at=None)
        raise
    return len(recipients)


SUBMITTABLE = (ReportKind.QUARTERLY_GRANT, ReportKind.ANNUAL_RETURN)


@transaction.atomic
def return_submission_record(
    *, run: ReportRun, submitted_by: User, submitted_to: str, note: str = ""
) -> ReturnSubmission:
    """Mark a produced return as sent: who, when, to whom. Its cells and files are frozen from
    here: the hashes of both are recorded (and checked against the files), the run can never be
    produced again, and a later run of the same return becomes the next version.

    Only a published (suppressed) quarterly or annual return that is ready and not yet
    submitted; a run older than the latest version submitted cannot be sent after it.
    """
    locked = ReportRun.objects.select_for_update().get(pk=run.pk)
    if locked.kind not in SUBMITTABLE or not locked.suppressed:
        raise ReportRequestError("Only a quarterly update or an annual return can be submitted.")
    if locked.status != RunStatus.SUCCEEDED:
        raise ReportRequestError("The return is not ready yet.")
    if ReturnSubmission.objects.filter(run=locked).exists():
        raise ReportRequestError("This return has already been marked as submitted.")
    submitted_to = submitted_to.strip()
    if not submitted_to:
        raise ReportRequestError("Enter who the return was sent to.")
    latest = ReturnSubmission.objects.filter(return_key=locked.return_key).order_by("-version")
    previous = latest.select_for_update().first()
    if (
        previous is not None
        and previous.run.finished_at
        and locked.finished_at
        and (locked.finished_at < previous.run.finished_at)
    ):
        raise ReportRequestError(
            f"Version {previous.version} of this return, produced later, was already "
            "submitted. Submit a new run instead."
        )
    files: dict[str, str] = {}
    for output in ReportOutput.objects.filter(run=locked):
        with output.file.open("rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        if digest != output.sha256:
            raise ReportRequestError(
                "A file of this run does not match the one produced; request the return again."
            )
        files[output.format] = digest
    version = previous.version + 1 if previous else 1
    if locked.version != version:
        locked.version = version
        locked.save(update_fields=["version"])
    submission = ReturnSubmission.objects.create(
        run=locked,
        return_key=locked.return_key,
        version=version,
        submitted_by=submitted_by,
        submitted_to=submitted_to[:200],
        note=note,
        cells_sha256=locked.cells_sha256 or cells_sha256(locked.cells),
        files_sha256=files,
    )
    return submission


def return_submission_verify(*, submission: ReturnSubmission) -> bool:
    """Whether the stored files and cells still hash to what was recorded when it was sent."""
    if cells_sha256(submission.run.cells) != submission.cells_sha256:
        return False
    outputs = {o.format: o for o in ReportOutput.objects.filter(run=submission.run)}
    if set(outputs) != set(submission.files_sha256):
        return False
    for output_format, expected in submission.files_sha256.items():
        try:
            with outputs[output_format].file.open("rb") as handle:
                if hashlib.sha256(handle.read()).hexdigest() != expected:
                    return False
        except FileNotFoundError:
            return False
    return True
