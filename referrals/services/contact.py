"""The SPA's attempts to reach the survivor of a referral.

The safe-contact rule comes first, as for support workers' contact attempts
(``safer.casefile.contact``): a channel, a message, a time or an answerer the rules do not mark
safe raises ``UnsafeContact`` with the warnings, and the attempt is recorded only if the worker
gives a reason for going ahead (kept on the record, shown on the timeline and listed for the
SPA managers as a ``SafeContactOverride``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from referrals.exceptions import ReferralError, UnsafeContact
from referrals.models import (
    Referral,
    ReferralContactAttempt,
    ReferralStatus,
    SpaContactChannel,
    SpaContactOutcome,
)
from referrals.services.decisions import _event, _lock
from safer.accounts.models import User
from safer.audit.history import history_context
from safer.casefile.contact import (
    IN_PERSON,
    NO_RULES,
    Code,
    RuleBreach,
    breaches_text,
    contact_check,
)
from safer.casefile.models import ContactChannel, ContactService, SafeContactRules
from safer.casefile.services import safe_contact_override_record

NO_THIRD_PARTY = "No safe third-party contact is recorded for this person."
IN_PERSON_WARNING = (
    "Contact in person is not one of the recorded safe ways: it may be seen by the person "
    "causing harm."
)


def contact_attempt_breaches(
    rules: SafeContactRules | None,
    *,
    channel: str,
    outcome: str,
    at: dt.datetime | None = None,
) -> list[RuleBreach]:
    """What the safe-contact rules say against this attempt; empty when nothing does. The core
    rule (``safer.casefile.contact.contact_check``: channel, voicemail, safe times, who may
    answer) judges it, as it does support workers' attempts; the SPA's own two channels (in
    person, the safe third party) are judged here on top."""
    if rules is None:
        return [RuleBreach(Code.NO_RULES, NO_RULES)]
    breaches: list[RuleBreach] = []
    if channel == SpaContactChannel.SAFE_THIRD_PARTY:
        if not rules.alternative_contact.strip():
            breaches.append(RuleBreach(Code.CHANNEL, NO_THIRD_PARTY))
    elif channel == SpaContactChannel.IN_PERSON:
        breaches.append(RuleBreach(Code.CHANNEL, IN_PERSON_WARNING))
    if channel in ContactChannel.values:
        channels = [channel]
    elif channel == SpaContactChannel.IN_PERSON:
        channels = [IN_PERSON]
    else:
        channels = []
    on_phone = channel == SpaContactChannel.PHONE
    breaches += contact_check(
        rules,
        channels=channels,
        at=at,
        leaves_message=on_phone and outcome == SpaContactOutcome.MESSAGE_LEFT,
        someone_else_answered=on_phone and outcome == SpaContactOutcome.SPOKE_TO_THIRD_PARTY,
    )
    return breaches


def contact_attempt_warnings(
    rules: SafeContactRules | None,
    *,
    channel: str,
    outcome: str,
    at: dt.datetime | None = None,
) -> list[str]:
    """The messages of ``contact_attempt_breaches``, for the form."""
    return [
        b.message for b in contact_attempt_breaches(rules, channel=channel, outcome=outcome, at=at)
    ]


@transaction.atomic
def referral_contact_attempt_record(
    *,
    referral: Referral,
    user: User,
    channel: str,
    outcome: str,
    attempted_at: dt.datetime | None = None,
    note: str = "",
    unsafe_channel_reason: str = "",
) -> ReferralContactAttempt:
    """Record an attempt to reach the survivor. The earliest attempt stops the first-contact
    clock (``Referral.first_contact_attempted_at``), whatever its outcome: the KPI counts the
    attempt, not its success."""
    if channel not in SpaContactChannel.values:
        raise ReferralError("Choose how you tried to make contact.")
    if outcome not in SpaContactOutcome.values:
        raise ReferralError("Choose what happened.")
    now = timezone.now()
    when = attempted_at or now
    if when > now:
        raise ReferralError("A contact attempt cannot be in the future.")
    with history_context(actor=user, source="referral_contact_attempt_record"):
        locked = _lock(referral, allowed=ReferralStatus.values, doing="contacted")
        # The form gives the time to the minute: an attempt in the minute of arrival is fine.
        if when < locked.received_at.replace(second=0, microsecond=0):
            raise ReferralError("A contact attempt cannot be before the referral arrived.")
        if locked.decided_at is not None and when > locked.decided_at:
            raise ReferralError(
                "This referral has been decided: record only attempts made before the decision. "
                "Later contact belongs to the support case."
            )
        rules = SafeContactRules.objects.filter(case_file_id=locked.case_file_id).first()
        breaches = contact_attempt_breaches(rules, channel=channel, outcome=outcome, at=when)
        reason = unsafe_channel_reason.strip() if breaches else ""
        if breaches and not reason:
            raise UnsafeContact(breaches_text(breaches))
        attempt = ReferralContactAttempt.objects.create(
            referral=locked,
            attempted_at=when,
            channel=channel,
            outcome=outcome,
            unsafe_channel_reason=reason[:300],
            note=note.strip(),
            recorded_by=user,
        )
        first = (
            locked.first_contact_attempted_at is None or when < locked.first_contact_attempted_at
        )
        if first:
            locked.first_contact_attempted_at = when
            locked.save(update_fields=["first_contact_attempted_at"])
        event = _event(
            locked,
            user,
            "referral_contact_attempt",
            f"Contact attempt ({attempt.get_channel_display().lower()}): "
            f"{attempt.get_outcome_display().lower()}"
            + (" - against the safe-contact rules, with a reason" if reason else ""),
            contact_attempt_id=str(attempt.id),
            channel=channel,
            outcome=outcome,
            first_attempt=first,
            unsafe_channel=bool(reason),
            rules_broken=[b.code for b in breaches] if reason else [],
        )
        if reason:
            safe_contact_override_record(
                event=event,
                actor=user,
                service=ContactService.SPA,
                breaches=breaches,
                reason=reason,
            )
        return attempt
