"""The OpenAPI schema and its documentation pages. Endpoints live with their apps
(``referrals/api``, ``security_works/api``) and are mounted under /api/v1/ by safer/urls.py."""

from django.urls import path, re_path

from safer.api import views

app_name = "api"

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.swagger_ui, name="docs"),
    path("redoc/", views.redoc, name="redoc"),
    # Last: any other path under /api/ is the API's JSON 404, whether DEBUG is on or off (with
    # DEBUG on, Django would answer an unmatched URL with its HTML debug page).
    re_path(r"^(?P<rest>.*)$", views.api_not_found, name="not-found"),
]
