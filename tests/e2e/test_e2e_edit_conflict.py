"""No lost updates, in a real browser: two people open the same adult case's safety plan in
their own browsers, both change it, the first saves; the second is told who changed it and when,
sees the stored plan, keeps what they typed, and can then save it deliberately."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from support.models import SafetyPlan, SafetyPlanStatus
from support.services.adult import safety_plan_record
from tests.e2e.conftest import (
    ConsoleErrors,
    check_page,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.factories import PersonaWorld
from tests.test_support_helpers import build_support_world, days_ago, open_adult_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STARTING = "Keep the phone charged and by the bed."
WORKERS = "Keep the phone charged. The neighbour at number 12 holds a spare key."
MANAGERS = "Keep the phone charged. Code word with the sister is blue umbrella."


def test_second_of_two_browsers_editing_a_safety_plan_sees_the_conflict_with_its_text_kept(
    page: Page,
    browser: Browser,
    browser_context_args: dict[str, Any],
    world: PersonaWorld,
    axe_source: str,
    screenshots: Path,
    console_errors: ConsoleErrors,
) -> None:
    sw = build_support_world(world)
    case = open_adult_case(sw)
    safety_plan_record(case=case, agreed_on=days_ago(7), plan=STARTING, created_by=sw.adult_worker)
    url = f"/support/adult/{case.pk}/safety-plan/"

    # The worker opens the plan from the case page; the manager, in their own browser, too.
    sign_in_browser(page, sw.adult_worker)
    page.goto(f"/support/adult/{case.pk}/")
    page.get_by_role("link", name="Safety plan", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    expect(page.get_by_label("Safety plan", exact=True)).to_have_value(STARTING)

    other = browser.new_context(**browser_context_args)
    manager = other.new_page()
    sign_in_browser(manager, sw.adult_manager)
    manager.goto(url)
    expect(manager.get_by_label("Safety plan", exact=True)).to_have_value(STARTING)

    # Both edit; the worker saves first.
    page.get_by_label("Safety plan", exact=True).fill(WORKERS)
    manager.get_by_label("Safety plan", exact=True).fill(MANAGERS)
    submit(page, "Save")
    expect(page.get_by_text("Safety plan saved", exact=True)).to_be_visible()

    # The manager's save is refused, with who and when, the stored plan, and their own text.
    submit(manager, "Save")
    expect(manager).to_have_title(re.compile("^Error: "))
    summary = manager.locator(".govuk-error-summary")
    expect(summary).to_contain_text(f"This record was changed by {sw.adult_worker.full_name} at ")
    expect(summary).to_contain_text("while you were editing")
    stored = manager.locator("#edit-conflict")
    expect(stored.get_by_role("heading", name="What is stored now")).to_be_visible()
    expect(stored).to_contain_text(WORKERS)
    expect(manager.get_by_label("Safety plan", exact=True)).to_have_value(MANAGERS)
    check_page(manager, axe_source)
    manager.screenshot(path=str(screenshots / "edit-conflict-safety-plan.png"), full_page=True)
    current = SafetyPlan.objects.get(adult_case=case, status=SafetyPlanStatus.ACTIVE)
    assert current.plan == WORKERS  # nothing overwritten

    # Having read it, the manager saves their version on purpose.
    submit(manager, "Save")
    expect(manager.get_by_text("Safety plan saved", exact=True)).to_be_visible()
    current = SafetyPlan.objects.get(adult_case=case, status=SafetyPlanStatus.ACTIVE)
    assert current.plan == MANAGERS
    assert SafetyPlan.objects.filter(adult_case=case).count() == 3  # every plan kept
    other.close()
    assert unexpected_console_errors(console_errors) == []
