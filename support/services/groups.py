"""Group work: create a group, add children (through their cases), record sessions and who came.

Attendance is written on each child's own timeline too, without naming the other children.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from django.db import transaction

from safer.access.roles import user_has_role
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.organisations.models import CommissioningAuthority, OrganisationKind
from support.exceptions import InvalidRecord, SupportError
from support.models import (
    Attendance,
    AttendanceStatus,
    CypCase,
    GroupMember,
    GroupSession,
    SupportGroup,
)
from support.services import common


@transaction.atomic
def support_group_create(
    *,
    authority: CommissioningAuthority,
    name: str,
    starts_on: dt.date,
    created_by: User,
    description: str = "",
    facilitator: User | None = None,
    ends_on: dt.date | None = None,
) -> SupportGroup:
    provider = created_by.organisation
    if provider is None or provider.kind != OrganisationKind.CYP_SUPPORT:
        raise SupportError("Only staff of a CYP provider can run groups.")
    if not provider.authorities.filter(pk=authority.pk).exists():
        raise SupportError(f"{provider} does not work for {authority}.")
    if not name.strip():
        raise InvalidRecord("Give the group a name.")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidRecord("A group cannot end before it starts.")
    if facilitator is not None and (
        facilitator.organisation_id != provider.pk
        or not user_has_role(facilitator, Role.CYP_WORKER)
    ):
        raise InvalidRecord("The facilitator must be a CYP worker of the same provider.")
    return SupportGroup.objects.create(
        provider=provider,
        authority=authority,
        name=name.strip()[:120],
        description=description.strip(),
        facilitator=facilitator,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=created_by,
    )


@transaction.atomic
def group_member_add(*, group: SupportGroup, case: CypCase, added_by: User) -> GroupMember:
    locked = common.lock(case)
    common.check_allocated(locked, attempted="added to a group")
    if locked.provider_id != group.provider_id or locked.authority_id != group.authority_id:
        raise InvalidRecord("The child's case must be with the group's provider and authority.")
    if GroupMember.objects.filter(group=group, cyp_case=locked).exists():
        raise InvalidRecord("The child is already in this group.")
    member = GroupMember.objects.create(group=group, cyp_case=locked, added_by=added_by)
    common.event(
        locked,
        "group_joined",
        f"Joined the group “{group.name}”",
        actor=added_by,
        group_id=str(group.pk),
    )
    return member


@transaction.atomic
def group_session_record(
    *,
    group: SupportGroup,
    held_on: dt.date,
    attendance: Mapping[uuid.UUID, str],
    recorded_by: User,
    topic: str = "",
) -> GroupSession:
    """Record a session and the attendance of each child in the group (by case id)."""
    common.not_in_future(held_on, "A group session")
    if held_on < group.starts_on:
        raise InvalidRecord("A session cannot be before the group starts.")
    members = {
        m.cyp_case_id: m
        for m in GroupMember.objects.filter(group=group).select_related("cyp_case__case_file")
    }
    unknown = set(attendance) - set(members)
    if unknown:
        raise InvalidRecord("Attendance can only be recorded for children in the group.")
    if any(status not in AttendanceStatus.values for status in attendance.values()):
        raise InvalidRecord("Choose attended, absent with notice or absent for each child.")
    if GroupSession.objects.filter(group=group, held_on=held_on).exists():
        raise InvalidRecord("A session on this day is already recorded.")
    session = GroupSession.objects.create(
        group=group, held_on=held_on, topic=topic.strip()[:200], recorded_by=recorded_by
    )
    Attendance.objects.bulk_create(
        Attendance(session=session, cyp_case_id=case_id, status=status)
        for case_id, status in attendance.items()
    )
    for case_id, status in attendance.items():
        case = members[case_id].cyp_case
        common.event(
            case,
            "group_attendance",
            f"Group “{group.name}” on {held_on:%d %b %Y}: {AttendanceStatus(status).label.lower()}",
            actor=recorded_by,
            group_id=str(group.pk),
            group_session_id=str(session.pk),
            status=status,
        )
    return session
