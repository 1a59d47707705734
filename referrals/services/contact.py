"""The SPA's attempts to reach the survivor of a referral.

The safe-contact rules come first, as for support workers' contact attempts
(``support.services.common.contact_attempt_record``): a channel or a message the rules do not
mark safe raises ``UnsafeContact`` with the warning, and the attempt is recorded only if the
worker gives a reason for going ahead (kept on the record and flagged on the timeline).
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
from safer.casefile.contact import NO_RULES, channel_warning, voicemail_warning
from safer.casefile.models import SafeContactRules


def contact_attempt_warnings(
    rules: SafeContactRules | None, *, channel: str, outcome: str
) -> list[str]:
    """What the safe-contact rules say against this attempt; empty when nothing does. The
    channels the rules name are judged by the core rule support uses too
    (``safer.casefile.contact``); the SPA's own two channels are judged here."""
    if rules is None:
        return [NO_RULES]
    warnings: list[str] = []
    if channel == SpaContactChannel.SAFE_THIRD_PARTY:
        if not rules.alternative_contact.strip():
            warnings.append("No safe third-party contact is recorded for this person.")
    elif channel == SpaContactChannel.IN_PERSON:
        warnings.append(
            "Contact in person is not one of the recorded safe ways: it may be seen by the "
            "person causing harm."
        )
    elif (warning := channel_warning(rules, channel)) is not None:
        warnings.append(warning)
    leaves_voicemail = (
        outcome == SpaContactOutcome.MESSAGE_LEFT and channel == SpaContactChannel.PHONE
    )
    voicemail = voicemail_warning(rules)
    if leaves_voicemail and voicemail:
        warnings.append(voicemail)
    return warnings


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
        warnings = contact_attempt_warnings(rules, channel=channel, outcome=outcome)
        reason = unsafe_channel_reason.strip() if warnings else ""
        if warnings and not reason:
            raise UnsafeContact(" ".join(warnings))
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
        _event(
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
        )
        return attempt
