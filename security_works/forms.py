"""Forms of the job pages: shape only. What is allowed is decided by the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.utils import timezone

from safer import workdays
from safer.casefile.models import ContactChannel
from safer.forms import GovukDateField, GovukTimeField, short_choices_as_radios
from security_works.contractor_view import VISIT_CHANNELS
from security_works.documents import max_upload_bytes
from security_works.models import (
    CancellationReason,
    ConsentMethod,
    DocumentKind,
    FeelsSafer,
    FireSafetyCheckKind,
    FireSafetyOutcome,
    HoldReason,
    JobDocument,
    Measure,
    SecurityJob,
)
from security_works.services import InstalledLine, MeasureLine

LINE_ROWS = 6


_WIDGET_CLASSES = {
    "Select": "govuk-select",
    "Textarea": "govuk-textarea",
    "CheckboxInput": "govuk-checkboxes__input",
    "ClearableFileInput": "govuk-file-upload",
    "FileInput": "govuk-file-upload",
}


class GovukMixin:
    """GOV.UK Frontend classes on the widgets, so the templates stay plain."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():  # type: ignore[attr-defined]
            short_choices_as_radios(field)
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.MultiWidget):
                continue  # drawn by includes/form_field.html, classes and all
            css = _WIDGET_CLASSES.get(type(widget).__name__, "govuk-input")
            widget.attrs.setdefault("class", css)


def _aware(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=workdays.LOCAL_TZ)


class WhenForm(GovukMixin, forms.Form):
    """A date and time, entered in UK local time."""

    date = GovukDateField(label="Date", error_messages={"required": "Enter the date"})
    time = GovukTimeField(
        label="Time",
        error_messages={"required": "Enter the time", "invalid": "Enter a time like 14:30"},
    )

    def moment(self) -> dt.datetime:
        return _aware(self.cleaned_data["date"], self.cleaned_data["time"])


class BookingForm(WhenForm):
    """When the visit is, how it was arranged with the survivor, and (only if the safe-contact
    rules warn against it) why the contractor went ahead."""

    arranged_via = forms.ChoiceField(
        label="How did you arrange the visit with the survivor?",
        choices=[
            (c, ContactChannel(c).label) for c in (*VISIT_CHANNELS, ContactChannel.VIA_REFERRER)
        ],
        error_messages={"required": "Select how you arranged the visit"},
    )
    unsafe_contact_reason = forms.CharField(
        label="Why you went ahead against the safe-contact rules",
        required=False,
        max_length=300,
        help_text="Only if the rules above warn against this, for example: the survivor asked "
        "for an evening visit.",
    )


class OptionalWhenForm(WhenForm):
    """When it happened; blank means now."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].required = False
        self.fields["time"].required = False

    def moment_or_none(self) -> dt.datetime | None:
        day, time = self.cleaned_data.get("date"), self.cleaned_data.get("time")
        if day is None:
            return None
        return _aware(day, time or dt.time(12))


class SurveyForm(OptionalWhenForm):
    survivor_consents = forms.BooleanField(
        label="The survivor has agreed to the works recommended below",
        required=False,
    )


class MeasureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Measure) -> str:
        return f"{obj.description} ({obj.code}) £{obj.unit_cost} per {obj.unit}"


class SurveyLineForm(GovukMixin, forms.Form):
    measure = MeasureChoiceField(queryset=Measure.objects.none(), required=False, label="Measure")
    quantity = forms.DecimalField(
        label="Quantity", min_value=Decimal("0.01"), max_digits=8, decimal_places=2, required=False
    )
    location = forms.CharField(label="Where", max_length=200, required=False)

    def __init__(self, *args: Any, measures: Sequence[Measure] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["measure"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Measure.objects.filter(pk__in=[m.pk for m in measures]).order_by("code")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("measure") and not data.get("quantity"):
            self.add_error("quantity", "Enter the quantity")
        if data.get("quantity") and not data.get("measure"):
            self.add_error("measure", "Choose the measure")
        return data


class InstalledLineForm(SurveyLineForm):
    actual_cost = forms.DecimalField(
        label="Actual cost (£)",
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        required=False,
    )
    variation_note = forms.CharField(
        label="Any difference from the plan", max_length=500, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["location"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("measure") and data.get("actual_cost") is None:
            self.add_error("actual_cost", "Enter the actual cost")
        return data


class _LineFormSet(BaseFormSet):
    def filled(self) -> list[dict[str, Any]]:
        return [f.cleaned_data for f in self.forms if f.cleaned_data.get("measure")]


SurveyLineFormSet = formset_factory(
    SurveyLineForm, formset=_LineFormSet, extra=LINE_ROWS, max_num=30, validate_max=True
)
InstalledLineFormSet = formset_factory(
    InstalledLineForm, formset=_LineFormSet, extra=0, max_num=30, validate_max=True
)


def survey_lines(formset: Any) -> list[MeasureLine]:
    return [
        MeasureLine(measure=row["measure"], quantity=row["quantity"], location=row["location"])
        for row in formset.filled()
    ]


def installed_lines(formset: Any) -> list[InstalledLine]:
    return [
        InstalledLine(
            measure=row["measure"],
            quantity=row["quantity"],
            actual_cost=row["actual_cost"],
            variation_note=row.get("variation_note", ""),
        )
        for row in formset.filled()
    ]


class DocumentUploadForm(GovukMixin, forms.Form):
    kind = forms.ChoiceField(label="What is it?", choices=DocumentKind.choices)
    file = forms.FileField(
        label="File",
        help_text=(
            "A JPEG or PNG photo (up to 50 megapixels), or a PDF. Locations, camera details, "
            "authors and titles are removed before the file is stored."
        ),
        error_messages={"required": "Choose a file to upload"},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size and upload.size > limit:
            raise forms.ValidationError(f"The file must be smaller than {limit // 1048576} MB")
        return upload


YES_NO = [("yes", "Yes"), ("no", "No")]


class JobStepForm(GovukMixin, forms.Form):
    """A form for one step on one job; ``job`` lets a form offer that job's own choices."""

    def __init__(self, *args: Any, job: SecurityJob | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job = job


class HoldForm(JobStepForm):
    reason = forms.ChoiceField(label="Why is the job on hold?", choices=HoldReason.choices)
    note = forms.CharField(
        label="Note (optional)",
        help_text="No personal details: the case timeline is read by other services.",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CancelForm(JobStepForm):
    reason = forms.ChoiceField(
        label="Why is the job cancelled?", choices=CancellationReason.choices
    )
    note = forms.CharField(
        label="Note", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ConfirmForm(JobStepForm):
    """A step with nothing to enter (resume, complete): the POST itself is the decision."""


class ApprovalDecisionForm(JobStepForm):
    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("approve", "Approve"), ("reject", "Refuse")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select approve or refuse"},
    )
    note = forms.CharField(
        label="Reasons",
        help_text="Needed when you refuse: the contractor reads them. No personal details.",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "reject" and not data.get("note", "").strip():
            self.add_error("note", "Enter the reasons for refusing")
        return data


def _document_label(document: JobDocument) -> str:
    return f"Uploaded {timezone.localtime(document.uploaded_at):%-d %B %Y %H:%M}"


class FireSafetyCheckForm(JobStepForm):
    kind = forms.ChoiceField(
        label="What kind of check was it?",
        choices=FireSafetyCheckKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what kind of check it was"},
    )
    carried_out_by = forms.CharField(
        label="Who carried it out",
        help_text="Name and organisation, for example 'J Patel, Kent Fire and Rescue Service'.",
        max_length=200,
        error_messages={"required": "Enter who carried out the check"},
    )
    carried_out_on = GovukDateField(
        label="Date of the check",
        not_future=True,
        error_messages={"required": "Enter the date of the check"},
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        choices=FireSafetyOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the outcome of the check"},
    )
    notes = forms.CharField(
        label="Notes",
        help_text="The advice given, or why it failed. Needed unless it passed.",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    document = forms.ModelChoiceField(
        label="The record of the check (optional)",
        help_text="Upload it first as a fire-safety check record, then choose it here.",
        queryset=JobDocument.objects.none(),
        required=False,
        empty_label="None",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["document"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = JobDocument.objects.filter(job=self.job, kind=DocumentKind.FIRE_SAFETY)
        field.label_from_instance = _document_label  # type: ignore[method-assign,assignment]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        outcome = data.get("outcome")
        if outcome and outcome != FireSafetyOutcome.PASSED and not data.get("notes", "").strip():
            self.add_error(
                "notes",
                "Enter the advice given"
                if outcome == FireSafetyOutcome.PASSED_WITH_ADVICE
                else "Enter why the check failed",
            )
        return data


class VariationForm(JobStepForm):
    """One extra measure beyond the approved works (ask again for another)."""

    measure = MeasureChoiceField(
        queryset=Measure.objects.none(),
        label="Measure",
        empty_label="Choose a measure",
        error_messages={"required": "Choose the measure"},
    )
    quantity = forms.DecimalField(
        label="Extra quantity",
        help_text="How many more than the approved works, for example 1.",
        min_value=Decimal("0.01"),
        max_digits=8,
        decimal_places=2,
        error_messages={
            "required": "Enter the extra quantity",
            "invalid": "Enter the extra quantity as a number, like 1 or 2.5",
            "min_value": "The extra quantity must be more than 0",
        },
    )
    location = forms.CharField(
        label="Where (optional)",
        help_text="For example, back door.",
        max_length=200,
        required=False,
    )
    reason = forms.CharField(
        label="Why the works need to change",
        help_text="What you found at the property. No personal details.",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why the works need to change"},
    )

    def __init__(self, *args: Any, measures: Sequence[Measure] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["measure"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Measure.objects.filter(pk__in=[m.pk for m in measures]).order_by("code")


class AccessNotesForm(JobStepForm):
    access_notes = forms.CharField(
        label="Access and hazard notes for the contractor",
        help_text=(
            "Only what the visit needs: how to get in, parking, pets, hazards at the property. "
            "The contractor reads these; never write the survivor's story, risks or other people "
            "here."
        ),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.job is not None and not self.is_bound:
            self.initial["access_notes"] = self.job.access_notes


class LandlordConsentForm(JobStepForm):
    granted = forms.ChoiceField(
        label="Did the landlord or owner agree to the works?", choices=YES_NO
    )
    given_by = forms.CharField(label="Who answered (name and role)", max_length=200)
    given_on = GovukDateField(
        label="Date of the answer",
        not_future=True,
        error_messages={"required": "Enter the date of the answer"},
    )
    method = forms.ChoiceField(label="How", choices=ConsentMethod.choices)
    evidence = forms.ModelChoiceField(
        label="Evidence (optional)",
        help_text="Upload the letter or email first, as landlord consent evidence.",
        queryset=JobDocument.objects.none(),
        required=False,
    )
    notes = forms.CharField(
        label="Notes (optional)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["evidence"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = JobDocument.objects.filter(
            job=self.job, kind=DocumentKind.LANDLORD_CONSENT
        )


class PostInstallationCheckForm(JobStepForm):
    checked_on = GovukDateField(
        label="Date of the check",
        not_future=True,
        error_messages={"required": "Enter the date of the check"},
    )
    measures_working = forms.ChoiceField(label="Is everything fitted working?", choices=YES_NO)
    feels_safer = forms.ChoiceField(
        label="Do you feel safer in your home?",
        help_text="Ask the survivor in these words. Leave unanswered if they prefer not to say.",
        choices=FeelsSafer.choices,
        required=False,
    )
    comments = forms.CharField(
        label="Their comments (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
