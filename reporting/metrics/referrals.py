"""Referral figures (domain.md §8): received, accepted, declined by reason, households that could
not be supported, information-and-advice-only contacts and MARAC referrals and hearings. Every
figure is one SQL aggregate."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from referrals.choices import ETHNICITY_GROUPS, Ethnicity
from referrals.models import (
    AdviceContact,
    MaracReferral,
    Referral,
    ReferralSource,
    ReferralStatus,
)
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
from safer.organisations.models import AgencyType
from safer.workdays import LOCAL_TZ

# The band set a referral's survivor is counted in (``AgeBand`` rows: data, admin-editable).
REFERRAL_AGE_BAND_SET = "adult"
# ONS 2021's five groups: (group code, the ethnicity codes in it), from the form's own list.
ETHNIC_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (
        prefixes[0].rstrip("_"),
        tuple(
            value
            for value in Ethnicity.values
            if any(value.startswith(prefix) for prefix in prefixes)
        ),
    )
    for _label, prefixes in ETHNICITY_GROUPS
)
ETHNICITY_CATEGORIES = (*(code for code, _ in ETHNIC_GROUPS), "prefer_not", NOT_KNOWN)
REFERRER_AGENCIES = tuple(value for value in AgencyType.values if value)
NOT_RECORDED = "not_recorded"


def _referrals(scope: Scope) -> QuerySet[Referral]:
    return Referral.objects.filter(scope.q_referrals())


def _duplicate(policy: Policy) -> Q:
    """A linked duplicate submission: declined with a reason the policy calls a duplicate."""
    return Q(status=ReferralStatus.DECLINED, decline_reason_id__in=policy.duplicate_decline_reasons)


def referral_totals(*, scope: Scope, period: Period, policy: Policy) -> dict[str, int]:
    """Received (repeats count again, linked duplicates do not) by arrival; decisions by date."""
    decided = period.q_moment("decided_at")
    # Bounded first by the two dates (each indexed), so a quarter reads its own referrals, not
    # the authority's every referral: each count below needs one of the two in the period.
    in_period = period.q_moment("received_at") | decided
    result = (
        _referrals(scope)
        .filter(in_period)
        .aggregate(
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
    )
    # Separate queries: joining these relations above would repeat each referral's row.
    result.update(_received_profile(scope, period, policy))
    result["children_routed"] = (
        _referrals(scope).filter(decided).aggregate(n=Count("routed_children", distinct=True))["n"]
    )
    result.update(_marac_totals(scope, period))
    result["advice_contacts"] = advice_contacts(scope=scope, period=period)
    return {key: int(value or 0) for key, value in result.items()}


def referral_flow_by_quarter(
    *, scope: Scope, quarters: list[Period], policy: Policy
) -> list[dict[str, int]]:
    """Referrals received and accepted in each of ``quarters`` (as ``referral_totals`` counts
    them), in one query over the referrals received or decided from the first quarter's start
    to the last one's end: the dashboard's trend, which needs only these two of the totals."""
    if not quarters:
        return []
    starts_at = min(q.starts_at for q in quarters)
    ends_before = max(q.ends_before for q in quarters)
    bounded = Q(received_at__gte=starts_at, received_at__lt=ends_before) | Q(
        decided_at__gte=starts_at, decided_at__lt=ends_before
    )
    aggregates = {}
    for index, quarter in enumerate(quarters):
        aggregates[f"received_{index}"] = Count(
            "pk", filter=quarter.q_moment("received_at") & ~_duplicate(policy)
        )
        aggregates[f"accepted_{index}"] = Count(
            "pk", filter=quarter.q_moment("decided_at") & Q(status=ReferralStatus.ACCEPTED)
        )
    row = _referrals(scope).filter(bounded).aggregate(**aggregates)
    return [
        {"received": int(row[f"received_{i}"] or 0), "accepted": int(row[f"accepted_{i}"] or 0)}
        for i in range(len(quarters))
    ]


def _received_profile(scope: Scope, period: Period, policy: Policy) -> dict[str, int]:
    """Referrals received by the survivor's recorded sex (female, male, and not recorded:
    "prefer not to say", "not known" or blank, so the three add up to the referrals received),
    and children-and-young-people referrals: referrals received that ask for support for one or
    more children, with the number of distinct children linked to them."""
    received = _referrals(scope).filter(period.q_moment("received_at")).exclude(_duplicate(policy))
    profile = _received_by_characteristic(received)
    by_sex = {key: profile.pop(key) for key in SEX_KEYS}
    cyp = received.filter(children_for_support__isnull=False).aggregate(
        cyp_referrals=Count("pk", distinct=True),
        cyp_children=Count("children_for_support", distinct=True),
    )
    return {**by_sex, **cyp, **profile}


SEX_KEYS = ("received_female", "received_male", "received_sex_not_recorded")


def age_band_keys() -> list[str]:
    """The keys of "referrals received by age band", in the band set's order, then not known."""
    bands = AgeBand.objects.filter(band_set=REFERRAL_AGE_BAND_SET).values_list("code", flat=True)
    return [f"received_age_{code}" for code in [*bands, NOT_KNOWN]]


def _received_by_characteristic(received: QuerySet[Referral]) -> dict[str, int]:
    """Referrals received by the survivor's sex, age band, ethnic group and disability, and by
    who referred (docs/reporting.md, "Referral profile"). Each set of keys is a partition of the
    referrals received: every referral falls in exactly one key of each, "not known" or "not
    recorded" taking whatever matches no other.

    - *sex*: female, male, or not recorded (anything else);
    - *age band*: the survivor's whole years of age on the (UK) day the referral was received,
      from their date of birth, else the age stated; bands of ``REFERRAL_AGE_BAND_SET``;
    - *ethnic group*: the ONS 2021 group of the survivor's recorded category, "prefer not to
      say", or not known (blank, "not known" or an unrecognised code);
    - *disability*: a disability or access need recorded for the survivor, or none recorded;
    - *referrer type*: a self-referral counts under ``self_referrals`` (already a line); any
      other by the referrer's agency type, or "not recorded" without one.

    One query: each referral's category in every set computed once, grouped by all five
    together (a few hundred groups at most), and each set's counts summed from the groups. Five
    queries, each joining the period's referrals to their survivors again, cost seconds each at
    a million referrals (issue 17)."""
    survivor = "case_file__survivor__"
    bands = list(AgeBand.objects.filter(band_set=REFERRAL_AGE_BAND_SET))
    age_whens = [
        When(
            Q(survivor_age__gte=band.min_age)
            & (Q() if band.max_age is None else Q(survivor_age__lte=band.max_age)),
            then=Value(band.code),
        )
        for band in bands
    ]
    ethnic_whens = [
        When(Q(**{f"{survivor}ethnicity__in": codes}), then=Value(group))
        for group, codes in ETHNIC_GROUPS
    ]
    ethnic_whens.append(When(Q(**{f"{survivor}ethnicity": "prefer_not"}), then=Value("prefer_not")))
    no_disability = Q(**{f"{survivor}disability": ""}) | Q(
        **{f"{survivor}disability__isnull": True}
    )
    categorised = received.annotate(
        survivor_age=Coalesce(
            AgeOn(TruncDate("received_at", tzinfo=LOCAL_TZ), f"{survivor}date_of_birth"),
            f"{survivor}stated_age",
            output_field=IntegerField(),
        )
    ).annotate(
        sex_category=Case(
            When(Q(**{f"{survivor}sex": Sex.FEMALE}), then=Value("received_female")),
            When(Q(**{f"{survivor}sex": Sex.MALE}), then=Value("received_male")),
            default=Value("received_sex_not_recorded"),
            output_field=CharField(),
        ),
        age_category=Case(*age_whens, default=Value(NOT_KNOWN), output_field=CharField()),
        ethnic_category=Case(*ethnic_whens, default=Value(NOT_KNOWN), output_field=CharField()),
        disability_category=Case(
            When(no_disability, then=Value("not_recorded")),
            default=Value("recorded"),
            output_field=CharField(),
        ),
        # Self-referrals are not counted by referrer type (``self_referrals`` is their line).
        referrer_category=Case(
            When(source=ReferralSource.SELF, then=Value("")),
            When(referrer_agency_type__in=REFERRER_AGENCIES, then="referrer_agency_type"),
            default=Value(NOT_RECORDED),
            output_field=CharField(),
        ),
    )
    columns = (
        "sex_category",
        "age_category",
        "ethnic_category",
        "disability_category",
        "referrer_category",
    )
    rows = categorised.order_by().values_list(*columns).annotate(n=Count("pk"))
    counts: dict[str, int] = {key: 0 for key in SEX_KEYS}
    counts.update({key: 0 for key in age_band_keys()})
    counts.update({f"received_ethnicity_{code}": 0 for code in ETHNICITY_CATEGORIES})
    counts.update({"received_disability_recorded": 0, "received_disability_not_recorded": 0})
    counts.update({f"received_referrer_{code}": 0 for code in [*REFERRER_AGENCIES, NOT_RECORDED]})
    for sex, age, ethnic, disability, referrer, n in rows:
        keys = [
            sex,
            f"received_age_{age}",
            f"received_ethnicity_{ethnic}",
            f"received_disability_{disability}",
        ]
        if referrer:
            keys.append(f"received_referrer_{referrer}")
        for key in keys:
            counts[key] = counts.get(key, 0) + n
    return counts


def _marac_totals(scope: Scope, period: Period) -> dict[str, int]:
    """MARAC referrals made in the period (by referral date), cases heard (by hearing date), and
    heard cases whose household has a child living in it (the referral's case file)."""
    children = Person.objects.filter(
        household_id=OuterRef("referral__case_file__household_id"),
        household_role=HouseholdRole.CHILD,
        lives_at_address=True,
    )
    heard = period.q_day("heard_on")
    return (
        MaracReferral.objects.filter(referral__in=_referrals(scope))
        .annotate(children_at_home=Exists(children))
        .aggregate(
            marac_referrals=Count("pk", filter=period.q_day("referred_on")),
            marac_heard=Count("pk", filter=heard),
            marac_heard_with_children=Count("pk", filter=heard & Q(children_at_home=True)),
        )
    )


def advice_contacts(*, scope: Scope, period: Period) -> int:
    """Information-and-advice-only contacts in the period (no referral made). With districts in
    the scope, only contacts recorded against one of them count (the district is optional)."""
    contacts = AdviceContact.objects.filter(
        period.q_day("contacted_on"), authority_id__in=scope.authority_ids
    )
    if scope.district_ids:
        contacts = contacts.filter(district_id__in=scope.district_ids)
    return contacts.aggregate(n=Count("pk"))["n"]


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
