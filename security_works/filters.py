"""The job list's filter form (GET, works without JavaScript). Shape only: the selector
``job_list_for_user`` applies it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from safer.organisations.models import District
from security_works.models import JobPriority, JobStatus
from security_works.selectors import JobListFilters


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("open", "Open (not completed or cancelled)"),
            ("all", "All"),
            ("closed", "Completed or cancelled"),
            *JobStatus.choices,
        ],
    )
    district = forms.ModelChoiceField(
        label="District",
        queryset=District.objects.none(),
        required=False,
        empty_label="All districts",
    )
    due = forms.ChoiceField(
        label="Due",
        required=False,
        choices=[("", "Any time"), ("overdue", "Overdue"), ("soon", "Due within 2 days")],
    )
    priority = forms.ChoiceField(
        label="Priority", required=False, choices=[("", "Any"), *JobPriority.choices]
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("", "Nearest deadline first"),
            ("newest", "Allocated, newest first"),
            ("oldest", "Allocated, oldest first"),
            ("reference", "Reference"),
        ],
    )

    def __init__(self, *args: Any, districts: QuerySet[District], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts  # type: ignore[attr-defined]

    def filters(self) -> JobListFilters:
        if not self.is_bound or not self.is_valid():
            return JobListFilters()
        data = self.cleaned_data
        return JobListFilters(
            status=data["status"] or "open",
            district_id=data["district"].pk if data["district"] else None,
            due=data["due"],
            priority=data["priority"],
            sort=data["sort"],
        )
