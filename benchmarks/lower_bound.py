"""The lower bound of a return: its figures from one hand-written SQL statement (issue 17).

``make bench`` times each return next to this statement and prints the ratio; the target is
that the app's figures cost at most twice the statement's. The statement is written from the
metric definitions of domain.md §8, not from ``reporting.metrics``: one round trip, CTEs that
build each set once (the period's referrals, the supported cases and people, the completed
works) and conditional aggregates over them. ``tests/test_reporting_lower_bound.py`` holds its
figures equal to the app's, so it is also an independent recomputation of the return.

It stops where the figures stop: no suppression, no disclosure control across returns, no
charts and no layout (those are separate costs, timed by their own bench tasks), and the
few-row look-ups that are not figures (the template, its mappings and age bands are read by
the statement itself; contract budgets are arithmetic on a handful of rows and left out).

Figures come back as ``{(period code, family, category, split): value}``, the keys the app's
``Metrics.value(family, category, period, split)`` answers, plus three families of the other
sections: ``referrals_by_district`` (category: district id), ``spend_by_contract_district``
(category: "<contract id or none>:<district id>") and ``recorded_spend_by_contract``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from django.db import connections

from reporting.metrics.common import Policy
from reporting.metrics.referrals import ETHNIC_GROUPS, REFERRER_AGENCIES
from reporting.periods import Period
from safer.workdays import LOCAL_TZ

Key = tuple[str, str, str, str]

# Every CTE is evaluated once (PostgreSQL inlines a CTE referenced once and materialises one
# referenced more than once; the sets reused by several figures are MATERIALIZED explicitly).
RETURN_CTES = """
WITH params AS (
    SELECT %(authorities)s::uuid[] AS authorities, %(template)s::uuid AS template_id,
           %(tz)s::text AS tz, %(duplicates)s::text[] AS duplicate_reasons,
           %(minoritised)s::text[] AS minoritised, %(older)s::int AS older_from,
           %(young)s::int AS young_below
), periods AS (
    SELECT code, start_day, end_day, fy,
           (start_day::timestamp AT TIME ZONE %(tz)s) AS starts_at,
           ((end_day + 1)::timestamp AT TIME ZONE %(tz)s) AS ends_before
    FROM unnest(%(codes)s::text[], %(starts)s::date[], %(ends)s::date[], %(fys)s::text[])
         AS p (code, start_day, end_day, fy)
), maps AS (
    SELECT dimension, source_code, target_code FROM reporting_categorymapping
    WHERE template_id = (SELECT template_id FROM params)
), adult_bands AS (
    SELECT code, min_age, max_age, display_order FROM reporting_ageband WHERE band_set = 'adult'
),
-- Referrals of the scope's case files, each with what the figures ask of it.
refs AS MATERIALIZED (
    SELECT r.id, r.received_at, r.decided_at, r.status, r.source, r.repeat_of_id,
           r.decline_reason_id, r.referrer_agency_type, h.district_id,
           (r.status = 'declined' AND r.decline_reason_id = ANY(params.duplicate_reasons))
               AS duplicate,
           COALESCE(dr.counts_as_not_supported, FALSE) AS not_supported_reason,
           s.sex, s.ethnicity, NULLIF(s.disability, '') IS NOT NULL AS disabled,
           COALESCE(EXTRACT(YEAR FROM AGE((r.received_at AT TIME ZONE params.tz)::date,
                                          s.date_of_birth))::int, s.stated_age) AS age
    FROM referrals_referral r
    JOIN casefile_casefile cf ON cf.id = r.case_file_id
    JOIN casefile_household h ON h.id = cf.household_id
    JOIN casefile_person s ON s.id = cf.survivor_id
    LEFT JOIN referrals_declinereason dr ON dr.code = r.decline_reason_id
    CROSS JOIN params
    WHERE cf.authority_id = ANY(params.authorities)
), received AS MATERIALIZED (
    SELECT p.code AS period, refs.* FROM refs JOIN periods p
      ON refs.received_at >= p.starts_at AND refs.received_at < p.ends_before
    WHERE NOT refs.duplicate
), decided AS MATERIALIZED (
    SELECT p.code AS period, p.start_day, p.end_day, refs.* FROM refs JOIN periods p
      ON refs.decided_at >= p.starts_at AND refs.decided_at < p.ends_before
),
-- Support cases of the scope open during each period (adult and CYP in one set).
cases AS MATERIALIZED (
    SELECT p.code AS period, p.start_day, p.end_day, p.starts_at, p.ends_before, c.*
    FROM (
        SELECT a.id, TRUE AS adult, a.survivor_id AS person_id, a.household_id, a.opened_at,
               a.closed_at, a.first_contact_at, a.closure_reason_id, NULL::text AS accommodation
        FROM support_adultsupportcase a, params WHERE a.authority_id = ANY(params.authorities)
        UNION ALL
        SELECT y.id, FALSE, y.child_id, y.household_id, y.opened_at, y.closed_at,
               y.first_contact_at, y.closure_reason_id, y.accommodation_type
        FROM support_cypcase y, params WHERE y.authority_id = ANY(params.authorities)
    ) c
    JOIN periods p ON c.opened_at < p.ends_before
                  AND (c.closed_at IS NULL OR c.closed_at >= p.starts_at)
), supported_cases AS MATERIALIZED (
    SELECT * FROM cases WHERE first_contact_at < ends_before
), people AS MATERIALIZED (
    SELECT s.period, s.person_id, s.adult, s.accommodation, pe.sex, pe.is_trans, pe.ethnicity,
           pe.disability, pe.sexual_orientation, pe.no_recourse_to_public_funds,
           pe.household_role, a.age,
           CASE WHEN a.age < 18 THEN 'children'
                WHEN a.age IS NULL AND pe.household_role = 'child' THEN 'children'
                WHEN pe.is_trans THEN 'trans'
                WHEN pe.sex = 'female' THEN 'women'
                WHEN pe.sex = 'male' THEN 'men'
                ELSE 'not_recorded' END AS grp
    FROM (
        SELECT period, person_id, BOOL_OR(adult) AS adult, MIN(first_contact_at) AS first_day,
               MIN(accommodation) AS accommodation
        FROM supported_cases GROUP BY period, person_id
    ) s
    JOIN casefile_person pe ON pe.id = s.person_id
    CROSS JOIN params
    CROSS JOIN LATERAL (
        SELECT COALESCE(EXTRACT(YEAR FROM AGE((s.first_day AT TIME ZONE params.tz)::date,
                                              pe.date_of_birth))::int, pe.stated_age) AS age
    ) a
), risky AS (
    -- People recorded as survivor on any referral with a risk, once per person and risk.
    SELECT DISTINCT cf.survivor_id AS person_id, risk
    FROM referrals_referral r
    JOIN casefile_casefile cf ON cf.id = r.case_file_id
    CROSS JOIN LATERAL jsonb_array_elements_text(r.other_risks) AS risk
    WHERE jsonb_typeof(r.other_risks) = 'array'
      AND risk IN ('mental_health', 'substance_use', 'complex_needs')
      AND cf.survivor_id IN (SELECT person_id FROM people)
), flagged AS MATERIALIZED (
    SELECT people.period, people.person_id,
           people.ethnicity = ANY(params.minoritised) AS black_minoritised,
           people.disability <> '' AS disabled,
           (people.sexual_orientation IN ('gay_lesbian', 'bisexual', 'other') OR people.is_trans)
               AS lgbt,
           EXISTS (SELECT 1 FROM risky k WHERE k.person_id = people.person_id
                   AND k.risk = 'mental_health') AS mental_health,
           EXISTS (SELECT 1 FROM risky k WHERE k.person_id = people.person_id
                   AND k.risk = 'substance_use') AS substance_use,
           EXISTS (SELECT 1 FROM risky k WHERE k.person_id = people.person_id
                   AND k.risk = 'complex_needs') AS complex_needs,
           people.no_recourse_to_public_funds AS no_recourse,
           (people.grp <> 'children' AND people.age >= params.older_from) AS older,
           (people.grp <> 'children' AND people.age < params.young_below) AS young
    FROM people CROSS JOIN params
), works AS MATERIALIZED (
    -- Completed works: installed and not cancelled, by household (any authority's job).
    SELECT j.id, j.authority_id, j.household_id, j.installed_at
    FROM security_works_securityjob j
    WHERE j.installed_at IS NOT NULL AND j.status <> 'cancelled'
), households AS (
    SELECT DISTINCT sc.period, sc.household_id, FALSE AS installed, TRUE AS with_works
    FROM supported_cases sc
    WHERE EXISTS (SELECT 1 FROM works w WHERE w.household_id = sc.household_id
                  AND w.installed_at < sc.ends_before
                  AND (sc.closed_at IS NULL OR w.installed_at <= sc.closed_at))
    UNION ALL
    SELECT DISTINCT p.code, w.household_id, TRUE, FALSE
    FROM works w JOIN periods p ON w.installed_at >= p.starts_at AND w.installed_at < p.ends_before
    CROSS JOIN params WHERE w.authority_id = ANY(params.authorities)
), first_works AS MATERIALIZED (
    -- A household had completed works at a moment when its first were installed by then.
    SELECT household_id, MIN(installed_at) AS installed_at FROM works GROUP BY household_id
), ended AS (
    SELECT c.period, COALESCE(m.target_code, 'other') AS category,
           CASE WHEN f.installed_at <= c.closed_at THEN 'sanctuary' ELSE 'other' END AS split
    FROM cases c
    LEFT JOIN first_works f ON f.household_id = c.household_id
    LEFT JOIN support_closurereason cr ON cr.id = c.closure_reason_id
    LEFT JOIN maps m ON m.dimension = 'closure_reason' AND m.source_code = cr.code
    WHERE c.closed_at >= c.starts_at AND c.closed_at < c.ends_before
), support_given AS (
    -- (period, person, the return's support type): an adult's plan goal in a mapped needs
    -- area by the period's end; a child's session of a mapped function in the period.
    SELECT sc.period, sc.person_id, m.target_code
    FROM supported_cases sc
    JOIN support_supportgoal g ON g.adult_case_id = sc.id AND g.created_on <= sc.end_day
    JOIN support_needsarea n ON n.id = g.need_area_id
    JOIN maps m ON m.dimension = 'support_type' AND m.source_code = 'needs_area:' || n.code
    WHERE sc.adult
    UNION
    SELECT sc.period, sc.person_id, m.target_code
    FROM supported_cases sc
    JOIN support_cypsession x ON x.cyp_case_id = sc.id
         AND x.occurred_on BETWEEN sc.start_day AND sc.end_day
    JOIN maps m ON m.dimension = 'support_type' AND m.source_code = 'cyp_function:' || x.function
    WHERE NOT sc.adult
), spend_jobs AS (
    SELECT p.code AS period, j.id, j.district_id,
           COALESCE(j.contract_id, (
               SELECT c.id FROM organisations_contract c
               WHERE c.provider_id = j.contractor_id AND c.authority_id = j.authority_id
                 AND c.service_element = 'security'
                 AND c.start_date <= (j.installed_at AT TIME ZONE params.tz)::date
                 AND COALESCE((SELECT e.new_end_date FROM organisations_contractextension e
                               WHERE e.contract_id = c.id ORDER BY e.new_end_date DESC LIMIT 1),
                              c.end_date) >= (j.installed_at AT TIME ZONE params.tz)::date
               ORDER BY c.start_date LIMIT 1)) AS contract_id
    FROM security_works_securityjob j CROSS JOIN params
    JOIN periods p ON j.installed_at >= p.starts_at AND j.installed_at < p.ends_before
    WHERE j.authority_id = ANY(params.authorities)
)
"""

# The statement's figures, each a SELECT over the CTEs above: the statement for a template
# joins those of the families it uses with UNION ALL (a CTE no branch reads is not run).
RETURN_BRANCHES: tuple[tuple[str, str], ...] = (
    (
        "individuals",
        """
SELECT period, 'individuals', grp, '', COUNT(*) FROM people GROUP BY 1, 3
""",
    ),
    (
        "individuals",
        """
SELECT period, 'individuals', '', '', COUNT(*) FROM people GROUP BY 1
""",
    ),
    (
        "individuals_by_accommodation",
        """
SELECT period, 'individuals_by_accommodation',
       COALESCE(m.target_code, 'other'), '', COUNT(*)
FROM people LEFT JOIN maps m ON m.dimension = 'accommodation'
    AND m.source_code = CASE WHEN people.adult THEN 'sanctuary' ELSE people.accommodation END
GROUP BY 1, 3
""",
    ),
    (
        "individuals_by_accommodation",
        """
SELECT period, 'individuals_by_accommodation', '', '', COUNT(*) FROM people GROUP BY 1
""",
    ),
    (
        "individuals_by_ethnicity",
        """
SELECT period, 'individuals_by_ethnicity', COALESCE(m.target_code, 'not_known'), '', COUNT(*)
FROM people LEFT JOIN maps m ON m.dimension = 'ethnicity' AND m.source_code = people.ethnicity
GROUP BY 1, 3
""",
    ),
    (
        "individuals_by_ethnicity",
        """
SELECT period, 'individuals_by_ethnicity', '', '', COUNT(*) FROM people GROUP BY 1
""",
    ),
    (
        "individuals_by_age_adult",
        """
SELECT period, 'individuals_by_age_adult', COALESCE(b.code, 'not_known'), '', COUNT(*)
FROM people LEFT JOIN LATERAL (
    SELECT code FROM adult_bands WHERE people.age >= min_age
      AND (max_age IS NULL OR people.age <= max_age)
    ORDER BY display_order, min_age LIMIT 1) b ON TRUE
GROUP BY 1, 3
""",
    ),
    (
        "individuals_by_age_adult",
        """
SELECT period, 'individuals_by_age_adult', '', '', COUNT(*) FROM people GROUP BY 1
""",
    ),
    (
        "individuals_specialist",
        """
SELECT period, 'individuals_specialist', v.category, '', COUNT(*) FILTER (WHERE v.flag)
FROM flagged CROSS JOIN LATERAL (VALUES
    ('black_minoritised', black_minoritised), ('disabled', disabled), ('lgbt', lgbt),
    ('mental_health', mental_health), ('substance_use', substance_use),
    ('complex_needs', complex_needs), ('no_recourse', no_recourse), ('older', older),
    ('young', young),
    ('any', black_minoritised OR disabled OR lgbt OR mental_health OR substance_use
            OR complex_needs OR no_recourse OR older OR young)
) AS v (category, flag)
GROUP BY 1, 3
""",
    ),
    (
        "support_types",
        """
SELECT period, 'support_types', target_code, '', COUNT(DISTINCT person_id)
FROM support_given GROUP BY 1, 3
""",
    ),
    (
        "allocated_not_supported",
        """
SELECT sc.period, 'allocated_not_supported', '', '', COUNT(*) FROM cases sc
WHERE sc.first_contact_at IS NULL OR sc.first_contact_at >= sc.ends_before GROUP BY 1
""",
    ),
    (
        "support_ended",
        """
SELECT period, 'support_ended', category, s.split, COUNT(*)
FROM ended CROSS JOIN LATERAL (VALUES (ended.split), ('all')) AS s (split) GROUP BY 1, 3, 4
""",
    ),
    (
        "support_ended",
        """
SELECT period, 'support_ended', '', s.split, COUNT(*)
FROM ended CROSS JOIN LATERAL (VALUES (ended.split), ('all')) AS s (split) GROUP BY 1, 4
""",
    ),
    (
        "households_sanctuary",
        """
SELECT period, 'households_sanctuary', v.category, '', COUNT(DISTINCT household_id)
FROM households CROSS JOIN LATERAL (VALUES
    ('', TRUE), ('installed', installed), ('supported_with_works', with_works)) AS v (category, f)
WHERE v.f GROUP BY 1, 3
""",
    ),
    (
        "declined_by_reason",
        """
SELECT d.period, 'declined_by_reason', COALESCE(m.target_code, 'other'), '', COUNT(*)
FROM decided d LEFT JOIN maps m ON m.dimension = 'decline_reason'
    AND m.source_code = d.decline_reason_id
WHERE d.status = 'declined' GROUP BY 1, 3
""",
    ),
    (
        "not_supported",
        """
SELECT d.period, 'not_supported', COALESCE(m.target_code, 'other'), '', COUNT(*)
FROM decided d LEFT JOIN maps m ON m.dimension = 'decline_reason'
    AND m.source_code = d.decline_reason_id
WHERE d.status = 'declined' AND d.not_supported_reason GROUP BY 1, 3
""",
    ),
    (
        "not_supported",
        """
SELECT period, 'not_supported', '', '', COUNT(*) FROM decided
WHERE status = 'declined' AND not_supported_reason GROUP BY 1
""",
    ),
    (
        "referrals",
        """
SELECT period, 'referrals', v.category, '', SUM(v.n)
FROM decided CROSS JOIN LATERAL (VALUES
    ('accepted', (status = 'accepted')::int), ('declined', (status = 'declined')::int),
    ('withdrawn', (status = 'withdrawn')::int),
    ('not_supported', (status = 'declined' AND not_supported_reason)::int)
) AS v (category, n) GROUP BY 1, 3
""",
    ),
    (
        "referrals",
        """
SELECT period, 'referrals', v.category, '', SUM(v.n)
FROM received CROSS JOIN LATERAL (VALUES
    ('received', 1), ('repeat', (repeat_of_id IS NOT NULL)::int),
    ('self_referrals', (source = 'self')::int),
    ('received_female', (sex = 'female')::int), ('received_male', (sex = 'male')::int),
    ('received_sex_not_recorded', (sex IS NULL OR sex NOT IN ('female', 'male'))::int),
    ('received_disability_recorded', disabled::int),
    ('received_disability_not_recorded', (NOT disabled)::int)
) AS v (category, n) GROUP BY 1, 3
""",
    ),
    (
        "referrals",
        """
SELECT period, 'referrals', 'received_age_' || COALESCE(b.code, 'not_known'), '', COUNT(*)
FROM received LEFT JOIN LATERAL (
    SELECT code FROM adult_bands WHERE received.age >= min_age
      AND (max_age IS NULL OR received.age <= max_age)
    ORDER BY display_order, min_age LIMIT 1) b ON TRUE
GROUP BY 1, 3
""",
    ),
    (
        "referrals",
        """
SELECT period, 'referrals', 'received_ethnicity_' || COALESCE(
    (SELECT g.grp FROM unnest(%(ethnic_codes)s::text[], %(ethnic_groups)s::text[]) AS g (code, grp)
     WHERE g.code = received.ethnicity),
    CASE WHEN ethnicity = 'prefer_not' THEN 'prefer_not' ELSE 'not_known' END), '', COUNT(*)
FROM received GROUP BY 1, 3
""",
    ),
    (
        "referrals",
        """
SELECT period, 'referrals', 'received_referrer_' || CASE
    WHEN referrer_agency_type = ANY(%(agencies)s::text[]) THEN referrer_agency_type
    ELSE 'not_recorded' END, '', COUNT(*)
FROM received WHERE source <> 'self' GROUP BY 1, 3
""",
    ),
    (
        "referrals",
        """
SELECT cyp.period, 'referrals', v.category, '', v.n
FROM (SELECT r.period, COUNT(DISTINCT r.id) AS referrals, COUNT(DISTINCT c.person_id) AS children
      FROM received r JOIN referrals_referral_children_for_support c ON c.referral_id = r.id
      GROUP BY r.period) cyp
CROSS JOIN LATERAL (VALUES ('cyp_referrals', cyp.referrals), ('cyp_children', cyp.children))
    AS v (category, n)
""",
    ),
    (
        "referrals",
        """
SELECT d.period, 'referrals', 'children_routed', '', COUNT(DISTINCT c.person_id)
FROM decided d JOIN referrals_referral_routed_children c ON c.referral_id = d.id GROUP BY 1
""",
    ),
    (
        "referrals",
        """
SELECT p.code, 'referrals', v.category, '', COUNT(*) FILTER (WHERE v.f)
FROM referrals_maracreferral mr
JOIN refs ON refs.id = mr.referral_id
JOIN periods p ON mr.referred_on BETWEEN p.start_day AND p.end_day
              OR mr.heard_on BETWEEN p.start_day AND p.end_day
CROSS JOIN LATERAL (SELECT mr.heard_on BETWEEN p.start_day AND p.end_day AS heard) h
CROSS JOIN LATERAL (VALUES
    ('marac_referrals', mr.referred_on BETWEEN p.start_day AND p.end_day),
    ('marac_heard', h.heard),
    ('marac_heard_with_children', h.heard AND EXISTS (
        SELECT 1 FROM referrals_referral r JOIN casefile_casefile cf ON cf.id = r.case_file_id
        JOIN casefile_person ch ON ch.household_id = cf.household_id
        WHERE r.id = mr.referral_id AND ch.household_role = 'child' AND ch.lives_at_address))
) AS v (category, f)
GROUP BY 1, 3
""",
    ),
    (
        "referrals",
        """
SELECT p.code, 'referrals', 'advice_contacts', '', COUNT(*)
FROM referrals_advicecontact ac CROSS JOIN params
JOIN periods p ON ac.contacted_on BETWEEN p.start_day AND p.end_day
WHERE ac.authority_id = ANY(params.authorities) GROUP BY 1
""",
    ),
    (
        "commissioned_units",
        """
SELECT p.code, 'commissioned_units', COALESCE(m.target_code, 'other'), '', SUM(u.units)
FROM reporting_commissionedunits u CROSS JOIN params JOIN periods p ON u.financial_year = p.fy
LEFT JOIN maps m ON m.dimension = 'accommodation' AND m.source_code = u.accommodation_type
WHERE u.authority_id = ANY(params.authorities) GROUP BY 1, 3
""",
    ),
    (
        "commissioned_units",
        """
SELECT p.code, 'commissioned_units', '', '', SUM(u.units)
FROM reporting_commissionedunits u CROSS JOIN params JOIN periods p ON u.financial_year = p.fy
WHERE u.authority_id = ANY(params.authorities) GROUP BY 1
""",
    ),
    (
        "referrals_by_district",
        """
SELECT period, 'referrals_by_district', district_id::text, '', COUNT(*) FROM received GROUP BY 1, 3
""",
    ),
    (
        "spend_by_contract_district",
        """
SELECT sj.period, 'spend_by_contract_district',
       COALESCE(sj.contract_id::text, 'none') || ':' || sj.district_id, '', SUM(im.actual_cost)
FROM spend_jobs sj JOIN security_works_installedmeasure im ON im.job_id = sj.id GROUP BY 1, 3
""",
    ),
    (
        "recorded_spend_by_contract",
        """
SELECT p.code, 'recorded_spend_by_contract', s.contract_id::text, '', SUM(
    CASE WHEN s.period_start >= p.start_day AND s.period_end <= p.end_day THEN s.amount
         ELSE ROUND(s.amount * ((LEAST(s.period_end, p.end_day)
                                 - GREATEST(s.period_start, p.start_day)) + 1)
                    / ((s.period_end - s.period_start) + 1), 2) END)
FROM reporting_contractspend s JOIN organisations_contract c ON c.id = s.contract_id
CROSS JOIN params JOIN periods p ON s.period_start <= p.end_day AND s.period_end >= p.start_day
WHERE c.authority_id = ANY(params.authorities) GROUP BY 1, 3
""",
    ),
)


def return_periods(kind: str, period: Period) -> list[Period]:
    """The periods a return's columns show: the quarter and its year to date for the quarterly
    update, the year alone for the annual return."""
    return [period, period.year_to_date()] if kind == "quarterly_grant" else [period]


def return_figures(
    *,
    template_id: uuid.UUID,
    authority_ids: Sequence[uuid.UUID],
    periods: Sequence[Period],
    policy: Policy,
    families: Collection[str] | None = None,
    using: str = "default",
) -> dict[Key, Any]:
    """The figures of ``families`` (default: every family the statement knows) for the
    authorities and periods, from one statement."""
    branches = [sql for family, sql in RETURN_BRANCHES if families is None or family in families]
    if not branches:
        return {}
    statement = RETURN_CTES + "\nUNION ALL\n".join(branches)
    # The form's own lists (data, not a computation): ethnicity code -> ONS group, and the
    # referrer agency types.
    pairs = [(code, group) for group, members in ETHNIC_GROUPS for code in members]
    params: dict[str, Any] = {
        "authorities": list(authority_ids),
        "template": template_id,
        "tz": str(LOCAL_TZ),
        "duplicates": list(policy.duplicate_decline_reasons),
        "minoritised": list(policy.minoritised_ethnicities),
        "older": policy.older_age_from,
        "young": policy.young_age_below,
        "codes": [p.code for p in periods],
        "starts": [p.start for p in periods],
        "ends": [p.end for p in periods],
        "fys": [p.financial_year_label for p in periods],
        "ethnic_codes": [code for code, _ in pairs],
        "ethnic_groups": [group for _, group in pairs],
        "agencies": list(REFERRER_AGENCIES),
    }
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    return {
        (str(period), family, str(category), split): _number(value)
        for period, family, category, split, value in rows
    }


def _number(value: Any) -> Any:
    """Counts as ``int`` (PostgreSQL's SUM of integers is numeric), money as ``Decimal``."""
    if isinstance(value, Decimal) and int(value.as_tuple().exponent) >= 0:
        return int(value)
    return value


def template_families(template: Any) -> set[str]:
    """The families a template's sections show: its lines', and the district and spend
    sections' own."""
    families: set[str] = set()
    for section in template.sections.all():
        if section.kind == "districts":
            families.add("referrals_by_district")
        elif section.kind == "spend":
            families |= {"spend_by_contract_district", "recorded_spend_by_contract"}
        families |= {line.metric for line in section.lines.all()}
    return families


def app_return_figures(
    *, template: Any, authority_ids: Sequence[uuid.UUID], periods: Sequence[Period]
) -> dict[Key, Any]:
    """The same figures from the app (``reporting.metrics``), in ``return_figures``' keys: each
    family a line of the template uses, for each period and split of its columns, and the
    district and spend sections' figures. For the comparison; the bench times ``build_return``
    itself."""
    from reporting.metrics import Metrics, Scope
    from reporting.metrics import commissioning as commissioning_metrics
    from reporting.metrics import security as security_metrics
    from reporting.returns import template_mappings

    scope = Scope(authority_ids=tuple(authority_ids))
    metrics = Metrics(scope, mappings=template_mappings(template))
    families = sorted(
        {
            (line.metric, str(column.get("split", "")))
            for section in template.sections.all()
            for line in section.lines.all()
            for column in (section.columns or [{}])
            if not column.get("total")
        }
    )
    figures: dict[Key, Any] = {}
    for period in periods:
        for family, split in families:
            for category, value in metrics.family(family, period, split).items():
                figures[(period.code, family, category, split)] = value
            if family == "support_ended" and split:
                for category, value in metrics.family(family, period, "all").items():
                    figures[(period.code, family, category, "all")] = value
        # As ``build_return``'s district table reads them: from the period's referral pass.
        for district, n in metrics.referral_pass(period).by_district.items():
            figures[(period.code, "referrals_by_district", district, "")] = n
        for cell in security_metrics.spend_by_contract_district(scope=scope, period=period):
            category = f"{cell.contract_id or 'none'}:{cell.district_id}"
            figures[(period.code, "spend_by_contract_district", category, "")] = cell.spend
        for contract, spend in commissioning_metrics.recorded_spend_by_contract(
            scope=scope, period=period
        ).items():
            figures[(period.code, "recorded_spend_by_contract", str(contract), "")] = spend
    return figures


# --- The contract KPI report (a security contract: the kind the bench builds) -------------------

KPI_SQL = """
WITH params AS (
    SELECT %(contract)s::uuid AS contract_id, %(authority)s::uuid AS authority_id,
           %(provider)s::uuid AS provider_id, %(as_of)s::timestamptz AS as_of,
           %(tz)s::text AS tz
), contract AS (
    SELECT c.id, c.start_date,
           COALESCE((SELECT e.new_end_date FROM organisations_contractextension e
                     WHERE e.contract_id = c.id ORDER BY e.new_end_date DESC LIMIT 1),
                    c.end_date) AS current_end
    FROM organisations_contract c, params WHERE c.id = params.contract_id
), periods AS (
    SELECT code, start_day, end_day, code = ANY(%(quarters)s::text[]) AS quarter,
           (start_day::timestamp AT TIME ZONE %(tz)s) AS starts_at,
           ((end_day + 1)::timestamp AT TIME ZONE %(tz)s) AS ends_before
    FROM unnest(%(codes)s::text[], %(starts)s::date[], %(ends)s::date[])
         AS p (code, start_day, end_day)
), quarters AS (
    SELECT * FROM periods WHERE quarter
), jobs AS MATERIALIZED (
    SELECT j.* FROM security_works_securityjob j, params
    WHERE j.authority_id = params.authority_id AND j.contractor_id = params.provider_id
), clocks AS (
    SELECT 'security_make_safe' AS kpi, made_safe_at AS stop, make_safe_due_at AS due,
           cancelled_at AS ended
    FROM jobs WHERE contract_id = (SELECT contract_id FROM params) AND priority = 'emergency'
    UNION ALL
    SELECT 'security_survey', surveyed_at, survey_due_at, cancelled_at
    FROM jobs WHERE contract_id = (SELECT contract_id FROM params)
    UNION ALL
    SELECT 'security_installation', installed_at, installation_due_at, cancelled_at
    FROM jobs WHERE contract_id = (SELECT contract_id FROM params)
), live_spend AS (
    -- Measures of the contractor's jobs by the contract live on the installation day.
    SELECT j.installed_at, im.actual_cost
    FROM jobs j CROSS JOIN params
    JOIN security_works_installedmeasure im ON im.job_id = j.id
    WHERE j.installed_at IS NOT NULL AND COALESCE(j.contract_id, (
        SELECT c.id FROM organisations_contract c
        WHERE c.provider_id = j.contractor_id AND c.authority_id = j.authority_id
          AND c.service_element = 'security'
          AND c.start_date <= (j.installed_at AT TIME ZONE params.tz)::date
          AND COALESCE((SELECT e.new_end_date FROM organisations_contractextension e
                        WHERE e.contract_id = c.id ORDER BY e.new_end_date DESC LIMIT 1),
                       c.end_date) >= (j.installed_at AT TIME ZONE params.tz)::date
        ORDER BY c.start_date LIMIT 1)) = params.contract_id
)
SELECT p.code, c.kpi, v.measure, COUNT(*) FILTER (WHERE v.f)
FROM clocks c CROSS JOIN params CROSS JOIN quarters p
CROSS JOIN LATERAL (SELECT
    COALESCE(c.stop >= p.starts_at AND c.stop < p.ends_before AND c.due IS NOT NULL, FALSE)
        AS stopped_in,
    COALESCE(c.stop IS NULL AND c.due >= p.starts_at AND c.due < p.ends_before
             AND c.due < params.as_of AND (c.ended IS NULL OR c.ended > c.due), FALSE)
        AS breached) x
CROSS JOIN LATERAL (VALUES ('denominator', x.stopped_in OR x.breached),
                           ('numerator', x.stopped_in AND c.stop <= c.due)) AS v (measure, f)
GROUP BY 1, 2, 3
UNION ALL
SELECT p.code, 'security_feel_safer', v.measure, COUNT(*) FILTER (WHERE v.f)
FROM security_works_postinstallationcheck k JOIN jobs j ON j.id = k.job_id
JOIN quarters p ON k.checked_on BETWEEN p.start_day AND p.end_day
CROSS JOIN LATERAL (VALUES
    ('numerator', k.feels_safer IN ('much_safer', 'a_little_safer')),
    ('denominator', k.feels_safer <> ''), ('excluded', k.feels_safer = '')) AS v (measure, f)
WHERE j.contract_id = (SELECT contract_id FROM params)
GROUP BY 1, 2, 3
UNION ALL
SELECT p.code, 'security_spend_within_value', 'numerator', COALESCE(SUM(s.actual_cost), 0)
FROM quarters p CROSS JOIN contract
LEFT JOIN live_spend s ON s.installed_at >= p.starts_at AND s.installed_at < p.ends_before
WHERE contract.start_date <= p.end_day AND contract.current_end >= p.start_day
GROUP BY 1
UNION ALL
SELECT p.code, 'spend', 'total', COALESCE(SUM(s.actual_cost), 0)
FROM periods p
LEFT JOIN live_spend s ON s.installed_at >= p.starts_at AND s.installed_at < p.ends_before
GROUP BY 1
UNION ALL
SELECT '', 'spend', 'committed', COALESCE(SUM(sm.quantity * sm.unit_cost), 0)
FROM security_works_surveymeasure sm JOIN jobs j ON j.id = sm.job_id
LEFT JOIN security_works_costapproval v ON v.id = sm.variation_id
WHERE j.contract_id = (SELECT contract_id FROM params) AND j.installed_at IS NULL
  AND j.status NOT IN ('cancelled', 'completed')
  AND (sm.variation_id IS NULL OR v.status = 'approved')
UNION ALL
SELECT '', 'spend_by_quarter', q.label, SUM(im.actual_cost)
FROM security_works_securityjob j CROSS JOIN params
JOIN security_works_installedmeasure im ON im.job_id = j.id
CROSS JOIN LATERAL (SELECT date_trunc('quarter', j.installed_at AT TIME ZONE params.tz)::date
                    AS quarter_start) d
CROSS JOIN LATERAL (SELECT
    (EXTRACT(YEAR FROM d.quarter_start)::int
     - CASE WHEN EXTRACT(MONTH FROM d.quarter_start) >= 4 THEN 0 ELSE 1 END) AS fy) y
CROSS JOIN LATERAL (SELECT
    y.fy || '-' || lpad(((y.fy + 1) %% 100)::text, 2, '0') || ' Q'
    || ((EXTRACT(MONTH FROM d.quarter_start)::int - 4 + 12) %% 12 / 3 + 1) AS label) q
WHERE j.contract_id = params.contract_id AND j.installed_at IS NOT NULL
  AND d.quarter_start <= %(period_start)s::date
GROUP BY 1, 2, 3
"""


def kpi_periods(period: Period, contract_start: Any) -> list[Period]:
    """The distinct periods the contract KPI report shows: its quarter and the three before it
    (the trend), and the contract's start to the quarter's end (spend to date)."""
    return [*period.trailing_quarters(4), Period(contract_start, period.end, "year_to_date")]


def kpi_report_figures(
    *, contract: Any, period: Period, as_of: Any, using: str = "default"
) -> dict[tuple[str, str, str], Any]:
    """The contract KPI report's figures (security contract) from one statement, as
    ``{(period code, kpi or "spend", measure): value}``; the spend by quarter under
    ``("", "spend_by_quarter", "<year> Qn")``."""
    periods = kpi_periods(period, contract.start_date)
    params: dict[str, Any] = {
        "contract": contract.pk,
        "authority": contract.authority_id,
        "provider": contract.provider_id,
        "as_of": as_of,
        "tz": str(LOCAL_TZ),
        "codes": [p.code for p in periods],
        "starts": [p.start for p in periods],
        "ends": [p.end for p in periods],
        "period_start": period.start,
        "quarters": [p.code for p in periods if p.kind != "year_to_date"],
    }
    with connections[using].cursor() as cursor:
        cursor.execute(KPI_SQL, params)
        rows = cursor.fetchall()
    return {(str(p), kpi, measure): _number(value) for p, kpi, measure, value in rows}


def app_kpi_report_figures(
    *, contract: Any, period: Period, as_of: Any
) -> dict[tuple[str, str, str], Any]:
    """The same figures from the app: each KPI's ``kpi_value`` for every period of the report,
    and the spend table's rows (of the report the app builds)."""
    from reporting.kpi_report import build_contract_kpi_report, contract_scope, kpi_value
    from reporting.models import KpiDefinition

    scope = contract_scope(contract)
    figures: dict[tuple[str, str, str], Any] = {}
    codes = KpiDefinition.objects.filter(
        service_element=contract.service_element, is_active=True
    ).values_list("code", flat=True)
    for p in period.trailing_quarters(4):
        for code in codes:
            value = kpi_value(code, scope=scope, period=p, as_of=as_of)
            if value is None:
                continue
            figures[(p.code, code, "numerator")] = value.numerator
            if value.kind != "money":
                figures[(p.code, code, "denominator")] = value.denominator
            if value.excluded:
                figures[(p.code, code, "excluded")] = value.excluded
    document = build_contract_kpi_report(
        contract=contract,
        period=period,
        as_of=as_of,
        include_case_references=False,
        parameters=[],
    )
    spend = {row.code: row.cells[0].value for row in document.table("spend").rows}
    to_date = kpi_periods(period, contract.start_date)[-1]
    figures[(period.code, "spend", "total")] = spend["spend_quarter"]
    figures[(to_date.code, "spend", "total")] = spend["spend_to_date"]
    figures[("", "spend", "committed")] = spend["committed"]
    for row in document.table("spend_quarters").rows:
        figures[("", "spend_by_quarter", row.code)] = row.cells[0].value
    return figures
