"""The OpenAPI schema and its documentation pages. Endpoints live with their apps
(``referrals/api``, ``security_works/api``) and are mounted under /api/v1/ by safer/urls.py."""

from django.urls import path

from safer.api import views

app_name = "api"

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.swagger_ui, name="docs"),
    path("redoc/", views.redoc, name="redoc"),
]
