"""Group work pages for the CYP provider's staff: groups, members, sessions and attendance."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from safer.access.roles import role_required, user_has_role
from safer.access.scoping import user_authorities
from safer.access.seams import record_get_for_user
from safer.accounts.roles import Role
from support.exceptions import SupportError
from support.forms import GroupForm, GroupMemberForm, GroupSessionForm
from support.models import Attendance, CypCase, GroupMember, GroupSession, SupportGroup
from support.services.groups import group_member_add, group_session_record, support_group_create
from support.views.common import user_of

GROUP_ROLES = (Role.CYP_WORKER, Role.PROVIDER_MANAGER)


def _group(request: HttpRequest, group_id: uuid.UUID) -> SupportGroup:
    return record_get_for_user(
        source=SupportGroup.objects, user=request.user, pk=group_id, request=request
    )


@role_required(*GROUP_ROLES)
@require_http_methods(["GET", "POST"])
def group_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = GroupForm(request.POST or None)
    authorities = list(user_authorities(user))
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if len(authorities) != 1:
                raise SupportError("Groups can be created by staff working for one authority.")
            group = support_group_create(
                authority=authorities[0],
                name=data["name"],
                description=data["description"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                facilitator=user if user_has_role(user, Role.CYP_WORKER) else None,
                created_by=user,
            )
        except SupportError as error:
            form.add_error(None, error.message)
            status = 400
        else:
            messages.success(request, "Group created")
            return redirect("support:group-detail", group_id=group.pk)
    elif request.method == "POST":
        status = 400
    groups = SupportGroup.objects.visible_to(user).select_related("facilitator")
    return render(request, "support/groups.html", {"groups": groups, "form": form}, status=status)


def _group_context(group: SupportGroup) -> dict[str, Any]:
    members = list(
        GroupMember.objects.filter(group=group)
        .select_related("cyp_case__child")
        .order_by("cyp_case__child__given_name")
    )
    sessions = list(GroupSession.objects.filter(group=group).order_by("-held_on"))
    marks = {
        (a.session_id, a.cyp_case_id): a for a in Attendance.objects.filter(session__group=group)
    }
    grid = [
        {
            "session": session,
            "cells": [(m, marks.get((session.pk, m.cyp_case_id))) for m in members],
        }
        for session in sessions
    ]
    return {"group": group, "members": members, "grid": grid}


@role_required(*GROUP_ROLES)
@require_GET
def group_detail(request: HttpRequest, group_id: uuid.UUID) -> HttpResponse:
    group = _group(request, group_id)
    return render(request, "support/group_detail.html", _group_context(group))


@role_required(*GROUP_ROLES)
@require_http_methods(["GET", "POST"])
def group_add_member(request: HttpRequest, group_id: uuid.UUID) -> HttpResponse:
    user = user_of(request)
    group = _group(request, group_id)
    cases = (
        CypCase.objects.workable_by(user)
        .open()
        .filter(provider_id=group.provider_id, authority_id=group.authority_id)
        .exclude(group_places__group=group)
        .select_related("child")
        .order_by("child__given_name")
    )
    form = GroupMemberForm(request.POST or None, cases=cases)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            group_member_add(group=group, case=form.cleaned_data["case"], added_by=user)
        except SupportError as error:
            form.add_error(None, error.message)
            status = 400
        else:
            messages.success(request, "Child added to the group")
            return redirect("support:group-detail", group_id=group.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "support/group_form.html",
        {"group": group, "form": form, "title": "Add a child to the group"},
        status=status,
    )


@role_required(*GROUP_ROLES)
@require_http_methods(["GET", "POST"])
def group_record_session(request: HttpRequest, group_id: uuid.UUID) -> HttpResponse:
    user = user_of(request)
    group = _group(request, group_id)
    members = list(GroupMember.objects.filter(group=group).select_related("cyp_case__child"))
    form = GroupSessionForm(request.POST or None, members=members)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            group_session_record(
                group=group,
                held_on=form.cleaned_data["held_on"],
                topic=form.cleaned_data["topic"],
                attendance=form.attendance(),
                recorded_by=user,
            )
        except SupportError as error:
            form.add_error(None, error.message)
            status = 400
        else:
            messages.success(request, "Session and attendance recorded")
            return redirect("support:group-detail", group_id=group.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "support/group_form.html",
        {"group": group, "form": form, "title": "Record a session and attendance"},
        status=status,
    )
