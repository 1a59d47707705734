"""The normalised forms search compares, as SQL expressions. The indexes on them (declared on
the case-file models) use the very same expressions, so PostgreSQL can use them for a search."""

from __future__ import annotations

from django.db.models import CharField, Func, Value
from django.db.models.functions import Length, Replace, Substr, Upper


class DigitsOnly(Func):
    """``REGEXP_REPLACE(text, '[^0-9]', '', 'g')``: a phone number's digits (immutable, so it can
    be indexed)."""

    function = "REGEXP_REPLACE"
    template = "REGEXP_REPLACE(%(expressions)s, '[^0-9]', '', 'g')"
    output_field = CharField()


def postcode_key(field: str = "postcode") -> Upper:
    """The postcode as the index holds it: upper case, no spaces (``ME141AA``)."""
    return Upper(Replace(field, Value(" "), Value("")))


def outward_code_key(field: str = "postcode") -> Substr:
    """The outward code (``ME14``): the key without its last three characters."""
    key = postcode_key(field)
    return Substr(key, 1, Length(key) - 3)
