"""Which questionnaire and policy apply to an authority."""

from __future__ import annotations

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q

from referrals.models import RiskPolicy, RiskQuestionnaire
from referrals.risk import RiskRules
from safer import refdata

DASH_CODE = "dash-ric"
RISK_RULES = "risk_rules"  # their reference data name (``safer.refdata``; tracked in apps.py)


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
    """``risk_rules_from_policy(risk_policy_for(…))`` in one query: the bands aggregated onto
    the policy's row rather than prefetched (every submission asks, issue 17)."""
    row = (
        RiskPolicy.objects.filter(
            Q(authority_id=authority_id) | Q(authority__isnull=True),
            questionnaire__code=code,
            questionnaire__is_current=True,
        )
        .annotate(
            band_min_yes=ArrayAgg("bands__min_yes", order_by="bands__min_yes", default=[]),
            band_level=ArrayAgg("bands__level", order_by="bands__min_yes", default=[]),
        )
        .order_by("authority_id")  # the authority's own first (NULLs sort last)
        .values(
            "band_min_yes",
            "band_level",
            "escalation_min_incidents",
            "escalation_min_crimes",
            "honour_based_abuse_refers",
        )
        .first()
    )
    if row is None:
        return None
    return RiskRules(
        bands=tuple(
            (min_yes, level)
            for min_yes, level in zip(row["band_min_yes"], row["band_level"], strict=True)
            if min_yes is not None
        ),
        escalation_min_incidents=row["escalation_min_incidents"],
        escalation_min_crimes=row["escalation_min_crimes"],
        honour_based_abuse_refers=row["honour_based_abuse_refers"],
    )


def risk_rules_cached(*, authority_id: object, code: str = DASH_CODE) -> RiskRules | None:
    """``risk_rules_for``, kept per process between requests (``safer.refdata``, ADR 0014):
    every submission asks (issue 17). ``RiskRules`` is frozen; its bands are a tuple."""
    return refdata.cached(
        RISK_RULES,
        (str(authority_id), code),
        lambda: risk_rules_for(authority_id=authority_id, code=code),
    )
