"""Account pages: sign in and out, the second factor, sessions and password reset.

Thin: each view reads the form, calls one service and picks the page or the redirect.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.contrib.auth.views import PasswordResetConfirmView as DjangoPasswordResetConfirmView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from safer.accounts.forms import (
    SIGN_IN_FAILED_MESSAGE,
    CodeForm,
    PasswordResetRequestForm,
    SetPasswordForm,
    SetUpCodeForm,
    SignInForm,
)
from safer.accounts.models import User
from safer.accounts.selectors import user_session_get_for_user, user_sessions_list
from safer.accounts.services import (
    CannotEndCurrentSession,
    TwoFactorAlreadySetUp,
    backup_codes_regenerate,
    email_normalise,
    otp_verify,
    password_reset_complete,
    password_reset_request,
    sign_in_attempt,
    totp_enrolment_confirm,
    totp_enrolment_start,
    user_has_second_factor,
    user_session_end,
    user_sessions_end_others,
    user_sign_out,
)
from safer.accounts.services.throttle import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    SignInDelayed,
    known_device_cookie,
    known_device_has,
)
from safer.accounts.services.two_factor import (
    BACKUP_CODE_COUNT,
    backup_codes_left,
    totp_qr_svg,
    totp_secret_text,
)

# Warn when this few backup codes are left.
BACKUP_CODES_LOW = 3

CODE_WRONG = (
    "The code is not correct. Enter the code your authenticator app shows now, or a backup code"
)
CODE_THROTTLED = "You have entered too many wrong codes. Try again after {when}"
SET_UP_CODE_WRONG = "The code is not correct. Enter the code your authenticator app shows now"


def _next_url(request: HttpRequest) -> str:
    """Where to go after signing in: the page asked for, if it is on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return str(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            user = sign_in_attempt(
                request=request,
                email=email,
                password=form.cleaned_data["password"],
                known_device=known_device_has(
                    request.COOKIES.get(DEVICE_COOKIE), email=email_normalise(email)
                ),
            )
        except SignInDelayed as delayed:
            return _sign_in_delayed(request, delayed)
        if user is not None:
            step = (
                "accounts:two_factor_verify"
                if user_has_second_factor(user)
                else "accounts:two_factor_setup"
            )
            return HttpResponseRedirect(_with_next(step, next_url))
        # A locked-out attempt gets this page too, and django-axes' middleware then replaces it.
        form.add_error("email", SIGN_IN_FAILED_MESSAGE)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _sign_in_delayed(request: HttpRequest, delayed: SignInDelayed) -> HttpResponse:
    """The same page and status for every email, known or not (429, with Retry-After)."""
    seconds = delayed.seconds
    wait = f"{seconds} seconds" if seconds < 120 else f"{(seconds + 59) // 60} minutes"
    response = render(request, "accounts/sign_in_delayed.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def _remember_device(request: HttpRequest, response: HttpResponse, user: User) -> HttpResponse:
    """After a full sign-in (password and second factor): this browser is a known device for
    the account, so the per-account delay never keeps its owner out of it."""
    response.set_cookie(
        DEVICE_COOKIE,
        known_device_cookie(request.COOKIES.get(DEVICE_COOKIE), email=email_normalise(user.email)),
        max_age=DEVICE_COOKIE_MAX_AGE,
        path=reverse("accounts:login"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """GET shows a button (no JavaScript needed); only a POST signs out, so a link cannot."""
    if request.method == "POST":
        signed_in = request.user.is_authenticated
        user_sign_out(request=request)
        if signed_in:
            messages.success(request, "You have signed out. Every session you had has ended.")
        return redirect("accounts:login")
    return render(request, "accounts/logout.html")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    next_url = _next_url(request)
    if _verified(request):
        return HttpResponseRedirect(next_url)
    if not user_has_second_factor(user):
        return HttpResponseRedirect(_with_next("accounts:two_factor_setup", next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = otp_verify(request=request, user=user, code=form.cleaned_data["code"])
        if result.accepted:
            if result.backup_code_used:
                _backup_code_message(request, result.backup_codes_left)
            return _remember_device(request, HttpResponseRedirect(next_url), user)
        if result.try_again_at is not None:
            when = timezone.localtime(result.try_again_at).strftime("%H:%M:%S")
            form.add_error("code", CODE_THROTTLED.format(when=when))
        else:
            form.add_error("code", CODE_WRONG)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


def _backup_code_message(request: HttpRequest, left: int) -> None:
    text = f"You used a backup code. You have {left} left."
    if left <= BACKUP_CODES_LOW:
        text += ' Get new backup codes from the "Your sessions and security" page.'
    messages.warning(request, text)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    next_url = _next_url(request)
    try:
        device = totp_enrolment_start(user=user)
    except TwoFactorAlreadySetUp:
        return HttpResponseRedirect(_with_next("accounts:two_factor_verify", next_url))
    form = SetUpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_enrolment_confirm(request=request, user=user, code=form.cleaned_data["code"])
        if codes is not None:
            page = render(
                request,
                "accounts/backup_codes.html",
                {"codes": codes, "next": next_url, "first_time": True},
            )
            return _remember_device(request, page, user)
        form.add_error("code", SET_UP_CODE_WRONG)
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": totp_qr_svg(device),
        "secret": totp_secret_text(device),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    """GET explains; POST makes new codes and shows them this once."""
    user = request.user
    assert isinstance(user, User)
    if request.method == "POST":
        codes = backup_codes_regenerate(request=request, user=user)
        return render(request, "accounts/backup_codes.html", {"codes": codes})
    return render(
        request,
        "accounts/backup_codes_new.html",
        {"left": backup_codes_left(user), "count": BACKUP_CODE_COUNT},
    )


@never_cache
@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    rows = user_sessions_list(user=user)
    return render(
        request,
        "accounts/sessions.html",
        {
            "sessions": rows,
            "current_key": request.session.session_key,
            "backup_codes_left": backup_codes_left(user),
            "idle_minutes": settings.SAFER_SESSION_IDLE_SECONDS // 60,
            "absolute_hours": settings.SAFER_SESSION_ABSOLUTE_SECONDS // 3600,
        },
    )


@login_required
@require_POST
def session_end(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    session = user_session_get_for_user(user=user, session_id=session_id)
    try:
        user_session_end(request=request, user=user, session=session)
    except CannotEndCurrentSession:
        messages.warning(request, "To end the session you are using now, sign out.")
    else:
        messages.success(request, "That session has ended.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    count = user_sessions_end_others(request=request, user=user)
    messages.success(request, f"{count} other session(s) ended.")
    return redirect("accounts:sessions")


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(request=request, email=form.cleaned_data["email"])
        return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset_form.html", {"form": form})


@never_cache
def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/password_reset_sent.html",
        {"valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
    )


class PasswordResetConfirmView(DjangoPasswordResetConfirmView):
    """Django's token checks (and its trick of moving the token out of the URL), our service
    for the change. ``post_reset_login`` stays False: a reset never signs anyone in."""

    form_class = SetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        password_reset_complete(
            request=self.request, user=form.user, password=form.cleaned_data["new_password1"]
        )
        del self.request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(str(self.success_url))


@never_cache
def password_reset_complete_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/password_reset_complete.html")
