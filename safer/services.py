from __future__ import annotations

from django.db import transaction

from safer.accounts.models import User
from safer.models import WorkerCheck
from safer.outbox.services import outbox_enqueue


@transaction.atomic
def worker_check_request(*, requested_by: User) -> WorkerCheck:
    check = WorkerCheck.objects.create(requested_by=requested_by)
    outbox_enqueue(task_name="safer.tasks.heartbeat_task", kwargs={"check_id": str(check.id)})
    return check
