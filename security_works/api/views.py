"""Security jobs for contractors' systems: list and read their own jobs, and record progress
through the same services as the job pages (locked, audited, with case events).

A job is opened through ``security_job_get_for_user`` with the client's service account, so a
token of another contractor gets the same 404 as an id that does not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from safer import workdays
from safer.api.etags import etag_of, not_modified, precondition_check
from safer.api.exceptions import Conflict, UnprocessableRequest
from safer.api.models import Scope
from safer.api.schema import ETAG_HEADER, IF_MATCH, IF_NONE_MATCH, error_responses
from safer.api.views import PartnerApiView
from security_works import selectors, services
from security_works.api import serializers as s
from security_works.api.selectors import (
    allowed_next_states,
    day_start,
    job_detail_data,
    job_state_data,
    job_version,
)
from security_works.documents import UploadRefused, job_document_upload
from security_works.exceptions import InvalidTransition, InvalidWorks, StepBlocked, UnsafeContact
from security_works.models import Measure, SecurityJob

TAG = "Security jobs"
JOB_STATE_EXAMPLE = OpenApiExample(
    "Survey booked",
    response_only=True,
    status_codes=["200"],
    value={
        "id": "6a1d3f0e-2b7c-4f4e-9a55-1c2d3e4f5a6b",
        "reference": "SW-2026-000042",
        "status": "survey_booked",
        "allowed_next_states": [
            "awaiting_landlord_consent",
            "cancelled",
            "on_hold",
            "survey_booked",
            "surveyed",
        ],
    },
)
JOB_DETAIL_EXAMPLE = OpenApiExample(
    "An open job, surveyed",
    response_only=True,
    value={
        "id": "6a1d3f0e-2b7c-4f4e-9a55-1c2d3e4f5a6b",
        "reference": "SW-2026-000042",
        "status": "surveyed",
        "status_label": "Surveyed",
        "priority": "standard",
        "district": "Ashford",
        "allocated_at": "2026-03-02T09:00:00Z",
        "survey_booked_for": "2026-03-04T10:00:00Z",
        "installation_booked_for": None,
        "next_due_at": "2026-03-18T23:59:59Z",
        "make_safe_due_at": None,
        "survey_due_at": "2026-03-09T23:59:59Z",
        "installation_due_at": "2026-03-18T23:59:59Z",
        "surveyed_at": "2026-03-04T11:30:00Z",
        "installed_at": None,
        "landlord_consent_required": False,
        "landlord_consent_given": False,
        "allowed_next_states": [
            "awaiting_landlord_consent",
            "cancelled",
            "installation_booked",
            "on_hold",
            "surveyed",
        ],
        "address": {
            "survivor_first_name": "Alex",
            "address_line_1": "1 Fictional Road",
            "address_line_2": "",
            "town": "Ashford",
            "postcode": "TN23 1AA",
            "tenure": "Owner-occupier",
            "landlord_name": "",
            "landlord_contact": "",
            "safe_contact": {
                "safe_channels": ["phone"],
                "phone": "07700 900123",
                "voicemail_safe": False,
                "text_safe": False,
                "safe_times": "Weekdays 10:00 to 14:00",
                "organisation_name_may_be_used": False,
            },
        },
        "survey_measures": [
            {
                "code": "bs-mortice-lock",
                "description": "BS 5-lever mortice lock",
                "quantity": "1.00",
                "unit_cost": "85.00",
                "location": "Front door",
                "is_variation": False,
            }
        ],
        "installed_measures": [],
        "documents": [
            {
                "id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                "kind": "survey_photo",
                "content_type": "image/jpeg",
                "size": 48213,
                "uploaded_at": "2026-03-04T11:40:00Z",
            }
        ],
    },
)
STEP_INVALID_EXAMPLE = {
    "message": "A measure code is not one that can be used here.",
    "errors": {
        "measures.0.code": ["'lock-9' is not in the schedule of rates or the approved works."]
    },
}
_STEP_DESCRIPTION = (
    "\n\nSend the job's `ETag` as `If-Match` to be sure nobody changed it since you read it "
    "(412 otherwise). A step the job's state does not allow is 409, with the states it can "
    "move to. A body that does not match the schema is 400; one that matches it but breaks a "
    "rule (a measure code not in the schedule, a booking before the job was allocated, a "
    "file that is not a photo or PDF) is 422. Scope: `jobs:update`."
)


class JobPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


def _step_schema(
    *, operation_id: str, summary: str, description: str, request: Any, example: dict[str, Any]
) -> Callable[[Any], Any]:
    return extend_schema(
        operation_id=operation_id,
        tags=[TAG],
        summary=summary,
        description=description + _STEP_DESCRIPTION,
        examples=[OpenApiExample(summary, value=example, request_only=True)],
        parameters=[IF_MATCH, ETAG_HEADER],
        request=request,
        responses={
            200: OpenApiResponse(
                s.JobStateSerializer,
                description="Recorded. The ETag header is the job's new version.",
                examples=[JOB_STATE_EXAMPLE],
            ),
            **error_responses(400, 403, 404, 409, 412, 422, examples={422: STEP_INVALID_EXAMPLE}),
        },
    )


class JobListView(PartnerApiView):
    required_scopes = {"GET": Scope.JOBS_READ}

    @extend_schema(
        operation_id="job_list",
        tags=[TAG],
        summary="Your open jobs",
        description=(
            "Your organisation's open jobs, nearest deadline first, 25 a page (`page_size` up "
            "to 100). Rows carry no personal details: read a job for its address. Send the "
            "last `ETag` as `If-None-Match` to get 304 when nothing changed. Scope: `jobs:read`."
        ),
        parameters=[s.JobListQuerySerializer, IF_NONE_MATCH, ETAG_HEADER],
        responses={
            200: OpenApiResponse(
                s.JobPageSerializer,
                description="A page of jobs.",
                examples=[
                    OpenApiExample(
                        "One job",
                        value={
                            "count": 1,
                            "next": None,
                            "previous": None,
                            "results": [
                                {
                                    "id": "6a1d3f0e-2b7c-4f4e-9a55-1c2d3e4f5a6b",
                                    "reference": "SW-2026-000042",
                                    "status": "allocated",
                                    "priority": "standard",
                                    "district": "Ashford",
                                    "allocated_at": "2026-03-02T09:00:00Z",
                                    "survey_booked_for": None,
                                    "installation_booked_for": None,
                                    "next_due_at": "2026-03-09T17:00:00Z",
                                }
                            ],
                        },
                    )
                ],
            ),
            304: OpenApiResponse(description="Not modified since the ETag you sent."),
            **error_responses(
                400,
                403,
                404,
                examples={
                    400: {
                        "message": "The request is not valid. See errors for each field.",
                        "errors": {"due_before": ["Date has wrong format."]},
                    },
                    404: {"message": "Invalid page.", "errors": {}},
                },
            ),
        },
    )
    def get(self, request: Request) -> Response:
        # A plain dict, not the QueryDict: DRF treats an empty value in a QueryDict as absent, so
        # ``status=`` would pass as "no filter"; here it is refused like any other bad value.
        query = s.JobListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        jobs = selectors.job_list_for_user(self.client.user).open()
        if "status" in filters:
            jobs = jobs.filter(status=filters["status"])
        if "due_before" in filters:
            jobs = jobs.filter(next_due_at__lt=day_start(filters["due_before"] + dt.timedelta(1)))
        if "due_after" in filters:
            jobs = jobs.filter(next_due_at__gte=day_start(filters["due_after"]))
        paginator = JobPagination()
        page = paginator.paginate_queryset(jobs, request, view=self) or []
        assert paginator.page is not None  # set by paginate_queryset (or it raised 404)
        body = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": s.JobSummarySerializer(page, many=True).data,
        }
        etag = etag_of(body)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(body, headers={"ETag": etag})


class JobDetailView(PartnerApiView):
    required_scopes = {"GET": Scope.JOBS_READ}

    @extend_schema(
        operation_id="job_detail",
        tags=[TAG],
        summary="One of your jobs",
        description=(
            "The job, its deadlines, the works and the photos. While the job is open it carries "
            "the address and the rules for contacting the survivor safely; once it is closed "
            "`address` is null and `documents` empty. Never anything about the person causing "
            "harm, the risk assessment or children. Another organisation's job is 404. "
            "Send the last `ETag` as `If-None-Match` to get 304 when nothing changed. "
            "Scope: `jobs:read`."
        ),
        parameters=[IF_NONE_MATCH, ETAG_HEADER],
        responses={
            200: OpenApiResponse(
                s.JobDetailSerializer, description="The job.", examples=[JOB_DETAIL_EXAMPLE]
            ),
            304: OpenApiResponse(description="Not modified since the ETag you sent."),
            **error_responses(403, 404),
        },
    )
    def get(self, request: Request, job_id: uuid.UUID) -> Response:
        user = self.client.user
        job = selectors.security_job_get_for_user(
            user=user, job_id=job_id, request=request._request
        )
        etag = job_version(job)
        if not_modified(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        address = selectors.job_address_reveal(user=user, job=job, request=request._request)
        data = s.JobDetailSerializer(job_detail_data(job, address=address)).data
        return Response(data, headers={"ETag": etag})


class _JobStepView(PartnerApiView):
    """A step on one job: open it (404 if not yours), lock it, check If-Match, call the service."""

    required_scopes = {"POST": Scope.JOBS_UPDATE}
    parser_classes = [JSONParser]

    def run_step(
        self,
        request: Request,
        job_id: uuid.UUID,
        perform: Callable[[SecurityJob], object],
        *,
        created: bool = False,
    ) -> tuple[SecurityJob, object]:
        job = selectors.security_job_get_for_user(
            user=self.client.user, job_id=job_id, request=request._request
        )
        try:
            with transaction.atomic():
                locked = SecurityJob.objects.select_for_update(of=("self",)).get(pk=job.pk)
                precondition_check(request, job_version(locked))
                result = perform(locked)
        except (InvalidTransition, StepBlocked) as refused:
            job.refresh_from_db()
            raise Conflict(refused.message, allowed_next_states=allowed_next_states(job)) from None
        except UploadRefused as refused:
            message = refused.message
            raise UnprocessableRequest(message, errors={"file": [message]}) from None
        except UnsafeContact as warning:
            raise UnprocessableRequest(
                warning.message, errors={"unsafe_contact_reason": [warning.message]}
            ) from None
        except InvalidWorks as invalid:
            raise UnprocessableRequest(invalid.message) from None
        job.refresh_from_db()
        return job, result

    def state_response(self, job: SecurityJob) -> Response:
        return Response(
            s.JobStateSerializer(job_state_data(job)).data, headers={"ETag": job_version(job)}
        )


class SurveyBookingView(_JobStepView):
    @_step_schema(
        operation_id="job_survey_book",
        summary="Book (or re-book) the survey",
        description="Records when the survey visit is booked for.",
        request=s.BookingSerializer,
        example={"booked_for": "2026-03-04T10:00:00+00:00"},
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        data = _valid(s.BookingSerializer, request)
        job, _ = self.run_step(
            request,
            job_id,
            lambda job: services.security_job_book_survey(
                job=job,
                actor=self.client.user,
                booked_for=data["booked_for"],
                arranged_via=data.get("arranged_via", ""),
                unsafe_contact_reason=data.get("unsafe_contact_reason", ""),
            ),
        )
        return self.state_response(job)


class SurveyView(_JobStepView):
    @_step_schema(
        operation_id="job_survey_record",
        summary="Record the survey and the measures it recommends",
        description=(
            "Records the survey with the recommended measures (codes from the schedule of "
            "rates in force on the survey day). A second survey replaces the first's plan. The "
            "job waits for landlord consent when the tenure needs it; a total above the "
            "approval threshold asks the SPA for approval before installation."
        ),
        request=s.SurveySerializer,
        example={
            "surveyed_at": "2026-03-04T11:30:00+00:00",
            "survivor_consents": True,
            "measures": [
                {"code": "bs-mortice-lock", "quantity": "1", "location": "Front door"},
                {"code": "hinge-bolts", "quantity": "2", "location": "Front door"},
            ],
        },
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        data = _valid(s.SurveySerializer, request)
        surveyed_at = data.get("surveyed_at")

        def record(job: SecurityJob) -> SecurityJob:
            day = workdays.local_date(surveyed_at) if surveyed_at else timezone.localdate()
            in_force = {m.code: m for m in selectors.measures_effective_on(day)}
            lines = [
                services.MeasureLine(
                    measure=_measure(in_force, line["code"], f"measures.{i}.code"),
                    quantity=line["quantity"],
                    location=line.get("location", ""),
                )
                for i, line in enumerate(data["measures"])
            ]
            return services.security_job_record_survey(
                job=job,
                actor=self.client.user,
                lines=lines,
                survivor_consents=data["survivor_consents"],
                surveyed_at=surveyed_at,
            )

        job, _ = self.run_step(request, job_id, record)
        return self.state_response(job)


class InstallationBookingView(_JobStepView):
    @_step_schema(
        operation_id="job_installation_book",
        summary="Book (or re-book) the installation",
        description=(
            "Records when the installation is booked for. Needs landlord consent where the "
            "tenure requires it, any cost approval, and a fire-safety check for measures that "
            "may affect a means of escape."
        ),
        request=s.BookingSerializer,
        example={"booked_for": "2026-03-04T10:00:00+00:00"},
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        data = _valid(s.BookingSerializer, request)
        job, _ = self.run_step(
            request,
            job_id,
            lambda job: services.security_job_book_installation(
                job=job,
                actor=self.client.user,
                booked_for=data["booked_for"],
                arranged_via=data.get("arranged_via", ""),
                unsafe_contact_reason=data.get("unsafe_contact_reason", ""),
            ),
        )
        return self.state_response(job)


class InstallationView(_JobStepView):
    @_step_schema(
        operation_id="job_installation_record",
        summary="Record what was fitted, with its costs",
        description=(
            "Records the fitted measures (codes from the job's approved works) with quantities "
            "and actual costs. More than the approved works needs an approved variation first."
        ),
        request=s.InstallationSerializer,
        example={
            "installed_at": "2026-03-10T15:00:00+00:00",
            "measures": [
                {"code": "bs-mortice-lock", "quantity": "1", "actual_cost": "85.00"},
                {
                    "code": "hinge-bolts",
                    "quantity": "2",
                    "actual_cost": "48.00",
                    "variation_note": "Trade price lower than the schedule",
                },
            ],
        },
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        data = _valid(s.InstallationSerializer, request)

        def record(job: SecurityJob) -> SecurityJob:
            # The approved works' own rates first; any other current code is passed on too, so
            # the service gives its own answer (the job's state, or "more than approved").
            current = {m.code: m for m in selectors.measures_effective_on(timezone.localdate())}
            approved = current | {
                line.measure.code: line.measure for line in selectors.planned_lines(job)
            }
            lines = [
                services.InstalledLine(
                    measure=_measure(approved, line["code"], f"measures.{i}.code"),
                    quantity=line["quantity"],
                    actual_cost=line["actual_cost"],
                    variation_note=line.get("variation_note", ""),
                )
                for i, line in enumerate(data["measures"])
            ]
            return services.security_job_record_installation(
                job=job,
                actor=self.client.user,
                lines=lines,
                installed_at=data.get("installed_at"),
            )

        job, _ = self.run_step(request, job_id, record)
        return self.state_response(job)


class DocumentUploadView(_JobStepView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="job_document_upload",
        tags=[TAG],
        summary="Upload a photo or document",
        description=(
            "Adds a photo (JPEG or PNG) or a PDF to an open job, as multipart/form-data. Files "
            "are checked by their content, not their name or the part's content type. Photos "
            "are re-encoded without any metadata (EXIF, GPS), because a photo's location can "
            "reveal a safe address; an image over 50 megapixels is refused. PDFs are rewritten "
            "without their document information and XMP metadata (author, title, GPS), "
            "JavaScript, automatic actions and embedded files. A file that is also something "
            "else (a PDF that is also a web page, an image with an archive appended) is "
            "refused. A refusal is a 422 naming `file` in `errors`." + _STEP_DESCRIPTION
        ),
        parameters=[IF_MATCH],
        request={"multipart/form-data": s.DocumentUploadSerializer},
        responses={
            201: OpenApiResponse(
                s.DocumentOutSerializer,
                description="Stored. The ETag header is the job's new version.",
                examples=[
                    OpenApiExample(
                        "A photo",
                        value={
                            "id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
                            "kind": "installation_photo",
                            "content_type": "image/jpeg",
                            "size": 48213,
                            "uploaded_at": "2026-03-10T15:05:00Z",
                        },
                    )
                ],
            ),
            **error_responses(
                400,
                403,
                404,
                409,
                412,
                422,
                examples={
                    422: {
                        "message": (
                            "This file is a program, not a photo or document, so it cannot be "
                            "uploaded (whatever its name says). Upload a JPEG or PNG photo, or a "
                            "PDF."
                        ),
                        "errors": {
                            "file": [
                                "This file is a program, not a photo or document, so it cannot "
                                "be uploaded (whatever its name says). Upload a JPEG or PNG "
                                "photo, or a PDF."
                            ]
                        },
                    }
                },
            ),
        },
    )
    def post(self, request: Request, job_id: uuid.UUID) -> Response:
        data = _valid(s.DocumentUploadSerializer, request)
        job, document = self.run_step(
            request,
            job_id,
            lambda job: job_document_upload(
                job=job, uploaded_by=self.client.user, kind=data["kind"], upload=_not_empty(data)
            ),
        )
        return Response(
            s.DocumentOutSerializer(document).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": job_version(job)},
        )


def _valid(serializer_class: type[Any], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


EMPTY_FILE = "The file is empty. Upload a JPEG or PNG photo, or a PDF."


def _not_empty(data: dict[str, Any]) -> Any:
    upload = data["file"]
    if not upload.size:
        raise UnprocessableRequest(EMPTY_FILE, errors={"file": [EMPTY_FILE]})
    return upload


def _measure(measures: dict[str, Measure], code: str, path: str) -> Measure:
    try:
        return measures[code]
    except KeyError:
        raise UnprocessableRequest(
            "A measure code is not one that can be used here.",
            errors={path: [f"{code!r} is not in the schedule of rates or the approved works."]},
        ) from None
