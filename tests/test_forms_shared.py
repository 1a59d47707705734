"""The shared form fields (safer/forms.py) and the rule they serve: staff forms use GOV.UK date
inputs, typed times and radios for short lists, never the browser's date or time pickers."""

from __future__ import annotations

import datetime as dt
import inspect
from types import ModuleType

import pytest
from django import forms

import reporting.forms
import safer.audit.forms
import security_works.forms
from safer.forms import GovukDateField, GovukTimeField, short_choices_as_radios

STAFF_FORM_MODULES = [security_works.forms, reporting.forms, safer.audit.forms]


def _form_classes(module: ModuleType) -> list[type[forms.Form]]:
    return [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, forms.Form) and cls.__module__ == module.__name__
    ]


@pytest.mark.parametrize("module", STAFF_FORM_MODULES, ids=lambda m: m.__name__)
def test_staff_forms_have_no_native_date_or_time_pickers(module: ModuleType) -> None:
    pickers = [
        f"{cls.__name__}.{name}"
        for cls in _form_classes(module)
        for name, field in cls.base_fields.items()
        if isinstance(field.widget, forms.DateInput | forms.TimeInput | forms.DateTimeInput)
        or field.widget.attrs.get("type") in ("date", "time", "datetime-local")
    ]
    assert pickers == []


def test_a_short_fixed_list_becomes_radios_without_the_blank_choice() -> None:
    field = forms.ChoiceField(choices=[("", "Choose"), ("a", "A"), ("b", "B")])
    short_choices_as_radios(field)
    assert isinstance(field.widget, forms.RadioSelect)
    assert field.choices == [("a", "A"), ("b", "B")]


def test_a_long_list_and_a_list_from_the_database_stay_drop_downs() -> None:
    long = forms.ChoiceField(choices=[(str(n), str(n)) for n in range(7)])
    short_choices_as_radios(long)
    assert type(long.widget) is forms.Select
    from safer.accounts.models import User

    model_choice = forms.ModelChoiceField(queryset=User.objects.none())
    short_choices_as_radios(model_choice)
    assert type(model_choice.widget) is forms.Select


@pytest.mark.parametrize(
    ("typed", "time"),
    [
        ("14:30", dt.time(14, 30)),
        ("9.05", dt.time(9, 5)),
        ("2:30pm", dt.time(14, 30)),
        ("2:30 PM", dt.time(14, 30)),
        ("10am", dt.time(10)),
    ],
)
def test_a_time_is_typed_in_the_ways_people_write_it(typed: str, time: dt.time) -> None:
    assert GovukTimeField().clean(typed) == time


def test_a_time_that_is_not_one_says_how_to_write_it() -> None:
    field = GovukTimeField(error_messages={"invalid": "Enter a time like 14:30"})
    with pytest.raises(forms.ValidationError, match="Enter a time like 14:30"):
        field.clean("half two")


def test_the_booking_form_takes_a_govuk_date_and_shows_radios() -> None:
    form = security_works.forms.BookingForm(
        data={
            "date_0": "2",
            "date_1": "June",
            "date_2": "2099",
            "time": "10:00",
            "arranged_via": "phone",
        }
    )
    assert isinstance(form.fields["date"], GovukDateField)
    assert isinstance(form.fields["arranged_via"].widget, forms.RadioSelect)
    assert form.is_valid(), form.errors
    assert form.moment().isoformat() == "2099-06-02T10:00:00+01:00"
