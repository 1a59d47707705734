"""Roles granted and revoked only through audited services; the user admin; refusals logged."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from safer.access.roles import user_has_role
from safer.accounts.models import AccountEvent, AccountEventKind
from safer.accounts.roles import Role
from safer.accounts.services import (
    user_reactivate,
    user_role_grant,
    user_role_revoke,
    user_two_factor_reset,
)
from safer.audit.models import AuthEvent, AuthEventKind
from tests.helpers import make_user, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator():
    admin = make_user("admin@example.org", full_name="Ada Admin")
    user_role_grant(user=admin, role=Role.SYSTEM_ADMIN, granted_by=None)
    return admin


def test_granting_a_role_is_recorded_with_who_did_it(administrator) -> None:
    worker = make_user()
    assert user_role_grant(user=worker, role=Role.SPA_TRIAGE, granted_by=administrator)
    assert user_has_role(worker, Role.SPA_TRIAGE)
    event = AccountEvent.objects.get(user=worker)
    assert event.kind == AccountEventKind.ROLE_GRANTED
    assert event.role == Role.SPA_TRIAGE
    assert event.actor == administrator
    assert event.actor_label == "Ada Admin <admin@example.org>"


def test_granting_a_role_twice_changes_nothing(administrator) -> None:
    worker = make_user()
    user_role_grant(user=worker, role="spa_triage", granted_by=administrator)
    assert not user_role_grant(user=worker, role="spa_triage", granted_by=administrator)
    assert AccountEvent.objects.filter(user=worker).count() == 1


def test_revoking_a_role(administrator) -> None:
    worker = make_user()
    user_role_grant(user=worker, role=Role.AUDITOR, granted_by=administrator)
    assert user_role_revoke(user=worker, role=Role.AUDITOR, revoked_by=administrator)
    assert not user_has_role(worker, Role.AUDITOR)
    assert not user_role_revoke(user=worker, role=Role.AUDITOR, revoked_by=administrator)
    kinds = list(AccountEvent.objects.filter(user=worker).values_list("kind", flat=True))
    assert sorted(kinds) == [AccountEventKind.ROLE_GRANTED, AccountEventKind.ROLE_REVOKED]


def test_system_administrator_role_carries_admin_site_access(administrator) -> None:
    assert administrator.is_staff
    other = make_user("second-admin@example.org")
    user_role_grant(user=other, role=Role.SYSTEM_ADMIN, granted_by=administrator)
    user_role_revoke(user=administrator, role=Role.SYSTEM_ADMIN, revoked_by=other)
    administrator.refresh_from_db()
    assert not administrator.is_staff


def test_only_system_administrators_change_roles() -> None:
    manager = make_user("manager@example.org")
    user_role_grant(user=manager, role=Role.SPA_MANAGER, granted_by=None)
    worker = make_user()
    with pytest.raises(PermissionDenied):
        user_role_grant(user=worker, role=Role.SPA_TRIAGE, granted_by=manager)
    assert not user_has_role(worker, Role.SPA_TRIAGE)


def test_nobody_changes_their_own_roles(administrator) -> None:
    with pytest.raises(PermissionDenied):
        user_role_grant(user=administrator, role=Role.AUDITOR, granted_by=administrator)


def test_two_factor_reset_removes_devices_and_sessions(administrator) -> None:
    worker = make_user()
    client = Client()
    sign_in(client, worker)
    user_two_factor_reset(user=worker, reset_by=administrator)
    assert client.get("/accounts/sessions/").status_code == 302
    assert not TOTPDevice.objects.filter(user=worker).exists()
    assert AccountEvent.objects.filter(user=worker, kind=AccountEventKind.TWO_FACTOR_RESET).exists()


def test_reactivation_is_recorded(administrator) -> None:
    worker = make_user(is_active=False)
    assert user_reactivate(user=worker, reactivated_by=administrator)
    worker.refresh_from_db()
    assert worker.is_active


def test_account_events_cannot_be_updated_or_deleted(administrator) -> None:
    event = AccountEvent.objects.get(user=administrator)
    for statement in (
        "UPDATE accounts_accountevent SET detail = 'tampered' WHERE id = %s",
        "DELETE FROM accounts_accountevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.id])
    event.refresh_from_db()
    assert event.detail == ""


def test_user_admin_is_for_verified_system_administrators(administrator) -> None:
    client = Client()
    sign_in(client, administrator)
    assert client.get("/admin/accounts/user/").status_code == 200

    worker = make_user()
    worker_client = Client()
    sign_in(worker_client, worker)
    response = worker_client.get("/admin/accounts/user/")
    # Not staff: the admin sends them to its login page, which refuses a signed-in person.
    assert worker_client.get(response["Location"]).status_code == 403


def test_roles_are_changed_in_the_admin_through_the_services(administrator) -> None:
    worker = make_user()
    client = Client()
    sign_in(client, administrator)
    response = client.post(
        f"/admin/accounts/user/{worker.pk}/change/",
        {
            "email": worker.email,
            "full_name": worker.full_name,
            "roles": [Role.CONTRACTOR.value, Role.AUDITOR.value],
            "account_events-TOTAL_FORMS": "0",
            "account_events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert user_has_role(worker, Role.CONTRACTOR)
    assert user_has_role(worker, Role.AUDITOR)
    assert (
        AccountEvent.objects.filter(
            user=worker, actor=administrator, kind=AccountEventKind.ROLE_GRANTED
        ).count()
        == 2
    )


def test_the_admin_refuses_a_change_to_your_own_roles(administrator) -> None:
    client = Client()
    sign_in(client, administrator)
    response = client.post(
        f"/admin/accounts/user/{administrator.pk}/change/",
        {
            "email": administrator.email,
            "full_name": administrator.full_name,
            "roles": [Role.SYSTEM_ADMIN.value, Role.AUDITOR.value],
            "account_events-TOTAL_FORMS": "1",
            "account_events-INITIAL_FORMS": "1",
        },
    )
    assert response.status_code == 200
    assert "You cannot change your own roles" in response.content.decode()
    assert not user_has_role(administrator, Role.AUDITOR)


def test_a_refused_page_is_recorded(client: Client) -> None:
    worker = make_user()
    sign_in(client, worker)
    assert client.get("/admin/login/").status_code == 403
    event = AuthEvent.objects.get(kind=AuthEventKind.PERMISSION_DENIED)
    assert event.user == worker
    assert event.path == "/admin/login/"


def test_user_admin_pages_render_and_a_user_can_be_added(administrator) -> None:
    worker = make_user()
    client = Client()
    sign_in(client, administrator)
    assert client.get(f"/admin/accounts/user/{worker.pk}/change/").status_code == 200
    assert client.get("/admin/accounts/user/add/").status_code == 200
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Example.org",
            "full_name": "New Person",
            "password1": "a long enough passphrase 9",
            "password2": "a long enough passphrase 9",
            "roles": [Role.REFERRER.value],
            "account_events-TOTAL_FORMS": "0",
            "account_events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    from safer.accounts.models import User

    created = User.objects.get(email="new.person@example.org")
    assert created.check_password("a long enough passphrase 9")
    assert user_has_role(created, Role.REFERRER)
    assert AccountEvent.objects.get(user=created).actor == administrator


def test_deactivate_action_in_the_admin(administrator) -> None:
    worker = make_user()
    worker_client = Client()
    sign_in(worker_client, worker)
    client = Client()
    sign_in(client, administrator)
    client.post(
        "/admin/accounts/user/",
        {"action": "deactivate", "_selected_action": [str(worker.pk), str(administrator.pk)]},
    )
    worker.refresh_from_db()
    administrator.refresh_from_db()
    assert not worker.is_active
    assert administrator.is_active  # not their own account
    assert worker_client.get("/accounts/sessions/").status_code == 302
