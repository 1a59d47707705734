"""Forms of reporting's pages: parse and check input; the services and selectors decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from reporting.periods import Period
from reporting.selectors import (
    authorities_for,
    contracts_requestable_by,
    districts_for,
    kinds_requestable_by,
    period_choices,
)
from safer.accounts.models import User
from safer.forms import GovukDateField, short_choices_as_radios
from safer.organisations.models import (
    CommissioningAuthority,
    Contract,
    Organisation,
    ServiceElement,
)
from support.models import SafeAccommodationType


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
    """Period, authority, district and service element; every field optional (defaults).

    A value that is not one of the choices (an edited or out-of-date link) is an error the page
    shows, never a silent fallback to other figures than those asked for.
    """

    period = forms.ChoiceField(
        label="Period",
        required=False,
        error_messages={"invalid_choice": "Choose a period from the list."},
    )
    authority = forms.ModelChoiceField(
        label="Authority",
        queryset=CommissioningAuthority.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose one of your authorities from the list."},
    )
    district = forms.ChoiceField(
        label="District",
        required=False,
        error_messages={"invalid_choice": "Choose a district from the list."},
    )
    service_element = forms.ChoiceField(
        label="Service element",
        required=False,
        error_messages={"invalid_choice": "Choose a service from the list."},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        authorities = authorities_for(user)
        self.authorities = authorities
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

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        district = cleaned.get("district")
        if district and "authority" not in self.errors:
            authority = cleaned.get("authority") or self.authorities.first()
            if authority is None or not districts_for([authority.pk]).filter(pk=district).exists():
                self.add_error(
                    "district",
                    f"Choose a district of {authority.name if authority else 'your authority'}, "
                    "or All districts.",
                )
        return cleaned


# --- Commissioning data -------------------------------------------------------------------------


class GovukForm(forms.Form):
    """Gives text, number and date inputs the GOV.UK Frontend classes, says what is missing by
    name ("Enter the amount paid"), and ties each error message to its input."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            short_choices_as_radios(field)
            widget = field.widget
            label = str(field.label or "").removesuffix(" (optional)").lower()
            choosing = isinstance(field, forms.ChoiceField | forms.ModelChoiceField)
            field.error_messages["required"] = (
                f"Select the {label}" if choosing else f"Enter the {label}"
            )
            if isinstance(widget, forms.DateInput | forms.NumberInput):
                widget.attrs.setdefault("class", "govuk-input govuk-input--width-10")
            elif isinstance(widget, forms.TextInput):
                widget.attrs.setdefault("class", "govuk-input govuk-input--width-20")

    def full_clean(self) -> None:
        super().full_clean()
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect):
                continue  # the fieldset carries the hint and the error
            auto_id = f"id_{self.add_prefix(name)}"
            described = [f"{auto_id}-hint"] if field.help_text else []
            if self.errors.get(name):
                described.append(f"{auto_id}-error")
                if "govuk-input" in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs['class']} govuk-input--error"
            if described:
                widget.attrs["aria-describedby"] = " ".join(described)


def financial_year_choices(*, around: dt.date | None = None) -> list[tuple[str, str]]:
    """This financial year, the two before it and the next (units are planned ahead)."""
    today = around or timezone.localdate()
    year = Period.year_containing(today)
    years = [Period.financial_year(year.start_year + 1), year]
    while len(years) < 4:
        years.append(years[-1].previous())
    return [(p.code, p.code) for p in years]


class CommissionedUnitsForm(GovukForm):
    """Add (with authority and year) or edit (without: they do not change) units of one type."""

    authority = forms.ModelChoiceField(
        label="Authority", queryset=CommissioningAuthority.objects.none(), empty_label=None
    )
    financial_year = forms.ChoiceField(label="Financial year")
    accommodation_type = forms.ChoiceField(
        label="Type of safe accommodation",
        choices=SafeAccommodationType.choices,
        widget=forms.RadioSelect,
    )
    units = forms.IntegerField(
        label="Units commissioned",
        min_value=0,
        max_value=100_000,
        help_text="Bed spaces or homes; for a sanctuary scheme, the households it can serve.",
    )
    provider = forms.ModelChoiceField(
        label="Provider (optional)",
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="Not recorded",
    )
    contract = forms.ModelChoiceField(
        label="Contract (optional)",
        queryset=Contract.objects.none(),
        required=False,
        empty_label="Not recorded",
    )
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea)

    def __init__(
        self,
        *args: Any,
        authorities: QuerySet[CommissioningAuthority],
        providers: QuerySet[Organisation],
        contracts: QuerySet[Contract],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["authority"]
            del self.fields["financial_year"]
        else:
            self.fields["authority"].queryset = authorities  # type: ignore[attr-defined]
            self.fields["financial_year"].choices = financial_year_choices()  # type: ignore[attr-defined]
        self.fields["provider"].queryset = providers.order_by("name")  # type: ignore[attr-defined]
        self.fields["contract"].queryset = contracts  # type: ignore[attr-defined]


class ContractSpendForm(GovukForm):
    period_start = GovukDateField(
        label="First day covered",
        help_text="The 1st of the month (or of a quarter's first month), for example 1 4 2026.",
    )
    period_end = GovukDateField(
        label="Last day covered",
        help_text="The month's last day (or the last day of a quarter), for example 30 6 2026.",
    )
    amount = forms.DecimalField(
        label="Amount paid (£)",
        max_digits=12,
        decimal_places=2,
        help_text="For a correction, the difference: negative to reduce the entry.",
    )
    reference = forms.CharField(label="Invoice or payment reference", max_length=60)
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, correcting: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if correcting:
            self.fields["note"].label = "Why the entry is corrected"
            self.fields["note"].required = True
            self.fields["note"].error_messages["required"] = "Enter why the entry is corrected"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The last day must be on or after the first day.")
        return cleaned


class ReturnSubmitForm(GovukForm):
    """Marks a produced return as sent."""

    submitted_to = forms.CharField(
        label="Sent to",
        max_length=200,
        help_text="Who received it, for example “MHCLG Domestic Abuse Team (DELTA)”.",
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"class": "govuk-textarea", "rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submitted_to"].error_messages["required"] = "Enter who the return was sent to"
