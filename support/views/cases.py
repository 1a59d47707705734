"""Case pages both kinds share: the detail pages, allocation, transfer, contact, closure and
sharing with the other service. Reads go through the seams; writes through the services."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from safer.access.roles import role_required, user_roles
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import ContactChannel
from safer.casefile.templatetags.casefile import safe_contact_warnings
from support.charts import gbo_chart
from support.forms import AllocateForm, CloseForm, ContactAttemptForm, ShareForm, TransferForm
from support.models import AdultSupportCase, CypCase
from support.selectors.cases import (
    adult_case_detail_for_user,
    cyp_case_detail_for_user,
    support_case_access_for,
    support_case_closure_for_user,
    support_case_contract_warning,
)
from support.selectors.closure import adult_exit_measures_missing, cyp_exit_measures_missing
from support.selectors.config import workers_for
from support.services import adult as adult_services
from support.services import cyp as cyp_services
from support.services.common import contact_attempt_record
from support.services.sharing import support_case_share
from support.views.common import (
    CASE_ROLES,
    KINDS,
    case_context,
    case_form_page,
    get_case_for_work,
    user_of,
)

ADULT_ACTIONS = (
    ("support:adult-contact", "Contact attempt"),
    ("support:adult-session", "Session"),
    ("support:adult-needs", "Needs assessment"),
    ("support:adult-safety-plan", "Safety plan"),
    ("support:adult-goal", "Support plan goal"),
    ("support:adult-outcomes", "Outcome measures"),
)
CYP_ACTIONS = (
    ("support:cyp-review", "Referral review (eligibility)"),
    ("support:cyp-contact", "Contact attempt"),
    ("support:cyp-function", "Engagement or therapeutic work"),
    ("support:cyp-session", "Session"),
    ("support:cyp-goal", "Goal (GBO)"),
    ("support:cyp-exit-plan", "Exit plan"),
    ("support:cyp-feedback", "The child's feedback"),
    ("support:cyp-concern", "Safeguarding concern"),
)


@role_required(*CASE_ROLES)
@require_GET
def adult_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    detail = adult_case_detail_for_user(user=request.user, case_id=case_id, request=request)
    context = {**case_context(detail.case), "detail": detail, "actions": ADULT_ACTIONS}
    return render(request, "support/adult_detail.html", context)


@role_required(*CASE_ROLES)
@require_GET
def cyp_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    detail = cyp_case_detail_for_user(user=request.user, case_id=case_id, request=request)
    context = {
        **case_context(detail.case),
        "detail": detail,
        "chart": gbo_chart(detail.gbo),
        "actions": CYP_ACTIONS,
    }
    return render(request, "support/cyp_detail.html", context)


def _workers(case: AdultSupportCase | CypCase, kind: str) -> Any:
    return workers_for(
        provider=case.provider, role=KINDS[kind].worker_role, authority_id=case.authority_id
    )


@role_required(Role.PROVIDER_MANAGER)
@require_http_methods(["GET", "POST"])
def case_allocate(request: HttpRequest, case_id: uuid.UUID, kind: str) -> HttpResponse:
    user = user_of(request)
    case = get_case_for_work(request, kind, case_id)
    if case.provider_id != user.organisation_id:
        raise PermissionDenied
    form = AllocateForm(request.POST or None, workers=_workers(case, kind))

    def allocate(data: dict[str, Any]) -> object:
        if isinstance(case, CypCase):
            return cyp_services.cyp_case_allocate(
                case=case, worker=data["worker"], allocated_by=user
            )
        return adult_services.adult_support_case_allocate(
            case=case, worker=data["worker"], allocated_by=user
        )

    return case_form_page(
        request,
        case=case,
        form=form,
        title="Allocate the case",
        submit="Allocate",
        action=allocate,
        success="Case allocated",
        extra={"warning": support_case_contract_warning(case, on=timezone.localdate())},
    )


def _check_can_manage(user: User, case: AdultSupportCase | CypCase) -> None:
    if not support_case_access_for(user=user, case=case).can_manage:
        raise PermissionDenied


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def case_transfer(request: HttpRequest, case_id: uuid.UUID, kind: str) -> HttpResponse:
    user = user_of(request)
    case = get_case_for_work(request, kind, case_id)
    _check_can_manage(user, case)
    workers = _workers(case, kind).exclude(pk=case.allocated_worker_id)
    form = TransferForm(request.POST or None, workers=workers)

    def transfer(data: dict[str, Any]) -> object:
        worker, note = data["worker"], data["handover_note"]
        if isinstance(case, CypCase):
            return cyp_services.cyp_case_transfer(
                case=case, worker=worker, transferred_by=user, handover_note=note
            )
        return adult_services.adult_support_case_transfer(
            case=case, worker=worker, transferred_by=user, handover_note=note
        )

    return case_form_page(
        request,
        case=case,
        form=form,
        title="Transfer the case to another worker",
        submit="Transfer",
        action=transfer,
        success="Case transferred",
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def case_contact(request: HttpRequest, case_id: uuid.UUID, kind: str) -> HttpResponse:
    user = user_of(request)
    case = get_case_for_work(request, kind, case_id)
    form = ContactAttemptForm(request.POST or None)
    context = case_context(case)
    rules = context["safe_contact"]
    unsafe = [
        str(label)
        for value, label in ContactChannel.choices
        if rules is None or not rules.channel_is_safe(value)
    ]
    return case_form_page(
        request,
        case=case,
        form=form,
        title="Record a contact attempt",
        intro="Read the safe-contact rules above before any attempt.",
        action=lambda data: contact_attempt_record(
            case=case,
            channel=data["channel"],
            outcome=data["outcome"],
            recorded_by=user,
            note=data["note"],
            unsafe_channel_reason=data["unsafe_channel_reason"],
        ),
        success="Contact attempt recorded",
        extra={"unsafe_channels": unsafe, "warnings": safe_contact_warnings(rules)},
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def case_close(request: HttpRequest, case_id: uuid.UUID, kind: str) -> HttpResponse:
    user = user_of(request)
    case = get_case_for_work(request, kind, case_id)
    form = CloseForm(request.POST or None)

    def close(data: dict[str, Any]) -> object:
        fields = {
            "reason": data["reason"],
            "exit_outcome": data["exit_outcome"],
            "closed_by": user,
            "note": data["note"],
            "exit_measures_missing_reason": data["exit_measures_missing_reason"],
        }
        if isinstance(case, CypCase):
            return cyp_services.cyp_case_close(case=case, **fields)
        return adult_services.adult_support_case_close(case=case, **fields)

    missing = (
        cyp_exit_measures_missing(case=case)
        if isinstance(case, CypCase)
        else adult_exit_measures_missing(case=case)
    )
    return case_form_page(
        request,
        case=case,
        form=form,
        title="Close the case",
        submit="Close the case",
        intro="Record the outcome measures or end scores first: a closed case cannot be changed.",
        action=close,
        success="Case closed",
        # The worker loses an allocated case when it closes: land on its closure summary.
        next_url=reverse(f"support:{kind}-closed", kwargs={"case_id": case.pk}),
        extra={"missing_exit_measures": missing},
    )


@role_required(*CASE_ROLES)
@require_GET
def case_closed(request: HttpRequest, case_id: uuid.UUID, kind: str) -> HttpResponse:
    """Where closing a case lands: its closure details, no actions. The worker who closed it
    no longer sees the case itself; the provider's managers do, and get a link to it."""
    model = CypCase if kind == "cyp" else AdultSupportCase
    summary = support_case_closure_for_user(
        user=request.user, model=model, case_id=case_id, request=request
    )
    if summary.case.is_open:
        return redirect(KINDS[kind].detail_url(summary.case))
    return render(
        request,
        "support/case_closed.html",
        {
            "summary": summary,
            "case": summary.case,
            "kind": KINDS[kind],
            "back_url": reverse(
                "support:team"
                if Role.PROVIDER_MANAGER in user_roles(request.user)
                else "support:caseload"
            ),
        },
    )


@role_required(*CASE_ROLES)
@require_http_methods(["GET", "POST"])
def case_share(request: HttpRequest, case_id: uuid.UUID, kind: str) -> HttpResponse:
    """Share (read only) with a worker of the other service who works with this household."""
    user = user_of(request)
    case = get_case_for_work(request, kind, case_id)
    _check_can_manage(user, case)
    # The workers of the household's open cases with the other service (the service checks
    # again that they can see the case file).
    other_model = AdultSupportCase if kind == "cyp" else CypCase
    readers = User.objects.filter(
        pk__in=other_model.objects.open()
        .filter(case_file_id=case.case_file_id, allocated_worker__isnull=False)
        .values("allocated_worker_id"),
        is_active=True,
    ).order_by("full_name")
    form = ShareForm(request.POST or None, readers=readers)
    return case_form_page(
        request,
        case=case,
        form=form,
        title="Share this case with the other service",
        submit="Share",
        intro=(
            "They will be able to read this case, its notes included, but not change it. "
            "Share only with consent, or when safeguarding needs it."
        ),
        action=lambda data: support_case_share(
            case=case, user=data["reader"], shared_by=user, basis=data["basis"]
        ),
        success="Case shared",
    )
