"""Group work of the CYP service: a group, the children in it, its sessions and attendance.

A group belongs to one provider and one authority; its pages are for that provider's CYP staff.
A child joins through their own case, so attendance counts towards that child's support.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.utils import timezone

from safer.organisations.models import CommissioningAuthority, Organisation
from support.models.cases import CypCase

if TYPE_CHECKING:
    from safer.accounts.models import User


class SupportGroupQuerySet(models.QuerySet["SupportGroup"]):
    def visible_to(self, user: User | AnonymousUser) -> SupportGroupQuerySet:
        from support.access import support_group_scope_q

        return self.filter(support_group_scope_q(user))


@pghistory.track()
class SupportGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey(
        CommissioningAuthority, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = SupportGroupQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name"]

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class GroupMember(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="members")
    cyp_case = models.ForeignKey(CypCase, on_delete=models.CASCADE, related_name="group_places")
    joined_on = models.DateField(default=timezone.localdate)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["joined_on"]
        constraints = [
            models.UniqueConstraint(fields=["group", "cyp_case"], name="group_member_once")
        ]

    def __str__(self) -> str:
        return f"Group place {str(self.id)[:8]}"


class GroupSession(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="sessions")
    held_on = models.DateField()
    topic = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["held_on"]
        constraints = [
            models.UniqueConstraint(fields=["group", "held_on"], name="group_session_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.group} on {self.held_on:%Y-%m-%d}"


class AttendanceStatus(models.TextChoices):
    ATTENDED = "attended", "Attended"
    APOLOGISED = "apologised", "Absent, let us know"
    ABSENT = "absent", "Absent"


@pghistory.track()
class Attendance(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="attendance")
    cyp_case = models.ForeignKey(CypCase, on_delete=models.CASCADE, related_name="attendance")
    status = models.CharField(max_length=12, choices=AttendanceStatus.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "cyp_case"], name="attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.session})"
