"""Running a search for a user: every provider their roles allow, one query each."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from safer.access.roles import user_roles
from safer.accounts.models import User
from safer.search.matching import shared_case_file_matches
from safer.search.query import SearchQuery
from safer.search.registry import SearchProvider, SearchResult, search_providers
from safer.search.roles import SEARCH_ROLES

RESULTS_PER_TYPE = 20


@dataclass(frozen=True)
class SearchGroup:
    provider: SearchProvider
    results: list[SearchResult]
    more: bool  # there were more than shown: the page asks for a narrower search

    @property
    def heading(self) -> str:
        return self.provider.heading


def search_for_user(
    *, user: User | AnonymousUser, query: SearchQuery, limit: int = RESULTS_PER_TYPE
) -> list[SearchGroup]:
    """The results, grouped by record type, for the types the user's roles may search. Each
    group is one query (it fetches ``limit + 1`` rows to know whether there are more; never a
    COUNT over the table). Groups with no results are left out. The case files the query
    matches are gathered once for all the providers (``shared_case_file_matches``)."""
    roles = user_roles(user)
    groups: list[SearchGroup] = []
    with shared_case_file_matches():
        for provider in search_providers():
            if not roles & provider.roles:
                continue
            results = provider.search(user=user, query=query, limit=limit + 1)
            if results:
                groups.append(
                    SearchGroup(
                        provider=provider, results=results[:limit], more=len(results) > limit
                    )
                )
    return groups


def user_may_search(user: User | AnonymousUser | None) -> bool:
    return bool(user_roles(user) & set(SEARCH_ROLES))
