"""OpenAPI pieces every endpoint shares: the error shape, documented error responses with
examples, and the headers (Idempotency-Key, If-Match, If-None-Match, ETag, Retry-After)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
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
        "The request is not valid",
        "A field is missing or malformed. Nothing was stored.",
        {
            "message": "The request is not valid. See errors for each field.",
            "errors": {"survivor.date_of_birth": ["Date of birth must be in the past"]},
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
        "Idempotency key reused",
        "The Idempotency-Key was already used for a different request.",
        {
            "message": "This Idempotency-Key was used for a different request.",
            "errors": {"Idempotency-Key": ["Use a new key for a new request."]},
        },
    ),
    429: (
        "Rate limited",
        "Too many requests: wait for the number of seconds in Retry-After.",
        {"message": "Request was throttled. Expected available in 42 seconds.", "errors": {}},
    ),
}


def error_response(code: int, example: dict[str, Any] | None = None) -> OpenApiResponse:
    summary, description, value = _EXAMPLES[code]
    return OpenApiResponse(
        response=ConflictSerializer if code == 409 else ErrorSerializer,
        description=description,
        examples=[OpenApiExample(summary, value=example or value, status_codes=[str(code)])],
    )


def error_responses(
    *codes: int, examples: dict[int, dict[str, Any]] | None = None
) -> dict[int, OpenApiResponse]:
    """Responses for these codes, plus those every endpoint can give (401, 429). ``examples``
    replaces the generic example of a code with one that fits the endpoint."""
    examples = examples or {}
    return {code: error_response(code, examples.get(code)) for code in sorted({*codes, 401, 429})}


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
    description="The ETag of the copy you hold: 304 (no body) if it is still current.",
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
