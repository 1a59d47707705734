"""CSV exports of the audit lists. Times are UTC (ISO 8601, with the offset written out)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

from safer.audit.models import AccessLog, AuthEvent
from safer.audit.selectors import ChangeRow

# A spreadsheet runs a cell that starts like a formula; a user's name must not be able to.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ACCESS_HEADER = [
    "occurred_at_utc",
    "user",
    "action",
    "record_type",
    "record_id",
    "source_ip",
    "break_glass_reason",
]
AUTH_HEADER = [
    "occurred_at_utc",
    "event",
    "user",
    "attempted_username",
    "source_ip",
    "path",
    "detail",
]
CHANGE_HEADER = [
    "occurred_at_utc",
    "record_type",
    "record_id",
    "change",
    "changed_by",
    "source_ip",
    "source",
    "field",
    "before",
    "after",
]


def csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    *, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """Stream the rows, so a long log is not built in memory."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


def access_rows(rows: Iterable[AccessLog]) -> Iterator[list[object]]:
    for row in rows:
        yield [
            row.occurred_at,
            row.user_label,
            row.action,
            row.record_type,
            row.record_id,
            row.source_ip,
            row.reason,
        ]


def auth_rows(rows: Iterable[AuthEvent]) -> Iterator[list[object]]:
    for row in rows:
        user = row.user.email if row.user is not None else ""
        yield [
            row.occurred_at,
            row.kind,
            user,
            row.attempted_username,
            row.source_ip,
            row.path,
            row.detail,
        ]


def change_rows(rows: Iterable[ChangeRow]) -> Iterator[list[object]]:
    """One line per changed field; an event with no field listed still gets a line."""
    for row in rows:
        common = [
            row.occurred_at,
            row.record_type,
            row.record_id,
            row.kind,
            row.user_label,
            row.source_ip,
            row.source,
        ]
        if not row.changes:
            yield [*common, "", "", ""]
        for change in row.changes:
            yield [*common, change.name, change.before, change.after]
