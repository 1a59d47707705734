"""An auditor's sign-in alerts (their home, issue 17): the events of their authorities' staff and
the failed attempts naming one of them, read as two sides each through its own index; the same
events as the sign-in events page's scope (``AuditScope.auth_event_q``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from safer.accounts.models import User
from safer.audit.models import AuthEvent, AuthEventKind
from safer.audit.scoping import AuditScope
from safer.audit.selectors import auth_alerts_since
from tests.factories import AuthEventFactory, PersonaWorld, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

ALERTS = [AuthEventKind.SIGN_IN_FAILED, AuthEventKind.LOCKED_OUT]


def _medway_auditor(world: PersonaWorld) -> User:
    auditor = world.auditor
    auditor.authorities.set([world.medway])
    assert auditor.organisation is not None
    auditor.organisation.authorities.add(world.medway)
    return auditor


def _alerts(auditor: User, rows: int = 10) -> tuple[dict[str, int], list[int]]:
    found = auth_alerts_since(
        audit_scope=AuditScope.for_user(auditor),
        since=timezone.now() - dt.timedelta(days=7),
        kinds=ALERTS,
        rows=rows,
    )
    return found.by_kind, [event.pk for event in found.latest]


def test_alerts_are_of_the_auditors_staff_and_attempts_naming_them(world: PersonaWorld) -> None:
    # The SPA provider serves Kent and Medway: a worker of both is in both auditors' scope.
    both = UserFactory.create(
        email="both@example.org",
        organisation=world.spa_triage.organisation,
        authorities=[world.kent, world.medway],
    )
    failed = AuthEventKind.SIGN_IN_FAILED
    kent = AuthEventFactory.create(user=world.spa_triage, kind=failed)
    medway = AuthEventFactory.create(user=world.medway_spa_triage, kind=AuthEventKind.LOCKED_OUT)
    shared = AuthEventFactory.create(user=both, kind=failed)
    named = AuthEventFactory.create(
        user=None, kind=failed, attempted_username=world.spa_triage.email.upper()
    )
    unknown = AuthEventFactory.create(user=None, kind=failed, attempted_username="nobody@x.org")
    AuthEventFactory.create(user=world.spa_triage, kind=AuthEventKind.SIGN_IN)  # not an alert
    AuthEventFactory.create(
        user=world.spa_triage,
        kind=failed,
        occurred_at=timezone.now() - dt.timedelta(days=8),  # before the week
    )

    by_kind, latest = _alerts(world.auditor)
    assert by_kind == {failed: 3}
    assert latest == [named.pk, shared.pk, kent.pk]  # newest first
    assert _alerts(world.auditor, rows=2)[1] == [named.pk, shared.pk]

    by_kind, latest = _alerts(_medway_auditor(world))
    assert by_kind == {failed: 1, AuthEventKind.LOCKED_OUT: 1}
    assert latest == [shared.pk, medway.pk]
    assert unknown.pk not in latest


def test_the_alerts_are_the_sign_in_pages_scope(world: PersonaWorld) -> None:
    for user in (world.spa_triage, world.medway_spa_triage, world.contractor):
        AuthEventFactory.create(user=user, kind=AuthEventKind.SIGN_IN_FAILED)
    AuthEventFactory.create(
        user=None,
        kind=AuthEventKind.LOCKED_OUT,
        attempted_username=world.contractor.email.title(),
    )
    scope = AuditScope.for_user(world.auditor)
    in_scope = AuthEvent.objects.filter(scope.auth_event_q(), kind__in=ALERTS)
    assert sorted(_alerts(world.auditor)[1]) == sorted(in_scope.values_list("pk", flat=True))
    assert len(_alerts(world.auditor)[1]) == 3


def test_the_auditors_home_shows_the_weeks_alerts(client: Client, world: PersonaWorld) -> None:
    AuthEventFactory.create(user=world.spa_triage, kind=AuthEventKind.SIGN_IN_FAILED)
    AuthEventFactory.create(user=world.medway_spa_triage, kind=AuthEventKind.SIGN_IN_FAILED)
    sign_in(client, world.auditor)
    html = client.get("/").content.decode()
    assert world.spa_triage.email in html
    assert world.medway_spa_triage.email not in html
