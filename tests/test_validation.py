"""The one validator of UK phone numbers, postcodes and email addresses, and the forms (and the
partner API, which is checked by the same forms) that take them."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError

from referrals.forms.public import HousingForm, ReferrerForm, SafeContactForm
from safer.validation import (
    EmailAddressField,
    PhoneOrEmailField,
    UKPhoneField,
    UKPostcodeField,
    phone_national_digits,
    postcode_normalise,
    validate_uk_phone,
    validate_uk_postcode,
)


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("01632 960 001", "01632960001"),
        ("07700 900982", "07700900982"),
        ("07700-900-982", "07700900982"),
        ("(01632) 960001", "01632960001"),
        ("+44 7700 900982", "07700900982"),
        ("+44 (0)7700 900982", "07700900982"),
        ("0044 20 7946 0000", "02079460000"),
        ("020 7946 0000", "02079460000"),
        ("0808 157 0192", "08081570192"),
    ],
)
def test_uk_phone_numbers_in_their_usual_formats_are_accepted(typed: str, digits: str) -> None:
    assert phone_national_digits(typed) == digits


@pytest.mark.parametrize(
    "typed",
    ["abc", "0770090098", "077009009823", "7700 900982", "+33 1 23 45 67 89", "0770O 900982", ""],
)
def test_anything_else_is_not_a_uk_phone_number(typed: str) -> None:
    assert phone_national_digits(typed) is None


def test_phone_field_names_the_field_and_keeps_the_number_as_written() -> None:
    field = UKPhoneField(label="Safe phone number")
    assert field.clean("  07700   900982 ") == "07700 900982"
    with pytest.raises(ValidationError) as error:
        field.clean("abc")
    assert error.value.messages == [
        "Enter the safe phone number in the correct format, like 01632 960 001, "
        "07700 900 982 or +44 808 157 0192"
    ]
    assert 'type="tel"' in field.widget.render("phone", "")


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("ct12ab", "CT1 2AB"),
        (" me15  6aa ", "ME15 6AA"),
        ("SW1A1AA", "SW1A 1AA"),
        ("M1 1AE", "M1 1AE"),
    ],
)
def test_postcodes_are_normalised(typed: str, normalised: str) -> None:
    assert UKPostcodeField().clean(typed) == normalised
    assert postcode_normalise(typed) == normalised


@pytest.mark.parametrize("typed", ["ZZ", "ME15", "12345", "QQ1 1AA", "ME15 6CC"])
def test_postcodes_that_are_not_uk_formats_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError, match="Enter a real postcode, like CT1 2AB"):
        UKPostcodeField().clean(typed)


def test_email_field_names_the_field() -> None:
    field = EmailAddressField(label="Safe email address")
    assert field.clean("a.person@example.org") == "a.person@example.org"
    with pytest.raises(ValidationError) as error:
        field.clean("not-an-email")
    assert error.value.messages == [
        "Enter the safe email address in the correct format, like name@example.org"
    ]


def test_phone_or_email_takes_either_and_nothing_else() -> None:
    field = PhoneOrEmailField(label="Landlord phone number or email", what="the landlord's contact")
    assert field.clean("01632 960001") == "01632 960001"
    assert field.clean("lettings@example.org") == "lettings@example.org"
    with pytest.raises(ValidationError, match="Enter the landlord's contact as a UK phone number"):
        field.clean("ring the office")


def test_model_validators_for_the_admin() -> None:
    validate_uk_phone("")
    validate_uk_phone("07700 900982")
    validate_uk_postcode("CT1 2AB")
    with pytest.raises(ValidationError):
        validate_uk_phone("abc")
    with pytest.raises(ValidationError):
        validate_uk_postcode("nowhere")


def _errors(form: forms.Form) -> dict[str, list[str]]:
    assert not form.is_valid()
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def test_public_referrer_phone_abc_is_refused() -> None:
    form = ReferrerForm(
        data={
            "name": "Pat Referrer",
            "organisation": "Kent Police",
            "agency_type": "police",
            "role": "DA officer",
            "email": "pat@police.example.org",
            "phone": "abc",
        }
    )
    errors = _errors(form)
    assert list(errors) == ["phone"]
    assert errors["phone"][0].startswith("Enter your work phone number in the correct format")


def test_public_safe_contact_phone_and_email_are_checked() -> None:
    form = SafeContactForm(
        data={
            "safe_channels": ["phone", "email"],
            "phone": "12",
            "email": "nope",
            "voicemail_safe": "no",
            "text_safe": "no",
            "organisation_name_may_be_used": "no",
        }
    )
    errors = _errors(form)
    assert errors["phone"][0].startswith("Enter the safe phone number in the correct format")
    assert errors["email"][0].startswith("Enter the safe email address in the correct format")


def test_public_landlord_contact_is_checked() -> None:
    form = HousingForm(data={"landlord_contact": "call him"})
    errors = _errors(form)
    assert errors["landlord_contact"][0].startswith(
        "Enter the landlord's contact as a UK phone number"
    )
