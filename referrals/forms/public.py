"""The question pages of the public referral form. Each form is one page; the flow and the
draft live in ``referrals.views.public``. Forms validate input and nothing else."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.forms import DeclarativeFieldsMetaclass
from django.utils.choices import BaseChoiceIterator

from referrals.choices import (
    ConsentMethod,
    OtherRisk,
    PerpetratorRelationship,
    Religion,
    SexualOrientation,
    TransStatus,
    ethnicity_grouped_choices,
)
from referrals.forms.fields import GovukDateField, UKPostcodeField, yes_no_field
from referrals.selectors import DistrictPage, district_page
from safer.casefile.models import ContactChannel, Sex, TenancyHolder, Tenure
from safer.organisations.models import AgencyType
from safer.validation import EmailAddressField, PhoneOrEmailField, UKPhoneField

OUTSIDE_AREA = "outside"


def _text(
    label: str,
    *,
    required: bool = True,
    max_length: int = 200,
    help_text: str = "",
    error: str = "",
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        error_messages={"required": error or f"Enter {label[0].lower() + label[1:]}"},
    )


def _textarea(
    label: str,
    *,
    required: bool = False,
    help_text: str = "",
    error: str = "",
    max_length: int = 2000,
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": error or f"Enter {label[0].lower() + label[1:]}"},
    )


def _radios(
    label: str, choices: Any, *, error: str, required: bool = True, help_text: str = ""
) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        required=required,
        help_text=help_text,
        error_messages={"required": error},
    )


class _SharedChoicesFields(dict[str, forms.Field]):
    """A page's declared fields, copied for each form as Django copies them, except that the
    answer lists are shared rather than deep-copied (and re-normalised) per form: 60% of the
    time a page took to validate, thirteen pages a referral sent through the API (issue 17).
    Nothing changes a list in place; a page that offers other answers assigns a new list."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        copied: dict[str, forms.Field] = {}
        for name, declared in self.items():
            if not isinstance(declared, forms.ChoiceField):
                copied[name] = copy.deepcopy(declared, memo)
                continue
            field = copy.copy(declared)
            memo[id(declared)] = field
            field.widget = copy.copy(declared.widget)
            field.widget.attrs = declared.widget.attrs.copy()
            field.error_messages = declared.error_messages.copy()
            field.validators = declared.validators[:]
            copied[name] = field
        return copied


class _PageFormMetaclass(DeclarativeFieldsMetaclass):
    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        new_class = super().__new__(mcs, name, bases, attrs)
        fields = _SharedChoicesFields(getattr(new_class, "base_fields", {}))
        setattr(new_class, "base_fields", fields)  # noqa: B010 (the metaclass's attribute)
        return new_class


class PageForm(forms.Form, metaclass=_PageFormMetaclass):
    """A question page: a ``forms.Form`` whose copies share their fields' answer lists."""


class WhoForm(PageForm):
    referral_type = _radios(
        "Who is making this referral?",
        [
            ("professional", "I am a professional, or I am referring someone else"),
            ("self", "I am referring myself"),
        ],
        error="Select who is making this referral",
    )


class ReferrerForm(PageForm):
    name = _text("Your full name", max_length=150, error="Enter your full name")
    organisation = _text("Your organisation", error="Enter your organisation")
    agency_type = _radios(
        "Type of organisation", AgencyType.choices, error="Select the type of organisation"
    )
    role = _text("Your job title or role", max_length=120, error="Enter your job title or role")
    email = EmailAddressField(
        label="Your work email address",
        help_text="We will send the referral reference here. Nothing about the person referred.",
        error_messages={"required": "Enter your work email address"},
    )
    phone = UKPhoneField(label="Your work phone number", required=False)


class ConsentForm(PageForm):
    def __init__(self, *args: Any, self_referral: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.self_referral = self_referral
        if self_referral:
            self.fields["consent_given"].label = (
                "Do you agree to us using these details to contact you, and to share them with "
                "the organisations that would fit security measures or support you?"
            )
            for name in ("consent_date", "consent_method", "safeguarding_override_reason"):
                del self.fields[name]

    consent_given = yes_no_field(
        "Does the person know about this referral and agree to it?",
        error="Select yes if the person agrees to the referral",
    )
    consent_date = GovukDateField(
        label="Date consent was given",
        required=False,
        not_future=True,
        help_text="For example, 27 3 2026",
    )
    consent_method = _radios(
        "How was consent given?",
        [c for c in ConsentMethod.choices if c[0] != ConsentMethod.SELF_REFERRAL],
        error="Select how consent was given",
        required=False,
    )
    safeguarding_override_reason = _textarea(
        "If the person has not agreed: the safeguarding reason for referring without consent",
        help_text=(
            "Only where there is a serious risk of harm. Leave blank if the person agrees. "
            "Without consent or a safeguarding reason we cannot accept the referral."
        ),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.self_referral:
            return cleaned
        if cleaned.get("consent_given") == "yes":
            if not cleaned.get("consent_date") and "consent_date" not in self.errors:
                self.add_error("consent_date", "Enter the date consent was given")
            if not cleaned.get("consent_method"):
                self.add_error("consent_method", "Select how consent was given")
        return cleaned

    @staticmethod
    def refused(data: dict[str, Any]) -> bool:
        """No consent and no safeguarding reason: the referral cannot go ahead."""
        return (
            data.get("consent_given") == "no"
            and not str(data.get("safeguarding_override_reason") or "").strip()
        )


class SurvivorForm(PageForm):
    given_name = _text("First name", max_length=100)
    family_name = _text("Last name", max_length=100)
    date_of_birth = GovukDateField(
        label="Date of birth",
        past=True,
        help_text="For example, 27 3 1990",
        error_messages={"required": "Enter the date of birth"},
    )
    sex = _radios("Sex", Sex.choices, error="Select the person's sex")
    gender_identity = _text(
        "Gender identity",
        required=False,
        max_length=100,
        help_text="How the person describes their gender, if they have said",
    )
    trans_status = _radios(
        "Is the person's gender identity different from the sex they were registered at birth?",
        TransStatus.choices,
        error="Select whether the person's gender identity is different from their sex at birth",
        required=False,
    )
    ethnicity = forms.ChoiceField(
        label="Ethnic group",
        choices=ethnicity_grouped_choices,
        error_messages={"required": "Select an ethnic group, or 'Not known'"},
    )
    disability = _text(
        "Disability or access needs", required=False, help_text="Leave blank if none"
    )
    sexual_orientation = forms.ChoiceField(
        label="Sexual orientation",
        choices=[("", "Select"), *SexualOrientation.choices],
        required=False,
    )
    religion = forms.ChoiceField(
        label="Religion", choices=[("", "Select"), *Religion.choices], required=False
    )
    preferred_language = _text("Preferred language", required=False, max_length=60)
    interpreter_needed = yes_no_field(
        "Is an interpreter needed?", error="Select yes if an interpreter is needed"
    )
    no_recourse_to_public_funds = yes_no_field(
        "Does the person have no recourse to public funds?",
        unknown=True,
        help_text="Because of their immigration status",
    )


class AddressForm(PageForm):
    address_line_1 = _text(
        "Address line 1", error="Enter address line 1, typically the building and street"
    )
    address_line_2 = _text("Address line 2", required=False)
    town = _text("Town or city", max_length=100, error="Enter town or city")
    postcode = UKPostcodeField(label="Postcode", error_messages={"required": "Enter the postcode"})


class _ChoicesAsGiven(BaseChoiceIterator):
    """The district page's choices, already in Django's canonical form: a ``ChoiceField`` takes a
    choice iterator as it is rather than normalising every choice again (two passes over every
    district of every authority per referral: 15 ms of CPU a submission with 4,000 districts,
    in the national shape at a million; issue 17)."""

    def __init__(self, page: DistrictPage) -> None:
        self.page = page

    def __iter__(self) -> Iterator[tuple[str, str]]:
        yield from self.page.choices
        yield (OUTSIDE_AREA, "The address is not in any of these areas")


class _DistrictField(forms.ChoiceField):
    """A choice of the district page: its answer checked against the page's districts by key,
    not by a pass over every choice (4,374 districts in the national shape; issue 17)."""

    page: DistrictPage | None = None

    def valid_value(self, value: Any) -> bool:
        key = str(value)
        return key == OUTSIDE_AREA or (self.page is not None and key in self.page.by_key)


class DistrictForm(PageForm):
    district = _DistrictField(
        label="Which council area is the address in?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the council area, or that it is in none of these"},
        help_text="We have chosen the area from the postcode where we can. Check it is right.",
    )

    def __init__(self, *args: Any, page: DistrictPage | None = None, **kwargs: Any) -> None:
        """``page``: the districts as already read for this request; None: read them here."""
        super().__init__(*args, **kwargs)
        page = district_page() if page is None else page
        # Kept, so the submission built from this page needs no second read of its district.
        self.districts = page.by_key
        field = self.fields["district"]
        assert isinstance(field, _DistrictField)
        field.choices = _ChoicesAsGiven(page)
        field.page = page


class HousingForm(PageForm):
    tenure = _radios("Who owns or rents the home?", Tenure.choices, error="Select the tenure")
    tenancy_holder = _radios(
        "Whose name is the tenancy or the deeds in?",
        TenancyHolder.choices,
        error="Select whose name the tenancy or deeds are in",
    )
    landlord_name = _text(
        "Landlord or managing agent",
        required=False,
        help_text="If the person does not own the home. Works need the landlord's permission.",
    )
    landlord_contact = PhoneOrEmailField(
        label="Landlord phone number or email", required=False, what="the landlord's contact"
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        tenure = cleaned.get("tenure")
        needs_landlord = tenure and Tenure.needs_landlord_consent(tenure) and tenure != Tenure.OTHER
        if needs_landlord and not cleaned.get("landlord_name"):
            self.add_error("landlord_name", "Enter the landlord or managing agent")
        return cleaned


class SafeContactForm(PageForm):
    safe_channels = forms.MultipleChoiceField(
        label="How is it safe to contact the person?",
        help_text="Select all that are safe. We will never use any other way.",
        choices=[c for c in ContactChannel.choices if c[0] != ContactChannel.TEXT],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one safe way to contact the person"},
    )
    phone = UKPhoneField(label="Safe phone number", required=False)
    email = EmailAddressField(label="Safe email address", required=False)
    voicemail_safe = yes_no_field("Is it safe to leave a voicemail?")
    text_safe = yes_no_field("Is it safe to send text messages?")
    safe_times = _text(
        "When is it safe to call?",
        required=False,
        help_text="For example, weekdays 9am to 12pm",
    )
    alternative_contact = _text(
        "A safe alternative contact",
        required=False,
        max_length=300,
        help_text="A trusted person or professional we can contact instead, and how",
    )
    organisation_name_may_be_used = yes_no_field(
        "Can we say which organisation we are from when we call or write?",
        help_text="Say no if hearing the name of a domestic abuse service could put them at risk",
    )
    notes = _textarea("Anything else we should know before contacting them", required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        channels = cleaned.get("safe_channels") or []
        if ContactChannel.PHONE in channels and not cleaned.get("phone"):
            self.add_error("phone", "Enter the safe phone number")
        if cleaned.get("text_safe") == "yes" and not cleaned.get("phone"):
            self.add_error("phone", "Enter the safe phone number for text messages")
        if ContactChannel.EMAIL in channels and not cleaned.get("email"):
            self.add_error("email", "Enter the safe email address")
        return cleaned


class AnyPeopleForm(PageForm):
    """Are there any children / other adults? (The label is set per page.)"""

    any = yes_no_field("Are there any?")

    def __init__(self, *args: Any, label: str = "", error: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.fields["any"].label = label
        if error:
            self.fields["any"].error_messages["required"] = error


class ChildForm(PageForm):
    given_name = _text("Child's first name", max_length=100)
    family_name = _text("Child's last name", required=False, max_length=100)
    date_of_birth = GovukDateField(
        label="Date of birth", required=False, not_future=True, help_text="If you know it"
    )
    age = forms.IntegerField(
        label="Age in years",
        required=False,
        min_value=0,
        max_value=17,
        help_text="If you do not know the date of birth",
        error_messages={
            "invalid": "Age must be a number",
            "min_value": "Age must be 0 or more",
            "max_value": "A child's age must be 17 or less",
        },
    )
    sex = _radios("Sex", Sex.choices, error="Select the child's sex", required=False)
    lives_at_address = yes_no_field(
        "Does the child live at the address?", error="Select yes if the child lives there"
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if (
            not cleaned.get("date_of_birth")
            and cleaned.get("age") is None
            and "date_of_birth" not in self.errors
            and "age" not in self.errors
        ):
            self.add_error("date_of_birth", "Enter the child's date of birth or their age")
        return cleaned


class AdultForm(PageForm):
    given_name = _text("First name", max_length=100)
    family_name = _text("Last name", required=False, max_length=100)
    date_of_birth = GovukDateField(
        label="Date of birth", required=False, past=True, help_text="If you know it"
    )
    lives_at_address = yes_no_field("Does this adult live at the address?")


class AddAnotherForm(PageForm):
    add_another = yes_no_field("Do you need to add another?")

    def __init__(self, *args: Any, label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label:
            self.fields["add_another"].label = label


class PerpetratorKnownForm(PageForm):
    known = yes_no_field(
        "Can you give details of the person causing harm?",
        help_text="Their name, where they are, and any court orders. You can say no.",
    )


class PerpetratorForm(PageForm):
    name = _text("Their name", required=False, max_length=200)
    date_of_birth = GovukDateField(
        label="Their date of birth", required=False, past=True, help_text="If you know it"
    )
    relationship = _radios(
        "Their relationship to the person referred",
        PerpetratorRelationship.choices,
        error="Select their relationship to the person",
    )
    lives_at_address = yes_no_field("Do they live at the address?", unknown=True)
    has_keys = yes_no_field("Do they have keys to the property?", unknown=True)
    whereabouts_known = yes_no_field("Is it known where they are now?", unknown=True)
    bail_or_court_orders = _textarea(
        "Bail conditions or court orders",
        help_text="For example, a non-molestation order or an occupation order, with dates",
    )
    police_reference = _text("Police crime reference number", required=False, max_length=60)


class RiskForm(PageForm):
    dash_completed = yes_no_field("Has a DASH risk checklist been completed?")
    dash_score = forms.IntegerField(
        label="DASH score (number of 'yes' answers)",
        required=False,
        min_value=0,
        max_value=24,
        error_messages={
            "invalid": "The DASH score must be a number",
            "min_value": "The DASH score must be between 0 and 24",
            "max_value": "The DASH score must be between 0 and 24",
        },
    )
    dash_date = GovukDateField(
        label="Date the checklist was completed", required=False, not_future=True
    )
    marac_referred = yes_no_field("Has the person been referred to a MARAC?", unknown=True)
    marac_date = GovukDateField(label="Date of the MARAC referral", required=False, not_future=True)
    other_risks = forms.MultipleChoiceField(
        label="Are any of these also happening?",
        help_text="Select all that apply",
        choices=OtherRisk.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("dash_completed") == "yes":
            if cleaned.get("dash_score") is None and "dash_score" not in self.errors:
                self.add_error("dash_score", "Enter the DASH score")
            if not cleaned.get("dash_date") and "dash_date" not in self.errors:
                self.add_error("dash_date", "Enter the date the checklist was completed")
        return cleaned


class RequestForm(PageForm):
    services = forms.MultipleChoiceField(
        label="What support is being asked for?",
        help_text="Select all that apply",
        choices=[
            ("security_works", "Security measures for the home"),
            ("adult_support", "Support for the adult referred"),
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    children = forms.MultipleChoiceField(
        label="Support for these children",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(
        self, *args: Any, children: list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if children:
            self.fields["children"].choices = children  # type: ignore[attr-defined]
        else:
            del self.fields["children"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("services") and not cleaned.get("children"):
            self.add_error("services", "Select at least one kind of support")
        return cleaned


class UrgencyForm(PageForm):
    urgent = yes_no_field(
        "Is this referral urgent?",
        help_text="For example, the perpetrator is due to be released or has broken an order",
    )
    urgency_reason = _textarea("Why is it urgent?")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("urgent") == "yes" and not cleaned.get("urgency_reason"):
            self.add_error("urgency_reason", "Enter why the referral is urgent")
        return cleaned
