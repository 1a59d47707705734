from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from safer.decorators import shows_exit_this_page


def service(request: HttpRequest) -> dict[str, object]:
    return {
        "service_name": settings.SERVICE_NAME,
        "council_name": settings.COUNCIL_NAME,
        "safer_environment": settings.SAFER_ENVIRONMENT,
        # A view's own context may still set show_exit_this_page: it takes precedence.
        "show_exit_this_page": shows_exit_this_page(request),
    }
