"""Read-only admin views of the audit tables (the database refuses changes anyway)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from safer.audit.models import AccessLog, AuthEvent


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessLog)
class AccessLogAdmin(_ReadOnlyAdmin):
    list_display = ["occurred_at", "user_label", "action", "record_type", "record_id", "source_ip"]
    list_filter = ["action", "record_type"]
    search_fields = ["user_label", "record_id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(AuthEvent)
class AuthEventAdmin(_ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "user", "attempted_username", "source_ip", "path"]
    list_filter = ["kind"]
    search_fields = ["attempted_username", "user__email"]
    date_hierarchy = "occurred_at"
    list_select_related = ["user"]
    show_full_result_count = False
