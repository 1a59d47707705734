from django.urls import path

from safer.casefile import views

app_name = "casefile"

urlpatterns = [
    path("", views.casefile_list, name="list"),
    path("break-glass/", views.casefile_break_glass, name="break-glass"),
    path("contact-overrides/", views.contact_overrides, name="contact-overrides"),
    path("<uuid:case_file_id>/", views.casefile_detail, name="detail"),
    path("<uuid:case_file_id>/safe-contact/", views.safe_contact_edit, name="safe-contact-edit"),
]
