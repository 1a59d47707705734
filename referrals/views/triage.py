"""Triage pages for the SPA team (triage workers and managers; everyone else is refused)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from referrals import selectors, services
from referrals.exceptions import InvalidTransition, ReferralError, UnsafeContact
from referrals.forms.triage import (
    AcceptForm,
    ContactAttemptForm,
    DeclineForm,
    EligibilityForm,
    MaracHearingForm,
    MaracReferralForm,
    MatchResolveForm,
    QueueFilterForm,
    RequestInformationForm,
    RiskAssessmentForm,
    WithdrawForm,
)
from referrals.models import MaracReferral, Referral, ReferralMatch, RiskLevel, SpaContactChannel
from referrals.services.contact import contact_attempt_warnings
from referrals.services.risk_policy import risk_policy_for
from referrals.sla import first_contact_rag, triage_rag
from safer.access.roles import role_required
from safer.access.scoping import user_authorities
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import ContactChannel, HouseholdRole, Person, SafeContactRules
from safer.casefile.templatetags.casefile import safe_contact_warnings
from safer.concurrency import EditConflict, conflict_context
from safer.organisations.models import District, Organisation, OrganisationKind
from safer.paging import page_without_count
from security_works.selectors import security_contract_warning

TRIAGE_ROLES = (Role.SPA_TRIAGE, Role.SPA_MANAGER)
PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # role_required let only signed-in users through
    return user


def _posted(request: HttpRequest) -> Any:
    # Not ``request.POST or None``: an empty POST must still be validated (and refused).
    return request.POST if request.method == "POST" else None


def _referral(request: HttpRequest, referral_id: object) -> Referral:
    return selectors.referral_get_for_user(
        user=request.user, referral_id=referral_id, request=request
    )


def _fail(request: HttpRequest, error: ReferralError, referral: Referral) -> HttpResponse:
    messages.error(request, error.message)
    return redirect("referrals:detail", referral_id=referral.id)


@role_required(*TRIAGE_ROLES)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    districts = District.objects.filter(authority__in=user_authorities(request.user))
    form = QueueFilterForm(request.GET or None, districts=districts)
    filters = selectors.QueueFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.QueueFilters(
            status=data["status"] or "open",
            district_id=data["district"].pk if data["district"] else None,
            urgent={"yes": True, "no": False}.get(data["urgent"]),
            risk_level=data["risk_level"],
            possible_repeat=data["possible_repeat"],
            due=data["due"],
            worker_id=request.user.pk if data["worker"] == "me" else None,
            unassigned=data["worker"] == "unassigned",
            sort=data["sort"],
        )
    page = page_without_count(
        selectors.referral_queue(user=request.user, filters=filters),
        params=request.GET,
        per_page=PAGE_SIZE,
    )
    now = timezone.now()
    rows = [
        {
            "referral": r,
            "rag": triage_rag(now=now, due=r.sla_due_at),
            "contact_rag": first_contact_rag(
                now=now, due=r.first_contact_due_at, attempted_at=r.first_contact_attempted_at
            ),
        }
        for r in page
    ]
    return render(
        request, "referrals/triage/queue.html", {"form": form, "page": page, "rows": rows}
    )


@role_required(*TRIAGE_ROLES)
@require_GET
def detail(request: HttpRequest, referral_id: str) -> HttpResponse:
    return _detail_page(request, _referral(request, referral_id))


def _detail_page(
    request: HttpRequest,
    referral: Referral,
    *,
    eligibility_form: EligibilityForm | None = None,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    case_file = referral.case_file
    assessment = selectors.referral_latest_assessment(referral=referral)
    safe_contact = getattr(case_file, "safe_contact", None)
    labels = dict(ContactChannel.choices)
    now = timezone.now()
    return render(
        request,
        "referrals/triage/detail.html",
        {
            "safe_channel_labels": [
                labels.get(c, c) for c in (safe_contact.safe_channels if safe_contact else [])
            ],
            "referral": referral,
            "case_file": case_file,
            "safe_contact": safe_contact,
            "household": case_file.household,
            "survivor": case_file.survivor,
            "people": Person.objects.filter(household=case_file.household)
            .exclude(pk=case_file.survivor_id)
            .order_by("household_role", "given_name"),
            "perpetrators": case_file.perpetrators.all(),
            "matches": selectors.referral_matches(referral=referral),
            "linked_later": selectors.referral_linked_later(referral=referral),
            "assessment": assessment,
            "maracs": referral.marac_referrals.select_related("assessment").all(),
            "eligibility_form": eligibility_form or EligibilityForm(referral=referral),
            "timeline": case_file.timeline.select_related("actor", "contact_override").order_by(
                "-occurred_at"
            )[:50],
            "holds": referral.holds.all(),
            "rag": triage_rag(now=now, due=referral.sla_due_at),
            "contact_attempts": selectors.referral_contact_attempts(referral=referral),
            "contact_rag": first_contact_rag(
                now=now,
                due=referral.first_contact_due_at,
                attempted_at=referral.first_contact_attempted_at,
            ),
            "contact_form": _contact_form(None),
            "safe_contact_warnings": safe_contact_warnings(safe_contact),
            **(extra or {}),
        },
        status=status,
    )


def _contact_form(data: Any) -> ContactAttemptForm:
    now = timezone.localtime()
    return ContactAttemptForm(
        data, initial={"attempted_on": now.date(), "attempted_time": f"{now:%H:%M}"}
    )


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def contact_attempt(request: HttpRequest, referral_id: str) -> HttpResponse:
    """Record an attempt to reach the survivor, with the safe-contact rules above the form."""
    referral = _referral(request, referral_id)
    rules = SafeContactRules.objects.filter(case_file_id=referral.case_file_id).first()
    form = _contact_form(_posted(request))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.referral_contact_attempt_record(
                    referral=referral,
                    user=_user(request),
                    channel=data["channel"],
                    outcome=data["outcome"],
                    attempted_at=form.attempted_at(),
                    note=data["note"],
                    unsafe_channel_reason=data["unsafe_channel_reason"],
                )
            except UnsafeContact as warning:
                form.add_error("unsafe_channel_reason", warning.message)
            except ReferralError as error:
                form.add_error(None, error.message)
                status = 409 if isinstance(error, InvalidTransition) else 400
            else:
                messages.success(request, "Contact attempt recorded.")
                return redirect("referrals:detail", referral_id=referral.id)
    unsafe = [
        str(label)
        for value, label in SpaContactChannel.choices
        if contact_attempt_warnings(rules, channel=value, outcome="")
    ]
    return render(
        request,
        "referrals/triage/contact_attempt.html",
        {"referral": referral, "form": form, "rules": rules, "unsafe_channels": unsafe},
        status=status,
    )


@role_required(*TRIAGE_ROLES)
@require_POST
def start(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    try:
        services.referral_triage_start(referral=referral, user=_user(request))
    except ReferralError as error:
        return _fail(request, error, referral)
    messages.success(request, "Triage started.")
    return redirect("referrals:detail", referral_id=referral.id)


@role_required(*TRIAGE_ROLES)
@require_POST
def eligibility(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    form = EligibilityForm(request.POST, referral=referral)
    if form.is_valid():
        try:
            services.referral_eligibility_record(
                referral=referral,
                user=_user(request),
                answers=form.answers(),
                expected_version=form.cleaned_data["version"],
            )
        except EditConflict as changed:
            # The other answers are shown; what this user ticked stays in the form.
            stored = Referral.objects.get(pk=referral.pk)
            conflict = conflict_context(form, changed, EligibilityForm(referral=stored).initial)
            return _detail_page(
                request, referral, eligibility_form=form, extra=conflict, status=409
            )
        except ReferralError as error:
            return _fail(request, error, referral)
        messages.success(request, "Eligibility checklist saved.")
    return redirect("referrals:detail", referral_id=referral.id)


@role_required(*TRIAGE_ROLES)
@require_POST
def match_resolve(request: HttpRequest, referral_id: str, match_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    match = get_object_or_404(ReferralMatch, pk=match_id, referral=referral)
    form = MatchResolveForm(request.POST)
    if form.is_valid():
        try:
            services.referral_match_resolve(
                match=match, user=_user(request), same_person=form.same_person
            )
        except ReferralError as error:
            return _fail(request, error, referral)
        messages.success(
            request,
            "Linked as a repeat." if form.same_person else "Marked as not the same person.",
        )
    return redirect("referrals:detail", referral_id=referral.id)


def _form_page(
    request: HttpRequest, template: str, referral: Referral, form: Any, **extra: Any
) -> HttpResponse:
    return render(request, template, {"referral": referral, "form": form, **extra})


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def risk(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    policy = risk_policy_for(authority_id=referral.case_file.authority_id)
    if policy is None:
        messages.error(request, "No risk checklist is set up for this area.")
        return redirect("referrals:detail", referral_id=referral.id)
    questions = list(policy.questionnaire.questions.order_by("number"))
    form = RiskAssessmentForm(_posted(request), questions=questions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.risk_assessment_record(
                referral=referral,
                user=_user(request),
                answers=form.answers(),
                completed_on=data["completed_on"],
                professional_judgement_level=data["professional_judgement_level"],
                professional_judgement_reason=data["professional_judgement_reason"],
                incidents_in_window=data["incidents_in_window"],
                crimes_in_window=data["crimes_in_window"],
                honour_based_abuse=data["honour_based_abuse"],
            )
        except ReferralError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Risk checklist saved.")
            return redirect("referrals:detail", referral_id=referral.id)
    bands = sorted((b.min_yes, b.get_level_display()) for b in policy.bands.all())
    return _form_page(
        request, "referrals/triage/risk.html", referral, form, policy=policy, bands=bands
    )


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def marac(request: HttpRequest, referral_id: str) -> HttpResponse:
    """A MARAC referral from the latest assessment: its answers are shown, not asked again."""
    referral = _referral(request, referral_id)
    assessment = selectors.referral_latest_assessment(referral=referral)
    if assessment is None:
        messages.error(request, "Record the DASH risk checklist before referring to MARAC.")
        return redirect("referrals:detail", referral_id=referral.id)
    form = MaracReferralForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.marac_referral_record(
                referral=referral,
                user=_user(request),
                assessment=assessment,
                area=data["area"],
                referred_on=data["referred_on"],
                meeting_on=data["meeting_on"],
            )
        except ReferralError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "MARAC referral recorded.")
            return redirect("referrals:detail", referral_id=referral.id)
    return _form_page(request, "referrals/triage/marac.html", referral, form, assessment=assessment)


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def marac_hearing(request: HttpRequest, referral_id: str, marac_id: str) -> HttpResponse:
    """Record that the MARAC heard the case (once), with its outcome."""
    referral = _referral(request, referral_id)
    record = get_object_or_404(MaracReferral, pk=marac_id, referral=referral)
    if record.heard_on is not None:
        messages.info(request, "The hearing of this MARAC referral is already recorded.")
        return redirect("referrals:detail", referral_id=referral.id)
    form = MaracHearingForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.marac_hearing_record(
                marac=record,
                user=_user(request),
                heard_on=form.cleaned_data["heard_on"],
                outcome=form.cleaned_data["outcome"],
            )
        except InvalidTransition as error:
            return _fail(request, error, referral)
        except ReferralError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "MARAC hearing recorded.")
            return redirect("referrals:detail", referral_id=referral.id)
    children = _household_children(referral).filter(lives_at_address=True).exists()
    return _form_page(
        request,
        "referrals/triage/marac_hearing.html",
        referral,
        form,
        marac=record,
        children_in_household=children,
    )


def _household_children(referral: Referral) -> QuerySet[Person]:
    return Person.objects.filter(
        household_id=referral.case_file.household_id, household_role=HouseholdRole.CHILD
    ).order_by("given_name")


def _contractors(referral: Referral) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        kind=OrganisationKind.SECURITY_CONTRACTOR,
        is_active=True,
        authorities=referral.case_file.authority_id,
    ).order_by("name")


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    form = AcceptForm(
        _posted(request),
        children=_household_children(referral),
        contractors=_contractors(referral),
        risk_assessed=referral.risk_level != RiskLevel.NOT_ASSESSED,
        contact_attempted=referral.contact_attempts.exists(),
        initial={
            "security_works": referral.requests_security_works,
            "adult_support": referral.requests_adult_support,
            "children": list(referral.children_for_support.values_list("pk", flat=True)),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.referral_accept(
                referral=referral,
                user=_user(request),
                security_works=data["security_works"],
                adult_support=data["adult_support"],
                children=list(data.get("children") or []),
                note=data["note"],
                contractor=data["contractor"],
                contractor_override_reason=data["contractor_override_reason"],
                risk_not_assessed_reason=data.get("risk_not_assessed_reason", ""),
                no_contact_attempt_reason=data.get("no_contact_attempt_reason", ""),
            )
        except InvalidTransition as error:
            return _fail(request, error, referral)
        except ReferralError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Referral {referral.reference} accepted.")
            if data["security_works"] and (
                warning := security_contract_warning(
                    case_file=referral.case_file,
                    contractor=data["contractor"],
                    on=timezone.localdate(),
                )
            ):
                messages.warning(request, f"The security job has no contract. {warning}")
            return redirect("referrals:detail", referral_id=referral.id)
    return _form_page(
        request,
        "referrals/triage/accept.html",
        referral,
        form,
        contract_warning=security_contract_warning(
            case_file=referral.case_file, contractor=None, on=timezone.localdate()
        ),
    )


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def decline(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    form = DeclineForm(
        _posted(request),
        candidates=selectors.referral_duplicate_candidates(referral=referral),
        visible=Referral.objects.visible_to(request.user).exclude(pk=referral.pk),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_decline(
                referral=referral,
                user=_user(request),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                duplicate_of=form.cleaned_data.get("duplicate_of"),
            )
        except InvalidTransition as error:
            return _fail(request, error, referral)
        except ReferralError as error:
            field = error.field if error.field in form.fields else None
            if error.field == "duplicate_of" and field is None:
                field = "duplicate_of_reference"
            form.add_error(field, error.message)
        else:
            messages.success(request, f"Referral {referral.reference} declined.")
            return redirect("referrals:detail", referral_id=referral.id)
    return _form_page(request, "referrals/triage/decline.html", referral, form)


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def request_information(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    form = RequestInformationForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_request_information(
                referral=referral, user=_user(request), reason=form.cleaned_data["reason"]
            )
        except InvalidTransition as error:
            return _fail(request, error, referral)
        except ReferralError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "On hold awaiting information: the triage clock is paused.")
            return redirect("referrals:detail", referral_id=referral.id)
    return _form_page(request, "referrals/triage/request_information.html", referral, form)


@role_required(*TRIAGE_ROLES)
@require_POST
def information_received(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    try:
        services.referral_information_received(referral=referral, user=_user(request))
    except ReferralError as error:
        return _fail(request, error, referral)
    messages.success(request, "Back in triage: the clock has restarted.")
    return redirect("referrals:detail", referral_id=referral.id)


@role_required(*TRIAGE_ROLES)
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, referral_id: str) -> HttpResponse:
    referral = _referral(request, referral_id)
    form = WithdrawForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_withdraw(
                referral=referral, user=_user(request), note=form.cleaned_data["note"]
            )
        except ReferralError as error:
            return _fail(request, error, referral)
        messages.success(request, f"Referral {referral.reference} withdrawn.")
        return redirect("referrals:detail", referral_id=referral.id)
    return _form_page(request, "referrals/triage/withdraw.html", referral, form)
