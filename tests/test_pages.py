"""The public pages, the page layout, security headers, "Exit this page" and the error pages.

This module doubles as a URLconf (see ``error_urls``) so that the error handlers can be driven
by views that fail on purpose.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.test import Client
from django.urls import path, reverse
from pytest_django import DjangoAssertNumQueries, Settings

from safer import urls as safer_urls
from safer import views
from safer.accounts.models import User
from tests.helpers import sign_in

PUBLIC_PAGES = ["home", "safety", "accessibility", "privacy", "cookies"]
BUILD_DIR = Path(django_settings.BASE_DIR) / "safer" / "static" / "build"


# --- A URLconf with views that fail on purpose --------------------------------------------------


def _raise_server_error(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret-detail-from-the-exception")


def _raise_permission_denied(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied("secret-detail-from-the-exception")


def _staff_page(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/privacy.html")


urlpatterns = [
    path("test-errors/500/", _raise_server_error),
    path("test-errors/403/", _raise_permission_denied),
    path("test-pages/staff/", _staff_page),
    *safer_urls.urlpatterns,
]
handler400 = safer_urls.handler400
handler403 = safer_urls.handler403
handler404 = safer_urls.handler404
handler500 = safer_urls.handler500


@pytest.fixture
def error_urls(settings: Settings) -> None:
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False


# --- Reading a page ---------------------------------------------------------------------------


class _Page(HTMLParser):
    """The elements of a page, with their attributes, and the text of inline scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.inline_scripts: list[dict[str, str]] = []
        self._footer_depth = 0
        self.footer_links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag == "script" and "src" not in attributes:
            self.inline_scripts.append(attributes)
        if tag == "footer":
            self._footer_depth += 1
        if tag == "a" and self._footer_depth:
            self.footer_links.append(attributes.get("href", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "footer":
            self._footer_depth -= 1

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attributes for name, attributes in self.elements if name == tag]


def _csp(response: HttpResponseBase) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for directive in response["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_user(
        "triage.worker@example.org", "a-long-test-password", full_name="Tamsin Triage"
    )


# --- Public pages -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_is_served_with_strict_security_headers(client: Client, name: str) -> None:
    response = client.get(reverse(name))

    assert response.status_code == 200
    csp = _csp(response)
    page = _Page(response.content.decode())
    # The only inline script is the js-enabled snippet, allowed by this response's nonce.
    assert len(page.inline_scripts) == 1
    nonce = page.inline_scripts[0]["nonce"]
    assert nonce
    assert csp["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    # No inline styles anywhere (the CSP would block them), including on the SVG icons.
    assert page.all("style") == []
    assert all("style" not in attributes for _, attributes in page.elements)


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_carries_exit_this_page_leading_to_the_session_ending_exit(
    client: Client, name: str
) -> None:
    page = _Page(client.get(reverse(name)).content.decode())

    exit_buttons = [
        a for a in page.all("a") if "govuk-exit-this-page__button" in a.get("class", "")
    ]
    assert [a["href"] for a in exit_buttons] == [reverse("exit-this-page")]
    assert any(div.get("data-module") == "govuk-exit-this-page" for div in page.all("div")), (
        "the component's JavaScript (Shift three times) needs its data-module"
    )


@pytest.mark.django_db
def test_exit_this_page_is_only_on_views_marked_public(
    client: Client, staff_user: User, error_urls: None
) -> None:
    sign_in(client, staff_user)

    html = client.get("/test-pages/staff/").content.decode()

    assert "govuk-exit-this-page" not in html


@pytest.mark.django_db
def test_layout_has_skip_link_phase_banner_council_name_and_no_gov_uk_branding(
    client: Client,
) -> None:
    html = client.get(reverse("home")).content.decode()
    page = _Page(html)

    skip_links = [a for a in page.all("a") if "govuk-skip-link" in a.get("class", "")]
    assert [a["href"] for a in skip_links] == ["#main-content"]
    assert [m.get("id") for m in page.all("main")] == ["main-content"]
    assert "govuk-phase-banner" in html
    assert django_settings.COUNCIL_NAME in html
    assert "<title>Get help to stay safe in your home \N{EN DASH} SAFER \N{EN DASH} " in html
    # SAFER is not a GOV.UK service: no logotype, crown or crest.
    for gov_uk_mark in ("govuk-logo", "govuk-header__logotype", "crown", "crest"):
        assert gov_uk_mark not in html


@pytest.mark.django_db
def test_every_asset_a_page_names_is_a_same_origin_static_file(client: Client) -> None:
    page = _Page(client.get(reverse("home")).content.decode())
    urls = [link["href"] for link in page.all("link")]
    urls += [script["src"] for script in page.all("script") if "src" in script]
    urls += [s["data-govuk-frontend"] for s in page.all("script") if "data-govuk-frontend" in s]

    assert len(urls) == 5  # favicon, stylesheet, module preload, init.js, Frontend
    for url in urls:
        assert url.startswith(django_settings.STATIC_URL), url
        assert finders.find(url.removeprefix(django_settings.STATIC_URL)), (
            f"{url} is missing: run `npm run build:css` (make install does)"
        )


def test_built_stylesheet_uses_system_fonts_and_ships_no_gov_uk_font_or_image() -> None:
    css = (BUILD_DIR / "safer.css").read_text()

    assert "GDS Transport" not in css
    assert "@font-face" not in css
    assert "url(" not in css  # nothing to fetch: no crest, no fonts
    assert "font-family:system-ui," in css
    assert "--govuk-brand-colour: #106165" in css
    assert sorted(p.name for p in BUILD_DIR.iterdir()) == [
        "govuk-frontend.min.js",
        "govuk-frontend.min.js.map",
        "safer.css",
    ]


def test_init_script_takes_frontend_url_from_the_page_not_a_fixed_path() -> None:
    init_js = (Path(django_settings.BASE_DIR) / "safer/static/safer/init.js").read_text()
    code = "\n".join(line for line in init_js.splitlines() if not line.lstrip().startswith("//"))

    assert "/static/" not in code
    assert "data-govuk-frontend" in code


@pytest.mark.django_db
def test_production_static_storage_serves_hashed_frontend_files(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    """collectstatic with production's storage succeeds (every url() and source map resolves)
    and pages then name the hashed files, the Frontend module included."""
    settings.STATIC_ROOT = tmp_path
    # SAFER's own files only (not the admin's): they are what the pages name, and it is quick.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)

    page = _Page(client.get(reverse("home")).content.decode())

    hashed = r"\.[0-9a-f]{12}\."
    (frontend_url,) = [s["data-govuk-frontend"] for s in page.all("script") if "src" in s]
    assert re.search(rf"/static/build/govuk-frontend\.min{hashed}js$", frontend_url)
    (init_url,) = [s["src"] for s in page.all("script") if "src" in s]
    assert re.search(rf"/static/safer/init{hashed}js$", init_url)
    stylesheets = [link["href"] for link in page.all("link") if link.get("rel") == "stylesheet"]
    assert len(stylesheets) == 1
    assert re.search(rf"/static/build/safer{hashed}css$", stylesheets[0])
    assert (tmp_path / frontend_url.removeprefix("/static/")).exists()


@pytest.mark.django_db
def test_footer_links_resolve_to_real_pages(client: Client) -> None:
    page = _Page(client.get(reverse("home")).content.decode())

    assert {reverse(n) for n in ("accessibility", "privacy", "cookies")} <= set(page.footer_links)
    for href in page.footer_links:
        response = client.get(href)
        assert response.status_code == 200, href
        assert b"govuk-heading-xl" in response.content


@pytest.mark.django_db
def test_cookies_page_names_the_cookies_the_settings_set(
    client: Client, settings: Settings
) -> None:
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    settings.CSRF_COOKIE_NAME = "__Host-csrftoken"

    html = client.get(reverse("cookies")).content.decode()

    assert "<code>__Host-sessionid</code>" in html
    assert "<code>__Host-csrftoken</code>" in html


@pytest.mark.django_db
def test_safety_page_explains_exit_shortcut_and_emergency_numbers(client: Client) -> None:
    html = client.get(reverse("safety")).content.decode()

    assert "<kbd>Shift</kbd> key 3 times" in html
    assert "999" in html
    assert 'press <span class="safer-phone-number">55</span>' in html
    assert "does not delete your browsing history" in html


# --- Sign-in state and caching ----------------------------------------------------------------


@pytest.mark.django_db
def test_header_offers_sign_in_to_visitors(client: Client) -> None:
    response = client.get(reverse("home"))
    page = _Page(response.content.decode())

    assert "/accounts/login/" in [a.get("href") for a in page.all("a")]
    assert not [f for f in page.all("form") if f.get("action") == "/accounts/logout/"]
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_header_shows_who_is_signed_in_and_signs_out_by_post(
    client: Client, staff_user: User
) -> None:
    sign_in(client, staff_user)

    html = client.get(reverse("home")).content.decode()
    page = _Page(html)

    assert "Signed in as Tamsin Triage" in html
    (logout_form,) = [f for f in page.all("form") if f.get("action") == "/accounts/logout/"]
    assert logout_form["method"] == "post"
    assert any(i.get("name") == "csrfmiddlewaretoken" for i in page.all("input"))


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/privacy/", "/no-such-page/"])
def test_authenticated_responses_are_never_stored(
    client: Client, staff_user: User, url: str
) -> None:
    sign_in(client, staff_user)

    response = client.get(url)

    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control


# --- Exit this page ---------------------------------------------------------------------------


def _session_with_a_draft(client: Client) -> str:
    session = client.session
    session["referral_draft"] = {"survivor_name": "Someone"}
    session.save()
    assert session.session_key
    return session.session_key


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_exit_flushes_the_session_and_leaves_for_a_neutral_site(
    client: Client, method: str
) -> None:
    session_key = _session_with_a_draft(client)

    response = getattr(client, method)(reverse("exit-this-page"))

    assert response.status_code == 302
    assert response["Location"] == views.EXIT_DESTINATION
    assert not SessionStore().exists(session_key)
    session_cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert session_cookie.value == ""
    assert session_cookie["max-age"] == 0
    assert '"cookies"' in response["Clear-Site-Data"]
    assert '"storage"' in response["Clear-Site-Data"]
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.django_db
def test_exit_signs_a_signed_in_user_out(client: Client, staff_user: User) -> None:
    sign_in(client, staff_user)

    client.get(reverse("exit-this-page"))

    assert "_auth_user_id" not in client.session
    assert "Signed in as" not in client.get(reverse("home")).content.decode()


# --- Error pages ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True])
def test_unknown_url_gives_a_404_page_that_reveals_nothing(
    client: Client, staff_user: User, error_urls: None, signed_in: bool
) -> None:
    if signed_in:
        sign_in(client, staff_user)
        url = "/cases/secret-survivor-name/?token=abc123secret"
    else:
        # Unknown private paths send visitors to sign in; under a public prefix they get a 404.
        url = "/safety/secret-survivor-name/?token=abc123secret"

    response = client.get(url)
    html = response.content.decode()

    assert response.status_code == 404
    assert "Page not found" in html
    for leak in ("secret-survivor-name", "abc123secret", "Traceback", "urlpatterns", "Django"):
        assert leak not in html
    assert "Content-Security-Policy" in response
    assert "govuk-exit-this-page" in html
    assert "build/safer.css" in html


@pytest.mark.django_db
def test_403_page_reveals_nothing(client: Client, staff_user: User, error_urls: None) -> None:
    sign_in(client, staff_user)

    response = client.get("/test-errors/403/")
    html = response.content.decode()

    assert response.status_code == 403
    assert "You cannot view this page" in html
    assert "secret-detail" not in html


@pytest.mark.django_db
def test_400_page_for_a_bad_host_reveals_nothing(client: Client, error_urls: None) -> None:
    response = client.get("/", headers={"host": "attacker-controlled.example"})
    html = response.content.decode()

    assert response.status_code == 400
    assert "Sorry, there is a problem with the request" in html
    assert "attacker-controlled" not in html
    assert "ALLOWED_HOSTS" not in html


@pytest.mark.django_db
def test_500_page_reveals_nothing_and_not_who_is_signed_in(
    staff_user: User, error_urls: None
) -> None:
    client = Client(raise_request_exception=False)
    sign_in(client, staff_user)

    response = client.get("/test-errors/500/")
    html = response.content.decode()

    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html
    for leak in ("secret-detail", "Traceback", "RuntimeError", "Tamsin", "triage.worker"):
        assert leak not in html
    assert "Sign out" not in html
    assert "govuk-exit-this-page" in html
    assert "build/safer.css" in html


@pytest.mark.django_db
def test_500_page_renders_without_touching_the_request_or_database(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    class _BrokenRequest(HttpRequest):
        """Stands for a request whose session, user and everything else are unusable."""

        def __getattribute__(self, name: str) -> object:
            raise AssertionError(f"the 500 page read request.{name}")

    with django_assert_num_queries(0):
        response = views.error_500(_BrokenRequest())

    assert response.status_code == 500
    html = response.content.decode()
    assert "Sorry, there is a problem with the service" in html
    assert "<script nonce" not in html  # no request, so no nonce: the page works as plain HTML


@pytest.mark.django_db
def test_csrf_failure_page_is_in_the_service_style(error_urls: None) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("exit-this-page"))
    html = response.content.decode()

    assert response.status_code == 403
    assert "Sorry, your form could not be sent" in html
    assert "CSRF" not in html
    assert "build/safer.css" in html


@pytest.mark.django_db
def test_database_down_gives_a_503_page_that_reveals_nothing(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    from django.db import OperationalError

    request = HttpRequest()
    request.path = "/cases/"
    try:
        raise OperationalError('connection to server failed: database "safer" is not there')
    except OperationalError:
        with django_assert_num_queries(0):
            response = views.error_500(request)

    html = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Sorry, the service is unavailable" in html
    for leak in ("connection to server", "is not there", "OperationalError", "Traceback"):
        assert leak not in html


@pytest.mark.django_db
def test_too_many_requests_page_says_when_to_try_again_and_nothing_else() -> None:
    request = HttpRequest()
    request.path = "/refer/"
    request.method = "GET"
    request.META["SERVER_NAME"] = "testserver"
    request.META["SERVER_PORT"] = "80"

    response = views.too_many_requests(request, retry_after=90)

    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "90"
    assert "Sorry, there have been too many attempts" in html
    assert "Wait 2 minutes" in html


def test_too_many_requests_under_the_api_is_json() -> None:
    request = HttpRequest()
    request.path = "/api/v1/referrals/"

    response = views.too_many_requests(request, retry_after=30)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_database_down_gives_the_api_a_503_in_json_not_a_500() -> None:
    from django.db import OperationalError

    request = HttpRequest()
    request.path = "/api/v1/jobs/"
    try:
        raise OperationalError("connection to server failed")
    except OperationalError:
        response = views.error_500(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response["Content-Type"] == "application/json"
    body = response.content.decode()
    assert "briefly unavailable" in body
    assert "connection to server" not in body
