"""The retention schedule in the admin: the system administrator's reference data (view, add,
change, delete; granted by migration 0002). Runs, holds and requests are not here: they are
records of what happened, seen on their pages."""

from __future__ import annotations

from django.contrib import admin

from safer.dataprotection.models import RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    list_display = ("record_type", "authority", "measured_from", "years", "basis")
    list_filter = ("authority", "record_type")
    fields = ("authority", "record_type", "measured_from", "years", "basis")
