"""Individuals supported (domain.md §8) and their breakdowns.

*Individuals supported*: distinct people with an adult or CYP support case open during the
period and with at least one recorded contact or session on or before its last day. The support
services stamp ``first_contact_at`` on a case at its first successful contact or session, so
"contacted by the period's end" is ``first_contact_at`` before the period ends. A case never
contacted is *allocated*, not supported.

Groups (each person in exactly one, so they add up to the total): *children* are under 18 on
the first day of support (their earliest first contact among the cases counted); *trans adults*
are adults whose gender identity differs from their sex registered at birth, counted only
there; then *women* and *men* by sex; anyone else is *not recorded*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least, TruncDate

from referrals.models import Referral
from reporting.metrics.common import (
    NOT_KNOWN,
    AgeOn,
    Policy,
    Scope,
    grouped_counts,
    mapped,
    with_total,
)
from reporting.models import AgeBand
from reporting.periods import Period
from safer.casefile.models import HouseholdRole, Person, Sex
from safer.workdays import LOCAL_TZ
from support.models import AdultSupportCase, CypCase, CypSession, SupportGoal

WOMEN, MEN, TRANS, CHILDREN, NOT_RECORDED = "women", "men", "trans", "children", "not_recorded"
GROUPS = (WOMEN, MEN, TRANS, CHILDREN, NOT_RECORDED)
SANCTUARY = "sanctuary"


def adult_cases_supported(scope: Scope, period: Period) -> QuerySet[AdultSupportCase]:
    return AdultSupportCase.objects.filter(
        scope.q_support(),
        period.q_open_during("opened_at", "closed_at"),
        first_contact_at__lt=period.ends_before,
    )


def cyp_cases_supported(scope: Scope, period: Period) -> QuerySet[CypCase]:
    return CypCase.objects.filter(
        scope.q_support(),
        period.q_open_during("opened_at", "closed_at"),
        first_contact_at__lt=period.ends_before,
    )


def supported_people(scope: Scope, period: Period) -> QuerySet[Person]:
    """One row per person supported, annotated with ``first_support_on``, ``age``, ``group`` and
    ``accommodation`` (their case's safe accommodation type; an adult case is a sanctuary)."""
    adult = adult_cases_supported(scope, period)
    cyp = cyp_cases_supported(scope, period)
    first_adult = Subquery(
        adult.filter(survivor=OuterRef("pk"))
        .order_by()
        .values("survivor")
        .annotate(first=Min("first_contact_at"))
        .values("first")[:1]
    )
    first_cyp = Subquery(cyp.filter(child=OuterRef("pk")).order_by().values("first_contact_at")[:1])
    return (
        Person.objects.filter(Q(pk__in=adult.values("survivor")) | Q(pk__in=cyp.values("child")))
        # PostgreSQL's LEAST ignores NULLs: a person with one kind of case gets that case's date.
        .annotate(first_support_at=Least(first_adult, first_cyp))
        .annotate(first_support_on=TruncDate("first_support_at", tzinfo=LOCAL_TZ))
        .annotate(
            age=Coalesce(
                AgeOn(F("first_support_on"), F("date_of_birth")),
                F("stated_age"),
                output_field=IntegerField(),
            )
        )
        .annotate(
            group=Case(
                When(age__lt=18, then=Value(CHILDREN)),
                When(age__isnull=True, household_role=HouseholdRole.CHILD, then=Value(CHILDREN)),
                When(is_trans=True, then=Value(TRANS)),
                When(sex=Sex.FEMALE, then=Value(WOMEN)),
                When(sex=Sex.MALE, then=Value(MEN)),
                default=Value(NOT_RECORDED),
                output_field=CharField(),
            ),
            accommodation=Case(
                When(pk__in=adult.values("survivor"), then=Value(SANCTUARY)),
                default=Subquery(
                    cyp.filter(child=OuterRef("pk")).order_by().values("accommodation_type")[:1]
                ),
                output_field=CharField(),
            ),
        )
    )


def individuals_by_group(*, scope: Scope, period: Period) -> dict[str, int]:
    counts = grouped_counts(supported_people(scope, period), "group", Count("pk"))
    return with_total({group: counts.get(group, 0) for group in GROUPS})


def individuals_by_accommodation(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    people = supported_people(scope, period).annotate(category=mapped("accommodation", mapping))
    return with_total(grouped_counts(people, "category", Count("pk")))


def individuals_by_ethnicity(
    *, scope: Scope, period: Period, mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    people = supported_people(scope, period).annotate(
        category=mapped("ethnicity", mapping, default=NOT_KNOWN)
    )
    return with_total(grouped_counts(people, "category", Count("pk")))


def age_band_expression(bands: Sequence[AgeBand]) -> Case:
    whens = [
        When(
            Q(age__gte=band.min_age)
            & (Q(age__lte=band.max_age) if band.max_age is not None else Q()),
            then=Value(band.code),
        )
        for band in bands
    ]
    return Case(*whens, default=Value(NOT_KNOWN), output_field=CharField())


def individuals_by_age_band(*, scope: Scope, period: Period, band_set: str) -> dict[str, int]:
    bands = list(AgeBand.objects.filter(band_set=band_set))
    people = supported_people(scope, period).annotate(band=age_band_expression(bands))
    counts = grouped_counts(people, "band", Count("pk"))
    return with_total({**{band.code: 0 for band in bands}, **counts})


def individuals_by_district(*, scope: Scope, period: Period) -> dict[str, int]:
    return grouped_counts(supported_people(scope, period), "household__district_id", Count("pk"))


def _with_risks(people: QuerySet[Person]) -> QuerySet[Person]:
    """Annotate the referral-level risks the referrer recorded for the person as survivor."""

    def risk(code: str) -> Exists:
        return Exists(
            Referral.objects.filter(
                case_file__survivor=OuterRef("pk"), other_risks__contains=[code]
            )
        )

    return people.annotate(
        risk_mental_health=risk("mental_health"),
        risk_substance_use=risk("substance_use"),
        risk_complex_needs=risk("complex_needs"),
    )


def specialist_conditions(policy: Policy) -> dict[str, Q]:
    """Each characteristic as a filter on ``supported_people`` (with ``_with_risks``)."""
    adult = ~Q(group=CHILDREN)
    return {
        "black_minoritised": Q(ethnicity__in=policy.minoritised_ethnicities),
        "disabled": ~Q(disability=""),
        "lgbt": Q(sexual_orientation__in=["gay_lesbian", "bisexual", "other"]) | Q(is_trans=True),
        "mental_health": Q(risk_mental_health=True),
        "substance_use": Q(risk_substance_use=True),
        "complex_needs": Q(risk_complex_needs=True),
        "no_recourse": Q(no_recourse_to_public_funds=True),
        "older": adult & Q(age__gte=policy.older_age_from),
        "young": adult & Q(age__lt=policy.young_age_below),
    }


def individuals_specialist(*, scope: Scope, period: Period, policy: Policy) -> dict[str, int]:
    """People with each specialist characteristic (a person may have several), and ``any``:
    people with at least one."""
    conditions = specialist_conditions(policy)
    any_condition = Q(pk__in=[])
    for condition in conditions.values():
        any_condition |= condition
    aggregates: dict[str, Any] = {
        code: Count("pk", filter=condition) for code, condition in conditions.items()
    }
    aggregates["any"] = Count("pk", filter=any_condition)
    result = _with_risks(supported_people(scope, period)).aggregate(**aggregates)
    return {code: int(n) for code, n in result.items()}


def support_types(*, scope: Scope, period: Period, mapping: Mapping[str, str]) -> dict[str, int]:
    """People given each type of support (a person may have several), from the mapping of
    ``needs_area:<code>`` (an adult's support-plan goal in that area) and ``cyp_function:<code>``
    (a child's session of that service function in the period) to the return's types."""
    people = supported_people(scope, period)
    adult = adult_cases_supported(scope, period)
    cyp = cyp_cases_supported(scope, period)
    by_target: dict[str, list[str]] = {}
    for source, target in mapping.items():
        by_target.setdefault(target, []).append(source)
    aggregates: dict[str, Any] = {}
    for target, sources in sorted(by_target.items()):
        areas = [s.split(":", 1)[1] for s in sources if s.startswith("needs_area:")]
        functions = [s.split(":", 1)[1] for s in sources if s.startswith("cyp_function:")]
        goals = SupportGoal.objects.filter(
            adult_case__in=adult, need_area__code__in=areas, created_on__lte=period.end
        ).values("adult_case__survivor")
        sessions = CypSession.objects.filter(
            period.q_day("occurred_on"), cyp_case__in=cyp, function__in=functions
        ).values("cyp_case__child")
        aggregates[target] = Count("pk", filter=Q(pk__in=goals) | Q(pk__in=sessions))
    if not aggregates:
        return {}
    return {code: int(n) for code, n in people.aggregate(**aggregates).items()}


def allocated_not_supported(*, scope: Scope, period: Period) -> int:
    """Cases open during the period with no contact by its end ("allocated", not supported)."""
    never = Q(first_contact_at__isnull=True) | Q(first_contact_at__gte=period.ends_before)
    open_during = period.q_open_during("opened_at", "closed_at")
    return (
        AdultSupportCase.objects.filter(scope.q_support(), open_during, never).count()
        + CypCase.objects.filter(scope.q_support(), open_during, never).count()
    )
