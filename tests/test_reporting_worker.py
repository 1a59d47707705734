"""A report requested as the web app requests it is produced by a real Celery worker.

The worker is the subprocess ``tests/test_worker.py`` starts (its fixtures and helpers are reused
here): the request commits, the outbox relays the task to the broker, the worker claims the run
and writes XLSX, CSV and PDF to the private storage both processes share.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from openpyxl import load_workbook

from reporting.metrics import Metrics, Scope
from reporting.models import OutputFormat, ReportKind, ReportRun, RunStatus
from reporting.periods import Period
from reporting.services import report_run_request
from safer.outbox.models import OutboxMessage, OutboxStatus
from safer.redis_urls import celery_broker
from tests.test_reporting_data import Dataset, build_dataset
from tests.test_worker import (  # the real-worker fixtures and helpers
    _tail,
    celery_sends_to,
    queue,  # noqa: F401
    run_id,  # noqa: F401
    running_worker,
    test_redis,  # noqa: F401
    test_redis_url,  # noqa: F401
)

pytestmark = [pytest.mark.worker, pytest.mark.filterwarnings("ignore:task_always_eager")]

REPORT_DONE_SECONDS = 120  # a cold worker rendering a PDF on a busy two-core machine
YEAR = Period.parse("2025-26")


@pytest.fixture
def committed_dataset(transactional_db: None) -> Dataset:
    return build_dataset()


@pytest.fixture
def shared_storage(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One private folder for this process and the worker (which reads it from the env)."""
    root = tmp_path / "private"
    root.mkdir()
    monkeypatch.setenv("SAFER_PRIVATE_MEDIA_ROOT", str(root))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def test_report_requested_by_the_web_app_is_produced_by_a_real_worker(
    committed_dataset: Dataset,
    shared_storage: Path,
    queue: str,  # noqa: F811
    run_id: str,  # noqa: F811
    test_redis_url: str,  # noqa: F811
    test_redis: redis.Redis,  # noqa: F811
    tmp_path: Path,
) -> None:
    data = committed_dataset
    log_path = tmp_path / "worker.log"
    with (
        celery_sends_to(celery_broker(test_redis_url), queue),
        running_worker(queue=queue, redis_url=test_redis_url, run_id=run_id, log_path=log_path),
    ):
        run = report_run_request(  # commits: the outbox relays the task after commit
            kind=ReportKind.ANNUAL_RETURN, period=YEAR, authorities=[data.kent], requested_by=None
        )
        deadline = time.monotonic() + REPORT_DONE_SECONDS
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.is_finished:
                break
            time.sleep(0.5)
        assert run.status == RunStatus.SUCCEEDED, (
            f"run {run.status}: {run.error}\n{_tail(log_path)}"
        )

    message = OutboxMessage.objects.get(kwargs__run_id=str(run.pk))
    assert message.status == OutboxStatus.RELAYED
    assert (run.progress, run.attempts) == (100, 1)
    outputs = {o.format: o for o in ReportRun.objects.get(pk=run.pk).outputs.all()}
    assert set(outputs) == {OutputFormat.XLSX, OutputFormat.CSV, OutputFormat.PDF}
    for output in outputs.values():
        assert (shared_storage / output.file.name).stat().st_size == output.size

    # The workbook opens and its (published, suppressed) cells agree with the metrics.
    figures = Metrics(Scope((data.kent.pk,))).family("individuals", YEAR)
    assert (figures["children"], figures[""]) == (8, 14)
    workbook = load_workbook(io.BytesIO(outputs[OutputFormat.XLSX].file.read()))
    sheet = {
        r[0]: r[1] for r in workbook["Individuals supported"].iter_rows(min_row=5, values_only=True)
    }
    assert sheet["Children (under 18 on the first day of support)"] == figures["children"]
    assert sheet["Total individuals supported"] == figures[""]
    assert sheet["Women"] == "<5"  # 3
    districts = {
        r[0]: r[1] for r in workbook["Referrals by district"].iter_rows(min_row=5, values_only=True)
    }
    assert (districts["Dover"], districts["Total"]) == ("<5", 19)

    if shutil.which("pdftotext"):
        pdf = tmp_path / "return.pdf"
        pdf.write_bytes(outputs[OutputFormat.PDF].file.read())
        text = subprocess.run(  # noqa: S603
            ["pdftotext", str(pdf), "-"],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for heading in (
            "Annual Part 4 return (safe accommodation) 2025-26",
            "Individuals supported",
            "Households whose support ended",
            "Referrals by district",
            "Notes and definitions",
        ):
            assert heading in text
