"""Who sees which support case (documented in docs/security.md, "What each role sees").

- An adult support worker sees the *open* adult cases of their provider allocated to them or to
  their team; a CYP worker the same for CYP cases. A worker never sees the other service's
  cases (the CYP worker does not read the adult's support notes, nor the adult worker the
  child's therapeutic notes) unless one is shared with them (``read_support_notes``, given and
  withdrawn by ``support.services.sharing``), and then only to read.
- A provider manager sees every case (open or closed) of their organisation.
- SPA staff, contractors, commissioners, auditors, administrators and referrers see none: the
  SPA follows a case through the case file's timeline, which carries no notes.

Every rule is also cut to the user's authorities and to case files they can see
(``CaseFile.objects.visible_to``), so a share or an allocation can never reach outside them.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q

from safer.access.grants import granted_q, holders_for_person
from safer.access.request_cache import access_cached
from safer.access.roles import CASEWORK_ROLES, user_roles
from safer.access.scoping import authority_scope_q
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import case_file_visible_q

NOTHING = Q(pk__in=[])


def worker_role_for(model: type[models.Model]) -> Role:
    """The role that works on this kind of case."""
    from support.models import CypCase

    return Role.CYP_WORKER if issubclass(model, CypCase) else Role.ADULT_SUPPORT_WORKER


def support_case_scope_q(
    model: type[models.Model], user: User | AnonymousUser | object, *, include_shared: bool
) -> Q:
    """The filter behind ``visible_to`` (``include_shared``) and ``workable_by`` (without).

    Built once per request for each user, kind and ``include_shared`` (``access_cached``): a
    manager's home embeds it in up to eight sub-queries, and building its nested per-row checks
    (each a queryset filtered in Python) was a third of the page's CPU (issue 17). The ``Q`` only
    holds the user's roles, organisation and team, all read once per request already; the rows
    it keeps are decided by the database when each statement runs. Django never changes a ``Q``
    or the querysets inside it when filtering with it (each use resolves a copy)."""
    if not isinstance(user, User):
        return NOTHING
    key = (
        "support_case_scope_q",
        model._meta.label,
        user.pk,
        user.organisation_id,
        user.team_id,
        include_shared,
    )
    return access_cached(key, lambda: _support_case_scope_q(model, user, include_shared))


def _support_case_scope_q(model: type[models.Model], user: User, include_shared: bool) -> Q:
    from support.models.cases import READ_SUPPORT_NOTES

    roles = user_roles(user)
    reasons: list[Q] = []
    if worker_role_for(model) in roles and user.organisation_id is not None:
        mine = Q(allocated_worker_id=user.pk)
        if user.team_id is not None:
            mine |= Q(team_id=user.team_id)
        reasons.append(Q(provider_id=user.organisation_id) & mine & ~Q(status="closed"))
    if Role.PROVIDER_MANAGER in roles and user.organisation_id is not None:
        reasons.append(Q(provider_id=user.organisation_id))
    if include_shared and roles & (CASEWORK_ROLES | {Role.PROVIDER_MANAGER}):
        holders = holders_for_person(user, include_team=False)
        reasons.append(granted_q(model, READ_SUPPORT_NOTES, holders))
    if not reasons:
        return NOTHING
    # The case file checked for each case read (``case_file_visible_q``), not "case_file_id IN
    # (every case file the user sees)": for a provider manager that set is the organisation's
    # (684,700 at a million referrals), hashed whole before a page of 25 could be kept. The
    # lists read their index in order and stop at the page; the counts are capped (issue 17).
    in_scope = authority_scope_q(user) & case_file_visible_q(user)
    return in_scope & reduce(or_, reasons)


def support_group_scope_q(user: User | AnonymousUser | object) -> Q:
    """Groups of the user's own provider, for its CYP workers and managers, in their scope."""
    if not isinstance(user, User) or user.organisation_id is None:
        return NOTHING
    if not user_roles(user) & {Role.CYP_WORKER, Role.PROVIDER_MANAGER}:
        return NOTHING
    return authority_scope_q(user) & Q(provider_id=user.organisation_id)
