"""One error shape for the whole API: ``{"message": "...", "errors": {"field": ["..."]}}``.

``errors`` names the fields at fault with dotted paths (``survivor.date_of_birth``,
``children.0.given_name``); it is empty when no single field is to blame. A 409 adds
``allowed_next_states``. Apps raise the exceptions below (or DRF's); ``api_exception_handler``
turns every one of them, and Django's ``Http404``/``PermissionDenied``, into that shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

NOT_FOUND = "No record found."
INVALID = "The request is not valid. See errors for each field."
API_PREFIX = "/api/"

# For errors Django answers before (or instead of) an API view: a URL that does not resolve, a
# refusal or a crash outside DRF. Same shape as every other API error.
_PLAIN_MESSAGES = {
    400: "The request is not valid.",
    403: "You do not have permission to perform this action.",
    404: "No such endpoint or record.",
    500: "Something went wrong. Try again later.",
    503: "The service is briefly unavailable. Nothing was changed: try again in a minute.",
}


class ApiError(exceptions.APIException):
    """An error with a message, optional field errors and optional extra members."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = INVALID

    def __init__(
        self,
        message: str,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
        status_code: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail=message)
        self.message = message
        self.errors = {k: [str(m) for m in v] for k, v in (errors or {}).items()}
        self.extra = dict(extra or {})
        if status_code is not None:
            self.status_code = status_code


class Conflict(ApiError):
    """The record's state does not allow this (409), with the states it can move to."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, message: str, *, allowed_next_states: Iterable[str]) -> None:
        super().__init__(message, extra={"allowed_next_states": sorted(allowed_next_states)})


class PreconditionFailed(ApiError):
    status_code = status.HTTP_412_PRECONDITION_FAILED


class UnprocessableRequest(ApiError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a 500, reported as such
    response.data = error_body(exc)
    return response


def error_body(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ApiError):
        return {"message": exc.message, "errors": exc.errors, **exc.extra}
    if isinstance(exc, exceptions.ValidationError):
        return {"message": INVALID, "errors": flatten_errors(exc.detail)}
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (list, dict)) else INVALID
        return {"message": message, "errors": {}}
    return {"message": str(exc), "errors": {}}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"a.b.0.c": ["message"]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            for k, v in flatten_errors(value, path).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):
            if item in ({}, []):
                continue
            path = f"{prefix}.{index}" if prefix else str(index)
            for k, v in flatten_errors(item, path).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        flat.setdefault(prefix or "request", []).extend(str(item) for item in detail)
    else:
        flat.setdefault(prefix or "request", []).append(str(detail))
    return flat


def is_api_request(request: HttpRequest) -> bool:
    """Whether the request is for the partner API (under /api/), which answers only in JSON."""
    return request.path.startswith(API_PREFIX)


def api_error_response(status_code: int) -> JsonResponse:
    """The API's error shape for an error answered outside DRF (Django's error handlers)."""
    message = _PLAIN_MESSAGES.get(status_code, "The request could not be completed.")
    return JsonResponse({"message": message, "errors": {}}, status=status_code)
