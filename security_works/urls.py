from django.urls import path

from security_works import views

app_name = "security_works"

urlpatterns = [
    path("", views.job_list, name="job-list"),
    path("approvals/", views.approvals_queue, name="approvals"),
    path("<uuid:job_id>/", views.job_detail, name="job-detail"),
    path("<uuid:job_id>/job-sheet/", views.job_sheet_pdf, name="job-sheet"),
    path(
        "<uuid:job_id>/fire-safety-check/",
        views.job_record_fire_safety_check,
        name="fire-safety-check",
    ),
    path("<uuid:job_id>/variation/", views.job_request_variation, name="variation"),
    path("<uuid:job_id>/access-notes/", views.job_access_notes, name="access-notes"),
    path("<uuid:job_id>/book-survey/", views.job_book_survey, name="book-survey"),
    path("<uuid:job_id>/survey/", views.job_record_survey, name="record-survey"),
    path(
        "<uuid:job_id>/book-installation/",
        views.job_book_installation,
        name="book-installation",
    ),
    path(
        "<uuid:job_id>/installation/",
        views.job_record_installation,
        name="record-installation",
    ),
    path(
        "<uuid:job_id>/landlord-consent/",
        views.job_record_landlord_consent,
        name="landlord-consent",
    ),
    path("<uuid:job_id>/check/", views.job_record_check, name="post-installation-check"),
    path("<uuid:job_id>/hold/", views.job_put_on_hold, name="hold"),
    path("<uuid:job_id>/resume/", views.job_resume, name="resume"),
    path("<uuid:job_id>/cancel/", views.job_cancel, name="cancel"),
    path("<uuid:job_id>/complete/", views.job_complete, name="complete"),
    path(
        "<uuid:job_id>/approvals/<uuid:approval_id>/",
        views.job_approval_decide,
        name="approval-decide",
    ),
    path("<uuid:job_id>/documents/", views.job_document_upload_view, name="document-upload"),
    path(
        "<uuid:job_id>/documents/<uuid:document_id>/",
        views.job_document_download,
        name="document-download",
    ),
]
