"""The auditor's pages: who looked at a record, who changed what, and sign-in events.

Auditors only (deny by default, through ``safer.access.roles.role_required``). Every page the
auditor opens is itself written to the access log (``audit_view``), and every export as
``export``, so the auditor's own reading is auditable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from safer.access.roles import role_required
from safer.accounts.roles import Role
from safer.audit import exports
from safer.audit.forms import (
    AccessLogFilterForm,
    AuthEventFilterForm,
    ChangeFilterForm,
    RecordLookupForm,
)
from safer.audit.models import AccessAction, AccessLog, AuthEvent
from safer.audit.scoping import AuditScope
from safer.audit.selectors import (
    AccessLogCursor,
    RecordRef,
    Scope,
    access_log_list,
    access_log_page,
    auth_event_list,
    change_history,
    change_history_filter,
    record_get,
    record_scope,
)
from safer.audit.services import access_log_record

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
ACCESS_LIST = ("audit.accesslog", "list")
AUTH_LIST = ("audit.authevent", "list")

# Signed in with a verified second factor and holding the auditor role; 403 otherwise. Superusers
# are not auditors unless they hold the role: auditing the administrators is a separate duty.
# (Typed for any response: the CSV exports stream.)
auditor_only = cast(
    Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]],
    role_required(Role.AUDITOR),
)


def _page(request: HttpRequest, rows: Sequence[Any] | Any) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _scope(request: HttpRequest) -> AuditScope:
    """The auditor's own authorities: every list, record and export is limited to them."""
    return AuditScope.for_user(request.user)


def _record(request: HttpRequest, record_type: str, record_id: str) -> RecordRef:
    """The record, if it is one of the auditor's authorities' (404 for missing and not theirs)."""
    ref = record_get(record_type=record_type, record_id=record_id)
    if ref is None or not _scope(request).may_see(ref):
        raise Http404("No such record type or id")
    return ref


def _log(request: HttpRequest, action: AccessAction, record_type: str, record_id: str) -> None:
    access_log_record(
        user=request.user,
        action=action,
        record_type=record_type,
        record_id=record_id,
        request=request,
    )


def _log_record(request: HttpRequest, action: AccessAction, ref: RecordRef) -> None:
    """Log a read of one record's trail, stamped with its authority while the record exists."""
    if ref.instance is None:
        _log(request, action, ref.record_type, ref.record_id)
    else:
        access_log_record(user=request.user, action=action, record=ref.instance, request=request)


def _stamp() -> str:
    return timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


# --- Finding a record ----------------------------------------------------------------------------


@require_GET
@auditor_only
def audit_home(request: HttpRequest) -> HttpResponse:
    form = RecordLookupForm(request.GET or None, audit_scope=_scope(request))
    if form.is_bound and form.is_valid() and form.record is not None:
        return redirect(
            "audit:record-access",
            record_type=form.record.record_type,
            record_id=form.record.record_id,
        )
    return render(request, "audit/home.html", {"form": form})


# --- One record: who looked at it ----------------------------------------------------------------


def _record_access_rows(
    request: HttpRequest, form: AccessLogFilterForm, scope: Scope
) -> tuple[bool, Any]:
    if not form.is_valid():
        return False, AccessLog.objects.none()
    return True, access_log_list(audit_scope=_scope(request), scope=scope, **form.cleaned_data)


@require_GET
@auditor_only
def record_access(request: HttpRequest, record_type: str, record_id: str) -> HttpResponse:
    ref = _record(request, record_type, record_id)
    scope = record_scope(ref=ref)
    _log_record(request, AccessAction.AUDIT_VIEW, ref)
    form = AccessLogFilterForm(request.GET)
    valid, rows = _record_access_rows(request, form, scope)
    return render(
        request,
        "audit/record_access.html",
        {
            "ref": ref,
            "scope": _scope_summary(scope),
            "form": form,
            "page_obj": _page(request, rows) if valid else None,
            "tab": "access",
        },
        status=200 if valid else 400,
    )


@require_GET
@auditor_only
def record_access_export(
    request: HttpRequest, record_type: str, record_id: str
) -> HttpResponseBase:
    ref = _record(request, record_type, record_id)
    scope = record_scope(ref=ref)
    form = AccessLogFilterForm(request.GET)
    valid, rows = _record_access_rows(request, form, scope)
    if not valid:
        return record_access(request, record_type, record_id)
    _log_record(request, AccessAction.EXPORT, ref)
    return exports.csv_response(
        filename=f"access-log-{ref.record_type}-{ref.record_id}-{_stamp()}.csv",
        header=exports.ACCESS_HEADER,
        rows=exports.access_rows(rows.iterator(chunk_size=EXPORT_CHUNK)),
    )


# --- One record: who changed what ----------------------------------------------------------------


@require_GET
@auditor_only
def record_changes(request: HttpRequest, record_type: str, record_id: str) -> HttpResponse:
    ref = _record(request, record_type, record_id)
    scope = record_scope(ref=ref)
    _log_record(request, AccessAction.AUDIT_VIEW, ref)
    form = ChangeFilterForm(request.GET)
    valid = form.is_valid()
    rows = change_history_filter(change_history(scope=scope), **form.cleaned_data) if valid else []
    return render(
        request,
        "audit/record_changes.html",
        {
            "ref": ref,
            "scope": _scope_summary(scope),
            "form": form,
            "page_obj": _page(request, rows) if valid else None,
            "tab": "changes",
        },
        status=200 if valid else 400,
    )


@require_GET
@auditor_only
def record_changes_export(
    request: HttpRequest, record_type: str, record_id: str
) -> HttpResponseBase:
    ref = _record(request, record_type, record_id)
    form = ChangeFilterForm(request.GET)
    if not form.is_valid():
        return record_changes(request, record_type, record_id)
    rows = change_history_filter(change_history(scope=record_scope(ref=ref)), **form.cleaned_data)
    _log_record(request, AccessAction.EXPORT, ref)
    return exports.csv_response(
        filename=f"change-history-{ref.record_type}-{ref.record_id}-{_stamp()}.csv",
        header=exports.CHANGE_HEADER,
        rows=exports.change_rows(rows),
    )


def _scope_summary(scope: Scope) -> list[tuple[str, int]]:
    return sorted((record_type, len(ids)) for record_type, ids in scope.items() if ids)


# --- The whole access log ------------------------------------------------------------------------


@require_GET
@auditor_only
def access_log(request: HttpRequest) -> HttpResponse:
    _log(request, AccessAction.AUDIT_VIEW, *ACCESS_LIST)
    form = AccessLogFilterForm(request.GET)
    valid = form.is_valid()
    page = (
        access_log_page(
            audit_scope=_scope(request),
            before=AccessLogCursor.parse(request.GET.get("before")),
            per_page=PAGE_SIZE,
            **form.cleaned_data,
        )
        if valid
        else None
    )
    filters = request.GET.copy()
    filters.pop("before", None)
    return render(
        request,
        "audit/access_log.html",
        {"form": form, "page_obj": page, "filters": filters.urlencode()},
        status=200 if valid else 400,
    )


@require_GET
@auditor_only
def access_log_export(request: HttpRequest) -> HttpResponseBase:
    form = AccessLogFilterForm(request.GET)
    if not form.is_valid():
        return access_log(request)
    _log(request, AccessAction.EXPORT, *ACCESS_LIST)
    rows = access_log_list(audit_scope=_scope(request), **form.cleaned_data)
    return exports.csv_response(
        filename=f"access-log-{_stamp()}.csv",
        header=exports.ACCESS_HEADER,
        rows=exports.access_rows(rows.iterator(chunk_size=EXPORT_CHUNK)),
    )


# --- Sign-in events ------------------------------------------------------------------------------


@require_GET
@auditor_only
def sign_in_events(request: HttpRequest) -> HttpResponse:
    _log(request, AccessAction.AUDIT_VIEW, *AUTH_LIST)
    form = AuthEventFilterForm(request.GET)
    valid = form.is_valid()
    rows = (
        auth_event_list(audit_scope=_scope(request), **_auth_filters(form))
        if valid
        else AuthEvent.objects.none()
    )
    return render(
        request,
        "audit/sign_in_events.html",
        {"form": form, "page_obj": _page(request, rows) if valid else None},
        status=200 if valid else 400,
    )


@require_GET
@auditor_only
def sign_in_events_export(request: HttpRequest) -> HttpResponseBase:
    form = AuthEventFilterForm(request.GET)
    if not form.is_valid():
        return sign_in_events(request)
    _log(request, AccessAction.EXPORT, *AUTH_LIST)
    rows = auth_event_list(audit_scope=_scope(request), **_auth_filters(form))
    return exports.csv_response(
        filename=f"sign-in-events-{_stamp()}.csv",
        header=exports.AUTH_HEADER,
        rows=exports.auth_rows(rows.iterator(chunk_size=EXPORT_CHUNK)),
    )


def _auth_filters(form: AuthEventFilterForm) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data["ip"] = data.get("ip") or ""
    return data
