"""Who made a change and from where, for the change history kept by django-pghistory.

pghistory's triggers copy every INSERT/UPDATE of a tracked model into its event table, whoever
wrote it (ORM, bulk update, raw SQL). The *who* and *from where* come from a context that the
application sets around the work: ``HistoryContextMiddleware`` does it for each request, and
``history_context`` does it for work outside a request (Celery tasks, management commands).
Every Celery task also gets a context naming the task, so a write from a task that forgot to
name its actor still says where it came from.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pghistory
from django.db import models
from pghistory import runtime as pghistory_runtime

_task_stacks = threading.local()


@contextmanager
def history_context(*, actor: models.Model | None, source: str = "") -> Iterator[None]:
    """Attribute the tracked writes made inside the block to ``actor``.

    For code that runs outside a request, e.g. in a task::

        with history_context(actor=user, source="security_job_close_task"):
            security_job_close(job=job, by=user)

    The block gets a context of its own, so a loop that acts for several people attributes each
    write to the right one (see ``_own_context``).
    """
    metadata: dict[str, Any] = {"user": _user_id(actor)}
    if source:
        metadata["source"] = source
    with _own_context(metadata):
        yield


@contextmanager
def _own_context(metadata: dict[str, Any]) -> Iterator[None]:
    """Enter a pghistory context with a new id, even inside another one.

    A nested ``pghistory.context`` merges into the outer one and shares its row in
    ``pghistory_context``: changing the user there would re-attribute every change the outer
    block already made. Here the inner block gets a fresh id (keeping the outer metadata such as
    the source address, overridden by ``metadata``) and the outer context is restored after it.
    """
    tracker = pghistory_runtime._tracker
    outer = getattr(tracker, "value", None)
    if outer is None:
        with pghistory.context(**metadata):
            yield
        return
    tracker.value = pghistory_runtime.Context(
        id=uuid.uuid4(), metadata={**outer.metadata, **metadata}
    )
    try:
        yield
    finally:
        tracker.value = outer


def _user_id(actor: models.Model | None) -> str | None:
    if actor is None or getattr(actor, "pk", None) is None:
        return None
    return str(actor.pk)


def task_context_enter(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """Celery ``task_prerun``: open a context naming the task for everything it writes."""
    if task_id is None or task is None:
        return
    stack = ExitStack()
    stack.enter_context(_own_context({"source": f"task:{getattr(task, 'name', 'unknown')}"}))
    _stacks()[task_id] = stack


def task_context_exit(task_id: str | None = None, **_: Any) -> None:
    """Celery ``task_postrun`` (sent after success and failure alike): close the task's context."""
    stack = _stacks().pop(task_id, None) if task_id is not None else None
    if stack is not None:
        stack.close()


def _stacks() -> dict[str, ExitStack]:
    if not hasattr(_task_stacks, "by_task"):
        _task_stacks.by_task = {}
    by_task: dict[str, ExitStack] = _task_stacks.by_task
    return by_task


def connect_celery_signals() -> None:
    from celery import signals

    signals.task_prerun.connect(task_context_enter, weak=False, dispatch_uid="audit_history_in")
    signals.task_postrun.connect(task_context_exit, weak=False, dispatch_uid="audit_history_out")
