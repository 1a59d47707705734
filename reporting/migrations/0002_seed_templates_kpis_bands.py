"""The 2025-26 return templates (lines and category mappings), the default KPIs of domain.md §8,
the age bands and the default reporting policy — all admin-editable data.

The Part 4 return's own category lists are not published in full: the reason and support-type
categories below are SAFER's reading of the published results (domain.md §8, "configurable,
unverified"). Next year's template is a copy edited in the admin.
"""

from decimal import Decimal

from django.db import migrations

YEAR = "2025-26"

ONE = [{"code": "period", "label": "2025-26", "period": "period"}]
QUARTER_AND_YTD = [
    {"code": "period", "label": "This quarter", "period": "period"},
    {"code": "ytd", "label": "Year to date", "period": "year_to_date"},
]
ENDED_SPLIT = [
    {"code": "sanctuary", "label": "Sanctuary scheme", "period": "period", "split": "sanctuary"},
    {"code": "other", "label": "Other safe accommodation", "period": "period", "split": "other"},
    {"code": "total", "label": "Total", "period": "period", "total": True},
]

INDIVIDUAL_LINES = [
    ("women", "Women", "individuals", "women", False),
    ("men", "Men", "individuals", "men", False),
    ("trans", "Trans adults", "individuals", "trans", False),
    (
        "children",
        "Children (under 18 on the first day of support)",
        "individuals",
        "children",
        False,
    ),
    ("not_recorded", "Adults whose sex is not recorded", "individuals", "not_recorded", False),
    ("total", "Total individuals supported", "individuals", "", True),
]

ANNUAL = {
    "title": "Annual Part 4 return (safe accommodation)",
    "notes": (
        "Counts follow SAFER's metric definitions (domain reference §8). A period is the "
        "financial year, 1 April to 31 March inclusive, in UK local time. Figures leaving the "
        'council show counts of 1 to 4 as "<5"; a second cell is hidden where a total would '
        "otherwise reveal one. Reason and support-type categories are SAFER's mapping of its "
        "own categories to the return's and can be edited by an administrator."
    ),
    "sections": [
        (
            "individuals",
            "Individuals supported",
            "lines",
            ONE,
            "Distinct people with an adult or children's support case open in the year and "
            "contacted by its end.",
            INDIVIDUAL_LINES,
        ),
        (
            "accommodation",
            "Individuals supported by safe accommodation type",
            "lines",
            ONE,
            "An adult survivor's support is given in a sanctuary scheme; a child's case records the "
            "safe accommodation the child lives in.",
            [
                ("refuge", "Refuge", "individuals_by_accommodation", "refuge", False),
                (
                    "specialist",
                    "Specialist safe accommodation",
                    "individuals_by_accommodation",
                    "specialist",
                    False,
                ),
                (
                    "dispersed",
                    "Dispersed accommodation",
                    "individuals_by_accommodation",
                    "dispersed",
                    False,
                ),
                (
                    "move_on",
                    "Second stage or move-on accommodation",
                    "individuals_by_accommodation",
                    "move_on",
                    False,
                ),
                (
                    "emergency",
                    "Other domestic abuse emergency accommodation",
                    "individuals_by_accommodation",
                    "emergency",
                    False,
                ),
                (
                    "sanctuary",
                    "Sanctuary scheme",
                    "individuals_by_accommodation",
                    "sanctuary",
                    False,
                ),
                ("other", "Not recorded", "individuals_by_accommodation", "other", False),
                ("total", "Total", "individuals_by_accommodation", "", True),
            ],
        ),
        (
            "specialist",
            "Individuals with specialist characteristics",
            "lines",
            ONE,
            "A person may have several characteristics, so the lines do not add up. Complex needs "
            "are not yet recorded in SAFER.",
            [
                (
                    "black_minoritised",
                    "Black and minoritised",
                    "individuals_specialist",
                    "black_minoritised",
                    False,
                ),
                ("disabled", "Disabled", "individuals_specialist", "disabled", False),
                ("lgbt", "LGBT+", "individuals_specialist", "lgbt", False),
                (
                    "mental_health",
                    "Mental health needs",
                    "individuals_specialist",
                    "mental_health",
                    False,
                ),
                (
                    "substance_use",
                    "Substance use",
                    "individuals_specialist",
                    "substance_use",
                    False,
                ),
                (
                    "no_recourse",
                    "No recourse to public funds",
                    "individuals_specialist",
                    "no_recourse",
                    False,
                ),
                ("older", "Older people (60 and over)", "individuals_specialist", "older", False),
                ("young", "Young adults (18 to 24)", "individuals_specialist", "young", False),
                (
                    "any",
                    "At least one specialist characteristic",
                    "individuals_specialist",
                    "any",
                    False,
                ),
            ],
        ),
        (
            "not_supported",
            "Households that could not be supported",
            "lines",
            ONE,
            "Referrals declined in the year, by decision date, excluding duplicates and "
            "withdrawals.",
            [
                (
                    "ineligible",
                    "Not eligible (outside the area)",
                    "not_supported",
                    "ineligible",
                    False,
                ),
                (
                    "not_safe",
                    "Not safe to remain, or the perpetrator lives there",
                    "not_supported",
                    "not_safe",
                    False,
                ),
                (
                    "declined",
                    "Declined the service or no consent",
                    "not_supported",
                    "declined",
                    False,
                ),
                ("no_contact", "Unable to contact", "not_supported", "no_contact", False),
                (
                    "referred_elsewhere",
                    "Referred to another service",
                    "not_supported",
                    "referred_elsewhere",
                    False,
                ),
                ("other", "Other reasons", "not_supported", "other", False),
                (
                    "total",
                    "Total households that could not be supported",
                    "not_supported",
                    "",
                    True,
                ),
            ],
        ),
        (
            "support_ended",
            "Households whose support ended",
            "lines",
            ENDED_SPLIT,
            "Support cases closed in the year by reason; sanctuary when the household had "
            "completed security works when support ended.",
            [
                (
                    "no_longer_needed",
                    "No longer needed or goals met",
                    "support_ended",
                    "no_longer_needed",
                    False,
                ),
                (
                    "moved",
                    "Moved out of the area or to other accommodation",
                    "support_ended",
                    "moved",
                    False,
                ),
                (
                    "disengaged",
                    "Disengaged, declined or could not be contacted",
                    "support_ended",
                    "disengaged",
                    False,
                ),
                (
                    "perpetrator_returned",
                    "Perpetrator returned",
                    "support_ended",
                    "perpetrator_returned",
                    False,
                ),
                ("other", "Other", "support_ended", "other", False),
                ("total", "Total", "support_ended", "", True),
            ],
        ),
        (
            "sanctuary",
            "Households supported in a sanctuary scheme",
            "lines",
            ONE,
            "Distinct households with works installed in the year, or supported in the year while "
            "living with completed works.",
            [
                (
                    "installed",
                    "Works installed in the year",
                    "households_sanctuary",
                    "installed",
                    False,
                ),
                (
                    "supported_with_works",
                    "Supported while living with completed works",
                    "households_sanctuary",
                    "supported_with_works",
                    False,
                ),
                (
                    "total",
                    "Households supported in a sanctuary scheme (each counted once)",
                    "households_sanctuary",
                    "",
                    False,
                ),
            ],
        ),
        (
            "support_types",
            "Types of support given",
            "lines",
            ONE,
            "People given each type of support (a person may have several): an adult's support-"
            "plan goals by needs area, a child's sessions by service function.",
            [
                ("advocacy", "Advocacy", "support_types", "advocacy", False),
                (
                    "prevention_advice",
                    "Prevention advice and safety planning",
                    "support_types",
                    "prevention_advice",
                    False,
                ),
                (
                    "specialist_support",
                    "Specialist support (protected characteristics or complex needs)",
                    "support_types",
                    "specialist_support",
                    False,
                ),
                (
                    "childrens_support",
                    "Children's support",
                    "support_types",
                    "childrens_support",
                    False,
                ),
                (
                    "housing_related",
                    "Housing-related support",
                    "support_types",
                    "housing_related",
                    False,
                ),
                (
                    "financial_legal",
                    "Financial and legal advice",
                    "support_types",
                    "financial_legal",
                    False,
                ),
                (
                    "counselling_therapy",
                    "Counselling and therapy",
                    "support_types",
                    "counselling_therapy",
                    False,
                ),
                ("other_support", "Other support", "support_types", "other_support", False),
            ],
        ),
        (
            "ethnicity",
            "Equality: ethnicity (ONS 2021 groups)",
            "lines",
            ONE,
            "Individuals supported, by ethnic group.",
            [
                (
                    "asian",
                    "Asian, Asian British or Asian Welsh",
                    "individuals_by_ethnicity",
                    "asian",
                    False,
                ),
                (
                    "black",
                    "Black, Black British, Black Welsh, Caribbean or African",
                    "individuals_by_ethnicity",
                    "black",
                    False,
                ),
                (
                    "mixed",
                    "Mixed or multiple ethnic groups",
                    "individuals_by_ethnicity",
                    "mixed",
                    False,
                ),
                ("white", "White", "individuals_by_ethnicity", "white", False),
                ("other", "Other ethnic group", "individuals_by_ethnicity", "other", False),
                (
                    "prefer_not",
                    "Prefer not to say",
                    "individuals_by_ethnicity",
                    "prefer_not",
                    False,
                ),
                ("not_known", "Not known", "individuals_by_ethnicity", "not_known", False),
                ("total", "Total", "individuals_by_ethnicity", "", True),
            ],
        ),
        (
            "age",
            "Equality: age on the first day of support",
            "lines",
            ONE,
            "Individuals supported, by age band.",
            [
                ("under_16", "Under 16", "individuals_by_age_adult", "under_16", False),
                ("16_17", "16 to 17", "individuals_by_age_adult", "16_17", False),
                ("18_24", "18 to 24", "individuals_by_age_adult", "18_24", False),
                ("25_34", "25 to 34", "individuals_by_age_adult", "25_34", False),
                ("35_44", "35 to 44", "individuals_by_age_adult", "35_44", False),
                ("45_54", "45 to 54", "individuals_by_age_adult", "45_54", False),
                ("55_64", "55 to 64", "individuals_by_age_adult", "55_64", False),
                ("65_plus", "65 and over", "individuals_by_age_adult", "65_plus", False),
                ("not_known", "Not known", "individuals_by_age_adult", "not_known", False),
                ("total", "Total", "individuals_by_age_adult", "", True),
            ],
        ),
        (
            "referrals",
            "Referrals",
            "lines",
            ONE,
            "Referrals received by arrival (repeat referrals count again; linked duplicates do "
            "not); decisions by decision date.",
            [
                ("received", "Referrals received", "referrals", "received", False),
                ("repeat", "of which repeat referrals", "referrals", "repeat", False),
                ("self_referrals", "of which self-referrals", "referrals", "self_referrals", False),
                ("accepted", "Referrals accepted", "referrals", "accepted", False),
                ("declined", "Referrals declined", "referrals", "declined", False),
                ("withdrawn", "Referrals withdrawn", "referrals", "withdrawn", False),
                ("marac", "MARAC referrals made", "referrals", "marac_referrals", False),
            ],
        ),
        (
            "districts",
            "Referrals by district",
            "districts",
            ONE,
            "Referrals received in the year by the district chosen for the household.",
            [],
        ),
        (
            "spend",
            "Spend against the grant",
            "spend",
            ONE,
            "Actual cost of security measures installed in the year, by contract and district, "
            "against each contract's value pro-rated by days.",
            [],
        ),
    ],
}

QUARTERLY = {
    "title": "Quarterly grant update",
    "notes": (
        "Spend against the grant by service element and contract, and the number of individuals "
        "supported, for the quarter and the year to date (1 April to the quarter's last day), "
        'in UK local time. Counts of 1 to 4 are shown as "<5".'
    ),
    "sections": [
        (
            "spend",
            "Spend against the grant",
            "spend",
            QUARTER_AND_YTD,
            "Actual cost of security measures installed, by contract and district, against each "
            "contract's value pro-rated by days. Support contracts show their pro-rated value.",
            [],
        ),
        (
            "individuals",
            "Individuals supported",
            "lines",
            QUARTER_AND_YTD,
            "Distinct people with a support case open in the period and contacted by its end.",
            INDIVIDUAL_LINES,
        ),
        (
            "referrals",
            "Referrals",
            "lines",
            QUARTER_AND_YTD,
            "",
            [
                ("received", "Referrals received", "referrals", "received", False),
                ("accepted", "Referrals accepted", "referrals", "accepted", False),
                ("declined", "Referrals declined", "referrals", "declined", False),
            ],
        ),
        (
            "districts",
            "Referrals by district",
            "districts",
            QUARTER_AND_YTD,
            "Referrals received by the district chosen for the household.",
            [],
        ),
    ],
}

MAPPINGS = {
    "decline_reason": {
        "outside_area": "ineligible",
        "perpetrator_lives_at_property": "not_safe",
        "not_safe_to_remain": "not_safe",
        "no_consent": "declined",
        "survivor_declined": "declined",
        "unable_to_contact": "no_contact",
        "referred_elsewhere": "referred_elsewhere",
        "other": "other",
        "duplicate": "duplicate",
    },
    "closure_reason": {
        "no_longer_needed": "no_longer_needed",
        "moved_out_of_area": "moved",
        "moved_other_accommodation": "moved",
        "disengaged": "disengaged",
        "declined": "disengaged",
        "unable_to_contact": "disengaged",
        "perpetrator_returned": "perpetrator_returned",
        "other": "other",
    },
    "accommodation": {
        "refuge": "refuge",
        "specialist": "specialist",
        "dispersed": "dispersed",
        "move_on": "move_on",
        "emergency": "emergency",
        "sanctuary": "sanctuary",
    },
    "ethnicity": {
        **{
            code: "asian"
            for code in (
                "asian_bangladeshi",
                "asian_chinese",
                "asian_indian",
                "asian_pakistani",
                "asian_other",
            )
        },
        **{code: "black" for code in ("black_african", "black_caribbean", "black_other")},
        **{
            code: "mixed"
            for code in (
                "mixed_white_asian",
                "mixed_white_black_african",
                "mixed_white_black_caribbean",
                "mixed_other",
            )
        },
        **{
            code: "white"
            for code in (
                "white_british",
                "white_irish",
                "white_gypsy_traveller",
                "white_roma",
                "white_other",
            )
        },
        **{code: "other" for code in ("other_arab", "other_any")},
        "prefer_not": "prefer_not",
        "not_known": "not_known",
    },
    "support_type": {
        "needs_area:legal_court": "advocacy",
        "needs_area:immigration": "advocacy",
        "needs_area:safety": "prevention_advice",
        "needs_area:mental_health": "specialist_support",
        "needs_area:drugs_alcohol": "specialist_support",
        "needs_area:physical_health": "specialist_support",
        "needs_area:children_parenting": "childrens_support",
        "cyp_function:coordination": "childrens_support",
        "cyp_function:engagement": "childrens_support",
        "needs_area:housing": "housing_related",
        "needs_area:finances_benefits": "financial_legal",
        "cyp_function:therapeutic": "counselling_therapy",
        "needs_area:social_isolation": "other_support",
        "needs_area:employment_education": "other_support",
    },
}

KPIS = [
    # code, label, service element, target, lower is better, definition
    (
        "spa_triage",
        "Referrals triaged within 2 working days",
        "spa",
        "95",
        False,
        "Referrals decided (accepted or declined) in the period by their triage deadline, which "
        "skips weekends, bank holidays and days awaiting information.",
    ),
    (
        "spa_first_contact",
        "First contact attempt with the survivor within 1 working day (high risk the same day)",
        "spa",
        "95",
        False,
        "Not yet measurable: the SPA's contact attempts are not recorded as data.",
    ),
    (
        "security_make_safe",
        "Emergency make-safe within 24 hours",
        "security",
        "100",
        False,
        "Emergency jobs made safe in the period within 24 hours of allocation (plus time on hold).",
    ),
    (
        "security_survey",
        "Survey within 5 working days of allocation",
        "security",
        "90",
        False,
        "Jobs surveyed in the period by their survey deadline, or breached in the period.",
    ),
    (
        "security_installation",
        "Installation within 10 working days of survey or consent",
        "security",
        "90",
        False,
        "Jobs installed in the period by their installation deadline, or breached in the period.",
    ),
    (
        "security_feel_safer",
        "Households feeling safer at completion",
        "security",
        "90",
        False,
        "Post-installation checks in the period answering 'much' or 'a little' safer, over those "
        "who answered.",
    ),
    (
        "security_spend_within_value",
        "Spend within contract value",
        "security",
        "100",
        True,
        "Spend in the period (measures installed) as a share of the security contracts' value for "
        "the period, pro-rated by days; at or under 100% is on target.",
    ),
    (
        "adult_first_contact",
        "Adult support: contact within 2 working days of allocation",
        "adult_support",
        "90",
        False,
        "Cases first contacted in the period by their contact due day, or breached in the period.",
    ),
    (
        "adult_planned_close",
        "Adult support: closed with a planned outcome",
        "adult_support",
        "75",
        False,
        "Cases closed in the period (once allocated) with a planned ending.",
    ),
    (
        "adult_feel_safer_exit",
        "Adult support: feeling safer at exit",
        "adult_support",
        "85",
        False,
        "Cases closed in the period whose 'feeling safe' score at close is higher than at start, "
        "over cases with both scores.",
    ),
    (
        "cyp_first_contact",
        "CYP: contact within 5 working days",
        "cyp",
        "90",
        False,
        "Cases first contacted in the period by their contact due day, or breached in the period.",
    ),
    (
        "cyp_gbo_improved",
        "CYP: children with GBO improvement at exit",
        "cyp",
        "70",
        False,
        "Children whose case closed in the period whose mean goal change (end minus start, over "
        "goals with both scores) reaches the reliable-change threshold.",
    ),
    (
        "cyp_feedback",
        "CYP: children's feedback collected",
        "cyp",
        "80",
        False,
        "Children whose case closed in the period with their own feedback recorded.",
    ),
]

ADULT_BANDS = [
    ("under_16", "Under 16", 0, 15),
    ("16_17", "16 to 17", 16, 17),
    ("18_24", "18 to 24", 18, 24),
    ("25_34", "25 to 34", 25, 34),
    ("35_44", "35 to 44", 35, 44),
    ("45_54", "45 to 54", 45, 54),
    ("55_64", "55 to 64", 55, 64),
    ("65_plus", "65 and over", 65, None),
]
ONS_BANDS = [
    (f"{low}_{low + 4}", f"{low} to {low + 4}", low, low + 4) for low in range(0, 85, 5)
] + [("85_plus", "85 and over", 85, None)]


def seed(apps, schema_editor):
    ReturnTemplate = apps.get_model("reporting", "ReturnTemplate")
    ReturnSection = apps.get_model("reporting", "ReturnSection")
    ReturnLine = apps.get_model("reporting", "ReturnLine")
    CategoryMapping = apps.get_model("reporting", "CategoryMapping")
    KpiDefinition = apps.get_model("reporting", "KpiDefinition")
    AgeBand = apps.get_model("reporting", "AgeBand")
    ReportingPolicy = apps.get_model("reporting", "ReportingPolicy")

    for kind, spec in (("annual_return", ANNUAL), ("quarterly_grant", QUARTERLY)):
        template, _ = ReturnTemplate.objects.update_or_create(
            kind=kind,
            financial_year=YEAR,
            defaults={"title": spec["title"], "notes": spec["notes"]},
        )
        for s_order, (code, title, s_kind, columns, description, lines) in enumerate(
            spec["sections"], start=1
        ):
            section, _ = ReturnSection.objects.update_or_create(
                template=template,
                code=code,
                defaults={
                    "title": title,
                    "kind": s_kind,
                    "columns": columns,
                    "description": description,
                    "display_order": s_order * 10,
                },
            )
            for l_order, (l_code, label, metric, category, is_total) in enumerate(lines, start=1):
                ReturnLine.objects.update_or_create(
                    section=section,
                    code=l_code,
                    defaults={
                        "label": label,
                        "metric": metric,
                        "category": category,
                        "is_total": is_total,
                        "display_order": l_order * 10,
                    },
                )
        for dimension, pairs in MAPPINGS.items():
            for source, target in pairs.items():
                CategoryMapping.objects.update_or_create(
                    template=template,
                    dimension=dimension,
                    source_code=source,
                    defaults={"target_code": target},
                )

    for order, (code, label, element, target, lower, definition) in enumerate(KPIS, start=1):
        KpiDefinition.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "service_element": element,
                "target_percent": Decimal(target),
                "lower_is_better": lower,
                "definition": definition,
                "display_order": order * 10,
                "is_active": code != "spa_first_contact",
            },
        )
    for band_set, bands in (("adult", ADULT_BANDS), ("ons5", ONS_BANDS)):
        for order, (code, label, low, high) in enumerate(bands, start=1):
            AgeBand.objects.update_or_create(
                band_set=band_set,
                code=code,
                defaults={"label": label, "min_age": low, "max_age": high, "display_order": order},
            )
    if not ReportingPolicy.objects.filter(authority__isnull=True).exists():
        ReportingPolicy.objects.create(authority=None, duplicate_decline_reasons=["duplicate"])


def unseed(apps, schema_editor):
    apps.get_model("reporting", "ReturnTemplate").objects.filter(financial_year=YEAR).delete()
    apps.get_model("reporting", "KpiDefinition").objects.filter(
        code__in=[k[0] for k in KPIS]
    ).delete()
    apps.get_model("reporting", "AgeBand").objects.filter(band_set__in=["adult", "ons5"]).delete()
    apps.get_model("reporting", "ReportingPolicy").objects.filter(authority__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_report_runs_templates_kpis")]

    operations = [migrations.RunPython(seed, unseed)]
