"""A real Celery worker, as `make run` starts it, does what the web app asks through the outbox.

Unit tests run tasks eagerly, which hides serialisation and commit timing; these tests do not.
The worker is a subprocess (``python -m celery -A safer worker``) on the test database. It and this
process use a dedicated Redis database number and a queue name unique to the run, so a developer's
running worker (database 0, queue "safer") never takes these tasks, nor these tests theirs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.utils import timezone

from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.celery import app
from safer.models import WorkerCheck
from safer.outbox.models import OutboxMessage, OutboxStatus
from safer.outbox.services import outbox_relay
from safer.redis_urls import celery_broker, with_db
from safer.services import worker_check_request
from tests.helpers import sign_in

pytestmark = [pytest.mark.worker, pytest.mark.filterwarnings("ignore:task_always_eager")]

# The broker database of these tests (the worker's cache takes the next one); 0 and 1 are the
# developer's broker and cache.
WORKER_TEST_REDIS_DB = 13
WORKER_START_SECONDS = 60  # a cold start on a busy two-core machine
TASK_DONE_SECONDS = 30


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
def queue(run_id: str) -> str:
    return f"safer-worker-test-{run_id}"


@pytest.fixture
def test_redis_url() -> str:
    return with_db(settings.REDIS_URL, WORKER_TEST_REDIS_DB)


@pytest.fixture
def test_redis(test_redis_url: str, run_id: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(test_redis_url, socket_timeout=5)
    try:
        yield client
    finally:
        # Leave nothing of this run behind: its queue, the worker's mailbox, their bindings.
        for key in client.scan_iter(f"*{run_id}*"):
            client.delete(key)
        for key in client.scan_iter("_kombu.binding*"):
            kind = client.type(key)
            members = client.smembers(key) if kind == b"set" else client.zrange(key, 0, -1)
            stale = [m for m in members if isinstance(m, bytes) and run_id.encode() in m]
            if stale and kind == b"set":
                client.srem(key, *stale)
            elif stale and kind == b"zset":
                client.zrem(key, *stale)
        client.close()


@contextlib.contextmanager
def celery_sends_to(broker_url: str, queue: str) -> Iterator[None]:
    """Make this process's Celery app publish to ``broker_url``/``queue``."""
    saved = {"broker_url": app.conf.broker_url, "task_default_queue": app.conf.task_default_queue}
    app.conf.update(broker_url=broker_url, task_default_queue=queue)
    _forget_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    # The app holds its connection and producer pools for the life of the process, bound to the
    # broker URL of their first use; drop its references (as Celery does after a fork) so the
    # next send looks them up again for the current URL. Kombu keeps the pools themselves, one
    # per URL, so they are not closed here: the next test may use the same URL.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


def database_url_of_this_test() -> str:
    """The test database as a URL the worker subprocess's settings understand."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = str(db["HOST"] or "")
    name = quote(db["NAME"], safe="")
    if host.startswith("/"):  # a Unix socket directory (the embedded PostgreSQL)
        return f"postgresql://{credentials}@/{name}?host={quote(host, safe='/')}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{credentials}@{host}{port}/{name}"


@contextlib.contextmanager
def running_worker(
    *,
    queue: str,
    redis_url: str,
    run_id: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "safer.settings.development",
        "DATABASE_URL": database_url_of_this_test(),
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "safer",
        "worker",
        "--loglevel=INFO",
        "--pool=prefork",
        "--concurrency=1",  # robust on a two-core machine running the rest of the suite
        f"--queues={queue}",
        f"--hostname=test-{run_id}@%h",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
    ]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    try:
        _wait_until_ready(worker, log_path)
        yield worker
    finally:
        _stop(worker)


def _wait_until_ready(worker: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"the worker exited with {worker.returncode}:\n{_tail(log_path)}")
        if b" ready." in log_path.read_bytes():
            return
        time.sleep(0.2)
    pytest.fail(f"the worker was not ready within {WORKER_START_SECONDS}s:\n{_tail(log_path)}")


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown of the worker and its pool child
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def _tail(log_path: Path) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture
def staff_superuser(transactional_db: None) -> User:
    user = User.objects.create_superuser(
        "worker-check@example.org", "a-long-test-password", full_name="Platform Operator"
    )
    # The worker check is for operators: the system administrator role, not merely is_staff.
    operators, _ = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[Role.SYSTEM_ADMIN])
    user.groups.add(operators)
    return user


def test_task_enqueued_by_the_web_app_is_run_by_a_real_worker(
    client: Client,
    staff_superuser: User,
    queue: str,
    run_id: str,
    test_redis_url: str,
    test_redis: redis.Redis,
    tmp_path: Path,
) -> None:
    sign_in(client, staff_superuser)
    log_path = tmp_path / "worker.log"

    with (
        celery_sends_to(celery_broker(test_redis_url), queue),
        running_worker(queue=queue, redis_url=test_redis_url, run_id=run_id, log_path=log_path),
    ):
        response = client.post("/ops/worker-check/")
        assert response.status_code == 302
        check = WorkerCheck.objects.get(requested_by=staff_superuser)

        deadline = time.monotonic() + TASK_DONE_SECONDS
        while time.monotonic() < deadline:
            check.refresh_from_db()
            if check.completed_at is not None:
                break
            time.sleep(0.2)

        assert check.completed_at is not None, (
            f"the worker did not run the task within {TASK_DONE_SECONDS}s:\n{_tail(log_path)}"
        )
    message = OutboxMessage.objects.get(kwargs__check_id=str(check.id))
    assert message.status == OutboxStatus.RELAYED
    assert message.attempts == 1


def test_outbox_keeps_work_while_broker_is_down_and_sends_it_once_when_back(
    staff_superuser: User,
    queue: str,
    test_redis_url: str,
    test_redis: redis.Redis,
    tmp_path: Path,
) -> None:
    dead_broker = f"redis+socket://{tmp_path / 'broker-is-down.sock'}"
    with celery_sends_to(dead_broker, queue):
        check = worker_check_request(requested_by=staff_superuser)  # commits; relay fails

    message = OutboxMessage.objects.get(kwargs__check_id=str(check.id))
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert message.last_error.startswith("OperationalError")
    assert test_redis.llen(queue) == 0

    # The broker is back; the beat sweep runs after the message's back-off has passed.
    with (
        celery_sends_to(celery_broker(test_redis_url), queue),
        time_machine.travel(timezone.now() + timedelta(minutes=1)),
    ):
        assert outbox_relay() == 1
        assert outbox_relay() == 0

    message.refresh_from_db()
    assert message.status == OutboxStatus.RELAYED
    assert message.attempts == 2
    assert test_redis.llen(queue) == 1
    sent = json.loads(test_redis.lindex(queue, 0) or b"{}")
    assert sent["headers"]["id"] == str(message.id)
    assert sent["headers"]["task"] == "safer.tasks.heartbeat_task"
