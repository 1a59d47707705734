"""Reads for the data protection pages."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from safer.access.roles import user_has_role
from safer.access.scoping import user_authorities
from safer.access.seams import get_for_user_or_404, record_get_for_user
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.services import access_log_record
from safer.casefile.models import CaseFile
from safer.dataprotection.models import (
    ErasedCaseFile,
    LegalHold,
    RetentionRule,
    RetentionRun,
    RetentionRunCount,
    SubjectAccessRequest,
)
from safer.dataprotection.retention import retention_due_on


def casefile_get_for_spa_manager(
    *, user: User | AnonymousUser, case_file_id: uuid.UUID, request: HttpRequest | None = None
) -> CaseFile:
    """A case file the user sees as an SPA manager (their authorities', or break-glass); 404
    otherwise. Logged as a view, like the case page."""
    if not user_has_role(user, Role.SPA_MANAGER):
        raise Http404("No record found")
    case_file = get_for_user_or_404(
        CaseFile.objects.spa_scope_for(user).select_related("household"), case_file_id
    )
    access_log_record(user=user, action="view", record=case_file, request=request)
    return case_file


def subject_access_request_get_for_user(
    *, user: User | AnonymousUser, sar_id: uuid.UUID, request: HttpRequest | None = None
) -> SubjectAccessRequest:
    return record_get_for_user(
        source=SubjectAccessRequest.objects,
        user=user,
        pk=sar_id,
        request=request,
        select_related=("case_file", "person", "recorded_by", "generated_by", "approved_by"),
    )


def subject_access_requests_for_user(
    *, user: User | AnonymousUser
) -> QuerySet[SubjectAccessRequest]:
    return SubjectAccessRequest.objects.visible_to(user).select_related("case_file", "person")


@dataclass(frozen=True)
class RetentionStatus:
    kept_until: dt.date | None
    hold: LegalHold | None
    erased: ErasedCaseFile | None


def casefile_retention_status(*, case_file: CaseFile) -> RetentionStatus:
    return RetentionStatus(
        kept_until=retention_due_on(case_file=case_file),
        hold=LegalHold.objects.active()
        .filter(case_file=case_file)
        .select_related("placed_by")
        .first(),
        erased=ErasedCaseFile.objects.filter(case_file=case_file).first(),
    )


def retention_schedule() -> QuerySet[RetentionRule]:
    return RetentionRule.objects.select_related("authority")


def retention_runs_for_user(*, user: User | AnonymousUser) -> QuerySet[RetentionRun]:
    """Every run for the system administrator; an auditor's authorities' runs (and runs that
    erased nothing) for an auditor."""
    if user_has_role(user, Role.SYSTEM_ADMIN):
        return RetentionRun.objects.select_related("requested_by")
    if user_has_role(user, Role.AUDITOR):
        return RetentionRun.objects.visible_to_auditor(user).select_related("requested_by")
    return RetentionRun.objects.none()


def retention_run_counts_for_user(
    *, user: User | AnonymousUser, run: RetentionRun
) -> QuerySet[RetentionRunCount]:
    counts = run.counts.select_related("authority")
    if user_has_role(user, Role.SYSTEM_ADMIN):
        return counts
    return counts.filter(authority__in=user_authorities(user))
