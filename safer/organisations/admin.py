"""Contracts in the admin, with their extensions. An extension is recorded through the service
(``contract_extension_record``, which checks the contract's options and dates); once recorded it
is never changed or deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from safer.organisations.models import Contract, ContractExtension
from safer.organisations.services import (
    ContractError,
    contract_extension_record,
    contract_extension_terms,
)


class ContractExtensionInline(admin.TabularInline):
    model = ContractExtension
    extra = 0
    fields = ("exercised_on", "new_end_date", "value_added", "note", "recorded_by", "recorded_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # added on "Contract extensions" (through the service)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "authority",
        "provider",
        "service_element",
        "start_date",
        "current_end_date",
        "extensions_taken",
        "total_value",
    )
    list_filter = ("authority", "service_element")
    search_fields = ("reference", "title", "provider__name")
    inlines = [ContractExtensionInline]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("extensions")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # jobs, cases and spend refer to it


class ContractExtensionForm(forms.ModelForm):
    new_end_date = forms.DateField(
        required=False,
        help_text="Leave blank for one extension's length after the contract's current end.",
    )
    value_added = forms.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        help_text="Leave blank for the yearly value for each year of the extension.",
    )

    class Meta:
        model = ContractExtension
        fields = ("contract", "exercised_on", "new_end_date", "value_added", "note")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        contract = data.get("contract")
        if contract is not None and data.get("exercised_on") is not None:
            try:
                contract_extension_terms(
                    contract=contract,
                    exercised_on=data["exercised_on"],
                    new_end_date=data.get("new_end_date"),
                    value_added=data.get("value_added"),
                )
            except ContractError as error:
                raise forms.ValidationError(error.messages) from error
        return data


@admin.register(ContractExtension)
class ContractExtensionAdmin(admin.ModelAdmin):
    form = ContractExtensionForm
    list_display = ("contract", "exercised_on", "new_end_date", "value_added", "recorded_by")
    list_filter = ("contract__authority",)
    search_fields = ("contract__reference",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [f.name for f in ContractExtension._meta.fields]
        return ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: ContractExtension, form: Any, change: bool
    ) -> None:
        data = form.cleaned_data
        user = request.user if request.user.is_authenticated else None
        saved = contract_extension_record(
            contract=data["contract"],
            exercised_on=data["exercised_on"],
            new_end_date=data.get("new_end_date"),
            value_added=data.get("value_added"),
            note=data.get("note", ""),
            recorded_by=user,
        )
        # The admin's messages and log entry describe ``obj``: make it the row written.
        for model_field in ContractExtension._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
