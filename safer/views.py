"""Public pages of the service and operational endpoints."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from safer.health import broker_ok, database_ok
from safer.models import WorkerCheck
from safer.services import worker_check_request

# Where "Exit this page" lands: a neutral, everyday site.
EXIT_DESTINATION = "https://www.bbc.co.uk/weather"


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/home.html")


@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/accessibility.html")


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html")


@require_GET
def cookies(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/cookies.html")


@never_cache
@require_http_methods(["GET", "POST"])
def exit_this_page(request: HttpRequest) -> HttpResponseRedirect:
    """Flush the session (a half-typed referral, a sign-in) and leave for a neutral site.

    The GOV.UK component only navigates; without this the session would stay alive in the browser.
    """
    logout(request)  # flushes the session and rotates its key, signed in or not
    request.session.flush()
    response = HttpResponseRedirect(EXIT_DESTINATION)
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
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


@staff_member_required
@require_http_methods(["GET", "POST"])
def worker_check(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        check = worker_check_request(requested_by=request.user)  # type: ignore[arg-type]
        return redirect("worker-check-detail", check_id=check.id)
    return render(request, "ops/worker_check.html", {"checks": WorkerCheck.objects.all()[:10]})


@staff_member_required
@require_GET
def worker_check_detail(request: HttpRequest, check_id: str) -> HttpResponse:
    check = get_object_or_404(WorkerCheck, id=check_id)
    return render(
        request, "ops/worker_check.html", {"check": check, "checks": WorkerCheck.objects.all()[:10]}
    )


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.html", status=400)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)
