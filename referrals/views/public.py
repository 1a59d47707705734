"""The public referral form: no account needed. Every page shows "Exit this page", is never
stored by a browser or proxy (no-store), and every POST is rate-limited per client address."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from referrals import flow, ratelimit
from referrals.exceptions import ReferralRejected
from referrals.forms.public import AddAnotherForm
from referrals.services.drafts import draft_discard, draft_load, draft_save
from referrals.services.submit import referral_submit
from safer.access.roles import user_has_role
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.audit.services import client_ip
from safer.decorators import no_store, with_exit_this_page

HONEYPOT_FIELD = "website"
SUBMITTED_REFERENCE = "referral_submitted_reference"

View = Callable[..., HttpResponse]


def public_page(view: View) -> View:
    """Exit this page, no-store, and on POST the rate limit and the honeypot."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            if not ratelimit.hit(ratelimit.FORM_POSTS, client_ip(request) or "unknown"):
                return render(request, "referrals/public/rate_limited.html", status=429)
            if request.POST.get(HONEYPOT_FIELD):
                # A person never sees this field; whatever filled it is not a person.
                draft_discard(session=request.session)
                return render(request, "referrals/public/rejected.html", status=400)
        return view(request, *args, **kwargs)

    return with_exit_this_page(no_store(wrapper))


def _load(request: HttpRequest) -> flow.Draft | None:
    data = draft_load(session=request.session)
    return flow.Draft(data) if data is not None else None


def _save(request: HttpRequest, draft: flow.Draft) -> None:
    draft_save(session=request.session, data=draft.data)


def _expired() -> HttpResponse:
    return redirect("refer:session-ended")


@public_page
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    """The interruption page: how to leave quickly, before any question is asked."""
    if request.method == "POST":
        draft_discard(session=request.session)
        request.session.pop(SUBMITTED_REFERENCE, None)
        draft = flow.Draft()
        _save(request, draft)
        return redirect(flow.step_url(flow.STEPS[0]))
    return render(request, "referrals/public/start.html")


@public_page
@require_http_methods(["GET"])
def session_ended(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/public/session_ended.html")


@public_page
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, slug: str) -> HttpResponse:
    step = flow.STEPS_BY_SLUG.get(slug)
    if step is None:
        raise Http404("No such question")
    draft = _load(request)
    if draft is None:
        return _expired()
    if not step.applies(draft):
        return redirect(flow.url_next(draft, step))
    # No skipping ahead: every earlier page must be answered first.
    earlier = flow.applicable_steps(draft)
    earlier = earlier[: earlier.index(step)]
    for previous in earlier:
        if not flow.step_complete(draft, previous):
            return redirect(flow.step_url(previous))

    if request.method == "POST":
        form = step.form(draft, data=request.POST)
        if form.is_valid():
            draft.set_raw(step.slug, flow.raw_from_post(form, request.POST))
            _save(request, draft)
            return redirect(flow.url_after(draft, step, form.cleaned_data))
        status = 200
    else:
        form = step.form(draft)
        if draft.raw(step.slug) is None:
            form.initial = _initial(request, step, draft)
        status = 200
    return render(
        request,
        "referrals/public/question.html",
        {
            "step": step,
            "form": form,
            "back_url": flow.url_back(draft, step),
            "honeypot": HONEYPOT_FIELD,
        },
        status=status,
    )


def _initial(request: HttpRequest, step: flow.Step, draft: flow.Draft) -> dict[str, Any]:
    if step.slug == "district":
        postcode = draft.answer("address", "postcode")
        district = flow.district_for_postcode(postcode)
        return {"district": str(district.pk)} if district else {}
    if step.slug == "referrer":
        user = _referrer_account(request)
        if user is not None:
            return {
                "name": user.full_name,
                "email": user.email,
                "organisation": user.organisation.name if user.organisation else "",
                "agency_type": user.organisation.agency_type if user.organisation else "",
            }
    return {}


def _referrer_account(request: HttpRequest) -> User | None:
    """A signed-in referrer (second factor verified), whose referrals the portal will show."""
    user = request.user
    is_verified = getattr(user, "is_verified", None)
    if (
        isinstance(user, User)
        and is_verified is not None
        and is_verified()
        and user_has_role(user, Role.REFERRER)
    ):
        return user
    return None


@public_page
@require_http_methods(["GET", "POST"])
def people_list(request: HttpRequest, kind: str) -> HttpResponse:
    draft = _load(request)
    if draft is None:
        return _expired()
    step = flow.STEPS_BY_SLUG[kind]
    if draft.answer(kind, "any") != "yes":
        return redirect(flow.step_url(step))
    if not draft.people(kind):
        return redirect(f"refer:{kind}-add")
    config = flow.PEOPLE[kind]
    form = AddAnotherForm(
        data=request.POST if request.method == "POST" else None, label=config["add_another"]
    )
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["add_another"] == "yes":
            return redirect(f"refer:{kind}-add")
        return redirect(flow.url_next(draft, step))
    rows = []
    for index, raw in enumerate(draft.people(kind)):
        person_form = flow.person_form(kind, raw)
        valid = person_form.is_valid()
        rows.append(
            {
                "index": index,
                "summary": flow.person_summary(person_form.cleaned_data) if valid else "",
                "valid": valid,
            }
        )
    return render(
        request,
        "referrals/public/people_list.html",
        {
            "kind": kind,
            "config": config,
            "rows": rows,
            "form": form,
            "back_url": flow.step_url(step),
            "honeypot": HONEYPOT_FIELD,
        },
    )


@public_page
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, kind: str, index: int | None = None) -> HttpResponse:
    draft = _load(request)
    if draft is None:
        return _expired()
    if draft.answer(kind, "any") != "yes":
        return redirect(flow.step_url(flow.STEPS_BY_SLUG[kind]))
    people = draft.people(kind)
    if index is not None and not 0 <= index < len(people):
        raise Http404("No such person")
    config = flow.PEOPLE[kind]
    if request.method == "POST":
        form = config["form_class"](data=request.POST)
        if form.is_valid():
            raw = flow.raw_from_post(form, request.POST)
            if index is None:
                people.append(raw)
            else:
                people[index] = raw
            draft.set_people(kind, people)
            _save(request, draft)
            return redirect(f"refer:{kind}-list")
    else:
        form = flow.person_form(kind, people[index] if index is not None else None)
    return render(
        request,
        "referrals/public/person.html",
        {
            "kind": kind,
            "config": config,
            "form": form,
            "back_url": reverse(f"refer:{kind}-list")
            if people
            else flow.step_url(flow.STEPS_BY_SLUG[kind]),
            "honeypot": HONEYPOT_FIELD,
        },
    )


@public_page
@require_http_methods(["GET", "POST"])
def person_remove(request: HttpRequest, kind: str, index: int) -> HttpResponse:
    draft = _load(request)
    if draft is None:
        return _expired()
    people = draft.people(kind)
    if not 0 <= index < len(people):
        raise Http404("No such person")
    if request.method == "POST":
        del people[index]
        draft.set_people(kind, people)
        # Support asked for a child refers to children by position: ask again.
        if kind == "children" and draft.raw("request") is not None:
            draft.clear_raw("request")
        _save(request, draft)
        return redirect(f"refer:{kind}-list")
    form = flow.person_form(kind, people[index])
    name = flow.person_name(form.cleaned_data) if form.is_valid() else ""
    return render(
        request,
        "referrals/public/person_remove.html",
        {
            "kind": kind,
            "config": flow.PEOPLE[kind],
            "name": name,
            "back_url": reverse(f"refer:{kind}-list"),
            "honeypot": HONEYPOT_FIELD,
        },
    )


@public_page
@require_http_methods(["GET"])
def no_consent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "referrals/public/no_consent.html",
        {"back_url": reverse("refer:question", kwargs={"slug": "consent"})},
    )


@public_page
@require_http_methods(["GET"])
def not_eligible(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "referrals/public/not_eligible.html",
        {"back_url": reverse("refer:question", kwargs={"slug": "district"})},
    )


@public_page
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest) -> HttpResponse:
    draft = _load(request)
    if draft is None:
        return _expired()
    incomplete = flow.first_incomplete(draft)
    if incomplete is not None:
        return redirect(flow.step_url(incomplete))
    if not draft.reviewing:
        draft.reviewing = True
        _save(request, draft)
    error = ""
    if request.method == "POST":
        if not ratelimit.hit(ratelimit.SUBMISSIONS, client_ip(request) or "unknown"):
            return render(request, "referrals/public/rate_limited.html", status=429)
        try:
            submission = flow.submission_from_draft(draft)
            referral = referral_submit(
                submission=submission, referrer_user=_referrer_account(request)
            )
        except flow.IncompleteDraft as incomplete_draft:
            return redirect(reverse("refer:question", kwargs={"slug": incomplete_draft.slug}))
        except ReferralRejected as rejected:
            error = rejected.message
        else:
            draft_discard(session=request.session)
            request.session[SUBMITTED_REFERENCE] = referral.reference
            return redirect("refer:confirmation")
    return render(
        request,
        "referrals/public/check.html",
        {
            "sections": flow.summary(draft),
            "error": error,
            "honeypot": HONEYPOT_FIELD,
            "back_url": flow.step_url(flow.applicable_steps(draft)[-1]),
        },
        status=422 if error else 200,
    )


@public_page
@require_http_methods(["GET"])
def confirmation(request: HttpRequest) -> HttpResponse:
    reference = request.session.get(SUBMITTED_REFERENCE)
    if not reference:
        return redirect("refer:start")
    # A signed-in referrer can follow the referral's status in their portal.
    follow_status = _referrer_account(request) is not None
    return render(
        request,
        "referrals/public/confirmation.html",
        {"reference": reference, "follow_status": follow_status},
    )
