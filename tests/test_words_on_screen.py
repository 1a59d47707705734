"""Things said in words: one address formatter, GOV.UK dates and times, choices by label."""

from __future__ import annotations

import datetime as dt

from django.template import Context, Template

from referrals.models import Referral
from referrals.models.risk import marac_ground_labels
from safer import workdays
from safer.casefile.models import Household, Perpetrator
from safer.templatetags.safer_format import govuk_date, govuk_datetime


def test_address_is_lines_without_blank_ones_and_escaped_on_the_page() -> None:
    household = Household(
        address_line_1="1 Fictional Road", address_line_2="", town="Town", postcode="ME15 6AA"
    )
    assert household.address_lines == ["1 Fictional Road", "Town", "ME15 6AA"]
    html = Template(
        "{% load casefile %}"
        '{% include "referrals/triage/_summary_row.html" with key="Address" value=h|address %}'
        "|{{ h|address|linebreaksbr }}"
    ).render(Context({"h": household}))
    assert "1 Fictional Road<br>Town<br>ME15 6AA" in html
    assert "&lt;br" not in html
    assert "\\n" not in html
    household.address_line_1 = "<script>"
    html = Template("{% load casefile %}{{ h|address|linebreaksbr }}").render(
        Context({"h": household})
    )
    assert "&lt;script&gt;<br>Town" in html


def test_dates_and_times_in_govuk_style() -> None:
    moment = dt.datetime(2026, 12, 4, 17, 30, tzinfo=workdays.LOCAL_TZ)
    assert govuk_date(moment.date()) == "4 December 2026"
    assert govuk_datetime(moment) == "4 December 2026 at 5:30pm"
    assert govuk_datetime(moment.replace(hour=9, minute=0)) == "4 December 2026 at 9am"
    assert govuk_datetime(moment.replace(hour=12, minute=0)) == "4 December 2026 at midday"
    assert govuk_datetime(None) == ""


def test_choices_stored_as_codes_are_shown_by_label() -> None:
    assert Perpetrator(relationship="ex_partner").get_relationship_display() == "Former partner"
    assert marac_ground_labels(["visible_high_risk", "escalation"]) == [
        "Visible high risk (score)",
        "Escalation",
    ]
    referral = Referral(other_risks=["stalking", "fgm"])
    assert referral.other_risk_labels == [
        "Stalking or harassment",
        "Female genital mutilation (FGM)",
    ]
