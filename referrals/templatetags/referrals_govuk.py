"""Render Django form fields with GOV.UK Frontend markup (label, hint, error, input)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField

from referrals.forms.fields import DateInputWidget
from referrals.models import AdviceTopic, Signpost

register = template.Library()


def field_kind(field: BoundField) -> str:
    widget = field.field.widget
    if isinstance(widget, DateInputWidget):
        return "date"
    # CheckboxSelectMultiple is a subclass of RadioSelect: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    return "input"


def field_anchor(field: BoundField) -> str:
    """The id the error summary links to: the first input of a group, else the input."""
    if field_kind(field) in {"date", "radios", "checkboxes"}:
        return f"{field.auto_id}_0"
    return str(field.auto_id)


@register.inclusion_tag("referrals/includes/field.html")
def govuk_field(field: BoundField, width: str = "", heading: str = "") -> dict[str, Any]:
    kind = field_kind(field)
    hint_id = f"{field.auto_id}-hint" if field.help_text else ""
    error_id = f"{field.auto_id}-error" if field.errors else ""
    described = " ".join(x for x in (hint_id, error_id) if x)
    context: dict[str, Any] = {
        "field": field,
        "kind": kind,
        "hint_id": hint_id,
        "error_id": error_id,
        "described_by": described,
        "heading": heading,
        "inline": bool(field.field.widget.attrs.get("data-inline")),
    }
    if kind in {"input", "textarea", "select"}:
        css = {"input": "govuk-input", "textarea": "govuk-textarea", "select": "govuk-select"}[kind]
        if field.errors:
            css += f" {css}--error"
        if width:
            css += f" govuk-input--width-{width}" if kind == "input" else ""
        attrs: dict[str, Any] = {"class": css}
        if described:
            attrs["aria-describedby"] = described
        context["widget_html"] = field.as_widget(attrs=attrs)
    elif kind == "date":
        value = field.value()
        if isinstance(value, dt.date):
            parts: list[Any] = [value.day, value.month, value.year]
        else:
            parts = [*list(value or []), "", "", ""]
        names = ("Day", "Month", "Year")
        context["date_parts"] = [
            {
                "id": f"{field.auto_id}_{i}",
                "name": f"{field.html_name}_{i}",
                "label": names[i],
                "value": "" if parts[i] is None else parts[i],
                "width": 4 if i == 2 else 2,
            }
            for i in range(3)
        ]
    elif kind == "checkbox":
        context["checked"] = bool(field.value())
    return context


@register.inclusion_tag("referrals/includes/error_summary.html")
def govuk_error_summary(*forms_: forms.Form | None) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    for form in forms_:
        if form is None or not form.errors:
            continue
        for message in form.non_field_errors():
            errors.append({"href": "", "message": message})
        for field in form:
            for message in field.errors:
                errors.append({"href": f"#{field_anchor(field)}", "message": message})
    return {"errors": errors}


@register.filter
def choice_labels(values: list[str] | None, kind: str) -> list[str]:
    """The labels of an advice contact's stored choice values (``topics`` or ``signposts``)."""
    choices = {"topics": AdviceTopic.choices, "signposts": Signpost.choices}[kind]
    labels = dict(choices)
    return [str(labels.get(value, value)) for value in values or []]
