"""Forms for the support pages: validation of what was typed only; the rules live in services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from safer.accounts.models import User
from safer.casefile.models import ContactChannel, Sex
from safer.forms import GovukDateField
from safer.organisations.models import District
from safer.validation import UKPhoneField, UKPostcodeField
from support.models import (
    DIRECT_REFERRAL_ACCOMMODATION,
    AbuseStatus,
    AbuseType,
    AttendanceStatus,
    ClosureReason,
    ConcernCategory,
    ContactOutcome,
    CypCase,
    CypStatus,
    ExitOutcome,
    FeedbackMethod,
    GboTimePoint,
    GoalOwner,
    GoalStatus,
    NeedLevel,
    NeedsArea,
    RatedBy,
    SafeAccommodationType,
    ServiceFunction,
    SessionMode,
    TimePoint,
)
from support.services.sharing import ShareBasis

SCORE_CHOICES = [(n, str(n)) for n in range(11)]


def _today() -> dt.date:
    return timezone.localdate()


# The GOV.UK Design System uses radios, not a drop-down, for a short list of answers.
SHORT_CHOICES = 8


def _short_choices_as_radios(field: forms.Field) -> None:
    if not isinstance(field, forms.ChoiceField) or isinstance(field, forms.ModelChoiceField):
        return
    if isinstance(field, forms.MultipleChoiceField) or type(field.widget) is not forms.Select:
        return
    options: Any = field.choices
    choices = [(value, label) for value, label in options if value != ""]
    if len(choices) <= SHORT_CHOICES:
        field.choices = choices
        field.widget = forms.RadioSelect(choices=choices)


class SupportForm(forms.Form):
    """Gives text, number and date inputs the GOV.UK Frontend classes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _short_choices_as_radios(field)
            widget = field.widget
            if isinstance(widget, forms.DateInput):
                widget.attrs.setdefault("class", "govuk-input govuk-input--width-10")
            elif isinstance(widget, forms.NumberInput):
                widget.attrs.setdefault("class", "govuk-input govuk-input--width-4")
            elif isinstance(widget, forms.TextInput | forms.EmailInput):
                widget.attrs.setdefault("class", "govuk-input")


class DateField(GovukDateField):
    """A GOV.UK date input (day, month, year), not the browser's date picker. Whether a date
    may be in the future is the services' rule (a session may not, a review may)."""

    def __init__(self, **kwargs: Any) -> None:
        label = str(kwargs.get("label") or "the date")
        kwargs.setdefault("error_messages", {"required": f"Enter {label[0].lower() + label[1:]}"})
        super().__init__(**kwargs)


class WorkerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        team = f" ({obj.team.name})" if obj.team_id else ""
        return f"{obj.full_name}{team}"


class AllocateForm(SupportForm):
    worker = WorkerChoiceField(queryset=User.objects.none(), label="Worker", empty_label="Choose")

    def __init__(self, *args: Any, workers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["worker"].queryset = workers.select_related("team")  # type: ignore[attr-defined]


class TransferForm(AllocateForm):
    handover_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Handover note",
        help_text="What the new worker needs to know: risks, what was agreed, what is due next.",
    )


class ContactAttemptForm(SupportForm):
    channel = forms.ChoiceField(choices=ContactChannel.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(
        choices=ContactOutcome.choices, widget=forms.RadioSelect, label="What happened"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    unsafe_channel_reason = forms.CharField(
        required=False,
        max_length=300,
        label="Why you went ahead against the safe-contact rules",
        help_text="Only if the rules above warn against this attempt, for example: they asked "
        "us to email today.",
    )


class SessionForm(SupportForm):
    occurred_on = DateField(label="Date", initial=_today)
    mode = forms.ChoiceField(choices=SessionMode.choices, widget=forms.RadioSelect, label="How")
    duration_minutes = forms.IntegerField(min_value=1, max_value=24 * 60, label="Minutes")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    unsafe_channel_reason = forms.CharField(
        required=False,
        max_length=300,
        label="Why you went ahead against the safe-contact rules",
        help_text="Only if the rules above warn against this session, for example: they asked "
        "us to email today.",
    )


class CypSessionForm(SessionForm):
    function = forms.ChoiceField(
        choices=ServiceFunction.choices, widget=forms.RadioSelect, label="Service function"
    )
    field_order = [
        "function",
        "occurred_on",
        "mode",
        "duration_minutes",
        "note",
        "unsafe_channel_reason",
    ]


class OutcomeForm(SupportForm):
    time_point = forms.ChoiceField(
        choices=TimePoint.choices, widget=forms.RadioSelect, label="When"
    )
    recorded_on = DateField(label="Date", initial=_today)
    feeling_safe = forms.TypedChoiceField(
        choices=SCORE_CHOICES, coerce=int, label="Feeling safe (0 to 10)"
    )
    quality_of_life = forms.TypedChoiceField(
        choices=SCORE_CHOICES, coerce=int, label="Wellbeing and quality of life (0 to 10)"
    )
    confidence = forms.TypedChoiceField(
        choices=SCORE_CHOICES, coerce=int, label="Confidence to access support (0 to 10)"
    )
    abuse_types = forms.MultipleChoiceField(
        choices=AbuseType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Abuse happening now",
    )
    abuse_status = forms.ChoiceField(
        choices=AbuseStatus.choices, widget=forms.RadioSelect, label="Has the abuse stopped?"
    )
    dash_score = forms.IntegerField(
        min_value=0, max_value=24, required=False, label="DASH re-score (if done)"
    )
    risk_reduced = forms.NullBooleanField(
        widget=forms.Select(
            choices=[("unknown", "Not assessed"), ("true", "Yes"), ("false", "No")]
        ),
        required=False,
        label="Risk reduced",
    )


class NeedsAssessmentForm(SupportForm):
    assessed_on = DateField(label="Date", initial=_today)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, areas: QuerySet[NeedsArea], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = list(areas)
        for area in self.areas:
            self.fields[f"level_{area.code}"] = forms.ChoiceField(
                choices=[("", "Not assessed"), *NeedLevel.choices], required=False, label=area.label
            )

    def lines(self) -> list[tuple[NeedsArea, str]]:
        return [
            (area, self.cleaned_data[f"level_{area.code}"])
            for area in self.areas
            if self.cleaned_data.get(f"level_{area.code}")
        ]


class SafetyPlanForm(SupportForm):
    agreed_on = DateField(label="Agreed on", initial=_today)
    plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}), label="Safety plan")
    review_due_on = DateField(
        label="Review by", required=False, help_text="Leave empty for the usual interval."
    )


class SupportGoalForm(SupportForm):
    description = forms.CharField(max_length=300, label="Goal")
    need_area = forms.ModelChoiceField(
        queryset=NeedsArea.objects.filter(is_active=True), required=False, label="Need area"
    )
    first_action = forms.CharField(max_length=300, required=False, label="First action")
    action_due_on = DateField(label="Action due by", required=False)


class GoalStatusForm(SupportForm):
    status = forms.ChoiceField(
        choices=GoalStatus.choices,
        widget=forms.RadioSelect,
        label="Where is this goal now?",
        error_messages={"required": "Select where this goal is now"},
    )


class CloseForm(SupportForm):
    reason = forms.ModelChoiceField(
        queryset=ClosureReason.objects.filter(is_active=True),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Why is support ending?",
    )
    exit_outcome = forms.ChoiceField(
        choices=ExitOutcome.choices, widget=forms.RadioSelect, label="Exit outcome"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    exit_measures_missing_reason = forms.CharField(
        label="Why the exit measures are not recorded",
        help_text=(
            "Only if a planned ending cannot have its exit measures, for example the survivor "
            "did not want to answer"
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
    )


class ShareForm(SupportForm):
    reader = WorkerChoiceField(
        queryset=User.objects.none(), label="Share with", empty_label="Choose"
    )
    basis = forms.ChoiceField(choices=ShareBasis.choices, widget=forms.RadioSelect, label="Why")

    def __init__(self, *args: Any, readers: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reader"].queryset = readers.select_related("team")  # type: ignore[attr-defined]


class ReferralReviewForm(SupportForm):
    lives_in_safe_accommodation = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        label="Does the child live in safe accommodation?",
    )
    accommodation_type = forms.ChoiceField(
        choices=SafeAccommodationType.choices, widget=forms.RadioSelect, label="Type"
    )


class FunctionForm(SupportForm):
    status = forms.ChoiceField(
        choices=[
            (CypStatus.ENGAGEMENT, CypStatus.ENGAGEMENT.label),
            (CypStatus.THERAPEUTIC, CypStatus.THERAPEUTIC.label),
        ],
        widget=forms.RadioSelect,
        label="Move the case to",
    )


class GboGoalForm(SupportForm):
    description = forms.CharField(max_length=300, label="Goal, in the child's words")
    owner = forms.ChoiceField(
        choices=GoalOwner.choices, widget=forms.RadioSelect, label="Whose goal"
    )
    agreed_on = DateField(label="Agreed on", initial=_today)
    start_score = forms.TypedChoiceField(
        choices=[("", "Not yet"), *SCORE_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
        label="Start score (0 to 10)",
    )
    rated_by = forms.ChoiceField(choices=RatedBy.choices, label="Scored by")


class GboScoreForm(SupportForm):
    time_point = forms.ChoiceField(
        choices=GboTimePoint.choices, widget=forms.RadioSelect, label="When"
    )
    score = forms.TypedChoiceField(choices=SCORE_CHOICES, coerce=int, label="Score (0 to 10)")
    rated_by = forms.ChoiceField(choices=RatedBy.choices, label="Scored by")
    scored_on = DateField(label="Date", initial=_today)


class ExitPlanForm(SupportForm):
    planned_end_on = DateField(label="Planned end")
    plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Exit plan")
    agreed_with_child = forms.BooleanField(required=False, label="Agreed with the child")


class FeedbackForm(SupportForm):
    collected_on = DateField(label="Date", initial=_today)
    time_point = forms.ChoiceField(choices=GboTimePoint.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(choices=FeedbackMethod.choices, widget=forms.RadioSelect)
    what_helped = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    what_could_be_better = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    in_their_words = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, label="In their own words"
    )


class ConcernForm(SupportForm):
    raised_on = DateField(label="Date", initial=_today)
    category = forms.ChoiceField(choices=ConcernCategory.choices, widget=forms.RadioSelect)
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    immediate_action = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class SocialCareReferralForm(SupportForm):
    referred_on = DateField(label="Referred to children's social care on", initial=_today)
    reference = forms.CharField(max_length=60, required=False, label="Their reference")
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class GroupForm(SupportForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    starts_on = DateField(label="Starts on", initial=_today)
    ends_on = DateField(label="Ends on", required=False)


class GroupMemberForm(SupportForm):
    case = forms.ModelChoiceField(
        queryset=CypCase.objects.none(), label="Child", empty_label="Choose"
    )

    def __init__(self, *args: Any, cases: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["case"]
        field.queryset = cases  # type: ignore[attr-defined]
        field.label_from_instance = lambda c: (  # type: ignore[attr-defined]
            f"{c.child.given_name} {c.child.family_name} ({c.reference})"
        )


class GroupSessionForm(SupportForm):
    held_on = DateField(label="Date", initial=_today)
    topic = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, members: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        for member in members:
            child = member.cyp_case.child
            self.fields[f"attendance_{member.cyp_case_id}"] = forms.ChoiceField(
                choices=AttendanceStatus.choices,
                initial=AttendanceStatus.ATTENDED,
                label=f"{child.given_name} {child.family_name}",
            )

    def attendance(self) -> dict[Any, str]:
        return {
            m.cyp_case_id: self.cleaned_data[f"attendance_{m.cyp_case_id}"] for m in self.members
        }


class DirectReferralForm(SupportForm):
    """A refuge or accommodation provider refers a child it houses (authenticated staff only)."""

    child_given_name = forms.CharField(max_length=100, label="Child's first name")
    child_family_name = forms.CharField(max_length=100, required=False, label="Child's last name")
    child_date_of_birth = DateField(label="Child's date of birth")
    child_sex = forms.ChoiceField(choices=Sex.choices, label="Child's sex")
    parent_given_name = forms.CharField(max_length=100, label="Parent or carer's first name")
    parent_family_name = forms.CharField(
        max_length=100, required=False, label="Parent or carer's last name"
    )
    parent_date_of_birth = DateField(label="Parent or carer's date of birth", required=False)
    accommodation_type = forms.ChoiceField(
        choices=[(t.value, t.label) for t in DIRECT_REFERRAL_ACCOMMODATION],
        widget=forms.RadioSelect,
        label="Where does the child live?",
    )
    district = forms.ModelChoiceField(queryset=District.objects.none(), empty_label="Choose")
    address_line_1 = forms.CharField(max_length=200, label="Address line 1")
    address_line_2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    town = forms.CharField(max_length=100)
    postcode = UKPostcodeField(label="Postcode")
    safe_channels = forms.MultipleChoiceField(
        choices=ContactChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Safe ways to contact the parent or carer",
    )
    phone = UKPhoneField(required=False, label="Safe phone number")
    voicemail_safe = forms.BooleanField(required=False, label="Safe to leave voicemail")
    text_safe = forms.BooleanField(required=False, label="Safe to send text messages")
    safe_times = forms.CharField(max_length=200, required=False, label="Safe times to call")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), label="Why are you referring the child?"
    )
    parent_consents = forms.BooleanField(
        label="The parent or carer knows about this referral and agrees to it"
    )

    def __init__(self, *args: Any, districts: QuerySet[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]

    def clean_child_date_of_birth(self) -> dt.date:
        dob: dt.date = self.cleaned_data["child_date_of_birth"]
        if dob > timezone.localdate():
            raise forms.ValidationError("The date of birth must be in the past.")
        return dob
