"""The root URLconf: the one module that sees every app."""

from django.contrib import admin
from django.urls import include, path

from safer import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("cookies/", views.cookies, name="cookies"),
    path("exit/", views.exit_this_page, name="exit-this-page"),
    path("safety/", views.safety, name="safety"),
    path("ops/worker-check/", views.worker_check, name="worker-check"),
    path(
        "ops/worker-check/<uuid:check_id>/", views.worker_check_detail, name="worker-check-detail"
    ),
    path("accounts/", include("safer.accounts.urls")),
    path("cases/", include("safer.casefile.urls")),
    path("search/", include("safer.search.urls")),
    path("refer/", include("referrals.urls_public")),
    path("referrals/", include("referrals.urls")),
    path("audit/", include("safer.audit.urls")),
    path("data-protection/", include("safer.dataprotection.urls")),
    path("jobs/", include("security_works.urls")),
    path("support/", include("support.urls")),
    path("reports/", include("reporting.urls")),
    # The partner API: endpoints take tokens; the schema also a signed-in session; the docs
    # pages only a signed-in, verified member of staff.
    path("api/v1/referrals/", include("referrals.api.urls")),
    path("api/v1/jobs/", include("security_works.api.urls")),
    path("api/", include("safer.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "safer.views.error_400"
handler403 = "safer.views.error_403"
handler404 = "safer.views.error_404"
handler500 = "safer.views.error_500"
