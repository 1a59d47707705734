"""Information-and-advice-only contacts: counted, categorised, and never about a named person."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from referrals.exceptions import ReferralError
from referrals.models import (
    AdviceContact,
    AdviceMethod,
    AdviceTopic,
    CallerType,
    Signpost,
)
from safer.access.roles import SPA_ROLES, user_roles
from safer.access.scoping import user_authority_ids
from safer.accounts.models import User
from safer.audit.history import history_context
from safer.organisations.models import AgencyType, CommissioningAuthority, District

# A note must not carry contact details: an email address, or a run of 7+ digits (a phone
# number, with or without spaces). Names cannot be detected; the form's label asks for none.
_EMAIL = re.compile(r"\S+@\S+\.\S+")
_PHONE = re.compile(r"(?:\d[\s-]?){7,}")
MAX_DURATION_MINUTES = 8 * 60


@transaction.atomic
def advice_contact_record(
    *,
    user: User,
    authority: CommissioningAuthority,
    contacted_on: dt.date,
    caller_type: str,
    method: str,
    topics: Sequence[str],
    agency_type: str = "",
    signposted_to: Sequence[str] = (),
    district: District | None = None,
    duration_minutes: int | None = None,
    note: str = "",
) -> AdviceContact:
    """Record one advice-only contact for the authority (pghistory keeps who wrote it)."""
    if not user_roles(user) & SPA_ROLES or authority.pk not in user_authority_ids(user):
        raise ReferralError("You cannot record advice contacts for that area.")
    if district is not None and district.authority_id != authority.pk:
        raise ReferralError("That district is not in the chosen area.", field="district")
    if contacted_on > timezone.localdate():
        raise ReferralError("The contact date cannot be in the future.", field="contacted_on")
    if caller_type not in CallerType.values:
        raise ReferralError("Choose who contacted the SPA.", field="caller_type")
    if caller_type == CallerType.PROFESSIONAL:
        if agency_type not in AgencyType.values:
            raise ReferralError(
                "Choose the kind of agency the professional works for.", field="agency_type"
            )
    else:
        agency_type = ""
    if method not in AdviceMethod.values:
        raise ReferralError("Choose how they made contact.", field="method")
    chosen_topics = sorted(set(topics))
    if not chosen_topics:
        raise ReferralError("Choose at least one topic.", field="topics")
    if set(chosen_topics) - set(AdviceTopic.values):
        raise ReferralError("Unknown topic.", field="topics")
    signposts = sorted(set(signposted_to))
    if set(signposts) - set(Signpost.values):
        raise ReferralError("Unknown service signposted to.", field="signposted_to")
    if duration_minutes is not None and not 0 < duration_minutes <= MAX_DURATION_MINUTES:
        raise ReferralError(
            "Enter the length of the contact in minutes, up to 8 hours.", field="duration_minutes"
        )
    note = note.strip()
    if _EMAIL.search(note) or _PHONE.search(note):
        raise ReferralError(
            "Remove the contact details from the note: this record keeps none.", field="note"
        )
    with history_context(actor=user, source="advice_contact_record"):
        return AdviceContact.objects.create(
            authority=authority,
            district=district,
            contacted_on=contacted_on,
            caller_type=caller_type,
            agency_type=agency_type,
            method=method,
            topics=chosen_topics,
            signposted_to=signposts,
            duration_minutes=duration_minutes,
            note=note,
            recorded_by=user,
        )
