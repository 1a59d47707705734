"""Reads for reporting's pages: runs a user may see, and what they may ask for.

Who sees what (docs/security.md): commissioners their authorities' runs and dashboards, never a
person (suppressed aggregates; no copy listing case references); provider managers the KPI
reports of their own organisation's contracts and their own dashboard (exact); SPA managers every
run of their authorities. Everyone else: nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from reporting.models import (
    ReportKind,
    ReportOutput,
    ReportRun,
    ReportRunQuerySet,
    ReturnSubmission,
    ReturnSubmissionQuerySet,
    ReturnTemplate,
)
from reporting.periods import Period
from safer.access.roles import user_roles
from safer.access.scoping import user_authorities
from safer.access.seams import NOT_FOUND_MESSAGE, get_for_user_or_404
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    District,
    OrganisationKind,
    ServiceElement,
)

# Which service elements a provider's dashboard shows, by the kind of organisation it is.
PROVIDER_ELEMENTS = {
    OrganisationKind.SECURITY_CONTRACTOR: (ServiceElement.SECURITY.value,),
    OrganisationKind.ADULT_SUPPORT: (ServiceElement.ADULT_SUPPORT.value,),
    OrganisationKind.CYP_SUPPORT: (ServiceElement.CYP.value,),
    OrganisationKind.SPA_PROVIDER: (ServiceElement.SPA.value,),
}


def report_runs_for_user(user: User | AnonymousUser) -> ReportRunQuerySet:
    return (
        ReportRun.objects.visible_to(user)
        .select_related("contract", "requested_by")
        .prefetch_related("authorities", "outputs")
    )


def report_run_get_for_user(*, user: User | AnonymousUser, run_id: object) -> ReportRun:
    """One run the user may see; 404 for "missing" and "not yours" alike."""
    return get_for_user_or_404(report_runs_for_user(user), run_id)


def report_output_get_for_user(
    *, user: User | AnonymousUser, run_id: object, output_format: str
) -> ReportOutput:
    run = report_run_get_for_user(user=user, run_id=run_id)
    output = ReportOutput.objects.filter(run=run, format=output_format).first()
    if output is None:
        raise Http404(NOT_FOUND_MESSAGE)
    return output


def authorities_for(user: User | AnonymousUser) -> QuerySet[CommissioningAuthority]:
    return user_authorities(user).order_by("name")


def contracts_requestable_by(user: User | AnonymousUser) -> QuerySet[Contract]:
    """Contracts whose KPI report the user may ask for."""
    roles = user_roles(user)
    if not isinstance(user, User) or not roles:
        return Contract.objects.none()
    contracts = Contract.objects.filter(authority__in=user_authorities(user)).select_related(
        "provider", "authority"
    )
    if roles & {Role.COMMISSIONER, Role.SPA_MANAGER}:
        return contracts
    if Role.PROVIDER_MANAGER in roles and user.organisation_id:
        return contracts.filter(provider_id=user.organisation_id)
    return Contract.objects.none()


def kinds_requestable_by(user: User | AnonymousUser) -> list[tuple[str, str]]:
    roles = user_roles(user)
    if roles & {Role.COMMISSIONER, Role.SPA_MANAGER}:
        return list(ReportKind.choices)
    if Role.PROVIDER_MANAGER in roles:
        return [(ReportKind.CONTRACT_KPI.value, ReportKind.CONTRACT_KPI.label)]
    return []


def may_list_case_references(user: User | AnonymousUser, contract: Contract | None) -> bool:
    """A KPI report's breach list (case references) is for the provider and the SPA manager."""
    roles = user_roles(user)
    if contract is None or not isinstance(user, User):
        return False
    if Role.SPA_MANAGER in roles:
        return True
    return Role.PROVIDER_MANAGER in roles and contract.provider_id == user.organisation_id


def period_choices(
    *, today: dt.date | None = None, quarters: int = 8, years: int = 3
) -> list[tuple[str, str]]:
    """Recent financial quarters (this one first) and years, as form choices."""
    today = today or timezone.localdate()
    current = Period.quarter_containing(today)
    quarter_list = list(reversed(current.trailing_quarters(quarters)))
    year = Period.year_containing(today)
    year_list = [year]
    while len(year_list) < years:
        year_list.append(year_list[-1].previous())
    return [(p.code, p.label) for p in quarter_list] + [(p.code, p.label) for p in year_list]


def districts_for(authority_ids: list[uuid.UUID]) -> QuerySet[District]:
    return District.objects.filter(authority_id__in=authority_ids).order_by("name")


def return_templates_needing_check() -> list[ReturnTemplate]:
    """Active derived templates nobody has checked yet, for the admin's and the reports page's
    notice."""
    return list(
        ReturnTemplate.objects.filter(
            is_active=True, derived_from__isnull=False, checked_at__isnull=True
        )
        .select_related("derived_from")
        .order_by("financial_year", "kind")
    )


# --- Submitted returns --------------------------------------------------------------------------


def return_submissions_for_user(user: User | AnonymousUser) -> ReturnSubmissionQuerySet:
    """Submitted returns of the user's authorities (commissioners and auditors)."""
    return (
        ReturnSubmission.objects.visible_to(user)
        .select_related("run", "submitted_by")
        .prefetch_related("run__authorities")
    )


def return_submission_get_for_user(
    *, user: User | AnonymousUser, submission_id: object
) -> ReturnSubmission:
    """One submitted return the user may see; 404 for "missing" and "not yours" alike."""
    return get_for_user_or_404(return_submissions_for_user(user), submission_id)


def return_versions(submission: ReturnSubmission) -> list[ReportRun]:
    """Every finished run of the same return, oldest first: the submitted versions and the
    re-runs with what they restate."""
    return list(
        ReportRun.objects.filter(return_key=submission.return_key, status="succeeded")
        .select_related("submission", "submission__submitted_by", "restates", "requested_by")
        .order_by("finished_at")
    )


def run_submission(run: ReportRun) -> ReturnSubmission | None:
    return ReturnSubmission.objects.filter(run=run).select_related("submitted_by").first()
