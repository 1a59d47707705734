"""Referral intake for partner systems: submit (idempotent), then follow the status.

Thin: the body goes through the public form's pages (``referrals.api.adapter``) and the same
``referral_submit`` service; a retry with the same ``Idempotency-Key`` gets the first answer.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from referrals.api import adapter, selectors
from referrals.api.serializers import (
    REFERRAL_EXAMPLE,
    DistrictSerializer,
    ReferralStatusDetailSerializer,
    ReferralStatusSerializer,
    ReferralSubmitSerializer,
)
from referrals.exceptions import ReferralRejected
from referrals.models import Referral
from referrals.services.submit import referral_submit
from safer import refdata
from safer.api.exceptions import INVALID, ApiError, UnprocessableRequest
from safer.api.models import ApiCall, Scope
from safer.api.schema import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_PATTERN, error_responses
from safer.api.services import IdempotencyKeyReused, idempotent_execute, request_fingerprint
from safer.api.views import PartnerApiView
from safer.organisations.models import District

TAG = "Referrals"
# Printable ASCII without spaces: what clients put in headers without surprises.
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
STATUS_EXAMPLE = OpenApiExample(
    "Received",
    response_only=True,
    value={
        "id": "0b6f4a52-6c0e-4a53-9d1f-3e2a3c7f9a10",
        "reference": "SAFER-2026-000123",
        "status": "received",
    },
)


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not _KEY.match(key):
        raise ApiError(
            "Send an Idempotency-Key header: 1 to 100 printable characters, unique per referral.",
            errors={"Idempotency-Key": ["Required: 1 to 100 printable characters, no spaces."]},
        )
    return key


def status_body(referral: Referral) -> dict[str, Any]:
    return {
        "id": str(referral.id),
        "reference": referral.reference,
        "status": selectors.partner_status(referral),
    }


class ReferralSubmitView(PartnerApiView):
    required_scopes = {"POST": Scope.REFERRALS_SUBMIT}
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="referral_submit",
        tags=[TAG],
        summary="Submit a referral",
        description=(
            "Sends a referral to the Single Point of Access. It takes the same questions as the "
            "public referral form and is checked by the same rules (consent, eligible address, "
            "dates, conditional answers), then stored by the same service, which also looks "
            "for earlier referrals of the same person or address for triage to review.\n\n"
            "An `Idempotency-Key` header is required. Retrying with the same key and the same "
            "body returns the first answer (with `Idempotent-Replayed: true`) and never makes a "
            "second referral; the same key with a different body is refused (422).\n\n"
            "A body that does not match the schema (a missing or malformed field, or a member "
            "the schema does not name) is 400. One that matches it but breaks a rule of the "
            "form (a postcode that does not exist, a date that must be in the past, an answer "
            "that needs another) is 422, with `errors` by field.\n\n"
            "The answer holds the reference and status only. Scope: `referrals:submit`."
        ),
        parameters=[
            IDEMPOTENCY_KEY,
            OpenApiParameter(
                name="Location",
                type=OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                response=[201],
                description="Where to follow the referral's status.",
            ),
            OpenApiParameter(
                name="Idempotent-Replayed",
                type=OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                response=[201],
                description="`true` when this is the first answer sent again for a retry.",
            ),
        ],
        request=ReferralSubmitSerializer,
        examples=[REFERRAL_EXAMPLE],
        responses={
            201: OpenApiResponse(
                ReferralStatusSerializer,
                description="Stored (or, on a retry, the first answer).",
                examples=[STATUS_EXAMPLE],
            ),
            **error_responses(400, 403, 422, idempotent=True),
        },
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key(request)
        client = self.client
        with_answer: list[ApiCall] = []

        def perform() -> tuple[int, dict[str, Any]]:
            serializer = ReferralSubmitSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            try:
                # The districts, risk bands and SPA policy: their versions in one Redis read.
                with refdata.one_version_check():
                    submission = adapter.submission_from_payload(serializer.validated_data)
                    referral = referral_submit(submission=submission, referrer_user=client.user)
            except adapter.SubmissionInvalid as invalid:
                raise UnprocessableRequest(INVALID, errors=invalid.errors) from None
            except ReferralRejected as rejected:
                raise UnprocessableRequest(rejected.message) from None
            # The call's audit row in the referral's transaction: stored together or not at all.
            with_answer.append(self.api_call_row_now(request, status.HTTP_201_CREATED))
            return status.HTTP_201_CREATED, status_body(referral)

        try:
            result = idempotent_execute(
                client=client,
                key=key,
                operation="referrals.submit",
                fingerprint=request_fingerprint(request.data),
                perform=perform,
                with_answer=with_answer,
            )
        except BaseException as failed:
            self.api_call_record_undone()  # rolled back with the transaction: written afterwards
            if not isinstance(failed, IdempotencyKeyReused):
                raise
            raise UnprocessableRequest(
                "This Idempotency-Key was used for a different request.",
                errors={"Idempotency-Key": ["Use a new key for a new request."]},
            ) from None
        headers = {
            "Location": reverse("api-referrals:status", kwargs={"referral_id": result.body["id"]})
        }
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(result.body, status=result.status, headers=headers)


class ReferralStatusView(PartnerApiView):
    required_scopes = {"GET": Scope.REFERRALS_SUBMIT}

    @extend_schema(
        operation_id="referral_status",
        tags=[TAG],
        summary="The status of a referral",
        description=(
            "Where a referral sent by your organisation is now: received, in triage, accepted, "
            "declined (with the reason in `status_label`) or closed. Nothing about the person "
            "or the case. A referral sent by anyone else is 404, as is an id that does not "
            "exist. Scope: `referrals:submit`."
        ),
        responses={
            200: OpenApiResponse(
                ReferralStatusDetailSerializer,
                description="The referral's status.",
                examples=[
                    OpenApiExample(
                        "Declined",
                        value={
                            "id": "0b6f4a52-6c0e-4a53-9d1f-3e2a3c7f9a10",
                            "reference": "SAFER-2026-000123",
                            "status": "declined",
                            "status_label": "Declined: Not eligible (outside area)",
                            "received_at": "2026-03-02T10:15:00Z",
                        },
                    )
                ],
            ),
            **error_responses(403, 404),
        },
    )
    def get(self, request: Request, referral_id: uuid.UUID) -> Response:
        referral = selectors.referral_get_for_client(client=self.client, referral_id=referral_id)
        body = {
            **status_body(referral),
            "status_label": selectors.partner_status_label(referral),
            "received_at": referral.received_at,
        }
        return Response(ReferralStatusDetailSerializer(body).data)


class DistrictListView(PartnerApiView):
    required_scopes = {"GET": Scope.REFERRALS_SUBMIT}

    @extend_schema(
        operation_id="district_list",
        tags=[TAG],
        summary="The council areas the scheme serves",
        description=(
            "The districts a referral's address may be in, with the code to send as "
            "`address.district`. An address in none of them is not eligible. "
            "Scope: `referrals:submit`."
        ),
        responses={
            200: OpenApiResponse(
                DistrictSerializer(many=True),
                description="Every district, by name.",
                examples=[
                    OpenApiExample(
                        "Two districts",
                        value=[
                            {"code": "ashford", "name": "Ashford", "authority": "Kent"},
                            {"code": "medway", "name": "Medway", "authority": "Medway"},
                        ],
                    )
                ],
            ),
            **error_responses(403),
        },
    )
    def get(self, request: Request) -> Response:
        districts = District.objects.select_related("authority").order_by("name")
        rows = [{"code": d.code, "name": d.name, "authority": d.authority.name} for d in districts]
        return Response(DistrictSerializer(rows, many=True).data)
