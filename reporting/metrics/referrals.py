"""Referral figures (domain.md §8): received, accepted, declined by reason, households that could
not be supported, information-and-advice-only contacts and MARAC referrals and hearings. Every
figure is one SQL aggregate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
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
    OTHER,
    REFERRAL_PASS_WORK_MEM,
    AgeOn,
    Policy,
    Scope,
    age_band_case,
    aggregate_plan,
    flag,
    grouped_counts,
    mapped,
    read_alias,
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
    """Received (repeats count again, linked duplicates do not) by arrival; decisions by date.
    The referral lines of a return, from one pass over the period's referrals
    (``referral_pass``) and the MARAC referrals and advice contacts of the period."""
    return referral_pass(scope=scope, period=period, policy=policy).totals


@dataclass(frozen=True)
class ReferralPass:
    """What one grouped pass over a period's referrals gives: the referral lines (``totals``),
    the declines decided in the period by reason code, all (``declined``) and those the reason
    counts as "not supported" (``not_supported``), and the referrals received by district."""

    totals: dict[str, int]
    declined: dict[str | None, int]
    not_supported: dict[str | None, int]
    by_district: dict[str, int]

    def declined_by_reason(self, mapping: Mapping[str, str] | None = None) -> dict[str, int]:
        """``declined_by_reason`` from the pass."""
        return with_total(_mapped_counts(self.declined, mapping))

    def not_supported_by_reason(self, mapping: Mapping[str, str] | None = None) -> dict[str, int]:
        """``not_supported_by_reason`` from the pass."""
        return with_total(_mapped_counts(self.not_supported, mapping))


def _mapped_counts(
    counts: Mapping[str | None, int], mapping: Mapping[str, str] | None
) -> dict[str, int]:
    """``common.mapped`` over counts by code, in Python: without a mapping the code itself
    (blank or None: ``not_known``), with one the code's target (unmapped or None: ``other``)."""
    result: dict[str, int] = {}
    for code, n in counts.items():
        if mapping is None:
            category = code or NOT_KNOWN
        else:
            category = mapping.get(code, OTHER) if code is not None else OTHER
        result[category] = result.get(category, 0) + n
    return result


# The pass's grouping sets, by the columns each groups on (``received`` and ``decided`` are the
# referral's part in the period's figures): the decision and arrival lines, the referral profile
# of the referrals received, and the referrals received by district.
_DECISIONS = (
    "received",
    "decided",
    "repeat",
    "self_referred",
    "status",
    "reason_code",
    "not_supported",
)
_PROFILE = ("received", *(f"{c}_category" for c in ("sex", "age", "ethnic", "disability")))
_PROFILE += ("referrer_category",)
_DISTRICT = ("received", "district")
_PASS_COLUMNS = tuple(dict.fromkeys((*_DECISIONS, *_PROFILE, *_DISTRICT)))
# What the ORM selects: the age, from which ``_GROUPED_SQL`` derives ``age_category``.
_RAW_COLUMNS = tuple("survivor_age" if c == "age_category" else c for c in _PASS_COLUMNS)

# Each referral's survivor's age is computed once, in ``raw``, and its band chosen from that
# column in ``refs`` (inlined where it is read): as one ORM ``Case`` the age was computed again in
# every band's test, up to ten times a referral (about 1 µs each; seconds for a year at a
# million referrals; issue 17).
_GROUPED_SQL = """
WITH raw (id, {raw_columns}) AS MATERIALIZED ({refs}),
refs AS NOT MATERIALIZED (SELECT raw.*, {age_case} AS age_category FROM raw),
cyp AS (
    SELECT COUNT(DISTINCT c.referral_id) AS referrals, COUNT(DISTINCT c.person_id) AS children
    FROM {cyp_table} c JOIN refs ON refs.id = c.referral_id WHERE refs.received
), routed AS (
    SELECT COUNT(DISTINCT c.person_id) AS children
    FROM {routed_table} c JOIN refs ON refs.id = c.referral_id WHERE refs.decided
)
SELECT GROUPING({columns}), {columns}, COUNT(*),
       (SELECT referrals FROM cyp), (SELECT children FROM cyp), (SELECT children FROM routed)
FROM refs
GROUP BY GROUPING SETS (({decisions}), ({profile}), ({district}))
"""


def referral_pass(*, scope: Scope, period: Period, policy: Policy) -> ReferralPass:
    """The period's referrals read once (issue 17): each referral received or decided in the
    period, with what every figure asks of it (its part in the period, decision, reason, the
    survivor's categories, district), counted by ``GROUPING SETS`` in one statement, with the
    children linked to those received or decided; then the MARAC referrals and advice
    contacts of the period (their own tables). Reading the referrals once per figure (the
    totals, the profile, the children twice, the declines twice, the districts) was seconds
    each at a million referrals."""
    received = period.q_moment("received_at") & ~_duplicate(policy)
    decided = period.q_moment("decided_at")
    # Bounded first by the two dates (each indexed), so a quarter reads its own referrals, not
    # the authority's every referral: each count below needs one of the two in the period.
    refs = _categorised(
        _referrals(scope).filter(period.q_moment("received_at") | decided)
    ).annotate(
        received=flag(received),
        decided=flag(decided),
        repeat=flag(Q(repeat_of__isnull=False)),
        self_referred=flag(Q(source=ReferralSource.SELF)),
        not_supported=flag(Q(decline_reason__counts_as_not_supported=True)),
        reason_code=F("decline_reason_id"),
        district=F("case_file__household__district_id"),
    )
    refs_sql, refs_params = refs.order_by().values_list("pk", *_RAW_COLUMNS).query.sql_with_params()
    age_case, age_params = age_band_case(
        list(AgeBand.objects.filter(band_set=REFERRAL_AGE_BAND_SET)), "survivor_age"
    )
    m2m = Referral._meta
    sql = _GROUPED_SQL.format(
        refs=refs_sql,
        raw_columns=", ".join(_RAW_COLUMNS),
        age_case=age_case,
        columns=", ".join(_PASS_COLUMNS),
        decisions=", ".join(_DECISIONS),
        profile=", ".join(_PROFILE),
        district=", ".join(_DISTRICT),
        cyp_table=_m2m_table(m2m.get_field("children_for_support")),
        routed_table=_m2m_table(m2m.get_field("routed_children")),
    )
    using = read_alias(Referral)  # the replica when there is one (ADR 0013)
    with (
        aggregate_plan(using, work_mem=REFERRAL_PASS_WORK_MEM),
        connections[using].cursor() as cursor,
    ):
        cursor.execute(sql, [*refs_params, *age_params])
        rows = cursor.fetchall()
    counts = {
        key: 0
        for key in (
            "received",
            "repeat",
            "self_referrals",
            "accepted",
            "declined",
            "withdrawn",
            "not_supported",
        )
    }
    profile: list[tuple[Any, ...]] = []
    declined: dict[str | None, int] = {}
    not_supported: dict[str | None, int] = {}
    by_district: dict[str, int] = {}
    # The children's counts (uncorrelated sub-queries, evaluated once) end every row.
    cyp_referrals, cyp_children, children_routed = rows[0][-3:] if rows else (0, 0, 0)
    for grouping, *values, n in (row[:-3] for row in rows):
        row = dict(zip(_PASS_COLUMNS, values, strict=True))
        if grouping == _grouping_bits(_DECISIONS):
            if row["received"]:
                counts["received"] += n
                counts["repeat"] += n if row["repeat"] else 0
                counts["self_referrals"] += n if row["self_referred"] else 0
            if row["decided"]:
                status = row["status"]
                if status == ReferralStatus.ACCEPTED:
                    counts["accepted"] += n
                elif status == ReferralStatus.WITHDRAWN:
                    counts["withdrawn"] += n
                elif status == ReferralStatus.DECLINED:
                    counts["declined"] += n
                    reason = row["reason_code"]
                    declined[reason] = declined.get(reason, 0) + n
                    if row["not_supported"]:
                        counts["not_supported"] += n
                        not_supported[reason] = not_supported.get(reason, 0) + n
        elif grouping == _grouping_bits(_PROFILE):
            if row["received"]:
                profile.append((*(row[c] for c in _PROFILE[1:]), n))
        elif row["received"]:  # by district (a NULL district as "None", as grouped_counts)
            by_district[str(row["district"])] = by_district.get(str(row["district"]), 0) + n
    by_characteristic = _profile_counts(profile)
    result: dict[str, int] = {**counts}
    result.update({key: by_characteristic.pop(key) for key in SEX_KEYS})
    result.update(cyp_referrals=cyp_referrals, cyp_children=cyp_children)
    result.update(by_characteristic)
    result["children_routed"] = children_routed
    result.update(_marac_totals(scope, period))
    result["advice_contacts"] = advice_contacts(scope=scope, period=period)
    totals = {key: int(value or 0) for key, value in result.items()}
    return ReferralPass(totals, declined, not_supported, by_district)


def _m2m_table(field: Any) -> str:
    return str(field.remote_field.through._meta.db_table)


def _grouping_bits(columns: tuple[str, ...]) -> int:
    """``GROUPING(<every pass column>)`` of a set grouped on ``columns``: a bit per column (the
    first the highest), set where the column is not grouped on."""
    bits = 0
    for column in _PASS_COLUMNS:
        bits = (bits << 1) | (column not in columns)
    return bits


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


SEX_KEYS = ("received_female", "received_male", "received_sex_not_recorded")


def age_band_keys() -> list[str]:
    """The keys of "referrals received by age band", in the band set's order, then not known."""
    bands = AgeBand.objects.filter(band_set=REFERRAL_AGE_BAND_SET).values_list("code", flat=True)
    return [f"received_age_{code}" for code in [*bands, NOT_KNOWN]]


def _categorised(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """Referrals annotated with their category in each set of the referral profile
    (docs/reporting.md, "Referral profile"). Each set of keys is a partition of the referrals
    received: every referral falls in exactly one key of each, "not known" or "not recorded"
    taking whatever matches no other.

    - *sex*: female, male, or not recorded (anything else);
    - *age band*: the survivor's whole years of age on the (UK) day the referral was received,
      from their date of birth, else the age stated (annotated as ``survivor_age``); its band
      of ``REFERRAL_AGE_BAND_SET`` is chosen in SQL by ``common.age_band_case``;
    - *ethnic group*: the ONS 2021 group of the survivor's recorded category, "prefer not to
      say", or not known (blank, "not known" or an unrecognised code);
    - *disability*: a disability or access need recorded for the survivor, or none recorded;
    - *referrer type*: a self-referral counts under ``self_referrals`` (already a line); any
      other by the referrer's agency type, or "not recorded" without one.

    Each referral's category in every set is computed once and counted in the grouped pass
    (``referral_pass``), grouped by all five together (a few hundred groups at most), and each
    set's counts summed from the groups (``_profile_counts``)."""
    survivor = "case_file__survivor__"
    ethnic_whens = [
        When(Q(**{f"{survivor}ethnicity__in": codes}), then=Value(group))
        for group, codes in ETHNIC_GROUPS
    ]
    ethnic_whens.append(When(Q(**{f"{survivor}ethnicity": "prefer_not"}), then=Value("prefer_not")))
    no_disability = Q(**{f"{survivor}disability": ""}) | Q(
        **{f"{survivor}disability__isnull": True}
    )
    return referrals.annotate(
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


def _profile_counts(rows: list[tuple[Any, ...]]) -> dict[str, int]:
    """The referral profile's counts from the referrals received grouped by their five
    categories (sex, age, ethnic group, disability, referrer): each set's counts summed from
    the groups, every key of every set present."""
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
    # Bounded by the two dates first: each count needs one of them in the period.
    return (
        MaracReferral.objects.filter(period.q_day("referred_on") | heard)
        .filter(referral__in=_referrals(scope))
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
