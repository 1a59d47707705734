"""The auditor's pages, mounted at /audit/."""

from django.urls import path

from safer.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_home, name="home"),
    path("access/", views.access_log, name="access-log"),
    path("access/export.csv", views.access_log_export, name="access-log-export"),
    path("sign-ins/", views.sign_in_events, name="sign-ins"),
    path("sign-ins/export.csv", views.sign_in_events_export, name="sign-ins-export"),
    path(
        "records/<str:record_type>/<str:record_id>/",
        views.record_access,
        name="record-access",
    ),
    path(
        "records/<str:record_type>/<str:record_id>/export.csv",
        views.record_access_export,
        name="record-access-export",
    ),
    path(
        "records/<str:record_type>/<str:record_id>/changes/",
        views.record_changes,
        name="record-changes",
    ),
    path(
        "records/<str:record_type>/<str:record_id>/changes/export.csv",
        views.record_changes_export,
        name="record-changes-export",
    ),
]
