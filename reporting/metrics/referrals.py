"""Referral figures (domain.md §8): received, accepted, declined by reason, and households that
could not be supported. Every figure is one SQL aggregate."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Count, Q, QuerySet

from referrals.models import MaracReferral, Referral, ReferralStatus
from reporting.metrics.common import Policy, Scope, grouped_counts, mapped, with_total
from reporting.periods import Period


def _referrals(scope: Scope) -> QuerySet[Referral]:
    return Referral.objects.filter(scope.q_referrals())


def _duplicate(policy: Policy) -> Q:
    """A linked duplicate submission: declined with a reason the policy calls a duplicate."""
    return Q(status=ReferralStatus.DECLINED, decline_reason_id__in=policy.duplicate_decline_reasons)


def referral_totals(*, scope: Scope, period: Period, policy: Policy) -> dict[str, int]:
    """Received (repeats count again, linked duplicates do not) by arrival; decisions by date."""
    decided = period.q_moment("decided_at")
    result = _referrals(scope).aggregate(
        received=Count("pk", filter=period.q_moment("received_at") & ~_duplicate(policy)),
        repeat=Count(
            "pk",
            filter=period.q_moment("received_at")
            & ~_duplicate(policy)
            & Q(repeat_of__isnull=False),
        ),
        self_referrals=Count(
            "pk",
            filter=period.q_moment("received_at") & ~_duplicate(policy) & Q(source="self"),
        ),
        accepted=Count("pk", filter=decided & Q(status=ReferralStatus.ACCEPTED)),
        declined=Count("pk", filter=decided & Q(status=ReferralStatus.DECLINED)),
        withdrawn=Count("pk", filter=decided & Q(status=ReferralStatus.WITHDRAWN)),
        not_supported=Count(
            "pk",
            filter=decided
            & Q(status=ReferralStatus.DECLINED, decline_reason__counts_as_not_supported=True),
        ),
    )
    # Separate queries: joining these relations above would repeat each referral's row.
    result["children_routed"] = (
        _referrals(scope).filter(decided).aggregate(n=Count("routed_children", distinct=True))["n"]
    )
    result["marac_referrals"] = MaracReferral.objects.filter(
        period.q_day("referred_on"), referral__in=_referrals(scope)
    ).count()
    return {key: int(value or 0) for key, value in result.items()}


def declined_by_reason(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Every decline decided in the period, by (mapped) reason, with the total."""
    declined = _referrals(scope).filter(
        period.q_moment("decided_at"), status=ReferralStatus.DECLINED
    )
    return with_total(
        grouped_counts(
            declined.annotate(category=mapped("decline_reason_id", mapping)),
            "category",
            Count("pk"),
        )
    )


def not_supported_by_reason(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Households that could not be supported: declines in the period, by (mapped) reason,
    excluding duplicates (reasons not counted as "not supported") and withdrawals."""
    declined = _referrals(scope).filter(
        period.q_moment("decided_at"),
        status=ReferralStatus.DECLINED,
        decline_reason__counts_as_not_supported=True,
    )
    return with_total(
        grouped_counts(
            declined.annotate(category=mapped("decline_reason_id", mapping)),
            "category",
            Count("pk"),
        )
    )


def referrals_by_district(*, scope: Scope, period: Period, policy: Policy) -> dict[str, int]:
    """Referrals received per district (district id → count), for equity and suppression."""
    received = _referrals(scope).filter(period.q_moment("received_at")).exclude(_duplicate(policy))
    return grouped_counts(received, "case_file__household__district_id", Count("pk"))


def referrals_open(*, scope: Scope) -> int:
    """Referrals waiting for a decision now (the SPA's waiting list)."""
    return _referrals(scope).filter(status__in=ReferralStatus.open_values()).count()
