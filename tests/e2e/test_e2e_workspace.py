"""Every demo role signs in and lands on its own home (safer/workspace.py) with its menu, from
``seed_demo`` data alone: the home and every page its menu links to are axe-clean (the "region"
rule included) and do not scroll sideways at 320px. Screenshots of each home at desktop width
and at 320px go to test-results/e2e/workspace-<role>[-320].png.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import BrowserContext, Page, expect

from safer.demo import LOGINS, DemoLogin
from tests.e2e.conftest import (
    REFLOW_WIDTH,
    ConsoleErrors,
    OutsideRequests,
    check_page,
    unexpected_console_errors,
)
from tests.e2e.test_e2e_demo_journeys import sign_in_demo

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BY_KEY = {login.key: login for login in LOGINS}
# One sign-in of each kind of home, and what each home must show first.
HOMES = {
    "referrer": "Your referrals",
    "refuge_referrer": "Your referrals",
    "spa_triage": "Referrals to triage",
    "spa_manager": "Approvals",
    "contractor": "Your jobs by next action",
    "adult_support_worker": "Your caseload",
    "cyp_worker": "Your caseload",
    "provider_manager": "Waiting for allocation",
    "cyp_provider_manager": "Caseload per worker",
    "commissioner": "Returns due",
    "auditor": "Access and sign-in alerts in the last 7 days",
    "system_admin": "Reference data and users",
}
# The admin site is Django's own layout, not the service's: opened, not checked with axe.
NOT_OUR_LAYOUT = ("/admin/",)


@pytest.fixture
def demo(tmp_path: Path) -> dict[str, DemoLogin]:
    call_command("seed_demo", logins_file=tmp_path / "logins.txt", stdout=io.StringIO())
    return BY_KEY


def test_every_demo_role_lands_on_its_home_with_its_menu(
    page: Page,
    context: BrowserContext,
    demo: dict[str, DemoLogin],
    screenshots: Path,
    axe_source: str,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    for key, panel in HOMES.items():
        context.clear_cookies()
        page.set_viewport_size({"width": 1280, "height": 900})
        sign_in_demo(page, demo[key])
        assert page.url.endswith("/"), f"{key} landed on {page.url}"
        expect(page.get_by_role("heading", level=1)).to_have_text("Your work")
        expect(page.get_by_role("heading", level=2, name=panel)).to_be_visible()
        menu = page.get_by_role("navigation", name="Menu")
        links = menu.locator("a.govuk-service-navigation__link")
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        assert hrefs, f"{key} has no menu"
        check_page(page, axe_source)
        page.screenshot(path=screenshots / f"workspace-{key}.png", full_page=True)
        page.set_viewport_size({"width": REFLOW_WIDTH, "height": 800})
        page.screenshot(path=screenshots / f"workspace-{key}-320.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})

        for href in hrefs:
            response = page.goto(href)
            assert response is not None, f"{key}: {href}"
            assert response.status < 400, f"{key}: {href}"
            if not href.startswith(NOT_OUR_LAYOUT):
                check_page(page, axe_source)
            # The menu marks where the user is.
            if href != "/" and not href.startswith(NOT_OUR_LAYOUT):
                current = page.locator('.govuk-service-navigation__link[aria-current="true"]')
                expect(current).to_have_attribute("href", href)
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []
