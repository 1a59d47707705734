"""Reporting's URLs, included at /reports/ by the root URLconf."""

from django.urls import path

from reporting import views
from reporting.commissioning import views as commissioning_views

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
    path("runs/<uuid:run_id>/submit/", views.report_run_submit, name="run-submit"),
    path("submitted/", views.return_submission_list, name="submission-list"),
    path(
        "submitted/<uuid:submission_id>/",
        views.return_submission_detail,
        name="submission-detail",
    ),
    path("dashboard/", views.commissioner_dashboard, name="dashboard"),
    path("dashboard/joint/", views.joint_board_view, name="joint-board"),
    path("provider/", views.provider_dashboard, name="provider-dashboard"),
    # Commissioning data recorded by commissioners (reporting/commissioning/).
    path(
        "commissioning/units/",
        commissioning_views.commissioned_units_list,
        name="commissioned-units",
    ),
    path(
        "commissioning/units/add/",
        commissioning_views.commissioned_units_add,
        name="commissioned-units-add",
    ),
    path(
        "commissioning/units/<uuid:units_id>/",
        commissioning_views.commissioned_units_edit,
        name="commissioned-units-edit",
    ),
    path("commissioning/spend/", commissioning_views.contract_spend_list, name="contract-spend"),
    path(
        "commissioning/spend/<uuid:contract_id>/",
        commissioning_views.contract_spend_detail,
        name="contract-spend-detail",
    ),
    path(
        "commissioning/spend/<uuid:contract_id>/add/",
        commissioning_views.contract_spend_add,
        name="contract-spend-add",
    ),
]
