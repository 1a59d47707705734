from django.urls import path

from safer.dataprotection import views

app_name = "dataprotection"

urlpatterns = [
    path("retention/", views.retention_overview, name="retention"),
    path("retention/dry-run/", views.retention_dry_run, name="retention-dry-run"),
    path("retention/runs/<uuid:run_id>/", views.retention_run_detail, name="retention-run"),
    path("cases/<uuid:case_file_id>/legal-hold/", views.legal_hold, name="legal-hold"),
    path(
        "cases/<uuid:case_file_id>/subject-access/new/",
        views.subject_access_new,
        name="subject-access-new",
    ),
    path("subject-access/", views.subject_access_list, name="subject-access"),
    path(
        "subject-access/<uuid:sar_id>/",
        views.subject_access_detail,
        name="subject-access-detail",
    ),
    path(
        "subject-access/<uuid:sar_id>/generate/",
        views.subject_access_generate,
        name="subject-access-generate",
    ),
    path(
        "subject-access/<uuid:sar_id>/approve/",
        views.subject_access_approve,
        name="subject-access-approve",
    ),
    path(
        "subject-access/<uuid:sar_id>/download/<str:fmt>/",
        views.subject_access_download,
        name="subject-access-download",
    ),
]
