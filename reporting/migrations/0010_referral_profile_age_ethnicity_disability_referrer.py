"""The rest of the referral profile (issue 14): referrals received by the survivor's age band
(the "adult" band set in force), ONS 2021 ethnic group, disability, and by who referred (a
self-referral is the existing "of which self-referrals" line). Each set adds up to "Referrals
received". Added at the end of the referrals section of every annual and quarterly template that
has one (the roll-forward copies them into later years), as 0009 added the lines by sex. Data
only, reversible, safe to re-run."""

from django.db import migrations

KINDS = ("annual_return", "quarterly_grant")
ETHNICITY = [
    ("asian", "Asian, Asian British or Asian Welsh"),
    ("black", "Black, Black British, Black Welsh, Caribbean or African"),
    ("mixed", "Mixed or multiple ethnic groups"),
    ("white", "White"),
    ("other", "Other ethnic group"),
    ("prefer_not", "ethnicity, prefer not to say"),
    ("not_known", "ethnicity not known"),
]
REFERRERS = [
    ("police", "the police"),
    ("idva", "an IDVA service"),
    ("housing", "housing"),
    ("social_care", "social care"),
    ("health", "health"),
    ("education", "education"),
    ("voluntary", "the voluntary sector"),
    ("other", "another agency"),
    ("not_recorded", "a professional, agency not recorded"),
]
SELF_LABEL = "Referrals received: self-referral"
FIRST_ORDER = 200  # after every line of the section (the seeded ones end below 100)


def lines(apps):
    """(line code = category of the "referrals" family, label) in display order."""
    AgeBand = apps.get_model("reporting", "AgeBand")
    result = [
        (f"received_age_{band.code}", f"Referrals received: survivor aged {band.label.lower()}")
        for band in AgeBand.objects.filter(band_set="adult").order_by("display_order", "min_age")
    ]
    result.append(("received_age_not_known", "Referrals received: survivor's age not known"))
    result += [
        (f"received_ethnicity_{code}", f"Referrals received: {label}") for code, label in ETHNICITY
    ]
    result += [
        (
            "received_disability_recorded",
            "Referrals received: a disability or access need recorded",
        ),
        (
            "received_disability_not_recorded",
            "Referrals received: no disability or access need recorded",
        ),
    ]
    # Where the section has no self-referrals line (the quarterly update), one is added: it is
    # the referrer-type set's first part.
    result.append(("self_referrals", SELF_LABEL))
    result += [
        (f"received_referrer_{code}", f"Referrals received: referred by {label}")
        for code, label in REFERRERS
    ]
    return result


def forwards(apps, schema_editor):
    ReturnSection = apps.get_model("reporting", "ReturnSection")
    ReturnLine = apps.get_model("reporting", "ReturnLine")
    new_lines = lines(apps)
    for section in ReturnSection.objects.filter(template__kind__in=KINDS, code="referrals"):
        for order, (code, label) in enumerate(new_lines, start=FIRST_ORDER):
            ReturnLine.objects.get_or_create(
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


def backwards(apps, schema_editor):
    ours = apps.get_model("reporting", "ReturnLine").objects.filter(
        section__template__kind__in=KINDS, section__code="referrals"
    )
    ours.filter(code__in=[code for code, _ in lines(apps) if code != "self_referrals"]).delete()
    ours.filter(code="self_referrals", label=SELF_LABEL).delete()  # the seeded one stays


class Migration(migrations.Migration):
    dependencies = [("reporting", "0009_referral_profile_lines")]

    operations = [migrations.RunPython(forwards, backwards)]
