"""Paging a list without counting it: fetch one row more than the page to know whether there is
a next page. An exact ``COUNT(*)`` of a scoped list costs as much as reading it all, which at
national scale is the slowest part of a page nobody reads to the end (issue 17). The page's
links keep the filters (``query``: the GET parameters without ``page``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet
from django.http import QueryDict

T = TypeVar("T", bound=Model)


@dataclass(frozen=True)
class UncountedPage(Generic[T]):
    object_list: Sequence[T]
    number: int
    has_next: bool
    query: str  # the filters, url-encoded, for the page links

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def page_without_count(
    queryset: QuerySet[T], *, params: QueryDict, per_page: int, max_page: int = 1000
) -> UncountedPage[T]:
    """The page ``params["page"]`` of an *ordered* queryset (a bad or missing number is page 1;
    past the end is an empty page with a link back)."""
    try:
        number = min(max(int(params.get("page", "1")), 1), max_page)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    query = params.copy()
    query.pop("page", None)
    return UncountedPage(
        object_list=rows[:per_page],
        number=number,
        has_next=len(rows) > per_page,
        query=query.urlencode(),
    )
