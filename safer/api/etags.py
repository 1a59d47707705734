"""Entity tags: ``If-None-Match`` for cheap polling (304), ``If-Match`` against lost updates (412).

Tags are strong and opaque: a SHA-256 (shortened) of either the representation itself (lists) or
of everything a record's representation is built from (single records, whose body may hold an
address whose reading is logged: computing a tag must not read it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework.request import Request

from safer.api.exceptions import PreconditionFailed

STALE = "The record has changed since you read it. Fetch it again, then retry with its new ETag."


def etag_of(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return f'"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def not_modified(request: Request, etag: str) -> bool:
    """True when the client's ``If-None-Match`` names this tag (or ``*``)."""
    header = request.headers.get("If-None-Match", "")
    return bool(header) and any(t in (etag, "*") for t in _tags(header))


def precondition_check(request: Request, etag: str) -> None:
    """412 when the client sent ``If-Match`` and it does not name the current tag."""
    header = request.headers.get("If-Match", "")
    if header and not any(t in (etag, "*") for t in _tags(header)):
        raise PreconditionFailed(STALE, errors={"If-Match": ["Does not match the current ETag."]})
