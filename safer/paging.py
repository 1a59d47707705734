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

T = TypeVar("T")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class UncountedPage(Generic[T]):
    object_list: Sequence[T]
    number: int
    has_next: bool
    query: str  # the filters, url-encoded, for the page links
    param: str = "page"  # the GET parameter holding the page number (several lists on a page)

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


def page_number(params: QueryDict, *, param: str = "page", max_page: int = 1000) -> int:
    """The page number asked for (a bad or missing number is page 1)."""
    try:
        return min(max(int(params.get(param, "1")), 1), max_page)
    except (TypeError, ValueError):
        return 1


def page_of_rows(
    rows: Sequence[T], *, number: int, params: QueryDict, per_page: int, param: str = "page"
) -> UncountedPage[T]:
    """The page from ``rows``: those of page ``number`` and one more, if there is one."""
    query = params.copy()
    query.pop(param, None)
    return UncountedPage(
        object_list=list(rows[:per_page]),
        number=number,
        has_next=len(rows) > per_page,
        query=query.urlencode(),
        param=param,
    )


def page_without_count(
    queryset: QuerySet[M],
    *,
    params: QueryDict,
    per_page: int,
    max_page: int = 1000,
    param: str = "page",
) -> UncountedPage[M]:
    """The page ``params[param]`` of an *ordered* queryset (a bad or missing number is page 1;
    past the end is an empty page with a link back)."""
    number = page_number(params, param=param, max_page=max_page)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return page_of_rows(rows, number=number, params=params, per_page=per_page, param=param)
