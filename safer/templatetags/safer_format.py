"""Dates and times as the GOV.UK style guide writes them: "4 December 2026", "5:30pm"; and
record types in words ("Adult support case", not ``support.adultsupportcase``)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.apps import apps
from django.db.models import Model
from django.utils import timezone

register = template.Library()


def _time(moment: dt.datetime) -> str:
    if moment.hour == 0 and moment.minute == 0:
        return "midnight"
    if moment.hour == 12 and moment.minute == 0:
        return "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}:{moment.minute:02d}{suffix}" if moment.minute else f"{hour}{suffix}"


@register.filter
def govuk_date(value: dt.date | dt.datetime | None) -> str:
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day} {value:%B %Y}"


@register.filter
def govuk_datetime(value: dt.datetime | None) -> str:
    """ "4 December 2026 at 5:30pm" in UK local time."""
    if not value:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.day} {local:%B %Y} at {_time(local)}"


@register.filter
def govuk_iso_datetime(value: str | None) -> str:
    """An ISO 8601 moment kept as text (a report run's JSON, in UTC) as ``govuk_datetime``
    writes it: in UK local time. Text that is not a moment is shown as it is."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return govuk_datetime(moment)


@register.filter
def record_type_label(value: str) -> str:
    """A model label ("support.adultsupportcase") as its name in words; the label itself if no
    such model exists any more."""
    try:
        model = apps.get_model(value)
    except (LookupError, ValueError):
        return value
    return model_name_in_words(model)


# Words Django's default verbose names lower-case that are written in capitals.
_ACRONYMS = {"cyp": "CYP", "gbo": "GBO", "dash": "DASH", "marac": "MARAC", "spa": "SPA"}


def model_name_in_words(model: type[Model]) -> str:
    """A model's verbose name as a sentence starts: "Adult support case", "CYP case"."""
    words = [_ACRONYMS.get(word, word) for word in str(model._meta.verbose_name).split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]
