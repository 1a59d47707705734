"""Which values the auditor may see in the change history.

The auditor needs *who changed which field when*, not the survivor's details. So every value is
hidden unless its field is listed here: a field added to a tracked model later is hidden until
someone decides otherwise (deny by default). Listed fields are codes, flags, dates and ids that
identify nobody. Keys are model labels ("app_label.model"), so apps above the core can add
theirs without the core importing them.
"""

from __future__ import annotations

SHOWN_FIELDS: dict[str, frozenset[str]] = {
    "casefile.casefile": frozenset(
        {
            "reference",
            "authority_id",
            "household_id",
            "survivor_id",
            "status",
            "safeguarding_flag",
            "opened_at",
            "closed_at",
            "retention_until",
        }
    ),
    "casefile.household": frozenset(
        {"authority_id", "district_id", "tenure", "tenancy_holder", "created_at"}
    ),
    "casefile.person": frozenset(
        {"household_id", "household_role", "interpreter_needed", "lives_at_address", "created_at"}
    ),
    "casefile.safecontactrules": frozenset(
        {
            "case_file_id",
            "safe_channels",
            "voicemail_safe",
            "text_safe",
            "organisation_name_may_be_used",
        }
    ),
    "casefile.perpetrator": frozenset(
        {"case_file_id", "lives_at_address", "has_keys", "whereabouts_known"}
    ),
}

HIDDEN = "hidden"


def value_is_shown(*, record_type: str, field: str) -> bool:
    return field in SHOWN_FIELDS.get(record_type, frozenset())
