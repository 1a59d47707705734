"""2025-26 templates: commissioned units, complex needs, spend by service element and contract,
and the SPA's information-and-advice contacts and MARAC cases heard; the SPA's first-contact KPI
becomes active (its contact attempts are now recorded). Data only, reversible, safe to re-run."""

from django.db import migrations

YEAR = "2025-26"
ONE = [{"code": "period", "label": "2025-26", "period": "period"}]

UNITS_SECTION = {
    "code": "commissioned_units",
    "title": "Commissioned units by safe accommodation type",
    "kind": "lines",
    "columns": ONE,
    "description": (
        "Units of safe accommodation the authority commissioned for the year, as its "
        "commissioners recorded them in SAFER. Units count places, not people, so small numbers "
        "are shown."
    ),
    "display_order": 25,  # after "Individuals supported by safe accommodation type"
}
UNITS_LINES = [
    ("refuge", "Refuge", "refuge", False),
    ("specialist", "Specialist safe accommodation", "specialist", False),
    ("dispersed", "Dispersed accommodation", "dispersed", False),
    ("move_on", "Second stage or move-on accommodation", "move_on", False),
    ("emergency", "Other domestic abuse emergency accommodation", "emergency", False),
    ("sanctuary", "Sanctuary scheme", "sanctuary", False),
    ("total", "Total units commissioned", "", True),
]

SPECIALIST_OLD = (
    "A person may have several characteristics, so the lines do not add up. Complex needs "
    "are not yet recorded in SAFER."
)
SPECIALIST_NEW = (
    "A person may have several characteristics, so the lines do not add up. Mental health, "
    "substance use and complex needs are the referrer's answers on the referral."
)

SPEND_OLD = {
    "annual_return": (
        "Actual cost of security measures installed in the year, by contract and district, "
        "against each contract's value pro-rated by days."
    ),
    "quarterly_grant": (
        "Actual cost of security measures installed, by contract and district, against each "
        "contract's value pro-rated by days. Support contracts show their pro-rated value."
    ),
}
SPEND_NEW = (
    "Spend by service element and contract, against each contract's value pro-rated by days. "
    "Property security: the actual cost of the measures installed in the period (by "
    "installation date), also by district. Single Point of Access, adult support and children "
    "and young people: the payments commissioners recorded, each counted by the days of the "
    "month or quarter it covers that fall in the period."
)

# (template kind, line code, label, category, display order)
SPA_LINES = [
    ("annual_return", "advice_contacts", "Information and advice only contacts", 65),
    ("annual_return", "marac_heard", "MARAC cases heard", 80),
    (
        "annual_return",
        "marac_heard_with_children",
        "MARAC cases heard with children in the household",
        90,
    ),
    ("quarterly_grant", "advice_contacts", "Information and advice only contacts", 40),
    ("quarterly_grant", "marac_heard", "MARAC cases heard", 50),
    (
        "quarterly_grant",
        "marac_heard_with_children",
        "MARAC cases heard with children in the household",
        60,
    ),
]

FIRST_CONTACT_OLD = "Not yet measurable: the SPA's contact attempts are not recorded as data."
FIRST_CONTACT_NEW = (
    "Referrals whose first contact attempt with the survivor, as the SPA recorded it, was made "
    "by its due time: 1 working day from receipt, the same day when the risk is high."
)


def _template(apps, kind):
    return (
        apps.get_model("reporting", "ReturnTemplate")
        .objects.filter(kind=kind, financial_year=YEAR)
        .first()
    )


def forwards(apps, schema_editor):
    ReturnSection = apps.get_model("reporting", "ReturnSection")
    ReturnLine = apps.get_model("reporting", "ReturnLine")
    annual = _template(apps, "annual_return")
    if annual is not None:
        section, _ = ReturnSection.objects.update_or_create(
            template=annual,
            code=UNITS_SECTION["code"],
            defaults={k: v for k, v in UNITS_SECTION.items() if k != "code"},
        )
        for order, (code, label, category, is_total) in enumerate(UNITS_LINES, start=1):
            ReturnLine.objects.update_or_create(
                section=section,
                code=code,
                defaults={
                    "label": label,
                    "metric": "commissioned_units",
                    "category": category,
                    "is_total": is_total,
                    "display_order": order * 10,
                },
            )
        specialist = ReturnSection.objects.filter(template=annual, code="specialist").first()
        if specialist is not None:
            specialist.description = SPECIALIST_NEW
            specialist.save(update_fields=["description"])
            ReturnLine.objects.update_or_create(
                section=specialist,
                code="complex_needs",
                defaults={
                    "label": "Complex or multiple needs",
                    "metric": "individuals_specialist",
                    "category": "complex_needs",
                    "is_total": False,
                    "display_order": 55,  # after substance use
                },
            )
    for kind in SPEND_OLD:
        template = _template(apps, kind)
        if template is None:
            continue
        ReturnSection.objects.filter(template=template, code="spend").update(description=SPEND_NEW)
    for kind, code, label, order in SPA_LINES:
        template = _template(apps, kind)
        section = (
            ReturnSection.objects.filter(template=template, code="referrals").first()
            if template
            else None
        )
        if section is None:
            continue
        ReturnLine.objects.update_or_create(
            section=section,
            code=code,
            defaults={
                "label": label,
                "metric": "referrals",
                "category": code,
                "is_total": False,
                "display_order": order,
            },
        )
    apps.get_model("reporting", "KpiDefinition").objects.filter(code="spa_first_contact").update(
        is_active=True, definition=FIRST_CONTACT_NEW
    )


def backwards(apps, schema_editor):
    ReturnSection = apps.get_model("reporting", "ReturnSection")
    ReturnLine = apps.get_model("reporting", "ReturnLine")
    annual = _template(apps, "annual_return")
    if annual is not None:
        ReturnSection.objects.filter(template=annual, code=UNITS_SECTION["code"]).delete()
        ReturnLine.objects.filter(
            section__template=annual, section__code="specialist", code="complex_needs"
        ).delete()
        ReturnSection.objects.filter(template=annual, code="specialist").update(
            description=SPECIALIST_OLD
        )
    for kind, old in SPEND_OLD.items():
        template = _template(apps, kind)
        if template is not None:
            ReturnSection.objects.filter(template=template, code="spend").update(description=old)
    for kind, code, _label, _order in SPA_LINES:
        template = _template(apps, kind)
        if template is not None:
            ReturnLine.objects.filter(
                section__template=template, section__code="referrals", code=code
            ).delete()
    apps.get_model("reporting", "KpiDefinition").objects.filter(code="spa_first_contact").update(
        is_active=False, definition=FIRST_CONTACT_OLD
    )


class Migration(migrations.Migration):
    dependencies = [("reporting", "0003_commissioning_data")]

    operations = [migrations.RunPython(forwards, backwards)]
