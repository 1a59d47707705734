"""What the support pages share: the two case kinds side by side, and the one form-page flow."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import SafeContactRules
from safer.concurrency import (
    EditConflict,
    Versioned,
    VersionField,
    conflict_context,
    form_version_set,
)
from support.exceptions import InvalidTransition, SupportError, UnsafeChannel
from support.models import AdultSupportCase, CypCase
from support.selectors import cases as case_selectors

# Everyone who may open a support case page; the seams decide which cases (404 otherwise).
CASE_ROLES = (Role.ADULT_SUPPORT_WORKER, Role.CYP_WORKER, Role.PROVIDER_MANAGER)
WORKER_ROLES = (Role.ADULT_SUPPORT_WORKER, Role.CYP_WORKER)
SESSION_INTRO = (
    "Read the safe-contact rules above: a session by phone, video, text or email, or face to "
    "face, that goes against them needs a reason."
)


@dataclass(frozen=True)
class Kind:
    slug: str
    label: str
    worker_role: Role
    get_for_user: Callable[..., Any]
    get_for_work: Callable[..., Any]

    def detail_url(self, case: AdultSupportCase | CypCase) -> str:
        return reverse(f"support:{self.slug}-detail", kwargs={"case_id": case.pk})


KINDS = {
    "adult": Kind(
        slug="adult",
        label="Adult support case",
        worker_role=Role.ADULT_SUPPORT_WORKER,
        get_for_user=case_selectors.adult_support_case_get_for_user,
        get_for_work=case_selectors.adult_support_case_get_for_work,
    ),
    "cyp": Kind(
        slug="cyp",
        label="CYP case",
        worker_role=Role.CYP_WORKER,
        get_for_user=case_selectors.cyp_case_get_for_user,
        get_for_work=case_selectors.cyp_case_get_for_work,
    ),
}


def user_of(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # role_required let only signed-in users through
    return user


def kind_of(case: AdultSupportCase | CypCase) -> Kind:
    return KINDS["cyp" if isinstance(case, CypCase) else "adult"]


def person_name(case: AdultSupportCase | CypCase) -> str:
    person = case.child if isinstance(case, CypCase) else case.survivor
    return f"{person.given_name} {person.family_name}".strip()


def case_context(case: AdultSupportCase | CypCase) -> dict[str, Any]:
    """What the top of every case page needs: the safe-contact rules and the safeguarding flag."""
    return {
        "case": case,
        "kind": kind_of(case),
        "detail_url": kind_of(case).detail_url(case),
        "person_name": person_name(case),
        "safe_contact": SafeContactRules.objects.filter(case_file_id=case.case_file_id).first(),
        "safeguarding": case.case_file.safeguarding_flag,
    }


def get_case_for_work(
    request: HttpRequest, kind: str, case_id: uuid.UUID
) -> AdultSupportCase | CypCase:
    case: AdultSupportCase | CypCase = KINDS[kind].get_for_work(
        user=user_of(request), case_id=case_id, request=request
    )
    return case


def case_form_page(
    request: HttpRequest,
    *,
    case: AdultSupportCase | CypCase,
    form: forms.Form,
    title: str,
    action: Callable[[dict[str, Any]], object],
    success: str,
    submit: str = "Save",
    intro: str = "",
    template: str = "support/case_form.html",
    extra: dict[str, Any] | None = None,
    next_url: str | None = None,
    edits: Versioned | None = None,
    stored: Callable[[], Mapping[str, Any]] | None = None,
) -> HttpResponse:
    """GET shows the form; a valid POST calls ``action`` (a service) and goes back to the case.

    A domain error is shown on the form (409 for a state that no longer allows it, 400 for
    other refusals), never a 500; nothing typed is lost.

    A form that edits a stored record names it in ``edits``: the form then carries the
    record's version (hidden; ``action`` gets it as ``cleaned_data["version"]`` to pass on as
    ``expected_version``), and when someone else saved first the page says who and when,
    keeps what was typed and shows what is stored now (``stored()``, by form field), with 409.
    """
    status = 200
    conflict: dict[str, Any] = {}
    if edits is not None:
        form.fields["version"] = VersionField()
        if not form.is_bound:
            form_version_set(form, edits.version)
    if request.method == "POST":
        if form.is_valid():
            try:
                action(form.cleaned_data)
            except EditConflict as changed:
                conflict = conflict_context(form, changed, stored() if stored else {})
                status = 409
            except UnsafeChannel as warning:
                form.add_error(
                    "unsafe_channel_reason" if "unsafe_channel_reason" in form.fields else None,
                    warning.message,
                )
                status = 400
            except SupportError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
                status = 409 if isinstance(error, InvalidTransition) else 400
            else:
                messages.success(request, success)
                return redirect(next_url or kind_of(case).detail_url(case))
        else:
            status = 400
    context = {
        **case_context(case),
        "form": form,
        "title": title,
        "submit": submit,
        "intro": intro,
        **conflict,
        **(extra or {}),
    }
    return render(request, template, context, status=status)
