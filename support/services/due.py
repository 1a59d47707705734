"""Repair of the stored next due date (``support.models.due``): the nightly safety net for a
writer that moved a clock without ``common.next_due_refresh``."""

from __future__ import annotations

import logging

from django.db import transaction

from support.models import AdultSupportCase, CypCase
from support.models.due import next_due_expression
from support.selectors.caseload import next_due_drift
from support.services import common

logger = logging.getLogger(__name__)


def next_due_repair() -> int:
    """Store the right next due date on every case whose stored one has drifted; returns how
    many were repaired, and logs a warning naming them (a missed writer is a bug to fix).

    Each case is repaired in its own transaction under its row lock, as a service would, so a
    service moving the same case's clocks meanwhile is waited for and its result kept. Safe
    to run twice: a second run finds nothing."""
    repaired = 0
    for drift in next_due_drift():
        with transaction.atomic():
            case = drift.model.objects.select_for_update().filter(pk=drift.case_id).first()
            if case is None:
                continue
            common.next_due_refresh(case)
            repaired += 1
            logger.warning(
                "next_due_on drifted on %s %s: stored %s, clocks say %s (repaired)",
                drift.model._meta.label,
                drift.case_id,
                drift.stored,
                case.next_due_on,
            )
    return repaired


def next_due_fill() -> int:
    """Store every case's next due date from its clocks in one UPDATE per case kind: for bulk
    loads that write cases without the services (the bench builder). It does not wait for the
    services' row locks before reading the clocks, so on a live system use ``next_due_repair``."""
    return sum(
        model.objects.update(next_due_on=next_due_expression(model))
        for model in (AdultSupportCase, CypCase)
    )
