"""A cache of one user's roles and authorities that lives for one request, and no longer.

A staff page asks "which roles does this user hold?" and "which authorities may they see?" from
the role check, the menu, each selector and each search provider: six to eleven times a request.
The answers are read once per request instead. Not longer: a role or authority removed takes effect
on the user's next request, which is the rule ``user_roles`` promises. Outside a request (Celery
tasks, management commands, tests calling services) nothing is cached.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")

_request_cache: ContextVar[dict[Hashable, object] | None] = ContextVar(
    "safer_access_request_cache", default=None
)


@contextmanager
def access_cache_for_request() -> Iterator[None]:
    token = _request_cache.set({})
    try:
        yield
    finally:
        _request_cache.reset(token)


def access_cached(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, remembered under ``key`` until the end of the current request."""
    cache = _request_cache.get()
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]  # type: ignore[return-value]


def access_cache_is_active() -> bool:
    return _request_cache.get() is not None


def access_cache_forget() -> None:
    """Drop what this request has cached: called by the services that change roles or scope, so
    the rest of the request that changed them does not act on the old answer."""
    cache = _request_cache.get()
    if cache is not None:
        cache.clear()


class AccessCacheMiddleware:
    """Opens the per-request cache around everything after authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with access_cache_for_request():
            return self.get_response(request)
