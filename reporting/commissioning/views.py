"""Commissioners' pages for commissioning data, under /reports/commissioning/.

Commissioned units: a list for an authority and financial year, an add form and an edit form.
Support-contract spend: the support contracts with recorded spend against budget for a quarter,
one contract's entries by quarter, and a form to add a payment or an adjusting entry.

Commissioners only (``role_required``); every row and contract comes through a selector that
starts from the user's authorities, so another authority's is a 404. No person appears here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from reporting.commissioning.selectors import (
    authority_id_of,
    commissioned_units_for,
    commissioned_units_get_for_user,
    commissioned_units_totals,
    commissioning_authorities_for,
    contract_spend_by_quarter,
    contract_spend_corrected_total,
    contract_spend_get_for_user,
    contracts_for_commissioner,
    providers_for,
    support_contract_get_for_user,
    support_spend_summary,
)
from reporting.commissioning.services import (
    CommissioningError,
    commissioned_units_record,
    commissioned_units_update,
    contract_spend_record,
)
from reporting.forms import CommissionedUnitsForm, ContractSpendForm, financial_year_choices
from reporting.periods import YEAR, Period
from reporting.selectors import period_choices
from safer.access.roles import role_required
from safer.accounts.models import User
from safer.accounts.roles import Role
from support.models import SafeAccommodationType


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # role_required let only a signed-in user through
    return request.user


def _year(code: str | None) -> Period:
    if code:
        try:
            period = Period.parse(code)
        except ValueError:
            pass
        else:
            if period.kind == YEAR:
                return period
    return Period.year_containing(timezone.localdate())


def _quarter(code: str | None) -> Period:
    if code:
        try:
            period = Period.parse(code)
        except ValueError:
            pass
        else:
            return period if period.quarter else Period.quarter_containing(period.end)
    # The last complete quarter: payments for the current one are rarely in yet.
    return Period.quarter_containing(timezone.localdate()).previous()


# --- Commissioned units -------------------------------------------------------------------------


@require_GET
@role_required(Role.COMMISSIONER)
def commissioned_units_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    authorities = commissioning_authorities_for(user)
    authority_list = list(authorities)
    chosen = authority_id_of(request.GET.get("authority"), authorities)
    authority = next((a for a in authority_list if a.pk == chosen), None) or (
        authority_list[0] if authority_list else None
    )
    year = _year(request.GET.get("year"))
    rows = (
        list(commissioned_units_for(user=user, authority=authority, financial_year=year.code))
        if authority
        else []
    )
    by_type, total = (
        commissioned_units_totals(authority=authority, year=year) if authority else ({}, 0)
    )
    totals = [(label, by_type.get(code, 0)) for code, label in SafeAccommodationType.choices]
    return render(
        request,
        "reporting/commissioning/units_list.html",
        {
            "authority": authority,
            "authorities": authority_list,
            "year": year,
            "years": financial_year_choices(),
            "rows": rows,
            "totals": totals,
            "total": total,
        },
    )


def _units_form(request: HttpRequest, user: User, **kwargs: Any) -> CommissionedUnitsForm:
    authorities = commissioning_authorities_for(user)
    return CommissionedUnitsForm(
        request.POST or None,
        authorities=authorities,
        providers=providers_for(authorities),
        contracts=contracts_for_commissioner(user),
        **kwargs,
    )


def _units_list_url(authority_id: uuid.UUID, year: str) -> str:
    return f"{reverse('reporting:commissioned-units')}?authority={authority_id}&year={year}"


@require_http_methods(["GET", "POST"])
@role_required(Role.COMMISSIONER)
def commissioned_units_add(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = _units_form(
        request,
        user,
        initial={
            "financial_year": _year(request.GET.get("year")).code,
            "authority": authority_id_of(
                request.GET.get("authority"), commissioning_authorities_for(user)
            ),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = commissioned_units_record(
                authority=data["authority"],
                financial_year=data["financial_year"],
                accommodation_type=data["accommodation_type"],
                units=data["units"],
                provider=data["provider"],
                contract=data["contract"],
                note=data["note"],
                recorded_by=user,
            )
        except CommissioningError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The commissioned units have been recorded.")
            return redirect(_units_list_url(record.authority_id, record.financial_year))
    return render(
        request,
        "reporting/commissioning/units_form.html",
        {
            "form": form,
            "title": "Record commissioned units",
            "back": reverse("reporting:commissioned-units"),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COMMISSIONER)
def commissioned_units_edit(request: HttpRequest, units_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    record = commissioned_units_get_for_user(user=user, units_id=units_id)
    form = _units_form(
        request,
        user,
        editing=True,
        initial={
            "accommodation_type": record.accommodation_type,
            "units": record.units,
            "provider": record.provider_id,
            "contract": record.contract_id,
            "note": record.note,
        },
    )
    back = _units_list_url(record.authority_id, record.financial_year)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            commissioned_units_update(
                record=record,
                accommodation_type=data["accommodation_type"],
                units=data["units"],
                provider=data["provider"],
                contract=data["contract"],
                note=data["note"],
                updated_by=user,
            )
        except CommissioningError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "The commissioned units have been changed.")
            return redirect(back)
    return render(
        request,
        "reporting/commissioning/units_form.html",
        {
            "form": form,
            "title": f"Change commissioned units: {record.authority.name} {record.financial_year}",
            "back": back,
        },
    )


# --- Support-contract spend ---------------------------------------------------------------------


@require_GET
@role_required(Role.COMMISSIONER)
def contract_spend_list(request: HttpRequest) -> HttpResponse:
    period = _quarter(request.GET.get("period"))
    summaries = support_spend_summary(user=_user(request), period=period)
    return render(
        request,
        "reporting/commissioning/spend_list.html",
        {
            "period": period,
            "periods": [(code, label) for code, label in period_choices() if "-Q" in code],
            "summaries": summaries,
        },
    )


@require_GET
@role_required(Role.COMMISSIONER)
def contract_spend_detail(request: HttpRequest, contract_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    contract = support_contract_get_for_user(user=user, contract_id=contract_id)
    year = _year(request.GET.get("year"))
    quarters = contract_spend_by_quarter(user=user, contract=contract, year=year)
    return render(
        request,
        "reporting/commissioning/spend_detail.html",
        {
            "contract": contract,
            "year": year,
            "years": financial_year_choices(),
            "quarters": quarters,
            "year_spend": sum(q.spend for q in quarters),
            "year_budget": contract.budget_between(year.start, year.end),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COMMISSIONER)
def contract_spend_add(request: HttpRequest, contract_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    contract = support_contract_get_for_user(user=user, contract_id=contract_id)
    corrects_id = request.POST.get("corrects") or request.GET.get("corrects")
    corrects = (
        contract_spend_get_for_user(user=user, contract=contract, entry_id=corrects_id)
        if corrects_id
        else None
    )
    initial: dict[str, Any] = {}
    if corrects is not None:
        initial = {
            "period_start": corrects.period_start,
            "period_end": corrects.period_end,
            "reference": corrects.reference,
        }
    form = ContractSpendForm(request.POST or None, initial=initial, correcting=corrects is not None)
    back = reverse("reporting:contract-spend-detail", kwargs={"contract_id": contract.pk})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = contract_spend_record(
                contract=contract,
                period_start=data["period_start"],
                period_end=data["period_end"],
                amount=data["amount"],
                reference=data["reference"],
                note=data["note"],
                corrects=corrects,
                recorded_by=user,
            )
        except CommissioningError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                "The correction has been recorded."
                if corrects
                else "The payment has been recorded.",
            )
            return redirect(f"{back}?year={Period.year_containing(entry.period_start).code}")
    corrected_total = contract_spend_corrected_total(corrects) if corrects else None
    return render(
        request,
        "reporting/commissioning/spend_form.html",
        {
            "form": form,
            "contract": contract,
            "corrects": corrects,
            "corrected_total": corrected_total,
            "back": back,
        },
    )
