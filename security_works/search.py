"""Security jobs in staff search. Registered from ``SecurityWorksConfig.ready()``.

SPA staff find the jobs of their cases as they find referrals. A contractor (or its provider
manager) finds only its *open* jobs whose address it may still see, and only by what the job page
shows it: the job or case reference, the survivor's first name, the postcode and the safe-contact
phone (never a date of birth, a surname or another household member). Once a job is completed or
cancelled it is never in a contractor's results, whatever was typed.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from safer.access.roles import SPA_ROLES, user_roles
from safer.accounts.models import User
from safer.casefile.models import case_file_address_visible_q
from safer.search.matching import People, search_records
from safer.search.query import SearchQuery
from safer.search.registry import SearchProvider, SearchResult, display_date
from security_works.models import SecurityJob
from security_works.selectors import CONTRACTOR_ROLES


def job_search(*, user: User | AnonymousUser, query: SearchQuery, limit: int) -> list[SearchResult]:
    if not isinstance(user, User):
        return []
    jobs = SecurityJob.objects.visible_to(user)
    people = People.HOUSEHOLD
    contractor = not user_roles(user) & SPA_ROLES
    if contractor:
        people = People.SURVIVOR_GIVEN_NAME
        # The address check row by row: the organisation's address grants (one per case file
        # with a job of theirs) are many; its open jobs at one postcode are few.
        jobs = jobs.open().filter(
            case_file_address_visible_q(user), contractor_id=user.organisation_id
        )
    matching = search_records(
        jobs,
        query,
        user=user,
        order_by=("-allocated_at", "reference"),
        limit=limit,
        people=people,
        few_records=contractor,  # its own open jobs only
    )
    if matching is None:
        return []
    found = matching.select_related("district")
    return [
        SearchResult(
            record=job,
            reference=job.reference,
            url=reverse("security_works:job-detail", kwargs={"job_id": job.id}),
            details=(
                ("District", job.district.name),
                ("Status", job.get_status_display()),
                ("Allocated", display_date(job.allocated_at)),
            ),
        )
        for job in found
    ]


JOB_SEARCH = SearchProvider(
    key="security-jobs",
    heading="Security jobs",
    order=30,
    roles=SPA_ROLES | CONTRACTOR_ROLES,
    search=job_search,
)
