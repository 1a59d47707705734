"""Dead letters: a task that fails for good is kept (once per task id) with ids and the error
type, and an administrator sends it again through the outbox, once. The worker path, with a real
worker, is tests/test_faults.py."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.contrib.auth.models import Group
from django.test import Client

from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.outbox.models import DeadLetter, DeadLetterStatus, OutboxMessage
from safer.outbox.services import dead_letter_record, dead_letter_retry
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


@shared_task(name="tests.test_dead_letters.always_fails_task")
def always_fails_task(record_id: str) -> None:
    raise LookupError(f"record {record_id} is malformed")


def test_a_task_failing_for_good_is_kept_as_a_dead_letter_once() -> None:
    from safer.celery import app

    app.conf.task_eager_propagates = False
    try:
        always_fails_task.apply(kwargs={"record_id": "42"}, task_id="t-1")
        always_fails_task.apply(kwargs={"record_id": "42"}, task_id="t-1")  # redelivered
    finally:
        app.conf.task_eager_propagates = True
    letter = DeadLetter.objects.get()
    assert letter.task_id == "t-1"
    assert letter.task_name == "tests.test_dead_letters.always_fails_task"
    assert letter.kwargs == {"record_id": "42"}
    assert letter.error == "LookupError: record 42 is malformed"
    assert letter.status == DeadLetterStatus.DEAD


def test_retrying_sends_it_again_through_the_outbox_once(system_admin: User) -> None:
    letter = dead_letter_record(
        task_id="t-2",
        task_name="safer.tasks.heartbeat_task",
        args=[],
        kwargs={"check_id": None},
        retries=3,
        error=TimeoutError("mail server timed out"),
    )
    assert letter.attempts == 4
    message = dead_letter_retry(dead_letter=letter, by=system_admin)
    assert message is not None
    assert (message.task_name, message.kwargs) == ("safer.tasks.heartbeat_task", {"check_id": None})
    assert dead_letter_retry(dead_letter=letter, by=system_admin) is None  # a double click
    assert OutboxMessage.objects.count() == 1
    letter.refresh_from_db()
    assert (letter.status, letter.retried_by, letter.retry_message) == (
        DeadLetterStatus.RETRIED,
        system_admin,
        message,
    )


def test_positional_arguments_are_not_resent(system_admin: User) -> None:
    letter = dead_letter_record(
        task_id="t-3", task_name="x", args=["1"], kwargs={}, retries=0, error=ValueError("no")
    )
    assert dead_letter_retry(dead_letter=letter, by=system_admin) is None
    assert DeadLetter.objects.get().status == DeadLetterStatus.DEAD


def test_the_admin_lists_dead_letters_for_operators_only(
    system_admin: User, spa_manager: User
) -> None:
    dead_letter_record(
        task_id="t-4",
        task_name="safer.tasks.heartbeat_task",
        args=[],
        kwargs={},
        retries=0,
        error=ValueError("bad"),
    )
    operator = User.objects.create_superuser(
        "ops@example.org", "a-long-test-password", full_name="Platform Operator"
    )
    operator.groups.add(Group.objects.get_or_create(name=ROLE_GROUP_NAMES[Role.SYSTEM_ADMIN])[0])
    page = sign_in(Client(), operator).get("/admin/outbox/deadletter/")
    assert page.status_code == 200
    assert "safer.tasks.heartbeat_task" in page.content.decode()
    assert sign_in(Client(), spa_manager).get("/admin/outbox/deadletter/").status_code in (
        302,
        403,
        404,
    )
