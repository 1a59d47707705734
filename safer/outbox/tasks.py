from celery import shared_task

from safer.outbox.services import outbox_prune_relayed, outbox_relay


@shared_task(name="safer.outbox.tasks.outbox_relay_task", ignore_result=True)
def outbox_relay_task() -> int:
    """Relay any outbox rows still pending (the sweep behind the after-commit relay)."""
    return outbox_relay()


@shared_task(name="safer.outbox.tasks.outbox_prune_task", ignore_result=True)
def outbox_prune_task() -> int:
    """Forget relayed messages past their retention (idempotent: only old relayed rows go)."""
    return outbox_prune_relayed()
