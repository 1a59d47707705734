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
    CaseStatus,
    ContactChannel,
    ContactService,
    ReferenceCounter,
    SafeContactOverride,
    SafeContactRules,
    WhoMayAnswer,
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
        # The usual case in one round trip: the year's base and the next number. ``to_regclass``
        # is NULL (and so ``nextval``) while the sequence does not exist yet, never an error.
        cursor.execute(
            f"SELECT sequence_base, CASE WHEN sequence_base IS NOT NULL "  # noqa: S608
            f"THEN nextval(to_regclass(%s)) END FROM {table} WHERE prefix = %s AND year = %s",
            [sequence, prefix, year],
        )
        row = cursor.fetchone()
        if row is not None and row[1] is not None:
            return f"{prefix}-{year}-{row[1] - row[0]:06d}"
        base = None if row is None else row[0]
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
    event = case_event_new(case_file=case_file, kind=kind, summary=summary, actor=actor, data=data)
    event.save(force_insert=True)
    return event


def case_event_new(
    *,
    case_file: CaseFile,
    kind: str,
    summary: str,
    actor: User | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """``case_event_record``'s event, not saved yet: for a caller that inserts it with its other
    new rows in one round trip (``safer.sqlbatch``), in the same transaction."""
    return CaseEvent(case_file=case_file, kind=kind, summary=summary, actor=actor, data=data or {})


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


class SafeContactRulesRefused(ValueError):
    """The new arrangements contradict themselves, or the case is closed. ``field`` names the
    form field the message belongs to ("" for the whole form)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        self.message = message
        self.field = field
        super().__init__(message)


# What each part of the arrangements is called on the case timeline (read by every service on
# the case, so it names what changed, never the new number, address or words).
SAFE_CONTACT_PARTS = {
    "phone": "safe phone number",
    "email": "safe email address",
    "safe_channels": "safe ways to make contact",
    "voicemail_safe": "voicemail",
    "text_safe": "text messages",
    "safe_times": "safe times",
    "who_may_answer": "who may answer",
    "alternative_contact": "safe alternative contact",
    "organisation_name_may_be_used": "saying the organisation's name",
    "notes": "notes",
}


@transaction.atomic
def safe_contact_rules_update(
    *,
    case_file: CaseFile,
    actor: User,
    expected_version: int | None,
    phone: str,
    email: str,
    safe_channels: Sequence[str],
    voicemail_safe: bool,
    text_safe: bool,
    safe_times: str,
    who_may_answer: str,
    alternative_contact: str,
    organisation_name_may_be_used: bool,
    notes: str,
) -> SafeContactRules:
    """Change how the survivor may be contacted (they changed phone, the person causing harm
    found the email, the safe times moved). Every contact path reads these rules, so the change
    holds for the SPA, support workers and contractors from the moment it commits.

    Optimistic locking: ``expected_version`` is the version the editor read (``EditConflict``
    when someone saved since). The timeline records which parts changed, without their values;
    the history table (pghistory) keeps old and new values for the audit trail.
    """
    from safer.casefile.contact import safe_times_fields

    locked_case = CaseFile.objects.select_for_update(of=("self",)).get(pk=case_file.pk)
    if locked_case.status == CaseStatus.CLOSED:
        raise SafeContactRulesRefused(
            "This case is closed: its safe-contact arrangements can no longer be changed."
        )
    channels = [c for c in dict.fromkeys(safe_channels) if c in ContactChannel.values]
    # Text messages are safe only when the survivor said so; the flag and the channel agree.
    channels = [c for c in channels if c != ContactChannel.TEXT]
    if text_safe:
        channels.append(ContactChannel.TEXT)
    phone, email = phone.strip(), email.strip()
    if ContactChannel.PHONE in channels and not phone:
        raise SafeContactRulesRefused("Enter the safe phone number", field="phone")
    if text_safe and not phone:
        raise SafeContactRulesRefused(
            "Enter the safe phone number for text messages", field="phone"
        )
    if ContactChannel.EMAIL in channels and not email:
        raise SafeContactRulesRefused("Enter the safe email address", field="email")
    if who_may_answer not in WhoMayAnswer.values:
        raise SafeContactRulesRefused("Select who may answer", field="who_may_answer")
    values: dict[str, Any] = {
        "phone": phone,
        "email": email,
        "safe_channels": channels,
        "voicemail_safe": voicemail_safe,
        "text_safe": text_safe,
        "safe_times": safe_times.strip(),
        "who_may_answer": who_may_answer,
        "alternative_contact": alternative_contact.strip(),
        "organisation_name_may_be_used": organisation_name_may_be_used,
        "notes": notes.strip(),
    }
    rules = SafeContactRules.objects.select_for_update().filter(case_file=locked_case).first()
    if rules is None:
        rules = SafeContactRules.objects.create(case_file=locked_case, **values)
        changed = list(SAFE_CONTACT_PARTS)
        version_claim(rules, expected=None, by=actor)
    else:
        changed = [
            name
            for name, value in values.items()
            if (sorted(value) if name == "safe_channels" else value)
            != (sorted(getattr(rules, name)) if name == "safe_channels" else getattr(rules, name))
        ]
        if not changed:  # saved as it stands: nothing to claim or record
            return rules
        version_claim(rules, expected=expected_version, by=actor)
        for name, value in values.items():
            setattr(rules, name, value)
    for name, value in safe_times_fields(rules.safe_times).items():
        setattr(rules, name, value)
    rules.save()
    case_event_record(
        case_file=locked_case,
        kind="safe_contact_changed",
        summary="Safe-contact arrangements changed: "
        + ", ".join(SAFE_CONTACT_PARTS[name] for name in changed),
        actor=actor,
        data={"changed": changed},
    )
    return rules
