"""Adult and CYP support cases in staff search. Registered from ``SupportConfig.ready()``.

A case is found through ``visible_to(user)`` (a worker's own and their team's open cases, a
manager's organisation, cases shared with them) by its reference or its case file's, by its own
person (the adult case's survivor, the CYP case's child: name or date of birth), by postcode where
the user may see the address, or by the safe-contact phone the case page shows.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from safer.access.roles import CASEWORK_ROLES
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.search.matching import search_records
from safer.search.query import SearchQuery
from safer.search.registry import SearchProvider, SearchResult, display_date
from support.models import AdultSupportCase, CypCase

SUPPORT_SEARCH_ROLES = CASEWORK_ROLES | {Role.PROVIDER_MANAGER}


def adult_case_search(
    *, user: User | AnonymousUser, query: SearchQuery, limit: int
) -> list[SearchResult]:
    found = search_records(
        AdultSupportCase.objects.visible_to(user),
        query,
        user=user,
        order_by=("-opened_at", "reference"),
        limit=limit,
        person_field="survivor",
    )
    if found is None:
        return []
    cases = found.select_related("survivor", "allocated_worker")
    return [
        SearchResult(
            record=case,
            reference=case.reference,
            url=reverse("support:adult-detail", kwargs={"case_id": case.id}),
            name=f"{case.survivor.given_name} {case.survivor.family_name}".strip(),
            details=(
                ("Status", case.get_status_display()),
                ("Worker", _worker(case)),
                ("Opened", display_date(case.opened_at)),
            ),
        )
        for case in cases
    ]


def cyp_case_search(
    *, user: User | AnonymousUser, query: SearchQuery, limit: int
) -> list[SearchResult]:
    found = search_records(
        CypCase.objects.visible_to(user),
        query,
        user=user,
        order_by=("-opened_at", "reference"),
        limit=limit,
        person_field="child",
    )
    if found is None:
        return []
    cases = found.select_related("child", "allocated_worker")
    return [
        SearchResult(
            record=case,
            reference=case.reference,
            url=reverse("support:cyp-detail", kwargs={"case_id": case.id}),
            name=f"{case.child.given_name} {case.child.family_name}".strip(),
            details=(
                ("Status", case.get_status_display()),
                ("Worker", _worker(case)),
                ("Date of birth", display_date(case.child.date_of_birth) or "Not known"),
            ),
        )
        for case in cases
    ]


def _worker(case: AdultSupportCase | CypCase) -> str:
    worker = case.allocated_worker
    if worker is None:
        return "Not allocated"
    return worker.get_full_name() or worker.email


ADULT_CASE_SEARCH = SearchProvider(
    key="adult-cases",
    heading="Adult support cases",
    order=40,
    roles=SUPPORT_SEARCH_ROLES,
    search=adult_case_search,
)
CYP_CASE_SEARCH = SearchProvider(
    key="cyp-cases",
    heading="Children and young people's cases",
    order=50,
    roles=SUPPORT_SEARCH_ROLES,
    search=cyp_case_search,
)
