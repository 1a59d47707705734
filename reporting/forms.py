"""Forms of reporting's pages: parse and check input; the services and selectors decide."""

from __future__ import annotations

from typing import Any

from django import forms

from reporting.periods import Period
from reporting.selectors import (
    authorities_for,
    contracts_requestable_by,
    districts_for,
    kinds_requestable_by,
    period_choices,
)
from safer.accounts.models import User
from safer.organisations.models import CommissioningAuthority, Contract, ServiceElement


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(label="Report", widget=forms.RadioSelect)
    period = forms.ChoiceField(
        label="Period",
        help_text="The annual return needs a financial year; the others a quarter.",
    )
    authorities = forms.ModelMultipleChoiceField(
        label="Authorities",
        queryset=CommissioningAuthority.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Choose more than one for a joint board's return. A contract KPI report is "
        "for the contract's own authority.",
    )
    contract = forms.ModelChoiceField(
        label="Contract (for a contract KPI report)",
        queryset=Contract.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds_requestable_by(user)  # type: ignore[attr-defined]
        self.fields["period"].choices = period_choices()  # type: ignore[attr-defined]
        self.fields["authorities"].queryset = authorities_for(user)  # type: ignore[attr-defined]
        self.fields["contract"].queryset = contracts_requestable_by(user)  # type: ignore[attr-defined]

    def clean_period(self) -> Period:
        try:
            return Period.parse(self.cleaned_data["period"])
        except ValueError as error:
            raise forms.ValidationError("Choose a period.") from error

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        contract = cleaned.get("contract")
        if cleaned.get("kind") == "contract_kpi":
            if not contract:
                self.add_error("contract", "Choose the contract.")
            else:
                cleaned["authorities"] = [contract.authority]
        elif not cleaned.get("authorities"):
            self.add_error("authorities", "Choose at least one authority.")
        return cleaned


class DashboardFilterForm(forms.Form):
    """Period, authority, district and service element; every field optional (defaults)."""

    period = forms.ChoiceField(label="Period", required=False)
    authority = forms.ModelChoiceField(
        label="Authority", queryset=CommissioningAuthority.objects.none(), required=False
    )
    district = forms.ChoiceField(label="District", required=False)
    service_element = forms.ChoiceField(label="Service element", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        authorities = authorities_for(user)
        self.fields["period"].choices = period_choices()  # type: ignore[attr-defined]
        self.fields["authority"].queryset = authorities  # type: ignore[attr-defined]
        self.fields["authority"].empty_label = None  # type: ignore[attr-defined]
        self.fields["district"].choices = [("", "All districts")] + [  # type: ignore[attr-defined]
            (str(d.pk), d.name)
            for d in districts_for(list(authorities.values_list("pk", flat=True)))
        ]
        self.fields["service_element"].choices = [  # type: ignore[attr-defined]
            ("", "All services"),
            *ServiceElement.choices,
        ]
