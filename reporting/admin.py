"""Admin for reporting's configurable data: return templates (sections, lines, category
mappings) per financial year, KPI targets, age bands and the reporting policy. Runs are shown
read-only: they change only through the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from reporting.commissioning.services import (
    CommissioningError,
    commissioned_units_check,
    commissioned_units_record,
    commissioned_units_update,
)
from reporting.models import (
    AgeBand,
    CategoryMapping,
    CommissionedUnits,
    ContractSpend,
    KpiContractTarget,
    KpiDefinition,
    ReportingPolicy,
    ReportRun,
    ReturnLine,
    ReturnSection,
    ReturnTemplate,
)
from reporting.rollover import (
    financial_year_label,
    financial_year_start_of,
    return_template_derive,
    return_template_mark_checked,
)
from reporting.selectors import return_templates_needing_check
from safer.accounts.models import User


class ReturnSectionInline(admin.TabularInline):
    model = ReturnSection
    extra = 0
    fields = ("display_order", "code", "title", "kind", "columns", "description")
    show_change_link = True


class CategoryMappingInline(admin.TabularInline):
    model = CategoryMapping
    extra = 0
    fields = ("dimension", "source_code", "target_code")


@admin.register(ReturnTemplate)
class ReturnTemplateAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "financial_year", "is_active", "how_made")
    list_filter = ("kind", "financial_year", "is_active")
    readonly_fields = ("derived_from", "derived_at", "checked_at", "checked_by")
    inlines = (ReturnSectionInline, CategoryMappingInline)
    actions = ("copy_to_next_year", "mark_checked")

    @admin.display(description="How it was made")
    def how_made(self, template: ReturnTemplate) -> str:
        if template.derived_from_id is None:
            return "Entered by an administrator or shipped with SAFER"
        if template.needs_check:
            return f"Derived from {template.derived_from_year} automatically: not yet checked"
        when = template.checked_at.strftime("%-d %B %Y") if template.checked_at else ""
        return f"Derived, checked by {template.checked_by or 'an administrator'} on {when}"

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        for template in return_templates_needing_check():
            self.message_user(
                request,
                f"{template} was derived automatically from "
                f"{template.derived_from_year}"
                " and has not been checked: compare its lines and categories with this year's "
                "guidance, then use “Mark as checked”.",
                level=messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description="Copy to the next financial year (inactive until checked)")
    def copy_to_next_year(self, request: HttpRequest, queryset: QuerySet[ReturnTemplate]) -> None:
        for template in queryset:
            next_year = financial_year_label(financial_year_start_of(template.financial_year) + 1)
            if ReturnTemplate.objects.filter(kind=template.kind, financial_year=next_year).exists():
                self.message_user(
                    request,
                    f"{template}: a {next_year} template already exists.",
                    level=messages.ERROR,
                )
                continue
            copy = return_template_derive(source=template, financial_year=next_year, active=False)
            self.message_user(request, f"Created {copy}; check it, then make it active.")

    @admin.action(description="Mark as checked against this year's guidance")
    def mark_checked(self, request: HttpRequest, queryset: QuerySet[ReturnTemplate]) -> None:
        assert isinstance(request.user, User)
        for template in queryset:
            return_template_mark_checked(template=template, checked_by=request.user)
        self.message_user(request, f"{queryset.count()} template(s) marked as checked.")


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    fields = ("display_order", "code", "label", "metric", "category", "is_total")


@admin.register(ReturnSection)
class ReturnSectionAdmin(admin.ModelAdmin):
    list_display = ("title", "template", "kind", "display_order")
    list_filter = ("template",)
    inlines = (ReturnLineInline,)


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(admin.ModelAdmin):
    list_display = ("label", "service_element", "target_percent", "amber_margin", "is_active")
    list_filter = ("service_element", "is_active")


@admin.register(KpiContractTarget)
class KpiContractTargetAdmin(admin.ModelAdmin):
    list_display = ("kpi", "contract", "target_percent")


@admin.register(AgeBand)
class AgeBandAdmin(admin.ModelAdmin):
    list_display = ("band_set", "label", "min_age", "max_age", "display_order")
    list_filter = ("band_set",)


@admin.register(ReportingPolicy)
class ReportingPolicyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "suppression_threshold", "older_age_from", "young_age_below")


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ("kind", "period_code", "status", "progress", "requested_at", "finished_at")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in ReportRun._meta.fields] + ["authorities"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CommissionedUnitsAdminForm(forms.ModelForm):
    class Meta:
        model = CommissionedUnits
        fields = (
            "authority",
            "financial_year",
            "accommodation_type",
            "units",
            "provider",
            "contract",
            "note",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        # On an edit the authority and year are read-only: they come from the row itself.
        authority = cleaned.get("authority") or self.instance.authority
        financial_year = cleaned.get("financial_year") or self.instance.financial_year
        try:
            commissioned_units_check(
                authority=authority,
                financial_year=financial_year,
                accommodation_type=cleaned["accommodation_type"],
                units=cleaned["units"],
                provider=cleaned.get("provider"),
                contract=cleaned.get("contract"),
            )
        except CommissioningError as error:
            raise forms.ValidationError(error.message) from error
        return cleaned


@admin.register(CommissionedUnits)
class CommissionedUnitsAdmin(admin.ModelAdmin):
    """Writes go through the services (as the commissioners' pages do), so the change history
    names the administrator."""

    form = CommissionedUnitsAdminForm
    list_display = ("authority", "financial_year", "accommodation_type", "units", "provider")
    list_filter = ("authority", "financial_year", "accommodation_type")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("authority", "financial_year") if obj else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A row once in a return is corrected (the history keeps what it said), never deleted.
        return False

    def save_model(
        self, request: HttpRequest, obj: CommissionedUnits, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        user = request.user if request.user.is_authenticated else None
        common = {
            "accommodation_type": data["accommodation_type"],
            "units": data["units"],
            "provider": data.get("provider"),
            "contract": data.get("contract"),
            "note": data.get("note", ""),
        }
        if change:
            saved = commissioned_units_update(record=obj, updated_by=user, **common)
        else:
            saved = commissioned_units_record(
                authority=data["authority"],
                financial_year=data["financial_year"],
                recorded_by=user,
                **common,
            )
        obj.pk = saved.pk


@admin.register(ContractSpend)
class ContractSpendAdmin(admin.ModelAdmin):
    """Read-only: the entries are a ledger, corrected by adjusting entries on the commissioners'
    pages (/reports/commissioning/spend/)."""

    list_display = ("contract", "period_start", "period_end", "amount", "reference", "corrects")
    list_filter = ("contract__authority", "contract__service_element")
    search_fields = ("reference", "contract__reference")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ContractSpend._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
