"""Faults survived, with real processes: the suite's PostgreSQL and Redis, a real Celery worker
and the served web app (gunicorn), broken from the test while they work.

- A worker SIGKILLed in the middle of a report run: the message was never acknowledged
  (acks_late), so the next worker gets it again once the visibility timeout has passed, takes the
  dead worker's claim over and finishes the run once: one set of files, one "succeeded" run.
- A poison task (a mail server that refuses every connection): after its retries it is kept as a
  dead letter, which an administrator sends again from the admin site.
- The database going away under requests in flight: every request gets a 503 (a page, or JSON
  for the API) or succeeds, never a 500; nothing half-written; the same processes serve again
  once it is back.

The broker outage of the outbox is ``tests/test_worker.py``. What each shows is written up in
docs/reliability.md.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client

from referrals.api.serializers import REFERRAL_EXAMPLE
from referrals.models import Referral
from reporting.models import OutputFormat, ReportKind, ReportOutput, ReportRun, RunStatus
from reporting.periods import Period
from reporting.services import report_run_request
from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.api.models import IdempotencyRecord, Scope
from safer.casefile.models import CaseFile, Household, Person, SafeContactRules
from safer.organisations.models import CommissioningAuthority, Organisation, OrganisationKind
from safer.outbox.models import DeadLetter, DeadLetterStatus, OutboxMessage
from safer.redis_urls import celery_broker
from tests import test_worker
from tests.api_support import issue
from tests.helpers import add_totp_device, sign_in
from tests.referrals_support import geography, staff
from tests.test_reporting_data import build_dataset
from tests.test_serving import copy_of, served, sign_in_over_http
from tests.test_worker import _tail, celery_sends_to, running_worker

# The worker tests' fixtures: a queue and a Redis database of this run's own, emptied afterwards.
queue = test_worker.queue
run_id = test_worker.run_id
test_redis_url = test_worker.test_redis_url
test_redis = test_worker.test_redis

pytestmark = [pytest.mark.faults, pytest.mark.filterwarnings("ignore:task_always_eager")]

# The restarted worker's visibility timeout: how long an unacknowledged message waits before it is
# handed out again. Production keeps an hour (longer than the hard time limit); the test shortens
# it, and the time limits with it (the settings refuse a timeout below the hard limit).
VISIBILITY_SECONDS = 12
FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
    "CELERY_TASK_TIME_LIMIT": str(VISIBILITY_SECONDS - 1),
    "CELERY_TASK_SOFT_TIME_LIMIT": str(VISIBILITY_SECONDS - 2),
}
WAIT_SECONDS = 45


def _wait_for(what: str, check: Any, log: Path, seconds: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {seconds}s:\n{_tail(log)}")


def _raw_connection(*, dbname: str = "", autocommit: bool = False) -> psycopg.Connection[Any]:
    """A second connection to the test database (or ``dbname`` on the same server), apart from
    Django's: its own transaction."""
    db = connection.settings_dict
    return psycopg.connect(
        dbname=dbname or db["NAME"],
        autocommit=autocommit,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


# --- A worker killed mid-run ----------------------------------------------------------------------


@pytest.mark.worker
def test_worker_killed_mid_report_run_is_redelivered_and_finishes_once(
    transactional_db: None,
    queue: str,
    run_id: str,
    test_redis_url: str,
    test_redis: redis.Redis,
    tmp_path: Path,
) -> None:
    dataset = build_dataset()
    files = tmp_path / "private"
    env = {"SAFER_PRIVATE_MEDIA_ROOT": str(files)}
    broker = celery_broker(test_redis_url)
    first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"

    with celery_sends_to(broker, queue):
        run = report_run_request(
            kind=ReportKind.QUARTERLY_GRANT,
            period=Period.parse("2025-26-Q1"),
            authorities=[dataset.kent],
            requested_by=None,
        )
    assert test_redis.llen(queue) == 1

    # Hold the run in the middle: the report reads the case tables, which this transaction
    # locks, so the worker claims the run and then waits here until it is killed.
    blocker = _raw_connection()
    blocker.execute(
        "LOCK TABLE support_adultsupportcase, support_cypcase, referrals_referral,"
        " security_works_securityjob IN ACCESS EXCLUSIVE MODE"
    )
    try:
        with running_worker(
            queue=queue, redis_url=test_redis_url, run_id=run_id, log_path=first_log, extra_env=env
        ) as worker:
            _wait_for(
                "the claim",
                lambda: ReportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists(),
                first_log,
            )
            _wait_for("the report waiting on the lock", _waiting_on_a_lock, first_log)
            delivered_at = time.monotonic()
            os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool child, no goodbye
            worker.wait(timeout=10)
    finally:
        blocker.rollback()
        blocker.close()

    killed = ReportRun.objects.get(pk=run.pk)
    assert (killed.status, killed.attempts) == (RunStatus.RUNNING, 1)
    assert killed.claimed_by_task == str(OutboxMessage.objects.get().id)
    assert not ReportOutput.objects.filter(run=run).exists()
    assert test_redis.llen(queue) == 0  # not in the queue: held as unacknowledged

    # A new worker, once the message's visibility timeout has passed, restores it as it starts.
    time.sleep(max(0.0, delivered_at + VISIBILITY_SECONDS + 1 - time.monotonic()))
    with running_worker(
        queue=queue,
        redis_url=test_redis_url,
        run_id=run_id,
        log_path=second_log,
        extra_env={**env, **FAST_REDELIVERY},
    ):
        _wait_for(
            "the redelivered run to finish",
            lambda: ReportRun.objects.filter(pk=run.pk).exclude(status=RunStatus.RUNNING).exists(),
            second_log,
        )
        time.sleep(1)  # long enough for a duplicate delivery to show itself

    finished = ReportRun.objects.get(pk=run.pk)
    assert finished.status == RunStatus.SUCCEEDED, finished.error
    assert finished.attempts == 2  # the killed attempt and the redelivered one
    outputs = ReportOutput.objects.filter(run=run)
    assert sorted(o.format for o in outputs) == sorted(OutputFormat.values)  # one of each
    on_disk = sorted(p.name for p in files.rglob("*") if p.is_file())
    assert on_disk == sorted(Path(o.file.name).name for o in outputs)
    assert b"succeeded" in second_log.read_bytes()
    assert not DeadLetter.objects.exists()


# --- A poison task --------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when this returns: nothing listens


@pytest.mark.worker
def test_poison_task_lands_in_the_dead_letters_and_an_administrator_sends_it_again(
    transactional_db: None,
    queue: str,
    run_id: str,
    test_redis_url: str,
    test_redis: redis.Redis,
    tmp_path: Path,
) -> None:
    admin = User.objects.create_superuser(
        "operator@example.org", "a-long-test-password", full_name="Platform Operator"
    )
    operators, _ = Group.objects.get_or_create(name=ROLE_GROUP_NAMES[Role.SYSTEM_ADMIN])
    admin.groups.add(operators)
    log = tmp_path / "worker.log"
    # Every delivery of the reset email meets a mail server that refuses the connection: the
    # task retries (with back-off) five times, then fails for good.
    refusing_mail = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(_closed_port()),
    }
    task = "safer.accounts.tasks.password_reset_email_send_task"
    with (
        celery_sends_to(celery_broker(test_redis_url), queue),
        running_worker(
            queue=queue,
            redis_url=test_redis_url,
            run_id=run_id,
            log_path=log,
            extra_env=refusing_mail,
        ),
    ):
        with transaction.atomic():
            from safer.outbox.services import outbox_enqueue

            sent = outbox_enqueue(task_name=task, kwargs={"user_id": str(admin.pk)})
        letter = _wait_for(
            "the dead letter",
            lambda: DeadLetter.objects.filter(task_id=str(sent.id)).first(),
            log,
            seconds=50,
        )

    assert letter.task_name == task
    assert letter.kwargs == {"user_id": str(admin.pk)}
    assert letter.attempts == 6  # the first delivery and five retries
    assert letter.error.startswith("ConnectionRefusedError")
    assert letter.status == DeadLetterStatus.DEAD
    assert DeadLetter.objects.count() == 1
    assert test_redis.llen(queue) == 0

    # The administrator finds it in the admin site and sends it again.
    client = sign_in(Client(), admin)
    listing = client.get("/admin/outbox/deadletter/")
    assert listing.status_code == 200
    assert "password_reset_email_send_task" in listing.content.decode()
    with celery_sends_to(celery_broker(test_redis_url), queue):
        response = client.post(
            "/admin/outbox/deadletter/",
            {"action": "retry", "_selected_action": [str(letter.pk)]},
            follow=True,
        )
    assert response.status_code == 200
    assert "1 task(s) sent again." in response.content.decode()
    letter.refresh_from_db()
    assert (letter.status, letter.retried_by) == (DeadLetterStatus.RETRIED, admin)
    assert letter.retry_message is not None
    assert letter.retry_message.kwargs == letter.kwargs
    assert test_redis.llen(queue) == 1  # back on the queue, with a new task id
    resent = test_redis.lindex(queue, 0) or b""
    assert str(letter.retry_message.id).encode() in resent
    # A second click sends nothing more.
    with celery_sends_to(celery_broker(test_redis_url), queue):
        client.post(
            "/admin/outbox/deadletter/", {"action": "retry", "_selected_action": [str(letter.pk)]}
        )
    assert test_redis.llen(queue) == 1


# --- The database going away under load -----------------------------------------------------------


def _referral_body() -> dict[str, Any]:
    import copy

    return copy.deepcopy(REFERRAL_EXAMPLE.value)


@pytest.fixture
def spa(transactional_db: None) -> User:
    return staff("fault.triage@spa.example.org", Role.SPA_TRIAGE)


@pytest.fixture
def agency_token(transactional_db: None) -> str:
    geography()
    agency = Organisation.objects.create(
        name="Fault Police", kind=OrganisationKind.REFERRING_AGENCY
    )
    agency.authorities.set(CommissioningAuthority.objects.all())
    return issue(agency, Scope.REFERRALS_SUBMIT)[1]


@pytest.mark.server
def test_database_outage_gives_503_never_500_writes_nothing_half_and_recovers(
    agency_token: str, spa: User, tmp_path: Path
) -> None:
    """PostgreSQL is shared by every test database on the machine, so the test does not restart
    the server: it does to this database what a restart does to the app (every connection
    dropped, new ones refused), then lets connections in again."""
    name = connection.settings_dict["NAME"]
    outage = threading.Event()
    stop = threading.Event()
    results: list[tuple[str, str, int, bool, dict[str, Any] | str]] = []
    lock = threading.Lock()

    def one_round(base: str, session: requests.Session) -> None:
        """A referral through the API, then the SPA's queue page (signed in: the user and the
        referrals are read from the database)."""
        key = str(uuid.uuid4())
        response = session.post(
            f"{base}/api/v1/referrals/",
            json=_referral_body(),
            headers={"Authorization": f"Bearer {agency_token}", "Idempotency-Key": key},
            timeout=30,
        )
        body: dict[str, Any] | str = (
            response.json()
            if response.headers.get("Content-Type", "").startswith("application/json")
            else response.text
        )
        page = session.get(f"{base}/referrals/", timeout=30, allow_redirects=False)
        with lock:
            results.append(("api", key, response.status_code, outage.is_set(), body))
            results.append(("page", "", page.status_code, outage.is_set(), page.text))

    def client_loop(base: str, signed_in: requests.Session) -> None:
        session = copy_of(signed_in)  # one per thread: a Session is not thread-safe
        while not stop.is_set():
            try:
                one_round(base, session)
            except requests.RequestException as error:  # a dropped connection is a failure too
                with lock:
                    results.append(("api", "", -1, outage.is_set(), type(error).__name__))
                return

    with served("serve", "safer.settings.pilot", tmp_path / "serve.log") as stack:
        signed_in = sign_in_over_http(stack.url, spa, add_totp_device(spa))
        threads = [
            threading.Thread(target=client_loop, args=(stack.url, signed_in), daemon=True)
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        time.sleep(3)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            ours = cursor.fetchone()[0]  # this test's own connection stays
        # A database cannot refuse connections to itself: change it from the maintenance one.
        with _raw_connection(dbname="postgres", autocommit=True) as admin:
            try:
                outage.set()  # the database goes away under the running app
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> %s",
                    [name, ours],
                )
                time.sleep(4)
            finally:
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')  # back
                outage.clear()
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        # The same processes, after the outage: a referral goes in.
        after = requests.post(
            f"{stack.url}/api/v1/referrals/",
            json=_referral_body(),
            headers={"Authorization": f"Bearer {agency_token}", "Idempotency-Key": "after"},
            timeout=30,
        )
        # A few requests refused during the outage, sent again with their keys, go in.
        refused = [key for kind, key, status, _, _ in results if kind == "api" and status == 503]
        retried = [
            requests.post(
                f"{stack.url}/api/v1/referrals/",
                json=_referral_body(),
                headers={"Authorization": f"Bearer {agency_token}", "Idempotency-Key": key},
                timeout=30,
            ).status_code
            for key in refused[:3]
        ]

    statuses = Counter((kind, status) for kind, _, status, _, _ in results)
    print("requests by status:", dict(statuses))  # the figures docs/reliability.md quotes
    print(
        "during the outage:",
        dict(Counter((k, st) for k, _, st, during, _ in results if during)),
    )
    # Never a 500: a request meets either a working database or a clean "unavailable".
    assert set(statuses) <= {("api", 201), ("api", 503), ("page", 200), ("page", 503)}, statuses
    assert statuses[("api", 503)] > 0, statuses
    assert statuses[("page", 503)] > 0, statuses
    for kind, _, status, _, body in results:
        if kind == "api" and status == 503:
            assert body == {
                "message": "The service is briefly unavailable. Nothing was changed: try "
                "again in a minute.",
                "errors": {},
            }
        if kind == "page" and status == 503:
            assert isinstance(body, str)
            assert "Sorry, the service is unavailable" in body
            assert "Traceback" not in body
            assert "psycopg" not in body
    assert after.status_code == 201, after.text
    assert set(retried) <= {201}, retried

    # Nothing half-written: a 503 stored nothing ("Nothing was changed" is true), every 201 and
    # retry stored exactly one whole referral, and there is no other.
    created = {key for kind, key, status, _, _ in results if kind == "api" and status == 201}
    keys = created | set(refused[:3]) | {"after"}
    assert not IdempotencyRecord.objects.filter(key__in=refused[3:]).exists()
    assert IdempotencyRecord.objects.filter(key__in=keys).count() == len(keys)
    referrals = Referral.objects.all()
    assert referrals.count() == len(keys)
    for referral in referrals.select_related("case_file__household"):
        case_file = referral.case_file
        assert Household.objects.filter(pk=case_file.household_id).exists()
        assert Person.objects.filter(household_id=case_file.household_id).count() >= 2
        assert SafeContactRules.objects.filter(case_file=case_file).exists()
    assert CaseFile.objects.count() == referrals.count()  # no case file without its referral
