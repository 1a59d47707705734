"""Browser tests: headless Chromium (Debian's package) against pytest-django's live server.

Run them with `make e2e` (or `pytest -m e2e`). They need `apt-get install -y chromium` — never
`playwright install`, which downloads a browser — and `npm ci` for axe-core. Without
/usr/bin/chromium they are skipped, saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import BrowserContext, Page, Request, Route
from pytest_django.live_server_helper import LiveServer

from safer.views import EXIT_DESTINATION

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SCRIPT = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
EXIT_HOST = urlsplit(EXIT_DESTINATION).netloc
NEUTRAL_PAGE = "<!DOCTYPE html><html lang='en'><title>Weather</title><h1>Weather</h1></html>"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} not found: install Debian's browser with `apt-get install -y chromium`"
    )
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _allow_django_in_playwrights_event_loop() -> Iterator[None]:
    """Playwright's sync API runs an asyncio loop in the test thread; Django then refuses ORM
    calls there (SynchronousOnlyOperation) unless told they are safe, as they are here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(
    browser_context_args: dict[str, Any], live_server: LiveServer
) -> dict[str, Any]:
    return {
        **browser_context_args,
        "base_url": live_server.url,
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-GB",
    }


class OutsideRequests:
    """Requests the page made to any host but the live server (the neutral exit site aside)."""

    def __init__(self) -> None:
        self.urls: list[str] = []


def route_outside_requests(context: BrowserContext, live_server_url: str) -> OutsideRequests:
    """Answer the exit destination with a stand-in page (no internet needed) and refuse every
    other host, recording it: the service must not load anything from a third party."""
    outside = OutsideRequests()
    own = urlsplit(live_server_url).netloc

    def handle(route: Route, request: Request) -> None:
        host = urlsplit(request.url).netloc
        if host == own:
            route.continue_()
        elif host == EXIT_HOST:
            route.fulfill(status=200, content_type="text/html", body=NEUTRAL_PAGE)
        else:
            outside.urls.append(request.url)
            route.abort()

    context.route("**/*", handle)
    return outside


@pytest.fixture
def outside_requests(context: BrowserContext, live_server: LiveServer) -> OutsideRequests:
    return route_outside_requests(context, live_server.url)


class ConsoleErrors:
    def __init__(self, page: Page) -> None:
        self._page = page
        self._errors: list[tuple[str, str]] = []  # (message, URL of what it is about)

    @property
    def messages(self) -> list[str]:
        """Errors, leaving out the browser's note that the page itself had an error status
        (expected on the 404 page)."""
        return [text for text, url in self._errors if url != self._page.url]


@pytest.fixture
def console_errors(page: Page) -> ConsoleErrors:
    """Console errors and uncaught exceptions: a CSP violation (a blocked inline script or
    style) shows up here."""
    errors = ConsoleErrors(page)
    page.on(
        "console",
        lambda m: (
            errors._errors.append((m.text, m.location.get("url", "")))
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors._errors.append((str(exc), "")))
    return errors


def add_session_cookie(context: BrowserContext, live_server_url: str) -> str:
    """A server-side session holding a half-typed referral, its cookie in the browser, and a
    CSRF cookie beside it. Returns the session key."""
    session = SessionStore()
    session["referral_draft"] = {"survivor_name": "Someone"}
    session.save()
    assert session.session_key
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server_url,
                "httpOnly": True,
                "sameSite": "Lax",
            },
            # Not deleted by the exit view itself: only Clear-Site-Data removes it.
            {"name": settings.CSRF_COOKIE_NAME, "value": "x" * 32, "url": live_server_url},
        ]
    )
    return session.session_key


@pytest.fixture
def session_cookie(context: BrowserContext, live_server: LiveServer) -> str:
    return add_session_cookie(context, live_server.url)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run `npm ci` (make install does)")
    return AXE_SCRIPT.read_text()


@pytest.fixture(scope="session")
def screenshots(pytestconfig: pytest.Config) -> Path:
    """Where screenshots go: pytest-playwright's --output folder (test-results/ by default,
    emptied at the start of each run), under e2e/."""
    folder = Path(pytestconfig.getoption("--output")).absolute() / "e2e"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
