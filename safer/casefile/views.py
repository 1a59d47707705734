"""Case-file pages for staff. Thin: every read goes through the selectors (``visible_to`` and the
``casefile_get_for_user`` seam), every write through a service."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from safer.access.roles import role_required, user_has_role
from safer.access.seams import access_log_record_many
from safer.access.services import BreakGlassRefused, casefile_break_glass_open
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.models import AccessAction
from safer.casefile.forms import BreakGlassForm, CaseFileFilterForm, SafeContactRulesForm
from safer.casefile.models import CaseStatus, SafeContactRules
from safer.casefile.selectors import (
    casefile_detail_for_user,
    casefile_find_for_break_glass,
    casefile_get_for_user,
    casefile_list_for_user,
    safe_contact_overrides_for_manager,
)
from safer.casefile.services import SafeContactRulesRefused, safe_contact_rules_update
from safer.concurrency import EditConflict, conflict_context, form_version_set
from safer.paging import capped_counts, page_without_count

PAGE_SIZE = 25

# Roles that open case files here. Contractors work from their jobs (which never show children,
# risk or the perpetrator); commissioners, auditors, administrators and referrers see no case.
CASEFILE_ROLES = (
    Role.SPA_TRIAGE,
    Role.SPA_MANAGER,
    Role.ADULT_SUPPORT_WORKER,
    Role.CYP_WORKER,
    Role.PROVIDER_MANAGER,
)


@role_required(*CASEFILE_ROLES)
@require_GET
def casefile_list(request: HttpRequest) -> HttpResponse:
    form = CaseFileFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    case_files = casefile_list_for_user(
        user=request.user,
        status=filters.get("status", ""),
        reference=filters.get("reference", ""),
    )
    # Never counted whole: a page and one more row, and a count that stops at 500 ("500+"). An
    # exact count of an SPA worker's scope reads every case file of it (a million, issue 17).
    page = page_without_count(case_files, params=request.GET, per_page=PAGE_SIZE)
    # A list row names the survivor: a read of a person-level record, logged like a search.
    access_log_record_many(
        user=request.user, action=AccessAction.SEARCH, records=page.object_list, request=request
    )
    return render(
        request,
        "casefile/list.html",
        {
            "form": form,
            "page": page,
            "count": capped_counts({"all": case_files})["all"],
            "is_spa_manager": _is_manager(request),
            "is_manager": _is_manager(request)
            or user_has_role(request.user, Role.PROVIDER_MANAGER),
        },
    )


@role_required(*CASEFILE_ROLES)
@require_GET
def casefile_detail(request: HttpRequest, case_file_id: uuid.UUID) -> HttpResponse:
    detail = casefile_detail_for_user(user=request.user, case_file_id=case_file_id, request=request)
    return render(
        request, "casefile/detail.html", {"detail": detail, "case_file": detail.case_file}
    )


@role_required(*CASEFILE_ROLES)
@require_http_methods(["GET", "POST"])
def safe_contact_edit(request: HttpRequest, case_file_id: uuid.UUID) -> HttpResponse:
    """Change the survivor's safe-contact arrangements: anyone working on the case who learns
    that a number, an address or the safe times changed records it here, at once."""
    assert isinstance(request.user, User)
    case_file = casefile_get_for_user(user=request.user, case_file_id=case_file_id, request=request)
    back = _back_url(request, case_file)
    rules = _rules_of(case_file)
    if case_file.status == CaseStatus.CLOSED:
        messages.info(
            request, "This case is closed: its safe-contact arrangements are kept as they were."
        )
        return redirect(back)
    form = SafeContactRulesForm(
        request.POST if request.method == "POST" else None,
        initial=SafeContactRulesForm.initial_from(rules),
    )
    if not form.is_bound and rules is not None:
        form_version_set(form, rules.version)
    status = 200
    conflict: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            safe_contact_rules_update(
                case_file=case_file,
                actor=request.user,
                expected_version=data.get("version"),
                phone=data["phone"],
                email=data["email"],
                safe_channels=data["safe_channels"],
                voicemail_safe=data["voicemail_safe"] == "yes",
                text_safe=data["text_safe"] == "yes",
                safe_times=data["safe_times"],
                who_may_answer=data["who_may_answer"],
                alternative_contact=data["alternative_contact"],
                organisation_name_may_be_used=data["organisation_name_may_be_used"] == "yes",
                notes=data["notes"],
            )
        except EditConflict as changed:
            stored = SafeContactRulesForm.initial_from(_rules_of(case_file, fresh=True))
            conflict = conflict_context(form, changed, stored)
            status = 409
        except SafeContactRulesRefused as refused:
            form.add_error(refused.field or None, refused.message)
            status = 400
        else:
            messages.success(
                request,
                "Safe-contact arrangements saved. Everyone working on the case now sees them.",
            )
            return redirect(back)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "casefile/safe_contact_edit.html",
        {"case_file": case_file, "form": form, "back": back, **conflict},
        status=status,
    )


def _rules_of(case_file: Any, *, fresh: bool = False) -> SafeContactRules | None:
    if fresh:
        return SafeContactRules.objects.filter(case_file=case_file).first()
    try:
        rules: SafeContactRules = case_file.safe_contact
    except SafeContactRules.DoesNotExist:
        return None
    return rules


def _back_url(request: HttpRequest, case_file: Any) -> str:
    """Back to the page the worker came from (their own case page), else the case file."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("casefile:detail", kwargs={"case_file_id": case_file.id})


@role_required(Role.SPA_MANAGER)
@require_http_methods(["GET", "POST"])
def casefile_break_glass(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    form = BreakGlassForm(
        request.POST or None, initial={"reference": request.GET.get("reference", "")}
    )
    if request.method == "POST" and form.is_valid():
        case_file = casefile_find_for_break_glass(reference=form.cleaned_data["reference"])
        if case_file is None:
            form.add_error("reference", "No case file has this reference. Check it and try again")
        else:
            try:
                grant = casefile_break_glass_open(
                    user=request.user,
                    case_file=case_file,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except BreakGlassRefused as refused:
                form.add_error(None, refused.message)
            else:
                if grant is None:
                    messages.info(
                        request, "You can already open this case: no break-glass was needed."
                    )
                else:
                    messages.warning(
                        request,
                        "You opened this case with break-glass. An auditor can see your reason.",
                    )
                return redirect("casefile:detail", case_file_id=case_file.id)
    return render(request, "casefile/break_glass.html", {"form": form})


@role_required(Role.SPA_MANAGER, Role.PROVIDER_MANAGER)
@require_GET
def contact_overrides(request: HttpRequest) -> HttpResponse:
    """The manager's list of contacts made against the safe-contact rules, with the reasons."""
    overrides = safe_contact_overrides_for_manager(user=request.user)
    page = Paginator(overrides, PAGE_SIZE).get_page(request.GET.get("page"))
    access_log_record_many(
        user=request.user,
        action=AccessAction.SEARCH,
        records=[o.case_file for o in page.object_list],
        request=request,
    )
    return render(request, "casefile/contact_overrides.html", {"page": page})


def _is_manager(request: HttpRequest) -> bool:
    return user_has_role(request.user, Role.SPA_MANAGER)
