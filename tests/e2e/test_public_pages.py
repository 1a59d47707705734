"""The public pages in a real browser: styles, keyboard use, Exit this page and accessibility."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from safer.views import EXIT_DESTINATION
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    add_session_cookie,
    route_outside_requests,
)

pytestmark = pytest.mark.e2e

PUBLIC_PATHS = ["/", "/safety/", "/accessibility/", "/privacy/", "/cookies/"]
EXIT_URL = re.compile(re.escape(EXIT_DESTINATION))
# The council's colour (teal shade-25), set in safer/static/scss/safer.scss.
BRAND_RGB = "rgb(16, 97, 101)"


def _wait_for_frontend(page: Page) -> None:
    """GOV.UK Frontend has started once Exit this page has built its Shift-key indicator."""
    page.wait_for_selector(".govuk-exit-this-page__indicator", state="attached")


def test_home_page_is_styled_and_scripted_within_the_csp(
    page: Page,
    outside_requests: OutsideRequests,
    console_errors: ConsoleErrors,
    screenshots: Path,
) -> None:
    page.goto("/")
    _wait_for_frontend(page)

    header = page.locator(".govuk-header")
    expect(header).to_have_css("background-color", BRAND_RGB)
    expect(header).to_contain_text(settings.COUNCIL_NAME)
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith("system-ui"), font
    expect(page.locator("main h1")).to_have_css("font-weight", "700")
    # The nonce'd snippet ran: without it the CSP would have blocked it and these would be missing.
    expect(page.locator("body")).to_have_class(re.compile(r"\bjs-enabled\b.*\bgovuk-frontend-"))
    assert console_errors.messages == []
    assert outside_requests.urls == []

    page.screenshot(path=str(screenshots / "home.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    page.screenshot(path=str(screenshots / "home-mobile.png"), full_page=True)


def test_skip_link_is_the_first_stop_and_moves_focus_to_the_content(page: Page) -> None:
    page.goto("/")
    _wait_for_frontend(page)

    page.keyboard.press("Tab")

    skip_link = page.locator(".govuk-skip-link")
    expect(skip_link).to_be_focused()
    box = skip_link.bounding_box()
    assert box is not None
    assert box["width"] > 100, "a focused skip link is shown, not visually hidden"
    page.keyboard.press("Enter")
    expect(page.locator("main#main-content")).to_be_focused()


def _exit_request_seen(page: Page) -> list[str]:
    exits: list[str] = []
    page.on("request", lambda r: exits.append(r.url) if r.url.endswith("/exit/") else None)
    return exits


def _assert_at_the_neutral_site(page: Page) -> None:
    # Polls rather than waiting for one navigation: under request interception Chromium may make
    # the cross-site leg of the redirect twice, and the first attempt is reported as failed.
    expect(page).to_have_url(EXIT_URL)
    expect(page).to_have_title("Weather")


def _assert_session_ended(context: BrowserContext, session_key: str) -> None:
    """The server forgot the session, and the browser holds none of the site's cookies: the
    session cookie is deleted by Set-Cookie, the rest by Clear-Site-Data."""
    assert context.cookies() == []
    assert not SessionStore().exists(session_key)


def test_exit_this_page_button_ends_the_session_and_leaves(
    page: Page,
    context: BrowserContext,
    outside_requests: OutsideRequests,
    session_cookie: str,
) -> None:
    page.goto("/safety/")
    _wait_for_frontend(page)
    exits = _exit_request_seen(page)

    page.get_by_role("button", name="Exit this page").click()

    _assert_at_the_neutral_site(page)
    assert len(exits) == 1
    _assert_session_ended(context, session_cookie)


def test_exit_this_page_works_without_javascript(
    browser: Browser, browser_context_args: dict[str, Any], live_server: LiveServer
) -> None:
    """The button is a plain link to /exit/, so it works with scripts off too."""
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        route_outside_requests(context, live_server.url)
        session_key = add_session_cookie(context, live_server.url)
        page = context.new_page()
        page.goto("/")
        expect(page.locator("body")).not_to_have_class(re.compile("js-enabled"))

        page.get_by_role("button", name="Exit this page").click()

        _assert_at_the_neutral_site(page)
        _assert_session_ended(context, session_key)
    finally:
        context.close()


def test_pressing_shift_three_times_exits(
    page: Page,
    context: BrowserContext,
    outside_requests: OutsideRequests,
    session_cookie: str,
) -> None:
    page.goto("/")
    _wait_for_frontend(page)
    exits = _exit_request_seen(page)

    page.keyboard.press("Shift")
    expect(page.locator(".govuk-exit-this-page__indicator-light--on")).to_have_count(1)
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")

    _assert_at_the_neutral_site(page)
    assert len(exits) == 1
    _assert_session_ended(context, session_cookie)


@pytest.mark.parametrize("path", [*PUBLIC_PATHS, "/safety/no-such-page/"])
def test_public_page_has_no_serious_accessibility_violations(
    page: Page,
    outside_requests: OutsideRequests,
    console_errors: ConsoleErrors,
    axe_source: str,
    path: str,
) -> None:
    page.goto(path)
    _wait_for_frontend(page)
    # Evaluated through the DevTools protocol, which the page's CSP does not govern: the page
    # itself keeps its strict policy while it is checked.
    page.evaluate(axe_source)
    results = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: [
                "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"
            ]}
        })"""
    )

    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    assert console_errors.messages == []
    assert outside_requests.urls == []
