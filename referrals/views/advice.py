"""Information-and-advice-only contacts, under the triage area (SPA staff of the authority)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from referrals import selectors, services
from referrals.exceptions import ReferralError
from referrals.forms.triage import AdviceContactForm, AdviceFilterForm
from referrals.views.triage import PAGE_SIZE, TRIAGE_ROLES, _posted, _user
from safer.access.roles import role_required
from safer.access.scoping import user_authorities
from safer.organisations.models import District


def _districts(request: HttpRequest) -> QuerySet[District]:
    return District.objects.filter(authority__in=user_authorities(request.user)).order_by("name")


@role_required(*TRIAGE_ROLES)
@require_GET
def advice_list(request: HttpRequest) -> HttpResponse:
    form = AdviceFilterForm(request.GET or None, districts=_districts(request))
    filters = selectors.AdviceFilters()
    if form.is_valid():
        district = form.cleaned_data["district"]
        filters = selectors.AdviceFilters(
            month=form.month_start(), district_id=district.pk if district else None
        )
    contacts = selectors.advice_contacts(user=request.user, filters=filters)
    page = Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/advice/list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def advice_create(request: HttpRequest) -> HttpResponse:
    form = AdviceContactForm(
        _posted(request),
        authorities=user_authorities(request.user).order_by("name"),
        districts=_districts(request),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.advice_contact_record(
                    user=_user(request),
                    authority=data["authority"],
                    district=data["district"],
                    contacted_on=data["contacted_on"],
                    caller_type=data["caller_type"],
                    agency_type=data["agency_type"],
                    method=data["method"],
                    topics=data["topics"],
                    signposted_to=data["signposted_to"],
                    duration_minutes=data["duration_minutes"],
                    note=data["note"],
                )
            except ReferralError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, "Advice contact recorded.")
                return redirect("referrals:advice-list")
    return render(request, "referrals/advice/form.html", {"form": form}, status=status)
