"""The caseload's filter form (GET, works without JavaScript). Shape only: the selector
``support.selectors.caseload.worker_caseload`` applies it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from safer.organisations.models import District
from support.models import AdultStatus, CypStatus
from support.selectors.caseload import CaseloadFilters

_OPEN_STATUSES = [
    (value, label)
    for value, label in [*AdultStatus.choices, *CypStatus.choices]
    if value not in ("closed", "awaiting_allocation")
]


class CaseloadFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Service",
        required=False,
        choices=[("", "Adult and CYP"), ("adult", "Adult support"), ("cyp", "CYP")],
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any open status"), *dict(_OPEN_STATUSES).items()],
    )
    district = forms.ModelChoiceField(
        label="District", queryset=District.objects.none(), required=False, empty_label="All"
    )
    due = forms.ChoiceField(
        label="Due",
        required=False,
        choices=[("", "Any time"), ("overdue", "Overdue"), ("week", "Due within 7 days")],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("", "Next due, overdue first"),
            ("opened", "Opened, oldest first"),
            ("reference", "Reference"),
        ],
    )

    def __init__(self, *args: Any, districts: QuerySet[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]

    def filters(self) -> CaseloadFilters:
        if not self.is_valid():
            return CaseloadFilters()
        data = self.cleaned_data
        return CaseloadFilters(
            kind=data["kind"],
            status=data["status"],
            district_id=data["district"].pk if data["district"] else None,
            due=data["due"],
            sort=data["sort"],
        )
