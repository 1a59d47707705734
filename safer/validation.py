"""One place that says what a UK phone number, a UK postcode and an email address look like.

Every form that takes one uses these fields (the public referral form and so the partner API,
which is checked by the same forms, the direct CYP referral, the admin through the model
validators); messages follow the GOV.UK Design System's patterns and name the field, so a page
with two phone numbers says which one is wrong.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

# Every current UK postcode format (A9 9AA, A99 9AA, A9A 9AA, AA9 9AA, AA99 9AA, AA9A 9AA),
# plus the special GIR 0AA.
UK_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)
# A UK number once spaces, dashes, dots and brackets are gone: 0 and 9 or 10 more digits, or
# the same after +44 / 0044 (the leading 0 dropped, sometimes kept as "(0)").
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_UK_NATIONAL = re.compile(r"^0[1-9]\d{8,9}$")
_PHONE_CHARACTERS = re.compile(r"^\+?[\d\s\-.()]+$")

PHONE_EXAMPLE = "like 01632 960 001, 07700 900 982 or +44 808 157 0192"
POSTCODE_EXAMPLE = "like CT1 2AB"
EMAIL_EXAMPLE = "like name@example.org"


def postcode_normalise(value: str) -> str:
    """Upper case, one space before the inward code: "ct12ab" -> "CT1 2AB"."""
    compact = re.sub(r"\s+", "", value).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def postcode_outward(postcode: str) -> str:
    return postcode_normalise(postcode).split(" ")[0]


def postcode_is_valid(value: str) -> bool:
    return bool(UK_POSTCODE.match(re.sub(r"\s+", "", value).upper()))


def phone_national_digits(value: str) -> str | None:
    """The number as UK national digits ("07700900982"), or None if it is not a UK number."""
    text = value.strip()
    if not text or not _PHONE_CHARACTERS.match(text):
        return None
    text = text.replace("(0)", "")
    digits = _PHONE_SEPARATORS.sub("", text)
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    elif digits.startswith("0044"):
        digits = "0" + digits[4:]
    elif digits.startswith("+"):
        return None  # another country's number: not a UK format
    if not _UK_NATIONAL.match(digits):
        return None
    if digits.startswith(("07", "02", "03")) and len(digits) != 11:
        return None  # mobiles, London and 03 numbers always have 11 digits
    return digits


def phone_is_valid(value: str) -> bool:
    return phone_national_digits(value) is not None


def phone_tidy(value: str) -> str:
    """Keep the number as written (people recognise their own spacing), whitespace tidied."""
    return " ".join(value.split())


def email_is_valid(value: str) -> bool:
    try:
        EmailValidator()(value)
    except ValidationError:
        return False
    return True


def _what(label: Any, what: str | None) -> str:
    """How a message names the field: ``what``, or the label lower-cased ("your work phone
    number"), with "the" before a label that needs one ("Safe phone number")."""
    if what:
        return what
    text = str(label or "").strip().rstrip("?")
    if not text:
        return "the value"
    text = text[0].lower() + text[1:]
    return text if text.split()[0] in {"your", "the", "a", "an"} else f"the {text}"


# --- Model validators (the admin and any ModelForm) ----------------------------------------------


def validate_uk_phone(value: str) -> None:
    if value and not phone_is_valid(value):
        raise ValidationError(f"Enter a UK phone number, {PHONE_EXAMPLE}", code="invalid_phone")


def validate_uk_postcode(value: str) -> None:
    if value and not postcode_is_valid(value):
        raise ValidationError(f"Enter a real UK postcode, {POSTCODE_EXAMPLE}", code="invalid")


# --- Form fields ---------------------------------------------------------------------------------


class UKPhoneField(forms.CharField):
    """A UK phone number, kept as written (whitespace tidied). ``what`` names it in messages
    ("the safe phone number"); by default the label, lower-cased."""

    def __init__(self, *, what: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 30)
        self.what = what
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "tel")
        self.widget.input_type = "tel"

    def clean(self, value: Any) -> str:
        cleaned: str = super().clean(value)
        if not cleaned:
            return cleaned
        if not phone_is_valid(cleaned):
            what = _what(self.label, self.what)
            raise ValidationError(
                f"Enter {what} in the correct format, {PHONE_EXAMPLE}", code="invalid_phone"
            )
        return phone_tidy(cleaned)


class UKPostcodeField(forms.CharField):
    """A UK postcode, normalised ("ct12ab" -> "CT1 2AB")."""

    def __init__(self, *, what: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        self.what = what
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("autocomplete", "postal-code")

    def clean(self, value: Any) -> str:
        cleaned: str = super().clean(value)
        if not cleaned:
            return cleaned
        if not postcode_is_valid(cleaned):
            what = self.what or "a real postcode"
            raise ValidationError(f"Enter {what}, {POSTCODE_EXAMPLE}", code="invalid")
        return postcode_normalise(cleaned)


class EmailAddressField(forms.EmailField):
    """An email address with a message that names the field and shows the format."""

    def __init__(self, *, what: str | None = None, **kwargs: Any) -> None:
        what = what or _what(kwargs.get("label"), None)
        messages = {"invalid": f"Enter {what} in the correct format, {EMAIL_EXAMPLE}"}
        messages.update(kwargs.pop("error_messages", None) or {})
        super().__init__(error_messages=messages, **kwargs)
        self.widget.attrs.setdefault("autocomplete", "email")
        self.widget.attrs.setdefault("spellcheck", "false")


class PhoneOrEmailField(forms.CharField):
    """A contact that may be a UK phone number or an email address (a landlord's contact)."""

    def __init__(self, *, what: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 200)
        self.what = what
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        cleaned: str = super().clean(value)
        if not cleaned:
            return cleaned
        if phone_is_valid(cleaned):
            return phone_tidy(cleaned)
        if email_is_valid(cleaned):
            return cleaned
        what = _what(self.label, self.what)
        raise ValidationError(
            f"Enter {what} as a UK phone number, like 01632 960 001, or an email address, "
            f"{EMAIL_EXAMPLE}",
            code="invalid",
        )
