"""Users sign in with their email address; what they may do comes from roles (groups)."""

from __future__ import annotations

import uuid
from typing import Any

import pgtrigger
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from safer.organisations.models import CommissioningAuthority, Organisation, Team


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, related_name="members", null=True, blank=True
    )
    # The authorities whose cases this person may see (a subset of their organisation's).
    authorities = models.ManyToManyField(CommissioningAuthority, related_name="staff", blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class UserSession(models.Model):
    """One signed-in session of a user, so that all of them can be listed and ended at once.

    The row is the session's licence: the session policy middleware ends any signed-in session
    without one, so deleting rows (sign-out, deactivation, "end this session") ends sessions even
    if the session store kept a copy. It also carries the clock for the idle and absolute limits.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # A summary such as "Firefox on Windows": enough to recognise a device, not to fingerprint it.
    user_agent = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.user_agent or 'unknown device'}"


class AccountEventKind(models.TextChoices):
    ROLE_GRANTED = "role_granted", "Role granted"
    ROLE_REVOKED = "role_revoked", "Role revoked"
    DEACTIVATED = "deactivated", "Account deactivated"
    REACTIVATED = "reactivated", "Account reactivated"
    TWO_FACTOR_RESET = "two_factor_reset", "Two-factor authentication reset"


class AccountEvent(models.Model):
    """An append-only record of a change to someone's access: who changed whose, and when.

    Not an AuthEvent: those record what a person did when signing in (one user), these record
    what an administrator did to another account (a subject and an actor).
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=30, choices=AccountEventKind.choices)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="account_events")
    # Null when the system made the change (a data migration, the demo seed, a command).
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=300)
    role = models.CharField(max_length=30, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        triggers = [
            pgtrigger.Protect(
                name="account_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_id} by {self.actor_label}"


class SignInThrottle(models.Model):
    """Failed sign-ins for one email address, counted from every client address.

    django-axes locks an email *from one address*; this slows guesses at one account spread over
    many addresses (``safer.accounts.services.throttle``). Keyed by a keyed hash of the
    normalised email, so the table is not a list of the addresses people typed; a row exists for
    an email whether or not it has an account, so the delay tells nothing about accounts.
    """

    account_key = models.CharField(max_length=64, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.failures} failed sign-in(s)"
