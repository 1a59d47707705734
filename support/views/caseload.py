"""A worker's caseload and a provider manager's view of their organisation's cases."""

from __future__ import annotations

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
from support.selectors.caseload import team_overview, worker_caseload
from support.views.common import WORKER_ROLES


@role_required(*WORKER_ROLES)
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    districts = District.objects.filter(authority__in=user_authorities(request.user))
    form = CaseloadFilterForm(request.GET or None, districts=districts)
    rows = worker_caseload(user=request.user, filters=form.filters())
    # Rows name people: logged like a search result page.
    access_log_record_many(
        user=request.user,
        action=AccessAction.SEARCH,
        records=[row.case for row in rows],
        request=request,
    )
    return render(
        request,
        "support/caseload.html",
        {"rows": rows, "form": form, "filtered": bool(request.GET)},
    )


@role_required(Role.PROVIDER_MANAGER)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    overviews = team_overview(user=request.user)
    shown = [
        case
        for overview in overviews
        for case in [
            *overview.waiting,
            *(row.case for _, rows in overview.by_worker for row in rows),
        ]
    ]
    access_log_record_many(
        user=request.user, action=AccessAction.SEARCH, records=shown, request=request
    )
    return render(request, "support/team.html", {"overviews": overviews})
