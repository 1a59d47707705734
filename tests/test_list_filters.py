"""Filters and sorts of the working lists (triage queue, job list, caseload): GET forms that
work without JavaScript, paged without a COUNT, each filter really narrowing the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from referrals.models import Referral
from safer.accounts.roles import Role
from security_works import services as works
from security_works.models import JobPriority, JobStatus, SecurityJob
from tests.helpers import sign_in
from tests.referrals_support import make_referral, staff

pytestmark = pytest.mark.django_db


def _refs(html: str, *records: Any) -> list[bool]:
    return [r.reference in html for r in records]


# --- Triage queue -------------------------------------------------------------------------------


def test_queue_filters_by_due_worker_and_district_and_sorts(client: Client) -> None:
    worker = staff("tia.triage@spa.example.org", Role.SPA_TRIAGE)
    overdue = make_referral(given_name="Overdue")
    later = make_referral(given_name="Later", district="canterbury", postcode="CT1 1AA")
    mine = make_referral(given_name="Mine")
    now = timezone.now()
    Referral.objects.filter(pk=overdue.pk).update(
        sla_due_at=now - dt.timedelta(hours=2), first_contact_due_at=now - dt.timedelta(hours=1)
    )
    Referral.objects.filter(pk=later.pk).update(
        sla_due_at=now + dt.timedelta(days=3), received_at=now - dt.timedelta(days=5)
    )
    Referral.objects.filter(pk=mine.pk).update(
        sla_due_at=now + dt.timedelta(days=2), triage_worker=worker
    )
    sign_in(client, worker)
    url = reverse("referrals:queue")

    html = client.get(url, {"due": "overdue"}).content.decode()
    assert _refs(html, overdue, later, mine) == [True, False, False]
    html = client.get(url, {"due": "contact_overdue"}).content.decode()
    assert _refs(html, overdue, later, mine) == [True, False, False]
    html = client.get(url, {"worker": "me"}).content.decode()
    assert _refs(html, overdue, later, mine) == [False, False, True]
    html = client.get(url, {"worker": "unassigned"}).content.decode()
    assert _refs(html, overdue, later, mine) == [True, True, False]
    district = later.case_file.household.district_id
    html = client.get(url, {"district": str(district)}).content.decode()
    assert _refs(html, overdue, later, mine) == [False, True, False]
    # The form keeps what was chosen (no JavaScript needed to read it back).
    assert 'value="overdue" selected' in client.get(url, {"due": "overdue"}).content.decode()

    html = client.get(url, {"sort": "oldest"}).content.decode()
    assert html.index(later.reference) < html.index(overdue.reference)
    html = client.get(url, {"sort": "due"}).content.decode()
    order = [html.index(r.reference) for r in (overdue, mine, later)]
    assert order == sorted(order)


def test_queue_pages_keep_the_filters_and_never_count(client: Client, settings: Any) -> None:
    from referrals.views import triage

    worker = staff("tia.triage@spa.example.org", Role.SPA_TRIAGE)
    for n in range(3):
        make_referral(given_name=f"Page{'abc'[n]}")
    sign_in(client, worker)
    original = triage.PAGE_SIZE
    triage.PAGE_SIZE = 2
    try:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("referrals:queue"), {"sort": "newest"}).content.decode()
        second = client.get(reverse("referrals:queue"), {"sort": "newest", "page": "2"})
    finally:
        triage.PAGE_SIZE = original
    assert "sort=newest&amp;page=2" in html
    assert not any("COUNT(*)" in q["sql"].upper() for q in queries.captured_queries)
    assert second.content.decode().count('govuk-link" href="/referrals/') == 1


# --- Job list -----------------------------------------------------------------------------------


def test_job_list_filters_status_due_priority_and_sorts() -> None:
    from tests.test_security_works_helpers import build_world, case_file

    w = build_world()

    def allocate(priority: str = JobPriority.STANDARD) -> SecurityJob:
        return works.security_job_allocate(
            case_file=case_file(w.kent, w.thanet), priority=priority, allocated_by=w.spa_worker
        )

    overdue, emergency, done = allocate(), allocate(JobPriority.EMERGENCY), allocate()
    now = timezone.now()
    SecurityJob.objects.filter(pk=overdue.pk).update(next_due_at=now - dt.timedelta(days=1))
    SecurityJob.objects.filter(pk=emergency.pk).update(next_due_at=now + dt.timedelta(days=9))
    SecurityJob.objects.filter(pk=done.pk).update(status=JobStatus.COMPLETED, next_due_at=None)
    client = sign_in(Client(), w.spa_worker)
    url = reverse("security_works:job-list")

    html = client.get(url).content.decode()  # open jobs by default
    assert _refs(html, overdue, emergency, done) == [True, True, False]
    html = client.get(url, {"status": "closed"}).content.decode()
    assert _refs(html, overdue, emergency, done) == [False, False, True]
    html = client.get(url, {"status": "all", "due": "overdue"}).content.decode()
    assert _refs(html, overdue, emergency, done) == [True, False, False]
    html = client.get(url, {"priority": JobPriority.EMERGENCY}).content.decode()
    assert _refs(html, overdue, emergency, done) == [False, True, False]
    html = client.get(url, {"district": str(w.medway_district.pk)}).content.decode()
    assert _refs(html, overdue, emergency, done) == [False, False, False]
    assert "No jobs match these filters." in html
    html = client.get(url, {"sort": "newest"}).content.decode()
    assert html.index(emergency.reference) < html.index(overdue.reference)
    html = client.get(url).content.decode()
    assert html.index(overdue.reference) < html.index(emergency.reference)  # nearest first


# --- Caseload -----------------------------------------------------------------------------------


def test_caseload_filters_by_service_due_and_sorts(world: Any) -> None:
    from support.models import AdultSupportCase
    from tests.test_support_helpers import build_support_world, open_adult_case, open_cyp_case

    sw = build_support_world(world)
    # One worker holding both kinds, to see the service filter work.
    from django.contrib.auth.models import Group

    from safer.accounts.roles import ROLE_GROUP_NAMES

    adult = open_adult_case(sw)
    cyp = open_cyp_case(sw)
    AdultSupportCase.objects.filter(pk=adult.pk).update(
        first_contact_due_on=timezone.localdate() - dt.timedelta(days=3)
    )
    worker = sw.adult_worker
    worker.groups.add(Group.objects.get(name=ROLE_GROUP_NAMES[Role.CYP_WORKER]))
    type(cyp).objects.filter(pk=cyp.pk).update(
        allocated_worker=worker,
        team=worker.team,
        provider=worker.organisation,
        first_contact_due_on=timezone.localdate() + dt.timedelta(days=30),
    )
    # The clocks were moved by hand, not by the services: store the next due dates as the
    # nightly repair would.
    from support.services.due import next_due_repair

    assert next_due_repair() == 2
    client = sign_in(Client(), worker)
    url = reverse("support:caseload")
    html = client.get(url).content.decode()
    assert _refs(html, adult, cyp) == [True, True]
    html = client.get(url, {"kind": "cyp"}).content.decode()
    assert _refs(html, adult, cyp) == [False, True]
    html = client.get(url, {"due": "overdue"}).content.decode()
    assert _refs(html, adult, cyp) == [True, False]
    html = client.get(url, {"due": "week"}).content.decode()
    assert _refs(html, adult, cyp) == [True, False]
    # The district filter reads each case's own household (copied from its case file).
    own = sw.case_file.household.district_id
    html = client.get(url, {"district": str(own)}).content.decode()
    assert _refs(html, adult, cyp) == [True, True]
    other = world.extra["districts"]["canterbury"].pk
    assert other != own
    html = client.get(url, {"district": str(other)}).content.decode()
    assert _refs(html, adult, cyp) == [False, False]
    assert "No open cases of yours match these filters." in html
