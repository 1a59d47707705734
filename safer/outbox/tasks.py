from celery import shared_task

from safer.outbox.services import outbox_relay


@shared_task(name="safer.outbox.tasks.outbox_relay_task", ignore_result=True)
def outbox_relay_task() -> int:
    """Relay any outbox rows still pending (the sweep behind the after-commit relay)."""
    return outbox_relay()
