"""Writes of the partner API: clients and their tokens, the call log, idempotent execution.

A token is ``sfr_<prefix>.<secret>``. Only its SHA-256 is stored; the prefix (not secret) finds
the row and the hashes are compared in constant time. The whole token is returned once, by
``api_client_create``, and can never be shown again: a lost token is revoked and replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from safer import sqlbatch
from safer.access.request_cache import access_cache_forget
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.accounts.services.administration import user_role_grant
from safer.api.models import ApiCall, ApiClient, IdempotencyRecord, Scope
from safer.audit.models import AuthEventKind
from safer.audit.services import auth_event_record, client_ip
from safer.batches import delete_in_batches
from safer.organisations.models import Organisation, OrganisationKind

TOKEN_PREFIX = "sfr_"  # noqa: S105 - a label, not a secret
DEFAULT_VALIDITY = dt.timedelta(days=365)
# A partner's token is a standing credential: it must be replaced at least every two years.
MAX_VALIDITY = dt.timedelta(days=730)
# last_used_at is for people ("is this client still in use?"): minute precision is plenty, and
# it spares a write on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# How long an Idempotency-Key is remembered (docs/api.md): far past any client's retries, and no
# longer, since the rows are never read again. After it the key is free and the row is purged.
IDEMPOTENCY_KEY_RETENTION = dt.timedelta(days=30)
IDEMPOTENCY_PURGE_BATCH = 5_000
# Scopes that act on security jobs need a contractor's organisation (the jobs are its own).
JOB_SCOPES = frozenset({Scope.JOBS_READ, Scope.JOBS_UPDATE})


class ApiClientRefused(Exception):
    """A token that does not authenticate. ``reason`` is for the audit trail only: callers all
    get the same answer, so a guessed prefix learns nothing."""

    def __init__(self, reason: str, prefix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.prefix = prefix


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request."""


@dataclass(frozen=True)
class IssuedToken:
    client: ApiClient
    token: str  # shown once; never stored


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_client_create(
    *,
    organisation: Organisation,
    name: str,
    scopes: Iterable[Scope | str],
    created_by: User | None,
    valid_for: dt.timedelta = DEFAULT_VALIDITY,
) -> IssuedToken:
    """Register a partner system and issue its token (returned here, once)."""
    wanted = sorted({Scope(s) for s in scopes})
    name = name.strip()
    if not wanted:
        raise ValidationError("Give the client at least one scope.")
    if not name:
        raise ValidationError("Give the client a name.")
    if not organisation.is_active:
        raise ValidationError(f"{organisation} is not active.")
    if JOB_SCOPES & set(wanted) and organisation.kind != OrganisationKind.SECURITY_CONTRACTOR:
        raise ValidationError("Only a security contractor's client can have job scopes.")
    if not dt.timedelta(0) < valid_for <= MAX_VALIDITY:
        raise ValidationError(f"A token is valid for at most {MAX_VALIDITY.days} days.")
    if ApiClient.objects.filter(
        organisation=organisation, name=name, revoked_at__isnull=True
    ).exists():
        raise ValidationError(f"{organisation} already has a client called {name!r}.")

    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}.{secrets.token_urlsafe(32)}"
    now = timezone.now()
    user = User.objects.create_user(
        email=f"api-client-{prefix}@api-clients.invalid",
        password=None,  # unusable: the account exists for the access seams, not to sign in
        full_name=f"API client: {name} ({organisation.name})"[:150],
        organisation=organisation,
    )
    user.authorities.set(organisation.authorities.all())
    access_cache_forget()
    for role in _roles_for(wanted):
        user_role_grant(user=user, role=role, granted_by=None)
    client = ApiClient.objects.create(
        organisation=organisation,
        name=name,
        user=user,
        scopes=[str(s) for s in wanted],
        token_prefix=prefix,
        token_hash=token_hash(token),
        created_at=now,
        created_by=created_by,
        expires_at=now + valid_for,
    )
    return IssuedToken(client=client, token=token)


def _roles_for(scopes: Iterable[Scope]) -> set[Role]:
    roles = set()
    if Scope.REFERRALS_SUBMIT in scopes:
        roles.add(Role.REFERRER)
    if JOB_SCOPES & set(scopes):
        roles.add(Role.CONTRACTOR)
    return roles


@transaction.atomic
def api_client_revoke(*, client: ApiClient, revoked_by: User | None) -> bool:
    """Stop the token working now. Returns False if it was already revoked."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is not None:
        return False
    client.revoked_at = timezone.now()
    client.revoked_by = revoked_by
    client.save(update_fields=["revoked_at", "revoked_by"])
    # The service account goes too, so nothing can act as the client through another path.
    User.objects.filter(pk=client.user_id).update(is_active=False)
    return True


def api_client_authenticate(*, token: str, request: HttpRequest | None = None) -> ApiClient:
    """The usable client this token belongs to, or ``ApiClientRefused`` (and an audit row)."""
    try:
        client = _client_for_token(token)
    except ApiClientRefused as refused:
        auth_event_record(
            kind=AuthEventKind.SIGN_IN_FAILED,
            attempted_username=f"api-token:{refused.prefix}" if refused.prefix else "api-token",
            request=request,
            detail=f"API token refused: {refused.reason}",
        )
        raise
    now = timezone.now()
    if client.last_used_at is None or client.last_used_at < now - LAST_USED_RESOLUTION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client


def _client_for_token(token: str) -> ApiClient:
    if not token.startswith(TOKEN_PREFIX) or "." not in token or len(token) > 200:
        raise ApiClientRefused("malformed")
    prefix = token.removeprefix(TOKEN_PREFIX).split(".", 1)[0]
    presented = token_hash(token)
    client = (
        ApiClient.objects.select_related("user", "organisation")
        .filter(token_prefix=prefix[:16])
        .first()
    )
    # Compare even when nothing matched, so "no such prefix" costs what "wrong secret" costs.
    stored = client.token_hash if client is not None else "0" * 64
    matches = hmac.compare_digest(stored, presented)
    if client is None or not matches:
        raise ApiClientRefused("unknown token", prefix=prefix[:16])
    if client.revoked_at is not None:
        raise ApiClientRefused("revoked", prefix=prefix)
    if client.expires_at <= timezone.now():
        raise ApiClientRefused("expired", prefix=prefix)
    if not client.user.is_active or not client.organisation.is_active:
        raise ApiClientRefused("account or organisation inactive", prefix=prefix)
    return client


def api_call_record(
    *,
    client: ApiClient | None,
    user: User | None = None,
    request: HttpRequest,
    route: str,
    status_code: int,
    duration_ms: int,
) -> ApiCall:
    """Log one request (successful or not) against the client that made it (or the signed-in
    person, for the schema)."""
    call = api_call_new(
        client=client,
        user=user,
        request=request,
        route=route,
        status_code=status_code,
        duration_ms=duration_ms,
    )
    call.save(force_insert=True)
    return call


def api_call_new(
    *,
    client: ApiClient | None,
    user: User | None = None,
    request: HttpRequest,
    route: str,
    status_code: int,
    duration_ms: int,
) -> ApiCall:
    """``api_call_record``'s row, not saved yet: for a view that inserts it in its own
    transaction with its other writes, in one round trip (``safer.sqlbatch``)."""
    if client is not None:
        label = client.label
    elif user is not None:
        label = f"session: {user.full_name} <{user.email}>"
    else:
        label = "unauthenticated"
    return ApiCall(
        client=client,
        client_label=label[:300],
        method=request.method or "",
        path=request.path[:300],
        route=route[:100],
        status_code=status_code,
        source_ip=client_ip(request),
        idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
        duration_ms=max(duration_ms, 0),
    )


# --- Idempotency ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(data: Any) -> str:
    """A hash of the request body that ignores key order and whitespace."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@transaction.atomic
def idempotent_execute(
    *,
    client: ApiClient,
    key: str,
    operation: str,
    fingerprint: str,
    perform: Callable[[], tuple[int, dict[str, Any]]],
    with_answer: Sequence[models.Model] = (),
) -> IdempotentResult:
    """Run ``perform`` once per (client, key); later calls get the first result back.

    Two requests with the same key at the same moment: the second waits on the first's row
    (``INSERT ... ON CONFLICT DO NOTHING`` blocks on an uncommitted duplicate), then replays its
    result. If ``perform`` raises, the record goes with the rollback and the key is free again.

    ``with_answer``: new rows ``perform`` adds to this list (the call's audit row), inserted with
    the record's answer in one round trip (``safer.sqlbatch``; issue 17).
    """
    record = _idempotency_record_claim(
        client=client, key=key, operation=operation, fingerprint=fingerprint
    ) or IdempotencyRecord.objects.select_for_update().get(client=client, key=key)
    if record.response_status is not None:
        if record.operation != operation or not hmac.compare_digest(
            record.request_hash, fingerprint
        ):
            raise IdempotencyKeyReused(key)
        return IdempotentResult(
            status=record.response_status, body=dict(record.response_body or {}), replayed=True
        )
    status, body = perform()
    record.operation = operation
    record.request_hash = fingerprint
    record.response_status = status
    record.response_body = body
    answer = sqlbatch.update(
        IdempotencyRecord.objects.filter(pk=record.pk),
        operation=operation,
        request_hash=fingerprint,
        response_status=status,
        response_body=body,
    )
    sqlbatch.execute_together(sqlbatch.inserts(with_answer), then=answer)
    return IdempotentResult(status=status, body=body, replayed=False)


def _idempotency_record_claim(
    *, client: ApiClient, key: str, operation: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Insert the key's record, or start it afresh if the key's record has expired (an expired
    key is free again at once, whether or not the nightly purge has run yet); the record, when
    this request wrote it (the row is then this transaction's until it ends: no second read),
    else None (another request has the key). One statement, not a delete, an insert and a read
    (issue 17)."""
    record = IdempotencyRecord(
        client=client, key=key, operation=operation, request_hash=fingerprint
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {IdempotencyRecord._meta.db_table} AS r "  # noqa: S608
            "(client_id, key, operation, request_hash, created_at) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (client_id, key) DO UPDATE SET operation = EXCLUDED.operation, "
            "request_hash = EXCLUDED.request_hash, response_status = NULL, response_body = NULL, "
            "created_at = EXCLUDED.created_at WHERE r.created_at < %s RETURNING r.id",
            [
                client.pk,
                key,
                operation,
                fingerprint,
                record.created_at,
                record.created_at - IDEMPOTENCY_KEY_RETENTION,
            ],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return None
    record.id = inserted[0]
    return record


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the records of keys past ``IDEMPOTENCY_KEY_RETENTION``; returns how many.

    In batches, each its own transaction, so a large backlog never holds locks for long; safe to
    run twice or from two workers at once (a row already gone is simply not counted again).
    """
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_RETENTION
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    return delete_in_batches(expired, order_by="id", batch=IDEMPOTENCY_PURGE_BATCH)
