"""/api/v1/jobs/ (mounted by safer/urls.py)."""

from django.urls import path

from security_works.api import views

app_name = "api-jobs"

urlpatterns = [
    path("", views.JobListView.as_view(), name="list"),
    path("<uuid:job_id>/", views.JobDetailView.as_view(), name="detail"),
    path("<uuid:job_id>/survey-booking/", views.SurveyBookingView.as_view(), name="survey-booking"),
    path("<uuid:job_id>/survey/", views.SurveyView.as_view(), name="survey"),
    path(
        "<uuid:job_id>/installation-booking/",
        views.InstallationBookingView.as_view(),
        name="installation-booking",
    ),
    path("<uuid:job_id>/installation/", views.InstallationView.as_view(), name="installation"),
    path("<uuid:job_id>/documents/", views.DocumentUploadView.as_view(), name="documents"),
]
