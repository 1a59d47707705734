"""Reporting's pages: report runs (list, request, detail with progress, download) and the
commissioner, joint board and provider dashboards. Thin: selectors read, services write.

None of these pages shows a person: dashboards are aggregates (suppressed for commissioners), a
run page shows its status and files. Downloads are checked, logged and never cached.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from reporting.charts import Bar, bar_chart
from reporting.dashboards import DashboardRequest, dashboard_get, joint_board
from reporting.exceptions import ReportRequestError
from reporting.forms import DashboardFilterForm, ReportRequestForm, ReturnSubmitForm
from reporting.models import RUN_ROLES, SUBMISSION_ROLES
from reporting.periods import Period
from reporting.selectors import (
    PROVIDER_ELEMENTS,
    authorities_for,
    districts_for,
    may_list_case_references,
    report_output_get_for_user,
    report_run_get_for_user,
    report_runs_for_user,
    return_submission_get_for_user,
    return_submissions_for_user,
    return_templates_needing_check,
    return_versions,
    run_submission,
)
from reporting.services import (
    SUBMITTABLE,
    report_run_request,
    return_submission_record,
    return_submission_verify,
)
from safer.access.roles import role_required, user_roles
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.models import AccessAction
from safer.audit.services import access_log_record
from safer.db_routing import replica_reads

DASHBOARD_ROLES = (Role.COMMISSIONER, Role.SPA_MANAGER)
PROVIDER_ROLES = (Role.PROVIDER_MANAGER, Role.SPA_MANAGER)
RUNS_SHOWN = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # role_required let only a signed-in user through
    return request.user


# --- Report runs --------------------------------------------------------------------------------


@require_GET
@role_required(*RUN_ROLES)
def report_run_list(request: HttpRequest) -> HttpResponse:
    runs = report_runs_for_user(_user(request))[:RUNS_SHOWN]
    return render(
        request,
        "reporting/run_list.html",
        {"runs": runs, "templates_needing_check": return_templates_needing_check()},
    )


@require_http_methods(["GET", "POST"])
@role_required(*RUN_ROLES)
def report_run_request_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ReportRequestForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        contract = form.cleaned_data.get("contract")
        try:
            run = report_run_request(
                kind=form.cleaned_data["kind"],
                period=form.cleaned_data["period"],
                authorities=list(form.cleaned_data["authorities"]),
                contract=contract,
                requested_by=user,
                includes_case_references=may_list_case_references(user, contract),
            )
        except ReportRequestError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Your report has been queued. This page shows its progress.")
            return redirect("reporting:run-detail", run_id=run.pk)
    return render(
        request,
        "reporting/run_request.html",
        {"form": form, "templates_needing_check": return_templates_needing_check()},
    )


@require_GET
@role_required(*RUN_ROLES)
def report_run_detail(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    run = report_run_get_for_user(user=user, run_id=run_id)
    context = {
        "run": run,
        "outputs": list(run.outputs.all()),
        "is_staff": request.user.is_staff,
        **_submission_context(user, run),
    }
    # htmx polls for the status panel alone; without JavaScript the whole page refreshes.
    if getattr(request, "htmx", False):
        response = render(request, "reporting/_run_status.html", context)
    else:
        response = render(request, "reporting/run_detail.html", context)
    # One URL, two bodies: a cache (or the back button) must not hand the panel out as the page.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _submission_context(
    user: User, run: Any, form: ReturnSubmitForm | None = None
) -> dict[str, Any]:
    submission = run_submission(run)
    may_submit = (
        submission is None
        and Role.COMMISSIONER in user_roles(user)
        and run.kind in SUBMITTABLE
        and run.suppressed
        and run.status == "succeeded"
    )
    return {
        "submission": submission,
        "submit_form": (form or ReturnSubmitForm()) if may_submit else None,
        "restatement": run.restatement if run.restates_id else None,
    }


@require_http_methods(["POST"])
@role_required(Role.COMMISSIONER)
def report_run_submit(request: HttpRequest, run_id: uuid.UUID) -> HttpResponse:
    """Mark a ready return as submitted (who, when, to whom): its cells and files are frozen."""
    user = _user(request)
    run = report_run_get_for_user(user=user, run_id=run_id)
    form = ReturnSubmitForm(request.POST)
    if form.is_valid():
        try:
            submission = return_submission_record(
                run=run,
                submitted_by=user,
                submitted_to=form.cleaned_data["submitted_to"],
                note=form.cleaned_data["note"],
            )
        except ReportRequestError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"Version {submission.version} is recorded as submitted. It is now frozen."
            )
            return redirect("reporting:submission-detail", submission_id=submission.pk)
    context = {
        "run": run,
        "outputs": list(run.outputs.all()),
        "is_staff": request.user.is_staff,
        **_submission_context(user, run, form),
    }
    return render(request, "reporting/run_detail.html", context, status=400)


@require_GET
@role_required(*SUBMISSION_ROLES)
def return_submission_list(request: HttpRequest) -> HttpResponse:
    submissions = return_submissions_for_user(_user(request))[:RUNS_SHOWN]
    return render(request, "reporting/submission_list.html", {"submissions": submissions})


@require_GET
@role_required(*SUBMISSION_ROLES)
def return_submission_detail(request: HttpRequest, submission_id: uuid.UUID) -> HttpResponse:
    """The submitted return: who sent it, to whom, its hashes (checked now), and every later
    version with the cells it restates and the records behind them."""
    user = _user(request)
    submission = return_submission_get_for_user(user=user, submission_id=submission_id)
    return render(
        request,
        "reporting/submission_detail.html",
        {
            "submission": submission,
            "verified": return_submission_verify(submission=submission),
            "versions": return_versions(submission),
            # References are for the auditor; a commissioner never sees a case reference.
            "show_references": Role.AUDITOR in user_roles(user),
            "may_open_runs": bool(user_roles(user) & RUN_ROLES),
        },
    )


@require_GET
@role_required(*RUN_ROLES)
def report_output_download(
    request: HttpRequest, run_id: uuid.UUID, output_format: str
) -> HttpResponse:
    output = report_output_get_for_user(
        user=_user(request), run_id=run_id, output_format=output_format
    )
    try:
        with output.file.open("rb") as handle:
            content = handle.read()  # a report is at most a few megabytes
    except FileNotFoundError:
        raise Http404("No record found") from None
    access_log_record(
        user=request.user, action=AccessAction.DOWNLOAD, record=output, request=request
    )
    response = HttpResponse(content, content_type=output.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=output.filename) or "attachment"
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Dashboards ---------------------------------------------------------------------------------


@require_GET
@role_required(*DASHBOARD_ROLES)
def commissioner_dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DashboardFilterForm(request.GET or None, user=user)
    authorities = list(authorities_for(user))
    if not authorities:
        return render(request, "reporting/dashboard.html", {"form": form, "no_scope": True})
    if form.is_bound and not form.is_valid():
        # Figures for anything but what was asked would mislead: the errors alone.
        return render(request, "reporting/dashboard.html", {"form": form})
    data = form.cleaned_data if form.is_bound else {}
    authority = data.get("authority") or authorities[0]
    dashboard = DashboardRequest(
        authority_ids=(authority.pk,),
        period=_period(data.get("period")),
        district_id=_district_in(data.get("district"), authority.pk),
        service_element=data.get("service_element") or "",
    )
    snapshot = dashboard_get(dashboard)
    return render(
        request,
        "reporting/dashboard.html",
        {
            "form": form,
            "heading": f"{authority.name}: dashboard",
            "snapshot": snapshot,
            "payload": snapshot.payload,
            "charts": _charts(snapshot.payload),
        },
    )


@require_GET
@role_required(*DASHBOARD_ROLES)
def joint_board_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DashboardFilterForm(request.GET or None, user=user)
    authorities = list(authorities_for(user))
    for name in ("authority", "district", "service_element"):
        del form.fields[name]  # every authority of the user, side by side; period only
    context: dict[str, Any] = {"form": form, "board": None, "no_scope": not authorities}
    if form.is_bound and not form.is_valid():
        return render(request, "reporting/joint_board.html", context)
    if authorities:
        period = _period(form.cleaned_data.get("period") if form.is_bound else None)
        with replica_reads():  # figures only: from the read replica when there is one
            context["board"] = joint_board(
                authority_ids=tuple(a.pk for a in authorities), period=period
            )
    return render(request, "reporting/joint_board.html", context)


@require_GET
@role_required(*PROVIDER_ROLES)
def provider_dashboard(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    organisation = user.organisation
    elements = PROVIDER_ELEMENTS.get(organisation.kind) if organisation else None  # type: ignore[call-overload]
    authorities = list(authorities_for(user))
    if organisation is None or not elements or not authorities:
        return render(request, "reporting/provider_dashboard.html", {"no_scope": True})
    form = DashboardFilterForm(request.GET or None, user=user)
    del form.fields["service_element"]  # the organisation's own services only
    if form.is_bound and not form.is_valid():
        return render(request, "reporting/provider_dashboard.html", {"form": form})
    data = form.cleaned_data if form.is_bound else {}
    authority = data.get("authority") or authorities[0]
    # Scoped to the organisation's own jobs and cases; referrals (the SPA's work) are not
    # narrowed by it. Exact figures: the provider's own, internal.
    dashboard = DashboardRequest(
        authority_ids=(authority.pk,),
        period=_period(data.get("period")),
        district_id=_district_in(data.get("district"), authority.pk),
        provider_id=organisation.pk,
        elements=elements,
    )
    snapshot = dashboard_get(dashboard)
    return render(
        request,
        "reporting/provider_dashboard.html",
        {
            "form": form,
            "heading": f"{organisation.name}: {authority.name}",
            "snapshot": snapshot,
            "payload": snapshot.payload,
            "charts": _charts(snapshot.payload),
        },
    )


def _period(code: str | None) -> Period:
    """The chosen period (the form checked it is one of the choices), or this quarter."""
    return Period.parse(code) if code else Period.quarter_containing(timezone.localdate())


def _district_in(value: str | None, authority_id: uuid.UUID) -> uuid.UUID | None:
    if not value:
        return None
    district = districts_for([authority_id]).filter(pk=value).first()
    return district.pk if district else None


def _charts(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One chart per quarterly series and one for district equity, each with its table."""
    charts = []
    series = payload.get("tables", {}).get("series")
    if series:
        for row in series["rows"]:
            chart_id = f"chart-{row['code']}"
            charts.append(
                {
                    "id": chart_id,
                    "title": row["label"],
                    "columns": series["columns"],
                    "cells": row["cells"],
                    "svg": mark_safe(  # noqa: S308 - built by reporting.charts, text escaped
                        bar_chart(
                            title=row["label"],
                            bars=[
                                Bar(label, number, shown)
                                for label, number, shown in zip(
                                    series["columns"], row["numbers"], row["cells"], strict=True
                                )
                            ],
                            describedby=f"{chart_id}-table",
                            chart_id=chart_id,
                        )
                    ),
                }
            )
    equity = payload.get("tables", {}).get("equity")
    if equity and equity["rows"]:
        districts = [r for r in equity["rows"] if r["code"] not in ("county", "average")]
        county = next((r for r in equity["rows"] if r["code"] == "county"), None)
        average = county["numbers"][2] if county else None
        charts.append(
            {
                "id": "chart-equity",
                "title": "Referrals per 10,000 residents",
                "equity": True,
                "svg": mark_safe(  # noqa: S308 - built by reporting.charts, text escaped
                    bar_chart(
                        title="Referrals per 10,000 residents by district",
                        bars=[Bar(r["label"], r["numbers"][2], r["cells"][2]) for r in districts],
                        target=average,
                        target_label=f"County {average:.2f}" if average is not None else "",
                        describedby="table-equity",
                        chart_id="chart-equity",
                    )
                ),
            }
        )
    return charts
