"""Roles and authorities are read once per request, and never carried into the next one."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from safer.access.request_cache import access_cache_for_request, access_cache_is_active
from safer.access.roles import user_roles
from safer.access.scoping import authority_scope_q, user_authority_ids
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.accounts.services.administration import user_role_grant, user_role_revoke
from safer.casefile.models import CaseFile
from tests.factories import PersonaWorld
from tests.helpers import sign_in


def test_within_a_request_the_roles_and_authorities_are_read_once(
    world: PersonaWorld, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    spa = world.personas["spa_triage"]
    with access_cache_for_request(), django_assert_num_queries(2):
        for _ in range(5):
            assert Role.SPA_TRIAGE in user_roles(spa)
            assert world.kent.pk in user_authority_ids(spa)
    assert not access_cache_is_active()
    # Outside a request (a task, a command) each call reads the database afresh.
    with django_assert_num_queries(2):
        user_roles(spa)
        user_roles(spa)


def test_the_scope_inside_a_request_keeps_the_same_rows_as_outside(world: PersonaWorld) -> None:
    for persona in world.personas.values():
        outside = set(CaseFile.objects.filter(authority_scope_q(persona)).values_list("pk"))
        with access_cache_for_request():
            inside = set(CaseFile.objects.filter(authority_scope_q(persona)).values_list("pk"))
        assert inside == outside, persona


def test_a_role_changed_in_the_request_is_not_answered_from_the_cache(
    world: PersonaWorld,
) -> None:
    administrator = world.personas["system_admin"]
    worker = world.personas["adult_support_worker"]
    with access_cache_for_request():
        assert Role.AUDITOR not in user_roles(worker)
        user_role_grant(user=worker, role=Role.AUDITOR, granted_by=administrator)
        assert Role.AUDITOR in user_roles(worker)
        user_role_revoke(user=worker, role=Role.AUDITOR, revoked_by=administrator)
        assert Role.AUDITOR not in user_roles(worker)


def test_a_role_revoked_between_requests_takes_effect_on_the_next_request(
    world: PersonaWorld,
) -> None:
    administrator: User = world.personas["system_admin"]
    auditor: User = world.personas["auditor"]
    client = sign_in(Client(), auditor)
    access_log = reverse("audit:access-log")
    assert client.get(access_log).status_code == 200
    user_role_revoke(user=auditor, role=Role.AUDITOR, revoked_by=administrator)
    assert client.get(access_log).status_code == 403
