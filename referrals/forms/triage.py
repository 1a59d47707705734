"""Forms of the triage pages. They validate input; the services decide."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from referrals.forms.fields import GovukDateField
from referrals.models import (
    AdviceMethod,
    AdviceTopic,
    CallerType,
    DeclineReason,
    Referral,
    ReferralStatus,
    RiskLevel,
    RiskQuestion,
    Signpost,
    SpaContactChannel,
    SpaContactOutcome,
)
from referrals.models.risk import RiskAnswerValue
from safer.casefile.models import Person
from safer.concurrency import VersionField
from safer.organisations.models import AgencyType, CommissioningAuthority, District, Organisation
from safer.workdays import LOCAL_TZ

NOT_CHECKED = ""


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("open", "Open (not yet decided)"), ("all", "All"), *ReferralStatus.choices],
    )
    district = forms.ModelChoiceField(
        label="District",
        queryset=District.objects.none(),
        required=False,
        empty_label="All districts",
    )
    urgent = forms.ChoiceField(
        label="Urgency",
        required=False,
        choices=[("", "Any"), ("yes", "Urgent only"), ("no", "Not urgent")],
    )
    risk_level = forms.ChoiceField(
        label="Risk", required=False, choices=[("", "Any"), *RiskLevel.choices]
    )
    possible_repeat = forms.BooleanField(label="Possible repeats only", required=False)
    due = forms.ChoiceField(
        label="Due",
        required=False,
        choices=[
            ("", "Any time"),
            ("overdue", "Triage overdue"),
            ("today", "Triage due today"),
            ("contact_overdue", "First contact overdue"),
        ],
    )
    worker = forms.ChoiceField(
        label="Triage worker",
        required=False,
        choices=[("", "Anyone"), ("me", "Me"), ("unassigned", "Nobody yet")],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("", "Priority (urgent, risk, then due)"),
            ("due", "Triage due, soonest first"),
            ("oldest", "Received, oldest first"),
            ("newest", "Received, newest first"),
        ],
    )

    def __init__(self, *args: Any, districts: QuerySet[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]


_ELIGIBILITY_LABELS = {
    "elig_resident_in_area": "Lives in a participating authority's area",
    "elig_domestic_abuse": "Domestic abuse as defined by the Domestic Abuse Act 2021 "
    "(aged 16 or over, personally connected)",
    "elig_wishes_to_remain": "Wishes to remain in the home, and it is safe to",
    "elig_perpetrator_not_resident": "The perpetrator does not live at the property",
    "elig_consent": "Consent given (or a recorded safeguarding reason)",
}
_TRISTATE = [("yes", "Yes"), ("no", "No"), (NOT_CHECKED, "Not checked yet")]


class EligibilityForm(forms.Form):
    def __init__(self, *args: Any, referral: Referral | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in _ELIGIBILITY_LABELS.items():
            initial = getattr(referral, name) if referral is not None else None
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=_TRISTATE,
                required=False,
                widget=forms.RadioSelect(attrs={"data-inline": "true"}),
                initial="yes" if initial is True else "no" if initial is False else NOT_CHECKED,
            )
            self.initial[name] = self.fields[name].initial
        # The referral's version when the checklist was shown: answers saved over someone
        # else's are refused with what they recorded (safer.concurrency).
        self.fields["version"] = VersionField(initial=referral.version if referral else None)

    def answers(self) -> dict[str, bool | None]:
        return {
            name: True if value == "yes" else False if value == "no" else None
            for name, value in self.cleaned_data.items()
            if name in _ELIGIBILITY_LABELS
        }


class RiskAssessmentForm(forms.Form):
    """One radio group per question of the questionnaire (its wording is data)."""

    completed_on = GovukDateField(
        label="Date the checklist was completed",
        not_future=True,
        error_messages={"required": "Enter the date the checklist was completed"},
    )
    professional_judgement_level = forms.ChoiceField(
        label="Professional judgement",
        required=False,
        help_text="Only to raise the level above the score. It can never lower it.",
        choices=[
            ("", "No change to the score's level"),
            (RiskLevel.MEDIUM, "Medium"),
            (RiskLevel.HIGH, "High"),
        ],
        widget=forms.RadioSelect,
    )
    professional_judgement_reason = forms.CharField(
        label="Reason for the professional judgement",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    incidents_in_window = forms.IntegerField(
        label="Incidents in the last 12 months", required=False, min_value=0, max_value=999
    )
    crimes_in_window = forms.IntegerField(
        label="Crimes in the last 12 months", required=False, min_value=0, max_value=999
    )
    honour_based_abuse = forms.BooleanField(label="Honour-based abuse is suspected", required=False)

    def __init__(self, *args: Any, questions: list[RiskQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        question_fields = {
            f"q{q.number}": forms.ChoiceField(
                label=f"{q.number}. {q.text}",
                choices=RiskAnswerValue.choices,
                widget=forms.RadioSelect(attrs={"data-inline": "true"}),
                error_messages={"required": f"Answer question {q.number}"},
            )
            for q in questions
        }
        # Questions first, in order; then the judgement and the escalation details.
        self.fields = {**question_fields, **self.fields}

    def answers(self) -> dict[int, str]:
        return {q.number: self.cleaned_data[f"q{q.number}"] for q in self.questions}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("professional_judgement_level") and not cleaned.get(
            "professional_judgement_reason"
        ):
            self.add_error("professional_judgement_reason", "Explain the professional judgement")
        return cleaned


class MaracReferralForm(forms.Form):
    area = forms.CharField(
        label="MARAC area", max_length=120, error_messages={"required": "Enter the MARAC area"}
    )
    referred_on = GovukDateField(
        label="Date referred",
        not_future=True,
        error_messages={"required": "Enter the date of the MARAC referral"},
    )
    meeting_on = GovukDateField(
        label="MARAC meeting it is listed for (if known)",
        required=False,
        help_text="Record the hearing itself once the MARAC has met.",
    )


class MaracHearingForm(forms.Form):
    heard_on = GovukDateField(
        label="Date the MARAC heard the case",
        not_future=True,
        error_messages={"required": "Enter the date the MARAC heard the case"},
    )
    outcome = forms.CharField(
        label="Outcome and action plan summary",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the MARAC agreed and who does what. No more personal detail than needed.",
        error_messages={"required": "Enter the outcome and a summary of the action plan"},
    )


class AcceptForm(forms.Form):
    security_works = forms.BooleanField(
        label="Security works",
        required=False,
        help_text="A security job is created and allocated to the contractor",
    )
    adult_support = forms.BooleanField(
        label="Adult support",
        required=False,
        help_text="An adult support case is opened with the area's adult support provider",
    )
    children = forms.ModelMultipleChoiceField(
        label="Children and young people's support for",
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=(
            "A children and young people's (CYP) case is opened for each child ticked, with the "
            "area's CYP provider"
        ),
    )
    contractor = forms.ModelChoiceField(
        label="Security contractor",
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="The suggested contractor for the district",
        help_text="Leave as suggested unless there is a reason to choose another",
        widget=forms.RadioSelect,
        blank=True,  # keep "the suggested contractor" as the first radio
    )
    contractor_override_reason = forms.CharField(
        label="Reason for choosing another contractor", required=False, max_length=500
    )
    note = forms.CharField(
        label="Decision note", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    risk_not_assessed_reason = forms.CharField(
        label="Why the risk could not be assessed",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "The risk is not assessed yet. Record the DASH checklist first (it takes your "
            "professional judgement too), or say here why it could not be done"
        ),
    )
    no_contact_attempt_reason = forms.CharField(
        label="Why the survivor was not contacted",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "No contact attempt is recorded. Record one first, or say here why there was none, "
            "for example the referrer holds contact and asked the SPA not to call"
        ),
    )

    def __init__(
        self,
        *args: Any,
        children: QuerySet[Person],
        contractors: QuerySet[Organisation],
        risk_assessed: bool = True,
        contact_attempted: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Ask for a reason only where one is needed (the service decides again, under lock).
        if risk_assessed:
            del self.fields["risk_not_assessed_reason"]
        if contact_attempted:
            del self.fields["no_contact_attempt_reason"]
        children_field = self.fields["children"]
        children_field.queryset = children  # type: ignore[attr-defined]
        children_field.label_from_instance = (  # type: ignore[attr-defined]
            lambda p: f"{p.given_name} {p.family_name}".strip()
        )
        self.fields["contractor"].queryset = contractors  # type: ignore[attr-defined]
        if not children.exists():
            del self.fields["children"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not (
            cleaned.get("security_works") or cleaned.get("adult_support") or cleaned.get("children")
        ):
            self.add_error("security_works", "Choose at least one route")
        return cleaned


class DeclineForm(forms.Form):
    reason = forms.ModelChoiceField(
        label="Reason",
        queryset=DeclineReason.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        error_messages={"required": "Select the reason for declining"},
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed for 'Other'. No more personal detail than needed.",
    )
    duplicate_of = forms.ModelChoiceField(
        label="Which referral does it duplicate?",
        queryset=Referral.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        help_text="Only for a duplicate: one of the possible repeats found for this referral",
    )
    duplicate_of_reference = forms.CharField(
        label="Or the original referral's reference",
        required=False,
        max_length=20,
        help_text="Only for a duplicate not in the list, for example SAFER-2026-00123",
    )

    def __init__(
        self,
        *args: Any,
        candidates: QuerySet[Referral],
        visible: QuerySet[Referral],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.visible = visible
        field = self.fields["duplicate_of"]
        field.queryset = candidates  # type: ignore[attr-defined]
        field.label_from_instance = (  # type: ignore[attr-defined]
            lambda r: (
                f"{r.reference}, received {r.received_at:%-d %B %Y} ({r.get_status_display()})"
            )
        )
        if not candidates.exists():
            del self.fields["duplicate_of"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reference = (cleaned.get("duplicate_of_reference") or "").strip().upper()
        if reference:
            original = self.visible.filter(reference__iexact=reference).first()
            if original is None:
                self.add_error(
                    "duplicate_of_reference",
                    f"No referral {reference} was found: check the reference",
                )
            else:
                cleaned["duplicate_of"] = original
        reason = cleaned.get("reason")
        if reason is not None and reason.marks_duplicate and not cleaned.get("duplicate_of"):
            self.add_error(
                "duplicate_of" if "duplicate_of" in self.fields else "duplicate_of_reference",
                "Choose the referral this one duplicates, or give its reference",
            )
        return cleaned


class RequestInformationForm(forms.Form):
    reason = forms.CharField(
        label="What information is needed, and from whom?",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter what information is needed"},
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label="Who withdrew the referral, and why?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MatchResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label="Is this the same person?",
        choices=[("same", "Link as repeat"), ("not_same", "Not the same person")],
    )

    @property
    def same_person(self) -> bool:
        return self.cleaned_data["decision"] == "same"


_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


class ContactAttemptForm(forms.Form):
    attempted_on = GovukDateField(
        label="Date of the attempt",
        not_future=True,
        error_messages={"required": "Enter the date of the attempt"},
    )
    attempted_time = forms.CharField(
        label="Time of the attempt",
        max_length=5,
        help_text="Use the 24-hour clock, for example 14:30",
        error_messages={"required": "Enter the time of the attempt"},
    )
    channel = forms.ChoiceField(
        label="How did you try to make contact?",
        choices=SpaContactChannel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you tried to make contact"},
    )
    outcome = forms.ChoiceField(
        label="What happened?",
        choices=SpaContactOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what happened"},
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    unsafe_channel_reason = forms.CharField(
        label="Why you went ahead against the safe-contact rules",
        required=False,
        max_length=300,
        help_text="Only if the rules above warn against this, for example: the survivor asked "
        "us to text today.",
    )

    def clean_attempted_time(self) -> dt.time:
        match = _TIME.match(self.cleaned_data["attempted_time"].strip())
        if not match:
            raise forms.ValidationError("Enter a real time, like 09:15 or 14:30")
        return dt.time(int(match.group(1)), int(match.group(2)))

    def attempted_at(self) -> dt.datetime:
        return dt.datetime.combine(
            self.cleaned_data["attempted_on"], self.cleaned_data["attempted_time"], tzinfo=LOCAL_TZ
        )


class AdviceContactForm(forms.Form):
    """No field here may hold a name or contact details: the record keeps none."""

    authority = forms.ModelChoiceField(
        label="Area",
        queryset=CommissioningAuthority.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the area"},
    )
    district = forms.ModelChoiceField(
        label="District (optional)",
        queryset=District.objects.none(),
        required=False,
        empty_label="Not known",
    )
    contacted_on = GovukDateField(
        label="Date of the contact",
        not_future=True,
        error_messages={"required": "Enter the date of the contact"},
    )
    caller_type = forms.ChoiceField(
        label="Who contacted the SPA?",
        choices=CallerType.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select who contacted the SPA"},
    )
    agency_type = forms.ChoiceField(
        label="If a professional: the kind of agency",
        choices=[("", "Not a professional"), *AgencyType.choices],
        required=False,
    )
    method = forms.ChoiceField(
        label="How did they make contact?",
        choices=AdviceMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how they made contact"},
    )
    topics = forms.MultipleChoiceField(
        label="What was the advice about?",
        choices=AdviceTopic.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply.",
        error_messages={"required": "Select at least one topic"},
    )
    signposted_to = forms.MultipleChoiceField(
        label="Signposted to (optional)",
        choices=Signpost.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Select all that apply.",
    )
    duration_minutes = forms.IntegerField(
        label="Length of the contact in minutes (optional)",
        required=False,
        min_value=1,
        max_value=8 * 60,
    )
    note = forms.CharField(
        label="Note: do not enter names or contact details",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: asked whether a private tenant can have works fitted.",
    )

    def __init__(
        self,
        *args: Any,
        authorities: QuerySet[CommissioningAuthority],
        districts: QuerySet[District],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["authority"].queryset = authorities  # type: ignore[attr-defined]
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]
        if len(authorities) == 1:
            self.fields["authority"].initial = authorities[0].pk

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("caller_type") == CallerType.PROFESSIONAL and not cleaned.get("agency_type"):
            self.add_error("agency_type", "Select the kind of agency")
        district, authority = cleaned.get("district"), cleaned.get("authority")
        if district is not None and authority is not None and district.authority_id != authority.pk:
            self.add_error("district", "Select a district in the chosen area")
        return cleaned


class AdviceFilterForm(forms.Form):
    month = forms.ChoiceField(label="Month", required=False)
    district = forms.ModelChoiceField(
        label="District",
        queryset=District.objects.none(),
        required=False,
        empty_label="All districts",
    )

    def __init__(self, *args: Any, districts: QuerySet[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]
        today = timezone.localdate().replace(day=1)
        months = []
        for back in range(24):
            year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
            first = dt.date(year, month + 1, 1)
            months.append((f"{first:%Y-%m}", f"{first:%B %Y}"))
        self.fields["month"].choices = [("", "All months"), *months]  # type: ignore[attr-defined]

    def month_start(self) -> dt.date | None:
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        year, month = value.split("-")
        return dt.date(int(year), int(month), 1)
