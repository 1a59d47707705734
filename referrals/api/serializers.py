"""The referral request and responses of the partner API.

The request's sections are *generated from the public form's own question pages*
(``referrals.forms.public``): the same fields, the same answer lists, the same lengths and
whether each is required. They give the OpenAPI schema its types; the rules themselves (dates in
the past, conditional answers, consent, postcodes, districts) are checked by the forms, through
``referrals.api.adapter``. A new question on the form appears in the API without an edit here.

One difference of spelling, not of meaning: a yes/no question is a JSON boolean, and a
yes/no/not-known question a boolean or ``null`` (not known).
"""

from __future__ import annotations

from typing import Any

from django import forms
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from referrals.forms import public as pf
from referrals.forms.fields import YES_NO, YES_NO_UNKNOWN, GovukDateField
from safer.api.schema import StrictSerializer

Serializer = serializers.Serializer[Any]


def _flat_choices(choices: Any) -> list[tuple[str, str]]:
    flat: list[tuple[str, str]] = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            flat.extend((str(v), str(lbl)) for v, lbl in label)
        elif value != "":
            flat.append((str(value), str(label)))
    return flat


def _description(form_field: forms.Field) -> str:
    """The form's label and hint, less hints about typing into the page's boxes."""
    parts = [str(form_field.label or "")]
    hint = str(form_field.help_text or "")
    if hint and not hint.startswith("For example, "):
        parts.append(hint)
    if isinstance(form_field, GovukDateField):
        parts.append("A date, YYYY-MM-DD")
    sentences = [p if p.endswith(("?", ".")) else f"{p}." for p in parts if p]
    return " ".join(sentences)


def _choices(form_field: forms.Field) -> list[Any]:
    return list(getattr(form_field, "choices", None) or [])


def is_yes_no(form_field: forms.Field) -> bool:
    return isinstance(form_field, forms.ChoiceField) and _choices(form_field) in (
        YES_NO,
        YES_NO_UNKNOWN,
    )


def has_not_known(form_field: forms.Field) -> bool:
    return isinstance(form_field, forms.ChoiceField) and _choices(form_field) == YES_NO_UNKNOWN


def field_for(form_field: forms.Field) -> serializers.Field:
    """The JSON field for one form field: same type, answers, length and requiredness."""
    required = bool(form_field.required)
    common: dict[str, Any] = {"required": required, "help_text": _description(form_field)}
    if is_yes_no(form_field):
        unknown = has_not_known(form_field)
        if unknown:
            common["help_text"] += " null: not known."
        return serializers.BooleanField(allow_null=unknown, **common)
    if isinstance(form_field, forms.MultipleChoiceField):
        return serializers.ListField(
            child=serializers.ChoiceField(choices=_flat_choices(form_field.choices)),
            allow_empty=not required,
            min_length=1 if required else None,  # stated in the schema as minItems
            **common,
        )
    if isinstance(form_field, forms.ChoiceField):
        return serializers.ChoiceField(
            choices=_flat_choices(form_field.choices), allow_blank=not required, **common
        )
    if isinstance(form_field, GovukDateField):
        return serializers.DateField(allow_null=not required, **common)
    if isinstance(form_field, forms.IntegerField):
        bounds: dict[str, Any] = {
            key: value
            for key, value in (
                ("min_value", form_field.min_value),
                ("max_value", form_field.max_value),
            )
            if value is not None
        }
        return serializers.IntegerField(allow_null=not required, **bounds, **common)
    if isinstance(form_field, forms.CharField):
        if form_field.max_length is not None:
            common["max_length"] = form_field.max_length
        if isinstance(form_field, forms.EmailField):
            return serializers.EmailField(allow_blank=not required, **common)
        return serializers.CharField(
            allow_blank=not required,
            trim_whitespace=False,  # the form strips; keep what was sent for it to judge
            **common,
        )
    raise TypeError(f"No JSON field for {type(form_field).__name__}")


def form_serializer(
    name: str,
    form_class: type[forms.Form],
    *,
    doc: str,
    exclude: tuple[str, ...] = (),
    extra: dict[str, serializers.Field] | None = None,
) -> type[Serializer]:
    fields: dict[str, Any] = {
        field_name: field_for(form_field)
        for field_name, form_field in form_class.base_fields.items()
        if field_name not in exclude
    }
    fields.update(extra or {})
    fields["__doc__"] = doc
    return type(name, (StrictSerializer,), fields)


ReferrerSerializer = form_serializer(
    "ReferrerSerializer",
    pf.ReferrerForm,
    doc="The professional making the referral. Required unless referral_type is 'self'.",
)
ConsentSerializer = form_serializer(
    "ConsentSerializer",
    pf.ConsentForm,
    doc=(
        "Consent. A referral without the person's consent needs a safeguarding reason. For a "
        "self-referral only consent_given is read."
    ),
)
SurvivorSerializer = form_serializer(
    "SurvivorSerializer", pf.SurvivorForm, doc="The person being referred."
)
AddressSerializer = form_serializer(
    "AddressSerializer",
    pf.AddressForm,
    doc="Their address.",
    extra={
        "district": serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=60,
            help_text=(
                "The council area's code (GET /api/v1/referrals/districts/). Optional when the "
                "postcode decides it; required when the postcode's area is shared by two "
                "districts. An address in no listed district is not eligible."
            ),
        )
    },
)
HousingSerializer = form_serializer("HousingSerializer", pf.HousingForm, doc="Their home.")
# Named in the schema (SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]): text messages are asked as
# text_safe, so the list is not the contractor view's set of channels and must not merge with it.
REFERRAL_SAFE_CHANNEL_CHOICES = _flat_choices(
    _choices(pf.SafeContactForm.base_fields["safe_channels"])
)
SafeContactSerializer = form_serializer(
    "SafeContactSerializer",
    pf.SafeContactForm,
    doc="How it is safe to contact them. Nobody will use any other way.",
)
ChildSerializer = form_serializer(
    "ChildSerializer", pf.ChildForm, doc="A child in the household or affected by the abuse."
)
OtherAdultSerializer = form_serializer(
    "OtherAdultSerializer", pf.AdultForm, doc="Another adult who lives at the address."
)
PerpetratorSerializer = form_serializer(
    "PerpetratorSerializer", pf.PerpetratorForm, doc="The person causing harm."
)
RiskSerializer = form_serializer("RiskSerializer", pf.RiskForm, doc="Risk.")
RequestSerializer = form_serializer(
    "ServiceRequestSerializer",
    pf.RequestForm,
    doc="What support is asked for (at least one service, or support for a child).",
    exclude=("children",),
    extra={
        "children": serializers.ListField(
            child=serializers.IntegerField(min_value=0),
            required=False,
            help_text="Positions (from 0) in `children` of the children support is asked for.",
        )
    },
)
UrgencySerializer = form_serializer("UrgencySerializer", pf.UrgencyForm, doc="Urgency.")

_who = pf.WhoForm.base_fields["referral_type"]


class ReferralSubmitSerializer(StrictSerializer):
    """A referral, with the same questions as the public form."""

    referral_type = serializers.ChoiceField(
        choices=[("professional", "A professional referring someone"), ("self", "Self-referral")],
        help_text=_description(_who),
    )
    referrer = ReferrerSerializer(required=False, allow_null=True)
    consent = ConsentSerializer()
    survivor = SurvivorSerializer()
    address = AddressSerializer()
    housing = HousingSerializer()
    safe_contact = SafeContactSerializer()
    children = ChildSerializer(many=True, required=False)
    other_adults = OtherAdultSerializer(many=True, required=False)
    perpetrator = PerpetratorSerializer(
        required=False, allow_null=True, help_text="Omit or null if no details can be given."
    )
    risk = RiskSerializer()
    request = RequestSerializer()
    urgency = UrgencySerializer()


# What a referrer may know (the portal shows the same in words).
PARTNER_STATUSES = [
    ("received", "Received"),
    ("in_triage", "In triage"),
    ("accepted", "Accepted"),
    ("declined", "Declined"),
    ("closed", "Closed"),
]


class ReferralStatusSerializer(serializers.Serializer[Any]):
    """Where a referral is. Nothing about the person or the case."""

    id = serializers.UUIDField(help_text="Use it to ask for the status later.")
    reference = serializers.CharField(help_text="The referral's reference, e.g. SAFER-2026-000123.")
    status = serializers.ChoiceField(choices=PARTNER_STATUSES)


class ReferralStatusDetailSerializer(ReferralStatusSerializer):
    status_label = serializers.CharField(help_text="The status in words, with a decline reason.")
    received_at = serializers.DateTimeField()


class DistrictSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    authority = serializers.CharField(help_text="The commissioning authority's name.")


REFERRAL_EXAMPLE = OpenApiExample(
    "A professional referral",
    request_only=True,
    value={
        "referral_type": "professional",
        "referrer": {
            "name": "Pat Officer",
            "organisation": "Example Police",
            "agency_type": "police",
            "role": "Domestic abuse officer",
            "email": "pat.officer@police.example.org",
            "phone": "01632 960001",
        },
        "consent": {"consent_given": True, "consent_date": "2026-03-02", "consent_method": "phone"},
        "survivor": {
            "given_name": "Alex",
            "family_name": "Example",
            "date_of_birth": "1988-06-14",
            "sex": "female",
            "ethnicity": "not_known",
            "interpreter_needed": False,
            "no_recourse_to_public_funds": None,
        },
        "address": {
            "address_line_1": "1 Fictional Road",
            "town": "Maidstone",
            "postcode": "ME15 6AA",
            "district": "maidstone",
        },
        "housing": {"tenure": "owner_occupier", "tenancy_holder": "survivor"},
        "safe_contact": {
            "safe_channels": ["phone"],
            "phone": "07700 900123",
            "voicemail_safe": False,
            "text_safe": False,
            "safe_times": "Weekdays 10am to 2pm",
            "organisation_name_may_be_used": False,
        },
        "children": [{"given_name": "Sam", "age": 7, "lives_at_address": True}],
        "perpetrator": {
            "name": "Chris Example",
            "relationship": "ex_partner",
            "lives_at_address": False,
            "has_keys": True,
            "whereabouts_known": None,
        },
        "risk": {
            "dash_completed": True,
            "dash_score": 15,
            "dash_date": "2026-03-01",
            "marac_referred": True,
            "marac_date": "2026-03-02",
            "other_risks": ["stalking"],
        },
        "request": {"services": ["security_works", "adult_support"], "children": [0]},
        "urgency": {"urgent": True, "urgency_reason": "The perpetrator has keys to the property."},
    },
)
