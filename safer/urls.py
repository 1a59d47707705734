"""The root URLconf: the one module that sees every app."""

from django.contrib import admin
from django.urls import path

from safer import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("cookies/", views.cookies, name="cookies"),
    path("exit/", views.exit_this_page, name="exit-this-page"),
    path("ops/worker-check/", views.worker_check, name="worker-check"),
    path(
        "ops/worker-check/<uuid:check_id>/", views.worker_check_detail, name="worker-check-detail"
    ),
    path("admin/", admin.site.urls),
]

handler400 = "safer.views.error_400"
handler403 = "safer.views.error_403"
handler404 = "safer.views.error_404"
handler500 = "safer.views.error_500"
