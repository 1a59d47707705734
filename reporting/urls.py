"""Reporting's URLs, included at /reports/ by the root URLconf."""

from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.report_run_list, name="run-list"),
    path("request/", views.report_run_request_view, name="run-request"),
    path("runs/<uuid:run_id>/", views.report_run_detail, name="run-detail"),
    path(
        "runs/<uuid:run_id>/download/<slug:output_format>/",
        views.report_output_download,
        name="run-download",
    ),
    path("dashboard/", views.commissioner_dashboard, name="dashboard"),
    path("dashboard/joint/", views.joint_board_view, name="joint-board"),
    path("provider/", views.provider_dashboard, name="provider-dashboard"),
]
