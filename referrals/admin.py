"""Admin for the SPA's configuration data: decline reasons, risk tools and their policies.

Referrals themselves are worked on through the triage pages (which check access and log reads),
never edited in the admin.
"""

from __future__ import annotations

from django.contrib import admin

from referrals.models import (
    DeclineReason,
    RiskBand,
    RiskPolicy,
    RiskQuestion,
    RiskQuestionnaire,
    SpaPolicy,
)


@admin.register(DeclineReason)
class DeclineReasonAdmin(admin.ModelAdmin):
    list_display = [
        "label",
        "code",
        "counts_as_not_supported",
        "requires_note",
        "is_active",
        "display_order",
    ]
    list_editable = ["is_active", "display_order"]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Declined referrals point at their reason: retire a reason, do not delete it.
        return False


class RiskQuestionInline(admin.TabularInline):
    model = RiskQuestion
    extra = 0


@admin.register(RiskQuestionnaire)
class RiskQuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "version", "is_current"]
    inlines = [RiskQuestionInline]


class RiskBandInline(admin.TabularInline):
    model = RiskBand
    extra = 0


@admin.register(RiskPolicy)
class RiskPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "questionnaire",
        "authority",
        "escalation_min_incidents",
        "escalation_min_crimes",
        "honour_based_abuse_refers",
    ]
    inlines = [RiskBandInline]


@admin.register(SpaPolicy)
class SpaPolicyAdmin(admin.ModelAdmin):
    """The SPA's targets per authority; the row without an authority is the default. A change
    applies to referrals received (or re-assessed as high risk) after it."""

    list_display = [
        "__str__",
        "triage_working_days",
        "first_contact_working_days",
        "high_risk_first_contact_working_days",
        "working_day_ends_at",
    ]
