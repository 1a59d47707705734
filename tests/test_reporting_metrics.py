"""Every cell of the returns and every KPI for the hand-built dataset (test_reporting_data.py).

The expected figures below were worked out by hand from the dataset's records, with the
reasoning next to them; they are literals, never computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from referrals.models import DeclineReason, Referral
from reporting.kpi_report import build_contract_kpi_report, kpi_results, kpi_table
from reporting.metrics import NOT_MEASURABLE, Metrics, Scope, kpi_breaches, kpi_measure
from reporting.metrics.referrals import advice_contacts
from reporting.models import ReportKind
from reporting.periods import Period
from reporting.returns import build_return, template_for
from reporting.suppression import suppress_document
from reporting.tables import ReportDocument
from safer import workdays
from safer.casefile.models import HouseholdRole
from support.models import ClosureReason, SafeAccommodationType
from tests.test_reporting_data import Dataset, at, build_dataset

Q1 = Period.parse("2025-26-Q1")
Q2 = Period.parse("2025-26-Q2")
YEAR = Period.parse("2025-26")
AS_OF = at(2026, 4, 10)  # after the year: every clock has stopped or breached


@pytest.fixture
def dataset(db: None) -> Dataset:
    """The hand-built dataset of tests/test_reporting_data.py."""
    return build_dataset()


# The referral profile's lines (reporting migration 0010: "Referrals received: survivor aged …",
# "… referred by …"): every one is checked against a recount from the rows, in the returns too,
# by tests/test_reporting_profile.py; the every-cell lists here keep to the other lines.
PROFILE_LINE_PREFIX = "Referrals received: "


def cells(document: ReportDocument, code: str) -> list[tuple[str, list[str]]]:
    table = document.table(code)
    return [
        (row.label.strip(), [c.display(document.threshold) for c in row.cells])
        for row in table.rows
        if not row.label.startswith(PROFILE_LINE_PREFIX)
    ]


def annual(data: Dataset) -> ReportDocument:
    return build_return(
        template=template_for(ReportKind.ANNUAL_RETURN, YEAR),
        scope=Scope((data.kent.pk,)),
        period=YEAR,
        as_of=AS_OF,
        parameters=[],
    )


def quarterly(data: Dataset) -> ReportDocument:
    return build_return(
        template=template_for(ReportKind.QUARTERLY_GRANT, Q1),
        scope=Scope((data.kent.pk,)),
        period=Q1,
        as_of=AS_OF,
        parameters=[],
    )


# --- Deadlines the dataset relies on (bank holidays) -------------------------------------------


def test_dataset_deadlines_skip_bank_holidays(dataset: Dataset) -> None:
    def local(moment: dt.datetime | None) -> dt.date:
        assert moment is not None
        return workdays.local_date(moment)

    # Received Thu 17 April 2025: Good Friday and Easter Monday skipped → Tue 22 (1), Wed 23 (2).
    assert local(dataset.referrals["R2"].sla_due_at) == dt.date(2025, 4, 23)
    # Received Thu 1 May: Fri 2 (1), Mon 5 May is a bank holiday, Tue 6 (2).
    assert local(dataset.referrals["R3"].sla_due_at) == dt.date(2025, 5, 6)
    # Allocated Tue 20 May: 21, 22, 23, (26 May holiday), 27, 28 → surveyed on the due day.
    assert local(dataset.jobs["J4"].survey_due_at) == dt.date(2025, 5, 28)
    # Landlord consent Fri 9 May: ten working days → Fri 23 May; installed 6 June, late.
    assert local(dataset.jobs["J2"].installation_due_at) == dt.date(2025, 5, 23)
    # Surveyed Mon 19 May: 20-23 (4), 26 May holiday, 27-30 (8), 2 and 3 June (10).
    assert local(dataset.jobs["J3"].installation_due_at) == dt.date(2025, 6, 3)
    # A child allocated Mon 14 April: 15, 16, 17, (Easter), 22, 23 → due Wed 23 April.
    assert dataset.cyp_cases["K5"].first_contact_due_on == dt.date(2025, 4, 23)
    # The SPA's first contact with R2 (Thu 17 April): Good Friday, Easter Monday → Tue 22 April.
    assert local(dataset.referrals["R2"].first_contact_due_at) == dt.date(2025, 4, 22)


def test_dataset_has_every_decline_and_closure_reason_and_accommodation_type(
    dataset: Dataset,
) -> None:
    """The branches issue 7 lists: a reason or type added to the reference data without a
    record here would be a return line no test has seen filled."""
    declined = {r.decline_reason_id for r in dataset.referrals.values() if r.decline_reason_id}
    assert declined == set(DeclineReason.objects.values_list("code", flat=True))
    closed = {
        c.closure_reason.code
        for c in [*dataset.adult_cases.values(), *dataset.cyp_cases.values()]
        if c.closure_reason
    }
    assert closed == set(ClosureReason.objects.values_list("code", flat=True))
    # Adult cases are the sanctuary scheme's; each other type has a child's case.
    accommodation = {c.accommodation_type for c in dataset.cyp_cases.values()}
    assert accommodation | {"sanctuary"} == set(SafeAccommodationType.values)


# --- The annual Part 4 return, 2025-26 ----------------------------------------------------------


ANNUAL_EXPECTED: dict[str, list[tuple[str, list[str]]]] = {
    # Supported in the year (open, contacted by 31 March 2026): adults W1, M1, T1, W2, W3, NR
    # (H19's case began in March 2025 and stayed open), W5; children C1-C7. W4 (A6) was never
    # contacted. W3 is 17 on her first contact, so a child.
    "individuals": [
        ("Women", ["3"]),  # W1, W2, W5
        ("Men", ["1"]),  # M1
        ("Trans adults", ["1"]),  # T1 (male at birth, counted only here)
        ("Children (under 18 on the first day of support)", ["8"]),  # W3 + C1-C7
        ("Adults whose sex is not recorded", ["1"]),  # NR
        ("Total individuals supported", ["14"]),
    ],
    "accommodation": [
        ("Refuge", ["1"]),  # C3
        ("Specialist safe accommodation", ["1"]),  # C6
        ("Dispersed accommodation", ["1"]),  # C4
        ("Second stage or move-on accommodation", ["1"]),  # C5
        ("Other domestic abuse emergency accommodation", ["1"]),  # C7
        ("Sanctuary scheme", ["9"]),  # 7 adults + C1, C2
        ("Not recorded", ["0"]),
        ("Total", ["14"]),
    ],
    # Recorded for 2025-26: refuge 10 + 4, dispersed 6, sanctuary 300 (2024-25's 250 is not
    # this year's). Places, not people: never shown as "<5".
    "commissioned_units": [
        ("Refuge", ["14"]),
        ("Specialist safe accommodation", ["0"]),
        ("Dispersed accommodation", ["6"]),
        ("Second stage or move-on accommodation", ["0"]),
        ("Other domestic abuse emergency accommodation", ["0"]),
        ("Sanctuary scheme", ["300"]),
        ("Total units commissioned", ["320"]),
    ],
    "specialist": [
        ("Black and minoritised", ["7"]),  # T1, W2, W3, C1, C2, C4 (Gypsy/Traveller), C5
        ("Disabled", ["2"]),  # M1, C2
        ("LGBT+", ["2"]),  # T1 (trans), W2 (bisexual)
        ("Mental health needs", ["2"]),  # W1 (R1), M1 (R2)
        ("Substance use", ["1"]),  # M1
        ("Complex or multiple needs", ["2"]),  # W3 (R5), W5 (R7)
        ("No recourse to public funds", ["1"]),  # W2
        ("Older people (60 and over)", ["1"]),  # M1, 65
        ("Young adults (18 to 24)", ["1"]),  # T1, 22 (W3 is a child)
        # The seven above + M1 + W1 + W5 (complex needs only).
        ("At least one specialist characteristic", ["10"]),
    ],
    # Declines decided in the year, the duplicate (D7) left out; the withdrawal is no decline.
    "not_supported": [
        ("Not eligible (outside the area)", ["1"]),  # D1
        ("Not safe to remain, or the perpetrator lives there", ["2"]),  # D2, D3
        ("Declined the service or no consent", ["2"]),  # D4, D5
        ("Unable to contact", ["1"]),  # D6
        ("Referred to another service", ["1"]),  # D8
        ("Other reasons", ["1"]),  # D9
        ("Total households that could not be supported", ["8"]),
    ],
    # Closed in the year: A1 (sanctuary: J1 installed 29 April, before), A3 (J3 installed after
    # the close: other), A5, K1 (J4 installed after the close), K3, K5, A4 (closed 15 August,
    # after J4's installation on 1 July: sanctuary), K4 (declined further support, 12 September;
    # H21 has no works) and A7 (unable to contact, 14 November; H7's J7 was never fitted).
    "support_ended": [
        ("No longer needed or goals met", ["1", "1", "2"]),  # A1 | K1
        ("Moved out of the area or to other accommodation", ["1", "1", "2"]),  # A4 | K3
        # Three closure reasons on one line: A5 disengaged, K4 declined, A7 unable to contact.
        ("Disengaged, declined or could not be contacted", ["0", "3", "3"]),
        ("Perpetrator returned", ["0", "1", "1"]),  # A3
        ("Other", ["0", "1", "1"]),  # K5
        ("Total", ["2", "7", "9"]),
    ],
    "sanctuary": [
        ("Works installed in the year", ["4"]),  # H1, H2, H3, H4 (J6 cancelled, J7 not fitted)
        # H1 (A1 open when J1 was fitted), H2 (A2, J2), H4 (A4 and K2, J4), H19 (A9, J8 in March
        # 2025). Not H3: A3 closed on 30 May, J3 was fitted on 2 June (the split of support_ended
        # calls A3 "other" for the same reason); H3 counts once, through its installation.
        ("Supported while living with completed works", ["4"]),
        ("Households supported in a sanctuary scheme (each counted once)", ["5"]),
    ],
    "support_types": [
        ("Advocacy", ["2"]),  # T1 legal/court, W2 immigration
        ("Prevention advice and safety planning", ["1"]),  # W1 safety
        ("Specialist support (protected characteristics or complex needs)", ["1"]),  # M1
        ("Children's support", ["5"]),  # W2 parenting; C1, C3, C4, C7 engagement/coordination
        ("Housing-related support", ["2"]),  # W1, W5
        ("Financial and legal advice", ["1"]),  # M1 finances
        ("Counselling and therapy", ["4"]),  # C1, C2, C5, C6 therapeutic sessions
        ("Other support", ["1"]),  # W3 social isolation
    ],
    "ethnicity": [
        ("Asian, Asian British or Asian Welsh", ["3"]),  # W2, C1, C2
        ("Black, Black British, Black Welsh, Caribbean or African", ["1"]),  # T1
        ("Mixed or multiple ethnic groups", ["1"]),  # W3
        ("White", ["6"]),  # W1, M1, W5, C4, C6, C7
        ("Other ethnic group", ["1"]),  # C5
        ("Prefer not to say", ["1"]),  # NR
        ("Not known", ["1"]),  # C3 (blank)
        ("Total", ["14"]),
    ],
    # Age on the day of first contact.
    "age": [
        ("Under 16", ["6"]),  # C1 8, C2 15, C3 6, C4 12, C6 10, C7 3 (stated age)
        ("16 to 17", ["2"]),  # W3 17, C5 16
        ("18 to 24", ["1"]),  # T1 22
        ("25 to 34", ["1"]),  # W5 30
        ("35 to 44", ["2"]),  # W1 39, W2 35 on her birthday
        ("45 to 54", ["1"]),  # NR 50
        ("55 to 64", ["0"]),
        ("65 and over", ["1"]),  # M1 65
        ("Not known", ["0"]),
        ("Total", ["14"]),
    ],
    "referrals": [
        # R1-R7, R9, D1-D6, D8, D9, X1 (Q1: 17) + R8 (00:30 BST 1 July) + R10; not D7 or R11.
        ("Referrals received", ["19"]),
        # The profile lines (reporting migration 0008): M1 (R2, R9) and T1 (R3, sex registered
        # male) are the men; no survivor's sex is unrecorded this year (NR's R11 is March 2025);
        # no referral of the dataset asks for support for a child.
        ("of which the survivor is female", ["16"]),
        ("of which the survivor is male", ["3"]),
        ("of which the survivor's sex is not recorded", ["0"]),
        ("Children and young people referrals (support asked for a child)", ["0"]),
        ("Children linked to children and young people referrals", ["0"]),
        ("of which repeat referrals", ["1"]),  # R9
        ("of which self-referrals", ["2"]),  # R3, D5
        ("Referrals accepted", ["9"]),  # R1-R9 (R10 still in triage)
        ("Referrals declined", ["9"]),  # D1-D9, the duplicate included
        ("Referrals withdrawn", ["1"]),  # X1
        # The SPA lines added to the 2025-26 template (reporting migration 0004):
        ("Information and advice only contacts", ["3"]),  # 14 April, 30 June, 5 August
        ("MARAC referrals made", ["3"]),  # R1 (8 April), R2 (24 April), R4 (20 May)
        ("MARAC cases heard", ["2"]),  # R4 (5 June), R2 (10 July); R1 not heard
        ("MARAC cases heard with children in the household", ["1"]),  # R4 (H4: C1, C2)
    ],
    "districts": [
        ("Ashford", ["8"]),  # R1, R2, R4, R8, R9, D2, D3, D6
        ("Canterbury", ["8"]),  # R3, R5, R10, D1, D4, D5, D9, X1
        ("Dover", ["3"]),  # R6, R7, D8
        ("Total", ["19"]),
    ],
    # By service element (security, SPA, adult support, CYP), then contract. Security budget: the
    # year spans two contract years of £400,000 (1 Dec - 30 Nov): 244/365 + 121/365 = £400,000.
    # Recorded support spend: ADULT-1 £30,000 + £92,000 - £2,000 = £120,000 (all of May-July
    # falls in the year); CYP-1 £175,000 + £180,000 = £355,000. No SPA contract: no SPA lines.
    "spend": [
        ("Property security", ["£3,450.00", "£400,000.00"]),
        ("23/00074 Property security (Dataset Locks)", ["£3,450.00", "£400,000.00"]),
        ("Ashford", ["£2,850.00", "—"]),  # J1 750 + J2 1,200 + J4 900
        ("Canterbury", ["£600.00", "—"]),  # J3
        ("Adult support", ["£120,000.00", "£365,000.00"]),
        ("ADULT-1 Adult support (Dataset Adult Support)", ["£120,000.00", "£365,000.00"]),
        ("Children and young people", ["£355,000.00", "£730,000.00"]),
        (
            "CYP-1 Children and young people (Dataset Young People)",
            ["£355,000.00", "£730,000.00"],
        ),
        ("Total", ["£478,450.00", "£1,495,000.00"]),  # 3,450 + 120,000 + 355,000
    ],
}


def test_annual_return_every_cell(dataset: Dataset) -> None:
    document = annual(dataset)
    assert [t.code for t in document.tables] == list(ANNUAL_EXPECTED)
    for code, expected in ANNUAL_EXPECTED.items():
        assert cells(document, code) == expected, code


def test_a_duplicate_declined_with_a_reason_added_later_is_not_received(dataset: Dataset) -> None:
    """An area adds its own reason that marks a duplicate (triage then names the original): a
    referral declined with it is a linked duplicate submission, left out of "received" like
    D7, though the reporting policy lists only the code "duplicate"."""
    DeclineReason.objects.create(
        code="merged",
        label="Merged with an open referral",
        counts_as_not_supported=False,
        marks_duplicate=True,
    )
    Referral.objects.filter(pk=dataset.referrals["D7"].pk).update(decline_reason_id="merged")
    received = dict(cells(annual(dataset), "referrals"))["Referrals received"]
    assert received == ["19"]  # R1-R7, R9, D1-D6, D8, D9, X1, R8, R10; not D7 or R11


QUARTERLY_EXPECTED: dict[str, list[tuple[str, list[str]]]] = {
    # First quarter; its year to date is the same quarter. Budgets: security 91/365 of
    # £400,000 = £99,726.03; adult 91 days at £1,000 = £91,000; CYP 91 at £2,000 = £182,000.
    # Recorded: ADULT-1 April £30,000 - £2,000 correction + 61/92 of £92,000 (May-July) =
    # £89,000; CYP-1 the quarter's £175,000.
    "spend": [
        ("Property security", ["£2,550.00", "£99,726.03", "£2,550.00", "£99,726.03"]),
        (
            "23/00074 Property security (Dataset Locks)",
            ["£2,550.00", "£99,726.03", "£2,550.00", "£99,726.03"],
        ),
        ("Ashford", ["£1,950.00", "—", "£1,950.00", "—"]),  # J1, J2
        ("Canterbury", ["£600.00", "—", "£600.00", "—"]),  # J3 (J4 is July's)
        ("Adult support", ["£89,000.00", "£91,000.00", "£89,000.00", "£91,000.00"]),
        (
            "ADULT-1 Adult support (Dataset Adult Support)",
            ["£89,000.00", "£91,000.00", "£89,000.00", "£91,000.00"],
        ),
        (
            "Children and young people",
            ["£175,000.00", "£182,000.00", "£175,000.00", "£182,000.00"],
        ),
        (
            "CYP-1 Children and young people (Dataset Young People)",
            ["£175,000.00", "£182,000.00", "£175,000.00", "£182,000.00"],
        ),
        # 2,550 + 89,000 + 175,000.
        ("Total", ["£266,550.00", "£372,726.03", "£266,550.00", "£372,726.03"]),
    ],
    # Without W5 (first contact in July); C6 contacted 10 June.
    "individuals": [
        ("Women", ["2", "2"]),
        ("Men", ["1", "1"]),
        ("Trans adults", ["1", "1"]),
        ("Children (under 18 on the first day of support)", ["8", "8"]),
        ("Adults whose sex is not recorded", ["1", "1"]),
        ("Total individuals supported", ["13", "13"]),
    ],
    "referrals": [
        ("Referrals received", ["17", "17"]),  # R7 received 30 June counts here
        ("of which the survivor is female", ["14", "14"]),
        ("of which the survivor is male", ["3", "3"]),  # R2, R9 (M1), R3 (T1)
        ("of which the survivor's sex is not recorded", ["0", "0"]),
        ("Children and young people referrals (support asked for a child)", ["0", "0"]),
        ("Children linked to children and young people referrals", ["0", "0"]),
        ("Referrals accepted", ["7", "7"]),  # R1-R6, R9 (R7 decided 1 July)
        ("Referrals declined", ["9", "9"]),
        ("Information and advice only contacts", ["2", "2"]),  # 14 April, 30 June
        ("MARAC cases heard", ["1", "1"]),  # R4 (5 June)
        ("MARAC cases heard with children in the household", ["1", "1"]),  # R4
    ],
    "districts": [
        ("Ashford", ["7", "7"]),
        ("Canterbury", ["7", "7"]),
        ("Dover", ["3", "3"]),
        ("Total", ["17", "17"]),
    ],
}


def test_quarterly_grant_update_every_cell(dataset: Dataset) -> None:
    document = quarterly(dataset)
    assert [t.code for t in document.tables] == list(QUARTERLY_EXPECTED)
    for code, expected in QUARTERLY_EXPECTED.items():
        assert cells(document, code) == expected, code


# The second quarter, whose year to date (April to September) differs from the quarter.
QUARTERLY_Q2_EXPECTED: dict[str, list[tuple[str, list[str]]]] = {
    # Quarter budgets: security 92/365 of £400,000 = £100,821.92; adult 92 x £1,000; CYP 92 x
    # £2,000. Year to date (183 days): £200,547.95, £183,000, £366,000. Recorded: ADULT-1 31/92
    # of £92,000 (July) = £31,000, £120,000 to date; CYP-1 nothing for July-September.
    "spend": [
        ("Property security", ["£900.00", "£100,821.92", "£3,450.00", "£200,547.95"]),
        (
            "23/00074 Property security (Dataset Locks)",
            ["£900.00", "£100,821.92", "£3,450.00", "£200,547.95"],
        ),
        ("Ashford", ["£900.00", "—", "£2,850.00", "—"]),  # J4 (1 July); J1, J2 before
        ("Canterbury", ["£0.00", "—", "£600.00", "—"]),  # J3 (June) only
        ("Adult support", ["£31,000.00", "£92,000.00", "£120,000.00", "£183,000.00"]),
        (
            "ADULT-1 Adult support (Dataset Adult Support)",
            ["£31,000.00", "£92,000.00", "£120,000.00", "£183,000.00"],
        ),
        ("Children and young people", ["£0.00", "£184,000.00", "£175,000.00", "£366,000.00"]),
        (
            "CYP-1 Children and young people (Dataset Young People)",
            ["£0.00", "£184,000.00", "£175,000.00", "£366,000.00"],
        ),
        # 900 + 31,000; 3,450 + 120,000 + 175,000.
        ("Total", ["£31,900.00", "£376,821.92", "£298,450.00", "£749,547.95"]),
    ],
    # Open on 1 July or later and contacted by 30 September: A2 (M1), A4 (W2, closed 15
    # August), A7 (W5), A9 (NR); K2 (C2), K4 (C4, closed 12 September), K6 (C6), K7 (C7). K5
    # closed at 22:30 BST on 30 June: not in the quarter. To date: the year's 14.
    "individuals": [
        ("Women", ["2", "3"]),  # W2, W5 | + W1
        ("Men", ["1", "1"]),
        ("Trans adults", ["0", "1"]),  # T1's case closed in May
        ("Children (under 18 on the first day of support)", ["4", "8"]),
        ("Adults whose sex is not recorded", ["1", "1"]),
        ("Total individuals supported", ["8", "14"]),
    ],
    "referrals": [
        ("Referrals received", ["2", "19"]),  # R8 (00:30 BST 1 July), R10
        ("of which the survivor is female", ["2", "16"]),
        ("of which the survivor is male", ["0", "3"]),
        ("of which the survivor's sex is not recorded", ["0", "0"]),
        ("Children and young people referrals (support asked for a child)", ["0", "0"]),
        ("Children linked to children and young people referrals", ["0", "0"]),
        ("Referrals accepted", ["2", "9"]),  # R7 (decided 1 July), R8
        ("Referrals declined", ["0", "9"]),
        ("Information and advice only contacts", ["1", "3"]),  # 5 August
        ("MARAC cases heard", ["1", "2"]),  # R2 (10 July)
        ("MARAC cases heard with children in the household", ["0", "1"]),  # H2 has none
    ],
    "districts": [
        ("Ashford", ["1", "8"]),  # R8
        ("Canterbury", ["1", "8"]),  # R10
        ("Dover", ["0", "3"]),
        ("Total", ["2", "19"]),
    ],
}


def test_second_quarter_grant_update_every_cell_with_year_to_date(dataset: Dataset) -> None:
    document = build_return(
        template=template_for(ReportKind.QUARTERLY_GRANT, Q2),
        scope=Scope((dataset.kent.pk,)),
        period=Q2,
        as_of=AS_OF,
        parameters=[],
    )
    assert [t.code for t in document.tables] == list(QUARTERLY_Q2_EXPECTED)
    for code, expected in QUARTERLY_Q2_EXPECTED.items():
        assert cells(document, code) == expected, code


def test_published_return_hides_small_counts_and_what_would_reveal_them(dataset: Dataset) -> None:
    document = suppress_document(quarterly(dataset), threshold=5)
    # Dover's 3 is hidden; the total (17) is shown, so a second district is hidden with it
    # (the first of the smallest others, Ashford's 7, as "[c]": it is not itself below 5):
    # 17 - 7 leaves 10 for two hidden cells.
    assert cells(document, "districts") == [
        ("Ashford", ["[c]", "[c]"]),
        ("Canterbury", ["7", "7"]),
        ("Dover", ["<5", "<5"]),
        ("Total", ["17", "17"]),
    ]
    # 2, 1, 1, 8, 1 of 13: the four small groups are hidden; 8 is the only other part, so the
    # total would give their sum (5) but not any one of them: nothing more to hide.
    assert cells(document, "individuals") == [
        ("Women", ["<5", "<5"]),
        ("Men", ["<5", "<5"]),
        ("Trans adults", ["<5", "<5"]),
        ("Children (under 18 on the first day of support)", ["8", "8"]),
        ("Adults whose sex is not recorded", ["<5", "<5"]),
        ("Total individuals supported", ["13", "13"]),
    ]
    # Different measures, no total: the small ones (2, 1, 1) hidden, nothing else.
    assert cells(document, "referrals") == [
        ("Referrals received", ["17", "17"]),
        ("of which the survivor is female", ["14", "14"]),
        ("of which the survivor is male", ["<5", "<5"]),
        ("of which the survivor's sex is not recorded", ["0", "0"]),
        ("Children and young people referrals (support asked for a child)", ["0", "0"]),
        ("Children linked to children and young people referrals", ["0", "0"]),
        ("Referrals accepted", ["7", "7"]),
        ("Referrals declined", ["9", "9"]),
        ("Information and advice only contacts", ["<5", "<5"]),
        ("MARAC cases heard", ["<5", "<5"]),
        ("MARAC cases heard with children in the household", ["<5", "<5"]),
    ]
    assert cells(document, "spend") == QUARTERLY_EXPECTED["spend"]  # money: exact


# The published annual return (threshold 5): "<5" for a count of 1-4, "[c]" for a count hidden
# only so that a total cannot give a hidden one away; zeros, places and money are shown.
PUBLISHED_ANNUAL_EXPECTED: dict[str, list[tuple[str, list[str]]]] = {
    # 3, 1, 1, 8, 1 of 14: four hidden groups share 14 - 8 = 6, so none of them is known.
    "individuals": [
        ("Women", ["<5"]),
        ("Men", ["<5"]),
        ("Trans adults", ["<5"]),
        ("Children (under 18 on the first day of support)", ["8"]),
        ("Adults whose sex is not recorded", ["<5"]),
        ("Total individuals supported", ["14"]),
    ],
    # "accommodation" is asserted on its own below (the published figures give it away).
    "commissioned_units": ANNUAL_EXPECTED["commissioned_units"],  # places: never hidden
    # A person may be in several lines (no total to subtract from): only primary suppression.
    "specialist": [
        ("Black and minoritised", ["7"]),
        ("Disabled", ["<5"]),
        ("LGBT+", ["<5"]),
        ("Mental health needs", ["<5"]),
        ("Substance use", ["<5"]),
        ("Complex or multiple needs", ["<5"]),
        ("No recourse to public funds", ["<5"]),
        ("Older people (60 and over)", ["<5"]),
        ("Young adults (18 to 24)", ["<5"]),
        ("At least one specialist characteristic", ["10"]),
    ],
    # 1, 2, 2, 1, 1, 1 of 8: six hidden lines share 8.
    "not_supported": [
        ("Not eligible (outside the area)", ["<5"]),
        ("Not safe to remain, or the perpetrator lives there", ["<5"]),
        ("Declined the service or no consent", ["<5"]),
        ("Unable to contact", ["<5"]),
        ("Referred to another service", ["<5"]),
        ("Other reasons", ["<5"]),
        ("Total households that could not be supported", ["8"]),
    ],
    # Every count is 0-3 except the column totals 7 and 9; each row's total is small, hidden
    # too. The sanctuary total (2) is hidden; with 7 and 9 shown it would be 9 - 7, so the 7
    # goes as well ("[c]"): the other column then has no shown cell but its zeros.
    "support_ended": [
        ("No longer needed or goals met", ["<5", "<5", "<5"]),
        ("Moved out of the area or to other accommodation", ["<5", "<5", "<5"]),
        ("Disengaged, declined or could not be contacted", ["0", "<5", "<5"]),
        ("Perpetrator returned", ["0", "<5", "<5"]),
        ("Other", ["0", "<5", "<5"]),
        ("Total", ["<5", "[c]", "9"]),
    ],
    # Overlapping lines (a household may be in both), so no subtraction: 4 and 4 hidden.
    "sanctuary": [
        ("Works installed in the year", ["<5"]),
        ("Supported while living with completed works", ["<5"]),
        ("Households supported in a sanctuary scheme (each counted once)", ["5"]),
    ],
    # A person may have several types of support: only the 5 children's support is shown.
    "support_types": [
        ("Advocacy", ["<5"]),
        ("Prevention advice and safety planning", ["<5"]),
        ("Specialist support (protected characteristics or complex needs)", ["<5"]),
        ("Children's support", ["5"]),
        ("Housing-related support", ["<5"]),
        ("Financial and legal advice", ["<5"]),
        ("Counselling and therapy", ["<5"]),
        ("Other support", ["<5"]),
    ],
    # 3, 1, 1, 6, 1, 1, 1 of 14: six hidden lines share 14 - 6 = 8.
    "ethnicity": [
        ("Asian, Asian British or Asian Welsh", ["<5"]),
        ("Black, Black British, Black Welsh, Caribbean or African", ["<5"]),
        ("Mixed or multiple ethnic groups", ["<5"]),
        ("White", ["6"]),
        ("Other ethnic group", ["<5"]),
        ("Prefer not to say", ["<5"]),
        ("Not known", ["<5"]),
        ("Total", ["14"]),
    ],
    # 6, 2, 1, 1, 2, 1, 0, 1, 0 of 14: six hidden bands share 14 - 6 = 8; zeros shown.
    "age": [
        ("Under 16", ["6"]),
        ("16 to 17", ["<5"]),
        ("18 to 24", ["<5"]),
        ("25 to 34", ["<5"]),
        ("35 to 44", ["<5"]),
        ("45 to 54", ["<5"]),
        ("55 to 64", ["0"]),
        ("65 and over", ["<5"]),
        ("Not known", ["0"]),
        ("Total", ["14"]),
    ],
    # Different measures, not a breakdown with a total: only primary suppression.
    "referrals": [
        ("Referrals received", ["19"]),
        ("of which the survivor is female", ["16"]),
        ("of which the survivor is male", ["<5"]),
        ("of which the survivor's sex is not recorded", ["0"]),
        ("Children and young people referrals (support asked for a child)", ["0"]),
        ("Children linked to children and young people referrals", ["0"]),
        ("of which repeat referrals", ["<5"]),
        ("of which self-referrals", ["<5"]),
        ("Referrals accepted", ["9"]),
        ("Referrals declined", ["9"]),
        ("Referrals withdrawn", ["<5"]),
        ("Information and advice only contacts", ["<5"]),
        ("MARAC referrals made", ["<5"]),
        ("MARAC cases heard", ["<5"]),
        ("MARAC cases heard with children in the household", ["<5"]),
    ],
    # Dover's 3 is hidden; 19 - 8 - 8 would give it, so the first of the smallest others
    # (Ashford's 8, tied with Canterbury's) is hidden with it: 11 for two hidden cells.
    "districts": [
        ("Ashford", ["[c]"]),
        ("Canterbury", ["8"]),
        ("Dover", ["<5"]),
        ("Total", ["19"]),
    ],
    "spend": ANNUAL_EXPECTED["spend"],  # money counts no one: exact
}


def test_published_annual_return_every_cell(dataset: Dataset) -> None:
    document = suppress_document(annual(dataset), threshold=5)
    for code, expected in PUBLISHED_ANNUAL_EXPECTED.items():
        assert cells(document, code) == expected, code


def test_published_accommodation_does_not_reveal_its_hidden_cells(dataset: Dataset) -> None:
    document = suppress_document(annual(dataset), threshold=5)
    # 1, 1, 1, 1, 1, 9, 0 of 14. With only the five 1s hidden, 14 - 9 - 0 = 5 is shared by five
    # cells each at least 1 ("<5" is never 0): every one is 1. Hiding the 9 as well (the
    # smallest other non-zero count) leaves 14 for six cells, one of them not small.
    assert cells(document, "accommodation") == [
        ("Refuge", ["<5"]),
        ("Specialist safe accommodation", ["<5"]),
        ("Dispersed accommodation", ["<5"]),
        ("Second stage or move-on accommodation", ["<5"]),
        ("Other domestic abuse emergency accommodation", ["<5"]),
        ("Sanctuary scheme", ["[c]"]),
        ("Not recorded", ["0"]),
        ("Total", ["14"]),
    ]


# --- KPIs ---------------------------------------------------------------------------------------


def kpi_rows(document: ReportDocument) -> dict[str, list[str]]:
    return {row.code: [c.display() for c in row.cells] for row in document.table("kpis").rows}


def contract_report(
    data: Dataset, contract: str, period: Period, *, references: bool = True
) -> ReportDocument:
    return build_contract_kpi_report(
        contract=data.contracts[contract],
        period=period,
        as_of=AS_OF,
        include_case_references=references,
        parameters=[],
    )


def test_security_contract_kpis_first_quarter(dataset: Dataset) -> None:
    document = build_contract_kpi_report(
        contract=dataset.contracts["security"],
        period=Q1,
        as_of=AS_OF,
        include_case_references=True,
        parameters=[],
    )
    # Columns: met, counted, %, target, RAG, then 2024-25 Q2, Q3, Q4, 2025-26 Q1.
    assert kpi_rows(document) == {
        # J2: allocated 15:00 23 April, made safe 18:00 next day: 27 hours.
        "security_make_safe": ["0", "1", "0.0%", "100.0%", "Red", "—", "—", "—", "0.0%"],
        # Stopped in Q1: J1, J2, J4 (on time), J3 (late); J5 still unsurveyed past 12 June.
        # 2024-25 Q4: J8 surveyed 7 March, due 11 March.
        "security_survey": ["3", "5", "60.0%", "90.0%", "Red", "—", "—", "100.0%", "60.0%"],
        # Stopped in Q1: J1, J3 on time, J2 late; J4's clock stopped in July, so not here.
        "security_installation": ["2", "3", "66.7%", "90.0%", "Red", "—", "—", "100.0%", "66.7%"],
        # Checks in Q1: J1 much safer, J3 a little safer, J2 no different.
        "security_feel_safer": ["2", "3", "66.7%", "90.0%", "Red", "—", "—", "—", "66.7%"],
        # £2,550 of £99,726.03 = 2.56%; 2024-25 Q4: £500 of 90/365 x £400,000 = £98,630.14.
        "security_spend_within_value": [
            "£2,550.00",
            "£99,726.03",
            "2.6%",
            "100.0%",
            "Green",
            "0.0%",
            "0.0%",
            "0.5%",
            "2.6%",
        ],
    }
    assert cells(document, "spend") == [
        ("Contract value (current term)", ["£1,200,000.00"]),  # three contract years
        # 2023-12-01 to 2024-11-30 (£400,000) + 212/365 of £400,000 (£232,328.77).
        ("Value to the end of the quarter (pro-rated)", ["£632,328.77"]),
        ("Spend this quarter", ["£2,550.00"]),
        ("Budget this quarter (pro-rated)", ["£99,726.03"]),
        ("Spend to the end of the quarter", ["£3,050.00"]),  # J8 £500 + £2,550
        ("Committed (planned works not yet installed, as at the run)", ["£0.00"]),
        # £3,050 x £1,200,000 / £632,328.77 = £5,788.13.
        ("Forecast at contract end (30 November 2026)", ["£5,788.13"]),
        ("Forecast over (+) or under (-) the contract value", ["-£1,194,211.87"]),
    ]
    # By installation date, up to this quarter: J8 (20 March 2025); J1, J2, J3.
    assert cells(document, "spend_quarters") == [
        ("2024-25 Q4", ["£500.00"]),
        ("2025-26 Q1", ["£2,550.00"]),
    ]
    assert cells(document, "breaches") == [
        (
            "JOB-J2",
            ["Emergency make-safe within 24 hours", "24 Apr 2025 15:00", "24 Apr 2025 18:00"],
        ),
        (
            "JOB-J3",
            [
                "Survey within 5 working days of allocation",
                "13 May 2025 23:59",
                "19 May 2025 10:00",
            ],
        ),
        ("JOB-J5", ["Survey within 5 working days of allocation", "12 Jun 2025 23:59", "Not yet"]),
        (
            "JOB-J2",
            [
                "Installation within 10 working days of survey or consent",
                "23 May 2025 23:59",
                "6 Jun 2025 10:00",
            ],
        ),
    ]


def test_security_contract_kpis_second_quarter(dataset: Dataset) -> None:
    document = contract_report(dataset, "security", Q2)
    # Trend columns: 2024-25 Q3, Q4, 2025-26 Q1, Q2.
    assert kpi_rows(document) == {
        # J6: allocated 10:00 2 July, made safe 20:00 the same day (10 hours).
        "security_make_safe": ["1", "1", "100.0%", "100.0%", "Green", "—", "—", "0.0%", "100.0%"],
        # J7 (allocated 1 July, due 8 July) surveyed 3 July; J6 (allocated Wed 2 July: 3, 4, 7,
        # 8, 9 → due 9 July) cancelled on 10 July unsurveyed: breached before it ended.
        "security_survey": ["1", "2", "50.0%", "90.0%", "Red", "—", "100.0%", "60.0%", "50.0%"],
        # J4 fitted 1 July (surveyed 28 May: due 11 June); J7 (surveyed Thu 3 July: due 17 July)
        # never fitted.
        "security_installation": [
            *("0", "2", "0.0%", "90.0%", "Red"),
            *("—", "100.0%", "66.7%", "0.0%"),
        ],
        # J4's check on 15 July has no answer: left out, so no one answered this quarter.
        "security_feel_safer": ["0", "0", "—", "90.0%", "No cases", "—", "—", "66.7%", "—"],
        # J4 £900 of 92/365 x £400,000 = £100,821.92: 0.89%. 2024-25 Q3 had no spend.
        "security_spend_within_value": [
            *("£900.00", "£100,821.92", "0.9%", "100.0%", "Green"),
            *("0.0%", "0.5%", "2.6%", "0.9%"),
        ],
    }
    assert cells(document, "spend") == [
        ("Contract value (current term)", ["£1,200,000.00"]),
        # £400,000 (the first contract year) + 304/365 of £400,000 (1 December 2024 to 30
        # September 2025: 31 + 31 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30) = £333,150.68.
        ("Value to the end of the quarter (pro-rated)", ["£733,150.68"]),
        ("Spend this quarter", ["£900.00"]),
        ("Budget this quarter (pro-rated)", ["£100,821.92"]),
        ("Spend to the end of the quarter", ["£3,950.00"]),  # £500 + £2,550 + £900
        ("Committed (planned works not yet installed, as at the run)", ["£0.00"]),
        # £3,950 x £1,200,000 / £733,150.68 = £6,465.25.
        ("Forecast at contract end (30 November 2026)", ["£6,465.25"]),
        ("Forecast over (+) or under (-) the contract value", ["-£1,193,534.75"]),
    ]
    assert cells(document, "spend_quarters") == [
        ("2024-25 Q4", ["£500.00"]),
        ("2025-26 Q1", ["£2,550.00"]),
        ("2025-26 Q2", ["£900.00"]),
    ]
    # By KPI, then due: J6's survey ended by cancellation, so "Not yet" done.
    assert cells(document, "breaches") == [
        (
            "JOB-J6",
            ["Survey within 5 working days of allocation", "9 Jul 2025 23:59", "Not yet"],
        ),
        (
            "JOB-J4",
            [
                "Installation within 10 working days of survey or consent",
                "11 Jun 2025 23:59",
                "1 Jul 2025 10:00",
            ],
        ),
        (
            "JOB-J7",
            [
                "Installation within 10 working days of survey or consent",
                "17 Jul 2025 23:59",
                "Not yet",
            ],
        ),
    ]


def test_security_contract_kpis_last_quarter_with_no_cases(dataset: Dataset) -> None:
    document = contract_report(dataset, "security", Period.parse("2025-26-Q4"))
    # Nothing stopped or breached from January to March 2026: no cases, so no RAG. Trend:
    # 2025-26 Q1 to Q4.
    assert kpi_rows(document) == {
        "security_make_safe": ["0", "0", "—", "100.0%", "No cases", "0.0%", "100.0%", "—", "—"],
        "security_survey": ["0", "0", "—", "90.0%", "No cases", "60.0%", "50.0%", "—", "—"],
        "security_installation": [
            *("0", "0", "—", "90.0%", "No cases"),
            *("66.7%", "0.0%", "—", "—"),
        ],
        "security_feel_safer": ["0", "0", "—", "90.0%", "No cases", "66.7%", "—", "—", "—"],
        # Nothing installed; 90/365 x £400,000 = £98,630.14 (Q3's 92 days: £100,821.92).
        "security_spend_within_value": [
            *("£0.00", "£98,630.14", "0.0%", "100.0%", "Green"),
            *("2.6%", "0.9%", "0.0%", "0.0%"),
        ],
    }
    assert cells(document, "spend") == [
        ("Contract value (current term)", ["£1,200,000.00"]),
        # £400,000 + £400,000 (to 30 November 2025) + 121/365 of £400,000 (December to March:
        # 31 + 31 + 28 + 31) = £132,602.74.
        ("Value to the end of the quarter (pro-rated)", ["£932,602.74"]),
        ("Spend this quarter", ["£0.00"]),
        ("Budget this quarter (pro-rated)", ["£98,630.14"]),
        ("Spend to the end of the quarter", ["£3,950.00"]),
        ("Committed (planned works not yet installed, as at the run)", ["£0.00"]),
        # £3,950 x £1,200,000 / £932,602.74 = £5,082.55.
        ("Forecast at contract end (30 November 2026)", ["£5,082.55"]),
        ("Forecast over (+) or under (-) the contract value", ["-£1,194,917.45"]),
    ]
    assert cells(document, "breaches") == []


def test_support_contract_kpis_first_quarter(dataset: Dataset) -> None:
    adult = contract_report(dataset, "adult", Q1, references=False)
    assert kpi_rows(adult) == {
        # Contacted in Q1: A1, A3, A4, A5 on time, A2 late (due Fri 25 April); A6 never
        # contacted, due 9 June: a breach in Q1. A9 was contacted in March 2025 (2024-25 Q4).
        "adult_first_contact": ["4", "6", "66.7%", "90.0%", "Red", "—", "—", "100.0%", "66.7%"],
        # Closed in Q1: A1 planned; A3, A5 unplanned.
        "adult_planned_close": ["1", "3", "33.3%", "75.0%", "Red", "—", "—", "—", "33.3%"],
        # A1 3 → 8 safer; A3 5 → 4 not; A5 has no closing measure (left out).
        "adult_feel_safer_exit": ["1", "2", "50.0%", "85.0%", "Red", "—", "—", "—", "50.0%"],
    }
    assert "breaches" not in [t.code for t in adult.tables]  # the commissioner's copy
    # The contract's value lines (ADULT-1: £365,000 a year from 1 April 2025, two years).
    # Spend lines: see test_support_contract_kpi_report_shows_recorded_spend below.
    values = {row.code: row.cells[0].display() for row in adult.table("spend").rows}
    assert (values["total_value"], values["budget_to_date"], values["budget_quarter"]) == (
        "£730,000.00",
        "£91,000.00",  # 91 days at £1,000
        "£91,000.00",
    )
    cyp = contract_report(dataset, "cyp", Q1, references=False)
    assert kpi_rows(cyp) == {
        # K1, K3, K4, K5 on time; K2 (due 29 May, 4 June) and K6 (due 9 June, 10 June) late.
        "cyp_first_contact": ["4", "6", "66.7%", "90.0%", "Red", "—", "—", "100.0%", "66.7%"],
        # Closed in Q1: K1 mean (5 + 2) / 2 = 3.5, improved; K3 goal 1 +1 (goal 2 has no end
        # score), not improved; K5 +3, improved. Threshold 2.45; 66.7% is within 5 of 70.
        "cyp_gbo_improved": ["2", "3", "66.7%", "70.0%", "Amber", "—", "—", "—", "66.7%"],
        # K1 and K5 gave feedback, K3 did not.
        "cyp_feedback": ["2", "3", "66.7%", "80.0%", "Red", "—", "—", "—", "66.7%"],
    }
    values = {row.code: row.cells[0].display() for row in cyp.table("spend").rows}
    # CYP-1: £730,000 a year, two years; 91 days at £2,000.
    assert (values["total_value"], values["budget_to_date"], values["budget_quarter"]) == (
        "£1,460,000.00",
        "£182,000.00",
        "£182,000.00",
    )


def test_support_contract_breaches_by_case_reference_first_quarter(dataset: Dataset) -> None:
    adult = contract_report(dataset, "adult", Q1)
    a2, a6 = dataset.adult_cases["A2"].reference, dataset.adult_cases["A6"].reference
    label = "Adult support: contact within 2 working days of allocation"
    # A2: allocated Wed 23 April, due Fri 25, contacted Mon 28; A6: allocated Thu 5 June, due
    # Mon 9 June, never contacted. Due days are dates (working days), so no time.
    assert cells(adult, "breaches") == [
        (a2, [label, "25 Apr 2025", "28 Apr 2025 10:00"]),
        (a6, [label, "9 Jun 2025", "Not yet"]),
    ]
    cyp = contract_report(dataset, "cyp", Q1)
    k2, k6 = dataset.cyp_cases["K2"].reference, dataset.cyp_cases["K6"].reference
    label = "CYP: contact within 5 working days"
    # K2: allocated Wed 21 May: 22, 23, (26 May holiday), 27, 28, 29 → due 29 May. K6:
    # allocated Mon 2 June → due Mon 9 June.
    assert cells(cyp, "breaches") == [
        (k2, [label, "29 May 2025", "4 Jun 2025 10:00"]),
        (k6, [label, "9 Jun 2025", "10 Jun 2025 10:00"]),
    ]


@pytest.mark.parametrize(
    ("contract", "quarter", "expected"),
    [
        # Trend: 2024-25 Q3, Q4, 2025-26 Q1, Q2. A7 contacted the day after allocation; A4
        # closed 15 August, planned (some goals met); A4 has no outcome measures: no case.
        (
            "adult",
            "2025-26-Q2",
            {
                "adult_first_contact": [
                    *("1", "1", "100.0%", "90.0%", "Green"),
                    *("—", "100.0%", "66.7%", "100.0%"),
                ],
                "adult_planned_close": [
                    *("1", "1", "100.0%", "75.0%", "Green"),
                    *("—", "—", "33.3%", "100.0%"),
                ],
                "adult_feel_safer_exit": [
                    *("0", "0", "—", "85.0%", "No cases"),
                    *("—", "—", "50.0%", "—"),
                ],
            },
        ),
        # Trend: 2024-25 Q4 to 2025-26 Q3. A7 closed 14 November, unable to contact
        # (unplanned), with no outcome measures.
        (
            "adult",
            "2025-26-Q3",
            {
                "adult_first_contact": [
                    *("0", "0", "—", "90.0%", "No cases"),
                    *("100.0%", "66.7%", "100.0%", "—"),
                ],
                "adult_planned_close": [
                    *("0", "1", "0.0%", "75.0%", "Red"),
                    *("—", "33.3%", "100.0%", "0.0%"),
                ],
                "adult_feel_safer_exit": [
                    *("0", "0", "—", "85.0%", "No cases"),
                    *("—", "50.0%", "—", "—"),
                ],
            },
        ),
        # K4 closed 12 September (family declined): no goals (no GBO case), no feedback.
        (
            "cyp",
            "2025-26-Q2",
            {
                "cyp_first_contact": [
                    *("0", "0", "—", "90.0%", "No cases"),
                    *("—", "100.0%", "66.7%", "—"),
                ],
                "cyp_gbo_improved": [
                    *("0", "0", "—", "70.0%", "No cases"),
                    *("—", "—", "66.7%", "—"),
                ],
                "cyp_feedback": [
                    *("0", "1", "0.0%", "80.0%", "Red"),
                    *("—", "—", "66.7%", "0.0%"),
                ],
            },
        ),
    ],
)
def test_support_contract_kpis_later_quarters(
    dataset: Dataset, contract: str, quarter: str, expected: dict[str, list[str]]
) -> None:
    document = contract_report(dataset, contract, Period.parse(quarter))
    assert kpi_rows(document) == expected
    assert cells(document, "breaches") == []  # nothing late after the first quarter


def test_support_contract_kpi_report_shows_recorded_spend(dataset: Dataset) -> None:
    values = {
        row.code: row.cells[0].display()
        for row in contract_report(dataset, "adult", Q1).table("spend").rows
    }
    # ADULT-1 from 1 April: £30,000 - £2,000 + 61/92 of £92,000 = £89,000, against £91,000
    # accrued; £89,000 x £730,000 / £91,000 = £713,956.04 at 31 March 2027.
    assert [values[k] for k in ("spend_quarter", "spend_to_date", "forecast", "variance")] == [
        "£89,000.00",
        "£89,000.00",
        "£713,956.04",
        "-£16,043.96",
    ]


def test_gbo_goals_without_an_end_score_are_counted_separately(dataset: Dataset) -> None:
    results = kpi_results(
        scope=Scope((dataset.kent.pk,)),
        period=Q1,
        service_elements=["cyp"],
        as_of=AS_OF,
        trend_quarters=0,
    )
    gbo = next(r for r in results if r.kpi.code == "cyp_gbo_improved")
    assert gbo.value is not None
    assert gbo.value.excluded == 1  # K3's second goal


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # R7 (decided 1 July, due 2 July) and R8 (due 3 July) on time; R10 still in triage, due
        # Mon 29 September: breached in Q2.
        ("spa_triage", ["2", "3", "66.7%"]),
        # J6 made safe 10 hours after allocation.
        ("security_make_safe", ["1", "1", "100.0%"]),
        # J7 surveyed on time; J6 cancelled on 10 July, after its survey fell due on 9 July.
        ("security_survey", ["1", "2", "50.0%"]),
        # J4 fitted 1 July (due 11 June); J7 never fitted, due 17 July.
        ("security_installation", ["0", "2", "0.0%"]),
        # A7 contacted the day after allocation.
        ("adult_first_contact", ["1", "1", "100.0%"]),
        # A4 closed in August with a planned ending.
        ("adult_planned_close", ["1", "1", "100.0%"]),
    ],
)
def test_second_quarter_clocks(dataset: Dataset, code: str, expected: list[str]) -> None:
    results = kpi_results(
        scope=Scope((dataset.kent.pk,)),
        period=Q2,
        service_elements=["spa", "security", "adult_support"],
        as_of=AS_OF,
        trend_quarters=0,
    )
    result = next(r for r in results if r.kpi.code == code)
    assert result.value is not None
    shown = [str(result.value.numerator), str(result.value.denominator), f"{result.value.percent}%"]
    assert shown == expected


def test_first_quarter_triage(dataset: Dataset) -> None:
    results = kpi_results(
        scope=Scope((dataset.kent.pk,)),
        period=Q1,
        service_elements=["spa"],
        as_of=AS_OF,
        trend_quarters=0,
    )
    # By code: whether the first-contact KPI is active is reporting data (its own test below).
    triage = next(r for r in results if r.kpi.code == "spa_triage")
    assert triage.value is not None
    # Decided in Q1: R1-R6, R9 (accepted) and D1-D9 (declined) = 16; only R6 missed its
    # deadline (Thu 5 June against Wed 4 June). R2 and R3 met theirs thanks to bank holidays.
    assert (triage.value.numerator, triage.value.denominator, triage.value.percent) == (
        15,
        16,
        Decimal("93.8"),
    )
    assert triage.rag == "amber"  # within 5 points of 95


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # The SPA has no contract in the dataset: its KPIs for the authority. Trend: 2024-25
        # Q2, Q3, Q4 (R11: received Mon 3 March 2025, decided the next day, due 5 March; no
        # first-contact deadline stored), 2025-26 Q1. Targets 95%, amber within 5 points.
        (
            Q1,
            {
                "spa_triage": ["15", "16", "93.8%", "95.0%", "Amber", "—", "—", "100.0%", "93.8%"],
                # R1, R2, R4 of R1, R2, R4, R5, R6, R9.
                "spa_first_contact": ["3", "6", "50.0%", "95.0%", "Red", "—", "—", "—", "50.0%"],
            },
        ),
        # Trend: 2024-25 Q3 to 2025-26 Q2. R7, R8 on time, R10 breached (both clocks).
        (
            Q2,
            {
                "spa_triage": ["2", "3", "66.7%", "95.0%", "Red", "—", "100.0%", "93.8%", "66.7%"],
                "spa_first_contact": [
                    *("2", "3", "66.7%", "95.0%", "Red"),
                    *("—", "—", "50.0%", "66.7%"),
                ],
            },
        ),
    ],
)
def test_spa_kpis_with_target_rag_and_trend(
    dataset: Dataset, period: Period, expected: dict[str, list[str]]
) -> None:
    results = kpi_results(
        scope=Scope((dataset.kent.pk,)), period=period, service_elements=["spa"], as_of=AS_OF
    )
    assert kpi_rows(ReportDocument("", "", [], [kpi_table(results)])) == expected


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # R6: received Mon 2 June 09:00, due Wed 4 June, decided Thu 5 June 10:00.
        (Q1, [("REF-R6", dt.date(2025, 6, 4), at(2025, 6, 5))]),
        # R10: received Thu 25 September, due Mon 29 September, still in triage.
        (Q2, [("REF-R10", dt.date(2025, 9, 29), None)]),
    ],
)
def test_spa_triage_breaches_by_reference(
    dataset: Dataset, period: Period, expected: list[tuple[str, dt.date, dt.datetime | None]]
) -> None:
    rows = kpi_breaches("spa_triage", scope=Scope((dataset.kent.pk,)), period=period, as_of=AS_OF)
    assert [(r["reference"], workdays.local_date(r["due"]), r["stopped"]) for r in rows] == expected


# --- The SPA's first contact, advice contacts and MARAC hearings ---------------------------------


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # Stopped in Q1: R1 (7 April 14:00, due 8 April), R2 (22 April, due 22 April after
        # Easter), R4 (high risk, 15:00 on the day) met; R5 (high risk, received 8 May, tried
        # 9 May) and R6 (4 June, due 3 June) late. R9 never tried, due 11 June: a breach, though
        # accepted. D1 and X1 ended (declined, withdrawn) before their deadlines: not counted.
        (Q1, (3, 6, Decimal("50.0"))),
        # R7 (due 1 July, tried 10:00 that day) and R8 (high risk, received 00:30 1 July, tried
        # 09:00) met; R10 still untried, due Fri 26 September: a breach in Q2.
        (Q2, (2, 3, Decimal("66.7"))),
        (YEAR, (5, 9, Decimal("55.6"))),
    ],
)
def test_spa_first_contact_attempt(
    dataset: Dataset, period: Period, expected: tuple[int, int, Decimal]
) -> None:
    assert "spa_first_contact" not in NOT_MEASURABLE
    value = kpi_measure(
        "spa_first_contact", scope=Scope((dataset.kent.pk,)), period=period, as_of=AS_OF
    )
    assert value is not None
    assert (value.numerator, value.denominator, value.percent) == expected


def test_spa_first_contact_breaches_by_reference(dataset: Dataset) -> None:
    rows = kpi_breaches(
        "spa_first_contact", scope=Scope((dataset.kent.pk,)), period=Q1, as_of=AS_OF
    )
    assert [(r["reference"], workdays.local_date(r["due"])) for r in rows] == [
        ("REF-R5", dt.date(2025, 5, 8)),
        ("REF-R6", dt.date(2025, 6, 3)),
        ("REF-R9", dt.date(2025, 6, 11)),
    ]


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        # Advice: 14 April (Ashford) and 30 June (Canterbury); 5 August is Q2, 28 March 2025 the
        # year before. MARAC: R1, R2, R4 referred in Q1; R4 heard 5 June (children C1 and C2
        # live in H4); R2 heard 10 July (no children); R1 not heard.
        (Q1, (2, 3, 1, 1)),
        (Q2, (1, 0, 1, 0)),
        (YEAR, (3, 3, 2, 1)),
    ],
)
def test_advice_contacts_and_marac_hearings(
    dataset: Dataset, period: Period, expected: tuple[int, int, int, int]
) -> None:
    figures = Metrics(Scope((dataset.kent.pk,)), as_of=AS_OF).family("referrals", period)
    keys = ("advice_contacts", "marac_referrals", "marac_heard", "marac_heard_with_children")
    assert tuple(figures[key] for key in keys) == expected


def test_referrals_by_sex_and_cyp_referrals_with_the_children_linked(dataset: Dataset) -> None:
    """R4 (H4, received 19 May) asks for support for C1 and C2; D2 (H10, 9 April) for a child
    of its own; NR's household (H19) gets a referral in Q1 with sex "prefer not to say";
    D7, the duplicate of R1 (H1), asks for C1's support too but is not counted (a duplicate)."""
    from safer.casefile.models import Person

    data = dataset
    data.referrals["R4"].children_for_support.set([data.people["C1"], data.people["C2"]])
    child = Person.objects.create(
        household=data.households["H10"],
        household_role=HouseholdRole.CHILD,
        given_name="K1",
        family_name="Dataset",
        date_of_birth=dt.date(2015, 1, 1),
    )
    data.referrals["D2"].children_for_support.set([child])
    data.referrals["D7"].children_for_support.set([data.people["C1"]])
    Referral.objects.create(
        reference="REF-NR2",
        case_file=data.case_files["H19"],
        authority_id=data.case_files["H19"].authority_id,
        source="professional",
        consent_given=True,
        received_at=dt.datetime(2025, 6, 20, 10, tzinfo=dt.UTC),
    )
    figures = Metrics(Scope((data.kent.pk,)), as_of=AS_OF).family("referrals", Q1)
    keys = (
        "received",
        "received_female",
        "received_male",
        "received_sex_not_recorded",
        "cyp_referrals",
        "cyp_children",
    )
    # 17 + NR2 = 18 received: 14 women, 3 men (M1 twice, T1), 1 not recorded (NR).
    assert tuple(figures[key] for key in keys) == (18, 14, 3, 1, 2, 3)


def test_advice_contacts_in_a_district_scope_count_only_those_recorded_there(
    dataset: Dataset,
) -> None:
    ashford = Scope((dataset.kent.pk,), district_ids=(dataset.districts["ashford"].pk,))
    assert advice_contacts(scope=ashford, period=YEAR) == 1  # 14 April; 5 August has none


# --- Commissioning data: recorded support spend and commissioned units --------------------------


def test_recorded_support_spend_is_pro_rated_by_the_days_it_covers(dataset: Dataset) -> None:
    from reporting.metrics.commissioning import (
        recorded_spend_by_contract,
        recorded_spend_by_element,
    )

    scope = Scope((dataset.kent.pk,))
    adult, cyp = dataset.contracts["adult"].pk, dataset.contracts["cyp"].pk
    # May-July (£92,000 for 92 days): 31 July days in the second quarter = £31,000.
    assert recorded_spend_by_contract(scope=scope, period=Q2) == {adult: Decimal("31000.00")}
    # The third quarter: CYP-1's October-December payment only.
    q3 = Period.parse("2025-26-Q3")
    assert recorded_spend_by_contract(scope=scope, period=q3) == {cyp: Decimal("180000.00")}
    # By element in the first quarter (the SPA has no contract here: zero, still listed).
    assert recorded_spend_by_element(scope=scope, period=Q1) == {
        "spa": Decimal("0.00"),
        "adult_support": Decimal("89000.00"),
        "cyp": Decimal("175000.00"),
    }
    # A scope narrowed to a district has none: payments are not recorded by district.
    narrowed = Scope((dataset.kent.pk,), district_ids=(dataset.districts["dover"].pk,))
    assert recorded_spend_by_contract(scope=narrowed, period=YEAR) == {}


def test_spend_by_element_family_adds_installed_security_and_recorded_support(
    dataset: Dataset,
) -> None:
    metrics = Metrics(Scope((dataset.kent.pk,)), as_of=AS_OF)
    family = metrics.family("spend_by_element", Q1)
    # Security £2,550 (J1, J2, J3 installed in Q1) + £89,000 + £175,000.
    assert family[""] == Decimal("266550.00")
    assert family["security"] == Decimal("2550.00")


def test_commissioned_units_of_a_quarter_are_its_years(dataset: Dataset) -> None:
    metrics = Metrics(Scope((dataset.kent.pk,)), as_of=AS_OF)
    # No template mapping: SAFER's own codes. Q2 is in 2025-26: 10 + 4 refuge, 6, 300.
    assert metrics.family("commissioned_units", Q2) == {
        "refuge": 14,
        "specialist": 0,
        "dispersed": 6,
        "move_on": 0,
        "emergency": 0,
        "sanctuary": 300,
        "": 320,
    }
    # 2024-25: only the 250 sanctuary units recorded for that year.
    assert metrics.family("commissioned_units", Period.parse("2024-25"))[""] == 250


def test_support_figures_in_a_district_scope_are_that_districts_households(
    dataset: Dataset,
) -> None:
    """A district narrows support figures by the case's own household (ADR 0017): the same
    cases as reached through the case file, and the districts add up to the whole county."""
    from reporting.metrics.people import (
        adult_cases_supported,
        cyp_cases_supported,
        individuals_by_group,
    )
    from reporting.metrics.support import households_in_sanctuary, support_ended

    county = Scope((dataset.kent.pk,))
    supported = {
        "adult": adult_cases_supported(county, YEAR),
        "cyp": cyp_cases_supported(county, YEAR),
    }
    # Every case supported in the year is at an address in one of the three districts.
    for cases in supported.values():
        assert not cases.filter(case_file__household__district__isnull=True).exists()
    totals = {"individuals": 0, "sanctuary": 0, "ended": 0}
    districts_with_cases = 0
    for district in dataset.districts.values():
        narrowed = Scope((dataset.kent.pk,), district_ids=(district.pk,))
        in_district = {
            "adult": adult_cases_supported(narrowed, YEAR),
            "cyp": cyp_cases_supported(narrowed, YEAR),
        }
        for kind, cases in in_district.items():
            through_case_file = supported[kind].filter(case_file__household__district=district)
            assert set(cases.values_list("pk", flat=True)) == set(
                through_case_file.values_list("pk", flat=True)
            ), (district.name, kind)
        districts_with_cases += in_district["adult"].exists()
        totals["individuals"] += individuals_by_group(scope=narrowed, period=YEAR)[""]
        totals["sanctuary"] += households_in_sanctuary(scope=narrowed, period=YEAR)[""]
        totals["ended"] += support_ended(scope=narrowed, period=YEAR)["all"][""]
    assert districts_with_cases >= 2  # the narrowing is seen, not only everything or nothing
    assert totals == {
        "individuals": individuals_by_group(scope=county, period=YEAR)[""],
        "sanctuary": households_in_sanctuary(scope=county, period=YEAR)[""],
        "ended": support_ended(scope=county, period=YEAR)["all"][""],
    }
    assert all(totals.values())  # none of the three is trivially zero
