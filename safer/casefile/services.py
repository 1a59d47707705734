"""Writes to the shared case file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from safer.accounts.models import User
from safer.casefile.models import (
    CaseEvent,
    CaseFile,
    ContactService,
    ReferenceCounter,
    SafeContactOverride,
)
from safer.concurrency import version_claim

if TYPE_CHECKING:
    from safer.casefile.contact import RuleBreach

OVERRIDE_REASON_MAX = 300


REFERENCE_PREFIX = re.compile(r"^[A-Z]{1,10}$")


def reference_sequence_name(prefix: str) -> str:
    """The PostgreSQL sequence that numbers one prefix's references (created in migration 0007
    for the prefixes SAFER issues, or on first use for a new one)."""
    if not REFERENCE_PREFIX.match(prefix):
        raise ValueError(f"A reference prefix is 1-10 capital letters, not {prefix!r}.")
    return f"casefile_reference_{prefix.lower()}_seq"


def reference_next(*, prefix: str = "SAFER") -> str:
    """The next reference for this year, e.g. SAFER-2026-000123: unique and readable, and no
    lock held for the rest of the caller's transaction (issue 17).

    The number comes from the prefix's sequence (``nextval`` never waits and never rolls back),
    less the year's base (``ReferenceCounter.sequence_base``: the sequence's value just before
    the year's first reference), so numbering restarts at 1 each year. A transaction that rolls
    back leaves a gap in the numbers; none is ever issued twice. Only the first reference of a
    year writes the base row; a concurrent first-of-the-year waits for that one insert.
    """
    sequence = reference_sequence_name(prefix)
    year = timezone.localdate().year
    table = ReferenceCounter._meta.db_table
    with connection.cursor() as cursor:
        base = _reference_base(cursor, table, prefix, year)
        if base is None:
            _reference_sequence_ensure(cursor, sequence)
            # The first of the year: its own nextval is number 1.
            cursor.execute(
                f"INSERT INTO {table} (prefix, year, last_number, sequence_base) "  # noqa: S608
                "VALUES (%s, %s, 0, nextval(%s) - 1) ON CONFLICT (prefix, year) DO NOTHING "
                "RETURNING sequence_base",
                [prefix, year, sequence],
            )
            if cursor.fetchone() is not None:
                return f"{prefix}-{year}-{1:06d}"
            base = _reference_base(cursor, table, prefix, year)
            if base is None:
                # A counter row written before the sequences existed (or by hand): it has
                # issued ``last_number`` references this year; the sequence carries on after.
                cursor.execute(
                    f"UPDATE {table} SET sequence_base = "  # noqa: S608
                    "(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                    f"FROM {sequence}) - last_number "
                    "WHERE prefix = %s AND year = %s AND sequence_base IS NULL",
                    [prefix, year],
                )
                base = _reference_base(cursor, table, prefix, year)
        cursor.execute("SELECT nextval(%s)", [sequence])
        (value,) = cursor.fetchone()
    return f"{prefix}-{year}-{value - base:06d}"


def _reference_base(cursor: Any, table: str, prefix: str, year: int) -> int | None:
    cursor.execute(
        f"SELECT sequence_base FROM {table} WHERE prefix = %s AND year = %s",  # noqa: S608
        [prefix, year],
    )
    row = cursor.fetchone()
    return None if row is None else row[0]


def _reference_sequence_ensure(cursor: Any, sequence: str) -> None:
    # Once per prefix and year at most; the name is checked by ``reference_sequence_name``.
    cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {sequence} AS bigint")


def case_event_record(
    *,
    case_file: CaseFile,
    kind: str,
    summary: str,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append an event to the case timeline, inside the transaction of the change it records."""
    return CaseEvent.objects.create(
        case_file=case_file, kind=kind, summary=summary, actor=actor, data=data or {}
    )


@transaction.atomic
def casefile_safeguarding_flag_set(
    *, case_file: CaseFile, actor: User | None, reason_code: str
) -> CaseFile:
    """Raise the case file's safeguarding flag, so every service's pages show it at the top.

    ``reason_code`` says which service raised it and why (a code, never a note: the timeline is
    read by every service on the case). Raising a flag that is already up changes nothing and
    writes no event: the event that raised it is already on the timeline.
    """
    code = reason_code.strip()
    if not code or len(code) > 60:
        raise ValueError("A safeguarding flag needs a short reason code.")
    locked = CaseFile.objects.select_for_update(of=("self",)).get(pk=case_file.pk)
    if locked.safeguarding_flag:
        return locked
    version_claim(locked, expected=None, by=actor)
    locked.safeguarding_flag = True
    locked.save(update_fields=["safeguarding_flag"])
    case_event_record(
        case_file=locked,
        kind="safeguarding_flag_set",
        summary="Safeguarding flag raised",
        actor=actor,
        data={"reason_code": code},
    )
    return locked


def safe_contact_override_record(
    *,
    event: CaseEvent,
    actor: User,
    service: ContactService,
    breaches: Sequence[RuleBreach],
    reason: str,
) -> SafeContactOverride:
    """Keep a contact made against the safe-contact rules, inside the transaction of the contact
    (``event`` is its case event, so the timeline shows it with the reason). The managers of the
    worker's organisation (SPA managers for the SPA) see it in their list."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Going against the safe-contact rules needs a reason.")
    return SafeContactOverride.objects.create(
        case_file=event.case_file,
        case_event=event,
        authority_id=event.case_file.authority_id,
        organisation_id=actor.organisation_id,
        service=service,
        rules=[b.code for b in breaches],
        reason=reason[:OVERRIDE_REASON_MAX],
        actor=actor,
        occurred_at=event.occurred_at,
    )
