"""Public pages of the service and operational endpoints."""

from __future__ import annotations

import sys

import redis
from django import db
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from safer.access.roles import role_required
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.api.exceptions import api_error_response, is_api_request
from safer.decorators import with_exit_this_page
from safer.exit import session_exit_hooks_run
from safer.health import broker_ok, database_ok
from safer.models import WorkerCheck
from safer.services import worker_check_request
from safer.workspace import home_panels_for, request_roles

# Where "Exit this page" lands: a neutral, everyday site.
EXIT_DESTINATION = "https://www.bbc.co.uk/weather"


# Public pages: anyone may read them, a survivor among them, so each carries "Exit this page".


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The public start page; a member of staff, signed in with their second factor, gets the
    home of their role(s) instead: their own work, overdue first (``safer.workspace``)."""
    roles = request_roles(request)
    if not roles:
        return _public_home(request)
    user = request.user
    assert isinstance(user, User)
    panels = home_panels_for(user, roles)
    response = render(
        request,
        "pages/workspace_home.html",
        {"panels": panels, "role_names": sorted(str(role.label) for role in roles)},
    )
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


@with_exit_this_page
def _public_home(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/home.html")


@require_GET
@with_exit_this_page
def safety(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/safety.html")


@require_GET
@with_exit_this_page
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html")


@require_GET
@with_exit_this_page
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html")


@require_GET
@with_exit_this_page
def cookies(request: HttpRequest) -> HttpResponse:
    # The names differ in production (__Host- prefixed), so the page reads them from settings.
    context = {
        "session_cookie_name": settings.SESSION_COOKIE_NAME,
        "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
        "messages_cookie_name": CookieStorage.cookie_name,
        "session_idle_minutes": settings.SAFER_SESSION_IDLE_SECONDS // 60,
        "session_absolute_hours": settings.SAFER_SESSION_ABSOLUTE_SECONDS // 3600,
    }
    return render(request, "pages/cookies.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def exit_this_page(request: HttpRequest) -> HttpResponseRedirect:
    """Flush the session (a half-typed referral, a sign-in) and leave for a neutral site.

    The GOV.UK component only navigates (a GET, by its button or by Shift pressed three times);
    without this the session would stay alive in the browser. What apps keep server-side from the
    session (the referral form's draft) goes first, through the hooks they register in
    ``safer.exit``, while the session still says which rows are this visitor's.
    """
    session_exit_hooks_run(session=request.session)
    logout(request)  # flushes the session and rotates its key, signed in or not
    request.session.flush()
    response = HttpResponseRedirect(EXIT_DESTINATION)
    # Browsers that support it also drop this site's other cookies, storage and cached pages.
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    # The neutral site must not learn where the visitor came from.
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(checks.values())
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable"}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)


@role_required(Role.SYSTEM_ADMIN)
@require_http_methods(["GET", "POST"])
def worker_check(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        check = worker_check_request(requested_by=request.user)  # type: ignore[arg-type]
        return redirect("worker-check-detail", check_id=check.id)
    return render(request, "ops/worker_check.html", {"checks": WorkerCheck.objects.all()[:10]})


@role_required(Role.SYSTEM_ADMIN)
@require_GET
def worker_check_detail(request: HttpRequest, check_id: str) -> HttpResponse:
    check = get_object_or_404(WorkerCheck, id=check_id)
    return render(
        request, "ops/worker_check.html", {"check": check, "checks": WorkerCheck.objects.all()[:10]}
    )


# Error pages say what happened in plain words and nothing else: never the exception, the path
# asked for or anything about a record (an "access denied" would confirm that a case exists).


# The error handlers. Under /api/ a partner's client reads JSON, never a page: an unknown URL (no
# API view ran, so DRF's exception handler did not) gets the API's error shape too.


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(400)
    return render(request, "errors/400.html", status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from safer.accounts.services import permission_denied_record

    permission_denied_record(request=request)  # the audit trail records every refusal
    if is_api_request(request):
        return api_error_response(403)
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return api_error_response(404)
    return render(request, "errors/404.html", status=404)


def _is_api_request_safely(request: HttpRequest) -> bool:
    # The path only, and a request broken past reading even that gets the HTML page.
    try:
        return is_api_request(request)
    except Exception:
        return False


# What a request meets when a service SAFER depends on is down rather than when SAFER is wrong:
# the database (Django wraps every driver's error) or Redis (the cache, the broker).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    db.OperationalError,
    db.InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
)
# How long a browser (or a proxy) is told to wait before asking again when a service is down.
RETRY_AFTER_SECONDS = 60


def error_500(request: HttpRequest) -> HttpResponse:
    """Render without the request: whatever failed (the database, the session store, a context
    processor) must not fail this page too, and no one's details can appear on it.

    When the database or Redis cannot be reached the answer is 503 with its own page ("try again
    in a few minutes"), which is what happened and what a load balancer understands.
    """
    # Django calls this handler while handling the exception, so it is still the current one.
    unavailable = isinstance(sys.exc_info()[1], UNAVAILABLE_ERRORS)
    if _is_api_request_safely(request):
        if unavailable:
            # A partner's system retries on 503 with Retry-After; a 500 says "SAFER is broken".
            api_response = api_error_response(503)
            api_response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return api_response
        return api_error_response(500)
    context = {"service_name": settings.SERVICE_NAME, "council_name": settings.COUNCIL_NAME}
    if unavailable:
        page = loader.get_template("errors/503.html").render(context)
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("errors/500.html").render(context))


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """A 429 page for anything that limits how often a person may do something (the API answers
    its own 429s in JSON). Says when to try again; never what was counted or why."""
    if is_api_request(request):
        response: HttpResponse = api_error_response(429)
    else:
        minutes = max(1, -(-retry_after // 60))  # rounded up: "wait 1 minute", never 0
        response = render(request, "errors/429.html", {"retry_minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
