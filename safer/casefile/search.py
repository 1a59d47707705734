"""Case files in staff search: found by reference, by anyone in the household (name, date of
birth), by postcode where the user may see the address, or by the safe-contact phone."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.casefile.models import CaseFile
from safer.search.matching import search_records
from safer.search.query import SearchQuery
from safer.search.registry import SearchProvider, SearchResult, display_date

# The roles that open case files (safer.casefile.views.CASEFILE_ROLES).
CASEFILE_SEARCH_ROLES = frozenset(
    {
        Role.SPA_TRIAGE,
        Role.SPA_MANAGER,
        Role.ADULT_SUPPORT_WORKER,
        Role.CYP_WORKER,
        Role.PROVIDER_MANAGER,
    }
)


def casefile_search(
    *, user: User | AnonymousUser, query: SearchQuery, limit: int
) -> list[SearchResult]:
    found = search_records(
        # Grants checked per case file: a search reads a page of them, or the few that match.
        CaseFile.objects.visible_to(user, per_row=True),
        query,
        user=user,
        order_by=("-opened_at", "reference"),
        limit=limit,
        case_file_field="pk",
    )
    if found is None:
        return []
    case_files = found.select_related("survivor", "household__district")
    return [
        SearchResult(
            record=case_file,
            reference=case_file.reference,
            url=reverse("casefile:detail", kwargs={"case_file_id": case_file.id}),
            name=f"{case_file.survivor.given_name} {case_file.survivor.family_name}".strip(),
            details=(
                ("District", case_file.household.district.name),
                ("Status", case_file.get_status_display()),
                ("Opened", display_date(case_file.opened_at)),
            ),
        )
        for case_file in case_files
    ]


CASEFILE_SEARCH = SearchProvider(
    key="case-files",
    heading="Case files",
    order=20,
    roles=CASEFILE_SEARCH_ROLES,
    search=casefile_search,
)
