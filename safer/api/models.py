"""Partner API: machine clients with hashed tokens, idempotency keys, and a log of every call.

An ``ApiClient`` belongs to one organisation and acts through its own service account (a ``User``
that cannot sign in), so the access seams every page uses (``visible_to``, the
``<record>_get_for_user`` selectors, the audit trail) apply to machines unchanged.
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from safer.organisations.models import Organisation


class Scope(models.TextChoices):
    REFERRALS_SUBMIT = "referrals:submit", "Submit referrals and read their status"
    JOBS_READ = "jobs:read", "Read the organisation's security jobs"
    JOBS_UPDATE = "jobs:update", "Record progress on the organisation's security jobs"


class ApiClientQuerySet(models.QuerySet["ApiClient"]):
    def usable(self) -> ApiClientQuerySet:
        """Neither revoked nor expired now."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiClient(models.Model):
    """One partner system. Its token is stored only as a SHA-256 hash and shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(max_length=120, help_text="e.g. 'Case system (production)'")
    # The account the client acts as: same organisation, a role matching its scopes, no password.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    scopes = ArrayField(models.CharField(max_length=30, choices=Scope.choices))
    # The public half of the token ("sfr_<prefix>.<secret>"): finds the row without the secret.
    token_prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = "API client"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=Q(revoked_at__isnull=True),
                name="api_client_unique_live_name",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="api_client_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})"

    @property
    def label(self) -> str:
        """How the client appears in audit rows (kept even if it is later renamed)."""
        return f"API client {self.token_prefix}: {self.name} ({self.organisation})"

    def has_scope(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes

    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class IdempotencyRecord(models.Model):
    """The first result of a request sent with an ``Idempotency-Key``, replayed to retries.

    Written in the same transaction as the thing it created, so a key never points at nothing
    and a failed request leaves no record (a corrected retry may reuse the key).
    """

    id = models.BigAutoField(primary_key=True)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=100)
    # Which operation the key was used for, and a hash of the request body: the same key with a
    # different request is refused rather than silently answered with the first result.
    operation = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_key_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"


class ApiCall(models.Model):
    """One row per API request: which client (or nobody), what, from where, and the answer.

    Append-only, like the rest of the audit trail. Reads of person-level records through the API
    are also in the access log, under the client's service account.
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    client = models.ForeignKey(
        ApiClient, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    client_label = models.CharField(max_length=300)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    route = models.CharField(max_length=100, blank=True)  # the URL name, e.g. "api-jobs:detail"
    status_code = models.PositiveSmallIntegerField()
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = "API call"
        indexes = [models.Index(fields=["client", "occurred_at"], name="api_call_client_idx")]
        triggers = [
            pgtrigger.Protect(
                name="api_call_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_label} {self.method} {self.path} {self.status_code}"
