"""Browser tests: headless Chromium (Debian's package) against pytest-django's live server.

Run them with `make e2e` (or `pytest -m e2e`). They need `apt-get install -y chromium` — never
`playwright install`, which downloads a browser — and `npm ci` for axe-core. Without
/usr/bin/chromium they are skipped, saying why.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, Page, Request, Route, expect
from pytest_django.live_server_helper import LiveServer

from safer.accounts.models import User
from safer.views import EXIT_DESTINATION
from tests.helpers import TEST_PASSWORD, add_totp_device, totp_code

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


# --- Signed-in pages: sign-in with the second factor, axe and reflow ---------------------------

# The rules the public pages are checked against (test_public_pages.py): WCAG 2.2 AA and axe's
# best practice.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
REFLOW_WIDTH = 320  # WCAG 1.4.10: 1280px at 400% zoom


def sign_in_browser(page: Page, user: User) -> None:
    """Sign ``user`` in as a person does: email and password, then the code their authenticator
    app shows (a confirmed TOTP device is added if they have none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or add_totp_device(user)
    user.set_password(TEST_PASSWORD)
    user.save(update_fields=["password"])
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Security code").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)


def axe_violations(page: Page, axe_source: str) -> list[str]:
    """Every axe violation on the page as it is now, under ``AXE_TAGS`` and of any impact, one
    line each. None is exempt: the layout keeps the phase banner in the header and the back link
    in <main>, so the "region" rule holds too."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(axe_source)
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    found = []
    for v in results["violations"]:
        targets = [n["target"] for n in v["nodes"]]
        if targets:
            found.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return found


def horizontal_overflow(page: Page, *, tables: bool = True) -> list[str]:
    """At a 320px-wide viewport, what sticks out past the right edge (empty if the page reflows
    without horizontal scrolling). The viewport is left at that width.

    A wide table scrolls inside its own focusable region (``safer-table-scroll``), so the page
    does not; ``tables=False`` leaves tables out of the list of offenders."""
    page.set_viewport_size({"width": REFLOW_WIDTH, "height": 800})
    return page.evaluate(
        """tables => {
            const root = document.documentElement;
            if (root.scrollWidth <= root.clientWidth) return [];
            const wide = [...document.body.querySelectorAll('*')].filter(
                e => e.getBoundingClientRect().right > root.clientWidth + 1
                     && (tables || !e.closest('table')));
            // The outermost offenders only: their children overflow with them.
            return wide.filter(e => !wide.includes(e.parentElement)).slice(0, 10).map(
                e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}` +
                     `.${[...e.classList].join('.')}` +
                     ` (${Math.round(e.getBoundingClientRect().right)}px)`);
        }""",
        tables,
    )


def check_page(page: Page, axe_source: str) -> None:
    """No axe violation, and no horizontal scrolling at 320px (the viewport is put back)."""
    # After a click the URL can change before the new document has loaded: axe would then read
    # a page with no <main> yet (seen on a loaded CI machine).
    page.wait_for_load_state("load")
    page.locator("main").first.wait_for(state="attached")
    assert axe_violations(page, axe_source) == [], page.url
    viewport = page.viewport_size
    assert horizontal_overflow(page) == [], page.url
    if viewport:
        page.set_viewport_size(viewport)


def unexpected_console_errors(console_errors: ConsoleErrors) -> list[str]:
    """Console errors, leaving out the 400 status of a refused form (expected)."""
    return [m for m in console_errors.messages if not m.endswith("status of 400 (Bad Request)")]


def submit(page: Page, name: str) -> None:
    """Submit as a keyboard user does: focus the button and press Enter."""
    button = page.get_by_role("button", name=name)
    button.focus()
    button.press("Enter")
    page.wait_for_load_state()


def follow_error_link(page: Page, message: str) -> None:
    """The error summary has the message as a link (the first, if several have it), and
    following it puts focus on the field."""
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    link = summary.get_by_role("link", name=message).first
    expect(link).to_have_attribute("href", re.compile(r"^#.+"))
    target = link.get_attribute("href") or "#"
    link.focus()
    link.press("Enter")
    expect(page.locator(target)).to_be_focused()


def fill_date(page: Page, label: str, day: dt.date) -> None:
    """A GOV.UK date input (``safer.forms.GovukDateField``) by its legend: day, month, year."""
    group = page.get_by_role("group", name=label, exact=True)
    group.get_by_label("Day", exact=True).fill(str(day.day))
    group.get_by_label("Month", exact=True).fill(str(day.month))
    group.get_by_label("Year", exact=True).fill(str(day.year))


def choose(page: Page, question: str, answer: str) -> None:
    """The radio labelled ``answer`` in the group whose legend is ``question``."""
    page.get_by_role("group", name=question, exact=True).get_by_label(answer, exact=True).check()
