"""OpenAPI pieces every endpoint shares: the error shape, documented error responses with
examples, and the headers (Idempotency-Key, If-Match, If-None-Match, ETag, Retry-After)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
)
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer[Any]):
    message = serializers.CharField(help_text="What went wrong, in plain words.")
    # Shadows Serializer.errors only in the class body: DRF moves declared fields aside.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text=(
            "Messages per field at fault, by dotted path (`survivor.date_of_birth`, "
            "`children.0.given_name`). Empty when no single field is to blame."
        ),
    )


class ConflictSerializer(ErrorSerializer):
    allowed_next_states = serializers.ListField(
        child=serializers.CharField(),
        help_text="The states the record can move to from where it is now.",
    )


_EXAMPLES: dict[int, tuple[str, str, dict[str, Any]]] = {
    400: (
        "The request does not match the schema",
        "A field is missing, malformed or not one the schema names. Nothing was stored.",
        {
            "message": "The request is not valid. See errors for each field.",
            "errors": {"survivor.date_of_birth": ["Enter a valid date."]},
        },
    ),
    401: (
        "No usable token",
        "The token is missing, malformed, expired or revoked.",
        {"message": "The token is not valid, or has expired or been revoked.", "errors": {}},
    ),
    403: (
        "Missing scope",
        "The token is valid but lacks the scope this request needs.",
        {"message": "This token does not have the 'jobs:update' scope.", "errors": {}},
    ),
    404: (
        "Not found",
        "The record does not exist or is not your organisation's (the same answer for both).",
        {"message": "No record found.", "errors": {}},
    ),
    409: (
        "Not allowed in the current state",
        "The record is in a state that does not allow this step.",
        {
            "message": "This job is allocated, so it cannot be recorded as installed.",
            "errors": {},
            "allowed_next_states": ["cancelled", "on_hold", "survey_booked"],
        },
    ),
    412: (
        "Stale If-Match",
        "The record changed since the ETag you sent: fetch it again and retry.",
        {
            "message": (
                "The record has changed since you read it. Fetch it again, then retry with its "
                "new ETag."
            ),
            "errors": {"If-Match": ["Does not match the current ETag."]},
        },
    ),
    422: (
        "Refused by a rule",
        "The request matches the schema but breaks a rule the schema cannot state (a "
        "postcode that does not exist, a date that must be in the past, a measure code not "
        "in the schedule, a file that is not a photo or PDF), or its Idempotency-Key was used "
        "for a different request. `errors` names what to change. Nothing was stored.",
        {
            "message": "The request is not valid. See errors for each field.",
            "errors": {"survivor.date_of_birth": ["Date of birth must be in the past"]},
        },
    ),
    429: (
        "Rate limited",
        "Too many requests: wait for the number of seconds in Retry-After.",
        {"message": "Request was throttled. Expected available in 42 seconds.", "errors": {}},
    ),
}


IDEMPOTENCY_REUSED_EXAMPLE = {
    "message": "This Idempotency-Key was used for a different request.",
    "errors": {"Idempotency-Key": ["Use a new key for a new request."]},
}


def error_response(
    code: int, example: dict[str, Any] | None = None, *, idempotent: bool = False
) -> OpenApiResponse:
    summary, description, value = _EXAMPLES[code]
    examples = [OpenApiExample(summary, value=example or value, status_codes=[str(code)])]
    if code == 422 and idempotent:
        examples.append(
            OpenApiExample(
                "Idempotency key reused", value=IDEMPOTENCY_REUSED_EXAMPLE, status_codes=["422"]
            )
        )
    return OpenApiResponse(
        response=ConflictSerializer if code == 409 else ErrorSerializer,
        description=description,
        examples=examples,
    )


def error_responses(
    *codes: int, examples: dict[int, dict[str, Any]] | None = None, idempotent: bool = False
) -> dict[int, OpenApiResponse]:
    """Responses for these codes, plus those every endpoint can give (401, 429). ``examples``
    replaces the generic example of a code with one that fits the endpoint; ``idempotent`` adds
    the reused-key example to 422."""
    examples = examples or {}
    return {
        code: error_response(code, examples.get(code), idempotent=idempotent)
        for code in sorted({*codes, 401, 429})
    }


# The rule ``referrals.api.views.idempotency_key`` enforces: 1 to 100 printable ASCII characters.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,100}$"
IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": 100,
        "pattern": IDEMPOTENCY_KEY_PATTERN,
    },
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A unique value per referral (a UUID is ideal): 1 to 100 printable ASCII characters, no "
        "spaces. Send the same key with the same body when you retry: you get the first answer "
        "back (with `Idempotent-Replayed: true`) and no second referral is made. The same key "
        "with a different body is refused (422). Keys are remembered for 30 days per client; "
        "a missing or malformed key is refused (400)."
    ),
    examples=[OpenApiExample("A UUID", value="4d0c2b6e-52a4-4c55-9c07-0a9f0a1b7e11")],
)
IF_MATCH = OpenApiParameter(
    name="If-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "The ETag from your last read of the job. If the job has changed since, the request "
        "is refused with 412 and nothing is recorded."
    ),
)
IF_NONE_MATCH = OpenApiParameter(
    name="If-None-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "The ETag of the copy you hold (or several, comma-separated): 304 (no body) if one of "
        "them is still current. `*` matches any current version, as RFC 9110 (13.1.2) says, "
        "so it always answers 304 for a record or list you can read."
    ),
)
ETAG_HEADER = OpenApiParameter(
    name="ETag",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200],
    description="The version of this representation, for If-None-Match and If-Match.",
)


_COMMON_HEADERS: dict[str, dict[str, dict[str, Any]]] = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to use: `Bearer`.",
            "schema": {"type": "string"},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer"},
        }
    },
}


def postprocess_common_headers(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Document the headers every 401 and 429 carries (drf-spectacular hook)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for code, headers in _COMMON_HEADERS.items():
                response = operation.get("responses", {}).get(code)
                if response is not None:
                    response.setdefault("headers", {}).update(headers)
    return result


# A decimal sent as a JSON string: the pattern the schema states is the one the field enforces.
POSITIVE_AMOUNT_PATTERN = r"^(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,2})?|0?\.(?:0[1-9]|[1-9][0-9]?))$"
AMOUNT_PATTERN = r"^[0-9]{1,8}(?:\.[0-9]{1,2})?$"
NO_NUL_PATTERN = r"^[^\x00]*$"


# Leaf field types ``StrictSerializer`` may copy shallowly: these exact classes, not subclasses
# (which could keep state of their own).
_LEAF_FIELDS: frozenset[type[serializers.Field]] = frozenset(
    {
        serializers.BooleanField,
        serializers.CharField,
        serializers.ChoiceField,
        serializers.DateField,
        serializers.DateTimeField,
        serializers.DecimalField,
        serializers.EmailField,
        serializers.IntegerField,
        serializers.UUIDField,
    }
)


# A request object that refuses members it does not name (400), and says so in the schema
# (``additionalProperties: false``, by ``postprocess_strict_requests``). Refusing is the safer
# choice for survivor data: a member a partner believed was recorded (a safe-contact rule, a
# risk) but that SAFER would drop silently could put someone at risk; a refusal makes the
# partner's developers notice at once. (No docstring: it would become every request's
# description in the schema.)
class StrictSerializer(serializers.Serializer[Any]):
    def get_fields(self) -> dict[str, serializers.Field]:
        # DRF deep-copies every declared field for every serializer instance, which rebuilds
        # each one from its arguments (a choice field re-flattens its choices): 75% of the time
        # a request body of ~90 fields takes to validate (issue 17). A declared field is never
        # bound (only its copies are), and a plain leaf field keeps no state while validating
        # beyond what ``bind`` assigns, so a shallow copy of it is as good; anything holding
        # other fields (a nested serializer, a list field) is still deep-copied.
        return {
            name: copy.copy(declared) if type(declared) in _LEAF_FIELDS else copy.deepcopy(declared)
            for name, declared in self._declared_fields.items()
        }

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, list[str]] = {}
        if isinstance(data, Mapping):  # a QueryDict (multipart) is one too
            unknown = {
                str(name): ["This field is not part of the request."]
                for name in data
                if name not in self.fields
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            # Report the unknown members with the other errors, nested ones included.
            if unknown and isinstance(invalid.detail, dict):
                raise serializers.ValidationError({**invalid.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


@extend_schema_field({"type": "string", "format": "decimal", "pattern": POSITIVE_AMOUNT_PATTERN})
class QuantityField(serializers.DecimalField):
    """A quantity above zero, up to 999999.99, sent as a string (``"1"``, ``"2.5"``)."""

    pattern = re.compile(POSITIVE_AMOUNT_PATTERN)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=8, decimal_places=2, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or not self.pattern.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": AMOUNT_PATTERN})
class AmountField(QuantityField):
    """An amount of money, zero or more, up to 99999999.99, sent as a string (``"85.00"``)."""

    pattern = re.compile(AMOUNT_PATTERN)

    def __init__(self, **kwargs: Any) -> None:
        serializers.DecimalField.__init__(self, max_digits=10, decimal_places=2, **kwargs)


def postprocess_strict_requests(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Request objects name every member they take (drf-spectacular hook): every request
    component is built from a ``StrictSerializer``, which refuses any other."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
            for prop in component.get("properties", {}).values():
                # DRF refuses a NUL character in any text (400): the schema says so.
                plain_text = prop.get("type") == "string" and not {
                    "format",
                    "enum",
                    "pattern",
                } & set(prop)
                if plain_text:
                    prop["pattern"] = NO_NUL_PATTERN
    return result
