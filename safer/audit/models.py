"""The audit trail: who looked at what (access log) and sign-in events.

Change history (who changed what, before/after) is kept by django-pghistory event tables on each
case-bearing model. All audit tables are append-only: database triggers reject UPDATE and DELETE.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper
from django.utils import timezone


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed a record"
    REVEAL_ADDRESS = "reveal_address", "Revealed an address"
    DOWNLOAD = "download", "Downloaded a file"
    EXPORT = "export", "Exported records"
    SEARCH = "search", "Saw a record in search results"
    BREAK_GLASS = "break_glass", "Opened a record outside their scope (break-glass)"
    AUDIT_VIEW = "audit_view", "Viewed the audit trail"


class AccessLog(models.Model):
    """One row per read of a person-level record. Never holds the sensitive values themselves."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # A label kept even if the user is later renamed: the auditor sees who it was at the time.
    user_label = models.CharField(max_length=300)
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    record_type = models.CharField(max_length=100, db_index=True)  # "app_label.model"
    record_id = models.CharField(max_length=64, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)  # required for break-glass
    # The commissioning authority the record read belonged to when it was read, stamped by the
    # writer (``safer.audit.scoping.record_authority_id``) so an auditor's scope is a plain
    # filter. NULL for reads of things with no single authority (a list, a user account,
    # reference data) and for rows written before the column existed: those fall back to the
    # older rules in ``AuditScope.access_log_q``. Never backfilled: the table is append-only.
    authority = models.ForeignKey(
        "organisations.CommissioningAuthority",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # access_authority_time_idx leads with it
        related_name="+",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["record_type", "record_id", "occurred_at"], name="access_record_idx"
            ),
            # The access log's page, newest first (``access_log_page``): per authority for the
            # stamped rows (it also serves the foreign key), and the unstamped rows on their own.
            models.Index(
                fields=["authority", "-occurred_at", "-id"], name="access_authority_time_idx"
            ),
            models.Index(
                fields=["-occurred_at", "-id"],
                name="access_unstamped_time_idx",
                condition=models.Q(authority__isnull=True),
            ),
            # Break-glass openings per authority, newest first (partial: rare), for the
            # auditor's home, which counts them apart from the reads (``access_counts_since``).
            models.Index(
                fields=["authority", "-occurred_at"],
                name="access_break_glass_idx",
                condition=models.Q(action="break_glass"),
            ),
            # Which record types have unstamped rows (``unstamped_access_log_q``).
            models.Index(
                fields=["record_type"],
                name="access_unstamped_type_idx",
                condition=models.Q(authority__isnull=True),
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="access_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_label} {self.action} {self.record_type}:{self.record_id}"


class AuthEventKind(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out"
    SIGN_OUT = "sign_out", "Signed out"
    OTP_VERIFIED = "otp_verified", "Second factor verified"
    OTP_FAILED = "otp_failed", "Second factor failed"
    OTP_ENROLLED = "otp_enrolled", "Second factor set up"
    BACKUP_CODE_USED = "backup_code_used", "Backup code used"
    PASSWORD_RESET = "password_reset", "Password reset"
    PERMISSION_DENIED = "permission_denied", "Permission denied"
    SESSION_EXPIRED = "session_expired", "Session expired"
    SESSIONS_ENDED = "sessions_ended", "All sessions ended"


class AuthEvent(models.Model):
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=30, choices=AuthEventKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What was typed as the username for a failed attempt (never the password).
    attempted_username = models.CharField(max_length=254, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # An auditor's sign-in events are their authorities' staff's (a user may serve
            # several authorities, so an event has no single one): read per user of theirs,
            # newest first, and failed attempts by the name typed (``AuditScope.auth_event_q``;
            # the home's alerts read each side through its index, ``auth_alerts_since``).
            models.Index(fields=["user", "-occurred_at", "-id"], name="auth_event_user_time_idx"),
            models.Index(
                Upper("attempted_username"),
                F("occurred_at").desc(),
                name="auth_event_attempt_time_idx",
                condition=models.Q(user__isnull=True),
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="auth_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.attempted_username or self.user_id}"
