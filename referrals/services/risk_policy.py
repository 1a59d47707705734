"""Which questionnaire and policy apply to an authority."""

from __future__ import annotations

from django.db.models import Q

from referrals.models import RiskPolicy, RiskQuestionnaire
from referrals.risk import RiskRules

DASH_CODE = "dash-ric"


def risk_questionnaire_current(*, code: str = DASH_CODE) -> RiskQuestionnaire | None:
    return RiskQuestionnaire.objects.filter(code=code, is_current=True).first()


def risk_policy_for(*, authority_id: object, code: str = DASH_CODE) -> RiskPolicy | None:
    """The authority's own policy for the current questionnaire, else the default one.

    One query for the policy (the current questionnaire joined: at most one per code, by
    constraint) and one for its bands; every submission asks."""
    policies = (
        RiskPolicy.objects.filter(
            Q(authority_id=authority_id) | Q(authority__isnull=True),
            questionnaire__code=code,
            questionnaire__is_current=True,
        )
        .select_related("questionnaire")
        .prefetch_related("bands")
    )
    # Authority-specific first (NULLs sort last in ascending order in PostgreSQL).
    return policies.order_by("authority_id").first()


def risk_rules_from_policy(policy: RiskPolicy) -> RiskRules:
    return RiskRules(
        bands=[(band.min_yes, band.level) for band in policy.bands.all()],
        escalation_min_incidents=policy.escalation_min_incidents,
        escalation_min_crimes=policy.escalation_min_crimes,
        honour_based_abuse_refers=policy.honour_based_abuse_refers,
    )


def risk_rules_for(*, authority_id: object, code: str = DASH_CODE) -> RiskRules | None:
    policy = risk_policy_for(authority_id=authority_id, code=code)
    return risk_rules_from_policy(policy) if policy is not None else None
