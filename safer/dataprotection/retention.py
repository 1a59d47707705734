"""Retention: when a case file's records have reached the end of their period, and the run that
erases them (docs/security.md, "Retention"; decisions/0011-retention.md).

A case file is due on the latest of its anchors' ends: each record on it (a declined
referral, a closed job or support case, a child's record) gives a date its period runs from, and
the authority's ``RetentionRule`` for that kind of record says how many years. A record still open
keeps the whole case file; so does an active ``LegalHold``; so does another case file of the same
household that is not due yet (they share the address and the people).

Erasing blanks the personal fields of every registered model on the case file (the rows, and the
figures built from their codes, stay), deletes documents and photos with their files, and erases
the earlier change history of every row it touched. History tables are append-only; the one way
past their guard is the database role ``safer_audit_retention`` (``safer.audit.hardening``), which
the connection must be a member of: without it the run fails, having changed nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pgtrigger
from django.apps import apps
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone
from pghistory.models import Event

from safer.accounts.models import User
from safer.audit.hardening import RETENTION_ROLE
from safer.casefile.models import CaseFile, CaseStatus
from safer.casefile.services import case_event_record
from safer.dataprotection.models import (
    ErasedCaseFile,
    LegalHold,
    MeasuredFrom,
    RecordType,
    RetentionRule,
    RetentionRun,
    RetentionRunCount,
    RunStatus,
)
from safer.dataprotection.registry import Anchor, ErasableModel, anchor_sources, erasable_models
from safer.transitions import InvalidTransition

logger = logging.getLogger(__name__)


# Longer than the task's hard time limit (safer/dataprotection/tasks.py): a run still "running"
# after this has lost its worker.
STALE_AFTER = dt.timedelta(hours=1)


class RetentionRoleMissing(RuntimeError):
    """The database connection may not erase history: it is not a member of the retention role."""


class LegalHoldError(InvalidTransition):
    subject = "legal hold"


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


# --- When -----------------------------------------------------------------------------------------


def casefile_anchors(case_file: CaseFile) -> list[Anchor]:
    """The dates the case file's periods run from. The case file's own closure counts only when
    nothing on it gives one (a case closed before any referral, job or support case): otherwise
    a declined referral's two years would become the closed case's six."""
    anchors = [anchor for source in anchor_sources() for anchor in source(case_file)]
    if not anchors and case_file.status == CaseStatus.CLOSED and case_file.closed_at is not None:
        anchors.append(Anchor(RecordType.CLOSED_CASE, timezone.localdate(case_file.closed_at)))
    return anchors


def retention_due_on(
    *, case_file: CaseFile, rules: dict[str, RetentionRule] | None = None
) -> dt.date | None:
    """The day the case file's personal data may be erased, or ``None`` while it must be kept:
    a record on it still open (or nothing on it closed yet), or a kind of record with no rule.

    The case file's own status is not asked: it closes only in some paths (a duplicate), while
    its referral, jobs and support cases each close, and those are what the periods run from."""
    if rules is None:
        rules = RetentionRule.objects.for_authority(case_file.authority_id)
    anchors = casefile_anchors(case_file)
    if not anchors:
        return None
    ends: list[dt.date] = []
    for anchor in anchors:
        if anchor.on is None:
            return None
        rule = rules.get(anchor.record_type)
        if rule is None:
            return None  # no rule: keep until an administrator sets one
        if rule.measured_from == MeasuredFrom.NOTHING_KEPT:
            continue
        ends.append(add_years(anchor.on, rule.years))
    return max(ends) if ends else None


@dataclass
class DueCaseFiles:
    due: list[CaseFile] = field(default_factory=list)
    held: int = 0
    # Case files whose ``retention_until`` differs from the date worked out now.
    new_dates: dict[Any, dt.date | None] = field(default_factory=dict)


def retention_due(*, as_of: dt.date) -> DueCaseFiles:
    """Closed case files not yet erased whose date has come, minus those on legal hold and those
    whose household still has a case file that is not due."""
    result = DueCaseFiles()
    held_ids = set(LegalHold.objects.active().values_list("case_file_id", flat=True))
    rules_by_authority: dict[Any, dict[str, RetentionRule]] = {}
    due_by_household: dict[Any, list[CaseFile]] = {}
    candidates = CaseFile.objects.filter(erasure__isnull=True)
    for case_file in candidates.iterator(chunk_size=200):
        rules = rules_by_authority.get(case_file.authority_id)
        if rules is None:
            rules = RetentionRule.objects.for_authority(case_file.authority_id)
            rules_by_authority[case_file.authority_id] = rules
        due_on = retention_due_on(case_file=case_file, rules=rules)
        if due_on != case_file.retention_until:
            result.new_dates[case_file.pk] = due_on
        if due_on is None or due_on > as_of:
            continue
        if case_file.pk in held_ids:
            result.held += 1
            continue
        due_by_household.setdefault(case_file.household_id, []).append(case_file)
    for household_id, case_files in due_by_household.items():
        others = (
            CaseFile.objects.filter(household_id=household_id, erasure__isnull=True)
            .exclude(pk__in=[c.pk for c in case_files])
            .exists()
        )
        if not others:
            result.due.extend(case_files)
    return result


# --- What -----------------------------------------------------------------------------------------


def _rows(erasable: ErasableModel, case_file_id: Any) -> models.QuerySet[Any]:
    return erasable.model._default_manager.filter(
        **{erasable.case_file_path: case_file_id}
    ).distinct()


def casefile_erasure_counts(case_file: CaseFile) -> Counter[str]:
    """How many records of each kind erasing this case file touches (for a dry run)."""
    counts: Counter[str] = Counter({"Case files": 1})
    for erasable in erasable_models():
        count = _rows(erasable, case_file.pk).count()
        if count:
            counts[erasable.label] += count
    return counts


def _event_models(model: type[models.Model]) -> list[type[Event]]:
    return [
        m
        for m in apps.get_models()
        if issubclass(m, Event) and getattr(m, "pgh_tracked_model", None) is model
    ]


def _protect_uris(model: type[models.Model]) -> list[str]:
    return [
        f"{model._meta.app_label}.{model.__name__}:{trigger.name}"
        for trigger in getattr(model._meta, "triggers", [])
        if isinstance(trigger, pgtrigger.Protect)
    ]


def retention_role_check() -> None:
    """Refuse before changing anything if history cannot be erased on this connection."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) "
            "THEN pg_has_role(current_user, %s, 'MEMBER') ELSE false END",
            [RETENTION_ROLE, RETENTION_ROLE],
        )
        row = cursor.fetchone()
    if not (row and row[0]):
        raise RetentionRoleMissing(
            f"The database user is not a member of the role {RETENTION_ROLE}, so the change "
            "history cannot be erased. Ask the database administrator (docs/security.md)."
        )


def history_erase(*, model: type[models.Model], ids: list[Any]) -> int:
    """Delete the change history of these rows (every event, whoever wrote it). Through the
    retention role only: the append-only guard refuses anyone else."""
    if not ids:
        return 0
    erased = 0
    for event_model in _event_models(model):
        table = connection.ops.quote_name(event_model._meta.db_table)
        with pgtrigger.ignore(*_protect_uris(event_model)), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE pgh_obj_id = ANY(%s)",  # noqa: S608
                [[str(i) for i in ids]],
            )
            erased += cursor.rowcount
    return erased


def _blank_values(model: type[models.Model], names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        model_field = model._meta.get_field(name)
        assert isinstance(model_field, models.Field)
        if model_field.null:
            values[name] = None
        elif isinstance(model_field, models.JSONField):
            values[name] = model_field.get_default()
        else:
            values[name] = ""
    return values


def _erase_rows(erasable: ErasableModel, case_file_id: Any) -> int:
    ids = list(_rows(erasable, case_file_id).values_list("pk", flat=True))
    if not ids:
        return 0
    model = erasable.model
    rows = model._default_manager.filter(pk__in=ids)
    history_erase(model=model, ids=ids)
    if erasable.delete:
        for instance in rows:
            for name in erasable.file_fields:
                stored = getattr(instance, name)
                if stored and stored.name:
                    default_storage.delete(stored.name)
        with pgtrigger.ignore(*_protect_uris(model)):
            rows.delete()
        history_erase(model=model, ids=ids)  # a "deleted" event carries the row as it was
    else:
        with pgtrigger.ignore(*_protect_uris(model)):
            rows.update(**_blank_values(model, erasable.blank), **dict(erasable.replace))
    return len(ids)


@transaction.atomic
def casefile_erase(*, case_file: CaseFile, run: RetentionRun) -> Counter[str] | None:
    """Erase one due case file's personal data and record it. ``None`` when there was nothing to
    do after all (already erased, or a hold placed meanwhile): safe to run twice."""
    retention_role_check()
    locked = CaseFile.objects.select_for_update(of=("self",)).get(pk=case_file.pk)
    if ErasedCaseFile.objects.filter(case_file=locked).exists():
        return None
    if LegalHold.objects.active().filter(case_file=locked).exists():
        return None
    counts: Counter[str] = Counter({"Case files": 1})
    for erasable in erasable_models():
        count = _erase_rows(erasable, locked.pk)
        if count:
            counts[erasable.label] += count
    if locked.status != CaseStatus.CLOSED:
        # Everything on it closed long ago (that is why it was due): the case file closes too.
        locked.status = CaseStatus.CLOSED
        locked.closed_at = locked.closed_at or timezone.now()
        locked.save(update_fields=["status", "closed_at"])
    ErasedCaseFile.objects.create(case_file=locked, authority_id=locked.authority_id, run=run)
    case_event_record(
        case_file=locked,
        kind="retention_erased",
        summary="Personal data erased: the retention period ended",
        data={"run": str(run.pk)},
    )
    return counts


# --- The run --------------------------------------------------------------------------------------


def retention_run(
    *,
    dry_run: bool,
    by: User | None = None,
    as_of: dt.date | None = None,
    schedule_key: str | None = None,
) -> RetentionRun:
    """Erase (or, in a dry run, count) everything due on ``as_of`` (today by default).

    Not one transaction: each case file is erased in its own (``casefile_erase``), so a failure
    keeps what was done before it, and the run records its counts and the error either way. The
    scheduled run passes ``schedule_key``, so asking twice on one day returns the first run."""
    as_of = as_of or timezone.localdate()
    if schedule_key:
        claimed = _scheduled_run_claim(schedule_key=schedule_key, dry_run=dry_run, as_of=as_of)
        if claimed is None:
            return RetentionRun.objects.get(schedule_key=schedule_key)
        run = claimed
    else:
        run = RetentionRun.objects.create(dry_run=dry_run, as_of=as_of, requested_by=by)
    counts: Counter[tuple[Any, str]] = Counter()
    erased = 0
    try:
        found = retention_due(as_of=as_of)
        run.held = found.held
        if not dry_run:
            # Keep the case file's date true for the pages that show it (one UPDATE each, only
            # where it moved: a closure, a reopened service, a changed rule).
            for case_file_id, new_date in found.new_dates.items():
                CaseFile.objects.filter(pk=case_file_id).update(retention_until=new_date)
        for case_file in found.due:
            done = (
                casefile_erasure_counts(case_file)
                if dry_run
                else casefile_erase(case_file=case_file, run=run)
            )
            if done is None:
                continue
            erased += 1
            for label, count in done.items():
                counts[(case_file.authority_id, label)] += count
    except Exception as error:
        logger.exception("Retention run %s failed", run.pk)
        run.status = RunStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"
    else:
        run.status = RunStatus.SUCCEEDED
        run.error = ""
    run.case_files = erased
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "case_files", "held", "finished_at"])
    RetentionRunCount.objects.bulk_create(
        RetentionRunCount(run=run, authority_id=authority_id, record_type=label, count=count)
        for (authority_id, label), count in sorted(counts.items(), key=lambda kv: str(kv[0]))
    )
    return run


@transaction.atomic
def _scheduled_run_claim(
    *, schedule_key: str, dry_run: bool, as_of: dt.date
) -> RetentionRun | None:
    """The day's run to work on, or ``None`` when it is done or another worker is on it.

    A run that failed, or that has been "running" for longer than the task's hard time limit (its
    worker died: the task is delivered again), is kept as it is, without its key, and a new run
    takes the key; so the counts of the first attempt stay with the case files it erased."""
    existing = RetentionRun.objects.select_for_update().filter(schedule_key=schedule_key).first()
    if existing is not None:
        stale = timezone.now() - existing.started_at > STALE_AFTER
        if existing.status == RunStatus.SUCCEEDED:
            return None
        if existing.status == RunStatus.RUNNING and not stale:
            return None
        if existing.status == RunStatus.RUNNING:
            existing.status = RunStatus.FAILED
            existing.error = "Interrupted: the worker stopped before the run finished."
            existing.finished_at = timezone.now()
        existing.schedule_key = None
        existing.save(update_fields=["status", "error", "finished_at", "schedule_key"])
    return RetentionRun.objects.create(schedule_key=schedule_key, dry_run=dry_run, as_of=as_of)


# --- Legal holds ----------------------------------------------------------------------------------


@transaction.atomic
def legal_hold_place(*, case_file: CaseFile, reason: str, by: User) -> LegalHold:
    """Stop the retention clock for this case file until the hold is lifted."""
    reason = reason.strip()
    if len(reason) < 10:
        raise LegalHoldError("Say why the case must be kept (at least 10 characters).")
    locked = CaseFile.objects.select_for_update(of=("self",)).get(pk=case_file.pk)
    if ErasedCaseFile.objects.filter(case_file=locked).exists():
        raise LegalHoldError("This case's personal data has already been erased.")
    if LegalHold.objects.active().filter(case_file=locked).exists():
        raise LegalHoldError("This case is already on legal hold.")
    hold = LegalHold.objects.create(
        case_file=locked, authority_id=locked.authority_id, reason=reason, placed_by=by
    )
    case_event_record(
        case_file=locked,
        kind="legal_hold_placed",
        summary="Legal hold placed: the case is kept until it is lifted",
        actor=by,
        data={"hold": str(hold.pk)},
    )
    return hold


@transaction.atomic
def legal_hold_lift(*, case_file: CaseFile, reason: str, by: User) -> LegalHold:
    reason = reason.strip()
    if len(reason) < 10:
        raise LegalHoldError("Say why the hold can end (at least 10 characters).")
    CaseFile.objects.select_for_update(of=("self",)).get(pk=case_file.pk)
    hold = LegalHold.objects.select_for_update().active().filter(case_file=case_file).first()
    if hold is None:
        raise LegalHoldError("This case is not on legal hold.")
    hold.lifted_at = timezone.now()
    hold.lifted_by = by
    hold.lift_reason = reason
    hold.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    case_event_record(
        case_file=case_file,
        kind="legal_hold_lifted",
        summary="Legal hold lifted: the retention schedule applies again",
        actor=by,
        data={"hold": str(hold.pk)},
    )
    return hold
