"""A worker's caseload and a provider manager's view of their organisation's cases."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from safer.access.roles import role_required
from safer.access.scoping import user_authorities
from safer.access.seams import access_log_record_many
from safer.accounts.roles import Role
from safer.audit.models import AccessAction
from safer.organisations.models import District
from support.filters import CaseloadFilterForm
from support.selectors.caseload import (
    team_overview,
    worker_caseload_for_manager,
    worker_caseload_page,
)
from support.views.common import WORKER_ROLES, user_of
from support.workspace import caseload_per_worker_panel


@role_required(*WORKER_ROLES)
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    districts = District.objects.filter(authority__in=user_authorities(request.user))
    form = CaseloadFilterForm(request.GET or None, districts=districts)
    page = worker_caseload_page(user=request.user, filters=form.filters(), params=request.GET)
    # Rows name people: logged like a search result page, the cases on this page only, in one
    # write.
    access_log_record_many(
        user=request.user,
        action=AccessAction.SEARCH,
        records=[row.case for row in page],
        request=request,
    )
    filtered = any(key != "page" for key in request.GET)
    return render(
        request,
        "support/caseload.html",
        {"rows": page.object_list, "page": page, "form": form, "filtered": filtered},
    )


@role_required(Role.PROVIDER_MANAGER)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    overviews = team_overview(user=request.user, params=request.GET)
    # The cases on this page (each once), in one write.
    shown = [case for overview in overviews for case in overview.shown]
    access_log_record_many(
        user=request.user, action=AccessAction.SEARCH, records=shown, request=request
    )
    # Each worker's open cases and what is late, linking to that worker's caseload (from where a
    # case is opened and transferred): counts only, so nothing more to log.
    per_worker = caseload_per_worker_panel(user_of(request))
    return render(request, "support/team.html", {"overviews": overviews, "per_worker": per_worker})


@role_required(Role.PROVIDER_MANAGER)
@require_GET
def worker_caseload_view(request: HttpRequest, worker_id: uuid.UUID) -> HttpResponse:
    """A provider manager's view of one of their workers' caseloads (404 for anyone else's), a
    page at a time."""
    worker, page = worker_caseload_for_manager(
        manager=request.user, worker_id=worker_id, params=request.GET
    )
    access_log_record_many(
        user=request.user,
        action=AccessAction.SEARCH,
        records=[row.case for row in page],
        request=request,
    )
    return render(
        request,
        "support/worker_caseload.html",
        {"worker": worker, "rows": page.object_list, "page": page},
    )
