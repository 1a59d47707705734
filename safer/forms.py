"""Form fields in the GOV.UK Design System's patterns that every app's forms share: the date
input (day, month and year boxes instead of a browser's date picker)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

MONTHS: dict[str, int] = {}
for _number, _name in enumerate(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    start=1,
):
    MONTHS[_name] = _number
    MONTHS[_name[:3]] = _number
MONTHS["sept"] = 9


class DateInputWidget(forms.MultiWidget):
    """Three boxes (day, month, year), rendered by the GOV.UK date input template."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__([forms.TextInput(), forms.TextInput(), forms.TextInput()], attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class GovukDateField(forms.Field):
    """A date typed as day, month and year. The month may be a number or a name ("3", "Mar",
    "March"); messages follow the GOV.UK date input guidance."""

    widget = DateInputWidget

    def __init__(self, *, past: bool = False, not_future: bool = False, **kwargs: Any) -> None:
        self.past = past
        self.not_future = not_future
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value
        parts = [str(p or "").strip() for p in (value or [])] + ["", "", ""]
        day, month, year = parts[:3]
        label = str(self.label or "The date")
        if not (day or month or year):
            return None
        missing = [
            name for name, part in (("day", day), ("month", month), ("year", year)) if not part
        ]
        if missing:
            raise ValidationError(f"{label} must include a {' and '.join(missing)}")
        try:
            month_number = int(month) if month.isdigit() else MONTHS[month.lower().rstrip(".")]
            if not (day.isdigit() and year.isdigit()) or len(year) != 4:
                raise ValueError
            date = dt.date(int(year), month_number, int(day))
        except (KeyError, ValueError):
            raise ValidationError(f"{label} must be a real date") from None
        if date.year < 1900:
            raise ValidationError(f"{label} must be a real date")
        today = timezone.localdate()
        if self.past and date >= today:
            raise ValidationError(f"{label} must be in the past")
        if self.not_future and date > today:
            raise ValidationError(f"{label} must be today or in the past")
        return date


# The GOV.UK Design System uses radios, not a drop-down, for a short list of answers.
SHORT_CHOICES = 6


def short_choices_as_radios(field: forms.Field, *, limit: int = SHORT_CHOICES) -> None:
    """Turn a drop-down of at most ``limit`` answers into radios (the blank "Choose" option
    dropped: an optional question left unanswered is simply no radio chosen). Drop-downs whose
    choices come from the database (``ModelChoiceField``) stay as they are: their length varies."""
    if not isinstance(field, forms.ChoiceField) or isinstance(field, forms.ModelChoiceField):
        return
    if isinstance(field, forms.MultipleChoiceField) or type(field.widget) is not forms.Select:
        return
    options: Any = field.choices
    choices = [(value, label) for value, label in options if value != ""]
    if len(choices) <= limit:
        field.choices = choices
        field.widget = forms.RadioSelect(choices=choices)


class TimeTextInput(forms.TextInput):
    """A time typed as text ("14:30"), not the browser's time picker; the Design System has no
    time pattern, so a short text input with a hint."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"class": "govuk-input govuk-input--width-5", **(attrs or {})})


TIME_FORMATS = ["%H:%M", "%H.%M", "%I:%M%p", "%I.%M%p", "%I%p", "%H%M"]


class GovukTimeField(forms.TimeField):
    """A time of day as 24-hour "14:30" or "2:30pm"."""

    widget = TimeTextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", TIME_FORMATS)
        kwargs.setdefault("help_text", "Use the 24-hour clock, for example 14:30")
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.time | None:
        if isinstance(value, str):
            value = value.strip().lower().replace(" ", "")
        return super().to_python(value)
