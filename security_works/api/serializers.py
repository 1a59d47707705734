"""What a contractor's system may read of a job, and what it sends to record progress.

Minimisation is by construction: these serializers name every field a contractor receives, and
none of them reaches the perpetrator, the risk assessment or the children. The address and the
safe-contact rules come only from ``job_address_reveal`` (open job, own organisation, address
grant held) and are ``null`` otherwise; photos follow the same rule. What the address block holds
is the allow-list of ``security_works.contractor_view`` (pages and job sheet use the same).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from safer.api.schema import AmountField, QuantityField, StrictSerializer
from safer.casefile.models import ContactChannel
from security_works.contractor_view import VISIT_CHANNELS
from security_works.models import DocumentKind, JobPriority, JobStatus

OPEN_STATUS_CHOICES = [
    (s.value, s.label) for s in JobStatus if s not in (JobStatus.COMPLETED, JobStatus.CANCELLED)
]


def _states_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=JobStatus.choices),
        help_text="The states this job can move to from its current state.",
    )


# Named in the schema (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]): the referral form's safe
# channels are another set, and the two must not merge under one enum name.
VISIT_CHANNEL_CHOICES = [(c, c) for c in VISIT_CHANNELS]


class SafeContactSerializer(serializers.Serializer[Any]):
    """How the survivor may be contacted to arrange visits. Use no other way.

    The fields are ``contractor_view.VISIT_CONTACT_FIELDS`` (a test holds them equal)."""

    safe_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=VISIT_CHANNEL_CHOICES),
        help_text="The ways marked safe that a contractor may use to arrange a visit "
        "(empty: arrange it through the SPA).",
    )
    phone = serializers.CharField(
        allow_blank=True, help_text="Blank unless a phone call or a text is marked safe."
    )
    voicemail_safe = serializers.BooleanField()
    text_safe = serializers.BooleanField()
    safe_times = serializers.CharField(allow_blank=True)
    organisation_name_may_be_used = serializers.BooleanField()


class JobAddressSerializer(serializers.Serializer[Any]):
    """The fields are ``contractor_view.ADDRESS_FIELDS`` (a test holds them equal)."""

    survivor_first_name = serializers.CharField()
    address_line_1 = serializers.CharField()
    address_line_2 = serializers.CharField(allow_blank=True)
    town = serializers.CharField()
    postcode = serializers.CharField()
    tenure = serializers.CharField()
    landlord_name = serializers.CharField(allow_blank=True)
    landlord_contact = serializers.CharField(allow_blank=True)
    access_notes = serializers.CharField(
        allow_blank=True, help_text="Access and hazard notes the SPA wrote for the contractor."
    )
    safe_contact = SafeContactSerializer(allow_null=True)


class SurveyLineOutSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(source="measure.code")
    description = serializers.CharField(source="measure.description")
    quantity = serializers.DecimalField(max_digits=8, decimal_places=2)
    unit_cost = serializers.DecimalField(max_digits=10, decimal_places=2)
    location = serializers.CharField(allow_blank=True)
    is_variation = serializers.BooleanField()


class InstalledLineOutSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(source="measure.code")
    description = serializers.CharField(source="measure.description")
    quantity = serializers.DecimalField(max_digits=8, decimal_places=2)
    actual_cost = serializers.DecimalField(max_digits=10, decimal_places=2)
    variation_note = serializers.CharField(allow_blank=True)


class DocumentOutSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class JobSummarySerializer(serializers.Serializer[Any]):
    """A row of the job list: no personal details at all."""

    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    priority = serializers.ChoiceField(choices=JobPriority.choices)
    district = serializers.CharField(source="district.name")
    allocated_at = serializers.DateTimeField()
    survey_booked_for = serializers.DateTimeField(allow_null=True)
    installation_booked_for = serializers.DateTimeField(allow_null=True)
    next_due_at = serializers.DateTimeField(
        allow_null=True, help_text="The soonest deadline of a clock still running."
    )


class JobDetailSerializer(JobSummarySerializer):
    """One job. ``address`` is null and ``documents`` empty once the job is closed."""

    status_label = serializers.CharField()
    make_safe_due_at = serializers.DateTimeField(allow_null=True)
    survey_due_at = serializers.DateTimeField(allow_null=True)
    installation_due_at = serializers.DateTimeField(allow_null=True)
    surveyed_at = serializers.DateTimeField(allow_null=True)
    installed_at = serializers.DateTimeField(allow_null=True)
    landlord_consent_required = serializers.BooleanField()
    landlord_consent_given = serializers.BooleanField()
    allowed_next_states = _states_field()
    address = JobAddressSerializer(allow_null=True)
    survey_measures = SurveyLineOutSerializer(many=True)
    installed_measures = InstalledLineOutSerializer(many=True)
    documents = DocumentOutSerializer(many=True)


class JobStateSerializer(serializers.Serializer[Any]):
    """The job after a step: its state only (read the job again for the rest)."""

    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    allowed_next_states = _states_field()


class JobPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = JobSummarySerializer(many=True)


class JobListQuerySerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(
        choices=OPEN_STATUS_CHOICES, required=False, help_text="Only jobs in this state."
    )
    due_before = serializers.DateField(
        required=False, help_text="Only jobs with a deadline on or before this day."
    )
    due_after = serializers.DateField(
        required=False, help_text="Only jobs with a deadline on or after this day."
    )
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


# --- Requests ---------------------------------------------------------------------------------


class BookingSerializer(StrictSerializer):
    booked_for = serializers.DateTimeField(
        help_text="When the visit is booked for (ISO 8601 with an offset, or UK local time)."
    )
    arranged_via = serializers.ChoiceField(
        choices=ContactChannel.choices,
        required=False,
        help_text="How the visit was arranged with the survivor (checked against their "
        "safe-contact rules).",
    )
    unsafe_contact_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=300,
        help_text="Why the contractor went ahead although the safe-contact rules warn against "
        "the channel or the visit's time; without it such a booking is refused (422).",
    )


class SurveyLineInSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40, help_text="A code from the schedule of rates.")
    quantity = QuantityField(help_text="More than 0, at most 2 decimal places, as a string.")
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)


class SurveySerializer(StrictSerializer):
    surveyed_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the survey was done; omit for now."
    )
    survivor_consents = serializers.BooleanField(
        help_text="The survivor has agreed to the works recommended."
    )
    measures = serializers.ListField(child=SurveyLineInSerializer(), min_length=1, max_length=30)


class InstalledLineInSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40, help_text="A code from the job's approved works.")
    quantity = QuantityField(help_text="More than 0, at most 2 decimal places, as a string.")
    actual_cost = AmountField(help_text='The line\'s total in pounds, as a string (`"85.00"`).')
    variation_note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class InstallationSerializer(StrictSerializer):
    installed_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the works were fitted; omit for now."
    )
    measures = serializers.ListField(child=InstalledLineInSerializer(), min_length=1, max_length=30)


class DocumentUploadSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    # An empty file has the schema's shape (a binary string) but is no photo or PDF: the view
    # refuses it by rule (422), as it does any other file that is not one.
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=(
            "A JPEG or PNG photo (at most 50 megapixels), or a PDF, checked by content. Photo "
            "metadata (EXIF, GPS) and PDF metadata, scripts, actions and embedded files are "
            "removed before it is stored."
        ),
    )
