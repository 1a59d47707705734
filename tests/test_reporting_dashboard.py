"""The commissioner and provider dashboards against issue 7: small numbers that no total,
average, rate or filtered page gives back; waiting lists; filters that say when they are wrong;
charts a screen reader can use; the run page's refresh under the CSP; the commissioner reaching
no page that shows a person."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from referrals.models import Referral, ReferralStatus
from reporting.models import ReportKind
from reporting.periods import Period
from reporting.schedules import scheduled_reports_request
from reporting.services import NOTIFY_TASK, report_run_fail, report_run_request
from reporting.tasks import report_ready_notify_task, report_run_generate_task
from safer.casefile.models import CaseFile, Household, Perpetrator, Person
from safer.outbox.models import OutboxMessage
from tests.factories import MedwayFactory
from tests.helpers import sign_in
from tests.test_reporting_data import Dataset, at, build_dataset
from tests.test_reporting_views import NOW, Q1, commissioner_of, provider_manager_of, table_rows

QUIET = Period.parse("2024-25-Q3")  # October to December 2024: nothing in the dataset


@pytest.fixture
def dataset(db: None) -> Dataset:
    """The hand-built dataset of tests/test_reporting_data.py."""
    return build_dataset()


@pytest.fixture
def frozen() -> Iterator[object]:
    """10 April 2026, 10:00 UK time: after the dataset's year."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def dashboard(client: Client, **params: str) -> str:
    response = client.get(reverse("reporting:dashboard"), params)
    assert response.status_code == 200
    return response.content.decode()


def three_dover_referrals(data: Dataset) -> None:
    """Three referrals in Dover in a quarter that otherwise has none."""
    for n, household in enumerate(("H6", "H7", "H6"), start=1):
        Referral.objects.create(
            reference=f"REF-Q3-{n}",
            case_file=data.case_files[household],
            authority_id=data.case_files[household].authority_id,
            source="professional",
            consent_given=True,
            received_at=at(2024, 11, n + 3),
            status=ReferralStatus.ACCEPTED,
            decided_at=at(2024, 11, n + 4),
        )


# --- Suppression ---------------------------------------------------------------------------------


def test_three_referrals_in_one_district_show_as_less_than_five_and_nothing_gives_them_back(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    three_dover_referrals(dataset)
    sign_in(client, commissioner_of(dataset.kent))
    html = dashboard(client, period=QUIET.code)
    equity = table_rows(html, "table-equity")
    # Columns: residents, referrals, per 10,000, installations, median days, spend.
    assert equity["Dover"][:3] == ["116,400", "<5", "[c]"]
    assert equity["Ashford"][:3] == ["132,700", "0", "0.00"]
    assert equity["Canterbury"][:3] == ["157,400", "0", "0.00"]
    # The county's total is the 3 itself; its rate and the district average (3 / 3 = 1.0, and
    # the same rate) would give it back, so all of them are hidden.
    assert equity["All districts"][1:3] == ["<5", "[c]"]
    assert equity["District average"][1:3] == ["[c]", "[c]"]
    # Nor does the chart: no bar, and no county line, for a hidden figure.
    chart = re.search(r'<svg[^>]*aria-describedby="[^"]*table-equity".*?</svg>', html, re.S)
    assert chart is not None
    assert "<rect" not in chart.group(0)
    assert "County" not in chart.group(0)
    # The quarter's series: 3 referrals received and accepted, hidden there too.
    series = re.search(r'<table[^>]*id="chart-referrals-table".*?</table>', html, re.S)
    assert series is not None
    assert "&lt;5" in series.group(0)
    assert ">3<" not in html


def test_one_districts_page_hides_what_the_authority_page_would_let_be_subtracted(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    """Q1: Ashford 7, Canterbury 7, Dover 3 (17). The authority page hides Dover and Ashford;
    Ashford's own page must not show its 7, or 17 - 7 - 7 gives Dover's 3."""
    sign_in(client, commissioner_of(dataset.kent))
    whole = table_rows(dashboard(client, period=Q1.code), "table-equity")
    assert [whole[d][1] for d in ("Ashford", "Canterbury", "Dover")] == ["[c]", "7", "<5"]

    for district, shown in (("ashford", "[c]"), ("canterbury", "7"), ("dover", "<5")):
        html = dashboard(client, period=Q1.code, district=str(dataset.districts[district].pk))
        equity = table_rows(html, "table-equity")
        assert equity[district.title()][1] == shown
        assert equity["All districts"][1] == "17"
        # The same figure in the district's quarterly series: the Q1 column (the last).
        series = table_rows_of_chart(html, "chart-referrals")
        assert series[-1] == shown, district


def table_rows_of_chart(html: str, chart_id: str) -> list[str]:
    match = re.search(rf'<table[^>]*id="{chart_id}-table".*?</table>', html, re.S)
    assert match, chart_id
    return [
        re.sub(r"<[^>]+>", "", c).strip().replace("&lt;", "<")
        for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(0), re.S)
    ]


def test_a_rag_of_hidden_counts_is_hidden_with_them(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    kpis = table_rows(dashboard(client, period=Q1.code), "table-kpis")
    # Emergency make-safe: 0 of 1. "Red" against 100% would say the 1 was missed.
    assert kpis["Emergency make-safe within 24 hours"] == ["0", "<5", "[c]", "100.0%", "[c]"]
    # A shown result keeps its status in words, not only its colour.
    assert kpis["Referrals triaged within 2 working days"][-1] == "Amber"


# --- Waiting lists -----------------------------------------------------------------------------


def test_provider_sees_its_waiting_lists_exactly_with_the_longest_wait(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, provider_manager_of(dataset, "contractor"))
    html = client.get(reverse("reporting:provider-dashboard")).content.decode()
    waiting = table_rows(html, "table-waiting")
    # At 10 April 2026: J5 allocated 5 June 2025, never surveyed (309 days); J7 surveyed
    # 3 July 2025, not installed (281 days). Only the contractor's own lists.
    assert waiting == {
        "Security jobs waiting for a survey": ["1", "309"],
        "Security jobs surveyed, waiting for installation": ["1", "281"],
    }
    sign_in(client, provider_manager_of(dataset, "adult"))
    waiting = table_rows(
        client.get(reverse("reporting:provider-dashboard")).content.decode(), "table-waiting"
    )
    # A6: allocated 5 June 2025, never contacted. Nobody waits for a worker.
    assert waiting == {
        "Adult support cases waiting for a worker": ["0", "—"],
        "Adult support cases allocated, waiting for first contact": ["1", "309"],
    }


def test_commissioner_waiting_lists_hide_small_counts_and_their_longest_wait(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    waiting = table_rows(dashboard(client, period=Q1.code), "table-waiting")
    # R10, in triage since 25 September 2025: one referral, so its 197 days are hidden too.
    assert waiting["Referrals in triage or awaiting information, not yet decided"] == ["<5", "[c]"]
    assert waiting["Referrals waiting for triage to start"] == ["0", "—"]
    assert waiting["Security jobs waiting for a survey"] == ["<5", "[c]"]
    assert "197" not in str(waiting)
    assert "309" not in str(waiting)


# --- Filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2025-26-Q9"}, "Choose a period from the list."),
        ({"service_element": "catering"}, "Choose a service from the list."),
        ({"district": "not-a-district"}, "Choose a district from the list."),
        ({"authority": str(uuid.uuid4())}, "Choose one of your authorities from the list."),
    ],
)
def test_a_bad_filter_value_is_an_error_not_other_figures(
    client: Client, dataset: Dataset, frozen: object, params: dict[str, str], message: str
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    html = dashboard(client, **params)
    assert "<title>Error:" in html
    assert "There is a problem" in html
    assert message in html
    assert 'id="table-kpis"' not in html  # no figures for something not asked for


def test_a_district_of_another_authority_is_refused_by_name(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    medway = MedwayFactory.create()
    from tests.factories import DistrictFactory

    medway_district = DistrictFactory.create(authority=medway, code="medway", name="Medway")
    sign_in(client, commissioner_of(dataset.kent, medway))
    html = dashboard(client, authority=str(dataset.kent.pk), district=str(medway_district.pk))
    assert f"Choose a district of {dataset.kent.name}, or All districts." in html
    assert 'id="table-equity"' not in html


def test_the_filter_form_works_without_javascript(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    html = dashboard(client)
    form = re.search(r'<form method="get".*?</form>', html, re.S)
    assert form is not None
    for name in ("period", "district", "service_element"):
        assert f'<label class="govuk-label govuk-label--s" for="id_{name}">' in form.group(0)
        assert f'name="{name}"' in form.group(0)
    assert 'type="submit"' in form.group(0)


# --- Charts and tables -------------------------------------------------------------------------


def test_each_chart_is_an_image_with_a_title_a_description_and_a_table(
    client: Client, dataset: Dataset, frozen: object
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    html = dashboard(client, period=Q1.code)
    charts = re.findall(r'<svg[^>]*role="img".*?</svg>', html, re.S)
    assert len(charts) == 7  # six quarterly series and district equity
    for svg in charts:
        opening = svg[: svg.index(">")]
        assert 'role="img"' in opening
        labelled = re.search(r'aria-labelledby="([^"]+)"', opening)
        described = re.search(r'aria-describedby="([^"]+)"', opening)
        assert labelled
        assert described
        title_id = labelled.group(1)
        assert f'<title id="{title_id}">' in svg
        desc_id, table_id = described.group(1).split()
        assert f'<desc id="{desc_id}">' in svg
        assert f'<table class="govuk-table" id="{table_id}">' in html
    referrals = next(svg for svg in charts if 'id="chart-referrals-title"' in svg)
    assert "Bar chart, 6 bars." in referrals
    # Every table has a caption and scoped headers.
    for table in re.findall(r"<table.*?</table>", html, re.S):
        assert "<caption" in table
        assert re.findall(r"<th\b(?![^>]*scope=)", table) == []


# --- Report run page ---------------------------------------------------------------------------


def test_run_page_refreshes_from_our_own_script_with_no_inline_code(
    client: Client, dataset: Dataset
) -> None:
    commissioner = commissioner_of(dataset.kent)
    run = report_run_request(
        kind=ReportKind.QUARTERLY_GRANT,
        period=Q1,
        authorities=[dataset.kent],
        requested_by=commissioner,
    )
    sign_in(client, commissioner)
    response = client.get(reverse("reporting:run-detail", args=[run.pk]))
    html = response.content.decode()
    assert "HX-Request" in response["Vary"]  # the panel is never served from cache as the page
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attributes, body in scripts:
        source = re.search(r'src="([^"]+)"', attributes)
        if source:
            assert source.group(1).startswith(settings.STATIC_URL)  # no CDN
            assert not body.strip()
        else:  # inline: allowed only with this response's nonce
            nonce = re.search(r'nonce="([^"]+)"', attributes)
            assert nonce
            assert nonce.group(1)
    assert "htmx-2.min.js" in html
    # Without JavaScript the page reloads itself, and says how to refresh by hand.
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    assert "Refresh this page" in html
    # The CSP the page is sent with allows scripts from this site only, and no inline style
    # (htmx's indicator style is switched off).
    policy = response.get("Content-Security-Policy", "")
    assert "script-src 'self' 'nonce-" in policy
    assert '"includeIndicatorStyles": false' in html


def test_a_failed_run_says_so_and_only_staff_see_the_error(
    client: Client, dataset: Dataset
) -> None:
    commissioner = commissioner_of(dataset.kent)
    run = report_run_request(
        kind=ReportKind.QUARTERLY_GRANT,
        period=Q1,
        authorities=[dataset.kent],
        requested_by=commissioner,
    )
    report_run_fail(run=run, error=RuntimeError("template line 7 has no family"))
    url = reverse("reporting:run-detail", args=[run.pk])
    sign_in(client, commissioner)
    html = client.get(url).content.decode()
    assert "This report could not be produced" in html
    assert "Failed" in html
    assert "template line 7" not in html
    assert "hx-trigger" not in html  # finished: nothing more to poll for
    staff = commissioner_of(dataset.kent)
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    sign_in(client, staff)
    assert "RuntimeError: template line 7 has no family" in client.get(url).content.decode()


# --- Schedules and notification ----------------------------------------------------------------


def test_commissioners_are_notified_once_through_the_outbox_with_no_personal_data(
    dataset: Dataset, mailoutbox: list[Any], settings: Any, tmp_path: Path
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    commissioner = commissioner_of(dataset.kent)
    asked = commissioner_of(dataset.kent)
    by_hand = report_run_request(
        kind=ReportKind.QUARTERLY_GRANT, period=Q1, authorities=[dataset.kent], requested_by=asked
    )
    # Q1 2025-26 is due on Monday 7 July 2025, the 5th working day after 30 June.
    scheduled = [
        r
        for r in scheduled_reports_request(today=dt.date(2025, 7, 7))
        if r.kind == ReportKind.QUARTERLY_GRANT
    ]
    assert [r.period_code for r in scheduled] == [Q1.code]
    (run,) = scheduled
    for _ in range(2):  # a redelivered task finds the run done and does nothing
        report_run_generate_task(str(run.pk))
        report_run_generate_task(str(by_hand.pk))
    notices = OutboxMessage.objects.filter(task_name=NOTIFY_TASK)
    assert [m.kwargs for m in notices] == [{"run_id": str(run.pk)}]  # ids only; not by_hand's
    for _ in range(2):
        report_ready_notify_task(str(run.pk))
    (mail,) = mailoutbox
    assert mail.to == []
    assert set(mail.bcc) == {commissioner.email, asked.email}
    text = mail.subject + mail.body
    for marker in ("Dataset", "REF-", "JOB-", "CASE-", "SAFER-T-", "Test Road", "Dover", "<5"):
        assert marker not in text
    assert reverse("reporting:run-detail", args=[run.pk]) in mail.body


# --- The commissioner never sees a person --------------------------------------------------------


# The partner API's OpenAPI document and its viewers: fixed text, read from no record; its
# fictional examples (a "1 Fictional Road, ME15 6AA") are the test helpers' defaults too.
STATIC_DOCUMENTATION = ("api:",)


def _person_markers() -> list[str]:
    """Everything that would identify a person of the persona world on a page."""
    markers: set[str] = set()
    for given, family in Person.objects.values_list("given_name", "family_name"):
        markers.add(f"{given} {family}".strip())
    markers.update(Perpetrator.objects.values_list("name", flat=True))
    for line, postcode in Household.objects.values_list("address_line_1", "postcode"):
        markers.update({line, postcode})
    markers.update(CaseFile.objects.values_list("reference", flat=True))
    for reference, name, email in Referral.objects.values_list(
        "reference", "referrer_name", "referrer_email"
    ):
        markers.update({reference, name, email})
    from security_works.models import SecurityJob
    from support.models import AdultSupportCase, CypCase

    for model in (SecurityJob, AdultSupportCase, CypCase):
        markers.update(model.objects.values_list("reference", flat=True))
    return sorted(m for m in markers if m)


def test_every_page_the_matrix_opens_to_a_commissioner_shows_no_person(db: None) -> None:
    from tests.factories import build_persona_world
    from tests.test_permission_matrix import (
        ENTRIES,
        ROUTES,
        MatrixWorld,
        _make_records,
        _url,
        entry_for,
    )

    world = build_persona_world()
    sign_in(Client(), world.personas["outsider"])  # gives the outsider the device the records use
    extra = _make_records(world)
    commissioner = world.personas["commissioner"]
    client = sign_in(Client(), commissioner)
    mw = MatrixWorld(world=world, session_keys={}, sessions={}, extra=extra)
    markers = _person_markers()
    assert "Riley Example" in markers  # the world has people, and addresses
    assert "1 Example Street" in markers
    given_names = {name for name in Person.objects.values_list("given_name", flat=True)}

    opened: list[str] = []
    for route in ROUTES:
        entry = entry_for(route.name or "", ENTRIES)
        if entry is None:
            continue  # test_permission_matrix.test_every_url_has_an_entry fails for it
        if (route.name or "").startswith(STATIC_DOCUMENTATION):
            continue
        for scope, outcome in entry.outcomes["commissioner"].items():
            if outcome.raw != "200" or entry.method != "get":
                continue
            url = _url(route, entry, mw, "commissioner", scope)
            response = client.get(url)
            assert response.status_code == 200, url
            page = response.content.decode()
            found = [m for m in markers if m in page]
            found += [n for n in given_names if re.search(rf"\b{re.escape(n)}\b", page)]
            assert not found, f"{url} shows {found}"
            opened.append(route.name or "")
    # The reporting pages are among those walked, with figures on them.
    assert {"reporting:dashboard", "reporting:joint-board", "reporting:run-detail"} <= set(opened)


def test_matrix_gives_a_commissioner_no_person_level_page() -> None:
    from tests.test_permission_matrix import ENTRIES

    person_level = {"casefile", "referral", "security_job", "adult_case", "cyp_case"}
    person_level |= {"support_group", "audit_casefile"}
    prefixes = ("casefile:", "referrals:", "security_works:", "support:", "audit:")
    for key, entry in ENTRIES.items():
        if entry.object_kind in person_level or key.startswith(prefixes):
            outcomes = {o.raw for o in entry.outcomes["commissioner"].values()}
            assert outcomes <= {"401", "403", "404"}, (key, outcomes)


# --- Cost -----------------------------------------------------------------------------------------


def test_a_computed_dashboard_is_read_from_its_snapshot_in_a_few_queries(
    client: Client,
    dataset: Dataset,
    frozen: object,
    django_assert_max_num_queries: Any,
) -> None:
    sign_in(client, commissioner_of(dataset.kent))
    params = {"period": Q1.code, "district": str(dataset.districts["dover"].pk)}
    first = dashboard(client, **params)
    with django_assert_max_num_queries(15):
        again = dashboard(client, **params)
    assert table_rows(again, "table-equity") == table_rows(first, "table-equity")


# --- The trend's single query ---------------------------------------------------------------------


def test_the_trend_counts_each_quarter_as_the_quarters_own_totals_do(dataset: Dataset) -> None:
    """The dashboard's trend reads received and accepted for six quarters in one query; each
    quarter's pair equals that quarter's ``referral_totals`` (the figures of the returns)."""
    from reporting.metrics import Scope, policy_for
    from reporting.metrics.referrals import referral_flow_by_quarter, referral_totals

    three_dover_referrals(dataset)
    scope = Scope((dataset.kent.pk,))
    policy = policy_for(scope.authority_ids)
    quarters = Period.parse("2025-26-Q1").trailing_quarters(8)
    flow = referral_flow_by_quarter(scope=scope, quarters=quarters, policy=policy)
    expected = [
        {k: referral_totals(scope=scope, period=q, policy=policy)[k] for k in flow[0]}
        for q in quarters
    ]
    assert flow == expected
    assert sum(f["received"] for f in flow) > 3  # the dataset's year and the three in Dover
    assert sum(f["accepted"] for f in flow) > 0


def test_the_trends_other_rows_in_one_query_each_equal_the_per_quarter_figures(
    dataset: Dataset,
) -> None:
    from reporting.metrics import Scope
    from reporting.metrics import people as people_metrics
    from reporting.metrics import security as security_metrics
    from reporting.metrics import support as support_metrics

    scope = Scope((dataset.kent.pk,))
    quarters = Period.parse("2025-26-Q1").trailing_quarters(8)
    moments = [q.ends_before for q in quarters]
    assert security_metrics.jobs_open_at_each(scope=scope, moments_before=moments) == [
        security_metrics.jobs_open_at(scope=scope, moment_before=m) for m in moments
    ]
    assert support_metrics.open_cases_at_each(scope=scope, moments_before=moments) == [
        support_metrics.open_cases_at(scope=scope, moment_before=m) for m in moments
    ]
    spend = security_metrics.spend_by_quarter(scope=scope, quarters=quarters)
    assert spend == [
        (
            security_metrics.spend_total(scope=scope, period=q),
            security_metrics.spend_households(scope=scope, period=q),
        )
        for q in quarters
    ]
    assert any(total for total, _ in spend)  # the dataset's year has installations
    individuals = people_metrics.individuals_by_quarter(scope=scope, quarters=quarters)
    assert individuals == [
        people_metrics.individuals_by_group(scope=scope, period=q)[""] for q in quarters
    ]
    assert any(individuals)


# --- The pre-compute at a million referrals (issue 17): each rewrite equals its definition ------

YEARS = [Period.parse("2024-25"), Period.parse("2025-26"), *Period.parse("2025-26").quarters()]


def test_median_days_to_installation_in_one_statement_equals_its_definition(
    dataset: Dataset,
) -> None:
    """The medians from one ``LATERAL`` statement equal ``referral_to_installation``'s jobs
    (the definition, the latest accepted referral by each job's allocation) aggregated by the
    ORM, for each district and the scope."""
    from django.db.models import Count

    from reporting.metrics import Scope
    from reporting.metrics import security as security_metrics
    from reporting.metrics.common import Median

    scope = Scope((dataset.kent.pk,))
    seen = 0
    for period in YEARS:
        jobs = security_metrics.referral_to_installation(scope, period)
        expected: dict[str, object] = {
            str(district): {"median": median, "jobs": n}
            for district, median, n in jobs.order_by()
            .values("district_id")
            .annotate(median=Median("days"), jobs=Count("pk"))
            .values_list("district_id", "median", "jobs")
        }
        expected["all"] = jobs.aggregate(median=Median("days"), jobs=Count("pk"))
        assert security_metrics.median_days_to_installation(scope=scope, period=period) == expected
        seen += expected["all"]["jobs"]  # type: ignore[index]
    assert seen  # the dataset installs works


def test_kpi_clocks_bounded_by_their_indexed_columns_count_what_the_unbounded_filters_do(
    dataset: Dataset,
) -> None:
    """The clocks read only the records with a stop or a deadline in the periods' span; the
    counts equal the definition's filters over every record of the scope."""
    from django.db.models import Count

    from reporting.metrics import Scope, kpis

    as_of = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)
    scope = Scope((dataset.kent.pk,))
    counted_any = 0
    for code, measure in kpis.CLOCK_MEASURES.items():
        expected = []
        for period in YEARS:
            counted, met = kpis._clock_filters(measure.clock, period, as_of)
            row = kpis._with_days(measure.records(scope), measure.clock).aggregate(
                denominator=Count("pk", filter=counted), numerator=Count("pk", filter=met)
            )
            expected.append(kpis.KpiCount(row["numerator"], row["denominator"]))
        got = kpis.clock_kpi_periods(
            measure.records(scope), measure.clock, periods=YEARS, as_of=as_of
        )
        assert got == expected, code
        assert [
            kpis.clock_kpi(measure.records(scope), measure.clock, period=p, as_of=as_of)
            for p in YEARS
        ] == expected, code
        counted_any += sum(c.denominator for c in expected)
    assert counted_any


def test_feeling_safer_at_exit_by_joins_equals_the_cases_own_measures(dataset: Dataset) -> None:
    """Each closed case's start and close measure, read in Python, give the KPI's figures."""
    from reporting.metrics import Scope, kpis
    from support.models import AdultSupportCase, TimePoint

    scope = Scope((dataset.kent.pk,))
    as_of = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)
    for period in YEARS:
        numerator = denominator = excluded = 0
        cases = AdultSupportCase.objects.filter(
            scope.q_support(), period.q_moment("closed_at"), allocated_at__isnull=False
        ).prefetch_related("outcomes")
        for case in cases:
            scores = {m.time_point: m.feeling_safe for m in case.outcomes.all()}
            start, close = scores.get(TimePoint.START), scores.get(TimePoint.CLOSE)
            if start is None or close is None:
                excluded += 1
                continue
            denominator += 1
            numerator += close > start
        assert kpis.adult_feel_safer_exit(scope=scope, period=period, as_of=as_of) == (
            kpis.KpiCount(numerator, denominator, excluded)
        )


def test_the_referral_profile_in_one_query_equals_each_set_counted_alone(
    dataset: Dataset,
) -> None:
    """Sex, age band, ethnic group, disability and referrer type from one grouped query equal
    each set counted by its own query over the referrals received."""
    from django.db.models import Count, Q

    from reporting.metrics import Scope, policy_for
    from reporting.metrics.referrals import (
        ETHNIC_GROUPS,
        REFERRER_AGENCIES,
        _duplicate,
        referral_totals,
    )

    three_dover_referrals(dataset)
    scope = Scope((dataset.kent.pk,))
    policy = policy_for(scope.authority_ids)
    survivor = "case_file__survivor__"
    for period in YEARS:
        totals = referral_totals(scope=scope, period=period, policy=policy)
        received = Referral.objects.filter(
            scope.q_referrals(), period.q_moment("received_at")
        ).exclude(_duplicate(policy))
        n = received.count()
        assert totals["received_female"] == received.filter(**{f"{survivor}sex": "female"}).count()
        assert totals["received_male"] == received.filter(**{f"{survivor}sex": "male"}).count()
        assert sum(totals[k] for k in totals if k.startswith("received_age_")) == n
        for group, codes in ETHNIC_GROUPS:
            assert totals[f"received_ethnicity_{group}"] == (
                received.filter(**{f"{survivor}ethnicity__in": codes}).count()
            )
        assert sum(totals[k] for k in totals if k.startswith("received_ethnicity_")) == n
        assert totals["received_disability_recorded"] == (
            received.exclude(**{f"{survivor}disability": ""}).count()
        )
        assert totals["received_disability_not_recorded"] == (
            received.filter(**{f"{survivor}disability": ""}).count()
        )
        professional = received.exclude(source="self")
        for agency in REFERRER_AGENCIES:
            assert totals[f"received_referrer_{agency}"] == (
                professional.filter(referrer_agency_type=agency).count()
            )
        assert totals["received_referrer_not_recorded"] == (
            professional.exclude(referrer_agency_type__in=REFERRER_AGENCIES).count()
        )
        assert (
            received.aggregate(n=Count("pk", filter=Q(source="self")))["n"]
            == (totals["self_referrals"])
        )
