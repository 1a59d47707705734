"""The auditor's lookup and filter forms, all sent with GET so a filtered page can be bookmarked."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms

from safer.audit.models import AccessAction, AuthEventKind
from safer.audit.selectors import RecordRef, auditable_models, record_get, record_get_by_reference
from safer.forms import GovukDateField
from safer.templatetags.safer_format import model_name_in_words

if TYPE_CHECKING:
    from safer.audit.scoping import AuditScope

ANY = [("", "Any")]


class GovukFormMixin:
    """GOV.UK Frontend classes on the widgets, and the error variants once validated."""

    fields: dict[str, forms.Field]
    errors: Any

    def govuk_classes(self) -> None:
        for name, field in self.fields.items():
            base = "govuk-select" if isinstance(field.widget, forms.Select) else "govuk-input"
            classes = [base]
            if isinstance(field.widget, forms.DateInput):
                classes.append("govuk-input--width-10")
            if name in self.errors:
                classes.append(f"{base}--error")
            field.widget.attrs["class"] = " ".join(classes)

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self.govuk_classes()


class RecordLookupForm(GovukFormMixin, forms.Form):
    reference = forms.CharField(
        label="Case reference",
        required=False,
        max_length=20,
        help_text="For example, SAFER-2026-000123",
    )
    record_type = forms.ChoiceField(label="Record type", required=False)
    record_id = forms.CharField(label="Record ID", required=False, max_length=64)

    def __init__(self, *args: Any, audit_scope: AuditScope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audit_scope = audit_scope
        record_type = self.fields["record_type"]
        assert isinstance(record_type, forms.ChoiceField)
        record_type.choices = [("", "Choose a record type")] + [
            (
                m._meta.label_lower,
                f"{model_name_in_words(m)} ({m._meta.label_lower})",
            )
            for m in auditable_models()
        ]
        self.record: RecordRef | None = None
        self.govuk_classes()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reference = (data.get("reference") or "").strip()
        record_type = data.get("record_type") or ""
        record_id = (data.get("record_id") or "").strip()
        if reference:
            self.record = self._visible(record_get_by_reference(reference=reference))
            if self.record is None:
                self.add_error("reference", "No case has this reference")
        elif record_type and record_id:
            self.record = self._visible(record_get(record_type=record_type, record_id=record_id))
            if self.record is None:
                self.add_error("record_id", "This is not a valid ID for that record type")
        elif record_type or record_id:
            missing = "record_id" if record_type else "record_type"
            self.add_error(missing, "Give both the record type and the record ID")
        else:
            raise forms.ValidationError("Enter a case reference, or a record type and ID")
        return data

    def _visible(self, ref: RecordRef | None) -> RecordRef | None:
        # Another authority's record is "not found", the same answer as a missing one.
        return ref if ref is not None and self.audit_scope.may_see(ref) else None


class _DateRangeForm(GovukFormMixin, forms.Form):
    date_from = GovukDateField(label="From (UTC)", required=False)
    date_to = GovukDateField(label="To (UTC)", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: dt.date | None = data.get("date_from")
        end: dt.date | None = data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date must be the same as or after the start date")
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.govuk_classes()


class AccessLogFilterForm(_DateRangeForm):
    user = forms.CharField(label="User (email or name)", required=False, max_length=254)
    action = forms.ChoiceField(label="Action", required=False, choices=ANY + AccessAction.choices)

    field_order = ["user", "action", "date_from", "date_to"]


class ChangeFilterForm(_DateRangeForm):
    user = forms.CharField(label="Changed by (email or name)", required=False, max_length=254)

    field_order = ["user", "date_from", "date_to"]


class AuthEventFilterForm(_DateRangeForm):
    user = forms.CharField(label="User (email or name)", required=False, max_length=254)
    kind = forms.ChoiceField(label="Event", required=False, choices=ANY + AuthEventKind.choices)
    ip = forms.GenericIPAddressField(label="Source IP address", required=False)

    field_order = ["user", "kind", "ip", "date_from", "date_to"]
