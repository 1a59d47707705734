"""Forms of the case-file pages. Validation of shape only; decisions are in the services."""

from __future__ import annotations

from django import forms

from safer.access.services import BREAK_GLASS_REASON_MIN_LENGTH
from safer.casefile.models import CaseStatus


class CaseFileFilterForm(forms.Form):
    reference = forms.CharField(label="Case reference", required=False, max_length=20)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *CaseStatus.choices],
    )


class BreakGlassForm(forms.Form):
    reference = forms.CharField(
        label="Case reference",
        help_text="For example, SAFER-2026-000123",
        max_length=20,
        error_messages={"required": "Enter the case reference"},
    )
    reason = forms.CharField(
        label="Why do you need to open this case now?",
        help_text=(
            "An auditor will read this. Say what the emergency is and who asked, "
            "without personal details of the survivor."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=BREAK_GLASS_REASON_MIN_LENGTH,
        max_length=500,
        error_messages={
            "required": "Enter why you need to open this case",
            "min_length": (
                f"The reason must be at least {BREAK_GLASS_REASON_MIN_LENGTH} characters"
            ),
            "max_length": "The reason must be 500 characters or fewer",
        },
    )
