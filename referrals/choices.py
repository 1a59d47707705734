"""Answer lists of the referral form. Equality categories follow ONS 2021 (domain.md §8)."""

from __future__ import annotations

from django.db import models

from safer.casefile.models import PerpetratorRelationship as _PerpetratorRelationship


class Ethnicity(models.TextChoices):
    """ONS 2021 ethnic groups: 19 categories in 5 groups, plus "prefer not" and "not known"."""

    ASIAN_BANGLADESHI = "asian_bangladeshi", "Bangladeshi"
    ASIAN_CHINESE = "asian_chinese", "Chinese"
    ASIAN_INDIAN = "asian_indian", "Indian"
    ASIAN_PAKISTANI = "asian_pakistani", "Pakistani"
    ASIAN_OTHER = "asian_other", "Any other Asian background"
    BLACK_AFRICAN = "black_african", "African"
    BLACK_CARIBBEAN = "black_caribbean", "Caribbean"
    BLACK_OTHER = "black_other", "Any other Black, Black British or Caribbean background"
    MIXED_WHITE_ASIAN = "mixed_white_asian", "White and Asian"
    MIXED_WHITE_BLACK_AFRICAN = "mixed_white_black_african", "White and Black African"
    MIXED_WHITE_BLACK_CARIBBEAN = "mixed_white_black_caribbean", "White and Black Caribbean"
    MIXED_OTHER = "mixed_other", "Any other Mixed or multiple ethnic background"
    WHITE_BRITISH = "white_british", "English, Welsh, Scottish, Northern Irish or British"
    WHITE_IRISH = "white_irish", "Irish"
    WHITE_GYPSY_TRAVELLER = "white_gypsy_traveller", "Gypsy or Irish Traveller"
    WHITE_ROMA = "white_roma", "Roma"
    WHITE_OTHER = "white_other", "Any other White background"
    OTHER_ARAB = "other_arab", "Arab"
    OTHER_ANY = "other_any", "Any other ethnic group"
    PREFER_NOT = "prefer_not", "Prefer not to say"
    NOT_KNOWN = "not_known", "Not known"


ETHNICITY_GROUPS: list[tuple[str, list[str]]] = [
    ("Asian, Asian British or Asian Welsh", ["asian_"]),
    ("Black, Black British, Black Welsh, Caribbean or African", ["black_"]),
    ("Mixed or multiple ethnic groups", ["mixed_"]),
    ("White", ["white_"]),
    ("Other ethnic group", ["other_"]),
]


def ethnicity_grouped_choices() -> list[tuple[str, object]]:
    """The ONS list as <optgroup>s, then the two answers that belong to no group."""
    grouped: list[tuple[str, object]] = [("", "Select an ethnic group")]
    for label, prefixes in ETHNICITY_GROUPS:
        options = [
            (value, name)
            for value, name in Ethnicity.choices
            if any(value.startswith(prefix) for prefix in prefixes)
        ]
        grouped.append((label, options))
    grouped += [(Ethnicity.PREFER_NOT, "Prefer not to say"), (Ethnicity.NOT_KNOWN, "Not known")]
    return grouped


class SexualOrientation(models.TextChoices):
    STRAIGHT = "straight", "Straight or heterosexual"
    GAY_LESBIAN = "gay_lesbian", "Gay or lesbian"
    BISEXUAL = "bisexual", "Bisexual"
    OTHER = "other", "Another sexual orientation"
    PREFER_NOT = "prefer_not", "Prefer not to say"
    NOT_KNOWN = "not_known", "Not known"


class Religion(models.TextChoices):
    NONE = "none", "No religion"
    CHRISTIAN = "christian", "Christian"
    BUDDHIST = "buddhist", "Buddhist"
    HINDU = "hindu", "Hindu"
    JEWISH = "jewish", "Jewish"
    MUSLIM = "muslim", "Muslim"
    SIKH = "sikh", "Sikh"
    OTHER = "other", "Any other religion"
    PREFER_NOT = "prefer_not", "Prefer not to say"
    NOT_KNOWN = "not_known", "Not known"


class YesNoUnknown(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"

    @classmethod
    def to_bool(cls, value: str | None) -> bool | None:
        if value == cls.YES:
            return True
        if value == cls.NO:
            return False
        return None


class TransStatus(models.TextChoices):
    NO = "no", "No"
    YES = "yes", "Yes"
    PREFER_NOT = "prefer_not", "Prefer not to say"


class ConsentMethod(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "By phone"
    WRITTEN = "written", "In writing or by email"
    SELF_REFERRAL = "self_referral", "The person referred themselves"
    OTHER = "other", "Another way"


# Kept on the shared case file (the core), so every page shows it by its label.
PerpetratorRelationship = _PerpetratorRelationship


class OtherRisk(models.TextChoices):
    STALKING = "stalking", "Stalking or harassment"
    HONOUR_BASED_ABUSE = "honour_based_abuse", "Honour-based abuse"
    FORCED_MARRIAGE = "forced_marriage", "Forced marriage"
    FGM = "fgm", "Female genital mutilation (FGM)"
    SUBSTANCE_USE = "substance_use", "Drug or alcohol use"
    MENTAL_HEALTH = "mental_health", "Mental health"
    COMPLEX_NEEDS = "complex_needs", "Complex or multiple needs"
