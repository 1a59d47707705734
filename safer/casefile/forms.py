"""Forms of the case-file pages. Validation of shape only; decisions are in the services."""

from __future__ import annotations

from typing import Any

from django import forms

from safer.access.services import BREAK_GLASS_REASON_MIN_LENGTH
from safer.casefile.models import CaseStatus, ContactChannel, SafeContactRules, WhoMayAnswer
from safer.concurrency import VersionField
from safer.validation import EmailAddressField, UKPhoneField


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


YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(label: str, *, help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages={"required": f"Select yes or no: {label}"},
    )


class SafeContactRulesForm(forms.Form):
    """The survivor's safe-contact arrangements, asked as the referral form asks them."""

    version = VersionField()
    safe_channels = forms.MultipleChoiceField(
        label="How is it safe to contact the survivor?",
        help_text="Select all that are safe. No one will use any other way.",
        choices=[c for c in ContactChannel.choices if c[0] != ContactChannel.TEXT],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    phone = UKPhoneField(label="Safe phone number", required=False)
    email = EmailAddressField(label="Safe email address", required=False)
    voicemail_safe = _yes_no("Is it safe to leave a voicemail?")
    text_safe = _yes_no("Is it safe to send text messages?")
    safe_times = forms.CharField(
        label="When is it safe to make contact?",
        required=False,
        max_length=200,
        help_text=(
            "In the survivor's words, for example weekdays 10am to 12pm. Leave empty if not "
            "stated. Calls, texts, emails and visits outside these times will need a reason."
        ),
    )
    who_may_answer = forms.ChoiceField(
        label="Who may answer the phone?",
        choices=[
            ("", "Not stated"),
            *[(value, label) for value, label in WhoMayAnswer.choices if value],
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    alternative_contact = forms.CharField(
        label="A safe alternative contact",
        required=False,
        max_length=300,
        help_text="A trusted person or professional to contact instead, and how",
    )
    organisation_name_may_be_used = _yes_no(
        "Can staff say which organisation they are from when they call or write?",
        help_text="Say no if hearing the name of a domestic abuse service could put them at risk",
    )
    notes = forms.CharField(
        label="Anything else staff should know before making contact",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    @staticmethod
    def initial_from(rules: SafeContactRules | None) -> dict[str, Any]:
        if rules is None:
            return dict.fromkeys(
                ("voicemail_safe", "text_safe", "organisation_name_may_be_used"), "no"
            )
        return {
            "safe_channels": [c for c in rules.safe_channels if c != ContactChannel.TEXT],
            "phone": rules.phone,
            "email": rules.email,
            "voicemail_safe": "yes" if rules.voicemail_safe else "no",
            "text_safe": "yes" if rules.text_safe else "no",
            "safe_times": rules.safe_times,
            "who_may_answer": rules.who_may_answer,
            "alternative_contact": rules.alternative_contact,
            "organisation_name_may_be_used": "yes" if rules.organisation_name_may_be_used else "no",
            "notes": rules.notes,
        }
