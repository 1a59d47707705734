"""Referrals in staff search (SPA staff only: ``Referral.objects.visible_to``), found by their
reference or the case file's (one reference for both), anyone in the household, the postcode or
the safe-contact phone. Registered from ``ReferralsConfig.ready()``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from referrals.models import Referral
from safer.access.roles import SPA_ROLES
from safer.accounts.models import User
from safer.search.matching import search_records
from safer.search.query import SearchQuery
from safer.search.registry import SearchProvider, SearchResult, display_date


def referral_search(
    *, user: User | AnonymousUser, query: SearchQuery, limit: int
) -> list[SearchResult]:
    found = search_records(
        Referral.objects.visible_to(user),
        query,
        user=user,
        order_by=("-received_at", "reference"),
        limit=limit,
    )
    if found is None:
        return []
    referrals = found.select_related("case_file__survivor", "case_file__household__district")
    return [
        SearchResult(
            record=referral,
            reference=referral.reference,
            url=reverse("referrals:detail", kwargs={"referral_id": referral.id}),
            name=(
                f"{referral.case_file.survivor.given_name} "
                f"{referral.case_file.survivor.family_name}"
            ).strip(),
            details=(
                ("District", referral.case_file.household.district.name),
                ("Status", referral.get_status_display()),
                ("Received", display_date(referral.received_at)),
            ),
        )
        for referral in referrals
    ]


REFERRAL_SEARCH = SearchProvider(
    key="referrals", heading="Referrals", order=10, roles=SPA_ROLES, search=referral_search
)
