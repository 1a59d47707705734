"""Reads of the configurable data: the support policy of an authority, the provider of a service,
the workers a case may be allocated to."""

from __future__ import annotations

import uuid

from django.db.models import Count, Q, QuerySet

from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES, Role
from safer.organisations.models import Organisation, OrganisationKind
from support.models import AdultSupportCase, ClosureReason, CypCase, NeedsArea, SupportPolicy


def support_policy_for(*, authority_id: uuid.UUID | None) -> SupportPolicy:
    """The authority's policy, else the scheme default, else the built-in defaults (unsaved)."""
    policies = {
        p.authority_id: p
        for p in SupportPolicy.objects.filter(Q(authority_id=authority_id) | Q(authority=None))
    }
    return policies.get(authority_id) or policies.get(None) or SupportPolicy()


def provider_suggest(*, authority_id: uuid.UUID, kind: str) -> Organisation | None:
    """The active provider of ``kind`` serving the authority with the fewest open cases.

    Usually there is one per service and authority; with several, work goes to the least loaded.
    """
    model = CypCase if kind == OrganisationKind.CYP_SUPPORT else AdultSupportCase
    candidates = (
        Organisation.objects.filter(kind=kind, is_active=True, authorities=authority_id)
        .distinct()
        .order_by("name")
    )
    counts = {
        row["provider_id"]: row["n"]
        for row in model.objects.open()
        .filter(provider__in=candidates)
        .values("provider_id")
        .annotate(n=Count("pk"))
    }
    ordered = sorted(candidates, key=lambda org: (counts.get(org.pk, 0), org.name))
    return ordered[0] if ordered else None


def workers_for(*, provider: Organisation, role: Role, authority_id: uuid.UUID) -> QuerySet[User]:
    """Active staff of the provider holding ``role`` and working for the authority."""
    return (
        User.objects.filter(
            organisation=provider,
            is_active=True,
            groups__name=ROLE_GROUP_NAMES[role],
            authorities=authority_id,
        )
        .distinct()
        .order_by("full_name")
    )


def closure_reasons_active() -> QuerySet[ClosureReason]:
    return ClosureReason.objects.filter(is_active=True)


def needs_areas_active() -> QuerySet[NeedsArea]:
    return NeedsArea.objects.filter(is_active=True)
