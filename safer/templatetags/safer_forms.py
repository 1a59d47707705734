"""Template helpers for the house form-field template (``includes/form_field.html``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.forms import BoundField

register = template.Library()

_PARTS = (("Day", 2), ("Month", 2), ("Year", 4))


@register.filter
def govuk_date_parts(field: BoundField) -> list[dict[str, Any]]:
    """The three boxes of a GOV.UK date input (``safer.forms.GovukDateField``), with what was
    typed (or the initial date) in each."""
    value = field.value()
    if callable(value):
        value = value()
    if isinstance(value, dt.date):
        parts: list[Any] = [value.day, value.month, value.year]
    else:
        parts = [*list(value or []), "", "", ""]
    return [
        {
            "id": f"{field.auto_id}_{i}",
            "name": f"{field.html_name}_{i}",
            "label": label,
            "value": "" if parts[i] is None else parts[i],
            "width": width,
        }
        for i, (label, width) in enumerate(_PARTS)
    ]
