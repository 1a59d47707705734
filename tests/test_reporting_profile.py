"""The referral profile (issue 14): referrals received by the survivor's age band, ethnic group
and disability, and by who referred — in the returns, the SPA contract's KPI report and the
commissioner dashboard.

Every figure is checked against an independent count: Python over the raw referral rows (no
SQL aggregate, no code of ``reporting.metrics``), for the first quarter and the whole year of
the hand-built dataset (tests/test_reporting_data.py) with a varied profile laid on top."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from referrals.models import Referral, ReferralStatus
from reporting.disclosure import MEASURE_PARTITIONS
from reporting.kpi_report import build_contract_kpi_report
from reporting.metrics import Metrics, Scope
from reporting.models import AgeBand, ReportKind
from reporting.periods import Period
from reporting.profile import (
    REFERRAL_PROFILE_PARTITIONS,
    dimensions,
    referral_profile_partitions,
)
from reporting.returns import build_return, template_for
from reporting.suppression import suppress_document
from safer.organisations.models import Contract, Organisation, OrganisationKind, ServiceElement
from tests.helpers import sign_in
from tests.test_reporting_data import Dataset, at, build_dataset
from tests.test_reporting_views import commissioner_of, table_rows

Q1 = Period.parse("2025-26-Q1")
YEAR = Period.parse("2025-26")
AS_OF = at(2026, 4, 10)
LONDON = ZoneInfo("Europe/London")
GROUPS = ("asian", "black", "mixed", "white", "other")


@pytest.fixture
def dataset(db: None) -> Dataset:
    """The dataset with a varied profile: agencies on some referrals, a survivor known only by
    a stated age, one with an unrecognised ethnicity code, one with no ethnicity at all."""
    data = build_dataset()
    agencies = {"R1": "police", "R2": "health", "R4": "police", "D1": "idva", "D2": "housing"}
    for key, agency in agencies.items():
        Referral.objects.filter(pk=data.referrals[key].pk).update(referrer_agency_type=agency)
    w5 = data.people["W5"]
    w5.date_of_birth, w5.stated_age = None, 41
    w5.save(update_fields=["date_of_birth", "stated_age"])
    w6 = data.people["W6"]
    w6.ethnicity = "no_such_code"
    w6.save(update_fields=["ethnicity"])
    w4 = data.people["W4"]
    w4.ethnicity, w4.disability = "", "Hearing"
    w4.save(update_fields=["ethnicity", "disability"])
    return data


def _years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def independent_profile(data: Dataset, period: Period) -> Counter[str]:
    """The profile counted in Python from the rows: referrals received in the period (UK days),
    not declined as a duplicate, each put in one category of every characteristic."""
    bands = list(AgeBand.objects.filter(band_set="adult"))
    counts: Counter[str] = Counter()
    for referral in Referral.objects.filter(case_file__authority=data.kent).select_related(
        "case_file__survivor"
    ):
        day = referral.received_at.astimezone(LONDON).date()
        if not period.start <= day <= period.end:
            continue
        if referral.status == ReferralStatus.DECLINED and referral.decline_reason_id == "duplicate":
            continue
        survivor = referral.case_file.survivor
        counts["received"] += 1
        sex = survivor.sex if survivor.sex in ("female", "male") else "sex_not_recorded"
        counts[f"received_{sex}"] += 1
        if survivor.date_of_birth:
            age: int | None = _years(survivor.date_of_birth, day)
        else:
            age = survivor.stated_age
        band = next(
            (
                b.code
                for b in bands
                if age is not None and b.min_age <= age and (b.max_age is None or age <= b.max_age)
            ),
            "not_known",
        )
        counts[f"received_age_{band}"] += 1
        group = survivor.ethnicity.split("_")[0]
        if survivor.ethnicity == "prefer_not":
            ethnicity = "prefer_not"
        elif group in GROUPS and survivor.ethnicity in _ons_codes():
            ethnicity = group
        else:
            ethnicity = "not_known"
        counts[f"received_ethnicity_{ethnicity}"] += 1
        recorded = "recorded" if survivor.disability else "not_recorded"
        counts[f"received_disability_{recorded}"] += 1
        if referral.source == "self":
            counts["self_referrals"] += 1
        else:
            counts[f"received_referrer_{referral.referrer_agency_type or 'not_recorded'}"] += 1
    return counts


def _ons_codes() -> set[str]:
    from referrals.choices import Ethnicity

    return set(Ethnicity.values)


def profile_keys() -> list[str]:
    return [key for _code, _title, lines in dimensions() for key, _label in lines]


@pytest.mark.parametrize("period", [Q1, YEAR], ids=["Q1", "year"])
def test_every_profile_figure_equals_an_independent_count_of_the_rows(
    dataset: Dataset, period: Period
) -> None:
    expected = independent_profile(dataset, period)
    figures = Metrics(Scope((dataset.kent.pk,)), as_of=AS_OF).family("referrals", period)
    assert figures["received"] == expected["received"]
    assert {key: figures[key] for key in profile_keys()} == {
        key: expected[key] for key in profile_keys()
    }
    # The dataset reaches more than one category of every characteristic.
    for _code, _title, lines in dimensions():
        assert sum(1 for key, _ in lines if figures[key]) >= 2, lines


def test_each_characteristic_is_a_partition_of_the_referrals_received(dataset: Dataset) -> None:
    figures = Metrics(Scope((dataset.kent.pk,)), as_of=AS_OF).family("referrals", YEAR)
    for _code, _title, lines in dimensions():
        assert sum(figures[key] for key, _ in lines) == figures["received"]
    # The constant offered to reporting.disclosure agrees with the bands in force.
    assert referral_profile_partitions()[1:] == REFERRAL_PROFILE_PARTITIONS
    assert referral_profile_partitions()[0] == MEASURE_PARTITIONS[0]  # by sex, declared there


def test_the_returns_carry_the_profile_lines_with_the_same_figures(dataset: Dataset) -> None:
    """Both templates show every line, figures from the same definition; a 1-4 reads "<5"."""
    expected = independent_profile(dataset, YEAR)
    document = build_return(
        template=template_for(ReportKind.ANNUAL_RETURN, YEAR),
        scope=Scope((dataset.kent.pk,)),
        period=YEAR,
        as_of=AS_OF,
        parameters=[],
    )
    suppress_document(document, threshold=5)
    rows = {row.code: row for row in document.table("referrals").rows}
    for key in profile_keys():
        cell = rows[key].cells[0]
        assert cell.value == expected[key], key
        assert cell.measure == f"referrals:{key}:"
        shown = "<5" if 0 < expected[key] < 5 else f"{expected[key]:,}"
        assert cell.display(5) == shown, key
    quarterly = build_return(
        template=template_for(ReportKind.QUARTERLY_GRANT, Q1),
        scope=Scope((dataset.kent.pk,)),
        period=Q1,
        as_of=AS_OF,
        parameters=[],
    )
    q1 = independent_profile(dataset, Q1)
    rows = {row.code: row for row in quarterly.table("referrals").rows}
    for key in profile_keys():
        # This quarter and the year to date (the same days in the first quarter).
        assert [c.value for c in rows[key].cells] == [q1[key], q1[key]], key


def test_the_spa_contract_kpi_report_shows_the_profile_suppressed(dataset: Dataset) -> None:
    spa = Organisation.objects.create(name="Dataset SPA", kind=OrganisationKind.SPA_PROVIDER)
    contract = Contract.objects.create(
        authority=dataset.kent,
        provider=spa,
        service_element=ServiceElement.SPA,
        reference="SPA-1",
        start_date=dt.date(2025, 4, 1),
        end_date=dt.date(2027, 3, 31),
        value_per_year=Decimal("100000.00"),
    )
    document = build_contract_kpi_report(
        contract=contract,
        period=Q1,
        as_of=AS_OF,
        include_case_references=False,
        parameters=[],
    )
    suppress_document(document, threshold=5)
    expected = independent_profile(dataset, Q1)
    for code, _title, lines in dimensions():
        table = document.table(f"profile_{code}")
        total = table.cell("received")
        assert total.value == expected["received"]
        assert not total.suppressed
        cells = [table.cell(key) for key, _ in lines]
        assert [c.value for c in cells] == [expected[key] for key, _ in lines]
        for cell in cells:
            if 0 < cell.value < 5:
                assert cell.suppressed
                assert cell.display(5) == "<5"
        # Nothing hidden can be worked out from the total: never exactly one hidden cell
        # unless another is hidden with it.
        assert sum(c.suppressed for c in cells) != 1, code
    # A security contract's report has no referral profile: referrals are the SPA's.
    security = build_contract_kpi_report(
        contract=dataset.contracts["security"],
        period=Q1,
        as_of=AS_OF,
        include_case_references=False,
        parameters=[],
    )
    assert not [t for t in security.tables if t.code.startswith("profile_")]


@pytest.fixture
def frozen() -> Iterator[object]:
    with time_machine.travel(AS_OF, tick=False) as traveller:
        yield traveller


def test_the_commissioner_dashboard_shows_the_profile_with_small_numbers_hidden(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    html = client.get(reverse("reporting:dashboard"), {"period": Q1.code}).content.decode()
    expected = independent_profile(dataset, Q1)
    assert "Who the referrals were for, and who made them" in html
    for code, _title, lines in dimensions():
        rows = table_rows(html, f"table-profile_{code}")
        assert rows["Referrals received"] == [f"{expected['received']:,}"]
        shown = {label: rows[label][0] for _key, label in lines}
        hidden = [label for label, text in shown.items() if text in ("<5", "[c]")]
        assert len(hidden) != 1, code  # a lone hidden line would come back by subtraction
        for key, label in lines:
            value = expected[key]
            if 0 < value < 5:
                assert shown[label] == "<5", (code, label)
            elif shown[label] != "[c]":
                assert shown[label] == f"{value:,}", (code, label)
    # Never a person.
    for marker in ("Dataset", "REF-", "SAFER-T-"):
        assert marker not in html


def test_no_hidden_profile_line_of_a_produced_return_can_be_worked_out(dataset: Dataset) -> None:
    """Each characteristic adds up to "referrals received", and a reader knows it: the return
    as produced (its stored cells) lets nobody pin down a hidden line from the others."""
    from reporting.disclosure import check, items_from_cells
    from reporting.models import ReportRun, RunStatus
    from reporting.services import report_run_request
    from reporting.tasks import report_run_generate_task

    with time_machine.travel(AS_OF, tick=False):
        run = report_run_request(
            kind=ReportKind.ANNUAL_RETURN,
            period=YEAR,
            authorities=[dataset.kent],
            requested_by=None,
        )
        report_run_generate_task(str(run.pk))
    run = ReportRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.SUCCEEDED
    items, sums = items_from_cells(run.cells, source="produced")
    profile_measures = {m for _whole, parts in referral_profile_partitions() for m in parts}
    assert any(i.measure in profile_measures and i.hidden for i in items)  # something to protect
    partitions = tuple(dict.fromkeys((*MEASURE_PARTITIONS, *referral_profile_partitions())))
    assert check(items, sums, threshold=5, partitions=partitions) == []
