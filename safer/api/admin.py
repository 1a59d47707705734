"""Partner API clients: listed and revoked here. A token is issued only by
``manage.py api_client_create``, which shows it once; nothing here can show it again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from safer.accounts.models import User
from safer.api.models import ApiCall, ApiClient
from safer.api.services import api_client_revoke


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organisation",
        "token_prefix",
        "scopes",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["organisation"]
    search_fields = ["name", "token_prefix", "organisation__name"]
    list_select_related = ["organisation"]
    actions = ["revoke"]
    # Everything is read-only: clients change only through the services (create, revoke).
    readonly_fields = [f.name for f in ApiClient._meta.fields if f.name != "token_hash"]
    exclude = ["token_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected clients' tokens now")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        revoked = sum(api_client_revoke(client=c, revoked_by=actor) for c in queryset)
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "client_label", "method", "path", "status_code", "source_ip"]
    list_filter = ["status_code", "method"]
    search_fields = ["client_label", "path"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
