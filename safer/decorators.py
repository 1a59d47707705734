"""View decorators for the public side of the service."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

# Set on the request by ``with_exit_this_page``; read by ``safer.context_processors.service``.
_EXIT_THIS_PAGE_ATTR = "safer_show_exit_this_page"


def no_store(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a response as never to be stored (form pages holding what a referrer typed)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        patch_cache_control(response, no_store=True, private=True)
        return response

    return wrapper


def with_exit_this_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Show "Exit this page" on the view's page: every page a survivor may be reading.

    For a class-based view use ``method_decorator(with_exit_this_page, name="dispatch")``.
    The flag lives on the request so it also reaches ``TemplateResponse``s rendered later.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        setattr(request, _EXIT_THIS_PAGE_ATTR, True)
        return view(request, *args, **kwargs)

    return wrapper


def shows_exit_this_page(request: HttpRequest) -> bool:
    return bool(getattr(request, _EXIT_THIS_PAGE_ATTR, False))
