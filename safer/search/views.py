"""The search page (``/search/?q=…``), reached from the box in the header. Thin: parse, run the
selector, log what was shown, render."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from safer.access.roles import role_required
from safer.access.seams import access_log_record_many
from safer.audit.models import AccessAction
from safer.search.query import HELP, SearchQueryError, search_query_parse
from safer.search.roles import SEARCH_ROLES
from safer.search.selectors import RESULTS_PER_TYPE, SearchGroup, search_for_user


@role_required(*SEARCH_ROLES)
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("q", "")
    error = ""
    query = None
    groups: list[SearchGroup] = []
    if "q" in request.GET:
        try:
            query = search_query_parse(raw)
        except SearchQueryError as invalid:
            error = invalid.message
        else:
            groups = search_for_user(user=request.user, query=query)
    if groups:
        # A result names a person: shown, not opened. One SEARCH row per record on the page
        # (one INSERT), as the case-file list does; the query text is never logged. Opening a
        # result goes through its own detail page, which logs the VIEW.
        access_log_record_many(
            user=request.user,
            action=AccessAction.SEARCH,
            records=[result.record for group in groups for result in group.results],
            request=request,
        )
    return render(
        request,
        "search/results.html",
        {
            "q": raw,
            "query": query,
            "error": error,
            "help": HELP,
            "groups": groups,
            "per_type": RESULTS_PER_TYPE,
        },
        status=400 if error else 200,
    )
