"""The record types search lists, each contributed by the app that owns it.

The core imports no app above it, yet search must list referrals, jobs and support cases. So each
app registers a ``SearchProvider`` from its ``AppConfig.ready()`` (as ``safer.exit`` does for its
hooks): the dependency points app → core. A provider runs *one* query, starting from its model's
``visible_to(user)``, and returns at most ``limit`` results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.utils import dateformat, timezone

from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.search.query import SearchQuery


@dataclass(frozen=True)
class SearchResult:
    record: models.Model  # for the access log ("shown in search results")
    reference: str
    url: str  # the record's own detail page, which logs the open
    name: str = ""  # the person's name, where the user may see it
    details: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (label, value) in words


class SearchFunction(Protocol):
    def __call__(
        self, *, user: User | AnonymousUser, query: SearchQuery, limit: int
    ) -> list[SearchResult]: ...  # pragma: no cover


@dataclass(frozen=True)
class SearchProvider:
    key: str  # "referrals", used in the page's ids
    heading: str  # "Referrals"
    order: int  # where its group is on the page, lowest first
    roles: frozenset[Role]  # who may get results from it (its visible_to decides which)
    search: SearchFunction


def display_date(value: dt.date | dt.datetime | None) -> str:
    """A date in GOV.UK style ("4 December 2026"), a time in UK local time; "" for none."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return dateformat.format(value, "j F Y")


_providers: dict[str, SearchProvider] = {}


def search_provider_register(provider: SearchProvider) -> None:
    """Add or replace ``provider`` by key (``ready()`` may run more than once)."""
    _providers[provider.key] = provider


def search_providers() -> list[SearchProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.key))


def search_roles() -> frozenset[Role]:
    """Every role some provider serves: who gets the search box."""
    roles: frozenset[Role] = frozenset()
    for provider in _providers.values():
        roles |= provider.roles
    return roles
