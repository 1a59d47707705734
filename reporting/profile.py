"""The referral profile: who the referrals received were for and who made them (issue 14).

One definition (``reporting.metrics.referrals``: the ``referrals`` family's ``received_*`` keys)
shown three ways: as lines of the quarterly and annual returns (reporting migrations 0009 and
0010), and as one small table per characteristic on the commissioner dashboard and in the SPA
contract's KPI report. Each characteristic is a partition of "referrals received": its lines add
up to it, so each table closes with that total and goes through the same small-number
suppression as every other sum (``reporting.suppression``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reporting.metrics.referrals import (
    ETHNICITY_CATEGORIES,
    NOT_RECORDED,
    REFERRAL_AGE_BAND_SET,
    REFERRER_AGENCIES,
)
from reporting.models import AgeBand
from reporting.tables import Cell, Row, Table
from safer.organisations.models import AgencyType

FAMILY = "referrals"
RECEIVED = "received"

SEX_LINES = (
    ("received_female", "Female"),
    ("received_male", "Male"),
    ("received_sex_not_recorded", "Not recorded"),
)
ETHNICITY_LABELS = {
    "asian": "Asian, Asian British or Asian Welsh",
    "black": "Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Mixed or multiple ethnic groups",
    "white": "White",
    "other": "Other ethnic group",
    "prefer_not": "Prefer not to say",
    "not_known": "Not known",
}
ETHNICITY_LINES = tuple(
    (f"received_ethnicity_{code}", ETHNICITY_LABELS[code]) for code in ETHNICITY_CATEGORIES
)
DISABILITY_LINES = (
    ("received_disability_recorded", "A disability or access need recorded"),
    ("received_disability_not_recorded", "None recorded"),
)
REFERRER_LINES = (
    ("self_referrals", "Self-referral"),
    *((f"received_referrer_{code}", str(AgencyType(code).label)) for code in REFERRER_AGENCIES),
    (f"received_referrer_{NOT_RECORDED}", "Professional, agency not recorded"),
)

# For ``reporting.disclosure.MEASURE_PARTITIONS``: referrals received = the sum of each set's
# measures, exactly (the by-sex set is there already). The age bands are data: the seeded
# "adult" band set's codes here; ``referral_profile_partitions`` reads the bands in force.
SEEDED_AGE_BAND_CODES: tuple[str, ...] = (
    "under_16",
    "16_17",
    "18_24",
    "25_34",
    "35_44",
    "45_54",
    "55_64",
    "65_plus",
)


def _measures(keys: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{FAMILY}:{key}:" for key in keys)


REFERRAL_PROFILE_PARTITIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        f"{FAMILY}:{RECEIVED}:",
        _measures([f"received_age_{code}" for code in (*SEEDED_AGE_BAND_CODES, "not_known")]),
    ),
    (f"{FAMILY}:{RECEIVED}:", _measures([key for key, _ in ETHNICITY_LINES])),
    (f"{FAMILY}:{RECEIVED}:", _measures([key for key, _ in DISABILITY_LINES])),
    (f"{FAMILY}:{RECEIVED}:", _measures([key for key, _ in REFERRER_LINES])),
)


def age_lines() -> list[tuple[str, str]]:
    """(key, label) of each age band in force, then "not known"."""
    bands = AgeBand.objects.filter(band_set=REFERRAL_AGE_BAND_SET)
    lines = [(f"received_age_{band.code}", band.label) for band in bands]
    return [*lines, ("received_age_not_known", "Not known")]


def dimensions() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(code, title, lines) of each characteristic, in the order pages show them."""
    return [
        ("sex", "Referrals received by the survivor's sex", list(SEX_LINES)),
        (
            "age",
            "Referrals received by the survivor's age on the day received",
            age_lines(),
        ),
        (
            "ethnicity",
            "Referrals received by the survivor's ethnic group (ONS 2021)",
            list(ETHNICITY_LINES),
        ),
        ("disability", "Referrals received by disability", list(DISABILITY_LINES)),
        ("referrer", "Referrals received by who referred", list(REFERRER_LINES)),
    ]


def referral_profile_partitions() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``REFERRAL_PROFILE_PARTITIONS`` with the age bands in force (and the by-sex set)."""
    return tuple(
        (f"{FAMILY}:{RECEIVED}:", _measures([key for key, _ in lines]))
        for _code, _title, lines in dimensions()
    )


def referral_profile_tables(
    totals: Mapping[str, Any], *, column: str, code_prefix: str = "profile"
) -> list[Table]:
    """One table per characteristic from one period's ``referral_totals``: a line per category
    and "Referrals received" as the total line, so a hidden small count cannot come back by
    subtraction (``suppress_table`` protects every lines-to-total sum)."""
    tables = []
    for code, title, lines in dimensions():
        rows = [Row(key, label, [Cell(int(totals.get(key, 0)))]) for key, label in lines]
        rows.append(
            Row(RECEIVED, "Referrals received", [Cell(int(totals[RECEIVED]))], is_total=True)
        )
        tables.append(
            Table(
                code=f"{code_prefix}_{code}",
                title=title,
                columns=[column],
                rows=rows,
                row_header="Category",
                additive_rows=True,
            )
        )
    return tables
