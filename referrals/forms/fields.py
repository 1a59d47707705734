"""Form fields in the GOV.UK Design System's patterns (date input, yes/no); the postcode field
is the core's (``safer.validation``)."""

from __future__ import annotations

from django import forms

from safer.forms import MONTHS, DateInputWidget, GovukDateField
from safer.validation import UKPostcodeField, postcode_normalise, postcode_outward

YES_NO = [("yes", "Yes"), ("no", "No")]
YES_NO_UNKNOWN = [("yes", "Yes"), ("no", "No"), ("not_known", "Not known")]


# The postcode rules live in the core, shared by every form that takes an address.
__all__ = [
    "MONTHS",
    "DateInputWidget",
    "GovukDateField",
    "UKPostcodeField",
    "postcode_normalise",
    "postcode_outward",
    "yes_no_field",
]


def yes_no_field(
    label: str,
    *,
    required: bool = True,
    unknown: bool = False,
    help_text: str = "",
    error: str = "",
    choices: list[tuple[str, str]] | None = None,
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices or (YES_NO_UNKNOWN if unknown else YES_NO),
        widget=forms.RadioSelect(attrs={"data-inline": "true"}),
        required=required,
        help_text=help_text,
        # A page may ask several yes/no questions: the message names the one it is about.
        error_messages={
            "required": error
            or f"Select {'yes, no or not known' if unknown else 'yes or no'}: {label}"
        },
    )
