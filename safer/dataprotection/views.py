"""Data protection pages. Thin: reads through ``selectors``, writes through the services.

- Retention (``/data-protection/retention/``): the schedule, the runs with their counts, and
  the system administrator's dry run. System administrators and auditors (an auditor sees the
  counts of their own authorities).
- Legal hold (``/data-protection/cases/<id>/legal-hold/``): SPA managers, for the cases they
  see as SPA staff.
- Subject access (``/data-protection/subject-access/``): SPA managers, as above.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from safer.access.roles import role_required, user_has_role
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.models import AccessAction
from safer.audit.services import access_log_record
from safer.casefile.models import Person
from safer.dataprotection.forms import LegalHoldForm, LegalHoldLiftForm, SubjectAccessRequestForm
from safer.dataprotection.models import SarStatus
from safer.dataprotection.retention import LegalHoldError, legal_hold_lift, legal_hold_place
from safer.dataprotection.retention import retention_run as run_retention
from safer.dataprotection.selectors import (
    casefile_get_for_spa_manager,
    casefile_retention_status,
    retention_run_counts_for_user,
    retention_runs_for_user,
    retention_schedule,
    subject_access_request_get_for_user,
    subject_access_requests_for_user,
)
from safer.dataprotection.subject_access import (
    SubjectAccessError,
    subject_access_export_generate,
    subject_access_release_approve,
    subject_access_request_record,
    working_days_left,
)
from safer.decorators import no_store

PAGE_SIZE = 25


# --- Retention ------------------------------------------------------------------------------------


@role_required(Role.SYSTEM_ADMIN, Role.AUDITOR)
@require_GET
def retention_overview(request: HttpRequest) -> HttpResponse:
    runs = retention_runs_for_user(user=request.user)
    page = Paginator(runs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dataprotection/retention.html",
        {
            "rules": retention_schedule(),
            "page": page,
            "is_admin": user_has_role(request.user, Role.SYSTEM_ADMIN),
        },
    )


@role_required(Role.SYSTEM_ADMIN)
@require_POST
def retention_dry_run(request: HttpRequest) -> HttpResponse:
    """What the nightly run would erase today, counted and changing nothing."""
    assert isinstance(request.user, User)
    run = run_retention(dry_run=True, by=request.user)
    messages.success(request, "Dry run finished: nothing was changed.")
    return redirect("dataprotection:retention-run", run_id=run.pk)


@role_required(Role.SYSTEM_ADMIN, Role.AUDITOR)
@require_GET
def retention_run_detail(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    run = retention_runs_for_user(user=request.user).filter(pk=run_id).first()
    if run is None:
        raise Http404("No record found")
    counts = retention_run_counts_for_user(user=request.user, run=run)
    return render(request, "dataprotection/retention_run.html", {"run": run, "counts": counts})


# --- Legal hold -----------------------------------------------------------------------------------


@role_required(Role.SPA_MANAGER)
@require_http_methods(["GET", "POST"])
def legal_hold(request: HttpRequest, case_file_id: uuid.UUID) -> HttpResponse:
    assert isinstance(request.user, User)
    case_file = casefile_get_for_spa_manager(
        user=request.user, case_file_id=case_file_id, request=request
    )
    status = casefile_retention_status(case_file=case_file)
    form_class = LegalHoldLiftForm if status.hold else LegalHoldForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if status.hold:
                legal_hold_lift(
                    case_file=case_file, reason=form.cleaned_data["reason"], by=request.user
                )
                messages.success(request, "Legal hold lifted: the retention schedule applies.")
            else:
                legal_hold_place(
                    case_file=case_file, reason=form.cleaned_data["reason"], by=request.user
                )
                messages.success(request, "Legal hold placed: the case will be kept.")
        except LegalHoldError as error:
            form.add_error(None, error.message)
        else:
            return redirect("casefile:detail", case_file_id=case_file.pk)
    return render(
        request,
        "dataprotection/legal_hold.html",
        {"case_file": case_file, "status": status, "form": form},
    )


# --- Subject access -------------------------------------------------------------------------------


@role_required(Role.SPA_MANAGER)
@require_GET
def subject_access_list(request: HttpRequest) -> HttpResponse:
    requests = subject_access_requests_for_user(user=request.user)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(sar, working_days_left(sar, today=today)) for sar in page.object_list]
    return render(request, "dataprotection/subject_access_list.html", {"page": page, "rows": rows})


@role_required(Role.SPA_MANAGER)
@require_http_methods(["GET", "POST"])
def subject_access_new(request: HttpRequest, case_file_id: uuid.UUID) -> HttpResponse:
    assert isinstance(request.user, User)
    case_file = casefile_get_for_spa_manager(
        user=request.user, case_file_id=case_file_id, request=request
    )
    people = list(Person.objects.filter(household=case_file.household).order_by("created_at"))
    form = SubjectAccessRequestForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        try:
            sar = subject_access_request_record(
                case_file=case_file,
                person=form.chosen_person(),
                requested_by_description=form.cleaned_data["requested_by"],
                received_on=form.cleaned_data["received_on"],
                by=request.user,
            )
        except SubjectAccessError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Request recorded.")
            return redirect("dataprotection:subject-access-detail", sar_id=sar.pk)
    return render(
        request, "dataprotection/subject_access_new.html", {"case_file": case_file, "form": form}
    )


@role_required(Role.SPA_MANAGER)
@require_GET
def subject_access_detail(request: HttpRequest, sar_id: uuid.UUID) -> HttpResponse:
    sar = subject_access_request_get_for_user(user=request.user, sar_id=sar_id, request=request)
    return render(
        request,
        "dataprotection/subject_access_detail.html",
        {
            "sar": sar,
            "days_left": working_days_left(sar),
            "may_approve": sar.status == SarStatus.GENERATED
            and sar.generated_by_id != request.user.pk,
        },
    )


@role_required(Role.SPA_MANAGER)
@require_POST
def subject_access_generate(request: HttpRequest, sar_id: uuid.UUID) -> HttpResponse:
    assert isinstance(request.user, User)
    sar = subject_access_request_get_for_user(user=request.user, sar_id=sar_id, request=request)
    try:
        subject_access_export_generate(sar=sar, by=request.user)
    except SubjectAccessError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Export made. Another manager must now approve it.")
    return redirect("dataprotection:subject-access-detail", sar_id=sar.pk)


@role_required(Role.SPA_MANAGER)
@require_POST
def subject_access_approve(request: HttpRequest, sar_id: uuid.UUID) -> HttpResponse:
    assert isinstance(request.user, User)
    sar = subject_access_request_get_for_user(user=request.user, sar_id=sar_id, request=request)
    try:
        subject_access_release_approve(sar=sar, by=request.user)
    except SubjectAccessError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Approved for release. The files can now be downloaded.")
    return redirect("dataprotection:subject-access-detail", sar_id=sar.pk)


@role_required(Role.SPA_MANAGER)
@require_GET
@no_store
def subject_access_download(request: HttpRequest, sar_id: uuid.UUID, fmt: str) -> HttpResponse:
    sar = subject_access_request_get_for_user(user=request.user, sar_id=sar_id, request=request)
    if fmt not in ("pdf", "json") or sar.status != SarStatus.APPROVED:
        raise Http404("No record found")
    stored = sar.pdf if fmt == "pdf" else sar.json
    access_log_record(
        user=request.user,
        action=AccessAction.DOWNLOAD,
        record=sar,
        request=request,
        reason=f"Subject access export ({fmt.upper()})",
    )
    with stored.open("rb") as handle:
        content = handle.read()
    response = HttpResponse(
        content, content_type="application/pdf" if fmt == "pdf" else "application/json"
    )
    filename = f"subject-access-{sar.case_file.reference}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
