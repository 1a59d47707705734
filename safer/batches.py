"""Deleting many rows without holding many locks for long."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction


def delete_in_batches(rows: models.QuerySet[Any], *, order_by: str, batch: int) -> int:
    """Delete ``rows`` ``batch`` at a time, each batch its own transaction; returns how many.

    A backlog of millions never holds its locks for long, and two workers running the same
    purge at once share it out: rows the other holds are skipped (``skip_locked``), then gone.
    ``order_by`` should follow an index that ``rows``' filter reads, so each batch is found
    without a scan. Call it outside any transaction, or the batches are one transaction after
    all."""
    deleted_in_all = 0
    while True:
        with transaction.atomic():
            ids = list(
                rows.order_by(order_by)
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                return deleted_in_all
            deleted, _ = rows.model._default_manager.filter(pk__in=ids).delete()
            deleted_in_all += deleted
