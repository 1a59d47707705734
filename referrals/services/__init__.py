"""Writes of the SPA. Import from the submodules; this package re-exports the public services."""

from referrals.services.advice import advice_contact_record
from referrals.services.contact import referral_contact_attempt_record
from referrals.services.decisions import (
    referral_accept,
    referral_decline,
    referral_eligibility_record,
    referral_information_received,
    referral_request_information,
    referral_triage_start,
    referral_withdraw,
)
from referrals.services.matching import referral_match_resolve, referral_matches_find
from referrals.services.risk import (
    marac_hearing_record,
    marac_referral_record,
    risk_assessment_record,
)
from referrals.services.submit import (
    ConsentDetails,
    ReferralSubmission,
    ReferrerDetails,
    RiskReport,
    ServiceRequest,
    referral_submit,
)

__all__ = [
    "ConsentDetails",
    "ReferralSubmission",
    "ReferrerDetails",
    "RiskReport",
    "ServiceRequest",
    "advice_contact_record",
    "marac_hearing_record",
    "marac_referral_record",
    "referral_accept",
    "referral_contact_attempt_record",
    "referral_decline",
    "referral_eligibility_record",
    "referral_information_received",
    "referral_match_resolve",
    "referral_matches_find",
    "referral_request_information",
    "referral_submit",
    "referral_triage_start",
    "referral_withdraw",
    "risk_assessment_record",
]
