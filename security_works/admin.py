"""Admin for the configurable data of security works: the schedule of rates and the SLA policies.

Jobs are not editable here: their status moves only through the services (locked, audited).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from security_works.models import Measure, SlaPolicy


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "description",
        "unit",
        "unit_cost",
        "effective_from",
        "effective_to",
        "affects_escape_routes",
    )
    list_filter = ("affects_escape_routes",)
    search_fields = ("code", "description")
    ordering = ("code", "-effective_from")

    def has_delete_permission(self, request: HttpRequest, obj: Measure | None = None) -> bool:
        # A rate used by a survey must stay; end it with ``effective_to`` instead.
        return False


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "emergency_make_safe_hours",
        "survey_working_days",
        "installation_working_days",
        "amber_working_days",
        "approval_threshold",
    )
