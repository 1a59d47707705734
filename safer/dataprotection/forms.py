"""Forms of the data protection pages: shape only; the rules are in the services."""

from __future__ import annotations

from typing import Any

from django import forms

from safer.casefile.models import Person
from safer.forms import GovukDateField


class LegalHoldForm(forms.Form):
    reason = forms.CharField(
        label="Why must the case be kept?",
        help_text="For example, a claim, a complaint to the ombudsman or a court order. An auditor "
        "can read this.",
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
        max_length=500,
        error_messages={
            "required": "Enter why the case must be kept",
            "min_length": "The reason must be at least 10 characters",
            "max_length": "The reason must be 500 characters or fewer",
        },
    )


class LegalHoldLiftForm(forms.Form):
    reason = forms.CharField(
        label="Why can the hold end?",
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
        max_length=500,
        error_messages={
            "required": "Enter why the hold can end",
            "min_length": "The reason must be at least 10 characters",
            "max_length": "The reason must be 500 characters or fewer",
        },
    )


class SubjectAccessRequestForm(forms.Form):
    person = forms.ChoiceField(
        label="Whose information is asked for?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whose information is asked for"},
    )
    requested_by = forms.CharField(
        label="Who made the request, and how?",
        help_text="For example, “The survivor, by phone” or “Her solicitor, with her signed "
        "authority”.",
        max_length=300,
        error_messages={"required": "Enter who made the request"},
    )
    received_on = GovukDateField(
        label="When was it received?",
        help_text="For example, 27 3 2026. The reply is due one calendar month later.",
        not_future=True,
        error_messages={"required": "Enter the date the request was received"},
    )

    def __init__(self, *args: Any, people: list[Person], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(p.pk): p for p in people}
        person_field = self.fields["person"]
        assert isinstance(person_field, forms.ChoiceField)
        person_field.choices = [
            (
                str(p.pk),
                f"{p.given_name} {p.family_name}".strip() + f" ({p.get_household_role_display()})",
            )
            for p in people
        ]

    def chosen_person(self) -> Person:
        return self.people[self.cleaned_data["person"]]
