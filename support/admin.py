"""Admin for the configurable data of support: needs areas, closure reasons, support policies.

Cases and their records are not editable here: they change only through the services (locked,
audited, with case events).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from support.models import ClosureReason, NeedsArea, SupportPolicy


class _NoDelete(admin.ModelAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Used by recorded cases: retire a row with ``is_active`` instead.
        return False


@admin.register(NeedsArea)
class NeedsAreaAdmin(_NoDelete):
    list_display = ("label", "code", "display_order", "is_active")
    list_editable = ("display_order", "is_active")


@admin.register(ClosureReason)
class ClosureReasonAdmin(_NoDelete):
    list_display = ("label", "code", "requires_note", "display_order", "is_active")
    list_editable = ("display_order", "is_active")


@admin.register(SupportPolicy)
class SupportPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "adult_contact_working_days",
        "cyp_contact_working_days",
        "review_interval_weeks",
        "retention_years",
        "gbo_reliable_change",
    )
