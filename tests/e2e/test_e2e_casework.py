"""Support casework in a real browser: an adult worker runs a session, records the exit
measures, closes the case and lands on the closed case; a CYP worker scores a goal at start,
review and end and closes. Every page is checked with axe and at a 320px-wide viewport, and
screenshots are kept under test-results/e2e/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from support.exceptions import ExitMeasuresMissing
from support.models import AdultSupportCase, CypCase, SessionLog
from support.selectors.closure import adult_exit_measures_missing
from support.services.adult import OutcomeScores, outcome_measure_record, support_goal_add
from tests.e2e.conftest import (
    ConsoleErrors,
    OutsideRequests,
    check_page,
    follow_error_link,
    sign_in_browser,
    submit,
    unexpected_console_errors,
)
from tests.factories import PersonaWorld
from tests.test_support_helpers import build_support_world, days_ago, open_adult_case, open_cyp_case

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _shot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"casework-{name}.png"), full_page=True)


def test_adult_worker_runs_a_session_and_closes_with_exit_measures_landing_on_the_closed_case(
    page: Page,
    world: PersonaWorld,
    axe_source: str,
    screenshots: Path,
    console_errors: ConsoleErrors,
    outside_requests: OutsideRequests,
) -> None:
    sw = build_support_world(world)
    case = open_adult_case(sw)
    support_goal_add(case=case, description="Feel safe at home", created_by=sw.adult_worker)
    outcome_measure_record(
        case=case,
        time_point="start",
        recorded_on=days_ago(0),
        scores=OutcomeScores(feeling_safe=3, quality_of_life=4, confidence=2),
        recorded_by=sw.adult_worker,
    )
    sign_in_browser(page, sw.adult_worker)
    page.goto(f"/support/adult/{case.pk}/")
    check_page(page, axe_source)

    # A session: the date is a GOV.UK date input (today filled in), the mode a radio.
    page.get_by_role("link", name="Session", exact=True).click()
    expect(page.get_by_role("group", name="Date")).to_be_visible()
    expect(page.get_by_label("Day")).to_have_value(str(days_ago(0).day))
    check_page(page, axe_source)
    page.get_by_label("Face to face").check()
    page.get_by_label("Minutes").fill("45")
    submit(page, "Save")
    expect(page.get_by_text("Session recorded", exact=True)).to_be_visible()
    assert SessionLog.objects.filter(adult_case=case).count() == 1

    # Closing as planned without the exit measures: the page says what is missing first.
    page.get_by_role("link", name="Close the case").click()
    expect(page.get_by_text("The outcome measures at exit")).to_be_visible()
    check_page(page, axe_source)
    page.get_by_label("No longer needed or goals met").check()
    page.get_by_label("Planned ending: goals met").check()
    submit(page, "Close the case")
    expect(page).to_have_title(re.compile("^Error: "))
    message = ExitMeasuresMissing(adult_exit_measures_missing(case=case)).message
    follow_error_link(page, message)
    check_page(page, axe_source)
    _shot(page, screenshots, "adult-close-refused")

    # Record the exit measures and the goal's status, then close.
    page.goto(f"/support/adult/{case.pk}/outcomes/")
    page.get_by_label("Close", exact=True).check()
    page.get_by_label("Feeling safe (0 to 10)").select_option("8")
    page.get_by_label("Wellbeing and quality of life (0 to 10)").select_option("7")
    page.get_by_label("Confidence to access support (0 to 10)").select_option("7")
    page.get_by_label("Stopped").check()
    submit(page, "Save")
    page.get_by_role("link", name=re.compile("Change the status")).click()
    check_page(page, axe_source)
    page.get_by_label("Achieved").check()
    submit(page, "Save the goal's status")

    page.get_by_role("link", name="Close the case").click()
    expect(page.get_by_text("The outcome measures at exit")).to_have_count(0)
    page.get_by_label("No longer needed or goals met").check()
    page.get_by_label("Planned ending: goals met").check()
    submit(page, "Close the case")

    # The closed case: its closure details, nothing to act on, and no 404.
    expect(page).to_have_url(re.compile(rf"/support/adult/{case.pk}/closed/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Adult support case closed")
    expect(page.get_by_text("Planned ending: goals met", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Close the case")).to_have_count(0)
    expect(page.get_by_role("link", name="Session", exact=True)).to_have_count(0)
    check_page(page, axe_source)
    _shot(page, screenshots, "adult-closed")
    assert AdultSupportCase.objects.get(pk=case.pk).status == "closed"
    assert unexpected_console_errors(console_errors) == []
    assert outside_requests.urls == []


def test_cyp_worker_scores_a_goal_at_start_review_and_end_then_closes(
    page: Page,
    world: PersonaWorld,
    axe_source: str,
    screenshots: Path,
    console_errors: ConsoleErrors,
) -> None:
    sw = build_support_world(world)
    case = open_cyp_case(sw)
    sign_in_browser(page, sw.cyp_worker)
    page.goto(f"/support/cyp/{case.pk}/")
    check_page(page, axe_source)

    page.get_by_role("link", name="Goal (GBO)").click()
    page.get_by_label("Goal, in the child's words").fill("Sleep in my own bed")
    page.locator("input[name=owner][value=child]").check()
    page.locator("input[name=rated_by][value=child]").check()
    page.get_by_label("Start score (0 to 10)").select_option("2")
    check_page(page, axe_source)
    submit(page, "Save")
    expect(page.get_by_text("Goal agreed", exact=True)).to_be_visible()

    for when, score in (("Review", "5"), ("End", "8")):
        page.get_by_role("link", name=re.compile("Add a score")).click()
        page.get_by_label(when, exact=True).check()
        page.get_by_label("Score (0 to 10)").select_option(score)
        page.locator("input[name=rated_by][value=child]").check()
        check_page(page, axe_source)
        submit(page, "Save")
    _shot(page, screenshots, "cyp-gbo-scored")
    goal = CypCase.objects.get(pk=case.pk).gbo_goals.get()
    assert sorted(goal.scores.values_list("time_point", "score")) == [
        ("end", 8),
        ("review", 5),
        ("start", 2),
    ]

    page.get_by_role("link", name="Close the case").click()
    page.get_by_label("No longer needed or goals met").check()
    page.get_by_label("Planned ending: goals met").check()
    submit(page, "Close the case")
    expect(page).to_have_url(re.compile(rf"/support/cyp/{case.pk}/closed/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("CYP case closed")
    check_page(page, axe_source)
    _shot(page, screenshots, "cyp-closed")
    assert unexpected_console_errors(console_errors) == []
