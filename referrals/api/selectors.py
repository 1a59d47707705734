"""Reads for the partner API: a referral's status, for the organisation whose client sent it."""

from __future__ import annotations

from referrals.models import Referral, ReferralStatus
from referrals.selectors import referrer_status
from safer.access.seams import get_for_user_or_404
from safer.api.models import ApiClient
from safer.casefile.models import CaseStatus


def referral_get_for_client(*, client: ApiClient, referral_id: object) -> Referral:
    """A referral sent through the API by any client of the same organisation; 404 otherwise
    (the same answer for "missing" and "not yours")."""
    sent_by_organisation = Referral.objects.filter(
        referrer_user__api_client__organisation_id=client.organisation_id
    ).select_related("decline_reason", "case_file")
    return get_for_user_or_404(sent_by_organisation, referral_id)


def partner_status(referral: Referral) -> str:
    """The status a referrer may know, as a code (the portal shows the same in words)."""
    if referral.status == ReferralStatus.RECEIVED:
        return "received"
    if referral.status in (ReferralStatus.IN_TRIAGE, ReferralStatus.AWAITING_INFORMATION):
        return "in_triage"
    if referral.status == ReferralStatus.DECLINED:
        return "declined"
    if referral.status == ReferralStatus.ACCEPTED:
        return "closed" if referral.case_file.status == CaseStatus.CLOSED else "accepted"
    return "closed"  # withdrawn


def partner_status_label(referral: Referral) -> str:
    return referrer_status(referral)
