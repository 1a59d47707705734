"""Reading what someone typed into the search box.

One kind per search, tried in this order: a reference (``SAFER-2026-000123``, ``sw 2026 12``),
a date of birth (``4 December 1990``, ``4 Dec 1990``, ``4/12/1990``, ``04-12-1990``,
``1990-12-04``), a postcode (``ME14 1AA``, ``me141aa``; or just the outward code ``ME14``), a
phone number (10 or 11 digits once spaces, brackets and dashes go; ``+44``/``0044`` read as
``0``), else a name (each word must match the start or any part of a given or family name).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass

MAX_QUERY_LENGTH = 100
MIN_NAME_LENGTH = 2


class QueryKind(enum.StrEnum):
    REFERENCE = "reference"
    DATE_OF_BIRTH = "date_of_birth"
    POSTCODE = "postcode"
    OUTWARD_CODE = "outward_code"
    PHONE = "phone"
    NAME = "name"


KIND_LABELS = {
    QueryKind.REFERENCE: "reference",
    QueryKind.DATE_OF_BIRTH: "date of birth",
    QueryKind.POSTCODE: "postcode",
    QueryKind.OUTWARD_CODE: "postcode area",
    QueryKind.PHONE: "phone number",
    QueryKind.NAME: "name",
}


@dataclass(frozen=True)
class SearchQuery:
    kind: QueryKind
    text: str  # the normalised value: "SAFER-2026-000123", "ME141AA", "07700900123", "JANE SMITH"
    date: dt.date | None = None

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.text.split())

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def display(self) -> str:
        """The value as a person would write it back, for "Results for …"."""
        if self.kind is QueryKind.DATE_OF_BIRTH and self.date is not None:
            return f"{self.date.day} {self.date:%B %Y}"
        if self.kind is QueryKind.POSTCODE:
            return f"{self.text[:-3]} {self.text[-3:]}"
        if self.kind is QueryKind.NAME:
            return self.text.title()
        return self.text


class SearchQueryError(ValueError):
    """The text cannot be searched; ``message`` says what to type instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# The number part may carry a letter (the bench data's "B00042", a CYP case's child suffix).
_REFERENCE = re.compile(r"^([A-Z]{2,5})[\s\-/]*(\d{4})[\s\-/]*([A-Z]?\d{1,6}[A-Z]?)$")
_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-\s](\d{1,2})[/.\-\s](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDS_DATE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
# Words of letters (digits allowed: a name as some systems store it, "Bench12" in the bench data).
_NAME = re.compile(r"^[^\W_]+(?:[\s'\u2019\-][^\W_]+)*$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

HELP = "Enter a reference, a name, a date of birth, a postcode or a phone number"


def search_query_parse(raw: str) -> SearchQuery:
    """Read ``raw``; ``SearchQueryError`` (with a message that says the fix) when it is none of
    the kinds above."""
    text = " ".join(raw.split())
    if not text:
        raise SearchQueryError(HELP)
    if len(text) > MAX_QUERY_LENGTH:
        raise SearchQueryError(f"Search for {MAX_QUERY_LENGTH} characters or fewer")
    for parse in (_reference, _date, _postcode, _phone, _name):
        query = parse(text)
        if query is not None:
            return query
    if any(ch.isdigit() for ch in text):
        raise SearchQueryError(
            "Enter a full reference (like SAFER-2026-000123), a date of birth (like 4 December "
            "1990), a postcode (like ME14 1XX) or a phone number with 10 or 11 digits"
        )
    raise SearchQueryError(f"Enter at least {MIN_NAME_LENGTH} letters of a name, or {HELP[6:]}")


def _reference(text: str) -> SearchQuery | None:
    match = _REFERENCE.match(text.upper())
    if match is None:
        return None
    prefix, year, number = match.groups()
    if number.isdigit():
        number = f"{int(number):06d}"
    return SearchQuery(kind=QueryKind.REFERENCE, text=f"{prefix}-{year}-{number}")


def _date(text: str) -> SearchQuery | None:
    day = month = year = None
    if match := _NUMERIC_DATE.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO_DATE.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _WORDS_DATE.match(text):
        month = _MONTHS.get(match.group(2).lower())
        if month is None:
            return None
        day, year = int(match.group(1)), int(match.group(3))
    if day is None or month is None or year is None:
        return None
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise SearchQueryError(
            "Date of birth must be a real date, for example 4 December 1990 or 4/12/1990"
        ) from None
    return SearchQuery(kind=QueryKind.DATE_OF_BIRTH, text=date.isoformat(), date=date)


def _postcode(text: str) -> SearchQuery | None:
    compact = text.replace(" ", "").upper()
    if _POSTCODE.match(compact):
        return SearchQuery(kind=QueryKind.POSTCODE, text=compact)
    if _OUTWARD.match(compact):
        return SearchQuery(kind=QueryKind.OUTWARD_CODE, text=compact)
    return None


def phone_digits(text: str) -> str | None:
    """A UK number as its national digits (``07700900123``), or None when it is not one."""
    compact = _PHONE_PUNCTUATION.sub("", text)
    if compact.startswith("+"):
        compact = compact[1:]
    if not compact.isdigit():
        return None
    if compact.startswith("0044"):
        compact = "0" + compact[4:]
    elif compact.startswith("44") and len(compact) in (11, 12):
        compact = "0" + compact[2:]
    if compact.startswith("0") and len(compact) in (10, 11):
        return compact
    return None


def _phone(text: str) -> SearchQuery | None:
    digits = phone_digits(text)
    return None if digits is None else SearchQuery(kind=QueryKind.PHONE, text=digits)


def _name(text: str) -> SearchQuery | None:
    if not _NAME.match(text):
        return None
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_NAME_LENGTH:
        return None
    words = [w for w in re.split(r"[\s]+", text.upper()) if w]
    return SearchQuery(kind=QueryKind.NAME, text=" ".join(words))
